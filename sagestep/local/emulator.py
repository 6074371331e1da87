"""The embedded AWS emulation of the local mode: one moto server, in-process Lambda, local service emulations.

Usage::

    from sagestep.local.emulator import LocalAws

    with LocalAws() as aws:
        arn = aws.register_lambda("Hello", lambda event, context: {"hello": event["name"]})
        sfn = aws.client("stepfunctions")
        ...
        aws.wait_idle(30)

What :meth:`LocalAws.start` does:

- starts moto's ``ThreadedMotoServer`` on ``host`` (127.0.0.1) and ``port`` (0: a free port) and enables
  moto's Step Functions interpreter (``POST /moto-api/config``);
- points every boto3 client of this process at it, by setting process-wide environment variables
  (``AWS_ENDPOINT_URL``, ``MOTO_PORT``, fake credentials, ``AWS_DEFAULT_REGION``/``AWS_REGION``) and
  clearing ``AWS_PROFILE`` and service-specific ``AWS_ENDPOINT_URL_*``; :meth:`stop` restores them.
  Clients created *before* ``start()`` keep their old endpoint;
- installs the changes to moto described in :mod:`sagestep.local.atomicity` (atomic conditional writes and
  execution starts), :mod:`sagestep.local.lambdas` (in-process Lambda and EventBridge Lambda targets) and
  :mod:`sagestep.local.stepfunctions` (service integrations, cached interpreter clients, SendTaskFailure
  cause, StopExecution, status change events), then every local service emulation of ``registry``
  (:mod:`sagestep.local.services`; by default :mod:`sagestep.local.services.sagemaker`: real training,
  tuning and hosting, fault injection). A service given in ``services`` takes the place of the registered
  one of its name, e.g. to configure it::

      LocalAws(services=[SageMakerEmulator(container_commands={image: ["python", "fake.py"]})])

Only one ``LocalAws`` may run in a process at a time: moto's backends are process-global. Do not start
one inside ``mock_aws`` (which intercepts botocore instead of letting requests reach the server).

Lambda environments: handlers read ``os.environ``, and all handlers share this process, so
:meth:`register_lambda` merges a function's ``environment`` into ``os.environ`` (and also stores it
in the function's configuration, as AWS shows it). Two functions that set the same variable to
different values raise ``ValueError`` at registration, so a handler never silently reads another
function's value. The variables are removed again by :meth:`stop`.
"""

from __future__ import annotations

import copy
import json
import logging
import os
import shutil
import tempfile
import threading
import time
import urllib.request
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any, TypeVar, cast

import boto3
from botocore.config import Config

from sagestep.local import atomicity
from sagestep.local.activity import Activity
from sagestep.local.faults import Faults
from sagestep.local.lambdas import LambdaRegistry, RegisteredFunction
from sagestep.local.patching import Patcher
from sagestep.local.services import EventEmitter, LocalService, ServiceContext, ServiceRegistry, default_registry
from sagestep.local.stepfunctions import interpreter

LOG = logging.getLogger(__name__)

DEFAULT_ACCOUNT_ID = "123456789012"
LAMBDA_ROLE_NAME = "sagestep-local-lambda"
_FAKE_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
}
_ACTIVE_LOCK = threading.Lock()
_ACTIVE: LocalAws | None = None
S = TypeVar("S", bound=LocalService)


class _Environment:
    """Process environment changes that can be undone, with conflict detection for Lambda variables."""

    def __init__(self) -> None:
        self._saved: dict[str, str | None] = {}
        self._functions: dict[str, dict[str, str]] = {}

    def set(self, key: str, value: str) -> None:
        self._saved.setdefault(key, os.environ.get(key))
        os.environ[key] = value

    def unset(self, key: str) -> None:
        if key in os.environ:
            self._saved.setdefault(key, os.environ.get(key))
            del os.environ[key]

    def set_for_function(self, function_name: str, variables: Mapping[str, str]) -> None:
        """Merge a Lambda function's variables (replacing its earlier ones), refusing a value that
        another function set differently."""
        others = {
            key: (owner, value)
            for owner, owned in self._functions.items()
            if owner != function_name
            for key, value in owned.items()
        }
        for key, value in variables.items():
            if key in others and others[key][1] != value:
                raise ValueError(
                    f"Lambda {function_name} sets {key}={value!r} but {others[key][0]} set "
                    f"{key}={others[key][1]!r}; in-process handlers share os.environ, so the values must agree"
                )
        previous = self._functions.get(function_name, {})
        self._functions[function_name] = dict(variables)
        for key in previous.keys() - variables.keys() - others.keys():
            original = self._saved.get(key)
            if original is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = original
        for key, value in variables.items():
            self.set(key, value)

    def restore(self) -> None:
        for key, value in self._saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        self._saved.clear()
        self._functions.clear()


class LocalAws:
    """An embedded AWS: moto server, in-process Lambda, Step Functions, and the local service emulations.

    :param port: TCP port of the server; 0 picks a free one.
    :param host: interface to bind (127.0.0.1).
    :param region: the region clients default to.
    :param work_dir: where the services keep their files and logs (training jobs, endpoints); default a
        temporary directory removed by :meth:`stop` (a given directory is kept).
    :param services: configured service emulations, each in place of the registered one of its name
        (others are added after the registered ones).
    :param registry: the service emulations to run (default :func:`~sagestep.local.services.default_registry`).
    :param sync_poll_interval: seconds between Describe* calls of a ``.sync`` task.
    :param async_retry_delays: delays before the retries of a failed asynchronous Lambda invocation.
    """

    account_id = DEFAULT_ACCOUNT_ID

    def __init__(
        self,
        *,
        port: int = 0,
        host: str = "127.0.0.1",
        region: str = "us-east-1",
        work_dir: str | Path | None = None,
        services: Iterable[LocalService] = (),
        registry: ServiceRegistry | None = None,
        sync_poll_interval: float = 0.25,
        async_retry_delays: Sequence[float] = (1.0, 2.0),
    ) -> None:
        self.region = region
        self._host = host
        self._requested_port = port
        self._given_work_dir = Path(work_dir) if work_dir is not None else None
        self.services: list[LocalService] = (registry or default_registry()).instantiate(services)
        self._sync_poll_interval = sync_poll_interval
        self._async_retry_delays = tuple(async_retry_delays)

        self.faults = Faults()
        self.activity = Activity()
        self._server: Any = None
        self._port: int | None = None
        self._patcher = Patcher()
        self._env = _Environment()
        self._clients: dict[str, Any] = {}
        self._clients_lock = threading.Lock()
        self._saved_user_config: dict[str, Any] | None = None
        self._saved_werkzeug_level: int | None = None
        self._work_dir: Path | None = None
        self._lambdas: LambdaRegistry | None = None
        self._events: EventEmitter | None = None

    # Properties ------------------------------------------------------------------------------------

    @property
    def port(self) -> int:
        if self._port is None:
            raise RuntimeError("LocalAws is not started")
        return self._port

    @property
    def endpoint_url(self) -> str:
        return f"http://{self._host}:{self.port}"

    @property
    def work_dir(self) -> Path:
        if self._work_dir is None:
            raise RuntimeError("LocalAws is not started")
        return self._work_dir

    @property
    def lambdas(self) -> LambdaRegistry:
        if self._lambdas is None:
            raise RuntimeError("LocalAws is not started")
        return self._lambdas

    def service(self, kind: type[S]) -> S:
        """The running emulation of class ``kind`` (e.g. ``aws.service(SageMakerEmulator).training_log(job)``)."""
        for service in self.services:
            if isinstance(service, kind):
                return service
        raise KeyError(f"no {kind.__name__} in this LocalAws")

    def child_processes(self) -> list[int]:
        """PIDs of the processes the service emulations started that are still running."""
        return [pid for service in self.services for pid in service.child_processes()]

    @property
    def running(self) -> bool:
        return self._server is not None

    # Lifecycle -------------------------------------------------------------------------------------

    def __enter__(self) -> LocalAws:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def start(self) -> LocalAws:
        """Start the server, configure this process's AWS environment and install the emulation."""
        global _ACTIVE
        from moto.core.config import default_user_config
        from moto.moto_api._internal.models import moto_api_backend
        from moto.server import ThreadedMotoServer

        with _ACTIVE_LOCK:
            if _ACTIVE is not None:
                raise RuntimeError("another LocalAws is running in this process (moto's state is global)")
            _ACTIVE = self
        try:
            self._saved_user_config = copy.deepcopy(dict(default_user_config))
            werkzeug_logger = logging.getLogger("werkzeug")
            self._saved_werkzeug_level = werkzeug_logger.level
            werkzeug_logger.setLevel(logging.WARNING)

            self._server = ThreadedMotoServer(ip_address=self._host, port=self._requested_port, verbose=False)
            self._server.start()
            self._port = int(self._server.get_host_and_port()[1])
            self._configure_environment()
            moto_api_backend.reset()

            self._work_dir = self._given_work_dir or Path(tempfile.mkdtemp(prefix="sagestep-local-"))
            self._work_dir.mkdir(parents=True, exist_ok=True)
            self._lambdas = LambdaRegistry(
                self.activity,
                async_retry_delays=self._async_retry_delays,
                start_execution=self._start_execution,
                send_message=self._send_message,
                faults=self.faults,
            )
            self._events = EventEmitter(self._internal_client, self.activity)
            context = ServiceContext(
                clients=self._internal_client,
                faults=self.faults,
                activity=self.activity,
                events=self._events,
                work_dir=self._work_dir,
                account_id=self.account_id,
                region=self.region,
            )
            atomicity.install(self._patcher)
            self._lambdas.install(self._patcher)
            interpreter.install(self._patcher, endpoint_url=self.endpoint_url, poll_interval=self._sync_poll_interval)
            for service in self.services:
                service.install(self._patcher, context)
            self._post_moto_api(
                "/moto-api/config",
                {"stepfunctions": {"execute_state_machine": True}, "lambda": {"use_docker": True}},
            )
            self.client("iam").create_role(
                RoleName=LAMBDA_ROLE_NAME,
                AssumeRolePolicyDocument=json.dumps(
                    {
                        "Version": "2012-10-17",
                        "Statement": [
                            {
                                "Effect": "Allow",
                                "Principal": {"Service": "lambda.amazonaws.com"},
                                "Action": "sts:AssumeRole",
                            }
                        ],
                    }
                ),
            )
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        """Stop executions, container processes and the server; undo every process-wide change."""
        global _ACTIVE
        from moto.core.config import default_user_config
        from moto.moto_api._internal.models import moto_api_backend

        with _ACTIVE_LOCK:
            if _ACTIVE is not self:
                return
        try:
            if self._server is not None:
                self._stop_executions()
            if self._events is not None:
                self._events.close()  # pending service events are dropped
            for service in self.services:
                if service.installed:
                    service.shutdown()
            if self._lambdas is not None:
                self._lambdas.shutdown()
            if self._server is not None:
                self._server.stop()
                # ThreadedMotoServer.stop ends serve_forever but leaves the socket bound.
                inner = getattr(self._server, "_server", None)
                if inner is not None:
                    inner.server_close()
        finally:
            self._patcher.restore()
            moto_api_backend.reset()
            if self._saved_user_config is not None:
                config = cast(dict[str, Any], default_user_config)
                config.clear()
                config.update(self._saved_user_config)
            if self._saved_werkzeug_level is not None:
                logging.getLogger("werkzeug").setLevel(self._saved_werkzeug_level)
            self._env.restore()
            boto3.DEFAULT_SESSION = None
            self._clients.clear()
            if self._work_dir is not None and self._given_work_dir is None:
                shutil.rmtree(self._work_dir, ignore_errors=True)
            self._server = None
            self._port = None
            self._work_dir = None
            self._lambdas = None
            self._events = None
            with _ACTIVE_LOCK:
                _ACTIVE = None

    def _configure_environment(self) -> None:
        for key in list(os.environ):
            if key.startswith("AWS_ENDPOINT_URL_") or key in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE"):
                self._env.unset(key)
        self._env.unset("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS")
        self._env.set("AWS_ENDPOINT_URL", self.endpoint_url)
        self._env.set("MOTO_PORT", str(self.port))
        self._env.set("AWS_DEFAULT_REGION", self.region)
        self._env.set("AWS_REGION", self.region)
        for key, value in _FAKE_CREDENTIALS.items():
            self._env.set(key, value)
        # The default session caches credentials and config resolved before start().
        boto3.DEFAULT_SESSION = None

    def _post_moto_api(self, path: str, body: dict[str, Any]) -> None:
        request = urllib.request.Request(
            self.endpoint_url + path,
            data=json.dumps(body).encode(),
            headers={"Content-Type": "application/json"},
            method="POST",
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            response.read()

    def _stop_executions(self) -> None:
        """Stop running executions, so that their interpreter threads end with the server."""
        sfn = self._internal_client("stepfunctions")
        try:
            for page in sfn.get_paginator("list_state_machines").paginate():
                for machine in page["stateMachines"]:
                    running = sfn.list_executions(stateMachineArn=machine["stateMachineArn"], statusFilter="RUNNING")
                    for execution in running["executions"]:
                        sfn.stop_execution(executionArn=execution["executionArn"], cause="LocalAws stopped")
        except Exception:
            LOG.warning("Could not stop running executions", exc_info=True)

    def _send_message(self, queue_arn: str, body: str) -> None:
        """Send ``body`` to the SQS queue ``queue_arn`` (a Lambda on-failure destination)."""
        sqs = self._internal_client("sqs")
        queue_url = sqs.get_queue_url(QueueName=queue_arn.rsplit(":", 1)[-1])["QueueUrl"]
        sqs.send_message(QueueUrl=queue_url, MessageBody=body)

    def _start_execution(self, state_machine_arn: str, name: str, event: Any) -> None:
        self._internal_client("stepfunctions").start_execution(
            stateMachineArn=state_machine_arn, name=name, input=json.dumps(event)
        )

    # Clients ---------------------------------------------------------------------------------------

    def client(self, service: str, **kwargs: Any) -> Any:
        """A boto3 client for ``service`` pointed at the emulator (cached when no kwargs are given)."""
        if kwargs:
            return self._new_client(service, **kwargs)
        with self._clients_lock:
            client = self._clients.get(service)
            if client is None:
                client = self._clients[service] = self._new_client(service)
            return client

    def _new_client(self, service: str, **kwargs: Any) -> Any:
        kwargs.setdefault("region_name", self.region)
        session: Any = boto3.session.Session()
        return session.client(
            service,
            endpoint_url=self.endpoint_url,
            aws_access_key_id=_FAKE_CREDENTIALS["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=_FAKE_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
            aws_session_token=_FAKE_CREDENTIALS["AWS_SESSION_TOKEN"],
            **kwargs,
        )

    def _internal_client(self, service: str) -> Any:
        """Clients for the emulation itself: no SDK retries, so injected faults are not hidden."""
        key = f"internal:{service}"
        with self._clients_lock:
            client = self._clients.get(key)
            if client is None:
                client = self._clients[key] = self._new_client(
                    service,
                    config=Config(retries={"max_attempts": 0, "total_max_attempts": 1}, max_pool_connections=20),
                )
            return client

    # Lambda ----------------------------------------------------------------------------------------

    def register_lambda(
        self,
        function_name: str,
        handler: Callable[[Any, Any], Any],
        environment: Mapping[str, str] | None = None,
        *,
        timeout: int = 60,
        memory_size: int = 512,
        async_retries: int = 2,
        on_failure_arn: str | None = None,
    ) -> str:
        """Create the Lambda function ``function_name`` in moto and run ``handler`` for it in-process.

        Registering an existing name again replaces its handler, environment and settings.

        :param handler: ``handler(event, context)``; an exception becomes a Lambda error whose
            ``errorType`` is the exception's class name.
        :param environment: merged into ``os.environ`` (see the module docstring) and stored in the
            function's configuration.
        :param async_retries: retries of a failed asynchronous invocation (AWS's default is 2).
        :param on_failure_arn: the SQS queue an asynchronous invocation goes to once its retries failed.
        :returns: the function ARN.
        """
        registry = self.lambdas  # raises if not started
        variables = {k: str(v) for k, v in (environment or {}).items()}
        self._env.set_for_function(function_name, variables)
        settings = {"Timeout": timeout, "MemorySize": memory_size, "Environment": {"Variables": variables}}
        lambda_client = self.client("lambda")
        try:
            response = lambda_client.create_function(
                FunctionName=function_name,
                Runtime="python3.11",
                Role=f"arn:aws:iam::{self.account_id}:role/{LAMBDA_ROLE_NAME}",
                Handler="index.handler",
                Code={"ZipFile": _dummy_zip()},
                **settings,
            )
        except lambda_client.exceptions.ResourceConflictException:
            response = lambda_client.update_function_configuration(FunctionName=function_name, **settings)
        arn = str(response["FunctionArn"])
        registry.register(
            RegisteredFunction(function_name, arn, handler, timeout, memory_size, async_retries, on_failure_arn)
        )
        return arn

    # Waiting ---------------------------------------------------------------------------------------

    def wait_idle(self, timeout: float | None = 60.0) -> bool:
        """Wait until no service worker, queued event or asynchronous Lambda call is in progress."""
        deadline = None if timeout is None else time.monotonic() + timeout

        def remaining() -> float | None:
            return None if deadline is None else max(0.0, deadline - time.monotonic())

        return self.activity.wait_idle(remaining()) and all(s.wait_idle(remaining()) for s in self.services)


def _dummy_zip() -> bytes:
    import io
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("index.py", "def handler(event, context):\n    raise RuntimeError('runs in-process')\n")
    return buffer.getvalue()
