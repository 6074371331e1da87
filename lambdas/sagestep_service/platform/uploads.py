"""Users' data: each owner reads and writes only under their own prefix of the data bucket, and uploads
through a presigned URL (``POST /uploads``), so nobody needs bucket-wide permissions.

No ``from __future__ import annotations`` here: Powertools reads the route's parameter annotations at run time.
"""

import re
import time
from typing import Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from pydantic import BaseModel, ConfigDict, Field, field_validator

from sagestep_service.platform import aws
from sagestep_service.platform.observability import tracer
from sagestep_service.platform.routing import BODY_ERRORS, json_response, owner, responses
from sagestep_service.platform.settings import DataSettings, load

#: Presigned URLs are signed with the API function's temporary credentials; Lambda's credentials outlive an
#: invocation by far more than this, so the stated expiry is the real one.
MAX_EXPIRY_SECONDS = 3600
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._ -]*(/[A-Za-z0-9][A-Za-z0-9._ -]*)*$")

router = Router()


def owner_prefix(owner_id: str) -> str:
    """The data bucket prefix that belongs to ``owner_id`` (a Cognito ``sub``)."""
    return f"users/{owner_id}/"


class UploadRequest(BaseModel):
    """``POST /uploads``: where in your prefix the file goes."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, defer_build=True)

    path: str = Field(
        min_length=1,
        max_length=512,
        description="Path of the file inside your prefix, e.g. `housing/train.csv` (letters, digits, `._ -`, `/`).",
        examples=["housing/train.csv"],
    )
    expiresInSeconds: int = Field(default=900, ge=60, le=MAX_EXPIRY_SECONDS)

    @field_validator("path")
    @classmethod
    def _relative_path(cls, value: str) -> str:
        if not _NAME.match(value) or any(part in {".", ".."} for part in value.split("/")):
            raise ValueError("must be a relative path of letters, digits, '._ -' and '/' (no '..')")
        return value


class UploadResponse(BaseModel):
    """A presigned PUT: send the file's bytes as the body, then use ``dataUri`` in a submission."""

    model_config = ConfigDict(defer_build=True)

    uploadUrl: str
    method: str = "PUT"
    dataUri: str
    expiresInSeconds: int
    expiresAt: int = Field(description="Epoch seconds after which the URL no longer works.")


def presign_upload(s3: Any, bucket: str, owner_id: str, request: UploadRequest) -> UploadResponse:
    key = owner_prefix(owner_id) + request.path
    url = s3.generate_presigned_url(
        "put_object", Params={"Bucket": bucket, "Key": key}, ExpiresIn=request.expiresInSeconds
    )
    return UploadResponse(
        uploadUrl=url,
        dataUri=f"s3://{bucket}/{key}",
        expiresInSeconds=request.expiresInSeconds,
        expiresAt=int(time.time()) + request.expiresInSeconds,
    )


@router.post(
    "/uploads",
    summary="Get a presigned URL to upload a file into your prefix of the data bucket",
    responses=responses({201: {"description": "The presigned upload and the `dataUri` to submit."}}, BODY_ERRORS),
)
@tracer.capture_method
def create_upload(body: UploadRequest) -> Response[UploadResponse]:
    settings = load(DataSettings)
    upload = presign_upload(aws.client("s3"), settings.data_bucket, owner(router), body)
    return json_response(201, upload.model_dump(mode="json"))
