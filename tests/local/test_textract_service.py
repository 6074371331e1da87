"""The local Textract's API through a real boto3 client against the emulator: validation and errors as Textract
names them, ClientRequestToken idempotency, quotas, paging at 1,000 blocks, the SNS completion message reaching a
subscribed queue, FAILED jobs, and every fault (Textract's own and the generic per-call ones)."""

from __future__ import annotations

import io
import json
import time
from collections.abc import Iterator
from typing import Any

import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from sagestep.local.emulator import LocalAws
from sagestep.local.faults import ArmedFault, Faults
from sagestep.local.services import ServiceRegistry
from sagestep.local.services.textract import TextractEmulator
from sagestep_service.workflows.documents.textract_service import MAX_IMAGE_BYTES
from tests.unit.test_cli import FakeClient, run

BUCKET = "textract-service"
ROLE = "arn:aws:iam::123456789012:role/TextractPublish"


def pdf(pages: int, lines: int = 3) -> bytes:
    """A plain PDF of ``pages`` pages of ``lines`` lines of eight words each."""
    from reportlab.pdfgen.canvas import Canvas

    out = io.BytesIO()
    canvas = Canvas(out)
    for page in range(pages):
        canvas.setFont("Helvetica", 9)
        for line in range(lines):
            canvas.drawString(40, 800 - 14 * line, f"page {page + 1} line {line + 1} alpha beta gamma delta")
        canvas.showPage()
    canvas.save()
    return out.getvalue()


@pytest.fixture(scope="module")
def aws() -> Iterator[LocalAws]:
    with LocalAws(registry=ServiceRegistry([TextractEmulator])) as running:
        s3 = running.client("s3")
        s3.create_bucket(Bucket=BUCKET)
        s3.put_object(Bucket=BUCKET, Key="small.pdf", Body=pdf(3))
        s3.put_object(Bucket=BUCKET, Key="long.pdf", Body=pdf(5, 48))
        s3.put_object(Bucket=BUCKET, Key="notes.pdf", Body=b"just some text, not a PDF")
        yield running


@pytest.fixture()
def textract(aws: LocalAws) -> Iterator[Any]:
    """The Textract client (errors not retried away); quotas high and faults gone after each test."""
    emulator = aws.service(TextractEmulator)
    emulator.max_concurrent_jobs, emulator.max_starts_per_second = 100, 1000
    yield aws.client("textract", config=Config(retries={"total_max_attempts": 1}))
    aws.faults.clear()
    assert aws.wait_idle(30)


def start(textract: Any, key: str = "small.pdf", **extra: Any) -> str:
    job_id: str = textract.start_document_analysis(
        DocumentLocation={"S3Object": {"Bucket": BUCKET, "Name": key}}, FeatureTypes=["LAYOUT"], **extra
    )["JobId"]
    return job_id


def finished(aws: LocalAws, textract: Any, job_id: str, **extra: Any) -> dict[str, Any]:
    assert aws.wait_idle(30)
    answer: dict[str, Any] = textract.get_document_analysis(JobId=job_id, **extra)
    return answer


def error_code(call: Any, *args: Any, **kwargs: Any) -> str:
    with pytest.raises(ClientError) as caught:
        call(*args, **kwargs)
    code: str = caught.value.response["Error"]["Code"]
    return code


def test_blocks_are_served_at_most_1000_a_call_with_a_next_token_and_max_results_pages_them(
    aws: LocalAws, textract: Any
) -> None:
    job_id = start(textract, "long.pdf")
    first = finished(aws, textract, job_id, MaxResults=5000)  # more than 1,000 asked: 1,000 answered
    blocks, token, calls = list(first["Blocks"]), first.get("NextToken"), 1
    assert len(blocks) == 1000 and token
    while token:
        page = textract.get_document_analysis(JobId=job_id, NextToken=token)
        assert page["JobStatus"] == "SUCCEEDED" and page["DocumentMetadata"] == {"Pages": 5}
        blocks, token, calls = blocks + page["Blocks"], page.get("NextToken"), calls + 1
    kinds = [block["BlockType"] for block in blocks]
    assert (kinds.count("PAGE"), kinds.count("LINE"), kinds.count("WORD")) == (5, 5 * 48, 5 * 48 * 8)
    assert calls == 3 and len(blocks) > 2000
    assert len({block["Id"] for block in blocks}) == len(blocks)

    small = [textract.get_document_analysis(JobId=job_id, MaxResults=7)]
    small.append(textract.get_document_analysis(JobId=job_id, MaxResults=7, NextToken=small[0]["NextToken"]))
    assert [block["Id"] for answer in small for block in answer["Blocks"]] == [block["Id"] for block in blocks[:14]]
    assert error_code(textract.get_document_analysis, JobId=job_id, NextToken="not-a-token") == (
        "InvalidParameterException"
    )


def test_the_same_client_request_token_answers_the_same_job_and_starts_nothing(aws: LocalAws, textract: Any) -> None:
    emulator = aws.service(TextractEmulator)
    first = start(textract, ClientRequestToken="document-42", JobTag="doc-42")
    again = start(textract, ClientRequestToken="document-42", JobTag="doc-42")
    assert again == first
    assert sum(job.request.get("JobTag") == "doc-42" for job in emulator.store().jobs.values()) == 1
    assert error_code(start, textract, "long.pdf", ClientRequestToken="document-42", JobTag="doc-42") == (
        "IdempotentParameterMismatchException"
    )
    assert start(textract, ClientRequestToken="document-43") != first
    assert finished(aws, textract, first)["JobStatus"] == "SUCCEEDED"


def test_requests_textract_refuses_are_answered_with_its_errors(aws: LocalAws, textract: Any) -> None:
    location = {"S3Object": {"Bucket": BUCKET, "Name": "small.pdf"}}
    call = textract.start_document_analysis
    assert error_code(call, DocumentLocation=location, FeatureTypes=["LAYOUT", "LAYOUT"]) == "InvalidParameterException"
    assert error_code(call, DocumentLocation=location, FeatureTypes=["QUERIES"]) == "InvalidParameterException"
    assert error_code(call, DocumentLocation=location, FeatureTypes=["LAYOUT"], JobTag="no spaces") == (
        "InvalidParameterException"
    )
    missing = {"S3Object": {"Bucket": BUCKET, "Name": "missing.pdf"}}
    assert error_code(call, DocumentLocation=missing, FeatureTypes=["LAYOUT"]) == "InvalidS3ObjectException"
    assert error_code(textract.get_document_analysis, JobId="0" * 64) == "InvalidJobIdException"


def test_quotas_answer_limit_exceeded_and_provisioned_throughput_exceeded(aws: LocalAws, textract: Any) -> None:
    emulator = aws.service(TextractEmulator)
    emulator.store().starts.clear()  # the starts of earlier tests
    emulator.max_concurrent_jobs = 0
    assert error_code(start, textract) == "LimitExceededException"
    emulator.max_concurrent_jobs, emulator.max_starts_per_second = 100, 1
    start(textract)
    assert error_code(start, textract) == "ProvisionedThroughputExceededException"


def test_a_file_that_is_no_document_or_too_large_fails_the_job_as_textract_reports_it(
    aws: LocalAws, textract: Any
) -> None:
    failed = finished(aws, textract, start(textract, "notes.pdf"))
    assert (failed["JobStatus"], failed["StatusMessage"]) == ("FAILED", "UNSUPPORTED_DOCUMENT")
    assert "Blocks" not in failed or failed["Blocks"] == []
    aws.client("s3").put_object(Bucket=BUCKET, Key="huge.png", Body=b"\x89PNG\r\n\x1a\n" + bytes(MAX_IMAGE_BYTES))
    huge = finished(aws, textract, start(textract, "huge.png"))
    assert (huge["JobStatus"], huge["StatusMessage"]) == ("FAILED", "DOCUMENT_TOO_LARGE")


@pytest.fixture()
def subscribed(aws: LocalAws, request: pytest.FixtureRequest) -> tuple[str, Any, str]:
    """A new SNS topic with a new SQS queue subscribed (raw delivery off, as sagestep subscribes it)."""
    sns, sqs = aws.client("sns"), aws.client("sqs")
    name = "done-" + request.node.name[-40:].strip("_")
    topic = sns.create_topic(Name=name)["TopicArn"]
    url = sqs.create_queue(QueueName=name)["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=arn)
    return topic, sqs, url


def messages(sqs: Any, url: str) -> list[dict[str, Any]]:
    received = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=0).get("Messages", [])
    for message in received:
        sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
    return [json.loads(json.loads(message["Body"])["Message"]) for message in received]


def test_the_completion_message_reaches_a_subscribed_queue_in_textract_s_shape(
    aws: LocalAws, textract: Any, subscribed: tuple[str, Any, str]
) -> None:
    topic, sqs, url = subscribed
    channel = {"SNSTopicArn": topic, "RoleArn": ROLE}
    before = int(time.time() * 1000)
    job_id = start(textract, NotificationChannel=channel, JobTag="invoice-7")
    failed_id = start(textract, "notes.pdf", NotificationChannel=channel)
    assert aws.wait_idle(30)
    received = {message["JobId"]: message for message in messages(sqs, url)}
    assert set(received) == {job_id, failed_id}
    message = received[job_id]
    assert set(message) == {"JobId", "Status", "API", "JobTag", "Timestamp", "DocumentLocation"}
    assert (message["Status"], message["API"], message["JobTag"]) == ("SUCCEEDED", "StartDocumentAnalysis", "invoice-7")
    assert message["DocumentLocation"] == {"S3ObjectName": "small.pdf", "S3Bucket": BUCKET}
    assert before <= message["Timestamp"] <= int(time.time() * 1000)
    assert received[failed_id]["Status"] == "FAILED"


def test_fault_the_next_job_fails_with_the_reason(aws: LocalAws, textract: Any) -> None:
    aws.faults.textract.fail_next_job("INVALID_KMS_KEY")
    failed = finished(aws, textract, start(textract))
    assert (failed["JobStatus"], failed["StatusMessage"]) == ("FAILED", "INVALID_KMS_KEY")
    assert finished(aws, textract, start(textract))["JobStatus"] == "SUCCEEDED"  # one shot


def test_fault_some_pages_fail_partial_success_with_their_blocks_missing_and_warnings(
    aws: LocalAws, textract: Any
) -> None:
    aws.faults.apply({"fault": "partial_next_textract_job", "pages": [2]})
    partial = finished(aws, textract, start(textract))
    assert partial["JobStatus"] == "PARTIAL_SUCCESS" and partial["DocumentMetadata"] == {"Pages": 3}
    assert partial["Warnings"] == [{"ErrorCode": "INTERNAL_ERROR", "Pages": [2]}]
    assert {block["Page"] for block in partial["Blocks"]} == {1, 3}
    aws.faults.textract.partial_next_job()  # default: the last page
    last = finished(aws, textract, start(textract))
    assert last["Warnings"][0]["Pages"] == [3] and {block["Page"] for block in last["Blocks"]} == {1, 2}


def test_fault_a_dropped_notification_the_job_succeeds_silently(
    aws: LocalAws, textract: Any, subscribed: tuple[str, Any, str]
) -> None:
    topic, sqs, url = subscribed
    aws.faults.textract.drop_next_notification()
    silent = start(textract, NotificationChannel={"SNSTopicArn": topic, "RoleArn": ROLE})
    assert finished(aws, textract, silent)["JobStatus"] == "SUCCEEDED"
    assert messages(sqs, url) == []
    heard = start(textract, NotificationChannel={"SNSTopicArn": topic, "RoleArn": ROLE})
    assert aws.wait_idle(30)
    assert [message["JobId"] for message in messages(sqs, url)] == [heard]


def test_generic_call_faults_hit_textract_actions(aws: LocalAws, textract: Any) -> None:
    aws.faults.throttle("StartDocumentAnalysis")
    assert error_code(start, textract) == "ProvisionedThroughputExceededException"
    aws.faults.fail_call("GetDocumentAnalysis", "AccessDeniedException", "no textract:GetDocumentAnalysis")
    job_id = start(textract)
    assert error_code(textract.get_document_analysis, JobId=job_id) == "AccessDeniedException"
    aws.faults.lose_response("StartDocumentAnalysis")
    assert error_code(start, textract, ClientRequestToken="lost-once") == "InternalServerError"
    assert finished(aws, textract, start(textract, ClientRequestToken="lost-once"))["JobStatus"] == "SUCCEEDED"


def test_textract_faults_are_listed_cleared_and_armed_from_json() -> None:
    faults = Faults()
    faults.apply({"fault": "fail_next_textract_job", "reason": "INTERNAL_ERROR"})
    faults.apply({"fault": "partial_next_textract_job", "pages": [1, 3]})
    faults.apply({"fault": "drop_next_textract_notification"})
    faults.apply({"fault": "drop_next_textract_notification"})
    assert faults.armed() == [
        ArmedFault("fail_next_textract_job", 1, reason="INTERNAL_ERROR"),
        ArmedFault("partial_next_textract_job", 1, reason="pages 1, 3"),
        ArmedFault("drop_next_textract_notification", 2),
    ]
    assert [entry.fault for entry in faults.clear("drop_next_textract_notification")] == [
        "drop_next_textract_notification"
    ]
    taken = faults.textract.take_job_faults()
    assert (taken.failure, taken.pages_failing(3), taken.drop_notification) == ("INTERNAL_ERROR", {1, 3}, False)
    assert faults.armed() == []


@pytest.mark.parametrize(
    ("args", "spec"),
    [
        (
            ["fail-textract", "--reason", "INTERNAL_ERROR"],
            {"fault": "fail_next_textract_job", "reason": "INTERNAL_ERROR"},
        ),
        (["partial-textract", "--page", "2", "--page", "3"], {"fault": "partial_next_textract_job", "pages": [2, 3]}),
        (["partial-textract"], {"fault": "partial_next_textract_job"}),
        (["drop-textract-notification"], {"fault": "drop_next_textract_notification"}),
    ],
)
def test_textract_faults_are_armed_by_their_cli_names(args: list[str], spec: dict[str, Any]) -> None:
    client = FakeClient()
    result = run(["local", "fault", *args], client)
    assert result.exit_code == 0, result.output
    assert client.calls == [("local_faults", spec)]
