"""The translation workflow's API routes: ``/translation``.

No ``from __future__ import annotations`` here: Powertools reads the parameter annotations at run time. Routes
import the logic they call when called (cold start: docs/architecture.md, "Lambda functions").
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
    json_response,
    owner,
    responses,
    submitted,
)
from sagestep_service.platform.settings import load
from sagestep_service.workflows.translation.models import (
    KIND,
    FilePage,
    TranslationJobPage,
    TranslationJobView,
    TranslationRequest,
)
from sagestep_service.workflows.translation.settings import TranslationSettings

if TYPE_CHECKING:
    from sagestep_service.workflows.translation.submission import TranslationSubmitter

router = Router()

_NOT_FOUND = "No translation job of yours has this id."


def _store() -> JobStore:
    return JobStore(load(TranslationSettings).jobs_table_name)


def _submitter() -> "TranslationSubmitter":
    from sagestep_service.workflows.translation.submission import TranslationSubmitter

    clients = aws.Clients()
    return TranslationSubmitter(load(TranslationSettings), _store(), clients.stepfunctions, clients.s3)


@router.post(
    "/translation",
    summary="Translate a folder of documents into 1-10 languages",
    responses=responses(
        SUBMITTED,
        {
            **BODY_ERRORS,
            409: "The `Idempotency-Key` was already used for a different request.",
        },
    ),
)
@tracer.capture_method
def translate(body: TranslationRequest, idempotency_key: IdempotencyKey = None) -> Response[TranslationJobView]:
    submission = _submitter().submit(owner(router), body, idempotency_key)
    return submitted(submission, TranslationJobView, "/translation")


@router.get(
    "/translation",
    summary="List your translation jobs, newest first",
    responses=responses(
        {200: {"description": "One page of your jobs, newest first."}}, {400: "`limit` or `cursor` is invalid."}
    ),
)
@tracer.capture_method
def list_translations(limit: Limit = 20, cursor: Cursor = None) -> TranslationJobPage:
    from sagestep_service.platform import queries

    return queries.page(_store(), owner(router), KIND, limit, cursor, TranslationJobPage)


@router.get(
    "/translation/<jobId>",
    summary="Show a translation job: per content type and language, its Translate job and counts",
    responses=responses({200: {"description": "The job."}}, {404: _NOT_FOUND}),
)
@tracer.capture_method
def show_translation(jobId: str) -> TranslationJobView:
    from sagestep_service.platform import queries

    return queries.show(_store(), owner(router), KIND, jobId, TranslationJobView)


@router.get(
    "/translation/<jobId>/files",
    summary="List a translation job's results per file and language, with presigned links",
    responses=responses(
        {200: {"description": "One page of results (links signed at this request)."}},
        {400: "`limit` or `cursor` is invalid.", 404: _NOT_FOUND},
    ),
)
@tracer.capture_method
def list_files(jobId: str, limit: Limit = 100, cursor: Cursor = None) -> FilePage:
    from sagestep_service.platform.submission import execution_plan, owned_job
    from sagestep_service.workflows.translation import results

    record = owned_job(_store(), jobId, owner(router), KIND)
    plan = execution_plan(record)
    expiry = int(record.get("request", {}).get("urlExpirySeconds") or 3600)
    return results.file_page(aws.Clients().s3, plan, limit, cursor, expiry)


@router.delete(
    "/translation/<jobId>",
    summary="Stop a running translation job (its Translate jobs are stopped, its staging removed)",
    responses=responses(
        {202: {"description": "The job is being stopped; it ends in ERROR (`StoppedByOwner`) with one message."}},
        {404: _NOT_FOUND, 409: "The job has already ended."},
    ),
)
@tracer.capture_method
def stop_translation(jobId: str) -> Response[TranslationJobView]:
    from sagestep_service.platform.submission import owned_job
    from sagestep_service.workflows.translation import stopping

    store = _store()
    record = owned_job(store, jobId, owner(router), KIND)
    clients = aws.Clients()
    stopped = stopping.stop(clients, store, record)
    return json_response(202, TranslationJobView.model_validate(stopped).model_dump(mode="json"))
