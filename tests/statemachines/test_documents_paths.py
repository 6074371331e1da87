"""The failure and retry paths of statemachines/documents.asl.json, executed by the local runtime's Step Functions
interpreter (a Distributed Map of child executions) with the real handlers, the local Textract (which reads the
PDFs) and the local Comprehend. The paths a user gets by asking run once, in ``tests/e2e/test_local_documents.py``.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from sagestep.demo import documents_samples as samples
from tests.statemachines.harness import TERMINAL, Harness, Run, execution_arn, execution_history

FAILURE_TAIL = ["RecordError", "BuildFailureNotification", "NotifyFailed", "JobFailed"]


@pytest.fixture(scope="module")
def documents(tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    root = tmp_path_factory.mktemp("samples")
    return {path.name: path.read_bytes() for path in samples.write_samples(root)}


def _upload(harness: Harness, folder: str, files: dict[str, bytes]) -> str:
    uri = ""
    for name, body in files.items():
        uri = harness.upload(f"paths/documents/{folder}/{name}", body)
    return uri


def _run(harness: Harness, body: dict[str, Any], timeout: float = 120) -> Run:
    response = httpx.post(f"{harness.info.api_url}/documents", json=body, headers=harness.headers, timeout=30)
    assert response.status_code == 202, response.text
    job_id = response.json()["jobId"]
    arn = execution_arn(harness.runtime.stack.outputs["DocumentsStateMachineArn"], job_id)
    deadline = time.monotonic() + timeout
    while (status := harness.sfn.describe_execution(executionArn=arn)["status"]) not in TERMINAL:
        assert time.monotonic() < deadline, f"{job_id} still {status} after {timeout} s"
        time.sleep(0.2)
    harness.runtime.wait_idle(20)
    return Run(job_id, status, harness.job("documents", job_id), execution_history(harness.sfn, arn))


def _notes(harness: Harness, run: Run) -> list[dict[str, Any]]:
    return harness.notifications_for(run.job_id)


def test_a_failed_analysis_fails_a_single_document_job(harness: Harness, documents: dict[str, bytes]) -> None:
    # Given Textract fails the next analysis
    harness.runtime.faults.textract.fail_next_job("UNSUPPORTED_DOCUMENT")
    uri = _upload(harness, "failed", {"report.pdf": documents["report.pdf"]})
    # When the document is analysed
    run = _run(harness, {"documentUri": uri})
    # Then the document's record says why, and the job (every document failed) ends in ERROR with that reason
    assert run.status == "FAILED" and run.entered[-len(FAILURE_TAIL) :] == FAILURE_TAIL
    assert "EveryDocumentFailed" in run.entered
    assert run.statuses == ["SUBMITTED", "ANALYSING", "ERROR"]
    assert run.record["error"] == "TextractJobFailed" and "UNSUPPORTED_DOCUMENT" in run.record["errorCause"]
    [document] = run.record["summary"]["items"]
    assert document["status"] == "FAILED" and document["error"] == "TextractJobFailed"
    [note] = _notes(harness, run)
    assert note["attributes"] == {"kind": "documents", "status": "ERROR"}


def test_a_partial_success_keeps_the_pages_read_and_records_the_warnings(
    harness: Harness, documents: dict[str, bytes]
) -> None:
    # Given Textract loses page 2 of the next analysis
    harness.runtime.faults.textract.partial_next_job([2])
    uri = _upload(harness, "partial", {"report.pdf": documents["report.pdf"]})
    # When the document is analysed
    run = _run(harness, {"documentUri": uri})
    # Then the job completes with Textract's status and warnings on the document, and only page 1's paragraphs
    assert run.record["status"] == "COMPLETED"
    [document] = run.record["summary"]["items"]
    assert document["textractStatus"] == "PARTIAL_SUCCESS"
    assert document["warnings"] and document["warnings"][0]["Pages"] == [2]
    paragraphs = httpx.get(
        f"{harness.info.api_url}/documents/{run.job_id}/paragraphs", headers=harness.headers, timeout=30
    ).json()["items"]
    assert paragraphs and all(p["pages"] == [1] for p in paragraphs)


def test_an_analysis_that_never_ends_fails_at_the_deadline(harness: Harness, documents: dict[str, bytes]) -> None:
    # Given a Textract analysis that never finishes (never notified), and a 10 s deadline
    harness.runtime.faults.textract.hang_next_job()
    uri = _upload(harness, "lost", {"a.pdf": documents["columns.pdf"]})
    folder = uri.rsplit("/", 1)[0] + "/"
    # When the folder is analysed
    run = _run(harness, {"folderUri": folder, "deadlineSeconds": 10})
    # Then the document fails with the deadline (its child execution caught the timeout) and the job records it
    assert run.statuses == ["SUBMITTED", "ANALYSING", "ERROR"]
    assert run.record["error"] == "TextractDeadlineExceeded"
    assert "10 s" in run.record["errorCause"] or "deadline" in run.record["errorCause"]
    assert len(_notes(harness, run)) == 1


def test_a_failed_document_of_a_folder_leaves_the_others_completed(
    harness: Harness, documents: dict[str, bytes], tmp_path: Path
) -> None:
    # Given a folder of a PDF and a file that only looks like one
    _upload(harness, "mixed", {"good.pdf": documents["columns.pdf"]})
    uri = _upload(harness, "mixed", {"broken.pdf": b"%PDF-1.4 this is no PDF"})
    # When the folder is analysed
    run = _run(harness, {"folderUri": uri.rsplit("/", 1)[0] + "/"})
    # Then the job completes WITH ERRORS: one document analysed, the other failed with Textract's reason
    assert run.record["status"] == "COMPLETED_WITH_ERRORS"
    items = {d["path"]: d for d in run.record["summary"]["items"]}
    assert items["good.pdf"]["status"] == "COMPLETED" and items["good.pdf"]["paragraphs"] > 0
    assert items["broken.pdf"]["status"] == "FAILED" and items["broken.pdf"]["error"] == "TextractJobFailed"
    [note] = _notes(harness, run)
    assert note["attributes"]["status"] == "COMPLETED_WITH_ERRORS"


def test_throttled_textract_and_comprehend_calls_are_retried(harness: Harness, documents: dict[str, bytes]) -> None:
    # Given Textract throttles the next start and Comprehend the next three sentiment batches (past boto3's retries)
    faults = harness.runtime.faults
    faults.throttle("StartDocumentAnalysis", count=1)
    faults.throttle("BatchDetectSentiment", count=3)
    uri = _upload(harness, "throttled", {"columns.pdf": documents["columns.pdf"]})
    # When the document is analysed
    run = _run(harness, {"documentUri": uri})
    # Then the state's Retry absorbed Textract's throttle, the analysis Comprehend's, and the job completed
    assert not [f for f in faults.armed() if f.fault == "throttle"], "a throttle was never hit"
    assert run.record["status"] == "COMPLETED", run.record.get("errorCause")
    [document] = run.record["summary"]["items"]
    assert document["sentimentDistribution"]["POSITIVE"] >= 1


def test_an_item_comprehend_fails_is_retried_in_a_later_batch(harness: Harness, documents: dict[str, bytes]) -> None:
    # Given Comprehend reports the first text of the next entities batch as an internal error
    harness.runtime.faults.comprehend.fail_batch_item(0, operation="BatchDetectEntities")
    uri = _upload(harness, "item", {"columns.pdf": documents["columns.pdf"]})
    # When the document is analysed
    run = _run(harness, {"documentUri": uri})
    # Then the item was retried and every paragraph has its entities, none an error
    assert run.record["status"] == "COMPLETED"
    paragraphs = httpx.get(
        f"{harness.info.api_url}/documents/{run.job_id}/paragraphs", headers=harness.headers, timeout=30
    ).json()["items"]
    assert paragraphs[0]["entities"] and not any(p.get("errors") for p in paragraphs)
