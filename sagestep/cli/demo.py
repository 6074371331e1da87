"""``sagestep demo [WORKFLOW]``: every workflow's demo section (or one) against one local runtime."""

from __future__ import annotations

import signal
from pathlib import Path
from types import FrameType
from typing import Annotated, Any

import typer

from sagestep import demo as demos
from sagestep.cli.errors import EXIT_FAILED, EXIT_INTERRUPTED, CliError
from sagestep.cli.output import JsonOpt, err, out, print_json

TRAINING = "Training section"
LABELING = "Labeling section"


def register(app: typer.Typer) -> None:
    """Add ``sagestep demo`` to the root command."""
    app.command("demo")(demo)


def demo(
    workflow: Annotated[
        str | None,
        typer.Argument(
            help=f"One of {', '.join(demos.SECTIONS)}; without it, every workflow's section.", show_default=False
        ),
    ] = None,
    port: Annotated[int, typer.Option("--port", "-p", min=0, max=65535, help="Port of the API (0: any free one).")] = 0,
    plot: Annotated[Path, typer.Option("--plot", help="Where to write the PNG plot.", rich_help_panel=TRAINING)] = Path(
        "sagestep-demo.png"
    ),
    trials: Annotated[int, typer.Option("--trials", min=1, max=200, help="HPO trials.", rich_help_panel=TRAINING)] = 4,
    epochs_per_trial: Annotated[
        int, typer.Option("--epochs-per-trial", min=1, help="Epochs of each HPO trial.", rich_help_panel=TRAINING)
    ] = 8,
    epochs: Annotated[
        int, typer.Option("--epochs", min=1, help="Epochs of the final training.", rich_help_panel=TRAINING)
    ] = 60,
    data: Annotated[
        Path | None,
        typer.Option(
            "--data", dir_okay=False, help="Your own CSV instead of the bundled sample.", rich_help_panel=TRAINING
        ),
    ] = None,
    target_column: Annotated[
        str | None, typer.Option("--target", help="Target column of --data.", rich_help_panel=TRAINING)
    ] = None,
    labeling_plot: Annotated[
        Path | None,
        typer.Option(
            "--labeling-plot",
            dir_okay=False,
            help="Where to write the workers' PNG (default: sagestep-demo-labeling.png beside --plot).",
            rich_help_panel=LABELING,
        ),
    ] = None,
    json_out: JsonOpt = False,
) -> None:
    """Run the workflows end to end on this machine, each in its own section against one local runtime (the
    training section: HPO, training, deployment, a sweep through /infer, and a plot), then print the timings."""
    if workflow is not None and workflow not in demos.SECTIONS:
        raise CliError(f"demo: unknown workflow {workflow!r} (one of {', '.join(demos.SECTIONS)})")
    if data is not None and target_column is None:
        raise CliError("--target: required with --data")
    options: dict[str, dict[str, Any]] = {
        "training": {
            "plot_path": plot,
            "trials": trials,
            "epochs_per_trial": epochs_per_trial,
            "training_epochs": epochs,
            "data_path": data,
            "target": target_column,
        },
        "labeling": {"plot_path": labeling_plot or plot.parent / "sagestep-demo-labeling.png"},
    }
    names = [workflow] if workflow is not None else list(demos.SECTIONS)
    sections = [demos.SECTIONS[name](**options.get(name, {})) for name in names]
    console = err() if json_out else out()
    console.print(f"[bold]sagestep demo[/]: {', '.join(names)} on this machine")

    def interrupt(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt  # SIGTERM stops the demo like Ctrl-C: the runtime and its processes are stopped

    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        run = demos.run_sections(sections, port=port, console=console)
    except KeyboardInterrupt:
        err().print("demo interrupted; the local runtime was stopped")
        raise typer.Exit(EXIT_INTERRUPTED) from None
    finally:
        signal.signal(signal.SIGTERM, previous)
    if json_out:
        print_json(run.to_json())
    failed = run.failed
    if len(failed) == 1 and failed[0].error is not None:
        raise failed[0].error
    if failed:
        raise CliError("; ".join(f"{s.name}: {s.error.message if s.error else 'failed'}" for s in failed), EXIT_FAILED)
