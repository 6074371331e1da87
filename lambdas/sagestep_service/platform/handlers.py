"""The platform's functions: event-driven waits — register a task token (``lambda:invoke.waitForTaskToken``)
and resume it from the service's EventBridge event (``waits``) —, the safety net for executions that
ended outside their failure path (``safety_net``), and the redrive of dead-lettered events (``redrive``)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.parser import event_parser
from aws_lambda_powertools.utilities.parser.models import EventBridgeModel, SnsModel
from aws_lambda_powertools.utilities.typing import LambdaContext

from sagestep_service.platform import aws, redrive, safety_net, waits
from sagestep_service.platform.jobs import JobStore
from sagestep_service.platform.models import WaitRegisterTask
from sagestep_service.platform.observability import logger, metrics, tracer
from sagestep_service.platform.settings import CommonSettings, NotificationSettings, RedriveSettings, load


def _store() -> JobStore:
    return JobStore(load(CommonSettings).jobs_table_name)


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
@event_parser(model=WaitRegisterTask)
def register(event: WaitRegisterTask, context: LambdaContext) -> dict[str, Any]:
    """Store the token in the resource's wait record; resolve at once if the resource has already finished."""
    clients = aws.Clients()
    resolved = waits.register(_store(), clients, clients.stepfunctions, event.model_dump())
    logger.info(
        "wait registered", extra={"jobId": event.jobId, "resource": event.resource.model_dump(), "resolved": resolved}
    )
    return {"resolvedAtOnce": resolved}


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def resume(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """Resume the job waiting on the resource an event is about: an EventBridge event (a service's state change),
    or the SNS messages of a service that notifies through a topic instead (Textract's ``NotificationChannel``)."""
    clients = aws.Clients()
    if "Records" in event:
        notifications = SnsModel.model_validate(event)
        resumed = []
        for record in notifications.Records:
            resumed += waits.resume_notification(_store(), clients, clients.stepfunctions, str(record.Sns.Message))
        logger.info("notifications handled", extra={"records": len(notifications.Records), "resumed": resumed})
        return {"resumed": resumed}
    parsed = EventBridgeModel.model_validate(event)
    detail: dict[str, Any] = dict(parsed.detail) if isinstance(parsed.detail, dict) else {}
    resumed = waits.resume(_store(), clients, clients.stepfunctions, parsed.detail_type, detail)
    logger.info("event handled", extra={"detailType": parsed.detail_type, "resumed": resumed})
    return {"resumed": resumed}


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
@event_parser(model=EventBridgeModel)
def on_execution_closed(event: EventBridgeModel, context: LambdaContext) -> dict[str, Any]:
    """Safety net: an execution of one of the stack's state machines ended while its job still ran."""
    settings = load(NotificationSettings)
    detail: dict[str, Any] = dict(event.detail) if isinstance(event.detail, dict) else {}
    closed = safety_net.close_abandoned(
        JobStore(settings.jobs_table_name), aws.client("sns"), settings.topic_arn, detail
    )
    if closed:
        logger.warning("job closed after its execution ended", extra=closed)
    return {"closed": closed}


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def redrive_events(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """Operators invoke this (``{"limit": 100}``) to hand dead-lettered events back to their functions."""
    settings = load(RedriveSettings)
    targets = {arn for arn in settings.redrive_targets.split(",") if arn}
    limit = int((event or {}).get("limit", 100))
    result = redrive.redrive(aws.client("sqs"), aws.client("lambda"), settings.dead_letter_queue_url, targets, limit)
    logger.info("redrive done", extra={"redriven": result.redriven, "left": result.left})
    return {"redriven": result.redriven, "left": result.left}
