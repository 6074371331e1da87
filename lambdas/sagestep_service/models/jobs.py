"""The job record: kinds, statuses and the view the API returns."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class JobKind(StrEnum):
    """What a job does; also the first word of its id."""

    MODEL = "model"
    HPO = "hpo"


class JobStatus(StrEnum):
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
        return self in _RUNNING

    @property
    def terminal(self) -> bool:
        """Whether the job's workflow has ended (successfully or not)."""
        return not self.running


_RUNNING = frozenset(
    {
        JobStatus.SUBMITTED,
        JobStatus.TRAINING_MODEL,
        JobStatus.CREATING_MODEL,
        JobStatus.CONFIGURING_ENDPOINT,
        JobStatus.DEPLOYING_ENDPOINT,
        JobStatus.HPO_RUNNING,
    }
)


class StatusChange(BaseModel):
    """One entry of a job's status history."""

    status: str
    at: str


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


class JobView(BaseModel):
    """A job as the API shows it to its owner."""

    model_config = ConfigDict(extra="ignore")

    jobId: str
    kind: JobKind
    status: JobStatus
    createdAt: str
    updatedAt: str
    request: dict[str, Any] = Field(default_factory=dict)
    resources: dict[str, str] = Field(default_factory=dict)
    metrics: dict[str, float] = Field(default_factory=dict)
    hpo: HpoResult | None = None
    error: str | None = None
    errorCause: str | None = None
    supersededBy: str | None = None
    updatingBy: str | None = Field(default=None, description="A job updating this job's endpoint in place.")
    history: list[StatusChange] = Field(default_factory=list)


class JobPage(BaseModel):
    """One page of a job listing, newest first."""

    items: list[JobView]
    nextCursor: str | None = Field(
        default=None, description="Pass as `cursor` to get the next page; absent on the last page."
    )
