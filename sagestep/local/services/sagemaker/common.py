"""What the parts of the SageMaker emulation share: one lock, the shutdown flag, moto's backend, events."""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sagestep.local.services.base import ServiceContext

TERMINAL_JOB_STATUSES = frozenset({"Completed", "Failed", "Stopped"})


@dataclass
class Shared:
    """State shared by training, tuning and hosting.

    ``lock`` guards the emulation's own records and the moto job objects it changes; ``closing`` is set
    when the emulation shuts down; ``emit`` queues an ``aws.sagemaker`` event.
    """

    context: ServiceContext
    emit: Callable[[str, str, dict[str, Any]], None]
    lock: threading.RLock = field(default_factory=threading.RLock)
    closing: threading.Event = field(default_factory=threading.Event)

    def backend(self) -> Any:
        """moto's SageMaker backend of the emulator's account and region."""
        from moto.sagemaker.models import sagemaker_backends

        return sagemaker_backends[self.context.account_id][self.context.region]

    def arn(self, kind: str, name: str) -> str:
        return f"arn:aws:sagemaker:{self.context.region}:{self.context.account_id}:{kind}/{name.lower()}"


def utcnow() -> Any:
    """The current time as moto's SageMaker records hold it."""
    from moto.core import utils

    return utils.utcnow()


def tag_map(tags: Sequence[Mapping[str, str]] | None) -> dict[str, str]:
    """``[{"Key": k, "Value": v}]`` -> ``{k: v}``, as SageMaker's events carry tags."""
    return {t["Key"]: t.get("Value", "") for t in tags or []}


def split_s3(uri: str) -> tuple[str, str]:
    if not uri.startswith("s3://"):
        raise ValueError(f"not an S3 URI: {uri}")
    bucket, _, key = uri[5:].partition("/")
    return bucket, key
