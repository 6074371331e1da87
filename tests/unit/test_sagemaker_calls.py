"""SageMaker calls that tell SageMaker's errors apart (`stacks/platform/sagemaker_calls.py`): what a
`sagestep:sagemaker:<action>` state expands into, the states it refuses, and how the expansion of every SageMaker
call of training.asl.json classifies errors when moto's Step Functions interpreter runs it.

The executed tests cut one call out of the deployed definition: the call's Task answers SageMaker errors chosen by
the test, attempt by attempt (a Parallel state whose branch fails with them, caught by the Task's own Catch), its
reads (ListTags, Describe*) answer what the test says, its Waits last 0 s, and the states it leads to end the
run: where it ended, how often the call was attempted and what it put into the failure path are then read from the
execution.
"""

from __future__ import annotations

import itertools
import json
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import boto3
import pytest
from moto import mock_aws

from stacks.platform import asl, sagemaker_calls
from stacks.platform.sagemaker_calls import CLIENT_ERROR, MAX_RETRIES, SageMakerCallError

SOURCE = json.loads(asl.source("training").read_text(encoding="utf-8"))
CALLS = {
    name: state
    for name, state in SOURCE["States"].items()
    if state.get("Resource", "").startswith(sagemaker_calls.RESOURCE_PREFIX)
}
CREATES = [name for name, state in CALLS.items() if "updateEndpoint" not in state["Resource"]]
SYNC_CREATES = [name for name, state in CALLS.items() if state["Resource"].endswith(".sync")]
FAILURE = "ExplainFailure"
JOB_ID = "model-20261122-135501-3fa9c2d1"
STACK = "sagestep-test"
TAGS = [
    {"Key": "sagestep:app", "Value": "sagestep"},
    {"Key": "sagestep:stack", "Value": STACK},
    {"Key": "sagestep:job-id", "Value": JOB_ID},
    {"Key": "sagestep:owner", "Value": "user-1"},
]


def sagemaker_cause(code: str, message: str, status: int = 400) -> str:
    """A cause as Step Functions reports a SageMaker client error."""
    return f"{message} (Service: AmazonSageMaker; Status Code: {status}; Error Code: {code}; Request ID: 0f1e)"


THROTTLED = sagemaker_cause("ThrottlingException", "Rate exceeded")
LOST = sagemaker_cause("InternalFailure", "We encountered an internal error. Please try again.", 500)
UNAVAILABLE = sagemaker_cause("ServiceUnavailable", "Service is unavailable.", 503)
BAD_REQUESTS = {
    "validation": sagemaker_cause("ValidationException", "Could not find model 'arn:aws:sagemaker:...:model/x'."),
    "quota": sagemaker_cause(
        "ResourceLimitExceeded", "The account-level service limit 'ml.m5.large for endpoint usage' is 2 Instances."
    ),
    "access": sagemaker_cause("AccessDeniedException", "User is not authorized to perform: sagemaker:CreateModel"),
}
ALREADY_DONE = {
    "TrainModel": sagemaker_cause(
        "ResourceInUse",
        "Training job names must be unique within an AWS account and region, and a training job with this name "
        f"already exists (arn:aws:sagemaker:us-east-1:123456789012:training-job/{JOB_ID})",
    ),
    "RunHpoInContainer": sagemaker_cause(
        "ResourceInUse",
        "Training job names must be unique within an AWS account and region, and a training job with this name "
        f"already exists (arn:aws:sagemaker:us-east-1:123456789012:training-job/{JOB_ID})",
    ),
    "RunTuningJob": sagemaker_cause(
        "ResourceInUse",
        f"A hyperparameter tuning job with the name, {JOB_ID}, already exists. Choose a different name.",
    ),
    "CreateModel": sagemaker_cause(
        "ValidationException", f'Cannot create already existing model "arn:aws:sagemaker:::model/{JOB_ID}".'
    ),
    "CreateEndpointConfig": sagemaker_cause(
        "ValidationException",
        f'Cannot create already existing endpoint configuration "arn:aws:sagemaker:::endpoint-config/{JOB_ID}".',
    ),
    "CreateEndpoint": sagemaker_cause(
        "ValidationException", f'Cannot create already existing endpoint "arn:aws:sagemaker:::endpoint/{JOB_ID}".'
    ),
    "UpdateEndpoint": sagemaker_cause(
        "ValidationException", 'Cannot update in-progress endpoint "arn:aws:sagemaker:::endpoint/model-1".'
    ),
}
DESCRIBED_JOB = {
    "TrainingJobName": JOB_ID,
    "TrainingJobArn": f"arn:aws:sagemaker:us-east-1:123456789012:training-job/{JOB_ID}",
    "ModelArtifacts": {"S3ModelArtifacts": f"s3://artifacts/jobs/{JOB_ID}/output/model.tar.gz"},
    "HyperParameterTuningJobName": JOB_ID,
}

TRAINING_OUTPUT = {
    "trainingJobName": JOB_ID,
    "trainingJobArn": DESCRIBED_JOB["TrainingJobArn"],
    "modelArtifactUri": f"s3://artifacts/jobs/{JOB_ID}/output/model.tar.gz",
}
SYNC_OUTPUT = {
    "TrainModel": TRAINING_OUTPUT,
    "RunHpoInContainer": TRAINING_OUTPUT,
    "RunTuningJob": {"tuningJobName": JOB_ID},
}

# Expansion -------------------------------------------------------------------------------------------------


def create_endpoint(**changes: Any) -> dict[str, Any]:
    """The source's CreateEndpoint call with ``changes`` (a field set to ``...`` is left out)."""
    state = json.loads(json.dumps(CALLS["CreateEndpoint"]))
    state.update(changes)
    return {key: value for key, value in state.items() if value is not ...}


def test_a_call_deploys_as_the_integrations_task_catching_client_errors_into_their_classification() -> None:
    # When a SageMaker call is expanded
    states = sagemaker_calls.expand("CreateEndpoint", CALLS["CreateEndpoint"])
    task = states["CreateEndpoint"]
    # Then its Task is the optimised integration with the source's request, result and Next, and no Retry
    assert task["Resource"] == "arn:aws:states:::sagemaker:createEndpoint"
    assert {key: task[key] for key in ("Parameters", "ResultPath", "Next")} == {
        key: CALLS["CreateEndpoint"][key] for key in ("Parameters", "ResultPath", "Next")
    }
    assert "Retry" not in task
    # And its client errors go to the Choice on their cause before the source's own Catch
    assert task["Catch"] == [
        {
            "ErrorEquals": [CLIENT_ERROR],
            "ResultPath": "$.sagemakerCalls.CreateEndpoint.error",
            "Next": "CreateEndpointFailed",
        },
        *CALLS["CreateEndpoint"]["Catch"],
    ]
    assert states["CreateEndpointFailed"]["Type"] == "Choice"
    assert states["CreateEndpointRejected"]["Next"] == FAILURE
    assert states["CreateEndpointRejected"]["ResultPath"] == "$.failure"


@pytest.mark.parametrize(
    ("state", "message"),
    [
        (create_endpoint(Resource="sagestep:sagemaker:deleteEndpoint"), "unknown SageMaker call 'deleteEndpoint'"),
        (create_endpoint(Retry=[{"ErrorEquals": [CLIENT_ERROR]}]), r"takes no \['Retry'\]"),
        (create_endpoint(Next=..., End=True), r"takes no \['End'\]"),
        (create_endpoint(Next=...), "needs Next"),
        (create_endpoint(ResultPath="$.endpoint"), "must discard its result"),
        (create_endpoint(Parameters={"EndpointName": "x", "Tags.$": "$.tags"}), "must read EndpointName and Tags"),
        (create_endpoint(Parameters={"EndpointName.$": "$.name"}), "must read EndpointName and Tags"),
        (create_endpoint(Catch=[]), "needs a Catch on States.ALL"),
        (
            create_endpoint(Catch=[{"ErrorEquals": [CLIENT_ERROR], "Next": "X"}, *CALLS["CreateEndpoint"]["Catch"]]),
            "is caught by the expansion",
        ),
    ],
)
def test_a_call_the_expansion_cannot_deploy_is_refused_with_the_reason(state: dict[str, Any], message: str) -> None:
    with pytest.raises(SageMakerCallError, match=f"CreateEndpoint: .*{message}"):
        sagemaker_calls.expand("CreateEndpoint", state)


def test_a_call_whose_name_is_no_json_path_key_is_refused() -> None:
    with pytest.raises(SageMakerCallError, match="letters and digits"):
        sagemaker_calls.expand("Create Endpoint", CALLS["CreateEndpoint"])


def test_an_added_state_may_not_take_the_name_of_another_state() -> None:
    definition = {"StartAt": "CreateEndpoint", "States": {**SOURCE["States"], "CreateEndpointWait": {"Type": "Pass"}}}
    with pytest.raises(ValueError, match="CreateEndpoint: its expansion adds a state 'CreateEndpointWait'"):
        asl.expand(definition)


def test_retries_are_bounded_and_back_off() -> None:
    assert MAX_RETRIES == len(sagemaker_calls.BACKOFF_SECONDS) == 5
    bounds = sagemaker_calls.BACKOFF_SECONDS
    assert all(later == 2 * earlier for earlier, later in itertools.pairwise(bounds))


# Executed ---------------------------------------------------------------------------------------------------


@dataclass
class Run:
    """Where a call's run ended, what it entered and its final data."""

    ended: str
    entered: list[str]
    output: dict[str, Any]
    passed: dict[str, list[dict[str, Any]]]

    def attempts(self, call: str) -> int:
        """How often the call was made (the cut call is a Choice of its answers, entered once per attempt)."""
        return self.entered.count(call)


@pytest.fixture(scope="module")
def sfn() -> Iterator[Any]:
    with mock_aws(config={"stepfunctions": {"execute_state_machine": True}}):
        yield boto3.client("stepfunctions", region_name="us-east-1")


def cut(call: str, answers: list[str], tags: list[dict[str, str]] | None, job: dict[str, Any] | None) -> dict:
    """The deployed states of ``call``, its Task answering ``answers`` (causes of SageMaker errors), attempt by
    attempt, then succeeding; ListTags answers ``tags`` (None: fails), Describe* answers ``job``."""
    states = sagemaker_calls.expand(call, CALLS[call])
    task = states[call]
    book = f"$.sagemakerCalls.{call}"
    choices = []
    for attempt, cause in enumerate(answers):
        when: dict[str, Any] = {"Variable": f"{book}.retries.count", "NumericEquals": attempt}
        if attempt == 0:
            when = {"Not": {"Variable": f"{book}.retries", "IsPresent": True}}
        choices.append({**when, "Next": f"{call}Attempt{attempt}"})
        fail = {"Type": "Fail", "Error": CLIENT_ERROR, "Cause": cause}
        states[f"{call}Attempt{attempt}"] = {
            "Type": "Parallel",
            "Branches": [{"StartAt": "Answer", "States": {"Answer": fail}}],
            "Catch": task["Catch"],
            "Next": task["Next"],
        }
    states[f"{call}AttemptAnswered"] = {"Type": "Pass", "Result": "answered", "ResultPath": "$.answered"}
    states[f"{call}AttemptAnswered"]["Next"] = task["Next"]
    states[call] = {"Type": "Choice", "Choices": choices, "Default": f"{call}AttemptAnswered"}
    for name, state in list(states.items()):
        if name.endswith("ReadTags"):
            states[name] = {"Type": "Pass", "Result": {"tags": tags}, "ResultPath": state["ResultPath"]}
            if tags is None:
                states[name] = {
                    "Type": "Pass",
                    "Result": "ListTags failed",
                    "ResultPath": state["Catch"][0]["ResultPath"],
                }
                states[name]["Next"] = state["Catch"][0]["Next"]
            else:
                states[name]["Next"] = state["Next"]
        elif name.endswith("FollowJob"):
            states[name] = {"Type": "Pass", "Result": job, "ResultPath": state["ResultPath"], "Next": state["Next"]}
        elif state["Type"] == "Wait":
            states[name] = {"Type": "Wait", "Seconds": 0, "Next": state["Next"]}
    for name in (task["Next"], FAILURE):
        states[name] = {"Type": "Succeed"}
    return {"StartAt": call, "States": states}


def run(
    sfn: Any,
    call: str,
    answers: list[str],
    tags: list[dict[str, str]] | None = TAGS,
    job: dict[str, Any] | None = None,
) -> Run:
    """Run ``call`` cut out of the deployed definition (see :func:`cut`) with a plan that carries ``TAGS``."""
    name = f"{call}-{uuid.uuid4().hex[:8]}"
    definition = json.dumps(cut(call, answers, tags, job))
    arn = sfn.create_state_machine(name=name, definition=definition, roleArn="arn:aws:iam::123456789012:role/sfn")[
        "stateMachineArn"
    ]
    sections = ("trainingJob", "tuningJob", "model", "endpointConfig", "endpoint")
    plan = {"plan": {section: {"Tags": TAGS} for section in sections}, "jobId": JOB_ID}
    execution = sfn.start_execution(stateMachineArn=arn, name="run", input=json.dumps(plan))["executionArn"]
    deadline = time.monotonic() + 30
    while (described := sfn.describe_execution(executionArn=execution))["status"] == "RUNNING":
        assert time.monotonic() < deadline, f"{call} still running"
        time.sleep(0.02)
    assert described["status"] == "SUCCEEDED", described
    events = sfn.get_execution_history(executionArn=execution, maxResults=1000)["events"]
    entered = [e["stateEnteredEventDetails"]["name"] for e in events if e["type"].endswith("StateEntered")]
    passed: dict[str, list[dict[str, Any]]] = {}
    for event in events:
        if event["type"] == "PassStateExited":
            details = event["stateExitedEventDetails"]
            passed.setdefault(details["name"], []).append(json.loads(details["output"]))
    return Run(entered[-1], entered, json.loads(described["output"]), passed)


@pytest.mark.parametrize(("call", "kind"), list(zip(CALLS, itertools.cycle(BAD_REQUESTS), strict=False)))
def test_a_bad_request_fails_at_once_with_sagemakers_error(sfn: Any, call: str, kind: str) -> None:
    # Given SageMaker refuses the request
    run_ = run(sfn, call, [BAD_REQUESTS[kind]])
    # Then the call was attempted once, never waited, and the failure path got the error as Step Functions gave it
    assert run_.attempts(call) == 1
    assert run_.ended == FAILURE
    assert f"{call}Wait" not in run_.entered
    assert run_.output["failure"] == {"Error": CLIENT_ERROR, "Cause": BAD_REQUESTS[kind]}


@pytest.mark.parametrize("call", CALLS)
def test_throttling_and_server_errors_are_retried_with_backoff_and_jitter(sfn: Any, call: str) -> None:
    # Given SageMaker throttles the call twice, then answers 503
    run_ = run(sfn, call, [THROTTLED, THROTTLED, UNAVAILABLE])
    # Then the fourth attempt answered and the run went on where the call leads
    assert run_.attempts(call) == 4
    assert run_.ended == CALLS[call]["Next"]
    assert run_.output["answered"] == "answered"
    # And each retry waited a whole number of seconds up to a doubling bound
    waits = [output["sagemakerCalls"][call]["retries"] for output in run_.passed[f"{call}Backoff"]]
    assert [wait["count"] for wait in waits] == [1, 2, 3]
    for wait, bound in zip(waits, sagemaker_calls.BACKOFF_SECONDS, strict=False):
        assert 1 <= wait["seconds"] <= bound


@pytest.mark.parametrize("call", CALLS)
def test_retries_end_and_the_last_error_goes_to_the_failure_path(sfn: Any, call: str) -> None:
    # Given SageMaker throttles every attempt
    run_ = run(sfn, call, [THROTTLED] * (MAX_RETRIES + 3))
    # Then the call was attempted once and retried MAX_RETRIES times, then failed with the throttling error
    assert run_.attempts(call) == 1 + MAX_RETRIES
    assert run_.ended == FAILURE
    assert run_.output["failure"] == {"Error": CLIENT_ERROR, "Cause": THROTTLED}


@pytest.mark.parametrize("call", [name for name in CREATES if name not in SYNC_CREATES])
def test_a_create_whose_lost_response_took_effect_goes_on_as_if_it_had_answered(sfn: Any, call: str) -> None:
    # Given the first attempt took effect but its caller got a 500, and the retry meets the resource
    run_ = run(sfn, call, [LOST, ALREADY_DONE[call]])
    # Then the resource carries this job's tags and the run went on where the call leads
    assert run_.attempts(call) == 2
    assert run_.ended == CALLS[call]["Next"]
    assert "answered" not in run_.output and "failure" not in run_.output


@pytest.mark.parametrize("call", SYNC_CREATES)
def test_a_sync_create_whose_lost_response_took_effect_follows_the_job_it_started(sfn: Any, call: str) -> None:
    # Given the first attempt started the job but its caller got a 500, and the job completes
    status = "TrainingJobStatus" if "TrainingJob" in CALLS[call]["Resource"] else "HyperParameterTuningJobStatus"
    run_ = run(sfn, call, [LOST, ALREADY_DONE[call]], job={**DESCRIBED_JOB, status: "Completed"})
    # Then the run went on with the output .sync gives: its ResultSelector applied to the job's description
    assert run_.ended == CALLS[call]["Next"]
    assert run_.output[CALLS[call]["ResultPath"].removeprefix("$.")] == SYNC_OUTPUT[call]


@pytest.mark.parametrize("call", SYNC_CREATES)
def test_a_followed_job_that_fails_fails_the_call_as_sync_does(sfn: Any, call: str) -> None:
    status = "TrainingJobStatus" if "TrainingJob" in CALLS[call]["Resource"] else "HyperParameterTuningJobStatus"
    job = {**DESCRIBED_JOB, status: "Failed", "FailureReason": "AlgorithmError: out of memory"}
    run_ = run(sfn, call, [LOST, ALREADY_DONE[call]], job=job)
    assert run_.ended == FAILURE
    assert run_.output["failure"]["Error"] == "States.TaskFailed"
    assert json.loads(run_.output["failure"]["Cause"]) == job


ANOTHER_STACK = [{**tag, "Value": "another-stack"} if tag["Key"] == "sagestep:stack" else tag for tag in TAGS]
NOT_THIS_JOBS = {
    "another stack": ANOTHER_STACK,
    "no job id": [tag for tag in TAGS if tag["Key"] != "sagestep:job-id"],
    "untagged": [],
    "unreadable": None,
}


@pytest.mark.parametrize(
    ("call", "tags"),
    [pytest.param("CreateEndpoint", tags, id=f"CreateEndpoint-{kind}") for kind, tags in NOT_THIS_JOBS.items()]
    + [pytest.param(call, ANOTHER_STACK, id=f"{call}-another stack") for call in CREATES if call != "CreateEndpoint"],
)
def test_a_resource_of_the_same_name_that_is_not_this_jobs_fails_the_call(
    sfn: Any, call: str, tags: list[dict[str, str]] | None
) -> None:
    # Given the name is in use by a resource without this job's tags (or whose tags cannot be read)
    run_ = run(sfn, call, [LOST, ALREADY_DONE[call]], tags=tags)
    # Then the call fails with "already exists", and nothing is followed
    assert run_.ended == FAILURE
    assert run_.output["failure"] == {"Error": CLIENT_ERROR, "Cause": ALREADY_DONE[call]}
    assert f"{call}FollowJob" not in run_.entered


def test_a_retried_update_that_meets_its_own_update_in_progress_goes_on(sfn: Any) -> None:
    run_ = run(sfn, "UpdateEndpoint", [LOST, ALREADY_DONE["UpdateEndpoint"]])
    assert run_.attempts("UpdateEndpoint") == 2
    assert run_.ended == CALLS["UpdateEndpoint"]["Next"]


def test_an_update_in_progress_before_this_job_updated_fails(sfn: Any) -> None:
    run_ = run(sfn, "UpdateEndpoint", [ALREADY_DONE["UpdateEndpoint"]])
    assert run_.attempts("UpdateEndpoint") == 1
    assert run_.ended == FAILURE
    assert run_.output["failure"]["Cause"] == ALREADY_DONE["UpdateEndpoint"]
