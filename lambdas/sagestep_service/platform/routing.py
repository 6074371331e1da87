"""What every workflow's routes share: the caller's identity, common parameters and response shapes.

A workflow's ``routes`` module defines a Powertools ``Router`` named ``router`` and uses these helpers; the
platform's API function includes every registered workflow's router (``sagestep_service.platform.api``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Annotated, Any

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Header, Query
from aws_lambda_powertools.event_handler.openapi.types import OpenAPIResponse
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEvent

from sagestep_service.platform.errors import ServiceError
from sagestep_service.platform.models import ErrorResponse, JobView
from sagestep_service.platform.observability import metrics

if TYPE_CHECKING:
    from sagestep_service.platform.submission import Submission

IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        min_length=1,
        max_length=128,
        description="Repeat a submission with the same key to get the same job, never a second one.",
    ),
]
Limit = Annotated[int, Query(ge=1, le=100, description="Page size.")]
Cursor = Annotated[str | None, Query(max_length=2048, description="`nextCursor` of the previous page.")]


#: Statuses any route may answer: API Gateway's own (authorizer, stage throttling) and AWS trouble behind the API.
COMMON_ERRORS = {
    401: "No valid Cognito ID token in the `Authorization` header.",
    429: "API Gateway throttled the request (the stage's rate and burst limits); retry later.",
    502: "An AWS service refused a call the API made for the request (the message names its error code).",
    503: "An AWS service is busy (throttling); retry (a submission with the same `Idempotency-Key`).",
}
#: Statuses of a route that reads a JSON body.
BODY_ERRORS = {
    400: "The body (or a parameter) has a problem; `field` names it (`body` when the body is not valid JSON).",
    415: "The body is not `application/json` (`field` is `Content-Type`).",
}

#: A submission's successes: a new job, or the same job again for a repeated `Idempotency-Key`.
SUBMITTED: dict[int, OpenAPIResponse] = {
    202: {
        "description": "The job was created and its workflow started.",
        "headers": {"Location": {"description": "The job's URL (path)", "schema": {"type": "string"}}},
    },
    200: {
        "description": "A replay: the job an earlier submission with this `Idempotency-Key` created.",
        "headers": {"Idempotent-Replayed": {"description": "`true`", "schema": {"type": "string", "enum": ["true"]}}},
    },
}


def responses(success: Mapping[int, OpenAPIResponse], errors: Mapping[int, str]) -> dict[int, OpenAPIResponse]:
    """A route's ``responses`` for the OpenAPI document: its successes (their body is the route's return type)
    and every error status it answers, each with the ``ErrorResponse`` body, plus ``COMMON_ERRORS``."""
    documented = dict(success)
    for status, description in sorted({**errors, **COMMON_ERRORS}.items()):
        documented[status] = {
            "description": description,
            "content": {content_types.APPLICATION_JSON: {"model": ErrorResponse}},
        }
    return documented


class Unauthorized(ServiceError):
    status = 401

    def __init__(self) -> None:
        super().__init__("Unauthorized")


def owner(router: Router) -> str:
    """The caller's Cognito identity, as the authorizer passed it."""
    event = router.current_event
    assert isinstance(event, APIGatewayProxyEvent)  # the platform's resolver is an APIGatewayRestResolver
    claims = event.request_context.authorizer.claims or {}
    sub = claims.get("sub")
    if not sub:
        raise Unauthorized()
    return str(sub)


def json_response(status: int, body: Any, headers: dict[str, str] | None = None) -> Response[Any]:
    return Response(status_code=status, content_type=content_types.APPLICATION_JSON, body=body, headers=headers)


def submitted(submission: Submission, view: type[JobView], path: str) -> Response[Any]:
    """202 with the new job (and its Location), or 200 for a replay of an idempotent submission."""
    body = view.model_validate(submission.record).model_dump(mode="json")
    if submission.created:
        kind = str(body["kind"])
        metrics.add_metric(name=f"{kind.capitalize()}JobsSubmitted", unit=MetricUnit.Count, value=1)
        return json_response(202, body, {"Location": f"{path}/{body['jobId']}"})
    return json_response(200, body, {"Idempotent-Replayed": "true"})
