"""``python -m sagestep_training train|serve``: the container's two programs (``bin/train``, ``bin/serve``).

``train`` turns any failure into SageMaker's failure protocol: the reason in ``output/failure`` and exit
status 1. A ``UserError`` is reported as its message alone; anything else is a bug, so its traceback
goes to stderr (the job's log) and only a one-line summary to the failure file.
"""

from __future__ import annotations

import sys
import traceback

from sagestep_training.errors import UserError
from sagestep_training.layout import Layout

USAGE = "usage: python -m sagestep_training train|serve"


def main(argv: list[str] | None = None) -> int:
    """Run the command named by ``argv`` (default ``sys.argv[1:]``); returns the exit status."""
    arguments = sys.argv[1:] if argv is None else argv
    layout = Layout.from_env()
    if arguments == ["train"]:
        return _train(layout)
    if arguments == ["serve"]:
        return _serve(layout)
    print(USAGE, file=sys.stderr)
    return 2


def _train(layout: Layout) -> int:
    # Imported here, not at the top, so that `serve` never pays for importing torch and optuna.
    from sagestep_training import train

    try:
        train.run(layout)
        return 0
    except UserError as error:
        reason = str(error)
    except Exception as error:
        traceback.print_exc()
        reason = f"internal error: {type(error).__name__}: {error}"
    layout.failure_file.parent.mkdir(parents=True, exist_ok=True)
    layout.failure_file.write_text(reason + "\n", encoding="utf-8")
    print(f"training failed: {reason}", file=sys.stderr, flush=True)
    return 1


def _serve(layout: Layout) -> int:
    from sagestep_training import serve

    try:
        serve.run(layout)
    except UserError as error:
        print(f"serve failed: {error}", file=sys.stderr, flush=True)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
