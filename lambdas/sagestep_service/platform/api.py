"""The REST API (API Gateway proxy, Cognito authorizer): one resolver with every registered workflow's routes,
request validation and one error shape for every 4xx/5xx (``ErrorResponse``: ``message`` and, when one field is
at fault, ``field``)."""

import json
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext
from botocore.exceptions import ClientError

from sagestep_service.platform import registry, uploads
from sagestep_service.platform.errors import ServiceError
from sagestep_service.platform.models import ErrorResponse
from sagestep_service.platform.observability import logger, metrics, tracer
from sagestep_service.platform.routing import json_response

app = APIGatewayRestResolver(enable_validation=True)
app.include_router(uploads.router)
for _workflow in registry.workflows():
    app.include_router(registry.resolve(_workflow.routes).router)


def _error(status: int, message: str, field: str | None = None) -> Response[Any]:
    return json_response(status, ErrorResponse(message=message, field=field).model_dump(mode="json", exclude_none=True))


def _json_problem(error: Any, document: Any) -> str:
    """'is not valid JSON (<reason> at line L, column C)' for Powertools' json_invalid error at a character."""
    reason = str((error.get("ctx") or {}).get("error") or "cannot be parsed")
    position = error.get("loc", ("body", None))[-1]
    if isinstance(position, int) and isinstance(document, str):
        line = document.count("\n", 0, position) + 1
        column = position - (document.rfind("\n", 0, position) + 1) + 1
        reason += f" at line {line}, column {column}"
    return f"is not valid JSON ({reason})"


@app.exception_handler(RequestValidationError)
def _invalid_request(exc: RequestValidationError) -> Response[Any]:
    problems = []
    first_field = None
    for error in exc.errors():
        if error.get("type") == "json_invalid":
            field, message = "body", _json_problem(error, exc.body)
        else:
            loc = [str(p) for p in error.get("loc", ())]
            # The first element says where the value was (body, query, header, path); the rest names the field.
            location = loc[1:] if loc and loc[0] in ("body", "query", "header", "path") else loc
            field = ".".join(location) or "body"
            message = str(error.get("msg", "is invalid")).removeprefix("Value error, ")
        first_field = first_field or field
        problems.append(f"{field}: {message}")
    return _error(400, "; ".join(problems), first_field)


@app.exception_handler(ServiceError)
def _service_error(exc: ServiceError) -> Response[Any]:
    if exc.status >= 500:
        logger.exception("request failed")
    return _error(exc.status, exc.message, exc.field)


@app.exception_handler(ClientError)
def _aws_error(exc: ClientError) -> Response[Any]:
    code = exc.response.get("Error", {}).get("Code", "")
    logger.exception("AWS call failed", extra={"code": code})
    if code in {"ThrottlingException", "ProvisionedThroughputExceededException", "TooManyRequestsException"}:
        return _error(503, "the service is busy; retry with the same Idempotency-Key")
    return _error(502, f"an AWS service refused the request ({code})")


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """API Gateway proxy entry point."""
    return _unsupported_media_type(event) or app.resolve(event, context)


def _unsupported_media_type(event: dict[str, Any]) -> dict[str, Any] | None:
    """415 for a body that is not JSON, the only kind every route reads. Checked before the resolver: Powertools
    would parse a form or multipart body as such (and fail on a multipart type without a boundary)."""
    headers = {str(name).lower(): str(value) for name, value in (event.get("headers") or {}).items()}
    content_type = headers.get("content-type", "").strip()
    if not event.get("body") or not content_type or content_type.lower().startswith("application/json"):
        return None
    body = ErrorResponse(
        message=f"Content-Type: the body must be application/json, not {content_type!r}", field="Content-Type"
    )
    return {
        "statusCode": 415,
        "headers": {"Content-Type": "application/json"},
        "body": json.dumps(body.model_dump(mode="json")),
        "isBase64Encoded": False,
    }
