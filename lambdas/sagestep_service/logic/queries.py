"""Reading jobs for their owner: one job, or a page of them."""

from __future__ import annotations

from sagestep_service.dal.jobs import JobStore
from sagestep_service.logic.submission import owned_job
from sagestep_service.models.jobs import JobKind, JobPage, JobView


def show(store: JobStore, owner: str, kind: JobKind, job_id: str) -> JobView:
    """One of the caller's jobs (404 for unknown ids and other users' jobs alike)."""
    return JobView.model_validate(owned_job(store, job_id, owner, kind))


def page(store: JobStore, owner: str, kind: JobKind, limit: int, cursor: str | None) -> JobPage:
    """A page of the caller's jobs of one kind, newest first (a Query on the owner/kind index)."""
    items, next_cursor = store.page(owner, kind.value, limit, cursor)
    return JobPage(items=[JobView.model_validate(i) for i in items], nextCursor=next_cursor)
