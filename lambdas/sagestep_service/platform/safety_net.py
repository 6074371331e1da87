"""The safety net for executions that end outside their state machine's failure path.

One EventBridge rule sends every FAILED / TIMED_OUT / ABORTED execution of the stack's state machines here
(an execution stopped by hand, a runtime error no Catch sees, a timeout). If the execution's job still has
a running status, its failure path never ran: the job's workflow cleans up what the run created (its
registered cleanup), the record gets ERROR, and the job's one failure notification is sent.
"""

from __future__ import annotations

import json
from typing import Any

from botocore.exceptions import ClientError

from sagestep_service.platform import registry
from sagestep_service.platform.jobs import JobStore
from sagestep_service.platform.models import ERROR

MAX_CAUSE = 4000


def notification(job: dict[str, Any], error: str, cause: str) -> tuple[str, dict[str, Any]]:
    """The failure message and attributes, as every state machine's failure path publishes them."""
    message = {
        "jobId": job["jobId"],
        "kind": job["kind"],
        "status": ERROR,
        "summary": {"error": error, "cause": cause},
    }
    attributes = {
        "kind": {"DataType": "String", "StringValue": job["kind"]},
        "status": {"DataType": "String", "StringValue": ERROR},
    }
    return json.dumps(message), attributes


def close_abandoned(store: JobStore, sns: Any, topic_arn: str, detail: dict[str, Any]) -> dict[str, Any] | None:
    """An execution ended (failed, timed out, aborted): if its job still has a running status, record ERROR,
    clean up through the job's workflow and send the job's one notification.
    Returns what was recorded, or None when the job had already ended (or is no job of this stack)."""
    job = store.get(str(detail.get("name", "")))
    if job is None or not registry.is_running(str(job.get("kind")), str(job.get("status"))):
        return None
    status = str(detail.get("status", "FAILED"))
    error = f"Execution{status.replace('_', ' ').title().replace(' ', '')}"
    cause = str(detail.get("cause") or detail.get("error") or f"the workflow's execution ended {status}")[:MAX_CAUSE]
    try:
        plan = json.loads(detail.get("input") or "{}").get("plan", {})
    except ValueError:
        plan = {}
    workflow = registry.for_kind(job["kind"])
    cleanup = registry.Cleanup()
    if workflow is not None and workflow.cleanup:
        cleanup = registry.resolve(workflow.cleanup)(job, plan)
    if cleanup.left:
        cause += f" (not cleaned up: {'; '.join(cleanup.left)})"
    try:
        store.update(
            job["jobId"],
            status=ERROR,
            set_fields={"error": error, "errorCause": cause},
            remove_fields=("expiresAt",),  # a job that ended is kept, like every job whose execution started
            expected_status=job["status"],
        )
    except ClientError as exc:
        if exc.response["Error"]["Code"] == "ConditionalCheckFailedException":
            return None  # the job moved on meanwhile (its own failure path recorded it)
        raise
    message, attributes = notification(job, error, cause)
    sns.publish(TopicArn=topic_arn, Message=message, MessageAttributes=attributes)
    return {"jobId": job["jobId"], "error": error, "cause": cause, "cleanedUp": cleanup.deleted}
