"""SageMaker's errors in statemachines/training.asl.json, executed in the local runtime: a bad request fails at once,
and a create whose response was lost (the call took effect, its caller got a 500) goes on as if it had answered.
Throttling is retried (test_training_paths.py, `test_throttled_call_is_retried_then_succeeds`).

Faults are armed in the local SageMaker emulation (`sagestep.local.faults`); the number of attempts is read from the
execution history.
"""

from __future__ import annotations

from datetime import datetime

import pytest

from tests.statemachines.harness import FAST, Harness, Run

TRAIN_STATUSES = ["SUBMITTED", "TRAINING_MODEL", "CREATING_MODEL", "CONFIGURING_ENDPOINT", "DEPLOYING_ENDPOINT"]


def entered_at(run: Run, state: str) -> datetime:
    """When ``state`` was first entered."""
    return next(
        event["timestamp"]
        for event in run.events
        if event["type"].endswith("StateEntered") and event["stateEnteredEventDetails"]["name"] == state
    )


@pytest.mark.parametrize(
    ("operation", "code", "message", "recorded"),
    [
        ("CreateEndpointConfig", "ValidationException", "Invalid value 'ml.m5.nope' for InstanceType", 4),
        ("CreateEndpoint", "ResourceLimitExceeded", "The account-level service limit for endpoint usage is 2", 5),
    ],
)
def test_a_bad_request_fails_the_job_at_once_without_retries(
    harness: Harness, operation: str, code: str, message: str, recorded: int
) -> None:
    # Given SageMaker refuses such a call as a bad request (or an exceeded quota), however often it is made
    harness.runtime.faults.fail_call(operation, code, message, count=10)
    # When a TRAIN job runs
    run = harness.run("/model", {**harness.regression, "hyperparameters": FAST})
    # Then the call was made once, and the failure path started at once
    assert run.entered.count(operation) == 1
    assert [f["error"] for f in run.failures_of(operation)] == ["SageMaker.AmazonSageMakerException"]
    assert f"{operation}Wait" not in run.entered
    assert (entered_at(run, "ExplainFailure") - entered_at(run, operation)).total_seconds() < 5
    # And the job is ERROR with SageMaker's own words, notified once
    assert run.status == "FAILED"
    assert run.statuses == [*TRAIN_STATUSES[:recorded], "ERROR"]
    assert message in run.record["errorCause"] and f"Error Code: {code}" in run.record["errorCause"]
    [note] = harness.notifications_for(run.job_id)
    assert note["attributes"]["status"] == "ERROR"
    # And what the run created was removed
    assert run.job_id not in harness.models()
    assert run.job_id not in harness.endpoint_configs()


def test_a_lost_create_endpoint_response_goes_on_and_keeps_the_endpoint(harness: Harness) -> None:
    # Given SageMaker creates the next endpoint but its caller gets a 500 InternalFailure
    harness.runtime.faults.lose_response("CreateEndpoint")
    # When a TRAIN job runs
    run = harness.run("/model", {**harness.regression, "hyperparameters": FAST})
    # Then the retry met the endpoint, found this job's tags on it and waited for it as if the call had answered
    causes = [f["cause"] for f in run.failures_of("CreateEndpoint")]
    assert len(causes) == 2
    assert "Error Code: InternalFailure" in causes[0]
    assert "Cannot create already existing endpoint" in causes[1]
    read = run.entered.index("CreateEndpointReadTags")
    assert run.entered[read : read + 4] == [
        "CreateEndpointReadTags",
        "CreateEndpointCompareTags",
        "CreateEndpointOwned",
        "WaitForEndpoint",
    ]
    # And the job is READY on its endpoint, which serves
    assert run.status == "SUCCEEDED"
    assert run.statuses == [*TRAIN_STATUSES, "READY"]
    assert harness.endpoints()[run.job_id] == "InService"
    assert isinstance(harness.predict(run.job_id, [500, 1800, 6.5, 15, 50]), float)
    assert [n["attributes"]["status"] for n in harness.notifications_for(run.job_id)] == ["READY"]
    assert harness.client.delete_model(run.job_id).status == "DELETED"  # the shared runtime keeps few endpoints


def test_a_lost_create_training_job_response_follows_the_job_it_started(harness: Harness) -> None:
    # Given SageMaker starts the next training job but its caller gets a 500 InternalFailure
    harness.runtime.faults.lose_response("CreateTrainingJob")
    # When a TRAIN job runs
    run = harness.run("/model", {**harness.regression, "hyperparameters": FAST})
    # Then the retry met the job, found this job's tags on it and followed it to its end
    causes = [f["cause"] for f in run.failures_of("TrainModel")]
    assert len(causes) == 2
    assert "Error Code: InternalFailure" in causes[0]
    assert "a training job with this name already exists (arn:aws:sagemaker:" in causes[1]
    assert "TrainModelFollowJob" in run.entered
    assert run.entered[run.entered.index("TrainModelJobCompleted") + 1] == "RecordCreatingModel"
    # And the job went on with what .sync would have given: the model was created from its artifact and is READY
    assert run.status == "SUCCEEDED"
    assert run.statuses == [*TRAIN_STATUSES, "READY"]
    resources = run.record["resources"]
    assert resources["trainingJobArn"].endswith(f"training-job/{run.job_id}")
    assert resources["modelArtifactUri"].endswith(f"/{run.job_id}/output/model.tar.gz")
    assert run.record["metrics"]["validation_abs_err_p95"] > 0
    assert harness.client.delete_model(run.job_id).status == "DELETED"  # the shared runtime keeps few endpoints
