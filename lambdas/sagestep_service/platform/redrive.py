"""Redrive: give the events that could not be handled back to the functions that should have handled them.

Two kinds of message end in the platform's dead-letter queue: a Lambda on-failure destination record (an
asynchronous invocation whose retries all failed: ``requestContext.functionArn`` + ``requestPayload``) and an
EventBridge target's dead letter (the event that could not be delivered, ``TARGET_ARN`` as a message attribute).
Each is invoked again asynchronously on its function and then deleted; a message for a function that is not
ours to redrive to stays in the queue and is reported.
"""

from __future__ import annotations

import json
from collections.abc import Collection
from dataclasses import dataclass, field
from typing import Any


@dataclass
class RedriveResult:
    """What one redrive did: message ids redriven per function, and the messages left with the reason."""

    redriven: dict[str, int] = field(default_factory=dict)
    left: list[str] = field(default_factory=list)


def origin(message: dict[str, Any]) -> tuple[str | None, Any]:
    """The function a dead-lettered message was meant for (unqualified ARN) and the event to give it."""
    try:
        body = json.loads(message.get("Body") or "")
    except ValueError:
        return None, None
    if isinstance(body, dict) and "requestContext" in body and "requestPayload" in body:
        arn = str(body["requestContext"].get("functionArn", ""))
        return (arn.rsplit(":", 1)[0] if arn.count(":") > 6 else arn) or None, body["requestPayload"]
    target = (message.get("MessageAttributes") or {}).get("TARGET_ARN", {}).get("StringValue")
    return (str(target) if target else None), body


def redrive(sqs: Any, lambda_client: Any, queue_url: str, targets: Collection[str], limit: int) -> RedriveResult:
    """Redrive up to ``limit`` messages of ``queue_url`` to their functions among ``targets``."""
    result = RedriveResult()
    seen = 0
    while seen < limit:
        batch = sqs.receive_message(
            QueueUrl=queue_url,
            MaxNumberOfMessages=min(10, limit - seen),
            MessageAttributeNames=["All"],
            VisibilityTimeout=60,
            WaitTimeSeconds=0,
        ).get("Messages", [])
        if not batch:
            break
        for message in batch:
            seen += 1
            function_arn, event = origin(message)
            if function_arn is None or function_arn not in targets:
                result.left.append(
                    f"{message['MessageId']}: not for a function this stack redrives to ({function_arn})"
                )
                continue
            lambda_client.invoke(FunctionName=function_arn, InvocationType="Event", Payload=json.dumps(event).encode())
            sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
            result.redriven[function_arn] = result.redriven.get(function_arn, 0) + 1
    return result
