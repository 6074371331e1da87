"""The translation workflow as its users see it: a folder of mixed documents through the local API (and through
the reference's SQS entry), translated into two languages and put back in the folder's structure per language.

The local Translate really opens and rewrites each document (a visible pseudo-translation: no MT model installs
here); the failure and retry paths of the state machine are in ``tests/statemachines/test_translation_paths.py``.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from sagestep.client import BadRequestError, NotFoundError
from sagestep.demo.translation import check_docx
from sagestep.demo.translation_samples import write_samples
from sagestep_service.workflows.translation.models import TranslationJobView
from tests.e2e.conftest import Backend
from tests.statemachines.harness import execution_arn, execution_history, states_entered

LANGUAGES = ["de", "fr"]
CONTENT_TYPES = {"docx", "html", "pptx", "text", "xliff", "xlsx"}


def _keys(s3: Any, bucket: str, prefix: str) -> dict[str, bytes]:
    keys = {}
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        for item in page.get("Contents", []):
            keys[item["Key"][len(prefix) :]] = s3.get_object(Bucket=bucket, Key=item["Key"])["Body"].read()
    return keys


def _finished(backend: Backend, job_id: str, timeout: float = 120) -> TranslationJobView:
    job = backend.client.translation.wait(job_id, timeout=timeout, poll=0.25)
    backend.runtime.wait_idle(10)
    return job


@pytest.fixture(scope="module")
def samples(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[Path]]:
    root = tmp_path_factory.mktemp("documents")
    return root, write_samples(root)


@pytest.fixture(scope="module")
def translated(backend: Backend, samples: tuple[Path, list[Path]]) -> tuple[TranslationJobView, str]:
    root, _ = samples
    folder = backend.client.translation.upload_folder(root, "e2e/translation/documents")
    job = backend.client.translation.submit(
        {"inputUri": folder, "sourceLanguageCode": "en", "targetLanguageCodes": LANGUAGES}, idempotency_key="e2e-tr-1"
    )
    return _finished(backend, job.jobId), folder


def test_a_mixed_folder_is_translated_into_each_language_in_its_own_structure(
    backend: Backend, samples: tuple[Path, list[Path]], translated: tuple[TranslationJobView, str]
) -> None:
    root, written = samples
    job, folder = translated
    s3 = backend.runtime.client("s3")
    bucket = backend.info.data_bucket
    # Then the job completed with one Translate job per content type present
    assert job.status == "COMPLETED", (job.error, job.errorCause)
    assert job.summary is not None
    assert {c.contentType for c in job.summary.contentTypes} == CONTENT_TYPES
    assert all(c.translateJobStatus == "COMPLETED" and c.translateJobId for c in job.summary.contentTypes)
    translate = backend.runtime.client("translate")
    for content_type in job.summary.contentTypes:
        [started] = translate.list_text_translation_jobs(Filter={"JobName": f"{job.jobId}-{content_type.contentType}"})[
            "TextTranslationJobPropertiesList"
        ]
        assert started["JobId"] == content_type.translateJobId
        assert set(started["TargetLanguageCodes"]) == set(LANGUAGES)
        assert all(content_type.languages[lang].charactersBilled > 0 for lang in LANGUAGES)
    # And the unsupported file was skipped with its reason, not failed
    translatable = [p for p in written if p.suffix.lower() in {".txt", ".html", ".docx", ".pptx", ".xlsx", ".xlf"}]
    skipped = {s.path: s.reason for s in job.summary.skipped}
    assert set(skipped) == {p.relative_to(root).as_posix() for p in written if p not in translatable}
    assert all("not a type Translate reads" in reason for reason in skipped.values())
    assert job.summary.files == len(translatable)
    assert job.summary.translatedFiles == len(translatable) * len(LANGUAGES)
    assert job.summary.failedFiles == 0
    # And the output holds <language>/<path in the folder> for each language, the folder's tree kept
    output_prefix = job.summary.outputUri.removeprefix(f"s3://{bucket}/")
    outputs = _keys(s3, bucket, output_prefix)
    relative = {p.relative_to(root).as_posix() for p in translatable}
    assert set(outputs) == {f"{lang}/{path}" for lang in LANGUAGES for path in relative}
    # And every file was really rewritten (pseudo-translated text, marked with the target language)
    for lang in LANGUAGES:
        text = outputs[f"{lang}/{next(p for p in relative if p.endswith('.txt'))}"].decode()
        assert f"[{lang}|" in text
    docx_path = next(p for p in translatable if p.suffix == ".docx")
    check = check_docx(docx_path.read_bytes(), outputs[f"de/{docx_path.relative_to(root).as_posix()}"])
    assert check["formattingKept"] and check["runsTranslated"] > 0, check
    # And the user's folder is untouched, and nothing of the staging area is left
    assert _keys(s3, bucket, folder.removeprefix(f"s3://{bucket}/")) == {
        p.relative_to(root).as_posix(): p.read_bytes() for p in written
    }
    artifacts = backend.info.artifact_bucket
    assert _keys(s3, artifacts, f"jobs/{job.jobId}/staging/") == {}
    assert _keys(s3, artifacts, f"jobs/{job.jobId}/translated/") == {}
    # And one notification says COMPLETED with the summary
    [note] = backend.notifications_for(job.jobId)
    assert note["attributes"] == {"kind": "translation", "status": "COMPLETED"}
    assert note["message"]["summary"]["translatedFiles"] == job.summary.translatedFiles
    # And the execution took the staged, event-driven path
    arn = execution_arn(backend.runtime.stack.outputs["TranslationStateMachineArn"], job.jobId)
    entered = states_entered(execution_history(backend.sfn, arn))
    assert entered[:5] == ["RecordStaging", "StartStaging", "Stage", "MoreToStage", "RecordTranslating"]
    assert entered.count("StartTranslateJob") == len(CONTENT_TYPES)
    assert entered.count("WaitForTranslateJob") == len(CONTENT_TYPES)
    assert entered[-3:] == ["RecordCompleted", "NotifySucceeded", "Succeeded"]


def test_the_files_listing_pages_results_with_links_that_work(
    backend: Backend, translated: tuple[TranslationJobView, str]
) -> None:
    job, _ = translated
    first = backend.client.translation.files(job.jobId, limit=4)
    assert len(first.items) == 4 and first.nextCursor
    everything = list(backend.client.translation.iter_files(job.jobId, page_size=5))
    assert len(everything) == job.summary.translatedFiles if job.summary else 0
    assert len({(f.path, f.language) for f in everything}) == len(everything)
    assert first.urlExpiresInSeconds == 3600 and first.urlExpiresAt > time.time() + 3500
    result = everything[0]
    assert result.status == "TRANSLATED" and result.url
    downloaded = httpx.get(result.url, timeout=30)
    assert downloaded.status_code == 200 and downloaded.content
    assert (
        backend.http("GET", f"/translation/{job.jobId}/files", params={"cursor": "bm90LWEtY3Vyc29y"}).json()["field"]
        == "cursor"
    )


def test_a_replayed_submission_returns_the_same_job(
    backend: Backend, translated: tuple[TranslationJobView, str]
) -> None:
    job, folder = translated
    replay = httpx.post(
        f"{backend.api_url}/translation",
        json={"inputUri": folder, "sourceLanguageCode": "en", "targetLanguageCodes": LANGUAGES},
        headers={**backend.headers(), "Idempotency-Key": "e2e-tr-1"},
        timeout=35,
    )
    assert replay.status_code == 200 and replay.json()["jobId"] == job.jobId
    assert [j.jobId for j in backend.client.translation.list().items].count(job.jobId) == 1


def test_another_user_sees_nothing_of_the_job(backend: Backend, translated: tuple[TranslationJobView, str]) -> None:
    job, folder = translated
    other = backend.other_user("translation-other@example.com")
    with pytest.raises(NotFoundError):
        other.translation.get(job.jobId)
    with pytest.raises(NotFoundError):
        other.translation.files(job.jobId)
    with pytest.raises(BadRequestError) as refused:
        other.translation.submit({"inputUri": folder, "sourceLanguageCode": "en", "targetLanguageCodes": ["de"]})
    assert refused.value.field == "inputUri"
    assert job.jobId not in [j.jobId for j in other.translation.list().items]


@pytest.mark.parametrize(
    ("change", "field", "fragment"),
    [
        ({"targetLanguageCodes": ["xx"]}, "targetLanguageCodes", "not a language code"),
        ({"targetLanguageCodes": []}, "targetLanguageCodes", "at least 1"),
        ({"sourceLanguageCode": "klingon"}, "sourceLanguageCode", "not a language code"),
        ({"inputUri": "FOLDER/nothing-here/"}, "inputUri", "empty"),
        ({"inputUri": "FOLDER/unsupported/"}, "inputUri", "none of the folder's 1 files"),
        ({"inputUri": "s3://other-bucket/users/x/"}, "inputUri", "must be a folder under"),
        ({"outputUri": "FOLDER/documents/out/"}, "outputUri", "inside the input folder"),
        ({"urlExpirySeconds": 604800}, "urlExpirySeconds", "3600"),
        ({"settings": {"formality": "FORMAL"}, "targetLanguageCodes": ["sv"]}, "settings", "formality is not"),
        ({"targetLanguageCodes": ["de", "en"]}, "targetLanguageCodes", "source language"),
    ],
)
def test_a_bad_request_is_refused_naming_the_field(
    backend: Backend, translated: tuple[TranslationJobView, str], change: dict[str, Any], field: str, fragment: str
) -> None:
    _, folder = translated
    base = folder.removesuffix("documents/")
    backend.client.upload(b"# notes\n", "e2e/translation/unsupported/readme.md")
    body = {"inputUri": folder, "sourceLanguageCode": "en", "targetLanguageCodes": ["de"]}
    body.update({k: v.replace("FOLDER/", base) if isinstance(v, str) else v for k, v in change.items()})
    response = backend.http("POST", "/translation", json=body)
    assert response.status_code == 400, response.text
    assert response.json()["field"] == field
    assert fragment in response.json()["message"], response.json()


def test_a_queue_message_starts_one_job_however_often_it_is_delivered(
    backend: Backend, samples: tuple[Path, list[Path]]
) -> None:
    # Given a folder under the deployer-allowed queue/ prefix and the reference's message for it
    root, written = samples
    s3, sqs = backend.runtime.client("s3"), backend.runtime.client("sqs")
    bucket = backend.info.data_bucket
    for path in written:
        s3.put_object(Bucket=bucket, Key=f"queue/e2e/{path.relative_to(root).as_posix()}", Body=path.read_bytes())
    message = {
        "JobName": "e2e-queue",
        "InputBucket": bucket,
        "InputS3Uri": "queue/e2e/",
        "OutputBucket": bucket,
        "SourceLanguageCode": "en",
        "TargetLanguageCodes": ["de"],
    }
    queue_url = sqs.get_queue_url(QueueName=backend.runtime.stack.outputs["TranslationQueueName"])["QueueUrl"]
    # When it is delivered twice (a redelivery), with a message that can never start a job beside it
    sqs.send_message(QueueUrl=queue_url, MessageBody=json.dumps(message))
    sqs.send_message(QueueUrl=queue_url, MessageBody=json.dumps({**message, "TargetLanguageCodes": ["xx"]}))
    sqs.send_message(QueueUrl=queue_url, MessageBody=json.dumps(message))
    # Then one job ran to COMPLETED, with one notification, its output under the queue prefix
    deadline = time.monotonic() + 120
    while not (
        notes := [
            n
            for n in backend.runtime.notifications()
            if n["message"].get("jobId", "").startswith("translation-")
            and n["message"].get("summary", {}).get("outputUri", "").startswith(f"s3://{bucket}/queue/")
        ]
    ):
        assert time.monotonic() < deadline, "the queue message started no job"
        time.sleep(0.25)
    [note] = notes
    assert note["message"]["status"] == "COMPLETED"
    job_id = note["message"]["jobId"]
    arn = backend.runtime.stack.outputs["TranslationStateMachineArn"]
    executions = backend.sfn.list_executions(stateMachineArn=arn)["executions"]
    assert [e["name"] for e in executions].count(job_id) == 1
    assert _keys(s3, bucket, f"queue/translations/{job_id}/de/")
    # And the bad message was reported as failed: it is back in the queue (then its dead-letter queue), not lost
    attributes = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["All"])["Attributes"]
    assert (
        int(attributes["ApproximateNumberOfMessages"]) + int(attributes["ApproximateNumberOfMessagesNotVisible"]) == 1
    )
