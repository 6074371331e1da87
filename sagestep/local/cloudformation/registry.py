"""Resource type -> local emulation: each AWS service module declares a `Service`, the provisioner merges
them into one `Registry` and dispatches on it."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from sagestep.local.cloudformation.context import NameRule, StackContext
from sagestep.local.cloudformation.resolver import PhysicalResource

#: `(context, logical id, properties) -> physical values`: creates (or derives) the resource locally.
Handler = Callable[[StackContext, str, dict[str, Any]], PhysicalResource]
#: `(context, logical id, properties, local name) -> physical values` of a skipped resource, for types whose
#: `Ref`/`Fn::GetAtt` values differ from the default placeholder's.
Placeholder = Callable[[StackContext, str, Mapping[str, Any], str], PhysicalResource]
#: Runs once every resource has its physical values (e.g. to derive route tables).
Finisher = Callable[[StackContext], None]


@dataclass(frozen=True)
class Service:
    """One AWS service's part of the local emulation.

    Attributes:
        handlers: resource type -> `Handler`.
        skipped: resource type -> why nothing is created locally; such resources get a placeholder so that a
            `Ref` or `Fn::GetAtt` to them resolves (an IAM role ARN for a state machine's `RoleArn`, say).
        placeholders: skipped resource type -> `Placeholder`, where the default one does not fit.
        names: resource type -> `NameRule`.
        finish: a `Finisher`, if the service derives something from all its resources.
    """

    handlers: Mapping[str, Handler] = field(default_factory=dict)
    skipped: Mapping[str, str] = field(default_factory=dict)
    placeholders: Mapping[str, Placeholder] = field(default_factory=dict)
    names: Mapping[str, NameRule] = field(default_factory=dict)
    finish: Finisher | None = None


@dataclass(frozen=True)
class Registry:
    """The services' declarations merged; a type is declared by one service only."""

    handlers: Mapping[str, Handler]
    skipped: Mapping[str, str]
    placeholders: Mapping[str, Placeholder]
    names: Mapping[str, NameRule]
    finishers: tuple[Finisher, ...]

    @classmethod
    def of(cls, services: Iterable[Service]) -> Registry:
        """Merge `services`.

        Raises:
            ValueError: a type is handled or skipped twice, has two name rules, or has a placeholder
                without being skipped.
        """
        handlers: dict[str, Handler] = {}
        skipped: dict[str, str] = {}
        placeholders: dict[str, Placeholder] = {}
        names: dict[str, NameRule] = {}
        finishers: list[Finisher] = []
        declared: set[str] = set()
        for service in services:
            for resource_type in [*service.handlers, *service.skipped]:
                if resource_type in declared:
                    raise ValueError(f"{resource_type} is declared twice")
                declared.add(resource_type)
            for resource_type in service.names:
                if resource_type in names:
                    raise ValueError(f"{resource_type} has two name rules")
            handlers.update(service.handlers)
            skipped.update(service.skipped)
            placeholders.update(service.placeholders)
            names.update(service.names)
            if service.finish is not None:
                finishers.append(service.finish)
        if not placeholders.keys() <= skipped.keys():
            raise ValueError(f"placeholders for types that are not skipped: {sorted(placeholders.keys() - skipped)}")
        return cls(handlers, skipped, placeholders, names, tuple(finishers))
