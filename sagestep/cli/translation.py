"""The translation workflow's commands: ``translation run`` (a local folder or an ``s3://`` folder), ``list``,
``show``, ``files``, ``wait``, ``stop``."""

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
from sagestep_service.workflows.translation.models import TranslationJobView, TranslationRequest

translation_app = typer.Typer(help="Translate folders of documents with Amazon Translate.", no_args_is_help=True)

JobArg = Annotated[str, typer.Argument(help="A translation job id (translation-...).")]


def register(app: typer.Typer) -> None:
    """Add the translation workflow's commands to the root command."""
    app.add_typer(translation_app, name="translation")


def show_job(console: Console, job: TranslationJobView) -> None:
    """The job, its Translate jobs per content type and language, and where the results are."""
    console.print(f"[bold]{job.jobId}[/bold]  {job.status}  (created {short_time(job.createdAt)})")
    if job.error:
        console.print(f"[red]{job.error}[/red]: {job.errorCause}", markup=True)
    summary = job.summary
    if summary is None:
        return
    console.print(
        f"{summary.files} files staged, {summary.translatedFiles} translations written, "
        f"{summary.failedFiles} failed, {summary.skippedFiles} files skipped -> {summary.outputUri}"
    )
    table = Table("content type", "files", "Translate job", "status", "language", "translated", "failed", "chars")
    for content_type in summary.contentTypes:
        for index, (language, result) in enumerate(sorted(content_type.languages.items())):
            first = index == 0
            table.add_row(
                content_type.contentType if first else "",
                str(content_type.files) if first else "",
                (content_type.translateJobId or "") if first else "",
                (content_type.translateJobStatus or "") if first else "",
                language,
                str(result.translated),
                str(result.failed),
                str(result.charactersBilled),
            )
    console.print(table)
    for skipped in summary.skipped:
        console.print(f"skipped {skipped.path}: {skipped.reason}", markup=False)


@translation_app.command("run")
def run(
    ctx: typer.Context,
    folder: Annotated[str, typer.Argument(help="A local folder (uploaded first) or an s3:// folder of yours.")],
    to: Annotated[str, typer.Option("--to", help="Target language codes, comma-separated (up to 10).")],
    source: Annotated[str, typer.Option("--from", help="Source language code, or auto.")] = "auto",
    output: Annotated[str | None, typer.Option("--output", help="An s3:// folder of yours for the results.")] = None,
    remote: Annotated[
        str | None, typer.Option("--remote", help="Where a local folder goes in your prefix (default: its name).")
    ] = None,
    wait: Annotated[bool, typer.Option("--wait", "-w", help="Wait until the job ends.")] = False,
    timeout: TimeoutOpt = 3600,
    idempotency_key: KeyOpt = None,
    json_out: JsonOpt = False,
    local: LocalOpt = False,
    stack: StackOpt = None,
    region: RegionOpt = None,
    username: UsernameOpt = None,
) -> None:
    """Translate every supported file of a folder (txt, html, docx, pptx, xlsx, xlf) into the --to languages."""
    client = client_for(ctx, Target(local, stack, region, username))
    if folder.startswith("s3://"):
        input_uri = folder
    else:
        path = Path(folder)
        if not path.is_dir():
            raise CliError(f"{folder}: not a folder (give a local folder or an s3:// folder URI)")
        input_uri = client.translation.upload_folder(path, remote or path.resolve().name)
    request = parse_request(
        TranslationRequest,
        {
            "inputUri": input_uri,
            "sourceLanguageCode": source,
            "targetLanguageCodes": [code.strip() for code in to.split(",") if code.strip()],
            **({"outputUri": output} if output else {}),
        },
    )
    job = client.translation.submit(request, idempotency_key=idempotency_key)
    if wait:
        job = client.translation.wait(job.jobId, timeout=timeout)
    if json_out:
        print_json(job)
        return
    show_job(out(), job)
    if not wait:
        out().print(f"follow it with: sagestep translation wait {job.jobId}", markup=False)


@translation_app.command("list")
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
    """Your translation jobs, newest first."""
    page = client_for(ctx, Target(local, stack, region, username)).translation.list(limit, cursor)
    if json_out:
        print_json(page)
        return
    table = Table("job", "status", "created", "files", "translated", "failed", "output")
    for job in page.items:
        summary = job.summary
        table.add_row(
            job.jobId,
            str(job.status),
            short_time(job.createdAt),
            str(summary.files) if summary else "",
            str(summary.translatedFiles) if summary else "",
            str(summary.failedFiles) if summary else "",
            summary.outputUri if summary else "",
        )
    out().print(table if page.items else "no translation jobs yet")
    if page.nextCursor:
        out().print(f"more: add --cursor {page.nextCursor}", markup=False, soft_wrap=True)


@translation_app.command("show")
def show(
    ctx: typer.Context,
    job_id: JobArg,
    json_out: JsonOpt = False,
    local: LocalOpt = False,
    stack: StackOpt = None,
    region: RegionOpt = None,
    username: UsernameOpt = None,
) -> None:
    """One translation job: per content type and language, its Translate job and counts."""
    job = client_for(ctx, Target(local, stack, region, username)).translation.get(job_id)
    print_json(job) if json_out else show_job(out(), job)


@translation_app.command("files")
def files(
    ctx: typer.Context,
    job_id: JobArg,
    urls: Annotated[bool, typer.Option("--urls", help="Show the presigned links.")] = False,
    json_out: JsonOpt = False,
    local: LocalOpt = False,
    stack: StackOpt = None,
    region: RegionOpt = None,
    username: UsernameOpt = None,
) -> None:
    """Every (file, language) result of a job: where its translation is, or why it failed."""
    client = client_for(ctx, Target(local, stack, region, username))
    results = list(client.translation.iter_files(job_id))
    if json_out:
        print_json([result.model_dump(mode="json", exclude_none=True) for result in results])
        return
    table = Table("file", "language", "status", "url" if urls else "result")
    for result in results:
        where = (result.url if urls else result.resultUri) or result.reason or ""
        table.add_row(result.path, result.language, result.status, where)
    out().print(table)


@translation_app.command("wait")
def wait_job(
    ctx: typer.Context,
    job_id: JobArg,
    timeout: TimeoutOpt = 3600,
    json_out: JsonOpt = False,
    local: LocalOpt = False,
    stack: StackOpt = None,
    region: RegionOpt = None,
    username: UsernameOpt = None,
) -> None:
    """Wait until a translation job ends, then show it."""
    job = client_for(ctx, Target(local, stack, region, username)).translation.wait(job_id, timeout=timeout)
    print_json(job) if json_out else show_job(out(), job)


@translation_app.command("stop")
def stop(
    ctx: typer.Context,
    job_id: JobArg,
    json_out: JsonOpt = False,
    local: LocalOpt = False,
    stack: StackOpt = None,
    region: RegionOpt = None,
    username: UsernameOpt = None,
) -> None:
    """Stop a running translation job (its Translate jobs are stopped; it ends in ERROR)."""
    job = client_for(ctx, Target(local, stack, region, username)).translation.stop(job_id)
    print_json(job) if json_out else out().print(f"stopping {job.jobId} (it was {job.status})", markup=False)
