"""The training workflow's API routes: ``/model``, ``/hpo``, ``/infer``.

No ``from __future__ import annotations`` here: Powertools reads the parameter annotations at run time.
"""

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router

from sagestep_service.platform import aws, queries
from sagestep_service.platform.jobs import JobStore
from sagestep_service.platform.observability import tracer
from sagestep_service.platform.routing import Cursor, IdempotencyKey, Limit, owner, submitted
from sagestep_service.platform.settings import load
from sagestep_service.platform.submission import owned_job
from sagestep_service.workflows.training import deletion, inference
from sagestep_service.workflows.training.models import (
    HpoRequest,
    InferRequest,
    InferResponse,
    TrainingJobPage,
    TrainingJobView,
    TrainingKind,
    TrainRequest,
)
from sagestep_service.workflows.training.settings import TrainingSettings
from sagestep_service.workflows.training.submission import TrainingSubmitter

router = Router()


def _store() -> JobStore:
    return JobStore(load(TrainingSettings).jobs_table_name)


def _submitter() -> TrainingSubmitter:
    clients = aws.Clients()
    return TrainingSubmitter(load(TrainingSettings), _store(), clients.stepfunctions, clients.s3)


@router.post(
    "/model", summary="Train a model and deploy it to an endpoint", responses={202: {"description": "Accepted"}}
)
@tracer.capture_method
def train(body: TrainRequest, idempotency_key: IdempotencyKey = None) -> Response[TrainingJobView]:
    submission = _submitter().submit_training(owner(router), body, idempotency_key)
    return submitted(submission, TrainingJobView, "/model")


@router.post("/hpo", summary="Search hyperparameters", responses={202: {"description": "Accepted"}})
@tracer.capture_method
def hpo(body: HpoRequest, idempotency_key: IdempotencyKey = None) -> Response[TrainingJobView]:
    return submitted(_submitter().submit_hpo(owner(router), body, idempotency_key), TrainingJobView, "/hpo")


@router.get("/model", summary="List your model jobs, newest first")
@tracer.capture_method
def list_models(limit: Limit = 20, cursor: Cursor = None) -> TrainingJobPage:
    return queries.page(_store(), owner(router), TrainingKind.MODEL, limit, cursor, TrainingJobPage)


@router.get("/hpo", summary="List your HPO jobs, newest first")
@tracer.capture_method
def list_hpo(limit: Limit = 20, cursor: Cursor = None) -> TrainingJobPage:
    return queries.page(_store(), owner(router), TrainingKind.HPO, limit, cursor, TrainingJobPage)


@router.get("/model/<jobId>", summary="Show a model job")
@tracer.capture_method
def show_model(jobId: str) -> TrainingJobView:
    return queries.show(_store(), owner(router), TrainingKind.MODEL, jobId, TrainingJobView)


@router.get("/hpo/<jobId>", summary="Show an HPO job")
@tracer.capture_method
def show_hpo(jobId: str) -> TrainingJobView:
    return queries.show(_store(), owner(router), TrainingKind.HPO, jobId, TrainingJobView)


@router.delete("/model/<jobId>", summary="Delete a model job's endpoint, endpoint config and model")
@tracer.capture_method
def delete_model(jobId: str) -> TrainingJobView:
    store = _store()
    record = owned_job(store, jobId, owner(router), TrainingKind.MODEL)
    clients = aws.Clients()
    state_machine = load(TrainingSettings).training_state_machine_arn
    return deletion.delete_model_job(store, clients.sagemaker, clients.stepfunctions, state_machine, record)


@router.post("/infer", summary="Predict with a deployed model")
@tracer.capture_method
def infer(body: InferRequest) -> InferResponse:
    clients = aws.Clients()
    settings = load(TrainingSettings)
    endpoint = inference.resolve_endpoint(_store(), clients.sagemaker, owner(router), settings.stack_name, body)
    return inference.predict(clients.sagemaker_runtime, endpoint, body)
