"""Stopping a running translation job (``DELETE /translation/{jobId}``): its Translate jobs are stopped at once and
its execution is stopped; the platform's safety net then removes the staging area, records ERROR
(``ExecutionAborted``, with the stop's cause) and sends the job's one message."""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from sagestep_service.platform.errors import Conflict
from sagestep_service.workflows.translation import RUNNING_STATUSES
from sagestep_service.workflows.translation.failure import stop_translate_jobs
from sagestep_service.workflows.translation.settings import TranslationSettings


def stop(clients: Any, settings: TranslationSettings, record: dict[str, Any]) -> dict[str, Any]:
    """Stop ``record``'s job; returns the record as it is now (still running until the safety net closes it)."""
    job_id = str(record["jobId"])
    if record.get("status") not in RUNNING_STATUSES:
        raise Conflict(f"translation job {job_id} has already ended ({record.get('status')})")
    stop_translate_jobs(clients.translate, job_id)
    execution = settings.translation_state_machine_arn.replace(":stateMachine:", ":execution:") + f":{job_id}"
    try:
        clients.stepfunctions.stop_execution(
            executionArn=execution, error="StoppedByOwner", cause=f"stopped by its owner (DELETE /translation/{job_id})"
        )
    except ClientError as exc:
        if exc.response["Error"]["Code"] not in {"ExecutionDoesNotExist"}:
            raise
    return record
