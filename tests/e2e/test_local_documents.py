"""The documents workflow as its users see it: PDFs and a scanned image analysed through the local API (a folder job
on the Distributed Map, and an upload under ``documents/`` that starts its own job), the paragraphs read back.

The local Textract really reads the PDFs' text layer and OCRs the image; the local Comprehend really scores the
text. The failure paths are in ``tests/statemachines/test_documents_paths.py``.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from sagestep.client import NotFoundError
from sagestep.demo import documents_samples as samples
from sagestep_service.workflows.documents.models import DocumentsJobView, ParagraphView
from tests.e2e.conftest import Backend
from tests.statemachines.harness import execution_arn, execution_history, states_entered


@pytest.fixture(scope="module")
def folder_job(
    backend: Backend, tmp_path_factory: pytest.TempPathFactory
) -> tuple[DocumentsJobView, list[ParagraphView]]:
    root = tmp_path_factory.mktemp("documents")
    samples.write_samples(root)
    (root / "notes.docx").write_bytes(b"not for Textract")
    folder = backend.client.translation.upload_folder(root, "e2e/insights")
    job = backend.client.documents.submit({"folderUri": folder}, idempotency_key="e2e-docs-1")
    job = backend.client.documents.wait(job.jobId, timeout=180, poll=0.25)
    backend.runtime.wait_idle(10)
    return job, list(backend.client.documents.iter_paragraphs(job.jobId, page_size=4))


def _by_document(job: DocumentsJobView, paragraphs: list[ParagraphView], name: str) -> list[ParagraphView]:
    assert job.summary is not None
    [document] = [d for d in job.summary.items if d.path == name]
    return [p for p in paragraphs if p.document == document.index]


def test_a_folder_of_documents_becomes_paragraphs_with_insights(
    backend: Backend, folder_job: tuple[DocumentsJobView, list[ParagraphView]]
) -> None:
    job, paragraphs = folder_job
    # Then every document was analysed, the unsupported file skipped with its reason
    assert job.status == "COMPLETED", (job.error, job.errorCause)
    assert job.summary is not None
    assert (job.summary.documents, job.summary.completed, job.summary.failed) == (3, 3, 0)
    assert [s["path"] for s in job.summary.skipped] == ["notes.docx"]
    assert job.summary.paragraphs == len(paragraphs)
    assert all(d.textractStatus == "SUCCEEDED" and d.technique == "layout" for d in job.summary.items)
    # And the report keeps its two "Summary" sections apart, joins the paragraph across the page break and drops
    # the running header, footer and page numbers
    report = _by_document(job, paragraphs, "report.pdf")
    texts = [p.text for p in report]
    assert [p.header for p in report].count("Summary") >= 2
    [continued] = [p for p in report if p.text.startswith(samples.CONTINUED[:40])]
    assert continued.pages == [1, 2] and continued.text.rstrip().endswith(samples.CONTINUED.rstrip()[-30:])
    assert not any(samples.RUNNING_HEADER in t or t.strip() == samples.FOOTER for t in texts)
    # And the two columns are read left column first
    columns = [p.text for p in _by_document(job, paragraphs, "columns.pdf")]
    order = [
        next(i for i, t in enumerate(columns) if t.startswith(s[:30]))
        for s in (*samples.COLUMN_LEFT, *samples.COLUMN_RIGHT)
    ]
    assert order == sorted(order)
    # And the scanned image was read by OCR
    scan = _by_document(job, paragraphs, "scan.png")
    assert scan and scan[0].header == samples.SCAN_HEADER
    # And Comprehend's sentiment, key phrases and entities are on each paragraph, offsets into its text
    positive = next(p for p in report if p.text.startswith(samples.POSITIVE[:30]))
    negative = next(p for p in report if p.text.startswith(samples.NEGATIVE[:30]))
    assert (positive.sentiment, negative.sentiment) == ("POSITIVE", "NEGATIVE")
    for paragraph in paragraphs:
        for item in (*paragraph.keyPhrases, *paragraph.entities):
            assert paragraph.text[item["beginOffset"] : item["endOffset"]] == item["text"]
    assert any(e["type"] == "PERSON" and e["text"] == "Maria Garcia" for e in positive.entities)
    # And one notification, and the execution fanned out on the Distributed Map
    [note] = backend.notifications_for(job.jobId)
    assert note["attributes"] == {"kind": "documents", "status": "COMPLETED"}
    arn = execution_arn(backend.runtime.stack.outputs["DocumentsStateMachineArn"], job.jobId)
    entered = states_entered(execution_history(backend.sfn, arn))
    assert entered[:4] == ["RecordAnalysing", "ListDocuments", "AnythingToAnalyse", "AnalyseEachDocument"]
    assert entered[-3:] == ["RecordCompleted", "NotifySucceeded", "Succeeded"]
    [run] = backend.sfn.list_map_runs(executionArn=arn)["mapRuns"]
    counts = backend.sfn.describe_map_run(mapRunArn=run["mapRunArn"])["executionCounts"]
    assert (counts["total"], counts["succeeded"]) == (3, 3)


def test_each_document_has_its_record_page_by_page(
    backend: Backend, folder_job: tuple[DocumentsJobView, list[ParagraphView]]
) -> None:
    job, _ = folder_job
    first = backend.client.documents.documents(job.jobId, limit=2)
    assert [d.index for d in first.items] == [0, 1] and first.nextCursor == "2"
    rest = backend.client.documents.documents(job.jobId, limit=2, cursor=first.nextCursor)
    assert [d.index for d in rest.items] == [2] and rest.nextCursor is None
    assert job.summary is not None and [*first.items, *rest.items] == job.summary.items
    bad = backend.http("GET", f"/documents/{job.jobId}/documents", params={"cursor": "99"})
    assert bad.status_code == 400 and bad.json()["field"] == "cursor"


def test_paragraphs_page_by_cursor_and_document(
    backend: Backend, folder_job: tuple[DocumentsJobView, list[ParagraphView]]
) -> None:
    job, paragraphs = folder_job
    first = backend.client.documents.paragraphs(job.jobId, limit=2)
    assert [p.text for p in first.items] == [p.text for p in paragraphs[:2]] and first.nextCursor
    only = list(backend.client.documents.iter_paragraphs(job.jobId, document=1))
    assert only and {p.document for p in only} == {1}
    bad = backend.http("GET", f"/documents/{job.jobId}/paragraphs", params={"cursor": "eyJqb2JJZCI6ICJ4In0="})
    assert bad.status_code == 400 and bad.json()["field"] == "cursor"
    assert backend.http("GET", f"/documents/{job.jobId}/paragraphs", params={"document": -1}).status_code == 400


def test_an_upload_under_documents_starts_its_own_job(backend: Backend, tmp_path: Path) -> None:
    # Given a PDF uploaded under the user's documents/ folder (a name with spaces)
    samples.write_samples(tmp_path)
    uri = backend.client.upload((tmp_path / "report.pdf").read_bytes(), "documents/Q1 report final.pdf")
    # Then a job for it appears and completes, with no POST
    deadline = time.monotonic() + 120
    while not (jobs := [j for j in backend.client.documents.list().items if j.request.get("documentUri") == uri]):
        assert time.monotonic() < deadline, "the upload started no job"
        time.sleep(0.25)
    [job] = jobs
    job = backend.client.documents.wait(job.jobId, timeout=120, poll=0.25)
    assert job.status == "COMPLETED", (job.error, job.errorCause)
    assert job.summary is not None and job.summary.items[0].path == "Q1 report final.pdf"


def test_another_user_sees_nothing(backend: Backend, folder_job: tuple[DocumentsJobView, list[ParagraphView]]) -> None:
    job, _ = folder_job
    other = backend.other_user("documents-other@example.com")
    with pytest.raises(NotFoundError):
        other.documents.get(job.jobId)
    with pytest.raises(NotFoundError):
        other.documents.paragraphs(job.jobId)


@pytest.mark.parametrize(
    ("body", "field", "fragment"),
    [
        ({"documentUri": "MINE/e2e/insights/notes.docx"}, "documentUri", "not a document Textract reads"),
        ({"documentUri": "MINE/e2e/insights/missing.pdf"}, "documentUri", "no such file"),
        ({"folderUri": "MINE/e2e/nothing-here/"}, "folderUri", "empty"),
        ({"documentUri": "s3://other-bucket/users/x/a.pdf"}, "documentUri", "must be under"),
        ({}, "body", "exactly one of documentUri and folderUri"),
        ({"documentUri": "MINE/e2e/insights/report.pdf", "languageCode": "xx"}, "languageCode", "not a language"),
        ({"documentUri": "MINE/e2e/insights/report.pdf", "segmentation": "magic"}, "segmentation", ""),
    ],
)
def test_a_bad_request_is_refused_naming_the_field(
    backend: Backend,
    folder_job: tuple[DocumentsJobView, list[ParagraphView]],
    body: dict[str, Any],
    field: str,
    fragment: str,
) -> None:
    mine = backend.uri("").rstrip("/")
    response = backend.http(
        "POST", "/documents", json={k: v.replace("MINE", mine) if isinstance(v, str) else v for k, v in body.items()}
    )
    assert response.status_code == 400, response.text
    assert response.json()["field"] == field, response.json()
    assert fragment in response.json()["message"]
