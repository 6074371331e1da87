"""``/invocations`` payloads: request bodies to a float32 feature matrix, predictions to JSON or CSV.

The happy path is one numpy conversion; only a rejected request is looked at value by value, to name
the row and value that are wrong.
"""

from __future__ import annotations

import csv
import io
import json
import math
from http import HTTPStatus
from typing import Any

import numpy as np

CSV = "text/csv"
JSON = "application/json"


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


def decode(body: bytes, content_type: str | None, feature_names: list[str]) -> np.ndarray:
    """Feature rows from a CSV body (no header) or a JSON one (``{"instances": rows}``, rows, or one row)."""
    media = (content_type or "").split(";")[0].strip().lower()
    if media not in (CSV, JSON):
        raise RequestError(
            HTTPStatus.UNSUPPORTED_MEDIA_TYPE, f"unsupported content type {content_type!r}; send {CSV} or {JSON}"
        )
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise RequestError(HTTPStatus.BAD_REQUEST, "the request body is not UTF-8 text") from None
    rows = _csv_rows(text) if media == CSV else _json_rows(text)
    if not rows:
        raise RequestError(HTTPStatus.BAD_REQUEST, "the request has no feature rows")
    try:
        matrix = np.array(rows, dtype=np.float32)
    except (ValueError, TypeError):
        matrix = None
    if matrix is not None and matrix.ndim == 2 and matrix.shape[1] == len(feature_names) and np.isfinite(matrix).all():
        return matrix
    raise RequestError(HTTPStatus.BAD_REQUEST, _explain(rows, feature_names))


def encode(predictions: list[Any], media: str) -> bytes:
    """``{"predictions": [...]}``, or one prediction per CSV line."""
    if media == CSV:
        buffer = io.StringIO()
        csv.writer(buffer, lineterminator="\n").writerows([prediction] for prediction in predictions)
        return buffer.getvalue().encode("utf-8")
    return json.dumps({"predictions": predictions}).encode("utf-8")


def encode_error(message: str) -> bytes:
    """The JSON body of an error response."""
    return json.dumps({"error": message}).encode("utf-8")


def _csv_rows(text: str) -> list[Any]:
    return [row for row in csv.reader(io.StringIO(text)) if row]


def _json_rows(text: str) -> list[Any]:
    try:
        payload = json.loads(text)
    except json.JSONDecodeError as error:
        raise RequestError(HTTPStatus.BAD_REQUEST, f"the request body is not valid JSON: {error}") from None
    rows = payload.get("instances") if isinstance(payload, dict) else payload
    if not isinstance(rows, list):
        raise RequestError(
            HTTPStatus.BAD_REQUEST, 'send {"instances": [[...], ...]}, a list of rows, or one row as a list'
        )
    if rows and not any(isinstance(row, list) for row in rows):
        return [rows]
    return rows


def _explain(rows: list[Any], feature_names: list[str]) -> str:
    """Why ``rows`` is not a matrix of finite numbers with one column per feature."""
    expected = f"expected {len(feature_names)} features ({', '.join(feature_names)})"
    for number, row in enumerate(rows, start=1):
        if not isinstance(row, list):
            return f"row {number} is not a list of feature values; {expected}"
        if len(row) != len(feature_names):
            return f"row {number} has {len(row)} values; {expected}"
        for value in row:
            if not _is_finite_number(value):
                return f"row {number} has a value that is not a finite number: {json.dumps(value)}"
    return f"feature rows must be lists of numbers; {expected}"


def _is_finite_number(value: object) -> bool:
    if not isinstance(value, int | float | str):
        return False
    try:
        return math.isfinite(float(value))
    except ValueError:
        return False
