"""Typed settings of the translation workflow's functions (names documented in docs/architecture.md)."""

from __future__ import annotations

from pydantic import Field

from sagestep_service.platform.settings import CommonSettings, DataSettings


class StagingSettings(CommonSettings):
    """What the task functions need: where a job's staging, Translate output and results live."""

    artifact_bucket: str = Field(alias="ARTIFACT_BUCKET", min_length=1)


class TranslationSettings(DataSettings):
    """What submitting and showing translation jobs needs (API function, queue entry)."""

    translation_state_machine_arn: str = Field(alias="TRANSLATION_STATE_MACHINE_ARN", min_length=1)
    artifact_bucket: str = Field(alias="ARTIFACT_BUCKET", min_length=1)
    translate_role_arn: str = Field(alias="TRANSLATE_ROLE_ARN", min_length=1)
    data_key_arn: str = Field(alias="DATA_KEY_ARN", min_length=1)
    deadline_seconds: int = Field(default=6 * 3600, alias="TRANSLATION_DEADLINE_SECONDS", ge=60)
    #: Data bucket prefixes (comma-separated) that SQS messages may name as input and output.
    queue_prefixes: str = Field(default="queue/", alias="TRANSLATION_QUEUE_PREFIXES")
    #: The owner the jobs started from the queue belong to.
    queue_owner: str = Field(default="queue", alias="TRANSLATION_QUEUE_OWNER", min_length=1)

    @property
    def allowed_queue_prefixes(self) -> tuple[str, ...]:
        return tuple(prefix.strip() for prefix in self.queue_prefixes.split(",") if prefix.strip())
