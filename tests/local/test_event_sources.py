"""SQS -> Lambda event source mappings of the local mode (``sagestep.local.event_sources``).

One emulator (without the SageMaker emulation) and one set of pollers serve the module; each test makes its own
queues and function. Queues have a 1 s visibility timeout, so that a retry comes within about two seconds.
"""

from __future__ import annotations

import itertools
import json
import logging
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from aws_lambda_powertools.utilities.parser.models import SqsModel
from moto.sqs.models import Queue

from sagestep.local.cloudformation import EventSourceMappingSpec, provision
from sagestep.local.emulator import LocalAws
from sagestep.local.event_sources import EventSources, batch_item_failures
from sagestep.local.services import ServiceRegistry

_names = itertools.count(1)


@pytest.fixture(scope="module")
def aws() -> Iterator[LocalAws]:
    with LocalAws(registry=ServiceRegistry()) as local:
        yield local


@pytest.fixture(scope="module")
def sources(aws: LocalAws) -> Iterator[EventSources]:
    """Shared by the tests (each polls its own queues): stopping waits for a 1 s receive, once per module."""
    pollers = EventSources(aws)
    yield pollers
    pollers.stop()


def make_queue(aws: LocalAws, **attributes: str) -> tuple[str, str]:
    """A new queue with a 1 s visibility timeout: (url, arn)."""
    sqs = aws.client("sqs")
    url = sqs.create_queue(QueueName=f"queue-{next(_names)}", Attributes={"VisibilityTimeout": "1", **attributes})[
        "QueueUrl"
    ]
    return url, sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]


def mapping(function_name: str, queue_arn: str, **fields: Any) -> EventSourceMappingSpec:
    return EventSourceMappingSpec(
        logical_id="Mapping",
        function_logical_id=None,
        function_name=function_name,
        event_source_arn=queue_arn,
        batch_size=fields.pop("batch_size", 10),
        enabled=fields.pop("enabled", True),
        **fields,
    )


def message_counts(aws: LocalAws, url: str) -> tuple[int, int]:
    """(visible, in flight) messages of a queue."""
    names = ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
    counts = aws.client("sqs").get_queue_attributes(QueueUrl=url, AttributeNames=names)["Attributes"]
    return int(counts[names[0]]), int(counts[names[1]])


def test_a_batch_reaches_the_function_as_aws_shapes_the_sqs_event_and_is_deleted(
    aws: LocalAws, sources: EventSources
) -> None:
    # Given a queue holding three messages, one with message attributes of each type
    url, arn = make_queue(aws)
    sqs = aws.client("sqs")
    attributes = {
        "kind": {"DataType": "String", "StringValue": "job"},
        "size": {"DataType": "Number", "StringValue": "3"},
        "blob": {"DataType": "Binary", "BinaryValue": b"\x00\x01"},
    }
    sqs.send_message(QueueUrl=url, MessageBody='{"n": 1}', MessageAttributes=attributes)
    sqs.send_message(QueueUrl=url, MessageBody='{"n": 2}')
    sqs.send_message(QueueUrl=url, MessageBody='{"n": 3}')
    events: list[dict[str, Any]] = []
    aws.register_lambda("Consume", lambda event, context: events.append(event))

    # When a poller is started for its mapping, and the emulator waited for
    started = time.monotonic()
    assert len(sources.start([mapping("Consume", arn)])) == 1
    assert aws.wait_idle(10)

    # Then the function received the three messages in one event, in the shape Lambda gives it
    assert time.monotonic() - started < 3
    (event,) = events
    SqsModel.model_validate(event)
    records = event["Records"]
    assert [json.loads(r["body"]) for r in records] == [{"n": 1}, {"n": 2}, {"n": 3}]
    first = records[0]
    assert list(first) == [
        "messageId",
        "receiptHandle",
        "body",
        "attributes",
        "messageAttributes",
        "md5OfBody",
        "md5OfMessageAttributes",
        "eventSource",
        "eventSourceARN",
        "awsRegion",
    ]
    assert (first["eventSource"], first["eventSourceARN"], first["awsRegion"]) == ("aws:sqs", arn, aws.region)
    assert first["attributes"]["ApproximateReceiveCount"] == "1"
    assert {"SentTimestamp", "SenderId", "ApproximateFirstReceiveTimestamp"} <= first["attributes"].keys()
    assert first["messageAttributes"] == {
        "kind": {"stringValue": "job", "stringListValues": [], "binaryListValues": [], "dataType": "String"},
        "size": {"stringValue": "3", "stringListValues": [], "binaryListValues": [], "dataType": "Number"},
        "blob": {"binaryValue": "AAE=", "stringListValues": [], "binaryListValues": [], "dataType": "Binary"},
    }
    assert records[1]["messageAttributes"] == {} and "md5OfMessageAttributes" not in records[1]
    # And the batch was deleted
    assert message_counts(aws, url) == (0, 0)


def test_with_report_batch_item_failures_only_the_failed_message_comes_back(
    aws: LocalAws, sources: EventSources
) -> None:
    # Given a function that fails one message of its batch on the first receive (reporting it)
    url, arn = make_queue(aws)
    calls: list[list[tuple[str, str]]] = []

    def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        calls.append([(r["body"], r["attributes"]["ApproximateReceiveCount"]) for r in event["Records"]])
        failed = [
            r for r in event["Records"] if r["body"] == "flaky" and r["attributes"]["ApproximateReceiveCount"] == "1"
        ]
        return {"batchItemFailures": [{"itemIdentifier": r["messageId"]} for r in failed]}

    aws.register_lambda("Partial", handler)
    for body in ("fine", "flaky"):
        aws.client("sqs").send_message(QueueUrl=url, MessageBody=body)

    # When it is polled with ReportBatchItemFailures
    sources.start([mapping("Partial", arn, function_response_types=("ReportBatchItemFailures",))])
    assert aws.wait_idle(10)

    # Then the failed message alone came back after the visibility timeout, on its second receive
    assert calls == [[("fine", "1"), ("flaky", "1")], [("flaky", "2")]]
    assert message_counts(aws, url) == (0, 0)


def test_a_function_that_always_fails_sends_the_message_to_the_dead_letter_queue(
    aws: LocalAws, sources: EventSources, caplog: pytest.LogCaptureFixture
) -> None:
    # Given a queue whose redrive policy moves a message to its DLQ after two receives, and a failing function
    dlq_url, dlq_arn = make_queue(aws)
    url, arn = make_queue(aws, RedrivePolicy=json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": 2}))
    counts: list[str] = []

    def handler(event: dict[str, Any], context: Any) -> None:
        counts.extend(r["attributes"]["ApproximateReceiveCount"] for r in event["Records"])
        raise RuntimeError("cannot process")

    aws.register_lambda("AlwaysFails", handler)
    sources.start([mapping("AlwaysFails", arn)])

    # When a message is sent while the poller waits, and the emulator is waited for right after the send
    with caplog.at_level(logging.WARNING, logger="sagestep.local.event_sources"):
        aws.client("sqs").send_message(QueueUrl=url, MessageBody="poison")
        assert aws.wait_idle(15)

    # Then the function saw it twice, the DLQ holds it, and the source queue is empty
    assert counts == ["1", "2"]
    assert "AlwaysFails failed on 1 message(s)" in caplog.text and "RuntimeError: cannot process" in caplog.text
    dead = aws.client("sqs").receive_message(QueueUrl=dlq_url, WaitTimeSeconds=0).get("Messages", [])
    assert [m["Body"] for m in dead] == ["poison"]
    assert message_counts(aws, url) == (0, 0)


def test_stop_is_prompt_and_undoes_the_queue_watch(aws: LocalAws) -> None:
    # Given pollers waiting on an empty queue
    original_add_message = Queue.add_message
    url, arn = make_queue(aws)
    delivered = threading.Event()
    aws.register_lambda("Idle", lambda event, context: delivered.set())
    sources = EventSources(aws)
    (poller,) = sources.start([mapping("Idle", arn)])
    assert aws.wait_idle(5)  # an empty mapped queue is no pending work
    assert Queue.add_message is not original_add_message

    # When they are stopped, Then it takes well under 2 s and nothing polls the queue any more
    started = time.monotonic()
    sources.stop()
    assert time.monotonic() - started < 2
    assert poller.join(0)
    assert Queue.add_message is original_add_message
    aws.client("sqs").send_message(QueueUrl=url, MessageBody="late")
    assert aws.wait_idle(1)
    assert message_counts(aws, url) == (1, 0) and not delivered.is_set()


def test_a_batching_window_gathers_messages_sent_within_it(aws: LocalAws, sources: EventSources) -> None:
    url, arn = make_queue(aws)
    sizes: list[int] = []
    aws.register_lambda("Gather", lambda event, context: sizes.append(len(event["Records"])))
    sources.start([mapping("Gather", arn, batch_size=3, maximum_batching_window_seconds=1)])
    sqs = aws.client("sqs")
    sqs.send_message(QueueUrl=url, MessageBody="first")
    time.sleep(0.3)  # within the window
    sqs.send_message_batch(QueueUrl=url, Entries=[{"Id": str(i), "MessageBody": f"later {i}"} for i in range(2)])
    assert aws.wait_idle(5)
    assert sizes == [3]


def test_mappings_that_cannot_be_polled_are_warned_about_and_skipped(
    aws: LocalAws, sources: EventSources, caplog: pytest.LogCaptureFixture
) -> None:
    _, arn = make_queue(aws)
    aws.register_lambda("Known", lambda event, context: None)
    missing_queue = arn.rsplit(":", 1)[0] + ":no-such-queue"
    with caplog.at_level(logging.WARNING, logger="sagestep.local.event_sources"):
        assert (
            sources.start(
                [mapping("Unknown", arn), mapping("Known", missing_queue), mapping("Known", arn, enabled=False)]
            )
            == []
        )
    assert "function Unknown is not registered" in caplog.text
    assert f"queue {missing_queue} not found" in caplog.text


@pytest.mark.parametrize(
    ("response", "failed"),
    [
        (None, set()),
        ({}, set()),
        ({"batchItemFailures": None}, set()),
        ({"batchItemFailures": []}, set()),
        ({"batchItemFailures": [{"itemIdentifier": "b"}]}, {"b"}),
        ({"batchItemFailures": [{"itemIdentifier": ""}]}, None),
        ({"batchItemFailures": [{"itemIdentifier": None}]}, None),
        ({"batchItemFailures": [{"id": "b"}]}, None),
        ({"batchItemFailures": [{"itemIdentifier": "unknown"}]}, None),
        ({"batchItemFailures": "b"}, None),
        ("not an object", None),
    ],
)
def test_batch_item_failures_are_read_as_lambda_reads_them(response: Any, failed: set[str] | None) -> None:
    assert batch_item_failures(response, ["a", "b"]) == failed


def test_a_template_mapping_is_parsed_with_its_response_types_and_polled(
    aws: LocalAws, sources: EventSources, caplog: pytest.LogCaptureFixture
) -> None:
    # Given a template with a queue and its DLQ, a function, its SQS mapping, a disabled and a stream mapping
    function = {"FunctionName": {"Ref": "Worker"}}
    template = {
        "Resources": {
            "Dead": {"Type": "AWS::SQS::Queue", "Properties": {"VisibilityTimeout": 1}},
            "Jobs": {
                "Type": "AWS::SQS::Queue",
                "Properties": {
                    "VisibilityTimeout": 1,
                    "RedrivePolicy": {"deadLetterTargetArn": {"Fn::GetAtt": ["Dead", "Arn"]}, "maxReceiveCount": 3},
                },
            },
            "Worker": {"Type": "AWS::Lambda::Function", "Properties": {"Handler": "worker.handler", "Timeout": 30}},
            "JobsMapping": {
                "Type": "AWS::Lambda::EventSourceMapping",
                "Properties": {
                    **function,
                    "EventSourceArn": {"Fn::GetAtt": ["Jobs", "Arn"]},
                    "BatchSize": 1,
                    "MaximumBatchingWindowInSeconds": 1,
                    "FunctionResponseTypes": ["ReportBatchItemFailures"],
                },
            },
            "Off": {
                "Type": "AWS::Lambda::EventSourceMapping",
                "Properties": {**function, "EventSourceArn": {"Fn::GetAtt": ["Dead", "Arn"]}, "Enabled": "false"},
            },
            "Stream": {
                "Type": "AWS::Lambda::EventSourceMapping",
                "Properties": {
                    **function,
                    "EventSourceArn": "arn:aws:dynamodb:us-east-1:123456789012:table/t/stream/x",
                },
            },
        }
    }

    # When it is provisioned
    stack = provision(template, client_factory=aws.client, stack_name="Sources", region=aws.region)

    # Then the SQS mapping carries the new fields
    jobs = stack.event_source_mappings["JobsMapping"]
    worker = stack.functions["Worker"]
    assert (jobs.function_logical_id, jobs.function_name) == ("Worker", worker.function_name)
    assert jobs.event_source_arn == stack.attribute("Jobs", "Arn")
    assert (jobs.batch_size, jobs.maximum_batching_window_seconds, jobs.enabled) == (1, 1, True)
    assert jobs.function_response_types == ("ReportBatchItemFailures",)
    assert stack.event_source_mappings["Off"].enabled is False

    # And once the function is registered, only the enabled SQS mapping is polled (the stream is warned about)
    bodies: list[str] = []
    aws.register_lambda(worker.function_name, lambda event, context: bodies.extend(r["body"] for r in event["Records"]))
    with caplog.at_level(logging.WARNING, logger="sagestep.local.event_sources"):
        started = sources.start(stack.event_source_mappings.values())
    assert [poller.mapping.logical_id for poller in started] == ["JobsMapping"]
    assert "Stream: event source arn:aws:dynamodb:" in caplog.text
    aws.client("sqs").send_message(QueueUrl=stack.ref("Jobs"), MessageBody="translate me")
    assert aws.wait_idle(10)
    assert bodies == ["translate me"]
