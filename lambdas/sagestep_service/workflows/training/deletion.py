"""Hierarchical delete of a model job: endpoint, endpoint config, model, then the record."""

from __future__ import annotations

import time
from typing import Any

from botocore.exceptions import ClientError

from sagestep_service.platform.errors import Conflict
from sagestep_service.platform.jobs import JobStore
from sagestep_service.workflows.training.models import TrainingJobView, TrainingStatus
from sagestep_service.workflows.training.sagemaker_resources import delete_quietly


def owns_endpoint(record: dict[str, Any]) -> bool:
    """Whether the job's endpoint is its own to delete: a READY job serves it; a job that failed (or whose
    workflow stopped) only owns an endpoint it created itself (a failed in-place update leaves the endpoint
    with its previous owner); a superseded or evicted job owns none."""
    endpoint = record.get("resources", {}).get("endpointName")
    status = TrainingStatus(record["status"])
    if not endpoint or status in {TrainingStatus.SUPERSEDED, TrainingStatus.ENDPOINT_DELETED, TrainingStatus.DELETED}:
        return False
    return status == TrainingStatus.READY or endpoint == record["jobId"]


def workflow_running(sfn: Any, state_machine_arn: str, job_id: str) -> bool:
    """Whether the job's execution is still running (a record can claim a running status after its
    execution was stopped by hand, or when the submission died before the start)."""
    arn = state_machine_arn.replace(":stateMachine:", ":execution:") + f":{job_id}"
    try:
        return bool(sfn.describe_execution(executionArn=arn)["status"] == "RUNNING")
    except ClientError as exc:
        if exc.response["Error"]["Code"] == "ExecutionDoesNotExist":
            return False
        raise


def delete_model_job(
    store: JobStore, sagemaker: Any, sfn: Any, state_machine_arn: str, record: dict[str, Any]
) -> TrainingJobView:
    """Delete what the job created and mark it DELETED; refuse while its workflow runs."""
    status = TrainingStatus(record["status"])
    if status.running and workflow_running(sfn, state_machine_arn, record["jobId"]):
        raise Conflict(f"job {record['jobId']!r} is still running (status {status}); delete it when it has ended")
    if status == TrainingStatus.DELETED:
        return TrainingJobView.model_validate(record)
    # A reservation without a lease (written before leases existed) counts as live, as in the store's conditions.
    if record.get("updatingBy") and int(record.get("updatingUntil") or 2**62) > time.time():
        raise Conflict(
            f"job {record['jobId']!r} has an in-place update running (job {record['updatingBy']!r}); "
            "delete it when that has ended"
        )
    resources = record.get("resources", {})
    deleted: list[str] = []
    if owns_endpoint(record) and delete_quietly(sagemaker.delete_endpoint, EndpointName=resources["endpointName"]):
        deleted.append(f"endpoint/{resources['endpointName']}")
    if resources.get("endpointConfigName") and delete_quietly(
        sagemaker.delete_endpoint_config, EndpointConfigName=resources["endpointConfigName"]
    ):
        deleted.append(f"endpoint-config/{resources['endpointConfigName']}")
    if resources.get("modelName") and delete_quietly(sagemaker.delete_model, ModelName=resources["modelName"]):
        deleted.append(f"model/{resources['modelName']}")
    store.update(record["jobId"], status=TrainingStatus.DELETED.value, set_fields={"deletedResources": deleted})
    updated = store.get(record["jobId"])
    assert updated is not None
    return TrainingJobView.model_validate(updated)
