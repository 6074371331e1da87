"""Stopping a running translation job (``DELETE /translation/{jobId}``) through its own failure path.

The record gets ``stopRequestedAt`` (only while the job runs) and the job's running Translate jobs are stopped at
once: a wait on one of them is resumed by its STOPPED event; staging and restore check the flag at each call
(``StopRequested``). Either way the failure path stops what still runs, removes the staging area, records ERROR
(``StoppedByOwner``) and sends the job's one message. Stopping the execution instead would skip all of that (and
raise the operators' aborted-execution alarm).
"""

from __future__ import annotations

from typing import Any

from sagestep_service.platform.jobs import JobStore
from sagestep_service.platform.stopping import STOP_FIELD, StopRequested, check, request_stop
from sagestep_service.workflows.translation import RUNNING_STATUSES
from sagestep_service.workflows.translation.failure import stop_translate_jobs

__all__ = ["STOP_FIELD", "StopRequested", "check", "stop"]


def stop(clients: Any, store: JobStore, record: dict[str, Any]) -> dict[str, Any]:
    """Flag ``record``'s job as stopping and stop its running Translate jobs; returns the record as it is now."""
    flagged = request_stop(store, record, RUNNING_STATUSES, f"translation job {record['jobId']}")
    stop_translate_jobs(clients.translate, str(record["jobId"]))
    return flagged
