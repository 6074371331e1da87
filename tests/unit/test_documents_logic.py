"""The documents workflow's task logic against moto: the documents manifest of a folder, Textract's result pages into
S3 and back, the paragraph rows and their paging, the job's summary and outcome, the failure explanations, the
Textract job waiter and the SNS resume of its wait; then one document analysed end to end on the local Textract and
Comprehend.

Given/When/Then. Textract is a small fake client where its answers are the point (pages of blocks, statuses): moto's
Textract answers canned data. The end-to-end tests run the real sample PDFs through the local emulations
(``LocalAws`` with ``TextractEmulator`` and ``ComprehendEmulator``).
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from decimal import Decimal
from types import SimpleNamespace
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from sagestep_service.platform import aws, waits
from sagestep_service.platform.errors import BadRequest
from sagestep_service.platform.failures import MAX_CAUSE
from sagestep_service.platform.jobs import JobStore
from sagestep_service.workflows.documents import failure, listing, paragraphs, results, summary, textract_service
from sagestep_service.workflows.documents.models import DocumentItem, DocumentSummary
from sagestep_service.workflows.documents.waiters import NOTIFICATION_TYPE, TextractJobWaiter
from tests.unit.translation_helpers import DATA, WORK, keys, moto_s3, read_json, s3_listing_encoding

JOB = "documents-20260101-120000-0a1b2c3d"
JOBS_TABLE = "sagestep-jobs"
PARAGRAPHS_TABLE = "sagestep-paragraphs"


def a_plan(source_key: str = "users/alice/docs/", folder: bool = True, job_id: str = JOB) -> dict[str, Any]:
    return {
        "source": {"bucket": DATA, "key": source_key, "folder": folder},
        "work": {"bucket": WORK, "prefix": f"jobs/{job_id}/"},
        "output": {"bucket": DATA, "prefix": f"users/alice/insights/{job_id}/"},
        "languageCode": None,
        "segmentation": "auto",
        "features": ["sentiment", "keyPhrases", "entities"],
        "featureTypes": ["LAYOUT"],
        "deadlineSeconds": 900,
    }


@pytest.fixture
def s3(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """Given moto S3 with the data bucket and the artifact bucket (listings URL-encoded as S3 encodes them)."""
    s3_listing_encoding(monkeypatch)
    yield from moto_s3(monkeypatch)


def paragraphs_table(dynamodb: Any) -> Any:
    """The paragraphs table with the stack's key (jobId, position)."""
    return dynamodb.create_table(
        TableName=PARAGRAPHS_TABLE,
        KeySchema=[{"AttributeName": "jobId", "KeyType": "HASH"}, {"AttributeName": "position", "KeyType": "RANGE"}],
        AttributeDefinitions=[
            {"AttributeName": "jobId", "AttributeType": "S"},
            {"AttributeName": "position", "AttributeType": "S"},
        ],
        BillingMode="PAY_PER_REQUEST",
    )


@pytest.fixture
def table(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """Given moto DynamoDB with the paragraphs table (the resource's Table, as the functions use it)."""
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    with mock_aws():
        yield paragraphs_table(boto3.resource("dynamodb"))


# --- the documents manifest -----------------------------------------------------------------------------------------


def test_a_folders_documents_become_the_maps_items(s3: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    # Given a folder with subfolders, a folder marker, names with spaces, '+' and accents, and files Textract does
    # not read (listed two keys a page)
    monkeypatch.setattr(listing, "PAGE_SIZE", 2)
    files = {
        "a.pdf": b"%PDF",
        "empty.pdf": b"",
        "notes.txt": b"notes",
        "sub/": b"",
        "sub/b.PNG": b"png",
        "sub/deeper/c d+e ü.pdf": b"%PDF",
    }
    for path, body in files.items():
        s3.put_object(Bucket=DATA, Key=f"users/alice/docs/{path}", Body=body)
    s3.put_object(Bucket=DATA, Key="users/alice/docsbis/other.pdf", Body=b"%PDF")  # not in the folder
    plan = a_plan()
    # When the manifest is written
    answer = listing.write_manifest(s3, JOB, plan)
    # Then the documents are the items, in key order, keys decoded, paths relative to the folder
    assert answer == {"documents": 3, "skipped": 2, "manifestKey": f"jobs/{JOB}/documents.json"}
    items = read_json(s3, WORK, f"jobs/{JOB}/documents.json")
    assert [(item["index"], item["key"], item["path"]) for item in items] == [
        (0, "users/alice/docs/a.pdf", "a.pdf"),
        (1, "users/alice/docs/sub/b.PNG", "sub/b.PNG"),
        (2, "users/alice/docs/sub/deeper/c d+e ü.pdf", "sub/deeper/c d+e ü.pdf"),
    ]
    assert {item["bucket"] for item in items} == {DATA}
    # And each the object a HEAD finds (the decoded key is the real one)
    for item in items:
        s3.head_object(Bucket=DATA, Key=item["key"])
    # And the files left out are listed with their reasons
    skipped = read_json(s3, WORK, f"jobs/{JOB}/skipped.json")
    assert [entry["path"] for entry in skipped] == ["empty.pdf", "notes.txt"]
    assert skipped[0]["reason"] == "the file is empty"
    assert skipped[1]["reason"].startswith("not a document Textract reads")
    # And each document's ClientRequestToken is its own, within Textract's limit
    tokens = [item["token"] for item in items]
    assert tokens == [f"{JOB}-0", f"{JOB}-1", f"{JOB}-2"]
    assert all(len(token) <= textract_service.CLIENT_REQUEST_TOKEN_MAX for token in tokens)


def test_the_longest_job_ids_make_tokens_textract_takes() -> None:
    # Given the longest ids submissions make (an idempotency key's, a time-ordered one) and a large folder's index
    from sagestep_service.platform.submission import new_job_id

    for job_id in (new_job_id("documents", "alice", "key"), new_job_id("documents", "alice", None)):
        token = f"{job_id}-{99_999}"
        assert len(token) <= textract_service.CLIENT_REQUEST_TOKEN_MAX, token


def test_a_single_documents_manifest(s3: Any) -> None:
    # Given a plan for one document (checked at submission: the manifest does not judge it again)
    plan = a_plan("users/alice/docs/q1/Report final.pdf", folder=False)
    # When the manifest is written
    assert listing.write_manifest(s3, JOB, plan)["documents"] == 1
    # Then it has that one document, its path its name
    assert read_json(s3, WORK, f"jobs/{JOB}/documents.json") == [
        {
            "index": 0,
            "bucket": DATA,
            "key": "users/alice/docs/q1/Report final.pdf",
            "path": "Report final.pdf",
            "token": f"{JOB}-0",
        }
    ]
    assert read_json(s3, WORK, f"jobs/{JOB}/skipped.json") == []


# --- Textract's results ---------------------------------------------------------------------------------------------


class FakeTextract:
    """GetDocumentAnalysis over given pages of blocks (each answer's NextToken names the next page)."""

    def __init__(self, pages: list[list[dict[str, Any]]], status: str = "SUCCEEDED", **extra: Any) -> None:
        self.pages, self.status, self.extra = pages, status, extra
        self.calls: list[dict[str, Any]] = []

    def get_document_analysis(self, **kwargs: Any) -> dict[str, Any]:
        self.calls.append(kwargs)
        if self.status == "MISSING":
            raise ClientError({"Error": {"Code": "InvalidJobIdException", "Message": "no job"}}, "GetDocumentAnalysis")
        if self.status == "THROTTLED":
            raise ClientError({"Error": {"Code": "ThrottlingException", "Message": "slow"}}, "GetDocumentAnalysis")
        number = int(kwargs.get("NextToken", "0"))
        answer: dict[str, Any] = {"JobStatus": self.status, "Blocks": self.pages[number] if self.pages else []}
        if number == 0:
            answer.update(self.extra)
        if number + 1 < len(self.pages):
            answer["NextToken"] = str(number + 1)
        return answer


def blocks(page: int, count: int) -> list[dict[str, Any]]:
    return [{"BlockType": "WORD", "Id": f"p{page}-{i}", "Text": f"w{page}.{i}", "Page": 1} for i in range(count)]


DOCUMENT = DocumentItem(index=3, bucket=DATA, key="users/alice/docs/a.pdf", path="a.pdf")


def test_every_result_page_lands_in_s3_and_reads_back_in_order(s3: Any) -> None:
    # Given a job whose blocks take three GetDocumentAnalysis pages
    pages = [blocks(0, 4), blocks(1, 3), blocks(2, 2)]
    textract = FakeTextract(pages, DocumentMetadata={"Pages": 7})
    plan = a_plan()
    # When its results are fetched
    answer = results.fetch_blocks(textract, s3, plan, DOCUMENT, "tx-1")
    # Then each page was asked for at Textract's page size, following NextToken
    assert [call.get("NextToken") for call in textract.calls] == [None, "1", "2"]
    assert {(call["JobId"], call["MaxResults"]) for call in textract.calls} == {("tx-1", 1000)}
    # And each is one part in the document's work area; the state gets counts only
    assert keys(s3, WORK, f"jobs/{JOB}/documents/") == [
        f"jobs/{JOB}/documents/00003/blocks/{part:05d}.json" for part in range(3)
    ]
    assert answer == {"jobId": "tx-1", "status": "SUCCEEDED", "pages": 7, "blocks": 9, "parts": 3, "warnings": []}
    # And the blocks read back are Textract's, in its order
    assert results.read_blocks(s3, plan, 3) == [block for page in pages for block in page]
    assert results.read_blocks(s3, plan, 4) == []


def test_a_failed_textract_job_raises_with_its_reason(s3: Any) -> None:
    textract = FakeTextract([[]], status="FAILED", StatusMessage="UNSUPPORTED_DOCUMENT")
    with pytest.raises(results.TextractJobFailed, match="Textract job tx-2 failed: UNSUPPORTED_DOCUMENT"):
        results.fetch_blocks(textract, s3, a_plan(), DOCUMENT, "tx-2")
    with pytest.raises(results.TextractJobFailed, match="no reason given"):
        results.fetch_blocks(FakeTextract([[]], status="FAILED"), s3, a_plan(), DOCUMENT, "tx-3")


def test_a_partial_success_keeps_its_warnings(s3: Any) -> None:
    # Given a partial success whose first page carries the warnings (the others none)
    warnings = [{"ErrorCode": "PAGE_UNREADABLE", "Pages": [2]}]
    textract = FakeTextract([blocks(0, 1), blocks(1, 1)], status="PARTIAL_SUCCESS", Warnings=warnings)
    answer = results.fetch_blocks(textract, s3, a_plan(), DOCUMENT, "tx-4")
    # Then the document goes on with them
    assert (answer["status"], answer["warnings"], answer["blocks"]) == ("PARTIAL_SUCCESS", warnings, 2)


# --- the paragraph rows ---------------------------------------------------------------------------------------------


def a_paragraph(index: int, text: str = "Some text.", **extra: Any) -> dict[str, Any]:
    return {
        "index": index,
        "header": None,
        "headerLevel": None,
        "text": text,
        "pages": [1],
        "boxes": [{"page": 1, "left": 0.1, "top": 0.123456789, "width": 0.8, "height": 0.012}],
        "lineCount": 2,
        "sentiment": "POSITIVE",
        "sentimentScore": {"Positive": 0.9, "Negative": 0.05, "Neutral": 0.04, "Mixed": 0.01},
        "keyPhrases": [],
        "entities": [],
        **extra,
    }


def write_document(table: Any, index: int, count: int, job_id: str = JOB) -> None:
    document = DocumentItem(index=index, bucket=DATA, key=f"users/alice/docs/d{index}.pdf", path=f"d{index}.pdf")
    assert results.write_rows(table, job_id, document, [a_paragraph(i, f"d{index} p{i}") for i in range(count)]) == (
        count
    )


def test_rows_are_stored_as_dynamodb_takes_them(table: Any) -> None:
    # Given a paragraph with floats, None values and more key phrases and entities than a row keeps
    phrases = [{"text": f"phrase {i}", "score": 0.5, "beginOffset": i, "endOffset": i + 1} for i in range(60)]
    entities = [{"text": f"E{i}", "type": "OTHER", "score": 0.25} for i in range(55)]
    paragraph = a_paragraph(
        7,
        "Text.",
        header="Summary",
        headerLevel=1,
        keyPhrases=phrases,
        entities=entities,
        sentiment=None,
        sentimentScore=None,
    )
    # When it is written
    assert results.write_rows(table, JOB, DOCUMENT, [paragraph]) == 1
    # Then its row is keyed by job and (document, paragraph), numbers are Decimals, None values left out
    row = table.get_item(Key={"jobId": JOB, "position": "00003#000007"})["Item"]
    assert (row["document"], row["path"], row["index"], row["header"]) == (3, "a.pdf", 7, "Summary")
    assert row["boxes"][0]["top"] == Decimal("0.123457")
    assert "sentiment" not in row and "sentimentScore" not in row
    # And at most 50 key phrases and entities are kept, the first ones
    assert [p["text"] for p in row["keyPhrases"]] == [f"phrase {i}" for i in range(50)]
    assert len(row["entities"]) == 50 and row["entities"][0] == {
        "text": "E0",
        "type": "OTHER",
        "score": Decimal("0.25"),
    }


def test_rows_are_written_in_batches_and_rewritten_in_place(table: Any) -> None:
    # Given 60 paragraphs (three BatchWriteItem calls), written twice (a retried task)
    write_document(table, 0, 60)
    write_document(table, 0, 60)
    # Then each paragraph has one row
    assert table.query(KeyConditionExpression="jobId = :j", ExpressionAttributeValues={":j": JOB})["Count"] == 60


def test_paragraphs_are_paged_in_document_then_reading_order(table: Any) -> None:
    # Given two documents' rows (the second written first) and another job's
    write_document(table, 1, 3)
    write_document(table, 0, 12)
    write_document(table, 0, 2, job_id="documents-other")
    # When the owner pages through them five at a time
    seen, cursor, pages = [], None, 0
    while True:
        page = paragraphs.page(table, JOB, 5, cursor, None)
        seen += [(item.document, item.index) for item in page.items]
        pages += 1
        cursor = page.nextCursor
        if cursor is None:
            break
    # Then every paragraph of this job comes once, in order
    assert seen == [(0, i) for i in range(12)] + [(1, i) for i in range(3)]
    assert pages in (3, 4)  # DynamoDB may answer a cursor on a full last page
    # And a row reads back as the API shows it (plain numbers)
    first = paragraphs.page(table, JOB, 1, None, None).items[0]
    assert (first.path, first.text, first.pages, first.header) == ("d0.pdf", "d0 p0", [1], None)
    assert first.sentimentScore == {"Positive": 0.9, "Negative": 0.05, "Neutral": 0.04, "Mixed": 0.01}
    assert first.boxes[0]["top"] == 0.123457


def test_one_documents_paragraphs(table: Any) -> None:
    write_document(table, 0, 4)
    write_document(table, 1, 3)
    write_document(table, 10, 2)  # 00010# does not begin with 00001#
    # When only document 1 is asked for, two at a time
    page = paragraphs.page(table, JOB, 2, None, 1)
    assert [(p.document, p.index) for p in page.items] == [(1, 0), (1, 1)]
    rest = paragraphs.page(table, JOB, 2, page.nextCursor, 1)
    assert [(p.document, p.index) for p in rest.items] == [(1, 2)]
    assert paragraphs.page(table, JOB, 5, None, 7).items == []


def cursor_of(key: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(key).encode()).decode()


@pytest.mark.parametrize(
    "cursor",
    [
        "not a cursor",
        "e30",  # padding missing
        cursor_of({"jobId": "documents-other", "position": "00000#000001"}),  # another job's
        cursor_of({"jobId": JOB}),
        cursor_of({"jobId": JOB, "position": 5}),
        cursor_of(["00000#000001"]),
        base64.urlsafe_b64encode(b"\xff\xfe").decode(),
    ],
)
def test_a_tampered_cursor_is_a_400_naming_cursor(table: Any, cursor: str) -> None:
    write_document(table, 0, 3)
    with pytest.raises(BadRequest) as error:
        paragraphs.page(table, JOB, 2, cursor, None)
    assert error.value.field == "cursor"


def test_a_cursor_of_another_document_is_a_400_naming_cursor(table: Any) -> None:
    # Given a cursor of the whole job's listing, within document 0
    write_document(table, 0, 3)
    write_document(table, 1, 3)
    cursor = paragraphs.page(table, JOB, 2, None, None).nextCursor
    assert cursor is not None
    # When it is reused for document 1's paragraphs (DynamoDB refuses a start key outside the key condition)
    with pytest.raises(BadRequest) as error:
        paragraphs.page(table, JOB, 2, cursor, 1)
    # Then the cursor is named, not an AWS error
    assert error.value.field == "cursor"


# --- the job's summary and outcome ----------------------------------------------------------------------------------


def finished_job(s3: Any, outcomes: list[DocumentSummary | None], skipped: int = 0) -> dict[str, Any]:
    """A job whose manifest lists ``len(outcomes)`` documents, each with its summary (None: none written)."""
    plan = a_plan()
    items = [
        {"index": i, "bucket": DATA, "key": f"users/alice/docs/d{i}.pdf", "path": f"d{i}.pdf"}
        for i in range(len(outcomes))
    ]
    s3.put_object(Bucket=WORK, Key=listing.manifest_key(plan), Body=json.dumps(items).encode())
    reasons = [{"path": f"x{i}.txt", "reason": "not a document"} for i in range(skipped)]
    s3.put_object(Bucket=WORK, Key=f"jobs/{JOB}/skipped.json", Body=json.dumps(reasons).encode())
    for outcome in outcomes:
        if outcome is not None:
            results.write_summary(s3, plan, outcome)
    return plan


def completed(index: int, paragraphs: int = 2, **extra: Any) -> DocumentSummary:
    return DocumentSummary(
        index=index,
        path=f"d{index}.pdf",
        status="COMPLETED",
        paragraphs=paragraphs,
        sentimentDistribution={"POSITIVE": paragraphs, "NEGATIVE": 0},
        comprehendUnits={"BatchDetectSentiment": 3 * paragraphs},
        **extra,
    )


def failed(index: int, error: str = "TextractJobFailed", cause: str = "bad scan") -> DocumentSummary:
    return DocumentSummary(index=index, path=f"d{index}.pdf", status="FAILED", error=error, errorCause=cause)


def test_all_documents_completed(s3: Any) -> None:
    plan = finished_job(s3, [completed(0, 2), completed(1, 3)], skipped=1)
    job = summary.aggregate(s3, plan)
    # Then the counts, sentiments and units add up over the documents
    assert (job.documents, job.completed, job.failed, job.paragraphs) == (2, 2, 0, 5)
    assert job.sentimentDistribution == {"NEGATIVE": 0, "POSITIVE": 5}
    assert job.comprehendUnits == {"BatchDetectSentiment": 15}
    assert job.skipped == [{"path": "x0.txt", "reason": "not a document"}]
    assert [item.path for item in job.items] == ["d0.pdf", "d1.pdf"]
    # And the job completed, its one notification saying so without the items
    answer = summary.outcome(JOB, job)
    assert answer["status"] == "COMPLETED"
    note = answer["notification"]
    assert (note["jobId"], note["kind"], note["status"]) == (JOB, "documents", "COMPLETED")
    assert note["summary"]["paragraphs"] == 5 and "items" not in note["summary"] and "skipped" not in note["summary"]


def test_one_failed_document_completes_with_errors(s3: Any) -> None:
    job = summary.aggregate(s3, finished_job(s3, [completed(0), failed(1), completed(2)]))
    assert (job.completed, job.failed) == (2, 1)
    assert job.items[1].error == "TextractJobFailed"
    assert summary.outcome(JOB, job)["status"] == "COMPLETED_WITH_ERRORS"
    assert summary.outcome(JOB, job)["notification"]["status"] == "COMPLETED_WITH_ERRORS"


def test_every_document_failed_fails_the_job_with_the_first_error(s3: Any) -> None:
    job = summary.aggregate(s3, finished_job(s3, [failed(0, "UnsupportedLanguage", "in 'ja'"), failed(1)]))
    assert summary.outcome(JOB, job) == {"status": "FAILED", "error": "UnsupportedLanguage", "cause": "in 'ja'"}


def test_a_document_that_left_no_summary_failed(s3: Any) -> None:
    # Given a document whose analysis wrote no summary
    job = summary.aggregate(s3, finished_job(s3, [None]))
    # Then it counts as failed, and the job with it
    [item] = job.items
    assert (item.status, item.error, item.errorCause) == (
        "FAILED",
        "NoResult",
        "the document's analysis left no result",
    )
    assert item.path == "d0.pdf"  # the manifest knows which document it was
    assert summary.outcome(JOB, job)["status"] == "FAILED"
    assert summary.outcome(JOB, job)["error"] == "NoResult"


def test_the_summary_shows_the_first_hundred_documents(s3: Any) -> None:
    job = summary.aggregate(s3, finished_job(s3, [completed(i, 1) for i in range(105)], skipped=120))
    assert (job.documents, job.paragraphs, len(job.items), len(job.skipped)) == (105, 105, 100, 100)
    assert [item.index for item in job.items] == list(range(100))


# --- failures -------------------------------------------------------------------------------------------------------


def test_failures_are_explained() -> None:
    plan = a_plan()
    # A deadline (the state's timeout, or the waiter's own) names the deadline
    for error in ("States.Timeout", "TextractDeadlineExceeded"):
        assert failure.explain(error, None, plan) == (
            "TextractDeadlineExceeded",
            "Textract did not finish the document within the deadline of 900 s",
        )
    assert "deadline of ? s" in failure.explain("States.Timeout", "", {})[1]
    # A Lambda error payload is unwrapped to its type and message
    payload = json.dumps({"errorType": "UnsupportedLanguage", "errorMessage": "the document is in 'ja'"})
    assert failure.explain("UnsupportedLanguage", payload, plan) == ("UnsupportedLanguage", "the document is in 'ja'")
    assert failure.explain("Lambda.Unknown", json.dumps({"errorMessage": "boom"}), plan) == ("Lambda.Unknown", "boom")
    # Anything else keeps its cause (or its name), at most 4,000 characters
    assert failure.explain("TextractJobFailed", "Textract job x failed: bad", plan) == (
        "TextractJobFailed",
        "Textract job x failed: bad",
    )
    assert failure.explain("States.TaskFailed", None, plan) == ("States.TaskFailed", "States.TaskFailed")
    assert failure.explain("States.TaskFailed", "[1, 2]", plan) == ("States.TaskFailed", "[1, 2]")
    assert len(failure.explain("X", "y" * 10_000, plan)[1]) == MAX_CAUSE
    assert len(failure.explain("X", json.dumps({"errorMessage": "y" * 10_000}), plan)[1]) == MAX_CAUSE
    # And an abandoned job has nothing to clean up (Textract jobs end on their own)
    cleanup = failure.clean_up_abandoned({"jobId": JOB}, plan)
    assert (cleanup.deleted, cleanup.left) == ([], [])


# --- the Textract job waiter and its SNS resume ---------------------------------------------------------------------

WAITER = TextractJobWaiter()


def clients(status: str, **extra: Any) -> Any:
    return SimpleNamespace(textract=FakeTextract([[]], status=status, **extra))


@pytest.mark.parametrize("status", ["SUCCEEDED", "PARTIAL_SUCCESS"])
def test_a_finished_textract_job_goes_on(status: str) -> None:
    outcome = WAITER.check(clients(status), "tx-1", {})
    assert outcome is not None and outcome.succeeded
    assert outcome.output == {"jobId": "tx-1", "status": status}


def test_a_running_textract_job_keeps_waiting() -> None:
    assert WAITER.check(clients("IN_PROGRESS"), "tx-1", {}) is None


def test_a_failed_or_unknown_textract_job_fails() -> None:
    outcome = WAITER.check(clients("FAILED", StatusMessage="INVALID_IMAGE_TYPE"), "tx-1", {})
    assert outcome is not None and (outcome.error, outcome.cause) == (
        "TextractJobFailed",
        "Textract job tx-1 failed: INVALID_IMAGE_TYPE",
    )
    outcome = WAITER.check(clients("MISSING"), "tx-9", {})
    assert outcome is not None and (outcome.error, outcome.cause) == (
        "TextractJobFailed",
        "Textract job tx-9 does not exist",
    )
    # And other errors reach the caller (its event is retried)
    with pytest.raises(ClientError):
        WAITER.check(clients("THROTTLED"), "tx-1", {})


def textract_message(job_id: str, status: str = "SUCCEEDED") -> dict[str, Any]:
    """Textract's completion message on the job's SNS topic."""
    return {
        "JobId": job_id,
        "Status": status,
        "API": textract_service.NOTIFICATION_API,
        "JobTag": "",
        "Timestamp": 1767268800000,
        "DocumentLocation": {"S3ObjectName": "users/alice/docs/a.pdf", "S3Bucket": DATA},
    }


def test_the_waiter_accepts_textracts_messages_only() -> None:
    assert WAITER.accepts(textract_message("tx-1"))
    assert WAITER.accepts({**textract_message("tx-1"), "API": "StartDocumentTextDetection"})
    assert not WAITER.accepts({"Service": "Amazon S3", "Event": "s3:TestEvent", "Bucket": DATA})
    assert not WAITER.accepts({"AlarmName": "x", "NewStateValue": "ALARM"})
    assert not WAITER.accepts({"JobId": "tx-1"})
    assert not WAITER.accepts({"JobId": "tx-1", "API": "GetDocumentAnalysis"})
    assert (WAITER.detail_type, WAITER.resource_type) == (NOTIFICATION_TYPE, "textract-job")


def test_an_event_is_decided_by_the_jobs_own_status() -> None:
    # Given Textract's message says SUCCEEDED while the job itself is a partial success
    outcome = WAITER.from_event(clients("PARTIAL_SUCCESS"), textract_message("tx-1"), {})
    assert outcome is not None and outcome.output == {"jobId": "tx-1", "status": "PARTIAL_SUCCESS"}
    # And an ERROR message of a job whose status says FAILED fails with Textract's reason
    outcome = WAITER.from_event(clients("FAILED", StatusMessage="bad"), textract_message("tx-1", "ERROR"), {})
    assert outcome is not None and outcome.error == "TextractJobFailed" and "bad" in str(outcome.cause)
    assert WAITER.name_in(textract_message("tx-7")) == "tx-7"


class FakeStepFunctions:
    def __init__(self) -> None:
        self.calls: list[tuple[str, dict[str, Any]]] = []

    def send_task_success(self, **kwargs: Any) -> None:
        self.calls.append(("success", kwargs))

    def send_task_failure(self, **kwargs: Any) -> None:
        self.calls.append(("failure", kwargs))


@pytest.fixture
def store(monkeypatch: pytest.MonkeyPatch) -> Iterator[JobStore]:
    """Given moto DynamoDB with the job table (where waits are stored)."""
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    with mock_aws():
        aws.reset()
        aws.client("dynamodb").create_table(
            TableName=JOBS_TABLE,
            KeySchema=[{"AttributeName": "jobId", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "jobId", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
        yield JobStore(JOBS_TABLE)
    aws.reset()


def wait_on(store: JobStore, textract_job: str, job_id: str = JOB) -> None:
    """The document's wait registered while its Textract job still runs."""
    request = {
        "taskToken": f"token-{textract_job}",
        "jobId": job_id,
        "resource": {"type": "textract-job", "name": textract_job},
        "deadlineSeconds": 900,
    }
    assert waits.register(store, clients("IN_PROGRESS"), FakeStepFunctions(), request) is False


def test_textracts_message_resumes_the_waiting_document(store: JobStore) -> None:
    # Given two documents waiting on their Textract jobs
    wait_on(store, "tx-1")
    wait_on(store, "tx-2", job_id="documents-other")
    sfn = FakeStepFunctions()
    # When tx-1's completion message arrives (twice: SNS delivers at least once)
    message = json.dumps(textract_message("tx-1"))
    assert waits.resume_notification(store, clients("SUCCEEDED"), sfn, message) == [JOB]
    assert waits.resume_notification(store, clients("SUCCEEDED"), sfn, message) == []
    # Then only its execution is resumed, once, with the job's status; the other still waits
    assert sfn.calls == [
        ("success", {"taskToken": "token-tx-1", "output": json.dumps({"jobId": "tx-1", "status": "SUCCEEDED"})})
    ]
    assert store.find_waiting("textract-job#tx-1") is None
    assert store.find_waiting("textract-job#tx-2") is not None


def test_other_notifications_resume_nothing(store: JobStore) -> None:
    wait_on(store, "tx-1")
    sfn = FakeStepFunctions()
    for message in (
        "not json",
        "",
        json.dumps(["tx-1"]),
        json.dumps("tx-1"),
        json.dumps({"Service": "Amazon S3", "Event": "s3:TestEvent"}),
        json.dumps({"JobId": "tx-1", "Status": "SUCCEEDED"}),  # no API: not Textract's
        json.dumps(textract_message("tx-unknown")),  # no one waits on it
    ):
        assert waits.resume_notification(store, clients("SUCCEEDED"), sfn, message) == [], message
    assert sfn.calls == []
    assert store.find_waiting("textract-job#tx-1") is not None


def test_the_resume_function_takes_sns_records(store: JobStore, monkeypatch: pytest.MonkeyPatch) -> None:
    from sagestep_service.platform import handlers, settings
    from tests.unit.conftest import LambdaContext

    # Given two waiting documents and the resume function's settings
    wait_on(store, "tx-1")
    wait_on(store, "tx-2", job_id="documents-other")
    monkeypatch.setenv("JOBS_TABLE_NAME", JOBS_TABLE)
    settings.load.cache_clear()
    sfn = FakeStepFunctions()
    monkeypatch.setattr(
        handlers.aws, "Clients", lambda: SimpleNamespace(textract=clients("FAILED").textract, stepfunctions=sfn)
    )

    def record(message: str) -> dict[str, Any]:
        return {
            "EventSource": "aws:sns",
            "EventVersion": "1.0",
            "EventSubscriptionArn": "arn:aws:sns:us-east-1:123456789012:textract:sub",
            "Sns": {
                "Type": "Notification",
                "MessageId": "m",
                "TopicArn": "arn:aws:sns:us-east-1:123456789012:textract",
                "Subject": None,
                "Message": message,
                "Timestamp": "2026-01-01T12:00:00.000Z",
                "SignatureVersion": "1",
                "Signature": "x",
                "SigningCertUrl": "https://sns.us-east-1.amazonaws.com/cert.pem",
                "UnsubscribeUrl": "https://sns.us-east-1.amazonaws.com/unsubscribe",
                "MessageAttributes": {},
            },
        }

    # When one SNS event brings both jobs' messages and a foreign one
    event = {"Records": [record(json.dumps(textract_message(t, "FAILED"))) for t in ("tx-1", "tx-2")] + [record("hi")]}
    try:
        answer = handlers.resume(event, LambdaContext())
    finally:
        settings.load.cache_clear()
    # Then both documents' executions are resumed, with Textract's failure
    assert answer == {"resumed": [JOB, "documents-other"]}
    assert [(kind, call["taskToken"], call["error"]) for kind, call in sfn.calls] == [
        ("failure", "token-tx-1", "TextractJobFailed"),
        ("failure", "token-tx-2", "TextractJobFailed"),
    ]


# --- one document end to end: the local Textract and Comprehend -----------------------------------------------------


@pytest.fixture(scope="class")
def local(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SimpleNamespace]:
    """Given the local AWS with Textract and Comprehend, the buckets, the paragraphs table, and the sample PDFs
    analysed by Textract (LAYOUT)."""
    from sagestep.demo import documents_samples as samples
    from sagestep.local.emulator import LocalAws
    from sagestep.local.services import ServiceRegistry
    from sagestep.local.services.comprehend import ComprehendEmulator
    from sagestep.local.services.textract import TextractEmulator

    root = tmp_path_factory.mktemp("samples")
    with LocalAws(registry=ServiceRegistry([TextractEmulator, ComprehendEmulator])) as local_aws:
        s3, textract = local_aws.client("s3"), local_aws.client("textract")
        for bucket in (DATA, WORK):
            s3.create_bucket(Bucket=bucket)
        paragraphs_table(local_aws.client("dynamodb"))
        table = boto3.resource("dynamodb", endpoint_url=local_aws.endpoint_url).Table(PARAGRAPHS_TABLE)
        textract_jobs = {}
        for path in samples.write_samples(root)[:2]:  # report.pdf, columns.pdf (the scan's OCR is slow)
            s3.put_object(Bucket=DATA, Key=f"users/alice/docs/{path.name}", Body=path.read_bytes())
            textract_jobs[path.name] = textract.start_document_analysis(
                DocumentLocation={"S3Object": {"Bucket": DATA, "Name": f"users/alice/docs/{path.name}"}},
                FeatureTypes=["LAYOUT"],
            )["JobId"]
        assert local_aws.wait_idle(60)
        yield SimpleNamespace(
            s3=s3,
            textract=textract,
            comprehend=local_aws.client("comprehend"),
            table=table,
            jobs=textract_jobs,
            samples=samples,
        )


class TestAnalysis:
    """``analysis.analyse_document`` after ``results.fetch_blocks``, on the sample PDFs (local Textract, Comprehend)."""

    def analyse(self, local: Any, name: str, index: int, **plan: Any) -> tuple[dict[str, Any], DocumentSummary]:
        from sagestep_service.workflows.documents import analysis

        whole = {**a_plan(), **plan}
        document = DocumentItem(index=index, bucket=DATA, key=f"users/alice/docs/{name}", path=f"q1/{name}")
        fetched = results.fetch_blocks(local.textract, local.s3, whole, document, local.jobs[name])
        return whole, analysis.analyse_document(local.s3, local.comprehend, local.table, JOB, whole, document, fetched)

    def test_a_report_is_analysed_written_and_summarised(self, local: Any) -> None:
        samples = local.samples
        # When the report's Textract results are fetched and the document analysed (its language detected)
        plan, brief = self.analyse(local, "report.pdf", 0)
        # Then its summary tells Textract's job, the language, the technique and what Comprehend found
        assert (brief.status, brief.textractJobId, brief.textractStatus, brief.pages) == (
            "COMPLETED",
            local.jobs["report.pdf"],
            "SUCCEEDED",
            2,
        )
        assert (brief.languageCode, brief.technique, brief.path) == ("en", "layout", "q1/report.pdf")
        assert brief.paragraphs >= 4
        assert brief.sentimentDistribution["POSITIVE"] >= 1 and brief.sentimentDistribution["NEGATIVE"] >= 1
        assert {"Northwind Traders"} <= {entity["text"] for entity in brief.topEntities}
        assert brief.comprehendUnits.get("BatchDetectSentiment", 0) > 0
        # And one row per paragraph, the paragraph across the page break whole, with its sentiment
        rows = paragraphs.page(local.table, JOB, 100, None, 0).items
        assert [row.index for row in rows] == list(range(brief.paragraphs))
        by_text = {row.text: row for row in rows}
        assert by_text[samples.CONTINUED].pages == [1, 2]
        assert by_text[samples.POSITIVE].sentiment == "POSITIVE"
        assert by_text[samples.NEGATIVE].sentiment == "NEGATIVE"
        assert samples.RUNNING_HEADER not in by_text and samples.FOOTER not in by_text
        # And the export in alice's insights folder holds the same paragraphs and what was dropped
        assert brief.exportUri == f"s3://{DATA}/users/alice/insights/{JOB}/q1/report.pdf.json"
        exported = read_json(local.s3, DATA, f"users/alice/insights/{JOB}/q1/report.pdf.json")
        assert (exported["jobId"], exported["document"], exported["languageCode"]) == (JOB, "q1/report.pdf", "en")
        assert [p["text"] for p in exported["paragraphs"]] == [row.text for row in rows]
        assert {line["text"] for line in exported["dropped"]} >= {samples.FOOTER}
        # And the summary the job's finish reads
        stored = read_json(local.s3, WORK, results.summary_key(plan, 0))
        assert DocumentSummary.model_validate(stored) == brief

    def test_a_named_language_and_features_are_used(self, local: Any) -> None:
        # When the columns sample is analysed as English, with only sentiment, by full stops
        _, brief = self.analyse(
            local, "columns.pdf", 1, languageCode="en", features=["sentiment"], segmentation="full-stop"
        )
        assert (brief.languageCode, brief.technique) == ("en", "full-stop")
        assert set(brief.comprehendUnits) == {"BatchDetectSentiment"}
        rows = paragraphs.page(local.table, JOB, 100, None, 1).items
        assert rows and all(row.keyPhrases == [] and row.entities == [] for row in rows)
        assert all(row.sentiment in {"POSITIVE", "NEGATIVE", "NEUTRAL", "MIXED"} for row in rows)

    def test_a_language_neither_handles_is_refused(self, local: Any) -> None:
        from sagestep_service.workflows.documents import analysis
        from tests.unit.textract_blocks import document, paragraph

        # Given a document in Japanese (Comprehend reads it; Textract does not)
        plan = a_plan()
        japanese = paragraph(["これは日本語で書かれた文書です。", "会議は東京で行われました。"], 0.1)
        item = DocumentItem(index=2, bucket=DATA, key="users/alice/docs/ja.pdf", path="ja.pdf")
        local.s3.put_object(
            Bucket=WORK,
            Key=f"{results.blocks_prefix(plan, 2)}00000.json",
            Body=json.dumps(document([japanese])).encode(),
        )
        # When it is analysed with its language detected
        with pytest.raises(analysis.UnsupportedLanguage, match="the document is in 'ja'"):
            analysis.analyse_document(local.s3, local.comprehend, local.table, JOB, plan, item, {"jobId": "tx"})
        # Then nothing of it was written
        assert paragraphs.page(local.table, JOB, 10, None, 2).items == []
        assert keys(local.s3, DATA, f"users/alice/insights/{JOB}/ja") == []

    def test_a_document_without_text_has_no_paragraphs(self, local: Any) -> None:
        from sagestep_service.workflows.documents import analysis

        # Given a document whose pages have no text
        plan = a_plan()
        item = DocumentItem(index=3, bucket=DATA, key="users/alice/docs/blank.pdf", path="blank.pdf")
        local.s3.put_object(
            Bucket=WORK,
            Key=f"{results.blocks_prefix(plan, 3)}00000.json",
            Body=json.dumps([{"BlockType": "PAGE", "Id": "p", "Page": 1}]).encode(),
        )
        brief = analysis.analyse_document(local.s3, local.comprehend, local.table, JOB, plan, item, {"pages": 1})
        # Then it completes with no paragraph and no Comprehend call
        assert (brief.status, brief.paragraphs, brief.languageCode, brief.pages) == ("COMPLETED", 0, None, 1)
        assert sum(brief.comprehendUnits.values()) == 0
        assert read_json(local.s3, DATA, f"users/alice/insights/{JOB}/blank.pdf.json")["paragraphs"] == []
