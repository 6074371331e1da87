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
