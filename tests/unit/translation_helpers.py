"""What the translation unit tests share: moto S3 with the data and artifact buckets, a job's plan, files put into
a user's folder, and the staging loop run as the state machine runs it."""

from __future__ import annotations

import json
import urllib.parse
from collections.abc import Iterator
from typing import Any

import pytest
from moto import mock_aws

from sagestep_service.platform import aws
from sagestep_service.workflows.translation import staging
from sagestep_service.workflows.translation.models import Staged

DATA = "sagestep-data"
WORK = "sagestep-artifacts"
ACCOUNT = "123456789012"
INPUT = "users/alice/docs/"
OUTPUT = "users/alice/out/"


def moto_s3(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """moto S3 with the data bucket and the artifact bucket (the client as the functions create it)."""
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    with mock_aws():
        aws.reset()
        client = aws.client("s3")
        client.create_bucket(Bucket=DATA)
        client.create_bucket(Bucket=WORK)
        yield client
    aws.reset()


def s3_listing_encoding(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make moto encode listings with ``EncodingType=url`` as S3 does (form encoding: a space is ``+``, a ``+`` is
    ``%2B``, ``/`` kept; measured on S3, and why botocore decodes them with ``unquote_plus``). moto percent-encodes
    a space as ``%20``, which would hide a decoder that leaves ``+`` alone."""
    from moto.s3.models import FakeKey

    def safe_name(self: Any, encoding_type: str | None = None) -> str:
        return urllib.parse.quote_plus(self.name, safe="/") if encoding_type == "url" else str(self.name)

    monkeypatch.setattr(FakeKey, "safe_name", safe_name)


def a_plan(targets: tuple[str, ...] = ("de", "fr"), job_id: str = "translation-1") -> dict[str, Any]:
    return {
        "input": {"bucket": DATA, "prefix": INPUT},
        "output": {"bucket": DATA, "prefix": OUTPUT},
        "work": {"bucket": WORK, "prefix": f"jobs/{job_id}/"},
        "translation": {"SourceLanguageCode": "en", "TargetLanguageCodes": list(targets)},
        "accountId": ACCOUNT,
        "deadlineSeconds": 600,
    }


def put(s3: Any, files: dict[str, bytes], bucket: str = DATA, prefix: str = INPUT) -> None:
    for path, body in files.items():
        s3.put_object(Bucket=bucket, Key=prefix + path, Body=body)


def keys(s3: Any, bucket: str, prefix: str = "") -> list[str]:
    pages = s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
    return sorted(item["Key"] for page in pages for item in page.get("Contents", []))


def read(s3: Any, bucket: str, key: str) -> bytes:
    body: bytes = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
    return body


def read_json(s3: Any, bucket: str, key: str) -> Any:
    return json.loads(read(s3, bucket, key))


def stage_all(s3: Any, plan: dict[str, Any], job_id: str = "translation-1") -> tuple[Staged, int]:
    """Run the staging loop as the state machine does; returns its last state and how many calls it took."""
    state, calls = Staged(), 0
    while state.more:
        state = staging.stage_page(s3, job_id, plan, state)
        calls += 1
    return state, calls
