"""The REST API (API Gateway proxy, Cognito authorizer): one resolver with every registered workflow's routes,
request validation and one error shape for every 4xx/5xx."""

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


@app.exception_handler(RequestValidationError)
def _invalid_request(exc: RequestValidationError) -> Response[Any]:
    problems = []
    first_field = None
    for error in exc.errors():
        loc = [str(p) for p in error.get("loc", ())]
        # The first element says where the value was (body, query, header, path); the rest names the field.
        location = loc[1:] if loc and loc[0] in ("body", "query", "header", "path") else loc
        field = ".".join(location) or "body"
        first_field = first_field or field
        message = str(error.get("msg", "is invalid")).removeprefix("Value error, ")
        problems.append(f"{field}: {message}")
    return _error(400, "; ".join(problems), first_field)


@app.exception_handler(ServiceError)
def _service_error(exc: ServiceError) -> Response[Any]:
    if exc.status >= 500:
        logger.exception("request failed")
    return _error(exc.status, exc.message, getattr(exc, "field", None))


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
    return app.resolve(event, context)
