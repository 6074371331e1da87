"""Hierarchical delete of a model job: endpoint, endpoint config, model, then the record."""

from __future__ import annotations

from typing import Any

from sagestep_service.dal.jobs import JobStore
from sagestep_service.errors import Conflict
from sagestep_service.logic.sagemaker_resources import delete_quietly
from sagestep_service.models.jobs import JobStatus, JobView


def owns_endpoint(record: dict[str, Any]) -> bool:
    """Whether the job's endpoint is its own to delete: a READY job serves it; a failed job only owns an
    endpoint it created itself (a failed in-place update leaves the endpoint with its previous owner)."""
    endpoint = record.get("resources", {}).get("endpointName")
    if not endpoint:
        return False
    status = JobStatus(record["status"])
    return status == JobStatus.READY or (status == JobStatus.ERROR and endpoint == record["jobId"])


def delete_model_job(store: JobStore, sagemaker: Any, record: dict[str, Any]) -> JobView:
    """Delete what the job created and mark it DELETED; refuse while its workflow runs."""
    status = JobStatus(record["status"])
    if status.running:
        raise Conflict(f"job {record['jobId']!r} is still running (status {status}); delete it when it has ended")
    if status == JobStatus.DELETED:
        return JobView.model_validate(record)
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
    store.update(record["jobId"], status=JobStatus.DELETED.value, set_fields={"deletedResources": deleted})
    updated = store.get(record["jobId"])
    assert updated is not None
    return JobView.model_validate(updated)
