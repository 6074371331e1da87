"""Intrinsic functions of a template, evaluated against the local physical values of its resources, and the
naming rules of local resources."""

from __future__ import annotations

import base64
import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sagestep.local.cloudformation.errors import ResolutionError, TemplateError

DEFAULT_ACCOUNT_ID = "123456789012"
DEFAULT_REGION = "us-east-1"
URL_SUFFIX = "amazonaws.com"

_CDK_HASH = re.compile(r"^(?P<base>.+?)[0-9A-F]{8}$")


def readable_id(logical_id: str) -> str:
    """The logical id without the 8-hex-digit hash the CDK appends (`JobsTable1970BC16` -> `JobsTable`)."""
    match = _CDK_HASH.match(logical_id)
    return match.group("base") if match else logical_id


def shorten(name: str, limit: int, logical_id: str) -> str:
    """`name` if within `limit`, else cut and suffixed with a hash of the logical id (still unique)."""
    if len(name) <= limit:
        return name
    suffix = hashlib.sha1(logical_id.encode()).hexdigest()[:8]
    return f"{name[: limit - 9]}-{suffix}"


def local_id(*parts: str, length: int = 10) -> str:
    """A deterministic lowercase id in the style of API Gateway ids."""
    digest = hashlib.sha256("/".join(parts).encode()).digest()
    alphabet = "abcdefghijklmnopqrstuvwxyz0123456789"
    return "".join(alphabet[b % len(alphabet)] for b in digest[:length])


class _NoValue:
    """`AWS::NoValue`: the property (or list item) is removed."""

    def __repr__(self) -> str:
        return "AWS::NoValue"


NO_VALUE = _NoValue()


@dataclass
class PhysicalResource:
    """The local physical values of one resource.

    Attributes:
        logical_id: the template's logical id.
        type: the CloudFormation resource type.
        ref: what `Ref` returns.
        attributes: what `Fn::GetAtt` returns, by attribute name.
        created: True when the resource exists in the local emulation; False for a placeholder (IAM,
            logs, ...) or a resource the runtime provides itself (Lambda functions, API Gateway).
    """

    logical_id: str
    type: str
    ref: Any
    attributes: dict[str, Any] = field(default_factory=dict)
    created: bool = False


_SUB_VARIABLE = re.compile(r"\$\{([^}]*)\}")


class TemplateResolver:
    """Evaluates intrinsic functions of a template against local physical values.

    Args:
        template: the CloudFormation template.
        physical: logical id -> `PhysicalResource`; read at resolution time, so it may be filled as
            resources are provisioned.
        region, account_id, stack_name: the pseudo parameters.
        parameters: values of template parameters (defaults apply otherwise).
    """

    def __init__(
        self,
        template: Mapping[str, Any],
        physical: Mapping[str, PhysicalResource],
        *,
        region: str = DEFAULT_REGION,
        account_id: str = DEFAULT_ACCOUNT_ID,
        stack_name: str = "sagestep",
        parameters: Mapping[str, Any] | None = None,
    ) -> None:
        self.template = template
        self.physical = physical
        self.region = region
        self.account_id = account_id
        self.stack_name = stack_name
        self.parameters = dict(parameters or {})
        stack_uuid = local_id(stack_name, "stack", length=32)
        self.pseudo: dict[str, Any] = {
            "AWS::Region": region,
            "AWS::AccountId": account_id,
            "AWS::Partition": "aws",
            "AWS::URLSuffix": URL_SUFFIX,
            "AWS::StackName": stack_name,
            "AWS::StackId": f"arn:aws:cloudformation:{region}:{account_id}:stack/{stack_name}/{stack_uuid}",
            "AWS::NotificationARNs": [],
            "AWS::NoValue": NO_VALUE,
        }
        self._conditions: dict[str, bool] = {}

    # ---- public ------------------------------------------------------------------------------------

    def resolve(self, value: Any, where: str = "template") -> Any:
        """Evaluate every intrinsic function in `value`; `where` names the place for error messages
        (e.g. `Resources.Api.Properties.Environment`). `AWS::NoValue` entries are dropped from dicts and
        lists; a top-level `AWS::NoValue` is returned as `NO_VALUE`."""
        if isinstance(value, dict):
            if len(value) == 1:
                ((key, argument),) = value.items()
                if key == "Ref":
                    return self._ref(argument, where)
                if key == "Condition" and isinstance(argument, str):
                    return self.condition(argument)
                if key.startswith("Fn::"):
                    return self._function(key, argument, where)
            resolved_dict = {}
            for key, item in value.items():
                resolved = self.resolve(item, f"{where}.{key}")
                if resolved is not NO_VALUE:
                    resolved_dict[key] = resolved
            return resolved_dict
        if isinstance(value, list):
            resolved_list = []
            for index, item in enumerate(value):
                resolved = self.resolve(item, f"{where}[{index}]")
                if resolved is not NO_VALUE:
                    resolved_list.append(resolved)
            return resolved_list
        return value

    def resolve_string(self, value: Any, where: str) -> str:
        resolved = self.resolve(value, where)
        if not isinstance(resolved, (str, int, float)) or isinstance(resolved, bool):
            raise ResolutionError(f"{where}: expected a string, got {resolved!r}")
        return str(resolved)

    def condition(self, name: str) -> bool:
        """The value of the template condition `name`."""
        if name not in self._conditions:
            conditions = self.template.get("Conditions", {})
            if name not in conditions:
                raise ResolutionError(f"Conditions.{name}: no such condition")
            self._conditions[name] = bool(self._condition_value(conditions[name], f"Conditions.{name}"))
        return self._conditions[name]

    # ---- internals ---------------------------------------------------------------------------------

    def _condition_value(self, value: Any, where: str) -> bool:
        if isinstance(value, dict) and len(value) == 1:
            ((key, argument),) = value.items()
            if key == "Condition":
                return self.condition(argument)
            if key == "Fn::Equals":
                left, right = (self.resolve(a, where) for a in argument)
                return bool(_scalar(left) == _scalar(right))
            if key == "Fn::Not":
                return not self._condition_value(argument[0], where)
            if key == "Fn::And":
                return all(self._condition_value(a, where) for a in argument)
            if key == "Fn::Or":
                return any(self._condition_value(a, where) for a in argument)
        resolved = self.resolve(value, where)
        if isinstance(resolved, bool):
            return resolved
        if isinstance(resolved, str) and resolved.lower() in ("true", "false"):
            return resolved.lower() == "true"
        raise ResolutionError(f"{where}: not a condition: {value!r}")

    def _ref(self, name: Any, where: str) -> Any:
        if not isinstance(name, str):
            raise ResolutionError(f"{where}: Ref needs a name, got {name!r}")
        if name in self.pseudo:
            return self.pseudo[name]
        if name in self.template.get("Parameters", {}):
            return self._parameter(name, where)
        if name in self.template.get("Resources", {}):
            return self._resource(name, where).ref
        raise ResolutionError(f"{where}: Ref to unknown resource or parameter {name!r}")

    def _parameter(self, name: str, where: str) -> Any:
        declaration = self.template["Parameters"][name]
        if name in self.parameters:
            value = self.parameters[name]
        elif "Default" in declaration:
            value = declaration["Default"]
        else:
            raise ResolutionError(f"{where}: parameter {name!r} has no default; pass a value in `parameters`")
        parameter_type = declaration.get("Type", "String")
        if isinstance(value, str) and (parameter_type == "CommaDelimitedList" or parameter_type.startswith("List<")):
            return [item.strip() for item in value.split(",")]
        return value

    def _resource(self, logical_id: str, where: str) -> PhysicalResource:
        if logical_id not in self.physical:
            declaration = self.template["Resources"][logical_id]
            if "Condition" in declaration and not self.condition(declaration["Condition"]):
                raise ResolutionError(f"{where}: {logical_id} is not created (condition {declaration['Condition']})")
            raise ResolutionError(f"{where}: {logical_id} ({declaration.get('Type')}) has no local value yet")
        return self.physical[logical_id]

    def _get_att(self, logical_id: str, attribute: str, where: str) -> Any:
        if logical_id not in self.template.get("Resources", {}):
            raise ResolutionError(f"{where}: Fn::GetAtt of unknown resource {logical_id!r}")
        resource = self._resource(logical_id, where)
        if attribute not in resource.attributes:
            known = ", ".join(sorted(resource.attributes)) or "none"
            raise ResolutionError(
                f"{where}: Fn::GetAtt {logical_id}.{attribute} is not available locally for {resource.type} "
                f"(known attributes: {known})"
            )
        return resource.attributes[attribute]

    def _function(self, name: str, argument: Any, where: str) -> Any:
        where = f"{where}({name})"
        if name == "Fn::GetAtt":
            if isinstance(argument, str):
                logical_id, _, attribute = argument.partition(".")
            else:
                logical_id, attribute = argument[0], self.resolve(argument[1], where)
            return self._get_att(logical_id, attribute, where)
        if name == "Fn::Join":
            delimiter, items = argument
            values = self.resolve(items, where)
            if not isinstance(values, list):
                raise ResolutionError(f"{where}: Fn::Join needs a list, got {values!r}")
            return delimiter.join(as_string(v, where) for v in values)
        if name == "Fn::Sub":
            return self._sub(argument, where)
        if name == "Fn::Select":
            index, items = argument
            values = self.resolve(items, where)
            position = int(self.resolve(index, where))
            if not isinstance(values, list) or not 0 <= position < len(values):
                raise ResolutionError(f"{where}: Fn::Select index {position} out of {values!r}")
            return values[position]
        if name == "Fn::Split":
            delimiter, source = argument
            return as_string(self.resolve(source, where), where).split(delimiter)
        if name == "Fn::If":
            condition_name, if_true, if_false = argument
            chosen = if_true if self.condition(condition_name) else if_false
            return self.resolve(chosen, where)
        if name in ("Fn::Equals", "Fn::And", "Fn::Or", "Fn::Not"):
            return self._condition_value({name: argument}, where)
        if name == "Fn::FindInMap":
            return self._find_in_map(argument, where)
        if name == "Fn::Base64":
            return base64.b64encode(as_string(self.resolve(argument, where), where).encode()).decode()
        if name == "Fn::GetAZs":
            return [f"{self.region}{zone}" for zone in "abc"]
        if name == "Fn::Length":
            values = self.resolve(argument, where)
            return len(values) if isinstance(values, list) else 1
        if name == "Fn::ToJsonString":
            return json.dumps(self.resolve(argument, where), separators=(",", ":"))
        raise ResolutionError(f"{where}: intrinsic function {name} is not supported locally")

    def _find_in_map(self, argument: Any, where: str) -> Any:
        map_name, top, second = (self.resolve(a, where) for a in argument[:3])
        default = argument[3].get("DefaultValue") if len(argument) > 3 and isinstance(argument[3], dict) else None
        try:
            return self.resolve(self.template["Mappings"][map_name][top][second], where)
        except KeyError:
            if default is not None:
                return self.resolve(default, where)
            raise ResolutionError(f"{where}: Fn::FindInMap {map_name}.{top}.{second} not found") from None

    def _sub(self, argument: Any, where: str) -> str:
        if isinstance(argument, str):
            text, variables = argument, {}
        else:
            text, raw_variables = argument
            variables = {k: self.resolve(v, f"{where}.{k}") for k, v in raw_variables.items()}

        def replace(match: re.Match[str]) -> str:
            expression = match.group(1)
            if expression.startswith("!"):
                return "${" + expression[1:] + "}"
            if expression in variables:
                return as_string(variables[expression], where)
            if "." in expression and expression.split(".", 1)[0] in self.template.get("Resources", {}):
                logical_id, attribute = expression.split(".", 1)
                return as_string(self._get_att(logical_id, attribute, where), where)
            return as_string(self._ref(expression, where), where)

        return _SUB_VARIABLE.sub(replace, text)


def as_string(value: Any, where: str) -> str:
    """A resolved scalar as CloudFormation writes it into a string (`true`/`false` for booleans)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (str, int, float)):
        return str(value)
    raise ResolutionError(f"{where}: expected a string, got {value!r}")


def _scalar(value: Any) -> Any:
    return str(value).lower() if isinstance(value, bool) else str(value) if isinstance(value, (int, float)) else value


def references(value: Any) -> set[str]:
    """Logical ids and parameters named by `Ref`, `Fn::GetAtt` and `Fn::Sub` anywhere in `value`."""
    found: set[str] = set()
    if isinstance(value, dict):
        if len(value) == 1:
            ((key, argument),) = value.items()
            if key == "Ref" and isinstance(argument, str):
                found.add(argument)
            elif key == "Fn::GetAtt":
                found.add(argument.split(".", 1)[0] if isinstance(argument, str) else argument[0])
            elif key == "Fn::Sub":
                text = argument if isinstance(argument, str) else argument[0]
                local = set() if isinstance(argument, str) else set(argument[1])
                for expression in _SUB_VARIABLE.findall(text):
                    if not expression.startswith("!") and expression not in local:
                        found.add(expression.split(".", 1)[0])
        for item in value.values():
            found |= references(item)
    elif isinstance(value, list):
        for item in value:
            found |= references(item)
    return found


def dependency_order(template: Mapping[str, Any]) -> list[str]:
    """Logical ids of the template's resources, each after the resources it refers to or depends on
    (template order among independent resources)."""
    resources = template.get("Resources", {})
    dependencies: dict[str, set[str]] = {}
    for logical_id, declaration in resources.items():
        depends_on = declaration.get("DependsOn", [])
        if isinstance(depends_on, str):
            depends_on = [depends_on]
        needed = references(declaration.get("Properties", {})) | set(depends_on)
        dependencies[logical_id] = {d for d in needed if d in resources and d != logical_id}
    ordered: list[str] = []
    done: set[str] = set()
    visiting: set[str] = set()

    def visit(logical_id: str, chain: tuple[str, ...]) -> None:
        if logical_id in done:
            return
        if logical_id in visiting:
            raise TemplateError(f"circular dependency: {' -> '.join((*chain, logical_id))}")
        visiting.add(logical_id)
        for dependency in sorted(dependencies[logical_id], key=list(resources).index):
            visit(dependency, (*chain, logical_id))
        visiting.discard(logical_id)
        done.add(logical_id)
        ordered.append(logical_id)

    for logical_id in resources:
        visit(logical_id, ())
    return ordered
