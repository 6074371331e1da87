"""Task functions of the labeling state machine (statemachines/labeling.asl.json) and sagestep's own Ground Truth
Lambdas (pre-annotation and annotation consolidation, which Ground Truth calls during a labeling job)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.parser import event_parser
from aws_lambda_powertools.utilities.typing import LambdaContext

from sagestep_service.platform import aws
from sagestep_service.platform.failures import FailureTask
from sagestep_service.platform.jobs import JobStore, now_iso
from sagestep_service.platform.observability import logger, metrics, tracer
from sagestep_service.platform.settings import load
from sagestep_service.workflows.labeling import failure, finish, levels, stopping, tasks
from sagestep_service.workflows.labeling.models import AdvanceTask, FinishTask
from sagestep_service.workflows.labeling.settings import LabelingTaskSettings


def _settings() -> LabelingTaskSettings:
    return load(LabelingTaskSettings)


def _store() -> JobStore:
    return JobStore(_settings().jobs_table_name)


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
@event_parser(model=AdvanceTask)
def advance(event: AdvanceTask, context: LambdaContext) -> dict[str, Any]:
    """Record the level that ended and prepare the next one with something to label."""
    store = _store()
    stopping.check(store, event.jobId)
    settings = _settings()
    builder = levels.LevelBuilder(
        aws.Clients().s3,
        event.jobId,
        event.plan,
        stack=settings.stack_name,
        key_arn=settings.data_key_arn,
        functions=tasks.Functions(
            settings.pre_annotation_function_arn, settings.consolidation_function_arn, settings.region
        ),
    )
    answer = levels.advance(store, builder, event.jobId, event.plan, event.level, event.results)
    logger.info("level prepared", extra={"level": answer["level"], "jobs": len(answer["jobs"]), "done": answer["done"]})
    return answer


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
@event_parser(model=FinishTask)
def finish_batch(event: FinishTask, context: LambdaContext) -> dict[str, Any]:
    """The batch's report and worker table on its record; returns the success message."""
    store = _store()
    finished_at = now_iso()
    fields = finish.report(aws.Clients().s3, store, event.jobId, event.plan)
    record = {**(store.get(event.jobId) or {}), **fields, "status": "COMPLETE", "finishedAt": finished_at}
    metrics.add_metric(name="LabeledBatches", unit="Count", value=1)
    return {"notification": finish.success_message(record), "finishedAt": finished_at}


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
@event_parser(model=FailureTask)
def on_failure(event: FailureTask, context: LambdaContext) -> dict[str, Any]:
    """Stop the batch's running labeling jobs, explain the error, build the failure message."""
    store = _store()
    cleanup, described = failure.stop_labeling_jobs(aws.Clients().sagemaker, event.plan)
    error, cause = failure.explain(event.failure.Error, event.failure.Cause, event.plan, described)
    record = store.get(event.jobId) or {}
    status = "FAILED"
    if record.get(stopping.STOP_FIELD) or event.failure.Error == "StopRequested":
        error, cause = "StoppedByOwner", f"stopped by its owner at {record.get(stopping.STOP_FIELD, 'an unknown time')}"
        status = "STOPPED"
    if cleanup.left:
        cause += f" (not stopped: {'; '.join(cleanup.left)})"
    failure.record_jobs(store, event.jobId, record, described)
    logger.info("batch failed", extra={"error": error, "stopped": cleanup.deleted})
    batch_id = str(event.plan.get("batchId", event.jobId))
    return {
        "error": error,
        "cause": cause,
        "status": status,
        "notification": finish.failure_message(batch_id, error, cause),
    }


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def on_job_started(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """ "SageMaker Ground Truth Labeling Job State Change" to InProgress (EventBridge, asynchronous): a job of a batch
    whose owner asked to stop it meanwhile is stopped (``stopping.stop_if_requested``)."""
    names = [str(arn).rsplit("/", 1)[-1] for arn in event.get("resources", [])]
    settings = _settings()
    sagemaker = aws.Clients().sagemaker
    stopped = [name for name in names if stopping.stop_if_requested(sagemaker, _store(), settings.stack_name, name)]
    if stopped:
        logger.info("stopped labeling jobs of stopped batches", extra={"jobs": stopped})
    return {"stopped": stopped}


# sagestep's own Ground Truth Lambdas -------------------------------------------------------------------------------


@logger.inject_lambda_context
@tracer.capture_lambda_handler
def pre_annotation(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """Ground Truth's pre-annotation call for one data object: its task input."""
    from sagestep_service.workflows.labeling import ground_truth_lambdas

    return ground_truth_lambdas.pre_annotation(event)


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def consolidate(event: dict[str, Any], context: LambdaContext) -> list[dict[str, Any]]:
    """Ground Truth's annotation-consolidation call: several workers' answers into one label per item."""
    from sagestep_service.workflows.labeling import consolidation_call, ground_truth_lambdas

    clients = aws.Clients()
    modality, earlier = consolidation_call.job_context(clients.sagemaker, clients.s3, event)
    answer = ground_truth_lambdas.consolidate(event, clients.s3, modality=modality, earlier=earlier)
    metrics.add_metric(name="ConsolidatedItems", unit="Count", value=len(answer))
    return answer
