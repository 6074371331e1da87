"""Where a workflow registers itself with the platform.

A workflow (``sagestep_service.workflows.<name>``) declares one ``Workflow``: its job kinds, which of its
statuses mean "still running", the module of its API routes, its event-driven waiters and what the safety
net must clean up for one of its jobs whose execution ended outside its failure path. The platform (API,
waits, safety net) reaches a workflow only through this record. Code is named by import path and loaded on
first use, so a function imports only the workflows it serves.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from typing import Any


@dataclass
class Cleanup:
    """What a failure cleanup removed and what it had to leave (each a ``type/name`` string)."""

    deleted: list[str] = field(default_factory=list)
    left: list[str] = field(default_factory=list)


#: ``cleanup(job record, execution plan) -> Cleanup``: removes what the job's run created and nothing uses.
CleanupFunction = Callable[[Mapping[str, Any], Mapping[str, Any]], Cleanup]


@dataclass(frozen=True)
class Workflow:
    """One workflow as the platform sees it."""

    name: str
    kinds: tuple[str, ...]
    running_statuses: frozenset[str]
    #: Module with a Powertools ``router`` serving the workflow's routes.
    routes: str
    #: ``module:attribute`` of the workflow's ``Waiter`` instances (a sequence), if it waits on events.
    waiters: str | None = None
    #: ``module:function`` (a ``CleanupFunction``) the safety net calls for an abandoned job.
    cleanup: str | None = None

    def is_running(self, status: str) -> bool:
        return status in self.running_statuses


def resolve(path: str) -> Any:
    """``package.module:attribute`` -> the attribute (the module is imported on first use)."""
    module_name, _, attribute = path.partition(":")
    module = importlib.import_module(module_name)
    return getattr(module, attribute) if attribute else module


@cache
def workflows() -> tuple[Workflow, ...]:
    """Every registered workflow (``sagestep_service.workflows.WORKFLOWS``)."""
    from sagestep_service.workflows import WORKFLOWS

    kinds = [kind for workflow in WORKFLOWS for kind in workflow.kinds]
    if len(kinds) != len(set(kinds)):
        raise ValueError(f"two workflows register the same job kind: {sorted(kinds)}")
    return tuple(WORKFLOWS)


def for_kind(kind: str) -> Workflow | None:
    """The workflow that owns job kind ``kind``."""
    return next((w for w in workflows() if kind in w.kinds), None)


def is_running(kind: str, status: str) -> bool:
    """Whether a job of ``kind`` with ``status`` is still being worked on by its workflow."""
    workflow = for_kind(kind)
    return workflow is not None and workflow.is_running(status)


def waiters() -> Sequence[Any]:
    """Every registered waiter (``sagestep_service.platform.waits.Waiter``)."""
    return [waiter for w in workflows() if w.waiters for waiter in resolve(w.waiters)]
