"""The end of a batch: its report, the worker table on its record, and the reference's messages."""

from __future__ import annotations

from typing import Any

from sagestep_service.platform import objects
from sagestep_service.platform.errors import Conflict
from sagestep_service.platform.failures import MAX_CAUSE
from sagestep_service.workflows.labeling import levels, reports, views


def success_message(record: dict[str, Any]) -> dict[str, Any]:
    """The reference's success message: ``{batchId, message, batchInfo: <as batch/show>, status: "SUCCESS"}``
    (``batchInfo`` without presigned URLs: they would expire long before anyone reads a stored message)."""
    info = views.batch_view(record, sagemaker=None, s3=None)
    batch_id = info.batchId
    jobs = sum(len(level.jobs) for level in info.levels)
    return {
        "batchId": batch_id,
        "message": f"Batch {batch_id} completed: {len(info.levels)} levels, {jobs} labeling jobs.",
        "batchInfo": info.model_dump(mode="json", exclude={"urlExpiresInSeconds", "urlExpiresAt"}),
        "status": "SUCCESS",
    }


def failure_message(batch_id: str, error: str, cause: str) -> dict[str, Any]:
    """The reference's failure message: ``{batchId, errorType, errorString, status: "FAILED"}``."""
    return {"batchId": batch_id, "errorType": error, "errorString": cause[:MAX_CAUSE], "status": "FAILED"}


REPORT_FILE = "report.json"


def _classes(s3: Any, plan: dict[str, Any], name: str) -> list[str]:
    """A planned job's label categories (a chained job without its own has its first source's)."""
    document = objects.read_json(s3, levels.categories_uri(plan, name))
    return [str(entry["label"]) for entry in document.get("labels", [])]


def sources(s3: Any, plan: dict[str, Any], record: dict[str, Any]) -> list[reports.JobSource]:
    """The batch's labeling jobs that ran, and where Ground Truth wrote their output."""
    output = plan["output"]
    output_path = f"s3://{output['bucket']}/{output['prefix']}output/"
    planned = {job["name"]: job for job in plan["jobs"]}
    found = []
    for level in record.get("levels") or []:
        for job in level.get("jobs", []):
            if not job.get("outputManifest"):
                continue
            entry = planned[job["jobName"]]
            found.append(
                reports.JobSource(
                    jobName=job["jobName"],
                    labelingJobName=job["labelingJobName"],
                    level=level["level"],
                    modality=entry["modality"],
                    labelAttribute=entry["attribute"],
                    outputManifestUri=job["outputManifest"]["s3Uri"],
                    workerResponseUri=reports.worker_response_uri(output_path, job["labelingJobName"]),
                    classes=_classes(s3, plan, job["jobName"]),
                )
            )
    return found


def report(s3: Any, store: Any, job_id: str, plan: dict[str, Any]) -> dict[str, Any]:
    """Compute the batch's report (``reports``), write it (JSON and the Parquet tables under the batch's
    ``report/``) and keep its worker table on the record; returns the record fields it set."""
    record = store.get(job_id) or {}
    jobs = sources(s3, plan, record)
    rows = reports.collect(s3, plan["batchId"], jobs)
    built = reports.build_report(plan["batchId"], rows, jobs)
    output = plan["output"]
    prefix = f"{output['prefix']}report/"
    reports.write_parquet(s3, output["bucket"], prefix, rows)
    s3.put_object(
        Bucket=output["bucket"],
        Key=f"{prefix}{REPORT_FILE}",
        Body=built.model_dump_json().encode(),
        ContentType="application/json",
    )
    fields = {
        "reportUri": f"s3://{output['bucket']}/{prefix}{REPORT_FILE}",
        "workers": [
            {
                "workerId": worker.workerId,
                "items": worker.labels,
                "estimatedAccuracy": worker.estimatedAccuracy,
                "agreement": worker.agreement,
                "meanSecondsPerItem": worker.meanSeconds,
            }
            for worker in built.workers[: views.MAX_WORKERS]
        ],
        "team": built.team.model_dump(mode="json"),
    }
    store.update(job_id, set_fields=fields)
    return fields


def read_report(s3: Any, record: dict[str, Any]) -> reports.BatchReport:
    """``GET /batch/{batchId}/report``: the report written when the batch completed."""
    uri = record.get("reportUri")
    if not uri:
        raise Conflict(f"batch {record.get('request', {}).get('batchId')} has no report yet ({record.get('status')})")
    return reports.BatchReport.model_validate_json(objects.read_bytes(s3, str(uri)))
