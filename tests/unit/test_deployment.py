"""Eviction and hand-over (workflows/training/deployment.py): only this stack's endpoints, only READY jobs, each
claimed before its endpoint is deleted; an evicted endpoint goes with its config and model, and a hand-over retires
the previous job's config and model once the endpoint serves the new ones."""

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
    assert {key: result[key] for key in ("evicted", "supersededJobId", "metrics")} == {
        "evicted": [],
        "supersededJobId": previous,
        "metrics": {},
    }


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


def names(kind: str) -> set[str]:
    sagemaker = boto3.client("sagemaker")
    if kind == "models":
        return {m["ModelName"] for m in sagemaker.list_models()["Models"]}
    return {c["EndpointConfigName"] for c in sagemaker.list_endpoint_configs()["EndpointConfigs"]}


def test_an_evicted_endpoint_goes_with_its_config_and_model(backend: Backend) -> None:
    # Given two READY jobs, each with its model, endpoint config and endpoint
    old = job_with_endpoint(backend, "READY")
    new = job_with_endpoint(backend, "READY")
    # When eviction keeps one endpoint
    evicted = deployment.evict(backend.store, boto3.client("sagemaker"), backend.environment["STACK_NAME"], new, 1)
    # Then the old endpoint's config and model are gone too, and the new job's stay
    assert evicted == [old]
    assert names("models") == names("configs") == {new}


def updated_in_place(backend: Backend, previous: str, *, serving: str) -> str:
    """A new job whose model and config exist, with ``previous``'s endpoint now InService on ``serving``'s config
    (moto has no UpdateEndpoint: the endpoint is recreated on that config under its name)."""
    body = {"dataUri": f"s3://{backend.data_bucket}/users/alice/housing/train.csv", "target": "price"}
    new = str(backend.call("POST", "/model", body=body).body["jobId"])
    sagemaker = boto3.client("sagemaker")
    role = backend.environment["SAGEMAKER_ROLE_ARN"]
    sagemaker.create_model(ModelName=new, ExecutionRoleArn=role, PrimaryContainer={"Image": "i"})
    variant = {"VariantName": "AllTraffic", "ModelName": new, "InitialInstanceCount": 1, "InstanceType": "ml.m5.large"}
    sagemaker.create_endpoint_config(EndpointConfigName=new, ProductionVariants=[variant])
    backend.store.update(new, resources={"modelName": new, "endpointConfigName": new, "endpointName": previous})
    backend.store.reserve_endpoint(previous, new, lease_seconds=600)
    config = new if serving == "new" else previous
    if config != previous:
        sagemaker.delete_endpoint(EndpointName=previous)
        sagemaker.create_endpoint(EndpointName=previous, EndpointConfigName=config)
    return new


def test_a_hand_over_retires_the_previous_jobs_config_and_model(backend: Backend) -> None:
    # Given a READY job whose endpoint a new job updated in place: the endpoint serves the new config
    previous = job_with_endpoint(backend, "READY")
    backend.store.update(previous, resources={"modelName": previous})
    new = updated_in_place(backend, previous, serving="new")
    # When FinishDeployment hands the endpoint over
    result = _finish_update(backend, previous, new)
    # Then the previous job's config and model are deleted; the endpoint's own stay
    assert result["retired"] == [f"endpoint-config/{previous}", f"model/{previous}"]
    assert result["notRetired"] == []
    assert names("models") == names("configs") == {new}
    assert boto3.client("sagemaker").describe_endpoint(EndpointName=previous)["EndpointConfigName"] == new
    assert backend.store.get(previous)["status"] == "SUPERSEDED"  # type: ignore[index]


def test_a_hand_over_keeps_a_config_the_endpoint_still_serves(backend: Backend) -> None:
    # Given an endpoint that (against expectation) still serves the previous job's config
    previous = job_with_endpoint(backend, "READY")
    new = updated_in_place(backend, previous, serving="previous")
    # When FinishDeployment hands the endpoint over
    result = _finish_update(backend, previous, new)
    # Then nothing the endpoint uses is deleted, and what was left is reported
    assert result["retired"] == []
    assert result["notRetired"] and previous in str(result["notRetired"])
    assert names("models") == names("configs") == {previous, new}


def test_a_model_both_configs_serve_is_kept(backend: Backend) -> None:
    # Given an update whose new config serves the previous job's model too (e.g. a shadow variant)
    previous = job_with_endpoint(backend, "READY")
    new = updated_in_place(backend, previous, serving="new")
    sagemaker = boto3.client("sagemaker")
    sagemaker.delete_endpoint(EndpointName=previous)
    sagemaker.delete_endpoint_config(EndpointConfigName=new)
    variants = [
        {"VariantName": name, "ModelName": model, "InitialInstanceCount": 1, "InstanceType": "ml.m5.large"}
        for name, model in (("AllTraffic", new), ("Old", previous))
    ]
    sagemaker.create_endpoint_config(EndpointConfigName=new, ProductionVariants=variants)
    sagemaker.create_endpoint(EndpointName=previous, EndpointConfigName=new)
    # When FinishDeployment hands the endpoint over / Then only the previous config goes
    result = _finish_update(backend, previous, new)
    assert result["retired"] == [f"endpoint-config/{previous}"]
    assert names("models") == {previous, new}
