"""``serve``: the HTTP contract over a real socket, and the protocol edge cases in-process."""

from __future__ import annotations

import asyncio
import json
import math
import socket
from pathlib import Path
from typing import Any

import onnx
import pytest
from onnx import TensorProto, helper

from sagestep_training import artifacts, serve
from sagestep_training.codec import RequestError
from sagestep_training.predictor import Predictor
from tests.container.conftest import Server, TrainedJob

ROW = "303.7,1663,6.50,14.1,145.6"
OTHER_ROW = "853.7,1938,5.65,15.6,1.2"
MACHINE_ROWS = [[0.5, 40, 50, 2000], [11.5, 105, 30, 900]]
"""A normal and a faulty machine for the classification model (classes fault, normal, warning)."""
MACHINE_CSV = "\n".join(",".join(str(value) for value in row) for row in MACHINE_ROWS)
CUSTOM_ATTRIBUTES = "X-Amzn-SageMaker-Custom-Attributes"


def strict_json(payload: bytes) -> Any:
    """Parse ``payload`` as JSON that parsers other than Python's accept: no NaN or Infinity."""

    def reject(constant: str) -> None:
        raise ValueError(f"{constant} is not JSON")

    return json.loads(payload, parse_constant=reject)


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
            ROW.replace("6.50", "acid"), "text/csv", "row 1, column 'soil_ph': value \"acid\" is not a", id="text"
        ),
        pytest.param(
            ROW.replace("6.50", "nan"), "text/csv", "row 1, column 'soil_ph': value nan is not a finite", id="nan"
        ),
        pytest.param(
            f"{ROW}\n{ROW.replace('6.50', '1e308')}",
            "text/csv",
            "row 2, column 'soil_ph': value 1e308 is too large for the model's float32 range",
            id="csv-beyond-float32",
        ),
        pytest.param(
            json.dumps([[303.7, 1663, 6.5, 14.1, 145.6], [303.7, 1663, 6.5, 14.1, -1e308]]),
            "application/json",
            "row 2, column 'fertilizer_kg_ha': value -1e+308 is too large for the model's float32 range",
            id="json-beyond-float32",
        ),
        pytest.param(
            ROW.replace("6.50", "1e400"), "text/csv", "value 1e400 is too large for the model's float32", id="csv-inf"
        ),
        pytest.param(
            "[[303.7, 1663, NaN, 14.1, 145.6]]", "application/json", "value NaN is not a finite number", id="json-nan"
        ),
        pytest.param(
            ROW.replace("6.50", "3.4e38"),
            "text/csv",
            "row 1, column 'soil_ph': value 3.4e+38 is too far from the training data for the model's float32",
            id="scaling-beyond-float32",
        ),
        pytest.param("", "text/csv", "the request has no feature rows", id="empty"),
        pytest.param("[[1, 2", "application/json", "not valid JSON", id="bad-json"),
        pytest.param('{"rows": [[1]]}', "application/json", 'send {"instances"', id="no-instances"),
        pytest.param(
            "[[303.7, 1663, null, 14.1, 145.6]]", "application/json", "column 'soil_ph': value null is not", id="null"
        ),
    ],
)
def test_malformed_input_is_a_400_that_says_what_is_wrong(
    regression_server: Server, body: str, content_type: str, message: str
) -> None:
    status, payload = regression_server.invoke(body, content_type)
    assert status == 400
    assert message in strict_json(payload)["error"]


def test_extreme_but_representable_inputs_get_finite_predictions(regression_server: Server) -> None:
    # Given rows far outside the training data whose scaling still fits float32
    rows = [ROW.replace("303.7", "3e38"), ROW.replace("145.6", "-1e30")]
    # Then the answer is strict JSON with finite numbers
    status, payload = regression_server.invoke("\n".join(rows), "text/csv")
    assert status == 200
    assert all(math.isfinite(value) for value in strict_json(payload)["predictions"])


def fake_model(model_dir: Path, *, scale: float, weight: float) -> Predictor:
    """A one-feature regression model computing ``(x / scale) * weight`` in float32, with its meta.json."""
    model_dir.mkdir(parents=True, exist_ok=True)
    constants = {"scale": [scale], "weight": [weight], "shape": [-1]}
    graph = helper.make_graph(
        [
            helper.make_node("Div", [artifacts.INPUT_NAME, "scale"], ["scaled"]),
            helper.make_node("Mul", ["scaled", "weight"], ["product"]),
            helper.make_node("Reshape", ["product", "shape"], [artifacts.OUTPUT_NAME]),
        ],
        "fake",
        [helper.make_tensor_value_info(artifacts.INPUT_NAME, TensorProto.FLOAT, ["rows", 1])],
        [helper.make_tensor_value_info(artifacts.OUTPUT_NAME, TensorProto.FLOAT, ["rows"])],
        [
            helper.make_tensor(name, TensorProto.INT64 if name == "shape" else TensorProto.FLOAT, [1], values)
            for name, values in constants.items()
        ],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.save(model, str(model_dir / artifacts.ONNX_FILE))
    meta = {
        "problem_type": "regression",
        "feature_names": ["x"],
        "target": "y",
        "classes": None,
        "feature_scaler": {"mean": [0.0], "scale": [scale]},
    }
    artifacts.write_json(model_dir / artifacts.META_FILE, meta)
    return Predictor(model_dir)


def invoke(predictor: Predictor, body: str, headers: dict[str, str] | None = None) -> tuple[int, Any]:
    """``POST /invocations`` in-process: the status and the strictly parsed JSON body."""
    request = serve.Request(
        "POST", "/invocations", "HTTP/1.1", {"content-type": "text/csv", **(headers or {})}, body.encode()
    )
    response = serve.respond(predictor, request)
    return response.status, strict_json(response.payload)


def test_a_prediction_that_overflows_is_a_500_not_nan(tmp_path: Path) -> None:
    # Given a model whose output overflows float32 for large but scalable inputs
    predictor = fake_model(tmp_path, scale=1.0, weight=1e30)
    assert invoke(predictor, "2")[0] == 200
    # When a row's prediction overflows
    status, answer = invoke(predictor, "2\n1e10")
    # Then the answer is an error naming the row, never a NaN or Infinity
    assert status == 500
    assert answer["error"].startswith("the model's prediction for row 2 is not a finite number")
    assert "'x' = 1e+10, 1e+10 standard deviations from the mean" in answer["error"]


def test_an_input_whose_scaling_overflows_is_a_400(tmp_path: Path) -> None:
    predictor = fake_model(tmp_path, scale=1e-30, weight=1.0)
    status, answer = invoke(predictor, "1\n-1e10")
    assert status == 400
    assert answer["error"].startswith("row 2, column 'x': value -1e+10 is too far from the training data")


def test_classification_answers_probabilities_by_label_when_asked_in_the_json_body(
    classification_server: Server,
) -> None:
    # When a JSON request asks for probabilities
    body = json.dumps({"instances": MACHINE_ROWS, "probabilities": True})
    status, payload = classification_server.invoke(body, "application/json")
    # Then each row gets its label and a probability per class, keyed by the original labels in order
    assert status == 200
    answer = strict_json(payload)
    assert answer["predictions"] == ["normal", "fault"]
    assert [list(row) for row in answer["probabilities"]] == [["fault", "normal", "warning"]] * 2
    for label, row in zip(answer["predictions"], answer["probabilities"], strict=True):
        assert max(row, key=row.get) == label
        assert sum(row.values()) == pytest.approx(1.0, abs=1e-5)
        assert all(0 <= p <= 1 and round(p, 6) == p for p in row.values())


def test_probabilities_can_be_asked_for_in_custom_attributes_with_a_csv_body(classification_server: Server) -> None:
    # Given the answer to the JSON body flag
    body = json.dumps({"instances": MACHINE_ROWS, "probabilities": True})
    expected = strict_json(classification_server.invoke(body, "application/json")[1])
    # When a CSV request asks through InvokeEndpoint's CustomAttributes, among other attributes
    headers = {"Content-Type": "text/csv", CUSTOM_ATTRIBUTES: "trace-id=abc; probabilities=true"}
    status, _, payload = classification_server.request("POST", "/invocations", MACHINE_CSV.encode(), headers)
    # Then the answer is the same
    assert status == 200
    assert "probabilities" in expected
    assert strict_json(payload) == expected


def test_probabilities_as_csv_have_a_header_of_labels(classification_server: Server) -> None:
    headers = {"Content-Type": "text/csv", "Accept": "text/csv", CUSTOM_ATTRIBUTES: "probabilities=true"}
    status, _, payload = classification_server.request("POST", "/invocations", MACHINE_CSV.encode(), headers)
    assert status == 200
    header, *lines = payload.decode().splitlines()
    assert header == "prediction,fault,normal,warning"
    assert [line.split(",")[0] for line in lines] == ["normal", "fault"]
    assert all(sum(float(p) for p in line.split(",")[1:]) == pytest.approx(1.0, abs=1e-5) for line in lines)


@pytest.mark.parametrize(
    "headers",
    [{}, {CUSTOM_ATTRIBUTES: "probabilities=false"}, {CUSTOM_ATTRIBUTES: "trace-id=abc"}],
    ids=["no-attributes", "false", "other-attributes"],
)
def test_without_the_switch_the_answer_is_labels_only(classification_server: Server, headers: dict[str, str]) -> None:
    status, _, payload = classification_server.request(
        "POST", "/invocations", MACHINE_CSV.encode(), {"Content-Type": "text/csv", **headers}
    )
    assert status == 200
    assert strict_json(payload) == {"predictions": ["normal", "fault"]}


@pytest.mark.parametrize(
    ("body", "content_type", "headers", "message"),
    [
        pytest.param(
            MACHINE_CSV, "text/csv", {CUSTOM_ATTRIBUTES: "probabilities=yes"}, "'probabilities=yes' is", id="header"
        ),
        pytest.param(
            json.dumps({"instances": MACHINE_ROWS, "probabilities": "yes"}),
            "application/json",
            {},
            '"probabilities" must be true or false, not "yes"',
            id="body",
        ),
    ],
)
def test_an_invalid_probabilities_switch_is_a_400(
    classification_server: Server, body: str, content_type: str, headers: dict[str, str], message: str
) -> None:
    status, _, payload = classification_server.request(
        "POST", "/invocations", body.encode(), {"Content-Type": content_type, **headers}
    )
    assert status == 400
    assert message in strict_json(payload)["error"]


def test_regression_with_probabilities_is_a_400(regression_server: Server) -> None:
    status, _, payload = regression_server.request(
        "POST", "/invocations", ROW.encode(), {"Content-Type": "text/csv", CUSTOM_ATTRIBUTES: "probabilities=true"}
    )
    assert status == 400
    assert "probabilities are only for classification models" in strict_json(payload)["error"]


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
