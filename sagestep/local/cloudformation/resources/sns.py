"""SNS topics and subscriptions in moto."""

from __future__ import annotations

import json
from typing import Any

from sagestep.local.cloudformation.context import NameRule, StackContext, tags
from sagestep.local.cloudformation.registry import Service
from sagestep.local.cloudformation.resolver import PhysicalResource, shorten


def topic(ctx: StackContext, logical_id: str, props: dict[str, Any]) -> PhysicalResource:
    sns = ctx.clients("sns")
    name = ctx.name(logical_id, props, "AWS::SNS::Topic")
    fifo = bool(ctx.prop(logical_id, props, "FifoTopic", False))
    if fifo and not name.endswith(".fifo"):
        name = shorten(name, 251, logical_id) + ".fifo"
    attributes: dict[str, str] = {}
    for key in ("DisplayName", "KmsMasterKeyId", "SignatureVersion", "TracingConfig"):
        value = ctx.prop(logical_id, props, key)
        if value is not None:
            attributes[key] = str(value)
    if fifo:
        attributes["FifoTopic"] = "true"
        if ctx.prop(logical_id, props, "ContentBasedDeduplication"):
            attributes["ContentBasedDeduplication"] = "true"
    request: dict[str, Any] = {"Name": name, "Attributes": attributes}
    topic_tags = tags(ctx.prop(logical_id, props, "Tags"))
    if topic_tags:
        request["Tags"] = topic_tags
    arn = ctx.call(logical_id, "create_topic", sns.create_topic, **request)["TopicArn"]
    for subscription in ctx.prop(logical_id, props, "Subscription", []) or []:
        ctx.call(
            logical_id,
            "subscribe",
            sns.subscribe,
            TopicArn=arn,
            Protocol=subscription["Protocol"],
            Endpoint=subscription["Endpoint"],
        )
    return PhysicalResource(logical_id, "AWS::SNS::Topic", arn, {"TopicArn": arn, "TopicName": name}, True)


def subscription(ctx: StackContext, logical_id: str, props: dict[str, Any]) -> PhysicalResource:
    sns = ctx.clients("sns")
    attributes: dict[str, str] = {}
    for key in ("FilterPolicy", "RedrivePolicy", "DeliveryPolicy"):
        value = ctx.prop(logical_id, props, key)
        if value is not None:
            attributes[key] = value if isinstance(value, str) else json.dumps(value)
    for key in ("FilterPolicyScope", "SubscriptionRoleArn"):
        value = ctx.prop(logical_id, props, key)
        if value is not None:
            attributes[key] = str(value)
    if ctx.prop(logical_id, props, "RawMessageDelivery") in (True, "true", "True"):
        attributes["RawMessageDelivery"] = "true"
    request: dict[str, Any] = {
        "TopicArn": ctx.prop(logical_id, props, "TopicArn"),
        "Protocol": ctx.prop(logical_id, props, "Protocol"),
        "Endpoint": ctx.prop(logical_id, props, "Endpoint"),
        "ReturnSubscriptionArn": True,
    }
    if attributes:
        request["Attributes"] = attributes
    arn = ctx.call(logical_id, "subscribe", sns.subscribe, **request)["SubscriptionArn"]
    return PhysicalResource(logical_id, "AWS::SNS::Subscription", arn, {"Arn": arn}, True)


SERVICE = Service(
    handlers={"AWS::SNS::Topic": topic, "AWS::SNS::Subscription": subscription},
    skipped={"AWS::SNS::TopicPolicy": "resource policies are not enforced locally"},
    names={"AWS::SNS::Topic": NameRule("TopicName", 256)},
)
