"""cdk-nag (3.x) acknowledgements, always scoped to one construct and, for IAM5, to one finding.

cdk-nag names an IAM5 finding after the flattened policy value, e.g.
`AwsSolutions-IAM5[Resource::<DataBucketE3889A50.Arn>/*]`. `resource_finding` computes that text from the same
token the policy uses, so an acknowledgement keeps matching when a logical id changes.
"""

from __future__ import annotations

from typing import Any

from aws_cdk import Acknowledgment, Stack, Validations
from constructs import IConstruct

PACK = "AwsSolutions"


def acknowledge(scope: IConstruct, rule: str, reason: str, *findings: str) -> None:
    """Acknowledge `rule` (e.g. "IAM5") on `scope` and its children; with findings, only those findings."""
    if not findings:
        Validations.of(scope).acknowledge(Acknowledgment(id=f"{PACK}-{rule}", reason=reason))
        return
    for finding in findings:
        Validations.of(scope).acknowledge(Acknowledgment(id=f"{PACK}-{rule}[{finding}]", reason=reason))


def _flatten(node: Any) -> str:
    # Same rendering as cdk-nag's flattenCfnReference.
    if node is None:
        return ""
    if isinstance(node, str):
        return node.replace("${", "<").replace("}", ">")
    if isinstance(node, dict):
        if "Fn::Join" in node:
            delimiter, items = node["Fn::Join"]
            return str(delimiter).join(_flatten(item) for item in items)
        if "Fn::Sub" in node:
            return _flatten(node["Fn::Sub"])
        if "Fn::GetAtt" in node:
            resource, attribute = node["Fn::GetAtt"]
            return f"<{_flatten(resource)}.{_flatten(attribute)}>"
        if "Fn::ImportValue" in node:
            return _flatten(node["Fn::ImportValue"])
        if "Ref" in node:
            return f"<{_flatten(node['Ref'])}>"
    raise ValueError(f"cannot flatten {node!r}")


def resource_finding(scope: IConstruct, resource: str) -> str:
    """The IAM5 finding id for a policy `Resource` value (a token string or a literal)."""
    return "Resource::" + _flatten(Stack.of(scope).resolve(resource))


def action_finding(action: str) -> str:
    """The IAM5 finding id for a wildcard action such as `kms:GenerateDataKey*`."""
    return f"Action::{action}"
