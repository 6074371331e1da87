"""Hyperparameter names are checked at submission for sagestep's own training image (an unknown name is a 400,
not a job that fails seconds later); a custom image gets them as given."""

from __future__ import annotations

import pytest

from sagestep_service.platform import settings
from sagestep_service.platform.errors import BadRequest
from sagestep_service.workflows.training import hyperparameters, models
from sagestep_service.workflows.training.settings import TrainingSettings
from sagestep_training import hyperparameters as container
from tests.unit.conftest import Backend

DATA = "s3://{bucket}/users/alice/housing/train.csv"
CDK_ASSET = (
    "123456789012.dkr.ecr.eu-west-1.amazonaws.com/cdk-hnb659fds-container-assets-123456789012-eu-west-1:"
    "562ccc300c458ad4d84e520ff06a9aa9761e8d985d0c6bd5c1cef733e4a9e31b"
)
CUSTOM = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/team/my-trainer:3"


def test_the_apis_names_are_the_containers() -> None:
    # The Lambda asset does not ship sagestep_training: the API keeps its own copy of the names
    assert set(container.PARSERS) == models.CONTAINER_HYPERPARAMETERS
    assert models.SAGEMAKER_HYPERPARAMETER_PREFIXES == container._SAGEMAKER_PREFIXES
    assert set(models.SET_FROM_REQUEST) <= models.CONTAINER_HYPERPARAMETERS


class TestNames:
    def test_an_unknown_name_is_refused_with_the_closest_known_one(self) -> None:
        with pytest.raises(BadRequest) as refused:
            hyperparameters.check_names({"epochs": 3, "hidden_unit": 8})
        assert refused.value.field == "hyperparameters.hidden_unit"
        assert "did you mean 'hidden_units'?" in refused.value.message
        assert "learning_rate" in refused.value.message

    def test_sagemakers_own_names_pass(self) -> None:
        hyperparameters.check_names({"_tuning_objective_metric": "x", "sagemaker_program": "y", "seed": 1})

    @pytest.mark.parametrize(
        ("name", "use"), [("problem_type", "problemType"), ("target", "target"), ("hpo_trials", "maxTrials")]
    )
    def test_a_name_sagestep_sets_points_to_the_request_field(self, name: str, use: str) -> None:
        with pytest.raises(BadRequest) as refused:
            hyperparameters.check_names({name: "x"})
        assert refused.value.field == f"hyperparameters.{name}"
        assert use in refused.value.message


@pytest.mark.parametrize(
    ("uri", "kind", "checked"),
    [
        (CDK_ASSET, None, True),  # the stack built containers/training
        ("sagestep-local/training:latest", None, True),  # the local runtime
        (CUSTOM, None, False),  # trainingImageUri: bring your own container
        (CUSTOM, "sagestep", True),  # sagestep's image pushed under another name
        (CDK_ASSET, "custom", False),
    ],
)
def test_which_images_get_their_names_checked(uri: str, kind: str | None, checked: bool) -> None:
    environment = {
        "JOBS_TABLE_NAME": "t",
        "TRAINING_STATE_MACHINE_ARN": "arn",
        "DATA_BUCKET": "d",
        "ARTIFACT_BUCKET": "a",
        "SAGEMAKER_ROLE_ARN": "r",
        "TRAINING_IMAGE_URI": uri,
        **({"TRAINING_IMAGE_KIND": kind} if kind else {}),
    }
    assert TrainingSettings.model_validate(environment).sagestep_image is checked


class TestSubmission:
    @pytest.mark.parametrize("route", ["/model", "/hpo"])
    def test_an_unknown_hyperparameter_is_a_400_and_starts_nothing(self, backend: Backend, route: str) -> None:
        # Given the stack's own training image and a typo in a hyperparameter name
        body = {"dataUri": DATA.format(bucket=backend.data_bucket), "target": "price"}
        response = backend.call("POST", route, body={**body, "hyperparameters": {"epoch": 5}})
        # Then the submission is refused naming the field, and no job was started
        assert response.status == 400
        assert response.body["field"] == "hyperparameters.epoch"
        assert "did you mean 'epochs'?" in response.body["message"]
        assert backend.executions() == []
        assert backend.call("GET", route).body["items"] == []

    def test_a_custom_image_gets_any_name(self, backend: Backend, monkeypatch: pytest.MonkeyPatch) -> None:
        # Given a deployment with its own training image (trainingImageUri)
        monkeypatch.setenv("TRAINING_IMAGE_URI", CUSTOM)
        settings.load.cache_clear()
        body = {"dataUri": DATA.format(bucket=backend.data_bucket), "target": "price"}
        # When a hyperparameter sagestep's container does not know is given
        response = backend.call("POST", "/model", body={**body, "hyperparameters": {"n_estimators": 300}})
        # Then it is passed to the training job as given
        assert response.status == 202
        plan = backend.execution_plan(response.body["jobId"])
        assert plan["trainingJob"]["HyperParameters"]["n_estimators"] == "300"
