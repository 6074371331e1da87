"""Output shared by every command: consoles, ``--json``, number and time formatting.

``--json`` prints machine-readable output on stdout; progress and messages then go to stderr.
"""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer
from pydantic import BaseModel
from rich.console import Console

JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON instead of tables.")]


def out() -> Console:
    """The console for results (stdout)."""
    return Console(highlight=False)


def err() -> Console:
    """The console for progress and messages beside results (stderr)."""
    return Console(stderr=True, highlight=False)


def print_json(value: Any) -> None:
    """``value`` (a pydantic model or JSON-ready data) as indented JSON on stdout."""
    if isinstance(value, BaseModel):
        value = value.model_dump(mode="json", exclude_none=True)
    typer.echo(json.dumps(value, indent=2))


def short_time(stamp: str) -> str:
    """``2026-11-22T13:55:01.123Z`` -> ``2026-11-22 13:55:01``."""
    return stamp[:19].replace("T", " ") if len(stamp) >= 19 else stamp


def number(value: float | int | str) -> str:
    """A prediction for people: floats to 6 significant digits, class labels as they are."""
    return f"{value:.6g}" if isinstance(value, float) else str(value)


def drop_none(**fields: Any) -> dict[str, Any]:
    """The fields that have a value (a request body from optional options)."""
    return {name: value for name, value in fields.items() if value is not None}
