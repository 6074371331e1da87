"""Training data locations: checked at submission so bad input is a 400, not a failed job.

A ``dataUri`` names exactly one file, or a folder when it ends with ``/``, always under the caller's own prefix
of the data bucket (``users/<owner>/``, see ``sagestep_service.platform.uploads``). SageMaker's ``S3Prefix``
data type reads every key that starts with the URI (``train.csv`` would also read ``train.csv.old.csv``), so a
file is given to the training job through a one-entry manifest (``ManifestFile``) written by the submission.
"""

from __future__ import annotations

import csv
import io
import json
from typing import Any

from botocore.exceptions import ClientError

from sagestep_service.platform.errors import BadRequest
from sagestep_service.platform.uploads import owner_prefix
from sagestep_service.workflows.training.models import S3_URI_PATTERN

HEADER_BYTES = 65536
MANIFEST_NAME = "train.manifest"


def is_folder(data_uri: str) -> bool:
    """A URI that ends with ``/`` names a folder; anything else names one file."""
    return data_uri.endswith("/")


def manifest_uri(artifact_bucket: str, job_id: str) -> str:
    """Where the submission writes the manifest of a job trained on one file."""
    return f"s3://{artifact_bucket}/jobs/{job_id}/input/{MANIFEST_NAME}"


def data_source(data_uri: str, artifact_bucket: str, job_id: str) -> dict[str, str]:
    """The ``S3DataSource`` type and URI that give the training job exactly ``data_uri``."""
    if is_folder(data_uri):
        return {"S3DataType": "S3Prefix", "S3Uri": data_uri}
    return {"S3DataType": "ManifestFile", "S3Uri": manifest_uri(artifact_bucket, job_id)}


def write_manifest(s3: Any, artifact_bucket: str, job_id: str, data_uri: str) -> None:
    """Write the one-file manifest of ``job_id`` (idempotent: the same content for the same job)."""
    if is_folder(data_uri):
        return
    folder, _, name = data_uri.rpartition("/")
    body = json.dumps([{"prefix": f"{folder}/"}, name]).encode()
    s3.put_object(Bucket=artifact_bucket, Key=f"jobs/{job_id}/input/{MANIFEST_NAME}", Body=body)


def check_data(s3: Any, data_bucket: str, owner: str, data_uri: str, target: str, field: str = "dataUri") -> list[str]:
    """Verify that ``data_uri`` is in the caller's prefix of the data bucket, names an existing CSV file (or a
    folder holding at least one) and that its header has ``target``; return the header's columns."""
    match = S3_URI_PATTERN.match(data_uri)
    if match is None:
        raise BadRequest(field, "must look like s3://bucket/key")
    bucket, key = match["bucket"], match["key"]
    mine = owner_prefix(owner)
    if bucket != data_bucket or not key.startswith(mine):
        raise BadRequest(
            field, f"must be under s3://{data_bucket}/{mine} (your own prefix; upload files with POST /uploads)"
        )
    first = _first_csv(s3, bucket, key, data_uri, field)
    head = s3.get_object(Bucket=bucket, Key=first, Range=f"bytes=0-{HEADER_BYTES - 1}")["Body"].read()
    line = head.decode("utf-8-sig", errors="replace").splitlines()[0] if head else ""
    columns = [c.strip() for c in next(csv.reader(io.StringIO(line)), [])]
    name = first.removeprefix(mine)
    if target not in columns:
        shown = ", ".join(columns[:20]) + (" ..." if len(columns) > 20 else "")
        raise BadRequest("target", f"column {target!r} is not in the header of {name!r} (columns: {shown})")
    if len(columns) < 2:
        raise BadRequest(field, f"{name!r} has no feature columns besides the target")
    return columns


def _first_csv(s3: Any, bucket: str, key: str, data_uri: str, field: str) -> str:
    """The key whose header the check reads: the file itself, or the first CSV of the folder."""
    if not is_folder(data_uri):
        try:
            size = s3.head_object(Bucket=bucket, Key=key)["ContentLength"]
        except ClientError as exc:
            if exc.response["Error"]["Code"] in {"404", "NoSuchKey", "NotFound"}:
                raise BadRequest(field, "no such file (a folder URI ends with '/')") from exc
            raise BadRequest(field, f"cannot be read ({exc.response['Error']['Code']})") from exc
        if size == 0:
            raise BadRequest(field, "the file is empty")
        return key
    try:
        listing = s3.list_objects_v2(Bucket=bucket, Prefix=key, MaxKeys=50)
    except ClientError as exc:
        raise BadRequest(field, f"cannot be listed ({exc.response['Error']['Code']})") from exc
    objects = [o for o in listing.get("Contents", []) if not o["Key"].endswith("/") and o.get("Size", 0) > 0]
    if not objects:
        raise BadRequest(field, "no data found in this folder")
    csv_objects = [o for o in objects if o["Key"].lower().endswith(".csv")] or objects
    return str(csv_objects[0]["Key"])
