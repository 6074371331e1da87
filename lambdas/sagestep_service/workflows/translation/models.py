"""The translation workflow's request bodies, job views, statuses and task inputs."""

from __future__ import annotations

import re
from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from sagestep_service.platform.models import JobPage, JobView
from sagestep_service.workflows.translation.translate_service import (
    AUTO,
    FORMALITY_LANGUAGES,
    LANGUAGES,
    MAX_TARGET_LANGUAGES,
)

KIND = "translation"
S3_FOLDER = re.compile(r"^s3://(?P<bucket>[a-z0-9][a-z0-9.-]{1,61}[a-z0-9])/(?P<prefix>.*)$")
#: Translate's terminology names.
TERMINOLOGY_NAME = re.compile(r"^[\w.-]{1,256}$")
#: URLs are signed with the API function's temporary credentials at each GET; they cannot outlive those, so the
#: API accepts no longer expiry than it can keep (GET the job again for fresh links).
MAX_URL_EXPIRY_SECONDS = 3600


class TranslationStatus(StrEnum):
    SUBMITTED = "SUBMITTED"
    STAGING = "STAGING"  #: copying the folder's files into per-content-type staging prefixes
    TRANSLATING = "TRANSLATING"  #: one Translate batch job per content type, then the results copied back
    COMPLETED = "COMPLETED"
    COMPLETED_WITH_ERRORS = "COMPLETED_WITH_ERRORS"  #: some files failed in Translate (each with its reason)
    ERROR = "ERROR"


class TranslationOptions(BaseModel):
    """Translate's settings for the whole job."""

    model_config = ConfigDict(extra="forbid", defer_build=True)

    formality: Literal["FORMAL", "INFORMAL"] | None = Field(
        default=None, description=f"Only for target languages {', '.join(sorted(FORMALITY_LANGUAGES))}."
    )
    profanity: Literal["MASK"] | None = Field(default=None, description="Mask profane words with `?$#@$`.")
    brevity: Literal["ON"] | None = Field(default=None, description="Shorter translations (supported pairs only).")

    def as_translate(self) -> dict[str, str]:
        """Translate's ``Settings`` (only the fields that are set)."""
        values = {"Formality": self.formality, "Profanity": self.profanity, "Brevity": self.brevity}
        return {key: value for key, value in values.items() if value is not None}


def _language(value: str, field: str, *, source: bool = False) -> str:
    if (source and value == AUTO) or value in LANGUAGES:
        return value
    hint = " or 'auto'" if source else ""
    raise ValueError(f"{value!r} is not a language code Amazon Translate supports{hint} (e.g. en, de, fr, zh-TW)")


class TranslationRequest(BaseModel):
    """``POST /translation``: translate every supported file of a folder of yours into 1-10 languages."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, defer_build=True)

    inputUri: str = Field(
        description="A folder of yours (`s3://<data bucket>/users/<you>/.../`); subfolders are included.",
        examples=["s3://sagestep-data/users/0000/manuals/"],
    )
    sourceLanguageCode: str = Field(description="The documents' language, or `auto` (Translate detects it).")
    targetLanguageCodes: list[str] = Field(min_length=1, max_length=MAX_TARGET_LANGUAGES)
    outputUri: str | None = Field(
        default=None,
        description="A folder of yours for the results (`<outputUri>/<language>/<path in the input folder>`); "
        "default `users/<you>/translations/<jobId>/`. Must not lie inside the input folder.",
    )
    terminologyNames: list[str] = Field(default_factory=list, max_length=1)
    settings: TranslationOptions = Field(default_factory=TranslationOptions)
    deadlineSeconds: int | None = Field(
        default=None,
        ge=10,
        description="How long each Translate job may run before the job fails (at most the deployment's "
        "`translationDeadlineSeconds`, which is also the default).",
    )
    urlExpirySeconds: int = Field(
        default=MAX_URL_EXPIRY_SECONDS,
        ge=60,
        le=MAX_URL_EXPIRY_SECONDS,
        description="Expiry of the result links each GET returns (they are signed at each GET).",
    )

    @field_validator("inputUri", "outputUri")
    @classmethod
    def _folder(cls, value: str | None) -> str | None:
        if value is None:
            return None
        if not S3_FOLDER.match(value):
            raise ValueError("must be an s3://bucket/prefix/ URI")
        return value if value.endswith("/") else value + "/"

    @field_validator("sourceLanguageCode")
    @classmethod
    def _source(cls, value: str) -> str:
        return _language(value, "sourceLanguageCode", source=True)

    @field_validator("targetLanguageCodes")
    @classmethod
    def _targets(cls, values: list[str], info: ValidationInfo) -> list[str]:
        for value in values:
            _language(value, "targetLanguageCodes")
        if len(set(values)) != len(values):
            raise ValueError("lists a language twice")
        if info.data.get("sourceLanguageCode") in values:
            raise ValueError("includes the source language")
        return values

    @field_validator("terminologyNames")
    @classmethod
    def _terminologies(cls, values: list[str]) -> list[str]:
        for value in values:
            if not TERMINOLOGY_NAME.match(value):
                raise ValueError(f"{value!r} is not a terminology name")
        return values

    @field_validator("settings")
    @classmethod
    def _formality(cls, value: TranslationOptions, info: ValidationInfo) -> TranslationOptions:
        if value.formality:
            unsupported = [code for code in info.data.get("targetLanguageCodes", []) if code not in FORMALITY_LANGUAGES]
            if unsupported:
                raise ValueError(f"formality is not available for {', '.join(unsupported)}")
        return value


class LanguageResult(BaseModel):
    """One target language of one Translate job."""

    translated: int = 0
    failed: int = 0
    charactersBilled: int = 0


class ContentTypeResult(BaseModel):
    """One content type of the folder: its Translate job and what it did per language."""

    contentType: str
    mimeType: str
    files: int
    translateJobId: str | None = None
    translateJobStatus: str | None = None
    languages: dict[str, LanguageResult] = Field(default_factory=dict)


class SkippedFile(BaseModel):
    path: str
    reason: str


class TranslationSummary(BaseModel):
    """What the job did: per content type and language, and the files it skipped."""

    files: int = Field(description="Files staged for translation.")
    translatedFiles: int = Field(description="(file, language) results written to the output folder.")
    failedFiles: int = Field(description="(file, language) pairs Translate reported as failed.")
    skippedFiles: int = Field(description="Files of the folder that were not sent to Translate (see `skipped`).")
    contentTypes: list[ContentTypeResult] = Field(default_factory=list)
    skipped: list[SkippedFile] = Field(default_factory=list, description="The first 50 skipped files.")
    outputUri: str


class TranslationJobView(JobView):
    """A translation job as the API shows it to its owner."""

    kind: Literal["translation"]
    status: TranslationStatus
    stopRequestedAt: str | None = Field(default=None, description="When its owner asked to stop it (DELETE).")
    summary: TranslationSummary | None = None


class TranslationJobPage(JobPage):
    items: list[TranslationJobView]  # type: ignore[assignment]


class FileResult(BaseModel):
    """One (file, language): where its translation is, or why it failed."""

    path: str = Field(description="The file's path in the input folder.")
    language: str
    status: Literal["TRANSLATED", "FAILED"]
    resultUri: str | None = None
    url: str | None = Field(default=None, description="Presigned GET of the result.")
    reason: str | None = None


class FilePage(BaseModel):
    """One page of a job's per-file results."""

    items: list[FileResult]
    urlExpiresInSeconds: int = Field(description="How long each `url` works (signed at this GET).")
    urlExpiresAt: int = Field(description="Epoch seconds after which the URLs no longer work.")
    nextCursor: str | None = None


class _Task(BaseModel):
    model_config = ConfigDict(extra="ignore")


class Staged(_Task):
    """The staging loop's state (``$.staging``): how far the folder's listing got and what it found."""

    more: bool = True
    cursor: str | None = None
    part: int = 0
    files: int = 0
    skipped: int = 0
    contentTypes: dict[str, int] = Field(default_factory=dict, description="slug -> files")
    contentTypeBytes: dict[str, int] = Field(default_factory=dict, description="slug -> bytes")


class StageTask(_Task):
    jobId: str
    plan: dict[str, Any]
    staging: Staged = Field(default_factory=Staged)


class ContentTypeItem(_Task):
    """One item of the state machine's Map: a content type present in the folder."""

    slug: str
    mime: str
    files: int


class RestoreTask(_Task):
    """``TranslationRestore``: copy one content type's results back, one manifest part per call."""

    jobId: str
    plan: dict[str, Any]
    item: ContentTypeItem
    translateJobId: str
    translateJobStatus: str
    part: int = 0
    parts: int = 1
    restored: dict[str, Any] = Field(default_factory=dict)


class FinishTask(_Task):
    jobId: str
    plan: dict[str, Any]
    staging: dict[str, Any]
    results: list[dict[str, Any]]


class QueueMessage(BaseModel):
    """The reference's SQS message (``Translate All``): one folder to translate."""

    model_config = ConfigDict(extra="ignore")

    JobName: str = Field(min_length=1, max_length=256)
    InputBucket: str
    InputS3Uri: str = Field(description="A folder: `s3://bucket/prefix/` or a prefix of `InputBucket`.")
    OutputBucket: str
    OutputS3Uri: str | None = None
    SourceLanguageCode: str
    TargetLanguageCodes: list[str] = Field(min_length=1, max_length=MAX_TARGET_LANGUAGES)
