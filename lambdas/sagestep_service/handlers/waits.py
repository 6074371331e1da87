"""Event-driven waits: register a task token (``lambda:invoke.waitForTaskToken``) and resume it from the
service's EventBridge event (see logic/waits.py)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.parser import event_parser
from aws_lambda_powertools.utilities.parser.models import EventBridgeModel
from aws_lambda_powertools.utilities.typing import LambdaContext

from sagestep_service import aws
from sagestep_service.dal.jobs import JobStore
from sagestep_service.handlers.observability import logger, metrics, tracer
from sagestep_service.logic import waits
from sagestep_service.models.tasks import WaitRegisterTask
from sagestep_service.settings import CommonSettings, load


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
@event_parser(model=EventBridgeModel)
def resume(event: EventBridgeModel, context: LambdaContext) -> dict[str, Any]:
    """Resume the job waiting on the resource this event is about."""
    detail: dict[str, Any] = dict(event.detail) if isinstance(event.detail, dict) else {}
    clients = aws.Clients()
    resumed = waits.resume(_store(), clients, clients.stepfunctions, event.detail_type, detail)
    logger.info("event handled", extra={"detailType": event.detail_type, "resumed": resumed})
    return {"resumed": resumed}
