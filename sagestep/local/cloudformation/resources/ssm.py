"""SSM parameters in moto."""

from __future__ import annotations

from typing import Any

from sagestep.local.cloudformation.context import NameRule, StackContext
from sagestep.local.cloudformation.registry import Service
from sagestep.local.cloudformation.resolver import PhysicalResource


def parameter(ctx: StackContext, logical_id: str, props: dict[str, Any]) -> PhysicalResource:
    ssm = ctx.clients("ssm")
    name = ctx.name(logical_id, props, "AWS::SSM::Parameter")
    if not name.startswith("/") and "Name" not in props:
        name = f"/{ctx.stack_name}/{ctx.readable[logical_id]}"
    request: dict[str, Any] = {
        "Name": name,
        "Value": str(ctx.prop(logical_id, props, "Value")),
        "Type": ctx.prop(logical_id, props, "Type", "String"),
        "Overwrite": True,
    }
    for key in ("Description", "AllowedPattern", "Tier", "DataType"):
        value = ctx.prop(logical_id, props, key)
        if value is not None:
            request[key] = value
    ctx.call(logical_id, "put_parameter", ssm.put_parameter, **request)
    return PhysicalResource(
        logical_id, "AWS::SSM::Parameter", name, {"Type": request["Type"], "Value": request["Value"]}, True
    )


SERVICE = Service(
    handlers={"AWS::SSM::Parameter": parameter},
    names={"AWS::SSM::Parameter": NameRule("Name", 1011)},
)
