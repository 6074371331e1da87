"""The labeling workflow's section of ``sagestep demo``: 90 short product reviews (``labeling_samples``, with answer
keys) labeled in a batch of two levels: three crowd workers per review (the deployment's team: the local simulated
crowd of five workers of mixed accuracy), then an expert review (a team named ``...experts``: two simulated experts)
of the reviews whose consolidated confidence is below 0.8. Progress is shown level by level.

Then the quality, against the answer keys: the final labels (the expert's where reviewed, else the crowd's
Dawid-Skene label), the crowd's labels alone, and a plain majority vote of the crowd's answers (read from the
report's ``annotations`` Parquet table with DuckDB, as ``sagestep labeling report --sql`` does); the worker table
(estimated accuracy, agreement, mean seconds per item, and the accuracy the answer keys give); and a PNG of each
worker's estimated accuracy against its mean seconds per item.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from rich.markup import escape
from rich.table import Table

from sagestep.demo import labeling_samples as samples
from sagestep.demo.runner import DATA_FOLDER, DemoContext, DemoError, Timings, printer
from sagestep_service.workflows.labeling.consolidation import Answer, majority_vote
from sagestep_service.workflows.labeling.models import BatchStatus, BatchView
from sagestep_service.workflows.labeling.reports import BatchReport, item_key

ITEMS = 90
WORKERS_PER_ITEM = 3
REVIEW_BELOW = 0.8
EXPERT_TEAM = "demo-experts"  #: the local simulated workforce gives a team whose name has "expert" its experts
MODALITY = "TextClassification"
DEFAULT_PLOT = Path("sagestep-demo-labeling.png")
TIMEOUT_SECONDS = 120
ITEMS_SQL = (
    "SELECT item_key, label, confidence, audit_label FROM items WHERE level = 1 ORDER BY dataset_object_id::INTEGER"
)
ANSWERS_SQL = "SELECT level, item_key, worker_id, label FROM annotations"


@dataclass(frozen=True)
class WorkerQuality:
    workerId: str
    items: int
    estimatedAccuracy: float | None
    agreement: float | None
    meanSeconds: float | None
    trueAccuracy: float | None
    """The share of the worker's answers equal to the answer key (what the estimate estimates)."""


@dataclass
class LabelingDemoResult:
    batch: BatchView
    reviewed: int
    accuracy: dict[str, float]
    """Against the answer keys: ``final`` (expert where reviewed), ``crowd`` (Dawid-Skene), ``majorityVote``."""
    workers: list[WorkerQuality]
    plot_path: Path | None
    timings: Timings = field(default_factory=Timings)

    def to_json(self) -> dict[str, Any]:
        return {
            "batchId": self.batch.batchId,
            "status": str(self.batch.status),
            "items": ITEMS,
            "reviewed": self.reviewed,
            "accuracy": self.accuracy,
            "workers": [vars(w) for w in self.workers],
            "plot": str(self.plot_path) if self.plot_path else None,
        }


def expert_team_arn(topic_arn: str, name: str = EXPERT_TEAM) -> str:
    """A private work team of the deployment's account and region (taken from its topic's ARN)."""
    _, partition, _, region, account, _ = topic_arn.split(":", 5)
    return f"arn:{partition}:sagemaker:{region}:{account}:workteam/private-crowd/{name}"


def accuracies(
    items: list[dict[str, Any]], answers: list[dict[str, Any]], truth: dict[str, str]
) -> tuple[dict[str, float], int]:
    """Accuracy against ``truth`` of the final labels, the crowd's labels and the crowd's majority vote; and how
    many items the experts reviewed."""
    final = {row["item_key"]: row["audit_label"] or row["label"] for row in items}
    crowd = {row["item_key"]: row["label"] for row in items}
    votes = majority_vote(
        [Answer(item=a["item_key"], worker=a["worker_id"], label=a["label"]) for a in answers], samples.CLASSES
    )
    majority = {key: result.label for key, result in votes.items.items()}

    def share(labels: dict[str, str]) -> float:
        return sum(labels.get(key) == label for key, label in truth.items()) / len(truth)

    reviewed = sum(row["audit_label"] is not None for row in items)
    return {"final": share(final), "crowd": share(crowd), "majorityVote": share(majority)}, reviewed


def worker_quality(report: BatchReport, answers: list[dict[str, Any]], truth: dict[str, str]) -> list[WorkerQuality]:
    right: dict[str, list[bool]] = defaultdict(list)
    for a in answers:
        right[a["worker_id"]].append(a["label"] == truth.get(a["item_key"]))
    return [
        WorkerQuality(
            workerId=w.workerId,
            items=w.labels,
            estimatedAccuracy=w.estimatedAccuracy,
            agreement=w.agreement,
            meanSeconds=w.meanSeconds,
            trueAccuracy=sum(right[w.workerId]) / len(right[w.workerId]) if right[w.workerId] else None,
        )
        for w in sorted(report.workers, key=lambda w: w.workerId)
    ]


def plot(path: Path, workers: list[WorkerQuality], title: str) -> Path:
    """Write a PNG: each worker's estimated accuracy against its mean seconds per item (experts in another colour)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure  # no pyplot: no global backend

    figure = Figure(figsize=(7, 4.2), dpi=120, layout="tight")
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    for expert, colour, label in ((False, "tab:blue", "crowd"), (True, "tab:orange", "expert")):
        shown = [w for w in workers if ("expert" in w.workerId) == expert and w.estimatedAccuracy is not None]
        if not shown:
            continue
        axes.scatter(
            [w.meanSeconds or 0.0 for w in shown], [w.estimatedAccuracy or 0.0 for w in shown], s=60, color=colour,
            label=label,
        )  # fmt: skip
        for w in shown:
            axes.annotate(w.workerId, (w.meanSeconds or 0.0, w.estimatedAccuracy or 0.0), fontsize="x-small",
                          xytext=(5, 4), textcoords="offset points")  # fmt: skip
    axes.set_xlabel("mean seconds per item")
    axes.set_ylabel("estimated accuracy (Dawid-Skene)")
    axes.set_ylim(0, 1.05)
    axes.set_title(title)
    axes.grid(alpha=0.3)
    axes.legend(loc="lower right", fontsize="small")
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, format="png")
    return path


class LabelingDemo:
    """Label the sample reviews in two levels (crowd, then experts for the uncertain ones) and measure the labels."""

    name = "labeling"
    title = "90 reviews by a simulated crowd, the uncertain ones reviewed by experts, quality measured"

    def __init__(self, plot_path: Path | None = DEFAULT_PLOT) -> None:
        self.plot_path = plot_path

    def run(self, context: DemoContext) -> LabelingDemoResult:
        import boto3

        from sagestep.cli.errors import CliError
        from sagestep.cli.labeling import default_batch_id, follow, query_report, run_body

        say = printer(context.console)
        client = context.client
        with context.timings.phase("upload reviews"):
            folder = f"{DATA_FOLDER}/labeling"
            manifest = client.upload(samples.manifest(ITEMS), f"{folder}/reviews.manifest")
            categories = client.upload(samples.categories(), f"{folder}/labels.json")
        say(escape(f"uploaded {ITEMS} reviews ({', '.join(samples.CLASSES)}) to {manifest}"))
        batch_id = default_batch_id("demo-reviews", datetime.now(UTC))
        body = run_body(
            batch_id, manifest, categories, MODALITY, workers=WORKERS_PER_ITEM, review_below=REVIEW_BELOW,
            expert_team=expert_team_arn(context.info.topic_arn),
        )  # fmt: skip
        with context.timings.phase("label (2 levels)"):
            client.labeling.create(body)
            say(
                escape(
                    f"created batch {batch_id}: level 1, {WORKERS_PER_ITEM} crowd workers per review; level 2, an "
                    f"expert for each review whose confidence is below {REVIEW_BELOW}"
                )
            )
            try:
                batch = follow(client, batch_id, context.console, timeout=TIMEOUT_SECONDS, poll=0.25)
            except CliError as exc:  # it timed out
                raise DemoError(exc.message) from None
        if batch.status != BatchStatus.COMPLETE:
            raise DemoError(f"labeling batch {batch_id} ended {batch.status}: {batch.error}")
        with context.timings.phase("measure quality"):
            info = context.info
            s3 = boto3.client(
                "s3", endpoint_url=info.aws_endpoint_url, region_name=info.region, aws_access_key_id="testing",
                aws_secret_access_key="testing",
            )  # fmt: skip
            items = query_report(s3, batch, ITEMS_SQL)
            answers = query_report(s3, batch, ANSWERS_SQL)
            truth = {item_key(line): line["sagestep-answer"] for line in samples.reviews(ITEMS)}
            accuracy, reviewed = accuracies(items, [a for a in answers if a["level"] == 1], truth)
            workers = worker_quality(client.labeling.report(batch_id), answers, truth)
        written = None
        if self.plot_path is not None:
            with context.timings.phase("plot"):
                written = plot(self.plot_path, workers, f"Workers of batch {batch_id}")
        result = LabelingDemoResult(batch, reviewed, accuracy, workers, written, context.timings)
        if context.console is not None:
            self._print(context, result)
        return result

    @staticmethod
    def _print(context: DemoContext, result: LabelingDemoResult) -> None:
        from sagestep.cli.labeling import levels_table

        console = context.console
        assert console is not None
        console.print(levels_table(result.batch, labeling_jobs=False))
        quality = Table("labels", "accuracy vs answer key", title="Label quality", title_justify="left")
        quality.add_row(
            f"final (expert where reviewed: {result.reviewed} of {ITEMS})", f"{result.accuracy['final']:.1%}"
        )
        quality.add_row("crowd, Dawid-Skene (level 1)", f"{result.accuracy['crowd']:.1%}")
        quality.add_row("crowd, plain majority vote", f"{result.accuracy['majorityVote']:.1%}")
        console.print(quality)
        table = Table(
            "worker", "items", "est. accuracy", "true accuracy", "agreement", "mean s/item", title="Workers",
            title_justify="left",
        )  # fmt: skip
        for w in result.workers:
            table.add_row(
                w.workerId, str(w.items), _ratio(w.estimatedAccuracy), _ratio(w.trueAccuracy), _ratio(w.agreement),
                "" if w.meanSeconds is None else f"{w.meanSeconds:.1f}",
            )  # fmt: skip
        console.print(table)
        if result.plot_path is not None:
            console.print(f"plot written to [bold]{escape(str(result.plot_path))}[/]")


def _ratio(value: float | None) -> str:
    return "" if value is None else f"{value:.3f}"
