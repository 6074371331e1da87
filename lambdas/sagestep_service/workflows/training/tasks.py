"""Inputs of the state-machine task functions (what the ASL passes them)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict


class _Task(BaseModel):
    model_config = ConfigDict(extra="ignore")


class HpoResultsTask(_Task):
    """``TrainingHpoResults``: where the search's results are."""

    jobId: str
    strategy: Literal["in-container", "sagemaker"]
    modelArtifactUri: str | None = None
    tuningJobName: str | None = None


class FinishDeploymentTask(_Task):
    """``TrainingFinishDeployment``: the deployed endpoint and the training metrics."""

    jobId: str
    deployMode: Literal["CREATE", "UPDATE"]
    endpointName: str
    previousJobId: str | None = None
