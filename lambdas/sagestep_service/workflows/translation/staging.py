"""Staging: the input folder's files copied (never moved) into the job's own area, one prefix per content type,
because a Translate batch job reads one content type from one folder.

Each call handles one page of the folder's listing (up to ``PAGE_SIZE`` objects), so a folder of any size takes
``ceil(objects / PAGE_SIZE)`` calls and the state machine's state holds only the listing's cursor and counts.
Staged files get flat, unique names (``staging/<type>/<n>.<ext>``: Translate's output then names each one
unambiguously); the file's path in the folder is kept in the page's manifest (``manifest/<page>.json``).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from sagestep_service.platform import listing
from sagestep_service.platform.listing import Listed
from sagestep_service.workflows.translation.models import Staged
from sagestep_service.workflows.translation.translate_service import (
    BY_SLUG,
    CONTENT_TYPES,
    MAX_DOCUMENT_BYTES,
    MAX_JOB_BYTES,
    MAX_JOB_DOCUMENTS,
    ContentType,
    content_type_of,
)

PAGE_SIZE = 1000
COPY_THREADS = 16
SUPPORTED_EXTENSIONS = tuple(extension for content_type in CONTENT_TYPES for extension in content_type.extensions)
#: How many bytes of an XLIFF file are read to find its version.
XLIFF_HEAD_BYTES = 4096
_XLIFF_VERSION = re.compile(rb"<xliff\b[^>]*\bversion\s*=\s*[\"']([^\"']+)[\"']", re.S)


class StagingLimitExceeded(Exception):
    """The folder holds more of one content type than one Translate job takes."""


@dataclass(frozen=True)
class Decision:
    content_type: ContentType | None
    reason: str | None = None


def classify(path: str, size: int) -> Decision:
    """Whether a file goes to Translate (and as which content type), or why it is skipped."""
    content_type = content_type_of(path)
    if content_type is None:
        return Decision(None, f"not a type Translate reads (supported: {', '.join(SUPPORTED_EXTENSIONS)})")
    if size == 0:
        return Decision(None, "the file is empty")
    if size > MAX_DOCUMENT_BYTES:
        return Decision(None, f"{size} bytes: Translate takes documents of at most {MAX_DOCUMENT_BYTES} bytes")
    return Decision(content_type)


def list_folder(s3: Any, bucket: str, prefix: str, *, max_objects: int) -> Iterator[Listed]:
    """The folder's files, in key order, at most ``max_objects``."""
    return listing.list_folder(s3, bucket, prefix, max_objects=max_objects, page_size=PAGE_SIZE)


def xliff_problem(s3: Any, bucket: str, key: str) -> str | None:
    """Why an XLIFF file cannot be translated (Translate reads XLIFF 1.2 only), or None."""
    head = s3.get_object(Bucket=bucket, Key=key, Range=f"bytes=0-{XLIFF_HEAD_BYTES - 1}")["Body"].read()
    match = _XLIFF_VERSION.search(head)
    if match is None:
        return "not an XLIFF document (no <xliff version=...> element)"
    version = match.group(1).decode(errors="replace")
    return None if version == "1.2" else f"XLIFF {version}: Translate reads XLIFF 1.2 only"


def staged_key(work_prefix: str, content_type: ContentType, number: int, path: str) -> str:
    extension = path[path.rfind(".") :].lower()
    return f"{work_prefix}staging/{content_type.slug}/{number:07d}{extension}"


def manifest_key(work_prefix: str, part: int) -> str:
    return f"{work_prefix}manifest/{part:05d}.json"


def stage_page(s3: Any, job_id: str, plan: dict[str, Any], state: Staged) -> Staged:
    """Stage one page of the folder's listing and write its manifest; returns the loop's next state."""
    source, work = plan["input"], plan["work"]
    page = listing.page(s3, source["bucket"], source["prefix"], state.cursor, PAGE_SIZE)
    files: list[dict[str, Any]] = []
    skipped: list[dict[str, str]] = []
    copies: list[tuple[str, str]] = []
    counts = dict(state.contentTypes)
    type_bytes = dict(state.contentTypeBytes)
    for number, listed in enumerate(page.files, start=state.part * PAGE_SIZE):
        decision = classify(listed.path, listed.size)
        reason = decision.reason
        if decision.content_type is not None and decision.content_type.slug == "xliff":
            reason = xliff_problem(s3, source["bucket"], listed.key)
        if decision.content_type is None or reason is not None:
            skipped.append({"path": listed.path, "reason": str(reason)})
            continue
        content_type = decision.content_type
        key = staged_key(work["prefix"], content_type, number, listed.path)
        files.append({"path": listed.path, "type": content_type.slug, "staged": key.rsplit("/", 1)[-1]})
        copies.append((listed.key, key))
        counts[content_type.slug] = counts.get(content_type.slug, 0) + 1
        type_bytes[content_type.slug] = type_bytes.get(content_type.slug, 0) + listed.size
    for slug, count in counts.items():
        if count > MAX_JOB_DOCUMENTS or type_bytes[slug] > MAX_JOB_BYTES:
            raise StagingLimitExceeded(
                f"{count} {slug} files of {type_bytes[slug]} bytes: Translate takes at most {MAX_JOB_DOCUMENTS} "
                f"documents and {MAX_JOB_BYTES} bytes of one content type in a job"
            )

    def copy(pair: tuple[str, str]) -> None:
        s3.copy_object(Bucket=work["bucket"], Key=pair[1], CopySource={"Bucket": source["bucket"], "Key": pair[0]})

    with ThreadPoolExecutor(max_workers=COPY_THREADS) as pool:
        list(pool.map(copy, copies))
    s3.put_object(
        Bucket=work["bucket"],
        Key=manifest_key(work["prefix"], state.part),
        Body=json.dumps({"files": files, "skipped": skipped}).encode(),
        ContentType="application/json",
    )
    more = page.next_token is not None
    return Staged(
        more=more,
        cursor=page.next_token,
        part=state.part + 1,
        files=state.files + len(files),
        contentTypeBytes=type_bytes,
        skipped=state.skipped + len(skipped),
        contentTypes=counts,
    )


def map_items(job_id: str, plan: dict[str, Any], state: Staged) -> list[dict[str, Any]]:
    """One item per content type present: what its Translate job reads and writes (the Map's items)."""
    work = plan["work"]
    items = []
    for slug, count in sorted(state.contentTypes.items()):
        content_type = BY_SLUG[slug]
        items.append(
            {
                "slug": slug,
                "mime": content_type.mime,
                "files": count,
                # Job name and client token: a retried start names the same job, and Translate answers the same
                # token with the job it already started.
                "jobName": f"{job_id}-{slug}",
                "inputUri": f"s3://{work['bucket']}/{work['prefix']}staging/{slug}/",
                "outputUri": f"s3://{work['bucket']}/{work['prefix']}translated/{slug}/",
            }
        )
    return items
