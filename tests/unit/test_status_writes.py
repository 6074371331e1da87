"""The shared status write (`stacks/platform/status_writes.py`): what a `sagestep:recordStatus` state expands into,
and the states it refuses."""

from __future__ import annotations

import re
from typing import Any

import pytest

from stacks.platform import asl, status_writes
from stacks.platform.status_writes import StatusWriteError

CATCH = [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.failure", "Next": "ExplainFailure"}]


def record_status(**parameters: Any) -> dict[str, Any]:
    return {
        "Type": "Task",
        "Resource": status_writes.RESOURCE,
        "Parameters": parameters,
        "Next": "Work",
        "Catch": CATCH,
    }


def test_a_status_write_expands_into_one_update_of_the_job_record() -> None:
    # Given a status write that also sets a resource name and a literal
    state = record_status(
        status="CREATING_MODEL", set={"resources.modelName.$": "$.plan.model.ModelName", "stage": "model"}
    )
    # When it is expanded
    expanded = status_writes.expand("RecordCreatingModel", state)
    # Then it is a DynamoDB update of the record $.jobId that must exist, retried, passing its input through
    assert expanded["Resource"] == "arn:aws:states:::dynamodb:updateItem"
    assert expanded["Comment"] == "Job status -> CREATING_MODEL"
    assert expanded["ResultPath"] is None
    assert expanded["Retry"] == status_writes.RETRY
    parameters = expanded["Parameters"]
    assert parameters["TableName"] == "${JobsTableName}"
    assert parameters["Key"] == {"jobId": {"S.$": "$.jobId"}}
    assert parameters["ConditionExpression"] == "attribute_exists(jobId)"
    # And it sets status, updatedAt, the history entry and the fields, and removes the TTL
    assert parameters["UpdateExpression"] == (
        "SET #status = :status, #updatedAt = :now, #history = list_append(if_not_exists(#history, :empty), :entry), "
        "#resources.#modelName = :v0, #stage = :v1 REMOVE #expiresAt"
    )
    assert parameters["ExpressionAttributeNames"] == {
        "#status": "status",
        "#updatedAt": "updatedAt",
        "#history": "history",
        "#resources": "resources",
        "#modelName": "modelName",
        "#stage": "stage",
        "#expiresAt": "expiresAt",
    }
    entered = {"S.$": "$$.State.EnteredTime"}
    assert parameters["ExpressionAttributeValues"] == {
        ":status": {"S": "CREATING_MODEL"},
        ":now": entered,
        ":empty": {"L": []},
        ":entry": {"L": [{"M": {"status": {"S": "CREATING_MODEL"}, "at": entered}}]},
        ":v0": {"S.$": "$.plan.model.ModelName"},
        ":v1": {"S": "model"},
    }
    # And where it goes stays as written
    assert (expanded["Next"], expanded["Catch"]) == ("Work", CATCH)


def test_a_status_write_that_ends_the_execution_keeps_its_end() -> None:
    state = {"Type": "Task", "Resource": status_writes.RESOURCE, "Parameters": {"status": "DONE"}, "End": True}
    expanded = status_writes.expand("RecordDone", state)
    assert expanded["End"] is True
    assert "Next" not in expanded and "Catch" not in expanded


@pytest.mark.parametrize(
    ("state", "problem"),
    [
        ({**record_status(status="READY"), "Retry": []}, "takes no ['Retry']"),
        ({**record_status(status="READY"), "ResultPath": "$.x"}, "takes no ['ResultPath']"),
        ({**record_status(status="READY"), "End": True}, "exactly one of Next and End"),
        (record_status(), "status must be"),
        (record_status(status="ready"), "status must be"),
        (record_status(status="READY", extra=1), "Parameters must be"),
        (record_status(status="READY", set={"status": "X"}), "written by every status write"),
        (record_status(status="READY", set={"expiresAt": "1"}), "written by every status write"),
        (record_status(status="READY", set={"history.$": "$.h"}), "written by every status write"),
        (record_status(status="READY", set={"count": 3}), "must be a string"),
        (record_status(status="READY", set={"a-b": "x"}), "not a dotted path"),
        (record_status(status="READY", set={"resources": "x", "resources.a": "y"}), "overlaps"),
        (record_status(status="READY", set=["x"]), "set must be an object"),
    ],
)
def test_a_status_write_the_expansion_cannot_make_valid_is_refused(state: dict[str, Any], problem: str) -> None:
    with pytest.raises(StatusWriteError, match=rf"^RecordX: .*{re.escape(problem)}"):
        status_writes.expand("RecordX", state)


def test_status_writes_in_parallel_branches_and_map_processors_are_expanded() -> None:
    # Given a definition with status writes at the top, in a Parallel branch and in a Map's processor
    write = {"Type": "Task", "Resource": status_writes.RESOURCE, "Parameters": {"status": "INNER"}, "End": True}
    inner = {"StartAt": "RecordInner", "States": {"RecordInner": write}}
    definition = {
        "StartAt": "RecordOuter",
        "States": {
            "RecordOuter": record_status(status="OUTER"),
            "Fan": {"Type": "Parallel", "Branches": [inner], "Next": "Each"},
            "Each": {"Type": "Map", "ItemProcessor": inner, "End": True},
        },
    }
    # When expanded / Then no platform resource is left, and the source is unchanged
    expanded = asl.expand(definition)
    assert asl.PREFIX not in str(expanded)
    assert expanded["States"]["Fan"]["Branches"][0]["States"]["RecordInner"]["Resource"].endswith("updateItem")
    assert definition["States"]["RecordOuter"]["Resource"] == status_writes.RESOURCE


def test_an_unknown_platform_resource_is_refused() -> None:
    definition = {"StartAt": "X", "States": {"X": {"Type": "Task", "Resource": "sagestep:recordStatuz", "End": True}}}
    with pytest.raises(ValueError, match="X: unknown resource 'sagestep:recordStatuz'"):
        asl.expand(definition)
