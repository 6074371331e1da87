"""What every kind of job shares on the command line: submission, ``--wait`` with live progress, and the
``list``, ``show`` and ``wait`` commands.

A workflow describes each of its kinds of job once (:class:`JobCommands`) and gets those commands with
:func:`add_job_commands`; its submitting commands call :func:`submit`.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Annotated, Any

import typer
from pydantic import BaseModel
from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text

from sagestep.cli.errors import EXIT_FAILED, EXIT_INTERRUPTED, CliError
from sagestep.cli.output import JsonOpt, err, out, print_json, short_time
from sagestep.cli.target import LocalOpt, RegionOpt, StackOpt, Target, UsernameOpt, client_for
from sagestep.client import WaitTimeoutError
from sagestep.progress import JobProgress, history_table, status_text
from sagestep_service.workflows.training.models import TrainingJobPage, TrainingJobView, TrainingKind, TrainingStatus

WaitOpt = Annotated[bool, typer.Option("--wait", "-w", help="Show live progress until the job ends.")]
TimeoutOpt = Annotated[float, typer.Option("--timeout", min=1, help="Give up waiting after this many seconds.")]
KeyOpt = Annotated[
    str | None,
    typer.Option(
        "--idempotency-key",
        help="Repeating a submission with the same key returns the same job (safe retries in CI).",
    ),
]
JobArg = Annotated[str, typer.Argument(metavar="JOB", help="A job id.")]

Column = tuple[str, Callable[[TrainingJobView], str]]
"""A listing column of one kind of job: its header and the cell of a job."""


@dataclass(frozen=True)
class JobCommands:
    """What the shared commands need to know about one kind of job.

    ``noun`` names the kind in help texts ("model", "HPO"), ``shows`` says what ``show`` prints,
    ``progress`` is the title of the live progress; ``columns`` follow job, status and created in a
    listing; ``page(client, limit, cursor)`` and ``every(client)`` list the jobs through the client.
    """

    kind: TrainingKind
    noun: str
    shows: str
    progress: str
    columns: Sequence[Column]
    page: Callable[[Any, int, str | None], TrainingJobPage]
    every: Callable[[Any], Iterable[TrainingJobView]]


def jobs_table(jobs: Sequence[TrainingJobView], columns: Sequence[Column]) -> Table:
    """A listing: one row per job."""
    table = Table(show_header=True, header_style="bold", box=box.SIMPLE_HEAD)
    table.add_column("job", no_wrap=True)
    table.add_column("status", no_wrap=True)
    table.add_column("created (UTC)", no_wrap=True)
    for header, _ in columns:
        table.add_column(header)
    for job in jobs:
        extra = [Text(cell(job)) for _, cell in columns]
        table.add_row(job.jobId, status_text(job.status), short_time(job.createdAt)[:16], *extra)
    return table


def show_job(console: Console, job: TrainingJobView) -> None:
    """Everything about one job, for people."""
    details = Table(show_header=False, box=None, pad_edge=False)
    details.add_column(style="dim")
    details.add_column(overflow="fold")
    details.add_row("job", f"[bold]{job.jobId}[/] ({job.kind.value})")
    details.add_row("status", status_text(job.status))
    details.add_row("created", short_time(job.createdAt) + " UTC")
    details.add_row("updated", short_time(job.updatedAt) + " UTC")
    if job.error:
        details.add_row("error", Text(job.error, style="red"))
    if job.errorCause:
        details.add_row("cause", Text(job.errorCause))
    if job.supersededBy:
        details.add_row("superseded by", Text(job.supersededBy))
    details.add_row("request", Text(json.dumps(job.request, separators=(", ", ": "))))
    for name, resource in sorted(job.resources.items()):
        details.add_row(name, Text(resource))
    for name, metric in sorted(job.metrics.items()):
        details.add_row(name, f"{metric:.6g}")
    if job.hpo is not None:
        objective = job.hpo.objective
        shown = "n/a" if objective.value is None else f"{objective.value:.6g}"
        details.add_row("strategy", Text(job.hpo.strategy))
        details.add_row("objective", Text(f"{objective.name} = {shown} ({objective.direction})"))
        best = ", ".join(f"{k}={v}" for k, v in sorted(job.hpo.bestHyperparameters.items()))
        details.add_row("best", Text(best))
        details.add_row("trials", str(len(job.hpo.trials)))
    console.print(details)
    if job.history:
        console.print()
        console.print(history_table(job))


def _follow_hint(job: TrainingJobView) -> str:
    return f"sagestep {job.kind.value} wait {job.jobId}"


def _submitted(console: Console, job: TrainingJobView, replayed: bool) -> None:
    what = "Already submitted (same idempotency key)" if replayed else "Submitted"
    console.print(f"{what}: [bold]{job.jobId}[/] ({status_text(job.status)})")
    console.print(f"follow it: {_follow_hint(job)}", soft_wrap=True)


def wait_and_report(client: Any, job: TrainingJobView, title: str, json_out: bool, timeout: float) -> None:
    """Live progress (under ``title``) until the job ends, then the job; exit 1 if it ended in ERROR."""
    console = err() if json_out else out()
    try:
        with JobProgress(console, title) as progress:
            job = client.wait(job.jobId, job.kind, timeout=timeout, on_update=progress.update)
    except KeyboardInterrupt:
        err().print(f"stopped waiting; the job goes on. Follow it again: {_follow_hint(job)}")
        raise typer.Exit(EXIT_INTERRUPTED) from None
    except WaitTimeoutError as exc:
        raise CliError(f"{exc.message}; follow it again: {_follow_hint(job)}", EXIT_FAILED) from None
    if json_out:
        print_json(job)
    else:
        console.print()
        show_job(console, job)
    if job.status == TrainingStatus.ERROR:
        raise CliError(f"job {job.jobId} ended in ERROR: {job.error or 'no reason recorded'}", EXIT_FAILED)


def submit(
    ctx: typer.Context,
    commands: JobCommands,
    request: BaseModel,
    target: Target,
    *,
    key: str | None,
    wait: bool,
    timeout: float,
    json_out: bool,
) -> None:
    """Submit a job's request; print the job (or JSON), and with ``wait`` follow it until it ends."""
    client = client_for(ctx, target)
    submission = client.submit(request, idempotency_key=key)
    if json_out and not wait:
        print_json({**submission.job.model_dump(mode="json", exclude_none=True), "replayed": submission.replayed})
        return
    _submitted(err() if json_out else out(), submission.job, submission.replayed)
    if wait:
        wait_and_report(client, submission.job, commands.progress, json_out, timeout)


def _list(
    ctx: typer.Context,
    commands: JobCommands,
    target: Target,
    limit: int,
    cursor: str | None,
    every: bool,
    json_out: bool,
) -> None:
    client = client_for(ctx, target)
    page = TrainingJobPage(items=list(commands.every(client))) if every else commands.page(client, limit, cursor)
    if json_out:
        print_json(page)
        return
    console = out()
    if not page.items:
        console.print(f"no {commands.kind.value} jobs yet")
        return
    console.print(jobs_table(page.items, commands.columns))
    if page.nextCursor:
        console.print(f"more: add --cursor {page.nextCursor} (or --all)", soft_wrap=True, markup=False)


def _show(ctx: typer.Context, kind: TrainingKind, job_id: str, target: Target, json_out: bool) -> None:
    job = client_for(ctx, target).get_job(job_id, kind)
    if json_out:
        print_json(job)
    else:
        show_job(out(), job)


def _wait(
    ctx: typer.Context, commands: JobCommands, job_id: str, target: Target, timeout: float, json_out: bool
) -> None:
    client = client_for(ctx, target)
    wait_and_report(client, client.get_job(job_id, commands.kind), commands.progress, json_out, timeout)


def add_job_commands(sub_app: typer.Typer, commands: JobCommands) -> None:
    """`list`, `show` and `wait` for one kind of job, on its command group."""
    noun = commands.noun
    article = "an" if noun[0] in "AEHIOU" else "a"

    @sub_app.command("list", help=f"List your {noun} jobs, newest first.")
    def list_jobs(
        ctx: typer.Context,
        limit: Annotated[int, typer.Option("--limit", "-n", min=1, max=100, help="Page size.")] = 20,
        cursor: Annotated[
            str | None, typer.Option("--cursor", help="Continue a listing (printed after a page).")
        ] = None,
        every: Annotated[bool, typer.Option("--all", help="Every job, all pages.")] = False,
        json_out: JsonOpt = False,
        local: LocalOpt = False,
        stack: StackOpt = None,
        region: RegionOpt = None,
        username: UsernameOpt = None,
    ) -> None:
        _list(ctx, commands, Target(local, stack, region, username), limit, cursor, every, json_out)

    @sub_app.command("show", help=f"Show {article} {noun} job: {commands.shows}.")
    def show(
        ctx: typer.Context,
        job_id: JobArg,
        json_out: JsonOpt = False,
        local: LocalOpt = False,
        stack: StackOpt = None,
        region: RegionOpt = None,
        username: UsernameOpt = None,
    ) -> None:
        _show(ctx, commands.kind, job_id, Target(local, stack, region, username), json_out)

    @sub_app.command("wait", help=f"Follow {article} {noun} job until it ends (exit status 1 if it ends in ERROR).")
    def wait_job(
        ctx: typer.Context,
        job_id: JobArg,
        timeout: TimeoutOpt = 7200,
        json_out: JsonOpt = False,
        local: LocalOpt = False,
        stack: StackOpt = None,
        region: RegionOpt = None,
        username: UsernameOpt = None,
    ) -> None:
        _wait(ctx, commands, job_id, Target(local, stack, region, username), timeout, json_out)
