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


class DataSettings(CommonSettings):
    """Where users' data lives (the API's uploads, and every workflow that reads users' files)."""

    data_bucket: str = Field(alias="DATA_BUCKET", min_length=1)


class RedriveSettings(CommonSettings):
    """The dead-letter queue and the functions its messages may be redriven to."""

    dead_letter_queue_url: str = Field(alias="DEAD_LETTER_QUEUE_URL", min_length=1)
    redrive_targets: str = Field(alias="REDRIVE_TARGETS", description="Comma-separated function ARNs.")


class NotificationSettings(CommonSettings):
    """What publishing a job's notification needs."""

    topic_arn: str = Field(alias="TOPIC_ARN", min_length=1)


S = TypeVar("S", bound=BaseModel)


@cache
def load(model: type[S]) -> S:
    """Read ``model`` from the environment once per process."""
    return model.model_validate(dict(os.environ))
