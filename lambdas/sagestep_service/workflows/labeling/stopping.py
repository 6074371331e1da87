"""Stopping a running batch (``POST /batch/{batchId}/stop``) through its own failure path.

The record gets ``stopRequestedAt`` (only while the batch runs) and its running labeling jobs are stopped at once:
their ``.sync`` tasks then fail (``Stopped``), and ``Advance`` checks the flag between levels. Either way the failure
path stops what still runs, records STOPPED and sends the batch's one message. Stopping the execution instead would
skip all of that (and raise the operators' aborted-execution alarm).
"""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from sagestep_service.platform.jobs import JobStore
from sagestep_service.platform.stopping import STOP_FIELD, StopRequested, check, request_stop
from sagestep_service.platform.submission import execution_plan
from sagestep_service.workflows.labeling import RUNNING_STATUSES
from sagestep_service.workflows.labeling.failure import stop_labeling_jobs

__all__ = ["STOP_FIELD", "StopRequested", "check", "stop", "stop_if_requested"]


def stop(sagemaker: Any, store: JobStore, record: dict[str, Any]) -> dict[str, Any]:
    """Flag ``record``'s batch as stopping and stop its running labeling jobs; returns the record as it is now."""
    batch = record.get("request", {}).get("batchId", record["jobId"])
    flagged = request_stop(store, record, RUNNING_STATUSES, f"batch {batch}")
    stop_labeling_jobs(sagemaker, execution_plan(record))
    return flagged


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
