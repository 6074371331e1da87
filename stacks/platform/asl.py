"""The state machine definitions as deployed: `statemachines/<name>.asl.json` with its `sagestep:*` states expanded.

An ASL source may use the platform's own Task resources (today `sagestep:recordStatus`, the status write of
`status_writes.py`); everything else is plain ASL and passes through unchanged. The construct inlines the expanded
definition (`DefinitionBody.from_string`, so cfn-lint validates it) and tests read the same one: what they check
is what Step Functions and the local runtime run.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from stacks.platform import constants, status_writes

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
    branches and Map processors too."""
    expanded = dict(definition)
    expanded["States"] = {name: _expand_state(name, state) for name, state in definition["States"].items()}
    return expanded


def _expand_state(name: str, state: dict[str, Any]) -> dict[str, Any]:
    resource = state.get("Resource", "")
    if state.get("Type") == "Task" and resource.startswith(PREFIX):
        if resource != status_writes.RESOURCE:
            raise ValueError(f"{name}: unknown resource {resource!r} (known: {status_writes.RESOURCE})")
        return status_writes.expand(name, state)
    state = dict(state)
    if "Branches" in state:
        state["Branches"] = [expand(branch) for branch in state["Branches"]]
    for key in ("Iterator", "ItemProcessor"):
        if key in state:
            state[key] = expand(state[key])
    return state
