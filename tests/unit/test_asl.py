"""Static checks of every ASL definition in statemachines/, as deployed (`stacks.platform.asl.load_definition`:
status writes and SageMaker calls expanded): structure, reachability, failure handling, status writes, SageMaker
error handling."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from stacks.platform import asl, constants, sagemaker_calls, status_writes

SOURCES = sorted(constants.STATEMACHINES_DIR.glob("*.asl.json"))
NAMES = [path.name.removesuffix(".asl.json") for path in SOURCES]
FAILURE_ENTRY = "ExplainFailure"


def successors(state: dict[str, Any]) -> set[str]:
    names = {state.get("Next"), state.get("Default")}
    names |= {c.get("Next") for c in state.get("Catch", [])}
    names |= {c.get("Next") for c in state.get("Choices", [])}
    return {n for n in names if n}


def writes_status(state: dict[str, Any]) -> bool:
    """A DynamoDB update of a job record's `status` (what `sagestep:recordStatus` expands into)."""
    parameters = state.get("Parameters", {})
    return (
        "dynamodb:updateItem" in state.get("Resource", "")
        and "status" in parameters.get("ExpressionAttributeNames", {}).values()
    )


@pytest.fixture(params=NAMES)
def definition(request: pytest.FixtureRequest) -> dict[str, Any]:
    return asl.load_definition(request.param)


@pytest.fixture(params=SOURCES, ids=NAMES)
def source(request: pytest.FixtureRequest) -> dict[str, Any]:
    return dict(json.loads(request.param.read_text(encoding="utf-8")))


def test_there_are_definitions() -> None:
    assert SOURCES, "statemachines/ has no *.asl.json"


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


def is_sagemaker_call(state: dict[str, Any]) -> bool:
    """A Task of the optimised SageMaker integration (what `sagestep:sagemaker:<action>` expands into)."""
    return state.get("Resource", "").startswith(sagemaker_calls.INTEGRATION_PREFIX)


def test_every_task_retries_transient_errors(definition: dict[str, Any]) -> None:
    for name, state in definition["States"].items():
        if state["Type"] == "Task":
            # A SageMaker call's transient errors are told apart by their cause, after its Catch (next test).
            assert state.get("Retry") or is_sagemaker_call(state), f"{name} has no Retry"
            for retrier in state.get("Retry", []):
                # A failed job must fail the run, not be started again.
                assert "States.TaskFailed" not in retrier["ErrorEquals"], name
                assert "States.ALL" not in retrier["ErrorEquals"], name


def test_no_sagemaker_client_error_is_retried_by_its_name(definition: dict[str, Any]) -> None:
    # Every SageMaker client error has this one name: a Retry on it retries bad requests with the throttled ones.
    for name, state in definition["States"].items():
        for retrier in state.get("Retry", []):
            assert sagemaker_calls.CLIENT_ERROR not in retrier["ErrorEquals"], f"{name} retries every SageMaker error"
        if is_sagemaker_call(state):
            assert "Retry" not in state, f"{name}: a SageMaker call is retried after its cause is read, not by Retry"


def test_every_sagemaker_client_error_is_told_apart_by_its_cause(definition: dict[str, Any]) -> None:
    states = definition["States"]
    for name, state in states.items():
        if not is_sagemaker_call(state):
            continue
        first, *rest = state["Catch"]
        assert first["ErrorEquals"] == [sagemaker_calls.CLIENT_ERROR], name
        choice = states[first["Next"]]
        assert choice["Type"] == "Choice", name
        rules = json.dumps(choice["Choices"])
        assert f'"Variable": "{first["ResultPath"]}.Cause", "StringMatches"' in rules, name
        # Whatever is neither transient nor done already goes into the same failure path as any other error.
        rejected = states[choice["Default"]]
        failure = next(c for c in rest if "States.ALL" in c["ErrorEquals"])
        assert (rejected["InputPath"], rejected["ResultPath"], rejected["Next"]) == (
            first["ResultPath"],
            failure["ResultPath"],
            failure["Next"],
        ), name


def test_sagemaker_is_called_only_through_the_shared_call(source: dict[str, Any]) -> None:
    for name, state in source["States"].items():
        assert not is_sagemaker_call(state), f"{name} calls SageMaker by hand: use {sagemaker_calls.RESOURCE_PREFIX}*"


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
    # And the failure path records a failed status (ERROR; labeling: the reference's FAILED), notifies and ends in a
    # Fail state (never a silent success).
    assert any(states[n]["Type"] == "Fail" for n in failure_path)
    assert not any(states[n]["Type"] == "Succeed" for n in failure_path)
    assert any(
        '"S": "ERROR"' in json.dumps(states[n]) or '"S": "FAILED"' in json.dumps(states[n]) for n in failure_path
    )
    assert failure_path & notify


def test_placeholders_are_simple_names(definition: dict[str, Any]) -> None:
    text = json.dumps(definition)
    for placeholder in re.findall(r"\$\{([^}]*)\}", text):
        assert re.fullmatch(r"[A-Za-z][A-Za-z0-9]*", placeholder), placeholder


def test_no_platform_resource_is_left_unexpanded(definition: dict[str, Any]) -> None:
    # (Tag keys such as sagestep:job-id may appear in the deployed ASL; Resources may not.)
    resources = re.findall(r'"Resource": "([^"]*)"', json.dumps(definition))
    assert resources
    assert [resource for resource in resources if resource.startswith(asl.PREFIX)] == []


def test_statuses_are_written_only_through_the_shared_status_write(source: dict[str, Any]) -> None:
    # One way to write a status, so that every write keeps history, updatedAt and the TTL removal right.
    for name, state in source["States"].items():
        assert not writes_status(state), f"{name} writes a status by hand: use {status_writes.RESOURCE}"


def test_every_status_write_removes_the_ttl_of_an_unstarted_job(definition: dict[str, Any]) -> None:
    writes = {name: state for name, state in definition["States"].items() if writes_status(state)}
    assert writes
    for name, state in writes.items():
        parameters = state["Parameters"]
        assert parameters["UpdateExpression"].endswith(" REMOVE #expiresAt"), name
        assert parameters["ExpressionAttributeNames"]["#expiresAt"] == constants.JOBS_TABLE_TTL_ATTRIBUTE, name


def test_every_path_writes_a_status_before_any_other_task(definition: dict[str, Any]) -> None:
    # The first write removes the record's TTL: until then a started job could still expire.
    states, seen, todo = definition["States"], set(), [definition["StartAt"]]
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        state = states[name]
        if state["Type"] == "Task":
            assert writes_status(state), f"{name} runs before the execution's first status write"
        elif state["Type"] in {"Choice", "Pass", "Wait"}:
            todo.extend(successors(state))
