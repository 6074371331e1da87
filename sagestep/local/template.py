"""The local runtime's resources, read from the synthesized CloudFormation template of the real stack.

Nothing is described twice: tables, indexes, topics, queues, buckets, rules, state machines, the user
pool and the API routes are created from the template `cdk deploy` would deploy, so the local mode cannot
drift from the cloud.

Three steps:

- `synthesize` runs the CDK app (with the context the CDK CLI would give it) and returns the stack's
  template; the result is cached by a hash of the app's sources.
- `TemplateResolver` evaluates intrinsic functions (`Ref`, `Fn::GetAtt`, `Fn::Sub`, ...) against the
  local physical values of the resources.
- `provision` creates the resources in a moto server in dependency order and returns a
  `ProvisionedStack`: physical ids, the Lambda functions to register in-process (`FunctionSpec`), the
  REST API route tables (`RestApiSpec`) and the resolved outputs.

Local physical names are deterministic (`{stack name}-{logical id without the CDK hash}`), so a restarted
runtime finds the resources it created before in persisted moto state; provisioning is idempotent.

Lambda functions are not created in moto: they get the name above and the ARN
`arn:aws:lambda:{region}:{account}:function:{name}`, and the runtime registers the handlers in-process.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import logging
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

logger = logging.getLogger(__name__)

ClientFactory = Callable[[str], Any]

DEFAULT_ACCOUNT_ID = "123456789012"
DEFAULT_REGION = "us-east-1"
URL_SUFFIX = "amazonaws.com"


class TemplateError(Exception):
    """Base class of the errors of this module."""


class SynthError(TemplateError):
    """The CDK app failed to synthesize."""


class ResolutionError(TemplateError):
    """An intrinsic function could not be evaluated locally; the message names resource and property."""


class ProvisionError(TemplateError):
    """A resource could not be created in the local AWS emulation."""


# --------------------------------------------------------------------------------------------------------
# Synthesis
# --------------------------------------------------------------------------------------------------------

# What `cdk synth` sets besides the project's own context: construct paths on every resource (used in
# messages), and no asset bundling, which needs Docker and which the local runtime does not use.
CLI_DEFAULT_CONTEXT: dict[str, Any] = {
    "aws:cdk:enable-path-metadata": True,
    "aws:cdk:enable-asset-metadata": True,
    "aws:cdk:bundling-stacks": [],
}
SOURCE_FILES = ("app.py", "cdk.json", "cdk.context.json")
SOURCE_DIRS = ("stacks", "statemachines")
SYNTH_TIMEOUT_SECONDS = 600
KEPT_ASSEMBLIES = 3
_STAMP = "sagestep-synth.json"


@dataclass(frozen=True)
class CloudAssembly:
    """A synthesized cloud assembly and the chosen stack's template.

    Attributes:
        directory: the assembly folder (`manifest.json`, templates, file assets).
        stack_name: the stack's name (the artifact id for env-agnostic stacks).
        template: the CloudFormation template as a dict.
        cached: True when the assembly came from the cache without running the app.
    """

    directory: Path
    stack_name: str
    template: dict[str, Any]
    cached: bool


def synthesize(
    app_dir: Path,
    out_dir: Path,
    context: Mapping[str, Any] | None = None,
    *,
    stack_name: str | None = None,
    use_cache: bool = True,
) -> dict[str, Any]:
    """Synthesize the CDK app in `app_dir` and return the template of its stack.

    See `synthesize_assembly`, which also returns the assembly folder (needed for state machines whose
    definition is a file asset) and the stack name.
    """
    return synthesize_assembly(app_dir, out_dir, context, stack_name=stack_name, use_cache=use_cache).template


def synthesize_assembly(
    app_dir: Path,
    out_dir: Path,
    context: Mapping[str, Any] | None = None,
    *,
    stack_name: str | None = None,
    use_cache: bool = True,
) -> CloudAssembly:
    """Synthesize the CDK app in `app_dir` into a cloud assembly under `out_dir`, with a cache.

    The app runs as a subprocess, as the CDK CLI runs it: the `app` command of `cdk.json` (a `python`
    interpreter in it is replaced by this interpreter), with `CDK_OUTDIR` and `CDK_CONTEXT_JSON` holding
    the context of `cdk.context.json`, then `cdk.json`, then `context` (later wins). Feature flags in
    `cdk.json` change the template, so running `python app.py` without them would not give the template
    `cdk deploy` deploys. A subprocess also keeps jsii's node process and cdk-nag out of the caller.

    Assemblies are kept in `out_dir/assembly-<hash>/`, the hash covering `app.py`, `cdk.json`,
    `cdk.context.json`, `stacks/**`, `statemachines/**`, the context, the stack name and the aws-cdk-lib
    version; a second call with the same inputs reads the cached template without running the app.

    Args:
        app_dir: folder holding `cdk.json` (and usually `app.py`).
        out_dir: folder for the assemblies (created).
        context: extra context values (`cdk synth -c key=value`).
        stack_name: the stack to return when the app has several.
        use_cache: False always runs the app (the result still goes to the cache).

    Raises:
        SynthError: the app failed (the message carries the end of its output) or the stack is ambiguous.
    """
    app_dir = Path(app_dir).resolve()
    out_dir = Path(out_dir).resolve()
    merged_context = _synth_context(app_dir, context)
    key = _source_hash(app_dir, merged_context, stack_name)
    final_dir = out_dir / f"assembly-{key[:16]}"
    stamp = final_dir / _STAMP
    if use_cache and stamp.is_file():
        with contextlib.suppress(OSError, ValueError, KeyError):
            recorded = json.loads(stamp.read_text())
            if recorded["key"] == key:
                template = json.loads((final_dir / recorded["templateFile"]).read_text())
                logger.info("synth: cached assembly %s", final_dir)
                return CloudAssembly(final_dir, recorded["stackName"], template, cached=True)

    out_dir.mkdir(parents=True, exist_ok=True)
    work_dir = Path(tempfile.mkdtemp(prefix=f".synth-{key[:16]}-", dir=out_dir))
    try:
        _run_app(app_dir, work_dir, merged_context)
        chosen, template_file = _pick_stack(work_dir, stack_name)
        (work_dir / _STAMP).write_text(
            json.dumps({"key": key, "stackName": chosen, "templateFile": template_file}, indent=2)
        )
        if final_dir.exists():
            shutil.rmtree(final_dir, ignore_errors=True)
        try:
            work_dir.rename(final_dir)
        except OSError:
            # Another process synthesized the same sources at the same moment: either copy is good.
            shutil.rmtree(work_dir, ignore_errors=True)
    except BaseException:
        shutil.rmtree(work_dir, ignore_errors=True)
        raise
    _prune_assemblies(out_dir, keep=final_dir)
    template = json.loads((final_dir / template_file).read_text())
    return CloudAssembly(final_dir, chosen, template, cached=False)


def _synth_context(app_dir: Path, context: Mapping[str, Any] | None) -> dict[str, Any]:
    merged: dict[str, Any] = dict(CLI_DEFAULT_CONTEXT)
    context_file = app_dir / "cdk.context.json"
    if context_file.is_file():
        merged.update(json.loads(context_file.read_text()))
    merged.update(_cdk_json(app_dir).get("context", {}))
    merged.update(context or {})
    return merged


def _cdk_json(app_dir: Path) -> dict[str, Any]:
    path = app_dir / "cdk.json"
    if not path.is_file():
        return {}
    loaded: dict[str, Any] = json.loads(path.read_text())
    return loaded


def _source_hash(app_dir: Path, context: Mapping[str, Any], stack_name: str | None) -> str:
    digest = hashlib.sha256()
    files = [app_dir / name for name in SOURCE_FILES if (app_dir / name).is_file()]
    for folder in SOURCE_DIRS:
        root = app_dir / folder
        if root.is_dir():
            files.extend(
                p for p in root.rglob("*") if p.is_file() and "__pycache__" not in p.parts and p.suffix != ".pyc"
            )
    for path in sorted(files):
        digest.update(path.relative_to(app_dir).as_posix().encode() + b"\0")
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    digest.update(json.dumps(context, sort_keys=True, default=str).encode())
    digest.update((stack_name or "").encode())
    digest.update(_cdk_version().encode())
    return digest.hexdigest()


def _cdk_version() -> str:
    from importlib import metadata

    try:
        return metadata.version("aws-cdk-lib")
    except metadata.PackageNotFoundError:
        return "unknown"


def _app_command(app_dir: Path) -> list[str]:
    command = _cdk_json(app_dir).get("app")
    if not command:
        if not (app_dir / "app.py").is_file():
            raise SynthError(f"{app_dir}: no cdk.json 'app' command and no app.py")
        return [sys.executable, "app.py"]
    argv = shlex.split(command)
    if argv and re.fullmatch(r"python(3(\.\d+)?)?", Path(argv[0]).name):
        argv[0] = sys.executable
    return argv


def _run_app(app_dir: Path, assembly_dir: Path, context: Mapping[str, Any]) -> None:
    env = dict(os.environ)
    env["CDK_OUTDIR"] = str(assembly_dir)
    env["CDK_CONTEXT_JSON"] = json.dumps(context)
    env.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
    env.setdefault("JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION", "1")
    argv = _app_command(app_dir)
    logger.info("synth: %s (in %s)", " ".join(argv), app_dir)
    try:
        result = subprocess.run(
            argv,
            cwd=app_dir,
            env=env,
            capture_output=True,
            text=True,
            timeout=SYNTH_TIMEOUT_SECONDS,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        raise SynthError(f"CDK app did not finish within {SYNTH_TIMEOUT_SECONDS} s: {' '.join(argv)}") from exc
    except OSError as exc:
        raise SynthError(f"cannot run the CDK app {' '.join(argv)}: {exc}") from exc
    if result.returncode != 0 or not (assembly_dir / "manifest.json").is_file():
        output = "\n".join(
            line
            for line in (result.stdout + "\n" + result.stderr).splitlines()
            if line.strip() and "!!" not in line  # jsii's node end-of-life banner
        )
        report = assembly_dir / "validation-report.json"
        hint = f"\n(validation report: {report})" if report.is_file() else ""
        raise SynthError(
            f"CDK app failed with exit status {result.returncode}: {' '.join(argv)}\n{output[-4000:]}{hint}"
        )


def _pick_stack(assembly_dir: Path, stack_name: str | None) -> tuple[str, str]:
    manifest = json.loads((assembly_dir / "manifest.json").read_text())
    stacks: dict[str, str] = {}
    for artifact_id, artifact in manifest.get("artifacts", {}).items():
        if artifact.get("type") != "aws:cloudformation:stack":
            continue
        properties = artifact.get("properties", {})
        name = properties.get("stackName") or artifact.get("displayName") or artifact_id
        stacks[name] = properties["templateFile"]
    if stack_name is not None:
        if stack_name not in stacks:
            raise SynthError(f"stack {stack_name!r} not in the app (stacks: {', '.join(sorted(stacks)) or 'none'})")
        return stack_name, stacks[stack_name]
    if len(stacks) != 1:
        raise SynthError(f"the app has {len(stacks)} stacks ({', '.join(sorted(stacks))}): pass stack_name")
    ((name, template_file),) = stacks.items()
    return name, template_file


def _prune_assemblies(out_dir: Path, keep: Path) -> None:
    assemblies = sorted(
        (p for p in out_dir.glob("assembly-*") if p.is_dir() and p != keep),
        key=lambda p: p.stat().st_mtime,
        reverse=True,
    )
    for stale in assemblies[KEPT_ASSEMBLIES - 1 :]:
        shutil.rmtree(stale, ignore_errors=True)
    # Work folders of synths that were killed; a running one is younger than its timeout.
    abandoned_before = time.time() - 2 * SYNTH_TIMEOUT_SECONDS
    for work in out_dir.glob(".synth-*"):
        if work.is_dir() and work.stat().st_mtime < abandoned_before:
            shutil.rmtree(work, ignore_errors=True)


# --------------------------------------------------------------------------------------------------------
# Names
# --------------------------------------------------------------------------------------------------------

_CDK_HASH = re.compile(r"^(?P<base>.+?)[0-9A-F]{8}$")


def readable_id(logical_id: str) -> str:
    """The logical id without the 8-hex-digit hash the CDK appends (`JobsTable1970BC16` -> `JobsTable`)."""
    match = _CDK_HASH.match(logical_id)
    return match.group("base") if match else logical_id


def _shorten(name: str, limit: int, logical_id: str) -> str:
    if len(name) <= limit:
        return name
    suffix = hashlib.sha1(logical_id.encode()).hexdigest()[:8]
    return f"{name[: limit - 9]}-{suffix}"


def _local_id(*parts: str, length: int = 10) -> str:
    """A deterministic lowercase id in the style of API Gateway ids."""
    digest = hashlib.sha256("/".join(parts).encode()).digest()
    alphabet = "abcdefghijklmnopqrstuvwxyz0123456789"
    return "".join(alphabet[b % len(alphabet)] for b in digest[:length])


# --------------------------------------------------------------------------------------------------------
# Intrinsic functions
# --------------------------------------------------------------------------------------------------------


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
        stack_uuid = _local_id(stack_name, "stack", length=32)
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

    def resolve_property(self, logical_id: str, name: str, default: Any = None) -> Any:
        """The resolved value of property `name` of resource `logical_id` (`default` when absent)."""
        properties = self.template["Resources"][logical_id].get("Properties", {})
        if name not in properties:
            return default
        resolved = self.resolve(properties[name], f"Resources.{logical_id}.Properties.{name}")
        return default if resolved is NO_VALUE else resolved

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
            return delimiter.join(self._as_string(v, where) for v in values)
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
            return self._as_string(self.resolve(source, where), where).split(delimiter)
        if name == "Fn::If":
            condition_name, if_true, if_false = argument
            chosen = if_true if self.condition(condition_name) else if_false
            return self.resolve(chosen, where)
        if name in ("Fn::Equals", "Fn::And", "Fn::Or", "Fn::Not"):
            return self._condition_value({name: argument}, where)
        if name == "Fn::FindInMap":
            return self._find_in_map(argument, where)
        if name == "Fn::Base64":
            return base64.b64encode(self._as_string(self.resolve(argument, where), where).encode()).decode()
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
                return self._as_string(variables[expression], where)
            if "." in expression and expression.split(".", 1)[0] in self.template.get("Resources", {}):
                logical_id, attribute = expression.split(".", 1)
                return self._as_string(self._get_att(logical_id, attribute, where), where)
            return self._as_string(self._ref(expression, where), where)

        return _SUB_VARIABLE.sub(replace, text)

    @staticmethod
    def _as_string(value: Any, where: str) -> str:
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


# --------------------------------------------------------------------------------------------------------
# What provisioning returns
# --------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FunctionSpec:
    """A Lambda function of the stack, for the runtime to register in-process.

    Attributes:
        logical_id: template logical id.
        function_name: local name (the template's `FunctionName`, else `{stack}-{readable logical id}`).
        arn: `arn:aws:lambda:{region}:{account}:function:{function_name}`.
        handler: the `Handler` string, e.g. `sagestep_service.platform.api.handler`.
        environment: resolved environment variables (local names and ARNs).
        runtime: e.g. `python3.11`.
        timeout_seconds: `Timeout` (CloudFormation default 3).
        memory_mb: `MemorySize` (default 128).
        construct_path: the construct path (`aws:cdk:path` metadata) when the template has it.
        metadata: the resource's template `Metadata` (e.g. sagestep's `sagestep:name`).
    """

    logical_id: str
    function_name: str
    arn: str
    handler: str
    environment: dict[str, str]
    runtime: str | None = None
    timeout_seconds: int = 3
    memory_mb: int = 128
    construct_path: str | None = None
    metadata: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class EventSourceMappingSpec:
    """An `AWS::Lambda::EventSourceMapping` (e.g. SQS -> Lambda); the runtime may poll it."""

    logical_id: str
    function_logical_id: str | None
    function_name: str
    event_source_arn: str
    batch_size: int | None
    enabled: bool


@dataclass(frozen=True)
class CognitoAuthorizerSpec:
    """A `COGNITO_USER_POOLS` authorizer of a REST API.

    Attributes:
        identity_header: the request header carrying the token (from `IdentitySource`).
        user_pool_ids: local ids of the user pools in `ProviderARNs`.
    """

    logical_id: str
    name: str
    user_pool_arns: tuple[str, ...]
    user_pool_ids: tuple[str, ...]
    identity_header: str = "Authorization"
    identity_validation_expression: str | None = None


@dataclass(frozen=True)
class IntegrationSpec:
    """A method's integration.

    Attributes:
        type: `AWS_PROXY`, `MOCK`, or another type (not served locally).
        function_logical_id: the Lambda function of an `AWS_PROXY` integration.
        mock_status: the status code a `MOCK` integration answers.
        mock_headers: static response headers of a `MOCK` integration (CORS preflight).
    """

    type: str
    function_logical_id: str | None = None
    mock_status: int = 200
    mock_headers: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Route:
    """One method of a REST API: `(method, path)` -> authorization and integration.

    Attributes:
        method: `GET`, `POST`, ... or `ANY`.
        path: the resource path template, e.g. `/model/{jobId}` or `/files/{proxy+}`.
        authorization_type: `NONE`, `COGNITO_USER_POOLS`, `AWS_IAM` or `CUSTOM`.
        authorizer: the Cognito authorizer when `authorization_type` is `COGNITO_USER_POOLS`.
        authorization_scopes: OAuth scopes (a Cognito authorizer then wants an access token).
        required_parameters: `(location, name)` pairs a request validator requires, location one of
            `header`, `querystring`, `path`, `multivalueheader`, `multivaluequerystring`.
        resource_id, method_logical_id: local id of the resource, logical id of the method.
    """

    method: str
    path: str
    authorization_type: str
    integration: IntegrationSpec
    authorizer: CognitoAuthorizerSpec | None = None
    authorization_scopes: tuple[str, ...] = ()
    required_parameters: tuple[tuple[str, str], ...] = ()
    resource_id: str = ""
    method_logical_id: str = ""

    @property
    def function_logical_id(self) -> str | None:
        return self.integration.function_logical_id

    @property
    def user_pool_ids(self) -> tuple[str, ...]:
        return self.authorizer.user_pool_ids if self.authorizer else ()


@dataclass(frozen=True)
class GatewayResponseSpec:
    """An `AWS::ApiGateway::GatewayResponse`: status and static headers for a response type."""

    response_type: str
    status_code: int | None
    headers: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class RestApiSpec:
    """A REST API derived from the template (not created in moto).

    Attributes:
        api_id: a deterministic local id (what `Ref` of the API returns).
        stage_name: the deployed stage (`AWS::ApiGateway::Stage`), `prod` if none.
        routes: the route table.
        binary_media_types: `BinaryMediaTypes` (request bodies of these types are base64-encoded).
        gateway_responses: by response type (`UNAUTHORIZED`, `DEFAULT_4XX`, ...).
    """

    logical_id: str
    api_id: str
    name: str
    stage_name: str
    routes: tuple[Route, ...]
    binary_media_types: tuple[str, ...] = ()
    gateway_responses: Mapping[str, GatewayResponseSpec] = field(default_factory=dict)


@dataclass(frozen=True)
class UserPoolSpec:
    """A Cognito user pool created in moto, with its clients (logical id -> client id)."""

    logical_id: str
    user_pool_id: str
    arn: str
    name: str
    client_ids: Mapping[str, str] = field(default_factory=dict)


@dataclass
class ProvisionedStack:
    """What `provision` created or derived.

    Attributes:
        stack_name, region, account_id: the pseudo parameters used.
        resources: logical id -> physical values, for every resource (created or placeholder).
        functions: logical id -> Lambda function to register in-process.
        event_source_mappings: logical id -> event source mapping.
        rest_apis: logical id -> REST API route table.
        user_pools: logical id -> user pool.
        outputs: resolved stack outputs (an output that cannot be resolved locally is left out, with a
            warning).
        skipped: logical id -> type, for resources with no local counterpart.
        warnings: unknown resource types and other things a user should know.
    """

    stack_name: str
    region: str
    account_id: str
    resources: dict[str, PhysicalResource] = field(default_factory=dict)
    functions: dict[str, FunctionSpec] = field(default_factory=dict)
    event_source_mappings: dict[str, EventSourceMappingSpec] = field(default_factory=dict)
    rest_apis: dict[str, RestApiSpec] = field(default_factory=dict)
    user_pools: dict[str, UserPoolSpec] = field(default_factory=dict)
    outputs: dict[str, Any] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)

    def ref(self, logical_id: str) -> Any:
        """What `Ref` of the resource returns locally."""
        return self.resources[logical_id].ref

    def attribute(self, logical_id: str, name: str) -> Any:
        """What `Fn::GetAtt` of the resource returns locally."""
        return self.resources[logical_id].attributes[name]

    def of_type(self, resource_type: str) -> dict[str, PhysicalResource]:
        """Resources of one CloudFormation type, by logical id."""
        return {k: v for k, v in self.resources.items() if v.type == resource_type}

    def function_by_name(self, function_name: str) -> FunctionSpec:
        for spec in self.functions.values():
            if function_name in (spec.function_name, spec.arn):
                return spec
        raise KeyError(function_name)

    @property
    def rest_api(self) -> RestApiSpec:
        """The stack's only REST API."""
        if len(self.rest_apis) != 1:
            raise LookupError(f"the stack has {len(self.rest_apis)} REST APIs: use rest_apis")
        return next(iter(self.rest_apis.values()))

    @property
    def user_pool(self) -> UserPoolSpec:
        """The stack's only user pool."""
        if len(self.user_pools) != 1:
            raise LookupError(f"the stack has {len(self.user_pools)} user pools: use user_pools")
        return next(iter(self.user_pools.values()))


# --------------------------------------------------------------------------------------------------------
# Provisioning
# --------------------------------------------------------------------------------------------------------

# Types with no local counterpart. Each still gets a placeholder value so that a Ref or GetAtt to it
# resolves (an IAM role ARN for a state machine's RoleArn, say).
SKIPPED_TYPES = frozenset(
    {
        "AWS::CDK::Metadata",
        "AWS::IAM::Role",
        "AWS::IAM::Policy",
        "AWS::IAM::ManagedPolicy",
        "AWS::IAM::InstanceProfile",
        "AWS::IAM::ServiceLinkedRole",
        "AWS::Logs::LogGroup",
        "AWS::Logs::LogStream",
        "AWS::Logs::MetricFilter",
        "AWS::Logs::SubscriptionFilter",
        "AWS::Logs::ResourcePolicy",
        "AWS::KMS::Alias",
        "AWS::S3::BucketPolicy",
        "AWS::SNS::TopicPolicy",
        "AWS::SQS::QueuePolicy",
        "AWS::Lambda::Permission",
        "AWS::Lambda::Version",
        "AWS::Lambda::Alias",
        "AWS::Lambda::LayerVersion",
        "AWS::Lambda::EventInvokeConfig",
        "AWS::Lambda::Url",
        "AWS::CloudWatch::Alarm",
        "AWS::CloudWatch::CompositeAlarm",
        "AWS::CloudWatch::Dashboard",
        "AWS::ApiGateway::Account",
        "AWS::ApiGateway::Deployment",
        "AWS::ApiGateway::Model",
        "AWS::ApiGateway::UsagePlan",
        "AWS::ApiGateway::UsagePlanKey",
        "AWS::ApiGateway::ApiKey",
        "AWS::ApiGateway::BasePathMapping",
        "AWS::ApiGateway::DomainName",
        "AWS::Cognito::UserPoolDomain",
        "AWS::Cognito::UserPoolUICustomizationAttachment",
        "AWS::Cognito::UserPoolRiskConfigurationAttachment",
        "AWS::CloudFormation::CustomResource",
        "AWS::CloudFormation::WaitCondition",
        "AWS::CloudFormation::WaitConditionHandle",
        "AWS::WAFv2::WebACL",
        "AWS::WAFv2::WebACLAssociation",
        "AWS::XRay::Group",
        "AWS::XRay::SamplingRule",
    }
)

# Types read when the REST API route tables are derived; they get local ids but nothing is created.
API_GATEWAY_TYPES = frozenset(
    {
        "AWS::ApiGateway::RestApi",
        "AWS::ApiGateway::Resource",
        "AWS::ApiGateway::Method",
        "AWS::ApiGateway::Stage",
        "AWS::ApiGateway::Authorizer",
        "AWS::ApiGateway::GatewayResponse",
        "AWS::ApiGateway::RequestValidator",
    }
)

# Name property and length limit of types whose physical name the template may give or we derive.
_NAME_RULES: dict[str, tuple[str, int]] = {
    "AWS::DynamoDB::Table": ("TableName", 255),
    "AWS::DynamoDB::GlobalTable": ("TableName", 255),
    "AWS::SNS::Topic": ("TopicName", 256),
    "AWS::SQS::Queue": ("QueueName", 80),
    "AWS::S3::Bucket": ("BucketName", 63),
    "AWS::StepFunctions::StateMachine": ("StateMachineName", 80),
    "AWS::Lambda::Function": ("FunctionName", 64),
    "AWS::Events::Rule": ("Name", 64),
    "AWS::Events::EventBus": ("Name", 256),
    "AWS::Cognito::UserPool": ("UserPoolName", 128),
    "AWS::Cognito::UserPoolClient": ("ClientName", 128),
    "AWS::IAM::Role": ("RoleName", 64),
    "AWS::IAM::ManagedPolicy": ("ManagedPolicyName", 128),
    "AWS::IAM::Policy": ("PolicyName", 128),
    "AWS::Logs::LogGroup": ("LogGroupName", 512),
    "AWS::SSM::Parameter": ("Name", 1011),
}

_USER_POOL_KEYS = (
    "Policies",
    "DeletionProtection",
    "AutoVerifiedAttributes",
    "AliasAttributes",
    "UsernameAttributes",
    "SmsVerificationMessage",
    "EmailVerificationMessage",
    "EmailVerificationSubject",
    "VerificationMessageTemplate",
    "SmsAuthenticationMessage",
    "MfaConfiguration",
    "UserAttributeUpdateSettings",
    "DeviceConfiguration",
    "EmailConfiguration",
    "SmsConfiguration",
    "UserPoolTags",
    "AdminCreateUserConfig",
    "Schema",
    "UserPoolAddOns",
    "UsernameConfiguration",
    "AccountRecoverySetting",
)
_USER_POOL_CLIENT_KEYS = (
    "GenerateSecret",
    "RefreshTokenValidity",
    "AccessTokenValidity",
    "IdTokenValidity",
    "TokenValidityUnits",
    "ReadAttributes",
    "WriteAttributes",
    "ExplicitAuthFlows",
    "SupportedIdentityProviders",
    "CallbackURLs",
    "LogoutURLs",
    "DefaultRedirectURI",
    "AllowedOAuthFlows",
    "AllowedOAuthScopes",
    "AllowedOAuthFlowsUserPoolClient",
    "PreventUserExistenceErrors",
    "EnableTokenRevocation",
    "AuthSessionValidity",
)
_EVENT_TARGET_KEYS = (
    "Id",
    "Arn",
    "RoleArn",
    "Input",
    "InputPath",
    "InputTransformer",
    "SqsParameters",
    "HttpParameters",
    "RetryPolicy",
    "DeadLetterConfig",
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
    provisioner = _Provisioner(
        template, client_factory, stack_name=stack_name, region=region, asset_dir=asset_dir, parameters=parameters
    )
    return provisioner.run()


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


def _error_code(exc: Exception) -> str:
    response = getattr(exc, "response", None)
    if isinstance(response, dict):
        return str(response.get("Error", {}).get("Code", ""))
    return ""


def _tags(value: Any) -> list[dict[str, str]]:
    if isinstance(value, dict):
        return [{"Key": str(k), "Value": str(v)} for k, v in value.items()]
    return [{"Key": str(t["Key"]), "Value": str(t["Value"])} for t in value or []]


class _Provisioner:
    def __init__(
        self,
        template: Mapping[str, Any],
        clients: ClientFactory,
        *,
        stack_name: str,
        region: str | None,
        asset_dir: Path | None,
        parameters: Mapping[str, Any] | None,
    ) -> None:
        self.template = template
        self.resources: dict[str, Any] = dict(template.get("Resources", {}))
        self.clients = clients
        self.asset_dir = asset_dir
        self.region = region or getattr(getattr(clients("sts"), "meta", None), "region_name", None) or _default_region()
        self.account_id = self._account_id()
        self.result = ProvisionedStack(stack_name=stack_name, region=self.region, account_id=self.account_id)
        self.resolver = TemplateResolver(
            template,
            self.result.resources,
            region=self.region,
            account_id=self.account_id,
            stack_name=stack_name,
            parameters=parameters,
        )
        self._readable = self._readable_ids()
        self._custom_resource_providers = {
            provider
            for declaration in self.resources.values()
            if str(declaration.get("Type", "")).startswith("Custom::")
            or declaration.get("Type") == "AWS::CloudFormation::CustomResource"
            for provider in references(declaration.get("Properties", {}).get("ServiceToken"))
        }
        self._handlers: dict[str, Callable[[str, dict[str, Any]], PhysicalResource]] = {
            "AWS::DynamoDB::Table": self._dynamodb_table,
            "AWS::DynamoDB::GlobalTable": self._dynamodb_table,
            "AWS::SNS::Topic": self._sns_topic,
            "AWS::SNS::Subscription": self._sns_subscription,
            "AWS::SQS::Queue": self._sqs_queue,
            "AWS::S3::Bucket": self._s3_bucket,
            "Custom::S3BucketNotifications": self._s3_bucket_notifications,
            "AWS::KMS::Key": self._kms_key,
            "AWS::Events::EventBus": self._event_bus,
            "AWS::Events::Rule": self._events_rule,
            "AWS::StepFunctions::StateMachine": self._state_machine,
            "AWS::Lambda::Function": self._lambda_function,
            "AWS::Lambda::EventSourceMapping": self._event_source_mapping,
            "AWS::Cognito::UserPool": self._user_pool,
            "AWS::Cognito::UserPoolClient": self._user_pool_client,
            "AWS::Cognito::UserPoolGroup": self._user_pool_group,
            "AWS::Cognito::UserPoolResourceServer": self._user_pool_resource_server,
            "AWS::SSM::Parameter": self._ssm_parameter,
        }

    @property
    def stack_name(self) -> str:
        return self.result.stack_name

    def _account_id(self) -> str:
        try:
            return str(self.clients("sts").get_caller_identity()["Account"])
        except Exception:
            return DEFAULT_ACCOUNT_ID

    def _readable_ids(self) -> dict[str, str]:
        counts: dict[str, int] = {}
        for logical_id in self.resources:
            counts[readable_id(logical_id)] = counts.get(readable_id(logical_id), 0) + 1
        return {
            logical_id: readable_id(logical_id) if counts[readable_id(logical_id)] == 1 else logical_id
            for logical_id in self.resources
        }

    # ---- driver ------------------------------------------------------------------------------------

    def run(self) -> ProvisionedStack:
        for logical_id in dependency_order(self.template):
            declaration = self.resources[logical_id]
            resource_type = declaration.get("Type", "")
            condition = declaration.get("Condition")
            if condition and not self.resolver.condition(condition):
                self.result.skipped[logical_id] = resource_type
                continue
            handler = self._handlers.get(resource_type)
            if handler is not None:
                physical = handler(logical_id, declaration.get("Properties", {}))
            elif resource_type in API_GATEWAY_TYPES:
                physical = self._api_gateway_placeholder(logical_id, resource_type)
            else:
                if resource_type not in SKIPPED_TYPES and not resource_type.startswith("Custom::"):
                    self._warn(f"{logical_id}: resource type {resource_type} is not emulated locally; skipped")
                self.result.skipped[logical_id] = resource_type
                physical = self._placeholder(logical_id, resource_type)
            self.result.resources[logical_id] = physical
        for logical_id, declaration in self.resources.items():
            if declaration.get("Type") == "AWS::ApiGateway::RestApi" and logical_id in self.result.resources:
                self.result.rest_apis[logical_id] = self._rest_api(logical_id)
        self._outputs()
        return self.result

    def _warn(self, message: str) -> None:
        logger.warning("%s", message)
        self.result.warnings.append(message)

    def _where(self, logical_id: str, prop: str | None = None) -> str:
        path = self.resources[logical_id].get("Metadata", {}).get("aws:cdk:path")
        suffix = f" [{path}]" if path else ""
        return f"Resources.{logical_id}{suffix}" + (f".Properties.{prop}" if prop else "")

    def _prop(self, logical_id: str, props: Mapping[str, Any], name: str, default: Any = None) -> Any:
        if name not in props:
            return default
        value = self.resolver.resolve(props[name], self._where(logical_id, name))
        return default if value is NO_VALUE else value

    def _name(self, logical_id: str, props: Mapping[str, Any], resource_type: str) -> str:
        """The template's name property if set, else `{stack}-{readable id}` within the type's limits."""
        name_property, limit = _NAME_RULES[resource_type]
        explicit = self._prop(logical_id, props, name_property)
        if explicit:
            return str(explicit)
        name = f"{self.stack_name}-{self._readable[logical_id]}"
        if resource_type == "AWS::S3::Bucket":
            name = re.sub(r"[^a-z0-9.-]", "-", name.lower()).strip("-.")
        elif resource_type in ("AWS::StepFunctions::StateMachine", "AWS::Lambda::Function", "AWS::Events::Rule"):
            name = re.sub(r"[^A-Za-z0-9_-]", "-", name)
        return _shorten(name, limit, logical_id)

    def _arn(self, service: str, resource: str, *, region: bool = True, account: bool = True) -> str:
        return f"arn:aws:{service}:{self.region if region else ''}:{self.account_id if account else ''}:{resource}"

    def _call(self, logical_id: str, action: str, function: Callable[..., Any], **kwargs: Any) -> Any:
        try:
            return function(**kwargs)
        except Exception as exc:
            raise ProvisionError(f"{self._where(logical_id)}: {action} failed: {exc}") from exc

    # ---- placeholders ------------------------------------------------------------------------------

    def _placeholder(self, logical_id: str, resource_type: str) -> PhysicalResource:
        props = self.resources[logical_id].get("Properties", {})
        readable = self._readable[logical_id]
        if resource_type in _NAME_RULES:
            name = self._try(lambda: self._name(logical_id, props, resource_type), f"{self.stack_name}-{readable}")
        else:
            name = f"{self.stack_name}-{readable}"
        attributes: dict[str, Any] = {}
        ref: Any = name
        if resource_type == "AWS::IAM::Role":
            path = self._try(lambda: self._prop(logical_id, props, "Path", "/"), "/")
            attributes = {
                "Arn": self._arn("iam", f"role{path}{name}", region=False),
                "RoleId": "AROA" + _local_id(logical_id, length=17).upper(),
            }
        elif resource_type == "AWS::IAM::ManagedPolicy":
            ref = self._arn("iam", f"policy/{name}", region=False)
            attributes = {"PolicyArn": ref}
        elif resource_type == "AWS::IAM::InstanceProfile":
            attributes = {"Arn": self._arn("iam", f"instance-profile/{name}", region=False)}
        elif resource_type == "AWS::Logs::LogGroup":
            if not props.get("LogGroupName"):
                name = f"/aws/{self.stack_name}/{readable}"
                ref = name
            attributes = {"Arn": self._arn("logs", f"log-group:{name}:*")}
        elif resource_type == "AWS::KMS::Alias":
            ref = self._try(lambda: self._prop(logical_id, props, "AliasName"), f"alias/{name}")
        elif resource_type == "AWS::Lambda::LayerVersion":
            ref = self._arn("lambda", f"layer:{name}:1")
            attributes = {"LayerVersionArn": ref}
        else:
            service = resource_type.split("::")[1].lower() if resource_type.count("::") == 2 else "custom"
            attributes = {"Arn": self._arn(service, f"{resource_type.split('::')[-1].lower()}/{name}")}
        return PhysicalResource(logical_id, resource_type, ref, attributes)

    @staticmethod
    def _try(compute: Callable[[], Any], fallback: Any) -> Any:
        try:
            return compute()
        except ResolutionError:
            return fallback

    def _api_gateway_placeholder(self, logical_id: str, resource_type: str) -> PhysicalResource:
        props = self.resources[logical_id].get("Properties", {})
        local = _local_id(self.stack_name, logical_id)
        attributes: dict[str, Any] = {}
        ref: Any = local
        if resource_type == "AWS::ApiGateway::RestApi":
            attributes = {"RootResourceId": _local_id(self.stack_name, logical_id, "root")}
        elif resource_type == "AWS::ApiGateway::Stage":
            ref = self._prop(logical_id, props, "StageName", local)
        elif resource_type == "AWS::ApiGateway::Authorizer":
            attributes = {"AuthorizerId": local}
        elif resource_type == "AWS::ApiGateway::Resource":
            attributes = {"ResourceId": local}
        return PhysicalResource(logical_id, resource_type, ref, attributes)

    # ---- DynamoDB ----------------------------------------------------------------------------------

    def _dynamodb_table(self, logical_id: str, props: dict[str, Any]) -> PhysicalResource:
        resource_type = self.resources[logical_id]["Type"]
        dynamodb = self.clients("dynamodb")
        name = self._name(logical_id, props, resource_type)
        resolved = {k: self._prop(logical_id, props, k) for k in props}
        replica: dict[str, Any] = {}
        if resource_type == "AWS::DynamoDB::GlobalTable":
            replicas = resolved.get("Replicas") or [{}]
            replica = next((r for r in replicas if r.get("Region") == self.region), replicas[0])
        billing = resolved.get("BillingMode", "PROVISIONED")
        default_throughput = {"ReadCapacityUnits": 5, "WriteCapacityUnits": 5}

        def index(spec: Mapping[str, Any]) -> dict[str, Any]:
            out = {k: spec[k] for k in ("IndexName", "KeySchema", "Projection") if k in spec}
            if billing == "PROVISIONED":
                out["ProvisionedThroughput"] = spec.get("ProvisionedThroughput", default_throughput)
            return out

        request: dict[str, Any] = {
            "TableName": name,
            "KeySchema": resolved["KeySchema"],
            "AttributeDefinitions": resolved["AttributeDefinitions"],
            "BillingMode": billing,
        }
        if billing == "PROVISIONED":
            request["ProvisionedThroughput"] = resolved.get("ProvisionedThroughput", default_throughput)
        if resolved.get("GlobalSecondaryIndexes"):
            request["GlobalSecondaryIndexes"] = [index(i) for i in resolved["GlobalSecondaryIndexes"]]
        if resolved.get("LocalSecondaryIndexes"):
            request["LocalSecondaryIndexes"] = [
                {k: i[k] for k in ("IndexName", "KeySchema", "Projection")} for i in resolved["LocalSecondaryIndexes"]
            ]
        stream = resolved.get("StreamSpecification")
        if stream and stream.get("StreamViewType"):
            request["StreamSpecification"] = {"StreamEnabled": True, "StreamViewType": stream["StreamViewType"]}
        sse = resolved.get("SSESpecification") or {}
        if sse.get("SSEEnabled"):
            request["SSESpecification"] = {"Enabled": True, "SSEType": sse.get("SSEType", "KMS")}
            master_key = sse.get("KMSMasterKeyId") or (replica.get("SSESpecification") or {}).get("KMSMasterKeyId")
            if master_key:
                request["SSESpecification"]["KMSMasterKeyId"] = master_key
        tags = _tags(resolved.get("Tags") or replica.get("Tags"))
        if tags:
            request["Tags"] = tags
        try:
            description = dynamodb.create_table(**request)["TableDescription"]
        except Exception as exc:
            if _error_code(exc) != "ResourceInUseException":
                raise ProvisionError(f"{self._where(logical_id)}: create_table {name} failed: {exc}") from exc
            description = self._reconcile_table(logical_id, name, request)
        ttl = resolved.get("TimeToLiveSpecification")
        if ttl and ttl.get("Enabled", True) and ttl.get("AttributeName"):
            with contextlib.suppress(Exception):  # moto refuses to set the same TTL twice
                dynamodb.update_time_to_live(
                    TableName=name, TimeToLiveSpecification={"Enabled": True, "AttributeName": ttl["AttributeName"]}
                )
        pitr = resolved.get("PointInTimeRecoverySpecification") or replica.get("PointInTimeRecoverySpecification")
        if pitr and pitr.get("PointInTimeRecoveryEnabled"):
            self._call(
                logical_id,
                "update_continuous_backups",
                dynamodb.update_continuous_backups,
                TableName=name,
                PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True},
            )
        attributes = {"Arn": description["TableArn"]}
        if description.get("LatestStreamArn"):
            attributes["StreamArn"] = description["LatestStreamArn"]
        return PhysicalResource(logical_id, resource_type, name, attributes, created=True)

    def _reconcile_table(self, logical_id: str, name: str, request: Mapping[str, Any]) -> dict[str, Any]:
        """An existing table (persisted state): add missing indexes, warn about what cannot change."""
        dynamodb = self.clients("dynamodb")
        existing: dict[str, Any] = dynamodb.describe_table(TableName=name)["Table"]
        if existing.get("KeySchema") != request["KeySchema"]:
            self._warn(f"{logical_id}: existing table {name} has another key schema; delete the local state")
        present = {i["IndexName"] for i in existing.get("GlobalSecondaryIndexes", [])}
        missing = [i for i in request.get("GlobalSecondaryIndexes", []) if i["IndexName"] not in present]
        if missing:
            self._call(
                logical_id,
                "update_table",
                dynamodb.update_table,
                TableName=name,
                AttributeDefinitions=request["AttributeDefinitions"],
                GlobalSecondaryIndexUpdates=[{"Create": i} for i in missing],
            )
            existing = dynamodb.describe_table(TableName=name)["Table"]
        return existing

    # ---- SNS / SQS ---------------------------------------------------------------------------------

    def _sns_topic(self, logical_id: str, props: dict[str, Any]) -> PhysicalResource:
        sns = self.clients("sns")
        name = self._name(logical_id, props, "AWS::SNS::Topic")
        fifo = bool(self._prop(logical_id, props, "FifoTopic", False))
        if fifo and not name.endswith(".fifo"):
            name = _shorten(name, 251, logical_id) + ".fifo"
        attributes: dict[str, str] = {}
        for key in ("DisplayName", "KmsMasterKeyId", "SignatureVersion", "TracingConfig"):
            value = self._prop(logical_id, props, key)
            if value is not None:
                attributes[key] = str(value)
        if fifo:
            attributes["FifoTopic"] = "true"
            if self._prop(logical_id, props, "ContentBasedDeduplication"):
                attributes["ContentBasedDeduplication"] = "true"
        request: dict[str, Any] = {"Name": name, "Attributes": attributes}
        tags = _tags(self._prop(logical_id, props, "Tags"))
        if tags:
            request["Tags"] = tags
        arn = self._call(logical_id, "create_topic", sns.create_topic, **request)["TopicArn"]
        for subscription in self._prop(logical_id, props, "Subscription", []) or []:
            self._call(
                logical_id,
                "subscribe",
                sns.subscribe,
                TopicArn=arn,
                Protocol=subscription["Protocol"],
                Endpoint=subscription["Endpoint"],
            )
        return PhysicalResource(logical_id, "AWS::SNS::Topic", arn, {"TopicArn": arn, "TopicName": name}, True)

    def _sns_subscription(self, logical_id: str, props: dict[str, Any]) -> PhysicalResource:
        sns = self.clients("sns")
        attributes: dict[str, str] = {}
        for key in ("FilterPolicy", "RedrivePolicy", "DeliveryPolicy"):
            value = self._prop(logical_id, props, key)
            if value is not None:
                attributes[key] = value if isinstance(value, str) else json.dumps(value)
        for key in ("FilterPolicyScope", "SubscriptionRoleArn"):
            value = self._prop(logical_id, props, key)
            if value is not None:
                attributes[key] = str(value)
        if self._prop(logical_id, props, "RawMessageDelivery") in (True, "true", "True"):
            attributes["RawMessageDelivery"] = "true"
        request: dict[str, Any] = {
            "TopicArn": self._prop(logical_id, props, "TopicArn"),
            "Protocol": self._prop(logical_id, props, "Protocol"),
            "Endpoint": self._prop(logical_id, props, "Endpoint"),
            "ReturnSubscriptionArn": True,
        }
        if attributes:
            request["Attributes"] = attributes
        arn = self._call(logical_id, "subscribe", sns.subscribe, **request)["SubscriptionArn"]
        return PhysicalResource(logical_id, "AWS::SNS::Subscription", arn, {"Arn": arn}, True)

    def _sqs_queue(self, logical_id: str, props: dict[str, Any]) -> PhysicalResource:
        sqs = self.clients("sqs")
        name = self._name(logical_id, props, "AWS::SQS::Queue")
        fifo = bool(self._prop(logical_id, props, "FifoQueue", False))
        if fifo and not name.endswith(".fifo"):
            name = _shorten(name, 75, logical_id) + ".fifo"
        attributes: dict[str, str] = {}
        for key in (
            "DelaySeconds",
            "MaximumMessageSize",
            "MessageRetentionPeriod",
            "ReceiveMessageWaitTimeSeconds",
            "VisibilityTimeout",
            "KmsMasterKeyId",
            "KmsDataKeyReusePeriodSeconds",
            "DeduplicationScope",
            "FifoThroughputLimit",
        ):
            value = self._prop(logical_id, props, key)
            if value is not None:
                attributes[key] = str(value)
        for key in ("FifoQueue", "ContentBasedDeduplication", "SqsManagedSseEnabled"):
            value = self._prop(logical_id, props, key)
            if value is not None:
                attributes[key] = "true" if value in (True, "true", "True") else "false"
        for key in ("RedrivePolicy", "RedriveAllowPolicy"):
            value = self._prop(logical_id, props, key)
            if value is not None:
                attributes[key] = value if isinstance(value, str) else json.dumps(value)
        if not fifo:
            attributes.pop("FifoQueue", None)
        tags = self._prop(logical_id, props, "Tags")
        request: dict[str, Any] = {"QueueName": name, "Attributes": attributes}
        if tags:
            request["tags"] = {t["Key"]: t["Value"] for t in _tags(tags)}
        try:
            url = sqs.create_queue(**request)["QueueUrl"]
        except Exception as exc:
            if "QueueAlreadyExists" not in _error_code(exc):
                raise ProvisionError(f"{self._where(logical_id)}: create_queue {name} failed: {exc}") from exc
            url = sqs.get_queue_url(QueueName=name)["QueueUrl"]
            self._call(
                logical_id, "set_queue_attributes", sqs.set_queue_attributes, QueueUrl=url, Attributes=attributes
            )
        arn = self._arn("sqs", name)
        return PhysicalResource(
            logical_id, "AWS::SQS::Queue", url, {"Arn": arn, "QueueName": name, "QueueUrl": url}, created=True
        )

    # ---- S3 ----------------------------------------------------------------------------------------

    def _s3_bucket(self, logical_id: str, props: dict[str, Any]) -> PhysicalResource:
        s3 = self.clients("s3")
        name = self._name(logical_id, props, "AWS::S3::Bucket")
        request: dict[str, Any] = {"Bucket": name}
        if self.region != "us-east-1":
            request["CreateBucketConfiguration"] = {"LocationConstraint": self.region}
        try:
            s3.create_bucket(**request)
        except Exception as exc:
            if _error_code(exc) != "BucketAlreadyOwnedByYou":
                raise ProvisionError(f"{self._where(logical_id)}: create_bucket {name} failed: {exc}") from exc
        versioning = self._prop(logical_id, props, "VersioningConfiguration")
        if versioning:
            self._call(
                logical_id,
                "put_bucket_versioning",
                s3.put_bucket_versioning,
                Bucket=name,
                VersioningConfiguration={"Status": versioning["Status"]},
            )
        encryption = self._prop(logical_id, props, "BucketEncryption")
        if encryption:
            self._call(
                logical_id,
                "put_bucket_encryption",
                s3.put_bucket_encryption,
                Bucket=name,
                ServerSideEncryptionConfiguration={
                    "Rules": [
                        {
                            "ApplyServerSideEncryptionByDefault": rule.get("ServerSideEncryptionByDefault", {}),
                            **({"BucketKeyEnabled": rule["BucketKeyEnabled"]} if "BucketKeyEnabled" in rule else {}),
                        }
                        for rule in encryption.get("ServerSideEncryptionConfiguration", [])
                    ]
                },
            )
        cors = self._prop(logical_id, props, "CorsConfiguration")
        if cors:
            rules = [
                {
                    k2: rule[k1]
                    for k1, k2 in (
                        ("AllowedHeaders", "AllowedHeaders"),
                        ("AllowedMethods", "AllowedMethods"),
                        ("AllowedOrigins", "AllowedOrigins"),
                        ("ExposedHeaders", "ExposeHeaders"),
                        ("Id", "ID"),
                        ("MaxAge", "MaxAgeSeconds"),
                    )
                    if k1 in rule
                }
                for rule in cors.get("CorsRules", [])
            ]
            self._call(
                logical_id, "put_bucket_cors", s3.put_bucket_cors, Bucket=name, CORSConfiguration={"CORSRules": rules}
            )
        notifications = self._prop(logical_id, props, "NotificationConfiguration")
        if notifications:
            self._put_notifications(logical_id, name, _bucket_notifications_from_cfn(notifications))
        tags = _tags(self._prop(logical_id, props, "Tags"))
        if tags:
            self._call(logical_id, "put_bucket_tagging", s3.put_bucket_tagging, Bucket=name, Tagging={"TagSet": tags})
        attributes = {
            "Arn": f"arn:aws:s3:::{name}",
            "DomainName": f"{name}.s3.{URL_SUFFIX}",
            "RegionalDomainName": f"{name}.s3.{self.region}.{URL_SUFFIX}",
            "DualStackDomainName": f"{name}.s3.dualstack.{self.region}.{URL_SUFFIX}",
            "WebsiteURL": f"http://{name}.s3-website-{self.region}.{URL_SUFFIX}",
        }
        return PhysicalResource(logical_id, "AWS::S3::Bucket", name, attributes, created=True)

    def _s3_bucket_notifications(self, logical_id: str, props: dict[str, Any]) -> PhysicalResource:
        """The CDK's `Custom::S3BucketNotifications`: its configuration is already in the S3 API shape."""
        bucket = self._prop(logical_id, props, "BucketName")
        configuration = self._prop(logical_id, props, "NotificationConfiguration", {}) or {}
        self._put_notifications(logical_id, bucket, configuration)
        return PhysicalResource(logical_id, "Custom::S3BucketNotifications", f"{bucket}-notifications", {}, True)

    def _put_notifications(self, logical_id: str, bucket: str, configuration: dict[str, Any]) -> None:
        self._call(
            logical_id,
            "put_bucket_notification_configuration",
            self.clients("s3").put_bucket_notification_configuration,
            Bucket=bucket,
            NotificationConfiguration=configuration,
            SkipDestinationValidation=True,
        )

    # ---- KMS ---------------------------------------------------------------------------------------

    def _kms_key(self, logical_id: str, props: dict[str, Any]) -> PhysicalResource:
        """A moto KMS key, found again on restart by its `sagestep:logical-id` tag."""
        kms = self.clients("kms")
        marker = f"{self.stack_name}/{logical_id}"
        key_id = self._find_key(marker)
        if key_id is None:
            tags = [{"TagKey": t["Key"], "TagValue": t["Value"]} for t in _tags(self._prop(logical_id, props, "Tags"))]
            request: dict[str, Any] = {
                "Description": str(self._prop(logical_id, props, "Description", f"{marker} (local)")),
                "Tags": [*tags, {"TagKey": "sagestep:logical-id", "TagValue": marker}],
            }
            for key in ("KeyUsage", "KeySpec"):
                value = self._prop(logical_id, props, key)
                if value:
                    request[key] = value
            key_id = self._call(logical_id, "create_key", kms.create_key, **request)["KeyMetadata"]["KeyId"]
            if self._prop(logical_id, props, "EnableKeyRotation"):
                self._call(logical_id, "enable_key_rotation", kms.enable_key_rotation, KeyId=key_id)
        arn = self._arn("kms", f"key/{key_id}")
        return PhysicalResource(logical_id, "AWS::KMS::Key", key_id, {"Arn": arn, "KeyId": key_id}, created=True)

    def _find_key(self, marker: str) -> str | None:
        kms = self.clients("kms")
        for page in kms.get_paginator("list_keys").paginate():
            for key in page.get("Keys", []):
                with contextlib.suppress(Exception):
                    tags = kms.list_resource_tags(KeyId=key["KeyId"]).get("Tags", [])
                    if {"TagKey": "sagestep:logical-id", "TagValue": marker} in tags:
                        return str(key["KeyId"])
        return None

    # ---- EventBridge -------------------------------------------------------------------------------

    def _event_bus(self, logical_id: str, props: dict[str, Any]) -> PhysicalResource:
        events = self.clients("events")
        name = self._name(logical_id, props, "AWS::Events::EventBus")
        try:
            arn = events.create_event_bus(Name=name)["EventBusArn"]
        except Exception as exc:
            if _error_code(exc) != "ResourceAlreadyExistsException":
                raise ProvisionError(f"{self._where(logical_id)}: create_event_bus {name} failed: {exc}") from exc
            arn = events.describe_event_bus(Name=name)["Arn"]
        return PhysicalResource(logical_id, "AWS::Events::EventBus", name, {"Arn": arn, "Name": name}, True)

    def _events_rule(self, logical_id: str, props: dict[str, Any]) -> PhysicalResource:
        events = self.clients("events")
        name = self._name(logical_id, props, "AWS::Events::Rule")
        bus = self._prop(logical_id, props, "EventBusName", "default") or "default"
        bus_name = bus.rsplit("/", 1)[-1] if str(bus).startswith("arn:") else bus
        request: dict[str, Any] = {"Name": name, "EventBusName": bus_name}
        pattern = self._prop(logical_id, props, "EventPattern")
        if pattern is not None:
            request["EventPattern"] = pattern if isinstance(pattern, str) else json.dumps(pattern)
        for key in ("ScheduleExpression", "State", "Description", "RoleArn"):
            value = self._prop(logical_id, props, key)
            if value is not None:
                request[key] = value
        arn = self._call(logical_id, "put_rule", events.put_rule, **request)["RuleArn"]
        targets = [
            {k: v for k, v in target.items() if k in _EVENT_TARGET_KEYS}
            for target in self._prop(logical_id, props, "Targets", []) or []
        ]
        for target in targets:
            if isinstance(target.get("Input"), (dict, list)):
                target["Input"] = json.dumps(target["Input"])
        if targets:
            self._call(logical_id, "put_targets", events.put_targets, Rule=name, EventBusName=bus_name, Targets=targets)
        ref = name if bus_name == "default" else f"{bus_name}|{name}"
        return PhysicalResource(logical_id, "AWS::Events::Rule", ref, {"Arn": arn}, created=True)

    # ---- Step Functions ----------------------------------------------------------------------------

    def _state_machine(self, logical_id: str, props: dict[str, Any]) -> PhysicalResource:
        sfn = self.clients("stepfunctions")
        name = self._name(logical_id, props, "AWS::StepFunctions::StateMachine")
        definition = self._definition(logical_id, props)
        substitutions = self._prop(logical_id, props, "DefinitionSubstitutions", {}) or {}
        for key, value in substitutions.items():
            replacement = TemplateResolver._as_string(value, self._where(logical_id, f"DefinitionSubstitutions.{key}"))
            definition = definition.replace("${" + key + "}", replacement)
        left = sorted(set(re.findall(r"\$\{([A-Za-z0-9_]+)\}", definition)))
        if left:
            raise ResolutionError(
                f"{self._where(logical_id, 'DefinitionSubstitutions')}: the definition uses "
                f"{', '.join('${' + k + '}' for k in left)} which DefinitionSubstitutions does not define"
            )
        try:
            json.loads(definition)
        except ValueError as exc:
            raise ProvisionError(f"{self._where(logical_id)}: the definition is not JSON: {exc}") from exc
        role_arn = self._prop(logical_id, props, "RoleArn")
        arn = self._arn("states", f"stateMachine:{name}")
        request: dict[str, Any] = {"name": name, "definition": definition, "roleArn": role_arn}
        machine_type = self._prop(logical_id, props, "StateMachineType")
        if machine_type:
            request["type"] = machine_type
        tracing = self._prop(logical_id, props, "TracingConfiguration")
        if tracing:
            request["tracingConfiguration"] = {"enabled": bool(tracing.get("Enabled"))}
        tags = _tags(self._prop(logical_id, props, "Tags"))
        if tags:
            request["tags"] = [{"key": t["Key"], "value": t["Value"]} for t in tags]
        try:
            current = sfn.describe_state_machine(stateMachineArn=arn)
        except Exception as exc:
            if _error_code(exc) != "StateMachineDoesNotExist":
                raise ProvisionError(f"{self._where(logical_id)}: describe_state_machine failed: {exc}") from exc
            arn = self._call(logical_id, "create_state_machine", sfn.create_state_machine, **request)["stateMachineArn"]
        else:
            if current["definition"] != definition or current["roleArn"] != role_arn:
                self._call(
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

    def _definition(self, logical_id: str, props: dict[str, Any]) -> str:
        if "DefinitionString" in props:
            return self.resolver.resolve_string(props["DefinitionString"], self._where(logical_id, "DefinitionString"))
        if "Definition" in props:
            return json.dumps(self._prop(logical_id, props, "Definition"))
        if "DefinitionS3Location" in props:
            location = self._prop(logical_id, props, "DefinitionS3Location")
            key = str(location["Key"])
            candidates = [f"asset.{key}", key] if self.asset_dir else []
            for candidate in candidates:
                path = Path(self.asset_dir or ".") / candidate
                if path.is_file():
                    return path.read_text()
            raise ResolutionError(
                f"{self._where(logical_id, 'DefinitionS3Location')}: the definition is the file asset {key}; "
                f"pass asset_dir (the cloud assembly folder, `synthesize_assembly(...).directory`)"
                + (f" - not found in {self.asset_dir}" if self.asset_dir else "")
            )
        raise ResolutionError(f"{self._where(logical_id)}: state machine without a definition")

    # ---- Lambda ------------------------------------------------------------------------------------

    def _lambda_function(self, logical_id: str, props: dict[str, Any]) -> PhysicalResource:
        name = self._name(logical_id, props, "AWS::Lambda::Function")
        arn = self._arn("lambda", f"function:{name}")
        if logical_id in self._custom_resource_providers:
            # The CDK's own handlers of custom resources (bucket notifications, auto-delete, ...): the local
            # runtime applies what it needs of them itself.
            self.result.skipped[logical_id] = "AWS::Lambda::Function"
            return PhysicalResource(logical_id, "AWS::Lambda::Function", name, {"Arn": arn})
        environment = self._prop(logical_id, props, "Environment", {}) or {}
        variables = {
            str(k): TemplateResolver._as_string(v, self._where(logical_id, f"Environment.Variables.{k}"))
            for k, v in (environment.get("Variables") or {}).items()
        }
        handler = self._prop(logical_id, props, "Handler")
        if not handler:
            self._warn(f"{logical_id}: Lambda function without Handler (image or inline code?)")
        self.result.functions[logical_id] = FunctionSpec(
            logical_id=logical_id,
            function_name=name,
            arn=arn,
            handler=str(handler or ""),
            environment=variables,
            runtime=self._prop(logical_id, props, "Runtime"),
            timeout_seconds=int(self._prop(logical_id, props, "Timeout", 3)),
            memory_mb=int(self._prop(logical_id, props, "MemorySize", 128)),
            construct_path=self.resources[logical_id].get("Metadata", {}).get("aws:cdk:path"),
            metadata=dict(self.resources[logical_id].get("Metadata", {})),
        )
        return PhysicalResource(logical_id, "AWS::Lambda::Function", name, {"Arn": arn})

    def _event_source_mapping(self, logical_id: str, props: dict[str, Any]) -> PhysicalResource:
        function = str(self._prop(logical_id, props, "FunctionName"))
        function_logical_id = next(
            (k for k, spec in self.result.functions.items() if function in (spec.function_name, spec.arn)), None
        )
        self.result.event_source_mappings[logical_id] = EventSourceMappingSpec(
            logical_id=logical_id,
            function_logical_id=function_logical_id,
            function_name=function.rsplit(":", 1)[-1] if function.startswith("arn:") else function,
            event_source_arn=str(self._prop(logical_id, props, "EventSourceArn", "")),
            batch_size=self._prop(logical_id, props, "BatchSize"),
            enabled=bool(self._prop(logical_id, props, "Enabled", True)),
        )
        local = _local_id(self.stack_name, logical_id, length=36)
        return PhysicalResource(logical_id, "AWS::Lambda::EventSourceMapping", local, {"Id": local})

    # ---- Cognito -----------------------------------------------------------------------------------

    def _user_pool(self, logical_id: str, props: dict[str, Any]) -> PhysicalResource:
        cognito = self.clients("cognito-idp")
        name = self._name(logical_id, props, "AWS::Cognito::UserPool")
        pool_id = None
        for page in cognito.get_paginator("list_user_pools").paginate(MaxResults=60):
            for pool in page.get("UserPools", []):
                if pool["Name"] == name:
                    pool_id = pool["Id"]
        if pool_id is None:
            request: dict[str, Any] = {"PoolName": name}
            for key in _USER_POOL_KEYS:
                value = self._prop(logical_id, props, key)
                if value is not None:
                    request[key] = value
            if "LambdaConfig" in props:
                self._warn(f"{logical_id}: user pool Lambda triggers are not run locally")
            pool_id = self._call(logical_id, "create_user_pool", cognito.create_user_pool, **request)["UserPool"]["Id"]
        arn = self._arn("cognito-idp", f"userpool/{pool_id}")
        provider = f"cognito-idp.{self.region}.{URL_SUFFIX}/{pool_id}"
        self.result.user_pools[logical_id] = UserPoolSpec(logical_id, pool_id, arn, name, {})
        attributes = {"Arn": arn, "ProviderName": provider, "ProviderURL": f"https://{provider}", "UserPoolId": pool_id}
        return PhysicalResource(logical_id, "AWS::Cognito::UserPool", pool_id, attributes, created=True)

    def _user_pool_client(self, logical_id: str, props: dict[str, Any]) -> PhysicalResource:
        cognito = self.clients("cognito-idp")
        pool_id = str(self._prop(logical_id, props, "UserPoolId"))
        name = self._name(logical_id, props, "AWS::Cognito::UserPoolClient")
        client: dict[str, Any] | None = None
        for page in cognito.get_paginator("list_user_pool_clients").paginate(UserPoolId=pool_id, MaxResults=60):
            for summary in page.get("UserPoolClients", []):
                if summary["ClientName"] == name:
                    client = cognito.describe_user_pool_client(UserPoolId=pool_id, ClientId=summary["ClientId"])[
                        "UserPoolClient"
                    ]
        if client is None:
            request: dict[str, Any] = {"UserPoolId": pool_id, "ClientName": name}
            for key in _USER_POOL_CLIENT_KEYS:
                value = self._prop(logical_id, props, key)
                if value is not None:
                    request[key] = value
            client = self._call(logical_id, "create_user_pool_client", cognito.create_user_pool_client, **request)[
                "UserPoolClient"
            ]
        assert client is not None
        client_id = str(client["ClientId"])
        for pool_logical_id, pool in self.result.user_pools.items():
            if pool.user_pool_id == pool_id:
                self.result.user_pools[pool_logical_id] = UserPoolSpec(
                    pool.logical_id, pool.user_pool_id, pool.arn, pool.name, {**pool.client_ids, logical_id: client_id}
                )
        attributes = {"ClientId": client_id, "Name": name, "ClientSecret": client.get("ClientSecret", "")}
        return PhysicalResource(logical_id, "AWS::Cognito::UserPoolClient", client_id, attributes, created=True)

    def _user_pool_group(self, logical_id: str, props: dict[str, Any]) -> PhysicalResource:
        cognito = self.clients("cognito-idp")
        name = str(self._prop(logical_id, props, "GroupName") or self._readable[logical_id])
        request: dict[str, Any] = {"GroupName": name, "UserPoolId": self._prop(logical_id, props, "UserPoolId")}
        for key in ("Description", "Precedence", "RoleArn"):
            value = self._prop(logical_id, props, key)
            if value is not None:
                request[key] = value
        try:
            cognito.create_group(**request)
        except Exception as exc:
            if _error_code(exc) != "GroupExistsException":
                raise ProvisionError(f"{self._where(logical_id)}: create_group {name} failed: {exc}") from exc
        return PhysicalResource(logical_id, "AWS::Cognito::UserPoolGroup", name, {}, created=True)

    def _user_pool_resource_server(self, logical_id: str, props: dict[str, Any]) -> PhysicalResource:
        cognito = self.clients("cognito-idp")
        identifier = str(self._prop(logical_id, props, "Identifier"))
        request: dict[str, Any] = {
            "UserPoolId": self._prop(logical_id, props, "UserPoolId"),
            "Identifier": identifier,
            "Name": self._prop(logical_id, props, "Name", identifier),
        }
        scopes = self._prop(logical_id, props, "Scopes")
        if scopes:
            request["Scopes"] = scopes
        try:
            cognito.describe_resource_server(UserPoolId=request["UserPoolId"], Identifier=identifier)
        except Exception:
            self._call(logical_id, "create_resource_server", cognito.create_resource_server, **request)
        return PhysicalResource(logical_id, "AWS::Cognito::UserPoolResourceServer", identifier, {}, created=True)

    # ---- SSM ---------------------------------------------------------------------------------------

    def _ssm_parameter(self, logical_id: str, props: dict[str, Any]) -> PhysicalResource:
        ssm = self.clients("ssm")
        name = self._name(logical_id, props, "AWS::SSM::Parameter")
        if not name.startswith("/") and "Name" not in props:
            name = f"/{self.stack_name}/{self._readable[logical_id]}"
        request: dict[str, Any] = {
            "Name": name,
            "Value": str(self._prop(logical_id, props, "Value")),
            "Type": self._prop(logical_id, props, "Type", "String"),
            "Overwrite": True,
        }
        for key in ("Description", "AllowedPattern", "Tier", "DataType"):
            value = self._prop(logical_id, props, key)
            if value is not None:
                request[key] = value
        self._call(logical_id, "put_parameter", ssm.put_parameter, **request)
        return PhysicalResource(
            logical_id, "AWS::SSM::Parameter", name, {"Type": request["Type"], "Value": request["Value"]}, True
        )

    # ---- API Gateway -------------------------------------------------------------------------------

    def _rest_api(self, api_logical_id: str) -> RestApiSpec:
        """The route table of a REST API, from its Resource parent chain and its Methods."""
        api_props = self.resources[api_logical_id].get("Properties", {})
        if "Body" in api_props or "BodyS3Location" in api_props:
            self._warn(f"{api_logical_id}: REST APIs defined by an OpenAPI body are not served locally")

        def of_api(resource_type: str) -> Iterator[tuple[str, dict[str, Any]]]:
            for logical_id, declaration in self.resources.items():
                props = declaration.get("Properties", {})
                if (
                    declaration.get("Type") == resource_type
                    and logical_id in self.result.resources
                    and logical_id not in self.result.skipped
                    and references(props.get("RestApiId")) == {api_logical_id}
                ):
                    yield logical_id, props

        paths: dict[str, str] = {}
        resources = dict(of_api("AWS::ApiGateway::Resource"))

        def path_of(parent: Any, where: str, seen: tuple[str, ...] = ()) -> str:
            if isinstance(parent, dict) and "Fn::GetAtt" in parent:
                return ""  # the root resource
            if isinstance(parent, dict) and parent.get("Ref") in resources:
                resource_id = parent["Ref"]
                if resource_id in seen:
                    raise TemplateError(f"{where}: resource cycle {seen}")
                if resource_id not in paths:
                    props = resources[resource_id]
                    part = self.resolver.resolve_string(props["PathPart"], self._where(resource_id, "PathPart"))
                    paths[resource_id] = path_of(props["ParentId"], where, (*seen, resource_id)) + "/" + part
                return paths[resource_id]
            raise ResolutionError(f"{where}: cannot follow the resource parent {parent!r}")

        authorizers = {
            logical_id: self._cognito_authorizer(logical_id, props)
            for logical_id, props in of_api("AWS::ApiGateway::Authorizer")
        }
        validating_parameters = {
            logical_id
            for logical_id, props in of_api("AWS::ApiGateway::RequestValidator")
            if self._prop(logical_id, props, "ValidateRequestParameters")
        }
        routes: list[Route] = []
        for logical_id, props in of_api("AWS::ApiGateway::Method"):
            where = self._where(logical_id)
            path = path_of(props["ResourceId"], f"{where}.Properties.ResourceId") or "/"
            authorization_type = str(self._prop(logical_id, props, "AuthorizationType", "NONE"))
            authorizer_ref = references(props.get("AuthorizerId"))
            authorizer = next((authorizers[a] for a in authorizer_ref if a in authorizers), None)
            if authorization_type == "COGNITO_USER_POOLS" and (authorizer is None or not authorizer.user_pool_ids):
                self._warn(f"{logical_id}: COGNITO_USER_POOLS method without a usable Cognito authorizer")
            if authorization_type in ("AWS_IAM", "CUSTOM"):
                self._warn(f"{logical_id}: {authorization_type} authorization is not enforced locally")
            required: tuple[tuple[str, str], ...] = ()
            if references(props.get("RequestValidatorId")) & validating_parameters:
                required = tuple(
                    (parts[2], parts[3])
                    for key, value in (self._prop(logical_id, props, "RequestParameters", {}) or {}).items()
                    if value in (True, "true") and len(parts := key.split(".", 3)) == 4
                )
            if props.get("RequestModels") and props.get("RequestValidatorId"):
                self._warn(f"{logical_id}: request body models are not validated locally")
            routes.append(
                Route(
                    method=str(self._prop(logical_id, props, "HttpMethod")).upper(),
                    path=path,
                    authorization_type=authorization_type,
                    integration=self._integration(logical_id, props),
                    authorizer=authorizer if authorization_type == "COGNITO_USER_POOLS" else None,
                    authorization_scopes=tuple(self._prop(logical_id, props, "AuthorizationScopes", []) or []),
                    required_parameters=required,
                    resource_id=str(self.resolver.resolve(props["ResourceId"], f"{where}.Properties.ResourceId")),
                    method_logical_id=logical_id,
                )
            )
        stage_name = next(
            (str(self.result.resources[k].ref) for k, _ in of_api("AWS::ApiGateway::Stage")),
            "prod",
        )
        responses: dict[str, GatewayResponseSpec] = {}
        for logical_id, props in of_api("AWS::ApiGateway::GatewayResponse"):
            response_type = str(self._prop(logical_id, props, "ResponseType"))
            status = self._prop(logical_id, props, "StatusCode")
            headers = tuple(
                (key.rsplit(".", 1)[-1], str(value).strip("'"))
                for key, value in (self._prop(logical_id, props, "ResponseParameters", {}) or {}).items()
                if key.startswith("gatewayresponse.header.") and str(value).startswith("'")
            )
            responses[response_type] = GatewayResponseSpec(response_type, int(status) if status else None, headers)
        routes.sort(key=lambda r: (r.path, r.method))
        return RestApiSpec(
            logical_id=api_logical_id,
            api_id=str(self.result.resources[api_logical_id].ref),
            name=str(self._prop(api_logical_id, api_props, "Name", api_logical_id)),
            stage_name=stage_name,
            routes=tuple(routes),
            binary_media_types=tuple(self._prop(api_logical_id, api_props, "BinaryMediaTypes", []) or []),
            gateway_responses=responses,
        )

    def _cognito_authorizer(self, logical_id: str, props: dict[str, Any]) -> CognitoAuthorizerSpec:
        authorizer_type = self._prop(logical_id, props, "Type")
        source = str(self._prop(logical_id, props, "IdentitySource", "method.request.header.Authorization"))
        header = source.split("method.request.header.", 1)[1] if "method.request.header." in source else "Authorization"
        if authorizer_type != "COGNITO_USER_POOLS":
            return CognitoAuthorizerSpec(
                logical_id, str(self._prop(logical_id, props, "Name", logical_id)), (), (), header
            )
        arns = tuple(str(a) for a in self._prop(logical_id, props, "ProviderARNs", []) or [])
        return CognitoAuthorizerSpec(
            logical_id=logical_id,
            name=str(self._prop(logical_id, props, "Name", logical_id)),
            user_pool_arns=arns,
            user_pool_ids=tuple(arn.rsplit("/", 1)[-1] for arn in arns),
            identity_header=header,
            identity_validation_expression=self._prop(logical_id, props, "IdentityValidationExpression"),
        )

    def _integration(self, logical_id: str, props: dict[str, Any]) -> IntegrationSpec:
        integration = props.get("Integration", {})
        integration_type = str(
            self.resolver.resolve(integration.get("Type", "MOCK"), self._where(logical_id, "Integration"))
        )
        if integration_type == "AWS_PROXY":
            functions = [
                r
                for r in references(integration.get("Uri"))
                if self.resources.get(r, {}).get("Type") == "AWS::Lambda::Function"
            ]
            if len(functions) == 1:
                return IntegrationSpec("AWS_PROXY", function_logical_id=functions[0])
            uri = self._try(lambda: self._prop(logical_id, {"Uri": integration.get("Uri")}, "Uri"), "")
            for spec in self.result.functions.values():
                if spec.arn in str(uri):
                    return IntegrationSpec("AWS_PROXY", function_logical_id=spec.logical_id)
            self._warn(f"{logical_id}: AWS_PROXY integration target {uri!r} is not a function of this stack")
            return IntegrationSpec("AWS_PROXY")
        if integration_type == "MOCK":
            responses = self.resolver.resolve(
                integration.get("IntegrationResponses", []), self._where(logical_id, "Integration.IntegrationResponses")
            )
            default = next((r for r in responses if not r.get("SelectionPattern")), responses[0] if responses else {})
            headers = tuple(
                (key.rsplit(".", 1)[-1], str(value).strip("'"))
                for key, value in (default.get("ResponseParameters") or {}).items()
                if key.startswith("method.response.header.") and str(value).startswith("'")
            )
            return IntegrationSpec("MOCK", mock_status=int(default.get("StatusCode", 200)), mock_headers=headers)
        self._warn(f"{logical_id}: {integration_type} integrations are not served locally")
        return IntegrationSpec(integration_type)

    # ---- outputs -----------------------------------------------------------------------------------

    def _outputs(self) -> None:
        for name, output in self.template.get("Outputs", {}).items():
            if "Condition" in output and not self.resolver.condition(output["Condition"]):
                continue
            try:
                self.result.outputs[name] = self.resolver.resolve(output["Value"], f"Outputs.{name}.Value")
            except ResolutionError as exc:
                self._warn(f"output {name} has no local value: {exc}")


def _bucket_notifications_from_cfn(configuration: Mapping[str, Any]) -> dict[str, Any]:
    """CloudFormation's `NotificationConfiguration` of a bucket in the shape of the S3 API."""

    def filter_of(item: Mapping[str, Any]) -> dict[str, Any]:
        rules = item.get("Filter", {}).get("S3Key", {}).get("Rules", [])
        return {"Filter": {"Key": {"FilterRules": rules}}} if rules else {}

    converted: dict[str, Any] = {}
    for cfn_key, api_key, target_key, api_target in (
        ("QueueConfigurations", "QueueConfigurations", "Queue", "QueueArn"),
        ("TopicConfigurations", "TopicConfigurations", "Topic", "TopicArn"),
        ("LambdaConfigurations", "LambdaFunctionConfigurations", "Function", "LambdaFunctionArn"),
    ):
        items = configuration.get(cfn_key) or []
        if items:
            converted[api_key] = [
                {api_target: item[target_key], "Events": [item["Event"]], **filter_of(item)} for item in items
            ]
    if (configuration.get("EventBridgeConfiguration") or {}).get("EventBridgeEnabled"):
        converted["EventBridgeConfiguration"] = {}
    return converted


__all__: Sequence[str] = (
    "API_GATEWAY_TYPES",
    "CLI_DEFAULT_CONTEXT",
    "NO_VALUE",
    "SKIPPED_TYPES",
    "CloudAssembly",
    "CognitoAuthorizerSpec",
    "EventSourceMappingSpec",
    "FunctionSpec",
    "GatewayResponseSpec",
    "IntegrationSpec",
    "PhysicalResource",
    "ProvisionError",
    "ProvisionedStack",
    "ResolutionError",
    "RestApiSpec",
    "Route",
    "SynthError",
    "TemplateError",
    "TemplateResolver",
    "UserPoolSpec",
    "boto3_client_factory",
    "dependency_order",
    "provision",
    "readable_id",
    "references",
    "synthesize",
    "synthesize_assembly",
)
