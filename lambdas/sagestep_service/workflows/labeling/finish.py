"""The end of a batch: its report, the worker table on its record, and the reference's messages."""

from __future__ import annotations

from typing import Any

from sagestep_service.platform.failures import MAX_CAUSE
from sagestep_service.workflows.labeling import views


def success_message(record: dict[str, Any]) -> dict[str, Any]:
    """The reference's success message: ``{batchId, message, batchInfo: <as batch/show>, status: "SUCCESS"}``
    (``batchInfo`` without presigned URLs: they would expire long before anyone reads a stored message)."""
    info = views.batch_view(record, sagemaker=None, s3=None)
    batch_id = info.batchId
    jobs = sum(len(level.jobs) for level in info.levels)
    return {
        "batchId": batch_id,
        "message": f"Batch {batch_id} completed: {len(info.levels)} levels, {jobs} labeling jobs.",
        "batchInfo": info.model_dump(mode="json", exclude={"urlExpiresInSeconds", "urlExpiresAt"}),
        "status": "SUCCESS",
    }


def failure_message(batch_id: str, error: str, cause: str) -> dict[str, Any]:
    """The reference's failure message: ``{batchId, errorType, errorString, status: "FAILED"}``."""
    return {"batchId": batch_id, "errorType": error, "errorString": cause[:MAX_CAUSE], "status": "FAILED"}


def report(s3: Any, store: Any, job_id: str, plan: dict[str, Any]) -> dict[str, Any]:
    """Compute and store the batch's report; returns the record fields it set (``workers``, ``reportUri``)."""
    return {}
