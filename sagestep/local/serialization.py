"""boto3 responses as AWS shows them in JSON: Step Functions outputs and EventBridge events.

boto3 parses timestamps into ``datetime`` objects and blobs into ``bytes``; neither is JSON. AWS writes them
in two ways, and the local mode writes each where AWS does:

- epoch milliseconds (``1700000000000``): the optimised SageMaker integration's outputs and the
  ``aws.sagemaker`` events (``json_safe``);
- ISO 8601 in UTC with milliseconds (``2026-11-22T14:05:11.527Z``): ``aws-sdk:*`` task outputs and the
  context object's times (``json_safe(value, timestamps="iso")``, ``aws_timestamp``).
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

TimestampFormat = Literal["epoch-millis", "iso"]


def json_safe(value: Any, timestamps: TimestampFormat = "epoch-millis") -> Any:
    """``value`` with datetimes as ``timestamps``, bytes and streamed bodies as text, ``ResponseMetadata`` removed."""
    if isinstance(value, dt.datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=dt.UTC)
        return int(value.timestamp() * 1000) if timestamps == "epoch-millis" else iso_timestamp(value)
    if isinstance(value, dict):
        return {k: json_safe(v, timestamps) for k, v in value.items() if k != "ResponseMetadata"}
    if isinstance(value, list | tuple):
        return [json_safe(v, timestamps) for v in value]
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    if hasattr(value, "read") and callable(value.read):  # botocore's StreamingBody
        return json_safe(value.read(), timestamps)
    return value


def iso_timestamp(moment: dt.datetime) -> str:
    """A time as Step Functions formats it: UTC, milliseconds and ``Z`` (``2026-11-22T14:05:11.527Z``)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    moment = moment.astimezone(dt.UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def aws_timestamp(iso: str) -> str:
    """An ISO 8601 time (Python's ``isoformat``) as Step Functions formats it."""
    return iso_timestamp(dt.datetime.fromisoformat(iso).astimezone(dt.UTC))
