"""An owner's request to stop a running job, as every workflow's stop route takes it: a flag on the record that the
job's own task functions and failure path read, so the job ends through its failure path (its resources cleaned up,
its one message sent) instead of an aborted execution (which would skip all that and raise the operators' alarm)."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from botocore.exceptions import ClientError

from sagestep_service.platform.errors import Conflict
from sagestep_service.platform.jobs import JobStore, now_iso

#: When the owner asked (ISO time) — present only on a job that was running then.
STOP_FIELD = "stopRequestedAt"


class StopRequested(Exception):
    """The job's owner asked to stop it (raised by the task functions, caught by the failure path)."""


def request_stop(store: JobStore, record: dict[str, Any], running: Collection[str], what: str) -> dict[str, Any]:
    """Flag ``record``'s job (``what``: how the owner names it, for the 409s) while it is in one of its ``running``
    statuses, with a conditional update; returns the record with the flag."""
    job_id = str(record["jobId"])
    status = str(record.get("status"))
    if status not in running:
        raise Conflict(f"{what} has already ended ({status})")
    at = now_iso()
    try:
        store.update(job_id, set_fields={STOP_FIELD: at}, expected_status=status)
    except ClientError as exc:
        if exc.response["Error"]["Code"] == "ConditionalCheckFailedException":
            raise Conflict(f"{what} changed meanwhile; try again") from exc
        raise
    return {**record, STOP_FIELD: at}


def check(store: JobStore, job_id: str) -> None:
    """Raise :class:`StopRequested` if the job's owner asked to stop it."""
    record = store.get(job_id) or {}
    if record.get(STOP_FIELD):
        raise StopRequested(f"stopped by its owner at {record[STOP_FIELD]}")
