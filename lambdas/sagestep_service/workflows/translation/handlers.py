"""Task functions of the translation state machine (statemachines/translation.asl.json) and its SQS entry."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.parser import event_parser
from aws_lambda_powertools.utilities.typing import LambdaContext

from sagestep_service.platform import aws
from sagestep_service.platform.failures import FailureTask
from sagestep_service.platform.jobs import JobStore
from sagestep_service.platform.observability import logger, metrics, tracer
from sagestep_service.platform.settings import CommonSettings, load
from sagestep_service.workflows.translation import failure, restore, results, staging, stopping
from sagestep_service.workflows.translation.models import FinishTask, RestoreTask, StageTask


def _store() -> JobStore:
    return JobStore(load(CommonSettings).jobs_table_name)


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
@event_parser(model=StageTask)
def stage(event: StageTask, context: LambdaContext) -> dict[str, Any]:
    """Stage one page of the input folder; after the last, the content types present (the Map's items)."""
    stopping.check(_store(), event.jobId)
    state = staging.stage_page(aws.Clients().s3, event.jobId, event.plan, event.staging)
    answer: dict[str, Any] = state.model_dump()
    # Every answer has ``items`` (empty until the last page): the state's ResultSelector reads it, and a missing
    # path would fail the execution (States.Runtime) on every folder of more than one listing page.
    answer["items"] = [] if state.more else staging.map_items(event.jobId, event.plan, state)
    logger.info("staged", extra={"part": state.part, "files": state.files, "skipped": state.skipped})
    return answer


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
@event_parser(model=RestoreTask)
def restore_results(event: RestoreTask, context: LambdaContext) -> dict[str, Any]:
    """Copy one manifest page of a content type's translations back into the output folder."""
    stopping.check(_store(), event.jobId)
    return restore.restore_part(aws.Clients().s3, event)


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
@event_parser(model=FinishTask)
def finish(event: FinishTask, context: LambdaContext) -> dict[str, Any]:
    """Record the job's summary, remove its staging area; returns the final status and the notification."""
    s3 = aws.Clients().s3
    summary = results.summarize(s3, event.plan, event.staging, event.results)
    status = results.final_status(summary)
    _store().update(event.jobId, set_fields={"summary": summary.model_dump(mode="json")})
    results.remove_transient(s3, event.plan)
    metrics.add_metric(name="TranslatedFiles", unit="Count", value=summary.translatedFiles)
    logger.info("translation finished", extra={"status": status, "translated": summary.translatedFiles})
    return {"status": str(status), "notification": results.notification(event.jobId, str(status), summary)}


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
@event_parser(model=FailureTask)
def on_failure(event: FailureTask, context: LambdaContext) -> dict[str, Any]:
    """Stop the job's running Translate jobs, remove its staging area, explain the error."""
    error, cause = failure.explain(event.failure.Error, event.failure.Cause, event.plan)
    stop_requested = (_store().get(event.jobId) or {}).get(stopping.STOP_FIELD)
    if stop_requested:
        error, cause = "StoppedByOwner", f"stopped by its owner (DELETE /translation/{event.jobId}) at {stop_requested}"
    cleanup = failure.clean_up(aws.Clients(), event.jobId, event.plan)
    if cleanup.left:
        cause += f" (not cleaned up: {'; '.join(cleanup.left)})"
    logger.info("translation failed", extra={"error": error, "cleanedUp": cleanup.deleted})
    return {"error": error, "cause": cause, "cleanedUp": cleanup.deleted}


_processor = BatchProcessor(event_type=EventType.SQS)


def _submit_message(record: SQSRecord) -> None:
    from sagestep_service.workflows.translation import queue

    queue.submit_message(record.message_id, record.body)


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def from_queue(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """The reference's SQS entry: each message starts one job; a failed message is reported (partial batch
    failure) and comes back, then lands in the dead-letter queue."""
    return dict(
        process_partial_response(event=event, record_handler=_submit_message, processor=_processor, context=context)
    )
