"""DynamoDB tables (and global tables, as their replica in this region) in moto."""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from typing import Any

from sagestep.local.cloudformation.context import NameRule, StackContext, error_code, tags
from sagestep.local.cloudformation.errors import ProvisionError
from sagestep.local.cloudformation.registry import Service
from sagestep.local.cloudformation.resolver import PhysicalResource


def table(ctx: StackContext, logical_id: str, props: dict[str, Any]) -> PhysicalResource:
    resource_type = ctx.resources[logical_id]["Type"]
    dynamodb = ctx.clients("dynamodb")
    name = ctx.name(logical_id, props, resource_type)
    resolved = {k: ctx.prop(logical_id, props, k) for k in props}
    replica: dict[str, Any] = {}
    if resource_type == "AWS::DynamoDB::GlobalTable":
        replicas = resolved.get("Replicas") or [{}]
        replica = next((r for r in replicas if r.get("Region") == ctx.region), replicas[0])
    billing = resolved.get("BillingMode", "PROVISIONED")
    default_throughput = {"ReadCapacityUnits": 5, "WriteCapacityUnits": 5}

    def index(spec: Mapping[str, Any]) -> dict[str, Any]:
        out = {k: spec[k] for k in ("IndexName", "KeySchema", "Projection") if k in spec}
        if billing == "PROVISIONED":
            out["ProvisionedThroughput"] = spec.get("ProvisionedThroughput", default_throughput)
        return out

    request: dict[str, Any] = {
        "TableName": name,
        "KeySchema": resolved["KeySchema"],
        "AttributeDefinitions": resolved["AttributeDefinitions"],
        "BillingMode": billing,
    }
    if billing == "PROVISIONED":
        request["ProvisionedThroughput"] = resolved.get("ProvisionedThroughput", default_throughput)
    if resolved.get("GlobalSecondaryIndexes"):
        request["GlobalSecondaryIndexes"] = [index(i) for i in resolved["GlobalSecondaryIndexes"]]
    if resolved.get("LocalSecondaryIndexes"):
        request["LocalSecondaryIndexes"] = [
            {k: i[k] for k in ("IndexName", "KeySchema", "Projection")} for i in resolved["LocalSecondaryIndexes"]
        ]
    stream = resolved.get("StreamSpecification")
    if stream and stream.get("StreamViewType"):
        request["StreamSpecification"] = {"StreamEnabled": True, "StreamViewType": stream["StreamViewType"]}
    sse = resolved.get("SSESpecification") or {}
    if sse.get("SSEEnabled"):
        request["SSESpecification"] = {"Enabled": True, "SSEType": sse.get("SSEType", "KMS")}
        master_key = sse.get("KMSMasterKeyId") or (replica.get("SSESpecification") or {}).get("KMSMasterKeyId")
        if master_key:
            request["SSESpecification"]["KMSMasterKeyId"] = master_key
    table_tags = tags(resolved.get("Tags") or replica.get("Tags"))
    if table_tags:
        request["Tags"] = table_tags
    try:
        description = dynamodb.create_table(**request)["TableDescription"]
    except Exception as exc:
        if error_code(exc) != "ResourceInUseException":
            raise ProvisionError(f"{ctx.where(logical_id)}: create_table {name} failed: {exc}") from exc
        description = _reconcile(ctx, logical_id, name, request)
    ttl = resolved.get("TimeToLiveSpecification")
    if ttl and ttl.get("Enabled", True) and ttl.get("AttributeName"):
        with contextlib.suppress(Exception):  # moto refuses to set the same TTL twice
            dynamodb.update_time_to_live(
                TableName=name, TimeToLiveSpecification={"Enabled": True, "AttributeName": ttl["AttributeName"]}
            )
    pitr = resolved.get("PointInTimeRecoverySpecification") or replica.get("PointInTimeRecoverySpecification")
    if pitr and pitr.get("PointInTimeRecoveryEnabled"):
        ctx.call(
            logical_id,
            "update_continuous_backups",
            dynamodb.update_continuous_backups,
            TableName=name,
            PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True},
        )
    attributes = {"Arn": description["TableArn"]}
    if description.get("LatestStreamArn"):
        attributes["StreamArn"] = description["LatestStreamArn"]
    return PhysicalResource(logical_id, resource_type, name, attributes, created=True)


def _reconcile(ctx: StackContext, logical_id: str, name: str, request: Mapping[str, Any]) -> dict[str, Any]:
    """An existing table (persisted state): add missing indexes, warn about what cannot change."""
    dynamodb = ctx.clients("dynamodb")
    existing: dict[str, Any] = dynamodb.describe_table(TableName=name)["Table"]
    if existing.get("KeySchema") != request["KeySchema"]:
        ctx.warn(f"{logical_id}: existing table {name} has another key schema; delete the local state")
    present = {i["IndexName"] for i in existing.get("GlobalSecondaryIndexes", [])}
    missing = [i for i in request.get("GlobalSecondaryIndexes", []) if i["IndexName"] not in present]
    if missing:
        ctx.call(
            logical_id,
            "update_table",
            dynamodb.update_table,
            TableName=name,
            AttributeDefinitions=request["AttributeDefinitions"],
            GlobalSecondaryIndexUpdates=[{"Create": i} for i in missing],
        )
        existing = dynamodb.describe_table(TableName=name)["Table"]
    return existing


SERVICE = Service(
    handlers={"AWS::DynamoDB::Table": table, "AWS::DynamoDB::GlobalTable": table},
    names={
        "AWS::DynamoDB::Table": NameRule("TableName", 255),
        "AWS::DynamoDB::GlobalTable": NameRule("TableName", 255),
    },
)
