"""The committed OpenAPI document is the one the code generates (`make openapi` refreshes it)."""

from __future__ import annotations

from pathlib import Path

from sagestep import openapi
from stacks.platform import constants
from stacks.workflows import WORKFLOWS

COMMITTED = Path(__file__).resolve().parents[2] / "docs" / "openapi.json"


def test_committed_document_is_current() -> None:
    assert COMMITTED.read_text() == openapi.render(), "run `make openapi` and commit docs/openapi.json"


def test_every_route_documents_its_errors_and_security() -> None:
    document = openapi.build()
    assert document["security"] == [{"cognito": []}]
    operations = [(path, method, op) for path, item in document["paths"].items() for method, op in item.items()]
    # Exactly the routes API Gateway serves (the platform's and every workflow's)
    deployed = [*constants.PLATFORM_ROUTES, *(route for workflow in WORKFLOWS for route in workflow.ROUTES)]
    assert {(path, method) for path, method, _ in operations} == {(path, method.lower()) for method, path in deployed}
    for _, _, operation in operations:
        assert {"400", "401", "404"} <= set(operation["responses"])
        assert "422" not in operation["responses"]
