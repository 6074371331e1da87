"""One-shot faults of the local Textract's document analysis jobs, armed through :class:`~sagestep.local.faults.Faults`.

Kept apart from the other faults because they are consumed by their own emulation
(:mod:`sagestep.local.services.textract`) and concern jobs, not calls: throttling or refusing
``StartDocumentAnalysis`` / ``GetDocumentAnalysis`` themselves is the generic ``throttle`` / ``fail_call`` fault.
A started job takes one of each armed kind when it is accepted, so "the next job" is the next
``StartDocumentAnalysis`` that starts a job (a retry with the same ClientRequestToken starts none).

Example::

    aws.faults.textract.fail_next_job("INTERNAL_ERROR")       # the next job ends FAILED with this StatusMessage
    aws.faults.textract.partial_next_job([2])                 # page 2 fails: PARTIAL_SUCCESS, Warnings name it
    aws.faults.textract.drop_next_notification()              # the next job succeeds, its SNS message is never sent
    aws.faults.apply({"fault": "partial_next_textract_job", "pages": [1, 3]})   # same, from a JSON body
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sagestep.local.faults import ArmedFault

#: Textract's fault kinds, in the order :meth:`Faults.armed` lists them.
TEXTRACT_FAULT_KINDS = (
    "fail_next_textract_job",
    "partial_next_textract_job",
    "drop_next_textract_notification",
    "hang_next_textract_job",
)
#: Textract reports a server-side job failure with this StatusMessage.
DEFAULT_JOB_FAILURE = "INTERNAL_ERROR"


@dataclass(frozen=True)
class JobFaults:
    """What one started analysis job does: end FAILED with ``failure``; lose the pages ``failed_pages`` (1-based;
    an empty tuple: the last page; None: no page fails); never publish its completion notification."""

    failure: str | None = None
    failed_pages: tuple[int, ...] | None = None
    drop_notification: bool = False
    #: Stay IN_PROGRESS, never notified (a job that never finishes).
    hang: bool = False

    def pages_failing(self, page_count: int) -> set[int]:
        """The pages of a ``page_count``-page document this job loses."""
        if self.failed_pages is None or page_count < 1:
            return set()
        if not self.failed_pages:
            return {page_count}
        return {page for page in self.failed_pages if 1 <= page <= page_count}


class TextractFaults:
    """The armed Textract faults; ``lock`` is the one of the :class:`Faults` holding them."""

    def __init__(self, lock: threading.Lock) -> None:
        self._lock = lock
        self._failures: deque[str] = deque()
        self._partials: deque[tuple[int, ...]] = deque()
        self._dropped = 0
        self._hangs = 0

    def hang_next_job(self) -> None:
        """The next analysis job never finishes: IN_PROGRESS and never notified, so only a caller's deadline ends
        the wait."""
        with self._lock:
            self._hangs += 1

    def fail_next_job(self, reason: str = DEFAULT_JOB_FAILURE) -> None:
        """The next analysis job ends ``FAILED`` with ``StatusMessage=reason`` (its notification says FAILED)."""
        with self._lock:
            self._failures.append(reason)

    def partial_next_job(self, pages: Sequence[int] = ()) -> None:
        """In the next analysis job the ``pages`` (1-based; none given: the last page) fail: their blocks are
        missing, ``Warnings`` lists them and the job ends ``PARTIAL_SUCCESS``."""
        with self._lock:
            self._partials.append(tuple(int(page) for page in pages))

    def drop_next_notification(self) -> None:
        """The next analysis job succeeds silently: its SNS completion message is never published, as when a
        notification is lost, so only a caller's own deadline (or polling) finds out that it ended."""
        with self._lock:
            self._dropped += 1

    def apply(self, spec: dict[str, Any]) -> None:
        """Arm one fault from its JSON form (see :meth:`Faults.apply`)."""
        kind = spec.get("fault")
        if kind == "fail_next_textract_job":
            self.fail_next_job(spec.get("reason") or DEFAULT_JOB_FAILURE)
        elif kind == "partial_next_textract_job":
            self.partial_next_job(list(spec.get("pages") or ()))
        elif kind == "drop_next_textract_notification":
            self.drop_next_notification()
        elif kind == "hang_next_textract_job":
            self.hang_next_job()
        else:
            raise ValueError(f"unknown fault {kind!r}")

    def take_job_faults(self) -> JobFaults:
        """The faults of a job being started (one of each armed kind)."""
        with self._lock:
            failure = self._failures.popleft() if self._failures else None
            partial = self._partials.popleft() if self._partials else None
            dropped = self._dropped > 0
            self._dropped -= 1 if dropped else 0
            hang = self._hangs > 0
            self._hangs -= 1 if hang else 0
            return JobFaults(failure, partial, dropped, hang)

    # With the lock of Faults held -----------------------------------------------------------------------

    def _armed(self) -> list[ArmedFault]:
        from sagestep.local.faults import ArmedFault

        entries = [ArmedFault("fail_next_textract_job", 1, reason=reason) for reason in self._failures]
        entries += [
            ArmedFault(
                "partial_next_textract_job",
                1,
                reason="pages " + ", ".join(map(str, pages)) if pages else "the last page",
            )
            for pages in self._partials
        ]
        if self._dropped:
            entries.append(ArmedFault("drop_next_textract_notification", self._dropped))
        if self._hangs:
            entries.append(ArmedFault("hang_next_textract_job", self._hangs))
        return entries

    def _clear(self, fault: str | None) -> None:
        if fault in (None, "fail_next_textract_job"):
            self._failures.clear()
        if fault in (None, "partial_next_textract_job"):
            self._partials.clear()
        if fault in (None, "drop_next_textract_notification"):
            self._dropped = 0
        if fault in (None, "hang_next_textract_job"):
            self._hangs = 0
