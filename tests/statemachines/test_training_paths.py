"""The failure and retry paths of statemachines/training.asl.json (and the in-place update a failed update
starts from), executed by the Step Functions interpreter of the local runtime with the real Lambda handlers
and a real (small) training container.

Each test names the path, then asserts the states entered, the statuses the state machine recorded, the
one notification sent and the SageMaker resources left behind, and what the user sees of it through the API.
The paths a user gets without a fault (train, tune either way, train from a tuning job) run once, in
``tests/e2e``, which asserts their states too (the rule is in ``tests/statemachines/__init__.py``).
"""

from __future__ import annotations

import math
import time

import pytest

from sagestep.client import ConflictError
from sagestep_training.datasets import REGRESSION_TARGET
from tests.statemachines.harness import FAST, Harness, Run, non_numeric_feature_csv

TRAIN_STATUSES = [
    "SUBMITTED",
    "TRAINING_MODEL",
    "CREATING_MODEL",
    "CONFIGURING_ENDPOINT",
    "DEPLOYING_ENDPOINT",
]
FAILURE_TAIL = ["ExplainFailure", "RecordError", "BuildFailureNotification", "NotifyFailed", "JobFailed"]
CROP_ROW = [600.0, 1800.0, 6.5, 15.0, 100.0]  # rainfall_mm, sunshine_h, soil_ph, temperature_c, fertilizer_kg_ha


def test_training_job_failure_is_recorded_and_cleaned_up(harness: Harness) -> None:
    # Given the next training job fails with a reason
    reason = "AlgorithmError: out of memory while loading data"
    harness.runtime.faults.fail_next_training_job(reason)
    # When a TRAIN job runs
    run = harness.run("/model", {**harness.regression, "hyperparameters": FAST})
    # Then the failure path records ERROR right after training, with the training job's reason as the cause
    assert run.status == "FAILED"
    assert run.entered[-len(FAILURE_TAIL) :] == FAILURE_TAIL
    assert "CreateModel" not in run.entered
    assert run.statuses == ["SUBMITTED", "TRAINING_MODEL", "ERROR"]
    assert run.record["error"] == "TrainingJobFailed"
    assert reason in run.record["errorCause"]
    # And one ERROR notification says so, and nothing of the job is left
    harness.assert_failed_cleanly(run)


def test_bad_data_fails_with_the_containers_message(harness: Harness) -> None:
    # Given a CSV whose header has the target but one feature cell holds a word
    data_uri = harness.upload("paths/bad/crop_yield.csv", non_numeric_feature_csv())
    # When a TRAIN job runs on it (the submission is accepted: the header is fine)
    run = harness.run("/model", {"dataUri": data_uri, "target": REGRESSION_TARGET, "hyperparameters": FAST})
    # Then the training job failed, and the job's error cause is the container's own message, naming column,
    # value and line
    assert run.entered[-len(FAILURE_TAIL) :] == FAILURE_TAIL
    assert run.statuses == ["SUBMITTED", "TRAINING_MODEL", "ERROR"]
    assert run.record["error"] == "TrainingJobFailed"
    for fragment in ("'sunshine_h'", "'sunny'", "line 7", "not a number"):
        assert fragment in run.record["errorCause"], run.record["errorCause"]
    harness.assert_failed_cleanly(run)


def test_endpoint_failure_removes_what_the_run_created(harness: Harness) -> None:
    # Given the next endpoint fails to start
    reason = "the model server crashed on start"
    harness.runtime.faults.fail_next_endpoint(reason)
    # When a TRAIN job runs
    run = harness.run("/model", {**harness.regression, "hyperparameters": FAST})
    # Then the wait is resumed by the endpoint's failure event and the job ends in ERROR with its reason
    assert run.entered[run.entered.index("WaitForEndpoint") + 1] == "ExplainFailure"
    assert run.statuses == [*TRAIN_STATUSES, "ERROR"]
    assert run.record["error"] == "EndpointFailed"
    assert reason in run.record["errorCause"]
    # And the failed endpoint, its config, its model and its model server are gone; one notification
    harness.assert_failed_cleanly(run)


def test_endpoint_deadline_fails_the_job(harness: Harness) -> None:
    # Given an endpoint that never becomes InService and a 3 s deadline
    harness.runtime.faults.hang_next_endpoint()
    body = {**harness.regression, "hyperparameters": FAST, "deployment": {"deadlineSeconds": 3}}
    # When a TRAIN job runs
    run = harness.run("/model", body)
    # Then the wait times out and the job is ERROR, explaining that the endpoint was not InService in time
    assert [f["error"] for f in run.failures_of("WaitForEndpoint")] == ["States.Timeout"] or any(
        e["type"] == "TaskTimedOut" for e in run.events
    )
    assert run.statuses == [*TRAIN_STATUSES, "ERROR"]
    assert run.record["error"] == "EndpointDeadlineExceeded"
    assert "within 3 s" in run.record["errorCause"]
    # And the hanging endpoint, its config and its model are deleted
    harness.assert_failed_cleanly(run)


def test_throttled_call_is_retried_then_succeeds(harness: Harness) -> None:
    # Given SageMaker throttles the next two CreateEndpoint calls
    harness.runtime.faults.throttle("CreateEndpoint", count=2)
    # When a TRAIN job runs
    run = harness.run("/model", {**harness.regression, "hyperparameters": FAST})
    # Then the state's Retry absorbed both throttles
    assert not [f for f in harness.runtime.faults.armed() if f.fault == "throttle"], "the throttling was never hit"
    failures = run.failures_of("CreateEndpoint")
    assert [f["error"] for f in failures] == ["SageMaker.AmazonSageMakerException"] * 2
    assert "ThrottlingException" in failures[0]["cause"]
    # And the user sees a READY job with a clean history, one READY notification, and an endpoint that serves
    assert run.status == "SUCCEEDED"
    assert run.record["status"] == "READY"
    assert run.statuses == [*TRAIN_STATUSES, "READY"]
    assert [n["message"]["status"] for n in harness.notifications_for(run.job_id)] == ["READY"]
    [prediction] = harness.client.infer(jobId=run.job_id, input=CROP_ROW).predictions
    assert isinstance(prediction, float) and math.isfinite(prediction)
    assert harness.client.delete_model(run.job_id).status == "DELETED"  # cleanup: free the endpoint


@pytest.fixture(scope="module")
def updated_endpoint(harness: Harness) -> tuple[Run, Run, float]:
    """Model A deployed, then model B (another architecture) updating A's endpoint in place; and what A's
    model predicted for CROP_ROW before the update. The failed update below starts from it."""
    first = harness.run("/model", {**harness.regression, "hyperparameters": FAST})
    assert first.record["status"] == "READY", first.record
    [before] = harness.client.infer(jobId=first.job_id, input=CROP_ROW).predictions
    assert isinstance(before, float)
    different = {**FAST, "hidden_units": 16, "hidden_layers": 1, "seed": 7}
    second = harness.run(
        "/model", {**harness.regression, "hyperparameters": different, "updateEndpointOf": first.job_id}
    )
    return first, second, before


def test_in_place_update_takes_the_endpoint_over(harness: Harness, updated_endpoint: tuple[Run, Run, float]) -> None:
    # Given model A READY / When model B is trained with updateEndpointOf A (fixture)
    first, second, before = updated_endpoint
    endpoint = first.job_id
    # Then B went through UpdateEndpoint (no new endpoint) and is READY on A's endpoint, running B's config
    assert second.status == "SUCCEEDED"
    assert "UpdateEndpoint" in second.entered and "CreateEndpoint" not in second.entered
    assert second.statuses == [*TRAIN_STATUSES, "READY"]
    assert second.record["status"] == "READY"
    assert second.record["resources"]["endpointName"] == endpoint
    assert second.job_id not in harness.endpoints()
    assert harness.sagemaker.describe_endpoint(EndpointName=endpoint)["EndpointConfigName"] == second.job_id
    assert [n["message"]["status"] for n in harness.notifications_for(second.job_id)] == ["READY"]
    # And A is SUPERSEDED by B and can no longer be used for predictions by its job id
    previous = harness.job("model", first.job_id)
    assert previous["status"] == "SUPERSEDED"
    assert previous["supersededBy"] == second.job_id
    with pytest.raises(ConflictError):
        harness.client.infer(jobId=first.job_id, input=CROP_ROW)
    # And the endpoint, by name or by B's job id, answers with B's model, not A's
    [by_name] = harness.client.infer(endpointName=endpoint, input=CROP_ROW).predictions
    [by_job] = harness.client.infer(jobId=second.job_id, input=CROP_ROW).predictions
    assert by_name == pytest.approx(by_job)
    assert by_name != pytest.approx(before)


def test_failed_in_place_update_rolls_back_and_the_serving_job_stays_ready(
    harness: Harness, updated_endpoint: tuple[Run, Run, float]
) -> None:
    # Given model B READY on an endpoint it took over in place
    _, serving, _ = updated_endpoint
    endpoint = serving.record["resources"]["endpointName"]
    [prediction] = harness.client.infer(jobId=serving.job_id, input=CROP_ROW).predictions
    # When model C updates that endpoint and its new configuration fails to deploy
    reason = "the new variant failed its health check"
    harness.runtime.faults.fail_next_endpoint_update(reason)
    third = harness.run("/model", {**harness.regression, "hyperparameters": FAST, "updateEndpointOf": serving.job_id})
    # Then the update's wait ended in the failure path: C is ERROR because the endpoint rolled back, and says why
    assert "UpdateEndpoint" in third.entered and "CreateEndpoint" not in third.entered
    assert third.entered[third.entered.index("WaitForEndpoint") + 1] == "ExplainFailure"
    assert third.statuses == [*TRAIN_STATUSES, "ERROR"]
    assert third.record["error"] == "EndpointRolledBack"
    assert reason in third.record["errorCause"]
    # And B is still READY and its configuration still serves, with the same predictions as before
    assert harness.job("model", serving.job_id)["status"] == "READY"
    assert harness.sagemaker.describe_endpoint(EndpointName=endpoint)["EndpointConfigName"] == serving.job_id
    assert harness.endpoints()[endpoint] == "InService"
    [by_job] = harness.client.infer(jobId=serving.job_id, input=CROP_ROW).predictions
    [by_name] = harness.client.infer(endpointName=endpoint, input=CROP_ROW).predictions
    assert by_job == pytest.approx(prediction)
    assert by_name == pytest.approx(prediction)
    # And C left nothing: one ERROR notification, no model, endpoint config or process of its own
    harness.assert_failed_cleanly(third)


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
