"""The translation workflow's task logic after staging, against moto S3: restoring Translate's output into
``<output>/<language>/<path>`` with each failed file's reason, the summary, the per-file listing, removing the
transient area, the failure path's explanation and cleanup, and the Translate job waiter.

Given/When/Then. Translate itself is a small fake client (moto has no Translate); its output folder is written to
moto S3 in the layout Translate documents (``<output>/<account>-TranslateText-<jobId>/<language>.<file>`` and
``details/<language>.auxiliary-translation-details.json``).
"""

from __future__ import annotations

import base64
import json
import time
import urllib.parse
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import pytest
from botocore.exceptions import ClientError

from sagestep_service.platform.errors import BadRequest
from sagestep_service.platform.failures import MAX_CAUSE
from sagestep_service.workflows.translation import failure, restore, results, staging
from sagestep_service.workflows.translation.models import RestoreTask, TranslationStatus
from sagestep_service.workflows.translation.translate_service import (
    details_key,
    output_folder,
)
from sagestep_service.workflows.translation.waiters import TranslateJobWaiter
from tests.unit.translation_helpers import (
    ACCOUNT,
    DATA,
    OUTPUT,
    WORK,
    a_plan,
    keys,
    moto_s3,
    put,
    read,
    read_json,
    stage_all,
)


@pytest.fixture
def s3(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """Given moto S3 with the data bucket and the artifact bucket."""
    yield from moto_s3(monkeypatch)


# --- restoring Translate's output ---------------------------------------------------------------------------------


def translated_prefix(plan: dict[str, Any], slug: str, translate_job_id: str) -> str:
    return f"{plan['work']['prefix']}translated/{slug}/{output_folder(ACCOUNT, translate_job_id)}"


def fake_translate_output(
    s3: Any,
    plan: dict[str, Any],
    slug: str,
    translate_job_id: str,
    *,
    failed: dict[str, dict[str, str]],
    missing: tuple[tuple[str, str], ...] = (),
    characters: dict[str, int] | None = None,
) -> None:
    """Write what Translate writes for a job over ``staging/<slug>/``: ``<lang>.<staged>`` for each file that did not
    fail (unless in ``missing``) and each language's details file (``failed``: language -> staged -> errorCode)."""
    prefix = translated_prefix(plan, slug, translate_job_id)
    staged = [key.rsplit("/", 1)[1] for key in keys(s3, WORK, f"{plan['work']['prefix']}staging/{slug}/")]
    for language in plan["translation"]["TargetLanguageCodes"]:
        details = []
        for name in staged:
            code = failed.get(language, {}).get(name)
            if code:
                error = {"errorCode": code, "errorMessage": f"{name} could not be read"}
                details.append({"sourceFile": name, "auxiliaryData": {"error": error}})
                continue
            details.append({"sourceFile": name, "targetFile": f"{language}.{name}"})
            if (language, name) not in missing:
                original = read(s3, WORK, f"{plan['work']['prefix']}staging/{slug}/{name}")
                s3.put_object(Bucket=WORK, Key=f"{prefix}{language}.{name}", Body=f"[{language}] ".encode() + original)
        document = {
            "sourceLanguageCode": "en",
            "targetLanguageCode": language,
            "charactersTranslated": str((characters or {}).get(language, 0)),
            "documentCountWithCustomerError": str(len(failed.get(language, {}))),
            "details": details,
        }
        s3.put_object(Bucket=WORK, Key=prefix + details_key(language), Body=json.dumps(document).encode())


def restore_all(s3: Any, plan: dict[str, Any], slug: str, files: int, parts: int, translate_job_id: str) -> Any:
    """The restore loop as the state machine runs it for one content type; returns the last answer."""
    task = {
        "jobId": "translation-1",
        "plan": plan,
        "item": {"slug": slug, "mime": "text/plain", "files": files},
        "translateJobId": translate_job_id,
        "translateJobStatus": "COMPLETED_WITH_ERROR",
        "part": 0,
        "parts": parts,
        "restored": {},
    }
    while True:
        answer = restore.restore_part(s3, RestoreTask.model_validate(task))
        if not answer["more"]:
            return answer
        task.update(part=answer["part"], restored=answer["restored"])


def staged_name(s3: Any, plan: dict[str, Any], path: str) -> str:
    for part in range(10):
        try:
            manifest = read_json(s3, WORK, staging.manifest_key(plan["work"]["prefix"], part))
        except ClientError:
            break
        for entry in manifest["files"]:
            if entry["path"] == path:
                return str(entry["staged"])
    raise AssertionError(path)


def test_translations_land_in_the_folders_structure_per_language(s3: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    # Given a folder of text files staged over two listing pages, and Translate's output for them into de and fr:
    # one file failed in de, one output file is missing in fr
    monkeypatch.setattr(staging, "PAGE_SIZE", 2)
    put(s3, {"a.txt": b"alpha", "sub/b.txt": b"beta", "sub/x y/c.txt": b"gamma", "d.html": b"<p>d</p>"})
    plan = a_plan()
    state, calls = stage_all(s3, plan)
    assert calls == 2
    b, c = staged_name(s3, plan, "sub/b.txt"), staged_name(s3, plan, "sub/x y/c.txt")
    fake_translate_output(
        s3,
        plan,
        "text",
        "tj-text",
        failed={"de": {c: "UNSUPPORTED_ENCODING"}},
        missing=(("fr", b),),
        characters={"de": 10, "fr": 15},
    )
    # When the restore loop runs over the manifest pages
    answer = restore_all(s3, plan, "text", files=3, parts=state.part, translate_job_id="tj-text")
    # Then each translation is at <output>/<language>/<path>
    assert answer["part"] == 2 and answer["more"] is False
    out = {key.removeprefix(OUTPUT): read(s3, DATA, key) for key in keys(s3, DATA, OUTPUT)}
    assert out == {
        "de/a.txt": b"[de] alpha",
        "de/sub/b.txt": b"[de] beta",
        "fr/a.txt": b"[fr] alpha",
        "fr/sub/x y/c.txt": b"[fr] gamma",
    }
    # And the counts and characters billed per language are right
    assert answer["restored"] == {
        "languages": {
            "de": {"translated": 2, "failed": 1, "charactersBilled": 10},
            "fr": {"translated": 2, "failed": 1, "charactersBilled": 15},
        }
    }
    # And the results record each (file, language): its location, or Translate's reason, or the missing output
    entries = [
        e for part in (0, 1) for e in read_json(s3, WORK, restore.results_key("jobs/translation-1/", "text", part))
    ]
    by_pair = {(e["path"], e["language"]): e for e in entries}
    assert len(entries) == 6
    assert by_pair[("a.txt", "de")] == {
        "path": "a.txt",
        "language": "de",
        "status": "TRANSLATED",
        "resultUri": f"s3://{DATA}/{OUTPUT}de/a.txt",
    }
    assert by_pair[("sub/x y/c.txt", "de")] == {
        "path": "sub/x y/c.txt",
        "language": "de",
        "status": "FAILED",
        "reason": f"UNSUPPORTED_ENCODING: {c} could not be read",
    }
    assert by_pair[("sub/b.txt", "fr")] == {
        "path": "sub/b.txt",
        "language": "fr",
        "status": "FAILED",
        "reason": "Translate wrote no output for this file",
    }


def test_later_parts_read_the_failures_part_zero_kept(s3: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    # Given two manifest pages of text files, one failed file on the second page
    monkeypatch.setattr(staging, "PAGE_SIZE", 1)
    put(s3, {"a.txt": b"alpha", "b.txt": b"beta"})
    plan = a_plan(targets=("de",))
    state, _ = stage_all(s3, plan)
    b = staged_name(s3, plan, "b.txt")
    fake_translate_output(s3, plan, "text", "tj", failed={"de": {b: "INTERNAL"}}, characters={"de": 5})
    task = {
        "jobId": "translation-1",
        "plan": plan,
        "item": {"slug": "text", "mime": "text/plain", "files": 2},
        "translateJobId": "tj",
        "translateJobStatus": "COMPLETED_WITH_ERROR",
        "parts": state.part,
    }
    # When part 0 is restored, and then Translate's details files are gone before part 1
    first = restore.restore_part(s3, RestoreTask.model_validate(task))
    assert read_json(s3, WORK, restore.errors_key("jobs/translation-1/", "text")) == {
        "de": {b: f"INTERNAL: {b} could not be read"}
    }
    s3.delete_object(Bucket=WORK, Key=translated_prefix(plan, "text", "tj") + details_key("de"))
    second = restore.restore_part(s3, RestoreTask.model_validate({**task, "part": 1, "restored": first["restored"]}))
    # Then part 1 still knows b.txt failed (from errors.json), and the counts carried over
    [entry] = read_json(s3, WORK, restore.results_key("jobs/translation-1/", "text", 1))
    assert (entry["path"], entry["status"], entry["reason"]) == ("b.txt", "FAILED", f"INTERNAL: {b} could not be read")
    assert second["restored"] == {"languages": {"de": {"translated": 1, "failed": 1, "charactersBilled": 5}}}
    assert second["more"] is False


def test_a_job_without_details_files_restores_what_it_wrote(s3: Any) -> None:
    # Given Translate's output files but no details files
    put(s3, {"a.txt": b"alpha"})
    plan = a_plan(targets=("de",))
    state, _ = stage_all(s3, plan)
    fake_translate_output(s3, plan, "text", "tj", failed={})
    s3.delete_object(Bucket=WORK, Key=translated_prefix(plan, "text", "tj") + details_key("de"))
    # When restored, the file is translated and nothing is billed
    answer = restore_all(s3, plan, "text", files=1, parts=state.part, translate_job_id="tj")
    assert answer["restored"] == {"languages": {"de": {"translated": 1, "failed": 0, "charactersBilled": 0}}}
    assert read(s3, DATA, f"{OUTPUT}de/a.txt") == b"[de] alpha"


# --- the end: summary, files listing, transient data ---------------------------------------------------------------


@pytest.fixture
def finished(s3: Any, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """Given a job over 3 text files and 1 docx (2 pages), into de and fr, one text file failed in fr, and 2
    skipped files; restored as the state machine does. Returns the plan, staging state and the Map's results."""
    monkeypatch.setattr(staging, "PAGE_SIZE", 3)
    put(s3, {"a.txt": b"a", "b.txt": b"b", "c.docx": b"c", "d.pdf": b"d", "e.txt": b"e", "f.png": b"f"})
    plan = a_plan()
    state, _ = stage_all(s3, plan)
    b = staged_name(s3, plan, "b.txt")
    fake_translate_output(s3, plan, "text", "tj-text", failed={"fr": {b: "UNSUPPORTED"}}, characters={"de": 3})
    fake_translate_output(s3, plan, "docx", "tj-docx", failed={}, characters={"de": 1, "fr": 1})
    map_results = []
    for item in staging.map_items("translation-1", plan, state):
        answer = restore_all(s3, plan, item["slug"], item["files"], state.part, f"tj-{item['slug']}")
        status = "COMPLETED_WITH_ERROR" if item["slug"] == "text" else "COMPLETED"
        map_results.append(
            {
                "item": item,
                "translateJobId": f"tj-{item['slug']}",
                "translateJobStatus": status,
                "restored": answer["restored"],
            }
        )
    return {"plan": plan, "staging": state.model_dump(), "results": map_results}


def test_the_summary_counts_per_type_and_language(s3: Any, finished: dict[str, Any]) -> None:
    # When the job is summarized from the Map's results and the manifests
    summary = results.summarize(s3, finished["plan"], finished["staging"], finished["results"])
    # Then it counts the (file, language) results and lists the skipped files with their reasons
    assert (summary.files, summary.translatedFiles, summary.failedFiles, summary.skippedFiles) == (4, 7, 1, 2)
    assert summary.outputUri == f"s3://{DATA}/{OUTPUT}"
    assert sorted(s.path for s in summary.skipped) == ["d.pdf", "f.png"]
    docx, text = summary.contentTypes
    assert (docx.contentType, docx.files, docx.translateJobId, docx.translateJobStatus) == (
        "docx",
        1,
        "tj-docx",
        "COMPLETED",
    )
    assert text.mimeType == "text/plain" and text.files == 3
    assert {lang: (r.translated, r.failed, r.charactersBilled) for lang, r in text.languages.items()} == {
        "de": (3, 0, 3),
        "fr": (2, 1, 0),
    }
    # And a failed file makes it COMPLETED_WITH_ERRORS, none COMPLETED
    assert results.final_status(summary) == TranslationStatus.COMPLETED_WITH_ERRORS
    clean = summary.model_copy(update={"failedFiles": 0})
    assert results.final_status(clean) == TranslationStatus.COMPLETED


def test_the_summary_shows_at_most_the_first_skipped_files(
    s3: Any, finished: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(results, "SKIPPED_SHOWN", 1)
    summary = results.summarize(s3, finished["plan"], finished["staging"], finished["results"])
    assert summary.skippedFiles == 2 and [s.path for s in summary.skipped] == ["d.pdf"]


def test_the_files_listing_pages_across_parts_with_fresh_links(s3: Any, finished: dict[str, Any]) -> None:
    plan = finished["plan"]
    # When the listing is read 3 results at a time
    pages, cursor, before = [], None, time.time()
    while True:
        page = results.file_page(s3, plan, 3, cursor, 120)
        pages.append(page)
        cursor = page.nextCursor
        if cursor is None:
            break
    # Then the pages hold every (file, language) once, in content type then manifest order
    items = [item for page in pages for item in page.items]
    assert [len(page.items) for page in pages] == [3, 3, 2]
    assert [(i.path, i.language) for i in items] == [
        ("c.docx", "de"),
        ("c.docx", "fr"),
        ("a.txt", "de"),
        ("a.txt", "fr"),
        ("b.txt", "de"),
        ("b.txt", "fr"),
        ("e.txt", "de"),
        ("e.txt", "fr"),
    ]
    failed = items[5]
    assert (failed.status, failed.url, failed.resultUri) == ("FAILED", None, None)
    assert failed.reason is not None and failed.reason.startswith("UNSUPPORTED: ")
    # And each translated result has a link presigned for the given expiry, to its file
    for item in items[:5] + items[6:]:
        assert item.status == "TRANSLATED" and item.url is not None
        query = urllib.parse.parse_qs(urllib.parse.urlsplit(item.url).query)
        assert query["X-Amz-Expires"] == ["120"]
        assert urllib.parse.urlsplit(item.url).path.endswith(f"{OUTPUT}{item.language}/{item.path}")
    assert all(page.urlExpiresInSeconds == 120 for page in pages)
    assert int(before) + 120 <= pages[0].urlExpiresAt <= time.time() + 120


def test_a_page_that_ends_with_the_results_has_no_cursor(s3: Any, finished: dict[str, Any]) -> None:
    page = results.file_page(s3, finished["plan"], 8, None, 60)
    assert len(page.items) == 8 and page.nextCursor is None
    assert results.file_page(s3, a_plan(job_id="translation-none"), 5, None, 60).items == []


@pytest.mark.parametrize(
    "cursor",
    [
        "not base64 !!",
        base64.urlsafe_b64encode(b"not json").decode(),
        base64.urlsafe_b64encode(json.dumps(["jobs/translation-2/results/text/00000.json", 0]).encode()).decode(),
        base64.urlsafe_b64encode(json.dumps(["jobs/translation-1/results/text/00000.json", -1]).encode()).decode(),
        base64.urlsafe_b64encode(json.dumps(["jobs/translation-1/results/text/00000.json"]).encode()).decode(),
        base64.urlsafe_b64encode(b"5").decode(),
        base64.urlsafe_b64encode(b"null").decode(),
        base64.urlsafe_b64encode(b'{"a": 1, "b": 2}').decode(),
    ],
)
def test_a_tampered_cursor_is_a_400_naming_cursor(s3: Any, cursor: str) -> None:
    # Given a cursor that this job's listing did not return (another job's, not base64, not JSON, not a pair)
    # Then the listing is a 400 naming the cursor, never a 500
    s3.put_object(Bucket=WORK, Key="jobs/translation-1/results/text/00000.json", Body=b"[]")
    with pytest.raises(BadRequest) as error:
        results.file_page(s3, a_plan(), 3, cursor, 60)
    assert error.value.field == "cursor"


def test_removing_the_transient_area_keeps_manifests_and_results(s3: Any, finished: dict[str, Any]) -> None:
    plan = finished["plan"]
    staged_and_translated = keys(s3, WORK, "jobs/translation-1/staging/") + keys(
        s3, WORK, "jobs/translation-1/translated/"
    )
    kept = keys(s3, WORK, "jobs/translation-1/manifest/") + keys(s3, WORK, "jobs/translation-1/results/")
    # When the job's transient data is removed
    removed = results.remove_transient(s3, plan)
    # Then staging/ and translated/ are gone, manifest/ and results/ stay, and the listing still works
    assert removed == len(staged_and_translated) > 0
    assert keys(s3, WORK) == sorted(kept)
    assert len(results.file_page(s3, plan, 100, None, 60).items) == 8
    # And a plan without a work area (a failure before planning) removes nothing
    assert results.remove_transient(s3, {}) == 0


# --- the failure path -----------------------------------------------------------------------------------------------


def test_a_timeout_is_explained_with_the_deadline() -> None:
    error, cause = failure.explain("States.Timeout", None, {"deadlineSeconds": 600})
    assert error == "TranslationDeadlineExceeded"
    assert cause == "a Translate job did not finish within the deadline of 600 s"


def test_a_lambda_error_payload_is_unwrapped() -> None:
    payload = {"errorType": "StagingLimitExceeded", "errorMessage": "3 text files of 12 bytes", "stackTrace": []}
    assert failure.explain("Lambda.Unknown", json.dumps(payload), {}) == (
        "StagingLimitExceeded",
        "3 text files of 12 bytes",
    )
    # (an error payload without a type keeps the state's error name; a long message is cut)
    error, cause = failure.explain("States.TaskFailed", json.dumps({"errorMessage": "x" * 5000}), {})
    assert (error, len(cause)) == ("States.TaskFailed", MAX_CAUSE)


@pytest.mark.parametrize(
    ("cause", "expected"),
    [
        ("Translate job tj failed: bad role", "Translate job tj failed: bad role"),
        (None, "TranslationJobFailed"),
        ('{"no": "errorMessage"}', '{"no": "errorMessage"}'),
        ("[1, 2]", "[1, 2]"),
    ],
)
def test_other_errors_keep_their_cause(cause: str | None, expected: str) -> None:
    assert failure.explain("TranslationJobFailed", cause, {}) == ("TranslationJobFailed", expected)


class FakeTranslate:
    """Translate's batch jobs (id -> name, status); ListTextTranslationJobs filters by exact name, as Translate."""

    def __init__(self, jobs: dict[str, tuple[str, str]], fail_list_for: str | None = None) -> None:
        self.jobs = jobs
        self.fail_list_for = fail_list_for
        self.stopped: list[str] = []

    def list_text_translation_jobs(self, Filter: dict[str, str]) -> dict[str, Any]:
        if Filter["JobName"] == self.fail_list_for:
            raise ClientError({"Error": {"Code": "ThrottlingException", "Message": "slow"}}, "List")
        listed = [
            {"JobId": job_id, "JobName": name, "JobStatus": status}
            for job_id, (name, status) in self.jobs.items()
            if name == Filter["JobName"]
        ]
        return {"TextTranslationJobPropertiesList": listed}

    def stop_text_translation_job(self, JobId: str) -> dict[str, Any]:
        self.stopped.append(JobId)
        return {"JobId": JobId, "JobStatus": "STOP_REQUESTED"}

    def describe_text_translation_job(self, JobId: str) -> dict[str, Any]:
        if JobId not in self.jobs:
            raise ClientError({"Error": {"Code": "ResourceNotFoundException", "Message": "no"}}, "Describe")
        name, status = self.jobs[JobId]
        properties = {"JobId": JobId, "JobName": name, "JobStatus": status}
        if status == "FAILED":
            properties["Message"] = "the data access role cannot read the input"
        return {"TextTranslationJobProperties": properties}


def test_only_the_jobs_running_translate_jobs_are_stopped() -> None:
    # Given Translate jobs of this job in every status, and a running one of another job
    translate = FakeTranslate(
        {
            "t1": ("translation-1-text", "IN_PROGRESS"),
            "t2": ("translation-1-docx", "SUBMITTED"),
            "t3": ("translation-1-html", "COMPLETED"),
            "t4": ("translation-1-pptx", "STOP_REQUESTED"),
            "t5": ("translation-1-xlsx", "FAILED"),
            "t6": ("translation-10-text", "IN_PROGRESS"),
            "t7": ("translation-2-xliff", "SUBMITTED"),
        }
    )
    # When the job's Translate jobs are stopped
    cleanup = failure.stop_translate_jobs(translate, "translation-1")
    # Then only its SUBMITTED and IN_PROGRESS ones were
    assert sorted(translate.stopped) == ["t1", "t2"]
    assert sorted(cleanup.deleted) == ["translate-job/t1 (stopped)", "translate-job/t2 (stopped)"]
    assert cleanup.left == []


def test_a_translate_job_that_could_not_be_listed_is_reported_as_left() -> None:
    translate = FakeTranslate({"t1": ("translation-1-text", "IN_PROGRESS")}, fail_list_for="translation-1-docx")
    cleanup = failure.stop_translate_jobs(translate, "translation-1")
    assert translate.stopped == ["t1"]
    assert cleanup.left == ["translate-job/translation-1-docx (ThrottlingException)"]


def test_the_failure_cleanup_stops_jobs_and_removes_the_staging_area(s3: Any, finished: dict[str, Any]) -> None:
    translate = FakeTranslate({"t1": ("translation-1-text", "IN_PROGRESS")})
    cleanup = failure.clean_up(SimpleNamespace(translate=translate, s3=s3), "translation-1", finished["plan"])
    assert translate.stopped == ["t1"]
    assert cleanup.deleted[0] == "translate-job/t1 (stopped)"
    assert cleanup.deleted[1].endswith("staged and translated objects")
    assert keys(s3, WORK, "jobs/translation-1/staging/") == keys(s3, WORK, "jobs/translation-1/translated/") == []


# --- waiting for a Translate job --------------------------------------------------------------------------------------

WAITER = TranslateJobWaiter()


@pytest.mark.parametrize("status", ["COMPLETED", "COMPLETED_WITH_ERROR"])
def test_a_completed_job_goes_on(status: str) -> None:
    clients = SimpleNamespace(translate=FakeTranslate({"tj": ("translation-1-text", status)}))
    expected = {"translateJobId": "tj", "translateJobStatus": status}
    checked = WAITER.check(clients, "tj", {})
    assert checked is not None and checked.succeeded and checked.output == expected
    evented = WAITER.from_event(SimpleNamespace(), {"jobId": "tj", "jobStatus": status}, {})
    assert evented is not None and evented.output == expected
    assert WAITER.name_in({"jobId": "tj", "jobStatus": status}) == "tj"


@pytest.mark.parametrize("status", ["SUBMITTED", "IN_PROGRESS", "STOP_REQUESTED"])
def test_intermediate_statuses_keep_waiting(status: str) -> None:
    clients = SimpleNamespace(translate=FakeTranslate({"tj": ("translation-1-text", status)}))
    assert WAITER.check(clients, "tj", {}) is None
    assert WAITER.from_event(SimpleNamespace(), {"jobId": "tj", "jobStatus": status}, {}) is None


def test_a_failed_job_fails_with_translates_message() -> None:
    # Given a FAILED job (its event carries no reason; the job's description has it)
    clients = SimpleNamespace(translate=FakeTranslate({"tj": ("translation-1-text", "FAILED")}))
    for outcome in (
        WAITER.check(clients, "tj", {}),
        WAITER.from_event(clients, {"jobId": "tj", "jobStatus": "FAILED"}, {}),
    ):
        assert outcome is not None and not outcome.succeeded
        assert outcome.error == "TranslationJobFailed"
        assert outcome.cause == "Translate job tj failed: the data access role cannot read the input"


def test_a_stopped_or_unknown_job_fails() -> None:
    clients = SimpleNamespace(translate=FakeTranslate({"tj": ("translation-1-text", "STOPPED")}))
    for outcome in (
        WAITER.check(clients, "tj", {}),
        WAITER.from_event(clients, {"jobId": "tj", "jobStatus": "STOPPED"}, {}),
    ):
        assert outcome is not None
        assert (outcome.error, outcome.cause) == ("TranslationJobStopped", "Translate job tj was stopped")
    gone = WAITER.check(clients, "nope", {})
    assert gone is not None and (gone.error, gone.cause) == (
        "TranslationJobFailed",
        "Translate job nope does not exist",
    )
