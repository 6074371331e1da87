"""Lazily created, process-wide boto3 clients.

Created on first use (not at import) so that tests and the local runtime can point the process at an
emulated endpoint before any client exists; the standard retry mode with more attempts absorbs throttling.
"""

from __future__ import annotations

from functools import cache
from typing import Any

import boto3
from botocore.config import Config

# Reads end before API Gateway's 29 s integration timeout, so a slow endpoint is a clear error, not a 504.
_CONFIG = Config(retries={"mode": "standard", "max_attempts": 6}, connect_timeout=5, read_timeout=25)


# Presigned S3 URLs must be SigV4: the data bucket is SSE-KMS encrypted, which SigV2 URLs cannot write to.
_SERVICE_CONFIG = {"s3": _CONFIG.merge(Config(signature_version="s3v4"))}


@cache
def client(service: str) -> Any:
    """The shared client for ``service``."""
    return boto3.client(service, config=_SERVICE_CONFIG.get(service, _CONFIG))  # type: ignore[call-overload]


def reset() -> None:
    """Forget every client (tests and the local runtime call this after changing the endpoint)."""
    client.cache_clear()


class Clients:
    """The clients a piece of logic may use, created on first access (tests pass fakes instead)."""

    @property
    def sagemaker(self) -> Any:
        return client("sagemaker")

    @property
    def sagemaker_runtime(self) -> Any:
        return client("sagemaker-runtime")

    @property
    def s3(self) -> Any:
        return client("s3")

    @property
    def stepfunctions(self) -> Any:
        return client("stepfunctions")

    @property
    def translate(self) -> Any:
        return client("translate")

    @property
    def textract(self) -> Any:
        return client("textract")

    @property
    def comprehend(self) -> Any:
        return client("comprehend")
