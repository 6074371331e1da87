"""The end of a translation job: its summary (per content type and language, skipped files), the staging area
removed, and the per-file results read back page by page for the API."""

from __future__ import annotations

import base64
import json
import time
from typing import Any

from sagestep_service.platform.errors import BadRequest
from sagestep_service.workflows.translation.models import (
    FilePage,
    FileResult,
    TranslationStatus,
    TranslationSummary,
)
from sagestep_service.workflows.translation.restore import _read_json
from sagestep_service.workflows.translation.staging import manifest_key

SKIPPED_SHOWN = 50
#: Prefixes of the job's area removed when it ends (manifest/ and results/ stay: the files API reads them).
TRANSIENT = ("staging/", "translated/")


def delete_prefix(s3: Any, bucket: str, prefix: str) -> int:
    """Delete every object under ``prefix`` (1,000 a call); returns how many."""
    deleted = 0
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        keys = [{"Key": item["Key"]} for item in page.get("Contents", [])]
        if keys:
            s3.delete_objects(Bucket=bucket, Delete={"Objects": keys, "Quiet": True})
            deleted += len(keys)
    return deleted


def remove_transient(s3: Any, plan: dict[str, Any]) -> int:
    work = plan.get("work") or {}
    if not work:
        return 0
    return sum(delete_prefix(s3, work["bucket"], work["prefix"] + prefix) for prefix in TRANSIENT)


def summarize(
    s3: Any, plan: dict[str, Any], staging: dict[str, Any], results: list[dict[str, Any]]
) -> TranslationSummary:
    """The job's summary from the Map's results (one per content type) and the staging manifests' skipped files."""
    work, output = plan["work"], plan["output"]
    skipped: list[dict[str, str]] = []
    for part in range(int(staging.get("part", 0))):
        if len(skipped) >= SKIPPED_SHOWN:
            break
        skipped.extend(_read_json(s3, work["bucket"], manifest_key(work["prefix"], part))["skipped"])
    content_types = []
    translated = failed = 0
    for result in results:
        languages = result.get("restored", {}).get("languages", {})
        translated += sum(int(v.get("translated", 0)) for v in languages.values())
        failed += sum(int(v.get("failed", 0)) for v in languages.values())
        content_types.append(
            {
                "contentType": result["item"]["slug"],
                "mimeType": result["item"]["mime"],
                "files": result["item"]["files"],
                "translateJobId": result.get("translateJobId"),
                "translateJobStatus": result.get("translateJobStatus"),
                "languages": languages,
            }
        )
    return TranslationSummary(
        files=int(staging.get("files", 0)),
        translatedFiles=translated,
        failedFiles=failed,
        skippedFiles=int(staging.get("skipped", 0)),
        contentTypes=sorted(content_types, key=lambda c: c["contentType"]),
        skipped=skipped[:SKIPPED_SHOWN],
        outputUri=f"s3://{output['bucket']}/{output['prefix']}",
    )


def final_status(summary: TranslationSummary) -> TranslationStatus:
    return TranslationStatus.COMPLETED_WITH_ERRORS if summary.failedFiles else TranslationStatus.COMPLETED


def notification(job_id: str, status: str, summary: TranslationSummary) -> dict[str, Any]:
    """The job's one message (``summary`` without the skipped list's entries, which the job record has)."""
    brief = summary.model_dump(mode="json", exclude={"skipped"})
    return {"jobId": job_id, "kind": "translation", "status": status, "summary": brief}


def _encode(part_key: str, offset: int) -> str:
    return base64.urlsafe_b64encode(json.dumps([part_key, offset]).encode()).decode()


def _decode(cursor: str, work_prefix: str) -> tuple[str, int]:
    try:
        part_key, offset = json.loads(base64.urlsafe_b64decode(cursor.encode()))
        if isinstance(part_key, str) and part_key.startswith(work_prefix) and isinstance(offset, int) and offset >= 0:
            return part_key, offset
    except (ValueError, TypeError):  # not base64 / JSON, or JSON that is not a [key, offset] pair
        pass
    raise BadRequest("cursor", "is not a cursor this job's files listing returned")


def file_page(s3: Any, plan: dict[str, Any], limit: int, cursor: str | None, expiry_seconds: int) -> FilePage:
    """One page of (file, language) results, in content type then manifest order, with fresh presigned URLs."""
    work = plan["work"]
    prefix = f"{work['prefix']}results/"
    part_keys = sorted(
        item["Key"]
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=work["bucket"], Prefix=prefix)
        for item in page.get("Contents", [])
        if not item["Key"].endswith("/errors.json")
    )
    start_key, offset = _decode(cursor, work["prefix"]) if cursor else (part_keys[0] if part_keys else "", 0)
    items: list[FileResult] = []
    next_cursor: str | None = None
    for part_key in (k for k in part_keys if k >= start_key):
        entries = _read_json(s3, work["bucket"], part_key)
        begin = offset if part_key == start_key else 0
        for index in range(begin, len(entries)):
            if len(items) == limit:
                next_cursor = _encode(part_key, index)
                break
            items.append(FileResult.model_validate(entries[index]))
        if next_cursor:
            break
    for item in items:
        if item.resultUri:
            bucket, _, key = item.resultUri.removeprefix("s3://").partition("/")
            item.url = s3.generate_presigned_url(
                "get_object", Params={"Bucket": bucket, "Key": key}, ExpiresIn=expiry_seconds
            )
    return FilePage(
        items=items,
        urlExpiresInSeconds=expiry_seconds,
        urlExpiresAt=int(time.time()) + expiry_seconds,
        nextCursor=next_cursor,
    )
