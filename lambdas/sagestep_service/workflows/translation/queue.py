"""The SQS entry (the reference's ``Translate All`` message): each message starts one translation job.

Idempotent per message: the job id derives from the message's content (``JobName`` and the rest), so a redelivered
or re-driven message finds the job its first delivery started and starts nothing. A message may name only the data
bucket's prefixes the deployer allowed (``TRANSLATION_QUEUE_PREFIXES``); its jobs belong to
``TRANSLATION_QUEUE_OWNER``.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any
from urllib.parse import unquote_plus

from pydantic import ValidationError

from sagestep_service.platform import aws
from sagestep_service.platform.jobs import JobStore
from sagestep_service.platform.observability import logger
from sagestep_service.platform.settings import load
from sagestep_service.workflows.translation.models import QueueMessage, TranslationRequest
from sagestep_service.workflows.translation.settings import TranslationSettings
from sagestep_service.workflows.translation.submission import TranslationSubmitter


class InvalidMessage(ValueError):
    """A message that can never start a job (it is reported, so that it ends in the dead-letter queue)."""


def _uri(bucket: str, location: str) -> str:
    # Keys arrive URL-encoded from S3 event-driven producers, as S3 event notifications encode them (form encoding:
    # a space is "+", a "+" is "%2B").
    location = unquote_plus(location)
    return location if location.startswith("s3://") else f"s3://{bucket}/{location.lstrip('/')}"


def to_request(message: QueueMessage) -> TranslationRequest:
    body: dict[str, Any] = {
        "inputUri": _uri(message.InputBucket, message.InputS3Uri),
        "sourceLanguageCode": message.SourceLanguageCode,
        "targetLanguageCodes": message.TargetLanguageCodes,
    }
    if message.OutputS3Uri:
        body["outputUri"] = _uri(message.OutputBucket, message.OutputS3Uri)
    return TranslationRequest.model_validate(body)


def idempotency_key(body: str) -> str:
    canonical = json.dumps(json.loads(body), sort_keys=True, separators=(",", ":"))
    return "sqs-" + hashlib.sha256(canonical.encode()).hexdigest()


def submit_message(message_id: str, body: str) -> str:
    """Start (or find) the message's job; returns its id. Raises for a message that cannot start one."""
    settings = load(TranslationSettings)
    try:
        message = QueueMessage.model_validate_json(body)
        request = to_request(message)
    except (ValidationError, ValueError) as exc:
        raise InvalidMessage(f"message {message_id}: {exc}") from exc
    if message.OutputBucket != settings.data_bucket and not message.OutputS3Uri:
        raise InvalidMessage(f"message {message_id}: OutputBucket must be {settings.data_bucket}")
    clients = aws.Clients()
    submitter = TranslationSubmitter(settings, JobStore(settings.jobs_table_name), clients.stepfunctions, clients.s3)
    submission = submitter.submit(
        settings.queue_owner, request, idempotency_key(body), allowed_prefixes=settings.allowed_queue_prefixes
    )
    job_id = str(submission.record["jobId"])
    logger.info(
        "queue message handled", extra={"messageId": message_id, "jobId": job_id, "created": submission.created}
    )
    return job_id
