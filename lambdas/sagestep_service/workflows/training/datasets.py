"""Checks on a training data location, done at submission so bad input is a 400, not a failed job."""

from __future__ import annotations

import csv
import io
from typing import Any

from botocore.exceptions import ClientError

from sagestep_service.platform.errors import BadRequest
from sagestep_service.workflows.training.models import S3_URI_PATTERN

HEADER_BYTES = 65536


def check_data(s3: Any, data_bucket: str, data_uri: str, target: str, field: str = "dataUri") -> list[str]:
    """Verify that ``data_uri`` is in the data bucket, holds at least one CSV object and that its header
    has ``target``; return the header's columns."""
    match = S3_URI_PATTERN.match(data_uri)
    if match is None:
        raise BadRequest(field, "must look like s3://bucket/key")
    bucket, key = match["bucket"], match["key"]
    if bucket != data_bucket:
        raise BadRequest(field, f"must be in the data bucket {data_bucket!r} (the training role reads only it)")
    try:
        listing = s3.list_objects_v2(Bucket=bucket, Prefix=key, MaxKeys=50)
    except ClientError as exc:
        raise BadRequest(field, f"cannot be listed ({exc.response['Error']['Code']})") from exc
    objects = [o for o in listing.get("Contents", []) if not o["Key"].endswith("/") and o.get("Size", 0) > 0]
    if not objects:
        raise BadRequest(field, "no data found under this URI")
    csv_objects = [o for o in objects if o["Key"].lower().endswith(".csv")] or objects
    first = csv_objects[0]["Key"]
    head = s3.get_object(Bucket=bucket, Key=first, Range=f"bytes=0-{HEADER_BYTES - 1}")["Body"].read()
    line = head.decode("utf-8-sig", errors="replace").splitlines()[0] if head else ""
    columns = [c.strip() for c in next(csv.reader(io.StringIO(line)), [])]
    if target not in columns:
        shown = ", ".join(columns[:20]) + (" ..." if len(columns) > 20 else "")
        raise BadRequest("target", f"column {target!r} is not in the header of {first!r} (columns: {shown})")
    if len(columns) < 2:
        raise BadRequest(field, f"{first!r} has no feature columns besides the target")
    return columns
