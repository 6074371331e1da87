"""The OpenAPI document of the REST API, generated from the handler's routes and pydantic models.

``python -m sagestep.openapi > docs/openapi.json`` (``make openapi``, from a checkout: the server's base path is
the stack's API stage, ``stacks/platform/constants.py``); a test keeps the committed copy current.
"""

from __future__ import annotations

import json
from typing import Any

from sagestep import __version__


def build() -> dict[str, Any]:
    """The OpenAPI document as a dict."""
    from sagestep_service.platform.api import app
    from stacks.platform.constants import API_STAGE_NAME

    document: dict[str, Any] = json.loads(
        app.get_openapi_json_schema(
            title="sagestep",
            version=__version__,
            description="Serverless ML workflows on AWS: train, tune, deploy and predict. Every route needs a "
            "Cognito ID token in the `Authorization` header; every error answers `{message, field}` "
            "(`field` when one request field is at fault).",
        )
    )
    document["servers"] = [
        {
            "url": f"https://{{restApiId}}.execute-api.{{region}}.amazonaws.com/{API_STAGE_NAME}",
            "description": "The deployed API: the stack output `ApiUrl` (`sagestep local up` serves the same "
            "base path on its own host).",
            "variables": {
                "restApiId": {"default": "abcdef1234", "description": "The REST API's id."},
                "region": {"default": "eu-west-1", "description": "The stack's region."},
            },
        }
    ]
    document.setdefault("components", {}).setdefault("securitySchemes", {})["cognito"] = {
        "type": "apiKey",
        "name": "Authorization",
        "in": "header",
        "description": "Cognito user pool ID token (API Gateway Cognito authorizer).",
    }
    document["security"] = [{"cognito": []}]
    # Validation errors answer 400 with the ErrorResponse (platform/api.py), never Powertools' 422.
    schemas = document["components"].setdefault("schemas", {})
    for schema_name in ("HTTPValidationError", "ValidationError"):
        schemas.pop(schema_name, None)
    for path in document["paths"].values():
        for operation in path.values():
            operation["responses"].pop("422", None)
    return document


def render() -> str:
    """The document as committed in docs/openapi.json."""
    return json.dumps(build(), indent=2, sort_keys=True) + "\n"


if __name__ == "__main__":
    print(render(), end="")
