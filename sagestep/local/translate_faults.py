"""One-shot faults of the local Translate's batch jobs, armed through :class:`~sagestep.local.faults.Faults`.

Kept apart from the SageMaker and Lambda faults because they are consumed by their own emulation
(:mod:`sagestep.local.services.translate`) and concern jobs, not calls: throttling or refusing
``StartTextTranslationJob`` itself is the generic ``throttle`` / ``fail_call`` fault (any operation of any
emulated service). A started job takes one of each armed kind when it is started (so "the next job" is the next
``StartTextTranslationJob`` that succeeds, whatever order the workers run in).

Example::

    aws.faults.translate.fail_next_job("the KMS key is disabled")    # the next job ends FAILED with it
    aws.faults.translate.fail_file("*.xlsx")                         # its .xlsx files fail: COMPLETED_WITH_ERROR
    aws.faults.translate.hang_next_job()                             # IN_PROGRESS until StopTextTranslationJob
    aws.faults.apply({"fault": "fail_translation_file", "file": "report*"})   # same, from a JSON body
"""

from __future__ import annotations

import fnmatch
import threading
from collections import deque
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sagestep.local.faults import ArmedFault

#: Translate's fault kinds, in the order :meth:`Faults.armed` lists them (after the SageMaker and Lambda ones).
TRANSLATE_FAULT_KINDS = ("fail_next_translation_job", "fail_translation_file", "hang_next_translation_job")
DEFAULT_JOB_FAILURE = "Fault injected by the local emulator: the translation job failed."
DEFAULT_FILE_FAILURE = "Fault injected by the local emulator: the document could not be translated."


@dataclass(frozen=True)
class JobFaults:
    """What one started translation job does: fail with ``failure``, ``hang`` until stopped, and fail the files
    whose name or path below the input prefix matches ``file_glob`` with ``file_reason`` (a server error)."""

    failure: str | None = None
    hang: bool = False
    file_glob: str | None = None
    file_reason: str = DEFAULT_FILE_FAILURE

    def file_fails(self, relative_key: str) -> bool:
        if self.file_glob is None:
            return False
        name = relative_key.rsplit("/", 1)[-1]
        return fnmatch.fnmatchcase(relative_key, self.file_glob) or fnmatch.fnmatchcase(name, self.file_glob)


class TranslateFaults:
    """The armed Translate faults; ``lock`` is the one of the :class:`Faults` holding them."""

    def __init__(self, lock: threading.Lock) -> None:
        self._lock = lock
        self._failures: deque[tuple[str, str]] = deque()
        self._files: deque[tuple[str, str]] = deque()
        self._hangs: deque[str] = deque()

    def fail_next_job(self, reason: str = DEFAULT_JOB_FAILURE, job: str = "*") -> None:
        """The next translation job (whose ``JobName`` matches the glob ``job``) ends ``FAILED`` with
        ``Message=reason`` without translating anything."""
        with self._lock:
            self._failures.append((reason, job))

    def fail_file(self, glob: str = "*", reason: str = DEFAULT_FILE_FAILURE) -> None:
        """In the next translation job, the documents whose name (or path below the input prefix) matches
        ``glob`` fail with a server error; the others are translated (``COMPLETED_WITH_ERROR``)."""
        with self._lock:
            self._files.append((glob, reason))

    def hang_next_job(self, job: str = "*") -> None:
        """The next translation job (whose ``JobName`` matches the glob ``job``) stays ``IN_PROGRESS`` until it is
        stopped (a job that never finishes)."""
        with self._lock:
            self._hangs.append(job)

    def apply(self, spec: dict[str, Any]) -> None:
        """Arm one fault from its JSON form (see :meth:`Faults.apply`)."""
        kind, reason = spec.get("fault"), spec.get("reason")
        job = str(spec.get("job") or "*")
        if kind == "fail_next_translation_job":
            self.fail_next_job(reason or DEFAULT_JOB_FAILURE, job)
        elif kind == "fail_translation_file":
            self.fail_file(str(spec.get("file") or "*"), reason or DEFAULT_FILE_FAILURE)
        elif kind == "hang_next_translation_job":
            self.hang_next_job(job)
        else:
            raise ValueError(f"unknown fault {kind!r}")

    def take_job_faults(self, job_name: str = "") -> JobFaults:
        """The faults of a job being started (one of each armed kind; job faults only if their glob matches
        ``job_name``)."""
        with self._lock:
            failure = next((entry for entry in self._failures if fnmatch.fnmatchcase(job_name, entry[1])), None)
            if failure is not None:
                self._failures.remove(failure)
            hang = next((glob for glob in self._hangs if fnmatch.fnmatchcase(job_name, glob)), None)
            if hang is not None:
                self._hangs.remove(hang)
            glob, file_reason = self._files.popleft() if self._files else (None, DEFAULT_FILE_FAILURE)
            return JobFaults(failure[0] if failure else None, hang is not None, glob, file_reason)

    # With the lock of Faults held -----------------------------------------------------------------------

    def _armed(self) -> list[ArmedFault]:
        from sagestep.local.faults import ArmedFault

        entries: list[ArmedFault] = []
        for reason, _ in self._failures:
            if entries and entries[-1].reason == reason:
                entries[-1] = ArmedFault(entries[-1].fault, entries[-1].remaining + 1, reason=reason)
            else:
                entries.append(ArmedFault("fail_next_translation_job", 1, reason=reason))
        entries += [ArmedFault("fail_translation_file", 1, reason=reason, file=glob) for glob, reason in self._files]
        if self._hangs:
            entries.append(ArmedFault("hang_next_translation_job", len(self._hangs)))
        return entries

    def _clear(self, fault: str | None) -> None:
        if fault in (None, "fail_next_translation_job"):
            self._failures.clear()
        if fault in (None, "fail_translation_file"):
            self._files.clear()
        if fault in (None, "hang_next_translation_job"):
            self._hangs.clear()
