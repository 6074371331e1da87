"""The labeling workflow's request body (``POST /batch/create``, the reference's) and its views (``GET /batch/show``).

A batch is a tree of Ground Truth labeling jobs in levels 1..N: every job of level 1 labels a manifest of yours, a
job of a later level labels the output of one or several jobs of earlier levels (``chainFromJobName``; several
outputs are merged), optionally filtered (low-confidence items only, or a reproducible sample). Levels run one after
another. Validation here is about the body alone; whether the manifests exist under your prefix is checked when the
batch is submitted.
"""

from __future__ import annotations

import hashlib
import re
from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator, model_validator

from sagestep_service.workflows.labeling.ground_truth import MODALITIES, task_type

KIND = "labeling"
#: SageMaker's names (labeling jobs, and so the batch and job names they are made of).
NAME = re.compile(r"^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$")
MAX_NAME = 63
S3_URI = re.compile(r"^s3://(?P<bucket>[a-z0-9][a-z0-9.-]{1,61}[a-z0-9])/(?P<key>.+)$")
SNS_TOPIC_ARN = re.compile(r"^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]{1,256}(\.fifo)?$")
WORKTEAM_ARN = re.compile(r"^arn:aws[a-z-]*:sagemaker:[a-z0-9-]+:\d{12}:workteam/[A-Za-z0-9._/-]+$")
#: Ground Truth's label attribute names (``LabelAttributeName``).
LAMBDA_ARN = re.compile(r"^arn:aws[a-z-]*:lambda:[a-z0-9-]+:\d{12}:function:[A-Za-z0-9_-]{1,64}(:[A-Za-z0-9$_-]+)?$")
LABEL_ATTRIBUTE = re.compile(r"^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,126}$")
_HASH = 8  #: hex characters of the hash that keeps a truncated labeling job name unique


def labeling_job_name(batch_id: str, job_name: str, salt: str = "") -> str:
    """The Ground Truth labeling job's name: ``<batchId>-<jobName>`` followed, when ``salt`` is given (the batch's
    job id: SageMaker names are unique per account and region, batch ids only per owner), by ``-`` and the first 6
    hex digits of the SHA-256 of the salt and the name. A name longer than SageMaker's 63 characters keeps its first
    characters (trailing hyphens dropped) and ends in ``-`` + 8 hex digits of the hash of the whole name, so two long
    names sharing a prefix still get different labeling jobs. Deterministic: a retried create meets the job it
    created, never a second one."""
    name = f"{batch_id}-{job_name}"
    if salt:
        name = f"{name}-{hashlib.sha256(f'{salt}/{name}'.encode()).hexdigest()[:6]}"
    if len(name) <= MAX_NAME:
        return name
    digest = hashlib.sha256(f"{salt}/{name}".encode()).hexdigest()[:_HASH]
    return f"{name[: MAX_NAME - _HASH - 1].rstrip('-')}-{digest}"


def _name(value: str, what: str) -> str:
    if not NAME.match(value):
        raise ValueError(
            f"{value!r} is not a valid {what}: 1-63 letters, digits and hyphens, starting and ending with a letter "
            "or digit"
        )
    return value


def _s3(value: str | None) -> str | None:
    if value is not None and not S3_URI.match(value):
        raise ValueError("must be an s3://bucket/key URI")
    return value


class InputFilter(BaseModel):
    """Which items of the chained jobs' output to label again: exactly one kind."""

    model_config = ConfigDict(extra="forbid", defer_build=True)

    confidenceBelow: float | None = Field(
        default=None, gt=0, le=1, description="Only items whose consolidated label confidence is below this."
    )
    sampleRate: float | None = Field(default=None, gt=0, le=1, description="A random fraction of the items.")
    seed: int | None = Field(default=None, ge=0, description="Makes `sampleRate`'s sample reproducible.")

    @model_validator(mode="after")
    def _one_kind(self) -> InputFilter:
        if (self.confidenceBelow is None) == (self.sampleRate is None):
            raise ValueError("give exactly one of confidenceBelow and sampleRate")
        if self.seed is not None and self.sampleRate is None:
            raise ValueError("seed goes only with sampleRate")
        return self


class InputConfig(BaseModel):
    """Where a job's items come from: a manifest of yours, or the output of earlier jobs of the batch."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, defer_build=True)

    inputManifestS3Uri: str | None = Field(default=None, description="A Ground Truth input manifest of yours.")
    chainFromJobName: str | list[str] | None = Field(
        default=None, description="One job of an earlier level, or several (their outputs are merged)."
    )
    downSamplingRate: float | None = Field(
        default=None, gt=0, le=100, description="Label only this percentage of the items (the first ones)."
    )
    filter: InputFilter | None = Field(default=None, description="Only for chained jobs.")

    @field_validator("inputManifestS3Uri")
    @classmethod
    def _manifest(cls, value: str | None) -> str | None:
        return _s3(value)

    @field_validator("chainFromJobName")
    @classmethod
    def _chain(cls, value: str | list[str] | None) -> str | list[str] | None:
        names = [value] if isinstance(value, str) else value or []
        if isinstance(value, list) and not value:
            raise ValueError("names no job")
        for name in names:
            _name(name, "job name")
        if len(set(names)) != len(names):
            raise ValueError("names a job twice")
        return value

    @model_validator(mode="after")
    def _one_source(self) -> InputConfig:
        if (self.inputManifestS3Uri is None) == (self.chainFromJobName is None):
            raise ValueError("give exactly one of inputManifestS3Uri and chainFromJobName")
        if self.filter is not None and self.chainFromJobName is None:
            raise ValueError("filter applies only to chained jobs (chainFromJobName)")
        return self

    @property
    def chained(self) -> list[str]:
        """The jobs this one chains from (none for a manifest)."""
        value = self.chainFromJobName
        return [value] if isinstance(value, str) else list(value or [])


class LabelingJobRequest(BaseModel):
    """One labeling job of a batch."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, defer_build=True)

    jobName: str = Field(description="Unique in the batch; the labeling job is named after it and the batch.")
    jobType: Literal["BATCH"] = "BATCH"
    jobModality: str = Field(description=f"One of {', '.join(MODALITIES)}.")
    jobLevel: int = Field(ge=1, description="Levels 1..N, without gaps; level 1 jobs label a manifest of yours.")
    labelAttributeName: str | None = Field(
        default=None, description="Default: the job name (`<jobName>-ref` for video-frame and point-cloud jobs)."
    )
    labelCategoryConfigS3Uri: str | None = Field(
        default=None, description="The label categories; may be omitted by a chained job (its source's are used)."
    )
    inputConfig: InputConfig
    workteamArn: str | None = Field(default=None, description="Default: the deployment's work team.")
    maxConcurrentTaskCount: int = Field(default=100, ge=1, le=5000)
    taskAvailabilityLifetimeInSeconds: int = Field(default=864000, ge=60, le=864000)
    taskTimeLimitInSeconds: int = Field(default=604800, ge=30, le=604800)
    workersPerObject: int = Field(default=1, ge=1, le=9, description="Workers whose answers are consolidated.")
    taskTitle: str | None = Field(default=None, max_length=128, description="What workers see as the task's title.")
    taskDescription: str | None = Field(default=None, max_length=255)
    uiTemplateS3Uri: str | None = Field(
        default=None, description="`Custom` jobs: your worker UI (a Liquid template reading `task.input`)."
    )
    preHumanTaskLambdaArn: str | None = Field(
        default=None, description="`Custom` jobs: your pre-labeling Lambda (one the deployment allows)."
    )
    annotationConsolidationLambdaArn: str | None = Field(
        default=None, description="`Custom` jobs: your post-labeling Lambda (one the deployment allows)."
    )

    @field_validator("jobName")
    @classmethod
    def _job_name(cls, value: str) -> str:
        return _name(value, "job name")

    @field_validator("jobModality")
    @classmethod
    def _modality(cls, value: str) -> str:
        task_type(value)
        return value

    @field_validator("labelAttributeName")
    @classmethod
    def _label_attribute(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is None:
            return None
        if not LABEL_ATTRIBUTE.match(value) or value.endswith("-metadata"):
            raise ValueError(
                f"{value!r} is not a label attribute name: 1-127 letters, digits and hyphens, not ending in -metadata"
            )
        modality = info.data.get("jobModality")
        if modality is not None and task_type(modality).frames and not value.endswith("-ref"):
            raise ValueError(f"must end in -ref for {modality} jobs")
        return value

    @field_validator("labelCategoryConfigS3Uri")
    @classmethod
    def _categories(cls, value: str | None) -> str | None:
        return _s3(value)

    @field_validator("workteamArn")
    @classmethod
    def _workteam(cls, value: str | None) -> str | None:
        if value is not None and not WORKTEAM_ARN.match(value):
            raise ValueError("must be a SageMaker work team ARN (arn:aws:sagemaker:<region>:<account>:workteam/...)")
        return value

    @field_validator("uiTemplateS3Uri")
    @classmethod
    def _template(cls, value: str | None) -> str | None:
        return _s3(value)

    @field_validator("preHumanTaskLambdaArn", "annotationConsolidationLambdaArn")
    @classmethod
    def _lambda(cls, value: str | None) -> str | None:
        if value is not None and not LAMBDA_ARN.match(value):
            raise ValueError("must be a Lambda function ARN (arn:aws:lambda:<region>:<account>:function:<name>)")
        return value

    @model_validator(mode="after")
    def _categories_or_chain(self) -> LabelingJobRequest:
        if self.labelCategoryConfigS3Uri is None and self.inputConfig.chainFromJobName is None:
            raise ValueError("labelCategoryConfigS3Uri is required unless the job chains from another")
        kind = task_type(self.jobModality)
        if kind.audit and self.inputConfig.chainFromJobName is None:
            raise ValueError(f"a {self.jobModality} job adjusts an earlier job's labels: give chainFromJobName")
        custom = self.jobModality == "Custom"
        if custom and self.uiTemplateS3Uri is None:
            raise ValueError("a Custom job needs uiTemplateS3Uri (its worker UI)")
        if not custom:
            for field in ("uiTemplateS3Uri", "preHumanTaskLambdaArn", "annotationConsolidationLambdaArn"):
                if getattr(self, field) is not None:
                    raise ValueError(f"{field} is only for Custom jobs (the others use Ground Truth's or sagestep's)")
        return self

    @property
    def label_attribute(self) -> str:
        """The label attribute name the job writes (given, or derived from the job name)."""
        if self.labelAttributeName:
            return self.labelAttributeName
        return f"{self.jobName}-ref" if task_type(self.jobModality).frames else self.jobName


class BatchRequest(BaseModel):
    """``POST /batch/create``: a batch of labeling jobs in levels."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, defer_build=True)

    batchId: str = Field(description="Your name for the batch, unique among your batches; names its labeling jobs.")
    labelingJobs: list[LabelingJobRequest] = Field(min_length=1, max_length=50)
    destinationSnsArn: str | None = Field(
        default=None, description="An SNS topic told when the batch ends (one the deployment allows)."
    )
    deadlineSeconds: int | None = Field(
        default=None, ge=60, description="How long each level may take (at most the deployment's limit)."
    )

    @field_validator("batchId")
    @classmethod
    def _batch_id(cls, value: str) -> str:
        return _name(value, "batchId")

    @field_validator("destinationSnsArn")
    @classmethod
    def _topic(cls, value: str | None) -> str | None:
        if value is not None and not SNS_TOPIC_ARN.match(value):
            raise ValueError("must be an SNS topic ARN (arn:aws:sns:<region>:<account>:<topic>)")
        return value

    @field_validator("labelingJobs")
    @classmethod
    def _jobs(cls, jobs: list[LabelingJobRequest]) -> list[LabelingJobRequest]:
        """The rules across jobs; each message names the job by its index."""
        levels: dict[str, int] = {}
        for index, job in enumerate(jobs):
            if job.jobName in levels:
                raise ValueError(f"labelingJobs.{index}.jobName: {job.jobName!r} names two jobs of the batch")
            levels[job.jobName] = job.jobLevel
        present = sorted({job.jobLevel for job in jobs})
        missing = sorted(set(range(1, present[-1] + 1)) - set(present))
        if missing:
            raise ValueError(f"levels must be 1..N without gaps; no job has level {', '.join(map(str, missing))}")
        for index, job in enumerate(jobs):
            where = f"labelingJobs.{index}.inputConfig"
            if job.jobLevel == 1 and job.inputConfig.inputManifestS3Uri is None:
                raise ValueError(f"{where}.inputManifestS3Uri: a level 1 job must label a manifest")
            for source in job.inputConfig.chained:
                level = levels.get(source)
                if level is None:
                    raise ValueError(f"{where}.chainFromJobName: names {source!r}, no job of the batch")
                if level >= job.jobLevel:
                    raise ValueError(
                        f"{where}.chainFromJobName: names {source!r}, a job of level {level}; a job may chain only "
                        "from earlier levels"
                    )
        return jobs

    @property
    def levels(self) -> list[list[LabelingJobRequest]]:
        """The jobs level by level (level 1 first)."""
        top = max(job.jobLevel for job in self.labelingJobs)
        return [[job for job in self.labelingJobs if job.jobLevel == level] for level in range(1, top + 1)]

    def labeling_job_name(self, job_name: str, salt: str = "") -> str:
        return labeling_job_name(self.batchId, job_name, salt)


# --- views: GET /batch/show ---------------------------------------------------------------------------------------


class BatchStatus(StrEnum):
    """A batch's status (the reference's three, and ``STOPPED`` after ``POST /batch/{batchId}/stop``)."""

    IN_PROGRESS = "IN_PROGRESS"
    COMPLETE = "COMPLETE"
    FAILED = "FAILED"
    STOPPED = "STOPPED"


class JobStatus(StrEnum):
    """One labeling job of a batch (Ground Truth's statuses, and ``PENDING`` before its level starts)."""

    PENDING = "PENDING"
    SKIPPED = "SKIPPED"
    IN_PROGRESS = "IN_PROGRESS"
    COMPLETED = "COMPLETED"
    FAILED = "FAILED"
    STOPPING = "STOPPING"
    STOPPED = "STOPPED"


class BatchList(BaseModel):
    """``GET /batch/show``: your batch ids grouped by status."""

    IN_PROGRESS: list[str] = Field(default_factory=list)
    COMPLETE: list[str] = Field(default_factory=list)
    FAILED: list[str] = Field(default_factory=list)
    STOPPED: list[str] = Field(default_factory=list)


class ItemCounts(BaseModel):
    """A labeling job's items (Ground Truth's ``LabelCounters``)."""

    total: int = 0
    humanLabeled: int = 0
    machineLabeled: int = 0
    failed: int = 0
    unlabeled: int = 0


def item_counts(counters: dict[str, Any], previous: dict[str, Any] | None = None) -> dict[str, Any]:
    """Ground Truth's ``LabelCounters`` as a job's ``itemCounts``; ``total`` stays what the job's manifest held when
    it was built (``previous``), else Ground Truth's ``TotalLabeled``."""
    previous = previous or {}
    return {
        **previous,
        "total": previous.get("total", counters.get("TotalLabeled", 0)),
        "humanLabeled": counters.get("HumanLabeled", 0),
        "machineLabeled": counters.get("MachineLabeled", 0),
        "failed": counters.get("FailedNonRetryableError", 0),
        "unlabeled": counters.get("Unlabeled", 0),
    }


class JobCounts(BaseModel):
    """A level's jobs by status."""

    total: int = 0
    pending: int = 0
    skipped: int = 0
    inProgress: int = 0
    completed: int = 0
    failed: int = 0
    stopped: int = 0


class Link(BaseModel):
    """An S3 object and a presigned GET of it (signed at this GET)."""

    s3Uri: str
    url: str | None = None


class LabelingJobView(BaseModel):
    jobName: str
    labelingJobName: str
    jobModality: str
    jobLevel: int
    status: JobStatus
    failureReason: str | None = None
    message: str | None = Field(default=None, description="Why a job was skipped.")
    itemCounts: ItemCounts = Field(default_factory=ItemCounts)
    inputManifests: list[Link] = Field(default_factory=list, description="One per source (several when merged).")
    outputManifest: Link | None = None


class WorkerView(BaseModel):
    """One worker's estimated accuracy (Dawid-Skene, from every answer of the batch) and work."""

    workerId: str
    items: int = 0
    estimatedAccuracy: float | None = None
    agreement: float | None = Field(default=None, description="Share of answers equal to the consolidated label.")
    meanSecondsPerItem: float | None = None


class LevelView(BaseModel):
    level: int
    status: Literal["PENDING", "SKIPPED", "IN_PROGRESS", "COMPLETE", "FAILED", "STOPPED"]
    message: str | None = Field(default=None, description="Why a level was skipped.")
    jobCounts: JobCounts = Field(default_factory=JobCounts)
    jobs: list[LabelingJobView] = Field(default_factory=list)


class BatchView(BaseModel):
    """``GET /batch/show?batchId=``: the batch level by level, job by job."""

    batchId: str
    status: BatchStatus
    createdAt: str | None = None
    finishedAt: str | None = None
    error: str | None = None
    levels: list[LevelView] = Field(default_factory=list)
    workers: list[WorkerView] = Field(
        default_factory=list, description="Per worker of the batch: estimated accuracy and work (most items first)."
    )
    report: Link | None = Field(default=None, description="The batch's report (JSON); also GET /batch/{id}/report.")
    urlExpiresInSeconds: int = Field(description="How long each `url` works (signed at this GET).")
    urlExpiresAt: int = Field(description="Epoch seconds after which the URLs no longer work.")


# --- the state machine's task events ------------------------------------------------------------------------------


class _Task(BaseModel):
    model_config = ConfigDict(extra="ignore")


class AdvanceTask(_Task):
    """``LabelingAdvance``: the level that ended (0 at the start) and its jobs' ``.sync`` results."""

    jobId: str
    plan: dict[str, Any]
    level: int = Field(ge=0)
    results: list[dict[str, Any]] = Field(default_factory=list)


class FinishTask(_Task):
    jobId: str
    plan: dict[str, Any]
