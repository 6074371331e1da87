"""Synthesis of the CDK app into a cloud assembly, cached by a hash of the app's sources."""

from __future__ import annotations

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
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sagestep.local.cloudformation.errors import SynthError

logger = logging.getLogger(__name__)

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
