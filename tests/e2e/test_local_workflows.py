"""Workflows as a user gets them through the local runtime's API: train, tune either way, train from a tuning
job, predict; each run once, asserting what the API, the notifications and the account show and the states its
execution entered. Failure and retry paths (faults, deadlines, rejected data, throttling, a failed in-place
update) run in ``tests/statemachines``, which asserts the user's view of them too (``tests/e2e/__init__.py``).
"""

from __future__ import annotations

import csv
import math
import re

import pytest

from sagestep_service.workflows.training.models import TrainingJobView
from sagestep_training.datasets import CLASSIFICATION_CSV, CLASSIFICATION_TARGET
from tests.e2e.conftest import CROP_ROW, FAST, TRAIN_STATUSES, Backend, finite_numbers

#: The states of a TRAIN job that creates its endpoint, in order.
TRAIN_STATES = [
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
HPO_STATUSES = ["SUBMITTED", "HPO_RUNNING", "HPO_COMPLETED"]
ISO_MILLIS = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")  # 2026-11-22T13:55:01.123Z
FERTILIZER_SWEEP = {"start": 0.0, "end": 200.0, "step": 25.0}


# Shared jobs ----------------------------------------------------------------------------------------
# (``regression_job``, the folder's READY regression model, is in conftest.py)


@pytest.fixture(scope="module")
def tuning_job(backend: Backend) -> TrainingJobView:
    return backend.hpo({**backend.regression, "strategy": "sagemaker", "maxTrials": 2, "epochsPerTrial": 2})


# Happy paths ----------------------------------------------------------------------------------------


def test_training_job_becomes_ready_with_metrics_history_and_one_notification(
    backend: Backend, regression_job: TrainingJobView
) -> None:
    # Given a regression dataset in the data bucket / When a user trains a model (fixture)
    job = regression_job
    # Then its execution passed every TRAIN state once, creating an endpoint
    execution = backend.execution(job.jobId)
    assert execution.status == "SUCCEEDED"
    assert execution.entered == TRAIN_STATES
    # And the job is READY, went through every status in order and serves from its own endpoint
    assert job.status == "READY", job
    assert [h.status for h in job.history] == [*TRAIN_STATUSES, "READY"]
    assert job.error is None and job.errorCause is None
    resources = job.resources
    assert resources["endpointName"] == resources["modelName"] == resources["endpointConfigName"] == job.jobId
    assert resources["modelArtifactUri"].endswith(f"/{job.jobId}/output/model.tar.gz")
    assert backend.endpoints()[job.jobId] == "InService"
    # And the record carries the training job's final metrics
    assert {"validation_loss", "validation_abs_err_p95"} <= job.metrics.keys()
    assert all(math.isfinite(v) and v >= 0 for v in job.metrics.values())
    assert job.metrics["validation_abs_err_p95"] > 0
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
    # Then its execution ran the search in the container, not as a tuning job
    execution = backend.execution(job.jobId)
    assert execution.status == "SUCCEEDED"
    assert "RunHpoInContainer" in execution.entered and "RunTuningJob" not in execution.entered
    # And the job is HPO_COMPLETED with the objective, the best hyperparameters and both trials
    assert job.status == "HPO_COMPLETED", job
    assert [h.status for h in job.history] == HPO_STATUSES
    assert job.hpo is not None
    assert job.hpo.strategy == "in-container"
    assert job.hpo.objective.name == "validation_abs_err_p95"
    assert job.hpo.objective.direction.lower() == "minimize"
    assert job.hpo.objective.value is not None and math.isfinite(job.hpo.objective.value)
    assert job.hpo.objective.value > 0
    assert len(job.hpo.trials) == 2
    values = [t.value for t in job.hpo.trials if t.value is not None]
    assert job.hpo.objective.value == pytest.approx(min(values))
    assert {"hidden_layers", "hidden_units", "learning_rate"} <= job.hpo.bestHyperparameters.keys()
    # And one notification announced it with the objective and the best hyperparameters
    [note] = backend.notifications_for(job.jobId)
    assert note["attributes"] == {"kind": "hpo", "status": "HPO_COMPLETED"}
    assert note["message"]["summary"]["objective"]["value"] == pytest.approx(job.hpo.objective.value)
    assert note["message"]["summary"]["bestHyperparameters"] == job.hpo.bestHyperparameters


def test_sagemaker_tuning_completes_with_one_trial_per_allowed_training_job(
    backend: Backend, tuning_job: TrainingJobView
) -> None:
    # Given / When a user runs native SageMaker tuning with maxTrials 2 (fixture)
    job = tuning_job
    # Then its execution ran a tuning job, not the in-container search
    execution = backend.execution(job.jobId)
    assert execution.status == "SUCCEEDED"
    assert "RunTuningJob" in execution.entered and "RunHpoInContainer" not in execution.entered
    # And the job is HPO_COMPLETED with exactly maxTrials trials; the best one's value and
    # hyperparameters are the job's objective and best hyperparameters
    assert job.status == "HPO_COMPLETED", job
    assert [h.status for h in job.history] == HPO_STATUSES
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
