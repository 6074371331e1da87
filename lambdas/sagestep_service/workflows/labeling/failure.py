"""When a batch fails or is stopped: stop its labeling jobs that still run, and explain the error in words a user
acts on (which job failed and Ground Truth's reason, the deadline, or the owner's stop request)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from botocore.exceptions import ClientError

from sagestep_service.platform import aws, registry
from sagestep_service.platform.failures import MAX_CAUSE, explain_caught
from sagestep_service.workflows.labeling.models import item_counts

#: What the state machine catches when a level's deadline passed (the Map names it; ``States.Timeout`` elsewhere).
DEADLINE_ERRORS = frozenset({"States.Timeout", "LabelingDeadlineExceeded"})
RUNNING = ("InProgress", "Initializing")


def stop_labeling_jobs(sagemaker: Any, plan: Mapping[str, Any]) -> tuple[registry.Cleanup, dict[str, dict[str, Any]]]:
    """Stop every labeling job of the batch that still runs; returns what was stopped and each created job's
    description (jobs never created are left out)."""
    cleanup = registry.Cleanup()
    described: dict[str, dict[str, Any]] = {}
    for job in plan.get("jobs", []):
        name = job["labelingJobName"]
        try:
            description = sagemaker.describe_labeling_job(LabelingJobName=name)
        except ClientError as exc:
            if exc.response["Error"]["Code"] in ("ResourceNotFound", "ValidationException"):
                continue  # never created
            cleanup.left.append(f"labeling-job/{name} ({exc.response['Error']['Code']})")
            continue
        described[job["name"]] = description
        if description.get("LabelingJobStatus") in RUNNING:
            try:
                sagemaker.stop_labeling_job(LabelingJobName=name)
                cleanup.deleted.append(f"labeling-job/{name} (stopped)")
            except ClientError as exc:
                cleanup.left.append(f"labeling-job/{name} ({exc.response['Error']['Code']})")
    return cleanup, described


def explain(error: str, cause: str | None, plan: Mapping[str, Any], described: Mapping[str, Any]) -> tuple[str, str]:
    """A short error name and a readable cause: a labeling job that failed or was stopped is named with Ground
    Truth's reason (read from the job, not from the caught cause, which may be another iteration's)."""
    seconds = plan.get("deadlineSeconds", "?")
    if error in DEADLINE_ERRORS:
        return "LabelingDeadlineExceeded", f"a level's labeling jobs did not finish within {seconds} s"
    for name, description in described.items():
        status = description.get("LabelingJobStatus")
        if status == "Failed":
            reason = description.get("FailureReason") or "no reason given"
            return "LabelingJobFailed", f"labeling job {name} ({description['LabelingJobName']}) failed: {reason}"[
                :MAX_CAUSE
            ]
    for name, description in described.items():
        if description.get("LabelingJobStatus") in ("Stopped", "Stopping") and error == "States.TaskFailed":
            return "LabelingJobStopped", f"labeling job {name} ({description['LabelingJobName']}) was stopped"
    if error == "States.TaskFailed" and cause:
        try:
            details = json.loads(cause)
        except ValueError:
            details = None
        if isinstance(details, dict) and "LabelingJobStatus" in details:
            return "LabelingJobFailed", f"labeling job {details.get('LabelingJobName')}: {details.get('FailureReason')}"
    return explain_caught(error, cause)


def clean_up_abandoned(record: Mapping[str, Any], plan: Mapping[str, Any]) -> registry.Cleanup:
    """The safety net's cleanup of a batch whose execution ended outside its failure path."""
    cleanup, _ = stop_labeling_jobs(aws.Clients().sagemaker, plan)
    return cleanup


_ENDED = {"Completed": "COMPLETED", "Failed": "FAILED", "Stopped": "STOPPED", "Stopping": "STOPPED"}


def record_jobs(store: Any, job_id: str, record: Mapping[str, Any], described: Mapping[str, Any]) -> None:
    """Write what Ground Truth says of each created job into the record's levels (a job stopped by the failure path
    is STOPPED), so that ``GET /batch/show`` shows which job failed and why."""
    levels = record.get("levels")
    if not levels:
        return
    for level in levels:
        for job in level.get("jobs", []):
            description = described.get(job["jobName"])
            if description is None:
                continue
            status = description.get("LabelingJobStatus", "")
            job["status"] = _ENDED.get(status, "STOPPED" if status in RUNNING else job["status"])
            if description.get("FailureReason"):
                job["failureReason"] = str(description["FailureReason"])[:MAX_CAUSE]
            counters = description.get("LabelCounters") or {}
            if counters:
                job["itemCounts"] = item_counts(counters, job.get("itemCounts"))
            output = (description.get("LabelingJobOutput") or {}).get("OutputDatasetS3Uri")
            if output:
                job["outputManifest"] = {"s3Uri": output}
    store.update(job_id, set_fields={"levels": levels})
