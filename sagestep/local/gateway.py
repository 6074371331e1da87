"""A local REST API server built from the route table `provision` derives from the template.

`LocalApiGateway` serves a `RestApiSpec` on 127.0.0.1 (werkzeug, one thread per request) the way API
Gateway serves a REST API with Lambda proxy integrations:

- URLs carry the stage like the deployed API's URL: `http://127.0.0.1:8000/{stage}/model/{jobId}`.
- A path or method with no route answers 403 `{"message":"Missing Authentication Token"}` (what a REST
  API answers; HTTP APIs answer 404).
- Methods with a `COGNITO_USER_POOLS` authorizer need a valid token in the identity header (raw or
  `Bearer <token>`): 401 `{"message":"Unauthorized"}` otherwise, or 401
  `{"message":"The incoming token has expired"}`.
- The integration receives a v1 proxy event (`resource`, `path`, `httpMethod`, headers and query strings
  in single- and multi-value form, `pathParameters`, `body`, `isBase64Encoded`, `requestContext` with
  `authorizer.claims` as strings) through `invoke(function_logical_id, event)`, and its proxy response
  becomes the HTTP response. A failing function or a malformed response answers 502
  `{"message": "Internal server error"}`; no answer within 29 s answers 504
  `{"message": "Endpoint request timed out"}`.
- `MOCK` integrations (the CDK's CORS preflight `OPTIONS` methods) answer their static status and headers.
- `AWS::ApiGateway::GatewayResponse` status codes and static headers apply to the answers API Gateway
  itself produces.
"""

from __future__ import annotations

import base64
import fnmatch
import json
import logging
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server
from werkzeug.wrappers import Request, Response

from sagestep.local.cloudformation import DEFAULT_ACCOUNT_ID, RestApiSpec, Route
from sagestep.local.cognito import CognitoAuthorizer, Unauthorized, api_gateway_claims

logger = logging.getLogger(__name__)

Invoke = Callable[[str, dict[str, Any]], Any]
"""`invoke(function_logical_id, event) -> proxy response`: runs the integration's Lambda handler."""
ADMIN_PREFIX = "/_local/"


@dataclass(frozen=True)
class AdminRequest:
    """What a local administration route receives: the JSON body (None without one) and the query string."""

    body: Any = None
    query: Mapping[str, str] = field(default_factory=dict)


AdminHandler = Callable[[AdminRequest], Any]
"""`handler(request) -> JSON-able answer`; a `ValueError` becomes a 400 with its message."""

INTEGRATION_TIMEOUT_SECONDS = 29.0
DEFAULT_PORT = 8000

# Response types of the answers API Gateway produces itself, and their default status codes.
MISSING_AUTHENTICATION_TOKEN = "MISSING_AUTHENTICATION_TOKEN"
UNAUTHORIZED = "UNAUTHORIZED"
BAD_REQUEST_PARAMETERS = "BAD_REQUEST_PARAMETERS"
INTEGRATION_FAILURE = "DEFAULT_5XX"
INTEGRATION_TIMEOUT = "INTEGRATION_TIMEOUT"
_DEFAULT_STATUS = {
    MISSING_AUTHENTICATION_TOKEN: 403,
    UNAUTHORIZED: 401,
    BAD_REQUEST_PARAMETERS: 400,
    INTEGRATION_FAILURE: 502,
    INTEGRATION_TIMEOUT: 504,
}


@dataclass
class _Node:
    """A resource of the API tree; methods by HTTP verb (or `ANY`)."""

    path: str
    literal: dict[str, _Node] = field(default_factory=dict)
    parameter: tuple[str, _Node] | None = None
    greedy: tuple[str, _Node] | None = None
    methods: dict[str, Route] = field(default_factory=dict)


class RouteTable:
    """Matches a request to a resource as API Gateway does: a literal path part wins over `{param}`,
    which wins over `{proxy+}` (one or more trailing parts); then the method, or `ANY`."""

    def __init__(self, routes: tuple[Route, ...]) -> None:
        self.root = _Node("/")
        for route in routes:
            self._node(route.path).methods[route.method] = route

    def _node(self, path: str) -> _Node:
        node = self.root
        for part in (p for p in path.split("/") if p):
            current = f"{node.path.rstrip('/')}/{part}"
            if part.startswith("{") and part.endswith("+}"):
                if node.greedy is None:
                    node.greedy = (part[1:-2], _Node(current))
                node = node.greedy[1]
            elif part.startswith("{") and part.endswith("}"):
                if node.parameter is None:
                    node.parameter = (part[1:-1], _Node(current))
                node = node.parameter[1]
            else:
                node = node.literal.setdefault(part, _Node(current))
        return node

    def match(self, method: str, path: str) -> tuple[Route, dict[str, str]] | None:
        """The route and path parameters for a request, or None (API Gateway's 403)."""
        parts = [p for p in path.split("/") if p]
        found = self._resource(self.root, parts, {})
        if found is None:
            return None
        node, parameters = found
        route = node.methods.get(method.upper()) or node.methods.get("ANY")
        return (route, parameters) if route is not None else None

    def _resource(
        self, node: _Node, parts: list[str], parameters: dict[str, str]
    ) -> tuple[_Node, dict[str, str]] | None:
        if not parts:
            return node, parameters
        head, rest = parts[0], parts[1:]
        if head in node.literal:
            found = self._resource(node.literal[head], rest, parameters)
            if found is not None:
                return found
        if node.parameter is not None:
            name, child = node.parameter
            found = self._resource(child, rest, {**parameters, name: head})
            if found is not None:
                return found
        if node.greedy is not None:
            name, child = node.greedy
            return child, {**parameters, name: "/".join(parts)}
        return None


class _QuietHandler(WSGIRequestHandler):
    """Request lines go to this module's logger at debug level, not to stderr."""

    def log(self, type: str, message: str, *args: Any) -> None:
        (logger.warning if type == "error" else logger.debug)("%s - " + message, self.address_string(), *args)


class LocalApiGateway:
    """A REST API served locally from its route table.

    Args:
        api: the route table (`ProvisionedStack.rest_api`).
        invoke: runs an integration: `invoke(function_logical_id, event) -> proxy response dict`.
        authorizer: verifies tokens for `COGNITO_USER_POOLS` methods (required if the API has any).
        host: interface to bind, 127.0.0.1 by default.
        port: TCP port; 0 picks a free one (see `port` after `start`).
        account_id, region: for `requestContext`.
        integration_timeout: seconds before 504, 29 like API Gateway.
        admin: local-only routes `/_local/<name>` outside the stage (so they never shadow the API's):
            `{name: {method: handler}}`, each `handler(AdminRequest) -> JSON-able`; another method is a
            405. They need a valid ID token of one of the API's user pools; a `ValueError` is a 400.

    Use as a context manager, or `start()` / `stop()`; `url` is the stage URL like the stack's API URL
    output. `wsgi_app` serves without a socket (e.g. with `werkzeug.test.Client`).
    """

    def __init__(
        self,
        api: RestApiSpec,
        invoke: Invoke,
        *,
        authorizer: CognitoAuthorizer | None = None,
        host: str = "127.0.0.1",
        port: int = DEFAULT_PORT,
        account_id: str = DEFAULT_ACCOUNT_ID,
        region: str = "us-east-1",
        integration_timeout: float = INTEGRATION_TIMEOUT_SECONDS,
        admin: Mapping[str, Mapping[str, AdminHandler]] | None = None,
    ) -> None:
        if authorizer is None and any(r.authorization_type == "COGNITO_USER_POOLS" for r in api.routes):
            raise ValueError(f"REST API {api.logical_id} has Cognito-authorized methods: pass an authorizer")
        self.api = api
        self.invoke = invoke
        self.authorizer = authorizer
        self.host = host
        self.account_id = account_id
        self.region = region
        self.integration_timeout = integration_timeout
        self.routes = RouteTable(api.routes)
        self.admin = {name: dict(methods) for name, methods in (admin or {}).items()}
        self._requested_port = port
        self._server: BaseWSGIServer | None = None
        self._thread: threading.Thread | None = None

    # ---- life cycle --------------------------------------------------------------------------------

    def start(self) -> LocalApiGateway:
        """Bind the port and serve in a background thread."""
        if self._server is not None:
            return self
        self._server = make_server(
            self.host, self._requested_port, self.wsgi_app, threaded=True, request_handler=_QuietHandler
        )
        self._thread = threading.Thread(target=self._server.serve_forever, name=f"api-gateway-{self.port}", daemon=True)
        self._thread.start()
        logger.info("REST API %s served at %s", self.api.name, self.url)
        return self

    def stop(self) -> None:
        """Stop serving and free the port."""
        server, self._server = self._server, None
        if server is None:
            return
        server.shutdown()
        server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None

    def __enter__(self) -> LocalApiGateway:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        """The bound port (after `start`), else the requested one."""
        return int(self._server.server_port) if self._server is not None else self._requested_port

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def url(self) -> str:
        """The stage URL, e.g. `http://127.0.0.1:8000/v1/` (like the deployed API's URL output)."""
        return f"{self.base_url}/{self.api.stage_name}/"

    # ---- requests ----------------------------------------------------------------------------------

    def wsgi_app(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        request = Request(environ)
        try:
            response = self.handle(request)
        except Exception:
            logger.exception("local API Gateway failed on %s %s", request.method, request.path)
            response = self._error(INTEGRATION_FAILURE, "Internal server error", _request_id())
        return response(environ, start_response)

    def handle(self, request: Request) -> Response:
        """Answer one request as API Gateway would."""
        request_id = _request_id()
        if request.path.startswith(ADMIN_PREFIX) and request.path[len(ADMIN_PREFIX) :] in self.admin:
            return self._admin(request, request_id)
        stage_prefix = f"/{self.api.stage_name}"
        if request.path != stage_prefix and not request.path.startswith(stage_prefix + "/"):
            return self._error(MISSING_AUTHENTICATION_TOKEN, "Missing Authentication Token", request_id)
        path = request.path[len(stage_prefix) :] or "/"
        matched = self.routes.match(request.method, path)
        if matched is None:
            return self._error(MISSING_AUTHENTICATION_TOKEN, "Missing Authentication Token", request_id)
        route, path_parameters = matched
        if route.integration.type == "MOCK":
            return Response(
                b"",
                status=route.integration.mock_status,
                headers=[*route.integration.mock_headers, ("x-amzn-RequestId", request_id)],
            )
        claims: dict[str, str] | None = None
        if route.authorization_type == "COGNITO_USER_POOLS" and route.authorizer is not None:
            assert self.authorizer is not None
            header = request.headers.get(route.authorizer.identity_header)
            try:
                verified = self.authorizer.authorize(header, route.authorizer.user_pool_ids, route.authorization_scopes)
            except Unauthorized as exc:
                logger.info("401 on %s %s: %s", request.method, request.path, exc.reason)
                return self._error(UNAUTHORIZED, exc.message, request_id)
            claims = api_gateway_claims(verified)
        missing = _missing_parameters(route, request, path_parameters)
        if missing:
            return self._error(
                BAD_REQUEST_PARAMETERS, f"Missing required request parameters: [{', '.join(missing)}]", request_id
            )
        if route.integration.type != "AWS_PROXY" or route.integration.function_logical_id is None:
            logger.warning("%s %s: integration %s is not served locally", route.method, route.path, route.integration)
            return self._error(INTEGRATION_FAILURE, "Internal server error", request_id)
        event = self.proxy_event(request, route, path, path_parameters, claims, request_id)
        return self._integrate(route, event, request_id)

    def proxy_event(
        self,
        request: Request,
        route: Route,
        path: str,
        path_parameters: Mapping[str, str],
        claims: Mapping[str, str] | None,
        request_id: str,
    ) -> dict[str, Any]:
        """The Lambda proxy integration event (payload format 1.0) of a request."""
        headers: dict[str, str] = {}
        multi_headers: dict[str, list[str]] = {}
        for name, value in request.headers.items():
            headers[name] = value
            multi_headers.setdefault(name, []).append(value)
        forwarded = {
            "X-Forwarded-For": request.remote_addr or "127.0.0.1",
            "X-Forwarded-Port": str(self.port),
            "X-Forwarded-Proto": "http",
        }
        for name, value in forwarded.items():
            headers.setdefault(name, value)
            multi_headers.setdefault(name, [value])
        query = {k: v[-1] for k, v in request.args.lists()}
        multi_query = {k: list(v) for k, v in request.args.lists()}
        raw = request.get_data(cache=True)
        binary = self._is_binary(request.mimetype)
        body: str | None
        if not raw:
            body = None
        elif binary:
            body = base64.b64encode(raw).decode()
        else:
            body = raw.decode("utf-8", errors="replace")
        now = time.time()
        request_context: dict[str, Any] = {
            "accountId": self.account_id,
            "apiId": self.api.api_id,
            "domainName": request.host,
            "domainPrefix": request.host.split(".", 1)[0].split(":", 1)[0],
            "extendedRequestId": request_id,
            "httpMethod": request.method,
            "identity": {
                "accessKey": None,
                "accountId": None,
                "caller": None,
                "cognitoAuthenticationProvider": None,
                "cognitoAuthenticationType": None,
                "cognitoIdentityId": None,
                "cognitoIdentityPoolId": None,
                "principalOrgId": None,
                "sourceIp": request.remote_addr or "127.0.0.1",
                "user": None,
                "userAgent": request.headers.get("User-Agent"),
                "userArn": None,
            },
            "path": f"/{self.api.stage_name}{path}",
            "protocol": request.environ.get("SERVER_PROTOCOL", "HTTP/1.1"),
            "requestId": request_id,
            "requestTime": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(now)),
            "requestTimeEpoch": int(now * 1000),
            "resourceId": route.resource_id,
            "resourcePath": route.path,
            "stage": self.api.stage_name,
        }
        if claims is not None:
            request_context["authorizer"] = {"claims": dict(claims)}
        return {
            "resource": route.path,
            "path": path,
            "httpMethod": request.method,
            "headers": headers,
            "multiValueHeaders": multi_headers,
            "queryStringParameters": query or None,
            "multiValueQueryStringParameters": multi_query or None,
            "pathParameters": dict(path_parameters) or None,
            "stageVariables": None,
            "requestContext": request_context,
            "body": body,
            "isBase64Encoded": binary and body is not None,
        }

    def _is_binary(self, mimetype: str) -> bool:
        return bool(mimetype) and any(fnmatch.fnmatch(mimetype, pattern) for pattern in self.api.binary_media_types)

    def _integrate(self, route: Route, event: dict[str, Any], request_id: str) -> Response:
        function = str(route.integration.function_logical_id)
        outcome: dict[str, Any] = {}

        def call() -> None:
            try:
                outcome["response"] = self.invoke(function, event)
            except BaseException as exc:
                outcome["error"] = exc

        worker = threading.Thread(target=call, name=f"invoke-{function}-{request_id[:8]}", daemon=True)
        worker.start()
        worker.join(self.integration_timeout)
        if worker.is_alive():
            logger.warning(
                "%s %s: %s did not answer within %.0f s", route.method, route.path, function, self.integration_timeout
            )
            return self._error(INTEGRATION_TIMEOUT, "Endpoint request timed out", request_id)
        if "error" in outcome:
            error = outcome["error"]
            logger.warning("%s %s: %s failed: %r", route.method, route.path, function, error, exc_info=error)
            return self._error(INTEGRATION_FAILURE, "Internal server error", request_id)
        try:
            return _proxy_response(outcome.get("response"), request_id)
        except ValueError as exc:
            logger.warning(
                "%s %s: malformed Lambda proxy response from %s: %s", route.method, route.path, function, exc
            )
            return self._error(INTEGRATION_FAILURE, "Internal server error", request_id)

    def _admin(self, request: Request, request_id: str) -> Response:
        """A local-only administration route (e.g. fault injection), for any signed-in user of the API."""
        pools = {pool for route in self.api.routes for pool in route.user_pool_ids}
        if self.authorizer is not None and pools:
            try:
                self.authorizer.authorize(request.headers.get("Authorization"), pools)
            except Unauthorized as exc:
                return self._error(UNAUTHORIZED, exc.message, request_id)
        methods = self.admin[request.path[len(ADMIN_PREFIX) :]]
        handler = methods.get(request.method)
        if handler is None:
            allowed = sorted(methods)
            return Response(
                json.dumps({"message": f"use {' or '.join(allowed)}"}),
                status=405,
                headers={"Allow": ", ".join(allowed)},
                mimetype="application/json",
            )
        try:
            body = json.loads(request.get_data() or b"null")
            result = handler(AdminRequest(body, dict(request.args.items())))
        except ValueError as exc:
            return Response(json.dumps({"message": str(exc)}), status=400, mimetype="application/json")
        return Response(json.dumps(result), status=200, mimetype="application/json")

    def _error(self, response_type: str, message: str, request_id: str) -> Response:
        status = _DEFAULT_STATUS[response_type]
        headers: list[tuple[str, str]] = [
            ("Content-Type", "application/json"),
            ("x-amzn-RequestId", request_id),
            ("x-amzn-ErrorType", _ERROR_TYPES.get(response_type, "InternalServerErrorException")),
        ]
        fallback = "DEFAULT_4XX" if status < 500 else "DEFAULT_5XX"
        configured = self.api.gateway_responses.get(response_type) or self.api.gateway_responses.get(fallback)
        if configured is not None:
            status = configured.status_code or status
            headers.extend(configured.headers)
        return Response(json.dumps({"message": message}, separators=(",", ":")), status=status, headers=headers)


_ERROR_TYPES = {
    MISSING_AUTHENTICATION_TOKEN: "MissingAuthenticationTokenException",
    UNAUTHORIZED: "UnauthorizedException",
    BAD_REQUEST_PARAMETERS: "BadRequestException",
    INTEGRATION_TIMEOUT: "InternalServerErrorException",
}


def _missing_parameters(route: Route, request: Request, path_parameters: Mapping[str, str]) -> list[str]:
    """Names of the request parameters the method's request validator requires and the request lacks."""
    missing = []
    for location, name in route.required_parameters:
        if location in ("header", "multivalueheader"):
            present = bool(request.headers.get(name))
        elif location in ("querystring", "multivaluequerystring"):
            present = name in request.args
        else:
            present = bool(path_parameters.get(name))
        if not present:
            missing.append(name)
    return missing


def _request_id() -> str:
    return str(uuid.uuid4())


def _proxy_response(response: Any, request_id: str) -> Response:
    """The HTTP response of a Lambda proxy response; ValueError when it is malformed (API Gateway's 502)."""
    if not isinstance(response, dict):
        raise ValueError(f"expected a JSON object, got {type(response).__name__}")
    status = response.get("statusCode")
    if isinstance(status, str) and status.isdigit():
        status = int(status)
    if not isinstance(status, int) or isinstance(status, bool) or not 100 <= status <= 599:
        raise ValueError(f"statusCode {status!r} is not an HTTP status")
    unknown = set(response) - {"statusCode", "headers", "multiValueHeaders", "body", "isBase64Encoded"}
    if unknown:
        raise ValueError(f"unexpected fields {sorted(unknown)}")
    body = response.get("body")
    if body is not None and not isinstance(body, str):
        raise ValueError(f"body must be a string, got {type(body).__name__}")
    payload = base64.b64decode(body) if body and response.get("isBase64Encoded") else (body or "").encode()
    # API Gateway merges both header maps; a name in multiValueHeaders takes its values from there.
    multi = response.get("multiValueHeaders") or {}
    single = response.get("headers") or {}
    if not isinstance(multi, dict) or not isinstance(single, dict):
        raise ValueError("headers and multiValueHeaders must be objects")
    headers: list[tuple[str, str]] = [(str(k), str(v)) for k, values in multi.items() for v in (values or [])]
    lowered = {k.lower() for k in multi}
    headers.extend((str(k), str(v)) for k, v in single.items() if k.lower() not in lowered)
    if not any(k.lower() == "content-type" for k, _ in headers):
        headers.append(("Content-Type", "application/json"))
    headers.append(("x-amzn-RequestId", request_id))
    return Response(payload, status=status, headers=headers)
