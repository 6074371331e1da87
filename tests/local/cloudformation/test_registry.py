"""Every resource type a template holds is emulated by a service module or skipped for a stated reason
(cloudformation.registry), so a type the CDK starts to emit cannot be ignored without anyone noticing."""

from __future__ import annotations

from typing import Any

import pytest

from sagestep.local.cloudformation import REGISTRY, CloudAssembly
from sagestep.local.cloudformation.registry import Registry, Service
from sagestep.local.cloudformation.resources import dynamodb, iam


def undeclared_types(template: dict[str, Any]) -> set[str]:
    types = {resource["Type"] for resource in template["Resources"].values()}
    return {t for t in types if t not in REGISTRY.handlers and not REGISTRY.skipped.get(t, "").strip()}


def test_every_type_of_the_real_stack_is_handled_or_skipped_with_a_reason(stack_assembly: CloudAssembly) -> None:
    # Given the synthesized sagestep stack
    # When its resource types are looked up in the registry
    # Then each has a handler or a non-empty reason to be skipped
    assert undeclared_types(stack_assembly.template) == set()


def test_every_type_of_the_fixture_stack_is_handled_or_skipped_with_a_reason(assembly: CloudAssembly) -> None:
    assert undeclared_types(assembly.template) == set()


def test_a_type_declared_by_two_services_is_refused() -> None:
    # Given two services that both claim a type (one handles it, one skips it)
    first = Service(handlers={"AWS::Foo::Bar": dynamodb.table})
    second = Service(skipped={"AWS::Foo::Bar": "not needed"})
    # When they are merged, Then the registry names the type
    with pytest.raises(ValueError, match="AWS::Foo::Bar is declared twice"):
        Registry.of([first, second])


def test_a_placeholder_needs_its_type_to_be_skipped() -> None:
    service = Service(placeholders={"AWS::Foo::Bar": iam.role})
    with pytest.raises(ValueError, match="AWS::Foo::Bar"):
        Registry.of([service])
