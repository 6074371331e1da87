"""A claimed job record expires unless its execution starts: the submission gives it `expiresAt` (the table's TTL
attribute) and the execution's first status write removes it, so a started job is never removed.

The second test runs the deployed training definition (status writes expanded, as the template holds it) in moto's
Step Functions interpreter, cut after its first status write: every state but its Choices and status writes is
replaced by a Succeed state, so the run ends where the first work task would start.
"""

from __future__ import annotations

import json
import time
from typing import Any

import boto3
import pytest
from moto.core.config import default_user_config

from sagestep_service.platform.submission import UNSTARTED_JOB_TTL_SECONDS
from tests.unit.conftest import Backend

TERMINAL = {"SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED"}


def body(backend: Backend) -> dict[str, Any]:
    return {"dataUri": f"s3://{backend.data_bucket}/users/alice/housing/train.csv", "target": "price"}


def run_up_to_the_first_work_task(backend: Backend, monkeypatch: pytest.MonkeyPatch) -> None:
    """Replace the provisioned state machine by its deployed definition cut after the status writes, executed."""
    sfn = boto3.client("stepfunctions")
    deployed = sfn.describe_state_machine(stateMachineArn=backend.state_machine_arn)
    definition = json.loads(deployed["definition"])
    for name, state in definition["States"].items():
        if state["Type"] != "Choice" and not state.get("Resource", "").endswith(":dynamodb:updateItem"):
            definition["States"][name] = {"Type": "Succeed"}
    # Executing state machines is moto's other backend: the same name there gives the same ARN.
    monkeypatch.setitem(default_user_config, "stepfunctions", {"execute_state_machine": True})
    sfn.create_state_machine(name=deployed["name"], definition=json.dumps(definition), roleArn=deployed["roleArn"])


def entered_states(execution_arn: str) -> list[str]:
    sfn = boto3.client("stepfunctions")
    deadline = time.monotonic() + 30
    while (status := sfn.describe_execution(executionArn=execution_arn)["status"]) not in TERMINAL:
        assert time.monotonic() < deadline, f"still {status}"
        time.sleep(0.05)
    assert status == "SUCCEEDED"
    events = sfn.get_execution_history(executionArn=execution_arn)["events"]
    return [e["stateEnteredEventDetails"]["name"] for e in events if e["type"].endswith("StateEntered")]


def test_a_claimed_record_expires_a_day_after_its_submission(backend: Backend) -> None:
    # When a job is submitted
    before = int(time.time())
    job_id = backend.call("POST", "/model", body=body(backend)).body["jobId"]
    # Then its record carries the TTL attribute, a day ahead
    record = backend.store.get(job_id)
    assert record is not None
    assert record["status"] == "SUBMITTED"
    assert before + UNSTARTED_JOB_TTL_SECONDS <= record["expiresAt"] <= int(time.time()) + UNSTARTED_JOB_TTL_SECONDS
    assert UNSTARTED_JOB_TTL_SECONDS == 24 * 60 * 60


@pytest.mark.parametrize(
    ("route", "entered", "status"),
    [
        ("/model", ["ChooseMode", "RecordTrainingModel", "TrainModel"], "TRAINING_MODEL"),
        ("/hpo", ["ChooseMode", "RecordHpoRunning", "ChooseHpoStrategy", "RunHpoInContainer"], "HPO_RUNNING"),
    ],
)
def test_the_first_status_write_of_an_execution_removes_the_expiry(
    backend: Backend, monkeypatch: pytest.MonkeyPatch, route: str, entered: list[str], status: str
) -> None:
    # Given the training state machine, run up to its first work task
    run_up_to_the_first_work_task(backend, monkeypatch)
    # When a job is submitted and its execution runs
    response = backend.call("POST", route, body=body(backend))
    assert response.status == 202, response.body
    job_id = response.body["jobId"]
    execution_arn = backend.state_machine_arn.replace(":stateMachine:", ":execution:") + f":{job_id}"
    # Then the first status write ran (and was not caught)
    assert entered_states(execution_arn) == entered
    # And the record has the status, its history entry, the execution and no TTL any more
    record = backend.store.get(job_id)
    assert record is not None
    assert "expiresAt" not in record
    assert record["status"] == status
    assert [entry["status"] for entry in record["history"]] == ["SUBMITTED", status]
    assert record["executionArn"] == execution_arn
