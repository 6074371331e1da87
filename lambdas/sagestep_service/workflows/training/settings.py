"""Typed settings of the training workflow's functions (names documented in docs/architecture.md)."""

from __future__ import annotations

import re
from typing import Literal

from pydantic import Field

from sagestep_service.platform.settings import CommonSettings, DataSettings

#: Where sagestep's own training image lives when a deployment did not name another one: the stack builds
#: containers/training as a CDK container asset (repository ``cdk-<qualifier>-container-assets-<account>-
#: <region>``), and the local runtime runs ``sagestep-local/training``.
_SAGESTEP_IMAGE = re.compile(r"(^|/)cdk-[a-z0-9]+-container-assets-[^/:@]+[:@]|^sagestep-local/training[:@]")


class TrainingSettings(DataSettings):
    """What building a training/HPO/deployment plan needs (API function)."""

    training_state_machine_arn: str = Field(alias="TRAINING_STATE_MACHINE_ARN", min_length=1)
    artifact_bucket: str = Field(alias="ARTIFACT_BUCKET", min_length=1)
    sagemaker_role_arn: str = Field(alias="SAGEMAKER_ROLE_ARN", min_length=1)
    training_image_uri: str = Field(alias="TRAINING_IMAGE_URI", min_length=1)
    training_image_kind: Literal["sagestep", "custom"] | None = Field(default=None, alias="TRAINING_IMAGE_KIND")
    training_instance_type: str = Field(default="ml.m5.large", alias="TRAINING_INSTANCE_TYPE")
    endpoint_instance_type: str = Field(default="ml.m5.large", alias="ENDPOINT_INSTANCE_TYPE")
    endpoint_deadline_seconds: int = Field(default=3600, alias="ENDPOINT_DEADLINE_SECONDS", ge=1)

    @property
    def sagestep_image(self) -> bool:
        """Whether the training image is sagestep's own container, whose hyperparameter names the API checks.
        ``TRAINING_IMAGE_KIND`` says so explicitly (``sagestep``: e.g. the built image pushed under another name;
        ``custom``: a bring-your-own image, whose hyperparameters pass through unchecked); without it, the image
        built by the stack or run by the local runtime is sagestep's and any other URI a custom image."""
        if self.training_image_kind is not None:
            return self.training_image_kind == "sagestep"
        return bool(_SAGESTEP_IMAGE.search(self.training_image_uri))


class DeploymentSettings(CommonSettings):
    """What finishing a deployment (eviction, hand-over) needs."""

    max_endpoints: int = Field(default=5, alias="MAX_ENDPOINTS", ge=1)
