"""The ``sagestep`` command line: the local runtime, the demo, and the REST API's jobs.

Target: the local runtime (``--local``, the default while ``sagestep local up`` runs) or a deployed stack
(``--stack NAME --region R --username U``, password from ``SAGESTEP_PASSWORD`` or a prompt).

Errors are one line on stderr, ``error: <field>: <problem>``, and the exit status says what went wrong:
1 a job failed (or another error), 2 bad input, 3 authentication, 4 not found or conflict, 5 the API is
unreachable. ``--json`` prints machine-readable output on stdout (progress goes to stderr).

Tests inject a client: ``CliRunner().invoke(app, args, obj=factory)``, where ``factory(target)`` returns
the client to use (see :func:`connect`).
"""

from __future__ import annotations

import json
import os
import signal
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import Annotated, Any, NoReturn

import typer
from pydantic import BaseModel, ValidationError
from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text
from typer._click.core import Context as ClickContext
from typer._click.exceptions import NoArgsIsHelpError, UsageError
from typer.core import TyperGroup

from sagestep.client import (
    BadRequestError,
    ConfigError,
    ConflictError,
    NotFoundError,
    SagestepClient,
    SagestepError,
    UnauthorizedError,
    UnreachableError,
    WaitTimeoutError,
    load_local_config,
    local_config_path,
    parse_request,
)
from sagestep.progress import JobProgress, history_table, status_text
from sagestep_service.models.api import HpoRequest, InferRequest, SweepRange, TrainRequest
from sagestep_service.models.jobs import JobKind, JobPage, JobStatus, JobView

EXIT_FAILED = 1
EXIT_BAD_INPUT = 2
EXIT_AUTH = 3
EXIT_NOT_FOUND = 4
EXIT_UNREACHABLE = 5
EXIT_INTERRUPTED = 130

PASSWORD_ENV = "SAGESTEP_PASSWORD"


class CliError(Exception):
    """A problem to report in one line with an exit status."""

    def __init__(self, message: str, exit_code: int = EXIT_BAD_INPUT) -> None:
        super().__init__(message)
        self.message = message
        self.exit_code = exit_code


def exit_code_for(error: SagestepError) -> int:
    """The exit status for a client error."""
    if isinstance(error, BadRequestError | ConfigError):
        return EXIT_BAD_INPUT
    if isinstance(error, UnauthorizedError):
        return EXIT_AUTH
    if isinstance(error, NotFoundError | ConflictError):
        return EXIT_NOT_FOUND
    if isinstance(error, UnreachableError):
        return EXIT_UNREACHABLE
    return EXIT_FAILED


def _fail(message: str, exit_code: int) -> NoReturn:
    typer.echo(f"{typer.style('error:', fg='red', bold=True)} {message}", err=True)
    raise typer.Exit(exit_code)


class _Group(TyperGroup):
    """The root command: turns every expected error of any subcommand into one line and an exit status."""

    def invoke(self, ctx: ClickContext) -> Any:
        try:
            return super().invoke(ctx)
        except NoArgsIsHelpError:
            raise
        except UsageError as exc:
            where = exc.ctx.command_path if exc.ctx else "sagestep"
            _fail(f"{exc.format_message()} (see '{where} --help')", EXIT_BAD_INPUT)
        except CliError as exc:
            _fail(exc.message, exc.exit_code)
        except SagestepError as exc:
            message = exc.message
            if isinstance(exc, UnreachableError) and ctx.meta.get("sagestep.local"):
                message += " (is `sagestep local up` running?)"
            _fail(message, exit_code_for(exc))


app = typer.Typer(
    cls=_Group,
    name="sagestep",
    help="Serverless ML workflows: train, tune and deploy models, locally or on AWS.",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,  # locals may hold passwords and tokens
    context_settings={"help_option_names": ["-h", "--help"]},
)
local_app = typer.Typer(help="Run the whole backend on this machine, without an AWS account.", no_args_is_help=True)
model_app = typer.Typer(help="Train models, deploy them to endpoints, manage them.", no_args_is_help=True)
hpo_app = typer.Typer(help="Search hyperparameters.", no_args_is_help=True)
app.add_typer(local_app, name="local")
app.add_typer(model_app, name="model")
app.add_typer(hpo_app, name="hpo")


# -- target selection and dependency injection ---------------------------------------------------------------


@dataclass(frozen=True)
class Target:
    """Which API to talk to, as the options said."""

    local: bool = False
    stack: str | None = None
    region: str | None = None
    username: str | None = None


ClientFactory = Callable[[Target], Any]


def connect(target: Target) -> SagestepClient:
    """The client for ``target``: a stack if one is named, else the running local runtime."""
    if target.stack and not target.local:
        region = target.region or os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION")
        if not region:
            raise CliError("--region: required with --stack (or set AWS_REGION)")
        if not target.username:
            raise CliError("--username: required with --stack (or set SAGESTEP_USERNAME)")
        password = os.environ.get(PASSWORD_ENV)
        if not password:
            try:
                password = typer.prompt(f"password for {target.username}", hide_input=True)
            except typer.Abort:
                raise CliError(f"password: none given (set {PASSWORD_ENV} when there is no terminal)") from None
        return SagestepClient.for_stack(target.stack, region=region, username=target.username, password=password)
    if not target.local and not local_config_path().exists():
        raise CliError(
            "no API to talk to: start one with `sagestep local up` (or run `sagestep demo`), "
            "or name a deployed stack with --stack NAME --region R --username U"
        )
    return SagestepClient.for_local()


def _client(ctx: typer.Context, local: bool, stack: str | None, region: str | None, username: str | None) -> Any:
    target = Target(local=local, stack=stack, region=region, username=username)
    ctx.find_root().meta["sagestep.local"] = target.local or not target.stack
    factory: ClientFactory = ctx.obj or connect
    return factory(target)


TARGET = "Target"
LocalOpt = Annotated[
    bool,
    typer.Option(
        "--local", help="Use the local runtime (the default while `sagestep local up` runs).", rich_help_panel=TARGET
    ),
]
StackOpt = Annotated[
    str | None,
    typer.Option("--stack", envvar="SAGESTEP_STACK", help="Name of a deployed stack.", rich_help_panel=TARGET),
]
RegionOpt = Annotated[
    str | None,
    typer.Option("--region", envvar="AWS_REGION", help="AWS region of the stack.", rich_help_panel=TARGET),
]
UsernameOpt = Annotated[
    str | None,
    typer.Option(
        "--username",
        envvar="SAGESTEP_USERNAME",
        help=f"Cognito user (password from {PASSWORD_ENV} or a prompt).",
        rich_help_panel=TARGET,
    ),
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON instead of tables.")]
WaitOpt = Annotated[bool, typer.Option("--wait", "-w", help="Show live progress until the job ends.")]
TimeoutOpt = Annotated[float, typer.Option("--timeout", min=1, help="Give up waiting after this many seconds.")]
KeyOpt = Annotated[
    str | None,
    typer.Option(
        "--idempotency-key",
        help="Repeating a submission with the same key returns the same job (safe retries in CI).",
    ),
]
HpOpt = Annotated[
    list[str] | None,
    typer.Option("--hp", metavar="KEY=VALUE", help="A hyperparameter of the container; repeat for more."),
]
ProblemTypeOpt = Annotated[str | None, typer.Option("--problem-type", help="regression (default) or classification.")]
InstanceTypeOpt = Annotated[
    str | None, typer.Option("--instance-type", help="Training instance type, e.g. ml.m5.large.")
]
DescriptionOpt = Annotated[str | None, typer.Option("--description", help="A note stored with the job.")]
JobArg = Annotated[str, typer.Argument(metavar="JOB", help="A job id.")]


# -- parsing of option values --------------------------------------------------------------------------------


def parse_hyperparameters(values: Sequence[str] | None) -> dict[str, str]:
    """``["epochs=20", "optimizer=adam"]`` -> ``{"epochs": "20", "optimizer": "adam"}`` (values stay strings,
    as SageMaker passes them to the container)."""
    parsed: dict[str, str] = {}
    for value in values or ():
        name, separator, text = value.partition("=")
        if not separator or not name.strip():
            raise CliError(f"--hp: expected KEY=VALUE, got {value!r}")
        parsed[name.strip()] = text.strip()
    return parsed


def parse_row(value: str) -> list[float]:
    """``"1,2.5,-3"`` -> ``[1.0, 2.5, -3.0]``."""
    try:
        row = [float(cell) for cell in value.split(",")]
    except ValueError:
        raise CliError(f"--input: expected comma-separated numbers like 1,2.5,3, got {value!r}") from None
    return row


def parse_range(value: str) -> SweepRange:
    """``"0:1:0.25"`` -> ``SweepRange(start=0, end=1, step=0.25)``."""
    parts = value.split(":")
    try:
        if len(parts) != 3:
            raise ValueError(value)
        start, end, step = (float(part) for part in parts)
    except ValueError:
        raise CliError(f"--range: expected START:END:STEP with numbers, like 0:10:0.5, got {value!r}") from None
    try:
        return SweepRange(start=start, end=end, step=step)
    except ValidationError as exc:
        error = exc.errors()[0]
        where = ".".join(str(part) for part in error["loc"])
        problem = str(error["msg"]).removeprefix("Value error, ")
        raise CliError(f"--range: {where + ': ' if where else ''}{problem} (got {value!r})") from None


# -- output --------------------------------------------------------------------------------------------------


def _out() -> Console:
    return Console(highlight=False)


def _err() -> Console:
    return Console(stderr=True, highlight=False)


def _print_json(value: Any) -> None:
    if isinstance(value, BaseModel):
        value = value.model_dump(mode="json", exclude_none=True)
    typer.echo(json.dumps(value, indent=2))


def _short_time(stamp: str) -> str:
    return stamp[:19].replace("T", " ") if len(stamp) >= 19 else stamp


def jobs_table(jobs: Sequence[JobView], kind: JobKind) -> Table:
    """A listing: one row per job."""
    table = Table(show_header=True, header_style="bold", box=box.SIMPLE_HEAD)
    table.add_column("job", no_wrap=True)
    table.add_column("status", no_wrap=True)
    table.add_column("created (UTC)", no_wrap=True)
    if kind is JobKind.MODEL:
        table.add_column("endpoint")
        table.add_column("metrics")
    else:
        table.add_column("strategy")
        table.add_column("objective")
    for job in jobs:
        if kind is JobKind.MODEL:
            extra = [
                job.resources.get("endpointName", "") if job.status == JobStatus.READY else "",
                ", ".join(f"{name}={value:.4g}" for name, value in sorted(job.metrics.items())),
            ]
        else:
            objective = job.hpo.objective if job.hpo else None
            value = f"{objective.name}={objective.value:.4g}" if objective and objective.value is not None else ""
            extra = [str(job.request.get("strategy", "")), value]
        table.add_row(job.jobId, status_text(job.status), _short_time(job.createdAt)[:16], *map(Text, extra))
    return table


def show_job(console: Console, job: JobView) -> None:
    """Everything about one job, for people."""
    details = Table(show_header=False, box=None, pad_edge=False)
    details.add_column(style="dim")
    details.add_column(overflow="fold")
    details.add_row("job", f"[bold]{job.jobId}[/] ({job.kind.value})")
    details.add_row("status", status_text(job.status))
    details.add_row("created", _short_time(job.createdAt) + " UTC")
    details.add_row("updated", _short_time(job.updatedAt) + " UTC")
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


def _follow_hint(job: JobView) -> str:
    return f"sagestep {job.kind.value} wait {job.jobId}"


def _submitted(console: Console, job: JobView, replayed: bool) -> None:
    what = "Already submitted (same idempotency key)" if replayed else "Submitted"
    console.print(f"{what}: [bold]{job.jobId}[/] ({status_text(job.status)})")
    console.print(f"follow it: {_follow_hint(job)}", soft_wrap=True)


def _wait_and_report(client: Any, job: JobView, json_out: bool, timeout: float) -> None:
    """Live progress until the job ends, then the job; exit 1 if it ended in ERROR."""
    console = _err() if json_out else _out()
    title = "Training" if job.kind is JobKind.MODEL else "HPO"
    try:
        with JobProgress(console, title) as progress:
            job = client.wait(job.jobId, job.kind, timeout=timeout, on_update=progress.update)
    except KeyboardInterrupt:
        _err().print(f"stopped waiting; the job goes on. Follow it again: {_follow_hint(job)}")
        raise typer.Exit(EXIT_INTERRUPTED) from None
    except WaitTimeoutError as exc:
        raise CliError(f"{exc.message}; follow it again: {_follow_hint(job)}", EXIT_FAILED) from None
    if json_out:
        _print_json(job)
    else:
        console.print()
        show_job(console, job)
    if job.status == JobStatus.ERROR:
        raise CliError(f"job {job.jobId} ended in ERROR: {job.error or 'no reason recorded'}", EXIT_FAILED)


def _submit(
    ctx: typer.Context,
    request: TrainRequest | HpoRequest,
    target: Target,
    *,
    key: str | None,
    wait: bool,
    timeout: float,
    json_out: bool,
) -> None:
    client = _client(ctx, target.local, target.stack, target.region, target.username)
    submission = client.submit(request, idempotency_key=key)
    if json_out and not wait:
        _print_json({**submission.job.model_dump(mode="json", exclude_none=True), "replayed": submission.replayed})
        return
    _submitted(_err() if json_out else _out(), submission.job, submission.replayed)
    if wait:
        _wait_and_report(client, submission.job, json_out, timeout)


def _list(
    ctx: typer.Context, kind: JobKind, target: Target, limit: int, cursor: str | None, every: bool, json_out: bool
) -> None:
    client = _client(ctx, target.local, target.stack, target.region, target.username)
    if every:
        jobs = list(client.iter_models(page_size=100) if kind is JobKind.MODEL else client.iter_hpo(page_size=100))
        page = JobPage(items=jobs)
    else:
        page = client.list_models(limit, cursor) if kind is JobKind.MODEL else client.list_hpo(limit, cursor)
    if json_out:
        _print_json(page)
        return
    console = _out()
    if not page.items:
        console.print(f"no {kind.value} jobs yet")
        return
    console.print(jobs_table(page.items, kind))
    if page.nextCursor:
        console.print(f"more: add --cursor {page.nextCursor} (or --all)", soft_wrap=True, markup=False)


def _show(ctx: typer.Context, kind: JobKind, job_id: str, target: Target, json_out: bool) -> None:
    client = _client(ctx, target.local, target.stack, target.region, target.username)
    job = client.get_job(job_id, kind)
    if json_out:
        _print_json(job)
    else:
        show_job(_out(), job)


def _wait(ctx: typer.Context, kind: JobKind, job_id: str, target: Target, timeout: float, json_out: bool) -> None:
    client = _client(ctx, target.local, target.stack, target.region, target.username)
    _wait_and_report(client, client.get_job(job_id, kind), json_out, timeout)


# -- model ---------------------------------------------------------------------------------------------------


@model_app.command("train")
def model_train(
    ctx: typer.Context,
    data: Annotated[
        str | None, typer.Option("--data", "-d", help="s3:// URI of the CSV data (default with --from-hpo: its data).")
    ] = None,
    target_column: Annotated[str | None, typer.Option("--target", "-t", help="The column to predict.")] = None,
    problem_type: ProblemTypeOpt = None,
    hp: HpOpt = None,
    from_hpo: Annotated[
        str | None, typer.Option("--from-hpo", metavar="JOB", help="Train with the best hyperparameters of an HPO job.")
    ] = None,
    update_endpoint_of: Annotated[
        str | None,
        typer.Option(
            "--update-endpoint-of", metavar="JOB", help="Update this READY job's endpoint in place (blue/green)."
        ),
    ] = None,
    instance_type: InstanceTypeOpt = None,
    description: DescriptionOpt = None,
    idempotency_key: KeyOpt = None,
    wait: WaitOpt = False,
    timeout: TimeoutOpt = 7200,
    json_out: JsonOpt = False,
    local: LocalOpt = False,
    stack: StackOpt = None,
    region: RegionOpt = None,
    username: UsernameOpt = None,
) -> None:
    """Train a model and deploy it to an endpoint."""
    body = _drop_none(
        dataUri=data,
        target=target_column,
        problemType=problem_type,
        hyperparameters=parse_hyperparameters(hp) or None,
        hpoJobId=from_hpo,
        updateEndpointOf=update_endpoint_of,
        instanceType=instance_type,
        description=description,
    )
    request = parse_request(TrainRequest, body)
    _submit(
        ctx,
        request,
        Target(local, stack, region, username),
        key=idempotency_key,
        wait=wait,
        timeout=timeout,
        json_out=json_out,
    )


def _add_job_commands(sub_app: typer.Typer, kind: JobKind, noun: str, shows: str) -> None:
    """`list`, `show` and `wait`, which model and HPO jobs share."""
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
        _list(ctx, kind, Target(local, stack, region, username), limit, cursor, every, json_out)

    @sub_app.command("show", help=f"Show {article} {noun} job: {shows}.")
    def show_job(
        ctx: typer.Context,
        job_id: JobArg,
        json_out: JsonOpt = False,
        local: LocalOpt = False,
        stack: StackOpt = None,
        region: RegionOpt = None,
        username: UsernameOpt = None,
    ) -> None:
        _show(ctx, kind, job_id, Target(local, stack, region, username), json_out)

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
        _wait(ctx, kind, job_id, Target(local, stack, region, username), timeout, json_out)


_add_job_commands(model_app, JobKind.MODEL, "model", "status, resources, metrics, history")


@model_app.command("delete")
def model_delete(
    ctx: typer.Context,
    job_id: JobArg,
    json_out: JsonOpt = False,
    local: LocalOpt = False,
    stack: StackOpt = None,
    region: RegionOpt = None,
    username: UsernameOpt = None,
) -> None:
    """Delete a model job's endpoint, endpoint config and model."""
    job = _client(ctx, local, stack, region, username).delete_model(job_id)
    if json_out:
        _print_json(job)
    else:
        _out().print(f"{job.jobId}: {status_text(job.status)}")


# -- hpo -----------------------------------------------------------------------------------------------------


@hpo_app.command("run")
def hpo_run(
    ctx: typer.Context,
    data: Annotated[str, typer.Option("--data", "-d", help="s3:// URI of the CSV data.")],
    target_column: Annotated[str, typer.Option("--target", "-t", help="The column to predict.")],
    problem_type: ProblemTypeOpt = None,
    strategy: Annotated[
        str | None,
        typer.Option(
            "--strategy",
            help="in-container: Optuna in one training job (default); sagemaker: a SageMaker tuning job.",
        ),
    ] = None,
    trials: Annotated[int | None, typer.Option("--trials", help="Number of trials (default 10).")] = None,
    parallel_trials: Annotated[
        int | None, typer.Option("--parallel-trials", help="Trials at a time (sagemaker strategy).")
    ] = None,
    data_fraction: Annotated[
        float | None, typer.Option("--data-fraction", help="Share of the rows each trial uses (in-container).")
    ] = None,
    epochs_per_trial: Annotated[int | None, typer.Option("--epochs-per-trial", help="Epochs of each trial.")] = None,
    hp: HpOpt = None,
    instance_type: InstanceTypeOpt = None,
    description: DescriptionOpt = None,
    idempotency_key: KeyOpt = None,
    wait: WaitOpt = False,
    timeout: TimeoutOpt = 7200,
    json_out: JsonOpt = False,
    local: LocalOpt = False,
    stack: StackOpt = None,
    region: RegionOpt = None,
    username: UsernameOpt = None,
) -> None:
    """Search hyperparameters; train from the result with `sagestep model train --from-hpo JOB`."""
    body = _drop_none(
        dataUri=data,
        target=target_column,
        problemType=problem_type,
        strategy=strategy,
        maxTrials=trials,
        maxParallelTrials=parallel_trials,
        dataFraction=data_fraction,
        epochsPerTrial=epochs_per_trial,
        hyperparameters=parse_hyperparameters(hp) or None,
        instanceType=instance_type,
        description=description,
    )
    request = parse_request(HpoRequest, body)
    _submit(
        ctx,
        request,
        Target(local, stack, region, username),
        key=idempotency_key,
        wait=wait,
        timeout=timeout,
        json_out=json_out,
    )


_add_job_commands(hpo_app, JobKind.HPO, "HPO", "status, best hyperparameters, objective, history")


# -- infer ---------------------------------------------------------------------------------------------------


@app.command("infer")
def infer(
    ctx: typer.Context,
    input_rows: Annotated[
        list[str],
        typer.Option("--input", "-i", metavar="X1,X2,...", help="Feature values of one row; repeat for more rows."),
    ],
    job: Annotated[str | None, typer.Option("--job", metavar="JOB", help="A READY model job.")] = None,
    endpoint: Annotated[str | None, typer.Option("--endpoint", metavar="NAME", help="An endpoint name.")] = None,
    sweep: Annotated[
        str | None,
        typer.Option("--range", metavar="START:END:STEP", help="Vary the last input of the row over this range."),
    ] = None,
    json_out: JsonOpt = False,
    local: LocalOpt = False,
    stack: StackOpt = None,
    region: RegionOpt = None,
    username: UsernameOpt = None,
) -> None:
    """Predict with a deployed model; with --range, see how the prediction changes with the last input."""
    rows = [parse_row(value) for value in input_rows]
    swept = parse_range(sweep) if sweep is not None else None
    body = _drop_none(
        jobId=job,
        endpointName=endpoint,
        input=rows[0] if len(rows) == 1 else rows,
        range=swept.model_dump() if swept else None,
    )
    request = parse_request(InferRequest, body)
    answer = _client(ctx, local, stack, region, username).infer(request)
    if json_out:
        _print_json(answer)
        return
    table = Table(show_header=True, header_style="bold")
    if answer.x_axis is not None:
        table.add_column("x (last input)", justify="right")
        table.add_column("prediction", justify="right")
        for x, prediction in zip(answer.x_axis, answer.predictions, strict=False):
            table.add_row(f"{x:g}", _number(prediction))
    else:
        table.add_column("row", justify="right")
        table.add_column("input")
        table.add_column("prediction", justify="right")
        for number, (row, prediction) in enumerate(zip(request.rows(), answer.predictions, strict=False), 1):
            table.add_row(str(number), ", ".join(f"{v:g}" for v in row), _number(prediction))
    _out().print(table)


def _number(value: float | int | str) -> str:
    return f"{value:.6g}" if isinstance(value, float) else str(value)


def _drop_none(**fields: Any) -> dict[str, Any]:
    return {name: value for name, value in fields.items() if value is not None}


# -- local runtime and demo ----------------------------------------------------------------------------------


@local_app.command("up")
def local_up(
    port: Annotated[
        int, typer.Option("--port", "-p", min=0, max=65535, help="Port of the API (0: any free one).")
    ] = 8000,
    host: Annotated[str, typer.Option("--host", help="Address to listen on.")] = "127.0.0.1",
    state_dir: Annotated[
        Path | None,
        typer.Option(
            "--state-dir", help="Keep training jobs' and endpoints' files and logs here (default: temporary)."
        ),
    ] = None,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Show the runtime's logs.")] = False,
) -> None:
    """Start the local runtime (API, Cognito, Step Functions, SageMaker emulation) until Ctrl-C."""
    from sagestep.local.runtime import LocalRuntime

    console = _out()
    runtime = LocalRuntime(port=port, host=host, state_dir=state_dir, quiet=not verbose)
    stop = threading.Event()
    published: Path | None = None

    def request_stop(signum: int, frame: FrameType | None) -> None:
        stop.set()
        signal.signal(signal.SIGINT, signal.default_int_handler)  # a second Ctrl-C interrupts the shutdown

    previous = {sig: signal.signal(sig, request_stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        with console.status("starting the local runtime ..."):
            try:
                info = runtime.start()
            except OSError as exc:
                raise CliError(f"cannot start the local runtime: {exc}", EXIT_FAILED) from None
        published = runtime.publish()
        _print_local_info(console, info, published)
        while not stop.wait(0.5):
            pass
        console.print("stopping ...")
    finally:
        runtime.stop()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    if published is not None:
        _unpublish(published, info)
    console.print("local runtime stopped")


def _unpublish(path: Path, info: Any) -> None:
    """Remove ``local.json`` at shutdown unless another runtime has written its own there since."""
    try:
        if json.loads(path.read_text(encoding="utf-8")).get("api_url") == info.api_url:
            path.unlink()
    except (OSError, ValueError):
        pass


def _print_local_info(console: Console, info: Any, config: Path) -> None:
    table = Table(show_header=False, box=None, pad_edge=False)
    table.add_column(style="dim")
    table.add_column()
    table.add_row("API", f"[bold]{info.api_url}[/]")
    table.add_row("user", Text(f"{info.username} / {info.password}"))
    table.add_row("region", info.region)
    table.add_row("AWS endpoint", f"{info.aws_endpoint_url} (any credentials)")
    table.add_row("data bucket", f"s3://{info.data_bucket}")
    table.add_row("user pool", f"{info.user_pool_id} (app client {info.user_pool_client_id})")
    table.add_row("config", str(config))
    console.print("[bold green]sagestep local runtime is up[/]")
    console.print(table)
    console.print(
        "\nIn another terminal:\n"
        "  sagestep local upload train.csv   [dim]# a CSV with a header row, into the data bucket[/]\n"
        f"  sagestep hpo run --data s3://{info.data_bucket}/data/train.csv --target y --trials 4 --wait\n"
        "  sagestep model train --from-hpo JOB --wait\n"
        "  sagestep infer --job JOB --input 1,2,3 --range 0:10:1\n"
        "  sagestep model list\n"
        "Python: SagestepClient.for_local() (from sagestep.client)\n"
        "Press Ctrl-C to stop.",
        soft_wrap=True,
    )


#: `sagestep local fault KIND` -> the runtime's fault names (sagestep.local.faults).
FAULT_KINDS = {
    "fail-training": "fail_next_training_job",
    "fail-endpoint": "fail_next_endpoint",
    "hang-endpoint": "hang_next_endpoint",
    "fail-update": "fail_next_endpoint_update",
    "throttle": "throttle",
    "lose-response": "lose_response",
}


@local_app.command("fault")
def local_fault(
    ctx: typer.Context,
    kind: Annotated[
        str | None,
        typer.Argument(help=f"One of {', '.join(FAULT_KINDS)}; without it, list the armed faults.", show_default=False),
    ] = None,
    reason: Annotated[str | None, typer.Option("--reason", help="The failure reason to report.")] = None,
    operation: Annotated[
        str | None,
        typer.Option("--operation", help="throttle, lose-response: the SageMaker API, e.g. CreateTrainingJob."),
    ] = None,
    count: Annotated[int, typer.Option("--count", min=1, max=100, help="throttle, lose-response: how many calls.")] = 1,
    json_out: JsonOpt = False,
) -> None:
    """Make the running local runtime fail on purpose (the next training job, endpoint, update, a throttled
    call, or a call whose response is lost after it took effect), to see a failure path end to end."""
    spec: dict[str, Any] | None = None
    if kind is not None:
        if kind not in FAULT_KINDS:
            raise CliError(f"fault: unknown kind {kind!r} (one of {', '.join(FAULT_KINDS)})")
        per_call = kind in {"throttle", "lose-response"}
        if per_call and not operation:
            raise CliError(f"--operation: {kind} needs the SageMaker API, e.g. CreateTrainingJob")
        spec = _drop_none(
            fault=FAULT_KINDS[kind], reason=reason, operation=operation, count=count if per_call else None
        )
    armed = _client(ctx, True, None, None, None).local_faults(spec)
    if json_out:
        _print_json({"faults": [fault.to_json() for fault in armed]})
        return
    lines = [", ".join(f"{name}={value}" for name, value in fault.to_json().items()) for fault in armed]
    _out().print("\n".join(lines) if lines else "no fault armed", soft_wrap=True, markup=False)


@local_app.command("upload")
def local_upload(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True, help="A CSV file.")],
    key: Annotated[str | None, typer.Option("--key", help="Object key (default: data/<file name>).")] = None,
    json_out: JsonOpt = False,
) -> None:
    """Put a file into the running local runtime's data bucket and print its s3:// URI."""
    from sagestep.demo import local_s3, upload

    config = load_local_config()
    if not config.data_bucket:
        raise CliError(f"the local runtime configuration {local_config_path()} names no data bucket")
    from boto3.exceptions import S3UploadFailedError
    from botocore.exceptions import BotoCoreError

    try:
        uri = upload(
            local_s3(config.aws_endpoint_url, config.region), config.data_bucket, file, key or f"data/{file.name}"
        )
    except BotoCoreError as exc:
        raise CliError(f"cannot upload to {config.aws_endpoint_url}: {exc}", EXIT_UNREACHABLE) from None
    except S3UploadFailedError as exc:
        raise CliError(f"upload refused: {exc}", EXIT_FAILED) from None
    if json_out:
        _print_json({"dataUri": uri})
    else:
        _out().print(uri, soft_wrap=True, markup=False)


@app.command("demo")
def demo(
    port: Annotated[int, typer.Option("--port", "-p", min=0, max=65535, help="Port of the API (0: any free one).")] = 0,
    plot: Annotated[Path, typer.Option("--plot", help="Where to write the PNG plot.")] = Path("sagestep-demo.png"),
    trials: Annotated[int, typer.Option("--trials", min=1, max=200, help="HPO trials.")] = 4,
    epochs_per_trial: Annotated[int, typer.Option("--epochs-per-trial", min=1, help="Epochs of each HPO trial.")] = 8,
    epochs: Annotated[int, typer.Option("--epochs", min=1, help="Epochs of the final training.")] = 60,
    data: Annotated[
        Path | None, typer.Option("--data", dir_okay=False, help="Your own CSV instead of the bundled sample.")
    ] = None,
    target_column: Annotated[str | None, typer.Option("--target", help="Target column of --data.")] = None,
    json_out: JsonOpt = False,
) -> None:
    """Run the whole workflow locally: HPO, training, deployment, a sweep through /infer, and a plot."""
    from sagestep import demo as demo_module

    if data is not None and target_column is None:
        raise CliError("--target: required with --data")
    console = _err() if json_out else _out()
    console.print("[bold]sagestep demo[/]: HPO, training, deployment and inference on this machine")

    def interrupt(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt  # SIGTERM stops the demo like Ctrl-C: the runtime and its processes are stopped

    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        result = demo_module.run_demo(
            port=port,
            plot_path=plot,
            trials=trials,
            epochs_per_trial=epochs_per_trial,
            training_epochs=epochs,
            data_path=data,
            target=target_column,
            console=console,
        )
    except KeyboardInterrupt:
        _err().print("demo interrupted; the local runtime was stopped")
        raise typer.Exit(EXIT_INTERRUPTED) from None
    finally:
        signal.signal(signal.SIGTERM, previous)
    if json_out:
        _print_json(result.to_json())


def main() -> None:
    """Entry point of ``python -m sagestep``."""
    app(prog_name="sagestep")
