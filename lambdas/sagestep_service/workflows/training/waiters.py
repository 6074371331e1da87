"""The training workflow's event-driven waits: a SageMaker endpoint becoming InService."""

from __future__ import annotations

from typing import Any

from sagestep_service.platform.waits import Outcome, Waiter
from sagestep_service.workflows.training.sagemaker_resources import describe_endpoint


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


WAITERS: tuple[Waiter, ...] = (EndpointWaiter(),)
