"""Event-driven waits: a Step Functions task token stored in a wait record keyed by the awaited resource and
resumed by the service's own completion event, for AWS work that has no ``.sync`` integration. No polling loop
anywhere.

A ``Waiter`` knows one kind of resource: how to check it once (closing the race with an event that came
before the token was stored) and how to read its completion events. Later workflows register theirs
(Translate, Textract) in ``WAITERS``.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from typing import Any, Protocol

from botocore.exceptions import ClientError

from sagestep_service.dal.jobs import JobStore, StaleToken
from sagestep_service.logic.sagemaker_resources import describe_endpoint

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


class EndpointWaiter:
    """A SageMaker endpoint becoming InService (created, or updated to the expected config)."""

    resource_type = "sagemaker-endpoint"
    detail_type = "SageMaker Endpoint State Change"

    def check(self, clients: Any, name: str, expect: dict[str, Any]) -> Outcome | None:
        described = describe_endpoint(clients.sagemaker, name)
        if described is None:
            return Outcome(error="EndpointFailed", cause=f"endpoint {name} does not exist")
        status = described.get("EndpointStatus")
        wanted = expect.get("EndpointConfigName")
        if status == "InService" and (not wanted or described.get("EndpointConfigName") == wanted):
            return self._success(name, described)
        if status == "InService" and described.get("FailureReason"):
            # The update has already ended and was rolled back to the previous config; its event may have
            # come before the token was stored, so this check is the only one that can resume the task.
            return self._rolled_back(name, described)
        if status == "Failed":
            return self._failure(name, described)
        # InService with another config and no failure reason is the state before the update: keep waiting.
        return None

    def name_in(self, detail: dict[str, Any]) -> str:
        return str(detail.get("EndpointName", ""))

    def from_event(self, clients: Any, detail: dict[str, Any], expect: dict[str, Any]) -> Outcome | None:
        name = self.name_in(detail)
        # Events spell statuses IN_SERVICE, FAILED, ...; DescribeEndpoint spells them InService, Failed.
        status = _status_key(detail.get("EndpointStatus"))
        wanted = expect.get("EndpointConfigName")
        if status == "inservice":
            if wanted and detail.get("EndpointConfigName") not in (None, wanted):
                if detail.get("FailureReason"):
                    return self._rolled_back(name, detail)
                # InService on another config: the end of a rolled-back update, or a late event from before
                # the update began. The endpoint's current state tells them apart.
                return self.check(clients, name, expect)
            return self._success(name, detail)
        if status in {"failed", "updaterollbackfailed", "outofservice"}:
            return self._failure(name, detail)
        return None

    @staticmethod
    def _success(name: str, described: dict[str, Any]) -> Outcome:
        return Outcome(
            output={
                "endpointName": name,
                "endpointStatus": "InService",
                "endpointConfigName": described.get("EndpointConfigName"),
            }
        )

    @staticmethod
    def _rolled_back(name: str, described: dict[str, Any]) -> Outcome:
        reason = described.get("FailureReason") or "the update did not complete"
        return Outcome(
            error="EndpointRolledBack",
            cause=f"endpoint {name} was rolled back to {described.get('EndpointConfigName')}: {reason}",
        )

    @staticmethod
    def _failure(name: str, described: dict[str, Any]) -> Outcome:
        reason = described.get("FailureReason") or "no reason given"
        return Outcome(error="EndpointFailed", cause=f"endpoint {name} is {described.get('EndpointStatus')}: {reason}")


def _status_key(status: Any) -> str:
    """``IN_SERVICE`` and ``InService`` alike -> ``inservice``."""
    return str(status or "").replace("_", "").lower()


WAITERS: dict[str, Waiter] = {waiter.resource_type: waiter for waiter in (EndpointWaiter(),)}
WAITERS_BY_EVENT: dict[str, Waiter] = {waiter.detail_type: waiter for waiter in WAITERS.values()}


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
    waiter = WAITERS[request["resource"]["type"]]
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
    waiter = WAITERS_BY_EVENT.get(detail_type)
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
