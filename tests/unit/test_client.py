"""The Python client against a fake API (httpx ``MockTransport``): errors, retries, idempotency, paging,
local validation, waiting, sign-in and token caching. No runtime, no AWS.

Given / When / Then.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from sagestep.client import (
    ApiError,
    BadRequestError,
    CognitoAuth,
    ConfigError,
    ConflictError,
    NotFoundError,
    SagestepClient,
    UnauthorizedError,
    UnreachableError,
    WaitTimeoutError,
)
from sagestep.local.faults import ArmedFault
from sagestep_service.workflows.training.models import TrainingKind, TrainingStatus, TrainRequest

DATA = "s3://data-bucket/housing/train.csv"
MODEL_ID = "model-20261122-135501-3fa9c2d1"
HPO_ID = "hpo-20261122-135501-3fa9c2d1"


def job(
    job_id: str = MODEL_ID, status: str = "SUBMITTED", history: list[str] | None = None, **extra: Any
) -> dict[str, Any]:
    """A job as the API returns it."""
    kind = job_id.split("-", 1)[0]
    statuses = history or [status]
    return {
        "jobId": job_id,
        "kind": kind,
        "status": status,
        "createdAt": "2026-11-22T13:55:01.123Z",
        "updatedAt": f"2026-11-22T13:55:{len(statuses):02d}.000Z",
        "request": {},
        "history": [{"status": s, "at": f"2026-11-22T13:55:{i:02d}.000Z"} for i, s in enumerate(statuses, 1)],
        **extra,
    }


@dataclass
class FakeApi:
    """Canned answers, in order, per ``(method, path)``; records every request."""

    answers: dict[tuple[str, str], list[Any]] = field(default_factory=dict)
    requests: list[httpx.Request] = field(default_factory=list)

    def on(self, method: str, path: str, *answers: Any) -> FakeApi:
        self.answers.setdefault((method, path), []).extend(answers)
        return self

    def handler(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        queue = self.answers.get((request.method, request.url.path))
        if not queue:
            return httpx.Response(404, json={"message": f"no canned answer for {request.method} {request.url.path}"})
        answer = queue.pop(0) if len(queue) > 1 else queue[0]
        if isinstance(answer, Exception):
            raise answer
        if callable(answer):
            return answer(request)
        return answer

    def client(self, token: Callable[[], str] = lambda: "id-token", **options: Any) -> SagestepClient:
        options.setdefault("sleep", lambda seconds: None)
        return SagestepClient(
            "https://api.example.com/prod/", token, transport=httpx.MockTransport(self.handler), **options
        )


def ok(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> httpx.Response:
    return httpx.Response(status, json=body, headers=headers)


class TestErrors:
    @pytest.mark.parametrize(
        ("status", "error_type"),
        [
            (400, BadRequestError),
            (401, UnauthorizedError),
            (403, UnauthorizedError),
            (404, NotFoundError),
            (409, ConflictError),
            (500, ApiError),
        ],
    )
    def test_error_answers_become_typed_exceptions(self, status: int, error_type: type[ApiError]) -> None:
        # Given an API that refuses with an error body
        api = FakeApi().on("GET", f"/prod/model/{MODEL_ID}", ok({"message": "target: no", "field": "target"}, status))
        # When the job is fetched / Then the error carries status, message and field
        with pytest.raises(error_type) as caught:
            api.client().get_model(MODEL_ID)
        assert type(caught.value) is error_type
        assert (caught.value.status, caught.value.message, caught.value.field) == (status, "target: no", "target")

    def test_a_body_that_is_not_an_error_body_still_gives_a_message(self) -> None:
        api = FakeApi().on("GET", "/prod/model", httpx.Response(500, text="<html>Internal</html>"))
        with pytest.raises(ApiError, match=r"HTTP 500 Internal Server Error: <html>Internal</html>"):
            api.client().list_models()

    def test_api_gateways_answer_for_an_unknown_path_hints_at_the_url(self) -> None:
        api = FakeApi().on("GET", "/prod/model", ok({"message": "Missing Authentication Token"}, 403))
        with pytest.raises(UnauthorizedError, match="check the API URL"):
            api.client().list_models()

    def test_connection_refused_after_retries_is_unreachable(self) -> None:
        # Given an API nobody listens to
        api = FakeApi().on("GET", "/prod/model", httpx.ConnectError("[Errno 111] Connection refused"))
        # When listing / Then the client retried, then gave up with UnreachableError
        with pytest.raises(UnreachableError, match="Connection refused"):
            api.client(retries=2).list_models()
        assert len(api.requests) == 3

    def test_503_after_all_retries_is_an_api_error_with_the_status(self) -> None:
        api = FakeApi().on("GET", "/prod/model", ok({"message": "busy"}, 503))
        with pytest.raises(ApiError) as caught:
            api.client(retries=1).list_models()
        assert caught.value.status == 503
        assert len(api.requests) == 2

    def test_job_ids_are_escaped_in_paths(self) -> None:
        api = FakeApi()
        with pytest.raises(NotFoundError):
            api.client().get_model("../hpo")
        assert api.requests[0].url.raw_path == b"/prod/model/..%2Fhpo"


class TestSubmissions:
    def test_retries_after_503_reuse_the_same_idempotency_key_and_body(self) -> None:
        # Given an API that is busy twice, then accepts
        api = FakeApi().on(
            "POST",
            "/prod/model",
            ok({"message": "the service is busy"}, 503),
            ok({"message": "bad gateway"}, 502),
            ok(job(), 202),
        )
        delays: list[float] = []
        client = api.client(sleep=delays.append, backoff=0.5)
        # When a model is trained
        view = client.train(dataUri=DATA, target="y")
        # Then one job came back, after three attempts with one key and one body, with growing pauses
        assert view.jobId == MODEL_ID
        keys = {r.headers["Idempotency-Key"] for r in api.requests}
        assert len(api.requests) == 3 and len(keys) == 1 and next(iter(keys))
        assert len({r.content for r in api.requests}) == 1
        assert json.loads(api.requests[0].content) == {"dataUri": DATA, "target": "y"}
        assert len(delays) == 2 and 0.25 <= delays[0] <= 0.5 and 0.5 <= delays[1] <= 1.0

    def test_a_connection_error_is_retried_with_the_same_key(self) -> None:
        api = FakeApi().on("POST", "/prod/hpo", httpx.ReadTimeout("timed out"), ok(job(HPO_ID), 202))
        view = api.client().hpo(dataUri=DATA, target="y", maxTrials=4)
        assert view.kind is TrainingKind.HPO
        assert api.requests[0].headers["Idempotency-Key"] == api.requests[1].headers["Idempotency-Key"]

    def test_every_call_gets_its_own_key_unless_one_is_given(self) -> None:
        api = FakeApi().on("POST", "/prod/model", ok(job(), 202))
        client = api.client()
        client.train(dataUri=DATA, target="y")
        client.train(dataUri=DATA, target="y")
        client.train(dataUri=DATA, target="y", idempotency_key="ci-build-42")
        keys = [r.headers["Idempotency-Key"] for r in api.requests]
        assert keys[0] != keys[1] and keys[2] == "ci-build-42"

    def test_retry_after_is_honoured(self) -> None:
        api = FakeApi().on(
            "POST", "/prod/model", ok({"message": "slow down"}, 429, {"Retry-After": "3"}), ok(job(), 202)
        )
        delays: list[float] = []
        api.client(sleep=delays.append).train(dataUri=DATA, target="y")
        assert delays == [3.0]

    def test_a_replayed_submission_is_reported(self) -> None:
        api = FakeApi().on("POST", "/prod/model", ok(job(), 200, {"Idempotent-Replayed": "true"}))
        submission = api.client().submit(TrainRequest(dataUri=DATA, target="y"), idempotency_key="k")
        assert submission.replayed and submission.idempotency_key == "k" and submission.job.jobId == MODEL_ID

    def test_request_models_and_dicts_are_accepted(self) -> None:
        api = FakeApi().on("POST", "/prod/model", ok(job(), 202))
        client = api.client()
        client.train(TrainRequest(hpoJobId=HPO_ID, hyperparameters={"epochs": "5"}))
        client.train({"hpoJobId": HPO_ID})
        bodies = [json.loads(r.content) for r in api.requests]
        assert bodies == [{"hpoJobId": HPO_ID, "hyperparameters": {"epochs": "5"}}, {"hpoJobId": HPO_ID}]

    def test_the_token_is_sent_as_the_authorization_header(self) -> None:
        api = FakeApi().on("POST", "/prod/model", ok(job(), 202))
        api.client(token=lambda: "eyJ.token").train(dataUri=DATA, target="y")
        assert api.requests[0].headers["Authorization"] == "eyJ.token"


def _api_400(method: str, path: str, body: dict[str, Any]) -> dict[str, Any]:
    """What the real API handler answers to an invalid body (validation runs before any AWS call)."""
    from sagestep_service.platform.api import app

    event = {
        "httpMethod": method,
        "path": path,
        "resource": path,
        "headers": {"Content-Type": "application/json"},
        "requestContext": {"authorizer": {"claims": {"sub": "user"}}, "httpMethod": method, "path": path},
        "body": json.dumps(body),
        "isBase64Encoded": False,
    }
    answer = app.resolve(event, None)  # type: ignore[arg-type]
    assert answer["statusCode"] == 400
    return json.loads(answer["body"])


class TestLocalValidation:
    @pytest.mark.parametrize(
        ("method", "body"),
        [
            ("train", {"target": "y"}),
            ("train", {"dataUri": "http://x/y.csv", "target": "y", "epochz": 3}),
            ("train", {"dataUri": DATA, "target": "y", "hyperparameters": {"bad name": 1}}),
            ("hpo", {"dataUri": DATA, "target": "y", "maxTrials": 0}),
            ("infer", {"jobId": MODEL_ID, "endpointName": "e", "input": [1]}),
            ("infer", {"jobId": MODEL_ID, "input": [1, 2], "range": {"start": 1, "end": 0, "step": 1}}),
        ],
    )
    def test_bad_input_fails_before_sending_with_the_apis_words(self, method: str, body: dict[str, Any]) -> None:
        # Given a client whose API would answer anything
        api = FakeApi()
        # When an invalid request is made
        with pytest.raises(BadRequestError) as caught:
            getattr(api.client(), method)(body)
        # Then nothing was sent, and message and field are what the API itself answers
        assert api.requests == []
        expected = _api_400("POST", "/model" if method == "train" else f"/{method}", body)
        assert caught.value.status is None
        assert (caught.value.message, caught.value.field) == (expected["message"], expected.get("field"))

    def test_a_page_size_out_of_range_is_refused_locally(self) -> None:
        with pytest.raises(BadRequestError, match="limit"):
            FakeApi().client().list_models(limit=500)


class TestPaging:
    def test_iteration_follows_cursors_to_the_last_page(self) -> None:
        # Given three pages of jobs
        def page(request: httpx.Request) -> httpx.Response:
            cursor = request.url.params.get("cursor")
            pages = {None: (["a", "b"], "c1"), "c1": (["c"], "c2"), "c2": (["d"], None)}
            names, next_cursor = pages[cursor]
            body: dict[str, Any] = {"items": [job(f"model-{n * 8}") for n in names]}
            if next_cursor:
                body["nextCursor"] = next_cursor
            return ok(body)

        api = FakeApi().on("GET", "/prod/model", page)
        # When every model job is listed
        ids = [view.jobId for view in api.client().iter_models(page_size=2)]
        # Then all pages were read in order, each asking for the page size
        assert ids == ["model-aaaaaaaa", "model-bbbbbbbb", "model-cccccccc", "model-dddddddd"]
        assert [r.url.params.get("cursor") for r in api.requests] == [None, "c1", "c2"]
        assert {r.url.params["limit"] for r in api.requests} == {"2"}

    def test_one_page_with_a_cursor(self) -> None:
        api = FakeApi().on("GET", "/prod/hpo", ok({"items": [job(HPO_ID)], "nextCursor": "next"}))
        page = api.client().list_hpo(limit=1, cursor="abc")
        assert page.nextCursor == "next" and page.items[0].jobId == HPO_ID
        assert dict(api.requests[0].url.params) == {"limit": "1", "cursor": "abc"}


class TestWait:
    def test_wait_reports_each_change_and_returns_the_final_job(self) -> None:
        # Given a job that moves through training to READY (seen twice in one state)
        steps = ["SUBMITTED", "TRAINING_MODEL", "TRAINING_MODEL", "DEPLOYING_ENDPOINT", "READY"]
        history: list[str] = []
        answers = []
        for status in steps:
            if not history or history[-1] != status:
                history.append(status)
            answers.append(ok(job(status=status, history=list(history))))
        api = FakeApi().on("GET", f"/prod/model/{MODEL_ID}", *answers)
        seen: list[TrainingStatus] = []
        # When waited for
        final = api.client().wait(MODEL_ID, on_update=lambda view: seen.append(view.status))
        # Then every change was reported once and the READY job returned
        assert final.status is TrainingStatus.READY
        assert seen == [TrainingStatus(s) for s in ["SUBMITTED", "TRAINING_MODEL", "DEPLOYING_ENDPOINT", "READY"]]

    def test_wait_until_a_given_status(self) -> None:
        api = FakeApi().on("GET", f"/prod/hpo/{HPO_ID}", ok(job(HPO_ID, "HPO_RUNNING")))
        view = api.client().wait(HPO_ID, until={"HPO_RUNNING"})
        assert view.status is TrainingStatus.HPO_RUNNING

    def test_wait_gives_up_after_the_timeout(self) -> None:
        api = FakeApi().on("GET", f"/prod/model/{MODEL_ID}", ok(job(status="TRAINING_MODEL")))
        with pytest.raises(WaitTimeoutError) as caught:
            api.client(sleep=lambda s: None).wait(MODEL_ID, timeout=0.05, poll_interval=0.01)
        assert caught.value.job.status is TrainingStatus.TRAINING_MODEL

    def test_an_id_of_no_kind_is_refused(self) -> None:
        with pytest.raises(BadRequestError, match="not a job id"):
            FakeApi().client().wait("banana-1")


class TestLocalFaults:
    def test_faults_are_listed_from_the_admin_route_beside_the_stage(self) -> None:
        # Given a local runtime with a throttle armed
        armed = {"fault": "throttle", "remaining": 18, "operation": "CreateEndpoint", "message": "Rate exceeded"}
        api = FakeApi().on("GET", "/_local/faults", ok({"faults": [armed]}))
        # When the client lists the faults / Then it read /_local/faults (not under the stage) with the token
        assert api.client().local_faults() == [ArmedFault("throttle", 18, "CreateEndpoint", message="Rate exceeded")]
        assert api.requests[0].headers["Authorization"] == "id-token"

    def test_arming_posts_the_spec_and_returns_what_is_armed(self) -> None:
        armed = {"fault": "fail_next_training_job", "remaining": 1, "reason": "disk full"}
        api = FakeApi().on("POST", "/_local/faults", ok({"faults": [armed]}))
        spec = {"fault": "fail_next_training_job", "reason": "disk full"}
        assert api.client().local_faults(spec) == [ArmedFault("fail_next_training_job", 1, reason="disk full")]
        assert json.loads(api.requests[0].content) == spec

    @pytest.mark.parametrize(("fault", "query"), [("throttle", "fault=throttle"), (None, "")])
    def test_clearing_deletes_one_kind_or_all_and_returns_what_was_cleared(self, fault: str | None, query: str) -> None:
        cleared = {"fault": "throttle", "remaining": 18, "operation": "CreateEndpoint"}
        api = FakeApi().on("DELETE", "/_local/faults", ok({"cleared": [cleared], "faults": []}))
        assert api.client().clear_local_faults(fault) == [ArmedFault("throttle", 18, "CreateEndpoint")]
        assert api.requests[0].url.query.decode() == query

    def test_an_unknown_kind_is_a_bad_request(self) -> None:
        api = FakeApi().on("DELETE", "/_local/faults", ok({"message": "unknown fault 'explode'"}, 400))
        with pytest.raises(BadRequestError, match="unknown fault 'explode'"):
            api.client().clear_local_faults("explode")


class FakeCognito:
    """Answers initiate_auth with numbered tokens, or with an error."""

    def __init__(self, error: Exception | None = None) -> None:
        self.calls: list[dict[str, Any]] = []
        self.error = error

    def initiate_auth(self, **kwargs: Any) -> dict[str, Any]:
        self.calls.append(kwargs)
        if self.error:
            raise self.error
        return {"AuthenticationResult": {"IdToken": f"token-{len(self.calls)}", "ExpiresIn": 3600}}


class TestCognitoAuth:
    def test_the_token_is_cached_until_shortly_before_it_expires(self) -> None:
        # Given a signed-in user and a clock
        now = [1000.0]
        cognito = FakeCognito()
        auth = CognitoAuth("client-id", "ada", "secret-pw", "eu-west-1", cognito=cognito, clock=lambda: now[0])
        # When the token is asked for repeatedly within its lifetime
        tokens = [auth(), auth()]
        now[0] += 3600 - 301
        tokens.append(auth())
        # Then Cognito was asked once
        assert tokens == ["token-1"] * 3 and len(cognito.calls) == 1
        assert cognito.calls[0] == {
            "ClientId": "client-id",
            "AuthFlow": "USER_PASSWORD_AUTH",
            "AuthParameters": {"USERNAME": "ada", "PASSWORD": "secret-pw"},
        }
        # And near expiry it signs in again
        now[0] += 2
        assert auth() == "token-2"

    def test_a_client_secret_adds_the_secret_hash(self) -> None:
        cognito = FakeCognito()
        CognitoAuth("client-id", "ada", "pw", "eu-west-1", client_secret="s3cr3t", cognito=cognito)()
        assert cognito.calls[0]["AuthParameters"]["SECRET_HASH"] == "LS64kdsjGYb/ckMaJL7zoU0NxqjBv21bloMmmf698rw="

    def test_a_401_signs_in_again_once_and_repeats_the_request(self) -> None:
        cognito = FakeCognito()
        auth = CognitoAuth("client-id", "ada", "pw", "eu-west-1", cognito=cognito)
        api = FakeApi().on("GET", "/prod/model", ok({"message": "Unauthorized"}, 401), ok({"items": []}))
        api.client(token=auth).list_models()
        assert [r.headers["Authorization"] for r in api.requests] == ["token-1", "token-2"]

    def test_a_second_401_is_an_error(self) -> None:
        auth = CognitoAuth("client-id", "ada", "pw", "eu-west-1", cognito=FakeCognito())
        api = FakeApi().on("GET", "/prod/model", ok({"message": "Unauthorized"}, 401))
        with pytest.raises(UnauthorizedError, match="Unauthorized"):
            api.client(token=auth).list_models()
        assert len(api.requests) == 2

    def test_a_wrong_password_is_unauthorized(self) -> None:
        from botocore.exceptions import ClientError

        error = ClientError(
            {"Error": {"Code": "NotAuthorizedException", "Message": "Incorrect username or password."}}, "InitiateAuth"
        )
        auth = CognitoAuth("client-id", "ada", "pw", "eu-west-1", cognito=FakeCognito(error))
        with pytest.raises(UnauthorizedError, match="sign-in as 'ada' failed: Incorrect username or password"):
            auth()

    def test_the_password_is_not_in_the_repr(self) -> None:
        assert "pw-123" not in repr(CognitoAuth("client-id", "ada", "pw-123", "eu-west-1"))


class TestConstructors:
    def test_for_local_reads_the_runtime_configuration(self, tmp_path: Path) -> None:
        info = {
            "api_url": "http://127.0.0.1:8123",
            "region": "us-east-1",
            "aws_endpoint_url": "http://127.0.0.1:5123",
            "user_pool_id": "us-east-1_abc",
            "user_pool_client_id": "client-id",
            "data_bucket": "data",
            "artifact_bucket": "artifacts",
            "topic_arn": "arn:aws:sns:us-east-1:123456789012:t",
            "username": "demo",
            "password": "pw",
        }
        (tmp_path / "local.json").write_text(json.dumps(info))
        client = SagestepClient.for_local(tmp_path)
        assert client.api_url == "http://127.0.0.1:8123"
        assert isinstance(client.token_provider, CognitoAuth) and client.token_provider.username == "demo"

    def test_for_local_without_a_runtime_says_how_to_start_one(self, tmp_path: Path) -> None:
        with pytest.raises(ConfigError, match="sagestep local up"):
            SagestepClient.for_local(tmp_path)

    def test_for_stack_reads_the_outputs(self) -> None:
        session = FakeSession(
            {"ApiUrl": "https://abc.execute-api.eu-west-1.amazonaws.com/prod/", "UserPoolClientId": "cid"}
        )
        client = SagestepClient.for_stack(
            "sagestep", region="eu-west-1", username="ada", password="pw", session=session
        )
        assert client.api_url == "https://abc.execute-api.eu-west-1.amazonaws.com/prod"
        assert session.asked == [("cloudformation", "eu-west-1", "sagestep")]

    def test_for_stack_of_a_missing_stack_is_not_found(self) -> None:
        with pytest.raises(NotFoundError, match="stack 'nope' not found in eu-west-1"):
            SagestepClient.for_stack("nope", region="eu-west-1", username="a", password="p", session=FakeSession(None))

    def test_for_stack_without_the_outputs_is_a_config_error(self) -> None:
        with pytest.raises(ConfigError, match="no output UserPoolClientId"):
            SagestepClient.for_stack(
                region="eu-west-1", username="a", password="p", session=FakeSession({"ApiUrl": "x"})
            )


class FakeSession:
    """A boto3 session whose CloudFormation knows one stack with ``outputs`` (None: no stack)."""

    def __init__(self, outputs: dict[str, str] | None) -> None:
        self.outputs = outputs
        self.asked: list[tuple[str, str, str]] = []
        self.region_name = None

    def client(self, service: str, region_name: str) -> Any:
        session = self

        class CloudFormation:
            def describe_stacks(self, StackName: str) -> dict[str, Any]:
                from botocore.exceptions import ClientError

                session.asked.append((service, region_name, StackName))
                if session.outputs is None:
                    message = f"Stack with id {StackName} does not exist"
                    raise ClientError({"Error": {"Code": "ValidationError", "Message": message}}, "DescribeStacks")
                outputs = [{"OutputKey": k, "OutputValue": v} for k, v in session.outputs.items()]
                return {"Stacks": [{"StackName": StackName, "Outputs": outputs}]}

        return CloudFormation()
