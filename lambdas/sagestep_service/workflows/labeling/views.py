"""What ``GET /batch/show`` answers, and the ``batchInfo`` of the batch's notification, from its record.

The record holds the levels as ``Advance`` left them; a job still labeling is described live (its item counters
move while workers work), and every manifest gets a presigned GET signed at this request, its expiry stated.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

from botocore.exceptions import ClientError

from sagestep_service.platform import objects
from sagestep_service.platform.jobs import JobStore
from sagestep_service.workflows.labeling.models import (
    KIND,
    BatchList,
    BatchStatus,
    BatchView,
    JobCounts,
    JobStatus,
    LabelingJobView,
    LevelView,
    Link,
    WorkerView,
    item_counts,
)

#: The batch statuses a record's status stands for (SUBMITTED: claimed, its execution starting).
BATCH_STATUS = {
    "SUBMITTED": BatchStatus.IN_PROGRESS,
    "IN_PROGRESS": BatchStatus.IN_PROGRESS,
    "COMPLETE": BatchStatus.COMPLETE,
    "FAILED": BatchStatus.FAILED,
    "STOPPED": BatchStatus.STOPPED,
}
_LIVE = {"InProgress": JobStatus.IN_PROGRESS, "Initializing": JobStatus.IN_PROGRESS, "Stopping": JobStatus.STOPPING}
_COUNTS = {
    JobStatus.PENDING: "pending",
    JobStatus.SKIPPED: "skipped",
    JobStatus.IN_PROGRESS: "inProgress",
    JobStatus.STOPPING: "inProgress",
    JobStatus.COMPLETED: "completed",
    JobStatus.FAILED: "failed",
    JobStatus.STOPPED: "stopped",
}
#: Workers shown by ``GET /batch/show`` (the report has every one).
MAX_WORKERS = 50


def _records(store: JobStore, owner: str) -> Iterator[dict[str, Any]]:
    cursor: str | None = None
    while True:
        items, cursor = store.page(owner, KIND, 100, cursor)
        yield from items
        if not cursor:
            return


def batch_list(store: JobStore, owner: str) -> BatchList:
    """The caller's batch ids grouped by status (newest first), as the reference answers."""
    groups: dict[str, list[str]] = {status.value: [] for status in BatchStatus}
    for record in _records(store, owner):
        status = BATCH_STATUS.get(str(record.get("status")), BatchStatus.IN_PROGRESS)
        groups[status.value].append(str(record.get("request", {}).get("batchId", record["jobId"])))
    return BatchList.model_validate(groups)


def _live(sagemaker: Any, job: dict[str, Any]) -> dict[str, Any]:
    """A running job as Ground Truth reports it now (the record's view when it cannot be described)."""
    try:
        description = sagemaker.describe_labeling_job(LabelingJobName=job["labelingJobName"])
    except ClientError:
        return job
    status = _LIVE.get(description.get("LabelingJobStatus", ""), JobStatus(job["status"]))
    counts = item_counts(description.get("LabelCounters") or {}, job.get("itemCounts"))
    return {**job, "status": str(status), "itemCounts": counts}


def _level_status(entry: dict[str, Any], jobs: list[LabelingJobView]) -> str:
    statuses = {job.status for job in jobs}
    if JobStatus.FAILED in statuses:
        return "FAILED"
    if JobStatus.STOPPED in statuses or JobStatus.STOPPING in statuses:
        return "STOPPED"
    return str(entry.get("status", "PENDING"))


def levels(record: dict[str, Any], sagemaker: Any | None = None) -> list[LevelView]:
    """The batch's levels; with ``sagemaker``, running jobs described live."""
    views = []
    entries = record.get("levels")
    if not entries and record.get("executionInput"):
        # Submitted, not started yet: every level PENDING, as the plan has them.
        from sagestep_service.platform.submission import execution_plan
        from sagestep_service.workflows.labeling.levels import initial_levels

        entries = initial_levels(execution_plan(record))
    for entry in entries or []:
        jobs = []
        for job in entry.get("jobs", []):
            if sagemaker is not None and job.get("status") == JobStatus.IN_PROGRESS:
                job = _live(sagemaker, job)
            jobs.append(LabelingJobView.model_validate(job))
        counts = JobCounts(total=len(jobs))
        for job in jobs:
            name = _COUNTS[job.status]
            setattr(counts, name, getattr(counts, name) + 1)
        views.append(
            LevelView(
                level=entry["level"],
                status=_level_status(entry, jobs),
                message=entry.get("message"),
                jobCounts=counts,
                jobs=jobs,
            )
        )
    return views


def _sign(s3: Any, link: Link, expiry: int) -> None:
    link.url = objects.presign_get(s3, link.s3Uri, expiry)


def batch_view(record: dict[str, Any], *, sagemaker: Any | None, s3: Any | None, expiry: int = 3600) -> BatchView:
    """The batch level by level, job by job; with ``s3`` every manifest and the report presigned."""
    status = BATCH_STATUS.get(str(record.get("status")), BatchStatus.IN_PROGRESS)
    view = BatchView(
        batchId=str(record.get("request", {}).get("batchId", record["jobId"])),
        status=status,
        createdAt=record.get("createdAt"),
        finishedAt=record.get("finishedAt"),
        error=record.get("errorCause") or record.get("error"),
        levels=levels(record, sagemaker if status == BatchStatus.IN_PROGRESS else None),
        workers=[WorkerView.model_validate(worker) for worker in (record.get("workers") or [])[:MAX_WORKERS]],
        report=Link(s3Uri=record["reportUri"]) if record.get("reportUri") else None,
        urlExpiresInSeconds=expiry if s3 is not None else 0,
        urlExpiresAt=int(time.time()) + expiry if s3 is not None else 0,
    )
    if s3 is not None:
        for level in view.levels:
            for job in level.jobs:
                for link in [*job.inputManifests, *([job.outputManifest] if job.outputManifest else [])]:
                    _sign(s3, link, expiry)
        if view.report is not None:
            _sign(s3, view.report, expiry)
    return view
