"""The local runtime: the whole sagestep backend on this machine, with no AWS account and no Docker.

It assembles the parts so that nothing is described twice:

1. the real CDK app is synthesized (cached by source hash) — ``cloudformation/assembly.py``;
2. an embedded AWS (moto server, in-process Lambda, Step Functions with SageMaker ``.sync``, SageMaker
   jobs and endpoints that really train and serve) is started — ``emulator.py``;
3. every table, index, bucket, topic, queue, rule, state machine (from ``statemachines/*.asl.json`` with
   the template's substitutions) and user pool of the template is created in it — ``cloudformation/``;
4. each Lambda function of the template is registered in-process with its real handler and the
   template's environment, resolved to local names, and its SQS event source mappings are polled —
   ``event_sources.py``;
5. the REST API's routes, taken from the template, are served on 127.0.0.1 with the Cognito authorizer
   enforced — ``gateway.py`` and ``cognito.py``.
"""

from __future__ import annotations

import importlib
import json
import logging
import os
import secrets
import sys
import warnings
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import Any

from pydantic import BaseModel

from sagestep.local.cloudformation import FunctionSpec, ProvisionedStack, provision, synthesize_assembly
from sagestep.local.cognito import CognitoAuthorizer, LocalUserPool
from sagestep.local.emulator import LocalAws
from sagestep.local.event_sources import EventSources
from sagestep.local.faults import Faults
from sagestep.local.gateway import AdminRequest, LocalApiGateway
from sagestep.local.lambdas import LambdaContext
from sagestep.local.services.sagemaker import SageMakerEmulator

REPO = Path(__file__).resolve().parents[2]
#: The training image as the local stack names it; the emulator runs it as ``python -m sagestep_training``.
LOCAL_TRAINING_IMAGE = "sagestep-local/training:latest"
DEFAULT_USERNAME = "demo@example.com"  # the user pool signs in by e-mail
#: Powertools settings for in-process handlers: no X-Ray daemon or CloudWatch here.
LOCAL_HANDLER_ENVIRONMENT = {
    "POWERTOOLS_TRACE_DISABLED": "true",
    "POWERTOOLS_METRICS_DISABLED": "true",
}


# Powertools warns when a handler adds no metric; most invocations add none by design.
warnings.filterwarnings("ignore", message="No application metrics to publish")


def config_dir() -> Path:
    """Where ``sagestep local up`` publishes how to reach it (``SAGESTEP_CONFIG_DIR`` overrides)."""
    return Path(os.environ.get("SAGESTEP_CONFIG_DIR") or Path.home() / ".sagestep")


class RuntimeInfo(BaseModel):
    """How to reach a running local backend (also written to ``~/.sagestep/local.json``)."""

    api_url: str
    region: str
    aws_endpoint_url: str
    user_pool_id: str
    user_pool_client_id: str
    data_bucket: str
    artifact_bucket: str
    topic_arn: str
    username: str
    password: str


class LocalRuntime:
    """The local backend; use as a context manager or with :meth:`start` / :meth:`stop`.

    :param port: port of the REST API (0 picks a free one).
    :param host: interface of the REST API and the AWS emulation (loopback).
    :param state_dir: keep training jobs' and endpoints' files and logs there (default: a temporary
        folder removed at stop). AWS state itself lives in memory and ends with the runtime.
    :param quiet: show only errors of the handlers and the emulation (job failures are in the job records).
    :param context: extra CDK context for the synthesized stack.
    :param app_dir: the CDK app (this repository).
    """

    def __init__(
        self,
        *,
        port: int = 8000,
        host: str = "127.0.0.1",
        state_dir: Path | None = None,
        quiet: bool = True,
        context: dict[str, Any] | None = None,
        app_dir: Path = REPO,
        sync_poll_interval: float = 0.25,
    ) -> None:
        self._port = port
        self._host = host
        self._state_dir = state_dir
        self._quiet = quiet
        self._context = {"trainingImageUri": LOCAL_TRAINING_IMAGE, **(context or {})}
        self._app_dir = app_dir
        self._sync_poll_interval = sync_poll_interval
        self._aws: LocalAws | None = None
        self._gateway: LocalApiGateway | None = None
        self._event_sources: EventSources | None = None
        self._stack: ProvisionedStack | None = None
        self._handlers: dict[str, Callable[[Any, Any], Any]] = {}
        self._functions: dict[str, FunctionSpec] = {}
        self._notification_queue_url: str | None = None
        self._notifications: list[dict[str, Any]] = []
        self._saved_env: dict[str, str | None] = {}
        self.info: RuntimeInfo | None = None

    # Lifecycle -------------------------------------------------------------------------------------

    def __enter__(self) -> LocalRuntime:
        self.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def start(self) -> RuntimeInfo:
        """Synthesize, start the emulation, provision the stack, register handlers, serve the API."""
        assembly = synthesize_assembly(self._app_dir, self._app_dir / ".sagestep" / "synth", self._context)
        self._aws = aws = LocalAws(
            host=self._host,
            work_dir=self._state_dir,
            services=[
                SageMakerEmulator(
                    container_commands={LOCAL_TRAINING_IMAGE: [sys.executable, "-m", "sagestep_training"]}
                )
            ],
            sync_poll_interval=self._sync_poll_interval,
        )
        try:
            aws.start()
            self._set_env(LOCAL_HANDLER_ENVIRONMENT)
            if self._quiet:
                self._set_env({"POWERTOOLS_LOG_LEVEL": "ERROR", "LOG_LEVEL": "ERROR"})
                # The interpreter logs every failed execution as a warning; failures are in the job record.
                logging.getLogger("moto").setLevel(logging.ERROR)
            self._stack = stack = provision(
                assembly.template,
                client_factory=aws.client,
                stack_name=assembly.stack_name,
                asset_dir=assembly.directory,
                region=aws.region,
            )
            self._reset_service_caches()
            for spec in stack.functions.values():
                environment = dict(spec.environment)
                if self._quiet:
                    environment["LOG_LEVEL"] = "ERROR"
                handler = _import_handler(spec.handler)
                self._handlers[spec.logical_id] = handler
                self._functions[spec.logical_id] = spec
                aws.register_lambda(
                    spec.function_name,
                    handler,
                    environment,
                    timeout=spec.timeout_seconds,
                    memory_size=spec.memory_mb,
                    async_retries=spec.async_retries,
                    on_failure_arn=spec.on_failure_arn,
                )
            self._event_sources = EventSources(aws)
            self._event_sources.start(stack.event_source_mappings.values())
            pool = stack.user_pool
            client_id = _only(pool.client_ids.values(), "user pool client")
            password = f"Local-{secrets.token_urlsafe(12)}-1a"
            LocalUserPool(aws.client("cognito-idp"), pool.user_pool_id, client_id).create_user(
                DEFAULT_USERNAME, password, attributes={"email": DEFAULT_USERNAME, "email_verified": "true"}
            )
            topic_arn = stack.outputs["TopicArn"]
            self._subscribe_notifications(aws, topic_arn)
            self._gateway = LocalApiGateway(
                stack.rest_api,
                self._invoke,
                authorizer=CognitoAuthorizer(aws.client("cognito-idp")),
                host=self._host,
                port=self._port,
                account_id=aws.account_id,
                region=aws.region,
                admin={"faults": {"GET": self._list_faults, "POST": self._arm_fault, "DELETE": self._clear_faults}},
            ).start()
        except BaseException:
            self.stop()
            raise
        self.info = RuntimeInfo(
            api_url=self._gateway.url.rstrip("/"),
            region=aws.region,
            aws_endpoint_url=aws.endpoint_url,
            user_pool_id=pool.user_pool_id,
            user_pool_client_id=client_id,
            data_bucket=stack.outputs["DataBucketName"],
            artifact_bucket=stack.outputs["ArtifactBucketName"],
            topic_arn=topic_arn,
            username=DEFAULT_USERNAME,
            password=password,
        )
        return self.info

    def stop(self) -> None:
        """Stop the API, the queue pollers, every training and model-server process, and the emulation; free
        the ports."""
        if self._gateway is not None:
            self._gateway.stop()
            self._gateway = None
        if self._event_sources is not None:
            self._event_sources.stop()
            self._event_sources = None
        if self._aws is not None:
            self._aws.stop()
            self._aws = None
        self._reset_service_caches()
        for name, value in self._saved_env.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        self._saved_env.clear()

    def publish(self, directory: Path | None = None) -> Path:
        """Write :class:`RuntimeInfo` to ``local.json`` (owner-only) so the CLI and client find this runtime."""
        if self.info is None:
            raise RuntimeError("the runtime is not started")
        target = (directory or config_dir()) / "local.json"
        target.parent.mkdir(parents=True, exist_ok=True)
        # It holds the demo user's password: written owner-only, then moved over any older file.
        partial = target.with_suffix(".json.partial")
        descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "w") as handle:
            handle.write(self.info.model_dump_json(indent=2))
        os.chmod(partial, 0o600)
        os.replace(partial, target)
        return target

    # What tests and the demo use -------------------------------------------------------------------

    @property
    def aws(self) -> LocalAws:
        if self._aws is None:
            raise RuntimeError("the runtime is not started")
        return self._aws

    @property
    def stack(self) -> ProvisionedStack:
        if self._stack is None:
            raise RuntimeError("the runtime is not started")
        return self._stack

    @property
    def faults(self) -> Faults:
        """Fault injection: fail the next training job or endpoint, hang an endpoint, throttle a call; list
        (``armed()``) and disarm (``clear()``) them."""
        return self.aws.faults

    def client(self, service: str) -> Any:
        """A boto3 client of the embedded AWS."""
        return self.aws.client(service)

    def sign_in(self, username: str = DEFAULT_USERNAME, password: str | None = None) -> str:
        """An ID token for a user of the local pool (the demo user by default)."""
        pool = self.stack.user_pool
        client_id = _only(pool.client_ids.values(), "user pool client")
        users = LocalUserPool(self.client("cognito-idp"), pool.user_pool_id, client_id)
        assert self.info is not None
        return users.sign_in(username, password or self.info.password).id_token

    def create_user(self, username: str, password: str) -> str:
        """Create another user (an e-mail address; owner isolation tests); returns its ``sub``."""
        pool = self.stack.user_pool
        client_id = _only(pool.client_ids.values(), "user pool client")
        users = LocalUserPool(self.client("cognito-idp"), pool.user_pool_id, client_id)
        return users.create_user(username, password, attributes={"email": username, "email_verified": "true"})

    def notifications(self) -> list[dict[str, Any]]:
        """Every SNS message the backend published so far: ``{"message": <parsed JSON>, "attributes": {...}}``."""
        if self._notification_queue_url is None:
            return list(self._notifications)
        sqs = self.client("sqs")
        while True:
            batch = sqs.receive_message(
                QueueUrl=self._notification_queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=0
            ).get("Messages", [])
            if not batch:
                break
            for message in batch:
                envelope = json.loads(message["Body"])
                self._notifications.append(
                    {
                        "message": json.loads(envelope["Message"]),
                        "attributes": {k: v["Value"] for k, v in envelope.get("MessageAttributes", {}).items()},
                    }
                )
                sqs.delete_message(QueueUrl=self._notification_queue_url, ReceiptHandle=message["ReceiptHandle"])
        return list(self._notifications)

    def wait_idle(self, timeout: float = 60.0) -> bool:
        """Wait for background SageMaker work, asynchronous Lambda calls and the messages of queues with an
        event source mapping (until each is deleted or in its DLQ: ``event_sources.py``) to finish."""
        return self.aws.wait_idle(timeout)

    # Internals -------------------------------------------------------------------------------------

    def _invoke(self, function_logical_id: str, event: dict[str, Any]) -> Any:
        spec = self._functions[function_logical_id]
        context = LambdaContext(
            function_name=spec.function_name,
            invoked_function_arn=spec.arn,
            memory_limit_in_mb=spec.memory_mb,
            timeout_seconds=spec.timeout_seconds,
        )
        return self._handlers[function_logical_id](event, context)

    # ``/_local/faults``: GET lists the armed faults, POST ``{"fault": ...}`` arms one (see ``Faults.apply``),
    # DELETE (``?fault=KIND`` for one kind) disarms them. Each answers ``{"faults": [the armed ones]}``.

    def _list_faults(self, request: AdminRequest) -> dict[str, Any]:
        return {"faults": [fault.to_json() for fault in self.faults.armed()]}

    def _arm_fault(self, request: AdminRequest) -> dict[str, Any]:
        if not isinstance(request.body, dict):
            raise ValueError('expected {"fault": ..., "reason"?, "operation"?, "count"?}')
        self.faults.apply(request.body)
        return self._list_faults(request)

    def _clear_faults(self, request: AdminRequest) -> dict[str, Any]:
        cleared = self.faults.clear(request.query.get("fault") or None)
        return {"cleared": [fault.to_json() for fault in cleared], **self._list_faults(request)}

    def _subscribe_notifications(self, aws: LocalAws, topic_arn: str) -> None:
        """A local queue subscribed to the topic, so that :meth:`notifications` sees every message."""
        sqs = aws.client("sqs")
        url = sqs.create_queue(QueueName="sagestep-local-notifications")["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        aws.client("sns").subscribe(TopicArn=topic_arn, Protocol="sqs", Endpoint=arn)
        self._notification_queue_url = url

    def _set_env(self, values: dict[str, str]) -> None:
        for name, value in values.items():
            self._saved_env.setdefault(name, os.environ.get(name))
            os.environ[name] = value

    @staticmethod
    def _reset_service_caches() -> None:
        """Clients and settings of the handlers are process-wide: drop them when the endpoint changes."""
        from sagestep_service.platform import aws as service_aws
        from sagestep_service.platform import settings

        service_aws.reset()
        settings.load.cache_clear()


def _import_handler(path: str) -> Callable[[Any, Any], Any]:
    """``package.module.function`` -> the function, as the Lambda runtime resolves ``Handler``."""
    module_name, _, attribute = path.rpartition(".")
    handler: Callable[[Any, Any], Any] = getattr(importlib.import_module(module_name), attribute)
    return handler


def _only(values: Any, what: str) -> str:
    items = list(values)
    if len(items) != 1:
        raise RuntimeError(f"expected one {what} in the stack, found {len(items)}")
    return str(items[0])
