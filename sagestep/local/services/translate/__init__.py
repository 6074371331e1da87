"""A local Amazon Translate that processes real documents (moto has no Translate).

:class:`TranslateEmulator` adds Translate to moto's server (:func:`~sagestep.local.services.add_moto_service`)
and answers the batch API (StartTextTranslationJob with its validation, idempotent ClientToken and quotas,
Describe/List/StopTextTranslationJob), real-time TranslateText, ListLanguages, and CSV terminologies
(ImportTerminology, ListTerminologies). Each job runs on a worker thread (:mod:`.worker`) over the documents in
the emulator's S3, through a handler per content type (:mod:`.formats`), with a pluggable translator
(:mod:`.translator`, a visible pseudo-translation by default). Every status change is put on the default
EventBridge bus as Translate does (``aws.translate``, "Translate TextTranslationJob State Change", detail
``jobId``/``jobStatus``): that is what resumes a sagestep workflow waiting for the job. Faults armed in
``faults.translate`` (:mod:`sagestep.local.translate_faults`) fail, hang or break files of the next job.

The facts it enforces (languages, content types, limits) are the API's
(``sagestep_service.workflows.translation.translate_service``), so a job the local mode accepts is one AWS accepts.
"""

from __future__ import annotations

import base64
import binascii
import functools
import threading
from collections.abc import Sequence
from typing import Any, ClassVar

from sagestep.local.patching import Patcher
from sagestep.local.services.base import LocalService, ServiceContext
from sagestep.local.services.moto_backends import MotoService, add_moto_service
from sagestep.local.services.translate.models import (
    InvalidParameterValueException,
    Job,
    ResourceNotFoundException,
    TranslateBackend,
    translate_backends,
    utcnow,
)
from sagestep.local.services.translate.responses import TranslateResponse
from sagestep.local.services.translate.terminology import Terminology, parse_csv, translate_with_terms
from sagestep.local.services.translate.translator import (
    PseudoTranslator,
    Translator,
    detect_language,
    load_translator,
)
from sagestep.local.services.translate.worker import JobWorker
from sagestep_service.workflows.translation.translate_service import (
    AUTO,
    EVENT_DETAIL_TYPE,
    EVENT_SOURCE,
    MAX_CONCURRENT_JOBS,
    MAX_STARTS_PER_SECOND,
    TERMINAL_STATUSES,
)

__all__ = ["PseudoTranslator", "TranslateEmulator", "Translator"]


class TranslateEmulator(LocalService):
    """Amazon Translate on this machine (see the module docstring).

    :param translator: the machine translator, or its ``package.module:ClassName``; default
        ``$SAGESTEP_TRANSLATOR``, else :class:`PseudoTranslator`.
    :param max_concurrent_jobs: jobs SUBMITTED, IN_PROGRESS or STOP_REQUESTED at once (more: LimitExceeded).
    :param max_starts_per_second: StartTextTranslationJob calls in any one second (more: TooManyRequests).

    The quotas are read at every start: changing the attributes applies to the next call.
    """

    name: ClassVar[str] = "translate"
    event_source: ClassVar[str | None] = EVENT_SOURCE

    def __init__(
        self,
        *,
        translator: Translator | str | None = None,
        max_concurrent_jobs: int = MAX_CONCURRENT_JOBS,
        max_starts_per_second: int = MAX_STARTS_PER_SECOND,
    ) -> None:
        self.translator: Translator = (
            translator if translator is not None and not isinstance(translator, str) else load_translator(translator)
        )
        self.max_concurrent_jobs = max_concurrent_jobs
        self.max_starts_per_second = max_starts_per_second
        self._closing = threading.Event()
        self._threads: list[threading.Thread] = []
        self._threads_lock = threading.Lock()

    # LocalService ----------------------------------------------------------------------------------------

    def install(self, patcher: Patcher, context: ServiceContext) -> None:
        super().install(patcher, context)
        bound: Any = type("LocalTranslateResponse", (TranslateResponse,), {"emulator": self})
        add_moto_service(
            patcher,
            MotoService(
                "translate",
                translate_backends,
                url_bases=[r"https?://translate\.(.+)\.amazonaws\.com"],
                url_paths={"{0}/$": bound.dispatch},
            ),
        )

    def shutdown(self) -> None:
        """Stop every worker (hanging jobs included) between documents; their events are dropped."""
        self._closing.set()
        with self._threads_lock:
            threads = list(self._threads)
        for thread in threads:
            thread.join(timeout=10)

    def backend(self) -> TranslateBackend:
        """The records of the emulator's account and region (jobs, terminologies)."""
        backend: TranslateBackend = translate_backends[self.context.account_id][self.context.region]
        return backend

    # Jobs --------------------------------------------------------------------------------------------------

    def start_job(
        self, backend: TranslateBackend, account: str, region: str, request: dict[str, Any]
    ) -> tuple[str, str]:
        """Accept a validated StartTextTranslationJob request and start its worker (or answer with the job its
        ClientToken started already: a retried start starts nothing); ``(job id, status)`` as answered."""
        with backend.lock:
            token = request.get("ClientToken")
            if token and token in backend.tokens:
                known = backend.jobs[backend.tokens[token]]
                return known.job_id, known.status
            terminologies = self.terminologies(backend, request.get("TerminologyNames") or [])
            backend.check_quotas(self.max_concurrent_jobs, self.max_starts_per_second)
            job_id = backend.new_job_id()
            job = Job(
                job_id=job_id,
                job_name=request.get("JobName") or job_id,
                account_id=account,
                region=region,
                source_language=request["SourceLanguageCode"],
                target_languages=list(request["TargetLanguageCodes"]),
                input_config=dict(request["InputDataConfig"]),
                output_config=dict(request["OutputDataConfig"]),
                role_arn=request["DataAccessRoleArn"],
                terminology_names=list(request.get("TerminologyNames") or []),
                parallel_data_names=list(request.get("ParallelDataNames") or []),
                settings=dict(request["Settings"]) if request.get("Settings") else None,
                faults=self.context.faults.translate.take_job_faults(str(request.get("JobName") or "")),
            )
            backend.jobs[job_id] = job
            if token:
                backend.tokens[token] = job_id
            self._emit_status(job)
        worker = JobWorker(
            job=job,
            s3=self.context.clients("s3"),
            translate=self.translate_texts,
            terminologies=terminologies,
            set_status=functools.partial(self._set_status, backend),
            closing=self._closing,
        )
        self.context.activity.begin()
        thread = threading.Thread(target=self._run, args=(worker,), name=f"translate-{job_id[:8]}", daemon=True)
        with self._threads_lock:
            self._threads.append(thread)
        thread.start()
        return job_id, "SUBMITTED"

    def stop_job(self, backend: TranslateBackend, job_id: str) -> Job:
        """Ask a job to stop: STOP_REQUESTED now, STOPPED once its worker is between documents."""
        with backend.lock:
            job = backend.job(job_id)
            if job.status in ("SUBMITTED", "IN_PROGRESS"):
                job.status = "STOP_REQUESTED"
                job.stop_requested.set()
                self._emit_status(job)
            return job

    def _run(self, worker: JobWorker) -> None:
        try:
            worker.run()
        finally:
            with self._threads_lock:
                self._threads.remove(threading.current_thread())
            self.context.activity.end()

    def _set_status(self, backend: TranslateBackend, job: Job, status: str, message: str | None = None) -> None:
        with backend.lock:
            if status == "IN_PROGRESS" and job.status == "STOP_REQUESTED":
                return  # stopped before its worker began: it stays STOP_REQUESTED until the worker ends it
            job.status = status
            if message is not None:
                job.message = message
            if status in TERMINAL_STATUSES:
                job.end_time = utcnow()
            self._emit_status(job)

    def _emit_status(self, job: Job) -> None:
        if not self._closing.is_set():
            self.emit(EVENT_DETAIL_TYPE, job.arn, {"jobId": job.job_id, "jobStatus": job.status})

    # Translation and terminologies --------------------------------------------------------------------------

    def translate_texts(
        self, texts: Sequence[str], source: str, target: str, terminologies: Sequence[Terminology] = ()
    ) -> tuple[list[str], str, list[dict[str, Any]]]:
        """``(translations, source language, applied terminologies)``; an ``auto`` source is detected first
        (:func:`~.translator.detect_language`)."""
        detected = detect_language(texts) if source == AUTO else source
        translated, applied = translate_with_terms(
            texts, terminologies, target, lambda batch: self.translator.translate(batch, detected, target)
        )
        return translated, detected, applied

    def terminologies(self, backend: TranslateBackend, names: Sequence[str]) -> list[Terminology]:
        with backend.lock:
            missing = [name for name in names if name not in backend.terminologies]
            if missing:
                raise ResourceNotFoundException(f"The terminology {missing[0]} could not be found.")
            return [backend.terminologies[name] for name in names]

    def import_terminology(
        self,
        backend: TranslateBackend,
        account: str,
        region: str,
        *,
        name: str,
        description: str,
        data: dict[str, Any],
    ) -> Terminology:
        """ImportTerminology with the OVERWRITE merge strategy (the only one Translate has), CSV only."""
        if data.get("Format") != "CSV":
            raise InvalidParameterValueException(
                f"The terminology format {data.get('Format')} is not supported locally; use CSV."
            )
        file = data.get("File") or b""
        raw: bytes = file if isinstance(file, bytes) else _decode_blob(str(file))
        try:
            source, targets, terms, skipped = parse_csv(raw)
        except ValueError as exc:
            raise InvalidParameterValueException(str(exc)) from None
        with backend.lock:
            previous = backend.terminologies.get(name)
            now = utcnow()
            terminology = Terminology(
                name=name,
                arn=f"arn:aws:translate:{region}:{account}:terminology/{name}/LATEST",
                source_language=source,
                target_languages=targets,
                terms=terms,
                size_bytes=len(raw),
                created_at=previous.created_at if previous else now,
                updated_at=now,
                description=description,
                directionality=data.get("Directionality") or "UNI",
                skipped=skipped,
            )
            backend.terminologies[name] = terminology
            return terminology


def _decode_blob(value: str) -> bytes:
    """A blob parameter as the JSON protocol sends it (base64), or as given when it is not base64."""
    try:
        return base64.b64decode(value, validate=True)
    except binascii.Error:
        return value.encode()
