"""One-shot fault injection for the local emulation (SageMaker calls, jobs and endpoints; Lambda functions;
Translate jobs, see :mod:`sagestep.local.translate_faults`; Textract jobs, see :mod:`sagestep.local.textract_faults`;
Comprehend batch calls, see :mod:`sagestep.local.comprehend_faults`; Ground Truth labeling jobs, see
:mod:`sagestep.local.labeling_faults`).

Tests (and the local runtime's admin route) arm faults; the emulation consumes them at the point where
AWS would fail. Every fault fires once: arming the same fault twice makes the next two matching calls
fail. What is armed can be listed (:meth:`Faults.armed`) and disarmed, all or one kind
(:meth:`Faults.clear`). All methods are thread-safe.

Example::

    aws.faults.fail_next_training_job("ResourceLimitExceeded: no capacity")
    aws.faults.throttle("CreateEndpoint", count=20)
    aws.faults.lose_response("CreateTrainingJob")        # the job is created, the caller gets a 500
    aws.faults.fail_call("CreateEndpointConfig", "ValidationException", "Invalid instance type")  # refused, no effect
    aws.faults.apply({"fault": "hang_next_endpoint"})   # same, from a JSON body
    aws.faults.armed()                                   # [ArmedFault("fail_next_training_job", 1, ...), ...]
    aws.faults.clear("throttle")                         # the throttles not yet hit; clear() disarms everything
    aws.faults.translate.fail_next_job("no access")      # Translate jobs: ``faults.translate``
    aws.faults.textract.partial_next_job([2])            # Textract jobs: ``faults.textract``
    aws.faults.comprehend.fail_batch_item(2)             # Comprehend batch calls: ``faults.comprehend``
    aws.faults.labeling.hang_next_job("batch-*")         # Ground Truth labeling jobs: ``faults.labeling``
"""

from __future__ import annotations

import re
import threading
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Literal

from sagestep.local.comprehend_faults import COMPREHEND_FAULT_KINDS, ComprehendFaults
from sagestep.local.labeling_faults import LABELING_FAULT_KINDS, LabelingFaults
from sagestep.local.textract_faults import TEXTRACT_FAULT_KINDS, TextractFaults
from sagestep.local.translate_faults import TRANSLATE_FAULT_KINDS, TranslateFaults

DEFAULT_TRAINING_FAILURE = "AlgorithmError: fault injected by the local emulator"
DEFAULT_ENDPOINT_FAILURE = (
    "Fault injected by the local emulator: the primary container did not pass the ping health check."
)
DEFAULT_UPDATE_FAILURE = "Fault injected by the local emulator: the new endpoint configuration failed to deploy."
DEFAULT_THROTTLE_MESSAGE = "Rate exceeded"
LOST_RESPONSE_MESSAGE = "We encountered an internal error. Please try again. (fault injected: the call took effect)"
DEFAULT_CALL_FAILURE_CODE = "ValidationException"
DEFAULT_CALL_FAILURE_MESSAGE = "Fault injected by the local emulator: the request was refused."

#: The SageMaker and Lambda fault kinds, in the order :meth:`Faults.armed` lists them (the ``"fault"`` of
#: :meth:`Faults.apply`); :data:`ALL_FAULT_KINDS` adds Translate's.
FAULT_KINDS = (
    "fail_next_training_job",
    "fail_next_endpoint",
    "hang_next_endpoint",
    "fail_next_endpoint_update",
    "throttle",
    "lose_response",
    "fail_call",
    "fail_function",
)
#: Every fault kind: the SageMaker and Lambda ones, then Translate's (:data:`TRANSLATE_FAULT_KINDS`).
ALL_FAULT_KINDS: tuple[str, ...] = FAULT_KINDS + TRANSLATE_FAULT_KINDS
ALL_FAULT_KINDS += TEXTRACT_FAULT_KINDS  # Textract's (:data:`~sagestep.local.textract_faults.TEXTRACT_FAULT_KINDS`)
ALL_FAULT_KINDS += (
    COMPREHEND_FAULT_KINDS  # Comprehend's (:data:`~sagestep.local.comprehend_faults.COMPREHEND_FAULT_KINDS`)
)
ALL_FAULT_KINDS += LABELING_FAULT_KINDS  # Ground Truth's (:data:`~sagestep.local.labeling_faults.LABELING_FAULT_KINDS`)


def normalise_operation(name: str) -> str:
    """``CreateEndpoint``, ``create_endpoint`` and ``createEndpoint`` all become ``createendpoint``."""
    return re.sub(r"[^a-z0-9]", "", name.lower())


@dataclass(frozen=True)
class EndpointFault:
    """What the next endpoint creation does: ``fail`` with ``reason``, or ``hang`` in ``Creating``."""

    kind: Literal["fail", "hang"]
    reason: str = ""


@dataclass(frozen=True)
class ArmedFault:
    """One armed fault as :meth:`Faults.armed` lists it.

    ``fault`` is its kind (one of :data:`FAULT_KINDS`), ``remaining`` how many more calls it will hit,
    ``operation`` the SageMaker API of a per-call fault (``throttle``, ``lose_response``, ``fail_call``) as it was
    armed, ``reason`` the failure reason of a failing job or endpoint, ``message`` the error message of a throttle or
    a refused call, ``code`` the error code of a refused call, ``file`` the file-name glob of a failing
    translation file.
    """

    fault: str
    remaining: int
    operation: str | None = None
    reason: str | None = None
    message: str | None = None
    code: str | None = None
    file: str | None = None

    def to_json(self) -> dict[str, Any]:
        """The JSON object of the admin route (fields that do not apply are left out)."""
        fields = {
            "fault": self.fault,
            "remaining": self.remaining,
            "operation": self.operation,
            "reason": self.reason,
            "message": self.message,
            "code": self.code,
            "file": self.file,
        }
        return {name: value for name, value in fields.items() if value is not None}

    @classmethod
    def from_json(cls, value: dict[str, Any]) -> ArmedFault:
        """The inverse of :meth:`to_json` (for the client)."""
        return cls(
            fault=str(value["fault"]),
            remaining=int(value["remaining"]),
            operation=value.get("operation"),
            reason=value.get("reason"),
            message=value.get("message"),
            code=value.get("code"),
            file=value.get("file"),
        )


@dataclass
class _PerCall:
    """A per-call fault of one operation: the name it was first armed with, calls left, error message and code."""

    operation: str
    count: int
    message: str = ""
    code: str = ""


class Faults:
    """Armed one-shot faults, consumed by the SageMaker, Lambda and (``translate``) Translate emulations."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._training: deque[str] = deque()
        self._endpoint: deque[EndpointFault] = deque()
        self._update: deque[str] = deque()
        self._throttles: dict[str, _PerCall] = {}
        self._lost: dict[str, _PerCall] = {}
        self._refused: dict[str, _PerCall] = {}
        self._functions: dict[str, _PerCall] = {}
        #: The Translate job faults (same lock).
        self.translate = TranslateFaults(self._lock)
        #: The Textract job faults (same lock).
        self.textract = TextractFaults(self._lock)
        #: The Comprehend batch-call faults (same lock).
        self.comprehend = ComprehendFaults(self._lock)
        #: The Ground Truth labeling-job faults (same lock).
        self.labeling = LabelingFaults(self._lock)

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
            entry = self._throttles.setdefault(normalise_operation(operation), _PerCall(operation, 0))
            entry.count += count
            entry.message = message

    def lose_response(self, operation: str, count: int = 1) -> None:
        """The next ``count`` calls of the SageMaker API ``operation`` take effect, but the caller gets a 500
        ``InternalFailure`` instead of the response, as when a response is lost on the way: a retry then
        meets what the first call created (e.g. a training job name already in use)."""
        if count < 1:
            raise ValueError("count must be at least 1")
        with self._lock:
            self._lost.setdefault(normalise_operation(operation), _PerCall(operation, 0)).count += count

    def fail_call(
        self,
        operation: str,
        code: str = DEFAULT_CALL_FAILURE_CODE,
        message: str = DEFAULT_CALL_FAILURE_MESSAGE,
        count: int = 1,
    ) -> None:
        """The next ``count`` calls of the SageMaker API ``operation`` are refused without taking effect: a client
        error (status 400) with ``code`` and ``message``, as a bad request (``ValidationException``), an exceeded
        quota (``ResourceLimitExceeded``) or a missing permission (``AccessDeniedException``) is answered."""
        if count < 1:
            raise ValueError("count must be at least 1")
        with self._lock:
            entry = self._refused.setdefault(normalise_operation(operation), _PerCall(operation, 0))
            entry.count += count
            entry.message, entry.code = message, code

    def fail_function(self, function: str, count: int = 1) -> None:
        """The next ``count`` invocations of the Lambda function whose name contains ``function`` (e.g.
        ``WaitResume``) raise before the handler runs, as a crashed or timed-out function does: asynchronous
        invocations are then retried and, once their retries are spent, go to the on-failure destination."""
        if count < 1:
            raise ValueError("count must be at least 1")
        with self._lock:
            self._functions.setdefault(normalise_operation(function), _PerCall(function, 0)).count += count

    def apply(self, spec: dict[str, Any]) -> None:
        """Arm a fault described by a JSON object, for an HTTP admin route.

        ``{"fault": "fail_next_training_job" | "fail_next_endpoint" | "hang_next_endpoint" |
        "fail_next_endpoint_update" | "throttle" | "lose_response" | "fail_call" | "fail_function" |
        "fail_next_translation_job" | "fail_translation_file" | "hang_next_translation_job", "reason": ...,
        "operation": ..., "count": ..., "code": ..., "message": ..., "file": ...}``; the Textract, Comprehend and
        labeling kinds (``fail_next_labeling_job`` | ``hang_next_labeling_job`` with ``job``, a job-name glob) go to
        their own faults.
        """
        kind = spec.get("fault")
        reason = spec.get("reason")
        if kind in TRANSLATE_FAULT_KINDS:
            self.translate.apply(spec)
        elif kind in TEXTRACT_FAULT_KINDS:
            self.textract.apply(spec)
        elif kind in COMPREHEND_FAULT_KINDS:
            self.comprehend.apply(spec)
        elif kind in LABELING_FAULT_KINDS:
            self.labeling.apply(spec)
        elif kind == "fail_next_training_job":
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
        elif kind == "fail_call":
            operation = spec.get("operation")
            if not operation:
                raise ValueError("a fail_call fault needs 'operation'")
            self.fail_call(
                str(operation),
                spec.get("code") or DEFAULT_CALL_FAILURE_CODE,
                spec.get("message") or DEFAULT_CALL_FAILURE_MESSAGE,
                int(spec.get("count", 1)),
            )
        elif kind == "fail_function":
            operation = spec.get("operation")
            if not operation:
                raise ValueError("a fail_function fault needs 'operation' (the function's name)")
            self.fail_function(str(operation), int(spec.get("count", 1)))
        else:
            raise ValueError(f"unknown fault {kind!r}")

    # Listing and disarming -------------------------------------------------------------------------

    def armed(self) -> list[ArmedFault]:
        """Every armed fault, by kind (:data:`ALL_FAULT_KINDS`); faults of one queue in the order they fire.

        Equal faults armed one after the other are one entry (``remaining`` > 1). Endpoint failures and
        hangs share one queue (the next CreateEndpoint takes whichever was armed first): their entries
        come in that queue's order.
        """
        with self._lock:
            return self._armed()

    def clear(self, fault: str | None = None) -> list[ArmedFault]:
        """Disarm every fault, or those of one kind (one of :data:`ALL_FAULT_KINDS`); return what was armed.

        Raises ValueError for an unknown kind.
        """
        if fault is not None and fault not in ALL_FAULT_KINDS:
            raise ValueError(f"unknown fault {fault!r} (one of {', '.join(ALL_FAULT_KINDS)})")
        with self._lock:
            cleared = [entry for entry in self._armed() if fault in (None, entry.fault)]
            if fault in (None, "fail_next_training_job"):
                self._training.clear()
            if fault is None:
                self._endpoint.clear()
            elif fault in ("fail_next_endpoint", "hang_next_endpoint"):
                kept = [entry for entry in self._endpoint if _endpoint_kind(entry) != fault]
                self._endpoint = deque(kept)
            if fault in (None, "fail_next_endpoint_update"):
                self._update.clear()
            if fault in (None, "throttle"):
                self._throttles.clear()
            if fault in (None, "lose_response"):
                self._lost.clear()
            if fault in (None, "fail_call"):
                self._refused.clear()
            if fault in (None, "fail_function"):
                self._functions.clear()
            self.translate._clear(fault)
            self.textract._clear(fault)
            self.comprehend._clear(fault)
            self.labeling._clear(fault)
            return cleared

    def _armed(self) -> list[ArmedFault]:
        """:meth:`armed` with the lock held."""
        throttles = self._throttles.values()
        return [
            *_runs(("fail_next_training_job", reason) for reason in self._training),
            *_runs((_endpoint_kind(entry), entry.reason or None) for entry in self._endpoint),
            *_runs(("fail_next_endpoint_update", reason) for reason in self._update),
            *(ArmedFault("throttle", t.count, operation=t.operation, message=t.message) for t in throttles),
            *(ArmedFault("lose_response", lost.count, operation=lost.operation) for lost in self._lost.values()),
            *(
                ArmedFault("fail_call", r.count, operation=r.operation, message=r.message, code=r.code)
                for r in self._refused.values()
            ),
            *(ArmedFault("fail_function", f.count, operation=f.operation) for f in self._functions.values()),
            *self.translate._armed(),
            *self.textract._armed(),
            *self.comprehend._armed(),
            *self.labeling._armed(),
        ]

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
            if entry is None:
                return None
            entry.count -= 1
            if entry.count <= 0:
                del self._throttles[key]
            return entry.message

    def take_lost_response(self, operation: str) -> bool:
        """Whether the response to this call of ``operation`` must be lost (the call itself takes effect)."""
        key = normalise_operation(operation)
        with self._lock:
            entry = self._lost.get(key)
            if entry is None:
                return False
            entry.count -= 1
            if entry.count <= 0:
                del self._lost[key]
            return True

    def take_call_failure(self, operation: str) -> tuple[str, str] | None:
        """``(code, message)`` if this call of ``operation`` must be refused (a ``fail_call`` fault), else None."""
        key = normalise_operation(operation)
        with self._lock:
            entry = self._refused.get(key)
            if entry is None:
                return None
            entry.count -= 1
            if entry.count <= 0:
                del self._refused[key]
            return entry.code, entry.message

    def take_function_failure(self, function_name: str) -> bool:
        """Whether this invocation of ``function_name`` must fail (a ``fail_function`` fault matches it)."""
        name = normalise_operation(function_name)
        with self._lock:
            key = next((key for key in self._functions if key in name), None)
            if key is None:
                return False
            entry = self._functions[key]
            entry.count -= 1
            if entry.count <= 0:
                del self._functions[key]
            return True


def _endpoint_kind(entry: EndpointFault) -> str:
    return "fail_next_endpoint" if entry.kind == "fail" else "hang_next_endpoint"


def _runs(queue: Iterable[tuple[str, str | None]]) -> list[ArmedFault]:
    """A queue of ``(kind, reason)`` as entries, equal neighbours merged into one with their count."""
    entries: list[ArmedFault] = []
    for kind, reason in queue:
        last = entries[-1] if entries else None
        if last is not None and (last.fault, last.reason) == (kind, reason):
            entries[-1] = ArmedFault(kind, last.remaining + 1, reason=reason)
        else:
            entries.append(ArmedFault(kind, 1, reason=reason))
    return entries
