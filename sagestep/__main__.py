"""``python -m sagestep``: the same as the ``sagestep`` command."""

from sagestep.cli import main

main()
