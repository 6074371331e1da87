"""The training workflow's API routes: ``/model``, ``/hpo``, ``/infer``.

No ``from __future__ import annotations`` here: Powertools reads the parameter annotations at run time.
Each route imports the logic it calls (``queries``, ``submission``, ``deletion``, ``inference``) when called, so
that a cold start loads only what its request needs; the models (the routes' signatures) and the plumbing every
route uses (clients, job store, settings) are imported here (docs/architecture.md, "Lambda functions").
"""

from typing import TYPE_CHECKING

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router

from sagestep_service.platform import aws
from sagestep_service.platform.jobs import JobStore
from sagestep_service.platform.observability import tracer
from sagestep_service.platform.routing import (
    BODY_ERRORS,
    SUBMITTED,
    Cursor,
    IdempotencyKey,
    Limit,
    owner,
    responses,
    submitted,
)
from sagestep_service.platform.settings import load
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

if TYPE_CHECKING:
    from sagestep_service.workflows.training.submission import TrainingSubmitter

router = Router()

_KEY_REUSED = "the `Idempotency-Key` was already used for a different request"
_PAGE = responses(
    {200: {"description": "One page of your jobs, newest first."}}, {400: "`limit` or `cursor` is invalid."}
)


def _store() -> JobStore:
    return JobStore(load(TrainingSettings).jobs_table_name)


def _submitter() -> "TrainingSubmitter":
    from sagestep_service.workflows.training.submission import TrainingSubmitter

    clients = aws.Clients()
    return TrainingSubmitter(load(TrainingSettings), _store(), clients.stepfunctions, clients.s3)


@router.post(
    "/model",
    summary="Train a model and deploy it to an endpoint",
    responses=responses(
        SUBMITTED,
        {
            **BODY_ERRORS,
            404: "`hpoJobId` or `updateEndpointOf` names no job of yours (`field` says which).",
            409: "The HPO job has not completed, the endpoint to update is not in service or another update holds "
            f"it, or {_KEY_REUSED}.",
        },
    ),
)
@tracer.capture_method
def train(body: TrainRequest, idempotency_key: IdempotencyKey = None) -> Response[TrainingJobView]:
    submission = _submitter().submit_training(owner(router), body, idempotency_key)
    return submitted(submission, TrainingJobView, "/model")


@router.post(
    "/hpo",
    summary="Search hyperparameters",
    responses=responses(SUBMITTED, {**BODY_ERRORS, 409: f"{_KEY_REUSED.capitalize()}."}),
)
@tracer.capture_method
def hpo(body: HpoRequest, idempotency_key: IdempotencyKey = None) -> Response[TrainingJobView]:
    return submitted(_submitter().submit_hpo(owner(router), body, idempotency_key), TrainingJobView, "/hpo")


@router.get("/model", summary="List your model jobs, newest first", responses=_PAGE)
@tracer.capture_method
def list_models(limit: Limit = 20, cursor: Cursor = None) -> TrainingJobPage:
    from sagestep_service.platform import queries

    return queries.page(_store(), owner(router), TrainingKind.MODEL, limit, cursor, TrainingJobPage)


@router.get("/hpo", summary="List your HPO jobs, newest first", responses=_PAGE)
@tracer.capture_method
def list_hpo(limit: Limit = 20, cursor: Cursor = None) -> TrainingJobPage:
    from sagestep_service.platform import queries

    return queries.page(_store(), owner(router), TrainingKind.HPO, limit, cursor, TrainingJobPage)


@router.get(
    "/model/<jobId>",
    summary="Show a model job",
    responses=responses({200: {"description": "The job."}}, {404: "No model job of yours has this id."}),
)
@tracer.capture_method
def show_model(jobId: str) -> TrainingJobView:
    from sagestep_service.platform import queries

    return queries.show(_store(), owner(router), TrainingKind.MODEL, jobId, TrainingJobView)


@router.get(
    "/hpo/<jobId>",
    summary="Show an HPO job",
    responses=responses({200: {"description": "The job."}}, {404: "No HPO job of yours has this id."}),
)
@tracer.capture_method
def show_hpo(jobId: str) -> TrainingJobView:
    from sagestep_service.platform import queries

    return queries.show(_store(), owner(router), TrainingKind.HPO, jobId, TrainingJobView)


@router.delete(
    "/model/<jobId>",
    summary="Delete a model job's endpoint, endpoint config and model",
    responses=responses(
        {200: {"description": "The job, now DELETED (deleting it again answers the same)."}},
        {
            404: "No model job of yours has this id.",
            409: "The job's workflow is still running, or an in-place update of its endpoint is.",
        },
    ),
)
@tracer.capture_method
def delete_model(jobId: str) -> TrainingJobView:
    from sagestep_service.platform.submission import owned_job
    from sagestep_service.workflows.training import deletion

    store = _store()
    record = owned_job(store, jobId, owner(router), TrainingKind.MODEL)
    clients = aws.Clients()
    state_machine = load(TrainingSettings).training_state_machine_arn
    return deletion.delete_model_job(store, clients.sagemaker, clients.stepfunctions, state_machine, record)


@router.post(
    "/infer",
    summary="Predict with a deployed model",
    responses=responses(
        {200: {"description": "The predictions, and the swept values when a range was given."}},
        {
            **BODY_ERRORS,
            404: "`jobId` or `endpointName` names no endpoint of yours (`field` says which).",
            409: "The job's endpoint is not in service.",
        },
    ),
)
@tracer.capture_method
def infer(body: InferRequest) -> InferResponse:
    from sagestep_service.workflows.training import inference

    clients = aws.Clients()
    settings = load(TrainingSettings)
    endpoint = inference.resolve_endpoint(_store(), clients.sagemaker, owner(router), settings.stack_name, body)
    return inference.predict(clients.sagemaker_runtime, endpoint, body)
