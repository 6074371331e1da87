"""Static checks of every ASL definition in statemachines/: structure, reachability, failure handling."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

DEFINITIONS = sorted((Path(__file__).resolve().parents[2] / "statemachines").glob("*.asl.json"))
FAILURE_ENTRY = "ExplainFailure"


def load(path: Path) -> dict[str, Any]:
    return dict(json.loads(path.read_text()))


def successors(state: dict[str, Any]) -> set[str]:
    names = {state.get("Next"), state.get("Default")}
    names |= {c.get("Next") for c in state.get("Catch", [])}
    names |= {c.get("Next") for c in state.get("Choices", [])}
    return {n for n in names if n}


@pytest.fixture(params=DEFINITIONS, ids=[p.name for p in DEFINITIONS])
def definition(request: pytest.FixtureRequest) -> dict[str, Any]:
    return load(request.param)


def test_there_are_definitions() -> None:
    assert DEFINITIONS, "statemachines/ has no *.asl.json"


def test_every_transition_names_an_existing_state(definition: dict[str, Any]) -> None:
    states = definition["States"]
    assert definition["StartAt"] in states
    for name, state in states.items():
        missing = successors(state) - set(states)
        assert not missing, f"{name} points to missing states {missing}"


def test_every_state_is_reachable(definition: dict[str, Any]) -> None:
    states = definition["States"]
    seen, todo = set(), [definition["StartAt"]]
    while todo:
        name = todo.pop()
        if name not in seen:
            seen.add(name)
            todo.extend(successors(states[name]))
    assert set(states) - seen == set()


def test_every_non_terminal_state_continues(definition: dict[str, Any]) -> None:
    for name, state in definition["States"].items():
        if state["Type"] in {"Succeed", "Fail"}:
            continue
        assert successors(state) or state.get("End"), f"{name} neither continues nor ends"


def test_every_task_retries_transient_errors(definition: dict[str, Any]) -> None:
    for name, state in definition["States"].items():
        if state["Type"] == "Task":
            assert state.get("Retry"), f"{name} has no Retry"
            for retrier in state["Retry"]:
                # A failed job must fail the run, not be started again.
                assert "States.TaskFailed" not in retrier["ErrorEquals"], name
                assert "States.ALL" not in retrier["ErrorEquals"], name


def test_every_work_task_is_caught_into_the_failure_path(definition: dict[str, Any]) -> None:
    states = definition["States"]
    if FAILURE_ENTRY not in states:
        pytest.skip("no failure path in this definition")
    failure_path, todo = set(), [FAILURE_ENTRY]
    while todo:
        name = todo.pop()
        if name not in failure_path:
            failure_path.add(name)
            todo.extend(successors(states[name]))
    notify = {n for n, s in states.items() if "sns:publish" in s.get("Resource", "")}
    for name, state in states.items():
        if state["Type"] != "Task" or name in failure_path or name in notify:
            continue
        catchers = state.get("Catch", [])
        assert any("States.ALL" in c["ErrorEquals"] for c in catchers), f"{name} can fail silently"
    # And the failure path records ERROR, notifies and ends in a Fail state (never a silent success).
    assert any(states[n]["Type"] == "Fail" for n in failure_path)
    assert not any(states[n]["Type"] == "Succeed" for n in failure_path)
    assert any('"S": "ERROR"' in json.dumps(states[n]) for n in failure_path)
    assert failure_path & notify


def test_placeholders_are_simple_names(definition: dict[str, Any]) -> None:
    text = json.dumps(definition)
    for placeholder in re.findall(r"\$\{([^}]*)\}", text):
        assert re.fullmatch(r"[A-Za-z][A-Za-z0-9]*", placeholder), placeholder
