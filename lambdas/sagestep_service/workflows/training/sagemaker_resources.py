"""Small SageMaker helpers shared by deletion, eviction and failure cleanup."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from botocore.exceptions import ClientError


def is_missing(exc: ClientError) -> bool:
    """SageMaker reports an unknown resource as a ValidationException 'Could not find ...' (endpoints, models)
    or 'Requested resource not found' (training and tuning jobs), or as ResourceNotFound."""
    error = exc.response["Error"]
    message = error.get("Message", "").lower()
    return error.get("Code") == "ResourceNotFound" or (
        error.get("Code") == "ValidationException" and ("not find" in message or "not found" in message)
    )


def delete_quietly(call: Callable[..., Any], **kwargs: Any) -> bool:
    """Delete a resource; True if it existed, False if it was already gone."""
    try:
        call(**kwargs)
        return True
    except ClientError as exc:
        if is_missing(exc):
            return False
        raise


def describe_endpoint(sagemaker: Any, name: str) -> dict[str, Any] | None:
    """The endpoint's description, or None if it does not exist."""
    try:
        return dict(sagemaker.describe_endpoint(EndpointName=name))
    except ClientError as exc:
        if is_missing(exc):
            return None
        raise


def tag_map(sagemaker: Any, arn: str) -> dict[str, str]:
    """The tags of a SageMaker resource as a dict."""
    tags: dict[str, str] = {}
    kwargs: dict[str, Any] = {"ResourceArn": arn}
    while True:
        page = sagemaker.list_tags(**kwargs)
        tags.update({t["Key"]: t["Value"] for t in page.get("Tags", [])})
        if not page.get("NextToken"):
            return tags
        kwargs["NextToken"] = page["NextToken"]
