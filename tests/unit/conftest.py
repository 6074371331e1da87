"""A moto backend provisioned from the synthesized stack, and a way to call the API handler as API Gateway
does (proxy event with the Cognito authorizer's claims)."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import boto3
import pytest
from moto import mock_aws

from sagestep.local import atomicity
from sagestep.local.cloudformation import CloudAssembly, FunctionSpec, ProvisionedStack, provision
from sagestep.local.patching import Patcher
from sagestep_service.platform import aws, settings
from sagestep_service.platform.jobs import JobStore

API_HANDLER = "sagestep_service.platform.api.handler"
SAMPLE_CSV = b"rooms,area,age,price\n3,80,10,250\n4,120,5,400\n2,50,30,150\n"


@dataclass
class ApiResponse:
    status: int
    body: Any
    headers: dict[str, str] = field(default_factory=dict)


class LambdaContext:
    function_name = "Api"
    memory_limit_in_mb = 256
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:Api"
    aws_request_id = "req"

    @staticmethod
    def get_remaining_time_in_millis() -> int:
        return 29_000


class Backend:
    """The provisioned stack in moto plus helpers to act as API Gateway and to inspect what happened."""

    def __init__(self, stack: ProvisionedStack, function: FunctionSpec) -> None:
        self.stack = stack
        self.environment = function.environment
        self.data_bucket = function.environment["DATA_BUCKET"]
        self.state_machine_arn = function.environment["TRAINING_STATE_MACHINE_ARN"]
        self.store = JobStore(function.environment["JOBS_TABLE_NAME"])
        self._sfn = boto3.client("stepfunctions")
        self._sagemaker = boto3.client("sagemaker")

    def call(
        self,
        method: str,
        path: str,
        *,
        body: Any = None,
        raw_body: str | None = None,
        query: dict[str, str] | None = None,
        headers: dict[str, str] | None = None,
        owner: str | None = "alice",
    ) -> ApiResponse:
        """Call the handler as API Gateway does; ``body`` is sent as JSON, ``raw_body`` as it is."""
        from sagestep_service.platform.api import handler

        authorizer = {"claims": {"sub": owner, "cognito:username": owner}} if owner else {}
        event = {
            "resource": path,
            "path": path,
            "httpMethod": method,
            "headers": {"Content-Type": "application/json", **(headers or {})},
            "multiValueHeaders": {},
            "queryStringParameters": query,
            "multiValueQueryStringParameters": {k: [v] for k, v in (query or {}).items()} or None,
            "pathParameters": None,
            "body": raw_body if raw_body is not None else json.dumps(body) if body is not None else None,
            "isBase64Encoded": False,
            "requestContext": {
                "requestId": str(uuid.uuid4()),
                "stage": "v1",
                "httpMethod": method,
                "resourcePath": path,
                "path": f"/v1{path}",
                "authorizer": authorizer,
                "identity": {"sourceIp": "127.0.0.1"},
            },
        }
        result = handler(event, LambdaContext())
        headers_out = {k: v for k, v in (result.get("headers") or {}).items()}
        for name, values in (result.get("multiValueHeaders") or {}).items():
            headers_out[name] = values[0]
        return ApiResponse(
            result["statusCode"], json.loads(result["body"]) if result.get("body") else None, headers_out
        )

    def executions(self) -> list[dict[str, Any]]:
        return list(self._sfn.list_executions(stateMachineArn=self.state_machine_arn)["executions"])

    def execution_input(self, name: str) -> str:
        arn = self.state_machine_arn.replace(":stateMachine:", ":execution:") + f":{name}"
        return str(self._sfn.describe_execution(executionArn=arn)["input"])

    def execution_plan(self, name: str) -> dict[str, Any]:
        """The plan the API passed to the job's execution."""
        return dict(json.loads(self.execution_input(name))["plan"])

    def break_state_machine(self) -> None:
        """Make StartExecution fail, as if the state machine were gone."""
        self._sfn.delete_state_machine(stateMachineArn=self.state_machine_arn)

    def deploy_fake_endpoint(self, job_id: str) -> None:
        """Mark a job READY with a model, endpoint config and endpoint that moto reports InService."""
        role = self.environment["SAGEMAKER_ROLE_ARN"]
        self._sagemaker.create_model(
            ModelName=job_id, ExecutionRoleArn=role, PrimaryContainer={"Image": "img", "ModelDataUrl": "s3://b/m"}
        )
        self._sagemaker.create_endpoint_config(
            EndpointConfigName=job_id,
            ProductionVariants=[
                {
                    "VariantName": "AllTraffic",
                    "ModelName": job_id,
                    "InitialInstanceCount": 1,
                    "InstanceType": "ml.m5.large",
                }
            ],
        )
        self._sagemaker.create_endpoint(EndpointName=job_id, EndpointConfigName=job_id)
        self.store.update(
            job_id,
            status="READY",
            resources={"modelName": job_id, "endpointConfigName": job_id, "endpointName": job_id},
        )

    def sagemaker_names(self) -> dict[str, list[str]]:
        return {
            "endpoints": [e["EndpointName"] for e in self._sagemaker.list_endpoints()["Endpoints"]],
            "configs": [c["EndpointConfigName"] for c in self._sagemaker.list_endpoint_configs()["EndpointConfigs"]],
            "models": [m["ModelName"] for m in self._sagemaker.list_models()["Models"]],
        }


@pytest.fixture
def backend(stack_assembly: CloudAssembly, monkeypatch: pytest.MonkeyPatch) -> Iterator[Backend]:
    """Given the real stack provisioned into moto, with the API function's environment and sample data."""
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    patcher = Patcher()
    atomicity.install(patcher)  # conditional writes and StartExecution are atomic on AWS
    try:
        with mock_aws():
            stack = provision(
                stack_assembly.template,
                client_factory=lambda name: boto3.client(name, region_name="us-east-1"),
                stack_name=stack_assembly.stack_name,
                asset_dir=stack_assembly.directory,
            )
            api = next(f for f in stack.functions.values() if f.handler == API_HANDLER)
            for name, value in api.environment.items():
                monkeypatch.setenv(name, str(value))
            settings.load.cache_clear()
            aws.reset()
            data = api.environment["DATA_BUCKET"]
            for owner in ("alice", "bob"):  # each user's data is in their own prefix
                boto3.client("s3").put_object(Bucket=data, Key=f"users/{owner}/housing/train.csv", Body=SAMPLE_CSV)
            yield Backend(stack, api)
    finally:
        patcher.restore()
        settings.load.cache_clear()
        aws.reset()
