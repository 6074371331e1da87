"""Every path of statemachines/training.asl.json, executed by the Step Functions interpreter of the local
runtime with the real Lambda handlers and a real (small) training container.

Each test names the path, then asserts the states entered, the statuses the state machine recorded, the
one notification sent and the SageMaker resources left behind.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from sagestep.local.runtime import LocalRuntime
from tests.statemachines.harness import FAST, Harness

TRAIN_STATUSES = [
    "SUBMITTED",
    "TRAINING_MODEL",
    "CREATING_MODEL",
    "CONFIGURING_ENDPOINT",
    "DEPLOYING_ENDPOINT",
]
FAILURE_TAIL = ["ExplainFailure", "RecordError", "BuildFailureNotification", "NotifyFailed", "JobFailed"]


@pytest.fixture(scope="module")
def harness() -> Iterator[Harness]:
    with LocalRuntime(port=0, sync_poll_interval=0.1) as runtime:
        yield Harness(runtime)


def test_train_happy_path(harness: Harness) -> None:
    # Given a regression dataset / When a TRAIN job runs
    run = harness.run("/model", {**harness.regression, "hyperparameters": FAST})
    # Then it passes every TRAIN state once, records each status and ends READY
    assert run.status == "SUCCEEDED"
    assert run.entered == [
        "ChooseMode",
        "RecordTrainingModel",
        "TrainModel",
        "RecordCreatingModel",
        "CreateModel",
        "RecordConfiguringEndpoint",
        "CreateEndpointConfig",
        "RecordDeployingEndpoint",
        "ChooseDeployMode",
        "CreateEndpoint",
        "WaitForEndpoint",
        "FinishDeployment",
        "RecordReady",
        "BuildReadyNotification",
        "NotifySucceeded",
        "Succeeded",
    ]
    assert run.statuses == [*TRAIN_STATUSES, "READY"]
    resources = run.record["resources"]
    assert resources["endpointName"] == resources["modelName"] == resources["endpointConfigName"] == run.job_id
    assert resources["modelArtifactUri"].endswith(f"/{run.job_id}/output/model.tar.gz")
    assert run.record["metrics"]["validation_abs_err_p95"] > 0
    # And exactly one notification, with filterable attributes
    [note] = harness.notifications_for(run.job_id)
    assert note["attributes"] == {"kind": "model", "status": "READY"}
    assert note["message"]["summary"]["endpointName"] == run.job_id
    # And the endpoint serves the model
    assert harness.endpoints()[run.job_id] == "InService"
    assert isinstance(harness.predict(run.job_id, [500, 1800, 6.5, 15, 50]), float)


def test_training_job_failure_is_recorded_and_cleaned_up(harness: Harness) -> None:
    # Given the next training job fails
    harness.runtime.faults.fail_next_training_job("AlgorithmError: out of memory while loading data")
    # When a TRAIN job runs
    run = harness.run("/model", {**harness.regression, "hyperparameters": FAST})
    # Then the failure path records ERROR with the training job's reason and notifies once
    assert run.status == "FAILED"
    assert run.entered[-len(FAILURE_TAIL) :] == FAILURE_TAIL
    assert "CreateModel" not in run.entered
    assert run.statuses == ["SUBMITTED", "TRAINING_MODEL", "ERROR"]
    assert run.record["error"] == "TrainingJobFailed"
    assert "out of memory while loading data" in run.record["errorCause"]
    [note] = harness.notifications_for(run.job_id)
    assert note["attributes"] == {"kind": "model", "status": "ERROR"}
    assert note["message"]["summary"]["error"] == "TrainingJobFailed"
    assert run.job_id not in harness.endpoints()


def test_bad_data_fails_with_the_containers_message(harness: Harness) -> None:
    # Given a CSV whose feature column holds text
    data_uri = harness.upload("paths/bad.csv", b"a,b,y\n1,x,2\n2,y,3\n3,z,4\n4,w,5\n")
    # When a TRAIN job runs on it
    run = harness.run("/model", {"dataUri": data_uri, "target": "y"})
    # Then the job's error cause is the container's own explanation
    assert run.record["status"] == "ERROR"
    assert "'b'" in run.record["errorCause"]
    assert "line 2" in run.record["errorCause"] and "not a number" in run.record["errorCause"]


def test_endpoint_failure_removes_what_the_run_created(harness: Harness) -> None:
    # Given the next endpoint fails to start
    harness.runtime.faults.fail_next_endpoint("the model server crashed on start")
    # When a TRAIN job runs
    run = harness.run("/model", {**harness.regression, "hyperparameters": FAST})
    # Then the wait is resumed by the endpoint's failure event and the job ends in ERROR
    assert run.entered[run.entered.index("WaitForEndpoint") + 1] == "ExplainFailure"
    assert run.statuses == [*TRAIN_STATUSES, "ERROR"]
    assert run.record["error"] == "EndpointFailed"
    assert "crashed on start" in run.record["errorCause"]
    # And the failed endpoint, its config and its model are gone
    assert run.job_id not in harness.endpoints()
    assert run.job_id not in harness.endpoint_configs()
    assert run.job_id not in harness.models()
    assert len(harness.notifications_for(run.job_id)) == 1


def test_endpoint_deadline_fails_the_job(harness: Harness) -> None:
    # Given an endpoint that never becomes InService and a 3 s deadline
    harness.runtime.faults.hang_next_endpoint()
    body = {**harness.regression, "hyperparameters": FAST, "deployment": {"deadlineSeconds": 3}}
    # When a TRAIN job runs
    run = harness.run("/model", body)
    # Then the wait times out, the job is ERROR and the hanging endpoint is deleted
    assert [f["error"] for f in run.failures_of("WaitForEndpoint")] == ["States.Timeout"] or any(
        e["type"] == "TaskTimedOut" for e in run.events
    )
    assert run.record["error"] == "EndpointDeadlineExceeded"
    assert "within 3 s" in run.record["errorCause"]
    assert run.job_id not in harness.endpoints()


def test_throttled_call_is_retried_then_succeeds(harness: Harness) -> None:
    # Given SageMaker throttles the next two CreateEndpoint calls
    harness.runtime.faults.throttle("CreateEndpoint", count=2)
    # When a TRAIN job runs
    run = harness.run("/model", {**harness.regression, "hyperparameters": FAST})
    # Then the state's Retry absorbed both throttles and the job is READY
    failures = run.failures_of("CreateEndpoint")
    assert [f["error"] for f in failures] == ["SageMaker.AmazonSageMakerException"] * 2
    assert "ThrottlingException" in failures[0]["cause"]
    assert run.status == "SUCCEEDED"
    assert run.record["status"] == "READY"


def test_hpo_in_container(harness: Harness) -> None:
    body = {**harness.regression, "strategy": "in-container", "maxTrials": 2, "epochsPerTrial": 2}
    run = harness.run("/hpo", body)
    assert run.status == "SUCCEEDED"
    assert "RunHpoInContainer" in run.entered and "RunTuningJob" not in run.entered
    assert run.statuses == ["SUBMITTED", "HPO_RUNNING", "HPO_COMPLETED"]
    hpo = run.record["hpo"]
    assert hpo["strategy"] == "in-container"
    assert hpo["objective"]["name"] == "validation_abs_err_p95"
    assert hpo["objective"]["value"] > 0
    assert len(hpo["trials"]) == 2
    assert {"hidden_units", "learning_rate"} <= set(hpo["bestHyperparameters"])
    [note] = harness.notifications_for(run.job_id)
    assert note["attributes"]["status"] == "HPO_COMPLETED"
    assert note["message"]["summary"]["bestHyperparameters"] == hpo["bestHyperparameters"]


def test_hpo_native_tuning_then_train_from_it(harness: Harness) -> None:
    # Given a native Bayesian tuning job with three trials
    body = {**harness.regression, "strategy": "sagemaker", "maxTrials": 3, "epochsPerTrial": 2}
    hpo = harness.run("/hpo", body)
    assert hpo.status == "SUCCEEDED"
    assert "RunTuningJob" in hpo.entered
    result = hpo.record["hpo"]
    assert result["strategy"] == "sagemaker"
    assert len(result["trials"]) == 3
    values = [t["value"] for t in result["trials"] if t["value"] is not None]
    assert result["objective"]["value"] == min(values)
    # When a model is trained from it
    run = harness.run("/model", {"hpoJobId": hpo.job_id, "hyperparameters": FAST})
    # Then the training job used the best hyperparameters and the model is READY
    assert run.record["status"] == "READY"
    used = harness.training_hyperparameters(run.job_id)
    for name, value in result["bestHyperparameters"].items():
        assert used[name] == value


def test_in_place_update_then_failed_update_rolls_back(harness: Harness) -> None:
    # Given a READY model
    first = harness.run("/model", {**harness.regression, "hyperparameters": FAST})
    endpoint = first.job_id
    # When a second model updates its endpoint in place
    second = harness.run("/model", {**harness.regression, "hyperparameters": FAST, "updateEndpointOf": endpoint})
    # Then it went through UpdateEndpoint (no new endpoint) and took the endpoint over
    assert "UpdateEndpoint" in second.entered and "CreateEndpoint" not in second.entered
    assert second.record["status"] == "READY"
    assert second.record["resources"]["endpointName"] == endpoint
    assert second.job_id not in harness.endpoints()
    assert harness.sagemaker.describe_endpoint(EndpointName=endpoint)["EndpointConfigName"] == second.job_id
    previous = harness.job("model", first.job_id)
    assert previous["status"] == "SUPERSEDED"
    assert previous["supersededBy"] == second.job_id
    # When a third update fails to deploy
    harness.runtime.faults.fail_next_endpoint_update("new variant failed its health check")
    third = harness.run("/model", {**harness.regression, "hyperparameters": FAST, "updateEndpointOf": second.job_id})
    # Then the endpoint rolled back to the second model, which stays READY; the third is ERROR and its
    # unused model and endpoint config are removed
    assert third.record["status"] == "ERROR"
    assert third.record["error"] == "EndpointRolledBack"
    assert harness.sagemaker.describe_endpoint(EndpointName=endpoint)["EndpointConfigName"] == second.job_id
    assert harness.job("model", second.job_id)["status"] == "READY"
    assert third.job_id not in harness.models()
    assert third.job_id not in harness.endpoint_configs()
    assert isinstance(harness.predict(endpoint, [500, 1800, 6.5, 15, 50]), float)


def test_an_execution_stopped_by_hand_still_ends_its_job_in_error(harness: Harness) -> None:
    # Given a job whose training runs for a while
    body = {**harness.regression, "hyperparameters": {"epochs": 400, "early_stopping_patience": 400}}
    job_id = harness.submit("/model", body)
    deadline = time.monotonic() + 60
    while harness.job("model", job_id)["status"] != "TRAINING_MODEL":
        assert time.monotonic() < deadline
        time.sleep(0.2)
    # When an operator stops its execution (no Catch runs for that)
    arn = harness.state_machine_arn.replace(":stateMachine:", ":execution:") + f":{job_id}"
    harness.sfn.stop_execution(executionArn=arn, error="Operator", cause="stopped from the console")
    # Then the execution's status change event closes the job: ERROR with the reason, one notification
    while (record := harness.job("model", job_id))["status"] != "ERROR":
        assert time.monotonic() < deadline + 60, record["status"]
        time.sleep(0.2)
    assert record["error"] == "ExecutionAborted"
    assert "stopped from the console" in record["errorCause"]
    [note] = harness.notifications_for(job_id)
    assert note["attributes"] == {"kind": "model", "status": "ERROR"}
    harness.sagemaker.stop_training_job(TrainingJobName=job_id)
    harness.runtime.wait_idle(60)
