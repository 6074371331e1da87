"""SQS -> Lambda event source mappings in the local mode: a poller thread per enabled mapping, as Lambda's.

moto records mappings but polls nothing. Each poller long-polls its queue (1 s waits, so that stop is quick),
hands the batch to the function through the local Lambda dispatch (synchronously, in the event shape AWS
builds), then settles it as Lambda does: a function error deletes nothing (the messages come back after the
queue's own visibility timeout, and moto's receive moves one whose receive count reached the RedrivePolicy's
``maxReceiveCount`` to the dead-letter queue); a success deletes the batch, except, with
``FunctionResponseTypes: ["ReportBatchItemFailures"]``, the messages the response lists (an invalid response
fails the whole batch).

``LocalAws.wait_idle`` and a mapped queue: a poller counts as work in progress in the emulator's ``Activity``
from the moment a message is added to its queue (``SendMessage``, SNS, EventBridge) until it has seen the queue
empty: no visible, in-flight or delayed message. Waiting for idle thus waits for the batch to run and for its
retries, until every message is deleted or moved to the DLQ; a message that keeps failing on a queue with
no DLQ keeps it busy (as it keeps coming back on AWS) and ``wait_idle`` then answers False at its timeout.
Arrivals are seen by wrapping moto's ``Queue.add_message``, in the sender's request: a poller would only see
them at its next receive, after a ``wait_idle`` called right after the send had already answered.

Not emulated: concurrency (each mapping runs one batch at a time) and FIFO ordering after a partial failure.
"""

from __future__ import annotations

import base64
import json
import logging
import threading
import time
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any, cast

from botocore.exceptions import ClientError

from sagestep.local.cloudformation.specs import EventSourceMappingSpec
from sagestep.local.patching import Patcher

if TYPE_CHECKING:
    from sagestep.local.emulator import LocalAws

LOG = logging.getLogger(__name__)
REPORT_BATCH_ITEM_FAILURES = "ReportBatchItemFailures"
_RECEIVE_MAX = 10  # ReceiveMessage's MaxNumberOfMessages limit
_COUNTS = ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible", "ApproximateNumberOfMessagesDelayed"]


def sqs_record(message: dict[str, Any], queue_arn: str, region: str) -> dict[str, Any]:
    """One ``Records`` entry of Lambda's SQS event, from a boto3 ``ReceiveMessage`` message."""
    record: dict[str, Any] = {
        "messageId": message["MessageId"],
        "receiptHandle": message["ReceiptHandle"],
        "body": message["Body"],
        "attributes": dict(message.get("Attributes", {})),
        "messageAttributes": {name: _attribute(value) for name, value in message.get("MessageAttributes", {}).items()},
        "md5OfBody": message["MD5OfBody"],
    }
    if "MD5OfMessageAttributes" in message:
        record["md5OfMessageAttributes"] = message["MD5OfMessageAttributes"]
    return {**record, "eventSource": "aws:sqs", "eventSourceARN": queue_arn, "awsRegion": region}


def _attribute(value: dict[str, Any]) -> dict[str, Any]:
    """A message attribute as Lambda spells it: camelCase, binary values base64-encoded, both lists present."""
    encoded: dict[str, Any] = {"stringValue": value["StringValue"]} if "StringValue" in value else {}
    if "BinaryValue" in value:
        encoded["binaryValue"] = base64.b64encode(value["BinaryValue"]).decode()
    encoded["stringListValues"] = list(value.get("StringListValues", []))
    encoded["binaryListValues"] = [base64.b64encode(v).decode() for v in value.get("BinaryListValues", [])]
    return {**encoded, "dataType": value["DataType"]}


def batch_item_failures(response: Any, message_ids: Sequence[str]) -> set[str] | None:
    """The ids a ``ReportBatchItemFailures`` response lists as failed, or None when Lambda fails the whole batch:
    a response that is not an object, or an ``itemIdentifier`` that is missing, empty or not of the batch. A null
    or empty response, or a null or empty ``batchItemFailures``, is a complete success."""
    if not isinstance(response, dict):
        return set() if response is None else None
    failures = response.get("batchItemFailures")
    if not isinstance(failures, list):
        return set() if failures is None else None
    failed = {item.get("itemIdentifier") if isinstance(item, dict) else None for item in failures}
    return None if any(not isinstance(i, str) or i not in message_ids for i in failed) else cast(set[str], failed)


class SqsPoller:
    """Polls one queue for one mapping's function; see the module docstring for what it does and counts."""

    #: ReceiveMessage's WaitTimeSeconds: short, since stop waits for the receive in progress.
    wait_seconds = 1

    def __init__(self, mapping: EventSourceMappingSpec, aws: LocalAws) -> None:
        self.mapping, self.queue_arn = mapping, mapping.event_source_arn
        *_, account, name = self.queue_arn.split(":")
        self._lambdas, self._activity, self._region = aws.lambdas, aws.activity, aws.region
        self._sqs = sqs = aws.client("sqs")  # the cached one: a new client takes half a second to build
        self._queue_url = str(sqs.get_queue_url(QueueName=name, QueueOwnerAWSAccountId=account)["QueueUrl"])
        self._batch_size = max(1, mapping.batch_size or 10)
        self._partial = REPORT_BATCH_ITEM_FAILURES in mapping.function_response_types
        self._stopping, self._lock = threading.Event(), threading.Lock()
        self._pending = False  # holds one unit of ``activity``
        self._added = 0  # messages added to the queue so far (``notify_added``)
        self._thread = threading.Thread(target=self._run, name=f"sqs-poller-{name}", daemon=True)

    def start(self) -> None:
        if not self._queue_empty():
            self._set_pending()
        self._thread.start()

    def notify_added(self) -> None:
        """Called in the server's request thread before SendMessage answers: a ``wait_idle`` right after the
        send waits for the message."""
        with self._lock:
            self._added += 1
        self._set_pending()

    def stop(self) -> None:
        self._stopping.set()

    def join(self, timeout: float | None) -> bool:
        self._thread.join(timeout)
        return not self._thread.is_alive()

    def _run(self) -> None:
        try:
            while not self._stopping.is_set():
                with self._lock:
                    added = self._added
                try:
                    batch = self._receive_batch()
                    if self._stopping.is_set():
                        break  # a received batch stays in flight: the emulator is stopping
                    if batch:
                        with self._activity.track():
                            self._process(batch)
                    if self._pending and self._queue_empty():
                        self._set_idle(unless_added_since=added)
                except Exception:
                    if not self._stopping.is_set():
                        LOG.warning("Polling %s failed; retrying in 1 s", self.queue_arn, exc_info=True)
                        self._stopping.wait(1.0)
        finally:
            self._stopping.set()  # nothing is counted as pending after this
            self._set_idle(unless_added_since=None)

    def _receive(self, count: int, wait_seconds: int) -> list[dict[str, Any]]:
        return list(
            self._sqs.receive_message(
                QueueUrl=self._queue_url,
                MaxNumberOfMessages=min(count, _RECEIVE_MAX),
                WaitTimeSeconds=wait_seconds,
                AttributeNames=["All"],
                MessageAttributeNames=["All"],
            ).get("Messages", [])
        )

    def _receive_batch(self) -> list[dict[str, Any]]:
        """One receive; with a batching window, more until the batch is full or the window has passed."""
        batch = self._receive(self._batch_size, self.wait_seconds)
        deadline = time.monotonic() + self.mapping.maximum_batching_window_seconds
        while batch and len(batch) < self._batch_size and (remaining := deadline - time.monotonic()) > 0:
            batch += self._receive(self._batch_size - len(batch), max(1, min(self.wait_seconds, int(remaining))))
        return batch

    def _process(self, batch: list[dict[str, Any]]) -> None:
        function = self._lambdas.get(self.mapping.function_name)  # looked up each time: registering replaces it
        if function is None:
            LOG.warning("Event source %s: no in-process handler for %s", self.queue_arn, self.mapping.function_name)
            return
        event = {"Records": [sqs_record(message, self.queue_arn, self._region) for message in batch]}
        payload, error = self._lambdas.call(function, event)
        if error is not None:
            details = json.loads(payload)
            what = f"{details.get('errorType')}: {details.get('errorMessage')}"
            LOG.warning("%s failed on %d message(s) of %s (%s)", function.name, len(batch), self.queue_arn, what)
            return  # they come back after the visibility timeout
        done = batch
        if self._partial:
            failed = batch_item_failures(json.loads(payload), [message["MessageId"] for message in batch])
            if failed is None:
                LOG.warning("%s answered an invalid batchItemFailures: the whole batch failed", function.name)
                return
            done = [message for message in batch if message["MessageId"] not in failed]
        for start in range(0, len(done), _RECEIVE_MAX):
            chunk = done[start : start + _RECEIVE_MAX]
            entries = [{"Id": str(i), "ReceiptHandle": message["ReceiptHandle"]} for i, message in enumerate(chunk)]
            for failure in self._sqs.delete_message_batch(QueueUrl=self._queue_url, Entries=entries).get("Failed", []):
                LOG.warning("Could not delete a message of %s: %s", self.queue_arn, failure.get("Message"))

    def _queue_empty(self) -> bool:
        counts = self._sqs.get_queue_attributes(QueueUrl=self._queue_url, AttributeNames=_COUNTS)["Attributes"]
        return all(int(counts.get(name, "0")) == 0 for name in _COUNTS)

    def _set_pending(self) -> None:
        with self._lock:
            if self._pending or self._stopping.is_set():
                return
            self._pending = True
        self._activity.begin()

    def _set_idle(self, *, unless_added_since: int | None) -> None:
        with self._lock:
            if not self._pending or (unless_added_since is not None and self._added != unless_added_since):
                return
            self._pending = False
        self._activity.end()


class EventSources:
    """The pollers of a :class:`~sagestep.local.emulator.LocalAws`'s event source mappings (one set per emulator:
    it wraps moto's ``Queue.add_message`` to see messages arrive, undone by :meth:`stop`)."""

    def __init__(self, aws: LocalAws) -> None:
        self._aws = aws
        self._pollers: list[SqsPoller] = []
        self._patcher = Patcher()

    def start(self, mappings: Iterable[EventSourceMappingSpec]) -> list[SqsPoller]:
        """Start a poller for each enabled SQS mapping whose function is registered; warn about the others."""
        started: list[SqsPoller] = []
        for mapping in mappings:
            if not mapping.enabled:
                continue
            if not mapping.event_source_arn.startswith("arn:aws:sqs:"):
                LOG.warning("%s: event source %s is not polled locally", mapping.logical_id, mapping.event_source_arn)
                continue
            if self._aws.lambdas.get(mapping.function_name) is None:
                LOG.warning("%s: function %s is not registered; not polled", mapping.logical_id, mapping.function_name)
                continue
            try:
                started.append(SqsPoller(mapping, self._aws))
            except ClientError as exc:  # e.g. a queue of another stack
                LOG.warning(
                    "%s: queue %s not found; not polled (%s)", mapping.logical_id, mapping.event_source_arn, exc
                )
        if started and not self._pollers:
            self._watch_queues()
        self._pollers += started
        for poller in started:
            poller.start()
        return started

    def stop(self, timeout: float = 5.0) -> None:
        """Stop every poller (within one receive wait, unless a handler is running) and undo the moto change."""
        for poller in self._pollers:
            poller.stop()
        deadline = time.monotonic() + timeout
        for poller in self._pollers:
            if not poller.join(max(0.0, deadline - time.monotonic())):
                LOG.warning("The poller of %s did not stop within %.0f s", poller.queue_arn, timeout)
        self._pollers.clear()
        self._patcher.restore()

    def _watch_queues(self) -> None:
        from moto.sqs.models import Queue

        original = Queue.add_message
        pollers = self._pollers

        def add_message(queue: Any, message: Any) -> None:
            original(queue, message)
            for poller in pollers:
                if poller.queue_arn == queue.queue_arn:
                    poller.notify_added()

        self._patcher.replace(Queue, "add_message", add_message)
