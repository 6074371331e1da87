"""Listing a folder of a bucket, as every workflow reading users' folders does: in key order, keys URL-decoded,
folder markers left out.

S3 URL-encodes listed keys as form values when asked (``EncodingType=url``: a space is ``+``, a ``+`` is ``%2B``), so
keys that XML cannot carry come through; they are decoded as botocore decodes them (``unquote_plus``).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote_plus

PAGE_SIZE = 1000  #: S3's own maximum per ListObjectsV2 call


@dataclass(frozen=True)
class Listed:
    key: str
    path: str  #: relative to the folder listed
    size: int


@dataclass(frozen=True)
class Page:
    files: list[Listed]
    #: Keys the page held, folder markers included.
    keys: int
    #: The ``ContinuationToken`` of the next page; None on the last.
    next_token: str | None


def page(s3: Any, bucket: str, prefix: str, token: str | None = None, max_keys: int = PAGE_SIZE) -> Page:
    """One page of the folder's listing, from ``token`` (None: the first)."""
    kwargs: dict[str, Any] = {"Bucket": bucket, "Prefix": prefix, "MaxKeys": max_keys, "EncodingType": "url"}
    if token:
        kwargs["ContinuationToken"] = token
    answer = s3.list_objects_v2(**kwargs)
    files = []
    for item in answer.get("Contents", []):
        key = unquote_plus(item["Key"])
        if not key.endswith("/"):
            files.append(Listed(key, key[len(prefix) :], int(item.get("Size", 0))))
    more = bool(answer.get("IsTruncated") and answer.get("NextContinuationToken"))
    return Page(files, len(answer.get("Contents", [])), answer["NextContinuationToken"] if more else None)


def list_folder(
    s3: Any, bucket: str, prefix: str, *, max_objects: int | None = None, page_size: int = PAGE_SIZE
) -> Iterator[Listed]:
    """The folder's files in key order; with ``max_objects``, those among its first ``max_objects`` keys."""
    token: str | None = None
    seen = 0
    while max_objects is None or seen < max_objects:
        size = page_size if max_objects is None else min(page_size, max_objects - seen)
        listed = page(s3, bucket, prefix, token, size)
        yield from listed.files
        seen += listed.keys
        token = listed.next_token
        if token is None:
            return
