"""Explaining a failure a state machine caught (``$.failure``: ``Error`` and ``Cause``) in words a user acts on."""

from __future__ import annotations

import json
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

#: A cause on a job record and in its notification is at most this long.
MAX_CAUSE = 4000


def explain_caught(
    error: str, cause: str | None, *, deadline: tuple[frozenset[str], str, str] | None = None
) -> tuple[str, str]:
    """A short error name and a readable cause. A task function's failure (``Cause`` is Lambda's error payload)
    becomes its exception's name and message; ``deadline`` = (the errors that mean the workflow's deadline passed,
    the name to record, the cause to record) for a workflow's own timeout; anything else is kept as caught."""
    if deadline is not None and error in deadline[0]:
        return deadline[1], deadline[2]
    try:
        details = json.loads(cause or "")
    except ValueError:
        details = None
    if isinstance(details, dict) and "errorMessage" in details:
        return str(details.get("errorType") or error), str(details["errorMessage"])[:MAX_CAUSE]
    return error, (cause or error)[:MAX_CAUSE]


class Failure(BaseModel):
    """What a state's Catch put in ``$.failure``."""

    model_config = ConfigDict(extra="ignore")

    Error: str = "Unknown"
    Cause: str | None = None


class FailureTask(BaseModel):
    """A workflow's failure function's event: the job, its plan and the caught error."""

    model_config = ConfigDict(extra="ignore")

    jobId: str
    plan: dict[str, Any] = Field(default_factory=dict)
    failure: Failure
