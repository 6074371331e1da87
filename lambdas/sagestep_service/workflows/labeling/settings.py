"""Typed settings of the labeling workflow's functions (names documented in docs/architecture.md)."""

from __future__ import annotations

import fnmatch

from pydantic import Field

from sagestep_service.platform.settings import DataSettings


def _listed(value: str) -> tuple[str, ...]:
    return tuple(item.strip() for item in value.split(",") if item.strip())


class LabelingTaskSettings(DataSettings):
    """What the state machine's task functions need: where batches' files live, what Ground Truth is given."""

    data_key_arn: str = Field(alias="DATA_KEY_ARN", min_length=1)
    #: The region the labeling jobs run in (Ground Truth's own Lambdas and worker UIs are per region).
    region: str = Field(alias="AWS_REGION", min_length=1)
    #: sagestep's own pre-annotation and consolidation functions.
    pre_annotation_function_arn: str = Field(alias="LABELING_PRE_ANNOTATION_FUNCTION_ARN", min_length=1)
    consolidation_function_arn: str = Field(alias="LABELING_CONSOLIDATION_FUNCTION_ARN", min_length=1)


class LabelingSettings(DataSettings):
    """What submitting, showing and stopping batches needs (API function)."""

    labeling_state_machine_arn: str = Field(alias="LABELING_STATE_MACHINE_ARN", min_length=1)
    artifact_bucket: str = Field(alias="ARTIFACT_BUCKET", min_length=1)
    #: The work team of jobs that name none (the deployment's private team).
    default_workteam_arn: str = Field(alias="LABELING_WORKTEAM_ARN", min_length=1)
    deadline_seconds: int = Field(default=14 * 24 * 3600, alias="LABELING_DEADLINE_SECONDS", ge=60)
    #: SNS topics a batch's ``destinationSnsArn`` may name: ARNs or ARN patterns with ``*`` (comma-separated).
    destination_topics: str = Field(default="", alias="LABELING_DESTINATION_TOPICS")
    #: Lambda functions ``Custom`` jobs may name as their pre-/post-labeling Lambdas (ARNs or patterns).
    custom_lambdas: str = Field(default="", alias="LABELING_CUSTOM_LAMBDAS")

    def topic_allowed(self, arn: str) -> bool:
        return any(fnmatch.fnmatchcase(arn, pattern) for pattern in _listed(self.destination_topics))

    def lambda_allowed(self, arn: str) -> bool:
        return any(fnmatch.fnmatchcase(arn, pattern) for pattern in _listed(self.custom_lambdas))
