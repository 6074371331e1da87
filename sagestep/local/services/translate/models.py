"""The records of the local Translate (jobs, terminologies, client tokens) as a moto backend, and its errors.

They live in a moto ``BackendDict`` per account and region, as moto's own services keep theirs, so that
``moto-api/reset`` forgets them along with the S3 objects they point to.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections import deque
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from moto.core.base_backend import BackendDict, BaseBackend
from moto.core.exceptions import ServiceException

from sagestep.local.services.translate.terminology import Terminology
from sagestep.local.translate_faults import JobFaults
from sagestep_service.workflows.translation.translate_service import TERMINAL_STATUSES

#: Statuses that count against the concurrent-jobs quota.
ACTIVE_STATUSES = frozenset({"SUBMITTED", "IN_PROGRESS", "STOP_REQUESTED"})


class TranslateError(ServiceException):
    """An error of Translate's API; ``code`` is one of the service model's error shapes."""

    def __init__(self, message: str) -> None:
        super().__init__(message)


class InvalidRequestException(TranslateError):
    code = "InvalidRequestException"


class InvalidParameterValueException(TranslateError):
    code = "InvalidParameterValueException"


class UnsupportedLanguagePairException(TranslateError):
    code = "UnsupportedLanguagePairException"


class ResourceNotFoundException(TranslateError):
    code = "ResourceNotFoundException"


class LimitExceededException(TranslateError):
    code = "LimitExceededException"


class TooManyRequestsException(TranslateError):
    code = "TooManyRequestsException"


class InvalidFilterException(TranslateError):
    code = "InvalidFilterException"


def utcnow() -> datetime:
    """Now, to the millisecond: the precision of the API's timestamps, so that a time read back from a job
    compares equal to it in a list filter."""
    now = datetime.now(UTC)
    return now.replace(microsecond=now.microsecond // 1000 * 1000)


@dataclass
class Job:
    """One batch translation job; its mutable fields are changed under the backend's ``lock``."""

    job_id: str
    job_name: str
    account_id: str
    region: str
    source_language: str
    target_languages: list[str]
    input_config: dict[str, str]
    output_config: dict[str, Any]
    role_arn: str
    terminology_names: list[str]
    parallel_data_names: list[str]
    settings: dict[str, str] | None
    faults: JobFaults
    status: str = "SUBMITTED"
    submitted: datetime = field(default_factory=utcnow)
    end_time: datetime | None = None
    message: str | None = None
    input_documents: int = 0
    translated_documents: int = 0
    documents_with_errors: int = 0
    #: Set by StopTextTranslationJob (and at shutdown): the worker stops between documents.
    stop_requested: threading.Event = field(default_factory=threading.Event, repr=False)

    @property
    def arn(self) -> str:
        return f"arn:aws:translate:{self.region}:{self.account_id}:text-translation-job/{self.job_id}"

    @property
    def terminal(self) -> bool:
        return self.status in TERMINAL_STATUSES

    def properties(self) -> dict[str, Any]:
        """``TextTranslationJobProperties`` as Describe/List answer them (empty fields left out)."""
        properties: dict[str, Any] = {
            "JobId": self.job_id,
            "JobName": self.job_name,
            "JobStatus": self.status,
            "JobDetails": {
                "TranslatedDocumentsCount": self.translated_documents,
                "DocumentsWithErrorsCount": self.documents_with_errors,
                "InputDocumentsCount": self.input_documents,
            },
            "SourceLanguageCode": self.source_language,
            "TargetLanguageCodes": list(self.target_languages),
            "SubmittedTime": self.submitted,
            "InputDataConfig": dict(self.input_config),
            "OutputDataConfig": dict(self.output_config),
            "DataAccessRoleArn": self.role_arn,
        }
        if self.terminology_names:
            properties["TerminologyNames"] = list(self.terminology_names)
        if self.parallel_data_names:
            properties["ParallelDataNames"] = list(self.parallel_data_names)
        if self.message is not None:
            properties["Message"] = self.message
        if self.end_time is not None:
            properties["EndTime"] = self.end_time
        if self.settings:
            properties["Settings"] = dict(self.settings)
        return properties


class TranslateBackend(BaseBackend):
    """Jobs, client tokens, start times (for the rate quota) and terminologies of one account and region."""

    def __init__(self, region_name: str, account_id: str) -> None:
        super().__init__(region_name, account_id)
        self.lock = threading.RLock()
        self.jobs: dict[str, Job] = {}
        self.tokens: dict[str, str] = {}
        self.starts: deque[float] = deque()
        self.terminologies: dict[str, Terminology] = {}

    def job(self, job_id: str) -> Job:
        job = self.jobs.get(job_id)
        if job is None:
            raise ResourceNotFoundException(f"The job {job_id} could not be found.")
        return job

    def check_quotas(self, max_concurrent: int, max_per_second: int) -> None:
        """Raise as Translate does when a start would pass a quota (call with ``lock`` held)."""
        now = time.monotonic()
        while self.starts and now - self.starts[0] >= 1.0:
            self.starts.popleft()
        if len(self.starts) >= max_per_second:
            raise TooManyRequestsException(
                f"You have made too many requests within a short amount of time (more than {max_per_second} "
                "StartTextTranslationJob calls per second). Wait for a short time and then try your request again."
            )
        active = sum(job.status in ACTIVE_STATUSES for job in self.jobs.values())
        if active >= max_concurrent:
            raise LimitExceededException(
                f"You have reached the maximum number of concurrent batch translation jobs ({max_concurrent}) "
                "for this account and Region. Wait for a job to finish, then try again."
            )
        self.starts.append(now)

    @staticmethod
    def new_job_id() -> str:
        return uuid.uuid4().hex

    def list_jobs(
        self, filter_: dict[str, Any] | None, next_token: str | None, max_results: int | None
    ) -> tuple[list[Job], str | None]:
        """Jobs matching ``filter_``, newest first, one page (the token is the index of the page's first job)."""
        filter_ = filter_ or {}
        jobs = sorted(self.jobs.values(), key=lambda job: job.submitted, reverse=True)
        if filter_.get("JobName"):
            jobs = [job for job in jobs if job.job_name == filter_["JobName"]]
        if filter_.get("JobStatus"):
            jobs = [job for job in jobs if job.status == filter_["JobStatus"]]
        before, after = _time(filter_.get("SubmittedBeforeTime")), _time(filter_.get("SubmittedAfterTime"))
        if before is not None:
            jobs = [job for job in jobs if job.submitted < before]
        if after is not None:
            jobs = [job for job in jobs if job.submitted > after]
        try:
            start = int(next_token) if next_token else 0
        except ValueError:
            raise InvalidRequestException("The NextToken is not valid.") from None
        size = max(1, min(int(max_results or 100), 500))
        page = jobs[start : start + size]
        return page, str(start + size) if start + size < len(jobs) else None


def _time(value: Any) -> datetime | None:
    """A filter timestamp as the JSON protocol sends it (epoch seconds) or moto parses it."""
    if value is None:
        return None
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    try:
        return datetime.fromtimestamp(float(value), UTC)
    except (TypeError, ValueError):
        return datetime.fromisoformat(str(value).replace("Z", "+00:00"))


translate_backends = BackendDict(TranslateBackend, "translate")
