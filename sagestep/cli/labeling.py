"""The labeling workflow's commands: ``labeling create`` (a file with the reference's body), ``run`` (a local or
``s3://`` manifest: a crowd level, optionally an expert review of the items below a confidence), ``list``, ``show``,
``wait``, ``stop`` and ``report`` (the summary, or SQL over the batch's Parquet tables)."""

from __future__ import annotations

import json
import re
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from sagestep.cli.errors import EXIT_FAILED, EXIT_INTERRUPTED, CliError
from sagestep.cli.jobs import KeyOpt, TimeoutOpt
from sagestep.cli.output import JsonOpt, err, out, print_json, short_time
from sagestep.cli.target import LocalOpt, RegionOpt, StackOpt, Target, UsernameOpt, client_for
from sagestep.client import load_local_config, parse_request
from sagestep.labeling_client import TERMINAL
from sagestep_service.workflows.labeling.ground_truth import MODALITIES
from sagestep_service.workflows.labeling.models import NAME, S3_URI, BatchRequest, BatchStatus, BatchView
from sagestep_service.workflows.labeling.reports import BatchReport

labeling_app = typer.Typer(help="Label data with Ground Truth: batches of jobs in levels.", no_args_is_help=True)

BatchArg = Annotated[str, typer.Argument(metavar="BATCH", help="A batch id (yours, given at creation).")]
CROWD, REVIEW = "crowd", "review"  #: the job names of a ``labeling run`` batch
MODALITY_EXAMPLES = "TextClassification, ImageClassification, BoundingBox, NamedEntityRecognition"
UPLOADS = "labeling-input"  #: where ``labeling run`` puts local files in your prefix


def register(app: typer.Typer) -> None:
    """Add the labeling workflow's commands to the root command."""
    app.add_typer(labeling_app, name="labeling")


def _ratio(value: float | None) -> str:
    return "" if value is None else f"{value:.3f}"


def _seconds(value: float | None) -> str:
    return "" if value is None else f"{value:.1f}"


def levels_table(batch: BatchView, *, labeling_jobs: bool = True) -> Table:
    """One row per job of the batch, level by level: its status and item counts (and, with ``labeling_jobs``, the
    Ground Truth labeling job's name)."""
    headers = ["level", "status", "job", *(["labeling job"] if labeling_jobs else []), "job status", "items"]
    table = Table(*headers, "human", "failed", "note")
    for level in batch.levels:
        for index, job in enumerate(level.jobs or [None]):
            first = index == 0
            level_cells = [str(level.level), level.status] if first else ["", ""]
            if job is None:
                table.add_row(*level_cells, *[""] * (len(table.columns) - 3), level.message or "")
                continue
            counts = job.itemCounts
            note = job.failureReason or job.message or (level.message if first else None) or ""
            table.add_row(
                *level_cells, job.jobName, *([job.labelingJobName] if labeling_jobs else []), job.status,
                str(counts.total), str(counts.humanLabeled), str(counts.failed), note,
            )  # fmt: skip
    return table


def workers_table(rows: list[tuple[str, int, float | None, float | None, float | None]]) -> Table:
    """Per worker: items (or labels), estimated accuracy, agreement with the consolidated labels, mean seconds."""
    table = Table("worker", "items", "est. accuracy", "agreement", "mean s/item")
    for worker, items, accuracy, agreement, seconds in rows:
        table.add_row(worker, str(items), _ratio(accuracy), _ratio(agreement), _seconds(seconds))
    return table


def show_batch(console: Console, batch: BatchView) -> None:
    """The batch, its levels and jobs, its workers and where its report is."""
    finished = f", finished {short_time(batch.finishedAt)}" if batch.finishedAt else ""
    created = short_time(batch.createdAt) if batch.createdAt else "?"
    console.print(f"[bold]{batch.batchId}[/bold]  {batch.status}  (created {created}{finished})")
    if batch.error:
        console.print(f"[red]error[/red]: {batch.error}", markup=True)
    if batch.levels:
        console.print(levels_table(batch))
    if batch.workers:
        rows = [(w.workerId, w.items, w.estimatedAccuracy, w.agreement, w.meanSecondsPerItem) for w in batch.workers]
        console.print(workers_table(rows))
    if batch.report is not None:
        console.print(f"report: {batch.report.s3Uri}", markup=False, soft_wrap=True)


def _progress_line(batch: BatchView) -> str:
    parts = []
    for level in batch.levels:
        jobs = ", ".join(
            f"{job.jobName} {job.status} {job.itemCounts.humanLabeled + job.itemCounts.machineLabeled}"
            f"/{job.itemCounts.total}"
            for job in level.jobs
        )
        parts.append(f"level {level.level} {level.status}" + (f" ({jobs})" if jobs else ""))
    return f"{batch.batchId} {batch.status}: " + ("; ".join(parts) or "starting")


def follow(client: Any, batch_id: str, console: Console | None, *, timeout: float, poll: float = 1.0) -> BatchView:
    """Poll the batch until it ends, printing a line (elapsed seconds, each level's status and items labeled)
    whenever a level changes (without a ``console``: quietly); raises :class:`CliError` after ``timeout`` seconds."""
    started = time.monotonic()
    last = ""
    while True:
        batch: BatchView = client.labeling.show(batch_id)
        line = _progress_line(batch)
        if line != last and console is not None:
            console.print(f"[dim]{time.monotonic() - started:6.1f} s[/dim]  {line}", soft_wrap=True)
            last = line
        if batch.status in TERMINAL:
            return batch
        if time.monotonic() - started > timeout:
            raise CliError(
                f"batch {batch_id} is still {batch.status} after {timeout:.0f} s; follow it again: "
                f"sagestep labeling wait {batch_id}",
                EXIT_FAILED,
            )
        time.sleep(poll)


def _finish(client: Any, batch: BatchView, wait: bool, timeout: float, json_out: bool) -> None:
    """Print the batch; with ``wait`` follow it first (progress on stderr with ``--json``); exit 1 unless it
    completed."""
    if wait:
        try:
            batch = follow(client, batch.batchId, err() if json_out else out(), timeout=timeout)
        except KeyboardInterrupt:
            err().print(f"stopped waiting; the batch goes on. Follow it again: sagestep labeling wait {batch.batchId}")
            raise typer.Exit(EXIT_INTERRUPTED) from None
    if json_out:
        print_json(batch)
    else:
        show_batch(out(), batch)
        if not wait:
            out().print(f"follow it with: sagestep labeling wait {batch.batchId}", markup=False)
    if wait and batch.status != BatchStatus.COMPLETE:
        raise CliError(
            f"batch {batch.batchId} ended {batch.status}: {batch.error or 'no reason recorded'}", EXIT_FAILED
        )


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise CliError(f"{path}: no such file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise CliError(f"{path}: cannot read it: {exc}") from None
    except json.JSONDecodeError as exc:
        raise CliError(f"{path}: not JSON: {exc}") from None


@labeling_app.command("create")
def create(
    ctx: typer.Context,
    body: Annotated[Path, typer.Argument(metavar="BODY.json", help="The request body (the reference's), as JSON.")],
    wait: Annotated[bool, typer.Option("--wait", "-w", help="Follow the batch level by level until it ends.")] = False,
    timeout: TimeoutOpt = 3600,
    idempotency_key: KeyOpt = None,
    json_out: JsonOpt = False,
    local: LocalOpt = False,
    stack: StackOpt = None,
    region: RegionOpt = None,
    username: UsernameOpt = None,
) -> None:
    """Create a batch from a file holding the body of POST /batch/create (batchId, labelingJobs, ...)."""
    request = parse_request(BatchRequest, _read_json(body))
    client = client_for(ctx, Target(local, stack, region, username))
    _finish(client, client.labeling.create(request, idempotency_key=idempotency_key), wait, timeout, json_out)


def _uri(client: Any, source: str, remote: str, what: str) -> str:
    """``source`` if it is an ``s3://`` URI, else the local file uploaded to ``remote`` in your prefix."""
    if source.startswith("s3://"):
        if not S3_URI.match(source):
            raise CliError(f"{what}: {source!r} is not an s3://bucket/key URI")
        return source
    path = Path(source)
    if not path.is_file():
        raise CliError(f"{what}: {source}: no such file (give a local file or an s3:// URI)")
    return str(client.upload(path, remote))


def default_batch_id(manifest: str, now: datetime | None = None) -> str:
    """``<manifest file's stem>-<UTC yyyymmdd-hhmmss>``, reduced to a valid batch id."""
    stem = re.sub(r"[^a-zA-Z0-9]+", "-", Path(manifest.rsplit("/", 1)[-1]).stem).strip("-")[:40].strip("-")
    return f"{stem or 'batch'}-{(now or datetime.now(UTC)).strftime('%Y%m%d-%H%M%S')}"


def run_body(
    batch_id: str,
    manifest_uri: str,
    categories_uri: str,
    modality: str,
    *,
    workers: int = 3,
    review_below: float | None = None,
    review_workers: int = 1,
    expert_team: str | None = None,
    team: str | None = None,
) -> dict[str, Any]:
    """A ``labeling run`` batch: level 1 labels the manifest with ``workers`` workers per item (``team``, default
    the deployment's); with ``review_below``, level 2 has the items whose consolidated confidence is below it
    labeled again by ``review_workers`` of ``expert_team`` (default: the deployment's team)."""
    crowd: dict[str, Any] = {
        "jobName": CROWD,
        "jobType": "BATCH",
        "jobModality": modality,
        "jobLevel": 1,
        "labelCategoryConfigS3Uri": categories_uri,
        "inputConfig": {"inputManifestS3Uri": manifest_uri},
        "workersPerObject": workers,
        **({"workteamArn": team} if team else {}),
    }
    jobs = [crowd]
    if review_below is not None:
        jobs.append(
            {
                "jobName": REVIEW,
                "jobType": "BATCH",
                "jobModality": modality,
                "jobLevel": 2,
                "inputConfig": {"chainFromJobName": CROWD, "filter": {"confidenceBelow": review_below}},
                "workersPerObject": review_workers,
                **({"workteamArn": expert_team} if expert_team else {}),
            }
        )
    return {"batchId": batch_id, "labelingJobs": jobs}


@labeling_app.command("run")
def run(
    ctx: typer.Context,
    manifest: Annotated[
        str,
        typer.Argument(
            metavar="MANIFEST", help="A Ground Truth input manifest (JSON Lines): a local file (uploaded) or s3:// URI."
        ),
    ],
    categories: Annotated[
        str, typer.Option("--categories", help="The label categories JSON: a local file (uploaded) or s3:// URI.")
    ],
    modality: Annotated[
        str,
        typer.Option(
            "--modality", help=f"A Ground Truth modality, e.g. {MODALITY_EXAMPLES} ({len(MODALITIES)} in all)."
        ),
    ],
    workers: Annotated[int, typer.Option("--workers", min=1, max=9, help="Crowd workers per item (level 1).")] = 3,
    review_below: Annotated[
        float | None,
        typer.Option(
            "--review-below",
            min=0.01,
            max=1.0,
            help="Add level 2: an expert review of the items whose consolidated confidence is below this.",
        ),
    ] = None,
    review_workers: Annotated[
        int, typer.Option("--review-workers", min=1, max=9, help="Expert workers per reviewed item (level 2).")
    ] = 1,
    expert_team: Annotated[
        str | None, typer.Option("--expert-team", help="Work team ARN of the review (default: the deployment's).")
    ] = None,
    team: Annotated[
        str | None, typer.Option("--team", help="Work team ARN of the crowd (default: the deployment's).")
    ] = None,
    batch_id: Annotated[
        str | None, typer.Option("--batch-id", help="Your name for the batch (default: <manifest>-<UTC time>).")
    ] = None,
    wait: Annotated[bool, typer.Option("--wait", "-w", help="Follow the batch level by level until it ends.")] = False,
    timeout: TimeoutOpt = 3600,
    idempotency_key: KeyOpt = None,
    json_out: JsonOpt = False,
    local: LocalOpt = False,
    stack: StackOpt = None,
    region: RegionOpt = None,
    username: UsernameOpt = None,
) -> None:
    """Label a manifest: a crowd level, and with --review-below an expert review of the uncertain items."""
    if expert_team and review_below is None:
        raise CliError("--expert-team: goes with --review-below (there is no review level without it)")
    batch_id = batch_id or default_batch_id(manifest)
    if not NAME.match(batch_id):
        raise CliError(f"--batch-id: {batch_id!r} is not a valid batch id (1-63 letters, digits and hyphens)")
    client = client_for(ctx, Target(local, stack, region, username))
    manifest_uri = _uri(client, manifest, f"{UPLOADS}/{batch_id}/{Path(manifest).name}", "MANIFEST")
    categories_uri = _uri(client, categories, f"{UPLOADS}/{batch_id}/{Path(categories).name}", "--categories")
    body = run_body(
        batch_id, manifest_uri, categories_uri, modality, workers=workers, review_below=review_below,
        review_workers=review_workers, expert_team=expert_team, team=team,
    )  # fmt: skip
    request = parse_request(BatchRequest, body)
    _finish(client, client.labeling.create(request, idempotency_key=idempotency_key), wait, timeout, json_out)


@labeling_app.command("list")
def list_batches(
    ctx: typer.Context,
    json_out: JsonOpt = False,
    local: LocalOpt = False,
    stack: StackOpt = None,
    region: RegionOpt = None,
    username: UsernameOpt = None,
) -> None:
    """Your batch ids by status."""
    batches = client_for(ctx, Target(local, stack, region, username)).labeling.list()
    if json_out:
        print_json(batches)
        return
    table = Table("status", "batches")
    for status in BatchStatus:
        ids = getattr(batches, status.value)
        if ids:
            table.add_row(status.value, ", ".join(ids))
    out().print(table if table.row_count else "no labeling batches yet")


@labeling_app.command("show")
def show(
    ctx: typer.Context,
    batch_id: BatchArg,
    json_out: JsonOpt = False,
    local: LocalOpt = False,
    stack: StackOpt = None,
    region: RegionOpt = None,
    username: UsernameOpt = None,
) -> None:
    """One batch: level by level, job by job, its workers and its report."""
    batch = client_for(ctx, Target(local, stack, region, username)).labeling.show(batch_id)
    print_json(batch) if json_out else show_batch(out(), batch)


@labeling_app.command("wait")
def wait_batch(
    ctx: typer.Context,
    batch_id: BatchArg,
    timeout: TimeoutOpt = 3600,
    json_out: JsonOpt = False,
    local: LocalOpt = False,
    stack: StackOpt = None,
    region: RegionOpt = None,
    username: UsernameOpt = None,
) -> None:
    """Follow a batch level by level until it ends, then show it (exit status 1 unless it completed)."""
    client = client_for(ctx, Target(local, stack, region, username))
    _finish(client, client.labeling.show(batch_id), True, timeout, json_out)


@labeling_app.command("stop")
def stop(
    ctx: typer.Context,
    batch_id: BatchArg,
    json_out: JsonOpt = False,
    local: LocalOpt = False,
    stack: StackOpt = None,
    region: RegionOpt = None,
    username: UsernameOpt = None,
) -> None:
    """Stop a running batch (its labeling jobs are stopped, later levels do not start; it ends STOPPED)."""
    batch = client_for(ctx, Target(local, stack, region, username)).labeling.stop(batch_id)
    print_json(batch) if json_out else out().print(f"stopping {batch.batchId} (it was {batch.status})", markup=False)


# --- report ------------------------------------------------------------------------------------------------------


def show_report(console: Console, report: BatchReport) -> None:
    """The report's summary: the team, each job (label attribute), the audits' outcomes, labels and workers."""
    team = report.team
    console.print(
        f"[bold]{report.batchId}[/bold]  report of {report.generatedAt}: {team.jobs} jobs, {team.items} items, "
        f"{team.annotations} answers by {team.workers} workers; mean {_seconds(team.meanSecondsPerAnnotation)} s "
        f"per answer, agreement {_ratio(team.meanAgreement)}, mean estimated accuracy "
        f"{_ratio(team.meanEstimatedAccuracy)}"
    )
    jobs = Table(
        "level", "job", "modality", "items", "labeled", "failed", "mean conf.", "answers", "workers", "audited"
    )
    for a in report.perLabelAttribute:
        jobs.add_row(
            str(a.level), a.jobName, a.modality, str(a.items), str(a.labeled), str(a.failed),
            _ratio(a.meanConfidence), str(a.annotations), str(a.workers), str(a.audited),
        )  # fmt: skip
    console.print(jobs)
    if report.auditOutcomes:
        audits = Table("earlier label", "audited", "confirmed", "adjusted", "failed")
        for o in report.auditOutcomes:
            audits.add_row(o.label, str(o.audited), str(o.confirmed), str(o.adjusted), str(o.failed))
        console.print(audits)
    if report.perLabel:
        labels = Table("label", "answers", "items")
        for label in report.perLabel:
            labels.add_row(label.label, str(label.annotations), str(label.items))
        console.print(labels)
    rows = [(w.workerId, w.labels, w.estimatedAccuracy, w.agreement, w.meanSeconds) for w in report.workers]
    if rows:
        console.print(workers_table(rows))
    for what, left_out in sorted(report.truncated.items()):
        console.print(f"{what}: {left_out} more left out (the Parquet tables hold every one: --sql)", markup=False)


def report_prefix(batch: BatchView) -> tuple[str, str]:
    """The bucket and key prefix of the batch's report tables (beside its ``report.json``)."""
    if batch.report is None:
        raise CliError(f"batch {batch.batchId} has no report yet (it is {batch.status})", EXIT_FAILED)
    match = S3_URI.match(batch.report.s3Uri)
    if match is None:
        raise CliError(f"batch {batch.batchId}: its report is at {batch.report.s3Uri!r}, not an s3:// URI")
    key = match["key"]
    return match["bucket"], key[: key.rfind("/") + 1]


def report_s3(target: Target) -> Any:
    """An S3 client that reads the report tables: the running local runtime's S3, or the stack's region with your
    AWS credentials (they need s3:GetObject on your prefix of the data bucket)."""
    import boto3

    if target.stack and not target.local:
        return boto3.Session(region_name=target.region).client("s3")
    config = load_local_config()
    return boto3.client(
        "s3",
        endpoint_url=config.aws_endpoint_url,
        region_name=config.region,
        aws_access_key_id="testing",  # the local runtime takes any credentials
        aws_secret_access_key="testing",
    )


def query_report(s3: Any, batch: BatchView, sql: str) -> list[dict[str, Any]]:
    """Download the batch's Parquet tables and run ``sql`` over them (DuckDB views ``annotations``, ``items``,
    ``workers``, named like the Glue tables Athena queries)."""
    import duckdb  # lazy, as in labeling_reports: only a query needs it

    from sagestep.labeling_reports import download_tables, query

    bucket, prefix = report_prefix(batch)
    with tempfile.TemporaryDirectory(prefix="sagestep-report-") as folder:
        tables = download_tables(s3, bucket, prefix, Path(folder))
        try:
            return query(sql, tables)
        except duckdb.Error as exc:  # the SQL's parser, binder and catalog errors
            raise CliError(f"--sql: {' '.join(str(exc).split())}") from None


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.6g}"
    return str(value)


def rows_table(rows: list[dict[str, Any]]) -> Table:
    table = Table(*(rows[0] if rows else []))
    for row in rows:
        table.add_row(*(_cell(value) for value in row.values()))
    return table


@labeling_app.command("report")
def report(
    ctx: typer.Context,
    batch_id: BatchArg,
    sql: Annotated[
        str | None,
        typer.Option(
            "--sql",
            help="SQL over the batch's tables annotations, items and workers (downloaded, queried with DuckDB).",
        ),
    ] = None,
    json_out: JsonOpt = False,
    local: LocalOpt = False,
    stack: StackOpt = None,
    region: RegionOpt = None,
    username: UsernameOpt = None,
) -> None:
    """A completed batch's report: who labeled what, how fast and how well; with --sql, rows of its tables."""
    target = Target(local, stack, region, username)
    client = client_for(ctx, target)
    if sql is None:
        summary = client.labeling.report(batch_id)
        print_json(summary) if json_out else show_report(out(), summary)
        return
    rows = query_report(report_s3(target), client.labeling.show(batch_id), sql)
    if json_out:
        typer.echo(json.dumps(rows, indent=2, default=str))
        return
    out().print(rows_table(rows) if rows else "no rows")
