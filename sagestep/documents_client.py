"""The documents workflow's part of the Python client: ``client.documents`` (``POST /documents`` and the rest).

Example::

    with SagestepClient.for_local() as client:
        uri = client.upload("report.pdf", "reports/report.pdf")
        job = client.documents.wait(client.documents.submit({"documentUri": uri}).jobId)
        for paragraph in client.documents.iter_paragraphs(job.jobId):
            print(paragraph.header, paragraph.sentiment, paragraph.text[:60])
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any

from sagestep_service.workflows.documents.models import (
    DocumentsJobPage,
    DocumentsJobView,
    DocumentsRequest,
    DocumentsStatus,
    ParagraphPage,
    ParagraphView,
)

if TYPE_CHECKING:
    from sagestep.client import SagestepClient

TERMINAL = frozenset({DocumentsStatus.COMPLETED, DocumentsStatus.COMPLETED_WITH_ERRORS, DocumentsStatus.ERROR})


class DocumentsWaitTimeout(Exception):
    def __init__(self, job: DocumentsJobView, timeout: float) -> None:
        super().__init__(f"documents job {job.jobId} is still {job.status} after {timeout:.0f} s")
        self.job = job


class DocumentsApi:
    """``/documents`` routes through a :class:`~sagestep.client.SagestepClient` (its auth, retries, errors)."""

    def __init__(self, client: SagestepClient) -> None:
        self._client = client

    def submit(
        self, request: DocumentsRequest | Mapping[str, Any], *, idempotency_key: str | None = None
    ) -> DocumentsJobView:
        from sagestep.client import _body, parse_request

        body = _body(parse_request(DocumentsRequest, request))
        headers = {"Idempotency-Key": idempotency_key} if idempotency_key else None
        response = self._client._request("POST", "/documents", json=body, headers=headers)
        return DocumentsJobView.model_validate(response.json())

    def get(self, job_id: str) -> DocumentsJobView:
        return DocumentsJobView.model_validate(self._client._request("GET", f"/documents/{job_id}").json())

    def list(self, limit: int = 20, cursor: str | None = None) -> DocumentsJobPage:
        params: dict[str, Any] = {"limit": limit, **({"cursor": cursor} if cursor else {})}
        return DocumentsJobPage.model_validate(self._client._request("GET", "/documents", params=params).json())

    def paragraphs(
        self, job_id: str, limit: int = 50, cursor: str | None = None, document: int | None = None
    ) -> ParagraphPage:
        params: dict[str, Any] = {"limit": limit}
        if cursor:
            params["cursor"] = cursor
        if document is not None:
            params["document"] = document
        response = self._client._request("GET", f"/documents/{job_id}/paragraphs", params=params)
        return ParagraphPage.model_validate(response.json())

    def iter_paragraphs(
        self, job_id: str, page_size: int = 100, document: int | None = None
    ) -> Iterator[ParagraphView]:
        cursor: str | None = None
        while True:
            page = self.paragraphs(job_id, page_size, cursor, document)
            yield from page.items
            if not page.nextCursor:
                return
            cursor = page.nextCursor

    def wait(self, job_id: str, timeout: float = 600.0, poll: float = 1.0) -> DocumentsJobView:
        deadline = time.monotonic() + timeout
        while True:
            job = self.get(job_id)
            if job.status in TERMINAL:
                return job
            if time.monotonic() > deadline:
                raise DocumentsWaitTimeout(job, timeout)
            time.sleep(poll)
