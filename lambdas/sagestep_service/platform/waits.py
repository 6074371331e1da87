"""Event-driven waits: a Step Functions task token stored in a wait record keyed by the awaited resource and
resumed by the service's own completion event, for AWS work that has no ``.sync`` integration. No polling loop
anywhere.

A ``Waiter`` knows one kind of resource: how to check it once (closing the race with an event that came
before the token was stored) and how to read its completion events. Each workflow registers its waiters
(``Workflow.waiters`` in ``sagestep_service.platform.registry``).
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from functools import cache
from typing import Any, Protocol

from botocore.exceptions import ClientError

from sagestep_service.platform import registry
from sagestep_service.platform.jobs import JobStore, StaleToken

LOG = logging.getLogger(__name__)


@dataclass(frozen=True)
class Outcome:
    """How a wait ends: success with an output, or failure with an error name and cause."""

    output: dict[str, Any] | None = None
    error: str | None = None
    cause: str | None = None

    @property
    def succeeded(self) -> bool:
        return self.error is None


class Waiter(Protocol):
    """One kind of awaited resource."""

    resource_type: str
    detail_type: str

    def check(self, clients: Any, name: str, expect: dict[str, Any]) -> Outcome | None:
        """The outcome if the resource has already finished, else None."""

    def name_in(self, detail: dict[str, Any]) -> str:
        """The resource name an event is about."""

    def from_event(self, clients: Any, detail: dict[str, Any], expect: dict[str, Any]) -> Outcome | None:
        """The outcome an event announces, or None for an intermediate state (or an event that is not about
        this wait); ``clients`` lets a waiter confirm an ambiguous event with the resource's current state."""


@cache
def _waiters() -> tuple[dict[str, Waiter], dict[str, Waiter]]:
    """The registered waiters by resource type and by the detail-type of their events."""
    registered: list[Waiter] = list(registry.waiters())
    return {w.resource_type: w for w in registered}, {w.detail_type: w for w in registered}


def wait_key(resource_type: str, name: str) -> str:
    """What names a resource's wait record. One wait per resource at a time: an endpoint is created by one
    job and updated by one job at a time (its reservation)."""
    return f"{resource_type}#{name}"


#: How long a wait record outlives its deadline before the table's TTL removes it.
WAIT_RECORD_GRACE_SECONDS = 86_400


def resolve(store: JobStore, sfn: Any, wait_key: str, token: str, outcome: Outcome) -> bool:
    """Hand the outcome to Step Functions exactly once (the conditional removal of the wait decides who
    resumes when a check and an event race). Returns whether this call resumed the execution."""
    try:
        waiting = store.take_wait(wait_key, token)
    except StaleToken:
        return False
    try:
        if outcome.succeeded:
            sfn.send_task_success(taskToken=token, output=json.dumps(outcome.output))
        else:
            sfn.send_task_failure(taskToken=token, error=outcome.error, cause=(outcome.cause or "")[:32768])
    except ClientError as exc:
        # The execution may have timed out or been stopped meanwhile: nothing is waiting any more.
        if exc.response["Error"]["Code"] not in {"TaskTimedOut", "InvalidToken", "TaskDoesNotExist"}:
            # Not delivered (e.g. throttled): put the wait back so that the event's retry finds it.
            store.restore_wait(waiting)
            raise
        LOG.warning(
            "task token of job %s no longer accepted: %s", waiting.get("waitingJobId"), exc.response["Error"]["Code"]
        )
        return False
    return True


def register(store: JobStore, clients: Any, sfn: Any, request: dict[str, Any]) -> bool:
    """Store the wait, then check the resource once. Returns whether it resolved at once."""
    waiter = _waiters()[0][request["resource"]["type"]]
    name = request["resource"]["name"]
    expect = request.get("expect") or {}
    key = wait_key(waiter.resource_type, name)
    ttl = int(request.get("deadlineSeconds") or 0) + WAIT_RECORD_GRACE_SECONDS
    store.set_wait(key, request["jobId"], request["taskToken"], expect, ttl_seconds=ttl)
    outcome = waiter.check(clients, name, expect)
    if outcome is None:
        return False
    return resolve(store, sfn, key, request["taskToken"], outcome)


def resume(store: JobStore, clients: Any, sfn: Any, detail_type: str, detail: dict[str, Any]) -> list[str]:
    """Resume the job waiting on the resource an event is about. Returns the resumed job ids (one at most)."""
    waiter = _waiters()[1].get(detail_type)
    if waiter is None:
        LOG.info("no waiter for event %s", detail_type)
        return []
    key = wait_key(waiter.resource_type, waiter.name_in(detail))
    waiting = store.find_waiting(key)
    if waiting is None:
        return []
    outcome = waiter.from_event(clients, detail, waiting.get("waitExpect") or {})
    if outcome is None or not resolve(store, sfn, key, waiting["waitToken"], outcome):
        return []
    return [waiting["waitingJobId"]]


def resume_notification(store: JobStore, clients: Any, sfn: Any, message: str) -> list[str]:
    """Resume the job waiting on the resource an SNS message is about: the first registered waiter that
    ``accepts`` the (JSON) message handles it as an event of its ``detail_type``."""
    try:
        body = json.loads(message)
    except ValueError:
        LOG.info("notification is not JSON; ignored")
        return []
    if not isinstance(body, dict):
        return []
    for waiter in registry.waiters():
        accepts = getattr(waiter, "accepts", None)
        if accepts is not None and accepts(body):
            return resume(store, clients, sfn, waiter.detail_type, body)
    LOG.info("no waiter accepts the notification")
    return []
