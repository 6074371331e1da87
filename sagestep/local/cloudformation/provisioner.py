"""Provisioning: every resource of a template, in dependency order, through the handler its service
registered; skipped types get placeholders; then the services' finishers and the stack outputs."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from sagestep.local.cloudformation.context import ClientFactory, StackContext, attempt
from sagestep.local.cloudformation.errors import ResolutionError
from sagestep.local.cloudformation.registry import Registry
from sagestep.local.cloudformation.resolver import (
    DEFAULT_ACCOUNT_ID,
    DEFAULT_REGION,
    PhysicalResource,
    TemplateResolver,
    dependency_order,
)
from sagestep.local.cloudformation.resources import (
    apigateway,
    cloudformation,
    cloudwatch,
    cognito,
    dynamodb,
    events,
    glue,
    iam,
    kms,
    lambda_,
    logs,
    s3,
    sagemaker,
    sns,
    sqs,
    ssm,
    stepfunctions,
    wafv2,
    xray,
)
from sagestep.local.cloudformation.specs import ProvisionedStack

# The registration point: a service emulated locally adds its module here.
REGISTRY = Registry.of(
    module.SERVICE
    for module in (
        apigateway,
        cloudformation,
        cloudwatch,
        cognito,
        dynamodb,
        events,
        glue,
        iam,
        kms,
        lambda_,
        logs,
        s3,
        sagemaker,
        sns,
        sqs,
        ssm,
        stepfunctions,
        wafv2,
        xray,
    )
)


def provision(
    template: Mapping[str, Any],
    *,
    endpoint_url: str | None = None,
    client_factory: ClientFactory | None = None,
    stack_name: str = "sagestep",
    region: str | None = None,
    asset_dir: Path | None = None,
    parameters: Mapping[str, Any] | None = None,
) -> ProvisionedStack:
    """Create the template's resources in a moto server, in dependency order; idempotent.

    Local physical names are deterministic (`{stack name}-{logical id without the CDK hash}` unless the
    template names the resource), so a restarted runtime finds the resources it created before in persisted
    moto state.

    Args:
        template: the synthesized template (`synthesize`).
        endpoint_url: the moto server, e.g. `http://127.0.0.1:5000` (or give `client_factory`).
        client_factory: `name -> boto3 client` (e.g. `LocalAws.client`); wins over `endpoint_url`.
        stack_name: `AWS::StackName` and the prefix of derived names.
        region: defaults to the clients' region, else `AWS_DEFAULT_REGION`, else us-east-1.
        asset_dir: the cloud assembly folder, needed for state machines whose definition is a file
            asset (`DefinitionBody.from_file`).
        parameters: template parameter values (defaults apply otherwise).

    Returns:
        The `ProvisionedStack`.

    Raises:
        ResolutionError: a property the local runtime needs cannot be evaluated.
        ProvisionError: moto refused a resource.
    """
    if client_factory is None:
        if endpoint_url is None:
            raise ValueError("provision needs endpoint_url or client_factory")
        client_factory = boto3_client_factory(endpoint_url, region or _default_region())
    region = region or getattr(getattr(client_factory("sts"), "meta", None), "region_name", None) or _default_region()
    result = ProvisionedStack(stack_name=stack_name, region=region, account_id=_account_id(client_factory))
    resolver = TemplateResolver(
        template,
        result.resources,
        region=region,
        account_id=result.account_id,
        stack_name=stack_name,
        parameters=parameters,
    )
    ctx = StackContext(template, client_factory, result, resolver, REGISTRY.names, asset_dir)
    for logical_id in dependency_order(template):
        declaration = ctx.resources[logical_id]
        resource_type = declaration.get("Type", "")
        condition = declaration.get("Condition")
        if condition and not resolver.condition(condition):
            result.skipped[logical_id] = resource_type
            continue
        result.resources[logical_id] = _physical(ctx, logical_id, resource_type, declaration.get("Properties", {}))
    for finish in REGISTRY.finishers:
        finish(ctx)
    _outputs(ctx)
    return result


def _physical(ctx: StackContext, logical_id: str, resource_type: str, props: dict[str, Any]) -> PhysicalResource:
    handler = REGISTRY.handlers.get(resource_type)
    if handler is not None:
        return handler(ctx, logical_id, props)
    if resource_type not in REGISTRY.skipped and not resource_type.startswith("Custom::"):
        ctx.warn(f"{logical_id}: resource type {resource_type} is not emulated locally; skipped")
    ctx.result.skipped[logical_id] = resource_type
    return _placeholder(ctx, logical_id, resource_type, props)


def _placeholder(ctx: StackContext, logical_id: str, resource_type: str, props: dict[str, Any]) -> PhysicalResource:
    """Values for `Ref` and `Fn::GetAtt` of a resource that is not created: its local name and an ARN."""
    fallback = f"{ctx.stack_name}-{ctx.readable[logical_id]}"
    name = fallback
    if resource_type in REGISTRY.names:
        name = attempt(lambda: ctx.name(logical_id, props, resource_type), fallback)
    placeholder = REGISTRY.placeholders.get(resource_type)
    if placeholder is not None:
        return placeholder(ctx, logical_id, props, name)
    service = resource_type.split("::")[1].lower() if resource_type.count("::") == 2 else "custom"
    arn = ctx.arn(service, f"{resource_type.split('::')[-1].lower()}/{name}")
    return PhysicalResource(logical_id, resource_type, name, {"Arn": arn})


def _outputs(ctx: StackContext) -> None:
    """The resolved outputs; one that cannot be resolved locally is left out, with a warning."""
    for name, output in ctx.template.get("Outputs", {}).items():
        if "Condition" in output and not ctx.resolver.condition(output["Condition"]):
            continue
        try:
            ctx.result.outputs[name] = ctx.resolver.resolve(output["Value"], f"Outputs.{name}.Value")
        except ResolutionError as exc:
            ctx.warn(f"output {name} has no local value: {exc}")


def boto3_client_factory(endpoint_url: str, region: str = DEFAULT_REGION) -> ClientFactory:
    """A `name -> client` factory for a moto server (dummy credentials); clients are cached."""
    import boto3

    session = boto3.session.Session(aws_access_key_id="testing", aws_secret_access_key="testing", region_name=region)
    cache: dict[str, Any] = {}

    def client(name: str) -> Any:
        if name not in cache:
            cache[name] = session.client(name, endpoint_url=endpoint_url)  # type: ignore[call-overload]
        return cache[name]

    return client


def _default_region() -> str:
    return os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or DEFAULT_REGION


def _account_id(clients: ClientFactory) -> str:
    try:
        return str(clients("sts").get_caller_identity()["Account"])
    except Exception:
        return DEFAULT_ACCOUNT_ID
