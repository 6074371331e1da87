"""How a state machine calls SageMaker: the `sagestep:sagemaker:<action>` states of the ASL sources, expanded at
synthesis into the optimised integration's Task and the states that tell SageMaker's errors apart
(docs/architecture.md, "How a workflow calls SageMaker").

Step Functions reports every client error of its optimised SageMaker integration under one name,
`SageMaker.AmazonSageMakerException`; what went wrong is only in the cause, e.g. `Rate exceeded (Service:
AmazonSageMaker; Status Code: 400; Error Code: ThrottlingException; Request ID: ...)`. A Retry matches error names
only, so a Retry on that name retries a bad request as it retries throttling. In `statemachines/<name>.asl.json` a
SageMaker call is written as the integration's own Task state, with `sagestep:sagemaker:` in place of
`arn:aws:states:::sagemaker:` and without a Retry:

    "CreateEndpoint": {
      "Type": "Task",
      "Resource": "sagestep:sagemaker:createEndpoint",
      "Parameters": {"EndpointName.$": "$.plan.endpoint.EndpointName", ..., "Tags.$": "$.plan.endpoint.Tags"},
      "ResultPath": null,
      "Next": "WaitForEndpoint",
      "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.failure", "Next": "ExplainFailure"}]
    }

It is deployed as that Task, whose client errors are caught into `$.sagemakerCalls.<state>.error` and classified
by a Choice on the cause (`<state>Failed`):

- throttling and server errors (status 5xx) are retried after a Wait of 1 to 2, 4, 8, 16, 32 s (full jitter), at
  most `MAX_RETRIES` times, counted in `$.sagemakerCalls.<state>.retries`;
- an earlier attempt that took effect although its caller got an error (a lost response): a create that meets
  "already exists" reads the existing resource's tags and continues as if the first call had answered when they
  are this job's (`sagestep:job-id` and `sagestep:stack` of the request's `Tags`); a `.sync` create then follows
  the job it started with Describe* every `POLL_SECONDS` s and ends as the `.sync` task would have (its
  ResultSelector applied to the Describe* response, or `States.TaskFailed` with that response as cause). An update
  that meets "in progress" continues when it was a retry (the endpoint is reserved for this job's update);
- anything else (validation, quota, access denied, retries spent, resource not this job's) goes into the state's
  `States.ALL` Catch at once, with the error exactly as Step Functions reported it.

On the way without errors the deployed Task is the only state entered, as before. A `.sync` task's failure of the
job itself is `States.TaskFailed`, which goes to the state's Catch unchanged.
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass, fields
from typing import Any

RESOURCE_PREFIX = "sagestep:sagemaker:"
INTEGRATION_PREFIX = "arn:aws:states:::sagemaker:"
AWS_SDK_PREFIX = "arn:aws:states:::aws-sdk:sagemaker:"

#: The one error name of every SageMaker client error of the optimised integration.
CLIENT_ERROR = "SageMaker.AmazonSageMakerException"
#: Where each call keeps its last error, retry count and what it read: `$.sagemakerCalls.<state>`.
CALLS_PATH = "$.sagemakerCalls"

#: Upper bound (s) of the Wait before retry n (full jitter: a whole number of seconds from 1 to the bound).
BACKOFF_SECONDS = (2, 4, 8, 16, 32)
MAX_RETRIES = len(BACKOFF_SECONDS)
#: Seconds between the Describe* calls that follow a job whose create response was lost.
POLL_SECONDS = 15

#: Causes worth another attempt: throttling (refused before it took effect) and server errors (may have).
TRANSIENT_CAUSES = ("*(Service: AmazonSageMaker; Status Code: 5*", "*; Error Code: ThrottlingException; *")
#: The tags that make an existing resource this job's: output field -> tag key (both are in every request's Tags).
OWNER_TAGS = {"jobId": "sagestep:job-id", "stack": "sagestep:stack"}

#: The aws-sdk reads of the expansion (ListTags, Describe*) are idempotent: retried on their transient errors and on
#: the name the SDK gives SageMaker's errors that its model does not list (throttling among them).
READ_RETRY = [
    {
        "ErrorEquals": [
            "SageMaker.ThrottlingException",
            "SageMaker.InternalFailureException",
            "SageMaker.ServiceUnavailableException",
            "SageMaker.SageMakerException",
        ],
        "IntervalSeconds": 1,
        "BackoffRate": 2,
        "MaxAttempts": 4,
        "JitterStrategy": "FULL",
    }
]


@dataclass(frozen=True)
class Action:
    """What the expansion knows about one SageMaker action.

    :param name_parameter: the request parameter that names the resource (the job id).
    :param took_effect: a `StringMatches` pattern of the cause SageMaker answers when an earlier attempt of the
        same request took effect.
    :param resource_type: the resource's ARN type, whose tags tell whether it is this job's; None for an update
        (the resource is another job's, reserved for this one).
    :param describe: for a `.sync` create: the Describe* action and the status field of its response.
    """

    name_parameter: str
    took_effect: str
    resource_type: str | None = None
    describe: tuple[str, str] | None = None


ACTIONS = {
    "createModel": Action("ModelName", "*Cannot create already existing model*", "model"),
    "createEndpointConfig": Action(
        "EndpointConfigName", "*Cannot create already existing endpoint configuration*", "endpoint-config"
    ),
    "createEndpoint": Action("EndpointName", '*Cannot create already existing endpoint "*', "endpoint"),
    "updateEndpoint": Action("EndpointName", "*Cannot update in-progress endpoint*"),
    "createTrainingJob.sync": Action(
        "TrainingJobName",
        "*a training job with this name already exists*",
        "training-job",
        ("describeTrainingJob", "TrainingJobStatus"),
    ),
    "createHyperParameterTuningJob.sync": Action(
        "HyperParameterTuningJobName",
        "*A hyperparameter tuning job with the name*already exists*",
        "hyper-parameter-tuning-job",
        ("describeHyperParameterTuningJob", "HyperParameterTuningJobStatus"),
    ),
    "createLabelingJob.sync": Action(
        "LabelingJobName",
        "*a labeling job with this name already exists*",
        "labeling-job",
        ("describeLabelingJob", "LabelingJobStatus"),
    ),
}

#: `TimeoutSeconds(Path)` bound the Task itself (a job followed after a lost create response is not bounded).
_STATE_FIELDS = frozenset(
    {
        "Type",
        "Comment",
        "Resource",
        "Parameters",
        "ResultSelector",
        "ResultPath",
        "Next",
        "Catch",
        "TimeoutSeconds",
        "TimeoutSecondsPath",
    }
)
_NAME = re.compile(r"[A-Za-z][A-Za-z0-9]*")
#: The partition, region and account of the state machine's own ARN, for the ARN of the resource it created.
_ARN_PARTS = ", ".join(f"States.ArrayGetItem(States.StringSplit($$.StateMachine.Id, ':'), {i})" for i in (1, 3, 4))


class SageMakerCallError(ValueError):
    """A `sagestep:sagemaker:*` state the expansion cannot deploy (names the state)."""


@dataclass(frozen=True)
class _Names:
    """The states a call ``<call>`` expands into besides itself: ``<call>Failed``, ``<call>CountRetries``, ..."""

    failed: str
    count_retries: str
    backoff: str
    wait: str
    rejected: str
    read_tags: str
    compare_tags: str
    owned: str
    follow_job: str
    job_status: str
    poll_job: str
    job_completed: str
    job_failed: str

    @classmethod
    def of(cls, call: str) -> _Names:
        return cls(**{f.name: call + f.name.title().replace("_", "") for f in fields(cls)})


def expand(name: str, state: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The states that the `sagestep:sagemaker:<action>` state ``name`` deploys as, ``name`` (the Task) first."""
    action_name, action = _check(name, state)
    failure = next(c for c in state["Catch"] if "States.ALL" in c["ErrorEquals"])
    book, names = f"{CALLS_PATH}.{name}", _Names.of(name)
    parameters = state["Parameters"]
    task = {key: copy.deepcopy(value) for key, value in state.items() if key != "Catch"}
    task["Resource"] = INTEGRATION_PREFIX + action_name
    task["Catch"] = [
        {"ErrorEquals": [CLIENT_ERROR], "ResultPath": f"{book}.error", "Next": names.failed},
        *copy.deepcopy(state["Catch"]),
    ]
    cause = f"{book}.error.Cause"
    count = f"{book}.retries.count"
    took_effect: dict[str, Any] = {"Variable": cause, "StringMatches": action.took_effect, "Next": names.read_tags}
    if action.resource_type is None:
        took_effect = {
            "And": [
                {"Variable": cause, "StringMatches": action.took_effect},
                {"Variable": count, "NumericGreaterThan": 0},
            ],
            "Next": state["Next"],
        }
    states: dict[str, dict[str, Any]] = {
        name: task,
        names.failed: {
            "Type": "Choice",
            "Comment": f"{name} failed: retry throttling and server errors, go on where an earlier attempt took "
            "effect, else fail at once",
            "Choices": [
                {"Not": {"Variable": f"{book}.retries", "IsPresent": True}, "Next": names.count_retries},
                took_effect,
                {
                    "And": [
                        {"Or": [{"Variable": cause, "StringMatches": pattern} for pattern in TRANSIENT_CAUSES]},
                        {"Variable": count, "NumericLessThan": MAX_RETRIES},
                    ],
                    "Next": names.backoff,
                },
            ],
            "Default": names.rejected,
        },
        names.count_retries: {
            "Type": "Pass",
            "Comment": f"{name}'s first error: no retry yet"
            + (", and the tags that make a resource of its name this job's" if action.resource_type else ""),
            "Parameters": {"error.$": f"{book}.error", "retries": {"count": 0}, **_owner_tags(action, parameters)},
            "ResultPath": book,
            "Next": names.failed,
        },
        names.backoff: {
            "Type": "Pass",
            "Comment": f"Retry {name} after an exponential wait with full jitter",
            "Parameters": {
                "count.$": f"States.MathAdd({count}, 1)",
                "seconds.$": "States.MathRandom(1, States.ArrayGetItem(States.Array("
                f"{', '.join(map(str, BACKOFF_SECONDS))}), {count}))",
            },
            "ResultPath": f"{book}.retries",
            "Next": names.wait,
        },
        names.wait: {"Type": "Wait", "SecondsPath": f"{book}.retries.seconds", "Next": name},
        names.rejected: {
            "Type": "Pass",
            "Comment": f"{name} was refused (or its retries are spent): the failure path, with SageMaker's error",
            "InputPath": f"{book}.error",
            **_catch_target(failure),
        },
    }
    if action.resource_type is not None:
        states.update(_ownership(name, action, parameters, book, names, state["Next"]))
    if action.describe is not None:
        states.update(_follow_job(name, action, state, failure, book, names))
    return states


def _ownership(
    name: str, action: Action, parameters: dict[str, Any], book: str, names: _Names, owned: str
) -> dict[str, dict[str, Any]]:
    """An existing resource of the call's name is the earlier attempt's when it carries this request's owner tags."""
    assert action.resource_type is not None
    resource = parameters[f"{action.name_parameter}.$"]
    arn = f"States.Format('arn:{{}}:sagemaker:{{}}:{{}}:{action.resource_type}/{{}}', {_ARN_PARTS}, {resource})"
    return {
        names.read_tags: {
            "Type": "Task",
            "Comment": f"{name}: the {action.resource_type} exists; read its tags",
            "Resource": AWS_SDK_PREFIX + "listTags",
            "Parameters": {"ResourceArn.$": arn},
            "ResultSelector": {"tags.$": "$.Tags"},
            "ResultPath": f"{book}.found",
            "Retry": copy.deepcopy(READ_RETRY),
            "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": f"{book}.readTagsError", "Next": names.rejected}],
            "Next": names.compare_tags,
        },
        names.compare_tags: {
            "Type": "Pass",
            "Comment": f"{name}: does the {action.resource_type} carry this request's owner tags?",
            "Parameters": {
                f"{field}.$": f"States.ArrayContains({book}.found.tags, States.ArrayGetItem({book}.owner.{field}, 0))"
                for field in OWNER_TAGS
            },
            "ResultPath": f"{book}.owned",
            "Next": names.owned,
        },
        names.owned: {
            "Type": "Choice",
            "Comment": f"{name}: this job's own earlier attempt created it: go on as if that attempt had answered",
            "Choices": [
                {
                    "And": [{"Variable": f"{book}.owned.{field}", "BooleanEquals": True} for field in OWNER_TAGS],
                    "Next": names.follow_job if action.describe else owned,
                }
            ],
            "Default": names.rejected,
        },
    }


def _follow_job(
    name: str, action: Action, state: dict[str, Any], failure: dict[str, Any], book: str, names: _Names
) -> dict[str, dict[str, Any]]:
    """What `.sync` would have done for the job an earlier attempt started: wait for its end, output or fail alike."""
    assert action.describe is not None
    describe, status = action.describe
    job = f"{book}.job"
    adopted: dict[str, Any] = {
        "Type": "Pass",
        "Comment": f"{name}'s job completed: the output .sync gives",
        "InputPath": job,
    }
    if "ResultSelector" in state:
        adopted["Parameters"] = copy.deepcopy(state["ResultSelector"])
    if "ResultPath" in state:
        adopted["ResultPath"] = state["ResultPath"]
    adopted["Next"] = state["Next"]
    return {
        names.follow_job: {
            "Type": "Task",
            "Comment": f"{name}: follow the job an earlier attempt started",
            "Resource": AWS_SDK_PREFIX + describe,
            "Parameters": {f"{action.name_parameter}.$": state["Parameters"][f"{action.name_parameter}.$"]},
            "ResultPath": job,
            "Retry": copy.deepcopy(READ_RETRY),
            "Catch": [{"ErrorEquals": ["States.ALL"], **_catch_target(failure)}],
            "Next": names.job_status,
        },
        names.job_status: {
            "Type": "Choice",
            "Choices": [
                {"Variable": f"{job}.{status}", "StringEquals": "Completed", "Next": names.job_completed},
                {
                    "Or": [{"Variable": f"{job}.{status}", "StringEquals": end} for end in ("Failed", "Stopped")],
                    "Next": names.job_failed,
                },
            ],
            "Default": names.poll_job,
        },
        names.poll_job: {"Type": "Wait", "Seconds": POLL_SECONDS, "Next": names.follow_job},
        names.job_completed: adopted,
        names.job_failed: {
            "Type": "Pass",
            "Comment": f"{name}'s job failed: the failure path, as .sync reports it",
            "Parameters": {"Error": "States.TaskFailed", "Cause.$": f"States.JsonToString({job})"},
            **_catch_target(failure),
        },
    }


def _owner_tags(action: Action, parameters: dict[str, Any]) -> dict[str, Any]:
    """``{"owner": {field: [tag]}}``: this request's tags that an existing resource must carry to be this job's (a
    filter of the request's own Tags, which always holds them); nothing for an update."""
    if action.resource_type is None:
        return {}
    tags = parameters["Tags.$"]
    return {"owner": {f"{field}.$": f"{tags}[?(@.Key == '{key}')]" for field, key in OWNER_TAGS.items()}}


def _catch_target(catcher: dict[str, Any]) -> dict[str, Any]:
    """Where ``catcher`` puts the error and goes, for a state that enters the failure path the same way."""
    target = {"ResultPath": catcher["ResultPath"]} if "ResultPath" in catcher else {}
    return {**target, "Next": catcher["Next"]}


def _check(name: str, state: dict[str, Any]) -> tuple[str, Action]:
    """The action of a deployable call, or SageMakerCallError saying what is wrong."""
    action_name = str(state.get("Resource", "")).removeprefix(RESOURCE_PREFIX)
    action = ACTIONS.get(action_name)
    if action is None:
        raise SageMakerCallError(f"{name}: unknown SageMaker call {action_name!r} (known: {', '.join(ACTIONS)})")
    if not _NAME.fullmatch(name):
        raise SageMakerCallError(f"{name}: a SageMaker call's name must be letters and digits (it is a JSON path)")
    unknown = set(state) - _STATE_FIELDS
    if unknown:
        raise SageMakerCallError(f"{name}: a SageMaker call takes no {sorted(unknown)} (its Retry is the expansion's)")
    if "Next" not in state:
        raise SageMakerCallError(f"{name}: a SageMaker call needs Next")
    parameters = state.get("Parameters")
    needed = [action.name_parameter] + (["Tags"] if action.resource_type else [])
    if not isinstance(parameters, dict) or any(not isinstance(parameters.get(f"{p}.$"), str) for p in needed):
        raise SageMakerCallError(f"{name}: Parameters must read {' and '.join(needed)} from paths ('<name>.$')")
    if action.describe is None and (state.get("ResultPath", "$") is not None or "ResultSelector" in state):
        raise SageMakerCallError(
            f"{name}: a request-response SageMaker call must discard its result (ResultPath null, no ResultSelector): "
            "a call whose earlier attempt took effect goes on without a response"
        )
    catchers = state.get("Catch", [])
    if not any("States.ALL" in c.get("ErrorEquals", []) for c in catchers):
        raise SageMakerCallError(f"{name}: a SageMaker call needs a Catch on States.ALL (its failure path)")
    if any(CLIENT_ERROR in c.get("ErrorEquals", []) for c in catchers):
        raise SageMakerCallError(f"{name}: {CLIENT_ERROR} is caught by the expansion, not by the state")
    return action_name, action
