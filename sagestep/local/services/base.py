"""The interface of a local AWS service emulation, and what the emulator gives each one."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from sagestep.local.activity import Activity
from sagestep.local.faults import Faults
from sagestep.local.patching import Patcher
from sagestep.local.services.events import EventEmitter


@dataclass(frozen=True)
class ServiceContext:
    """What :class:`~sagestep.local.emulator.LocalAws` hands every service when it installs it.

    :param clients: a boto3 client for a service name, pointed at the emulator, without SDK retries.
    :param faults: the armed faults (consume them where AWS would fail).
    :param activity: counts background work; count every worker thread so that ``wait_idle`` waits for it.
    :param events: delivers EventBridge events to the default bus, in order.
    :param work_dir: the emulator's folder for files and logs (removed at stop unless the caller gave it).
    """

    clients: Callable[[str], Any]
    faults: Faults
    activity: Activity
    events: EventEmitter
    work_dir: Path
    account_id: str
    region: str


class LocalService:
    """A local emulation of one AWS service, on top of (or instead of) moto's backend for it.

    A subclass sets ``name`` (the boto3 service name, e.g. ``"sagemaker"``) and overrides :meth:`install`,
    calling ``super().install(patcher, context)`` first; it changes moto only through ``patcher`` (every
    change is undone when the emulator stops). A service moto lacks registers its backend with
    :func:`sagestep.local.services.moto_backends.add_moto_service`.
    """

    name: ClassVar[str]
    #: ``source`` of the events :meth:`emit` puts, as AWS sets it for the service.
    event_source: ClassVar[str | None] = None

    _context: ServiceContext | None = None

    @property
    def context(self) -> ServiceContext:
        if self._context is None:
            raise RuntimeError(f"the {self.name} emulation is not installed")
        return self._context

    @property
    def installed(self) -> bool:
        return self._context is not None

    def install(self, patcher: Patcher, context: ServiceContext) -> None:
        """Patch or extend moto for this service; called once, after the moto server started."""
        self._context = context

    def shutdown(self) -> None:
        """Stop this service's workers and processes; called before the server stops."""

    def child_processes(self) -> list[int]:
        """PIDs of the processes this service started that are still running."""
        return []

    def wait_idle(self, timeout: float | None = None) -> bool:
        """Wait until this service has no work in progress; False if ``timeout`` seconds passed first.

        Work counted in ``context.activity`` is waited for by the emulator already; override this for
        work that is not.
        """
        return True

    def emit(self, detail_type: str, resource_arn: str, detail: dict[str, Any]) -> None:
        """Queue an event from this service (``source`` = :attr:`event_source`) for the default bus."""
        self.context.events.emit(self.event_source or f"aws.{self.name}", detail_type, resource_arn, detail)
