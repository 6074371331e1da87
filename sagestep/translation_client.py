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

import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sagestep_service.workflows.translation.models import (
    FilePage,
    FileResult,
    TranslationJobPage,
    TranslationJobView,
    TranslationRequest,
    TranslationStatus,
)

if TYPE_CHECKING:
    from sagestep.client import SagestepClient

#: Statuses in which a translation job has ended.
TERMINAL = frozenset({TranslationStatus.COMPLETED, TranslationStatus.COMPLETED_WITH_ERRORS, TranslationStatus.ERROR})


class TranslationWaitTimeout(Exception):
    def __init__(self, job: TranslationJobView, timeout: float) -> None:
        super().__init__(f"translation job {job.jobId} is still {job.status} after {timeout:.0f} s")
        self.job = job


class TranslationApi:
    """``/translation`` routes through a :class:`~sagestep.client.SagestepClient` (its auth, retries, errors)."""

    def __init__(self, client: SagestepClient) -> None:
        self._client = client

    def submit(
        self, request: TranslationRequest | Mapping[str, Any], *, idempotency_key: str | None = None
    ) -> TranslationJobView:
        from sagestep.client import _body, parse_request

        body = _body(parse_request(TranslationRequest, request))
        headers = {"Idempotency-Key": idempotency_key} if idempotency_key else None
        response = self._client._request("POST", "/translation", json=body, headers=headers)
        return TranslationJobView.model_validate(response.json())

    def get(self, job_id: str) -> TranslationJobView:
        return TranslationJobView.model_validate(self._client._request("GET", f"/translation/{job_id}").json())

    def list(self, limit: int = 20, cursor: str | None = None) -> TranslationJobPage:
        params: dict[str, Any] = {"limit": limit, **({"cursor": cursor} if cursor else {})}
        return TranslationJobPage.model_validate(self._client._request("GET", "/translation", params=params).json())

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

    def wait(self, job_id: str, timeout: float = 600.0, poll: float = 1.0) -> TranslationJobView:
        """Poll the job until it ends; raises :class:`TranslationWaitTimeout` after ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        while True:
            job = self.get(job_id)
            if job.status in TERMINAL:
                return job
            if time.monotonic() > deadline:
                raise TranslationWaitTimeout(job, timeout)
            time.sleep(poll)

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
