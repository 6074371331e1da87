"""The committed OpenAPI document is the one the code generates (`make openapi` refreshes it), documents every
status each route answers, and names the deployed base path."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

import pytest
from botocore.exceptions import ClientError

from sagestep import openapi
from sagestep.local.cloudformation import CloudAssembly
from sagestep_service.platform.jobs import JobStore
from stacks.platform import constants
from stacks.workflows import WORKFLOWS
from tests.unit.conftest import Backend

COMMITTED = Path(__file__).resolve().parents[2] / "docs" / "openapi.json"
GATEWAY_AND_AWS = {"401", "429", "502", "503"}  # API Gateway's authorizer and throttling, AWS trouble behind
BODY = {"400", "415"}
#: What each route answers (README "The API").
STATUSES = {
    ("/model", "post"): {"202", "200", "404", "409"} | BODY | GATEWAY_AND_AWS,
    ("/hpo", "post"): {"202", "200", "409"} | BODY | GATEWAY_AND_AWS,
    ("/model", "get"): {"200", "400"} | GATEWAY_AND_AWS,
    ("/hpo", "get"): {"200", "400"} | GATEWAY_AND_AWS,
    ("/model/{jobId}", "get"): {"200", "404"} | GATEWAY_AND_AWS,
    ("/hpo/{jobId}", "get"): {"200", "404"} | GATEWAY_AND_AWS,
    ("/model/{jobId}", "delete"): {"200", "404", "409"} | GATEWAY_AND_AWS,
    ("/infer", "post"): {"200", "404", "409"} | BODY | GATEWAY_AND_AWS,
    ("/uploads", "post"): {"201"} | BODY | GATEWAY_AND_AWS,
    ("/batch/create", "post"): {"202", "200", "409"} | BODY | GATEWAY_AND_AWS,
    ("/batch/show", "get"): {"200", "400", "404"} | GATEWAY_AND_AWS,
    ("/batch/{batchId}/stop", "post"): {"202", "404", "409"} | GATEWAY_AND_AWS,
    ("/batch/{batchId}/report", "get"): {"200", "404", "409"} | GATEWAY_AND_AWS,
    ("/translation", "post"): {"202", "200", "409"} | BODY | GATEWAY_AND_AWS,
    ("/translation", "get"): {"200", "400"} | GATEWAY_AND_AWS,
    ("/translation/{jobId}", "get"): {"200", "404"} | GATEWAY_AND_AWS,
    ("/translation/{jobId}/files", "get"): {"200", "400", "404"} | GATEWAY_AND_AWS,
    ("/translation/{jobId}", "delete"): {"202", "404", "409"} | GATEWAY_AND_AWS,
    ("/documents", "post"): {"202", "200", "409"} | BODY | GATEWAY_AND_AWS,
    ("/documents", "get"): {"200", "400"} | GATEWAY_AND_AWS,
    ("/documents/{jobId}", "get"): {"200", "404"} | GATEWAY_AND_AWS,
    ("/documents/{jobId}/paragraphs", "get"): {"200", "400", "404"} | GATEWAY_AND_AWS,
    ("/documents/{jobId}/documents", "get"): {"200", "400", "404"} | GATEWAY_AND_AWS,
}
ERROR_SCHEMA = {"$ref": "#/components/schemas/ErrorResponse"}


def schema(response: dict[str, object]) -> object:
    return response.get("content", {}).get("application/json", {}).get("schema")  # type: ignore[attr-defined]


def test_committed_document_is_current() -> None:
    assert COMMITTED.read_text() == openapi.render(), "run `make openapi` and commit docs/openapi.json"


def test_every_route_documents_its_statuses_and_security() -> None:
    document = openapi.build()
    assert document["security"] == [{"cognito": []}]
    operations = {(path, method): op for path, item in document["paths"].items() for method, op in item.items()}
    # Exactly the routes API Gateway serves (the platform's and every workflow's)
    deployed = [*constants.PLATFORM_ROUTES, *(route for workflow in WORKFLOWS for route in workflow.ROUTES)]
    assert set(operations) == {(path, method.lower()) for method, path in deployed} == set(STATUSES)
    for key, operation in operations.items():
        responses = operation["responses"]
        # Then each answers exactly its statuses, every error with the one error body
        assert set(responses) == STATUSES[key], key
        for status, response in responses.items():
            assert (schema(response) == ERROR_SCHEMA) is (int(status) >= 400), (key, status)
    view = {"$ref": "#/components/schemas/TrainingJobView"}
    for path in ("/model", "/hpo"):
        submission = operations[(path, "post")]["responses"]
        assert schema(submission["202"]) == schema(submission["200"]) == view
        assert "Location" in submission["202"]["headers"]
        assert "Idempotent-Replayed" in submission["200"]["headers"]
    assert "field" in document["components"]["schemas"]["ErrorResponse"]["properties"]


def test_the_servers_base_path_is_the_deployed_stage(stack_assembly: CloudAssembly) -> None:
    # Given the stage the stack deploys the API to
    stages = [
        resource["Properties"]["StageName"]
        for resource in stack_assembly.template["Resources"].values()
        if resource["Type"] == "AWS::ApiGateway::Stage"
    ]
    assert len(stages) == 1
    # Then every server of the document has that base path
    servers = openapi.build()["servers"]
    assert servers
    assert {urlsplit(server["url"]).path for server in servers} == {f"/{stages[0]}"}


def test_the_statuses_the_api_answers_are_documented(backend: Backend, monkeypatch: pytest.MonkeyPatch) -> None:
    # Given calls that make each route answer its statuses
    data = f"s3://{backend.data_bucket}/users/alice/housing/train.csv"
    train = {"dataUri": data, "target": "price"}
    missing = "model-20260101-000000-00000000"
    seen: set[tuple[str, str, str]] = set()

    def call(method: str, path: str, template: str | None = None, **kwargs: object) -> None:
        response = backend.call(method, path, **kwargs)  # type: ignore[arg-type]
        seen.add((template or path, method.lower(), str(response.status)))

    key = {"Idempotency-Key": "k"}
    call("POST", "/model", body=train, headers=key)
    call("POST", "/model", body=train, headers=key)  # replay
    call("POST", "/model", body={**train, "description": "other"}, headers=key)  # key reused
    call("POST", "/model", body={**train, "updateEndpointOf": missing})
    call("POST", "/model", raw_body="{", headers={})
    call("POST", "/model", raw_body="target=price", headers={"Content-Type": "application/x-www-form-urlencoded"})
    call("POST", "/hpo", body=train)
    call("POST", "/hpo", body={**train, "maxTrials": 0})
    call("GET", "/model", query={"limit": "0"})
    call("GET", "/hpo")
    call("GET", f"/model/{missing}", "/model/{jobId}")
    call("GET", "/hpo/hpo-20260101-000000-00000000", "/hpo/{jobId}")
    job = backend.call("POST", "/model", body=train).body["jobId"]
    call("DELETE", f"/model/{job}", "/model/{jobId}")  # still running
    call("DELETE", f"/model/{missing}", "/model/{jobId}")
    call("POST", "/infer", body={"jobId": job, "input": [1.0]})  # not READY
    call("POST", "/infer", body={"endpointName": missing, "input": [1.0]})
    call("POST", "/infer", body={"input": []})
    call("POST", "/uploads", body={"path": "a.csv"})
    call("GET", "/model", owner=None)

    def throttled(*args: object, **kwargs: object) -> None:
        raise ClientError({"Error": {"Code": "ThrottlingException", "Message": "Rate exceeded"}}, "Query")

    monkeypatch.setattr(JobStore, "page", throttled)
    call("GET", "/hpo")
    backend.break_state_machine()
    call("POST", "/hpo", body=train)
    # Then every (route, status) seen is in the document
    documented = {
        (path, method, status)
        for path, item in openapi.build()["paths"].items()
        for method, operation in item.items()
        for status in operation["responses"]
    }
    assert seen - documented == set()
    assert {status for *_, status in seen} >= {"200", "201", "202", "400", "401", "404", "409", "415", "502", "503"}
