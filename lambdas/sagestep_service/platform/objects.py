"""S3 objects named by ``s3://bucket/key`` URIs, as job plans, manifests and views hold them."""

from __future__ import annotations

import json
from typing import Any


def split_uri(uri: str) -> tuple[str, str]:
    """``s3://bucket/key`` -> (bucket, key); ``ValueError`` for anything else."""
    if not uri.startswith("s3://"):
        raise ValueError(f"{uri!r} is not an s3:// URI")
    bucket, _, key = uri.removeprefix("s3://").partition("/")
    if not bucket:
        raise ValueError(f"{uri!r} is not an s3:// URI")
    return bucket, key


def read_bytes(s3: Any, uri: str) -> bytes:
    bucket, key = split_uri(uri)
    data: bytes = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
    return data


def read_json(s3: Any, uri: str) -> Any:
    return json.loads(read_bytes(s3, uri))


def presign_get(s3: Any, uri: str, expiry_seconds: int) -> str:
    """A presigned GET of the object, valid ``expiry_seconds`` (at most the signing credentials' own life)."""
    bucket, key = split_uri(uri)
    url: str = s3.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": key}, ExpiresIn=expiry_seconds)
    return url
