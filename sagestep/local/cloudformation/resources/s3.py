"""S3 buckets in moto, with the CDK's `Custom::S3BucketNotifications` applied directly."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from sagestep.local.cloudformation.context import NameRule, StackContext, error_code, tags
from sagestep.local.cloudformation.errors import ProvisionError
from sagestep.local.cloudformation.registry import Service
from sagestep.local.cloudformation.resolver import URL_SUFFIX, PhysicalResource

# CloudFormation's CORS rule keys -> the S3 API's.
_CORS_KEYS = (
    ("AllowedHeaders", "AllowedHeaders"),
    ("AllowedMethods", "AllowedMethods"),
    ("AllowedOrigins", "AllowedOrigins"),
    ("ExposedHeaders", "ExposeHeaders"),
    ("Id", "ID"),
    ("MaxAge", "MaxAgeSeconds"),
)


def bucket(ctx: StackContext, logical_id: str, props: dict[str, Any]) -> PhysicalResource:
    s3 = ctx.clients("s3")
    name = ctx.name(logical_id, props, "AWS::S3::Bucket")
    request: dict[str, Any] = {"Bucket": name}
    if ctx.region != "us-east-1":
        request["CreateBucketConfiguration"] = {"LocationConstraint": ctx.region}
    try:
        s3.create_bucket(**request)
    except Exception as exc:
        if error_code(exc) != "BucketAlreadyOwnedByYou":
            raise ProvisionError(f"{ctx.where(logical_id)}: create_bucket {name} failed: {exc}") from exc
    versioning = ctx.prop(logical_id, props, "VersioningConfiguration")
    if versioning:
        ctx.call(
            logical_id,
            "put_bucket_versioning",
            s3.put_bucket_versioning,
            Bucket=name,
            VersioningConfiguration={"Status": versioning["Status"]},
        )
    encryption = ctx.prop(logical_id, props, "BucketEncryption")
    if encryption:
        ctx.call(
            logical_id,
            "put_bucket_encryption",
            s3.put_bucket_encryption,
            Bucket=name,
            ServerSideEncryptionConfiguration={
                "Rules": [
                    {
                        "ApplyServerSideEncryptionByDefault": rule.get("ServerSideEncryptionByDefault", {}),
                        **({"BucketKeyEnabled": rule["BucketKeyEnabled"]} if "BucketKeyEnabled" in rule else {}),
                    }
                    for rule in encryption.get("ServerSideEncryptionConfiguration", [])
                ]
            },
        )
    cors = ctx.prop(logical_id, props, "CorsConfiguration")
    if cors:
        rules = [{api: rule[cfn] for cfn, api in _CORS_KEYS if cfn in rule} for rule in cors.get("CorsRules", [])]
        ctx.call(logical_id, "put_bucket_cors", s3.put_bucket_cors, Bucket=name, CORSConfiguration={"CORSRules": rules})
    notifications = ctx.prop(logical_id, props, "NotificationConfiguration")
    if notifications:
        _put_notifications(ctx, logical_id, name, _notifications_from_cfn(notifications))
    bucket_tags = tags(ctx.prop(logical_id, props, "Tags"))
    if bucket_tags:
        ctx.call(logical_id, "put_bucket_tagging", s3.put_bucket_tagging, Bucket=name, Tagging={"TagSet": bucket_tags})
    attributes = {
        "Arn": f"arn:aws:s3:::{name}",
        "DomainName": f"{name}.s3.{URL_SUFFIX}",
        "RegionalDomainName": f"{name}.s3.{ctx.region}.{URL_SUFFIX}",
        "DualStackDomainName": f"{name}.s3.dualstack.{ctx.region}.{URL_SUFFIX}",
        "WebsiteURL": f"http://{name}.s3-website-{ctx.region}.{URL_SUFFIX}",
    }
    return PhysicalResource(logical_id, "AWS::S3::Bucket", name, attributes, created=True)


def bucket_notifications(ctx: StackContext, logical_id: str, props: dict[str, Any]) -> PhysicalResource:
    """The CDK's `Custom::S3BucketNotifications`: its configuration is already in the S3 API shape."""
    name = ctx.prop(logical_id, props, "BucketName")
    configuration = ctx.prop(logical_id, props, "NotificationConfiguration", {}) or {}
    _put_notifications(ctx, logical_id, name, configuration)
    return PhysicalResource(logical_id, "Custom::S3BucketNotifications", f"{name}-notifications", {}, True)


def _put_notifications(ctx: StackContext, logical_id: str, name: str, configuration: dict[str, Any]) -> None:
    ctx.call(
        logical_id,
        "put_bucket_notification_configuration",
        ctx.clients("s3").put_bucket_notification_configuration,
        Bucket=name,
        NotificationConfiguration=configuration,
        SkipDestinationValidation=True,
    )


def _notifications_from_cfn(configuration: Mapping[str, Any]) -> dict[str, Any]:
    """CloudFormation's `NotificationConfiguration` of a bucket in the shape of the S3 API."""

    def filter_of(item: Mapping[str, Any]) -> dict[str, Any]:
        rules = item.get("Filter", {}).get("S3Key", {}).get("Rules", [])
        return {"Filter": {"Key": {"FilterRules": rules}}} if rules else {}

    converted: dict[str, Any] = {}
    for cfn_key, api_key, target_key, api_target in (
        ("QueueConfigurations", "QueueConfigurations", "Queue", "QueueArn"),
        ("TopicConfigurations", "TopicConfigurations", "Topic", "TopicArn"),
        ("LambdaConfigurations", "LambdaFunctionConfigurations", "Function", "LambdaFunctionArn"),
    ):
        items = configuration.get(cfn_key) or []
        if items:
            converted[api_key] = [
                {api_target: item[target_key], "Events": [item["Event"]], **filter_of(item)} for item in items
            ]
    if (configuration.get("EventBridgeConfiguration") or {}).get("EventBridgeEnabled"):
        converted["EventBridgeConfiguration"] = {}
    return converted


def _bucket_name(name: str) -> str:
    return re.sub(r"[^a-z0-9.-]", "-", name.lower()).strip("-.")


SERVICE = Service(
    handlers={"AWS::S3::Bucket": bucket, "Custom::S3BucketNotifications": bucket_notifications},
    skipped={"AWS::S3::BucketPolicy": "resource policies are not enforced locally"},
    names={"AWS::S3::Bucket": NameRule("BucketName", 63, _bucket_name)},
)
