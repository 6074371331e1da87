"""What each workflow's part of the Python client shares: submit, show, list and wait on one kind of job through a
:class:`~sagestep.client.SagestepClient` (its auth, retries and errors). A workflow's API class names its path and
models and adds its own routes (``client.translation``, ``client.documents``)."""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, ClassVar, Generic, TypeVar

from pydantic import BaseModel

from sagestep.client import SagestepError
from sagestep_service.platform.models import JobPage, JobView

if TYPE_CHECKING:
    from sagestep.client import SagestepClient

V = TypeVar("V", bound=JobView)
P = TypeVar("P", bound=JobPage)


class WorkflowWaitTimeout(SagestepError):
    """The job had not ended when the wait gave up (the CLI reports it in one line, as every client error)."""

    def __init__(self, job: JobView, timeout: float) -> None:
        super().__init__(f"{job.kind} job {job.jobId} is still {job.status} after {timeout:.0f} s")
        self.job = job


class WorkflowApi(Generic[V, P]):
    """One workflow's jobs: ``PATH`` (e.g. ``/translation``), its request, view and page models, and the statuses
    in which a job has ended."""

    PATH: ClassVar[str]
    REQUEST: ClassVar[type[BaseModel]]
    VIEW: type[V]
    PAGE: type[P]
    TERMINAL: ClassVar[frozenset[str]]

    def __init__(self, client: SagestepClient) -> None:
        self._client = client

    def submit(self, request: BaseModel | Mapping[str, Any], *, idempotency_key: str | None = None) -> V:
        from sagestep.client import _body, parse_request

        body = _body(parse_request(self.REQUEST, request))
        headers = {"Idempotency-Key": idempotency_key} if idempotency_key else None
        return self.VIEW.model_validate(self._client._request("POST", self.PATH, json=body, headers=headers).json())

    def get(self, job_id: str) -> V:
        return self.VIEW.model_validate(self._client._request("GET", f"{self.PATH}/{job_id}").json())

    def list(self, limit: int = 20, cursor: str | None = None) -> P:
        params: dict[str, Any] = {"limit": limit, **({"cursor": cursor} if cursor else {})}
        return self.PAGE.model_validate(self._client._request("GET", self.PATH, params=params).json())

    def wait(self, job_id: str, timeout: float = 600.0, poll: float = 1.0) -> V:
        """Poll the job until it ends; raises :class:`WorkflowWaitTimeout` after ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        while True:
            job = self.get(job_id)
            if job.status in self.TERMINAL:
                return job
            if time.monotonic() > deadline:
                raise WorkflowWaitTimeout(job, timeout)
            time.sleep(poll)
