"""The training workflow's demo section: HPO, training, deployment and inference, end to end.

Uploads the bundled regression dataset (or ``--data``), runs in-container HPO, trains and deploys a model
with the best hyperparameters, sweeps the last feature through ``/infer`` and plots the predictions.

Every step after the upload (:func:`run_hpo`, :func:`train_from_hpo`, :func:`sweep`, and
:func:`run_steps` which chains them) takes a :class:`SagestepClient`, so the same demo runs against
any sagestep API, e.g. a deployed stack with the data already in its bucket::

    client = SagestepClient.for_stack("sagestep", region="eu-west-1", username=..., password=...)
    result = run_steps(client, "s3://<data bucket>/demo/crop_yield.csv", Sample.load())
"""

from __future__ import annotations

import csv
import math
import statistics
from contextlib import nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from sagestep.client import BadRequestError, ConfigError, SagestepClient
from sagestep.demo.runner import DemoContext, DemoError, Timings, printer
from sagestep.progress import JobProgress, status_text
from sagestep_service.workflows.training.models import SweepRange, TrainingJobView, TrainingStatus

DEFAULT_TRIALS = 4
DEFAULT_EPOCHS_PER_TRIAL = 8
DEFAULT_TRAINING_EPOCHS = 60
DEFAULT_PLOT = Path("sagestep-demo.png")
SWEEP_POINTS = 25
JOB_TIMEOUT = 600.0


def _bad_data(field_name: str, problem: str) -> BadRequestError:
    return BadRequestError(None, f"{field_name}: {problem}", field_name)


@dataclass(frozen=True)
class Sample:
    """A CSV dataset: its path, target, feature names (in column order) and per-feature statistics.

    The statistics give the demo's inference input: every feature at its mean, the last one swept from its
    minimum to its maximum.
    """

    path: Path
    target: str
    features: list[str]
    means: list[float]
    minimums: list[float]
    maximums: list[float]
    rows: int

    @classmethod
    def load(cls, path: Path | None = None, target: str | None = None) -> Sample:
        """Read a CSV with a header row; default: the bundled regression sample of ``sagestep_training``."""
        if path is None:
            try:
                from sagestep_training.datasets import REGRESSION_CSV, REGRESSION_TARGET
            except ImportError:
                raise ConfigError(
                    "the bundled sample ships with the sagestep_training package, which is not importable "
                    "(reinstall sagestep: pip install -e .); or pass --data FILE --target COLUMN"
                ) from None
            path, target = Path(REGRESSION_CSV), target or REGRESSION_TARGET
        if target is None:
            raise _bad_data("target", "give the target column of your dataset")
        try:
            with path.open(newline="", encoding="utf-8-sig") as handle:
                reader = csv.reader(handle)
                header = [cell.strip() for cell in next(reader, [])]
                records = [row for row in reader if any(cell.strip() for cell in row)]
        except OSError as exc:
            raise _bad_data("data", f"cannot read {path}: {exc.strerror or exc}") from None
        if target not in header:
            raise _bad_data("target", f"column {target!r} is not in the header of {path} ({', '.join(header)})")
        features = [name for name in header if name != target]
        if not features or not records:
            raise _bad_data("data", f"{path} needs feature columns besides {target!r} and data rows")
        columns: list[list[float]] = []
        for name in features:
            index = header.index(name)
            try:
                columns.append([float(row[index]) for row in records])
            except (ValueError, IndexError):
                raise _bad_data("data", f"column {name!r} of {path} does not hold only numbers") from None
        return cls(
            path=path,
            target=target,
            features=features,
            means=[round(statistics.fmean(c), 6) for c in columns],
            minimums=[min(c) for c in columns],
            maximums=[max(c) for c in columns],
            rows=len(records),
        )

    def sweep_range(self, points: int = SWEEP_POINTS) -> SweepRange:
        """The last feature over its observed range, in about ``points`` round steps (1, 2, 2.5 or 5 x 10^k)."""
        low, high = self.minimums[-1], self.maximums[-1]
        if high <= low:
            return SweepRange(start=low, end=low, step=1.0)
        raw = (high - low) / (points - 1)
        scale = 10.0 ** math.floor(math.log10(raw))
        step = max(m * scale for m in (1.0, 2.0, 2.5, 5.0, 10.0) if m * scale <= raw * (1 + 1e-9))
        start = round(math.floor(low / step + 1e-9) * step, 10)
        end = round(math.ceil(high / step - 1e-9) * step, 10)
        return SweepRange(start=start, end=end, step=round(step, 10))

    def column(self, name: str) -> list[float]:
        """One numeric column of the file (for the plot's scatter of the data)."""
        with self.path.open(newline="", encoding="utf-8-sig") as handle:
            return [float(row[name]) for row in csv.DictReader(handle) if row.get(name, "").strip()]


@dataclass
class DemoResult:
    """What the training section did: the jobs, the sweep, the plot and how long each phase took."""

    data_uri: str
    hpo_job: TrainingJobView
    model_job: TrainingJobView
    feature: str
    base_input: list[float]
    x: list[float]
    predictions: list[float | int | str]
    plot_path: Path | None
    timings: Timings
    api_url: str = ""

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready summary (the training section of ``sagestep demo --json``)."""
        hpo = self.hpo_job.hpo
        return {
            "apiUrl": self.api_url,
            "dataUri": self.data_uri,
            "hpoJobId": self.hpo_job.jobId,
            "modelJobId": self.model_job.jobId,
            "modelStatus": self.model_job.status.value,
            "endpointName": self.model_job.resources.get("endpointName"),
            "objective": hpo.objective.model_dump(mode="json") if hpo else None,
            "bestHyperparameters": hpo.bestHyperparameters if hpo else {},
            "metrics": self.model_job.metrics,
            "sweep": {
                "feature": self.feature,
                "baseInput": self.base_input,
                "x": self.x,
                "predictions": self.predictions,
            },
            "plot": str(self.plot_path) if self.plot_path else None,
            "timings": self.timings.phases,
            "totalSeconds": self.timings.total,
        }


def _progress(console: Console | None, title: str) -> Any:
    return JobProgress(console, title) if console is not None else nullcontext(None)


def _expect(job: TrainingJobView, status: TrainingStatus, what: str) -> TrainingJobView:
    if job.status != status:
        reason = ": ".join(part for part in (job.error, _first_line(job.errorCause)) if part)
        raise DemoError(f"{what} {job.jobId} ended in {job.status.value}" + (f": {reason}" if reason else ""))
    return job


def _first_line(text: str | None, limit: int = 300) -> str:
    line = (text or "").strip().splitlines()[0] if (text or "").strip() else ""
    return line if len(line) <= limit else line[: limit - 3] + "..."


def run_hpo(
    client: SagestepClient,
    data_uri: str,
    target: str,
    *,
    trials: int = DEFAULT_TRIALS,
    epochs_per_trial: int = DEFAULT_EPOCHS_PER_TRIAL,
    console: Console | None = None,
    timeout: float = JOB_TIMEOUT,
    poll_interval: float = 1.0,
) -> TrainingJobView:
    """Run in-container HPO (Optuna inside one training job) and wait until it has completed."""
    job = client.hpo(
        dataUri=data_uri,
        target=target,
        strategy="in-container",
        maxTrials=trials,
        epochsPerTrial=epochs_per_trial,
        description="sagestep demo",
    )
    with _progress(console, "HPO") as progress:
        job = client.wait(
            job.jobId, timeout=timeout, poll_interval=poll_interval, on_update=progress.update if progress else None
        )
    return _expect(job, TrainingStatus.HPO_COMPLETED, "HPO job")


def train_from_hpo(
    client: SagestepClient,
    hpo_job_id: str,
    *,
    epochs: int = DEFAULT_TRAINING_EPOCHS,
    console: Console | None = None,
    timeout: float = JOB_TIMEOUT,
    poll_interval: float = 1.0,
) -> TrainingJobView:
    """Train with the HPO job's best hyperparameters, deploy, and wait until the endpoint is READY."""
    job = client.train(hpoJobId=hpo_job_id, hyperparameters={"epochs": str(epochs)}, description="sagestep demo")
    with _progress(console, "Training") as progress:
        job = client.wait(
            job.jobId, timeout=timeout, poll_interval=poll_interval, on_update=progress.update if progress else None
        )
    return _expect(job, TrainingStatus.READY, "model job")


def sweep(
    client: SagestepClient, job_id: str, base_input: list[float], swept: SweepRange
) -> tuple[list[float], list[float | int | str]]:
    """Predict for ``base_input`` with its last value varied over ``swept``: ``(x, predictions)``."""
    answer = client.infer(jobId=job_id, input=base_input, range=swept)
    x = answer.x_axis if answer.x_axis is not None else swept.points()
    return x, answer.predictions


def plot(
    path: Path,
    x: list[float],
    predictions: list[float | int | str],
    *,
    feature: str,
    target: str,
    data: tuple[list[float], list[float]] | None = None,
    title: str = "",
) -> Path:
    """Write a PNG of the predictions against the swept input (with the data as a faint scatter)."""
    from matplotlib.figure import Figure  # Figure without pyplot: no global backend, renders with Agg

    figure = Figure(figsize=(7, 4.2), dpi=120, layout="tight")
    axes = figure.add_subplot()
    if data is not None:
        axes.scatter(data[0], data[1], s=8, color="0.75", label="training data (all other features vary)")
    axes.plot(x, predictions, color="tab:blue", linewidth=2.2, label="prediction (other features at their mean)")
    axes.set_xlabel(feature)
    axes.set_ylabel(target)
    axes.set_title(title or f"{target} as {feature} varies")
    axes.grid(alpha=0.3)
    axes.legend(loc="best", fontsize="small")
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, format="png")
    return path


def run_steps(
    client: SagestepClient,
    data_uri: str,
    sample: Sample,
    *,
    trials: int = DEFAULT_TRIALS,
    epochs_per_trial: int = DEFAULT_EPOCHS_PER_TRIAL,
    training_epochs: int = DEFAULT_TRAINING_EPOCHS,
    plot_path: Path | None = DEFAULT_PLOT,
    console: Console | None = None,
    timings: Timings | None = None,
    poll_interval: float = 1.0,
) -> DemoResult:
    """HPO, training from it, a sweep of the last feature and the plot, against any sagestep API.

    ``sample`` describes the data at ``data_uri`` (target, features, the sweep). With a ``console`` the
    steps show live progress and tables. Returns the jobs, the sweep and the time of each phase.
    """
    timings = timings if timings is not None else Timings()
    say = printer(console)
    say(f"\n[bold]1. HPO[/]: {trials} trials of in-container Bayesian search on {escape(data_uri)}")
    with timings.phase("hpo"):
        hpo_job = run_hpo(
            client,
            data_uri,
            sample.target,
            trials=trials,
            epochs_per_trial=epochs_per_trial,
            console=console,
            poll_interval=poll_interval,
        )
    if console is not None and hpo_job.hpo is not None:
        console.print(best_hyperparameters_table(hpo_job))
    say(f"\n[bold]2. Train and deploy[/] with the best hyperparameters of {hpo_job.jobId}")
    with timings.phase("train and deploy"):
        model_job = train_from_hpo(
            client, hpo_job.jobId, epochs=training_epochs, console=console, poll_interval=poll_interval
        )
    swept = sample.sweep_range()
    feature = sample.features[-1]
    say(f"\n[bold]3. Inference[/]: {escape(feature)} from {swept.start:g} to {swept.end:g}, the others at their mean")
    with timings.phase("inference"):
        x, predictions = sweep(client, model_job.jobId, sample.means, swept)
    if console is not None:
        console.print(sweep_table(feature, sample.target, x, predictions))
    written = None
    if plot_path is not None:
        with timings.phase("plot"):
            data = (sample.column(feature), sample.column(sample.target))
            written = plot(
                plot_path,
                x,
                predictions,
                feature=feature,
                target=sample.target,
                data=data,
                title=f"{sample.target} vs {feature} ({model_job.jobId})",
            )
        say(f"plot written to [bold]{escape(str(written))}[/]")
    return DemoResult(
        data_uri=data_uri,
        hpo_job=hpo_job,
        model_job=model_job,
        feature=feature,
        base_input=sample.means,
        x=x,
        predictions=predictions,
        plot_path=written,
        timings=timings,
        api_url=client.api_url,
    )


class TrainingDemo:
    """The training workflow's section of ``sagestep demo``: upload the data, then :func:`run_steps`.

    The dataset is read when the section is made, so bad data fails before a runtime starts.
    """

    name = "training"
    title = "HPO, training, deployment and inference"

    def __init__(
        self,
        *,
        plot_path: Path | None = DEFAULT_PLOT,
        trials: int = DEFAULT_TRIALS,
        epochs_per_trial: int = DEFAULT_EPOCHS_PER_TRIAL,
        training_epochs: int = DEFAULT_TRAINING_EPOCHS,
        data_path: Path | None = None,
        target: str | None = None,
    ) -> None:
        self.sample = Sample.load(data_path, target)
        self.plot_path = plot_path
        self.trials = trials
        self.epochs_per_trial = epochs_per_trial
        self.training_epochs = training_epochs

    def run(self, context: DemoContext) -> DemoResult:
        """Upload the sample into the runtime's data bucket and run the steps; print the summary."""
        sample = self.sample
        with context.timings.phase("upload data"):
            data_uri = context.upload(sample.path)
        printer(context.console)(
            escape(f"uploaded {sample.path.name} ({sample.rows} rows, target {sample.target!r}) to {data_uri}")
        )
        result = run_steps(
            context.client,
            data_uri,
            sample,
            trials=self.trials,
            epochs_per_trial=self.epochs_per_trial,
            training_epochs=self.training_epochs,
            plot_path=self.plot_path,
            console=context.console,
            timings=context.timings,
        )
        if context.console is not None:
            print_summary(context.console, result)
        return result


def best_hyperparameters_table(job: TrainingJobView) -> Table:
    """The HPO job's best hyperparameters, with the objective it reached as the caption."""
    table = Table(show_header=True, caption_justify="left")
    table.add_column("best hyperparameter")
    table.add_column("value", justify="right")
    if job.hpo is not None:
        for name, value in sorted(job.hpo.bestHyperparameters.items()):
            table.add_row(name, Text(value))
        objective = job.hpo.objective
        value = "n/a" if objective.value is None else f"{objective.value:.4g}"
        table.caption = f"{objective.name} = {value} ({objective.direction}) after {len(job.hpo.trials)} trials"
    return table


def sweep_table(feature: str, target: str, x: list[float], predictions: list[float | int | str]) -> Table:
    """The swept input against the prediction."""
    table = Table(show_header=True)
    table.add_column(feature, justify="right")
    table.add_column(f"predicted {target}", justify="right")
    for value, prediction in zip(x, predictions, strict=False):
        shown = f"{prediction:.4g}" if isinstance(prediction, float) else str(prediction)
        table.add_row(f"{value:g}", shown)
    return table


def print_summary(console: Console, result: DemoResult) -> None:
    """Job ids, best hyperparameters and metrics (the time of each phase is in the demo's timings table)."""
    console.print("\n[bold]Summary[/]")
    jobs = Table(show_header=False, box=None, pad_edge=False)
    jobs.add_column(style="dim")
    jobs.add_column()
    jobs.add_row("data", Text(result.data_uri))
    jobs.add_row("HPO job", result.hpo_job.jobId)
    jobs.add_row("model job", result.model_job.jobId)
    jobs.add_row("status", status_text(result.model_job.status))
    jobs.add_row("endpoint", Text(result.model_job.resources.get("endpointName", "-")))
    hpo = result.hpo_job.hpo
    if hpo is not None:
        objective = "n/a" if hpo.objective.value is None else f"{hpo.objective.value:.4g}"
        jobs.add_row("HPO objective", f"{hpo.objective.name} = {objective} ({hpo.objective.direction})")
        jobs.add_row("best", Text(", ".join(f"{k}={v}" for k, v in sorted(hpo.bestHyperparameters.items()))))
    for name, value in sorted(result.model_job.metrics.items()):
        jobs.add_row(name, f"{value:.4g}")
    if result.plot_path is not None:
        jobs.add_row("plot", Text(str(result.plot_path)))
    console.print(jobs)
