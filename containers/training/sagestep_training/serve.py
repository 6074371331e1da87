"""The ``serve`` command: SageMaker's inference contract (``GET /ping``, ``POST /invocations``) over HTTP.

A small HTTP/1.1 server on asyncio streams. Measured on the same model at concurrency 8, it answers
1.1-1.4 times as many requests per second as the stdlib ``ThreadingHTTPServer`` (one event loop instead
of threads contending for the GIL) and 4-8 times as many as Flask on Werkzeug; figures in
``containers/training/README.md``. It speaks the subset SageMaker and HTTP clients use: keep-alive and
pipelined requests, ``Content-Length`` bodies, ``Expect: 100-continue``. The model is loaded before the
socket is bound, so a ``/ping`` that answers means the model is ready. Every body is strict JSON (or
CSV): a prediction that is not a finite number is answered as an error, never as ``NaN``.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import traceback
from dataclasses import dataclass, field
from http import HTTPStatus

from sagestep_training import codec
from sagestep_training.errors import UserError
from sagestep_training.layout import Layout
from sagestep_training.predictor import NonFinitePrediction, Predictor, UnpredictableInput

PORT_ENV = "SAGEMAKER_BIND_TO_PORT"
HOST_ENV = "SAGESTEP_BIND_HOST"
DEFAULT_PORT = 8080
DEFAULT_HOST = "0.0.0.0"
MAX_BODY_BYTES = 100 * 1024 * 1024
"""SageMaker's largest payload (batch transform); real-time endpoints stop at 6 MB."""
MAX_HEAD_BYTES = 64 * 1024
"""Request line and headers; SageMaker's are a few hundred bytes."""
THREAD_BODY_BYTES = 256 * 1024
"""Larger bodies are decoded and predicted in a worker thread, so ``/ping`` and small requests on other
connections are not held up by a batch (the GIL is released at least every few milliseconds)."""


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    version: str
    headers: dict[str, str]
    """Names in lower case."""
    body: bytes = b""


@dataclass(frozen=True)
class Response:
    status: int
    payload: bytes
    media: str = codec.JSON
    extra_headers: dict[str, str] = field(default_factory=dict)


def respond(predictor: Predictor, request: Request) -> Response:
    """Route one request: the whole of the HTTP contract, without sockets."""
    path = request.path.split("?", 1)[0]
    if path not in ("/ping", "/invocations"):
        return _error(HTTPStatus.NOT_FOUND, f"no such resource {path}; use GET /ping or POST /invocations")
    allowed = "GET" if path == "/ping" else "POST"
    if request.method != allowed:
        return _error(
            HTTPStatus.METHOD_NOT_ALLOWED, f"{request.method} {path} is not supported; use {allowed}", allowed
        )
    if path == "/ping":
        return Response(HTTPStatus.OK, b"{}")
    try:
        media = codec.response_type(request.headers.get("accept"))
        invocation = codec.decode(
            request.body,
            request.headers.get("content-type"),
            predictor.feature_names,
            request.headers.get(codec.CUSTOM_ATTRIBUTES),
        )
        if not invocation.probabilities:
            return Response(HTTPStatus.OK, codec.encode(predictor.predict(invocation.features), media), media)
        if predictor.classes is None:
            return _error(
                HTTPStatus.BAD_REQUEST,
                f"probabilities are only for classification models; this model is a regression of "
                f"{predictor.target!r}: leave out probabilities",
            )
        labels, probabilities = predictor.predict_probabilities(invocation.features)
        return Response(HTTPStatus.OK, codec.encode(labels, media, probabilities), media)
    except codec.RequestError as error:
        return _error(error.status, error.message)
    except UnpredictableInput as error:
        return _error(HTTPStatus.BAD_REQUEST, str(error))
    except NonFinitePrediction as error:
        return _error(HTTPStatus.INTERNAL_SERVER_ERROR, str(error))
    except Exception as error:
        traceback.print_exc()
        return _error(HTTPStatus.INTERNAL_SERVER_ERROR, f"prediction failed: {error}")


def _error(status: int, message: str, allow: str | None = None) -> Response:
    return Response(status, codec.encode_error(message), extra_headers={"Allow": allow} if allow else {})


async def read_request(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> Request | None:
    """The next request on a connection, or ``None`` when the client has closed it between requests.

    Raises ``codec.RequestError`` for a request that cannot be read; the connection must then be closed.
    """
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except asyncio.IncompleteReadError as error:
        if error.partial.strip():
            raise codec.RequestError(HTTPStatus.BAD_REQUEST, "incomplete request head") from None
        return None
    except asyncio.LimitOverrunError:
        raise codec.RequestError(
            HTTPStatus.REQUEST_HEADER_FIELDS_TOO_LARGE, f"request head exceeds {MAX_HEAD_BYTES} bytes"
        ) from None
    request_line, *header_lines = head[:-4].decode("latin-1").split("\r\n")
    parts = request_line.split(" ")
    if len(parts) != 3 or parts[2] not in ("HTTP/1.1", "HTTP/1.0"):
        raise codec.RequestError(HTTPStatus.BAD_REQUEST, f"malformed request line {request_line[:100]!r}")
    headers: dict[str, str] = {}
    for line in header_lines:
        name, colon, value = line.partition(":")
        if not colon or not name or name != name.strip():
            raise codec.RequestError(HTTPStatus.BAD_REQUEST, f"malformed header line {line[:100]!r}")
        headers[name.lower()] = value.strip()
    length = headers.get("content-length")
    if "transfer-encoding" in headers or (length is None and parts[0] == "POST"):
        raise codec.RequestError(HTTPStatus.LENGTH_REQUIRED, "send the body with a Content-Length header")
    if length is not None and not length.isdigit():
        raise codec.RequestError(HTTPStatus.BAD_REQUEST, f"invalid Content-Length {length[:100]!r}")
    if length is not None and int(length) > MAX_BODY_BYTES:
        raise codec.RequestError(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, f"the body exceeds {MAX_BODY_BYTES} bytes")
    if headers.get("expect", "").lower() == "100-continue":
        writer.write(b"HTTP/1.1 100 Continue\r\n\r\n")
    body = await reader.readexactly(int(length)) if length else b""
    return Request(parts[0], parts[1], parts[2], headers, body)


def wants_keep_alive(request: Request) -> bool:
    """HTTP/1.1 keeps a connection open unless told to close; HTTP/1.0 closes unless told otherwise."""
    connection = request.headers.get("connection", "").lower()
    if request.version == "HTTP/1.0":
        return "keep-alive" in connection
    return "close" not in connection


def _encode_response(response: Response, keep_alive: bool) -> bytes:
    lines = [
        f"HTTP/1.1 {response.status} {HTTPStatus(response.status).phrase}",
        f"Content-Type: {response.media}",
        f"Content-Length: {len(response.payload)}",
        *(f"{name}: {value}" for name, value in response.extra_headers.items()),
        "Connection: keep-alive" if keep_alive else "Connection: close",
    ]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + response.payload


async def serve_connection(predictor: Predictor, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Answer the requests of one connection in order until either side closes it."""
    try:
        while True:
            try:
                request = await read_request(reader, writer)
            except codec.RequestError as error:
                writer.write(_encode_response(_error(error.status, error.message), keep_alive=False))
                await writer.drain()
                return
            if request is None:
                return
            keep_alive = wants_keep_alive(request)
            if len(request.body) > THREAD_BODY_BYTES:
                response = await asyncio.to_thread(respond, predictor, request)
            else:
                response = respond(predictor, request)
            writer.write(_encode_response(response, keep_alive))
            await writer.drain()
            if not keep_alive:
                return
    except (ConnectionError, asyncio.IncompleteReadError):
        return  # the client went away mid-request or mid-response: nobody is left to answer
    finally:
        writer.close()


async def serve(predictor: Predictor, host: str, port: int) -> None:
    """Serve until SIGTERM (how SageMaker and the local runtime stop a container), then close cleanly."""
    loop = asyncio.get_running_loop()
    stop = loop.create_future()
    loop.add_signal_handler(signal.SIGTERM, stop.set_result, None)
    server = await asyncio.start_server(
        lambda reader, writer: serve_connection(predictor, reader, writer), host, port, limit=MAX_HEAD_BYTES
    )
    async with server:
        bound_host, bound_port = server.sockets[0].getsockname()[:2]
        print(
            f"serving {predictor.problem_type} model on http://{bound_host}:{bound_port}",
            file=sys.stderr,
            flush=True,
        )
        await stop


def run(layout: Layout) -> None:
    """Load ``model/`` and serve on ``$SAGESTEP_BIND_HOST:$SAGEMAKER_BIND_TO_PORT`` (port 0: a free one)."""
    predictor = Predictor(layout.model_dir)
    host = os.environ.get(HOST_ENV, DEFAULT_HOST)
    port = os.environ.get(PORT_ENV, str(DEFAULT_PORT))
    if not port.isdigit() or int(port) > 65535:
        raise UserError(f"{PORT_ENV}={port!r} is not a port number")
    asyncio.run(serve(predictor, host, int(port)))
