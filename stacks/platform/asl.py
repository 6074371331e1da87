"""The state machine definitions as deployed: `statemachines/<name>.asl.json` with its `sagestep:*` states expanded.

An ASL source may use the platform's own Task resources: `sagestep:recordStatus` (the status write of
`status_writes.py`) and `sagestep:sagemaker:<action>` (a SageMaker call that tells its errors apart,
`sagemaker_calls.py`, which adds the states it needs beside it); everything else is plain ASL and passes through
unchanged. The construct inlines the expanded
definition (`DefinitionBody.from_string`, so cfn-lint validates it) and tests read the same one: what they check
is what Step Functions and the local runtime run.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from stacks.platform import constants, sagemaker_calls, status_writes

#: Resource prefix of the states expanded at synthesis (never a real Step Functions resource).
PREFIX = "sagestep:"


def source(name: str) -> Path:
    """The ASL source of the workflow ``name``."""
    return constants.STATEMACHINES_DIR / f"{name}.asl.json"


def load_definition(name: str) -> dict[str, Any]:
    """The deployed definition of the workflow ``name`` (placeholders `${...}` left for the substitutions)."""
    return expand(json.loads(source(name).read_text(encoding="utf-8")))


def definition_string(name: str) -> str:
    """`load_definition` as the JSON text the template inlines."""
    return json.dumps(load_definition(name), indent=2)


def expand(definition: dict[str, Any]) -> dict[str, Any]:
    """``definition`` with every `sagestep:*` state replaced by the ASL it stands for, in nested Parallel
    branches and Map processors too. A state the expansion adds may not take the name of another state."""
    expanded = dict(definition)
    states: dict[str, Any] = {}
    for name, state in definition["States"].items():
        for new_name, new_state in _expand_state(name, state).items():
            if new_name in states or (new_name != name and new_name in definition["States"]):
                raise ValueError(f"{name}: its expansion adds a state {new_name!r}, a name already in use")
            states[new_name] = new_state
    expanded["States"] = states
    return expanded


def _expand_state(name: str, state: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """``{name: deployed state}``, and the states a `sagestep:*` state adds beside it."""
    resource = state.get("Resource", "")
    if state.get("Type") == "Task" and resource.startswith(PREFIX):
        if resource == status_writes.RESOURCE:
            return {name: status_writes.expand(name, state)}
        if resource.startswith(sagemaker_calls.RESOURCE_PREFIX):
            return sagemaker_calls.expand(name, state)
        known = f"{status_writes.RESOURCE}, {sagemaker_calls.RESOURCE_PREFIX}<action>"
        raise ValueError(f"{name}: unknown resource {resource!r} (known: {known})")
    state = dict(state)
    if "Branches" in state:
        state["Branches"] = [expand(branch) for branch in state["Branches"]]
    for key in ("Iterator", "ItemProcessor"):
        if key in state:
            state[key] = expand(state[key])
    return {name: state}
