"""In-process Lambda functions for the local mode.

moto runs Lambda code in Docker. The local mode instead registers a Python callable per function and
routes every invocation to it, in this process:

- ``lambda:Invoke`` from any boto3 client (the Step Functions interpreter's ``lambda:invoke`` and
  ``.waitForTaskToken`` tasks, handlers, tests). ``InvocationType=RequestResponse`` runs the handler
  in the server's request thread and answers with its result; ``Event`` queues it and answers 202 at
  once, like AWS.
- EventBridge rules whose targets are Lambda ARNs (moto 5.2 raises NotImplementedError for them,
  failing the whole PutEvents call) or state machines. Delivery is asynchronous, as on AWS, with
  ``Input``, ``InputPath`` and ``InputTransformer`` honoured, ``time`` in ISO-8601 as AWS delivers
  it, and retries on a handler error (AWS retries asynchronous invocations twice).
- S3 bucket notifications to Lambda (moto calls them synchronously inside PutObject): asynchronous.

A handler that raises is reported as AWS's Python runtime reports it: ``X-Amz-Function-Error:
Unhandled`` and the payload ``{"errorMessage", "errorType": <exception class name>, "requestId",
"stackTrace"}``. The Step Functions interpreter turns that payload into a task failure whose error
name is the ``errorType``, so ``Retry``/``Catch`` on a custom error name (and on
``States.TaskFailed``/``States.ALL``) behave as on AWS.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
import logging
import threading
import time
import traceback
import uuid
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, cast

from sagestep.local.activity import Activity
from sagestep.local.faults import Faults
from sagestep.local.patching import Patcher

LOG = logging.getLogger(__name__)

Handler = Callable[[Any, Any], Any]


@dataclass
class LambdaContext:
    """The Lambda context object handed to handlers; has what Powertools reads."""

    function_name: str
    invoked_function_arn: str
    memory_limit_in_mb: int
    timeout_seconds: int
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    function_version: str = "$LATEST"
    identity: Any = None
    client_context: Any = None
    tenant_id: str | None = None
    _deadline: float = 0.0

    def __post_init__(self) -> None:
        self._deadline = time.monotonic() + self.timeout_seconds

    @property
    def log_group_name(self) -> str:
        return f"/aws/lambda/{self.function_name}"

    @property
    def log_stream_name(self) -> str:
        today = dt.datetime.now(dt.UTC).strftime("%Y/%m/%d")
        return f"{today}/[{self.function_version}]{self.aws_request_id.replace('-', '')}"

    def get_remaining_time_in_millis(self) -> int:
        """Milliseconds left before the function's configured timeout (not enforced locally)."""
        return max(0, int((self._deadline - time.monotonic()) * 1000))


@dataclass(frozen=True)
class RegisteredFunction:
    name: str
    arn: str
    handler: Handler
    timeout: int
    memory_size: int
    #: Retries of a failed asynchronous invocation, and where it goes after them (an SQS queue ARN).
    async_retries: int = 2
    on_failure_arn: str | None = None


@dataclass(frozen=True)
class AsyncInvocationError:
    """An asynchronous invocation whose every attempt failed (kept for diagnostics)."""

    function_name: str
    event: Any
    error_type: str
    error_message: str


def error_payload(exc: BaseException, request_id: str) -> dict[str, Any]:
    """The payload AWS's Python runtime returns for an exception raised by a handler."""
    return {
        "errorMessage": str(exc),
        "errorType": type(exc).__name__,
        "requestId": request_id,
        "stackTrace": traceback.format_tb(exc.__traceback__),
    }


class InjectedFunctionError(Exception):
    """A handler failure armed with the local fault ``fail_function``."""


def destination_record(
    function: RegisteredFunction, event: Any, error: dict[str, Any], attempts: int
) -> dict[str, Any]:
    """What Lambda sends to an on-failure destination once an asynchronous invocation's retries failed."""
    return {
        "version": "1.0",
        "timestamp": dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z",
        "requestContext": {
            "requestId": str(uuid.uuid4()),
            "functionArn": f"{function.arn}:$LATEST",
            "condition": "RetriesExhausted",
            "approximateInvokeCount": attempts,
        },
        "requestPayload": event,
        "responseContext": {"statusCode": 200, "executedVersion": "$LATEST", "functionError": "Unhandled"},
        "responsePayload": error,
    }


class LambdaRegistry:
    """Python handlers by function name, and the dispatch that moto's Lambda and EventBridge call."""

    def __init__(
        self,
        activity: Activity,
        *,
        async_retry_delays: Sequence[float] = (1.0, 2.0),
        async_workers: int = 4,
        start_execution: Callable[[str, str, Any], None] | None = None,
        send_message: Callable[[str, str], None] | None = None,
        faults: Faults | None = None,
    ) -> None:
        self._activity = activity
        self._functions: dict[str, RegisteredFunction] = {}
        self._lock = threading.Lock()
        self._retry_delays = tuple(async_retry_delays)
        self._executor = ThreadPoolExecutor(max_workers=async_workers, thread_name_prefix="lambda-async")
        self._closed = threading.Event()
        self._start_execution = start_execution
        self._send_message = send_message
        self._faults = faults
        self.async_errors: list[AsyncInvocationError] = []

    # Registration ----------------------------------------------------------------------------------

    def register(self, function: RegisteredFunction) -> None:
        with self._lock:
            self._functions[function.name] = function

    def get(self, name_or_arn: str) -> RegisteredFunction | None:
        """Look a function up by name, ARN or qualified ARN (the qualifier is ignored)."""
        name = name_or_arn
        if name_or_arn.startswith("arn:"):
            name = name_or_arn.split(":")[6]
        elif ":" in name_or_arn:
            name = name_or_arn.split(":", 1)[0]
        with self._lock:
            return self._functions.get(name)

    # Invocation ------------------------------------------------------------------------------------

    def call(self, function: RegisteredFunction, event: Any) -> tuple[bytes, str | None]:
        """Run the handler once; return ``(payload, function_error)`` as the Invoke API would."""
        context = LambdaContext(
            function_name=function.name,
            invoked_function_arn=function.arn,
            memory_limit_in_mb=function.memory_size,
            timeout_seconds=function.timeout,
        )
        try:
            if self._faults is not None and self._faults.take_function_failure(function.name):
                raise InjectedFunctionError(f"fault injected by the local runtime: {function.name} failed")
            result = function.handler(event, context)
        except Exception as exc:
            LOG.info("Lambda %s raised %s: %s", function.name, type(exc).__name__, exc)
            return json.dumps(error_payload(exc, context.aws_request_id)).encode(), "Unhandled"
        try:
            return json.dumps(result).encode(), None
        except (TypeError, ValueError) as exc:
            payload = {
                "errorMessage": f"Unable to marshal response: {exc}",
                "errorType": "Runtime.MarshalError",
                "requestId": context.aws_request_id,
                "stackTrace": [],
            }
            return json.dumps(payload).encode(), "Unhandled"

    def invoke_async(self, function: RegisteredFunction, event: Any) -> None:
        """Queue an asynchronous invocation (``InvocationType=Event`` or an EventBridge target)."""
        if self._closed.is_set():
            return
        self._activity.begin()
        try:
            self._executor.submit(self._run_async, function, event)
        except RuntimeError:  # executor already shut down
            self._activity.end()

    def _run_async(self, function: RegisteredFunction, event: Any) -> None:
        """As Lambda runs an asynchronous invocation: the first attempt, then ``async_retries`` more after a
        delay each; if all fail, the event goes to the function's on-failure destination (never dropped
        silently when one is configured)."""
        try:
            attempts = 1 + max(0, function.async_retries)
            delays = [0.0, *(self._retry_delays[min(i, len(self._retry_delays) - 1)] for i in range(attempts - 1))]
            payload, error = b"", None
            for delay in delays:
                if delay and self._closed.wait(delay):
                    return
                payload, error = self.call(function, copy.deepcopy(event))
                if error is None:
                    return
            details = json.loads(payload)
            LOG.warning(
                "Asynchronous invocation of %s failed after %d attempts: %s: %s",
                function.name,
                len(delays),
                details.get("errorType"),
                details.get("errorMessage"),
            )
            self.async_errors.append(
                AsyncInvocationError(
                    function.name, event, str(details.get("errorType")), str(details.get("errorMessage"))
                )
            )
            if function.on_failure_arn and self._send_message is not None:
                record = destination_record(function, event, details, len(delays))
                self._send_message(function.on_failure_arn, json.dumps(record))
        finally:
            self._activity.end()

    def shutdown(self) -> None:
        """Drop queued asynchronous invocations and stop the worker threads."""
        self._closed.set()
        self._executor.shutdown(wait=False, cancel_futures=True)

    # moto hooks ------------------------------------------------------------------------------------

    def install(self, patcher: Patcher) -> None:
        """Route moto's Lambda invocations and EventBridge Lambda/Step Functions targets here."""
        from moto.awslambda.models import LambdaFunction
        from moto.events.models import Rule

        registry = self

        # moto's LambdaFunction.invoke runs the code in Docker (via _invoke_lambda) and treats every
        # invocation type synchronously. Replaced whole, because the invocation type decides between
        # answering with the result and queueing the call.
        def invoke(fn: Any, body: str, request_headers: Any, response_headers: dict[str, Any]) -> bytes:
            function = registry.get(fn.function_name)
            if function is None:
                response_headers["x-amz-function-error"] = "Unhandled"
                return json.dumps(
                    {
                        "errorMessage": f"No in-process handler is registered for {fn.function_name}; "
                        "use LocalAws.register_lambda.",
                        "errorType": "Runtime.HandlerNotFound",
                    }
                ).encode()
            event = json.loads(body) if body else {}
            invocation_type = (request_headers or {}).get("X-Amz-Invocation-Type") or "RequestResponse"
            if invocation_type == "Event":
                registry.invoke_async(function, event)
                return b""
            if invocation_type == "DryRun":
                return b""
            payload, error = registry.call(function, event)
            if error:
                response_headers["x-amz-function-error"] = error
            return payload

        patcher.replace(LambdaFunction, "invoke", invoke)

        original_send = Rule.send_to_targets

        # moto's Rule.send_to_targets raises NotImplementedError for Lambda and Step Functions targets
        # (which fails the whole PutEvents call) and ignores the rule's state. Lambda and Step
        # Functions targets are delivered here; the others go to moto's implementation.
        def send_to_targets(rule: Any, original_event: dict[str, Any], transform_input: bool = True) -> None:
            if getattr(rule, "state", "ENABLED") != "ENABLED":
                return
            ours = [t for t in rule.targets if _arn_service(t.get("Arn", "")) in ("lambda", "states")]
            theirs = [t for t in rule.targets if t not in ours]
            supported = [t for t in theirs if _arn_service(t.get("Arn", "")) in ("logs", "events", "sqs")]
            for target in theirs:
                if target not in supported:
                    LOG.warning("EventBridge target %s is not emulated locally; event dropped", target["Arn"])
            if supported:
                proxy = copy.copy(rule)
                proxy.targets = supported
                original_send(proxy, cast(Any, original_event), transform_input)
            if not ours or not rule.event_pattern.matches_event(original_event):
                return
            for target in ours:
                event = _target_input(target, original_event, transform_input)
                if _arn_service(target["Arn"]) == "lambda":
                    function = registry.get(target["Arn"])
                    if function is None:
                        LOG.warning("EventBridge target %s has no in-process handler", target["Arn"])
                        continue
                    registry.invoke_async(function, event)
                elif registry._start_execution is not None:
                    registry._start_execution(target["Arn"], str(uuid.uuid4()), event)

        patcher.replace(Rule, "send_to_targets", send_to_targets)

        # moto's S3 bucket notifications call the function synchronously inside PutObject; S3
        # invokes Lambda asynchronously.
        from moto.s3 import notifications as s3_notifications

        def invoke_from_s3(account_id: str, event_body: Any, fn_arn: str, region_name: str) -> None:
            function = registry.get(fn_arn)
            if function is None:
                LOG.warning("S3 notification target %s has no in-process handler", fn_arn)
                return
            registry.invoke_async(function, event_body)

        patcher.replace(s3_notifications, "_invoke_awslambda", invoke_from_s3)

        # moto's SNS invokes a subscribed function synchronously inside Publish, with a canned record (test message
        # attributes, an EXAMPLE topic); SNS invokes Lambda asynchronously (retries, on-failure destination).
        from moto.awslambda.models import LambdaBackend

        def send_sns_message(
            backend: Any, function_name: str, message: str, subject: str | None = None, qualifier: str | None = None
        ) -> None:
            function = registry.get(function_name)
            if function is None:
                LOG.warning("SNS subscription %s has no in-process handler", function_name)
                return
            record = {
                "EventVersion": "1.0",
                "EventSource": "aws:sns",
                "EventSubscriptionArn": f"arn:aws:sns:{backend.region_name}:{backend.account_id}:subscription",
                "Sns": {
                    "Type": "Notification",
                    "MessageId": str(uuid.uuid4()),
                    "TopicArn": f"arn:aws:sns:{backend.region_name}:{backend.account_id}:topic",
                    "Subject": subject,
                    "Message": message,
                    "Timestamp": dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z",
                    "SignatureVersion": "1",
                    "Signature": "local",
                    "SigningCertUrl": "https://sns.local/cert.pem",
                    "UnsubscribeUrl": "https://sns.local/unsubscribe",
                    "MessageAttributes": {},
                },
            }
            registry.invoke_async(function, {"Records": [record]})

        patcher.replace(LambdaBackend, "send_sns_message", send_sns_message)


def _arn_service(arn: str) -> str:
    parts = arn.split(":")
    return parts[2] if len(parts) > 2 else ""


def _aws_event(moto_event: dict[str, Any]) -> dict[str, Any]:
    """moto's event message as AWS delivers it: ISO-8601 ``time``, no moto-internal keys."""
    event = {k: v for k, v in moto_event.items() if k != "ingestion-time"}
    when = event.get("time")
    if isinstance(when, (int, float)):
        event["time"] = dt.datetime.fromtimestamp(when, dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    elif isinstance(when, dt.datetime):
        event["time"] = when.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return event


def _target_input(target: dict[str, Any], moto_event: dict[str, Any], transform_input: bool) -> Any:
    """What an EventBridge target receives: the event, ``Input``, ``InputPath`` or a transformation."""
    event = _aws_event(moto_event)
    if not transform_input:
        return event
    if "Input" in target:
        return json.loads(target["Input"])
    if "InputPath" in target:
        from jsonpath_ng.ext import parse

        matches = parse(target["InputPath"]).find(event)
        return matches[0].value if matches else None
    if "InputTransformer" in target:
        from moto.events.utils import EventTemplateParser

        transformer = target["InputTransformer"]
        with_ingestion = {**event, "ingestion-time": moto_event.get("ingestion-time", time.time())}
        return EventTemplateParser.parse(
            input_template=transformer.get("InputTemplate"),
            input_paths_map=transformer.get("InputPathsMap", {}),
            event=cast(Any, with_ingestion),
        )
    return event
