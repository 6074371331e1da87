"""How every state machine writes a job's status: the `sagestep:recordStatus` state of the ASL sources, expanded at
synthesis into one DynamoDB `updateItem` (docs/architecture.md, "How a workflow writes a status").

In `statemachines/<name>.asl.json` a status write is written as

    "RecordCreatingModel": {
      "Type": "Task",
      "Resource": "sagestep:recordStatus",
      "Parameters": {
        "status": "CREATING_MODEL",
        "set": {"resources.modelName.$": "$.plan.model.ModelName", "executionArn.$": "$$.Execution.Id"}
      },
      "Next": "CreateModel",
      "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.failure", "Next": "ExplainFailure"}]
    }

and deployed as an `updateItem` of the record `$.jobId` in `${JobsTableName}` that sets `status` and `updatedAt`,
appends `{status, at}` to `history`, sets each `set` entry (a dotted path into the record, a string: literal, or
read from a `.$` path) and removes `expiresAt`: the TTL of a claimed record whose execution never started, so a
job that started is never removed (removing a missing attribute is a no-op, so every write may do it). The
record must exist, the state's data passes through unchanged (`ResultPath: null`) and DynamoDB's transient
errors are retried. Where the state goes — `Next` or `End`, and its `Catch` — stays in the ASL source, as for any
other state.
"""

from __future__ import annotations

import copy
import re
from typing import Any

from stacks.platform import constants

RESOURCE = "sagestep:recordStatus"

#: Attributes the status write itself maintains; `set` may not touch them.
STATUS = "status"
UPDATED_AT = "updatedAt"
HISTORY = "history"
RESERVED = frozenset(
    {constants.JOBS_TABLE_PARTITION_KEY, STATUS, UPDATED_AT, HISTORY, constants.JOBS_TABLE_TTL_ATTRIBUTE}
)

#: What a `sagestep:recordStatus` state may carry besides its `Parameters` (Retry and ResultPath are the write's).
_STATE_FIELDS = frozenset({"Type", "Comment", "Resource", "Parameters", "Next", "End", "Catch"})
_PARAMETERS = frozenset({"status", "set"})
_NAME = re.compile(r"[A-Za-z][A-Za-z0-9]*")
_STATUS = re.compile(r"[A-Z][A-Z0-9_]*")

RETRY = [
    {
        "ErrorEquals": [
            "DynamoDB.ProvisionedThroughputExceededException",
            "DynamoDB.ThrottlingException",
            "DynamoDB.RequestLimitExceeded",
            "DynamoDB.InternalServerErrorException",
        ],
        "IntervalSeconds": 1,
        "BackoffRate": 2,
        "MaxAttempts": 5,
        "JitterStrategy": "FULL",
    }
]


class StatusWriteError(ValueError):
    """A `sagestep:recordStatus` state the expansion cannot turn into a valid write (names the state)."""


def expand(name: str, state: dict[str, Any]) -> dict[str, Any]:
    """The DynamoDB `updateItem` Task state for the `sagestep:recordStatus` state ``name``."""
    unknown = set(state) - _STATE_FIELDS
    if unknown:
        raise StatusWriteError(
            f"{name}: a status write takes no {sorted(unknown)} (its Retry and ResultPath are shared)"
        )
    if ("Next" in state) == ("End" in state):
        raise StatusWriteError(f"{name}: a status write needs exactly one of Next and End")
    parameters = state.get("Parameters")
    if not isinstance(parameters, dict) or set(parameters) - _PARAMETERS:
        raise StatusWriteError(f"{name}: Parameters must be {{'status': ..., 'set': {{...}}}}")
    status = parameters.get("status")
    if not isinstance(status, str) or not _STATUS.fullmatch(status):
        raise StatusWriteError(f"{name}: status must be an upper-case status name, not {status!r}")
    sets = ["#status = :status", "#updatedAt = :now", "#history = list_append(if_not_exists(#history, :empty), :entry)"]
    names = {f"#{attribute}": attribute for attribute in (STATUS, UPDATED_AT, HISTORY)}
    values: dict[str, Any] = {
        ":status": {"S": status},
        ":now": {"S.$": "$$.State.EnteredTime"},
        ":empty": {"L": []},
        ":entry": {"L": [{"M": {"status": {"S": status}, "at": {"S.$": "$$.State.EnteredTime"}}}]},
    }
    paths: list[list[str]] = []
    for index, (key, value) in enumerate(_fields(name, parameters.get("set", {}))):
        path = key.split(".")
        _check_path(name, key, path, paths)
        paths.append(path)
        names.update({f"#{segment}": segment for segment in path})
        sets.append(f"{'.'.join(f'#{segment}' for segment in path)} = :v{index}")
        values[f":v{index}"] = value
    ttl = constants.JOBS_TABLE_TTL_ATTRIBUTE
    names[f"#{ttl}"] = ttl
    expanded: dict[str, Any] = {
        "Type": "Task",
        "Comment": state.get("Comment", f"Job status -> {status}"),
        "Resource": "arn:aws:states:::dynamodb:updateItem",
        "Parameters": {
            "TableName": "${" + constants.SUB_JOBS_TABLE_NAME + "}",
            "Key": {constants.JOBS_TABLE_PARTITION_KEY: {"S.$": "$.jobId"}},
            "UpdateExpression": f"SET {', '.join(sets)} REMOVE #{ttl}",
            "ConditionExpression": f"attribute_exists({constants.JOBS_TABLE_PARTITION_KEY})",
            "ExpressionAttributeNames": names,
            "ExpressionAttributeValues": values,
        },
        "ResultPath": None,
        "Retry": copy.deepcopy(RETRY),
    }
    expanded.update({key: copy.deepcopy(state[key]) for key in ("Next", "End", "Catch") if key in state})
    return expanded


def _fields(name: str, fields: Any) -> list[tuple[str, dict[str, str]]]:
    """`set` as (attribute path, DynamoDB string value) pairs: `"a.b": "text"` or `"a.b.$": "$.path"`."""
    if not isinstance(fields, dict):
        raise StatusWriteError(f"{name}: set must be an object of attribute paths")
    pairs = []
    for key, value in fields.items():
        if not isinstance(value, str):
            raise StatusWriteError(f"{name}: set.{key} must be a string (a literal, or a path with a .$ key)")
        if key.endswith(".$"):
            pairs.append((key.removesuffix(".$"), {"S.$": value}))
        else:
            pairs.append((key, {"S": value}))
    return pairs


def _check_path(name: str, key: str, path: list[str], earlier: list[list[str]]) -> None:
    if not all(_NAME.fullmatch(segment) for segment in path):
        raise StatusWriteError(f"{name}: set.{key} is not a dotted path of attribute names")
    if path[0] in RESERVED:
        raise StatusWriteError(f"{name}: set.{key}: {path[0]} is written by every status write, not by set")
    for other in earlier:
        shorter = min(len(path), len(other))
        if path[:shorter] == other[:shorter]:
            raise StatusWriteError(f"{name}: set.{key} overlaps set.{'.'.join(other)}")
