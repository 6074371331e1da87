"""Which API a command talks to, and the client for it.

Target: the local runtime (``--local``, the default while ``sagestep local up`` runs) or a deployed stack
(``--stack NAME --region R --username U``, password from ``SAGESTEP_PASSWORD`` or a prompt).

Tests inject a client: ``CliRunner().invoke(app, args, obj=factory)``, where ``factory(target)`` returns
the client to use (see :func:`connect`).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any

import typer

from sagestep.cli.errors import LOCAL_TARGET, CliError
from sagestep.client import SagestepClient, local_config_path

PASSWORD_ENV = "SAGESTEP_PASSWORD"


@dataclass(frozen=True)
class Target:
    """Which API to talk to, as the options said."""

    local: bool = False
    stack: str | None = None
    region: str | None = None
    username: str | None = None


ClientFactory = Callable[[Target], Any]

LOCAL = Target(local=True)


def connect(target: Target) -> SagestepClient:
    """The client for ``target``: a stack if one is named, else the running local runtime."""
    if target.stack and not target.local:
        region = target.region or os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION")
        if not region:
            raise CliError("--region: required with --stack (or set AWS_REGION)")
        if not target.username:
            raise CliError("--username: required with --stack (or set SAGESTEP_USERNAME)")
        password = os.environ.get(PASSWORD_ENV)
        if not password:
            try:
                password = typer.prompt(f"password for {target.username}", hide_input=True)
            except typer.Abort:
                raise CliError(f"password: none given (set {PASSWORD_ENV} when there is no terminal)") from None
        return SagestepClient.for_stack(target.stack, region=region, username=target.username, password=password)
    if not target.local and not local_config_path().exists():
        raise CliError(
            "no API to talk to: start one with `sagestep local up` (or run `sagestep demo`), "
            "or name a deployed stack with --stack NAME --region R --username U"
        )
    return SagestepClient.for_local()


def client_for(ctx: typer.Context, target: Target) -> Any:
    """The client for ``target``, from the factory the tests inject (``obj``) or :func:`connect`."""
    ctx.find_root().meta[LOCAL_TARGET] = target.local or not target.stack
    factory: ClientFactory = ctx.obj or connect
    return factory(target)


TARGET = "Target"
LocalOpt = Annotated[
    bool,
    typer.Option(
        "--local", help="Use the local runtime (the default while `sagestep local up` runs).", rich_help_panel=TARGET
    ),
]
StackOpt = Annotated[
    str | None,
    typer.Option("--stack", envvar="SAGESTEP_STACK", help="Name of a deployed stack.", rich_help_panel=TARGET),
]
RegionOpt = Annotated[
    str | None,
    typer.Option("--region", envvar="AWS_REGION", help="AWS region of the stack.", rich_help_panel=TARGET),
]
UsernameOpt = Annotated[
    str | None,
    typer.Option(
        "--username",
        envvar="SAGESTEP_USERNAME",
        help=f"Cognito user (password from {PASSWORD_ENV} or a prompt).",
        rich_help_panel=TARGET,
    ),
]
