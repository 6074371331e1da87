"""A SageMaker emulation that does real work, hooked into moto's SageMaker backend.

moto keeps the records (describe/list/tags keep working) but marks every job ``Completed`` and every
endpoint ``InService`` at once and has no UpdateEndpoint, StopTrainingJob, tuning-job listing or
stopping. :class:`SageMakerEmulator` wraps a few backend methods and adds the missing API calls; the work
itself is split by concern:

- :mod:`.training`: training jobs run the container's ``train`` (CreateTrainingJob, StopTrainingJob);
- :mod:`.tuning`: tuning jobs run training jobs sampled with Optuna (CreateHyperParameterTuningJob,
  ListTrainingJobsForHyperParameterTuningJob, StopHyperParameterTuningJob);
- :mod:`.endpoints`: endpoints run the container's ``serve`` (CreateEndpoint, UpdateEndpoint with rollback,
  DeleteEndpoint, InvokeEndpoint);
- :mod:`.labeling`: Ground Truth labeling jobs (CreateLabelingJob, DescribeLabelingJob, ListLabelingJobs,
  StopLabelingJob; ListTags/AddTags/DeleteTags on their ARNs), answered by a pluggable workforce;
- :mod:`.processes`: the container processes and worker threads of all of them.

Every status change puts an ``aws.sagemaker`` event on the default EventBridge bus ("SageMaker Training Job
State Change", "SageMaker HyperParameter Tuning Job State Change", "SageMaker Endpoint State Change"), shaped
as AWS documents them: timestamps in epoch milliseconds, ``Tags`` as a map. Faults armed in
:class:`~sagestep.local.faults.Faults` (failed or hanging jobs and endpoints, refused or throttled calls, lost
responses) fire where AWS would fail. A create of a name in use is refused with AWS's error (moto replaces the
resource), so that a retried create whose first response was lost meets what it created, as on AWS.

Labeling jobs (Ground Truth; moto has none)
-------------------------------------------
A labeling job reads its input manifest from the local S3, calls the pre-annotation Lambda per data object and
the consolidation Lambda once with every answered object (through the local Lambda for real ARNs; AWS's own
``PRE-*``/``ACS-*`` functions are done in-process, see :mod:`.labeling_tasks`), and writes Ground Truth's output
layout: the output manifest, one worker response per object, the consolidation request and response. Its workers
are a :class:`~.workforce.Workforce`: by default :class:`~.workforce.SimulatedWorkforce` (deterministic by seed; a
crowd of 5 workers of mixed accuracy, or 2 experts at 0.97 for a work team whose name contains ``expert``), else
the one given as ``SageMakerEmulator(workforce=...)`` or named by ``$SAGESTEP_WORKFORCE`` (a JSON file of teams or
``package.module:ClassName``). Answers are simulated, never slept for; ``labeling_item_delay`` (real seconds per
object) lets a test see ``InProgress``. Statuses Initializing -> InProgress -> Completed | Failed | Stopping ->
Stopped, each put as "SageMaker Ground Truth Labeling Job State Change" with detail ``{"LabelingJobStatus": ...}``
(AWS's documented shape). ``faults.labeling`` fails or hangs the next job (:mod:`sagestep.local.labeling_faults`);
the generic per-call faults apply to CreateLabelingJob as to every SageMaker call. The task type comes from the
AWS-owned Lambda ARNs, else AWS's worker UI ARN, else the crowd elements of the worker template, or the tag
``sagestep:modality`` when given.
"""

from __future__ import annotations

import inspect
import json
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar
from urllib.parse import unquote

from sagestep.local.patching import Patcher
from sagestep.local.services.base import LocalService, ServiceContext
from sagestep.local.services.json_protocol import with_call_faults
from sagestep.local.services.sagemaker.common import Shared
from sagestep.local.services.sagemaker.endpoints import Endpoints
from sagestep.local.services.sagemaker.labeling import LabelingJobs
from sagestep.local.services.sagemaker.processes import DEFAULT_CONTAINER_COMMAND, ContainerProcesses
from sagestep.local.services.sagemaker.training import TrainingJobs
from sagestep.local.services.sagemaker.tuning import TuningJobs
from sagestep.local.services.sagemaker.workforce import SimulatedWorkforce, Workforce, load_workforce

__all__ = ["DEFAULT_CONTAINER_COMMAND", "SageMakerEmulator", "SimulatedWorkforce", "Workforce"]


@dataclass(frozen=True)
class _Parts:
    """The emulation's parts, built when it is installed."""

    shared: Shared
    processes: ContainerProcesses
    trainings: TrainingJobs
    tunings: TuningJobs
    endpoints: Endpoints
    labelings: LabelingJobs


class SageMakerEmulator(LocalService):
    """Real training, tuning and hosting behind moto's SageMaker API (see the module docstring).

    :param container_commands: image URI -> argv prefix of the container (``train``/``serve`` is
        appended); images not listed use ``default_container_command`` (``python -m sagestep_training``).
        The mapping is read at every start: changing :attr:`container_commands` applies to the next job.
    :param container_env: extra environment for container processes (the parent's environment, with
        ``PYTHONPATH`` extended by this process's ``sys.path``, is inherited).
    :param max_concurrent_trainings: training processes allowed at once (others wait, InProgress).
    :param max_parallel_training_jobs: cap on a tuning job's ``MaxParallelTrainingJobs``.
    :param endpoint_start_timeout: seconds a model server has to answer ``/ping``.
    :param workforce: who answers labeling tasks: a :class:`Workforce`, or a JSON file of simulated teams /
        ``package.module:ClassName``; default ``$SAGESTEP_WORKFORCE``, else a default :class:`SimulatedWorkforce`.
        :attr:`workforce` is read at every labeling job's start.
    :param labeling_item_delay: real seconds a labeling job waits per data object (default 0).
    """

    name: ClassVar[str] = "sagemaker"

    def __init__(
        self,
        *,
        container_commands: Mapping[str, Sequence[str]] | None = None,
        default_container_command: Sequence[str] = DEFAULT_CONTAINER_COMMAND,
        container_env: Mapping[str, str] | None = None,
        max_concurrent_trainings: int = 2,
        max_parallel_training_jobs: int = 2,
        endpoint_start_timeout: float = 120.0,
        invoke_timeout: float = 60.0,
        stop_grace_seconds: float = 5.0,
        workforce: Workforce | str | None = None,
        labeling_item_delay: float = 0.0,
    ) -> None:
        self.container_commands: dict[str, Sequence[str]] = dict(container_commands or {})
        self.default_container_command = list(default_container_command)
        self.container_env = dict(container_env or {})
        self.max_concurrent_trainings = max_concurrent_trainings
        self.max_parallel_training_jobs = max_parallel_training_jobs
        self.endpoint_start_timeout = endpoint_start_timeout
        self.invoke_timeout = invoke_timeout
        self.stop_grace_seconds = stop_grace_seconds
        self.workforce: Workforce = load_workforce(workforce)
        self.labeling_item_delay = labeling_item_delay
        self._parts: _Parts | None = None

    # Parts (available once installed) ---------------------------------------------------------------

    def _installed_parts(self) -> _Parts:
        if self._parts is None:
            raise RuntimeError("the sagemaker emulation is not installed")
        return self._parts

    @property
    def trainings(self) -> TrainingJobs:
        return self._installed_parts().trainings

    @property
    def tunings(self) -> TuningJobs:
        return self._installed_parts().tunings

    @property
    def endpoints(self) -> Endpoints:
        return self._installed_parts().endpoints

    @property
    def labeling_jobs(self) -> LabelingJobs:
        return self._installed_parts().labelings

    def training_log(self, job_name: str) -> Path:
        """The combined stdout/stderr of a training job's container."""
        return self.trainings.run(job_name).log_path

    def endpoint_port(self, endpoint_name: str) -> int | None:
        """The local port of an endpoint's model server, if it is serving."""
        return self.endpoints.port(endpoint_name)

    # LocalService ----------------------------------------------------------------------------------

    def install(self, patcher: Patcher, context: ServiceContext) -> None:
        super().install(patcher, context)
        shared = Shared(context=context, emit=self._emit)
        processes = ContainerProcesses(
            lock=shared.lock,
            closing=shared.closing,
            activity=context.activity,
            commands=self.container_commands,
            default_command=self.default_container_command,
            container_env=self.container_env,
            stop_grace_seconds=self.stop_grace_seconds,
        )
        trainings = TrainingJobs(shared, processes, self.max_concurrent_trainings)
        tunings = TuningJobs(shared, processes, trainings, self.max_parallel_training_jobs)
        endpoints = Endpoints(
            shared, processes, start_timeout=self.endpoint_start_timeout, invoke_timeout=self.invoke_timeout
        )
        labelings = LabelingJobs(
            shared, processes, workforce=lambda: self.workforce, item_delay=lambda: self.labeling_item_delay
        )
        self._parts = _Parts(shared, processes, trainings, tunings, endpoints, labelings)
        self._patch_moto(patcher)

    def child_processes(self) -> list[int]:
        """PIDs of the container processes still running."""
        return self._parts.processes.running() if self._parts else []

    def shutdown(self) -> None:
        """Stop every container process and worker; events from now on are dropped."""
        if self._parts is None:
            return
        self._parts.shared.closing.set()
        self._parts.trainings.stop_all()
        self._parts.labelings.stop_all()
        self._parts.processes.shutdown()

    def _emit(self, detail_type: str, resource_arn: str, detail: dict[str, Any]) -> None:
        if self._parts is not None and self._parts.shared.closing.is_set():
            return
        self.emit(detail_type, resource_arn, detail)

    # moto hooks ------------------------------------------------------------------------------------

    def _patch_moto(self, patcher: Patcher) -> None:
        """Wrap moto's SageMaker backend and responses (the replaced internals, each with its reason)."""
        from moto.core.responses import ActionResult, EmptyResult
        from moto.sagemaker.exceptions import ResourceInUseException
        from moto.sagemaker.models import SageMakerModelBackend
        from moto.sagemaker.responses import SageMakerResponse
        from moto.sagemakerruntime.responses import SageMakerRuntimeResponse

        trainings, tunings, endpoints, faults = self.trainings, self.tunings, self.endpoints, self.context.faults
        labelings = self.labeling_jobs

        # CreateTrainingJob: moto marks the job Completed with canned metrics; start real work.
        original_create_training_job = SageMakerModelBackend.create_training_job
        signature = inspect.signature(original_create_training_job)

        def create_training_job(backend: Any, *args: Any, **kwargs: Any) -> Any:
            arguments = signature.bind(backend, *args, **kwargs).arguments
            name = arguments["training_job_name"]
            if name in backend.training_jobs:
                raise ResourceInUseException(
                    message=f"Training job names must be unique within an AWS account and region, and a "
                    f"training job with this name already exists ({backend.training_jobs[name].arn})"
                )
            specification = json.loads(json.dumps(arguments.get("algorithm_specification") or {}))
            job = original_create_training_job(backend, *args, **kwargs)
            trainings.on_create(job, specification)
            return job

        patcher.replace(SageMakerModelBackend, "create_training_job", create_training_job)

        # CreateHyperParameterTuningJob: moto returns a Completed job with fake best-job data, and replaces a job
        # of the same name.
        original_create_tuning = SageMakerModelBackend.create_hyper_parameter_tuning_job
        tuning_signature = inspect.signature(original_create_tuning)

        def create_hyper_parameter_tuning_job(backend: Any, *args: Any, **kwargs: Any) -> Any:
            arguments = tuning_signature.bind(backend, *args, **kwargs).arguments
            requested = arguments["hyper_parameter_tuning_job_name"]
            if requested in backend.hyper_parameter_tuning_jobs:
                raise ResourceInUseException(
                    message=f"A hyperparameter tuning job with the name, {requested}, already exists. "
                    "Choose a different name."
                )
            arn = original_create_tuning(backend, *args, **kwargs)
            name = arn.rsplit("/", 1)[-1]
            tuning = next(
                t
                for t in backend.hyper_parameter_tuning_jobs.values()
                if t.arn == arn or t.hyper_parameter_tuning_job_name == name
            )
            tunings.on_create(tuning)
            return arn

        patcher.replace(SageMakerModelBackend, "create_hyper_parameter_tuning_job", create_hyper_parameter_tuning_job)

        # CreateModel, CreateEndpointConfig: moto replaces a resource of the same name (AWS refuses).
        original_create_model = SageMakerModelBackend.create_model
        original_create_endpoint_config = SageMakerModelBackend.create_endpoint_config

        def create_model(backend: Any, model_name: str, *args: Any, **kwargs: Any) -> Any:
            if model_name in backend._models:
                from moto.sagemaker.exceptions import ValidationError

                arn = backend._models[model_name].arn
                raise ValidationError(message=f'Cannot create already existing model "{arn}".')
            return original_create_model(backend, model_name, *args, **kwargs)

        def create_endpoint_config(backend: Any, endpoint_config_name: str, *args: Any, **kwargs: Any) -> Any:
            if endpoint_config_name in backend.endpoint_configs:
                from moto.sagemaker.exceptions import ValidationError

                arn = backend.endpoint_configs[endpoint_config_name].endpoint_config_arn
                raise ValidationError(message=f'Cannot create already existing endpoint configuration "{arn}".')
            return original_create_endpoint_config(backend, endpoint_config_name, *args, **kwargs)

        patcher.replace(SageMakerModelBackend, "create_model", create_model)
        patcher.replace(SageMakerModelBackend, "create_endpoint_config", create_endpoint_config)

        # CreateEndpoint: moto marks the endpoint InService at once and silently replaces an
        # existing endpoint of the same name (AWS refuses).
        original_create_endpoint = SageMakerModelBackend.create_endpoint

        def create_endpoint(backend: Any, endpoint_name: str, *args: Any, **kwargs: Any) -> Any:
            if endpoint_name in backend.endpoints:
                from moto.sagemaker.exceptions import ValidationError

                arn = backend.endpoints[endpoint_name].arn
                raise ValidationError(message=f'Cannot create already existing endpoint "{arn}".')
            endpoint = original_create_endpoint(backend, endpoint_name, *args, **kwargs)
            endpoints.on_create(endpoint)
            return endpoint

        patcher.replace(SageMakerModelBackend, "create_endpoint", create_endpoint)

        # DeleteEndpoint: also stop the model server.
        original_delete_endpoint = SageMakerModelBackend.delete_endpoint

        def delete_endpoint(backend: Any, endpoint_name: str) -> None:
            endpoints.on_delete(backend, endpoint_name)
            original_delete_endpoint(backend, endpoint_name)

        patcher.replace(SageMakerModelBackend, "delete_endpoint", delete_endpoint)

        # ListTags of a deleted resource: moto fails with a 500 (AttributeError); AWS answers ValidationException.
        original_list_tags = SageMakerModelBackend.list_tags

        def list_tags(backend: Any, arn: str, *args: Any, **kwargs: Any) -> Any:
            from moto.sagemaker.exceptions import ValidationError

            if backend._get_resource_from_arn(arn) is None:
                raise ValidationError(message=f"Could not find resource '{arn}'.")
            return original_list_tags(backend, arn, *args, **kwargs)

        patcher.replace(SageMakerModelBackend, "list_tags", list_tags)

        # Tags of labeling jobs (moto has none; its ARN lookup fails with an AttributeError for them).
        original_resource_from_arn = SageMakerModelBackend._get_resource_from_arn

        def resource_from_arn(backend: Any, arn: str) -> Any:
            if ":labeling-job/" in arn:
                return labelings.by_arn(backend.account_id, backend.region_name, arn)
            return original_resource_from_arn(backend, arn)

        patcher.replace(SageMakerModelBackend, "_get_resource_from_arn", resource_from_arn)

        # API calls moto lacks, added to its response class (moto dispatches by method name).
        def update_endpoint(response: Any) -> Any:
            arn = endpoints.update(
                response.sagemaker_backend,
                response._get_param("EndpointName"),
                response._get_param("EndpointConfigName"),
                response._get_param("DeploymentConfig"),
            )
            return ActionResult({"EndpointArn": arn})

        def stop_training_job(response: Any) -> Any:
            trainings.stop(response.sagemaker_backend, response._get_param("TrainingJobName"))
            return EmptyResult()

        def list_training_jobs_for_hyper_parameter_tuning_job(response: Any) -> Any:
            return ActionResult(
                tunings.list_training_jobs(
                    response.sagemaker_backend,
                    response._get_param("HyperParameterTuningJobName"),
                    status_equals=response._get_param("StatusEquals"),
                    sort_by=response._get_param("SortBy"),
                    sort_order=response._get_param("SortOrder"),
                    max_results=response._get_param("MaxResults"),
                    next_token=response._get_param("NextToken"),
                )
            )

        def stop_hyper_parameter_tuning_job(response: Any) -> Any:
            tunings.stop(response.sagemaker_backend, response._get_param("HyperParameterTuningJobName"))
            return EmptyResult()

        # Labeling jobs (Ground Truth): moto has none.
        def create_labeling_job(response: Any) -> Any:
            request = {key: response._get_param(key) for key in _CREATE_LABELING_JOB_PARAMETERS}
            arn = labelings.create(response.current_account, response.region, request)
            return ActionResult({"LabelingJobArn": arn})

        def describe_labeling_job(response: Any) -> Any:
            name = response._get_param("LabelingJobName")
            return ActionResult(labelings.job(response.current_account, response.region, name).describe())

        def list_labeling_jobs(response: Any) -> Any:
            params = {key: response._get_param(key) for key in _LIST_LABELING_JOBS_PARAMETERS}
            return ActionResult(labelings.list_jobs(response.current_account, response.region, params))

        def stop_labeling_job(response: Any) -> Any:
            labelings.stop(response.current_account, response.region, response._get_param("LabelingJobName"))
            return EmptyResult()

        for function in (
            update_endpoint,
            stop_training_job,
            list_training_jobs_for_hyper_parameter_tuning_job,
            stop_hyper_parameter_tuning_job,
            create_labeling_job,
            describe_labeling_job,
            list_labeling_jobs,
            stop_labeling_job,
        ):
            patcher.replace(SageMakerResponse, function.__name__, function)

        # Refused calls and throttling faults: answered before moto dispatches the action. Lost responses: the
        # action takes effect, then the caller gets a 500 InternalFailure instead of its result.
        original_call_action = SageMakerResponse.call_action

        def call_action(response: Any) -> Any:
            return with_call_faults(
                faults,
                response._get_action(),
                lambda: original_call_action(response),
                throttle_code="ThrottlingException",
                lost_code="InternalFailure",
                error=_json_error,
            )

        patcher.replace(SageMakerResponse, "call_action", call_action)

        # InvokeEndpoint: moto answers with canned data; forward to the model server instead.
        def invoke_endpoint(response: Any) -> tuple[int, dict[str, str], bytes]:
            name = unquote(response.path.split("/")[2])
            body = response.raw_body if isinstance(response.raw_body, bytes) else str(response.body).encode()
            headers = {
                "Content-Type": response.headers.get("Content-Type", "application/octet-stream"),
                "Accept": response.headers.get("Accept", ""),
                "X-Amzn-SageMaker-Custom-Attributes": response.headers.get("X-Amzn-SageMaker-Custom-Attributes", ""),
            }
            return endpoints.invoke(name, body, headers)

        patcher.replace(SageMakerRuntimeResponse, "invoke_endpoint", invoke_endpoint)


_CREATE_LABELING_JOB_PARAMETERS = (
    "LabelingJobName",
    "LabelAttributeName",
    "InputConfig",
    "OutputConfig",
    "RoleArn",
    "LabelCategoryConfigS3Uri",
    "StoppingConditions",
    "LabelingJobAlgorithmsConfig",
    "HumanTaskConfig",
    "Tags",
)
_LIST_LABELING_JOBS_PARAMETERS = (
    "CreationTimeAfter",
    "CreationTimeBefore",
    "LastModifiedTimeAfter",
    "LastModifiedTimeBefore",
    "MaxResults",
    "NextToken",
    "NameContains",
    "SortBy",
    "SortOrder",
    "StatusEquals",
)


def _json_error(status: int, code: str, message: str) -> tuple[int, dict[str, str], str]:
    """An error as SageMaker's JSON protocol reports it (moto's serializer has no shape for these codes)."""
    headers = {
        "Content-Type": "application/x-amz-json-1.1",
        "x-amzn-RequestId": str(uuid.uuid4()),
        "status": str(status),
    }
    return status, headers, json.dumps({"__type": code, "message": message})
