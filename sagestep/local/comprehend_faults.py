"""One-shot faults of the local Comprehend's batch calls, armed through :class:`~sagestep.local.faults.Faults`.

Throttling or refusing a whole call (``DetectSentiment``, ``BatchDetectEntities``, ...) is the generic ``throttle`` /
``fail_call`` fault. What only a batch call can do is fail one document and answer the others: Comprehend then
reports that document in ``ErrorList`` (``{"Index", "ErrorCode", "ErrorMessage"}``) beside the ``ResultList`` of the
rest, and a caller must retry the failed ones itself. :meth:`ComprehendFaults.fail_batch_item` arms that.

Example::

    aws.faults.comprehend.fail_batch_item(2)                          # the next batch call: item 2 in ErrorList
    aws.faults.comprehend.fail_batch_item(0, "BatchDetectEntities")   # only a BatchDetectEntities call takes it
    aws.faults.apply({"fault": "fail_comprehend_batch_item", "index": 1, "count": 3})   # same, from a JSON body
"""

from __future__ import annotations

import dataclasses
import re
import threading
from collections import deque
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sagestep.local.faults import ArmedFault

#: Comprehend's fault kinds, in the order :meth:`Faults.armed` lists them.
COMPREHEND_FAULT_KINDS = ("fail_comprehend_batch_item",)
#: The ``ErrorCode`` of a document that failed on the service's side (a retry may succeed).
INTERNAL_ERROR_CODE = "INTERNAL_SERVER_ERROR"
DEFAULT_ITEM_FAILURE = "Fault injected by the local emulator: an internal error occurred processing this document."


@dataclass(frozen=True)
class BatchItemFault:
    """Item ``index`` of the next batch call (of ``operation``, any batch call when None) fails with ``message``."""

    index: int
    operation: str | None
    message: str


def _key(operation: str | None) -> str | None:
    return None if operation is None else re.sub(r"[^a-z0-9]", "", operation.lower())


class ComprehendFaults:
    """The armed Comprehend faults; ``lock`` is the one of the :class:`Faults` holding them."""

    def __init__(self, lock: threading.Lock) -> None:
        self._lock = lock
        self._items: deque[BatchItemFault] = deque()

    def fail_batch_item(
        self, index: int = 0, operation: str | None = None, message: str = DEFAULT_ITEM_FAILURE, count: int = 1
    ) -> None:
        """The next ``count`` batch calls (``BatchDetect*``; of ``operation`` only, if given) report document ``index``
        (0-based) in ``ErrorList`` with ``INTERNAL_SERVER_ERROR`` and ``message`` and answer the others. A call
        takes the fault whatever its size: an ``index`` past its last document fails none."""
        if count < 1:
            raise ValueError("count must be at least 1")
        if index < 0:
            raise ValueError("index must be 0 or more")
        with self._lock:
            self._items.extend(BatchItemFault(index, operation, message) for _ in range(count))

    def apply(self, spec: dict[str, Any]) -> None:
        """Arm one fault from its JSON form: ``{"fault": "fail_comprehend_batch_item", "index": 0, "operation": ...,
        "message": ..., "count": 1}``."""
        if spec.get("fault") != "fail_comprehend_batch_item":
            raise ValueError(f"unknown fault {spec.get('fault')!r}")
        operation = spec.get("operation")
        self.fail_batch_item(
            int(spec.get("index", 0)),
            str(operation) if operation else None,
            spec.get("message") or spec.get("reason") or DEFAULT_ITEM_FAILURE,
            int(spec.get("count", 1)),
        )

    def take_batch_item_failure(self, operation: str) -> BatchItemFault | None:
        """The fault of this batch call of ``operation`` (the first armed one that applies to it), if any."""
        key = _key(operation)
        with self._lock:
            fault = next((f for f in self._items if f.operation is None or _key(f.operation) == key), None)
            if fault is not None:
                self._items.remove(fault)
            return fault

    # With the lock of Faults held -----------------------------------------------------------------------

    def _armed(self) -> list[ArmedFault]:
        from sagestep.local.faults import ArmedFault

        entries: list[ArmedFault] = []
        previous: BatchItemFault | None = None
        for fault in self._items:
            if previous == fault:
                entries[-1] = dataclasses.replace(entries[-1], remaining=entries[-1].remaining + 1)
            else:
                entries.append(
                    ArmedFault(
                        "fail_comprehend_batch_item",
                        1,
                        operation=fault.operation,
                        reason=f"item {fault.index}",
                        message=fault.message,
                        code=INTERNAL_ERROR_CODE,
                    )
                )
            previous = fault
        return entries

    def _clear(self, fault: str | None) -> None:
        if fault in (None, "fail_comprehend_batch_item"):
            self._items.clear()
