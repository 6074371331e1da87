"""``/invocations`` payloads: request bodies to a float32 feature matrix, predictions to JSON or CSV.

The happy path is one numpy conversion; only a rejected request is looked at value by value, to name
the row, column and value that are wrong. Answers are strict JSON: a non-finite number raises instead
of being written as ``NaN``, which JSON parsers reject.

Class probabilities are asked for with ``probabilities=true`` in the ``X-Amzn-SageMaker-Custom-Attributes``
header (InvokeEndpoint's ``CustomAttributes``, forwarded verbatim to the container; works with CSV and
JSON bodies) or ``"probabilities": true`` in a JSON body.
"""

from __future__ import annotations

import csv
import io
import json
import math
import re
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any

import numpy as np

CSV = "text/csv"
JSON = "application/json"
CUSTOM_ATTRIBUTES = "x-amzn-sagemaker-custom-attributes"
"""The header SageMaker carries InvokeEndpoint's ``CustomAttributes`` in (lower case, as requests store
header names)."""
PROBABILITIES = "probabilities"
FLOAT32_MAX = float(np.finfo(np.float32).max)
PREDICTION_COLUMN = "prediction"
"""The first column of a CSV answer with probabilities; the class labels follow."""
_ATTRIBUTE_SEPARATORS = re.compile(r"[;,]")


@dataclass(frozen=True)
class Invocation:
    """A decoded ``/invocations`` request."""

    features: np.ndarray
    """float32 ``(rows, features)``, every value finite."""
    probabilities: bool
    """Whether class probabilities were asked for."""


class RequestError(Exception):
    """A request the server answers with ``status`` and ``message`` instead of predictions."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def response_type(accept: str | None) -> str:
    """The media type to answer with: the first of ``Accept`` that is CSV or JSON (JSON by default)."""
    for entry in (accept or "*/*").split(","):
        media = entry.split(";")[0].strip().lower()
        if media in (JSON, "application/*", "*/*"):
            return JSON
        if media in (CSV, "text/*"):
            return CSV
    raise RequestError(HTTPStatus.NOT_ACCEPTABLE, f"cannot answer with {accept!r}; accept {CSV} or {JSON}")


def decode(
    body: bytes, content_type: str | None, feature_names: list[str], custom_attributes: str | None = None
) -> Invocation:
    """Feature rows from a CSV body (no header) or a JSON one (``{"instances": rows}``, rows, or one row),
    and whether the body or ``custom_attributes`` ask for class probabilities."""
    media = (content_type or "").split(";")[0].strip().lower()
    if media not in (CSV, JSON):
        raise RequestError(
            HTTPStatus.UNSUPPORTED_MEDIA_TYPE, f"unsupported content type {content_type!r}; send {CSV} or {JSON}"
        )
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise RequestError(HTTPStatus.BAD_REQUEST, "the request body is not UTF-8 text") from None
    if media == CSV:
        rows, asked = _csv_rows(text), False
    else:
        rows, asked = _json_rows(text)
    if not rows:
        raise RequestError(HTTPStatus.BAD_REQUEST, "the request has no feature rows")
    probabilities = asked or _attribute_probabilities(custom_attributes)
    try:
        with np.errstate(over="ignore"):
            matrix = np.array(rows, dtype=np.float32)
    except (ValueError, TypeError, OverflowError):
        matrix = None
    if matrix is not None and matrix.ndim == 2 and matrix.shape[1] == len(feature_names) and np.isfinite(matrix).all():
        return Invocation(matrix, probabilities)
    raise RequestError(HTTPStatus.BAD_REQUEST, _explain(rows, feature_names))


def encode(predictions: list[Any], media: str, probabilities: list[dict[str, float]] | None = None) -> bytes:
    """``{"predictions": [...]}`` (with ``"probabilities"`` when given), or CSV: one prediction per line,
    or with probabilities a header line ``prediction,<label>,...`` and one line per row.

    Raises ``ValueError`` for a non-finite number rather than answer JSON that parsers reject.
    """
    if media == CSV:
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        if probabilities is None:
            writer.writerows([prediction] for prediction in predictions)
        else:
            labels = list(probabilities[0]) if probabilities else []
            writer.writerow([PREDICTION_COLUMN, *labels])
            for prediction, row in zip(predictions, probabilities, strict=True):
                writer.writerow([prediction, *row.values()])
        return buffer.getvalue().encode("utf-8")
    payload: dict[str, Any] = {"predictions": predictions}
    if probabilities is not None:
        payload[PROBABILITIES] = probabilities
    return json.dumps(payload, allow_nan=False).encode("utf-8")


def encode_error(message: str) -> bytes:
    """The JSON body of an error response."""
    return json.dumps({"error": message}).encode("utf-8")


def _csv_rows(text: str) -> list[Any]:
    return [row for row in csv.reader(io.StringIO(text)) if row]


def _json_rows(text: str) -> tuple[list[Any], bool]:
    """The rows of a JSON body, and its ``probabilities`` flag (``false`` unless given)."""
    try:
        payload = json.loads(text)
    except json.JSONDecodeError as error:
        raise RequestError(HTTPStatus.BAD_REQUEST, f"the request body is not valid JSON: {error}") from None
    asked = False
    if isinstance(payload, dict):
        asked = payload.get(PROBABILITIES, False)
        if not isinstance(asked, bool):
            raise RequestError(
                HTTPStatus.BAD_REQUEST, f'"probabilities" must be true or false, not {json.dumps(asked)}'
            )
    rows = payload.get("instances") if isinstance(payload, dict) else payload
    if not isinstance(rows, list):
        raise RequestError(
            HTTPStatus.BAD_REQUEST, 'send {"instances": [[...], ...]}, a list of rows, or one row as a list'
        )
    if rows and not any(isinstance(row, list) for row in rows):
        return [rows], asked
    return rows, asked


def _attribute_probabilities(custom_attributes: str | None) -> bool:
    """``probabilities=true|false`` among the ``;`` or ``,`` separated ``key=value`` custom attributes.

    Other attributes are ignored: the value is opaque to SageMaker and other tools may add their own.
    """
    for attribute in _ATTRIBUTE_SEPARATORS.split(custom_attributes or ""):
        key, equals, value = attribute.partition("=")
        if key.strip().lower() != PROBABILITIES:
            continue
        flag = value.strip().lower()
        if not equals or flag not in ("true", "false"):
            raise RequestError(
                HTTPStatus.BAD_REQUEST,
                f"custom attribute {attribute.strip()!r} is invalid: expected probabilities=true or false",
            )
        return flag == "true"
    return False


def _explain(rows: list[Any], feature_names: list[str]) -> str:
    """Why ``rows`` is not a matrix of finite float32 numbers with one column per feature."""
    expected = f"expected {len(feature_names)} features ({', '.join(feature_names)})"
    for number, row in enumerate(rows, start=1):
        if not isinstance(row, list):
            return f"row {number} is not a list of feature values; {expected}"
        if len(row) != len(feature_names):
            return f"row {number} has {len(row)} values; {expected}"
        for name, value in zip(feature_names, row, strict=True):
            problem = _value_problem(value)
            if problem:
                return f"row {number}, column {name!r}: {problem}"
    return f"feature rows must be lists of numbers; {expected}"


def _value_problem(value: object) -> str | None:
    """Why one feature value cannot go into the float32 model, or ``None`` when it can."""
    if not isinstance(value, int | float | str):
        return f"value {json.dumps(value)} is not a number"
    shown = value.strip() if isinstance(value, str) else json.dumps(value)
    try:
        number = float(value)
    except ValueError:
        return f"value {json.dumps(value)} is not a number"
    except OverflowError:  # an integer beyond float64
        number = math.inf
    # JSON's own infinities arrive as floats; a CSV value is infinite by name or by overflowing float64.
    named_infinity = isinstance(value, float) or shown.lstrip("+-").lower() in ("inf", "infinity")
    if math.isnan(number) or (math.isinf(number) and named_infinity):
        return f"value {shown} is not a finite number"
    if abs(number) > FLOAT32_MAX:
        return f"value {shown} is too large for the model's float32 range (magnitudes up to {FLOAT32_MAX:.3g})"
    return None
