"""Typed settings of the training workflow's functions (names documented in docs/architecture.md)."""

from __future__ import annotations

from pydantic import Field

from sagestep_service.platform.settings import CommonSettings, DataSettings


class TrainingSettings(DataSettings):
    """What building a training/HPO/deployment plan needs (API function)."""

    training_state_machine_arn: str = Field(alias="TRAINING_STATE_MACHINE_ARN", min_length=1)
    artifact_bucket: str = Field(alias="ARTIFACT_BUCKET", min_length=1)
    sagemaker_role_arn: str = Field(alias="SAGEMAKER_ROLE_ARN", min_length=1)
    training_image_uri: str = Field(alias="TRAINING_IMAGE_URI", min_length=1)
    training_instance_type: str = Field(default="ml.m5.large", alias="TRAINING_INSTANCE_TYPE")
    endpoint_instance_type: str = Field(default="ml.m5.large", alias="ENDPOINT_INSTANCE_TYPE")
    endpoint_deadline_seconds: int = Field(default=3600, alias="ENDPOINT_DEADLINE_SECONDS", ge=1)


class DeploymentSettings(CommonSettings):
    """What finishing a deployment (eviction, hand-over) needs."""

    max_endpoints: int = Field(default=5, alias="MAX_ENDPOINTS", ge=1)
