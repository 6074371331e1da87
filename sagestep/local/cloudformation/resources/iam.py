"""IAM: nothing is created (permissions are not enforced locally); roles and policies get placeholder ARNs
so that references to them resolve."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sagestep.local.cloudformation.context import NameRule, StackContext, attempt
from sagestep.local.cloudformation.registry import Service
from sagestep.local.cloudformation.resolver import PhysicalResource, local_id


def role(ctx: StackContext, logical_id: str, props: Mapping[str, Any], name: str) -> PhysicalResource:
    path = attempt(lambda: ctx.prop(logical_id, props, "Path", "/"), "/")
    attributes = {
        "Arn": ctx.arn("iam", f"role{path}{name}", region=False),
        "RoleId": "AROA" + local_id(logical_id, length=17).upper(),
    }
    return PhysicalResource(logical_id, "AWS::IAM::Role", name, attributes)


def managed_policy(ctx: StackContext, logical_id: str, props: Mapping[str, Any], name: str) -> PhysicalResource:
    arn = ctx.arn("iam", f"policy/{name}", region=False)
    return PhysicalResource(logical_id, "AWS::IAM::ManagedPolicy", arn, {"PolicyArn": arn})


def instance_profile(ctx: StackContext, logical_id: str, props: Mapping[str, Any], name: str) -> PhysicalResource:
    arn = ctx.arn("iam", f"instance-profile/{name}", region=False)
    return PhysicalResource(logical_id, "AWS::IAM::InstanceProfile", name, {"Arn": arn})


_NOT_ENFORCED = "permissions are not enforced locally"

SERVICE = Service(
    skipped=dict.fromkeys(
        (
            "AWS::IAM::Role",
            "AWS::IAM::Policy",
            "AWS::IAM::ManagedPolicy",
            "AWS::IAM::InstanceProfile",
            "AWS::IAM::ServiceLinkedRole",
        ),
        _NOT_ENFORCED,
    ),
    placeholders={
        "AWS::IAM::Role": role,
        "AWS::IAM::ManagedPolicy": managed_policy,
        "AWS::IAM::InstanceProfile": instance_profile,
    },
    names={
        "AWS::IAM::Role": NameRule("RoleName", 64),
        "AWS::IAM::ManagedPolicy": NameRule("ManagedPolicyName", 128),
        "AWS::IAM::Policy": NameRule("PolicyName", 128),
    },
)
