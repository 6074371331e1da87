"""Reading a job's paragraph rows back for its owner, page by page (a Query on the paragraphs table)."""

from __future__ import annotations

import base64
import json
from decimal import Decimal
from typing import Any

from sagestep_service.platform.errors import BadRequest
from sagestep_service.workflows.documents.models import ParagraphPage, ParagraphView


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def encode(last_key: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(last_key).encode()).decode()


def decode(cursor: str, job_id: str, prefix: str = "") -> dict[str, Any]:
    """The start key a cursor names; it must be within the listing (this job, the asked document's ``prefix``):
    DynamoDB refuses a start key outside the key condition with a ValidationException."""
    try:
        key = json.loads(base64.urlsafe_b64decode(cursor.encode()))
    except (ValueError, TypeError):
        key = None
    if (
        not isinstance(key, dict)
        or key.get("jobId") != job_id
        or not isinstance(key.get("position"), str)
        or not key["position"].startswith(prefix)
    ):
        raise BadRequest("cursor", "is not a cursor this job's paragraphs listing returned")
    return {"jobId": job_id, "position": key["position"]}


def page(table: Any, job_id: str, limit: int, cursor: str | None, document: int | None) -> ParagraphPage:
    from boto3.dynamodb.conditions import Key

    condition: Any = Key("jobId").eq(job_id)
    prefix = f"{document:05d}#" if document is not None else ""
    if prefix:
        condition = condition & Key("position").begins_with(prefix)
    kwargs: dict[str, Any] = {"KeyConditionExpression": condition, "Limit": limit}
    if cursor:
        kwargs["ExclusiveStartKey"] = decode(cursor, job_id, prefix)
    answer = table.query(**kwargs)
    items = [ParagraphView.model_validate(_plain(item)) for item in answer.get("Items", [])]
    last = answer.get("LastEvaluatedKey")
    return ParagraphPage(items=items, nextCursor=encode(_plain(last)) if last else None)
