"""When a translation job fails, or is stopped: stop the job's Translate jobs that still run, remove its staging
area, and explain the error in words a user acts on."""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from sagestep_service.platform import aws, registry
from sagestep_service.platform.failures import explain_caught
from sagestep_service.workflows.translation import results
from sagestep_service.workflows.translation.translate_service import CONTENT_TYPES

RUNNING = {"SUBMITTED", "IN_PROGRESS"}


#: What the state machine catches when the deadline passed (the Map names it; ``States.Timeout`` elsewhere).
DEADLINE_ERRORS = frozenset({"States.Timeout", "TranslationDeadlineExceeded"})


def explain(error: str, cause: str | None, plan: dict[str, Any]) -> tuple[str, str]:
    """A short error name and a readable cause for the job record and the notification."""
    seconds = plan.get("deadlineSeconds", "?")
    deadline = (
        DEADLINE_ERRORS,
        "TranslationDeadlineExceeded",
        f"a Translate job did not finish within the deadline of {seconds} s",
    )
    return explain_caught(error, cause, deadline=deadline)


def stop_translate_jobs(translate: Any, job_id: str) -> registry.Cleanup:
    """Stop every Translate job of ``job_id`` still running (their names are ``<jobId>-<content type>``)."""
    cleanup = registry.Cleanup()
    for content_type in CONTENT_TYPES:
        name = f"{job_id}-{content_type.slug}"
        try:
            listed = translate.list_text_translation_jobs(Filter={"JobName": name})
            for job in listed.get("TextTranslationJobPropertiesList", []):
                if job.get("JobStatus") in RUNNING:
                    translate.stop_text_translation_job(JobId=job["JobId"])
                    cleanup.deleted.append(f"translate-job/{job['JobId']} (stopped)")
        except ClientError as exc:
            cleanup.left.append(f"translate-job/{name} ({exc.response['Error'].get('Code', 'error')})")
    return cleanup


def clean_up(clients: Any, job_id: str, plan: dict[str, Any]) -> registry.Cleanup:
    """Stop the job's running Translate jobs and remove its staging area; what could not be done is reported."""
    cleanup = stop_translate_jobs(clients.translate, job_id)
    try:
        removed = results.remove_transient(clients.s3, plan)
        if removed:
            cleanup.deleted.append(f"{removed} staged and translated objects")
    except ClientError as exc:
        cleanup.left.append(f"staging area ({exc.response['Error'].get('Code', 'error')})")
    return cleanup


def clean_up_abandoned(job: dict[str, Any], plan: dict[str, Any]) -> registry.Cleanup:
    """The safety net's cleanup of a job whose execution ended outside its failure path (e.g. stopped)."""
    return clean_up(aws.Clients(), str(job["jobId"]), plan)
