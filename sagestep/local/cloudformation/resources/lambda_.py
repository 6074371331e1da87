"""Lambda functions and event source mappings: not created in moto but recorded as specs, for the runtime
to register the handlers in-process (`arn:aws:lambda:{region}:{account}:function:{name}`)."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from sagestep.local.cloudformation.context import NameRule, StackContext, dashed
from sagestep.local.cloudformation.registry import Service
from sagestep.local.cloudformation.resolver import PhysicalResource, as_string, local_id, references
from sagestep.local.cloudformation.specs import EventSourceMappingSpec, FunctionSpec


def function(ctx: StackContext, logical_id: str, props: dict[str, Any]) -> PhysicalResource:
    name = ctx.name(logical_id, props, "AWS::Lambda::Function")
    arn = ctx.arn("lambda", f"function:{name}")
    if logical_id in _custom_resource_providers(ctx.resources):
        # The CDK's own handlers of custom resources (bucket notifications, auto-delete, ...): the local
        # runtime applies what it needs of them itself.
        ctx.result.skipped[logical_id] = "AWS::Lambda::Function"
        return PhysicalResource(logical_id, "AWS::Lambda::Function", name, {"Arn": arn})
    environment = ctx.prop(logical_id, props, "Environment", {}) or {}
    variables = {
        str(k): as_string(v, ctx.where(logical_id, f"Environment.Variables.{k}"))
        for k, v in (environment.get("Variables") or {}).items()
    }
    handler = ctx.prop(logical_id, props, "Handler")
    if not handler:
        ctx.warn(f"{logical_id}: Lambda function without Handler (image or inline code?)")
    ctx.result.functions[logical_id] = FunctionSpec(
        logical_id=logical_id,
        function_name=name,
        arn=arn,
        handler=str(handler or ""),
        environment=variables,
        runtime=ctx.prop(logical_id, props, "Runtime"),
        timeout_seconds=int(ctx.prop(logical_id, props, "Timeout", 3)),
        memory_mb=int(ctx.prop(logical_id, props, "MemorySize", 128)),
        construct_path=ctx.resources[logical_id].get("Metadata", {}).get("aws:cdk:path"),
        metadata=dict(ctx.resources[logical_id].get("Metadata", {})),
    )
    return PhysicalResource(logical_id, "AWS::Lambda::Function", name, {"Arn": arn})


def _custom_resource_providers(resources: Mapping[str, Any]) -> set[str]:
    """Logical ids of the functions named by the `ServiceToken` of a custom resource."""
    return {
        provider
        for declaration in resources.values()
        if str(declaration.get("Type", "")).startswith("Custom::")
        or declaration.get("Type") == "AWS::CloudFormation::CustomResource"
        for provider in references(declaration.get("Properties", {}).get("ServiceToken"))
    }


def event_source_mapping(ctx: StackContext, logical_id: str, props: dict[str, Any]) -> PhysicalResource:
    name = str(ctx.prop(logical_id, props, "FunctionName"))
    function_logical_id = next(
        (k for k, spec in ctx.result.functions.items() if name in (spec.function_name, spec.arn)), None
    )
    batch_size = ctx.prop(logical_id, props, "BatchSize")
    ctx.result.event_source_mappings[logical_id] = EventSourceMappingSpec(
        logical_id=logical_id,
        function_logical_id=function_logical_id,
        function_name=name.rsplit(":", 1)[-1] if name.startswith("arn:") else name,
        event_source_arn=str(ctx.prop(logical_id, props, "EventSourceArn", "")),
        batch_size=None if batch_size is None else int(batch_size),
        enabled=ctx.prop(logical_id, props, "Enabled", True) not in (False, "false", "False"),
        function_response_types=tuple(str(t) for t in ctx.prop(logical_id, props, "FunctionResponseTypes", []) or []),
        maximum_batching_window_seconds=int(ctx.prop(logical_id, props, "MaximumBatchingWindowInSeconds", 0) or 0),
    )
    local = local_id(ctx.stack_name, logical_id, length=36)
    return PhysicalResource(logical_id, "AWS::Lambda::EventSourceMapping", local, {"Id": local})


def event_invoke_config(ctx: StackContext, logical_id: str, props: dict[str, Any]) -> PhysicalResource:
    """Retries and the on-failure destination of asynchronous invocations: the local Lambda dispatch honours
    them as AWS does (an event whose retries all failed goes to the destination, never silently away)."""
    name = str(ctx.prop(logical_id, props, "FunctionName"))
    function_logical_id = next(
        (k for k, spec in ctx.result.functions.items() if name in (spec.function_name, spec.arn)), None
    )
    if function_logical_id is None:
        ctx.warn(f"{logical_id}: event invoke config of an unknown function {name!r}")
        return PhysicalResource(logical_id, "AWS::Lambda::EventInvokeConfig", name, {})
    destination = ((ctx.prop(logical_id, props, "DestinationConfig") or {}).get("OnFailure") or {}).get("Destination")
    ctx.result.functions[function_logical_id] = dataclasses.replace(
        ctx.result.functions[function_logical_id],
        async_retries=int(ctx.prop(logical_id, props, "MaximumRetryAttempts", 2)),
        on_failure_arn=str(destination) if destination else None,
    )
    return PhysicalResource(logical_id, "AWS::Lambda::EventInvokeConfig", name, {})


def layer_version(ctx: StackContext, logical_id: str, props: Mapping[str, Any], name: str) -> PhysicalResource:
    arn = ctx.arn("lambda", f"layer:{name}:1")
    return PhysicalResource(logical_id, "AWS::Lambda::LayerVersion", arn, {"LayerVersionArn": arn})


_IN_PROCESS = "functions run in-process, from the local sources"

SERVICE = Service(
    handlers={
        "AWS::Lambda::Function": function,
        "AWS::Lambda::EventSourceMapping": event_source_mapping,
        "AWS::Lambda::EventInvokeConfig": event_invoke_config,
    },
    skipped={
        "AWS::Lambda::Permission": "resource policies are not enforced locally",
        "AWS::Lambda::Version": _IN_PROCESS,
        "AWS::Lambda::Alias": _IN_PROCESS,
        "AWS::Lambda::LayerVersion": _IN_PROCESS,
        "AWS::Lambda::Url": "function URLs are not served locally",
    },
    placeholders={"AWS::Lambda::LayerVersion": layer_version},
    names={"AWS::Lambda::Function": NameRule("FunctionName", 64, dashed)},
)
