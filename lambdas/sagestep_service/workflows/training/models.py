"""The training workflow's request bodies, job views, kinds and statuses.

Field names are camelCase like the rest of the API; hyperparameters are the container's own names
(bring-your-own-container) and are passed through as strings.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from enum import StrEnum
from typing import Annotated, Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator, model_validator

from sagestep_service.platform.models import JobPage, JobView
from sagestep_service.workflows.training import RUNNING_STATUSES, reference_fields

JOB_ID_PATTERN = r"^(model|hpo)-[a-z0-9-]{8,40}$"
S3_URI_PATTERN = re.compile(r"^s3://(?P<bucket>[a-z0-9][a-z0-9.-]{1,61}[a-z0-9])/(?P<key>.*)$")
HYPERPARAMETER_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_.-]{0,255}$")

#: The hyperparameters sagestep's training container accepts (``PARSERS`` of
#: containers/training/sagestep_training/hyperparameters.py: the Lambda asset does not ship that package, and
#: tests/unit/test_hyperparameters.py keeps the two equal).
CONTAINER_HYPERPARAMETERS = frozenset(
    {
        "target",
        "problem_type",
        "mode",
        "hidden_layers",
        "hidden_units",
        "dropout",
        "batch_norm",
        "optimizer",
        "activation",
        "learning_rate",
        "epochs",
        "batch_size",
        "lr_patience",
        "early_stopping_patience",
        "validation_fraction",
        "seed",
        "hpo_trials",
        "hpo_data_fraction",
        "hpo_epochs",
    }
)
#: Container hyperparameters sagestep sets from the request, and the request field that sets each.
SET_FROM_REQUEST = {
    "target": "target",
    "problem_type": "problemType",
    "mode": "the route (POST /model trains, POST /hpo searches)",
    "hpo_trials": "maxTrials (POST /hpo)",
    "hpo_data_fraction": "dataFraction (POST /hpo)",
    "hpo_epochs": "epochsPerTrial (POST /hpo)",
}
#: SageMaker's own hyperparameters (e.g. ``_tuning_objective_metric``) reach every container; never refused.
SAGEMAKER_HYPERPARAMETER_PREFIXES = ("_", "sagemaker_")

ProblemType = Literal["regression", "classification"]
Scalar = str | int | float | bool
JobId = Annotated[str, Field(pattern=JOB_ID_PATTERN, description="A job id returned by a submission.")]
InstanceType = Annotated[str, Field(pattern=r"^ml\.[a-z0-9]+\.[a-z0-9]+$", examples=["ml.m5.large"])]


class _Strict(BaseModel):
    # Request bodies are built on first use: a cold start builds only the models of the route it serves.
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, defer_build=True)

    #: Fields of the reference web app's body for this request -> sagestep's field (a 400 names it).
    REFERENCE_FIELDS: ClassVar[Mapping[str, str]] = {}

    @model_validator(mode="before")
    @classmethod
    def _reference_fields(cls, data: Any) -> Any:
        reference_fields.reject(cls.__name__, data, cls.REFERENCE_FIELDS)
        return data


def _check_hyperparameters(value: dict[str, Scalar]) -> dict[str, Scalar]:
    for name, item in value.items():
        if not HYPERPARAMETER_NAME.match(name):
            raise ValueError(f"invalid hyperparameter name {name!r}")
        if isinstance(item, float) and not math.isfinite(item):
            raise ValueError(f"hyperparameter {name!r} must be a finite number")
        if len(str(item)) > 2500:
            raise ValueError(f"hyperparameter {name!r} is longer than 2500 characters")
    if len(value) > 64:
        # SageMaker takes 100 per job; sagestep adds its own and an HPO job's best ones.
        raise ValueError("at most 64 hyperparameters")
    return value


class DataSpec(_Strict):
    """Where the training data is and what to predict."""

    dataUri: str | None = Field(
        default=None,
        description="s3:// URI of a CSV file or a prefix of CSV files (with a header row) in the data bucket.",
        examples=["s3://my-data-bucket/housing/train.csv"],
    )
    target: str | None = Field(default=None, min_length=1, max_length=256, description="Target column.")
    problemType: ProblemType | None = Field(
        default=None,
        description="Inferred from a sample of the target column when omitted: a number that is not a whole number "
        "means regression; else text means classification; else whole numbers mean classification when at most 2 "
        "distinct, or at most 20 distinct with at least 5 rows each on average, and regression otherwise. The job "
        "shows the decision (`problemType`, `problemTypeInferred`).",
    )

    @field_validator("dataUri")
    @classmethod
    def _s3_uri(cls, value: str | None) -> str | None:
        if value is not None and not S3_URI_PATTERN.match(value):
            raise ValueError("must look like s3://bucket/key")
        return value


class Deployment(_Strict):
    """How the trained model is served."""

    instanceType: InstanceType | None = None
    instanceCount: int = Field(default=1, ge=1, le=10)
    deadlineSeconds: int | None = Field(
        default=None,
        ge=1,
        le=86400,
        description="Fail the job if the endpoint is not InService within this many seconds (AWS endpoints "
        "usually need 5-10 minutes).",
    )
    autoRollbackAlarmName: str | None = Field(
        default=None,
        min_length=1,
        max_length=255,
        description="In-place updates only: a CloudWatch alarm that rolls the update back when it fires.",
    )
    trafficRouting: Literal["ALL_AT_ONCE", "CANARY"] = Field(
        default="ALL_AT_ONCE", description="In-place updates only: blue/green traffic shifting."
    )


class _FromHpo(_Strict):
    # A base of its own so that it is validated before the data fields whose need it decides.
    hpoJobId: JobId | None = Field(
        default=None,
        description="Train with the best hyperparameters of this HPO job (its data and target are the default).",
    )


class TrainRequest(DataSpec, _FromHpo):
    """``POST /model``: train a model and deploy it to an endpoint."""

    model_config = ConfigDict(validate_default=True)
    REFERENCE_FIELDS = reference_fields.TRAIN

    hyperparameters: dict[str, Scalar] = Field(default_factory=dict)
    updateEndpointOf: JobId | None = Field(
        default=None,
        description="Update the endpoint of this READY model job in place (blue/green) instead of creating one.",
    )
    instanceType: InstanceType | None = None
    maxRuntimeSeconds: int = Field(default=86400, ge=60, le=432000)
    deployment: Deployment = Field(default_factory=Deployment)
    description: str | None = Field(default=None, max_length=256)

    _hyperparameters = field_validator("hyperparameters")(_check_hyperparameters)

    @field_validator("dataUri", "target")
    @classmethod
    def _required_without_hpo(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is None and info.data.get("hpoJobId") is None:
            raise ValueError("is required unless hpoJobId is given")
        return value


class HpoRequest(DataSpec):
    """``POST /hpo``: search hyperparameters."""

    REFERENCE_FIELDS = reference_fields.HPO

    dataUri: str = Field(
        description="s3:// URI of a CSV file or a prefix of CSV files in the data bucket.",
        examples=["s3://my-data-bucket/housing/train.csv"],
    )
    target: str = Field(min_length=1, max_length=256)
    strategy: Literal["in-container", "sagemaker"] = Field(
        default="in-container",
        description="`in-container`: the container runs Bayesian search (Optuna TPE) in one training job; "
        "`sagemaker`: a native SageMaker tuning job (Bayesian) runs one training job per trial.",
    )
    maxTrials: int = Field(default=10, ge=1, le=200)
    maxParallelTrials: int = Field(default=1, ge=1, le=10, description="`sagemaker` strategy only.")
    dataFraction: float = Field(default=0.5, gt=0, le=1, description="`in-container` strategy only.")
    epochsPerTrial: int = Field(default=20, ge=1, le=1000)
    hyperparameters: dict[str, Scalar] = Field(default_factory=dict, description="Fixed hyperparameters.")
    instanceType: InstanceType | None = None
    maxRuntimeSeconds: int = Field(default=86400, ge=60, le=432000)
    description: str | None = Field(default=None, max_length=256)

    _hyperparameters = field_validator("hyperparameters")(_check_hyperparameters)


class SweepRange(_Strict):
    """Values for the last input: start, start+step, ... up to end (inclusive)."""

    start: float
    end: float
    step: float = Field(gt=0)

    @model_validator(mode="after")
    def _bounded(self) -> SweepRange:
        if not all(math.isfinite(v) for v in (self.start, self.end, self.step)):
            raise ValueError("start, end and step must be finite")
        if self.end < self.start:
            raise ValueError("end must not be smaller than start")
        if (self.end - self.start) / self.step > 10_000:
            raise ValueError("the range has more than 10,001 points")
        return self

    def points(self) -> list[float]:
        """The swept values, rounded so that 0.1 steps print as 0.1, 0.2, ..."""
        count = math.floor((self.end - self.start) / self.step + 1e-9) + 1
        return [round(self.start + i * self.step, 10) for i in range(count)]


Row = list[float]


class InferRequest(_Strict):
    """``POST /infer``: predict with a deployed model."""

    REFERENCE_FIELDS = reference_fields.INFER

    jobId: JobId | None = Field(default=None, description="A READY model job.")
    endpointName: str | None = Field(default=None, min_length=1, max_length=63)
    input: list[float] | list[Row] = Field(
        description="One row of features, or several rows.", examples=[[0.5, 1.2, 3.0]]
    )
    range: SweepRange | None = Field(default=None, description="Vary the last input of one row over a range.")

    @model_validator(mode="after")
    def _consistent(self) -> InferRequest:
        if (self.jobId is None) == (self.endpointName is None):
            raise ValueError("give exactly one of jobId and endpointName")
        if not self.input:
            raise ValueError("input must not be empty")
        rows = self.rows()
        if any(not row for row in rows):
            raise ValueError("input rows must not be empty")
        if len({len(row) for row in rows}) != 1:
            raise ValueError("input rows must all have the same length")
        if any(not math.isfinite(v) for row in rows for v in row):
            raise ValueError("input values must be finite numbers")
        if self.range is not None and len(rows) != 1:
            raise ValueError("range needs exactly one input row")
        if len(rows) * (len(self.range.points()) if self.range else 1) > 10_000:
            raise ValueError("at most 10,000 rows per request")
        return self

    def rows(self) -> list[Row]:
        """The input as a list of rows."""
        first = self.input[0]
        if isinstance(first, list):
            return [list(row) for row in self.input]  # type: ignore[arg-type]
        return [list(self.input)]  # type: ignore[arg-type]


class InferResponse(BaseModel):
    """Predictions, with the swept values when a range was given."""

    model_config = ConfigDict(defer_build=True)

    predictions: list[float | int | str]
    x_axis: list[float] | None = None


class TrainingKind(StrEnum):
    """What a job does; also the first word of its id."""

    MODEL = "model"
    HPO = "hpo"


class TrainingStatus(StrEnum):
    """Every status a job can have (see docs/architecture.md for the order)."""

    SUBMITTED = "SUBMITTED"
    TRAINING_MODEL = "TRAINING_MODEL"
    CREATING_MODEL = "CREATING_MODEL"
    CONFIGURING_ENDPOINT = "CONFIGURING_ENDPOINT"
    DEPLOYING_ENDPOINT = "DEPLOYING_ENDPOINT"
    READY = "READY"
    HPO_RUNNING = "HPO_RUNNING"
    HPO_COMPLETED = "HPO_COMPLETED"
    ERROR = "ERROR"
    ENDPOINT_DELETED = "ENDPOINT_DELETED"
    SUPERSEDED = "SUPERSEDED"
    DELETED = "DELETED"

    @property
    def running(self) -> bool:
        """Whether a workflow is still working on the job."""
        return self.value in RUNNING_STATUSES

    @property
    def terminal(self) -> bool:
        """Whether the job's workflow has ended (successfully or not)."""
        return not self.running


class Trial(BaseModel):
    """One HPO trial."""

    name: str
    hyperparameters: dict[str, str] = Field(default_factory=dict)
    value: float | None = None
    state: str


class Objective(BaseModel):
    """The metric an HPO job optimised and the best value it reached."""

    name: str
    value: float | None = None
    direction: str


class HpoResult(BaseModel):
    """What an HPO job found, whichever strategy ran it."""

    strategy: str
    objective: Objective
    bestHyperparameters: dict[str, str]
    trials: list[Trial] = Field(default_factory=list)


class TrainingJobView(JobView):
    """A model or HPO job as the API shows it to its owner."""

    kind: TrainingKind
    status: TrainingStatus
    problemType: ProblemType | None = Field(default=None, description="The problem the job trains for.")
    problemTypeInferred: bool | None = Field(
        default=None, description="Whether sagestep inferred `problemType` from the data (the request gave none)."
    )
    metrics: dict[str, float] = Field(default_factory=dict)
    hpo: HpoResult | None = None
    supersededBy: str | None = None
    updatingBy: str | None = Field(default=None, description="A job updating this job's endpoint in place.")


class TrainingJobPage(JobPage):
    """One page of model or HPO jobs, newest first."""

    items: list[TrainingJobView]  # type: ignore[assignment]
