"""Task functions of the training state machine (statemachines/training.asl.json)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.parser import event_parser
from aws_lambda_powertools.utilities.typing import LambdaContext

from sagestep_service.platform import aws
from sagestep_service.platform.failures import FailureTask
from sagestep_service.platform.jobs import JobStore
from sagestep_service.platform.observability import logger, metrics, tracer
from sagestep_service.platform.settings import CommonSettings, load
from sagestep_service.workflows.training import deployment, failure, hpo_results
from sagestep_service.workflows.training.settings import DeploymentSettings
from sagestep_service.workflows.training.tasks import FinishDeploymentTask, HpoResultsTask


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
@event_parser(model=HpoResultsTask)
def record_hpo_results(event: HpoResultsTask, context: LambdaContext) -> dict[str, Any]:
    """Store the best hyperparameters, objective and trials on the HPO job; return the summary."""
    clients = aws.Clients()
    if event.strategy == "sagemaker":
        assert event.tuningJobName, "tuningJobName is required for the sagemaker strategy"
        result = hpo_results.from_tuning_job(clients.sagemaker, event.tuningJobName)
        resources = {"tuningJobName": event.tuningJobName}
    else:
        assert event.modelArtifactUri, "modelArtifactUri is required for the in-container strategy"
        result = hpo_results.from_model_artifact(clients.s3, event.modelArtifactUri)
        resources = {"trainingJobName": event.jobId, "modelArtifactUri": event.modelArtifactUri}
    store = JobStore(load(CommonSettings).jobs_table_name)
    store.update(event.jobId, set_fields={"hpo": result.model_dump()}, resources=resources)
    logger.info(
        "HPO results recorded", extra={"objective": result.objective.model_dump(), "trials": len(result.trials)}
    )
    return {"objective": result.objective.model_dump(), "bestHyperparameters": result.bestHyperparameters}


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
@event_parser(model=FinishDeploymentTask)
def finish_deployment(event: FinishDeploymentTask, context: LambdaContext) -> dict[str, Any]:
    """Hand the endpoint over (in-place update: a failure raises ``HandOverFailed``, which fails the job; then the
    previous job's endpoint config and model are deleted, best effort) or evict old endpoints; then record the
    training job's final metrics (best effort: a model without metrics is still served). Returns the metrics (for
    the notification), the evicted endpoints and, after a hand-over, what was retired."""
    settings = load(DeploymentSettings)
    store = JobStore(settings.jobs_table_name)
    sagemaker = aws.Clients().sagemaker
    result: dict[str, Any] = {"evicted": []}
    if event.deployMode == "UPDATE":
        assert event.previousJobId, "previousJobId is required for an in-place update"
        try:
            deployment.hand_over(store, event.previousJobId, event.jobId)
        except Exception as exc:
            raise deployment.HandOverFailed(
                f"the endpoint now serves job {event.jobId}, but job {event.previousJobId} could not be marked "
                f"SUPERSEDED: {exc}"
            ) from exc
        result["supersededJobId"] = event.previousJobId
        retired = deployment.retire_previous(store, sagemaker, event.previousJobId, event.endpointName)
        result["retired"], result["notRetired"] = retired.deleted, retired.left
        if retired.left:
            logger.warning("previous resources not retired", extra={"left": retired.left})
    else:
        result["evicted"] = deployment.evict(
            store, sagemaker, settings.stack_name, event.endpointName, settings.max_endpoints
        )
        logger.info("eviction done", extra={"evicted": result["evicted"]})
    result["metrics"] = deployment.record_metrics(store, sagemaker, event.jobId)
    return result


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
@event_parser(model=FailureTask)
def on_failure(event: FailureTask, context: LambdaContext) -> dict[str, Any]:
    """Explain the caught error and remove what the failed run created and nothing uses."""
    error, cause = failure.explain(event.failure.Error, event.failure.Cause, event.plan)
    cleanup = failure.clean_up(aws.Clients().sagemaker, event.jobId, event.plan)
    failure.release_update(JobStore(load(CommonSettings).jobs_table_name), event.jobId, event.plan)
    if cleanup.left:
        cause += f" (not cleaned up: {'; '.join(cleanup.left)})"
    logger.warning(
        "job failed", extra={"jobId": event.jobId, "error": error, "deleted": cleanup.deleted, "left": cleanup.left}
    )
    return {"error": error, "cause": cause, "cleanedUp": cleanup.deleted, "notCleanedUp": cleanup.left}
