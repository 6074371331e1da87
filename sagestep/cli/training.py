"""The training workflow's commands: ``model`` (train, deploy, list, show, wait, delete), ``hpo`` (run,
list, show, wait) and ``infer``."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated

import typer
from pydantic import ValidationError
from rich.table import Table

from sagestep.cli.errors import CliError
from sagestep.cli.jobs import JobArg, JobCommands, KeyOpt, TimeoutOpt, WaitOpt, add_job_commands, submit
from sagestep.cli.output import JsonOpt, drop_none, number, out, print_json
from sagestep.cli.target import LocalOpt, RegionOpt, StackOpt, Target, UsernameOpt, client_for
from sagestep.client import parse_request
from sagestep.progress import status_text
from sagestep_service.workflows.training.models import (
    HpoRequest,
    InferRequest,
    SweepRange,
    TrainingJobView,
    TrainingKind,
    TrainingStatus,
    TrainRequest,
)

model_app = typer.Typer(help="Train models, deploy them to endpoints, manage them.", no_args_is_help=True)
hpo_app = typer.Typer(help="Search hyperparameters.", no_args_is_help=True)

HpOpt = Annotated[
    list[str] | None,
    typer.Option("--hp", metavar="KEY=VALUE", help="A hyperparameter of the container; repeat for more."),
]
ProblemTypeOpt = Annotated[str | None, typer.Option("--problem-type", help="regression (default) or classification.")]
InstanceTypeOpt = Annotated[
    str | None, typer.Option("--instance-type", help="Training instance type, e.g. ml.m5.large.")
]
DescriptionOpt = Annotated[str | None, typer.Option("--description", help="A note stored with the job.")]


def register(app: typer.Typer) -> None:
    """Add the training workflow's commands to the root command."""
    app.command("infer")(infer)
    app.add_typer(model_app, name="model")
    app.add_typer(hpo_app, name="hpo")


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


# -- the job kinds: listing columns ---------------------------------------------------------------------------


def _endpoint(job: TrainingJobView) -> str:
    return job.resources.get("endpointName", "") if job.status == TrainingStatus.READY else ""


def _metrics(job: TrainingJobView) -> str:
    return ", ".join(f"{name}={value:.4g}" for name, value in sorted(job.metrics.items()))


def _strategy(job: TrainingJobView) -> str:
    return str(job.request.get("strategy", ""))


def _objective(job: TrainingJobView) -> str:
    objective = job.hpo.objective if job.hpo else None
    return f"{objective.name}={objective.value:.4g}" if objective and objective.value is not None else ""


MODEL_JOBS = JobCommands(
    kind=TrainingKind.MODEL,
    noun="model",
    shows="status, resources, metrics, history",
    progress="Training",
    columns=(("endpoint", _endpoint), ("metrics", _metrics)),
    page=lambda client, limit, cursor: client.list_models(limit, cursor),
    every=lambda client: client.iter_models(page_size=100),
)
HPO_JOBS = JobCommands(
    kind=TrainingKind.HPO,
    noun="HPO",
    shows="status, best hyperparameters, objective, history",
    progress="HPO",
    columns=(("strategy", _strategy), ("objective", _objective)),
    page=lambda client, limit, cursor: client.list_hpo(limit, cursor),
    every=lambda client: client.iter_hpo(page_size=100),
)


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
    body = drop_none(
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
    submit(
        ctx,
        MODEL_JOBS,
        request,
        Target(local, stack, region, username),
        key=idempotency_key,
        wait=wait,
        timeout=timeout,
        json_out=json_out,
    )


add_job_commands(model_app, MODEL_JOBS)


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
    job = client_for(ctx, Target(local, stack, region, username)).delete_model(job_id)
    if json_out:
        print_json(job)
    else:
        out().print(f"{job.jobId}: {status_text(job.status)}")


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
    body = drop_none(
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
    submit(
        ctx,
        HPO_JOBS,
        request,
        Target(local, stack, region, username),
        key=idempotency_key,
        wait=wait,
        timeout=timeout,
        json_out=json_out,
    )


add_job_commands(hpo_app, HPO_JOBS)


# -- infer ---------------------------------------------------------------------------------------------------


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
    body = drop_none(
        jobId=job,
        endpointName=endpoint,
        input=rows[0] if len(rows) == 1 else rows,
        range=swept.model_dump() if swept else None,
    )
    request = parse_request(InferRequest, body)
    answer = client_for(ctx, Target(local, stack, region, username)).infer(request)
    if json_out:
        print_json(answer)
        return
    table = Table(show_header=True, header_style="bold")
    if answer.x_axis is not None:
        table.add_column("x (last input)", justify="right")
        table.add_column("prediction", justify="right")
        for x, prediction in zip(answer.x_axis, answer.predictions, strict=False):
            table.add_row(f"{x:g}", number(prediction))
    else:
        table.add_column("row", justify="right")
        table.add_column("input")
        table.add_column("prediction", justify="right")
        for index, (row, prediction) in enumerate(zip(request.rows(), answer.predictions, strict=False), 1):
            table.add_row(str(index), ", ".join(f"{v:g}" for v in row), number(prediction))
    out().print(table)
