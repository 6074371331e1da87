"""Which files of a folder go to Amazon Translate (``staging.classify``, XLIFF versions) and staging them against moto
S3: copied (never moved) into flat, unique names per content type, one listing page per call with its manifest,
keys URL-decoded as S3 encodes them, Translate's per-job limits, the Map's items and the Stage function's answer.

Given/When/Then.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from sagestep_service.workflows.translation import staging
from sagestep_service.workflows.translation.models import Staged
from sagestep_service.workflows.translation.translate_service import (
    CONTENT_TYPES,
    MAX_DOCUMENT_BYTES,
)
from tests.unit.conftest import LambdaContext
from tests.unit.translation_helpers import (
    DATA,
    INPUT,
    WORK,
    a_plan,
    keys,
    moto_s3,
    put,
    read,
    read_json,
    s3_listing_encoding,
    stage_all,
)

REPO = Path(__file__).resolve().parents[2]
XLIFF_12 = b'<?xml version="1.0"?>\n<xliff version="1.2" xmlns="urn:oasis:names:tc:xliff:document:1.2"></xliff>'
XLIFF_20 = b"<?xml version='1.0'?>\n<xliff xmlns='urn:oasis:names:tc:xliff:document:2.0' version = '2.0'></xliff>"


@pytest.fixture
def s3(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """Given moto S3 with the data bucket and the artifact bucket."""
    yield from moto_s3(monkeypatch)


@pytest.fixture
def s3_encoding(monkeypatch: pytest.MonkeyPatch) -> None:
    """Given listings URL-encoded as S3 encodes them (see ``s3_listing_encoding``)."""
    s3_listing_encoding(monkeypatch)


# --- which files go to Translate --------------------------------------------------------------------------------

ALL_EXTENSIONS = [(ext, content_type.slug) for content_type in CONTENT_TYPES for ext in content_type.extensions]


@pytest.mark.parametrize(("extension", "slug"), ALL_EXTENSIONS)
def test_every_supported_extension_is_sorted_into_its_type_whatever_its_case(extension: str, slug: str) -> None:
    for path in (f"a/b/report{extension}", f"a/b/REPORT{extension.upper()}", f"Report{extension.title()}"):
        # When a file of the extension is classified, in any case
        decision = staging.classify(path, 100)
        # Then it goes to Translate as that content type
        assert decision.content_type is not None and decision.content_type.slug == slug, path
        assert decision.reason is None
        assert staging.content_type_of(path) is decision.content_type


@pytest.mark.parametrize("path", ["a/report.pdf", "a/README", "a/.txt", "v1.2/notes", "a/archive.txt.gz", "a/x."])
def test_files_of_other_types_are_skipped_with_the_supported_list(path: str) -> None:
    decision = staging.classify(path, 100)
    assert decision.content_type is None
    assert decision.reason is not None and "not a type Translate reads" in decision.reason
    assert ".txt" in decision.reason and ".xliff" in decision.reason


def test_empty_and_oversized_files_are_skipped_and_20_mb_is_still_taken() -> None:
    # Given files of 0 bytes, exactly 20 MB and one byte more
    assert staging.classify("a.txt", 0).reason == "the file is empty"
    assert staging.classify("a.docx", MAX_DOCUMENT_BYTES).content_type is not None
    too_big = staging.classify("a.docx", MAX_DOCUMENT_BYTES + 1)
    # Then the larger one is skipped with its size and the limit
    assert too_big.content_type is None
    assert too_big.reason == f"{MAX_DOCUMENT_BYTES + 1} bytes: Translate takes documents of at most 20971520 bytes"


def test_xliff_versions(s3: Any) -> None:
    # Given XLIFF 1.2 and 2.0 files and an .xlf file that is not XLIFF
    put(s3, {"a.xlf": XLIFF_12, "b.xliff": XLIFF_20, "c.xlf": b"<html><body>hello</body></html>"})
    # Then only XLIFF 1.2 can be translated, and the others say why
    assert staging.xliff_problem(s3, DATA, INPUT + "a.xlf") is None
    assert staging.xliff_problem(s3, DATA, INPUT + "b.xliff") == "XLIFF 2.0: Translate reads XLIFF 1.2 only"
    assert staging.xliff_problem(s3, DATA, INPUT + "c.xlf") == (
        "not an XLIFF document (no <xliff version=...> element)"
    )


# --- staging ------------------------------------------------------------------------------------------------------

AWKWARD = {
    "a b.txt": b"spaces",
    "x+y.txt": b"a plus",
    "a+b c.txt": b"a plus and a space",
    "ünï/çødé.html": b"<p>unicode</p>",
    "100%.txt": b"a percent",
    "100%25.txt": b"looks encoded",
    "sub/deeper/r.docx": b"PK docx",
}


def test_awkward_keys_are_staged_from_the_right_objects(s3: Any, s3_encoding: None) -> None:
    # Given a folder whose keys have spaces, '+', unicode and '%' (listed URL-encoded as S3 encodes them), and a
    # folder marker
    put(s3, AWKWARD)
    s3.put_object(Bucket=DATA, Key=INPUT + "sub/", Body=b"")
    before = {key: read(s3, DATA, key) for key in keys(s3, DATA)}
    plan = a_plan()
    # When the folder is staged
    state, _ = stage_all(s3, plan)
    # Then every file was staged from its own object (the decoded key is the real one), the marker ignored
    assert (state.files, state.skipped, state.more) == (len(AWKWARD), 0, False)
    assert state.contentTypes == {"text": 5, "html": 1, "docx": 1}
    manifest = read_json(s3, WORK, "jobs/translation-1/manifest/00000.json")
    assert manifest["skipped"] == []
    assert sorted(entry["path"] for entry in manifest["files"]) == sorted(AWKWARD)
    for entry in manifest["files"]:
        staged = f"jobs/translation-1/staging/{entry['type']}/{entry['staged']}"
        assert read(s3, WORK, staged) == AWKWARD[entry["path"]], entry
    # And the user's objects are untouched (copied, never moved)
    assert {key: read(s3, DATA, key) for key in keys(s3, DATA)} == before


def test_staged_names_are_flat_unique_and_keep_the_extension(s3: Any) -> None:
    # Given files of one name in several subfolders
    put(s3, {"a/x.txt": b"1", "b/x.txt": b"2", "b/c/x.TXT": b"3", "x.htm": b"4", "deep/er/x.XLSX": b"5"})
    # When staged
    stage_all(s3, a_plan())
    # Then each type has its own flat prefix of numbered, distinct names with the lowercase extension
    staged = keys(s3, WORK, "jobs/translation-1/staging/")
    assert [key.rsplit("/", 1)[0] for key in staged] == ["jobs/translation-1/staging/html"] + [
        "jobs/translation-1/staging/text"
    ] * 3 + ["jobs/translation-1/staging/xlsx"]
    names = [key.rsplit("/", 1)[1] for key in staged]
    assert len(set(names)) == len(names)
    assert all(name.split(".")[0].isdigit() and len(name.split(".")[0]) == 7 for name in names)
    assert {name.split(".", 1)[1] for name in names} == {"txt", "htm", "xlsx"}


def test_the_manifest_lists_staged_and_skipped_files(s3: Any) -> None:
    # Given translatable files, other types, an empty file, an XLIFF 2.0 and an XLIFF 1.2
    put(
        s3,
        {
            "a.txt": b"hello",
            "b.pdf": b"%PDF",
            "empty.html": b"",
            "v2.xlf": XLIFF_20,
            "v12.xlf": XLIFF_12,
        },
    )
    # When staged
    state, _ = stage_all(s3, a_plan())
    # Then the manifest maps each staged name to its path and lists the skipped files with their reasons
    manifest = read_json(s3, WORK, "jobs/translation-1/manifest/00000.json")
    staged = {entry["path"]: (entry["type"], entry["staged"]) for entry in manifest["files"]}
    assert staged == {"a.txt": ("text", "0000000.txt"), "v12.xlf": ("xliff", "0000003.xlf")}
    reasons = {entry["path"]: entry["reason"] for entry in manifest["skipped"]}
    assert set(reasons) == {"b.pdf", "empty.html", "v2.xlf"}
    assert "not a type Translate reads" in reasons["b.pdf"]
    assert reasons["empty.html"] == "the file is empty"
    assert reasons["v2.xlf"] == "XLIFF 2.0: Translate reads XLIFF 1.2 only"
    assert (state.files, state.skipped, state.contentTypes) == (2, 3, {"text": 1, "xliff": 1})
    assert state.contentTypeBytes == {"text": 5, "xliff": len(XLIFF_12)}


def test_a_large_folder_is_staged_one_listing_page_per_call(s3: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    # Given listing pages of 2 objects and a folder of 7 objects (one of them skipped)
    monkeypatch.setattr(staging, "PAGE_SIZE", 2)
    files = {f"f{n}.txt": b"x" * (n + 1) for n in range(6)} | {"f4a.pdf": b"pdf"}
    put(s3, files)
    plan = a_plan()
    # When the staging loop runs
    states = [Staged()]
    while states[-1].more:
        states.append(staging.stage_page(s3, "translation-1", plan, states[-1]))
    # Then it took ceil(7 / 2) calls, each handing the next its cursor and the counts so far
    assert len(states) - 1 == 4
    assert [s.part for s in states[1:]] == [1, 2, 3, 4]
    assert [s.more for s in states[1:]] == [True, True, True, False]
    assert all(s.cursor for s in states[1:-1]) and states[-1].cursor is None
    assert [s.files for s in states[1:]] == [2, 4, 5, 6]
    assert [s.skipped for s in states[1:]] == [0, 0, 1, 1]
    assert states[-1].contentTypes == {"text": 6}
    assert states[-1].contentTypeBytes == {"text": sum(range(1, 7))}
    # And each call wrote its own manifest page, with staged names unique across pages
    manifests = [read_json(s3, WORK, f"jobs/translation-1/manifest/{part:05d}.json") for part in range(4)]
    assert [len(m["files"]) for m in manifests] == [2, 2, 1, 1]
    staged = [entry["staged"] for m in manifests for entry in m["files"]]
    assert len(set(staged)) == 6 == len(keys(s3, WORK, "jobs/translation-1/staging/text/"))
    assert sorted(entry["path"] for m in manifests for entry in m["files"]) == sorted(files.keys() - {"f4a.pdf"})


@pytest.mark.parametrize(("limit", "value"), [("MAX_JOB_DOCUMENTS", 2), ("MAX_JOB_BYTES", 10)])
def test_more_of_a_type_than_one_translate_job_takes_stops_staging(
    s3: Any, monkeypatch: pytest.MonkeyPatch, limit: str, value: int
) -> None:
    # Given Translate's limits made small: 2 documents, or 10 bytes, of one type in one job
    monkeypatch.setattr(staging, limit, value)
    monkeypatch.setattr(staging, "PAGE_SIZE", 2)
    put(s3, {"a.txt": b"1234", "b.txt": b"1234", "c.txt": b"1234", "d.html": b"<p>"})
    plan = a_plan()
    # When staging reaches the third text file (on the second page)
    first = staging.stage_page(s3, "translation-1", plan, Staged())
    with pytest.raises(staging.StagingLimitExceeded, match=r"3 text files of 12 bytes: Translate takes at most"):
        staging.stage_page(s3, "translation-1", plan, first)
    # Then that page copied nothing and wrote no manifest
    assert len(keys(s3, WORK, "jobs/translation-1/staging/")) == 2
    assert keys(s3, WORK, "jobs/translation-1/manifest/") == ["jobs/translation-1/manifest/00000.json"]


def test_map_items_name_each_types_translate_job(s3: Any) -> None:
    plan = a_plan()
    state = Staged(more=False, part=1, files=3, contentTypes={"text": 2, "docx": 1})
    assert staging.map_items("translation-1", plan, state) == [
        {
            "slug": "docx",
            "mime": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            "files": 1,
            "jobName": "translation-1-docx",
            "inputUri": f"s3://{WORK}/jobs/translation-1/staging/docx/",
            "outputUri": f"s3://{WORK}/jobs/translation-1/translated/docx/",
        },
        {
            "slug": "text",
            "mime": "text/plain",
            "files": 2,
            "jobName": "translation-1-text",
            "inputUri": f"s3://{WORK}/jobs/translation-1/staging/text/",
            "outputUri": f"s3://{WORK}/jobs/translation-1/translated/text/",
        },
    ]


def test_the_stage_function_always_answers_every_field_its_state_selects(
    s3: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a folder of more than one listing page
    from sagestep_service.workflows.translation import handlers

    monkeypatch.setattr(staging, "PAGE_SIZE", 2)
    put(s3, {"a.txt": b"1", "b.txt": b"2", "c.html": b"3"})
    # (the function reads the job's record for a stop request)
    monkeypatch.setattr(handlers.stopping, "check", lambda store, job_id: None)
    monkeypatch.setattr(handlers, "_store", lambda: None)
    asl = json.loads((REPO / "statemachines" / "translation.asl.json").read_text())
    selected = {field.removesuffix(".$") for field in asl["States"]["Stage"]["ResultSelector"]}
    # When the Stage function is called page by page as the state machine calls it
    event: dict[str, Any] = {"jobId": "translation-1", "plan": a_plan(), "staging": {"more": True, "part": 0}}
    answers = []
    while event["staging"]["more"]:
        answer = handlers.stage(event, LambdaContext())
        answers.append(answer)
        event["staging"] = answer
    # Then every answer has each field the ResultSelector reads (a missing path fails the execution), and the
    # last one lists the Map's items
    assert len(answers) == 2
    for answer in answers:
        assert selected <= set(answer), selected - set(answer)
    assert answers[0]["items"] == []
    assert [item["slug"] for item in answers[-1]["items"]] == ["html", "text"]
