"""SageMaker Ground Truth's workforce and work teams: nothing is created (the local Ground Truth's workers are the
simulated workforce of :mod:`sagestep.local.services.sagemaker`, which answers for any work team ARN); the team gets
the ARN AWS would give it so that labeling jobs name it as on AWS."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sagestep.local.cloudformation.context import NameRule, StackContext, attempt
from sagestep.local.cloudformation.registry import Service
from sagestep.local.cloudformation.resolver import PhysicalResource


def workteam(ctx: StackContext, logical_id: str, props: Mapping[str, Any], name: str) -> PhysicalResource:
    team = attempt(lambda: ctx.prop(logical_id, props, "WorkteamName", name), name)
    arn = ctx.arn("sagemaker", f"workteam/private-crowd/{team}")
    return PhysicalResource(logical_id, "AWS::SageMaker::Workteam", arn, {"WorkteamArn": arn, "WorkteamName": team})


def workforce(ctx: StackContext, logical_id: str, props: Mapping[str, Any], name: str) -> PhysicalResource:
    force = attempt(lambda: ctx.prop(logical_id, props, "WorkforceName", name), name)
    return PhysicalResource(
        logical_id, "AWS::SageMaker::Workforce", force, {"WorkforceArn": ctx.arn("sagemaker", f"workforce/{force}")}
    )


_SIMULATED = "the local Ground Truth's workers are a simulated workforce (any work team ARN)"

SERVICE = Service(
    skipped={"AWS::SageMaker::Workteam": _SIMULATED, "AWS::SageMaker::Workforce": _SIMULATED},
    placeholders={"AWS::SageMaker::Workteam": workteam, "AWS::SageMaker::Workforce": workforce},
    names={
        "AWS::SageMaker::Workteam": NameRule("WorkteamName", 63),
        "AWS::SageMaker::Workforce": NameRule("WorkforceName", 63),
    },
)
