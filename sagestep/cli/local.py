"""``sagestep local``: run the whole backend on this machine (``up``), put data into it (``upload``), and
make it fail on purpose (``fault``: arm, list and clear injected faults)."""

from __future__ import annotations

import json
import signal
import threading
from collections.abc import Sequence
from pathlib import Path
from types import FrameType
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text
from typer._click.core import Context as ClickContext
from typer.core import TyperGroup

from sagestep.cli.errors import EXIT_FAILED, CliError
from sagestep.cli.output import JsonOpt, drop_none, out, print_json
from sagestep.cli.target import LOCAL, client_for
from sagestep.local.faults import ArmedFault

local_app = typer.Typer(help="Run the whole backend on this machine, without an AWS account.", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    """Add ``sagestep local`` to the root command."""
    app.add_typer(local_app, name="local")


# -- up ------------------------------------------------------------------------------------------------------


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

    console = out()
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


# -- upload --------------------------------------------------------------------------------------------------


@local_app.command("upload")
def local_upload(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True, help="A CSV file.")],
    path: Annotated[
        str | None, typer.Option("--path", help="Where in your prefix of the data bucket (default: data/<file name>).")
    ] = None,
    json_out: JsonOpt = False,
) -> None:
    """Upload a file into your own prefix of the local runtime's data bucket (through a presigned URL, as on
    AWS) and print its s3:// URI."""
    uri = client_for(ctx, LOCAL).upload(file, path or f"data/{file.name}")
    if json_out:
        print_json({"dataUri": uri})
    else:
        out().print(uri, soft_wrap=True, markup=False)


# -- fault ---------------------------------------------------------------------------------------------------

#: `sagestep local fault KIND` -> the runtime's fault names (sagestep.local.faults.FAULT_KINDS).
FAULT_KINDS = {
    "fail-training": "fail_next_training_job",
    "fail-endpoint": "fail_next_endpoint",
    "hang-endpoint": "hang_next_endpoint",
    "fail-update": "fail_next_endpoint_update",
    "throttle": "throttle",
    "lose-response": "lose_response",
    "fail-call": "fail_call",
    "fail-function": "fail_function",
    "fail-translation": "fail_next_translation_job",
    "fail-translation-file": "fail_translation_file",
    "hang-translation": "hang_next_translation_job",
    "fail-textract": "fail_next_textract_job",
    "partial-textract": "partial_next_textract_job",
    "drop-textract-notification": "drop_next_textract_notification",
    "hang-textract": "hang_next_textract_job",
    "fail-comprehend-item": "fail_comprehend_batch_item",
    "fail-labeling": "fail_next_labeling_job",
    "hang-labeling": "hang_next_labeling_job",
}
_CLI_KINDS = {fault: kind for kind, fault in FAULT_KINDS.items()}


class _FaultGroup(TyperGroup):
    """``sagestep local fault``: an unknown kind is named as such, with the kinds there are."""

    def resolve_command(self, ctx: ClickContext, args: list[str]) -> Any:
        if args and not args[0].startswith("-") and self.get_command(ctx, args[0]) is None:
            raise CliError(f"fault: unknown kind {args[0]!r} (one of {', '.join(FAULT_KINDS)}, or list, clear)")
        return super().resolve_command(ctx, args)


fault_app = typer.Typer(
    cls=_FaultGroup,
    help="Make the running local runtime fail on purpose (the next training job, endpoint, update, translation "
    "job or file, Textract or labeling job, a throttled call, or a call whose response is lost after it took "
    "effect), to see a failure path end to end; list and clear the armed faults. Without a command, list them.",
    invoke_without_command=True,
)
local_app.add_typer(fault_app, name="fault")

ReasonOpt = Annotated[str | None, typer.Option("--reason", help="The failure reason to report.")]
OperationOpt = Annotated[
    str, typer.Option("--operation", help="The SageMaker API, e.g. CreateTrainingJob.", show_default=False)
]
CountOpt = Annotated[int, typer.Option("--count", min=1, max=100, help="How many calls.")]


def faults_table(faults: Sequence[ArmedFault], title: str | None = None) -> Table:
    """Armed faults, one row each, by their ``sagestep local fault`` names."""
    table = Table(show_header=True, header_style="bold", title=title, title_justify="left")
    table.add_column("fault", no_wrap=True)
    table.add_column("operation", no_wrap=True)
    table.add_column("remaining", justify="right")
    table.add_column("reason")
    for fault in faults:
        detail = fault.reason or fault.message or ""
        table.add_row(
            _CLI_KINDS.get(fault.fault, fault.fault),
            Text(fault.operation or fault.file or ""),
            str(fault.remaining),
            Text(detail),
        )
    return table


def _show_armed(faults: Sequence[ArmedFault], json_out: bool) -> None:
    if json_out:
        print_json({"faults": [fault.to_json() for fault in faults]})
    elif faults:
        out().print(faults_table(faults))
    else:
        out().print("no fault armed")


def _arm(ctx: typer.Context, spec: dict[str, Any], json_out: bool) -> None:
    _show_armed(client_for(ctx, LOCAL).local_faults(drop_none(**spec)), json_out)


@fault_app.callback()
def fault_group(ctx: typer.Context, json_out: JsonOpt = False) -> None:
    if ctx.invoked_subcommand is None:
        _show_armed(client_for(ctx, LOCAL).local_faults(), json_out)


@fault_app.command("list")
def fault_list(ctx: typer.Context, json_out: JsonOpt = False) -> None:
    """List the armed faults: kind, operation, how many calls they will still hit, reason."""
    _show_armed(client_for(ctx, LOCAL).local_faults(), json_out)


@fault_app.command("clear")
def fault_clear(
    ctx: typer.Context,
    kind: Annotated[
        str | None,
        typer.Argument(help=f"One of {', '.join(FAULT_KINDS)}; without it, every kind.", show_default=False),
    ] = None,
    json_out: JsonOpt = False,
) -> None:
    """Disarm the armed faults (e.g. the throttles a --count left unused), all or those of one kind."""
    if kind is not None and kind not in FAULT_KINDS:
        raise CliError(f"fault clear: unknown kind {kind!r} (one of {', '.join(FAULT_KINDS)})")
    cleared = client_for(ctx, LOCAL).clear_local_faults(FAULT_KINDS[kind] if kind else None)
    if json_out:
        print_json({"cleared": [fault.to_json() for fault in cleared]})
    elif cleared:
        out().print(faults_table(cleared, title="cleared"))
    else:
        out().print(f"no {kind + ' ' if kind else ''}fault was armed")


@fault_app.command("fail-training")
def fault_fail_training(ctx: typer.Context, reason: ReasonOpt = None, json_out: JsonOpt = False) -> None:
    """The next training job fails with --reason, without running."""
    _arm(ctx, {"fault": "fail_next_training_job", "reason": reason}, json_out)


@fault_app.command("fail-endpoint")
def fault_fail_endpoint(ctx: typer.Context, reason: ReasonOpt = None, json_out: JsonOpt = False) -> None:
    """The next endpoint creation fails with --reason."""
    _arm(ctx, {"fault": "fail_next_endpoint", "reason": reason}, json_out)


@fault_app.command("hang-endpoint")
def fault_hang_endpoint(ctx: typer.Context, json_out: JsonOpt = False) -> None:
    """The next endpoint stays Creating until it is deleted (to pass a deployment deadline)."""
    _arm(ctx, {"fault": "hang_next_endpoint"}, json_out)


@fault_app.command("fail-update")
def fault_fail_update(ctx: typer.Context, reason: ReasonOpt = None, json_out: JsonOpt = False) -> None:
    """The next in-place endpoint update fails to deploy with --reason (and is rolled back)."""
    _arm(ctx, {"fault": "fail_next_endpoint_update", "reason": reason}, json_out)


@fault_app.command("throttle")
def fault_throttle(ctx: typer.Context, operation: OperationOpt, count: CountOpt = 1, json_out: JsonOpt = False) -> None:
    """The next --count calls of --operation are throttled (ThrottlingException)."""
    _arm(ctx, {"fault": "throttle", "operation": operation, "count": count}, json_out)


@fault_app.command("lose-response")
def fault_lose_response(
    ctx: typer.Context, operation: OperationOpt, count: CountOpt = 1, json_out: JsonOpt = False
) -> None:
    """The next --count calls of --operation take effect, but the caller gets a 500 instead of the response."""
    _arm(ctx, {"fault": "lose_response", "operation": operation, "count": count}, json_out)


@fault_app.command("fail-call")
def fault_fail_call(
    ctx: typer.Context,
    operation: OperationOpt,
    code: Annotated[str, typer.Option("--code", help="The error code, e.g. ValidationException.")] = (
        "ValidationException"
    ),
    count: CountOpt = 1,
    json_out: JsonOpt = False,
) -> None:
    """The next --count calls of --operation are refused with a client error --code, without effect."""
    _arm(ctx, {"fault": "fail_call", "operation": operation, "code": code, "count": count}, json_out)


@fault_app.command("fail-function")
def fault_fail_function(
    ctx: typer.Context,
    function: Annotated[
        str, typer.Option("--function", help="A Lambda function of the stack, e.g. WaitResume.", show_default=False)
    ],
    count: CountOpt = 1,
    json_out: JsonOpt = False,
) -> None:
    """The next --count invocations of --function fail (asynchronous ones are retried, then dead-lettered)."""
    _arm(ctx, {"fault": "fail_function", "operation": function, "count": count}, json_out)


@fault_app.command("fail-translation")
def fault_fail_translation(ctx: typer.Context, reason: ReasonOpt = None, json_out: JsonOpt = False) -> None:
    """The next translation job ends FAILED with --reason, without translating anything."""
    _arm(ctx, {"fault": "fail_next_translation_job", "reason": reason}, json_out)


@fault_app.command("fail-translation-file")
def fault_fail_translation_file(
    ctx: typer.Context,
    file: Annotated[str, typer.Option("--file", help="A file-name glob, e.g. '*.xlsx'.")] = "*",
    reason: ReasonOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """In the next translation job, the documents matching --file fail (the job ends COMPLETED_WITH_ERROR)."""
    _arm(ctx, {"fault": "fail_translation_file", "file": file, "reason": reason}, json_out)


@fault_app.command("hang-translation")
def fault_hang_translation(ctx: typer.Context, json_out: JsonOpt = False) -> None:
    """The next translation job stays IN_PROGRESS until it is stopped (a job that never finishes)."""
    _arm(ctx, {"fault": "hang_next_translation_job"}, json_out)


LabelingJobOpt = Annotated[
    str, typer.Option("--job", help="A labeling-job-name glob, e.g. 'reviews-1-expert-*'.", show_default=True)
]


@fault_app.command("fail-labeling")
def fault_fail_labeling(
    ctx: typer.Context, reason: ReasonOpt = None, job: LabelingJobOpt = "*", json_out: JsonOpt = False
) -> None:
    """The next labeling job (matching --job) ends Failed with --reason as its FailureReason."""
    _arm(ctx, {"fault": "fail_next_labeling_job", "reason": reason, "job": job}, json_out)


@fault_app.command("hang-labeling")
def fault_hang_labeling(ctx: typer.Context, job: LabelingJobOpt = "*", json_out: JsonOpt = False) -> None:
    """The next labeling job (matching --job) stays InProgress until it is stopped (workers who never answer)."""
    _arm(ctx, {"fault": "hang_next_labeling_job", "job": job}, json_out)


@fault_app.command("fail-textract")
def fault_fail_textract(ctx: typer.Context, reason: ReasonOpt = None, json_out: JsonOpt = False) -> None:
    """The next Textract document analysis ends FAILED with --reason as its StatusMessage."""
    _arm(ctx, {"fault": "fail_next_textract_job", "reason": reason}, json_out)


@fault_app.command("partial-textract")
def fault_partial_textract(
    ctx: typer.Context,
    pages: Annotated[
        list[int] | None, typer.Option("--page", help="A page that fails (repeatable; default: the last page).")
    ] = None,
    json_out: JsonOpt = False,
) -> None:
    """In the next Textract document analysis some pages fail: PARTIAL_SUCCESS, their blocks missing, Warnings."""
    _arm(ctx, {"fault": "partial_next_textract_job", "pages": pages or None}, json_out)


@fault_app.command("hang-textract")
def fault_hang_textract(ctx: typer.Context, json_out: JsonOpt = False) -> None:
    """The next Textract document analysis never finishes (IN_PROGRESS, never notified): only a deadline ends it."""
    _arm(ctx, {"fault": "hang_next_textract_job"}, json_out)


@fault_app.command("drop-textract-notification")
def fault_drop_textract_notification(ctx: typer.Context, json_out: JsonOpt = False) -> None:
    """The next Textract document analysis succeeds silently: its SNS completion message is never sent."""
    _arm(ctx, {"fault": "drop_next_textract_notification"}, json_out)


@fault_app.command("fail-comprehend-item")
def fault_fail_comprehend_item(
    ctx: typer.Context,
    index: Annotated[int, typer.Option("--index", min=0, max=24, help="The document of the batch (0-based).")] = 0,
    operation: Annotated[
        str | None, typer.Option("--operation", help="Only this batch call, e.g. BatchDetectEntities (default: any).")
    ] = None,
    count: CountOpt = 1,
    json_out: JsonOpt = False,
) -> None:
    """The next --count Comprehend batch calls report document --index in ErrorList (INTERNAL_SERVER_ERROR) and
    answer the others."""
    _arm(ctx, {"fault": "fail_comprehend_batch_item", "index": index, "operation": operation, "count": count}, json_out)
