"""What a cold start of the API function loads (bench/api_cold_start.py measures how long it takes).

Each case runs a fresh interpreter, as Lambda does, and reads its ``sys.modules``: with tracing disabled the X-Ray
SDK is never imported, with tracing on (as deployed) Powertools' Tracer traces boto3 only, and a request to one
route imports its own logic and none of another route's.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]
TABLE = "jobs"
#: The logic modules of the training routes (``workflows/training/routes.py`` imports each when a route calls it).
TRAINING_LOGIC = {
    "queries": "sagestep_service.platform.queries",
    "submission": "sagestep_service.workflows.training.submission",
    "plans": "sagestep_service.workflows.training.plans",
    "datasets": "sagestep_service.workflows.training.datasets",
    "deletion": "sagestep_service.workflows.training.deletion",
    "inference": "sagestep_service.workflows.training.inference",
}

REPORT = """
import json, sys
patcher = sys.modules.get("aws_xray_sdk.core.patcher")
print(json.dumps({
    "modules": sorted(sys.modules),
    "tracer": type(sys.modules["sagestep_service.platform.observability"].tracer).__name__,
    "patched": sorted(patcher._PATCHED_MODULES) if patcher else [],
}))
"""

REQUEST = """
import json, os, sys
from moto import mock_aws

class Context:
    function_name = "Api"
    memory_limit_in_mb = 256
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:Api"
    aws_request_id = "req"
    @staticmethod
    def get_remaining_time_in_millis():
        return 29000

with mock_aws():
    import boto3
    key = lambda name, kind: {"AttributeName": name, "KeyType": kind}
    boto3.client("dynamodb").create_table(
        TableName=os.environ["JOBS_TABLE_NAME"],
        BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[
            {"AttributeName": name, "AttributeType": "S"} for name in ("jobId", "ownerKind", "createdAt")
        ],
        KeySchema=[key("jobId", "HASH")],
        GlobalSecondaryIndexes=[{
            "IndexName": "byOwnerKind",
            "KeySchema": [key("ownerKind", "HASH"), key("createdAt", "RANGE")],
            "Projection": {"ProjectionType": "ALL"},
        }],
    )
    from sagestep_service.platform.api import handler
    response = handler(json.loads(sys.argv[1]), Context())
    assert response["statusCode"] in (200, 201), response
"""


def environment(**overrides: str | None) -> dict[str, str]:
    """The API function's environment (names of docs/architecture.md) with fake values, then ``overrides``
    (``None`` removes a variable)."""
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(str(REPO / folder) for folder in (".", "lambdas")),
        "JOBS_TABLE_NAME": TABLE,
        "STACK_NAME": "sagestep",
        "DATA_BUCKET": "data",
        "TRAINING_STATE_MACHINE_ARN": "arn:aws:states:us-east-1:123456789012:stateMachine:sagestep-training",
        "ARTIFACT_BUCKET": "artifacts",
        "SAGEMAKER_ROLE_ARN": "arn:aws:iam::123456789012:role/sagemaker",
        "TRAINING_IMAGE_URI": "sagestep-local/training:latest",
        "POWERTOOLS_SERVICE_NAME": "sagestep",
    }
    env.pop("AWS_ENDPOINT_URL", None)
    for name, value in overrides.items():
        if value is None:
            env.pop(name, None)
        else:
            env[name] = value
    return env


def fresh_interpreter(code: str, env: dict[str, str], *arguments: str) -> dict[str, Any]:
    """Run ``code`` then ``REPORT`` in a new interpreter; what ``REPORT`` printed."""
    result = subprocess.run(
        [sys.executable, "-c", code + REPORT, *arguments],
        env=env,
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    report: dict[str, Any] = json.loads(result.stdout.splitlines()[-1])
    return report


def event(method: str, path: str, body: dict[str, Any] | None = None) -> str:
    """An API Gateway proxy event after the Cognito authorizer."""
    return json.dumps(
        {
            "resource": path,
            "path": path,
            "httpMethod": method,
            "headers": {"Content-Type": "application/json"},
            "multiValueHeaders": {},
            "queryStringParameters": None,
            "multiValueQueryStringParameters": None,
            "pathParameters": None,
            "body": json.dumps(body) if body is not None else None,
            "isBase64Encoded": False,
            "requestContext": {
                "requestId": str(uuid.uuid4()),
                "stage": "v1",
                "httpMethod": method,
                "resourcePath": path,
                "path": f"/v1{path}",
                "authorizer": {"claims": {"sub": "alice", "cognito:username": "alice"}},
                "identity": {"sourceIp": "127.0.0.1"},
            },
        }
    )


def test_with_tracing_disabled_the_xray_sdk_is_never_imported() -> None:
    # Given tracing disabled (the local runtime, the tests) / When the API function's module is imported
    report = fresh_interpreter(
        "import sagestep_service.platform.api", environment(POWERTOOLS_TRACE_DISABLED="true", LAMBDA_TASK_ROOT=None)
    )
    # Then no tracer exists and nothing of the X-Ray SDK was imported
    assert report["tracer"] == "Untraced"
    assert not [name for name in report["modules"] if name.split(".")[0] == "aws_xray_sdk"]


def test_with_tracing_on_as_deployed_the_tracer_traces_boto3() -> None:
    # Given the environment of a deployed function (active tracing, no POWERTOOLS_TRACE_DISABLED)
    env = environment(POWERTOOLS_TRACE_DISABLED=None, LAMBDA_TASK_ROOT=str(REPO / "lambdas"))
    # When the API function's module is imported
    report = fresh_interpreter("import sagestep_service.platform.api", env)
    # Then Powertools' Tracer exists and patched botocore, through which every call of the functions goes, only
    assert report["tracer"] == "Tracer"
    assert report["patched"] == ["botocore"]


@pytest.mark.parametrize(
    ("method", "path", "body", "loaded", "not_loaded"),
    [
        ("GET", "/model", None, {"queries"}, {"submission", "plans", "datasets", "deletion", "inference"}),
        ("POST", "/uploads", {"path": "housing/train.csv"}, set(), set(TRAINING_LOGIC)),
    ],
)
def test_a_request_imports_its_routes_logic_only(
    method: str, path: str, body: dict[str, Any] | None, loaded: set[str], not_loaded: set[str]
) -> None:
    # Given a fresh API function / When it serves one request
    report = fresh_interpreter(
        REQUEST, environment(POWERTOOLS_TRACE_DISABLED="true", LAMBDA_TASK_ROOT=None), event(method, path, body)
    )
    # Then it imported the logic of that route and none of the other routes'
    modules = set(report["modules"])
    assert {name for name in loaded if TRAINING_LOGIC[name] in modules} == loaded
    assert {name for name in not_loaded if TRAINING_LOGIC[name] in modules} == set()
