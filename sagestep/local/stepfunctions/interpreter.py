"""Changes to moto's Step Functions interpreter for the local mode.

moto >= 5.2 embeds a port of LocalStack's ASL interpreter. These things are changed, each in one place:

1. Service integrations: the interpreter's task factory gives the task classes of
   :mod:`sagestep.local.stepfunctions.integrations` (the optimised SageMaker integration with ``.sync``, and
   the aws-sdk integration with AWS's error names and JSON outputs) in place of moto's for their services.

2. ``boto_client_for``: the interpreter's tasks use :class:`InterpreterClients` (cached per service and
   region, pointed at the emulator's endpoint) instead of a new client per task.

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
import time
from collections.abc import Mapping
from typing import Any, Final

from sagestep.local.patching import Patcher
from sagestep.local.serialization import aws_timestamp
from sagestep.local.stepfunctions.clients import InterpreterClients
from sagestep.local.stepfunctions.integrations import IntegrationBuilder, IntegrationContext, default_integrations

LOG = logging.getLogger(__name__)

ABORT_GRACE_SECONDS: Final[float] = 0.5


def install(
    patcher: Patcher,
    *,
    endpoint_url: str,
    poll_interval: float = 0.25,
    integrations: Mapping[str, IntegrationBuilder] | None = None,
) -> InterpreterClients:
    """Apply the changes described in the module docstring; returns the client cache.

    :param integrations: resource service name -> builder of its task class (default:
        :func:`~sagestep.local.stepfunctions.integrations.default_integrations`).
    """
    import importlib
    import pkgutil
    import sys

    from moto.stepfunctions.parser.asl.component.state.exec.state_task import state_task_factory
    from moto.stepfunctions.parser.asl.utils import boto_client
    from moto.stepfunctions.responses import StepFunctionResponse

    clients = InterpreterClients(endpoint_url)
    context = IntegrationContext(clients=clients, poll_interval=poll_interval)
    chosen = default_integrations() if integrations is None else integrations
    task_classes = {service: build(context) for service, build in chosen.items()}

    original_factory = state_task_factory.state_task_service_for

    def state_task_service_for(service_name: str) -> Any:
        task_class = task_classes.get(service_name)
        return task_class() if task_class is not None else original_factory(service_name)

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
