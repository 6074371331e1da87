"""Eviction (logic/deployment.py): only this stack's endpoints, only READY jobs, each claimed before its
endpoint is deleted."""

from __future__ import annotations

import time

import boto3
import pytest

from sagestep_service.workflows.training import deployment
from tests.unit.conftest import Backend


def endpoint(backend: Backend, name: str, tags: list[dict[str, str]]) -> None:
    sagemaker = boto3.client("sagemaker")
    role = backend.environment["SAGEMAKER_ROLE_ARN"]
    sagemaker.create_model(
        ModelName=name, ExecutionRoleArn=role, PrimaryContainer={"Image": "i", "ModelDataUrl": "s3://b/m"}
    )
    variant = {"VariantName": "AllTraffic", "ModelName": name, "InitialInstanceCount": 1, "InstanceType": "ml.m5.large"}
    sagemaker.create_endpoint_config(EndpointConfigName=name, ProductionVariants=[variant])
    sagemaker.create_endpoint(EndpointName=name, EndpointConfigName=name, Tags=tags)
    time.sleep(0.01)  # distinct creation times: eviction goes oldest first


def job_with_endpoint(backend: Backend, status: str) -> str:
    body = {"dataUri": f"s3://{backend.data_bucket}/users/alice/housing/train.csv", "target": "price"}
    job_id = str(backend.call("POST", "/model", body=body).body["jobId"])
    stack = backend.environment["STACK_NAME"]
    tags = [
        {"Key": "sagestep:app", "Value": "sagestep"},
        {"Key": "sagestep:stack", "Value": stack},
        {"Key": "sagestep:job-id", "Value": job_id},
    ]
    endpoint(backend, job_id, tags)
    backend.store.update(job_id, status=status, resources={"endpointName": job_id, "endpointConfigName": job_id})
    return job_id


def test_eviction_takes_only_ready_sagestep_endpoints_oldest_first(backend: Backend) -> None:
    # Given: another application's endpoint, an old READY job, a job still deploying, and the new job
    endpoint(backend, "model-not-ours", [{"Key": "team", "Value": "other"}])
    old = job_with_endpoint(backend, "READY")
    deploying = job_with_endpoint(backend, "DEPLOYING_ENDPOINT")
    new = job_with_endpoint(backend, "DEPLOYING_ENDPOINT")
    sagemaker = boto3.client("sagemaker")
    # When the new job finishes deploying with room for one endpoint
    evicted = deployment.evict(backend.store, sagemaker, backend.environment["STACK_NAME"], new, max_endpoints=1)
    # Then only the READY job lost its endpoint (and config); the deploying one and the foreign one stay
    assert evicted == [old]
    remaining = {e["EndpointName"] for e in sagemaker.list_endpoints()["Endpoints"]}
    assert remaining == {"model-not-ours", deploying, new}
    assert old not in {c["EndpointConfigName"] for c in sagemaker.list_endpoint_configs()["EndpointConfigs"]}
    assert backend.store.get(old)["status"] == "ENDPOINT_DELETED"  # type: ignore[index]
    assert backend.store.get(deploying)["status"] == "DEPLOYING_ENDPOINT"  # type: ignore[index]


def test_a_second_concurrent_eviction_finds_nothing_left_to_claim(backend: Backend) -> None:
    old = job_with_endpoint(backend, "READY")
    new = job_with_endpoint(backend, "READY")
    sagemaker = boto3.client("sagemaker")
    stack = backend.environment["STACK_NAME"]
    assert deployment.evict(backend.store, sagemaker, stack, new, max_endpoints=1) == [old]
    assert deployment.evict(backend.store, sagemaker, stack, new, max_endpoints=1) == []


def _finish_update(backend: Backend, previous: str, job_id: str) -> dict[str, object]:
    from sagestep_service.workflows.training import handlers
    from tests.unit.conftest import LambdaContext

    event = {"jobId": job_id, "deployMode": "UPDATE", "endpointName": previous, "previousJobId": previous}
    return handlers.finish_deployment(event, LambdaContext())  # type: ignore[arg-type]


def test_an_update_is_handed_over_even_when_its_metrics_cannot_be_read(backend: Backend) -> None:
    # Given a READY job whose endpoint a new job updated in place, and a training job that cannot be described
    # (moto has none of that name: DescribeTrainingJob fails as it does when SageMaker is throttling)
    previous = job_with_endpoint(backend, "READY")
    body = {"dataUri": f"s3://{backend.data_bucket}/users/alice/housing/train.csv", "target": "price"}
    new = str(backend.call("POST", "/model", body=body).body["jobId"])
    backend.store.reserve_endpoint(previous, new, lease_seconds=600)
    # When FinishDeployment runs
    result = _finish_update(backend, previous, new)
    # Then the endpoint was handed over first: the old job is SUPERSEDED and released; the metrics are empty
    old = backend.store.get(previous)
    assert old is not None
    assert (old["status"], old["supersededBy"]) == ("SUPERSEDED", new)
    assert "updatingBy" not in old and "updatingUntil" not in old
    assert result == {"evicted": [], "supersededJobId": previous, "metrics": {}}


def test_a_failed_hand_over_fails_the_job(backend: Backend, monkeypatch: pytest.MonkeyPatch) -> None:
    # Given an in-place update whose hand-over write fails (e.g. throttled after its retries)
    previous = job_with_endpoint(backend, "READY")
    body = {"dataUri": f"s3://{backend.data_bucket}/users/alice/housing/train.csv", "target": "price"}
    new = str(backend.call("POST", "/model", body=body).body["jobId"])

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("throttled")

    monkeypatch.setattr(deployment, "hand_over", broken)
    # When FinishDeployment runs / Then it raises the error the state machine routes to its failure path
    with pytest.raises(deployment.HandOverFailed, match="could not be marked SUPERSEDED"):
        _finish_update(backend, previous, new)
