"""Stopping a running translation job (``DELETE /translation/{jobId}``) through its own failure path.

The record gets ``stopRequestedAt`` (only while the job runs) and the job's running Translate jobs are stopped at
once: a wait on one of them is resumed by its STOPPED event; staging and restore check the flag at each call
(``StopRequested``). Either way the failure path stops what still runs, removes the staging area, records ERROR
(``StoppedByOwner``) and sends the job's one message. Stopping the execution instead would skip all of that (and
raise the operators' aborted-execution alarm).
"""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from sagestep_service.platform.errors import Conflict
from sagestep_service.platform.jobs import JobStore, now_iso
from sagestep_service.workflows.translation import RUNNING_STATUSES
from sagestep_service.workflows.translation.failure import stop_translate_jobs

STOP_FIELD = "stopRequestedAt"


class StopRequested(Exception):
    """The job's owner asked to stop it (raised by the task functions, caught by the failure path)."""


def stop(clients: Any, store: JobStore, record: dict[str, Any]) -> dict[str, Any]:
    """Flag ``record``'s job as stopping and stop its running Translate jobs; returns the record as it is now."""
    job_id = str(record["jobId"])
    status = str(record.get("status"))
    if status not in RUNNING_STATUSES:
        raise Conflict(f"translation job {job_id} has already ended ({status})")
    at = now_iso()
    try:
        store.update(job_id, set_fields={STOP_FIELD: at}, expected_status=status)
    except ClientError as exc:
        if exc.response["Error"]["Code"] == "ConditionalCheckFailedException":
            raise Conflict(f"translation job {job_id} changed meanwhile; try again") from exc
        raise
    stop_translate_jobs(clients.translate, job_id)
    return {**record, STOP_FIELD: at}


def check(store: JobStore, job_id: str) -> None:
    """Raise :class:`StopRequested` if the job's owner asked to stop it."""
    record = store.get(job_id) or {}
    if record.get(STOP_FIELD):
        raise StopRequested(f"stopped by its owner at {record[STOP_FIELD]}")
