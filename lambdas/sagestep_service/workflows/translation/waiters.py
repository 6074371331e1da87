"""The translation workflow's event-driven wait: a Translate batch job ending, resumed by Translate's
"Translate TextTranslationJob State Change" event (``platform.waits``)."""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from sagestep_service.platform.waits import Outcome, Waiter
from sagestep_service.workflows.translation.translate_service import EVENT_DETAIL_TYPE, TERMINAL_STATUSES


class TranslateJobWaiter:
    """A Translate batch job reaching COMPLETED, COMPLETED_WITH_ERROR (both go on: the failed files are recorded),
    FAILED or STOPPED (the job fails)."""

    resource_type = "translate-job"
    detail_type = EVENT_DETAIL_TYPE

    def check(self, clients: Any, name: str, expect: dict[str, Any]) -> Outcome | None:
        try:
            properties = clients.translate.describe_text_translation_job(JobId=name)["TextTranslationJobProperties"]
        except ClientError as exc:
            if exc.response["Error"]["Code"] == "ResourceNotFoundException":
                return Outcome(error="TranslationJobFailed", cause=f"Translate job {name} does not exist")
            raise
        return self._outcome(name, str(properties.get("JobStatus")), properties)

    def name_in(self, detail: dict[str, Any]) -> str:
        return str(detail.get("jobId", ""))

    def from_event(self, clients: Any, detail: dict[str, Any], expect: dict[str, Any]) -> Outcome | None:
        status = str(detail.get("jobStatus", ""))
        if status not in TERMINAL_STATUSES:
            return None
        if status == "FAILED":
            # The event carries no reason; the job's description has it.
            return self.check(clients, self.name_in(detail), expect)
        return self._outcome(self.name_in(detail), status, detail)

    @staticmethod
    def _outcome(name: str, status: str, properties: dict[str, Any]) -> Outcome | None:
        if status in {"COMPLETED", "COMPLETED_WITH_ERROR"}:
            return Outcome(output={"translateJobId": name, "translateJobStatus": status})
        if status == "FAILED":
            reason = properties.get("Message") or "no reason given"
            return Outcome(error="TranslationJobFailed", cause=f"Translate job {name} failed: {reason}")
        if status == "STOPPED":
            return Outcome(error="TranslationJobStopped", cause=f"Translate job {name} was stopped")
        return None


WAITERS: tuple[Waiter, ...] = (TranslateJobWaiter(),)
