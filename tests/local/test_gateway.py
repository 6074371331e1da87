"""The local REST API answers as API Gateway does (sagestep.local.gateway, sagestep.local.cognito)."""

from __future__ import annotations

import base64
import json
import socket
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import httpx
import jwt
import pytest
from moto.utilities.utils import load_resource

from sagestep.local.cloudformation import CloudAssembly, ProvisionedStack, boto3_client_factory, provision, readable_id
from sagestep.local.cognito import (
    TOKEN_EXPIRED,
    CognitoAuthorizer,
    LocalUserPool,
    SignInError,
    Tokens,
    Unauthorized,
)
from sagestep.local.gateway import AdminRequest, LocalApiGateway, RouteTable
from tests.local.fixtures.stack import REGION, moto_server, synth_fixture_app

EMAIL = "alice@example.com"
PASSWORD = "Correct-Horse-42"


@dataclass
class Backend:
    """The integration: records the events it receives and answers by path."""

    events: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def __call__(self, function_logical_id: str, event: dict[str, Any]) -> Any:
        with self.lock:
            self.events.append((function_logical_id, event))
        path = event["path"]
        if path == "/files/boom":
            raise RuntimeError("handler failed")
        if path == "/files/malformed":
            return {"statusCode": "teapot", "body": "{}"}
        if path == "/files/slow":
            time.sleep(float(event["queryStringParameters"]["seconds"]))
        if path == "/files/binary":
            return {
                "statusCode": 200,
                "headers": {"Content-Type": "image/png"},
                "body": "iVBORw==",
                "isBase64Encoded": True,
            }
        return {
            "statusCode": 201 if event["httpMethod"] == "POST" else 200,
            "headers": {"Content-Type": "application/json", "X-Single": "one"},
            "multiValueHeaders": {"Set-Cookie": ["a=1", "b=2"]},
            "body": json.dumps({"path": path}),
        }

    def last_event(self) -> dict[str, Any]:
        with self.lock:
            return self.events[-1][1]


@dataclass
class Setup:
    stack: ProvisionedStack
    gateway: LocalApiGateway
    backend: Backend
    tokens: Tokens
    sub: str
    http: httpx.Client
    cognito: Any


@pytest.fixture(scope="module")
def setup(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Setup]:
    assembly: CloudAssembly = synth_fixture_app(tmp_path_factory)
    with moto_server() as endpoint:
        clients = boto3_client_factory(endpoint, REGION)
        stack = provision(
            assembly.template, client_factory=clients, stack_name=assembly.stack_name, asset_dir=assembly.directory
        )
        (client_id,) = stack.user_pool.client_ids.values()
        users = LocalUserPool(clients("cognito-idp"), stack.user_pool.user_pool_id, client_id)
        sub = users.create_user(EMAIL, PASSWORD, groups=["admins"])
        tokens = users.sign_in(EMAIL, PASSWORD)
        backend = Backend()
        authorizer = CognitoAuthorizer(clients("cognito-idp"))
        with (
            LocalApiGateway(stack.rest_api, backend, authorizer=authorizer, port=0) as gateway,
            httpx.Client(base_url=gateway.url, timeout=10) as http,
        ):
            yield Setup(stack, gateway, backend, tokens, sub, http, clients("cognito-idp"))


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


# ---- authorization -------------------------------------------------------------------------------------


def test_no_token_is_unauthorized(setup: Setup) -> None:
    # When a Cognito-protected route is called without a token
    response = setup.http.get("model")
    # Then API Gateway's 401 comes back and the function is not called
    assert response.status_code == 401
    assert response.json() == {"message": "Unauthorized"}
    assert response.headers["x-amzn-ErrorType"] == "UnauthorizedException"


def tampered(token: str) -> str:
    header, payload, signature = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["email"] = "mallory@example.com"
    forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).decode().rstrip("=")
    return f"{header}.{forged}.{signature}"


@pytest.mark.parametrize(
    "token",
    [
        pytest.param(lambda t: tampered(t.id_token), id="tampered payload"),
        pytest.param(lambda t: t.id_token[:-6] + "AAAAAA", id="bad signature"),
        pytest.param(lambda t: t.access_token, id="access token without method scopes"),
        pytest.param(lambda t: "not-a-jwt", id="garbage"),
    ],
)
def test_invalid_tokens_are_unauthorized(setup: Setup, token: Any) -> None:
    calls = len(setup.backend.events)
    response = setup.http.get("model", headers=bearer(token(setup.tokens)))
    assert (response.status_code, response.json()) == (401, {"message": "Unauthorized"})
    assert len(setup.backend.events) == calls


def signed_with_moto_key(claims: dict[str, Any]) -> str:
    private = jwt.PyJWK(load_resource("cognitoidp/resources/jwks-private.json"))
    return jwt.encode(claims, private.key, algorithm="RS256", headers={"kid": "dummy"})


def test_expired_token_gets_api_gateways_expiry_message(setup: Setup) -> None:
    # Given a token of the pool, correctly signed, that expired a minute ago
    claims = jwt.decode(setup.tokens.id_token, options={"verify_signature": False})
    claims.update(iat=int(time.time()) - 3660, exp=int(time.time()) - 60)
    # When it is used
    response = setup.http.get("model", headers={"Authorization": signed_with_moto_key(claims)})
    # Then 401 with the message API Gateway gives for expired Cognito tokens
    assert (response.status_code, response.json()) == (401, {"message": TOKEN_EXPIRED})


def test_token_of_another_client_or_pool_is_refused(setup: Setup) -> None:
    claims = jwt.decode(setup.tokens.id_token, options={"verify_signature": False})
    foreign_client = {**claims, "aud": "someoneelsesclient"}
    foreign_pool = {**claims, "iss": "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_other"}
    for forged in (foreign_client, foreign_pool):
        response = setup.http.get("model", headers={"Authorization": signed_with_moto_key(forged)})
        assert response.status_code == 401


def test_real_token_reaches_the_function_with_claims_as_strings(setup: Setup) -> None:
    # Given a user signed in through the pool's app client (raw token, no "Bearer")
    # When the protected route is called
    response = setup.http.get("model", headers={"Authorization": setup.tokens.id_token})
    # Then the function answered, and the event carries the claims as API Gateway passes them
    assert response.status_code == 200
    function_id, event = setup.backend.events[-1]
    assert readable_id(function_id) == "Api"
    claims = event["requestContext"]["authorizer"]["claims"]
    assert claims["sub"] == setup.sub
    assert claims["email"] == EMAIL
    assert claims["cognito:username"] == setup.sub  # the pool signs in by e-mail
    assert claims["cognito:groups"] == "admins"
    assert claims["token_use"] == "id"
    assert all(isinstance(v, str) for v in claims.values())
    assert time.strptime(claims["exp"], "%a %b %d %H:%M:%S UTC %Y")


def test_access_token_is_accepted_when_the_method_has_scopes(setup: Setup) -> None:
    authorizer = setup.gateway.authorizer
    assert authorizer is not None
    pool = setup.stack.user_pool.user_pool_id
    claims = authorizer.verify(setup.tokens.access_token, [pool], scopes=["aws.cognito.signin.user.admin"])
    assert claims["token_use"] == "access"
    with pytest.raises(Unauthorized):
        authorizer.verify(setup.tokens.access_token, [pool], scopes=["sagestep/admin"])
    with pytest.raises(Unauthorized):
        authorizer.verify(setup.tokens.id_token, [pool], scopes=["aws.cognito.signin.user.admin"])


def test_wrong_password_and_disabled_flow_do_not_sign_in(setup: Setup) -> None:
    pool = setup.stack.user_pool
    (client_id,) = pool.client_ids.values()
    users = LocalUserPool(setup.cognito, pool.user_pool_id, client_id)
    with pytest.raises(SignInError, match="refused"):
        users.sign_in(EMAIL, "Wrong-Password-1")
    srp_only = setup.cognito.create_user_pool_client(
        UserPoolId=pool.user_pool_id, ClientName="srp-only", ExplicitAuthFlows=["ALLOW_USER_SRP_AUTH"]
    )["UserPoolClient"]["ClientId"]
    with pytest.raises(SignInError, match="does not allow USER_PASSWORD_AUTH"):
        LocalUserPool(setup.cognito, pool.user_pool_id, srp_only).sign_in(EMAIL, PASSWORD)


# ---- the proxy event and response ----------------------------------------------------------------------


def test_path_parameters_query_strings_and_body_are_in_the_event(setup: Setup) -> None:
    # When a route with a path parameter is called with a repeated query parameter and a body
    response = setup.http.post(
        "model",
        params=[("limit", "5"), ("tag", "a"), ("tag", "b")],
        json={"x": 1},
        headers=bearer(setup.tokens.id_token),
    )
    assert response.status_code == 201
    event = setup.backend.last_event()
    assert event["resource"] == "/model"
    assert event["httpMethod"] == "POST"
    assert event["queryStringParameters"] == {"limit": "5", "tag": "b"}
    assert event["multiValueQueryStringParameters"] == {"limit": ["5"], "tag": ["a", "b"]}
    assert json.loads(event["body"]) == {"x": 1}
    assert event["isBase64Encoded"] is False
    assert event["headers"]["Content-Type"] == "application/json"
    assert event["multiValueHeaders"]["Content-Type"] == ["application/json"]

    response = setup.http.get("model/model-20261122-135501-3fa9c2d1", headers=bearer(setup.tokens.id_token))
    event = setup.backend.last_event()
    assert event["resource"] == "/model/{jobId}"
    assert event["path"] == "/model/model-20261122-135501-3fa9c2d1"
    assert event["pathParameters"] == {"jobId": "model-20261122-135501-3fa9c2d1"}
    assert event["queryStringParameters"] is None
    assert event["body"] is None
    context = event["requestContext"]
    assert context["resourcePath"] == "/model/{jobId}"
    assert context["stage"] == "v1"
    assert context["path"] == "/v1/model/model-20261122-135501-3fa9c2d1"
    assert context["identity"]["sourceIp"] == "127.0.0.1"
    assert context["httpMethod"] == "GET"
    assert context["apiId"] == setup.stack.rest_api.api_id
    assert context["requestId"] == response.headers["x-amzn-RequestId"]


def test_greedy_proxy_resource_takes_the_rest_of_the_path(setup: Setup) -> None:
    response = setup.http.put("files/a/b/c.csv", content=b"1,2", headers=bearer(setup.tokens.id_token))
    assert response.status_code == 200
    event = setup.backend.last_event()
    assert event["resource"] == "/files/{proxy+}"
    assert event["pathParameters"] == {"proxy": "a/b/c.csv"}


def test_proxy_response_headers_and_binary_bodies(setup: Setup) -> None:
    response = setup.http.get("model", headers=bearer(setup.tokens.id_token))
    assert response.headers["X-Single"] == "one"
    assert response.headers.get_list("Set-Cookie") == ["a=1", "b=2"]
    binary = setup.http.get("files/binary", headers=bearer(setup.tokens.id_token))
    assert binary.content == base64.b64decode("iVBORw==")
    assert binary.headers["Content-Type"] == "image/png"


def test_route_without_authorizer_needs_no_token(setup: Setup) -> None:
    response = setup.http.get("health")
    assert response.status_code == 200
    assert "authorizer" not in setup.backend.last_event()["requestContext"]


def test_request_validator_requires_its_parameters(setup: Setup) -> None:
    # Given GET /search, whose request validator requires the query parameter `q`
    # When it is called without it, Then API Gateway's 400 comes back
    response = setup.http.get("search")
    assert (response.status_code, response.json()) == (400, {"message": "Missing required request parameters: [q]"})
    # When it is called with it, Then the function answers
    assert setup.http.get("search", params={"q": "x"}).status_code == 200


@pytest.mark.parametrize(
    ("method", "path"),
    [("GET", "nope"), ("PATCH", "model"), ("GET", "model/1/extra"), ("GET", "/model")],
    ids=["unknown path", "unknown method", "too deep", "outside the stage"],
)
def test_unknown_routes_get_missing_authentication_token(setup: Setup, method: str, path: str) -> None:
    # API Gateway REST APIs answer 403 (not 404) for a resource or method that does not exist
    url = setup.gateway.base_url + path if path.startswith("/") else path
    response = setup.http.request(method, url, headers=bearer(setup.tokens.id_token))
    assert (response.status_code, response.json()) == (403, {"message": "Missing Authentication Token"})


def test_cors_preflight_is_answered_by_the_mock_integration(setup: Setup) -> None:
    calls = len(setup.backend.events)
    response = setup.http.options("model/123")
    assert response.status_code == 204
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert response.headers["Access-Control-Allow-Methods"] == "GET,POST,DELETE"
    assert len(setup.backend.events) == calls


@pytest.mark.parametrize("path", ["files/boom", "files/malformed"])
def test_failing_function_or_malformed_response_is_a_502(setup: Setup, path: str) -> None:
    response = setup.http.get(path, headers=bearer(setup.tokens.id_token))
    assert (response.status_code, response.json()) == (502, {"message": "Internal server error"})


def test_slow_function_times_out_with_504(setup: Setup) -> None:
    setup.gateway.integration_timeout = 0.3
    try:
        response = setup.http.get("files/slow", params={"seconds": "1"}, headers=bearer(setup.tokens.id_token))
    finally:
        setup.gateway.integration_timeout = 29.0
    assert (response.status_code, response.json()) == (504, {"message": "Endpoint request timed out"})


def test_requests_are_served_concurrently(setup: Setup) -> None:
    # Given a function that takes 0.5 s
    # When 6 requests arrive at once
    def call(_: int) -> int:
        with httpx.Client(base_url=setup.gateway.url, timeout=10) as http:
            return http.get("files/slow", params={"seconds": "0.5"}, headers=bearer(setup.tokens.id_token)).status_code

    started = time.perf_counter()
    with ThreadPoolExecutor(6) as pool:
        statuses = list(pool.map(call, range(6)))
    # Then they are served in parallel
    assert statuses == [200] * 6
    assert time.perf_counter() - started < 2.0


# ---- local administration routes ------------------------------------------------------------------------


def test_admin_routes_need_a_token_and_answer_per_method(setup: Setup) -> None:
    # Given a gateway with an admin route that answers GET and DELETE (as the runtime's /_local/faults does)
    received: list[tuple[str, AdminRequest]] = []

    def answer(method: str) -> Any:
        def handler(request: AdminRequest) -> Any:
            received.append((method, request))
            if request.query.get("fault") == "explode":
                raise ValueError("unknown fault 'explode'")
            return {"method": method}

        return handler

    admin = {"faults": {"GET": answer("GET"), "DELETE": answer("DELETE")}}
    with LocalApiGateway(
        setup.stack.rest_api, setup.backend, authorizer=setup.gateway.authorizer, port=0, admin=admin
    ) as gateway:
        url = f"{gateway.base_url}/_local/faults"
        token = bearer(setup.tokens.id_token)
        # When it is called without a token, for DELETE as for GET / Then API Gateway's 401, and no handler ran
        assert httpx.get(url).status_code == 401
        assert httpx.delete(url).status_code == 401
        assert received == []
        # When it is called with a token, Then each method reaches its handler with the query string
        assert httpx.get(url, headers=token).json() == {"method": "GET"}
        deleted = httpx.delete(url, params={"fault": "throttle"}, headers=token)
        assert deleted.json() == {"method": "DELETE"}
        assert received[-1] == ("DELETE", AdminRequest(None, {"fault": "throttle"}))
        # And a ValueError is a 400 with its message, a method without a handler a 405 naming the others
        refused = httpx.delete(url, params={"fault": "explode"}, headers=token)
        assert (refused.status_code, refused.json()) == (400, {"message": "unknown fault 'explode'"})
        wrong = httpx.post(url, json={"fault": "x"}, headers=token)
        assert (wrong.status_code, wrong.json(), wrong.headers["Allow"]) == (
            405,
            {"message": "use DELETE or GET"},
            "DELETE, GET",
        )
        # And the API's own routes are unaffected
        assert httpx.get(gateway.url + "model", headers=token).status_code == 200


def test_stop_frees_the_port(setup: Setup) -> None:
    # Given a second gateway on a free port
    gateway = LocalApiGateway(setup.stack.rest_api, setup.backend, authorizer=setup.gateway.authorizer, port=0).start()
    port = gateway.port
    assert httpx.get(gateway.url + "health").status_code == 200
    # When it stops
    gateway.stop()
    # Then the port can be bound again at once
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", port))


def test_gateway_requires_an_authorizer_for_cognito_routes(setup: Setup) -> None:
    with pytest.raises(ValueError, match="pass an authorizer"):
        LocalApiGateway(setup.stack.rest_api, setup.backend, port=0)


def test_route_table_prefers_literal_then_parameter_then_greedy(setup: Setup) -> None:
    table = RouteTable(setup.stack.rest_api.routes)
    model = table.match("GET", "/model/")
    assert model is not None and model[0].path == "/model"
    job = table.match("DELETE", "/model/42")
    assert job is not None and (job[0].path, job[1]) == ("/model/{jobId}", {"jobId": "42"})
    assert table.match("GET", "/files") is None  # the resource exists, without a GET method
    root = table.match("OPTIONS", "/")
    assert root is not None and root[0].path == "/"


def test_tokens_verify_against_the_public_key_bundled_with_moto(setup: Setup) -> None:
    # Given an authorizer given moto's bundled JWKS instead of fetching the pool's
    authorizer = CognitoAuthorizer(setup.cognito, jwks=load_resource("cognitoidp/resources/jwks-public.json"))
    # When a real token is verified, Then it is accepted
    claims = authorizer.verify(setup.tokens.id_token, [setup.stack.user_pool.user_pool_id])
    assert claims["sub"] == setup.sub
