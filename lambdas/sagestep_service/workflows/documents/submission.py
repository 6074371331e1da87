"""Submitting documents jobs (``POST /documents`` and an upload under ``users/<you>/documents/``): validate, plan,
then the platform claims.

A single document is checked with a HEAD (format, size); a folder's listing is read up to ``CHECKED_OBJECTS``
objects (a larger folder is listed in full by the state machine's first task) to refuse a folder with no document
Textract reads before anything is created.
"""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from sagestep_service.platform.errors import BadRequest
from sagestep_service.platform.jobs import JobStore
from sagestep_service.platform.submission import Prepared, Submission, Submitter
from sagestep_service.platform.uploads import owner_prefix
from sagestep_service.workflows.documents import listing
from sagestep_service.workflows.documents.models import KIND, S3_URI, DocumentsRequest
from sagestep_service.workflows.documents.settings import DocumentsSettings

CHECKED_OBJECTS = 10_000


class DocumentsSubmitter:
    def __init__(self, settings: DocumentsSettings, store: JobStore, sfn: Any, s3: Any) -> None:
        self._settings = settings
        self._s3 = s3
        self._submitter = Submitter(store, sfn, settings.documents_state_machine_arn)

    def submit(self, owner: str, request: DocumentsRequest, idempotency_key: str | None) -> Submission:
        mine = owner_prefix(owner)
        field = "documentUri" if request.documentUri else "folderUri"
        uri = request.documentUri or request.folderUri or ""
        match = S3_URI.match(uri)
        assert match is not None  # the model checked it
        bucket, key = match["bucket"], match["key"]
        if bucket != self._settings.data_bucket or not key.startswith(mine):
            raise BadRequest(field, f"must be under s3://{self._settings.data_bucket}/{mine}")
        body = request.model_dump(mode="json", exclude_none=True)

        def prepare(job_id: str) -> Prepared:
            if request.documentUri:
                self._check_document(bucket, key)
            else:
                self._check_folder(bucket, key)
            return Prepared(mode="analyse", plan=self._plan(job_id, owner, request, bucket, key))

        return self._submitter.submit(
            kind=KIND, owner=owner, body=body, idempotency_key=idempotency_key, prepare=prepare
        )

    def _check_document(self, bucket: str, key: str) -> None:
        try:
            head = self._s3.head_object(Bucket=bucket, Key=key)
        except ClientError as exc:
            if exc.response["Error"]["Code"] in {"404", "NoSuchKey", "NotFound"}:
                raise BadRequest("documentUri", "no such file") from exc
            raise BadRequest("documentUri", f"cannot be read ({exc.response['Error']['Code']})") from exc
        problem = listing.problem(key, int(head.get("ContentLength", 0)))
        if problem:
            raise BadRequest("documentUri", problem)

    def _check_folder(self, bucket: str, prefix: str) -> None:
        listed = readable = 0
        try:
            for item in listing.list_folder(self._s3, bucket, prefix, max_objects=CHECKED_OBJECTS):
                listed += 1
                readable += listing.problem(item.key, item.size) is None
        except ClientError as exc:
            raise BadRequest("folderUri", f"cannot be listed ({exc.response['Error']['Code']})") from exc
        if listed == 0:
            raise BadRequest("folderUri", "the folder is empty (or does not exist)")
        if readable == 0:
            raise BadRequest(
                "folderUri", f"none of the folder's {listed} files is a document Textract reads ({listing.SUPPORTED})"
            )

    def _plan(self, job_id: str, owner: str, request: DocumentsRequest, bucket: str, key: str) -> dict[str, Any]:
        settings = self._settings
        features = ["LAYOUT", *(["TABLES"] if request.tables else [])]
        return {
            "source": {"bucket": bucket, "key": key, "folder": request.folderUri is not None},
            "work": {"bucket": settings.artifact_bucket, "prefix": f"jobs/{job_id}/"},
            "output": {"bucket": settings.data_bucket, "prefix": f"{owner_prefix(owner)}insights/{job_id}/"},
            "languageCode": request.languageCode,
            "segmentation": request.segmentation,
            "features": request.features,
            "featureTypes": features,
            "notification": {"SNSTopicArn": settings.textract_topic_arn, "RoleArn": settings.textract_role_arn},
            "deadlineSeconds": min(request.deadlineSeconds or settings.deadline_seconds, settings.deadline_seconds),
        }
