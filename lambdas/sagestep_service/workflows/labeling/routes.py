"""The labeling workflow's API routes: the reference's ``/batch/create`` and ``/batch/show``, plus stop and report.

No ``from __future__ import annotations`` here: Powertools reads the parameter annotations at run time. Routes
import the logic they call when called (cold start: docs/architecture.md, "Lambda functions").
"""

from typing import TYPE_CHECKING, Annotated, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Query

from sagestep_service.platform import aws
from sagestep_service.platform.errors import NotFound
from sagestep_service.platform.jobs import JobStore
from sagestep_service.platform.observability import tracer
from sagestep_service.platform.routing import BODY_ERRORS, IdempotencyKey, json_response, owner, responses
from sagestep_service.platform.settings import load
from sagestep_service.workflows.labeling.models import KIND, BatchList, BatchRequest, BatchView
from sagestep_service.workflows.labeling.reports import BatchReport
from sagestep_service.workflows.labeling.settings import LabelingSettings

if TYPE_CHECKING:
    from sagestep_service.workflows.labeling.submission import LabelingSubmitter

router = Router()

_NOT_FOUND = "No batch of yours has this id."
#: How long the presigned manifest and report links of ``GET /batch/show`` work.
URL_EXPIRY_SECONDS = 3600
BatchId = Annotated[
    str | None, Query(min_length=1, max_length=63, description="One batch: its levels, jobs and manifests.")
]


def _store() -> JobStore:
    return JobStore(load(LabelingSettings).jobs_table_name)


def _submitter() -> "LabelingSubmitter":
    from sagestep_service.workflows.labeling.submission import LabelingSubmitter

    clients = aws.Clients()
    return LabelingSubmitter(load(LabelingSettings), _store(), clients.stepfunctions, clients.s3)


def _batch(batch_id: str) -> dict[str, Any]:
    from sagestep_service.platform.submission import named_job_id, owned_job

    caller = owner(router)
    try:
        return owned_job(_store(), named_job_id(KIND, caller, batch_id), caller, KIND)
    except NotFound:
        raise NotFound(f"no batch {batch_id!r} of yours") from None


def _view(record: dict[str, Any]) -> BatchView:
    from sagestep_service.workflows.labeling import views

    clients = aws.Clients()
    return views.batch_view(record, sagemaker=clients.sagemaker, s3=clients.s3, expiry=URL_EXPIRY_SECONDS)


@router.post(
    "/batch/create",
    summary="Create a batch of labeling jobs in levels (the reference's body)",
    responses=responses(
        {
            202: {"description": "The batch was created; level 1 starts."},
            200: {"description": "A replay (same `Idempotency-Key` and body): the batch as it is."},
        },
        {
            **BODY_ERRORS,
            409: "You already have a batch with this `batchId` (or the `Idempotency-Key` was used for another body).",
        },
    ),
)
@tracer.capture_method
def create_batch(body: BatchRequest, idempotency_key: IdempotencyKey = None) -> Response[BatchView]:
    from sagestep_service.workflows.labeling import views

    submission = _submitter().submit(owner(router), body, idempotency_key)
    view = views.batch_view(submission.record, sagemaker=None, s3=None).model_dump(mode="json")
    if submission.created:
        return json_response(202, view, {"Location": f"/batch/show?batchId={body.batchId}"})
    return json_response(200, view, {"Idempotent-Replayed": "true"})


@router.get(
    "/batch/show",
    summary="Your batch ids by status, or one batch (`batchId`): per level its jobs, counts and manifests",
    responses=responses(
        {200: {"description": "Without `batchId`: ids by status. With it: the batch (links signed at this GET)."}},
        {400: "`batchId` is invalid.", 404: _NOT_FOUND},
    ),
)
@tracer.capture_method
def show_batches(batchId: BatchId = None) -> BatchList | BatchView:
    if batchId is None:
        from sagestep_service.workflows.labeling import views

        return views.batch_list(_store(), owner(router))
    return _view(_batch(batchId))


@router.post(
    "/batch/<batchId>/stop",
    summary="Stop a running batch (its running labeling jobs are stopped; it ends STOPPED with one message)",
    responses=responses(
        {202: {"description": "The batch is being stopped."}},
        {404: _NOT_FOUND, 409: "The batch has already ended."},
    ),
)
@tracer.capture_method
def stop_batch(batchId: str) -> Response[BatchView]:
    from sagestep_service.workflows.labeling import stopping, views

    record = _batch(batchId)
    stopped = stopping.stop(aws.Clients().sagemaker, _store(), record)
    return json_response(202, views.batch_view(stopped, sagemaker=None, s3=None).model_dump(mode="json"))


@router.get(
    "/batch/<batchId>/report",
    summary="A finished batch's report: annotations over time and per label, audit outcomes, workers, the team",
    responses=responses(
        {200: {"description": "The report (its Parquet tables are under the batch's output, `report/`)."}},
        {404: _NOT_FOUND, 409: "The batch has not completed yet."},
    ),
)
@tracer.capture_method
def batch_report(batchId: str) -> BatchReport:
    from sagestep_service.workflows.labeling import finish

    return finish.read_report(aws.Clients().s3, _batch(batchId))
