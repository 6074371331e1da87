"""The optimised SageMaker integration (``arn:aws:states:::sagemaker:<action>[.sync]``).

moto forwards SageMaker tasks to the service as an "unsupported" integration: request-response works,
``.sync`` fails the execution with ``States.Runtime``, and client errors become ``States.Runtime`` too. This
task class takes its place:

- the actions AWS supports are accepted, anything else is rejected when the state machine is created (as
  AWS does): createEndpoint, createEndpointConfig, createHyperParameterTuningJob, createLabelingJob,
  createModel, createProcessingJob, createTrainingJob, createTransformJob, updateEndpoint; ``.sync`` only
  for the five job kinds; no ``.waitForTaskToken``;
- ``.sync`` polls the job's Describe* call every ``poll_interval`` seconds and outputs the Describe*
  response when the job is ``Completed``; ``Failed``/``Stopped`` fail the task with error
  ``States.TaskFailed`` and the Describe* response (JSON) as cause (training and tuning jobs do real work,
  see :mod:`sagestep.local.services.sagemaker`; moto's transform and processing jobs are ``Completed`` at
  once, labeling jobs run in :mod:`sagestep.local.services.sagemaker.labeling`);
- a SageMaker client error fails the task with error ``SageMaker.AmazonSageMakerException`` and cause
  ``"<message> (Service: AmazonSageMaker; Status Code: <status>; Error Code: <code>; Request ID: <id>)"``,
  so Retry/Catch on that name work (e.g. on ThrottlingException);
- timestamps in outputs and causes are epoch milliseconds, as Step Functions serialises them.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any, Final, cast

from botocore.exceptions import ClientError

from sagestep.local.serialization import json_safe
from sagestep.local.stepfunctions.integrations import IntegrationContext

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


def sagemaker_error_cause(error: ClientError) -> str:
    """The cause Step Functions reports for a SageMaker client error."""
    details = error.response.get("Error", {})
    meta = error.response.get("ResponseMetadata", {})
    return (
        f"{details.get('Message', '')} (Service: AmazonSageMaker; "
        f"Status Code: {meta.get('HTTPStatusCode', 400)}; Error Code: {details.get('Code', 'Unknown')}; "
        f"Request ID: {meta.get('RequestId', '')})"
    )


def build(context: IntegrationContext) -> type:
    """The SageMaker task class (see the module docstring)."""
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
    clients, poll_interval = context.clients, context.poll_interval

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
