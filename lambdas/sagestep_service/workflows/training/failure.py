"""When a training workflow fails: explain the error in words a user acts on, and remove what the failed
run created that nothing uses (a model or endpoint config left without an endpoint, a failed endpoint)."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

from botocore.exceptions import ClientError

from sagestep_service.platform import aws, registry
from sagestep_service.platform.jobs import JobStore
from sagestep_service.platform.settings import CommonSettings, load
from sagestep_service.workflows.training.sagemaker_resources import delete_quietly, describe_endpoint, is_missing

MAX_CAUSE = 4000


def _json(text: str | None) -> dict[str, Any] | None:
    try:
        value = json.loads(text or "")
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def explain(error: str, cause: str | None, plan: dict[str, Any]) -> tuple[str, str]:
    """A short error name and a readable cause for the job record and the notification."""
    details = _json(cause)
    if error == "States.Timeout":
        endpoint = plan.get("endpoint", {}).get("EndpointName", "?")
        seconds = plan.get("endpointDeadlineSeconds", "?")
        return "EndpointDeadlineExceeded", f"endpoint {endpoint} was not InService within {seconds} s"
    if details is not None:
        if "TrainingJobStatus" in details:
            reason = details.get("FailureReason") or f"training job {details.get('TrainingJobStatus')}"
            return f"TrainingJob{details.get('TrainingJobStatus', 'Failed')}", str(reason)[:MAX_CAUSE]
        if "HyperParameterTuningJobStatus" in details:
            reason = details.get("FailureReason") or f"tuning job {details.get('HyperParameterTuningJobStatus')}"
            return f"TuningJob{details.get('HyperParameterTuningJobStatus', 'Failed')}", str(reason)[:MAX_CAUSE]
        if "errorMessage" in details:
            return str(details.get("errorType") or error), str(details["errorMessage"])[:MAX_CAUSE]
    return error, (cause or error)[:MAX_CAUSE]


class Cleanup(registry.Cleanup):
    """What a cleanup deleted and what it had to leave (with the reason), and the steps that fill it."""

    def stop(self, what: str, describe: Callable[..., Any], stop: Callable[..., Any], **name: str) -> None:
        """Stop a training or tuning job the run started if it is still in progress (e.g. a create whose
        response was lost and whose retry then failed on the name in use: the job would run unrecorded)."""
        try:
            described = describe(**name)
            status = described.get("TrainingJobStatus") or described.get("HyperParameterTuningJobStatus")
            if status == "InProgress":
                stop(**name)
                self.deleted.append(f"{what} (stopped)")
        except ClientError as exc:
            if not is_missing(exc):
                self.left.append(f"{what} ({exc.response['Error'].get('Code', 'error')})")

    def delete(self, what: str, call: Callable[..., Any], **kwargs: Any) -> bool:
        """Delete one resource; a failure is recorded, not raised, so the other deletions still happen."""
        try:
            if delete_quietly(call, **kwargs):
                self.deleted.append(what)
            return True
        except ClientError as exc:
            self.left.append(f"{what} ({exc.response['Error'].get('Code', 'error')})")
            return False


def clean_up(sagemaker: Any, job_id: str, plan: dict[str, Any]) -> Cleanup:
    """Stop the failed run's training or tuning job if it still runs; delete its own endpoint (when it created
    one), then its endpoint config and model if no endpoint uses them. Never touches another job's resources.
    Each step is tried even when another fails; what could not be cleaned up is reported."""
    cleanup = Cleanup()
    if training_job := (plan.get("trainingJob") or {}).get("TrainingJobName"):
        cleanup.stop(
            f"training-job/{training_job}",
            sagemaker.describe_training_job,
            sagemaker.stop_training_job,
            TrainingJobName=training_job,
        )
    if tuning_job := (plan.get("tuningJob") or {}).get("HyperParameterTuningJobName"):
        cleanup.stop(
            f"tuning-job/{tuning_job}",
            sagemaker.describe_hyper_parameter_tuning_job,
            sagemaker.stop_hyper_parameter_tuning_job,
            HyperParameterTuningJobName=tuning_job,
        )
    if "model" not in plan:
        return cleanup
    endpoint_name = plan["endpoint"]["EndpointName"]
    try:
        endpoint = describe_endpoint(sagemaker, endpoint_name)
    except ClientError as exc:
        cleanup.left.append(f"endpoint/{endpoint_name} ({exc.response['Error'].get('Code', 'error')})")
        return cleanup
    if plan["deployMode"] == "CREATE" and endpoint is not None:
        if not cleanup.delete(f"endpoint/{endpoint_name}", sagemaker.delete_endpoint, EndpointName=endpoint_name):
            return cleanup  # its config and model are still in use
        endpoint = None
    if endpoint is not None and (
        endpoint.get("EndpointConfigName") == job_id or endpoint.get("EndpointStatus") in {"Updating", "Creating"}
    ):
        cleanup.left.append(f"endpoint-config/{job_id} and model/{job_id} (in use by endpoint {endpoint_name})")
        return cleanup
    cleanup.delete(f"endpoint-config/{job_id}", sagemaker.delete_endpoint_config, EndpointConfigName=job_id)
    cleanup.delete(f"model/{job_id}", sagemaker.delete_model, ModelName=job_id)
    return cleanup


def release_update(store: JobStore, job_id: str, plan: dict[str, Any]) -> None:
    """A failed in-place update gives the previous job's endpoint back (its reservation ends)."""
    if plan.get("deployMode") == "UPDATE" and plan.get("previousJobId"):
        store.release_endpoint(plan["previousJobId"], job_id)


def clean_up_abandoned(job: Mapping[str, Any], plan: Mapping[str, Any]) -> registry.Cleanup:
    """The safety net's cleanup for a model or HPO job whose execution ended outside its failure path."""
    cleanup = clean_up(aws.Clients().sagemaker, job["jobId"], dict(plan))
    release_update(JobStore(load(CommonSettings).jobs_table_name), job["jobId"], dict(plan))
    return cleanup
