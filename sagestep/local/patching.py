"""Reversible attribute replacement for the few moto internals the local mode changes.

moto is a test double, not a platform: the local mode changes some of its internals (Lambda dispatch,
EventBridge delivery, the Step Functions SageMaker integration, SageMaker job lifecycles). Every
replacement goes through one :class:`Patcher` so that :meth:`LocalAws.stop` puts moto back exactly as
it was, and unit tests that use ``mock_aws`` later in the same process see stock moto.
"""

from __future__ import annotations

from typing import Any

_MISSING = object()


class Patcher:
    """Replaces attributes of classes or modules and restores them in reverse order."""

    def __init__(self) -> None:
        self._saved: list[tuple[Any, str, Any]] = []

    def replace(self, owner: Any, name: str, value: Any) -> Any:
        """Set ``owner.name = value`` and return what was there (the attribute as looked up).

        Restoring uses the owner's own ``__dict__`` entry, so replacing an inherited method does not
        leave a copy of the base implementation on the subclass.
        """
        previous = getattr(owner, name, None)
        self._saved.append((owner, name, vars(owner).get(name, _MISSING)))
        setattr(owner, name, value)
        return previous

    def restore(self) -> None:
        """Undo every replacement, newest first."""
        while self._saved:
            owner, name, old = self._saved.pop()
            if old is _MISSING:
                delattr(owner, name)
            else:
                setattr(owner, name, old)
