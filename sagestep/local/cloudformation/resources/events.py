"""EventBridge event buses and rules (with their targets) in moto."""

from __future__ import annotations

import json
from typing import Any

from sagestep.local.cloudformation.context import NameRule, StackContext, dashed, error_code
from sagestep.local.cloudformation.errors import ProvisionError
from sagestep.local.cloudformation.registry import Service
from sagestep.local.cloudformation.resolver import PhysicalResource

_TARGET_KEYS = (
    "Id",
    "Arn",
    "RoleArn",
    "Input",
    "InputPath",
    "InputTransformer",
    "SqsParameters",
    "HttpParameters",
    "RetryPolicy",
    "DeadLetterConfig",
)


def event_bus(ctx: StackContext, logical_id: str, props: dict[str, Any]) -> PhysicalResource:
    events = ctx.clients("events")
    name = ctx.name(logical_id, props, "AWS::Events::EventBus")
    try:
        arn = events.create_event_bus(Name=name)["EventBusArn"]
    except Exception as exc:
        if error_code(exc) != "ResourceAlreadyExistsException":
            raise ProvisionError(f"{ctx.where(logical_id)}: create_event_bus {name} failed: {exc}") from exc
        arn = events.describe_event_bus(Name=name)["Arn"]
    return PhysicalResource(logical_id, "AWS::Events::EventBus", name, {"Arn": arn, "Name": name}, True)


def rule(ctx: StackContext, logical_id: str, props: dict[str, Any]) -> PhysicalResource:
    events = ctx.clients("events")
    name = ctx.name(logical_id, props, "AWS::Events::Rule")
    bus = ctx.prop(logical_id, props, "EventBusName", "default") or "default"
    bus_name = bus.rsplit("/", 1)[-1] if str(bus).startswith("arn:") else bus
    request: dict[str, Any] = {"Name": name, "EventBusName": bus_name}
    pattern = ctx.prop(logical_id, props, "EventPattern")
    if pattern is not None:
        request["EventPattern"] = pattern if isinstance(pattern, str) else json.dumps(pattern)
    for key in ("ScheduleExpression", "State", "Description", "RoleArn"):
        value = ctx.prop(logical_id, props, key)
        if value is not None:
            request[key] = value
    arn = ctx.call(logical_id, "put_rule", events.put_rule, **request)["RuleArn"]
    targets = [
        {k: v for k, v in target.items() if k in _TARGET_KEYS}
        for target in ctx.prop(logical_id, props, "Targets", []) or []
    ]
    for target in targets:
        if isinstance(target.get("Input"), (dict, list)):
            target["Input"] = json.dumps(target["Input"])
    if targets:
        ctx.call(logical_id, "put_targets", events.put_targets, Rule=name, EventBusName=bus_name, Targets=targets)
    ref = name if bus_name == "default" else f"{bus_name}|{name}"
    return PhysicalResource(logical_id, "AWS::Events::Rule", ref, {"Arn": arn}, created=True)


SERVICE = Service(
    handlers={"AWS::Events::EventBus": event_bus, "AWS::Events::Rule": rule},
    names={"AWS::Events::Rule": NameRule("Name", 64, dashed), "AWS::Events::EventBus": NameRule("Name", 256)},
)
