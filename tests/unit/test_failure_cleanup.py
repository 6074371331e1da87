"""Failure cleanup (logic/failure.py ``clean_up``) stops the run's own training or tuning job if it still runs —
e.g. a CreateTrainingJob whose response was lost, retried, and failed on the name in use — and leaves jobs that
ended, or that never existed, alone."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

from sagestep_service.workflows.training import failure

NOT_FOUND = {"Error": {"Code": "ValidationException", "Message": "Requested resource not found."}}
THROTTLED = {"Error": {"Code": "ThrottlingException", "Message": "Rate exceeded"}}


class FakeSageMaker:
    """Training and tuning jobs by name -> status (absent: unknown); records the stops."""

    def __init__(self, jobs: dict[str, str], describe_error: dict[str, Any] | None = None) -> None:
        self.jobs = jobs
        self.describe_error = describe_error
        self.stopped: list[str] = []

    def _status(self, name: str) -> str:
        if self.describe_error:
            raise ClientError(self.describe_error, "Describe")  # type: ignore[arg-type]
        if name not in self.jobs:
            raise ClientError(NOT_FOUND, "Describe")  # type: ignore[arg-type]
        return self.jobs[name]

    def describe_training_job(self, TrainingJobName: str) -> dict[str, Any]:
        return {"TrainingJobName": TrainingJobName, "TrainingJobStatus": self._status(TrainingJobName)}

    def describe_hyper_parameter_tuning_job(self, HyperParameterTuningJobName: str) -> dict[str, Any]:
        return {"HyperParameterTuningJobStatus": self._status(HyperParameterTuningJobName)}

    def stop_training_job(self, TrainingJobName: str) -> None:
        self.stopped.append(TrainingJobName)

    def stop_hyper_parameter_tuning_job(self, HyperParameterTuningJobName: str) -> None:
        self.stopped.append(HyperParameterTuningJobName)


TRAINING_PLAN = {"trainingJob": {"TrainingJobName": "hpo-1"}}  # an in-container HPO run: no model, no endpoint
TUNING_PLAN = {"tuningJob": {"HyperParameterTuningJobName": "hpo-2"}}


@pytest.mark.parametrize(
    ("plan", "name", "what"),
    [(TRAINING_PLAN, "hpo-1", "training-job/hpo-1"), (TUNING_PLAN, "hpo-2", "tuning-job/hpo-2")],
)
def test_a_job_still_in_progress_is_stopped_and_reported(plan: dict[str, Any], name: str, what: str) -> None:
    sagemaker = FakeSageMaker({name: "InProgress"})
    cleanup = failure.clean_up(sagemaker, name, plan)
    assert sagemaker.stopped == [name]
    assert cleanup.deleted == [f"{what} (stopped)"]
    assert cleanup.left == []


@pytest.mark.parametrize("status", ["Completed", "Failed", "Stopped", "Stopping"])
def test_a_job_that_ended_or_is_stopping_is_left_alone(status: str) -> None:
    sagemaker = FakeSageMaker({"hpo-1": status})
    cleanup = failure.clean_up(sagemaker, "hpo-1", TRAINING_PLAN)
    assert (sagemaker.stopped, cleanup.deleted, cleanup.left) == ([], [], [])


def test_a_job_that_was_never_created_is_nothing_to_clean() -> None:
    sagemaker = FakeSageMaker({})
    cleanup = failure.clean_up(sagemaker, "hpo-1", TRAINING_PLAN)
    assert (sagemaker.stopped, cleanup.deleted, cleanup.left) == ([], [], [])


def test_a_job_that_could_not_be_checked_is_reported_as_left() -> None:
    sagemaker = FakeSageMaker({"hpo-1": "InProgress"}, describe_error=THROTTLED)
    cleanup = failure.clean_up(sagemaker, "hpo-1", TRAINING_PLAN)
    assert sagemaker.stopped == []
    assert cleanup.left == ["training-job/hpo-1 (ThrottlingException)"]
