"""When a document fails (its own record says why, the folder goes on) or the whole job fails (explained)."""

from __future__ import annotations

import json
from typing import Any

from sagestep_service.platform import registry

MAX_CAUSE = 4000


def explain(error: str, cause: str | None, plan: dict[str, Any]) -> tuple[str, str]:
    """A short error name and a readable cause."""
    if error in {"States.Timeout", "TextractDeadlineExceeded"}:
        return (
            "TextractDeadlineExceeded",
            f"Textract did not finish the document within the deadline of {plan.get('deadlineSeconds', '?')} s",
        )
    try:
        details = json.loads(cause or "")
    except ValueError:
        details = None
    if isinstance(details, dict) and "errorMessage" in details:
        return str(details.get("errorType") or error), str(details["errorMessage"])[:MAX_CAUSE]
    return error, (cause or error)[:MAX_CAUSE]


def clean_up_abandoned(job: dict[str, Any], plan: dict[str, Any]) -> registry.Cleanup:
    """Nothing of an abandoned documents job keeps running: Textract jobs cannot be stopped and end on their own;
    what was written stays readable (the paragraphs written so far, the job area)."""
    return registry.Cleanup()
