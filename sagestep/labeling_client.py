"""The labeling workflow's part of the Python client: ``client.labeling`` (the reference's ``/batch/create`` and
``/batch/show``, plus stop and report).

Example::

    with SagestepClient.for_local() as client:
        manifest = client.upload(b'{"source": "great product"}\\n', "reviews/items.manifest")
        categories = client.upload(b'{"labels": [{"label": "positive"}, {"label": "negative"}]}', "reviews/labels.json")
        client.labeling.create({"batchId": "reviews-1", "labelingJobs": [{"jobName": "sentiment",
            "jobModality": "TextClassification", "jobLevel": 1, "labelCategoryConfigS3Uri": categories,
            "inputConfig": {"inputManifestS3Uri": manifest}, "workersPerObject": 3}]})
        batch = client.labeling.wait("reviews-1")
        report = client.labeling.report("reviews-1")
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

from sagestep.client import SagestepError
from sagestep_service.workflows.labeling.models import BatchList, BatchRequest, BatchStatus, BatchView
from sagestep_service.workflows.labeling.reports import BatchReport

if TYPE_CHECKING:
    from sagestep.client import SagestepClient

TERMINAL = frozenset({BatchStatus.COMPLETE, BatchStatus.FAILED, BatchStatus.STOPPED})


class BatchWaitTimeout(SagestepError):
    """The batch had not ended when the wait gave up."""

    def __init__(self, batch: BatchView, timeout: float) -> None:
        super().__init__(f"batch {batch.batchId} is still {batch.status} after {timeout:.0f} s")
        self.batch = batch


class LabelingApi:
    """``/batch`` routes."""

    def __init__(self, client: SagestepClient) -> None:
        self._client = client

    def create(self, request: BaseModel | Mapping[str, Any], *, idempotency_key: str | None = None) -> BatchView:
        from sagestep.client import _body, parse_request

        body = _body(parse_request(BatchRequest, request))
        headers = {"Idempotency-Key": idempotency_key} if idempotency_key else None
        return BatchView.model_validate(
            self._client._request("POST", "/batch/create", json=body, headers=headers).json()
        )

    def list(self) -> BatchList:
        return BatchList.model_validate(self._client._request("GET", "/batch/show").json())

    def show(self, batch_id: str) -> BatchView:
        return BatchView.model_validate(
            self._client._request("GET", "/batch/show", params={"batchId": batch_id}).json()
        )

    def stop(self, batch_id: str) -> BatchView:
        return BatchView.model_validate(self._client._request("POST", f"/batch/{batch_id}/stop").json())

    def report(self, batch_id: str) -> BatchReport:
        return BatchReport.model_validate(self._client._request("GET", f"/batch/{batch_id}/report").json())

    def wait(self, batch_id: str, timeout: float = 600.0, poll: float = 1.0) -> BatchView:
        """Poll the batch until it ends; raises :class:`BatchWaitTimeout` after ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        while True:
            batch = self.show(batch_id)
            if batch.status in TERMINAL:
                return batch
            if time.monotonic() > deadline:
                raise BatchWaitTimeout(batch, timeout)
            time.sleep(poll)
