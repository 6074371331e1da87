"""Submitting translation jobs (``POST /translation`` and the queue entry): validate, plan, then the platform claims.

Submission reads the folder's listing (up to ``CHECKED_OBJECTS`` objects: a larger folder is checked in full
while staging) to refuse an empty folder, a folder with no file Translate reads, or more than Translate takes
in one job, before anything is created.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from sagestep_service.platform.errors import BadRequest
from sagestep_service.platform.jobs import JobStore
from sagestep_service.platform.submission import Prepared, Submission, Submitter
from sagestep_service.platform.uploads import owner_prefix
from sagestep_service.workflows.translation import staging
from sagestep_service.workflows.translation.models import KIND, S3_FOLDER, TranslationRequest
from sagestep_service.workflows.translation.settings import TranslationSettings
from sagestep_service.workflows.translation.translate_service import MAX_JOB_BYTES, MAX_JOB_DOCUMENTS

#: How many objects of the input folder submission lists (10 pages); beyond that, staging checks the rest.
CHECKED_OBJECTS = 10_000


@dataclass(frozen=True)
class Folder:
    bucket: str
    prefix: str

    @property
    def uri(self) -> str:
        return f"s3://{self.bucket}/{self.prefix}"


def parse_folder(uri: str, field: str) -> Folder:
    match = S3_FOLDER.match(uri)
    if not match:
        raise BadRequest(field, "must be an s3://bucket/prefix/ URI")
    prefix = match["prefix"]
    return Folder(match["bucket"], prefix if prefix.endswith("/") or not prefix else prefix + "/")


class TranslationSubmitter:
    """Validates translation requests, plans them and submits them through the platform."""

    def __init__(self, settings: TranslationSettings, store: JobStore, sfn: Any, s3: Any) -> None:
        self._settings = settings
        self._s3 = s3
        self._submitter = Submitter(store, sfn, settings.translation_state_machine_arn)

    def submit(
        self,
        owner: str,
        request: TranslationRequest,
        idempotency_key: str | None,
        *,
        allowed_prefixes: tuple[str, ...] | None = None,
    ) -> Submission:
        """Submit ``request`` for ``owner``: its folders must lie under the owner's prefix of the data bucket
        (or, for the queue entry, under one of ``allowed_prefixes``)."""
        allowed = allowed_prefixes if allowed_prefixes is not None else (owner_prefix(owner),)
        source = self._folder(request.inputUri, "inputUri", allowed)
        body = request.model_dump(mode="json", exclude_none=True)

        def prepare(job_id: str) -> Prepared:
            output = (
                self._folder(request.outputUri, "outputUri", allowed)
                if request.outputUri
                else Folder(self._settings.data_bucket, f"{allowed[0]}translations/{job_id}/")
            )
            if output.prefix.startswith(source.prefix) or source.prefix.startswith(output.prefix):
                if not request.outputUri:
                    raise BadRequest(
                        "inputUri",
                        f"the default output folder {output.uri} lies inside it: give an outputUri outside the input",
                    )
                raise BadRequest("outputUri", "must not lie inside the input folder, nor contain it")
            self._check_folder(source)
            return Prepared(mode="translate", plan=self._plan(job_id, request, source, output))

        return self._submitter.submit(
            kind=KIND, owner=owner, body=body, idempotency_key=idempotency_key, prepare=prepare
        )

    def _folder(self, uri: str, field: str, allowed: tuple[str, ...]) -> Folder:
        folder = parse_folder(uri, field)
        if folder.bucket != self._settings.data_bucket or not any(folder.prefix.startswith(p) for p in allowed):
            where = " or ".join(f"s3://{self._settings.data_bucket}/{p}" for p in allowed)
            raise BadRequest(field, f"must be a folder under {where}")
        return folder

    def _check_folder(self, folder: Folder) -> None:
        """Refuse what Translate would refuse as a whole; files it refuses one by one are skipped later."""
        translatable: Counter[str] = Counter()
        sizes: Counter[str] = Counter()
        listed = 0
        try:
            for item in staging.list_folder(self._s3, folder.bucket, folder.prefix, max_objects=CHECKED_OBJECTS):
                listed += 1
                decision = staging.classify(item.path, item.size)
                if decision.content_type is not None:
                    translatable[decision.content_type.slug] += 1
                    sizes[decision.content_type.slug] += item.size
        except ClientError as exc:
            raise BadRequest("inputUri", f"cannot be listed ({exc.response['Error']['Code']})") from exc
        if listed == 0:
            raise BadRequest("inputUri", "the folder is empty (or does not exist)")
        if not translatable:
            raise BadRequest(
                "inputUri",
                f"none of the folder's {listed} files is one Translate reads "
                f"({', '.join(staging.SUPPORTED_EXTENSIONS)}; at most 20 MB each)",
            )
        for slug, count in translatable.items():
            if count > MAX_JOB_DOCUMENTS or sizes[slug] > MAX_JOB_BYTES:
                raise BadRequest(
                    "inputUri",
                    f"{count} {slug} files of {sizes[slug]} bytes: Translate takes at most {MAX_JOB_DOCUMENTS} "
                    f"documents and {MAX_JOB_BYTES} bytes of one content type in a job",
                )

    def _plan(self, job_id: str, request: TranslationRequest, source: Folder, output: Folder) -> dict[str, Any]:
        settings = self._settings
        return {
            "input": {"bucket": source.bucket, "prefix": source.prefix},
            "output": {"bucket": output.bucket, "prefix": output.prefix},
            # The job's own area: staging/<type>/ (Translate's input), manifest/, translated/<type>/ (Translate's
            # output), results/ (what the files API reads). Only manifest/ and results/ outlive the job.
            "work": {"bucket": settings.artifact_bucket, "prefix": f"jobs/{job_id}/"},
            "translation": {
                "SourceLanguageCode": request.sourceLanguageCode,
                "TargetLanguageCodes": request.targetLanguageCodes,
                "TerminologyNames": request.terminologyNames,
                "Settings": request.settings.as_translate(),
                "DataAccessRoleArn": settings.translate_role_arn,
                "KmsKeyArn": settings.data_key_arn,
            },
            "accountId": settings.translate_role_arn.split(":")[4],
            "deadlineSeconds": min(request.deadlineSeconds or settings.deadline_seconds, settings.deadline_seconds),
        }
