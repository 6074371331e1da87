"""A local Amazon Textract whose asynchronous document analysis does real work (moto answers with no blocks).

:class:`TextractEmulator` replaces two actions of moto's Textract response class (``StartDocumentAnalysis``,
``GetDocumentAnalysis``) and its ``call_action`` (for the generic per-call faults); moto's other Textract actions
are left as they are. A started job runs on a worker thread (:mod:`.worker`): it reads the document from the
emulator's S3, reads a PDF's text layer (:mod:`.pdf`) or an image by OCR (:mod:`.ocr`), puts the lines in reading
order and, with ``LAYOUT``, finds the layout elements (:mod:`.layout`, documented heuristics), and builds Textract's
blocks (:mod:`.blocks`), served at most 1,000 a call with a ``NextToken``. When it ends, the completion message is
published to the ``NotificationChannel``'s topic through the emulator's SNS, in Textract's shape. ``TABLES``,
``FORMS``, ``QUERIES`` and ``SIGNATURES`` are accepted but produce no blocks of their own.

Faults armed in ``faults.textract`` (:mod:`sagestep.local.textract_faults`) fail the next job, lose some of its pages
(``PARTIAL_SUCCESS``) or drop its notification; the generic ``throttle`` / ``fail_call`` / ``lose_response`` hit
every Textract action (a throttle answers Textract's ``ProvisionedThroughputExceededException``). The limits are the
API's (``sagestep_service.workflows.documents.textract_service``).
"""

from __future__ import annotations

import json
import logging
import threading
import time
from typing import Any, ClassVar

from sagestep.local.patching import Patcher
from sagestep.local.services.base import LocalService, ServiceContext
from sagestep.local.services.json_protocol import with_call_faults
from sagestep.local.services.textract.models import (
    IdempotentParameterMismatchException,
    InvalidS3ObjectException,
    Job,
    TextractStore,
    validate_start,
)
from sagestep.local.services.textract.ocr import OcrEngine
from sagestep.local.services.textract.worker import analyse
from sagestep_service.workflows.documents.textract_service import (
    MAX_CONCURRENT_JOBS,
    MAX_STARTS_PER_SECOND,
    NOTIFICATION_API,
)

__all__ = ["SHARED_OCR", "OcrEngine", "TextractEmulator"]

LOG = logging.getLogger(__name__)

#: The OCR engine of every emulator that is not given one: loaded once per process, on first use.
SHARED_OCR = OcrEngine()

START_PARAMETERS = (
    "DocumentLocation",
    "FeatureTypes",
    "ClientRequestToken",
    "JobTag",
    "NotificationChannel",
    "OutputConfig",
    "KMSKeyId",
    "QueriesConfig",
    "AdaptersConfig",
)


class TextractEmulator(LocalService):
    """Amazon Textract's asynchronous document analysis on this machine (see the module docstring).

    :param ocr: the OCR engine (default :data:`SHARED_OCR`).
    :param max_concurrent_jobs: jobs IN_PROGRESS at once (more: LimitExceededException).
    :param max_starts_per_second: StartDocumentAnalysis calls in any one second (more:
        ProvisionedThroughputExceededException). Both are read at every start.
    """

    name: ClassVar[str] = "textract"

    def __init__(
        self,
        *,
        ocr: OcrEngine | None = None,
        max_concurrent_jobs: int = MAX_CONCURRENT_JOBS,
        max_starts_per_second: int = MAX_STARTS_PER_SECOND,
    ) -> None:
        self.ocr = ocr or SHARED_OCR
        self.max_concurrent_jobs = max_concurrent_jobs
        self.max_starts_per_second = max_starts_per_second
        self._stores: dict[tuple[str, str], TextractStore] = {}
        self._stores_lock = threading.Lock()
        self._closing = threading.Event()
        self._threads: list[threading.Thread] = []

    # LocalService ----------------------------------------------------------------------------------------

    def install(self, patcher: Patcher, context: ServiceContext) -> None:
        super().install(patcher, context)
        from moto.textract.responses import TextractResponse

        emulator, faults = self, context.faults

        def start_document_analysis(response: Any) -> str:
            request = {name: response._get_param(name) for name in START_PARAMETERS}
            request = {name: value for name, value in request.items() if value is not None}
            job_id = emulator.start_job(response.current_account, response.region, request)
            return json.dumps({"JobId": job_id})

        def get_document_analysis(response: Any) -> str:
            store = emulator.store(response.current_account, response.region)
            with store.lock:
                job = store.job(response._get_param("JobId"))
                answer = job.answer(response._get_param("MaxResults"), response._get_param("NextToken"))
            return json.dumps(answer)

        # Refused and throttled calls are answered before moto dispatches; a lost response after the call took effect.
        original_call_action = TextractResponse.call_action

        def call_action(response: Any) -> Any:
            return with_call_faults(
                faults,
                response._get_action(),
                lambda: original_call_action(response),
                throttle_code="ProvisionedThroughputExceededException",
                lost_code="InternalServerError",
            )

        patcher.replace(TextractResponse, "start_document_analysis", start_document_analysis)
        patcher.replace(TextractResponse, "get_document_analysis", get_document_analysis)
        patcher.replace(TextractResponse, "call_action", call_action)

    def shutdown(self) -> None:
        """Let running analyses finish (a document takes seconds at most); their results and messages are dropped."""
        self._closing.set()
        for thread in list(self._threads):
            thread.join(timeout=30)

    def store(self, account: str | None = None, region: str | None = None) -> TextractStore:
        """The jobs of an account and region (default: the emulator's)."""
        key = (account or self.context.account_id, region or self.context.region)
        with self._stores_lock:
            return self._stores.setdefault(key, TextractStore())

    # Jobs --------------------------------------------------------------------------------------------------

    def start_job(self, account: str, region: str, request: dict[str, Any]) -> str:
        """Accept a StartDocumentAnalysis request and start its worker; a known ClientRequestToken answers the job
        it started (with the same parameters; other ones are refused), and starts nothing."""
        validate_start(request)
        store = self.store(account, region)
        token = request.get("ClientRequestToken")
        comparable = {name: value for name, value in request.items() if name != "ClientRequestToken"}
        with store.lock:
            known = self._known(store, token, comparable)
        if known is not None:
            return known
        location = request["DocumentLocation"]["S3Object"]
        self._check_object(location)
        with store.lock:
            known = self._known(store, token, comparable)
            if known is not None:
                return known
            store.check_quotas(self.max_concurrent_jobs, self.max_starts_per_second)
            job = Job(
                job_id=store.new_job_id(),
                bucket=location["Bucket"],
                key=location["Name"],
                version=location.get("Version"),
                features=list(request["FeatureTypes"]),
                job_tag=request.get("JobTag"),
                notification=request.get("NotificationChannel"),
                request=comparable,
                faults=self.context.faults.textract.take_job_faults(),
            )
            store.jobs[job.job_id] = job
            if token:
                store.tokens[token] = job.job_id
        self.context.activity.begin()
        thread = threading.Thread(target=self._run, args=(store, job), name=f"textract-{job.job_id[:8]}", daemon=True)
        self._threads.append(thread)
        thread.start()
        return job.job_id

    @staticmethod
    def _known(store: TextractStore, token: str | None, comparable: dict[str, Any]) -> str | None:
        if not token or token not in store.tokens:
            return None
        job = store.jobs[store.tokens[token]]
        if job.request != comparable:
            raise IdempotentParameterMismatchException(
                "The ClientRequestToken was used before with other parameters of StartDocumentAnalysis."
            )
        return job.job_id

    def _check_object(self, location: dict[str, Any]) -> None:
        """Textract refuses a start whose object it cannot read (the worker reads it again, as Textract does)."""
        extra = {"VersionId": location["Version"]} if location.get("Version") else {}
        try:
            self.context.clients("s3").head_object(Bucket=location["Bucket"], Key=location["Name"], **extra)
        except Exception:
            raise InvalidS3ObjectException(
                "Unable to get object metadata from S3. Check object key, region and/or access permissions."
            ) from None

    def _run(self, store: TextractStore, job: Job) -> None:
        if job.faults.hang:
            # A job that never finishes: IN_PROGRESS, never notified, no work in progress (``wait_idle`` need not
            # wait for it); it ends with the emulator.
            self._threads.remove(threading.current_thread())
            self.context.activity.end()
            self._closing.wait()
            return
        try:
            outcome = analyse(job, self.context.clients("s3"), self.ocr)
            if self._closing.is_set():
                return
            with store.lock:
                job.status, job.message, job.pages = outcome.status, outcome.message, outcome.pages
                job.blocks, job.warnings = outcome.blocks or [], outcome.warnings or []
            self._notify(job, "ERROR" if outcome.error else "SUCCEEDED" if job.status != "FAILED" else "FAILED")
        finally:
            self._threads.remove(threading.current_thread())
            self.context.activity.end()

    def _notify(self, job: Job, status: str) -> None:
        """Publish Textract's completion message (unless the job's notification is lost by a fault)."""
        if not job.notification or job.faults.drop_notification or self._closing.is_set():
            return
        message = {
            "JobId": job.job_id,
            "Status": status,
            "API": NOTIFICATION_API,
            "JobTag": job.job_tag or "",
            "Timestamp": int(time.time() * 1000),
            "DocumentLocation": {"S3ObjectName": job.key, "S3Bucket": job.bucket},
        }
        try:
            self.context.clients("sns").publish(TopicArn=job.notification["SNSTopicArn"], Message=json.dumps(message))
        except Exception:
            LOG.exception("Could not publish the completion of Textract job %s", job.job_id)
