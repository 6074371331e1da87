"""After an endpoint is InService: evict old endpoints (new endpoint) or hand the endpoint over from the previous
job (in-place update), then record the metrics. An evicted endpoint goes with its endpoint config and model; a
hand-over retires the previous job's endpoint config and model once the endpoint serves the new ones."""

from __future__ import annotations

import logging
from typing import Any

from botocore.exceptions import ClientError

from sagestep_service.platform.jobs import JobStore
from sagestep_service.platform.registry import Cleanup
from sagestep_service.workflows.training.models import TrainingKind, TrainingStatus
from sagestep_service.workflows.training.sagemaker_resources import (
    config_models,
    delete_quietly,
    describe_endpoint,
    is_missing,
    retire_endpoint_config,
    tag_map,
)

LOG = logging.getLogger(__name__)
ENDPOINT_PREFIX = f"{TrainingKind.MODEL.value}-"


class HandOverFailed(Exception):
    """An in-place update reached its endpoint but the previous job could not be marked SUPERSEDED."""


def record_metrics(store: JobStore, sagemaker: Any, job_id: str) -> dict[str, float]:
    """Store the training job's final metrics on the job and return them; {} when they cannot be read or
    stored (metrics are informative: their failure never undoes a deployment)."""
    try:
        metrics = final_metrics(sagemaker, job_id)
        store.update(job_id, set_fields={"metrics": metrics})
    except Exception:
        LOG.warning("final metrics of %s not recorded", job_id, exc_info=True)
        return {}
    return metrics


def final_metrics(sagemaker: Any, training_job_name: str) -> dict[str, float]:
    """The training job's ``FinalMetricDataList`` as name -> value; empty when the container printed no line
    the metric definitions match (a bring-your-own container may print none)."""
    described = sagemaker.describe_training_job(TrainingJobName=training_job_name)
    return {
        m["MetricName"]: float(m["Value"])
        for m in described.get("FinalMetricDataList", [])
        if "MetricName" in m and "Value" in m
    }


def sagestep_endpoints(sagemaker: Any, stack_name: str) -> list[dict[str, Any]]:
    """InService endpoints that this sagestep stack created (tags), newest first — never anyone else's."""
    owned: list[dict[str, Any]] = []
    kwargs: dict[str, Any] = {
        "StatusEquals": "InService",
        "NameContains": ENDPOINT_PREFIX,
        "MaxResults": 100,
    }
    while True:
        page = sagemaker.list_endpoints(**kwargs)
        for endpoint in page.get("Endpoints", []):
            if not endpoint["EndpointName"].startswith(ENDPOINT_PREFIX):
                continue  # NameContains matches anywhere; sagestep's names start with the prefix
            try:
                tags = tag_map(sagemaker, endpoint["EndpointArn"])
            except ClientError as exc:
                if is_missing(exc) or exc.response["Error"]["Code"] == "AccessDeniedException":
                    continue  # deleted since the listing, or not ours to read
                raise
            if tags.get("sagestep:app") == "sagestep" and tags.get("sagestep:stack") == stack_name:
                owned.append({**endpoint, "jobId": tags.get("sagestep:job-id")})
        if not page.get("NextToken"):
            break
        kwargs["NextToken"] = page["NextToken"]
    # An endpoint updated in place keeps its creation time: its last change says how recent its model is.
    owned.sort(key=lambda e: e.get("LastModifiedTime") or e["CreationTime"], reverse=True)
    return owned


def current_owner(store: JobStore, job_id: str | None) -> dict[str, Any] | None:
    """The job that serves an endpoint now: its creator, or whoever took it over by in-place updates."""
    record = store.get(job_id) if job_id else None
    # Follow the hand-overs whatever the old job's status now is (a superseded job may have been deleted).
    while record and record.get("supersededBy"):
        record = store.get(record["supersededBy"])
    return record


def evict(store: JobStore, sagemaker: Any, stack_name: str, keep_endpoint: str, max_endpoints: int) -> list[str]:
    """Delete the oldest of this stack's endpoints beyond ``max_endpoints`` (``keep_endpoint`` always
    stays), each with its endpoint config and model(s), and mark their jobs ENDPOINT_DELETED. Returns the evicted
    endpoint names.

    Only endpoints of READY jobs are evicted, and each job is claimed (READY -> ENDPOINT_DELETED, a
    conditional write) before its endpoint is deleted: of concurrent evictions only one deletes an endpoint,
    and a job still deploying never loses its endpoint.
    """
    endpoints = sagestep_endpoints(sagemaker, stack_name)
    keep = [e for e in endpoints if e["EndpointName"] == keep_endpoint]
    others = [e for e in endpoints if e["EndpointName"] != keep_endpoint]
    surplus = others[max(0, max_endpoints - len(keep)) :]
    evicted: list[str] = []
    for endpoint in surplus:
        name = endpoint["EndpointName"]
        owner = current_owner(store, endpoint.get("jobId"))
        if not owner or owner.get("resources", {}).get("endpointName") != name or not _claim(store, owner["jobId"]):
            LOG.info("endpoint %s is not evictable now (its job is not READY)", name)
            continue
        try:
            described = describe_endpoint(sagemaker, name)
            delete_quietly(sagemaker.delete_endpoint, EndpointName=name)
        except ClientError:
            _release(store, owner["jobId"])  # the endpoint is still there: the job still serves it
            raise
        config = (described or {}).get("EndpointConfigName") or owner.get("resources", {}).get("endpointConfigName")
        if config:
            model = owner.get("resources", {}).get("modelName")
            cleanup = retire_endpoint_config(sagemaker, config, fallback_models=[model] if model else [])
            if cleanup.left:
                LOG.warning("endpoint %s evicted; not deleted: %s", name, "; ".join(cleanup.left))
        evicted.append(name)
    return evicted


def _release(store: JobStore, job_id: str) -> None:
    """Undo a claim whose endpoint could not be deleted."""
    try:
        store.update(job_id, status=TrainingStatus.READY.value, expected_status=TrainingStatus.ENDPOINT_DELETED.value)
    except ClientError as exc:
        if exc.response["Error"]["Code"] != "ConditionalCheckFailedException":
            raise


def _claim(store: JobStore, job_id: str) -> bool:
    """Mark a READY job ENDPOINT_DELETED; False if it is not READY (deploying, or claimed by another)."""
    try:
        store.update(
            job_id,
            status=TrainingStatus.ENDPOINT_DELETED.value,
            expected_status=TrainingStatus.READY.value,
            require_unreserved=True,  # an endpoint being updated in place is not evicted
        )
        return True
    except ClientError as exc:
        if exc.response["Error"]["Code"] != "ConditionalCheckFailedException":
            raise
        return False


def retire_previous(store: JobStore, sagemaker: Any, previous_job_id: str, endpoint_name: str) -> Cleanup:
    """After a hand-over: delete the previous job's endpoint config and model, once the endpoint is InService on
    another config (a blue/green update is complete then); the models the endpoint serves now stay. Never raises:
    the hand-over is done, and what could not be deleted is reported in ``left``."""
    try:
        previous = store.get(previous_job_id) or {}
        resources = previous.get("resources", {})
        config = resources.get("endpointConfigName") or previous_job_id
        endpoint = describe_endpoint(sagemaker, endpoint_name)
        current = (endpoint or {}).get("EndpointConfigName")
        if endpoint is None or endpoint.get("EndpointStatus") != "InService" or current in {None, config}:
            state = (endpoint or {}).get("EndpointStatus", "missing")
            return Cleanup(left=[f"endpoint-config/{config} (endpoint {endpoint_name} is {state} on {current})"])
        in_use = config_models(sagemaker, current) or []
        model = resources.get("modelName")
        return retire_endpoint_config(sagemaker, config, fallback_models=[model] if model else [], keep_models=in_use)
    except Exception as exc:
        LOG.warning("resources of %s not retired", previous_job_id, exc_info=True)
        return Cleanup(left=[f"resources of {previous_job_id} ({type(exc).__name__})"])


def hand_over(store: JobStore, previous_job_id: str, new_job_id: str) -> None:
    """The previous job's endpoint now serves the new job's model: mark the previous job SUPERSEDED."""
    try:
        store.update(
            previous_job_id,
            status=TrainingStatus.SUPERSEDED.value,
            set_fields={"supersededBy": new_job_id},
            remove_fields=("updatingBy", "updatingUntil"),
            expected_status=TrainingStatus.READY.value,
        )
    except ClientError as exc:
        if exc.response["Error"]["Code"] != "ConditionalCheckFailedException":
            raise
        LOG.warning("previous job %s was no longer READY at hand-over to %s", previous_job_id, new_job_id)
