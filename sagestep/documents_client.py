"""The documents workflow's part of the Python client: ``client.documents`` (``POST /documents`` and the rest).

Example::

    with SagestepClient.for_local() as client:
        uri = client.upload("report.pdf", "reports/report.pdf")
        job = client.documents.wait(client.documents.submit({"documentUri": uri}).jobId)
        for paragraph in client.documents.iter_paragraphs(job.jobId):
            print(paragraph.header, paragraph.sentiment, paragraph.text[:60])
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from sagestep.workflow_client import WorkflowApi
from sagestep_service.workflows.documents.models import (
    DocumentPage,
    DocumentsJobPage,
    DocumentsJobView,
    DocumentsRequest,
    DocumentsStatus,
    ParagraphPage,
    ParagraphView,
)


class DocumentsApi(WorkflowApi[DocumentsJobView, DocumentsJobPage]):
    """``/documents`` routes."""

    PATH = "/documents"
    REQUEST = DocumentsRequest
    VIEW = DocumentsJobView
    PAGE = DocumentsJobPage
    TERMINAL = frozenset({DocumentsStatus.COMPLETED, DocumentsStatus.COMPLETED_WITH_ERRORS, DocumentsStatus.ERROR})

    def documents(self, job_id: str, limit: int = 100, cursor: str | None = None) -> DocumentPage:
        """One page of the job's per-document records (``summary.items`` holds the first 100 only)."""
        params: dict[str, Any] = {"limit": limit, **({"cursor": cursor} if cursor else {})}
        return DocumentPage.model_validate(
            self._client._request("GET", f"/documents/{job_id}/documents", params=params).json()
        )

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
