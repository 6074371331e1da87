"""``serve``: the HTTP contract over a real socket, and the protocol edge cases in-process."""

from __future__ import annotations

import asyncio
import json
import socket

import pytest

from sagestep_training import serve
from sagestep_training.codec import RequestError
from sagestep_training.predictor import Predictor
from tests.container.conftest import Server, TrainedJob

ROW = "303.7,1663,6.50,14.1,145.6"
OTHER_ROW = "853.7,1938,5.65,15.6,1.2"


def test_ping_answers_when_the_model_is_loaded(regression_server: Server) -> None:
    status, headers, _ = regression_server.request("GET", "/ping")
    assert status == 200
    assert headers["Content-Type"] == "application/json"


@pytest.mark.parametrize(
    ("body", "content_type", "rows"),
    [
        pytest.param(ROW, "text/csv", 1, id="csv-one-row"),
        pytest.param(f"{ROW}\n{OTHER_ROW}\n", "text/csv; charset=utf-8", 2, id="csv-rows"),
        pytest.param(
            json.dumps({"instances": [[303.7, 1663, 6.5, 14.1, 145.6]]}), "application/json", 1, id="instances"
        ),
        pytest.param(json.dumps([[303.7, 1663, 6.5, 14.1, 145.6]] * 3), "application/json", 3, id="json-rows"),
        pytest.param(json.dumps([303.7, 1663, 6.5, 14.1, 145.6]), "application/json", 1, id="json-one-row"),
    ],
)
def test_invocations_take_csv_and_json(regression_server: Server, body: str, content_type: str, rows: int) -> None:
    status, payload = regression_server.invoke(body, content_type)
    assert status == 200
    predictions = json.loads(payload)["predictions"]
    assert len(predictions) == rows
    assert all(isinstance(value, float) for value in predictions)


def test_csv_and_json_requests_predict_the_same(regression_server: Server) -> None:
    from_csv = regression_server.predict_csv([ROW, OTHER_ROW])
    _, payload = regression_server.invoke(
        json.dumps({"instances": [ROW.split(","), OTHER_ROW.split(",")]}), "application/json"
    )
    assert json.loads(payload)["predictions"] == from_csv


def test_a_large_batch_is_answered_whole(regression_server: Server) -> None:
    # Given a body above the size that is decoded and predicted in a worker thread
    rows = [ROW, OTHER_ROW] * 6000
    assert len("\n".join(rows)) > serve.THREAD_BODY_BYTES
    # Then every row gets its prediction, in order
    predictions = regression_server.predict_csv(rows)
    assert len(predictions) == len(rows)
    assert predictions[:2] * 6000 == predictions


def test_accept_text_csv_answers_one_prediction_per_line(regression_server: Server) -> None:
    status, payload = regression_server.invoke(f"{ROW}\n{OTHER_ROW}", "text/csv", accept="text/csv")
    assert status == 200
    lines = payload.decode().splitlines()
    assert [float(line) for line in lines] == pytest.approx(regression_server.predict_csv([ROW, OTHER_ROW]))


def test_classification_answers_the_original_labels(classification_server: Server) -> None:
    status, payload = classification_server.invoke("0.5,40,50,2000\n11.5,105,30,900", "text/csv", accept="text/csv")
    assert status == 200
    assert payload.decode().splitlines() == ["normal", "fault"]


@pytest.mark.parametrize(
    ("body", "content_type", "message"),
    [
        pytest.param("1,2,3", "text/csv", "row 1 has 3 values; expected 5 features (rainfall_mm,", id="too-few"),
        pytest.param(f"{ROW}\n{ROW},9", "text/csv", "row 2 has 6 values", id="ragged"),
        pytest.param(
            ROW.replace("6.50", "acid"), "text/csv", 'row 1 has a value that is not a finite number: "acid"', id="text"
        ),
        pytest.param(ROW.replace("6.50", "nan"), "text/csv", "not a finite number", id="nan"),
        pytest.param("", "text/csv", "the request has no feature rows", id="empty"),
        pytest.param("[[1, 2", "application/json", "not valid JSON", id="bad-json"),
        pytest.param('{"rows": [[1]]}', "application/json", 'send {"instances"', id="no-instances"),
        pytest.param("[[303.7, 1663, null, 14.1, 145.6]]", "application/json", "not a finite number: null", id="null"),
    ],
)
def test_malformed_input_is_a_400_that_says_what_is_wrong(
    regression_server: Server, body: str, content_type: str, message: str
) -> None:
    status, payload = regression_server.invoke(body, content_type)
    assert status == 400
    assert message in json.loads(payload)["error"]


def test_unsupported_content_type_is_a_415(regression_server: Server) -> None:
    status, payload = regression_server.invoke(ROW, "application/x-npy")
    assert status == 415
    assert "text/csv or application/json" in json.loads(payload)["error"]


def test_unsupported_accept_is_a_406(regression_server: Server) -> None:
    status, _ = regression_server.invoke(ROW, "text/csv", accept="application/xml")
    assert status == 406


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [("GET", "/invocations", 405), ("POST", "/ping", 405), ("GET", "/models", 404)],
)
def test_unknown_routes_and_methods(regression_server: Server, method: str, path: str, status: int) -> None:
    assert regression_server.request(method, path, b"" if method == "POST" else None)[0] == status


def test_one_connection_carries_many_requests_including_pipelined_ones(regression_server: Server) -> None:
    request = (
        f"POST /invocations HTTP/1.1\r\nHost: x\r\nContent-Type: text/csv\r\nContent-Length: {len(ROW)}\r\n\r\n{ROW}"
    ).encode()
    with socket.create_connection(("127.0.0.1", regression_server.port), timeout=10) as connection:
        connection.sendall(request * 3)
        received = b""
        while received.count(b"HTTP/1.1 200 OK") < 3 or not received.endswith(b"]}"):
            received += connection.recv(65536)
    assert received.count(b'{"predictions": [') == 3


def test_a_post_without_content_length_is_a_411_and_closes(regression_server: Server) -> None:
    with socket.create_connection(("127.0.0.1", regression_server.port), timeout=10) as connection:
        connection.sendall(b"POST /invocations HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n")
        received = b""
        while chunk := connection.recv(65536):
            received += chunk
    assert received.startswith(b"HTTP/1.1 411 Length Required")
    assert b"Connection: close" in received


def read(data: bytes) -> tuple[serve.Request | None, bytes]:
    """Run ``read_request`` on ``data``; returns the request and what was written back (interim 100)."""

    class Writer:
        written = b""

        def write(self, chunk: bytes) -> None:
            Writer.written += chunk

    async def run() -> serve.Request | None:
        reader = asyncio.StreamReader(limit=serve.MAX_HEAD_BYTES)
        reader.feed_data(data)
        reader.feed_eof()
        return await serve.read_request(reader, Writer())  # type: ignore[arg-type]

    return asyncio.run(run()), Writer.written


def test_expect_100_continue_gets_the_interim_response() -> None:
    request, written = read(b"POST /invocations HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\n1,2")
    assert written == b"HTTP/1.1 100 Continue\r\n\r\n"
    assert request is not None
    assert request.body == b"1,2"


def test_a_closed_idle_connection_is_not_an_error() -> None:
    assert read(b"") == (None, b"")


@pytest.mark.parametrize(
    ("data", "status"),
    [
        (b"GARBAGE\r\n\r\n", 400),
        (b"GET /ping HTTP/2\r\n\r\n", 400),
        (b"GET /ping HTTP/1.1\r\nno colon\r\n\r\n", 400),
        (b"POST /invocations HTTP/1.1\r\nContent-Length: -1\r\n\r\n", 400),
        (b"POST /invocations HTTP/1.1\r\nContent-Length: 999999999999\r\n\r\n", 413),
        (b"GET /ping HTTP/1.1\r\nX: " + b"a" * serve.MAX_HEAD_BYTES + b"\r\n\r\n", 431),
        (b"GET /ping HTTP/1.1\r\nHost: x\r\n", 400),
    ],
)
def test_unreadable_requests_are_rejected(data: bytes, status: int) -> None:
    with pytest.raises(RequestError) as raised:
        read(data)
    assert raised.value.status == status


def test_http_1_0_closes_unless_asked_to_keep_alive(regression_job: TrainedJob) -> None:
    predictor = Predictor(regression_job.layout.model_dir)
    request = serve.Request("GET", "/ping", "HTTP/1.0", {})
    assert serve.respond(predictor, request).status == 200
    assert not serve.wants_keep_alive(request)
    assert serve.wants_keep_alive(serve.Request("GET", "/ping", "HTTP/1.0", {"connection": "keep-alive"}))
    assert not serve.wants_keep_alive(serve.Request("GET", "/ping", "HTTP/1.1", {"connection": "close"}))
