"""When a training workflow fails: explain the error in words a user acts on, and remove what the failed
run created that nothing uses (a model or endpoint config left without an endpoint, a failed endpoint)."""

from __future__ import annotations

import json
from typing import Any

from sagestep_service.logic.sagemaker_resources import delete_quietly, describe_endpoint

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


def clean_up(sagemaker: Any, job_id: str, plan: dict[str, Any]) -> list[str]:
    """Delete the failed run's own endpoint (when it created one), then its endpoint config and model if
    no endpoint uses them. Never touches another job's endpoint. Returns what was deleted."""
    deleted: list[str] = []
    if "model" not in plan:
        return deleted
    endpoint_name = plan["endpoint"]["EndpointName"]
    endpoint = describe_endpoint(sagemaker, endpoint_name)
    if plan["deployMode"] == "CREATE" and endpoint is not None:
        if delete_quietly(sagemaker.delete_endpoint, EndpointName=endpoint_name):
            deleted.append(f"endpoint/{endpoint_name}")
        endpoint = None
    in_use = endpoint is not None and (
        endpoint.get("EndpointConfigName") == job_id or endpoint.get("EndpointStatus") in {"Updating", "Creating"}
    )
    if in_use:
        return deleted
    if delete_quietly(sagemaker.delete_endpoint_config, EndpointConfigName=job_id):
        deleted.append(f"endpoint-config/{job_id}")
    if delete_quietly(sagemaker.delete_model, ModelName=job_id):
        deleted.append(f"model/{job_id}")
    return deleted
