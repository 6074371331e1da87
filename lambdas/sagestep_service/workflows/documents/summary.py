"""The job's summary over its documents, its final status and its one notification."""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

from sagestep_service.workflows.documents import listing, results
from sagestep_service.workflows.documents.models import DocumentsSummary

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
