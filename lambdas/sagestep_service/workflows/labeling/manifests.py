"""Ground Truth manifests between the levels of a batch (pure; S3 reads and writes are the caller's).

A manifest is JSON Lines, one data object per line: ``source`` (the text itself) or ``source-ref`` (an S3 object),
plus the labels earlier jobs added (``<attribute>`` and ``<attribute>-metadata``). An item's identity is its
``source-ref`` or ``source``: that is how the outputs of several chained jobs are merged into one manifest, and what
sampling hashes, so that a rerun (or a reordered upstream output) picks the same items.

- `merge` — the outputs of the jobs a job chains from, merged by identity in first-seen order; an item labeled by
  several keeps every job's label attribute.
- `below_confidence` — only items whose consolidated confidence (the lowest among the chained jobs' labels) is
  below a threshold; an item whose label carries no confidence is kept (nothing says it is good).
- `sample` — a seeded sample: an item is kept when the hash of (seed, identity) falls below the rate, so the
  choice of one item does not depend on the others.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from typing import Any

#: The attribute Ground Truth reads a text item from, and the one naming an S3 object.
SOURCE, SOURCE_REF = "source", "source-ref"
#: Ground Truth's limit on a manifest line (an item with its earlier labels).
MAX_LINE_BYTES = 100 * 1024


def identity(item: dict[str, Any]) -> str:
    """The item's identity: its ``source-ref``, else its ``source``."""
    if SOURCE_REF in item:
        return f"ref:{item[SOURCE_REF]}"
    return f"text:{item[SOURCE]}"


def parse_lines(lines: Iterable[str], allowed_prefix: str | None = None) -> list[dict[str, Any]]:
    """The items of a manifest's lines (blank lines skipped); ``ValueError`` naming the first bad line. With
    ``allowed_prefix`` (``s3://bucket/users/<you>/``) every ``source-ref`` must lie under it."""
    items = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        if len(line.encode()) > MAX_LINE_BYTES:
            raise ValueError(f"line {number} has more than {MAX_LINE_BYTES} bytes")
        try:
            item = json.loads(line)
        except ValueError as exc:
            raise ValueError(f"line {number} is not JSON ({exc})") from exc
        if not isinstance(item, dict) or not (
            isinstance(item.get(SOURCE), str) or isinstance(item.get(SOURCE_REF), str)
        ):
            raise ValueError(f'line {number} needs a "source" or "source-ref" string')
        reference = item.get(SOURCE_REF)
        if allowed_prefix and isinstance(reference, str) and not reference.startswith(allowed_prefix):
            raise ValueError(f"line {number}: its source-ref {reference} is not under {allowed_prefix}")
        items.append(item)
    if not items:
        raise ValueError("has no data object")
    return items


def parse(text: str, allowed_prefix: str | None = None) -> list[dict[str, Any]]:
    return parse_lines(text.splitlines(), allowed_prefix)


def dumps(items: Sequence[dict[str, Any]]) -> str:
    """JSON Lines, one item a line (what Ground Truth reads)."""
    return "".join(json.dumps(item, separators=(",", ":"), ensure_ascii=False) + "\n" for item in items)


def merge(outputs: Sequence[Sequence[dict[str, Any]]]) -> list[dict[str, Any]]:
    """The chained jobs' output manifests as one: items merged by identity, in first-seen order; an attribute
    already present keeps the first output's value."""
    merged: dict[str, dict[str, Any]] = {}
    for output in outputs:
        for item in output:
            key = identity(item)
            if key in merged:
                for name, value in item.items():
                    merged[key].setdefault(name, value)
            else:
                merged[key] = dict(item)
    return list(merged.values())


def label_confidence(item: dict[str, Any], attribute: str) -> float | None:
    """The confidence Ground Truth's output gives the item's label of ``attribute``: ``confidence`` of its metadata,
    else the lowest of a multi-label ``confidence-map`` or of the boxes' ``objects``; None when there is none."""
    metadata = item.get(f"{attribute}-metadata")
    if not isinstance(metadata, dict):
        return None
    if isinstance(metadata.get("confidence"), int | float):
        return float(metadata["confidence"])
    values: list[float] = []
    confidence_map = metadata.get("confidence-map")
    if isinstance(confidence_map, dict):
        values += [float(v) for v in confidence_map.values() if isinstance(v, int | float)]
    for entry in metadata.get("objects") or []:
        if isinstance(entry, dict) and isinstance(entry.get("confidence"), int | float):
            values.append(float(entry["confidence"]))
    return min(values) if values else None


def below_confidence(
    items: Sequence[dict[str, Any]], attributes: Sequence[str], threshold: float
) -> list[dict[str, Any]]:
    """Items whose lowest label confidence among ``attributes`` is below ``threshold`` (or unknown)."""
    kept = []
    for item in items:
        confidences = [c for c in (label_confidence(item, a) for a in attributes) if c is not None]
        if not confidences or min(confidences) < threshold:
            kept.append(item)
    return kept


def _unit(seed: str, key: str) -> float:
    """A number in [0, 1) fixed by (seed, key)."""
    return int.from_bytes(hashlib.sha256(f"{seed}\n{key}".encode()).digest()[:8], "big") / 2**64


def sample(items: Sequence[dict[str, Any]], rate: float, seed: str) -> list[dict[str, Any]]:
    """The items whose (seed, identity) hash falls below ``rate`` (0 < rate <= 1), in their order."""
    return [item for item in items if _unit(seed, identity(item)) < rate]


def failed(item: dict[str, Any], attribute: str) -> bool:
    """Ground Truth could not label the item (its metadata has a ``failure-reason`` and there is no label)."""
    metadata = item.get(f"{attribute}-metadata")
    return attribute not in item and isinstance(metadata, dict) and "failure-reason" in metadata
