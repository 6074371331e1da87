"""The translation workflow's part of the Python client: ``client.translation`` (``POST /translation`` and the rest).

Example::

    with SagestepClient.for_local() as client:
        folder = client.translation.upload_folder("manuals/", "manuals")
        job = client.translation.submit({"inputUri": folder, "sourceLanguageCode": "en",
                                         "targetLanguageCodes": ["de", "fr"]})
        job = client.translation.wait(job.jobId)
        for result in client.translation.iter_files(job.jobId):
            print(result.path, result.language, result.url)
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from sagestep.workflow_client import WorkflowApi
from sagestep_service.workflows.translation.models import (
    FilePage,
    FileResult,
    TranslationJobPage,
    TranslationJobView,
    TranslationRequest,
    TranslationStatus,
)


class TranslationApi(WorkflowApi[TranslationJobView, TranslationJobPage]):
    """``/translation`` routes."""

    PATH = "/translation"
    REQUEST = TranslationRequest
    VIEW = TranslationJobView
    PAGE = TranslationJobPage
    TERMINAL = frozenset(
        {TranslationStatus.COMPLETED, TranslationStatus.COMPLETED_WITH_ERRORS, TranslationStatus.ERROR}
    )

    def files(self, job_id: str, limit: int = 100, cursor: str | None = None) -> FilePage:
        params: dict[str, Any] = {"limit": limit, **({"cursor": cursor} if cursor else {})}
        response = self._client._request("GET", f"/translation/{job_id}/files", params=params)
        return FilePage.model_validate(response.json())

    def iter_files(self, job_id: str, page_size: int = 100) -> Iterator[FileResult]:
        cursor: str | None = None
        while True:
            page = self.files(job_id, page_size, cursor)
            yield from page.items
            if not page.nextCursor:
                return
            cursor = page.nextCursor

    def stop(self, job_id: str) -> TranslationJobView:
        return TranslationJobView.model_validate(self._client._request("DELETE", f"/translation/{job_id}").json())

    def upload_folder(self, local: Path | str, remote: str) -> str:
        """Upload every file under the local folder ``local`` to ``remote/`` in your prefix (relative paths kept);
        returns the folder's ``s3://`` URI, ready for ``inputUri``."""
        root = Path(local)
        remote = remote.strip("/")
        uri = ""
        for path in sorted(p for p in root.rglob("*") if p.is_file()):
            uri = self._client.upload(path, f"{remote}/{path.relative_to(root).as_posix()}")
        if not uri:
            raise ValueError(f"{root} has no files")
        return uri[: uri.index(f"/{remote}/") + len(remote) + 2]
