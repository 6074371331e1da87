"""The documents workflow's API routes: ``/documents``.

No ``from __future__ import annotations`` here: Powertools reads the parameter annotations at run time. Routes
import the logic they call when called (cold start: docs/architecture.md, "Lambda functions").
"""

from typing import TYPE_CHECKING, Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Query

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
from sagestep_service.workflows.documents.models import (
    KIND,
    DocumentPage,
    DocumentsJobPage,
    DocumentsJobView,
    DocumentsRequest,
    ParagraphPage,
)
from sagestep_service.workflows.documents.settings import DocumentsSettings

if TYPE_CHECKING:
    from sagestep_service.workflows.documents.submission import DocumentsSubmitter

router = Router()

_NOT_FOUND = "No documents job of yours has this id."
Document = Annotated[int | None, Query(ge=0, description="Only this document's paragraphs (its `index`).")]


def _store() -> JobStore:
    return JobStore(load(DocumentsSettings).jobs_table_name)


def _submitter() -> "DocumentsSubmitter":
    from sagestep_service.workflows.documents.submission import DocumentsSubmitter

    clients = aws.Clients()
    return DocumentsSubmitter(load(DocumentsSettings), _store(), clients.stepfunctions, clients.s3)


@router.post(
    "/documents",
    summary="Analyse a document, or a folder of documents: Textract, paragraphs, Comprehend",
    responses=responses(SUBMITTED, {**BODY_ERRORS, 409: "The `Idempotency-Key` was already used for another request."}),
)
@tracer.capture_method
def analyse(body: DocumentsRequest, idempotency_key: IdempotencyKey = None) -> Response[DocumentsJobView]:
    return submitted(_submitter().submit(owner(router), body, idempotency_key), DocumentsJobView, "/documents")


@router.get(
    "/documents",
    summary="List your documents jobs, newest first",
    responses=responses(
        {200: {"description": "One page of your jobs, newest first."}}, {400: "`limit` or `cursor` is invalid."}
    ),
)
@tracer.capture_method
def list_documents(limit: Limit = 20, cursor: Cursor = None) -> DocumentsJobPage:
    from sagestep_service.platform import queries

    return queries.page(_store(), owner(router), KIND, limit, cursor, DocumentsJobPage)


@router.get(
    "/documents/<jobId>",
    summary="Show a documents job: per document its Textract job, paragraphs, sentiment and top phrases",
    responses=responses({200: {"description": "The job."}}, {404: _NOT_FOUND}),
)
@tracer.capture_method
def show_documents(jobId: str) -> DocumentsJobView:
    from sagestep_service.platform import queries

    return queries.show(_store(), owner(router), KIND, jobId, DocumentsJobView)


@router.get(
    "/documents/<jobId>/paragraphs",
    summary="A page of a documents job's paragraphs: header, text, pages, sentiment, key phrases, entities",
    responses=responses(
        {200: {"description": "One page of paragraphs, in document then reading order."}},
        {400: "`limit`, `cursor` or `document` is invalid.", 404: _NOT_FOUND},
    ),
)
@tracer.capture_method
def list_paragraphs(jobId: str, limit: Limit = 50, cursor: Cursor = None, document: Document = None) -> ParagraphPage:
    import boto3

    from sagestep_service.platform.submission import owned_job
    from sagestep_service.workflows.documents import paragraphs

    settings = load(DocumentsSettings)
    owned_job(_store(), jobId, owner(router), KIND)
    table = boto3.resource("dynamodb").Table(settings.paragraphs_table_name)
    return paragraphs.page(table, jobId, limit, cursor, document)


@router.get(
    "/documents/<jobId>/documents",
    summary="A page of a documents job's per-document records: Textract job and status, warnings, paragraphs, error",
    responses=responses(
        {200: {"description": "One page of documents, by index."}},
        {400: "`limit` or `cursor` is invalid.", 404: _NOT_FOUND},
    ),
)
@tracer.capture_method
def list_job_documents(jobId: str, limit: Limit = 100, cursor: Cursor = None) -> DocumentPage:
    from sagestep_service.platform.submission import execution_plan, owned_job
    from sagestep_service.workflows.documents import summary

    record = owned_job(_store(), jobId, owner(router), KIND)
    plan = execution_plan(record)
    return summary.document_page(aws.Clients().s3, plan, limit, cursor)
