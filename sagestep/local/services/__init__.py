"""Local emulations of AWS services, behind one registration interface.

Each service the local mode emulates beyond stock moto is a :class:`LocalService` (``name``,
``install(patcher, context)``, ``shutdown()``, ``child_processes()``, ``wait_idle()``, ``emit()``) in a module
or package of its own under ``sagestep.local.services``, listed in :func:`default_registry`. The emulator
(:class:`sagestep.local.emulator.LocalAws`) installs every registered service after its moto server started,
and shuts them down before it stops. A service moto lacks entirely adds its backend to the server with
:func:`add_moto_service`.
"""

from sagestep.local.services.base import LocalService, ServiceContext
from sagestep.local.services.events import EventEmitter
from sagestep.local.services.moto_backends import MotoService, add_moto_service
from sagestep.local.services.registry import ServiceRegistry, default_registry

__all__ = [
    "EventEmitter",
    "LocalService",
    "MotoService",
    "ServiceContext",
    "ServiceRegistry",
    "add_moto_service",
    "default_registry",
]
