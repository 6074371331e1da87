"""The documents workflow's event-driven wait: a Textract analysis job ending. Textract emits no EventBridge event;
it publishes to the job's SNS ``NotificationChannel``, which the platform's WaitResume function is subscribed to."""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from sagestep_service.platform.waits import Outcome, Waiter

#: What the SNS adapter (``platform.waits.resume_notification``) names Textract's completion messages.
NOTIFICATION_TYPE = "Textract Job Completion"


class TextractJobWaiter:
    """A Textract StartDocumentAnalysis job reaching SUCCEEDED / PARTIAL_SUCCESS (the document goes on) or FAILED."""

    resource_type = "textract-job"
    detail_type = NOTIFICATION_TYPE

    def check(self, clients: Any, name: str, expect: dict[str, Any]) -> Outcome | None:
        try:
            answer = clients.textract.get_document_analysis(JobId=name, MaxResults=1)
        except ClientError as exc:
            if exc.response["Error"]["Code"] == "InvalidJobIdException":
                return Outcome(error="TextractJobFailed", cause=f"Textract job {name} does not exist")
            raise
        status = str(answer.get("JobStatus"))
        if status in {"SUCCEEDED", "PARTIAL_SUCCESS"}:
            return Outcome(output={"jobId": name, "status": status})
        if status == "FAILED":
            reason = answer.get("StatusMessage") or "no reason given"
            return Outcome(error="TextractJobFailed", cause=f"Textract job {name} failed: {reason}")
        return None

    def name_in(self, detail: dict[str, Any]) -> str:
        return str(detail.get("JobId", ""))

    def from_event(self, clients: Any, detail: dict[str, Any], expect: dict[str, Any]) -> Outcome | None:
        # The message's Status is SUCCEEDED, FAILED or ERROR; the job's own status (and a failure's reason, a partial
        # success's warnings) is read from Textract.
        return self.check(clients, self.name_in(detail), expect)

    @staticmethod
    def accepts(message: dict[str, Any]) -> bool:
        """Whether an SNS message is Textract's completion message."""
        return "JobId" in message and str(message.get("API", "")).startswith("Start")


WAITERS: tuple[Waiter, ...] = (TextractJobWaiter(),)
