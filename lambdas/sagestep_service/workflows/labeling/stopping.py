"""Stopping a running batch (``POST /batch/{batchId}/stop``) through its own failure path.

The record gets ``stopRequestedAt`` (only while the batch runs) and its running labeling jobs are stopped at once:
their ``.sync`` tasks then fail (``Stopped``), and ``Advance`` checks the flag between levels. Either way the failure
path stops what still runs, records STOPPED and sends the batch's one message. Stopping the execution instead would
skip all of that (and raise the operators' aborted-execution alarm).
"""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from sagestep_service.platform.errors import Conflict
from sagestep_service.platform.jobs import JobStore, now_iso
from sagestep_service.platform.submission import execution_plan
from sagestep_service.workflows.labeling import RUNNING_STATUSES
from sagestep_service.workflows.labeling.failure import stop_labeling_jobs

STOP_FIELD = "stopRequestedAt"


class StopRequested(Exception):
    """The batch's owner asked to stop it (raised by the task functions, caught by the failure path)."""


def stop(sagemaker: Any, store: JobStore, record: dict[str, Any]) -> dict[str, Any]:
    """Flag ``record``'s batch as stopping and stop its running labeling jobs; returns the record as it is now."""
    job_id = str(record["jobId"])
    status = str(record.get("status"))
    batch = record.get("request", {}).get("batchId", job_id)
    if status not in RUNNING_STATUSES:
        raise Conflict(f"batch {batch} has already ended ({status})")
    at = now_iso()
    try:
        store.update(job_id, set_fields={STOP_FIELD: at}, expected_status=status)
    except ClientError as exc:
        if exc.response["Error"]["Code"] == "ConditionalCheckFailedException":
            raise Conflict(f"batch {batch} changed meanwhile; try again") from exc
        raise
    stop_labeling_jobs(sagemaker, execution_plan(record))
    return {**record, STOP_FIELD: at}


def check(store: JobStore, job_id: str) -> None:
    """Raise :class:`StopRequested` if the batch's owner asked to stop it."""
    record = store.get(job_id) or {}
    if record.get(STOP_FIELD):
        raise StopRequested(f"stopped by its owner at {record[STOP_FIELD]}")


def stop_if_requested(sagemaker: Any, store: JobStore, stack: str, labeling_job_name: str) -> bool:
    """A labeling job of this stack that started after its batch's stop request (created by a Map iteration already
    past the flag): stop it now. Called for every "SageMaker Ground Truth Labeling Job State Change" to InProgress,
    so no job of a stopped batch keeps running, whenever it was created. True when it stopped the job."""
    try:
        job = sagemaker.describe_labeling_job(LabelingJobName=labeling_job_name)
    except ClientError as exc:
        if exc.response["Error"]["Code"] in ("ResourceNotFound", "ValidationException"):
            return False
        raise
    tags = {tag["Key"]: tag.get("Value", "") for tag in job.get("Tags") or []}
    if tags.get("sagestep:stack") != stack or not tags.get("sagestep:job-id"):
        return False  # another stack's or nobody's: not ours to stop
    record = store.get(tags["sagestep:job-id"]) or {}
    if not record.get(STOP_FIELD) or job.get("LabelingJobStatus") not in ("InProgress", "Initializing"):
        return False
    try:
        sagemaker.stop_labeling_job(LabelingJobName=labeling_job_name)
    except ClientError as exc:
        if exc.response["Error"]["Code"] != "ValidationException":  # it ended meanwhile
            raise
        return False
    return True
