"""Submitting documents jobs: the request model, ``DocumentsSubmitter`` against moto (S3, DynamoDB, a Step Functions
state machine) and the upload trigger (``trigger``): what is refused before anything is created, the plan the
execution gets, idempotent replays, the events an upload arrives in.

Given/When/Then. The state machine is a stand-in (moto only records executions); the job table has the stack's key.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from moto import mock_aws
from pydantic import ValidationError

from sagestep_service.platform import aws, settings
from sagestep_service.platform.errors import BadRequest, Conflict
from sagestep_service.platform.jobs import JobStore
from sagestep_service.workflows.documents import comprehend_service, textract_service, trigger
from sagestep_service.workflows.documents.models import LANGUAGES, DocumentsRequest
from sagestep_service.workflows.documents.settings import DocumentsSettings
from sagestep_service.workflows.documents.submission import DocumentsSubmitter

DATA = "sagestep-data"
WORK = "sagestep-artifacts"
TABLE = "sagestep-jobs"
TOPIC = "arn:aws:sns:us-east-1:123456789012:textract-completions"
ROLE = "arn:aws:iam::123456789012:role/TextractPublish"
REPORT = f"s3://{DATA}/users/alice/docs/report.pdf"
FOLDER = f"s3://{DATA}/users/alice/docs/"
PDF = b"%PDF-1.4 a small document"


@dataclass
class World:
    s3: Any
    sfn: Any
    store: JobStore
    settings: DocumentsSettings
    state_machine_arn: str

    def submitter(self) -> DocumentsSubmitter:
        return DocumentsSubmitter(self.settings, self.store, self.sfn, self.s3)

    def executions(self) -> list[dict[str, Any]]:
        return list(self.sfn.list_executions(stateMachineArn=self.state_machine_arn)["executions"])

    def execution_input(self, job_id: str) -> dict[str, Any]:
        arn = self.state_machine_arn.replace(":stateMachine:", ":execution:") + f":{job_id}"
        return dict(json.loads(self.sfn.describe_execution(executionArn=arn)["input"]))

    def plan(self, job_id: str) -> dict[str, Any]:
        return dict(self.execution_input(job_id)["plan"])

    def put(self, key: str, body: bytes = PDF, bucket: str = DATA) -> None:
        self.s3.put_object(Bucket=bucket, Key=key, Body=body)


@pytest.fixture
def world(monkeypatch: pytest.MonkeyPatch) -> Iterator[World]:
    """Given moto with the data and artifact buckets, the job table, a documents state machine and the API
    function's settings in the environment (a deadline of 1,800 s); alice and bob each have a report."""
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    with mock_aws():
        aws.reset()
        s3, sfn, dynamodb = aws.client("s3"), aws.client("stepfunctions"), aws.client("dynamodb")
        for bucket in (DATA, WORK, "someone-elses-bucket"):
            s3.create_bucket(Bucket=bucket)
        dynamodb.create_table(
            TableName=TABLE,
            KeySchema=[{"AttributeName": "jobId", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "jobId", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
        arn = sfn.create_state_machine(
            name="documents",
            definition=json.dumps({"StartAt": "Wait", "States": {"Wait": {"Type": "Pass", "End": True}}}),
            roleArn="arn:aws:iam::123456789012:role/states",
        )["stateMachineArn"]
        environment = {
            "JOBS_TABLE_NAME": TABLE,
            "DATA_BUCKET": DATA,
            "ARTIFACT_BUCKET": WORK,
            "PARAGRAPHS_TABLE_NAME": "sagestep-paragraphs",
            "DOCUMENTS_STATE_MACHINE_ARN": arn,
            "TEXTRACT_TOPIC_ARN": TOPIC,
            "TEXTRACT_ROLE_ARN": ROLE,
            "DOCUMENTS_DEADLINE_SECONDS": "1800",
        }
        for name, value in environment.items():
            monkeypatch.setenv(name, value)
        settings.load.cache_clear()
        for key in ("users/alice/docs/report.pdf", "users/bob/docs/report.pdf"):
            s3.put_object(Bucket=DATA, Key=key, Body=PDF)
        yield World(s3, sfn, JobStore(TABLE), settings.load(DocumentsSettings), arn)
    settings.load.cache_clear()
    aws.reset()


def request(**fields: Any) -> DocumentsRequest:
    body: dict[str, Any] = {"documentUri": REPORT}
    body.update(fields)
    return DocumentsRequest.model_validate({k: v for k, v in body.items() if v is not None})


def problems(**fields: Any) -> dict[str, str]:
    """The fields a request body is refused for, named as the API names them (a model-level problem: ``body``)."""
    body: dict[str, Any] = {"documentUri": REPORT}
    body.update(fields)
    with pytest.raises(ValidationError) as error:
        DocumentsRequest.model_validate({k: v for k, v in body.items() if v is not None})
    return {
        (".".join(str(part) for part in e["loc"]) or "body"): str(e["msg"]).removeprefix("Value error, ")
        for e in error.value.errors()
    }


def refused(world: World, owner: str, req: DocumentsRequest, key: str | None = None) -> BadRequest:
    with pytest.raises(BadRequest) as error:
        world.submitter().submit(owner, req, key)
    assert world.executions() == []
    assert world.store.get(f"no-such-{owner}") is None
    return error.value


# --- the request ----------------------------------------------------------------------------------------------------


class TestRequest:
    def test_exactly_one_of_document_and_folder(self) -> None:
        # Given neither or both sources: refused as a problem of the whole body
        message = "give exactly one of documentUri and folderUri"
        assert problems(documentUri=None) == {"body": message}
        assert problems(folderUri=FOLDER) == {"body": message}
        # And a source must be an s3:// URI
        for uri in ("users/alice/docs/report.pdf", f"https://{DATA}/x.pdf", "s3://UPPER/x.pdf", f"s3://{DATA}"):
            assert problems(documentUri=uri) == {"documentUri": "must be an s3://bucket/key URI"}, uri
        assert "folderUri" in problems(documentUri=None, folderUri="folder/")
        # And unknown fields are refused by name
        assert "inputUri" in problems(inputUri=FOLDER)

    def test_a_folder_gets_its_trailing_slash(self) -> None:
        # When a folder is given without (or with) its slash, surrounded by blanks
        assert request(documentUri=None, folderUri=f"  s3://{DATA}/users/alice/docs ").folderUri == FOLDER
        assert request(documentUri=None, folderUri=FOLDER).folderUri == FOLDER
        # Then a document keeps its key as it is
        assert request().documentUri == REPORT

    def test_languages_are_those_both_services_handle(self) -> None:
        # Given the languages of Textract and of Comprehend: only their intersection is offered
        both = sorted(textract_service.LANGUAGES & comprehend_service.LANGUAGES)
        assert LANGUAGES == both == ["de", "en", "es", "fr", "it", "pt"]
        for code in both:
            assert request(languageCode=code).languageCode == code
        # When a language only Comprehend handles (Japanese, Arabic), or none, or a differently spelt one is named
        for code in ("ja", "ar", "zh-TW", "xx", "EN"):
            message = problems(languageCode=code)["languageCode"]
            assert message.startswith(f"{code!r} is not a language both Textract and Comprehend handle"), message
            assert "de, en, es, fr, it, pt" in message
        # Then absent means detected
        assert request().languageCode is None

    def test_features_are_distinct_and_known(self) -> None:
        assert request().features == ["sentiment", "keyPhrases", "entities"]
        assert request(features=["entities"]).features == ["entities"]
        assert problems(features=["sentiment", "entities", "sentiment"]) == {"features": "lists a feature twice"}
        assert "features" in problems(features=[])
        assert "features.0" in problems(features=["syntax"])

    def test_segmentation_and_deadline_values(self) -> None:
        assert request().segmentation == "auto"
        for technique in ("auto", "layout", "font-size", "indentation", "line-spacing", "full-stop"):
            assert request(segmentation=technique).segmentation == technique
        assert "segmentation" in problems(segmentation="paragraphs")
        assert "segmentation" in problems(segmentation="Layout")
        assert request(deadlineSeconds=10).deadlineSeconds == 10
        assert "deadlineSeconds" in problems(deadlineSeconds=9)
        assert request().tables is False


# --- submission -----------------------------------------------------------------------------------------------------


class TestSubmitter:
    def test_a_document_is_planned_and_started(self, world: World) -> None:
        # When alice submits her report with tables and a deadline shorter than the deployment's
        submission = world.submitter().submit("alice", request(tables=True, deadlineSeconds=600), None)
        # Then the job is created and its execution started, named like the job
        job_id = str(submission.record["jobId"])
        assert submission.created and job_id.startswith("documents-")
        assert [e["name"] for e in world.executions()] == [job_id]
        record = world.store.get(job_id)
        assert record is not None
        assert (record["owner"], record["kind"], record["status"]) == ("alice", "documents", "SUBMITTED")
        assert world.execution_input(job_id)["mode"] == "analyse"
        # And its plan names the source, its own work area, the owner's insights folder and Textract's settings
        assert world.plan(job_id) == {
            "source": {"bucket": DATA, "key": "users/alice/docs/report.pdf", "folder": False},
            "work": {"bucket": WORK, "prefix": f"jobs/{job_id}/"},
            "output": {"bucket": DATA, "prefix": f"users/alice/insights/{job_id}/"},
            "segmentation": "auto",
            "languageCode": None,
            "features": ["sentiment", "keyPhrases", "entities"],
            "featureTypes": ["LAYOUT", "TABLES"],
            "notification": {"SNSTopicArn": TOPIC, "RoleArn": ROLE},
            "deadlineSeconds": 600,
        }

    def test_a_folder_without_tables_and_a_longer_deadline(self, world: World) -> None:
        # When a folder is submitted without tables, asking a longer deadline than the deployment's (1,800 s)
        req = request(documentUri=None, folderUri=FOLDER, deadlineSeconds=99_999, languageCode="de")
        job_id = str(world.submitter().submit("alice", req, None).record["jobId"])
        plan = world.plan(job_id)
        # Then only LAYOUT is asked for, and the deployment's deadline is kept
        assert plan["source"] == {"bucket": DATA, "key": "users/alice/docs/", "folder": True}
        assert (plan["featureTypes"], plan["deadlineSeconds"], plan["languageCode"]) == (["LAYOUT"], 1800, "de")
        # And without a deadline the deployment's applies
        other = world.submitter().submit("alice", request(features=["sentiment"]), None)
        assert world.plan(str(other.record["jobId"]))["deadlineSeconds"] == 1800
        assert world.plan(str(other.record["jobId"]))["features"] == ["sentiment"]

    def test_another_users_document_or_folder_is_refused_naming_the_field(self, world: World) -> None:
        # Given bob's report and folder, a prefix that only starts like alice's, and another bucket
        assert refused(world, "alice", request(documentUri=f"s3://{DATA}/users/bob/docs/report.pdf")).field == (
            "documentUri"
        )
        error = refused(world, "alice", request(documentUri=None, folderUri=f"s3://{DATA}/users/bob/docs/"))
        assert (error.field, error.problem) == ("folderUri", f"must be under s3://{DATA}/users/alice/")
        assert refused(world, "ali", request()).field == "documentUri"  # users/alice/ is not under users/ali/
        assert refused(world, "alice", request(documentUri="s3://someone-elses-bucket/users/alice/x.pdf")).field == (
            "documentUri"
        )
        assert world.store.get("x") is None

    def test_a_document_textract_cannot_read_is_refused(self, world: World, monkeypatch: pytest.MonkeyPatch) -> None:
        # Given a missing file, a text file, an empty PDF, and (the image limit made small) images around it
        monkeypatch.setattr(textract_service, "MAX_IMAGE_BYTES", 100)
        world.put("users/alice/docs/notes.txt", b"hello")
        world.put("users/alice/docs/empty.pdf", b"")
        world.put("users/alice/docs/big.png", b"x" * 101)
        world.put("users/alice/docs/fits.png", b"x" * 100)
        world.put("users/alice/docs/big.pdf", b"x" * 101)  # a PDF may be far larger than an image

        def problem(name: str) -> str:
            error = refused(world, "alice", request(documentUri=f"s3://{DATA}/users/alice/docs/{name}"))
            assert error.field == "documentUri"
            return error.problem

        # Then each is refused with its reason, before anything is created
        assert problem("missing.pdf") == "no such file"
        assert problem("notes.txt").startswith("not a document Textract reads (supported: .jpeg, .jpg, .pdf, .png")
        assert problem("empty.pdf") == "the file is empty"
        assert problem("big.png") == "101 bytes: Textract takes image/png files of at most 100 bytes"
        # And the image at the limit, the larger PDF and an upper-case extension are taken
        for name in ("fits.png", "big.pdf"):
            assert world.submitter().submit("alice", request(documentUri=f"s3://{DATA}/users/alice/docs/{name}"), None)
        world.put("users/alice/docs/SCAN.JPG", b"jpeg")
        assert world.submitter().submit("alice", request(documentUri=f"s3://{DATA}/users/alice/docs/SCAN.JPG"), None)
        assert len(world.executions()) == 3

    def test_a_folder_without_documents_is_refused(self, world: World) -> None:
        # Given an empty (missing) folder, and a folder of files Textract does not read (and a folder marker)
        world.put("users/alice/texts/", b"")
        world.put("users/alice/texts/a.txt", b"a")
        world.put("users/alice/texts/sub/b.docx", b"b")
        world.put("users/alice/texts/empty.pdf", b"")
        error = refused(world, "alice", request(documentUri=None, folderUri=f"s3://{DATA}/users/alice/nothing/"))
        assert (error.field, error.problem) == ("folderUri", "the folder is empty (or does not exist)")
        error = refused(world, "alice", request(documentUri=None, folderUri=f"s3://{DATA}/users/alice/texts"))
        assert error.field == "folderUri"
        assert error.problem.startswith("none of the folder's 3 files is a document Textract reads (.jpeg, .jpg")
        # When one readable document joins them, the folder is taken
        world.put("users/alice/texts/sub/c.pdf")
        job = world.submitter().submit(
            "alice", request(documentUri=None, folderUri=f"s3://{DATA}/users/alice/texts"), None
        )
        assert job.created

    def test_a_replay_finds_the_same_job(self, world: World) -> None:
        # Given a submission with an idempotency key
        first = world.submitter().submit("alice", request(), "key-1")
        # When it is replayed (the same body), the same job answers and no second execution starts
        again = world.submitter().submit("alice", request(), "key-1")
        assert (again.created, again.record["jobId"]) == (False, first.record["jobId"])
        assert len(world.executions()) == 1
        # And the key reused for another request, or by another user, is not that job
        with pytest.raises(Conflict):
            world.submitter().submit("alice", request(tables=True), "key-1")
        bobs = world.submitter().submit("bob", request(documentUri=f"s3://{DATA}/users/bob/docs/report.pdf"), "key-1")
        assert bobs.created and bobs.record["jobId"] != first.record["jobId"]
        # And without a key each submission is its own job
        assert world.submitter().submit("alice", request(), None).record["jobId"] != first.record["jobId"]
        assert len(world.executions()) == 3


# --- the upload trigger ---------------------------------------------------------------------------------------------


def object_created(key: str, bucket: str = DATA, etag: str = "e1", version: str = "") -> dict[str, Any]:
    """S3's EventBridge "Object Created" event (one object)."""
    detail: dict[str, Any] = {
        "version": "0",
        "bucket": {"name": bucket},
        "object": {"key": key, "size": 10, "etag": etag, "sequencer": "00"},
        "reason": "PutObject",
    }
    if version:
        detail["object"]["version-id"] = version
    return {"version": "0", "detail-type": "Object Created", "source": "aws.s3", "detail": detail}


def notification(*keys: str, bucket: str = DATA) -> dict[str, Any]:
    """An S3 event notification (keys URL-encoded as S3 sends them)."""
    return {
        "Records": [
            {
                "eventSource": "aws:s3",
                "eventName": "ObjectCreated:Put",
                "s3": {"bucket": {"name": bucket}, "object": {"key": key, "eTag": f"etag-{i}", "versionId": f"v{i}"}},
            }
            for i, key in enumerate(keys)
        ]
    }


class TestTrigger:
    def test_the_objects_an_event_announces(self) -> None:
        # Given EventBridge's event: its one object
        assert trigger.uploads_in(object_created("users/a/documents/x.pdf", etag="abc", version="v9")) == [
            trigger.Uploaded(DATA, "users/a/documents/x.pdf", "abc", "v9")
        ]
        # And an S3 notification: each of its records (keys as they arrived: decoded later)
        assert trigger.uploads_in(notification("users/a/documents/x.pdf", "users/a/documents/y+z.pdf")) == [
            trigger.Uploaded(DATA, "users/a/documents/x.pdf", "etag-0", "v0"),
            trigger.Uploaded(DATA, "users/a/documents/y+z.pdf", "etag-1", "v1"),
        ]
        # And an event without an object (or a record of another source) announces nothing
        assert trigger.uploads_in({"detail-type": "Scheduled Event", "detail": {}}) == []
        assert trigger.uploads_in({"Records": [{"eventSource": "aws:sqs", "body": "{}"}]}) == []

    def test_an_upload_under_documents_starts_one_job_of_its_owner(self, world: World) -> None:
        # Given a PDF uploaded under alice's documents/ folder
        world.put("users/alice/documents/q1/report.pdf")
        event = object_created("users/alice/documents/q1/report.pdf")
        # When its event arrives (twice: EventBridge delivers at least once)
        [job_id] = trigger.submit_uploads(event)
        assert trigger.submit_uploads(event) == [job_id]
        # Then one job of alice's analyses that document
        assert [e["name"] for e in world.executions()] == [job_id]
        record = world.store.get(job_id)
        assert record is not None and record["owner"] == "alice"
        assert world.plan(job_id)["source"] == {
            "bucket": DATA,
            "key": "users/alice/documents/q1/report.pdf",
            "folder": False,
        }
        assert world.plan(job_id)["output"]["prefix"] == f"users/alice/insights/{job_id}/"
        # And a new version of the file (another ETag) is another job
        assert trigger.submit_uploads(object_created("users/alice/documents/q1/report.pdf", etag="e2")) != [job_id]

    def test_uploads_that_are_no_documents_job_are_ignored(self, world: World) -> None:
        # Given a PDF outside documents/, a text file and a folder marker under it, and a PDF in another bucket
        world.put("users/alice/docs/elsewhere.pdf")
        world.put("users/alice/documents/notes.txt", b"notes")
        world.put("users/alice/documents/sub/", b"")
        world.put("users/alice/documents/x.pdf", bucket="someone-elses-bucket")
        events = [
            object_created("users/alice/docs/elsewhere.pdf"),
            object_created("users/alice/documents/notes.txt"),
            object_created("users/alice/documents/sub/"),
            object_created("users/alice/documents/x.pdf", bucket="someone-elses-bucket"),
            object_created("users/alice/documents/gone.pdf"),  # deleted before its event came
            object_created("documents/x.pdf"),
        ]
        # Then none starts a job
        assert [trigger.submit_uploads(event) for event in events] == [[]] * len(events)
        assert world.executions() == []

    def test_a_url_encoded_key_is_found(self, world: World) -> None:
        # Given files whose names have a space and a plus, announced URL-encoded in one notification
        world.put("users/alice/documents/a b.pdf")
        world.put("users/alice/documents/c+d.pdf")
        world.put("users/alice/documents/é.pdf")
        started = trigger.submit_uploads(
            notification(
                "users/alice/documents/a+b.pdf", "users/alice/documents/c%2Bd.pdf", "users/alice/documents/%C3%A9.pdf"
            )
        )
        # Then each record starts the job of its real file
        assert [world.plan(job_id)["source"]["key"] for job_id in started] == [
            "users/alice/documents/a b.pdf",
            "users/alice/documents/c+d.pdf",
            "users/alice/documents/é.pdf",
        ]

    def test_an_unreadable_upload_does_not_stop_the_others(self, world: World) -> None:
        # Given a notification of an empty PDF then a good one (an empty file is refused by the submitter)
        world.put("users/alice/documents/empty.pdf", b"")
        world.put("users/alice/documents/good.pdf")
        # When it is handled, the empty file is skipped (retrying it would fail again) and the good one starts
        started = trigger.submit_uploads(
            notification("users/alice/documents/empty.pdf", "users/alice/documents/good.pdf")
        )
        assert [world.plan(job_id)["source"]["key"] for job_id in started] == ["users/alice/documents/good.pdf"]
