"""The ``sagestep`` command line: the local runtime, the demo, and each workflow's jobs.

The root command is built here from command groups, one module each: :mod:`~sagestep.cli.local` (the
local runtime), one module per workflow (:mod:`~sagestep.cli.training`: ``model``, ``hpo``, ``infer``) and
:mod:`~sagestep.cli.demo`. A module adds its commands in ``register(app)``; a new workflow adds its module
and one entry in :data:`COMMAND_GROUPS`. What commands share lives once: :mod:`~sagestep.cli.errors` (one-line
errors, exit statuses), :mod:`~sagestep.cli.target` (which API, the client), :mod:`~sagestep.cli.output`
(``--json``, consoles) and :mod:`~sagestep.cli.jobs` (submission, ``--wait``, ``list``/``show``/``wait``).
"""

from __future__ import annotations

from collections.abc import Callable

import typer

from sagestep.cli import demo, documents, labeling, local, training, translation
from sagestep.cli.errors import RootGroup

__all__ = ["COMMAND_GROUPS", "app", "main"]

#: Each group's ``register(app)``, in the order of the root command's help.
COMMAND_GROUPS: tuple[Callable[[typer.Typer], None], ...] = (
    local.register,
    training.register,
    translation.register,
    documents.register,
    labeling.register,
    demo.register,
)

app = typer.Typer(
    cls=RootGroup,
    name="sagestep",
    help="Serverless ML workflows: train, tune and deploy models, locally or on AWS.",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,  # locals may hold passwords and tokens
    context_settings={"help_option_names": ["-h", "--help"]},
)
for register in COMMAND_GROUPS:
    register(app)


def main() -> None:
    """Entry point of ``python -m sagestep``."""
    app(prog_name="sagestep")
