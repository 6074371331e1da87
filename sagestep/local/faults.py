"""One-shot fault injection for the local SageMaker emulation.

Tests (and the local runtime's admin route) arm faults; the emulation consumes them at the point where
AWS would fail. Every fault fires once: arming the same fault twice makes the next two matching calls
fail. All methods are thread-safe.

Example::

    aws.faults.fail_next_training_job("ResourceLimitExceeded: no capacity")
    aws.faults.throttle("CreateEndpoint", count=2)
    aws.faults.lose_response("CreateTrainingJob")        # the job is created, the caller gets a 500
    aws.faults.apply({"fault": "hang_next_endpoint"})   # same, from a JSON body
"""

from __future__ import annotations

import re
import threading
from collections import deque
from dataclasses import dataclass
from typing import Any, Literal

DEFAULT_TRAINING_FAILURE = "AlgorithmError: fault injected by the local emulator"
DEFAULT_ENDPOINT_FAILURE = (
    "Fault injected by the local emulator: the primary container did not pass the ping health check."
)
DEFAULT_UPDATE_FAILURE = "Fault injected by the local emulator: the new endpoint configuration failed to deploy."
DEFAULT_THROTTLE_MESSAGE = "Rate exceeded"
LOST_RESPONSE_MESSAGE = "We encountered an internal error. Please try again. (fault injected: the call took effect)"


def normalise_operation(name: str) -> str:
    """``CreateEndpoint``, ``create_endpoint`` and ``createEndpoint`` all become ``createendpoint``."""
    return re.sub(r"[^a-z0-9]", "", name.lower())


@dataclass(frozen=True)
class EndpointFault:
    """What the next endpoint creation does: ``fail`` with ``reason``, or ``hang`` in ``Creating``."""

    kind: Literal["fail", "hang"]
    reason: str = ""


class Faults:
    """Armed one-shot faults, consumed by the SageMaker emulation."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._training: deque[str] = deque()
        self._endpoint: deque[EndpointFault] = deque()
        self._update: deque[str] = deque()
        self._throttles: dict[str, list[Any]] = {}
        self._lost: dict[str, int] = {}

    # Arming ----------------------------------------------------------------------------------------

    def fail_next_training_job(self, reason: str = DEFAULT_TRAINING_FAILURE) -> None:
        """The next training job ends ``Failed`` with ``FailureReason=reason`` without running."""
        with self._lock:
            self._training.append(reason)

    def fail_next_endpoint(self, reason: str = DEFAULT_ENDPOINT_FAILURE) -> None:
        """The next CreateEndpoint ends ``Failed`` with ``FailureReason=reason``."""
        with self._lock:
            self._endpoint.append(EndpointFault("fail", reason))

    def hang_next_endpoint(self) -> None:
        """The next CreateEndpoint stays ``Creating`` until the endpoint is deleted (for deadlines)."""
        with self._lock:
            self._endpoint.append(EndpointFault("hang"))

    def fail_next_endpoint_update(self, reason: str = DEFAULT_UPDATE_FAILURE) -> None:
        """The next UpdateEndpoint's new configuration fails to deploy (rollback or ``Failed``)."""
        with self._lock:
            self._update.append(reason)

    def throttle(self, operation: str, count: int = 1, message: str = DEFAULT_THROTTLE_MESSAGE) -> None:
        """The next ``count`` calls of the SageMaker API ``operation`` (e.g. ``CreateEndpoint``) raise
        a ``ThrottlingException`` client error with ``message``."""
        if count < 1:
            raise ValueError("count must be at least 1")
        with self._lock:
            entry = self._throttles.setdefault(normalise_operation(operation), [0, message])
            entry[0] += count
            entry[1] = message

    def lose_response(self, operation: str, count: int = 1) -> None:
        """The next ``count`` calls of the SageMaker API ``operation`` take effect, but the caller gets a 500
        ``InternalFailure`` instead of the response, as when a response is lost on the way: a retry then
        meets what the first call created (e.g. a training job name already in use)."""
        if count < 1:
            raise ValueError("count must be at least 1")
        with self._lock:
            key = normalise_operation(operation)
            self._lost[key] = self._lost.get(key, 0) + count

    def apply(self, spec: dict[str, Any]) -> None:
        """Arm a fault described by a JSON object, for an HTTP admin route.

        ``{"fault": "fail_next_training_job" | "fail_next_endpoint" | "hang_next_endpoint" |
        "fail_next_endpoint_update" | "throttle" | "lose_response", "reason": ..., "operation": ...,
        "count": ...}``
        """
        kind = spec.get("fault")
        reason = spec.get("reason")
        if kind == "fail_next_training_job":
            self.fail_next_training_job(reason or DEFAULT_TRAINING_FAILURE)
        elif kind == "fail_next_endpoint":
            self.fail_next_endpoint(reason or DEFAULT_ENDPOINT_FAILURE)
        elif kind == "hang_next_endpoint":
            self.hang_next_endpoint()
        elif kind == "fail_next_endpoint_update":
            self.fail_next_endpoint_update(reason or DEFAULT_UPDATE_FAILURE)
        elif kind == "throttle":
            operation = spec.get("operation")
            if not operation:
                raise ValueError("a throttle fault needs 'operation'")
            self.throttle(str(operation), int(spec.get("count", 1)), spec.get("message") or DEFAULT_THROTTLE_MESSAGE)
        elif kind == "lose_response":
            operation = spec.get("operation")
            if not operation:
                raise ValueError("a lose_response fault needs 'operation'")
            self.lose_response(str(operation), int(spec.get("count", 1)))
        else:
            raise ValueError(f"unknown fault {kind!r}")

    def clear(self) -> None:
        """Disarm everything."""
        with self._lock:
            self._training.clear()
            self._endpoint.clear()
            self._update.clear()
            self._throttles.clear()
            self._lost.clear()

    def pending(self) -> dict[str, Any]:
        """What is armed, as JSON-friendly data."""
        with self._lock:
            return {
                "fail_next_training_job": list(self._training),
                "next_endpoint": [{"kind": f.kind, "reason": f.reason} for f in self._endpoint],
                "fail_next_endpoint_update": list(self._update),
                "throttle": {op: entry[0] for op, entry in self._throttles.items()},
                "lose_response": dict(self._lost),
            }

    # Consuming (used by the emulation) ------------------------------------------------------------

    def take_training_failure(self) -> str | None:
        with self._lock:
            return self._training.popleft() if self._training else None

    def take_endpoint_fault(self) -> EndpointFault | None:
        with self._lock:
            return self._endpoint.popleft() if self._endpoint else None

    def take_update_failure(self) -> str | None:
        with self._lock:
            return self._update.popleft() if self._update else None

    def take_throttle(self, operation: str) -> str | None:
        """The throttling message if a call of ``operation`` must be throttled now, else None."""
        key = normalise_operation(operation)
        with self._lock:
            entry = self._throttles.get(key)
            if not entry:
                return None
            entry[0] -= 1
            if entry[0] <= 0:
                del self._throttles[key]
            return str(entry[1])

    def take_lost_response(self, operation: str) -> bool:
        """Whether the response to this call of ``operation`` must be lost (the call itself takes effect)."""
        key = normalise_operation(operation)
        with self._lock:
            left = self._lost.get(key, 0)
            if left <= 0:
                return False
            if left == 1:
                del self._lost[key]
            else:
                self._lost[key] = left - 1
            return True
