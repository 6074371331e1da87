"""The OpenAPI document of the REST API, generated from the handler's routes and pydantic models.

``python -m sagestep.openapi > docs/openapi.json`` (``make openapi``); a test keeps the committed copy current.
"""

from __future__ import annotations

import json
from typing import Any

from sagestep import __version__

ERROR_RESPONSES = {
    "400": "The request names a field with a problem (`field` says which).",
    "401": "No valid Cognito ID token in the Authorization header.",
    "404": "No such job, or a job of another user.",
    "409": "The job's state does not allow this (still running, not READY, idempotency key reused).",
}


def build() -> dict[str, Any]:
    """The OpenAPI document as a dict."""
    from sagestep_service.platform.api import app

    document: dict[str, Any] = json.loads(
        app.get_openapi_json_schema(
            title="sagestep",
            version=__version__,
            description="Serverless ML workflows on AWS: train, tune, deploy and predict. Every route needs a "
            "Cognito ID token in the `Authorization` header.",
        )
    )
    document.setdefault("components", {}).setdefault("securitySchemes", {})["cognito"] = {
        "type": "apiKey",
        "name": "Authorization",
        "in": "header",
        "description": "Cognito user pool ID token (API Gateway Cognito authorizer).",
    }
    document["security"] = [{"cognito": []}]
    error_ref = {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorResponse"}}}}
    schemas = document["components"].setdefault("schemas", {})
    from sagestep_service.platform.models import ErrorResponse

    schemas["ErrorResponse"] = ErrorResponse.model_json_schema()
    for schema_name in ("HTTPValidationError", "ValidationError"):
        schemas.pop(schema_name, None)
    for path in document["paths"].values():
        for operation in path.values():
            responses = operation.setdefault("responses", {})
            responses.pop("422", None)
            for status, description in ERROR_RESPONSES.items():
                responses.setdefault(status, {"description": description, **error_ref})
    return document


def render() -> str:
    """The document as committed in docs/openapi.json."""
    return json.dumps(build(), indent=2, sort_keys=True) + "\n"


if __name__ == "__main__":
    print(render(), end="")
