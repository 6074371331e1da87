"""Submitting translation jobs: the request model, ``TranslationSubmitter`` against moto (S3, DynamoDB, a Step
Functions state machine) and the SQS entry (``queue``): what is refused before anything is created, the plan the
execution gets, idempotent replays.

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
from sagestep_service.workflows.translation import queue
from sagestep_service.workflows.translation.models import QueueMessage, TranslationRequest
from sagestep_service.workflows.translation.settings import TranslationSettings
from sagestep_service.workflows.translation.submission import TranslationSubmitter

DATA = "sagestep-data"
WORK = "sagestep-artifacts"
TABLE = "sagestep-jobs"
ROLE = "arn:aws:iam::123456789012:role/TranslateAccess"
KEY = "arn:aws:kms:us-east-1:123456789012:key/data"
DOCS = f"s3://{DATA}/users/alice/docs/"


@dataclass
class World:
    s3: Any
    sfn: Any
    store: JobStore
    settings: TranslationSettings
    state_machine_arn: str

    def submitter(self) -> TranslationSubmitter:
        return TranslationSubmitter(self.settings, self.store, self.sfn, self.s3)

    def executions(self) -> list[dict[str, Any]]:
        return list(self.sfn.list_executions(stateMachineArn=self.state_machine_arn)["executions"])

    def plan(self, job_id: str) -> dict[str, Any]:
        arn = self.state_machine_arn.replace(":stateMachine:", ":execution:") + f":{job_id}"
        return dict(json.loads(self.sfn.describe_execution(executionArn=arn)["input"])["plan"])


@pytest.fixture
def world(monkeypatch: pytest.MonkeyPatch) -> Iterator[World]:
    """Given moto with the data and artifact buckets, the job table, a translation state machine and the API
    function's settings in the environment; alice has a folder of documents."""
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    with mock_aws():
        aws.reset()
        s3, sfn, dynamodb = aws.client("s3"), aws.client("stepfunctions"), aws.client("dynamodb")
        for bucket in (DATA, WORK):
            s3.create_bucket(Bucket=bucket)
        dynamodb.create_table(
            TableName=TABLE,
            KeySchema=[{"AttributeName": "jobId", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "jobId", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
        arn = sfn.create_state_machine(
            name="translation",
            definition=json.dumps({"StartAt": "Wait", "States": {"Wait": {"Type": "Pass", "End": True}}}),
            roleArn="arn:aws:iam::123456789012:role/states",
        )["stateMachineArn"]
        environment = {
            "JOBS_TABLE_NAME": TABLE,
            "DATA_BUCKET": DATA,
            "ARTIFACT_BUCKET": WORK,
            "TRANSLATION_STATE_MACHINE_ARN": arn,
            "TRANSLATE_ROLE_ARN": ROLE,
            "DATA_KEY_ARN": KEY,
            "TRANSLATION_DEADLINE_SECONDS": "3600",
            "TRANSLATION_QUEUE_PREFIXES": "queue/, shared/in/",
        }
        for name, value in environment.items():
            monkeypatch.setenv(name, value)
        settings.load.cache_clear()
        for key in ("users/alice/docs/a.txt", "users/alice/docs/sub/b.docx", "users/bob/docs/a.txt"):
            s3.put_object(Bucket=DATA, Key=key, Body=b"hello")
        yield World(s3, sfn, JobStore(TABLE), settings.load(TranslationSettings), arn)
    settings.load.cache_clear()
    aws.reset()


def request(**fields: Any) -> TranslationRequest:
    body: dict[str, Any] = {"inputUri": DOCS, "sourceLanguageCode": "en", "targetLanguageCodes": ["de", "fr"]}
    body.update(fields)
    return TranslationRequest.model_validate(body)


def problems(**fields: Any) -> dict[str, str]:
    """The fields a request body is refused for, with their messages."""
    body: dict[str, Any] = {"inputUri": DOCS, "sourceLanguageCode": "en", "targetLanguageCodes": ["de"]}
    body.update(fields)
    with pytest.raises(ValidationError) as error:
        TranslationRequest.model_validate(body)
    return {".".join(str(part) for part in e["loc"]): e["msg"] for e in error.value.errors()}


def refused(world: World, owner: str, req: TranslationRequest, key: str | None = None) -> BadRequest:
    with pytest.raises(BadRequest) as error:
        world.submitter().submit(owner, req, key)
    assert world.executions() == []
    return error.value


# --- the request ----------------------------------------------------------------------------------------------------


class TestRequest:
    def test_languages_must_be_translates(self) -> None:
        assert (
            "is not a language code Amazon Translate supports or 'auto'"
            in problems(sourceLanguageCode="xx")["sourceLanguageCode"]
        )
        assert "'auto' is not a language code" in problems(targetLanguageCodes=["auto"])["targetLanguageCodes"]
        assert "'EN' is not" in problems(targetLanguageCodes=["EN"])["targetLanguageCodes"]  # codes are exact
        # And auto detection, and the regional codes, are accepted
        assert request(sourceLanguageCode="auto", targetLanguageCodes=["zh-TW", "fr-CA", "pt-PT"]).sourceLanguageCode

    def test_targets_are_distinct_and_not_the_source(self) -> None:
        assert "lists a language twice" in problems(targetLanguageCodes=["de", "fr", "de"])["targetLanguageCodes"]
        assert "includes the source language" in problems(targetLanguageCodes=["de", "en"])["targetLanguageCodes"]
        assert "targetLanguageCodes" in problems(targetLanguageCodes=[])
        eleven = ["de", "fr", "es", "it", "ja", "ko", "nl", "pl", "pt", "ru", "sv"]
        assert "targetLanguageCodes" in problems(targetLanguageCodes=eleven)
        assert len(request(targetLanguageCodes=eleven[:10]).targetLanguageCodes) == 10

    def test_formality_only_for_languages_that_have_it(self) -> None:
        # Given formality for German and Japanese: accepted, and passed to Translate as its Settings
        formal = request(targetLanguageCodes=["de", "ja"], settings={"formality": "FORMAL", "profanity": "MASK"})
        assert formal.settings.as_translate() == {"Formality": "FORMAL", "Profanity": "MASK"}
        assert request().settings.as_translate() == {}
        # When a target has no formality setting, the request is refused naming it
        message = problems(targetLanguageCodes=["de", "ru", "sv"], settings={"formality": "INFORMAL"})["settings"]
        assert "formality is not available for ru, sv" in message
        assert "settings.formality" in problems(settings={"formality": "POLITE"})

    def test_url_expiry_bounds(self) -> None:
        assert request().urlExpirySeconds == 3600
        assert request(urlExpirySeconds=60).urlExpirySeconds == 60
        assert request(urlExpirySeconds=3600).urlExpirySeconds == 3600
        assert "urlExpirySeconds" in problems(urlExpirySeconds=59)
        assert "urlExpirySeconds" in problems(urlExpirySeconds=3601)
        assert "deadlineSeconds" in problems(deadlineSeconds=9)

    def test_folders_are_s3_uris_normalised_with_a_trailing_slash(self) -> None:
        normalised = request(inputUri=f"  s3://{DATA}/users/alice/docs ", outputUri=f"s3://{DATA}/users/alice/out")
        assert (normalised.inputUri, normalised.outputUri) == (DOCS, f"s3://{DATA}/users/alice/out/")
        assert request(inputUri=DOCS).inputUri == DOCS
        for uri in ("users/alice/docs/", f"https://{DATA}/users/alice/", f"s3://{DATA}", "s3://UPPER/x/"):
            assert problems(inputUri=uri) == {"inputUri": "Value error, must be an s3://bucket/prefix/ URI"}, uri
        assert "outputUri" in problems(outputUri="elsewhere/")

    def test_unknown_fields_and_terminologies(self) -> None:
        assert "targetLanguage" in problems(targetLanguage="de")
        assert request(terminologyNames=["brand-terms.v2"]).terminologyNames == ["brand-terms.v2"]
        assert "is not a terminology name" in problems(terminologyNames=["bad name"])["terminologyNames"]
        assert "terminologyNames" in problems(terminologyNames=["a", "b"])


# --- submission -----------------------------------------------------------------------------------------------------


class TestSubmitter:
    def test_a_folder_is_planned_and_started(self, world: World) -> None:
        # When alice submits her folder without an output folder
        submission = world.submitter().submit("alice", request(deadlineSeconds=100), None)
        # Then the job is created and its execution started, named like the job
        job_id = str(submission.record["jobId"])
        assert submission.created and job_id.startswith("translation-")
        assert [e["name"] for e in world.executions()] == [job_id]
        record = world.store.get(job_id)
        assert record is not None and (record["owner"], record["kind"], record["status"]) == (
            "alice",
            "translation",
            "SUBMITTED",
        )
        # And its plan names the folder, the default output, its own work area and Translate's settings
        assert world.plan(job_id) == {
            "input": {"bucket": DATA, "prefix": "users/alice/docs/"},
            "output": {"bucket": DATA, "prefix": f"users/alice/translations/{job_id}/"},
            "work": {"bucket": WORK, "prefix": f"jobs/{job_id}/"},
            "translation": {
                "SourceLanguageCode": "en",
                "TargetLanguageCodes": ["de", "fr"],
                "TerminologyNames": [],
                "Settings": {},
                "DataAccessRoleArn": ROLE,
                "KmsKeyArn": KEY,
            },
            "accountId": "123456789012",
            "deadlineSeconds": 100,
        }

    @pytest.mark.parametrize(("asked", "planned"), [(None, 3600), (100, 100), (3600, 3600), (99_999, 3600)])
    def test_the_deadline_is_at_most_the_deployments(self, world: World, asked: int | None, planned: int) -> None:
        job_id = world.submitter().submit("alice", request(deadlineSeconds=asked), None).record["jobId"]
        assert world.plan(job_id)["deadlineSeconds"] == planned

    def test_a_given_output_folder_is_used(self, world: World) -> None:
        # (a sibling whose name starts like the input folder's is not inside it)
        for output in ("translated", "do", "docs2"):
            req = request(outputUri=f"s3://{DATA}/users/alice/{output}")
            job_id = world.submitter().submit("alice", req, None).record["jobId"]
            assert world.plan(job_id)["output"] == {"bucket": DATA, "prefix": f"users/alice/{output}/"}

    def test_an_empty_or_missing_folder_is_refused(self, world: World) -> None:
        world.s3.put_object(Bucket=DATA, Key="users/alice/empty/", Body=b"")  # only a folder marker
        for folder in ("empty/", "nothing/here/"):
            error = refused(world, "alice", request(inputUri=f"s3://{DATA}/users/alice/{folder}"))
            assert (error.field, error.problem) == ("inputUri", "the folder is empty (or does not exist)")

    def test_a_folder_of_nothing_translate_reads_is_refused(self, world: World) -> None:
        # Given a folder of a PDF, an image and an empty text file
        for name, body in (("a.pdf", b"%PDF"), ("b.png", b"PNG"), ("c.txt", b"")):
            world.s3.put_object(Bucket=DATA, Key=f"users/alice/scans/{name}", Body=body)
        # Then it is refused, saying what Translate reads
        error = refused(world, "alice", request(inputUri=f"s3://{DATA}/users/alice/scans/"))
        assert error.field == "inputUri"
        assert error.problem.startswith("none of the folder's 3 files is one Translate reads (.txt, .html")

    def test_another_users_folder_is_refused_without_looking_at_it(self, world: World) -> None:
        for uri in (f"s3://{DATA}/users/bob/docs/", f"s3://{DATA}/users/alice2/", f"s3://{DATA}/", "s3://other/x/"):
            error = refused(world, "alice", request(inputUri=uri))
            assert (error.field, error.problem) == ("inputUri", f"must be a folder under s3://{DATA}/users/alice/")
        error = refused(world, "alice", request(outputUri=f"s3://{DATA}/users/bob/out/"))
        assert error.field == "outputUri"

    @pytest.mark.parametrize("output", [f"{DOCS}out/", DOCS, f"s3://{DATA}/users/alice/"])
    def test_output_inside_the_input_or_containing_it_is_refused(self, world: World, output: str) -> None:
        error = refused(world, "alice", request(outputUri=output))
        assert (error.field, error.problem) == ("outputUri", "must not lie inside the input folder, nor contain it")

    def test_a_replay_finds_the_job_and_starts_nothing(self, world: World) -> None:
        # Given a job submitted with an Idempotency-Key
        first = world.submitter().submit("alice", request(), "key-1")
        # When the same request is submitted again with the key
        again = world.submitter().submit("alice", request(), "key-1")
        # Then it is the same job, and one execution runs
        assert (again.created, again.record["jobId"]) == (False, first.record["jobId"])
        assert len(world.executions()) == 1
        # And the key with another request is a conflict; another user's same key is their own job
        with pytest.raises(Conflict):
            world.submitter().submit("alice", request(targetLanguageCodes=["es"]), "key-1")
        bobs = world.submitter().submit("bob", request(inputUri=f"s3://{DATA}/users/bob/docs/"), "key-1")
        assert bobs.created and bobs.record["jobId"] != first.record["jobId"]
        # And without a key each submission is a new job
        assert world.submitter().submit("alice", request(), None).record["jobId"] != first.record["jobId"]
        assert len(world.executions()) == 3

    def test_a_replay_after_the_folder_was_emptied_still_finds_the_job(self, world: World) -> None:
        # Given a job whose execution started (its first status write), then its folder emptied
        first = world.submitter().submit("alice", request(), "key-1")
        world.store.update(first.record["jobId"], status="STAGING")
        world.s3.delete_objects(
            Bucket=DATA, Delete={"Objects": [{"Key": "users/alice/docs/a.txt"}, {"Key": "users/alice/docs/sub/b.docx"}]}
        )
        # When the same submission comes again (a redelivered queue message), Then it finds the job, not a 400
        replay = world.submitter().submit("alice", request(), "key-1")
        assert replay.record["jobId"] == first.record["jobId"] and not replay.created
        assert len(world.executions()) == 1


# --- the SQS entry --------------------------------------------------------------------------------------------------


def message(**fields: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "JobName": "manuals",
        "InputBucket": DATA,
        "InputS3Uri": "queue/manuals/",
        "OutputBucket": DATA,
        "SourceLanguageCode": "en",
        "TargetLanguageCodes": ["de"],
    }
    body.update(fields)
    return body


class TestQueue:
    @pytest.mark.parametrize(
        ("location", "uri"),
        [
            ("queue/manuals/", f"s3://{DATA}/queue/manuals/"),
            ("/queue/manuals", f"s3://{DATA}/queue/manuals/"),
            ("s3://elsewhere/queue/manuals/", "s3://elsewhere/queue/manuals/"),
            ("queue/my%20manuals/caf%C3%A9/", f"s3://{DATA}/queue/my manuals/café/"),
            ("queue/my+manuals/C%2B%2B/", f"s3://{DATA}/queue/my manuals/C++/"),  # as S3 events encode keys
            ("s3%3A%2F%2Felsewhere%2Fqueue%2F", "s3://elsewhere/queue/"),
        ],
    )
    def test_a_message_becomes_a_request(self, location: str, uri: str) -> None:
        req = queue.to_request(QueueMessage.model_validate(message(InputS3Uri=location)))
        assert (req.inputUri, req.outputUri) == (uri, None)
        assert (req.sourceLanguageCode, req.targetLanguageCodes) == ("en", ["de"])
        out = queue.to_request(QueueMessage.model_validate(message(OutputS3Uri="queue/out")))
        assert out.outputUri == f"s3://{DATA}/queue/out/"

    def test_the_idempotency_key_is_the_messages_content(self) -> None:
        body = message()
        same = json.dumps(dict(reversed(list(body.items()))), indent=2)
        assert queue.idempotency_key(json.dumps(body)) == queue.idempotency_key(same)
        assert queue.idempotency_key(json.dumps(body)).startswith("sqs-")
        assert queue.idempotency_key(json.dumps(body)) != queue.idempotency_key(json.dumps(message(JobName="other")))

    def test_a_message_starts_one_job_of_the_queue_owner(self, world: World) -> None:
        # Given a folder under an allowed prefix
        world.s3.put_object(Bucket=DATA, Key="queue/manuals/a.txt", Body=b"hello")
        body = json.dumps(message())
        # When the message is handled, and redelivered
        job_id = queue.submit_message("m-1", body)
        again = queue.submit_message("m-1-redelivered", json.dumps(json.loads(body), indent=1))
        # Then one job of the queue owner runs, writing under the first allowed prefix
        assert again == job_id and len(world.executions()) == 1
        record = world.store.get(job_id)
        assert record is not None and record["owner"] == "queue"
        assert world.plan(job_id)["output"] == {"bucket": DATA, "prefix": f"queue/translations/{job_id}/"}
        # And a folder under the second allowed prefix is accepted too
        world.s3.put_object(Bucket=DATA, Key="shared/in/x/a.html", Body=b"<p>hello</p>")
        assert queue.submit_message("m-2", json.dumps(message(InputS3Uri="shared/in/x/"))) != job_id

    @pytest.mark.parametrize(
        ("fields", "field"),
        [
            ({"InputS3Uri": "users/alice/docs/"}, "inputUri"),
            ({"InputBucket": "elsewhere"}, "inputUri"),
            ({"InputS3Uri": f"s3://{DATA}/queued/"}, "inputUri"),
            ({"OutputS3Uri": "users/alice/out/"}, "outputUri"),
            ({"OutputBucket": "elsewhere", "OutputS3Uri": "queue/out/"}, "outputUri"),
        ],
    )
    def test_a_folder_outside_the_allowed_prefixes_is_refused(
        self, world: World, fields: dict[str, Any], field: str
    ) -> None:
        world.s3.put_object(Bucket=DATA, Key="queue/manuals/a.txt", Body=b"hello")
        with pytest.raises(BadRequest) as error:
            queue.submit_message("m-1", json.dumps(message(**fields)))
        assert error.value.field == field
        assert error.value.problem.startswith(f"must be a folder under s3://{DATA}/queue/ or s3://{DATA}/shared/in/")
        assert world.executions() == []

    @pytest.mark.parametrize(
        "body",
        [
            "not json",
            json.dumps({"JobName": "x"}),
            json.dumps(message(TargetLanguageCodes=["xx"])),
            json.dumps(message(InputS3Uri="queue/manuals/", TargetLanguageCodes=["en"])),
            json.dumps(message(OutputBucket="elsewhere")),
        ],
    )
    def test_a_message_that_can_never_start_a_job_is_invalid(self, world: World, body: str) -> None:
        with pytest.raises(queue.InvalidMessage, match=r"^message m-1: "):
            queue.submit_message("m-1", body)
        assert world.executions() == []
