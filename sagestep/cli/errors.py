"""Exit statuses and one-line errors, shared by every command.

Errors are one line on stderr, ``error: <field>: <problem>``, and the exit status says what went wrong:
1 a job failed (or another error), 2 bad input, 3 authentication, 4 not found or conflict, 5 the API is
unreachable, 130 interrupted. A command raises :class:`CliError` (or lets a client error through);
:class:`RootGroup`, the root command's class, turns it into the line and the status.
"""

from __future__ import annotations

from typing import Any, NoReturn

import typer
from typer._click.core import Context as ClickContext
from typer._click.exceptions import NoArgsIsHelpError, UsageError
from typer.core import TyperGroup

from sagestep.client import (
    BadRequestError,
    ConfigError,
    ConflictError,
    NotFoundError,
    SagestepError,
    UnauthorizedError,
    UnreachableError,
)

EXIT_FAILED = 1
EXIT_BAD_INPUT = 2
EXIT_AUTH = 3
EXIT_NOT_FOUND = 4
EXIT_UNREACHABLE = 5
EXIT_INTERRUPTED = 130

#: ``ctx.meta`` key of the root context: the command talks to the local runtime (for the hint on errors).
LOCAL_TARGET = "sagestep.local"


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


def fail(message: str, exit_code: int) -> NoReturn:
    """Print ``error: message`` on stderr and exit with ``exit_code``."""
    typer.echo(f"{typer.style('error:', fg='red', bold=True)} {message}", err=True)
    raise typer.Exit(exit_code)


class RootGroup(TyperGroup):
    """The root command: turns every expected error of any subcommand into one line and an exit status."""

    def invoke(self, ctx: ClickContext) -> Any:
        try:
            return super().invoke(ctx)
        except NoArgsIsHelpError:
            raise
        except UsageError as exc:
            where = exc.ctx.command_path if exc.ctx else "sagestep"
            fail(f"{exc.format_message()} (see '{where} --help')", EXIT_BAD_INPUT)
        except CliError as exc:
            fail(exc.message, exc.exit_code)
        except SagestepError as exc:
            message = exc.message
            if isinstance(exc, UnreachableError) and ctx.meta.get(LOCAL_TARGET):
                message += " (is `sagestep local up` running?)"
            fail(message, exit_code_for(exc))
