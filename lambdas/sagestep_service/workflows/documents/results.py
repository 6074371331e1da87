"""A document's results: Textract's blocks paged into S3, segmented, analysed by Comprehend and written as a row per
paragraph (the paragraphs table), a JSON export (the owner's ``insights/`` folder) and the document's summary."""

from __future__ import annotations

import json
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

from sagestep_service.workflows.documents import textract_service
from sagestep_service.workflows.documents.models import DocumentItem, DocumentSummary

#: Key phrases and entities kept per paragraph row (a DynamoDB item stays far below 400 KB).
MAX_ITEMS_PER_ROW = 50


def blocks_prefix(plan: dict[str, Any], index: int) -> str:
    return f"{plan['work']['prefix']}documents/{index:05d}/blocks/"


def summary_key(plan: dict[str, Any], index: int) -> str:
    return f"{plan['work']['prefix']}documents/{index:05d}/summary.json"


def fetch_blocks(textract: Any, s3: Any, plan: dict[str, Any], document: DocumentItem, job_id: str) -> dict[str, Any]:
    """Page every GetDocumentAnalysis result (1,000 blocks a call) into S3; returns what the state needs."""
    work = plan["work"]
    token: str | None = None
    page = blocks = 0
    status, message, pages = "IN_PROGRESS", None, 0
    warnings: list[dict[str, Any]] = []
    while True:
        kwargs: dict[str, Any] = {"JobId": job_id, "MaxResults": textract_service.MAX_BLOCKS_PER_PAGE}
        if token:
            kwargs["NextToken"] = token
        answer = textract.get_document_analysis(**kwargs)
        status = str(answer.get("JobStatus"))
        warnings = answer.get("Warnings") or warnings
        message = answer.get("StatusMessage") or message
        pages = int((answer.get("DocumentMetadata") or {}).get("Pages") or pages)
        s3.put_object(
            Bucket=work["bucket"],
            Key=f"{blocks_prefix(plan, document.index)}{page:05d}.json",
            Body=json.dumps(answer.get("Blocks", [])).encode(),
        )
        blocks += len(answer.get("Blocks", []))
        page += 1
        token = answer.get("NextToken")
        if not token:
            break
    if status == "FAILED":
        raise TextractJobFailed(f"Textract job {job_id} failed: {message or 'no reason given'}")
    return {"jobId": job_id, "status": status, "pages": pages, "blocks": blocks, "parts": page, "warnings": warnings}


class TextractJobFailed(Exception):
    """Textract's own status of the job is FAILED."""


def read_blocks(s3: Any, plan: dict[str, Any], index: int) -> list[dict[str, Any]]:
    work = plan["work"]
    blocks: list[dict[str, Any]] = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=work["bucket"], Prefix=blocks_prefix(plan, index)):
        for item in page.get("Contents", []):
            blocks.extend(json.loads(s3.get_object(Bucket=work["bucket"], Key=item["Key"])["Body"].read()))
    return blocks


def _decimal(value: Any) -> Any:
    """DynamoDB takes numbers as Decimal."""
    if isinstance(value, float):
        return Decimal(str(round(value, 6)))
    if isinstance(value, dict):
        return {k: _decimal(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_decimal(v) for v in value]
    return value


def position(document: int, paragraph: int) -> str:
    return f"{document:05d}#{paragraph:06d}"


def rows(job_id: str, document: DocumentItem, paragraphs: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    for paragraph in paragraphs:
        row = {
            "jobId": job_id,
            "position": position(document.index, int(paragraph["index"])),
            "document": document.index,
            "path": document.path,
            **paragraph,
        }
        row["keyPhrases"] = row.get("keyPhrases", [])[:MAX_ITEMS_PER_ROW]
        row["entities"] = row.get("entities", [])[:MAX_ITEMS_PER_ROW]
        yield _decimal(row)


def write_rows(table: Any, job_id: str, document: DocumentItem, paragraphs: list[dict[str, Any]]) -> int:
    """One row per paragraph, written in batches (BatchWriteItem through the resource's batch writer, which
    resends unprocessed items)."""
    written = 0
    with table.batch_writer(overwrite_by_pkeys=["jobId", "position"]) as batch:
        for row in rows(job_id, document, paragraphs):
            batch.put_item(Item=row)
            written += 1
    return written


def write_summary(s3: Any, plan: dict[str, Any], summary: DocumentSummary) -> None:
    s3.put_object(
        Bucket=plan["work"]["bucket"],
        Key=summary_key(plan, summary.index),
        Body=summary.model_dump_json().encode(),
    )


def export(s3: Any, plan: dict[str, Any], document: DocumentItem, body: dict[str, Any]) -> str:
    """The document's paragraphs and insights as JSON in the owner's ``insights/<jobId>/`` folder."""
    output = plan["output"]
    key = f"{output['prefix']}{document.path}.json"
    s3.put_object(
        Bucket=output["bucket"],
        Key=key,
        Body=json.dumps(body, ensure_ascii=False).encode(),
        ContentType="application/json",
    )
    return f"s3://{output['bucket']}/{key}"


def read_summaries(
    s3: Any, plan: dict[str, Any], paths: list[str], start: int = 0, stop: int | None = None
) -> list[DocumentSummary]:
    """The summary of each document of the manifest (``paths``, by index; ``start`` to ``stop``); one that left none
    failed."""
    from concurrent.futures import ThreadPoolExecutor

    work = plan["work"]

    def read(index: int) -> DocumentSummary:
        try:
            body = s3.get_object(Bucket=work["bucket"], Key=summary_key(plan, index))["Body"].read()
        except s3.exceptions.NoSuchKey:
            return DocumentSummary(index=index, path=paths[index], status="FAILED", error="NoResult",
                                   errorCause="the document's analysis left no result")  # fmt: skip
        return DocumentSummary.model_validate_json(body)

    with ThreadPoolExecutor(max_workers=16) as pool:
        return list(pool.map(read, range(start, len(paths) if stop is None else min(stop, len(paths)))))
