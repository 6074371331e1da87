"""Live display of a job's progress while :meth:`SagestepClient.wait` polls it (CLI ``--wait`` and the demo).

On a terminal: a spinner with the current status and the elapsed time above the job's status history.
Elsewhere (CI logs, pipes): one plain line per status change, so logs stay readable.
"""

from __future__ import annotations

import time
from datetime import datetime
from types import TracebackType

from rich.console import Console, Group, RenderableType
from rich.live import Live
from rich.spinner import Spinner
from rich.table import Table
from rich.text import Text

from sagestep_service.workflows.training.models import TrainingJobView, TrainingStatus

STATUS_STYLES = {
    TrainingStatus.READY: "bold green",
    TrainingStatus.HPO_COMPLETED: "bold green",
    TrainingStatus.ERROR: "bold red",
}


def status_text(status: TrainingStatus | str) -> Text:
    """A status, coloured: green when done well, red on error, yellow while running."""
    try:
        status = TrainingStatus(status)
    except ValueError:
        return Text(str(status))
    style = STATUS_STYLES.get(status, "yellow" if status.running else "dim")
    return Text(status.value, style=style)


def parse_time(stamp: str) -> datetime | None:
    """An API timestamp (``2026-11-22T13:55:01.123Z``) as an aware datetime, None if unreadable."""
    try:
        return datetime.fromisoformat(stamp)
    except ValueError:
        return None


def clock_time(stamp: str) -> str:
    """``13:55:01`` (UTC) from an API timestamp."""
    parsed = parse_time(stamp)
    return parsed.strftime("%H:%M:%S") if parsed else stamp


def duration(seconds: float) -> str:
    """``42s``, ``3m 05s``, ``1h 02m``."""
    seconds = max(0, round(seconds))
    if seconds < 60:
        return f"{seconds}s"
    if seconds < 3600:
        return f"{seconds // 60}m {seconds % 60:02d}s"
    return f"{seconds // 3600}h {seconds % 3600 // 60:02d}m"


def history_table(job: TrainingJobView) -> Table:
    """The job's status changes with their UTC time and the time since submission."""
    table = Table(box=None, pad_edge=False, show_header=True, header_style="dim")
    table.add_column("status")
    table.add_column("at (UTC)")
    table.add_column("after", justify="right")
    start = parse_time(job.createdAt)
    for change in job.history:
        at = parse_time(change.at)
        after = duration((at - start).total_seconds()) if at and start else ""
        table.add_row(status_text(change.status), clock_time(change.at), after)
    return table


class JobProgress:
    """Shows a job's progress; pass :meth:`update` as ``on_update`` to :meth:`SagestepClient.wait`.

    Use as a context manager around the wait. ``title`` says what is waited for (e.g. "Training").
    """

    def __init__(self, console: Console, title: str) -> None:
        self._console = console
        self._title = title
        self._job: TrainingJobView | None = None
        self._printed: set[tuple[str, str]] = set()
        self._started = time.monotonic()
        self._live: Live | None = None

    def __enter__(self) -> JobProgress:
        self._started = time.monotonic()
        if self._console.is_terminal:
            self._live = Live(self, console=self._console, refresh_per_second=4, transient=False)
            self._live.__enter__()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._live is not None:
            self._live.__exit__(exc_type, exc, tb)
            self._live = None

    def update(self, job: TrainingJobView) -> None:
        """Take a new state of the job (called by ``wait`` on every change)."""
        self._job = job
        if self._live is not None:
            self._live.refresh()
            return
        for change in job.history:
            if (change.status, change.at) not in self._printed:
                self._printed.add((change.status, change.at))
                self._console.print(f"{job.jobId}  {clock_time(change.at)}  {change.status}", highlight=False)

    def __rich__(self) -> RenderableType:
        elapsed = duration(time.monotonic() - self._started)
        if self._job is None:
            return Spinner("dots", Text(f"{self._title}: waiting for the first answer ({elapsed})"))
        job = self._job
        line = Text.assemble(f"{self._title} ", (job.jobId, "bold"), "  ", status_text(job.status), f"  {elapsed}")
        head: RenderableType = Spinner("dots", line) if job.status.running else line
        return Group(head, history_table(job))
