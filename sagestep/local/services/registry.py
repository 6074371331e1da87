"""Which service emulations a :class:`~sagestep.local.emulator.LocalAws` runs."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from sagestep.local.services.base import LocalService


class ServiceRegistry:
    """The service emulation classes the emulator instantiates (with default settings) and installs in order."""

    def __init__(self, services: Iterable[type[LocalService]] = ()) -> None:
        self._services: dict[str, type[LocalService]] = {}
        for service in services:
            self.register(service)

    def register(self, service: type[LocalService]) -> None:
        if service.name in self._services:
            raise ValueError(f"a local {service.name} emulation is registered already")
        self._services[service.name] = service

    def __iter__(self) -> Iterator[type[LocalService]]:
        return iter(self._services.values())

    def names(self) -> list[str]:
        return list(self._services)

    def instantiate(self, given: Iterable[LocalService] = ()) -> list[LocalService]:
        """One instance per registered service, ``given`` instances (configured by the caller) taking the
        place of the registered class of their name; given services that are not registered come last."""
        chosen: dict[str, LocalService] = {}
        for service in given:
            if service.name in chosen:
                raise ValueError(f"two local {service.name} emulations were given")
            chosen[service.name] = service
        ordered = [chosen.pop(cls.name) if cls.name in chosen else cls() for cls in self]
        return ordered + list(chosen.values())


def default_registry() -> ServiceRegistry:
    """The emulations of the local mode; a new service is one line here."""
    from sagestep.local.services.comprehend import ComprehendEmulator
    from sagestep.local.services.sagemaker import SageMakerEmulator
    from sagestep.local.services.textract import TextractEmulator
    from sagestep.local.services.translate import TranslateEmulator

    return ServiceRegistry([SageMakerEmulator, TranslateEmulator, TextractEmulator, ComprehendEmulator])
