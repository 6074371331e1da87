"""One batch translation job, really done: every document under the input prefix, into every target language.

The worker reads the input from the emulator's S3, translates each document with its content type's handler
(:mod:`.formats`), writes ``<lang>.<key below the input prefix>`` and one details file per target language into
the job's output folder, as Translate lays them out, and ends the job in the status Translate would report.
It checks for a stop request between documents, as Translate stops between documents too.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sagestep.local.services.translate.formats import DocumentError, translate_document
from sagestep.local.services.translate.models import Job
from sagestep.local.services.translate.terminology import Terminology
from sagestep_service.workflows.translation.translate_service import (
    MAX_DOCUMENT_BYTES,
    MAX_JOB_DOCUMENTS,
    details_key,
    output_folder,
)

LOG = logging.getLogger(__name__)

#: ``translate(texts, source, target, terminologies) -> (translated, detected source, applied terminologies)``
TranslateFn = Callable[[list[str], str, str, list[Terminology]], tuple[list[str], str, list[dict[str, Any]]]]
#: ``set_status(job, status, message=None)``: records and emits a status change.
SetStatus = Callable[..., None]


class JobFailed(Exception):
    """A job-level failure: the job ends FAILED with this message."""


@dataclass
class _LanguageDetails:
    """What one target language's details file reports."""

    source_language: str = ""
    characters: int = 0
    customer_errors: int = 0
    server_errors: int = 0
    details: list[dict[str, Any]] = field(default_factory=list)


def split_s3(uri: str) -> tuple[str, str]:
    bucket, _, key = uri[len("s3://") :].partition("/")
    return bucket, key


@dataclass
class JobWorker:
    """Runs one job; ``s3`` is a client of the emulator's S3, ``closing`` is set when the emulator stops."""

    job: Job
    s3: Any
    translate: TranslateFn
    terminologies: list[Terminology]
    set_status: SetStatus
    closing: Any

    def run(self) -> None:
        job = self.job
        self.set_status(job, "IN_PROGRESS")
        try:
            if job.faults.failure is not None:
                raise JobFailed(job.faults.failure)
            keys = self._input_keys()
            if job.faults.hang:  # a job that never finishes: only a stop (or the emulator's end) ends it
                while not (job.stop_requested.wait(0.05) or self.closing.is_set()):
                    pass
            status = self._translate_all(keys)
        except JobFailed as exc:
            self.set_status(job, "FAILED", str(exc))
            return
        except Exception as exc:  # a bug or an S3 failure: a server-side job failure, as Translate reports it
            LOG.exception("Translation job %s failed", job.job_id)
            self.set_status(job, "FAILED", f"Internal server error: {type(exc).__name__}: {exc}")
            return
        self.set_status(job, status, self._message(status))

    def _message(self, status: str) -> str | None:
        if status == "FAILED":
            return "All documents failed to translate; see the details files in the output folder for each error."
        return None

    def _input_keys(self) -> list[str]:
        bucket, prefix = split_s3(self.job.input_config["S3Uri"])
        keys: list[str] = []
        try:
            for page in self.s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
                keys += [item["Key"] for item in page.get("Contents", []) if not item["Key"].endswith("/")]
        except Exception as exc:
            raise JobFailed(f"Could not read the input S3 location {self.job.input_config['S3Uri']}: {exc}") from None
        if not keys:
            raise JobFailed(f"The input S3 location {self.job.input_config['S3Uri']} has no documents.")
        if len(keys) > MAX_JOB_DOCUMENTS:
            raise JobFailed(f"The input has more than {MAX_JOB_DOCUMENTS} documents.")
        return sorted(keys)

    def _translate_all(self, keys: list[str]) -> str:
        job = self.job
        in_bucket, in_prefix = split_s3(job.input_config["S3Uri"])
        out_bucket, out_prefix = split_s3(job.output_config["S3Uri"])
        out_prefix = (out_prefix.rstrip("/") + "/" if out_prefix.strip("/") else "") + output_folder(
            job.account_id, job.job_id
        )
        languages = {target: _LanguageDetails() for target in job.target_languages}
        job.input_documents = len(keys)
        stopped = False
        for key in keys:
            if job.stop_requested.is_set() or self.closing.is_set():
                stopped = True
                break
            relative = key[len(in_prefix) :].lstrip("/") if key.startswith(in_prefix) else key
            ok = self._document(in_bucket, key, relative, out_bucket, out_prefix, languages)
            if ok:
                job.translated_documents += 1
            else:
                job.documents_with_errors += 1
        for target, details in languages.items():
            body = {
                "sourceLanguageCode": details.source_language or job.source_language,
                "targetLanguageCode": target,
                "charactersTranslated": str(details.characters),
                "documentCountWithCustomerError": str(details.customer_errors),
                "documentCountWithServerError": str(details.server_errors),
                "inputDataPrefix": job.input_config["S3Uri"],
                "outputDataPrefix": f"s3://{out_bucket}/{out_prefix}",
                "details": details.details,
            }
            self.s3.put_object(
                Bucket=out_bucket,
                Key=out_prefix + details_key(target),
                Body=json.dumps(body, indent=2, ensure_ascii=False).encode(),
                ContentType="application/json",
            )
        if stopped:
            return "STOPPED"
        if job.documents_with_errors == 0:
            return "COMPLETED"
        return "FAILED" if job.translated_documents == 0 else "COMPLETED_WITH_ERROR"

    def _document(
        self,
        in_bucket: str,
        key: str,
        relative: str,
        out_bucket: str,
        out_prefix: str,
        languages: dict[str, _LanguageDetails],
    ) -> bool:
        """Translate one document into every target language; False if it failed (recorded in the details)."""
        job = self.job

        def error(code: str, message: str, server: bool) -> bool:
            for details in languages.values():
                details.details.append(
                    {"sourceFile": relative, "auxiliaryData": {"error": {"errorCode": code, "errorMessage": message}}}
                )
                if server:
                    details.server_errors += 1
                else:
                    details.customer_errors += 1
            return False

        if job.faults.file_fails(relative):
            return error("INTERNAL_SERVER_ERROR", job.faults.file_reason, server=True)
        head = self.s3.head_object(Bucket=in_bucket, Key=key)
        if head["ContentLength"] > MAX_DOCUMENT_BYTES:
            return error(
                "DOCUMENT_SIZE_EXCEEDED",
                f"The document is {head['ContentLength']} bytes; the limit is {MAX_DOCUMENT_BYTES} bytes.",
                server=False,
            )
        data = self.s3.get_object(Bucket=in_bucket, Key=key)["Body"].read()
        outputs: dict[str, tuple[bytes, int, str, list[dict[str, Any]]]] = {}
        try:
            for target in job.target_languages:
                used: dict[str, Any] = {"characters": 0, "source": job.source_language, "applied": []}

                def translate(texts: list[str], target: str = target, used: dict[str, Any] = used) -> list[str]:
                    translated, detected, applied = self.translate(
                        texts, job.source_language, target, self.terminologies
                    )
                    used["characters"] += sum(len(text) for text in texts)
                    used["source"], used["applied"] = detected, used["applied"] + applied
                    return translated

                body = translate_document(job.input_config["ContentType"], data, translate, target)
                outputs[target] = (body, used["characters"], used["source"], used["applied"])
        except DocumentError as exc:
            return error(exc.code, exc.message, server=False)
        except Exception as exc:
            LOG.exception("Translating %s of job %s failed", key, job.job_id)
            return error("INTERNAL_SERVER_ERROR", f"{type(exc).__name__}: {exc}", server=True)
        for target, (body, characters, source, applied) in outputs.items():
            target_file = f"{target}.{relative}"
            self.s3.put_object(Bucket=out_bucket, Key=out_prefix + target_file, Body=body)
            details = languages[target]
            details.characters += characters
            details.source_language = details.source_language or source
            details.details.append(
                {"sourceFile": relative, "targetFile": target_file, "auxiliaryData": {"appliedTerminologies": applied}}
            )
        return True
