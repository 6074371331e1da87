"""Reading jobs for their owner: one job, or a page of them."""

from __future__ import annotations

from typing import Any, TypeVar

from sagestep_service.platform.errors import NotFound
from sagestep_service.platform.jobs import JobStore
from sagestep_service.platform.models import JobPage, JobView
from sagestep_service.platform.submission import owned_job

V = TypeVar("V", bound=JobView)
P = TypeVar("P", bound=JobPage)


def owned(store: JobStore, job_id: str, owner: str, kind: str, field: str) -> dict[str, Any]:
    """The caller's job of ``kind`` that the request's body ``field`` names; its 404 names that field."""
    try:
        return owned_job(store, job_id, owner, kind, field)
    except NotFound as exc:
        exc.field = field
        raise


def show(store: JobStore, owner: str, kind: str, job_id: str, view: type[V]) -> V:
    """One of the caller's jobs (404 for unknown ids and other users' jobs alike), as the workflow's view."""
    return view.model_validate(owned_job(store, job_id, owner, kind))


def page(store: JobStore, owner: str, kind: str, limit: int, cursor: str | None, page_model: type[P]) -> P:
    """A page of the caller's jobs of one kind, newest first (a Query on the owner/kind index)."""
    items, next_cursor = store.page(owner, kind, limit, cursor)
    return page_model.model_validate({"items": items, "nextCursor": next_cursor})
