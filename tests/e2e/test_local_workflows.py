"""Workflows as a user sees them through the local runtime's API: train, tune, predict, update in place,
and fail (with fault injection) without leaving anything behind.

The state machine's own paths (states entered, retries) are tested in ``tests/statemachines``; these tests
look only at what the API, the notifications and the account show.
"""

from __future__ import annotations

import csv
import math
import re

import pytest

from sagestep.client import ConflictError
from sagestep_service.workflows.training.models import TrainingJobView
from sagestep_training.datasets import CLASSIFICATION_CSV, CLASSIFICATION_TARGET, REGRESSION_TARGET
from tests.e2e.conftest import CROP_ROW, FAST, TRAIN_STATUSES, Backend, finite_numbers

#: A deployment deadline far shorter than any real endpoint needs (Deployment.deadlineSeconds allows >= 1).
DEADLINE_SECONDS = 3
ISO_MILLIS = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")  # 2026-11-22T13:55:01.123Z
FERTILIZER_SWEEP = {"start": 0.0, "end": 200.0, "step": 25.0}


# Shared jobs ----------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def regression_job(backend: Backend) -> TrainingJobView:
    return backend.train({**backend.regression, "hyperparameters": FAST})


@pytest.fixture(scope="module")
def tuning_job(backend: Backend) -> TrainingJobView:
    return backend.hpo({**backend.regression, "strategy": "sagemaker", "maxTrials": 2, "epochsPerTrial": 2})


@pytest.fixture(scope="module")
def updated_endpoint(backend: Backend) -> tuple[TrainingJobView, TrainingJobView, float]:
    """Job A deployed, then job B (another architecture) updating A's endpoint in place; and what A's
    model predicted for CROP_ROW before the update."""
    first = backend.train({**backend.regression, "hyperparameters": FAST})
    assert first.status == "READY", first
    before = backend.client.infer(jobId=first.jobId, input=CROP_ROW).predictions[0]
    assert isinstance(before, float)
    second = backend.train(
        {
            **backend.regression,
            "hyperparameters": {**FAST, "hidden_units": 16, "hidden_layers": 1, "seed": 7},
            "updateEndpointOf": first.jobId,
        }
    )
    return first, second, before


# Happy paths ----------------------------------------------------------------------------------------


def test_training_job_becomes_ready_with_metrics_history_and_one_notification(
    backend: Backend, regression_job: TrainingJobView
) -> None:
    # Given a regression dataset in the data bucket / When a user trains a model (fixture)
    job = regression_job
    # Then the job is READY, went through every status in order and serves from its own endpoint
    assert job.status == "READY", job
    assert [h.status for h in job.history] == [*TRAIN_STATUSES, "READY"]
    assert job.error is None and job.errorCause is None
    assert job.resources["endpointName"] == job.jobId
    assert backend.endpoints()[job.jobId] == "InService"
    # And the record carries the training job's final metrics
    assert {"validation_loss", "validation_abs_err_p95"} <= job.metrics.keys()
    assert all(math.isfinite(v) and v >= 0 for v in job.metrics.values())
    # And exactly one notification announced it, filterable by kind and status
    [note] = backend.notifications_for(job.jobId)
    assert note["attributes"] == {"kind": "model", "status": "READY"}
    assert note["message"]["status"] == "READY"
    assert note["message"]["summary"]["endpointName"] == job.jobId


def test_job_timestamps_have_the_documented_format(regression_job: TrainingJobView) -> None:
    # Given a job whose statuses were recorded by the API and by the state machine
    stamps = [regression_job.createdAt, regression_job.updatedAt, *(h.at for h in regression_job.history)]
    # Then every timestamp is ISO 8601 UTC with milliseconds, so that they sort and compare as strings
    assert [s for s in stamps if not ISO_MILLIS.match(s)] == []


def test_infer_one_row(backend: Backend, regression_job: TrainingJobView) -> None:
    # Given a READY regression model / When a user predicts one row
    answer = backend.client.infer(jobId=regression_job.jobId, input=CROP_ROW)
    # Then one finite number comes back, and no sweep axis
    assert len(answer.predictions) == 1
    assert finite_numbers(answer.predictions)
    assert answer.x_axis is None


def test_infer_several_rows_predicts_each_row(backend: Backend, regression_job: TrainingJobView) -> None:
    # Given a READY regression model
    dry = [250.0, 1500.0, 6.0, 14.0, 20.0]
    # When a user predicts three rows, two of them the same
    answer = backend.client.infer(jobId=regression_job.jobId, input=[CROP_ROW, dry, CROP_ROW])
    # Then there is one finite prediction per row, equal rows predict the same and different rows differ
    assert len(answer.predictions) == 3
    assert finite_numbers(answer.predictions)
    first, second, third = answer.predictions
    assert first == pytest.approx(third)
    assert first != pytest.approx(second)
    # And a row predicts the same alone as in a batch
    [alone] = backend.client.infer(jobId=regression_job.jobId, input=dry).predictions
    assert alone == pytest.approx(second, rel=1e-5)


def test_infer_range_sweeps_the_last_input(backend: Backend, regression_job: TrainingJobView) -> None:
    # Given a READY regression model / When a user sweeps the fertilizer dose (the last input)
    answer = backend.client.infer(jobId=regression_job.jobId, input=CROP_ROW, range=FERTILIZER_SWEEP)
    # Then x_axis is exactly the range, with one finite prediction per point, and the predictions vary
    assert answer.x_axis == [0.0, 25.0, 50.0, 75.0, 100.0, 125.0, 150.0, 175.0, 200.0]
    assert len(answer.predictions) == len(answer.x_axis)
    assert finite_numbers(answer.predictions)
    assert len({round(float(p), 6) for p in answer.predictions}) > 1
    # And each point is the prediction for the row with the last input replaced by that value
    [at_75] = backend.client.infer(jobId=regression_job.jobId, input=[*CROP_ROW[:-1], 75.0]).predictions
    assert answer.predictions[3] == pytest.approx(at_75, rel=1e-5)


def test_classification_model_predicts_class_labels_from_the_data(backend: Backend) -> None:
    # Given the machine-condition dataset (classes normal / warning / fault)
    with CLASSIFICATION_CSV.open(encoding="utf-8") as handle:
        labels = {row[CLASSIFICATION_TARGET] for row in csv.DictReader(handle)}
    body = {
        "dataUri": backend.uri("e2e/machine_condition.csv"),
        "target": CLASSIFICATION_TARGET,
        "problemType": "classification",
        "hyperparameters": FAST,
    }
    # When a user trains a classifier
    job = backend.train(body)
    # Then it is READY with classification metrics
    assert job.status == "READY", job
    assert 0.0 <= job.metrics["validation_accuracy"] <= 1.0
    assert 0.0 <= job.metrics["validation_f1"] <= 1.0
    # And its predictions are class labels of the data, one per row
    rows = [[0.05, 57.5, 55.6, 1314.0], [7.38, 57.1, 60.1, 2990.0], [15.0, 95.0, 98.0, 3000.0]]
    answer = backend.client.infer(jobId=job.jobId, input=rows)
    assert len(answer.predictions) == len(rows)
    assert set(answer.predictions) <= labels, answer.predictions
    # Cleanup: free the endpoint (the stack keeps at most five)
    assert backend.client.delete_model(job.jobId).status == "DELETED"


def test_in_container_hpo_completes_with_best_hyperparameters_and_trials(backend: Backend) -> None:
    # Given a regression dataset / When a user runs the in-container search with two short trials
    job = backend.hpo({**backend.regression, "strategy": "in-container", "maxTrials": 2, "epochsPerTrial": 2})
    # Then the job is HPO_COMPLETED with the objective, the best hyperparameters and both trials
    assert job.status == "HPO_COMPLETED", job
    assert [h.status for h in job.history] == ["SUBMITTED", "HPO_RUNNING", "HPO_COMPLETED"]
    assert job.hpo is not None
    assert job.hpo.strategy == "in-container"
    assert job.hpo.objective.name == "validation_abs_err_p95"
    assert job.hpo.objective.direction.lower() == "minimize"
    assert job.hpo.objective.value is not None and math.isfinite(job.hpo.objective.value)
    assert len(job.hpo.trials) == 2
    values = [t.value for t in job.hpo.trials if t.value is not None]
    assert job.hpo.objective.value == pytest.approx(min(values))
    assert {"hidden_layers", "hidden_units", "learning_rate"} <= job.hpo.bestHyperparameters.keys()
    # And one notification announced it with the objective
    [note] = backend.notifications_for(job.jobId)
    assert note["attributes"] == {"kind": "hpo", "status": "HPO_COMPLETED"}
    assert note["message"]["summary"]["objective"]["value"] == pytest.approx(job.hpo.objective.value)


def test_sagemaker_tuning_completes_with_one_trial_per_allowed_training_job(
    backend: Backend, tuning_job: TrainingJobView
) -> None:
    # Given / When a user runs native SageMaker tuning with maxTrials 2 (fixture)
    job = tuning_job
    # Then the job is HPO_COMPLETED with exactly maxTrials trials; the best one's value and
    # hyperparameters are the job's objective and best hyperparameters
    assert job.status == "HPO_COMPLETED", job
    assert job.hpo is not None and job.hpo.strategy == "sagemaker"
    assert len(job.hpo.trials) == job.request["maxTrials"] == 2
    best = min((t for t in job.hpo.trials if t.value is not None), key=lambda t: t.value or 0.0)
    assert job.hpo.objective.value == pytest.approx(best.value)
    assert job.hpo.bestHyperparameters == best.hyperparameters
    [note] = backend.notifications_for(job.jobId)
    assert note["attributes"] == {"kind": "hpo", "status": "HPO_COMPLETED"}


def test_training_from_an_hpo_job_uses_its_best_hyperparameters(backend: Backend, tuning_job: TrainingJobView) -> None:
    # Given a completed tuning job
    assert tuning_job.hpo is not None
    best = tuning_job.hpo.bestHyperparameters
    # When a user trains from it, overriding only the number of epochs
    job = backend.train({"hpoJobId": tuning_job.jobId, "hyperparameters": {"epochs": 2}})
    # Then the model is READY and serves predictions
    assert job.status == "READY", job
    assert finite_numbers(backend.client.infer(jobId=job.jobId, input=CROP_ROW).predictions)
    # And its training job ran with the best hyperparameters, the user's override and the HPO job's target
    used = backend.sagemaker.describe_training_job(TrainingJobName=job.resources["trainingJobName"])["HyperParameters"]
    assert {name: used.get(name) for name in best} == best
    assert used["epochs"] == "2"
    assert used["target"] == tuning_job.request["target"]
    assert backend.client.delete_model(job.jobId).status == "DELETED"  # cleanup: free the endpoint


def test_throttled_create_endpoint_is_retried_and_the_job_becomes_ready(backend: Backend) -> None:
    # Given SageMaker throttles the next CreateEndpoint call
    backend.runtime.faults.throttle("CreateEndpoint", count=1)
    # When a user trains a model
    job = backend.train({**backend.regression, "hyperparameters": FAST})
    # Then the throttling was absorbed: the job is READY with a clean history and the endpoint serves
    assert not [f for f in backend.runtime.faults.armed() if f.fault == "throttle"], (
        "the throttling fault was never hit"
    )
    assert job.status == "READY", job
    assert [h.status for h in job.history] == [*TRAIN_STATUSES, "READY"]
    assert finite_numbers(backend.client.infer(jobId=job.jobId, input=CROP_ROW).predictions)
    assert [n["message"]["status"] for n in backend.notifications_for(job.jobId)] == ["READY"]
    assert backend.client.delete_model(job.jobId).status == "DELETED"  # cleanup: free the endpoint


def test_a_lost_create_response_is_followed_and_the_job_becomes_ready(backend: Backend) -> None:
    # Given SageMaker creates the next training job but its response is lost (the caller sees a 500)
    backend.runtime.faults.lose_response("CreateTrainingJob")
    # When a user trains a model
    job = backend.train({**backend.regression, "hyperparameters": FAST})
    # Then the retried create met the job it had started, which the workflow followed: the job is READY with a
    # clean history, from that one training job, and the endpoint serves
    assert not [f for f in backend.runtime.faults.armed() if f.fault == "lose_response"], "the fault was never hit"
    assert job.status == "READY", job
    assert [h.status for h in job.history] == [*TRAIN_STATUSES, "READY"]
    training = backend.sagemaker.describe_training_job(TrainingJobName=job.resources["trainingJobName"])
    assert training["TrainingJobStatus"] == "Completed"
    assert finite_numbers(backend.client.infer(jobId=job.jobId, input=CROP_ROW).predictions)
    assert [n["message"]["status"] for n in backend.notifications_for(job.jobId)] == ["READY"]
    assert backend.client.delete_model(job.jobId).status == "DELETED"  # cleanup: free the endpoint


# In-place updates -----------------------------------------------------------------------------------


def test_in_place_update_serves_the_new_model_from_the_same_endpoint(
    backend: Backend, updated_endpoint: tuple[TrainingJobView, TrainingJobView, float]
) -> None:
    # Given job A READY / When job B is trained with updateEndpointOf A (fixture)
    first, second, before = updated_endpoint
    endpoint = first.resources["endpointName"]
    # Then B is READY on A's endpoint, now running B's endpoint config; no second endpoint exists
    assert second.status == "READY", second
    assert second.resources["endpointName"] == endpoint
    assert backend.sagemaker.describe_endpoint(EndpointName=endpoint)["EndpointConfigName"] == second.jobId
    assert second.jobId not in backend.endpoints()
    # And A is SUPERSEDED by B and can no longer be used for predictions by its job id
    previous = backend.client.get_model(first.jobId)
    assert previous.status == "SUPERSEDED"
    assert previous.supersededBy == second.jobId
    with pytest.raises(ConflictError):
        backend.client.infer(jobId=first.jobId, input=CROP_ROW)
    # And the endpoint, by name or by B's job id, answers with B's model, not A's
    by_name = backend.client.infer(endpointName=endpoint, input=CROP_ROW).predictions[0]
    by_job = backend.client.infer(jobId=second.jobId, input=CROP_ROW).predictions[0]
    assert by_name == pytest.approx(by_job)
    assert by_name != pytest.approx(before)
    assert [n["message"]["status"] for n in backend.notifications_for(second.jobId)] == ["READY"]


def test_failed_in_place_update_rolls_back_and_the_serving_job_stays_ready(
    backend: Backend, updated_endpoint: tuple[TrainingJobView, TrainingJobView, float]
) -> None:
    # Given job B READY on an endpoint
    _, serving, _ = updated_endpoint
    endpoint = serving.resources["endpointName"]
    prediction = backend.client.infer(jobId=serving.jobId, input=CROP_ROW).predictions[0]
    # When job C updates that endpoint and its new configuration fails to deploy
    backend.runtime.faults.fail_next_endpoint_update("the new variant failed its health check")
    job = backend.train({**backend.regression, "hyperparameters": FAST, "updateEndpointOf": serving.jobId})
    # Then C is ERROR because the endpoint rolled back, and says why
    assert job.status == "ERROR", job
    assert job.error == "EndpointRolledBack"
    assert job.errorCause is not None and "the new variant failed its health check" in job.errorCause
    # And B is still READY, its configuration still serves, with the same predictions as before
    assert backend.client.get_model(serving.jobId).status == "READY"
    assert backend.sagemaker.describe_endpoint(EndpointName=endpoint)["EndpointConfigName"] == serving.jobId
    assert backend.endpoints()[endpoint] == "InService"
    assert backend.client.infer(jobId=serving.jobId, input=CROP_ROW).predictions[0] == pytest.approx(prediction)
    assert backend.client.infer(endpointName=endpoint, input=CROP_ROW).predictions[0] == pytest.approx(prediction)
    # And C left nothing: one ERROR notification, no model, config or process of its own
    backend.assert_failed_cleanly(job)


# Failures -------------------------------------------------------------------------------------------


def test_failed_training_job_is_an_error_with_its_reason(backend: Backend) -> None:
    # Given the next training job fails with a reason
    reason = "ResourceLimitExceeded: no ml.m5.large capacity for training"
    backend.runtime.faults.fail_next_training_job(reason)
    # When a user trains a model
    job = backend.train({**backend.regression, "hyperparameters": FAST})
    # Then the job is ERROR right after training, with the training job's reason as the cause
    assert [h.status for h in job.history] == ["SUBMITTED", "TRAINING_MODEL", "ERROR"]
    assert job.error == "TrainingJobFailed"
    assert job.errorCause is not None and reason in job.errorCause
    backend.assert_failed_cleanly(job)


def test_non_numeric_feature_fails_the_job_with_the_containers_message(backend: Backend) -> None:
    # Given a CSV whose header has the target but one feature cell holds a word
    body = {"dataUri": backend.uri("e2e/bad/crop_yield.csv"), "target": REGRESSION_TARGET, "hyperparameters": FAST}
    # When a user trains on it (the submission is accepted: the header is fine)
    job = backend.train(body)
    # Then the container's own message, naming column, value and line, is the job's error cause
    assert job.error == "TrainingJobFailed"
    assert job.errorCause is not None
    for fragment in ("sunshine_h", "'sunny'", "line 7"):
        assert fragment in job.errorCause, job.errorCause
    backend.assert_failed_cleanly(job)


def test_failed_endpoint_is_an_error_and_its_resources_are_removed(backend: Backend) -> None:
    # Given the next endpoint fails its health check
    reason = "the primary container did not pass the ping health check (e2e)"
    backend.runtime.faults.fail_next_endpoint(reason)
    # When a user trains a model
    job = backend.train({**backend.regression, "hyperparameters": FAST})
    # Then the job got as far as deploying, then ERROR with the endpoint's failure reason
    assert [h.status for h in job.history] == [*TRAIN_STATUSES, "ERROR"]
    assert job.error == "EndpointFailed"
    assert job.errorCause is not None and reason in job.errorCause
    # And its endpoint, endpoint config and model are gone
    backend.assert_failed_cleanly(job)


def test_endpoint_missing_its_deadline_is_an_error_and_is_deleted(backend: Backend) -> None:
    # Given an endpoint that will never become InService
    backend.runtime.faults.hang_next_endpoint()
    # When a user trains a model with a short deployment deadline
    body = {**backend.regression, "hyperparameters": FAST, "deployment": {"deadlineSeconds": DEADLINE_SECONDS}}
    job = backend.train(body)
    # Then the job is ERROR once the deadline has passed, explaining that the endpoint was not InService in time
    assert [h.status for h in job.history] == [*TRAIN_STATUSES, "ERROR"]
    assert job.error == "EndpointDeadlineExceeded"
    assert job.errorCause is not None and f"within {DEADLINE_SECONDS} s" in job.errorCause
    # And the hanging endpoint, its config and model are deleted
    backend.assert_failed_cleanly(job)
