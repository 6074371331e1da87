"""Task functions of the documents state machine (statemachines/documents.asl.json) and its upload trigger."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.parser import event_parser
from aws_lambda_powertools.utilities.typing import LambdaContext

from sagestep_service.platform import aws
from sagestep_service.platform.jobs import JobStore
from sagestep_service.platform.observability import logger, metrics, tracer
from sagestep_service.platform.settings import load
from sagestep_service.workflows.documents import failure, listing, results
from sagestep_service.workflows.documents.models import DocumentSummary, DocumentTask, FailureTask, JobTask
from sagestep_service.workflows.documents.settings import WorkSettings


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
@event_parser(model=JobTask)
def list_documents(event: JobTask, context: LambdaContext) -> dict[str, Any]:
    """Write the job's documents manifest (the Distributed Map's items, in S3)."""
    return listing.write_manifest(aws.Clients().s3, event.jobId, event.plan)


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
@event_parser(model=DocumentTask)
def fetch_results(event: DocumentTask, context: LambdaContext) -> dict[str, Any]:
    """Page every GetDocumentAnalysis result of the document's Textract job into S3."""
    clients = aws.Clients()
    return results.fetch_blocks(clients.textract, clients.s3, event.plan, event.document, str(event.textract["jobId"]))


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
@event_parser(model=DocumentTask)
def analyse(event: DocumentTask, context: LambdaContext) -> dict[str, Any]:
    """Segment the document, run Comprehend over its paragraphs, write rows, export and summary."""
    import boto3

    from sagestep_service.workflows.documents import analysis

    settings = load(WorkSettings)
    clients = aws.Clients()
    table = boto3.resource("dynamodb").Table(settings.paragraphs_table_name)
    summary = analysis.analyse_document(
        clients.s3, clients.comprehend, table, event.jobId, event.plan, event.document, event.textract
    )
    metrics.add_metric(name="DocumentParagraphs", unit="Count", value=summary.paragraphs)
    return {"index": summary.index, "status": summary.status, "paragraphs": summary.paragraphs}


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
@event_parser(model=DocumentTask)
def document_failed(event: DocumentTask, context: LambdaContext) -> dict[str, Any]:
    """Record why one document failed (the folder goes on: its job ends COMPLETED_WITH_ERRORS)."""
    caught = event.failure or {}
    error, cause = failure.explain(str(caught.get("Error", "Unknown")), caught.get("Cause"), event.plan)
    summary = DocumentSummary(
        index=event.document.index,
        path=event.document.path,
        status="FAILED",
        textractJobId=(event.textract or {}).get("jobId"),
        error=error,
        errorCause=cause,
    )
    results.write_summary(aws.Clients().s3, event.plan, summary)
    logger.info("document failed", extra={"document": event.document.path, "error": error})
    return {"index": summary.index, "status": summary.status}


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
@event_parser(model=JobTask)
def finish(event: JobTask, context: LambdaContext) -> dict[str, Any]:
    """Aggregate the documents' summaries on the job; answer its status and notification."""
    from sagestep_service.workflows.documents import summary

    settings = load(WorkSettings)
    s3 = aws.Clients().s3
    job = summary.aggregate(s3, event.plan)
    JobStore(settings.jobs_table_name).update(event.jobId, set_fields={"summary": job.model_dump(mode="json")})
    return summary.outcome(event.jobId, job)


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
@event_parser(model=FailureTask)
def on_failure(event: FailureTask, context: LambdaContext) -> dict[str, Any]:
    """Explain the job's failure."""
    error, cause = failure.explain(str(event.failure.get("Error", "Unknown")), event.failure.get("Cause"), event.plan)
    return {"error": error, "cause": cause}


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def from_upload(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """An upload under ``users/<you>/documents/``: start its job (EventBridge invokes this asynchronously)."""
    from sagestep_service.workflows.documents import trigger

    started = trigger.submit_uploads(event)
    logger.info("uploads submitted", extra={"jobs": started})
    return {"jobs": started}
