"""Endpoint eviction in statemachines/training.asl.json, with the stack deployed for one endpoint at most."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from sagestep.local.runtime import LocalRuntime
from tests.statemachines.harness import FAST, Harness


@pytest.fixture(scope="module")
def harness() -> Iterator[Harness]:
    with LocalRuntime(port=0, context={"maxEndpoints": 1}, sync_poll_interval=0.1) as runtime:
        yield Harness(runtime)


def test_only_sagesteps_oldest_endpoint_is_evicted_after_the_new_one_is_in_service(harness: Harness) -> None:
    # Given an endpoint of another application and a READY sagestep model
    sagemaker = harness.sagemaker
    first = harness.run("/model", {**harness.regression, "hyperparameters": FAST})
    role = sagemaker.describe_model(ModelName=first.job_id)["ExecutionRoleArn"]
    artifact = first.record["resources"]["modelArtifactUri"]
    sagemaker.create_model(
        ModelName="model-other-app",
        ExecutionRoleArn=role,
        PrimaryContainer={"Image": "sagestep-local/training:latest", "ModelDataUrl": artifact},
    )
    variant = {"VariantName": "AllTraffic", "ModelName": "model-other-app", "InitialInstanceCount": 1}
    sagemaker.create_endpoint_config(
        EndpointConfigName="model-other-app", ProductionVariants=[{**variant, "InstanceType": "ml.m5.large"}]
    )
    sagemaker.create_endpoint(EndpointName="model-other-app", EndpointConfigName="model-other-app")
    harness.runtime.wait_idle(60)
    # When a second model is deployed with a maximum of one endpoint
    second = harness.run("/model", {**harness.regression, "hyperparameters": FAST})
    # Then the first sagestep endpoint was evicted after the second was InService, its job marked
    # ENDPOINT_DELETED, and the untagged endpoint of the other application was left alone
    assert second.entered.index("FinishDeployment") > second.entered.index("WaitForEndpoint")
    endpoints = harness.endpoints()
    assert endpoints.get(second.job_id) == "InService"
    assert first.job_id not in endpoints
    assert "model-other-app" in endpoints
    evicted = harness.job("model", first.job_id)
    assert evicted["status"] == "ENDPOINT_DELETED"
    assert evicted["history"][-1]["status"] == "ENDPOINT_DELETED"
    assert harness.job("model", second.job_id)["status"] == "READY"
