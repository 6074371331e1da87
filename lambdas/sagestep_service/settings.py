"""Typed settings read from the Lambda environment (names documented in docs/architecture.md).

Each function declares the model it needs; a missing variable fails the first invocation loudly
instead of surfacing later as a confusing AWS error.
"""

from __future__ import annotations

import os
from functools import cache
from typing import TypeVar

from pydantic import BaseModel, ConfigDict, Field


class CommonSettings(BaseModel):
    """What every sagestep function needs."""

    model_config = ConfigDict(populate_by_name=True, frozen=True, extra="ignore")

    jobs_table_name: str = Field(alias="JOBS_TABLE_NAME", min_length=1)
    stack_name: str = Field(default="sagestep", alias="STACK_NAME", min_length=1)


class TrainingSettings(CommonSettings):
    """What building a training/HPO/deployment plan needs (API function)."""

    training_state_machine_arn: str = Field(alias="TRAINING_STATE_MACHINE_ARN", min_length=1)
    data_bucket: str = Field(alias="DATA_BUCKET", min_length=1)
    artifact_bucket: str = Field(alias="ARTIFACT_BUCKET", min_length=1)
    sagemaker_role_arn: str = Field(alias="SAGEMAKER_ROLE_ARN", min_length=1)
    training_image_uri: str = Field(alias="TRAINING_IMAGE_URI", min_length=1)
    training_instance_type: str = Field(default="ml.m5.large", alias="TRAINING_INSTANCE_TYPE")
    endpoint_instance_type: str = Field(default="ml.m5.large", alias="ENDPOINT_INSTANCE_TYPE")
    endpoint_deadline_seconds: int = Field(default=3600, alias="ENDPOINT_DEADLINE_SECONDS", ge=1)


class NotificationSettings(CommonSettings):
    """What publishing a job's notification needs."""

    topic_arn: str = Field(alias="TOPIC_ARN", min_length=1)


class DeploymentSettings(CommonSettings):
    """What finishing a deployment (eviction, hand-over) needs."""

    max_endpoints: int = Field(default=5, alias="MAX_ENDPOINTS", ge=1)


S = TypeVar("S", bound=BaseModel)


@cache
def load(model: type[S]) -> S:
    """Read ``model`` from the environment once per process."""
    return model.model_validate(dict(os.environ))
