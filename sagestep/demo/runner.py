"""What every demo section shares: one local runtime, the signed-in client, timing, and the summary.

:func:`run_sections` starts one local runtime, runs each section against it (a section that fails is
reported and the next one still runs), stops the runtime and prints a timings table: the runtime's start
and stop, each section, and each section's phases.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from sagestep.client import CognitoAuth, SagestepClient, SagestepError
from sagestep.progress import duration

if TYPE_CHECKING:
    from sagestep.local.runtime import RuntimeInfo

DATA_FOLDER = "demo"  # where in the demo user's prefix the sample data goes
START = "start local runtime"
STOP = "stop local runtime"


class DemoError(SagestepError):
    """A demo job did not end as it should (e.g. it ended in ERROR)."""


@dataclass
class Timings:
    """Wall-clock seconds per phase, in the order the phases ran."""

    phases: dict[str, float] = field(default_factory=dict)

    @contextmanager
    def phase(self, name: str) -> Iterator[None]:
        """Time the block under ``name``."""
        started = time.monotonic()
        try:
            yield
        finally:
            self.phases[name] = round(time.monotonic() - started, 3)

    @property
    def total(self) -> float:
        return round(sum(self.phases.values()), 3)


@dataclass(frozen=True)
class DemoContext:
    """What a section runs against: the started local runtime and its demo user's client."""

    info: RuntimeInfo
    client: SagestepClient
    console: Console | None
    timings: Timings
    """The section's own phases (shown under the section in the timings table)."""

    def upload(self, path: Path, key: str | None = None) -> str:
        """Upload a local file into the demo user's prefix of the data bucket (as any user does: a presigned
        URL from ``POST /uploads``) and return its ``s3://`` URI."""
        return self.client.upload(path, key or f"{DATA_FOLDER}/{path.name}")


class SectionResult(Protocol):
    """What a section hands back: a JSON-ready summary (``sagestep demo --json``)."""

    def to_json(self) -> dict[str, Any]: ...


class DemoSection(Protocol):
    """One workflow's part of the demo. Its constructor checks the section's inputs, before any runtime
    starts; :meth:`run` shows the workflow end to end and prints its own summary."""

    name: str
    """The workflow's name: ``sagestep demo NAME``."""
    title: str
    """What the section shows, in a few words."""

    def run(self, context: DemoContext) -> SectionResult: ...


@dataclass
class SectionOutcome:
    """How one section ended: its result, or the error that stopped it."""

    name: str
    seconds: float
    phases: dict[str, float]
    result: SectionResult | None = None
    error: SagestepError | None = None


@dataclass
class DemoRun:
    """Every section's outcome, and the time of the runtime's start and stop."""

    api_url: str
    sections: list[SectionOutcome]
    timings: Timings

    @property
    def failed(self) -> list[SectionOutcome]:
        return [section for section in self.sections if section.error is not None]

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready summary: each workflow's result (or error), the timings and their total."""
        return {
            "apiUrl": self.api_url,
            "workflows": {
                s.name: s.result.to_json() if s.result is not None else {"error": s.error.message if s.error else ""}
                for s in self.sections
            },
            "timings": self.timings.phases,
            "totalSeconds": self.timings.total,
        }


def printer(console: Console | None) -> Any:
    """``console.print`` without wrapping long URIs (or nothing without a console)."""
    if console is None:
        return lambda *args, **kwargs: None
    return lambda *args, **kwargs: console.print(*args, soft_wrap=True, **kwargs)


def run_sections(sections: Sequence[DemoSection], *, port: int = 0, console: Console | None = None) -> DemoRun:
    """Start a local runtime (``port`` 0: a free one), run ``sections`` one after the other against it,
    stop it, and (with a ``console``) print the timings table.

    A section that raises a :class:`SagestepError` is recorded and the next section runs; the caller
    decides what a failed section means (:attr:`DemoRun.failed`). The runtime does not publish
    ``local.json``, so a ``sagestep local up`` beside it is unaffected.
    """
    from sagestep.local.runtime import LocalRuntime  # heavy (moto, werkzeug): only when a demo runs

    timings = Timings()
    outcomes: list[SectionOutcome] = []
    show = printer(console)
    runtime = LocalRuntime(port=port)  # its files live in a temporary folder that stop() removes
    api_url = ""
    try:
        with timings.phase(START):
            status = console.status("starting the local runtime ...") if console is not None else nullcontext()
            with status:
                info = runtime.start()
        api_url = info.api_url
        show(f"local runtime up: API [bold]{info.api_url}[/], signed in as [bold]{info.username}[/]")
        auth = CognitoAuth(info.user_pool_client_id, info.username, info.password, info.region, info.aws_endpoint_url)
        with SagestepClient(info.api_url, auth) as client:
            for section in sections:
                if console is not None:
                    console.print()
                    console.rule(f"[bold]{escape(section.name)}[/]: {escape(section.title)}")
                outcomes.append(_run_section(section, DemoContext(info, client, console, Timings()), timings))
    finally:
        with timings.phase(STOP):
            runtime.stop()
    run = DemoRun(api_url=api_url, sections=outcomes, timings=timings)
    if console is not None:
        console.print()
        console.print(timings_table(run))
    return run


def _run_section(section: DemoSection, context: DemoContext, timings: Timings) -> SectionOutcome:
    outcome = SectionOutcome(section.name, 0.0, context.timings.phases)
    with timings.phase(section.name):
        try:
            outcome.result = section.run(context)
        except SagestepError as exc:
            outcome.error = exc
            if context.console is not None:
                context.console.print(f"[bold red]{escape(section.name)} failed[/]: {escape(exc.message)}")
    outcome.seconds = timings.phases[section.name]
    return outcome


def timings_table(run: DemoRun) -> Table:
    """The runtime's start and stop, each section with its phases indented below it, and the total."""
    table = Table(title="Timings", title_justify="left")
    table.add_column("phase")
    table.add_column("time", justify="right")
    sections = {section.name: section for section in run.sections}
    for name, seconds in run.timings.phases.items():
        section = sections.get(name)
        if section is None:
            table.add_row(name, f"{seconds:.1f} s")
            continue
        label = f"[bold]{escape(name)}[/]" + (" [red](failed)[/]" if section.error is not None else "")
        table.add_row(label, f"[bold]{seconds:.1f} s[/]")
        for phase, phase_seconds in section.phases.items():
            table.add_row(f"  [dim]{escape(phase)}[/]", f"[dim]{phase_seconds:.1f} s[/]")
    total = run.timings.total
    table.add_row("[bold]total[/]", f"[bold]{total:.1f} s[/] ({duration(total)})")
    return table
