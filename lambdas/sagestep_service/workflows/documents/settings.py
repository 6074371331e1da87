"""Typed settings of the documents workflow's functions (names documented in docs/architecture.md)."""

from __future__ import annotations

from pydantic import Field

from sagestep_service.platform.settings import CommonSettings, DataSettings


class WorkSettings(CommonSettings):
    """What the task functions need: the job area, the paragraphs table."""

    artifact_bucket: str = Field(alias="ARTIFACT_BUCKET", min_length=1)
    paragraphs_table_name: str = Field(alias="PARAGRAPHS_TABLE_NAME", min_length=1)


class DocumentsSettings(DataSettings):
    """What submitting and showing documents jobs needs (API function, upload trigger)."""

    documents_state_machine_arn: str = Field(alias="DOCUMENTS_STATE_MACHINE_ARN", min_length=1)
    artifact_bucket: str = Field(alias="ARTIFACT_BUCKET", min_length=1)
    paragraphs_table_name: str = Field(alias="PARAGRAPHS_TABLE_NAME", min_length=1)
    textract_topic_arn: str = Field(alias="TEXTRACT_TOPIC_ARN", min_length=1)
    textract_role_arn: str = Field(alias="TEXTRACT_ROLE_ARN", min_length=1)
    deadline_seconds: int = Field(default=3600, alias="DOCUMENTS_DEADLINE_SECONDS", ge=60)
