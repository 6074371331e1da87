"""Synthesize the app as CI and the local runtime do (`python app.py` with `CDK_OUTDIR`, no CDK CLI, no Docker)
and read its template; cdk-nag runs during that synthesis and fails it on any unacknowledged finding."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from stacks.platform import constants

REPO_ROOT = Path(__file__).resolve().parents[2]
STACK_NAME = constants.DEFAULT_STACK_NAME


@dataclass(frozen=True)
class Synth:
    returncode: int
    output: str
    outdir: Path
    stack_name: str
    template: dict[str, Any]
    report: dict[str, Any] | None

    def resources(self, resource_type: str) -> dict[str, dict[str, Any]]:
        return {
            logical_id: resource
            for logical_id, resource in self.template["Resources"].items()
            if resource["Type"] == resource_type
        }

    def labelled(self, name: str) -> tuple[str, dict[str, Any]]:
        found = [
            (logical_id, resource)
            for logical_id, resource in self.template["Resources"].items()
            if resource.get("Metadata", {}).get(constants.METADATA_KEY) == name
        ]
        assert len(found) == 1, f"expected one resource labelled {name!r}, found {len(found)}"
        return found[0]


def synthesize(outdir: Path, context: dict[str, Any] | None = None) -> Synth:
    """Run `app.py` into `outdir`; `context` is passed the way the CDK CLI passes `-c key=value` (it wins over
    the cdk.json context; `stackName` names the stack)."""
    env = {**os.environ, "CDK_OUTDIR": str(outdir), "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20"}
    if context is not None:
        env["CDK_CONTEXT_JSON"] = json.dumps(context)
    completed = subprocess.run(
        [sys.executable, "app.py"], cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=300
    )
    stack_name = (context or {}).get("stackName", STACK_NAME)
    template_file = outdir / f"{stack_name}.template.json"
    report_file = outdir / "validation-report.json"
    return Synth(
        returncode=completed.returncode,
        output=completed.stdout + completed.stderr,
        outdir=outdir,
        stack_name=stack_name,
        template=json.loads(template_file.read_text()) if template_file.exists() else {"Resources": {}},
        report=json.loads(report_file.read_text()) if report_file.exists() else None,
    )


def violations(synth: Synth) -> list[tuple[str, list[str]]]:
    return [
        (violation["ruleName"], [c["constructPath"] for c in violation.get("violatingConstructs", [])])
        for plugin in (synth.report or {}).get("pluginReports", [])
        for violation in plugin.get("violations", [])
    ]


def flatten(node: Any) -> str:
    """Render an intrinsic like cdk-nag does (`<LogicalId.Arn>`, `<AWS::Region>`)."""
    if isinstance(node, str):
        return node
    if "Fn::Join" in node:
        delimiter, parts = node["Fn::Join"]
        return delimiter.join(flatten(part) for part in parts)
    if "Fn::GetAtt" in node:
        return "<{}.{}>".format(*node["Fn::GetAtt"])
    if "Ref" in node:
        return f"<{node['Ref']}>"
    if "Fn::Sub" in node:
        return str(node["Fn::Sub"]).replace("${", "<").replace("}", ">")
    return json.dumps(node)


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def iam_statements(synth: Synth) -> list[dict[str, Any]]:
    """The statements of every IAM policy and inline role policy (not resource policies)."""
    statements = []
    for resource in synth.resources("AWS::IAM::Policy").values():
        statements += resource["Properties"]["PolicyDocument"]["Statement"]
    for resource in synth.resources("AWS::IAM::Role").values():
        for policy in resource["Properties"].get("Policies", []):
            statements += policy["PolicyDocument"]["Statement"]
    return statements


def denies_insecure_transport(policy_document: dict[str, Any]) -> bool:
    return any(
        statement["Effect"] == "Deny"
        and statement.get("Condition", {}).get("Bool", {}).get("aws:SecureTransport") == "false"
        for statement in policy_document["Statement"]
    )
