"""Reversible changes to the few moto internals the local mode changes.

moto is a test double, not a platform: the local mode changes some of its internals (Lambda dispatch,
EventBridge delivery, the Step Functions integrations, SageMaker job lifecycles, the services moto lacks).
Every change goes through one :class:`Patcher` so that :meth:`LocalAws.stop` puts moto back exactly as it
was, and unit tests that use ``mock_aws`` later in the same process see stock moto.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

_MISSING = object()


class Patcher:
    """Replaces attributes of classes or modules, or adds items to lists, and undoes it in reverse order."""

    def __init__(self) -> None:
        self._undo: list[Callable[[], None]] = []

    def replace(self, owner: Any, name: str, value: Any) -> Any:
        """Set ``owner.name = value`` and return what was there (the attribute as looked up).

        Restoring uses the owner's own ``__dict__`` entry, so replacing an inherited method does not
        leave a copy of the base implementation on the subclass.
        """
        previous = getattr(owner, name, None)
        old = vars(owner).get(name, _MISSING)

        def undo() -> None:
            if old is _MISSING:
                delattr(owner, name)
            else:
                setattr(owner, name, old)

        self._undo.append(undo)
        setattr(owner, name, value)
        return previous

    def prepend(self, items: list[Any], *new: Any) -> None:
        """Put ``new`` at the front of the list ``items`` (in place: every holder of the list sees them)."""
        items[:0] = new

        def undo() -> None:
            for item in new:
                items.remove(item)

        self._undo.append(undo)

    def restore(self) -> None:
        """Undo every change, newest first."""
        while self._undo:
            self._undo.pop()()
