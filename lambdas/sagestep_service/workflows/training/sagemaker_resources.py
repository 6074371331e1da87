"""Small SageMaker helpers shared by deletion, eviction and failure cleanup."""

from __future__ import annotations

from collections.abc import Callable, Collection
from typing import Any

from botocore.exceptions import ClientError

from sagestep_service.platform.registry import Cleanup


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


def config_models(sagemaker: Any, config_name: str) -> list[str] | None:
    """The models an endpoint config's variants (and shadow variants) serve; None if the config does not exist."""
    try:
        described = sagemaker.describe_endpoint_config(EndpointConfigName=config_name)
    except ClientError as exc:
        if is_missing(exc):
            return None
        raise
    variants = [*described.get("ProductionVariants", []), *described.get("ShadowProductionVariants", [])]
    return list(dict.fromkeys(v["ModelName"] for v in variants if v.get("ModelName")))


def retire_endpoint_config(
    sagemaker: Any, config_name: str, *, fallback_models: Collection[str] = (), keep_models: Collection[str] = ()
) -> Cleanup:
    """Delete an endpoint config that no endpoint uses any more, then the models it served but ``keep_models``
    (those an endpoint serves now); ``fallback_models`` when the config is already gone. Each step is tried even
    when another fails, and a failure is reported in ``left``, not raised: the endpoint these served has moved on
    (deleted, or serving another config), so nothing depends on them, and ``DELETE /model/{jobId}`` of their job
    removes what is left."""
    cleanup = Cleanup()
    try:
        models = config_models(sagemaker, config_name)
        if models is None:
            models = list(fallback_models)
        elif delete_quietly(sagemaker.delete_endpoint_config, EndpointConfigName=config_name):
            cleanup.deleted.append(f"endpoint-config/{config_name}")
    except ClientError as exc:
        cleanup.left.append(f"endpoint-config/{config_name} ({exc.response['Error'].get('Code', 'error')})")
        return cleanup  # the config may still exist: its models stay with it
    for model in models:
        if model in keep_models:
            continue
        try:
            if delete_quietly(sagemaker.delete_model, ModelName=model):
                cleanup.deleted.append(f"model/{model}")
        except ClientError as exc:
            cleanup.left.append(f"model/{model} ({exc.response['Error'].get('Code', 'error')})")
    return cleanup


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
