"""Step Functions state machines in moto, their definitions substituted with local values."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from sagestep.local.cloudformation.context import NameRule, StackContext, dashed, error_code, tags
from sagestep.local.cloudformation.errors import ProvisionError, ResolutionError
from sagestep.local.cloudformation.registry import Service
from sagestep.local.cloudformation.resolver import PhysicalResource, as_string


def state_machine(ctx: StackContext, logical_id: str, props: dict[str, Any]) -> PhysicalResource:
    sfn = ctx.clients("stepfunctions")
    name = ctx.name(logical_id, props, "AWS::StepFunctions::StateMachine")
    definition = _definition(ctx, logical_id, props)
    substitutions = ctx.prop(logical_id, props, "DefinitionSubstitutions", {}) or {}
    for key, value in substitutions.items():
        replacement = as_string(value, ctx.where(logical_id, f"DefinitionSubstitutions.{key}"))
        definition = definition.replace("${" + key + "}", replacement)
    left = sorted(set(re.findall(r"\$\{([A-Za-z0-9_]+)\}", definition)))
    if left:
        raise ResolutionError(
            f"{ctx.where(logical_id, 'DefinitionSubstitutions')}: the definition uses "
            f"{', '.join('${' + k + '}' for k in left)} which DefinitionSubstitutions does not define"
        )
    try:
        json.loads(definition)
    except ValueError as exc:
        raise ProvisionError(f"{ctx.where(logical_id)}: the definition is not JSON: {exc}") from exc
    role_arn = ctx.prop(logical_id, props, "RoleArn")
    arn = ctx.arn("states", f"stateMachine:{name}")
    request: dict[str, Any] = {"name": name, "definition": definition, "roleArn": role_arn}
    machine_type = ctx.prop(logical_id, props, "StateMachineType")
    if machine_type:
        request["type"] = machine_type
    tracing = ctx.prop(logical_id, props, "TracingConfiguration")
    if tracing:
        request["tracingConfiguration"] = {"enabled": bool(tracing.get("Enabled"))}
    machine_tags = tags(ctx.prop(logical_id, props, "Tags"))
    if machine_tags:
        request["tags"] = [{"key": t["Key"], "value": t["Value"]} for t in machine_tags]
    try:
        current = sfn.describe_state_machine(stateMachineArn=arn)
    except Exception as exc:
        if error_code(exc) != "StateMachineDoesNotExist":
            raise ProvisionError(f"{ctx.where(logical_id)}: describe_state_machine failed: {exc}") from exc
        arn = ctx.call(logical_id, "create_state_machine", sfn.create_state_machine, **request)["stateMachineArn"]
    else:
        if current["definition"] != definition or current["roleArn"] != role_arn:
            ctx.call(
                logical_id,
                "update_state_machine",
                sfn.update_state_machine,
                stateMachineArn=arn,
                definition=definition,
                roleArn=role_arn,
            )
    return PhysicalResource(
        logical_id, "AWS::StepFunctions::StateMachine", arn, {"Arn": arn, "Name": name}, created=True
    )


def _definition(ctx: StackContext, logical_id: str, props: dict[str, Any]) -> str:
    if "DefinitionString" in props:
        return ctx.resolver.resolve_string(props["DefinitionString"], ctx.where(logical_id, "DefinitionString"))
    if "Definition" in props:
        return json.dumps(ctx.prop(logical_id, props, "Definition"))
    if "DefinitionS3Location" in props:
        location = ctx.prop(logical_id, props, "DefinitionS3Location")
        key = str(location["Key"])
        candidates = [f"asset.{key}", key] if ctx.asset_dir else []
        for candidate in candidates:
            path = Path(ctx.asset_dir or ".") / candidate
            if path.is_file():
                return path.read_text()
        raise ResolutionError(
            f"{ctx.where(logical_id, 'DefinitionS3Location')}: the definition is the file asset {key}; "
            f"pass asset_dir (the cloud assembly folder, `synthesize_assembly(...).directory`)"
            + (f" - not found in {ctx.asset_dir}" if ctx.asset_dir else "")
        )
    raise ResolutionError(f"{ctx.where(logical_id)}: state machine without a definition")


SERVICE = Service(
    handlers={"AWS::StepFunctions::StateMachine": state_machine},
    names={"AWS::StepFunctions::StateMachine": NameRule("StateMachineName", 80, dashed)},
)
