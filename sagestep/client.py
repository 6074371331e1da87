"""Typed Python client for the sagestep REST API.

Request bodies are validated locally with the API's own pydantic models (each workflow's
``sagestep_service.workflows.<name>.models``), so a
bad request fails before it is sent, with the message the API would have given. Submissions carry an
``Idempotency-Key`` (generated per call unless given), so the client's retries of a submission after a
connection error or a 502/503 can never start a second job.

Example::

    from sagestep.client import SagestepClient

    client = SagestepClient.for_local()  # the API of `sagestep local up`
    hpo = client.hpo({"dataUri": "s3://bucket/train.csv", "target": "y", "maxTrials": 4})
    hpo = client.wait(hpo.jobId)
    model = client.wait(client.train(hpoJobId=hpo.jobId).jobId)
    print(client.infer(jobId=model.jobId, input=[0.1, 0.2], range={"start": 0, "end": 1, "step": 0.1}))
"""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import os
import random
import threading
import time
import urllib.parse
import uuid
from collections.abc import Callable, Collection, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, TypeVar
from urllib.parse import quote

import httpx
from pydantic import BaseModel, ConfigDict, ValidationError

from sagestep.local.faults import ArmedFault
from sagestep_service.platform.models import ErrorResponse
from sagestep_service.workflows.training.models import (
    HpoRequest,
    InferRequest,
    InferResponse,
    TrainingJobPage,
    TrainingJobView,
    TrainingKind,
    TrainingStatus,
    TrainRequest,
)

if TYPE_CHECKING:
    from sagestep.documents_client import DocumentsApi
    from sagestep.labeling_client import LabelingApi
    from sagestep.translation_client import TranslationApi

__all__ = [
    "ApiError",
    "BadRequestError",
    "CognitoAuth",
    "ConfigError",
    "ConflictError",
    "LocalConfig",
    "NotFoundError",
    "SagestepClient",
    "SagestepError",
    "Submission",
    "UnauthorizedError",
    "UnreachableError",
    "WaitTimeoutError",
    "config_dir",
    "load_local_config",
    "local_config_path",
    "parse_request",
]

STACK_OUTPUT_API_URL = "ApiUrl"
STACK_OUTPUT_USER_POOL_CLIENT_ID = "UserPoolClientId"
LOCAL_CONFIG_FILE = "local.json"
CONFIG_DIR_ENV = "SAGESTEP_CONFIG_DIR"

# 429 is API Gateway throttling, 502/503/504 an unavailable or overloaded backend: all safe to repeat,
# because submissions carry an idempotency key and every other route is read-only or idempotent.
RETRY_STATUSES = frozenset({429, 502, 503, 504})
DEFAULT_TIMEOUT = httpx.Timeout(35.0, connect=5.0)  # API Gateway gives up on an integration after 29 s
USER_AGENT = "sagestep-python-client/0.1"

RequestModel = TypeVar("RequestModel", bound=BaseModel)


class SagestepError(Exception):
    """Base class of every error the client raises."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class ApiError(SagestepError):
    """The API refused a request (or would have: local validation raises the same errors).

    ``status`` is the HTTP status (None for a check done without a request), ``field`` the request field
    the problem is about, when the API names one.
    """

    def __init__(self, status: int | None, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.field = field

    def __repr__(self) -> str:
        return f"{type(self).__name__}(status={self.status!r}, message={self.message!r}, field={self.field!r})"


class BadRequestError(ApiError):
    """400: the request is invalid; ``field`` names the culprit."""


class UnauthorizedError(ApiError):
    """401/403, or signing in failed."""


class NotFoundError(ApiError):
    """404: unknown job (or another user's), or a stack that does not exist."""


class ConflictError(ApiError):
    """409: the request clashes with the job's state, or an idempotency key was reused for another request."""


class UnreachableError(SagestepError):
    """The API (or Cognito) could not be reached: connection refused, DNS, timeouts, after the retries."""


class ConfigError(SagestepError):
    """The client cannot be set up: no local runtime configuration, missing stack outputs, ..."""


class WaitTimeoutError(SagestepError):
    """:meth:`SagestepClient.wait` gave up; ``job`` is the last state seen."""

    def __init__(self, job: TrainingJobView, timeout: float) -> None:
        super().__init__(f"job {job.jobId} is still {job.status.value} after {timeout:g} s")
        self.job = job
        self.timeout = timeout


_ERRORS_BY_STATUS: dict[int, type[ApiError]] = {
    400: BadRequestError,
    401: UnauthorizedError,
    403: UnauthorizedError,
    404: NotFoundError,
    409: ConflictError,
    422: BadRequestError,
}


def validation_problem(exc: ValidationError) -> tuple[str, str]:
    """``(message, field)`` for a failed validation, worded as the API words its 400 answers."""
    problems = []
    first_field = None
    for error in exc.errors():
        field = ".".join(str(part) for part in error.get("loc", ())) or "body"
        first_field = first_field or field
        problems.append(f"{field}: {str(error.get('msg', 'is invalid')).removeprefix('Value error, ')}")
    return "; ".join(problems), first_field or "body"


def parse_request(
    model: type[RequestModel], request: RequestModel | Mapping[str, Any] | None, fields: Mapping[str, Any] | None = None
) -> RequestModel:
    """Validate a request body with the API's model; raises :class:`BadRequestError` worded as the API's 400."""
    if request is not None and fields:
        raise TypeError("pass the request either as one object or as keyword arguments, not both")
    if isinstance(request, model):
        # Re-validate: a model built with model_construct() or changed after construction may be invalid.
        data: Any = request.model_dump(exclude_unset=True)
    else:
        data = dict(request) if request is not None else dict(fields or {})
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        message, field = validation_problem(exc)
        raise BadRequestError(None, message, field) from None


def _body(request: BaseModel) -> dict[str, Any]:
    return request.model_dump(mode="json", exclude_unset=True, exclude_none=True)


def error_from_response(response: httpx.Response) -> ApiError:
    """The typed error for a non-2xx answer (API error bodies, and API Gateway's own ``{"message"}``)."""
    status = response.status_code
    try:
        problem = ErrorResponse.model_validate(response.json())
        message, field = problem.message, problem.field
    except (ValueError, ValidationError):
        text = response.text.strip().replace("\n", " ")
        message, field = f"HTTP {status} {response.reason_phrase}" + (f": {text[:200]}" if text else ""), None
    if status == 403 and message == "Missing Authentication Token":
        message += " (API Gateway's answer for a path it does not know: check the API URL)"
    return _ERRORS_BY_STATUS.get(status, ApiError)(status, message, field)


def kind_of(job_id: str) -> TrainingKind:
    """The kind of a job, from the first word of its id."""
    prefix = job_id.split("-", 1)[0]
    try:
        return TrainingKind(prefix)
    except ValueError:
        raise BadRequestError(
            None, f"jobId: {job_id!r} is not a job id (they start with model- or hpo-)", "jobId"
        ) from None


class TokenProvider(Protocol):
    """Anything that returns the value of the ``Authorization`` header (a Cognito ID token)."""

    def __call__(self) -> str: ...


class CognitoAuth:
    """Signs in to the stack's Cognito user pool (``USER_PASSWORD_AUTH``) and hands out the ID token.

    The token is cached until ``refresh_margin`` seconds before it expires, then obtained again by signing in
    again. Thread-safe. ``endpoint_url`` points boto3 at another Cognito (the local runtime's);
    ``client_secret`` is needed only for app clients created with a secret.
    """

    def __init__(
        self,
        user_pool_client_id: str,
        username: str,
        password: str,
        region: str,
        endpoint_url: str | None = None,
        *,
        client_secret: str | None = None,
        refresh_margin: float = 300.0,
        cognito: Any = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.user_pool_client_id = user_pool_client_id
        self.username = username
        self._password = password
        self._client_secret = client_secret
        self._region = region
        self._endpoint_url = endpoint_url
        self._refresh_margin = refresh_margin
        self._cognito = cognito
        self._clock = clock
        self._lock = threading.Lock()
        self._token: str | None = None
        self._expires_at = 0.0

    def __repr__(self) -> str:
        return f"CognitoAuth(user_pool_client_id={self.user_pool_client_id!r}, username={self.username!r})"

    def __call__(self) -> str:
        with self._lock:
            if self._token is None or self._clock() >= self._expires_at - self._refresh_margin:
                self._token, lifetime = self._sign_in()
                self._expires_at = self._clock() + lifetime
            return self._token

    def invalidate(self) -> None:
        """Forget the cached token (the API refused it), so the next call signs in again."""
        with self._lock:
            self._token = None

    def _client(self) -> Any:
        if self._cognito is None:
            import boto3

            self._cognito = boto3.client("cognito-idp", region_name=self._region, endpoint_url=self._endpoint_url)
        return self._cognito

    def _sign_in(self) -> tuple[str, float]:
        from botocore.exceptions import BotoCoreError, ClientError, EndpointConnectionError

        parameters = {"USERNAME": self.username, "PASSWORD": self._password}
        if self._client_secret:
            digest = hmac.new(
                self._client_secret.encode(), (self.username + self.user_pool_client_id).encode(), hashlib.sha256
            ).digest()
            parameters["SECRET_HASH"] = base64.b64encode(digest).decode()
        try:
            answer = self._client().initiate_auth(
                ClientId=self.user_pool_client_id, AuthFlow="USER_PASSWORD_AUTH", AuthParameters=parameters
            )
        except ClientError as exc:
            error = exc.response.get("Error", {})
            code, text = error.get("Code", ""), error.get("Message", "")
            if code in {"NotAuthorizedException", "UserNotFoundException"}:
                raise UnauthorizedError(
                    None, f"sign-in as {self.username!r} failed: {text or code}", "password"
                ) from None
            raise UnauthorizedError(None, f"sign-in as {self.username!r} failed: {code}: {text}") from None
        except EndpointConnectionError as exc:
            raise UnreachableError(f"cannot reach Cognito: {exc}") from None
        except BotoCoreError as exc:
            raise UnauthorizedError(None, f"sign-in as {self.username!r} failed: {exc}") from None
        result = answer.get("AuthenticationResult")
        if not result:
            challenge = answer.get("ChallengeName", "unknown")
            raise UnauthorizedError(
                None, f"sign-in as {self.username!r} needs the {challenge} challenge first (e.g. a new password)"
            )
        return str(result["IdToken"]), float(result.get("ExpiresIn", 3600))


@dataclass(frozen=True)
class Submission:
    """What a submission returned: the job, whether it already existed (a replayed key), and the key used."""

    job: TrainingJobView
    replayed: bool
    idempotency_key: str


class LocalConfig(BaseModel):
    """The part of the local runtime's ``local.json`` (``RuntimeInfo``) that the client needs."""

    model_config = ConfigDict(extra="ignore")

    api_url: str
    region: str
    aws_endpoint_url: str
    user_pool_client_id: str
    username: str
    password: str
    data_bucket: str | None = None


def config_dir() -> Path:
    """Where sagestep keeps its local configuration: ``$SAGESTEP_CONFIG_DIR`` or ``~/.sagestep``."""
    return Path(os.environ.get(CONFIG_DIR_ENV) or Path.home() / ".sagestep")


def local_config_path(directory: Path | str | None = None) -> Path:
    """The file ``sagestep local up`` writes the running local API's address and credentials to."""
    return Path(directory or config_dir()) / LOCAL_CONFIG_FILE


def load_local_config(directory: Path | str | None = None) -> LocalConfig:
    """The running local runtime's address and credentials (``local.json``)."""
    path = local_config_path(directory)
    try:
        return LocalConfig.model_validate_json(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"no local runtime configuration at {path}: start one with `sagestep local up`") from None
    except (OSError, ValidationError) as exc:
        raise ConfigError(f"cannot read the local runtime configuration {path}: {exc}") from None


class SagestepClient:
    """A client of one sagestep API.

    ``token_provider`` returns the ``Authorization`` header value (usually a :class:`CognitoAuth`); if it
    has an ``invalidate()`` method, a 401 makes the client sign in again and repeat the request once.
    Transient failures (connection errors, timeouts, 429/502/503/504) are retried ``retries`` times with
    exponential backoff (``backoff`` seconds, doubling, with jitter; ``Retry-After`` is honoured).
    ``transport`` replaces httpx's network transport (tests use ``httpx.MockTransport``).
    """

    def __init__(
        self,
        api_url: str,
        token_provider: TokenProvider | Callable[[], str],
        *,
        timeout: httpx.Timeout | float = DEFAULT_TIMEOUT,
        retries: int = 4,
        backoff: float = 0.5,
        max_backoff: float = 8.0,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.api_url = api_url.rstrip("/")
        self.token_provider = token_provider
        self._retries = retries
        self._backoff = backoff
        self._max_backoff = max_backoff
        self._sleep = sleep
        self._http = httpx.Client(
            base_url=self.api_url,
            timeout=timeout,
            transport=transport,
            headers={"User-Agent": USER_AGENT, "Accept": "application/json"},
        )

    def __repr__(self) -> str:
        return f"SagestepClient({self.api_url!r})"

    def __enter__(self) -> SagestepClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the HTTP connection pool."""
        self._http.close()

    # -- constructors ---------------------------------------------------------------------------------------

    @classmethod
    def for_stack(
        cls,
        stack_name: str = "sagestep",
        *,
        region: str | None = None,
        username: str,
        password: str,
        session: Any = None,
        **options: Any,
    ) -> SagestepClient:
        """A client of a deployed stack: API URL and Cognito app client from the stack's CloudFormation
        outputs (``ApiUrl``, ``UserPoolClientId``); needs AWS credentials that may describe the stack."""
        from botocore.exceptions import BotoCoreError, ClientError, EndpointConnectionError, NoCredentialsError

        try:
            if session is None:
                import boto3

                session = boto3.Session(region_name=region)
            region = region or session.region_name
            if not region:
                raise BadRequestError(None, "region: no AWS region given (pass one or set AWS_REGION)", "region")
            stacks = session.client("cloudformation", region_name=region).describe_stacks(StackName=stack_name)
        except NoCredentialsError:
            raise UnauthorizedError(None, f"no AWS credentials to read the outputs of stack {stack_name!r}") from None
        except EndpointConnectionError as exc:
            raise UnreachableError(f"cannot reach CloudFormation: {exc}") from None
        except ClientError as exc:
            error = exc.response.get("Error", {})
            if "does not exist" in error.get("Message", ""):
                raise NotFoundError(None, f"stack {stack_name!r} not found in {region}", "stack") from None
            code = error.get("Code", "")
            if code in {"AccessDenied", "AccessDeniedException", "ExpiredToken", "InvalidClientTokenId"}:
                raise UnauthorizedError(
                    None, f"cannot describe stack {stack_name!r}: {error.get('Message', code)}"
                ) from None
            raise ApiError(None, f"cannot describe stack {stack_name!r}: {code}: {error.get('Message', '')}") from None
        except BotoCoreError as exc:
            raise ConfigError(f"cannot describe stack {stack_name!r}: {exc}") from None
        outputs = {o["OutputKey"]: o["OutputValue"] for o in stacks["Stacks"][0].get("Outputs", [])}
        missing = [key for key in (STACK_OUTPUT_API_URL, STACK_OUTPUT_USER_POOL_CLIENT_ID) if key not in outputs]
        if missing:
            raise ConfigError(f"stack {stack_name!r} has no output {', '.join(missing)}: is it a sagestep stack?")
        auth = CognitoAuth(outputs[STACK_OUTPUT_USER_POOL_CLIENT_ID], username, password, region)
        return cls(outputs[STACK_OUTPUT_API_URL], auth, **options)

    @classmethod
    def for_local(cls, config_dir: Path | str | None = None, **options: Any) -> SagestepClient:
        """A client of the local runtime started by ``sagestep local up``, signed in as its demo user
        (address and credentials from ``local.json`` in ``config_dir``, default :func:`config_dir`)."""
        config = load_local_config(config_dir)
        auth = CognitoAuth(
            config.user_pool_client_id, config.username, config.password, config.region, config.aws_endpoint_url
        )
        return cls(config.api_url, auth, **options)

    # -- submissions ----------------------------------------------------------------------------------------

    def submit(self, request: TrainRequest | HpoRequest, *, idempotency_key: str | None = None) -> Submission:
        """``POST /model`` or ``POST /hpo`` with an already validated request; tells a replay from a new job."""
        path = "/model" if isinstance(request, TrainRequest) else "/hpo"
        key = idempotency_key or str(uuid.uuid4())
        response = self._request("POST", path, json=_body(request), headers={"Idempotency-Key": key})
        job = self._parse(TrainingJobView, response)
        return Submission(job, response.headers.get("Idempotent-Replayed", "").lower() == "true", key)

    def train(
        self,
        request: TrainRequest | Mapping[str, Any] | None = None,
        *,
        idempotency_key: str | None = None,
        **fields: Any,
    ) -> TrainingJobView:
        """Train a model and deploy it to an endpoint (``POST /model``).

        ``request`` is a :class:`TrainRequest`, a dict of its fields, or its fields as keyword arguments,
        e.g. ``train(dataUri="s3://bucket/train.csv", target="y")`` or ``train(hpoJobId=hpo.jobId)``.
        Repeating a call with the same ``idempotency_key`` returns the same job.
        """
        return self.submit(parse_request(TrainRequest, request, fields), idempotency_key=idempotency_key).job

    def hpo(
        self,
        request: HpoRequest | Mapping[str, Any] | None = None,
        *,
        idempotency_key: str | None = None,
        **fields: Any,
    ) -> TrainingJobView:
        """Search hyperparameters (``POST /hpo``); arguments as for :meth:`train`."""
        return self.submit(parse_request(HpoRequest, request, fields), idempotency_key=idempotency_key).job

    # -- jobs -----------------------------------------------------------------------------------------------

    def list_models(self, limit: int = 20, cursor: str | None = None) -> TrainingJobPage:
        """One page of your model jobs, newest first; pass ``nextCursor`` as ``cursor`` for the next."""
        return self._page("/model", limit, cursor)

    def list_hpo(self, limit: int = 20, cursor: str | None = None) -> TrainingJobPage:
        """One page of your HPO jobs, newest first."""
        return self._page("/hpo", limit, cursor)

    def iter_models(self, page_size: int = 50) -> Iterator[TrainingJobView]:
        """Every model job, newest first, fetching pages as needed."""
        return self._iterate("/model", page_size)

    def iter_hpo(self, page_size: int = 50) -> Iterator[TrainingJobView]:
        """Every HPO job, newest first, fetching pages as needed."""
        return self._iterate("/hpo", page_size)

    def get_model(self, job_id: str) -> TrainingJobView:
        """A model job (``GET /model/{jobId}``)."""
        return self._parse(TrainingJobView, self._request("GET", f"/model/{quote(job_id, safe='')}"))

    def get_hpo(self, job_id: str) -> TrainingJobView:
        """An HPO job (``GET /hpo/{jobId}``)."""
        return self._parse(TrainingJobView, self._request("GET", f"/hpo/{quote(job_id, safe='')}"))

    def get_job(self, job_id: str, kind: TrainingKind | str | None = None) -> TrainingJobView:
        """A job of either kind (the kind is read from the id unless given)."""
        kind = TrainingKind(kind) if kind else kind_of(job_id)
        return self.get_model(job_id) if kind is TrainingKind.MODEL else self.get_hpo(job_id)

    def delete_model(self, job_id: str) -> TrainingJobView:
        """Delete a model job's endpoint, endpoint config and model (``DELETE /model/{jobId}``)."""
        return self._parse(TrainingJobView, self._request("DELETE", f"/model/{quote(job_id, safe='')}"))

    def wait(
        self,
        job_id: str,
        kind: TrainingKind | str | None = None,
        *,
        until: Callable[[TrainingJobView], bool] | Collection[TrainingStatus | str] | None = None,
        timeout: float | None = 3600.0,
        poll_interval: float = 2.0,
        on_update: Callable[[TrainingJobView], None] | None = None,
    ) -> TrainingJobView:
        """Poll a job until ``until`` holds (default: its workflow has ended) and return it.

        ``until`` is a predicate or a collection of statuses. ``on_update`` is called with the job first and
        then on every change (status, history, ``updatedAt``). Raises :class:`WaitTimeoutError` after
        ``timeout`` seconds (None: no limit). A job that ends in ``ERROR`` is returned, not raised.
        """
        kind = TrainingKind(kind) if kind else kind_of(job_id)
        done: Callable[[TrainingJobView], bool]
        if until is None:
            done = _is_terminal
        elif callable(until):
            done = until
        else:
            wanted = {TrainingStatus(s) for s in until}
            done = lambda job: job.status in wanted  # noqa: E731
        deadline = None if timeout is None else time.monotonic() + timeout
        seen: tuple[Any, ...] | None = None
        while True:
            job = self.get_job(job_id, kind)
            state = (job.status, len(job.history), job.updatedAt)
            if on_update is not None and state != seen:
                on_update(job)
            seen = state
            if done(job):
                return job
            if deadline is not None:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise WaitTimeoutError(job, timeout or 0.0)
                self._sleep(min(poll_interval, remaining))
            else:
                self._sleep(poll_interval)

    # -- inference ------------------------------------------------------------------------------------------

    def infer(self, request: InferRequest | Mapping[str, Any] | None = None, **fields: Any) -> InferResponse:
        """Predict with a deployed model (``POST /infer``), e.g.
        ``infer(jobId=job.jobId, input=[1, 2, 3], range={"start": 0, "end": 3, "step": 0.5})``."""
        body = _body(parse_request(InferRequest, request, fields))
        return self._parse(InferResponse, self._request("POST", "/infer", json=body))

    # -- plumbing -------------------------------------------------------------------------------------------

    def _page(self, path: str, limit: int, cursor: str | None) -> TrainingJobPage:
        if not 1 <= limit <= 100:
            raise BadRequestError(None, "limit: must be between 1 and 100", "limit")
        params: dict[str, Any] = {"limit": limit}
        if cursor:
            params["cursor"] = cursor
        return self._parse(TrainingJobPage, self._request("GET", path, params=params))

    def _iterate(self, path: str, page_size: int) -> Iterator[TrainingJobView]:
        cursor: str | None = None
        while True:
            page = self._page(path, page_size, cursor)
            yield from page.items
            if not page.nextCursor:
                return
            cursor = page.nextCursor

    def _request(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> httpx.Response:
        attempt = 0
        signed_in_again = False
        while True:
            request_headers = {**(headers or {}), "Authorization": self.token_provider()}
            try:
                response = self._http.request(method, path, json=json, params=params, headers=request_headers)
            except (httpx.TimeoutException, httpx.NetworkError, httpx.RemoteProtocolError) as exc:
                if attempt >= self._retries:
                    raise UnreachableError(f"cannot reach the API at {self.api_url}: {_describe(exc)}") from None
                self._sleep(self._delay(attempt, None))
                attempt += 1
                continue
            except httpx.HTTPError as exc:
                raise UnreachableError(f"cannot reach the API at {self.api_url}: {_describe(exc)}") from None
            if response.status_code in RETRY_STATUSES and attempt < self._retries:
                self._sleep(self._delay(attempt, response.headers.get("Retry-After")))
                attempt += 1
                continue
            invalidate = getattr(self.token_provider, "invalidate", None)
            if response.status_code == 401 and not signed_in_again and callable(invalidate):
                invalidate()
                signed_in_again = True
                continue
            if response.is_success:
                return response
            raise error_from_response(response)

    @functools.cached_property
    def documents(self) -> DocumentsApi:
        """The documents workflow's routes (``POST /documents`` and the rest)."""
        from sagestep.documents_client import DocumentsApi

        return DocumentsApi(self)

    @functools.cached_property
    def labeling(self) -> LabelingApi:
        """The labeling workflow's routes (``POST /batch/create``, ``GET /batch/show`` and the rest)."""
        from sagestep.labeling_client import LabelingApi

        return LabelingApi(self)

    @functools.cached_property
    def translation(self) -> TranslationApi:
        """The translation workflow's routes (``POST /translation`` and the rest)."""
        from sagestep.translation_client import TranslationApi

        return TranslationApi(self)

    def upload(self, source: Path | str | bytes, path: str | None = None) -> str:
        """Upload a file (a local path, or its bytes with ``path``) into your own prefix of the data bucket
        through a presigned URL (``POST /uploads``) and return its ``s3://`` URI, ready for ``dataUri``.
        ``path`` is where it goes inside your prefix (default: the file's name)."""
        if isinstance(source, bytes):
            if not path:
                raise ValueError("path is required when uploading bytes")
            body = source
        else:
            body = Path(source).read_bytes()
            path = path or Path(source).name
        grant = self._request("POST", "/uploads", json={"path": path}).json()
        try:
            response = self._http.request(grant.get("method", "PUT"), grant["uploadUrl"], content=body)
        except httpx.HTTPError as exc:
            raise UnreachableError(f"cannot upload to the data bucket: {_describe(exc)}") from None
        if not response.is_success:
            raise ApiError(response.status_code, f"the data bucket refused the upload: {response.text[:300]}")
        return str(grant["dataUri"])

    def local_faults(self, spec: Mapping[str, Any] | None = None) -> list[ArmedFault]:
        """Local runtime only: arm a fault (``{"fault": "fail_next_training_job", "reason": ...}``, see
        ``sagestep.local.faults.Faults.apply``); with or without ``spec``, return the armed faults."""
        method = "POST" if spec is not None else "GET"
        answer = self._request(method, self._local_faults_url(), json=dict(spec) if spec is not None else None)
        return [ArmedFault.from_json(fault) for fault in answer.json()["faults"]]

    def clear_local_faults(self, fault: str | None = None) -> list[ArmedFault]:
        """Local runtime only: disarm every fault, or those of one kind (e.g. ``"throttle"``); return the
        faults that were armed and are no more."""
        params = {"fault": fault} if fault is not None else None
        answer = self._request("DELETE", self._local_faults_url(), params=params)
        return [ArmedFault.from_json(cleared) for cleared in answer.json()["cleared"]]

    def _local_faults_url(self) -> str:
        """The local runtime's admin route lives beside the stage, not under it."""
        parts = urllib.parse.urlsplit(self.api_url)
        return urllib.parse.urlunsplit((parts.scheme, parts.netloc, "/_local/faults", "", ""))

    def _delay(self, attempt: int, retry_after: str | None) -> float:
        if retry_after:
            try:
                return min(float(retry_after), self._max_backoff)
            except ValueError:
                pass
        delay = min(self._backoff * 2**attempt, self._max_backoff)
        return delay * random.uniform(0.5, 1.0)  # jitter, so that many clients do not retry in step

    @staticmethod
    def _parse(model: type[RequestModel], response: httpx.Response) -> RequestModel:
        try:
            return model.model_validate(response.json())
        except (ValueError, ValidationError) as exc:
            raise ApiError(
                response.status_code, f"the API answered {response.request.url.path} with an unexpected body: {exc}"
            ) from None


def _is_terminal(job: TrainingJobView) -> bool:
    return job.status.terminal


def _describe(exc: httpx.HTTPError) -> str:
    text = str(exc) or type(exc).__name__
    return text.splitlines()[0]
