"""One-shot faults of the local Ground Truth's labeling jobs, armed through :class:`~sagestep.local.faults.Faults`.

Consumed by :mod:`sagestep.local.services.sagemaker.labeling` when CreateLabelingJob succeeds (so "the next job" is
the next created job whose name matches the glob, whatever order the workers run in). Throttling or refusing
``CreateLabelingJob`` itself is the generic ``throttle`` / ``fail_call`` fault.

Example::

    aws.faults.labeling.fail_next_job("ClientError: the work team is gone")   # the next job ends Failed with it
    aws.faults.labeling.hang_next_job("batch-1-*")                           # InProgress until StopLabelingJob
    aws.faults.apply({"fault": "hang_next_labeling_job", "job": "batch-1-*"})  # same, from a JSON body
"""

from __future__ import annotations

import fnmatch
import threading
from collections import deque
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sagestep.local.faults import ArmedFault

#: The labeling fault kinds, in the order :meth:`Faults.armed` lists them.
LABELING_FAULT_KINDS = ("fail_next_labeling_job", "hang_next_labeling_job")
DEFAULT_LABELING_FAILURE = "ClientError: Fault injected by the local emulator: the labeling job failed."


@dataclass(frozen=True)
class LabelingJobFaults:
    """What one created labeling job does: fail with ``failure`` before labeling, or ``hang`` InProgress."""

    failure: str | None = None
    hang: bool = False


class LabelingFaults:
    """The armed labeling-job faults; ``lock`` is the one of the :class:`Faults` holding them."""

    def __init__(self, lock: threading.Lock) -> None:
        self._lock = lock
        self._failures: deque[tuple[str, str]] = deque()
        self._hangs: deque[str] = deque()

    def fail_next_job(self, reason: str = DEFAULT_LABELING_FAILURE, job: str = "*") -> None:
        """The next labeling job whose ``LabelingJobName`` matches the glob ``job`` ends ``Failed`` with
        ``FailureReason=reason`` without labeling anything."""
        with self._lock:
            self._failures.append((reason, job))

    def hang_next_job(self, job: str = "*") -> None:
        """The next labeling job whose name matches the glob ``job`` stays ``InProgress`` until it is stopped."""
        with self._lock:
            self._hangs.append(job)

    def apply(self, spec: dict[str, Any]) -> None:
        """Arm one fault from its JSON form (see :meth:`Faults.apply`)."""
        kind, job = spec.get("fault"), str(spec.get("job") or "*")
        if kind == "fail_next_labeling_job":
            self.fail_next_job(spec.get("reason") or DEFAULT_LABELING_FAILURE, job)
        elif kind == "hang_next_labeling_job":
            self.hang_next_job(job)
        else:
            raise ValueError(f"unknown fault {kind!r}")

    def take_job_faults(self, job_name: str) -> LabelingJobFaults:
        """The faults of a job being created (the first armed failure and hang whose glob matches its name)."""
        with self._lock:
            failure = next((entry for entry in self._failures if fnmatch.fnmatchcase(job_name, entry[1])), None)
            if failure is not None:
                self._failures.remove(failure)
            hang = next((glob for glob in self._hangs if fnmatch.fnmatchcase(job_name, glob)), None)
            if hang is not None:
                self._hangs.remove(hang)
            return LabelingJobFaults(failure[0] if failure else None, hang is not None)

    # With the lock of Faults held -----------------------------------------------------------------------

    def _armed(self) -> list[ArmedFault]:
        from sagestep.local.faults import ArmedFault

        entries: list[ArmedFault] = []
        for reason, _ in self._failures:
            if entries and entries[-1].reason == reason:
                entries[-1] = ArmedFault(entries[-1].fault, entries[-1].remaining + 1, reason=reason)
            else:
                entries.append(ArmedFault("fail_next_labeling_job", 1, reason=reason))
        if self._hangs:
            entries.append(ArmedFault("hang_next_labeling_job", len(self._hangs)))
        return entries

    def _clear(self, fault: str | None) -> None:
        if fault in (None, "fail_next_labeling_job"):
            self._failures.clear()
        if fault in (None, "hang_next_labeling_job"):
            self._hangs.clear()
