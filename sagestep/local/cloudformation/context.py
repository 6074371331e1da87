"""What a resource handler works with while a stack is provisioned: the template, the moto clients, the
resolver, the result being filled in, and the naming and error conventions every handler shares."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sagestep.local.cloudformation.errors import ProvisionError, ResolutionError
from sagestep.local.cloudformation.resolver import NO_VALUE, TemplateResolver, readable_id, shorten
from sagestep.local.cloudformation.specs import ProvisionedStack

logger = logging.getLogger(__name__)

ClientFactory = Callable[[str], Any]


@dataclass(frozen=True)
class NameRule:
    """How a type's physical name is found: the template's `property`, else `{stack}-{readable id}`
    passed through `clean` and cut to `limit` characters."""

    property: str
    limit: int
    clean: Callable[[str], str] | None = None


def dashed(name: str) -> str:
    """`name` with characters other than letters, digits, `_` and `-` replaced by `-` (function, state
    machine and rule names)."""
    return re.sub(r"[^A-Za-z0-9_-]", "-", name)


class StackContext:
    """The state of one provisioning run, shared by the resource handlers.

    Args:
        template: the CloudFormation template.
        clients: `name -> boto3 client` of the moto server.
        result: the `ProvisionedStack` being filled in (its `resources` feed the resolver).
        resolver: evaluates intrinsic functions against `result.resources`.
        name_rules: resource type -> `NameRule`.
        asset_dir: the cloud assembly folder (file assets).
    """

    def __init__(
        self,
        template: Mapping[str, Any],
        clients: ClientFactory,
        result: ProvisionedStack,
        resolver: TemplateResolver,
        name_rules: Mapping[str, NameRule],
        asset_dir: Path | None,
    ) -> None:
        self.template = template
        self.resources: dict[str, Any] = dict(template.get("Resources", {}))
        self.clients = clients
        self.result = result
        self.resolver = resolver
        self.name_rules = name_rules
        self.asset_dir = asset_dir
        self.readable = self._readable_ids()

    @property
    def stack_name(self) -> str:
        return self.result.stack_name

    @property
    def region(self) -> str:
        return self.result.region

    @property
    def account_id(self) -> str:
        return self.result.account_id

    def _readable_ids(self) -> dict[str, str]:
        """Logical ids without the CDK hash, unless two resources would then share one."""
        counts: dict[str, int] = {}
        for logical_id in self.resources:
            counts[readable_id(logical_id)] = counts.get(readable_id(logical_id), 0) + 1
        return {
            logical_id: readable_id(logical_id) if counts[readable_id(logical_id)] == 1 else logical_id
            for logical_id in self.resources
        }

    def warn(self, message: str) -> None:
        """Log `message` and record it in `ProvisionedStack.warnings`."""
        logger.warning("%s", message)
        self.result.warnings.append(message)

    def where(self, logical_id: str, prop: str | None = None) -> str:
        """The place of a resource (and property) in the template, with its construct path, for messages."""
        path = self.resources[logical_id].get("Metadata", {}).get("aws:cdk:path")
        suffix = f" [{path}]" if path else ""
        return f"Resources.{logical_id}{suffix}" + (f".Properties.{prop}" if prop else "")

    def prop(self, logical_id: str, props: Mapping[str, Any], name: str, default: Any = None) -> Any:
        """The resolved property `name` of `props` (`default` when absent or `AWS::NoValue`)."""
        if name not in props:
            return default
        value = self.resolver.resolve(props[name], self.where(logical_id, name))
        return default if value is NO_VALUE else value

    def name(self, logical_id: str, props: Mapping[str, Any], resource_type: str) -> str:
        """The template's name property if set, else `{stack}-{readable id}` within the type's limits."""
        rule = self.name_rules[resource_type]
        explicit = self.prop(logical_id, props, rule.property)
        if explicit:
            return str(explicit)
        name = f"{self.stack_name}-{self.readable[logical_id]}"
        if rule.clean is not None:
            name = rule.clean(name)
        return shorten(name, rule.limit, logical_id)

    def arn(self, service: str, resource: str, *, region: bool = True, account: bool = True) -> str:
        return f"arn:aws:{service}:{self.region if region else ''}:{self.account_id if account else ''}:{resource}"

    def call(self, logical_id: str, action: str, function: Callable[..., Any], **kwargs: Any) -> Any:
        """`function(**kwargs)`; a failure becomes a `ProvisionError` naming the resource and the action."""
        try:
            return function(**kwargs)
        except Exception as exc:
            raise ProvisionError(f"{self.where(logical_id)}: {action} failed: {exc}") from exc


def attempt(compute: Callable[[], Any], fallback: Any) -> Any:
    """`compute()`, or `fallback` when it cannot be resolved locally (for placeholder values)."""
    try:
        return compute()
    except ResolutionError:
        return fallback


def error_code(exc: Exception) -> str:
    """The AWS error code of a botocore `ClientError` (empty for other exceptions)."""
    response = getattr(exc, "response", None)
    if isinstance(response, dict):
        return str(response.get("Error", {}).get("Code", ""))
    return ""


def tags(value: Any) -> list[dict[str, str]]:
    """CloudFormation tags (a list of `Key`/`Value` or a mapping) as a list of `Key`/`Value`."""
    if isinstance(value, dict):
        return [{"Key": str(k), "Value": str(v)} for k, v in value.items()]
    return [{"Key": str(t["Key"]), "Value": str(t["Value"])} for t in value or []]
