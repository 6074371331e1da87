"""SQS queues in moto."""

from __future__ import annotations

import json
from typing import Any

from sagestep.local.cloudformation.context import NameRule, StackContext, error_code, tags
from sagestep.local.cloudformation.errors import ProvisionError
from sagestep.local.cloudformation.registry import Service
from sagestep.local.cloudformation.resolver import PhysicalResource, shorten

_STRING_ATTRIBUTES = (
    "DelaySeconds",
    "MaximumMessageSize",
    "MessageRetentionPeriod",
    "ReceiveMessageWaitTimeSeconds",
    "VisibilityTimeout",
    "KmsMasterKeyId",
    "KmsDataKeyReusePeriodSeconds",
    "DeduplicationScope",
    "FifoThroughputLimit",
)


def queue(ctx: StackContext, logical_id: str, props: dict[str, Any]) -> PhysicalResource:
    sqs = ctx.clients("sqs")
    name = ctx.name(logical_id, props, "AWS::SQS::Queue")
    fifo = bool(ctx.prop(logical_id, props, "FifoQueue", False))
    if fifo and not name.endswith(".fifo"):
        name = shorten(name, 75, logical_id) + ".fifo"
    attributes: dict[str, str] = {}
    for key in _STRING_ATTRIBUTES:
        value = ctx.prop(logical_id, props, key)
        if value is not None:
            attributes[key] = str(value)
    for key in ("FifoQueue", "ContentBasedDeduplication", "SqsManagedSseEnabled"):
        value = ctx.prop(logical_id, props, key)
        if value is not None:
            attributes[key] = "true" if value in (True, "true", "True") else "false"
    for key in ("RedrivePolicy", "RedriveAllowPolicy"):
        value = ctx.prop(logical_id, props, key)
        if value is not None:
            attributes[key] = value if isinstance(value, str) else json.dumps(value)
    if not fifo:
        attributes.pop("FifoQueue", None)
    queue_tags = ctx.prop(logical_id, props, "Tags")
    request: dict[str, Any] = {"QueueName": name, "Attributes": attributes}
    if queue_tags:
        request["tags"] = {t["Key"]: t["Value"] for t in tags(queue_tags)}
    try:
        url = sqs.create_queue(**request)["QueueUrl"]
    except Exception as exc:
        if "QueueAlreadyExists" not in error_code(exc):
            raise ProvisionError(f"{ctx.where(logical_id)}: create_queue {name} failed: {exc}") from exc
        url = sqs.get_queue_url(QueueName=name)["QueueUrl"]
        ctx.call(logical_id, "set_queue_attributes", sqs.set_queue_attributes, QueueUrl=url, Attributes=attributes)
    arn = ctx.arn("sqs", name)
    return PhysicalResource(
        logical_id, "AWS::SQS::Queue", url, {"Arn": arn, "QueueName": name, "QueueUrl": url}, created=True
    )


SERVICE = Service(
    handlers={"AWS::SQS::Queue": queue},
    skipped={"AWS::SQS::QueuePolicy": "resource policies are not enforced locally"},
    names={"AWS::SQS::Queue": NameRule("QueueName", 80)},
)
