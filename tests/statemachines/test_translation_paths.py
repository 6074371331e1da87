"""The failure and retry paths of statemachines/translation.asl.json, executed by the local runtime's Step Functions
interpreter with the real Lambda handlers and the local Translate (which really rewrites the documents).

The path a user gets without a fault (a mixed folder into two languages) runs once, in
``tests/e2e/test_local_translation.py``, which asserts its states too.
"""

from __future__ import annotations

import time
from typing import Any

import httpx

from tests.statemachines.harness import TERMINAL, Harness, Run, execution_arn, execution_history

FAILURE_TAIL = ["ExplainFailure", "RecordError", "BuildFailureNotification", "NotifyFailed", "JobFailed"]


def _folder(harness: Harness, name: str, files: dict[str, bytes]) -> str:
    uri = ""
    for path, body in files.items():
        uri = harness.upload(f"paths/translation/{name}/{path}", body)
    return uri[: uri.index(f"/{name}/") + len(name) + 2]


def _run(harness: Harness, body: dict[str, Any], timeout: float = 120) -> Run:
    response = httpx.post(f"{harness.info.api_url}/translation", json=body, headers=harness.headers, timeout=30)
    assert response.status_code == 202, response.text
    job_id = response.json()["jobId"]
    arn = execution_arn(harness.runtime.stack.outputs["TranslationStateMachineArn"], job_id)
    deadline = time.monotonic() + timeout
    while (status := harness.sfn.describe_execution(executionArn=arn)["status"]) not in TERMINAL:
        assert time.monotonic() < deadline, f"{job_id} still {status} after {timeout} s"
        time.sleep(0.2)
    harness.runtime.wait_idle(20)
    return Run(job_id, status, harness.job("translation", job_id), execution_history(harness.sfn, arn))


def _translate_jobs(harness: Harness, job_id: str) -> dict[str, str]:
    translate = harness.runtime.client("translate")
    jobs = translate.list_text_translation_jobs(MaxResults=500)["TextTranslationJobPropertiesList"]
    return {j["JobName"]: j["JobStatus"] for j in jobs if j["JobName"].startswith(f"{job_id}-")}


def _staging_left(harness: Harness, job_id: str) -> list[str]:
    s3 = harness.runtime.client("s3")
    keys = []
    for area in ("staging/", "translated/"):
        page = s3.list_objects_v2(Bucket=harness.info.artifact_bucket, Prefix=f"jobs/{job_id}/{area}")
        keys += [item["Key"] for item in page.get("Contents", [])]
    return keys


def _assert_failed_cleanly(harness: Harness, run: Run) -> None:
    assert run.status == "FAILED", run.status
    assert run.record["status"] == "ERROR" and run.record["error"] and run.record["errorCause"], run.record
    assert run.entered[-len(FAILURE_TAIL) :] == FAILURE_TAIL
    notes = harness.notifications_for(run.job_id)
    assert len(notes) == 1, notes
    assert notes[0]["attributes"] == {"kind": "translation", "status": "ERROR"}
    assert notes[0]["message"]["summary"]["error"] == run.record["error"]
    assert all(status not in {"SUBMITTED", "IN_PROGRESS"} for status in _translate_jobs(harness, run.job_id).values())
    assert _staging_left(harness, run.job_id) == []


TEXTS = {"a.txt": b"First file.\n", "b.txt": b"Second file, which Translate fails.\n", "c.txt": b"Third file.\n"}


def test_a_file_translate_fails_is_recorded_and_the_others_restored(harness: Harness) -> None:
    # Given Translate fails the second staged file of the next job (staged names are flat: 0000001.txt is b.txt)
    harness.runtime.faults.translate.fail_file("0000001.txt", "the document has an invalid encoding")
    folder = _folder(harness, "with-error", TEXTS)
    # When the folder is translated into two languages
    run = _run(harness, {"inputUri": folder, "sourceLanguageCode": "en", "targetLanguageCodes": ["de", "fr"]})
    # Then the job completes WITH ERRORS (not failed), the Translate job having ended COMPLETED_WITH_ERROR
    assert run.status == "SUCCEEDED"
    assert run.statuses == ["SUBMITTED", "STAGING", "TRANSLATING", "COMPLETED_WITH_ERRORS"]
    assert "RecordCompletedWithErrors" in run.entered
    summary = run.record["summary"]
    [text] = summary["contentTypes"]
    assert text["translateJobStatus"] == "COMPLETED_WITH_ERROR"
    assert (summary["translatedFiles"], summary["failedFiles"]) == (4, 2)
    assert text["languages"]["de"]["failed"] == 1 and text["languages"]["de"]["translated"] == 2
    # And each failed file carries Translate's reason from its details file; the others have working links
    files = httpx.get(
        f"{harness.info.api_url}/translation/{run.job_id}/files", headers=harness.headers, timeout=30
    ).json()["items"]
    failed = {(f["path"], f["language"]): f["reason"] for f in files if f["status"] == "FAILED"}
    assert set(failed) == {("b.txt", "de"), ("b.txt", "fr")}
    assert all("invalid encoding" in reason for reason in failed.values())
    translated = [f for f in files if f["status"] == "TRANSLATED"]
    assert {f["path"] for f in translated} == {"a.txt", "c.txt"}
    assert "[de|" in httpx.get(next(f["url"] for f in translated if f["language"] == "de"), timeout=30).text
    # And one notification says COMPLETED_WITH_ERRORS, and the staging area is gone
    [note] = harness.notifications_for(run.job_id)
    assert note["attributes"] == {"kind": "translation", "status": "COMPLETED_WITH_ERRORS"}
    assert _staging_left(harness, run.job_id) == []


def test_a_failed_translate_job_stops_the_others_and_fails_the_job(harness: Harness) -> None:
    # Given a folder of two content types, the text job hanging and the HTML job failing
    faults = harness.runtime.faults.translate
    faults.hang_next_job(job="*-text")
    faults.fail_next_job("The KMS key is disabled.", job="*-html")
    folder = _folder(harness, "fails", {"a.txt": b"Some text.\n", "b.html": b"<p>Some HTML.</p>"})
    # When it is translated
    run = _run(harness, {"inputUri": folder, "sourceLanguageCode": "en", "targetLanguageCodes": ["de"]})
    # Then the wait on the HTML job is resumed by its FAILED event and the job ends in ERROR with Translate's reason
    assert run.statuses == ["SUBMITTED", "STAGING", "TRANSLATING", "ERROR"]
    assert run.record["error"] == "TranslationJobFailed"
    assert "The KMS key is disabled." in run.record["errorCause"]
    # And the hanging text job was stopped by the failure path, and nothing of the job is left
    jobs = _translate_jobs(harness, run.job_id)
    assert jobs == {f"{run.job_id}-html": "FAILED", f"{run.job_id}-text": "STOPPED"}
    _assert_failed_cleanly(harness, run)


def test_a_translate_job_past_its_deadline_fails_the_job(harness: Harness) -> None:
    # Given a Translate job that never finishes and a 10 s deadline
    harness.runtime.faults.translate.hang_next_job()
    folder = _folder(harness, "deadline", {"a.txt": b"Some text.\n"})
    # When the folder is translated
    body = {"inputUri": folder, "sourceLanguageCode": "en", "targetLanguageCodes": ["de"], "deadlineSeconds": 10}
    run = _run(harness, body)
    # Then the wait times out and the job is ERROR, saying so; the Translate job is stopped
    assert any(e["type"] == "TaskTimedOut" for e in run.events)
    assert run.record["error"] == "TranslationDeadlineExceeded"
    assert "10 s" in run.record["errorCause"]
    assert set(_translate_jobs(harness, run.job_id).values()) == {"STOPPED"}
    _assert_failed_cleanly(harness, run)


def test_a_throttled_start_is_retried(harness: Harness) -> None:
    # Given Translate throttles the next StartTextTranslationJob (its 5 starts a second)
    harness.runtime.faults.throttle("StartTextTranslationJob", count=1)
    folder = _folder(harness, "throttled", {"a.txt": b"Some text.\n"})
    # When the folder is translated
    run = _run(harness, {"inputUri": folder, "sourceLanguageCode": "en", "targetLanguageCodes": ["de"]})
    # Then the start's Retry absorbed it: one failure of the start, one Translate job, COMPLETED
    assert not [f for f in harness.runtime.faults.armed() if f.fault == "throttle"], "the throttle was never hit"
    assert [f["error"] for f in run.failures_of("StartTranslateJob")] == ["Translate.TooManyRequestsException"]
    assert run.record["status"] == "COMPLETED"
    assert list(_translate_jobs(harness, run.job_id).values()) == ["COMPLETED"]


def test_a_refused_start_fails_the_job_with_translates_error(harness: Harness) -> None:
    # Given Translate refuses the next start (e.g. a terminology that does not exist)
    harness.runtime.faults.fail_call("StartTextTranslationJob", "ResourceNotFoundException", "Terminology not found")
    folder = _folder(harness, "refused", {"a.txt": b"Some text.\n"})
    # When the folder is translated
    run = _run(harness, {"inputUri": folder, "sourceLanguageCode": "en", "targetLanguageCodes": ["de"]})
    # Then the job ends in ERROR naming Translate's error, without a retry
    assert [f["error"] for f in run.failures_of("StartTranslateJob")] == ["Translate.ResourceNotFoundException"]
    assert run.record["error"] == "Translate.ResourceNotFoundException"
    assert "Terminology not found" in run.record["errorCause"]
    _assert_failed_cleanly(harness, run)


def test_stopping_a_job_stops_its_translate_jobs_and_records_it(harness: Harness) -> None:
    # Given a running job whose Translate job never finishes
    harness.runtime.faults.translate.hang_next_job()
    folder = _folder(harness, "stopped", {"a.txt": b"Some text.\n"})
    body = {"inputUri": folder, "sourceLanguageCode": "en", "targetLanguageCodes": ["de"]}
    response = httpx.post(f"{harness.info.api_url}/translation", json=body, headers=harness.headers, timeout=30)
    job_id = response.json()["jobId"]
    deadline = time.monotonic() + 60
    while "IN_PROGRESS" not in _translate_jobs(harness, job_id).values():
        assert time.monotonic() < deadline, "the Translate job never started"
        time.sleep(0.2)
    # When its owner stops it
    stopped = httpx.delete(f"{harness.info.api_url}/translation/{job_id}", headers=harness.headers, timeout=30)
    assert stopped.status_code == 202, stopped.text
    assert stopped.json()["stopRequestedAt"]
    # Then the wait is resumed by the Translate job's STOPPED event and the job's own failure path records it
    arn = execution_arn(harness.runtime.stack.outputs["TranslationStateMachineArn"], job_id)
    while harness.sfn.describe_execution(executionArn=arn)["status"] == "RUNNING":
        assert time.monotonic() < deadline, "the execution did not end"
        time.sleep(0.2)
    harness.runtime.wait_idle(20)
    status = harness.sfn.describe_execution(executionArn=arn)["status"]
    run = Run(job_id, status, harness.job("translation", job_id), execution_history(harness.sfn, arn))
    assert run.record["error"] == "StoppedByOwner"
    assert "stopped by its owner" in run.record["errorCause"]
    assert list(_translate_jobs(harness, job_id).values()) == ["STOPPED"]
    _assert_failed_cleanly(harness, run)
    # And stopping it again is a conflict: it has ended
    again = httpx.delete(f"{harness.info.api_url}/translation/{job_id}", headers=harness.headers, timeout=30)
    assert again.status_code == 409
