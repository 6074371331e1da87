"""Changes to moto's Step Functions interpreter for the local mode.

moto >= 5.2 embeds a port of LocalStack's ASL interpreter. Four things are changed, each in one place:

1. The optimised SageMaker integration (``arn:aws:states:::sagemaker:<action>[.sync]``). moto forwards
   SageMaker tasks to the service as an "unsupported" integration: request-response works, ``.sync``
   fails the execution with ``States.Runtime``, and client errors become ``States.Runtime`` too.
   :class:`StateTaskServiceSageMaker` replaces it (through the interpreter's task factory):

   - the actions AWS supports are accepted, anything else is rejected when the state machine is
     created (as AWS does): createEndpoint, createEndpointConfig, createHyperParameterTuningJob,
     createLabelingJob, createModel, createProcessingJob, createTrainingJob, createTransformJob,
     updateEndpoint; ``.sync`` only for the five job kinds; no ``.waitForTaskToken``;
   - ``.sync`` polls the job's Describe* call every ``poll_interval`` seconds and outputs the
     Describe* response when the job is ``Completed``; ``Failed``/``Stopped`` fail the task with error
     ``States.TaskFailed`` and the Describe* response (JSON) as cause (training and tuning jobs do
     real work, see :mod:`sagestep.local.sagemaker`; moto's transform and processing jobs are
     ``Completed`` at once, and it has no labeling jobs);
   - a SageMaker client error fails the task with error ``SageMaker.AmazonSageMakerException`` and
     cause ``"<message> (Service: AmazonSageMaker; Status Code: <status>; Error Code: <code>;
     Request ID: <id>)"``, so Retry/Catch on that name work (e.g. on ThrottlingException);
   - timestamps in outputs and causes are epoch milliseconds, as Step Functions serialises them.

2. ``boto_client_for``: the interpreter builds a new boto3 client for every task (a few milliseconds
   each) against ``localhost:$MOTO_PORT``, although the server listens on the emulator's address only
   (``localhost`` may resolve to ``::1`` first). Clients are cached per service and region and point
   at the emulator's endpoint.

3. ``SendTaskFailure``: moto's response handler drops the ``cause`` parameter; it is passed through.

4. ``StopExecution``: moto drops ``error``/``cause``, and a stopped execution only ends when its current
   state returns, which a task waiting for a token never does (it stays ``RUNNING`` forever). The
   execution is stopped with the request's error and cause, and if it has not ended within
   ``ABORT_GRACE_SECONDS`` it is marked ``ABORTED`` with an ``ExecutionAborted`` event, as AWS does at
   once. Its interpreter thread stays blocked (a daemon thread; the token can no longer be sent).

5. "Step Functions Execution Status Change" events: moto emits none. Every execution that ends puts one on
   the default bus (detail: executionArn, stateMachineArn, name, status, dates, input, output, error, cause),
   so EventBridge rules on them (the stack's safety net for abandoned jobs) fire locally too.

6. ``$$.State.EnteredTime`` is formatted as Step Functions formats it (milliseconds and ``Z``).

``StartExecution``'s name idempotency is made atomic in :mod:`sagestep.local.atomicity`.

``TimeoutSecondsPath`` and ``HeartbeatSecondsPath`` work unchanged (``States.Timeout`` on expiry; moto
reports a missed heartbeat as ``States.Timeout``, which a Catch on ``States.Timeout`` also matches on
AWS).
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import threading
import time
from collections.abc import Callable
from typing import Any, Final, cast

from botocore.config import Config
from botocore.exceptions import ClientError

from sagestep.local.patching import Patcher

LOG = logging.getLogger(__name__)

#: createX action -> (describe action, name parameter, status field)
SYNC_JOBS: Final[dict[str, tuple[str, str, str]]] = {
    "createTrainingJob": ("describe_training_job", "TrainingJobName", "TrainingJobStatus"),
    "createHyperParameterTuningJob": (
        "describe_hyper_parameter_tuning_job",
        "HyperParameterTuningJobName",
        "HyperParameterTuningJobStatus",
    ),
    "createTransformJob": ("describe_transform_job", "TransformJobName", "TransformJobStatus"),
    "createProcessingJob": ("describe_processing_job", "ProcessingJobName", "ProcessingJobStatus"),
    "createLabelingJob": ("describe_labeling_job", "LabelingJobName", "LabelingJobStatus"),
}

REQUEST_RESPONSE_ACTIONS: Final[frozenset[str]] = frozenset(
    {*SYNC_JOBS, "createEndpoint", "createEndpointConfig", "createModel", "updateEndpoint"}
)

SAGEMAKER_ERROR: Final[str] = "SageMaker.AmazonSageMakerException"
ABORT_GRACE_SECONDS: Final[float] = 0.5


def json_safe(value: Any) -> Any:
    """A boto3 response as Step Functions outputs it: datetimes become epoch milliseconds."""
    if isinstance(value, dt.datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=dt.UTC)
        return int(value.timestamp() * 1000)
    if isinstance(value, dict):
        return {k: json_safe(v) for k, v in value.items() if k != "ResponseMetadata"}
    if isinstance(value, list):
        return [json_safe(v) for v in value]
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    return value


def sagemaker_error_cause(error: ClientError) -> str:
    """The cause Step Functions reports for a SageMaker client error."""
    details = error.response.get("Error", {})
    meta = error.response.get("ResponseMetadata", {})
    return (
        f"{details.get('Message', '')} (Service: AmazonSageMaker; "
        f"Status Code: {meta.get('HTTPStatusCode', 400)}; Error Code: {details.get('Code', 'Unknown')}; "
        f"Request ID: {meta.get('RequestId', '')})"
    )


class InterpreterClients:
    """boto3 clients for the interpreter's tasks, built once per (service, region)."""

    def __init__(self, endpoint_url: str) -> None:
        self._endpoint_url = endpoint_url
        self._clients: dict[tuple[str, str], Any] = {}
        self._lock = threading.Lock()

    def get(self, region: str, service: str, state_credentials: Any = None) -> Any:
        import boto3

        key = (service, region)
        client = self._clients.get(key)
        if client is None:
            with self._lock:
                client = self._clients.get(key)
                if client is None:
                    # Same settings as moto's boto_client_for: no SDK retries (Retry belongs to the
                    # ASL) and no parameter validation (the service validates).
                    session: Any = boto3.session.Session()
                    client = session.client(
                        service,
                        region_name=region,
                        endpoint_url=self._endpoint_url,
                        aws_access_key_id="ak",
                        aws_secret_access_key="sk",
                        config=Config(
                            parameter_validation=False,
                            retries={"max_attempts": 0, "total_max_attempts": 1},
                            connect_timeout=60,
                            read_timeout=600,
                            max_pool_connections=50,
                        ),
                    )
                    self._clients[key] = client
        return client


def _build_task_class(clients: InterpreterClients, poll_interval: float) -> type:
    """The SageMaker task class; built lazily so that importing this module does not import moto."""
    from moto.stepfunctions.parser.api import HistoryEventType, TaskFailedEventDetails
    from moto.stepfunctions.parser.asl.component.common.error_name.custom_error_name import (
        CustomErrorName,
    )
    from moto.stepfunctions.parser.asl.component.common.error_name.failure_event import (
        FailureEvent,
        FailureEventException,
    )
    from moto.stepfunctions.parser.asl.component.common.error_name.states_error_name import (
        StatesErrorName,
    )
    from moto.stepfunctions.parser.asl.component.common.error_name.states_error_name_type import (
        StatesErrorNameType,
    )
    from moto.stepfunctions.parser.asl.component.state.exec.state_task.service.resource import (
        ResourceCondition,
    )
    from moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service_callback import (
        StateTaskServiceCallback,
    )
    from moto.stepfunctions.parser.asl.eval.event.event_detail import EventDetails as _EventDetails

    # moto's TypedDict declares every event kind as required; only one is ever set.
    EventDetails: Any = _EventDetails

    class StateTaskServiceSageMaker(StateTaskServiceCallback):
        """The optimised SageMaker integration: request-response and ``.sync``."""

        def __init__(self) -> None:
            # waitForTaskToken is listed only because moto's callback machinery needs a callback
            # endpoint for every patterned task; _validate_service_integration_is_supported rejects
            # it for SageMaker as AWS does.
            super().__init__(
                supported_integration_patterns=cast(Any, {ResourceCondition.WaitForTaskToken, ResourceCondition.Sync})
            )

        def _validate_service_integration_is_supported(self) -> None:
            action = self.resource.api_action
            condition = self.resource.condition
            supported = action in REQUEST_RESPONSE_ACTIONS and (
                condition is None or (condition == ResourceCondition.Sync and action in SYNC_JOBS)
            )
            if not supported:
                raise ValueError(
                    f"The resource provided {self.resource.resource_arn} not recognized. The value is not "
                    "a valid resource ARN, or the resource is not available in this region."
                )

        def _eval_service_task(
            self, env: Any, resource_runtime_part: Any, normalised_parameters: dict, state_credentials: Any
        ) -> None:
            client = clients.get(resource_runtime_part.region, "sagemaker")
            response = getattr(client, self._get_boto_service_action())(**normalised_parameters)
            env.stack.append(json_safe(response))

        def _build_sync_resolver(
            self, env: Any, resource_runtime_part: Any, normalised_parameters: dict, state_credentials: Any
        ) -> Callable[[], Any]:
            env.stack.pop()  # the create call's output; .sync outputs the Describe* response instead
            describe, name_param, status_field = SYNC_JOBS[self.resource.api_action]
            name = normalised_parameters[name_param]
            client = clients.get(resource_runtime_part.region, "sagemaker")

            def resolve() -> Any:
                description = json_safe(getattr(client, describe)(**{name_param: name}))
                status = description.get(status_field)
                if status == "Completed":
                    return description
                if status in ("Failed", "Stopped"):
                    error = StatesErrorNameType.StatesTaskFailed.to_name()
                    raise FailureEventException(
                        FailureEvent(
                            env=env,
                            error_name=StatesErrorName(typ=StatesErrorNameType.StatesTaskFailed),
                            event_type=HistoryEventType.TaskFailed,
                            event_details=EventDetails(
                                taskFailedEventDetails=TaskFailedEventDetails(
                                    resource=self._get_sfn_resource(),
                                    resourceType=self._get_sfn_resource_type(),
                                    error=error,
                                    cause=json.dumps(description),
                                )
                            ),
                        )
                    )
                return None

            return resolve

        def _eval_sync(
            self,
            env: Any,
            sync_resolver: Callable[[], Any] | None,
            timeout_seconds: int | None,
            callback_endpoint: Any,
            heartbeat_endpoint: Any,
        ) -> Any:
            # moto's loop polls every 0.5 s and also waits for a task token, which SageMaker never
            # sends; poll the Describe* call at our interval until the job ends or the state times out.
            assert sync_resolver is not None
            while env.is_running():
                result = sync_resolver()
                if result is not None:
                    return result
                time.sleep(poll_interval)
            return None

        def _from_error(self, env: Any, ex: Exception) -> Any:
            if isinstance(ex, ClientError):
                return FailureEvent(
                    env=env,
                    error_name=CustomErrorName(SAGEMAKER_ERROR),
                    event_type=HistoryEventType.TaskFailed,
                    event_details=EventDetails(
                        taskFailedEventDetails=TaskFailedEventDetails(
                            error=SAGEMAKER_ERROR,
                            cause=sagemaker_error_cause(ex),
                            resource=self._get_sfn_resource(),
                            resourceType=self._get_sfn_resource_type(),
                        )
                    ),
                )
            return super()._from_error(env=env, ex=ex)

    return StateTaskServiceSageMaker


def install(patcher: Patcher, *, endpoint_url: str, poll_interval: float = 0.25) -> InterpreterClients:
    """Apply the changes described in the module docstring; returns the client cache."""
    import importlib
    import pkgutil
    import sys

    from moto.stepfunctions.parser.asl.component.state.exec.state_task import state_task_factory
    from moto.stepfunctions.parser.asl.utils import boto_client
    from moto.stepfunctions.responses import StepFunctionResponse

    clients = InterpreterClients(endpoint_url)
    task_class = _build_task_class(clients, poll_interval)

    original_factory = state_task_factory.state_task_service_for

    def state_task_service_for(service_name: str) -> Any:
        if service_name == "sagemaker":
            return task_class()
        return original_factory(service_name)

    patcher.replace(state_task_factory, "state_task_service_for", state_task_service_for)

    # Every interpreter module imported the function by name, so each module's binding is replaced;
    # the interpreter's modules are all imported first (some, like the Map state's S3 reader, lazily).
    import moto.stepfunctions.parser.asl.component as components

    for info in pkgutil.walk_packages(components.__path__, components.__name__ + "."):
        importlib.import_module(info.name)
    original_client_for = boto_client.boto_client_for
    for module in list(sys.modules.values()):
        name = getattr(module, "__name__", "") or ""
        if name.startswith("moto.stepfunctions") and vars(module).get("boto_client_for") is original_client_for:
            patcher.replace(module, "boto_client_for", clients.get)

    def send_task_failure(response: Any) -> Any:
        from moto.core.responses import EmptyResult

        response.stepfunction_backend.send_task_failure(
            response._get_param("taskToken"),
            error=response._get_param("error"),
            cause=response._get_param("cause"),
        )
        return EmptyResult()

    patcher.replace(StepFunctionResponse, "send_task_failure", send_task_failure)
    patcher.replace(StepFunctionResponse, "stop_execution", lambda response: _stop_execution(response, clients))

    # "Step Functions Execution Status Change" events: moto emits none; the stack's safety net listens to them.
    from moto.stepfunctions.parser.backend.execution import BaseExecutionWorkerCommunication

    original_terminated = BaseExecutionWorkerCommunication.terminated

    def terminated(communication: Any) -> None:
        original_terminated(communication)
        emit_status_change(clients, communication.execution)

    patcher.replace(BaseExecutionWorkerCommunication, "terminated", terminated)

    # `$$.State.EnteredTime`: moto writes Python's isoformat (microseconds, +00:00); Step Functions writes
    # `2026-11-22T14:05:11.527Z`, which is what the job records store.
    from moto.stepfunctions.parser.asl.component.state import state as state_module

    original_state_data = state_module.StateData

    def state_data(**fields: Any) -> Any:
        return original_state_data(**{**fields, "EnteredTime": aws_timestamp(fields["EnteredTime"])})

    patcher.replace(state_module, "StateData", state_data)
    return clients


def aws_timestamp(iso: str) -> str:
    """An ISO 8601 UTC time as Step Functions formats it: milliseconds and ``Z``."""
    import datetime as dt

    moment = dt.datetime.fromisoformat(iso).astimezone(dt.UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def emit_status_change(clients: InterpreterClients, execution: Any) -> None:
    """Put the execution's "Step Functions Execution Status Change" event on the default bus, as AWS does."""

    def millis(moment: Any) -> int | None:
        return int(moment.timestamp() * 1000) if moment is not None else None

    output = getattr(execution, "output", None)
    detail = {
        "executionArn": execution.exec_arn,
        "stateMachineArn": execution.state_machine.arn,
        "name": execution.name,
        "status": getattr(execution.exec_status, "value", execution.exec_status),
        "startDate": millis(execution.start_date),
        "stopDate": millis(execution.stop_date),
        "input": json.dumps(execution.input_data),
        "output": json.dumps(output) if output is not None else None,
        "error": execution.error,
        "cause": execution.cause,
    }
    region = execution.exec_arn.split(":")[3]
    try:
        clients.get(region, "events").put_events(
            Entries=[
                {
                    "Source": "aws.states",
                    "DetailType": "Step Functions Execution Status Change",
                    "Detail": json.dumps(detail),
                    "Resources": [execution.exec_arn],
                }
            ]
        )
    except Exception:
        LOG.exception("could not put the status change event of %s", execution.exec_arn)


def _stop_execution(response: Any, clients: InterpreterClients) -> Any:
    """StopExecution with ``error``/``cause``, ending executions blocked on a task token."""
    import datetime as dt

    from moto.core.responses import ActionResult
    from moto.stepfunctions.parser.api import ExecutionAbortedEventDetails, ExecutionStatus, HistoryEventType
    from moto.stepfunctions.parser.asl.eval.event.event_detail import EventDetails as _EventDetails

    event_details: Any = _EventDetails
    execution = response.stepfunction_backend.describe_execution(response._get_param("executionArn"))
    error, cause = response._get_param("error"), response._get_param("cause")
    stop_date = dt.datetime.now(dt.UTC)
    if execution.exec_status == ExecutionStatus.RUNNING:
        # Set before stopping: the status change event is put as soon as the worker ends.
        if error is not None:
            execution.error = error
        if cause is not None:
            execution.cause = cause
        execution.stop(stop_date=stop_date, error=error, cause=cause)
        deadline = time.monotonic() + ABORT_GRACE_SECONDS
        while execution.exec_status == ExecutionStatus.RUNNING and time.monotonic() < deadline:
            time.sleep(0.02)
        if execution.exec_status == ExecutionStatus.RUNNING:
            env = execution.exec_worker.env
            env.event_manager.add_event(
                context=env.event_history_context,
                event_type=HistoryEventType.ExecutionAborted,
                event_details=event_details(
                    executionAbortedEventDetails=ExecutionAbortedEventDetails(error=error, cause=cause)
                ),
            )
            execution.stop_date = stop_date
            execution.exec_status = ExecutionStatus.ABORTED
            # The worker stays blocked on its token and never reports the end itself.
            emit_status_change(clients, execution)
        if error is not None:
            execution.error = error
        if cause is not None:
            execution.cause = cause
    return ActionResult({"stopDate": execution.stop_date or stop_date})
