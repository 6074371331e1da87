"""One document analysis, really done: the object from the emulator's S3, read, laid out, and turned into blocks.

The document's type comes from its first bytes (as Textract detects it, whatever the key's extension): a PDF is
read from its text layer (:mod:`.pdf`, OCR for pages without one), a PNG, JPEG or TIFF by OCR (:mod:`.ocr`).
Anything else, or a file that does not open, ends the job FAILED with ``UNSUPPORTED_DOCUMENT``; a file over
Textract's limits with ``DOCUMENT_TOO_LARGE``, as Textract reports them in ``StatusMessage``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from sagestep.local.services.textract import layout
from sagestep.local.services.textract.blocks import PageText, page_blocks
from sagestep.local.services.textract.models import Job
from sagestep.local.services.textract.ocr import OcrEngine, UnreadableImage, image_frames
from sagestep.local.services.textract.pdf import UnreadableDocument, page_count, read_pdf
from sagestep_service.workflows.documents.textract_service import MAX_DOCUMENT_BYTES, MAX_IMAGE_BYTES, MAX_PAGES

LOG = logging.getLogger(__name__)

UNSUPPORTED = "UNSUPPORTED_DOCUMENT"
TOO_LARGE = "DOCUMENT_TOO_LARGE"
INVALID_S3_OBJECT = "INVALID_S3_OBJECT"
#: ``Warnings[].ErrorCode`` of the pages a PARTIAL_SUCCESS job lost.
PAGE_FAILED = "INTERNAL_ERROR"


class JobFailed(Exception):
    """The job ends FAILED with this StatusMessage."""


def sniff(head: bytes) -> str | None:
    """The document type of a file from its first bytes: ``pdf``, ``png``, ``jpeg``, ``tiff`` or None."""
    if head.lstrip()[:5] == b"%PDF-":
        return "pdf"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if head.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if head[:4] in (b"II*\x00", b"MM\x00*"):
        return "tiff"
    return None


@dataclass
class Outcome:
    """What a finished analysis reports: status, message, page count, blocks and warnings."""

    status: str
    message: str | None = None
    pages: int = 0
    blocks: list[dict[str, Any]] | None = None
    warnings: list[dict[str, Any]] | None = None
    #: The analysis broke (a server error): the SNS message says ERROR rather than FAILED.
    error: bool = False


def analyse(job: Job, s3: Any, ocr: OcrEngine) -> Outcome:
    """Run ``job`` to its end (never raises: a bug is a FAILED job with INTERNAL_ERROR, as a server error)."""
    try:
        if job.faults.failure is not None:
            raise JobFailed(job.faults.failure)
        return _analyse(job, _read(job, s3), ocr)
    except JobFailed as exc:
        return Outcome("FAILED", str(exc))
    except Exception:
        LOG.exception("Textract job %s failed", job.job_id)
        return Outcome("FAILED", "INTERNAL_ERROR", error=True)


def _read(job: Job, s3: Any) -> bytes:
    extra = {"VersionId": job.version} if job.version else {}
    try:
        body: bytes = s3.get_object(Bucket=job.bucket, Key=job.key, **extra)["Body"].read()
    except Exception as exc:
        LOG.info("Textract job %s cannot read s3://%s/%s: %s", job.job_id, job.bucket, job.key, exc)
        raise JobFailed(INVALID_S3_OBJECT) from None
    return body


def _analyse(job: Job, data: bytes, ocr: OcrEngine) -> Outcome:
    kind = sniff(data[:1024])
    if kind is None:
        raise JobFailed(UNSUPPORTED)
    limit = MAX_IMAGE_BYTES if kind in ("png", "jpeg") else MAX_DOCUMENT_BYTES
    if len(data) > limit:
        raise JobFailed(TOO_LARGE)
    try:
        if kind == "pdf":
            count = page_count(data)
            if count > MAX_PAGES:
                raise JobFailed(TOO_LARGE)
            failing = job.faults.pages_failing(count)
            pages = read_pdf(data, ocr.read, skip=failing)
        else:
            frames = image_frames(data)
            count = len(frames)
            if count > MAX_PAGES:
                raise JobFailed(TOO_LARGE)
            failing = job.faults.pages_failing(count)
            pages = [ocr.read(frame, number) for number, frame in enumerate(frames, 1) if number not in failing]
    except (UnreadableDocument, UnreadableImage):
        raise JobFailed(UNSUPPORTED) from None
    if count == 0:
        raise JobFailed(UNSUPPORTED)
    return _outcome(job, pages, count, failing)


def _outcome(job: Job, pages: list[PageText], count: int, failing: set[int]) -> Outcome:
    layout.analyse(pages)
    blocks = [block for page in pages for block in page_blocks(page, "LAYOUT" in job.features)]
    if not failing:
        return Outcome("SUCCEEDED", pages=count, blocks=blocks)
    warnings = [{"ErrorCode": PAGE_FAILED, "Pages": sorted(failing)}]
    return Outcome("PARTIAL_SUCCESS", pages=count, blocks=blocks, warnings=warnings)
