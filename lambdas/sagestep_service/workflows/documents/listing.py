"""The documents of a job: which files Textract reads, and the manifest the Distributed Map reads its items from."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from sagestep_service.platform import listing
from sagestep_service.platform.listing import Listed
from sagestep_service.workflows.documents import textract_service

SUPPORTED = ", ".join(sorted(textract_service.FORMATS))
PAGE_SIZE = 1000


def problem(key: str, size: int) -> str | None:
    """Why Textract would refuse a file, or None."""
    mime = textract_service.format_of(key)
    if mime is None:
        return f"not a document Textract reads (supported: {SUPPORTED})"
    if size == 0:
        return "the file is empty"
    limit = textract_service.MAX_DOCUMENT_BYTES
    if mime in {"image/png", "image/jpeg"}:
        limit = textract_service.MAX_IMAGE_BYTES
    if size > limit:
        return f"{size} bytes: Textract takes {mime} files of at most {limit} bytes"
    return None


def list_folder(s3: Any, bucket: str, prefix: str, *, max_objects: int | None = None) -> Iterator[Listed]:
    """The folder's files in key order (keys URL-decoded; folder markers left out)."""
    return listing.list_folder(s3, bucket, prefix, max_objects=max_objects, page_size=PAGE_SIZE)


def manifest_key(plan: dict[str, Any]) -> str:
    return f"{plan['work']['prefix']}documents.json"


def write_manifest(s3: Any, job_id: str, plan: dict[str, Any]) -> dict[str, Any]:
    """List the job's documents and write the Distributed Map's items (a JSON array in S3, never the state)."""
    source = plan["source"]
    if source["folder"]:
        files = list(list_folder(s3, source["bucket"], source["key"]))
        base = source["key"]
    else:
        files = [Listed(source["key"], "", 1)]
        base = source["key"].rsplit("/", 1)[0] + "/" if "/" in source["key"] else ""
    items: list[dict[str, Any]] = []
    skipped: list[dict[str, str]] = []
    for listed in files:
        path = listed.key[len(base) :]
        reason = problem(listed.key, listed.size) if source["folder"] else None
        if reason:
            skipped.append({"path": path, "reason": reason})
            continue
        index = len(items)
        # ClientRequestToken: one Textract job per (job, document), however often the start is retried.
        items.append({"index": index, "bucket": source["bucket"], "key": listed.key, "path": path,
                      "token": f"{job_id}-{index}"})  # fmt: skip
    work = plan["work"]
    s3.put_object(Bucket=work["bucket"], Key=manifest_key(plan), Body=json.dumps(items).encode())
    s3.put_object(Bucket=work["bucket"], Key=f"{work['prefix']}skipped.json", Body=json.dumps(skipped).encode())
    return {"documents": len(items), "skipped": len(skipped), "manifestKey": manifest_key(plan)}
