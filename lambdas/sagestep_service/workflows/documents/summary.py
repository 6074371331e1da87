"""The job's summary over its documents, its final status and its one notification."""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

from sagestep_service.platform.errors import BadRequest
from sagestep_service.workflows.documents import listing, results
from sagestep_service.workflows.documents.models import DocumentPage, DocumentsSummary

SHOWN = 100


def aggregate(s3: Any, plan: dict[str, Any]) -> DocumentsSummary:
    work = plan["work"]
    manifest = json.loads(s3.get_object(Bucket=work["bucket"], Key=listing.manifest_key(plan))["Body"].read())
    skipped = json.loads(s3.get_object(Bucket=work["bucket"], Key=f"{work['prefix']}skipped.json")["Body"].read())
    documents = results.read_summaries(s3, plan, [str(item["path"]) for item in manifest])
    sentiments: Counter[str] = Counter()
    units: Counter[str] = Counter()
    for document in documents:
        sentiments.update(document.sentimentDistribution)
        units.update(document.comprehendUnits)
    return DocumentsSummary(
        documents=len(documents),
        completed=sum(d.status == "COMPLETED" for d in documents),
        failed=sum(d.status == "FAILED" for d in documents),
        skipped=skipped[:SHOWN],
        paragraphs=sum(d.paragraphs for d in documents),
        sentimentDistribution=dict(sorted(sentiments.items())),
        comprehendUnits=dict(sorted(units.items())),
        items=documents[:SHOWN],
    )


def outcome(job_id: str, job: DocumentsSummary) -> dict[str, Any]:
    """COMPLETED, COMPLETED_WITH_ERRORS (some documents failed) or FAILED (every document failed: the job's
    failure path records ERROR with the first document's error)."""
    if job.documents and job.failed == job.documents:
        first = job.items[0] if job.items else None
        return {
            "status": "FAILED",
            "error": (first.error if first else None) or "DocumentsFailed",
            "cause": (first.errorCause if first else None) or "every document failed",
        }
    status = "COMPLETED_WITH_ERRORS" if job.failed else "COMPLETED"
    brief = job.model_dump(mode="json", exclude={"items", "skipped"})
    return {
        "status": status,
        "notification": {"jobId": job_id, "kind": "documents", "status": status, "summary": brief},
    }


def manifest_paths(s3: Any, plan: dict[str, Any]) -> list[str]:
    """The documents' paths by index (the Distributed Map's items)."""
    work = plan["work"]
    manifest = json.loads(s3.get_object(Bucket=work["bucket"], Key=listing.manifest_key(plan))["Body"].read())
    return [str(item["path"]) for item in manifest]


def document_page(s3: Any, plan: dict[str, Any], limit: int, cursor: str | None) -> DocumentPage:
    """One page of a job's per-document records, by index (each read from the job area)."""
    try:
        paths = manifest_paths(s3, plan)
    except s3.exceptions.NoSuchKey:
        return DocumentPage(items=[])
    start = 0
    if cursor is not None:
        if not cursor.isdigit() or not 0 < int(cursor) < len(paths):
            raise BadRequest("cursor", "is not a cursor this job's documents listing returned")
        start = int(cursor)
    stop = start + limit
    items = results.read_summaries(s3, plan, paths, start, stop)
    return DocumentPage(items=items, nextCursor=str(stop) if stop < len(paths) else None)
