"""Explicit IAM statements, with the cdk-nag acknowledgement of any wildcard resource right beside them."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from aws_cdk import Stack
from aws_cdk import aws_iam as iam
from constructs import Construct

from stacks.platform import nag

SAGEMAKER_PREFIX_REASON = (
    "SageMaker resources are named after job ids generated at run time, so their ARNs are only known by "
    "prefix: access is limited to sagestep's job-id prefixes (docs/architecture.md, 'Job ids and resource "
    "names')."
)


def allow(
    role: iam.Role,
    actions: Sequence[str],
    resources: Sequence[str],
    *,
    reason: str | None = None,
    conditions: Mapping[str, Any] | None = None,
) -> None:
    """Add an Allow statement to `role`; a resource containing `*` needs a `reason` (recorded for cdk-nag).

    Actions must be exact (no `*`): wildcard actions are never acknowledged.
    """
    if any("*" in action for action in actions):
        raise ValueError(f"wildcard action in {actions}: list the actions")
    role.add_to_policy(
        iam.PolicyStatement(
            actions=list(actions), resources=list(resources), conditions=dict(conditions) if conditions else None
        )
    )
    findings = [nag.resource_finding(role, resource) for resource in resources]
    wildcard = [finding for finding in findings if "*" in finding]
    if wildcard:
        if not reason:
            raise ValueError(f"wildcard resources {wildcard} need a reason")
        nag.acknowledge(role, "IAM5", reason, *wildcard)


def sagemaker_arns(scope: Construct, resource_type: str, prefixes: Sequence[str]) -> list[str]:
    """ARNs of SageMaker resources of `resource_type` (e.g. `training-job`) whose names start with `prefixes`."""
    stack = Stack.of(scope)
    return [
        stack.format_arn(service="sagemaker", resource=resource_type, resource_name=f"{prefix}*") for prefix in prefixes
    ]


def allow_sagemaker(role: iam.Role, actions: Sequence[str], resource_types: Mapping[str, Sequence[str]]) -> None:
    """Allow `sagemaker:<action>` on the resource types given as {type: name prefixes}."""
    resources = [arn for kind, prefixes in resource_types.items() for arn in sagemaker_arns(role, kind, prefixes)]
    allow(role, [f"sagemaker:{action}" for action in actions], resources, reason=SAGEMAKER_PREFIX_REASON)
