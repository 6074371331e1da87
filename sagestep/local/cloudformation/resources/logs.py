"""CloudWatch Logs: nothing is created (local processes log to the console); log groups get placeholder
names and ARNs so that references to them resolve."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sagestep.local.cloudformation.context import NameRule, StackContext
from sagestep.local.cloudformation.registry import Service
from sagestep.local.cloudformation.resolver import PhysicalResource


def log_group(ctx: StackContext, logical_id: str, props: Mapping[str, Any], name: str) -> PhysicalResource:
    if not props.get("LogGroupName"):
        name = f"/aws/{ctx.stack_name}/{ctx.readable[logical_id]}"
    return PhysicalResource(logical_id, "AWS::Logs::LogGroup", name, {"Arn": ctx.arn("logs", f"log-group:{name}:*")})


SERVICE = Service(
    skipped=dict.fromkeys(
        (
            "AWS::Logs::LogGroup",
            "AWS::Logs::LogStream",
            "AWS::Logs::MetricFilter",
            "AWS::Logs::SubscriptionFilter",
            "AWS::Logs::ResourcePolicy",
        ),
        "local processes log to the console, not to CloudWatch Logs",
    ),
    placeholders={"AWS::Logs::LogGroup": log_group},
    names={"AWS::Logs::LogGroup": NameRule("LogGroupName", 512)},
)
