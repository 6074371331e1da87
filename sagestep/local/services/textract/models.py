"""The local Textract's records (jobs, client request tokens) and the errors it answers, as Textract names them."""

from __future__ import annotations

import base64
import re
import threading
import time
import uuid
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from moto.core.exceptions import JsonRESTError

from sagestep.local.textract_faults import JobFaults
from sagestep_service.workflows.documents.textract_service import (
    CLIENT_REQUEST_TOKEN_MAX,
    FEATURE_TYPES,
    JOB_TAG_MAX,
    MAX_BLOCKS_PER_PAGE,
)

_TOKEN = re.compile(r"^[a-zA-Z0-9-_]+$")
_JOB_TAG = re.compile(r"^[a-zA-Z0-9_.\-:]+$")


class TextractError(JsonRESTError):
    """An error of Textract's API; the class name is the error code (an error shape of botocore's model)."""

    code = 400

    def __init__(self, message: str) -> None:
        super().__init__(type(self).__name__, message)


class InvalidParameterException(TextractError):
    pass


class InvalidS3ObjectException(TextractError):
    pass


class InvalidJobIdException(TextractError):
    pass


class IdempotentParameterMismatchException(TextractError):
    pass


class LimitExceededException(TextractError):
    pass


class ProvisionedThroughputExceededException(TextractError):
    pass


@dataclass
class Job:
    """One StartDocumentAnalysis job and, once it ended, its result (all blocks, served page by page)."""

    job_id: str
    bucket: str
    key: str
    version: str | None
    features: list[str]
    job_tag: str | None
    notification: dict[str, str] | None
    request: dict[str, Any]
    faults: JobFaults
    status: str = "IN_PROGRESS"
    message: str | None = None
    pages: int = 0
    blocks: list[dict[str, Any]] = field(default_factory=list)
    warnings: list[dict[str, Any]] = field(default_factory=list)

    def answer(self, max_results: int | None, next_token: str | None) -> dict[str, Any]:
        """GetDocumentAnalysis: the status and at most ``max_results`` (≤ 1000) blocks from ``next_token`` on."""
        result: dict[str, Any] = {"JobStatus": self.status, "AnalyzeDocumentModelVersion": "1.0"}
        if self.message:
            result["StatusMessage"] = self.message
        if self.status == "IN_PROGRESS":
            return result
        if self.warnings:
            result["Warnings"] = self.warnings
        if self.pages:
            result["DocumentMetadata"] = {"Pages": self.pages}
        if self.status not in ("SUCCEEDED", "PARTIAL_SUCCESS"):
            return result
        limit = min(int(max_results or MAX_BLOCKS_PER_PAGE), MAX_BLOCKS_PER_PAGE)
        start = self._offset(next_token)
        result["Blocks"] = self.blocks[start : start + limit]
        if start + limit < len(self.blocks):
            result["NextToken"] = base64.urlsafe_b64encode(f"{self.job_id}:{start + limit}".encode()).decode()
        return result

    def _offset(self, token: str | None) -> int:
        if not token:
            return 0
        try:
            job_id, _, offset = base64.urlsafe_b64decode(token.encode()).decode().rpartition(":")
            if job_id == self.job_id and 0 <= int(offset) <= len(self.blocks):
                return int(offset)
        except ValueError:
            pass
        raise InvalidParameterException("The NextToken is not valid for this job.")


@dataclass
class TextractStore:
    """The jobs of one account and region, the client request tokens that started them, and recent starts."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    jobs: dict[str, Job] = field(default_factory=dict)
    tokens: dict[str, str] = field(default_factory=dict)
    starts: deque[float] = field(default_factory=deque)

    def job(self, job_id: str | None) -> Job:
        job = self.jobs.get(str(job_id or ""))
        if job is None:
            raise InvalidJobIdException("An invalid job identifier was passed.")
        return job

    def check_quotas(self, max_concurrent: int, max_per_second: int) -> None:
        """Textract's quotas on starts: asynchronous jobs in progress at once, and start calls per second."""
        now = time.monotonic()
        while self.starts and now - self.starts[0] >= 1.0:
            self.starts.popleft()
        if len(self.starts) >= max_per_second:
            raise ProvisionedThroughputExceededException(
                f"The number of requests exceeded your throughput limit ({max_per_second} per second)."
            )
        if sum(job.status == "IN_PROGRESS" for job in self.jobs.values()) >= max_concurrent:
            raise LimitExceededException(
                f"An Amazon Textract service limit was exceeded: at most {max_concurrent} jobs in progress."
            )
        self.starts.append(now)

    @staticmethod
    def new_job_id() -> str:
        return uuid.uuid4().hex + uuid.uuid4().hex[:32]


def validate_start(request: dict[str, Any]) -> dict[str, Any]:
    """The StartDocumentAnalysis request, checked as Textract checks it before accepting a job."""
    location = (request.get("DocumentLocation") or {}).get("S3Object") or {}
    if not location.get("Bucket") or not location.get("Name"):
        raise InvalidParameterException("DocumentLocation.S3Object needs a Bucket and a Name.")
    features = list(request.get("FeatureTypes") or [])
    unknown = [feature for feature in features if feature not in FEATURE_TYPES]
    if not features or unknown or len(set(features)) != len(features):
        raise InvalidParameterException(
            f"FeatureTypes must be distinct values of {', '.join(FEATURE_TYPES)}, not {features}."
        )
    if "QUERIES" in features and not (request.get("QueriesConfig") or {}).get("Queries"):
        raise InvalidParameterException("The QUERIES feature needs a QueriesConfig with queries.")
    token, tag = request.get("ClientRequestToken"), request.get("JobTag")
    if token is not None and (len(token) > CLIENT_REQUEST_TOKEN_MAX or not _TOKEN.match(token)):
        raise InvalidParameterException(f"ClientRequestToken must match [a-zA-Z0-9-_]{{1,{CLIENT_REQUEST_TOKEN_MAX}}}.")
    if tag is not None and (len(tag) > JOB_TAG_MAX or not _JOB_TAG.match(tag)):
        raise InvalidParameterException(f"JobTag must match [a-zA-Z0-9_.\\-:]{{1,{JOB_TAG_MAX}}}.")
    channel = request.get("NotificationChannel")
    if channel is not None and not (
        str(channel.get("SNSTopicArn", "")).startswith("arn:") and str(channel.get("RoleArn", "")).startswith("arn:")
    ):
        raise InvalidParameterException("NotificationChannel needs an SNSTopicArn and a RoleArn.")
    output = request.get("OutputConfig")
    if output is not None and not output.get("S3Bucket"):
        raise InvalidParameterException("OutputConfig needs an S3Bucket.")
    return request
