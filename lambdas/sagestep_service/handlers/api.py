"""The REST API (API Gateway proxy, Cognito authorizer): routes, validation and error mapping."""

from typing import Annotated, Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response, content_types
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError
from aws_lambda_powertools.event_handler.openapi.params import Header, Query
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext
from botocore.exceptions import ClientError

from sagestep_service import aws
from sagestep_service.dal.jobs import JobStore
from sagestep_service.errors import ServiceError
from sagestep_service.handlers.observability import logger, metrics, tracer
from sagestep_service.logic import deletion, inference, queries
from sagestep_service.logic.submission import Submission, Submitter, owned_job
from sagestep_service.models.api import ErrorResponse, HpoRequest, InferRequest, InferResponse, TrainRequest
from sagestep_service.models.jobs import JobKind, JobPage, JobView
from sagestep_service.settings import TrainingSettings, load

app = APIGatewayRestResolver(enable_validation=True)

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


def _owner() -> str:
    """The caller's Cognito identity, as the authorizer passed it."""
    claims = app.current_event.request_context.authorizer.claims or {}
    owner = claims.get("sub")
    if not owner:
        raise _Unauthorized()
    return str(owner)


class _Unauthorized(ServiceError):
    status = 401

    def __init__(self) -> None:
        super().__init__("Unauthorized")


def _store() -> JobStore:
    return JobStore(load(TrainingSettings).jobs_table_name)


def _submitter() -> Submitter:
    clients = aws.Clients()
    return Submitter(load(TrainingSettings), _store(), clients.stepfunctions, clients.s3)


def _json(status: int, body: Any, headers: dict[str, str] | None = None) -> Response[Any]:
    return Response(status_code=status, content_type=content_types.APPLICATION_JSON, body=body, headers=headers)


def _submitted(submission: Submission, kind: JobKind) -> Response[Any]:
    view = JobView.model_validate(submission.record).model_dump(mode="json")
    if submission.created:
        metrics.add_metric(name=f"{kind.value.capitalize()}JobsSubmitted", unit=MetricUnit.Count, value=1)
        return _json(202, view, {"Location": f"/{kind.value}/{view['jobId']}"})
    return _json(200, view, {"Idempotent-Replayed": "true"})


@app.post("/model", summary="Train a model and deploy it to an endpoint", responses={202: {"description": "Accepted"}})
@tracer.capture_method
def train(body: TrainRequest, idempotency_key: IdempotencyKey = None) -> Response[JobView]:
    return _submitted(_submitter().submit_training(_owner(), body, idempotency_key), JobKind.MODEL)


@app.post("/hpo", summary="Search hyperparameters", responses={202: {"description": "Accepted"}})
@tracer.capture_method
def hpo(body: HpoRequest, idempotency_key: IdempotencyKey = None) -> Response[JobView]:
    return _submitted(_submitter().submit_hpo(_owner(), body, idempotency_key), JobKind.HPO)


@app.get("/model", summary="List your model jobs, newest first")
@tracer.capture_method
def list_models(limit: Limit = 20, cursor: Cursor = None) -> JobPage:
    return queries.page(_store(), _owner(), JobKind.MODEL, limit, cursor)


@app.get("/hpo", summary="List your HPO jobs, newest first")
@tracer.capture_method
def list_hpo(limit: Limit = 20, cursor: Cursor = None) -> JobPage:
    return queries.page(_store(), _owner(), JobKind.HPO, limit, cursor)


@app.get("/model/<jobId>", summary="Show a model job")
@tracer.capture_method
def show_model(jobId: str) -> JobView:
    return queries.show(_store(), _owner(), JobKind.MODEL, jobId)


@app.get("/hpo/<jobId>", summary="Show an HPO job")
@tracer.capture_method
def show_hpo(jobId: str) -> JobView:
    return queries.show(_store(), _owner(), JobKind.HPO, jobId)


@app.delete("/model/<jobId>", summary="Delete a model job's endpoint, endpoint config and model")
@tracer.capture_method
def delete_model(jobId: str) -> JobView:
    store = _store()
    record = owned_job(store, jobId, _owner(), JobKind.MODEL)
    clients = aws.Clients()
    state_machine = load(TrainingSettings).training_state_machine_arn
    return deletion.delete_model_job(store, clients.sagemaker, clients.stepfunctions, state_machine, record)


@app.post("/infer", summary="Predict with a deployed model")
@tracer.capture_method
def infer(body: InferRequest) -> InferResponse:
    clients = aws.Clients()
    settings = load(TrainingSettings)
    endpoint = inference.resolve_endpoint(_store(), clients.sagemaker, _owner(), settings.stack_name, body)
    return inference.predict(clients.sagemaker_runtime, endpoint, body)


def _error(status: int, message: str, field: str | None = None) -> Response[Any]:
    return _json(status, ErrorResponse(message=message, field=field).model_dump(mode="json", exclude_none=True))


@app.exception_handler(RequestValidationError)
def _invalid_request(exc: RequestValidationError) -> Response[Any]:
    problems = []
    first_field = None
    for error in exc.errors():
        location = [str(p) for p in error.get("loc", ()) if p not in ("body", "query", "header", "path")]
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
