"""The documents workflow's request bodies, job views, statuses and task inputs."""

from __future__ import annotations

import re
from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from sagestep_service.platform.models import JobPage, JobView
from sagestep_service.workflows.documents import comprehend_service, textract_service

KIND = "documents"
S3_URI = re.compile(r"^s3://(?P<bucket>[a-z0-9][a-z0-9.-]{1,61}[a-z0-9])/(?P<key>.*)$")
#: Languages both services handle: Textract reads the text, Comprehend analyses it.
LANGUAGES = sorted(textract_service.LANGUAGES & comprehend_service.LANGUAGES)
Technique = Literal["auto", "layout", "font-size", "indentation", "line-spacing", "full-stop"]
Feature = Literal["sentiment", "keyPhrases", "entities"]
ALL_FEATURES: tuple[Feature, ...] = ("sentiment", "keyPhrases", "entities")


class DocumentsStatus(StrEnum):
    SUBMITTED = "SUBMITTED"
    ANALYSING = "ANALYSING"  #: Textract, segmentation and Comprehend, one document after another in parallel
    COMPLETED = "COMPLETED"
    COMPLETED_WITH_ERRORS = "COMPLETED_WITH_ERRORS"  #: some documents failed (each with its reason)
    ERROR = "ERROR"


class DocumentsRequest(BaseModel):
    """``POST /documents``: analyse one document, or every document of a folder, of yours."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, defer_build=True)

    documentUri: str | None = Field(default=None, description="A PDF, TIFF, PNG or JPEG file of yours.")
    folderUri: str | None = Field(default=None, description="A folder of yours (`.../`): every document in it.")
    languageCode: str | None = Field(
        default=None, description=f"The documents' language ({', '.join(LANGUAGES)}); detected when absent."
    )
    segmentation: Technique = Field(
        default="auto", description="How paragraphs are found: Textract's layout, or one of the four techniques."
    )
    features: list[Feature] = Field(default_factory=lambda: list(ALL_FEATURES), min_length=1)
    tables: bool = Field(default=False, description="Also analyse tables (Textract's TABLES feature, billed).")
    deadlineSeconds: int | None = Field(
        default=None, ge=10, description="How long Textract may take per document (at most the deployment's)."
    )

    @field_validator("documentUri", "folderUri")
    @classmethod
    def _uri(cls, value: str | None) -> str | None:
        if value is not None and not S3_URI.match(value):
            raise ValueError("must be an s3://bucket/key URI")
        return value

    @field_validator("languageCode")
    @classmethod
    def _language(cls, value: str | None) -> str | None:
        if value is not None and value not in LANGUAGES:
            raise ValueError(
                f"{value!r} is not a language both Textract and Comprehend handle ({', '.join(LANGUAGES)})"
            )
        return value

    @field_validator("features")
    @classmethod
    def _features(cls, values: list[str]) -> list[str]:
        if len(set(values)) != len(values):
            raise ValueError("lists a feature twice")
        return values

    @model_validator(mode="after")
    def _one_source(self) -> DocumentsRequest:
        if (self.documentUri is None) == (self.folderUri is None):
            raise ValueError("give exactly one of documentUri and folderUri")
        if self.folderUri is not None and not self.folderUri.endswith("/"):
            self.folderUri += "/"
        return self


class DocumentSummary(BaseModel):
    """One document's outcome."""

    model_config = ConfigDict(extra="ignore")

    index: int
    path: str
    status: Literal["COMPLETED", "FAILED"]
    textractJobId: str | None = None
    textractStatus: str | None = None
    warnings: list[dict[str, Any]] = Field(default_factory=list)
    pages: int = 0
    languageCode: str | None = None
    technique: str | None = None
    paragraphs: int = 0
    sentimentDistribution: dict[str, int] = Field(default_factory=dict)
    topKeyPhrases: list[dict[str, Any]] = Field(default_factory=list)
    topEntities: list[dict[str, Any]] = Field(default_factory=list)
    comprehendUnits: dict[str, int] = Field(default_factory=dict)
    exportUri: str | None = None
    error: str | None = None
    errorCause: str | None = None


class DocumentsSummary(BaseModel):
    documents: int
    completed: int
    failed: int
    skipped: list[dict[str, str]] = Field(default_factory=list, description="Files of the folder not analysed.")
    paragraphs: int = 0
    sentimentDistribution: dict[str, int] = Field(default_factory=dict)
    comprehendUnits: dict[str, int] = Field(default_factory=dict)
    items: list[DocumentSummary] = Field(default_factory=list, description="The first 100 documents.")


class DocumentPage(BaseModel):
    """One page of a job's per-document records."""

    items: list[DocumentSummary]
    nextCursor: str | None = None


class DocumentsJobView(JobView):
    kind: Literal["documents"]
    status: DocumentsStatus
    summary: DocumentsSummary | None = None


class DocumentsJobPage(JobPage):
    items: list[DocumentsJobView]  # type: ignore[assignment]


class ParagraphView(BaseModel):
    model_config = ConfigDict(extra="ignore")

    document: int
    path: str
    index: int
    header: str | None = None
    headerLevel: int | None = None
    text: str
    pages: list[int]
    lineCount: int | None = None
    sentiment: str | None = None
    sentimentScore: dict[str, float] | None = None
    keyPhrases: list[dict[str, Any]] = Field(default_factory=list)
    entities: list[dict[str, Any]] = Field(default_factory=list)
    errors: list[dict[str, Any]] = Field(default_factory=list, description="Comprehend's errors for this paragraph.")
    boxes: list[dict[str, Any]] = Field(default_factory=list)


class ParagraphPage(BaseModel):
    items: list[ParagraphView]
    nextCursor: str | None = None


class _Task(BaseModel):
    model_config = ConfigDict(extra="ignore")


class DocumentItem(_Task):
    """One item of the Distributed Map (a line of the job's documents manifest)."""

    index: int
    bucket: str
    key: str
    path: str


class DocumentTask(_Task):
    jobId: str
    plan: dict[str, Any]
    document: DocumentItem
    textract: dict[str, Any] = Field(default_factory=dict)
    failure: dict[str, Any] | None = None


class JobTask(_Task):
    jobId: str
    plan: dict[str, Any]


class FailureTask(_Task):
    jobId: str
    plan: dict[str, Any] = Field(default_factory=dict)
    failure: dict[str, Any]
