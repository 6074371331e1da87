"""What the local emulations of AWS's JSON-protocol services share: an error as the protocol answers it, and the
generic per-call faults (``fail_call``, ``throttle``, ``lose_response``) applied around an action."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from typing import Any

from sagestep.local.faults import LOST_RESPONSE_MESSAGE, Faults

ErrorBuilder = Callable[[int, str, str], tuple[int, dict[str, str], str]]


def json_error(
    status: int, code: str, message: str, *, message_key: str = "message"
) -> tuple[int, dict[str, str], str]:
    """An error as the JSON protocol reports it (built here: a fault's code may be no error shape of the model)."""
    headers = {"Content-Type": "application/x-amz-json-1.1", "x-amzn-RequestId": str(uuid.uuid4())}
    return status, headers, json.dumps({"__type": code, message_key: message})


def with_call_faults(
    faults: Faults,
    action: str,
    call: Callable[[], Any],
    *,
    throttle_code: str,
    lost_code: str,
    error: ErrorBuilder = json_error,
) -> Any:
    """Run ``call`` (the action) under the armed per-call faults: a refused call and a throttle are answered before
    the action runs (it has no effect); a lost response after it ran (it took effect, the caller gets a 500)."""
    refused = faults.take_call_failure(action)
    if refused is not None:
        return error(400, *refused)
    message = faults.take_throttle(action)
    if message is not None:
        return error(400, throttle_code, message)
    result = call()
    if faults.take_lost_response(action):
        return error(500, lost_code, LOST_RESPONSE_MESSAGE)
    return result
