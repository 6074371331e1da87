"""The documents workflow's commands: ``documents analyse`` (a local file or folder, or an ``s3://`` URI),
``list``, ``show``, ``paragraphs``, ``wait``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from sagestep.cli.errors import CliError
from sagestep.cli.jobs import KeyOpt, TimeoutOpt
from sagestep.cli.output import JsonOpt, out, print_json, short_time
from sagestep.cli.target import LocalOpt, RegionOpt, StackOpt, Target, UsernameOpt, client_for
from sagestep.client import parse_request
from sagestep_service.workflows.documents.models import DocumentsJobView, DocumentsRequest, ParagraphView

documents_app = typer.Typer(help="Analyse documents: Textract, paragraphs, Comprehend.", no_args_is_help=True)
JobArg = Annotated[str, typer.Argument(help="A documents job id (documents-...).")]


def register(app: typer.Typer) -> None:
    """Add the documents workflow's commands to the root command."""
    app.add_typer(documents_app, name="documents")


def show_job(console: Console, job: DocumentsJobView) -> None:
    console.print(f"[bold]{job.jobId}[/bold]  {job.status}  (created {short_time(job.createdAt)})")
    if job.error:
        console.print(f"[red]{job.error}[/red]: {job.errorCause}")
    summary = job.summary
    if summary is None:
        return
    console.print(
        f"{summary.documents} documents ({summary.completed} completed, {summary.failed} failed), "
        f"{summary.paragraphs} paragraphs; sentiment {summary.sentimentDistribution}; "
        f"Comprehend units {summary.comprehendUnits}",
        markup=False,
    )
    table = Table("document", "status", "pages", "technique", "paragraphs", "top key phrases", "error")
    for document in summary.items:
        phrases = ", ".join(str(k.get("text")) for k in document.topKeyPhrases[:3])
        table.add_row(
            document.path, document.status, str(document.pages), document.technique or "", str(document.paragraphs),
            phrases, document.error or "",
        )  # fmt: skip
    console.print(table)
    for skipped in summary.skipped:
        console.print(f"skipped {skipped.get('path')}: {skipped.get('reason')}", markup=False)


def paragraphs_table(paragraphs: list[ParagraphView], width: int = 70) -> Table:
    table = Table("document", "#", "header", "pages", "sentiment", "key phrases", "text")
    for paragraph in paragraphs:
        text = paragraph.text if len(paragraph.text) <= width else paragraph.text[: width - 1] + "…"
        table.add_row(
            paragraph.path, str(paragraph.index), paragraph.header or "",
            ",".join(str(p) for p in paragraph.pages), paragraph.sentiment or "",
            ", ".join(str(k.get("text")) for k in paragraph.keyPhrases[:3]), text,
        )  # fmt: skip
    return table


@documents_app.command("analyse")
def analyse(
    ctx: typer.Context,
    source: Annotated[str, typer.Argument(help="A local file or folder (uploaded first), or an s3:// URI of yours.")],
    language: Annotated[str | None, typer.Option("--language", help="Language code (detected when absent).")] = None,
    segmentation: Annotated[
        str, typer.Option("--segmentation", help="auto, layout, font-size, indentation, line-spacing, full-stop.")
    ] = "auto",
    remote: Annotated[str | None, typer.Option("--remote", help="Where a local source goes in your prefix.")] = None,
    features: Annotated[
        list[str] | None, typer.Option("--feature", help="sentiment, keyPhrases or entities (repeatable; default all).")
    ] = None,
    tables: Annotated[bool, typer.Option("--tables", help="Also analyse tables (Textract's TABLES).")] = False,
    deadline: Annotated[int | None, typer.Option("--deadline", min=10, help="Seconds Textract may take.")] = None,
    wait: Annotated[bool, typer.Option("--wait", "-w", help="Wait until the job ends.")] = False,
    timeout: TimeoutOpt = 1800,
    idempotency_key: KeyOpt = None,
    json_out: JsonOpt = False,
    local: LocalOpt = False,
    stack: StackOpt = None,
    region: RegionOpt = None,
    username: UsernameOpt = None,
) -> None:
    """Analyse a document or a folder of documents (PDF, TIFF, PNG, JPEG)."""
    client = client_for(ctx, Target(local, stack, region, username))
    body: dict[str, object] = {"segmentation": segmentation, "tables": tables}
    if language:
        body["languageCode"] = language
    if features:
        body["features"] = features
    if deadline:
        body["deadlineSeconds"] = deadline
    if source.startswith("s3://"):
        body["folderUri" if source.endswith("/") else "documentUri"] = source
    else:
        path = Path(source)
        if path.is_dir():
            body["folderUri"] = client.translation.upload_folder(path, remote or f"docs/{path.resolve().name}")
        elif path.is_file():
            body["documentUri"] = client.upload(path, remote or f"docs/{path.name}")
        else:
            raise CliError(f"{source}: no such file or folder")
    job = client.documents.submit(parse_request(DocumentsRequest, body), idempotency_key=idempotency_key)
    if wait:
        job = client.documents.wait(job.jobId, timeout=timeout)
    if json_out:
        print_json(job)
        return
    show_job(out(), job)
    if not wait:
        out().print(f"follow it with: sagestep documents wait {job.jobId}", markup=False)


@documents_app.command("list")
def list_jobs(
    ctx: typer.Context,
    limit: Annotated[int, typer.Option("--limit", min=1, max=100)] = 20,
    cursor: Annotated[str | None, typer.Option("--cursor")] = None,
    json_out: JsonOpt = False,
    local: LocalOpt = False,
    stack: StackOpt = None,
    region: RegionOpt = None,
    username: UsernameOpt = None,
) -> None:
    """Your documents jobs, newest first."""
    page = client_for(ctx, Target(local, stack, region, username)).documents.list(limit, cursor)
    if json_out:
        print_json(page)
        return
    table = Table("job", "status", "created", "documents", "paragraphs")
    for job in page.items:
        summary = job.summary
        counts = (str(summary.documents), str(summary.paragraphs)) if summary else ("", "")
        table.add_row(job.jobId, str(job.status), short_time(job.createdAt), *counts)
    out().print(table if page.items else "no documents jobs yet")


@documents_app.command("show")
def show(
    ctx: typer.Context,
    job_id: JobArg,
    json_out: JsonOpt = False,
    local: LocalOpt = False,
    stack: StackOpt = None,
    region: RegionOpt = None,
    username: UsernameOpt = None,
) -> None:
    """One documents job: per document its Textract job, paragraphs and top phrases."""
    job = client_for(ctx, Target(local, stack, region, username)).documents.get(job_id)
    print_json(job) if json_out else show_job(out(), job)


@documents_app.command("paragraphs")
def paragraphs(
    ctx: typer.Context,
    job_id: JobArg,
    document: Annotated[int | None, typer.Option("--document", min=0, help="Only this document (its index).")] = None,
    json_out: JsonOpt = False,
    local: LocalOpt = False,
    stack: StackOpt = None,
    region: RegionOpt = None,
    username: UsernameOpt = None,
) -> None:
    """Every paragraph of a job: header, pages, sentiment, key phrases, text."""
    client = client_for(ctx, Target(local, stack, region, username))
    found = list(client.documents.iter_paragraphs(job_id, document=document))
    if json_out:
        print_json([p.model_dump(mode="json") for p in found])
    else:
        out().print(paragraphs_table(found))


@documents_app.command("wait")
def wait_job(
    ctx: typer.Context,
    job_id: JobArg,
    timeout: TimeoutOpt = 1800,
    json_out: JsonOpt = False,
    local: LocalOpt = False,
    stack: StackOpt = None,
    region: RegionOpt = None,
    username: UsernameOpt = None,
) -> None:
    """Wait until a documents job ends, then show it."""
    job = client_for(ctx, Target(local, stack, region, username)).documents.wait(job_id, timeout=timeout)
    print_json(job) if json_out else show_job(out(), job)
