"""KMS keys in moto, found again on restart by a tag naming stack and logical id."""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from typing import Any

from sagestep.local.cloudformation.context import StackContext, attempt, tags
from sagestep.local.cloudformation.registry import Service
from sagestep.local.cloudformation.resolver import PhysicalResource

_MARKER_TAG = "sagestep:logical-id"


def key(ctx: StackContext, logical_id: str, props: dict[str, Any]) -> PhysicalResource:
    kms = ctx.clients("kms")
    marker = f"{ctx.stack_name}/{logical_id}"
    key_id = _find_key(ctx, marker)
    if key_id is None:
        key_tags = [{"TagKey": t["Key"], "TagValue": t["Value"]} for t in tags(ctx.prop(logical_id, props, "Tags"))]
        request: dict[str, Any] = {
            "Description": str(ctx.prop(logical_id, props, "Description", f"{marker} (local)")),
            "Tags": [*key_tags, {"TagKey": _MARKER_TAG, "TagValue": marker}],
        }
        for name in ("KeyUsage", "KeySpec"):
            value = ctx.prop(logical_id, props, name)
            if value:
                request[name] = value
        key_id = ctx.call(logical_id, "create_key", kms.create_key, **request)["KeyMetadata"]["KeyId"]
        if ctx.prop(logical_id, props, "EnableKeyRotation"):
            ctx.call(logical_id, "enable_key_rotation", kms.enable_key_rotation, KeyId=key_id)
    arn = ctx.arn("kms", f"key/{key_id}")
    return PhysicalResource(logical_id, "AWS::KMS::Key", key_id, {"Arn": arn, "KeyId": key_id}, created=True)


def _find_key(ctx: StackContext, marker: str) -> str | None:
    kms = ctx.clients("kms")
    for page in kms.get_paginator("list_keys").paginate():
        for listed in page.get("Keys", []):
            with contextlib.suppress(Exception):
                key_tags = kms.list_resource_tags(KeyId=listed["KeyId"]).get("Tags", [])
                if {"TagKey": _MARKER_TAG, "TagValue": marker} in key_tags:
                    return str(listed["KeyId"])
    return None


def alias(ctx: StackContext, logical_id: str, props: Mapping[str, Any], name: str) -> PhysicalResource:
    ref = attempt(lambda: ctx.prop(logical_id, props, "AliasName"), f"alias/{name}")
    return PhysicalResource(logical_id, "AWS::KMS::Alias", ref, {})


SERVICE = Service(
    handlers={"AWS::KMS::Key": key},
    skipped={"AWS::KMS::Alias": "keys are used by id or ARN locally"},
    placeholders={"AWS::KMS::Alias": alias},
)
