"""When a document fails (its own record says why, the folder goes on) or the whole job fails (explained)."""

from __future__ import annotations

from typing import Any

from sagestep_service.platform import registry
from sagestep_service.platform.failures import explain_caught

#: What the state machine catches when the deadline passed (the Map names it; ``States.Timeout`` elsewhere).
DEADLINE_ERRORS = frozenset({"States.Timeout", "TextractDeadlineExceeded"})


def explain(error: str, cause: str | None, plan: dict[str, Any]) -> tuple[str, str]:
    """A short error name and a readable cause for the job record and the notification."""
    seconds = plan.get("deadlineSeconds", "?")
    deadline = (
        DEADLINE_ERRORS,
        "TextractDeadlineExceeded",
        f"Textract did not finish the document within the deadline of {seconds} s",
    )
    return explain_caught(error, cause, deadline=deadline)


def clean_up_abandoned(job: dict[str, Any], plan: dict[str, Any]) -> registry.Cleanup:
    """Nothing of an abandoned documents job keeps running: Textract jobs cannot be stopped and end on their own;
    what was written stays readable (the paragraphs written so far, the job area)."""
    return registry.Cleanup()
