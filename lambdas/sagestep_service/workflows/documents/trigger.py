"""An upload under ``users/<you>/documents/`` starts a documents job for that file (S3 → EventBridge).

Every record of an event is handled (an EventBridge "Object Created" event carries one object; an S3 notification
carries ``Records``, each its own), keys URL-decoded, and each object is submitted once: the idempotency key is the
object's key, version and ETag, so a redelivered event finds the job its first delivery started.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote_plus

from botocore.exceptions import ClientError

from sagestep_service.platform import aws
from sagestep_service.platform.errors import BadRequest
from sagestep_service.platform.jobs import JobStore
from sagestep_service.platform.observability import logger
from sagestep_service.platform.settings import load
from sagestep_service.workflows.documents import textract_service
from sagestep_service.workflows.documents.models import DocumentsRequest
from sagestep_service.workflows.documents.settings import DocumentsSettings
from sagestep_service.workflows.documents.submission import DocumentsSubmitter

#: ``users/<Cognito sub>/documents/<path>``: the owner is the sub.
UPLOAD_KEY = re.compile(r"^users/(?P<owner>[^/]+)/documents/(?P<path>.+[^/])$")


@dataclass(frozen=True)
class Uploaded:
    bucket: str
    key: str
    etag: str
    version: str


def uploads_in(event: dict[str, Any]) -> list[Uploaded]:
    """The objects an event announces (EventBridge's one object, or every record of an S3 notification)."""
    if "Records" in event:
        return [
            Uploaded(
                r["s3"]["bucket"]["name"],
                r["s3"]["object"]["key"],
                r["s3"]["object"].get("eTag", ""),
                str(r["s3"]["object"].get("versionId") or ""),
            )
            for r in event["Records"]
            if "s3" in r
        ]
    detail = event.get("detail") or {}
    obj = detail.get("object") or {}
    if not obj.get("key"):
        return []
    bucket = (detail.get("bucket") or {}).get("name", "")
    return [
        Uploaded(bucket, obj["key"], str(obj.get("etag") or obj.get("eTag") or ""), str(obj.get("version-id") or ""))
    ]


def _existing_key(s3: Any, bucket: str, key: str) -> str | None:
    """The object's real key: notifications URL-encode keys (``a b.pdf`` arrives as ``a+b.pdf``)."""
    for candidate in dict.fromkeys((unquote_plus(key), key)):
        try:
            s3.head_object(Bucket=bucket, Key=candidate)
            return candidate
        except ClientError as exc:
            if exc.response["Error"]["Code"] not in {"404", "NoSuchKey", "NotFound"}:
                raise
    return None


def submit_uploads(event: dict[str, Any]) -> list[str]:
    """Start (or find) a job for each document uploaded under an owner's ``documents/`` folder."""
    settings = load(DocumentsSettings)
    clients = aws.Clients()
    submitter = DocumentsSubmitter(settings, JobStore(settings.jobs_table_name), clients.stepfunctions, clients.s3)
    started = []
    for upload in uploads_in(event):
        if upload.bucket != settings.data_bucket:
            continue
        key = _existing_key(clients.s3, upload.bucket, upload.key)
        match = UPLOAD_KEY.match(key or "")
        if key is None or match is None or textract_service.format_of(key) is None:
            logger.info("upload ignored", extra={"key": upload.key, "found": key is not None})
            continue
        request = DocumentsRequest(documentUri=f"s3://{upload.bucket}/{key}")
        try:
            submission = submitter.submit(match["owner"], request, f"upload:{key}:{upload.version}:{upload.etag}")
        except BadRequest as exc:
            # A file Textract cannot read (empty, too large): no retry would change that, and the event's other
            # records still go on.
            logger.warning("upload refused", extra={"key": key, "problem": exc.message})
            continue
        started.append(str(submission.record["jobId"]))
    return started
