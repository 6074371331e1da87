"""A SageMaker emulation that does real work, hooked into moto's SageMaker backend.

moto keeps the records (describe/list/tags keep working) but marks every job ``Completed`` and every
endpoint ``InService`` at once and has no UpdateEndpoint, StopTrainingJob, tuning-job listing or
stopping. :class:`SageMakerEmulator` wraps a few backend methods and adds the missing API calls so that:

- **CreateTrainingJob** starts ``InProgress``; a worker thread builds a SageMaker directory layout
  (``input/config/{hyperparameters,resourceconfig,inputdataconfig}.json``, every S3 channel downloaded
  into ``input/data/<channel>/``), runs ``<container command> train`` with ``SAGESTEP_ML_ROOT`` set,
  logs its output to ``<work_dir>/training/<job>/train.log``, parses each line with the job's
  ``MetricDefinitions`` into ``FinalMetricDataList`` (last value per metric), and on exit status 0
  uploads ``model/`` as ``{S3OutputPath}/{job}/output/model.tar.gz`` (``output/data/`` as
  ``output.tar.gz``) and ends ``Completed``; otherwise ``Failed`` with ``FailureReason`` from
  ``output/failure`` (or the last output lines). **StopTrainingJob** kills it (``Stopped``);
  ``StoppingCondition.MaxRuntimeInSeconds`` ends it ``Stopped``/``MaxRuntimeExceeded``.
- **CreateHyperParameterTuningJob** runs up to ``MaxNumberOfTrainingJobs`` training jobs
  (``MaxParallelTrainingJobs`` at once, capped by ``max_parallel_training_jobs``) named
  ``{tuning job}-{NNN}-{8 hex}``, sampling ``ParameterRanges`` with Optuna (seeded TPE for
  ``Bayesian``, random for ``Random``/``Hyperband``, grid for ``Grid``), and reports
  ``BestTrainingJob``, ``TrainingJobStatusCounters`` and ``ObjectiveStatusCounters``.
  ``ListTrainingJobsForHyperParameterTuningJob`` and ``StopHyperParameterTuningJob`` are added.
- **CreateEndpoint** starts ``Creating``; a worker downloads the model's ``model.tar.gz``, starts
  ``<container command> serve`` on a free port (``SAGEMAKER_BIND_TO_PORT``, ``SAGESTEP_BIND_HOST``)
  and waits for ``GET /ping``, then ``InService`` (or ``Failed``). **UpdateEndpoint** (added) deploys
  the new configuration beside the old one and switches, or rolls back when the update fails and the
  ``DeploymentConfig`` has ``AutoRollbackConfiguration`` or ``BlueGreenUpdatePolicy`` (else
  ``Failed``). **DeleteEndpoint** stops the server. **InvokeEndpoint** (sagemaker-runtime) forwards
  to the server; a non-200 answer becomes ``ModelError`` (HTTP 424) as on AWS.
- Every status change puts an ``aws.sagemaker`` event on the default EventBridge bus ("SageMaker
  Training Job State Change", "SageMaker HyperParameter Tuning Job State Change", "SageMaker Endpoint
  State Change"), shaped as AWS documents them: timestamps in epoch milliseconds, ``Tags`` as a map,
  and for endpoints ``EndpointStatus`` in AWS's event spelling (``IN_SERVICE``, ``CREATING``,
  ``UPDATING``, ``FAILED``, ``DELETING``; DescribeEndpoint keeps ``InService`` etc.).

Only the first production variant of an endpoint configuration is served, and only
``S3Prefix``/``S3Object`` channels in ``File`` mode are supported.
"""

from __future__ import annotations

import collections
import contextlib
import http.client
import inspect
import io
import itertools
import json
import logging
import os
import queue
import re
import shutil
import signal
import socket
import subprocess
import sys
import tarfile
import threading
import time
import uuid
import zlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal
from urllib.parse import unquote

from sagestep.local.activity import Activity
from sagestep.local.faults import LOST_RESPONSE_MESSAGE, Faults
from sagestep.local.patching import Patcher
from sagestep.local.stepfunctions import json_safe

LOG = logging.getLogger(__name__)

DEFAULT_CONTAINER_COMMAND: tuple[str, ...] = (sys.executable, "-m", "sagestep_training")
TERMINAL_JOB_STATUSES = frozenset({"Completed", "Failed", "Stopped"})
PING_FAILURE = (
    "The primary container for production variant {variant} did not pass the ping health check. "
    "Please check CloudWatch logs for this endpoint."
)


def _now() -> Any:
    from moto.core.utils import utcnow

    return utcnow()


def _event_status(status: str) -> str:
    """``InService`` -> ``IN_SERVICE``: the spelling of endpoint statuses in EventBridge events."""
    return re.sub(r"(?<!^)(?=[A-Z])", "_", status).upper()


def _tag_map(tags: Sequence[Mapping[str, str]] | None) -> dict[str, str]:
    return {t["Key"]: t.get("Value", "") for t in tags or []}


def _split_s3(uri: str) -> tuple[str, str]:
    if not uri.startswith("s3://"):
        raise ValueError(f"not an S3 URI: {uri}")
    bucket, _, key = uri[5:].partition("/")
    return bucket, key


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _format_number(value: float | int) -> str:
    return str(value) if isinstance(value, int) else repr(float(value))


class _DeployError(Exception):
    """A model server could not be started; the message is the endpoint's FailureReason."""


class _Cancelled(Exception):
    """The endpoint was deleted or updated again while a worker was deploying it."""


@dataclass
class _TrainingRun:
    name: str
    directory: Path
    failure: str | None = None  # an injected failure
    process: subprocess.Popen[str] | None = None
    stop_requested: bool = False
    timed_out: bool = False
    done: threading.Event = field(default_factory=threading.Event)

    @property
    def log_path(self) -> Path:
        return self.directory / "train.log"


@dataclass
class _Serving:
    """One running model server."""

    config_name: str
    variant_name: str
    process: subprocess.Popen[bytes]
    port: int
    directory: Path


@dataclass
class _EndpointState:
    name: str
    generation: int = 0
    serving: _Serving | None = None
    deployments: int = 0


@dataclass
class _TuningRun:
    name: str
    trials: list[str] = field(default_factory=list)
    stop_requested: bool = False
    done: threading.Event = field(default_factory=threading.Event)


class SageMakerEmulator:
    """Real training, tuning and hosting behind moto's SageMaker API (see the module docstring).

    :param clients: returns a boto3 client for a service name, pointed at the emulator.
    :param container_commands: image URI -> argv prefix of the container (``train``/``serve`` is
        appended); images not listed use ``default_container_command``
        (``python -m sagestep_training``).
    :param container_env: extra environment for container processes (the parent's environment, with
        ``PYTHONPATH`` extended by this process's ``sys.path``, is inherited).
    :param max_concurrent_trainings: training processes allowed at once (others wait, InProgress).
    :param max_parallel_training_jobs: cap on a tuning job's ``MaxParallelTrainingJobs``.
    :param endpoint_start_timeout: seconds a model server has to answer ``/ping``.
    """

    def __init__(
        self,
        *,
        clients: Callable[[str], Any],
        faults: Faults,
        activity: Activity,
        work_dir: Path,
        account_id: str,
        region: str,
        container_commands: Mapping[str, Sequence[str]] | None = None,
        default_container_command: Sequence[str] = DEFAULT_CONTAINER_COMMAND,
        container_env: Mapping[str, str] | None = None,
        max_concurrent_trainings: int = 2,
        max_parallel_training_jobs: int = 2,
        endpoint_start_timeout: float = 120.0,
        invoke_timeout: float = 60.0,
        stop_grace_seconds: float = 5.0,
    ) -> None:
        self._clients = clients
        self.faults = faults
        self._activity = activity
        self.work_dir = Path(work_dir)
        self.account_id = account_id
        self.region = region
        self.container_commands = dict(container_commands or {})
        self.default_container_command = list(default_container_command)
        self.container_env = dict(container_env or {})
        self.max_parallel_training_jobs = max_parallel_training_jobs
        self.endpoint_start_timeout = endpoint_start_timeout
        self.invoke_timeout = invoke_timeout
        self.stop_grace_seconds = stop_grace_seconds

        self._lock = threading.RLock()
        self._closing = threading.Event()
        self._train_slots = threading.Semaphore(max_concurrent_trainings)
        self._trainings: dict[str, _TrainingRun] = {}
        self._tunings: dict[str, _TuningRun] = {}
        self._endpoints: dict[str, _EndpointState] = {}
        self._processes: set[subprocess.Popen[Any]] = set()
        self._threads: set[threading.Thread] = set()
        self._events: queue.Queue[tuple[str, str, dict[str, Any]] | None] = queue.Queue()
        self._event_thread = threading.Thread(target=self._dispatch_events, name="sagemaker-events", daemon=True)
        self._event_thread.start()

    # Public helpers --------------------------------------------------------------------------------

    def training_log(self, job_name: str) -> Path:
        """The combined stdout/stderr of a training job's container."""
        with self._lock:
            run = self._trainings.get(job_name)
        if run is None:
            raise KeyError(job_name)
        return run.log_path

    def endpoint_port(self, endpoint_name: str) -> int | None:
        """The local port of an endpoint's model server, if it is serving."""
        with self._lock:
            state = self._endpoints.get(endpoint_name)
            return state.serving.port if state and state.serving else None

    def child_processes(self) -> list[int]:
        """PIDs of the container processes still running."""
        with self._lock:
            return [p.pid for p in self._processes if p.poll() is None]

    def wait_idle(self, timeout: float | None = None) -> bool:
        """Wait until no worker, event or asynchronous Lambda call is in progress."""
        return self._activity.wait_idle(timeout)

    def shutdown(self) -> None:
        """Stop every container process and worker; pending events are dropped."""
        self._closing.set()
        with self._lock:
            runs = list(self._trainings.values())
            for run in runs:
                run.stop_requested = True
            processes = list(self._processes)
            threads = list(self._threads)
        for process in processes:
            self._terminate(process)
        for thread in threads:
            thread.join(timeout=self.stop_grace_seconds + 5)
        with self._lock:
            leftovers = list(self._processes)
        for process in leftovers:
            self._terminate(process)
        self._events.put(None)
        self._event_thread.join(timeout=5)

    # Infrastructure --------------------------------------------------------------------------------

    def _backend(self) -> Any:
        from moto.sagemaker.models import sagemaker_backends

        return sagemaker_backends[self.account_id][self.region]

    def _spawn(self, target: Callable[[], None], name: str) -> None:
        """Run ``target`` in a tracked daemon thread (counted by wait_idle)."""
        self._activity.begin()

        def run() -> None:
            try:
                target()
            except Exception:
                LOG.exception("SageMaker emulation worker %s crashed", name)
            finally:
                with self._lock:
                    self._threads.discard(threading.current_thread())
                self._activity.end()

        thread = threading.Thread(target=run, name=name, daemon=True)
        with self._lock:
            self._threads.add(thread)
        thread.start()

    def _command(self, image: str, verb: str) -> list[str]:
        return [*self.container_commands.get(image, self.default_container_command), verb]

    def _container_environment(self, extra: Mapping[str, str]) -> dict[str, str]:
        env = dict(os.environ)
        paths = [p for p in sys.path if p and os.path.isdir(p)]
        if env.get("PYTHONPATH"):
            paths.append(env["PYTHONPATH"])
        env["PYTHONPATH"] = os.pathsep.join(dict.fromkeys(paths))
        env["PYTHONUNBUFFERED"] = "1"
        env.update(self.container_env)
        env.update(extra)
        return env

    def _start_process(self, argv: list[str], env: dict[str, str], cwd: Path, **kwargs: Any) -> subprocess.Popen[Any]:
        with self._lock:
            if self._closing.is_set():
                raise _Cancelled("the emulator is shutting down")
            # A session of its own, so that stopping kills the container's children too.
            process: subprocess.Popen[Any] = subprocess.Popen(
                argv, env=env, cwd=cwd, start_new_session=True, stdin=subprocess.DEVNULL, **kwargs
            )
            self._processes.add(process)
        return process

    def _terminate(self, process: subprocess.Popen[Any]) -> None:
        """SIGTERM the process group, SIGKILL after the grace period, reap."""
        for sig, wait in ((signal.SIGTERM, self.stop_grace_seconds), (signal.SIGKILL, 10.0)):
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(process.pid, sig)
            try:
                process.wait(timeout=wait)
                break
            except subprocess.TimeoutExpired:
                continue
        with self._lock:
            self._processes.discard(process)

    def _emit(self, detail_type: str, resource_arn: str, detail: dict[str, Any]) -> None:
        """Queue an ``aws.sagemaker`` event for the default bus (delivered in order by one thread)."""
        if self._closing.is_set():
            return
        self._activity.begin()
        self._events.put((detail_type, resource_arn, detail))

    def _dispatch_events(self) -> None:
        while True:
            item = self._events.get()
            if item is None:
                return
            detail_type, resource_arn, detail = item
            try:
                if not self._closing.is_set():
                    self._clients("events").put_events(
                        Entries=[
                            {
                                "Source": "aws.sagemaker",
                                "DetailType": detail_type,
                                "Detail": json.dumps(detail),
                                "Resources": [resource_arn],
                            }
                        ]
                    )
            except Exception:
                LOG.exception("Could not put the %s event for %s", detail_type, resource_arn)
            finally:
                self._activity.end()

    # Training jobs ---------------------------------------------------------------------------------

    def _on_create_training_job(self, job: Any, algorithm_specification: dict[str, Any]) -> None:
        # moto replaces the caller's MetricDefinitions with a canned one; put the caller's back.
        job.algorithm_specification = algorithm_specification
        now = _now()
        job.training_job_status = "InProgress"
        job.secondary_status = "Starting"
        job.secondary_status_transitions = [
            {"Status": "Starting", "StartTime": now, "StatusMessage": "Preparing the instances for training"}
        ]
        job.creation_time = job.last_modified_time = now
        job.training_start_time = None
        job.training_end_time = None
        job.model_artifacts = None
        job.final_metric_data_list = []
        job.failure_reason = None
        run = _TrainingRun(
            name=job.training_job_name,
            directory=self.work_dir / "training" / job.training_job_name,
            failure=self.faults.take_training_failure(),
        )
        with self._lock:
            self._trainings[run.name] = run
        self._emit_training(job)
        self._spawn(lambda: self._run_training(job, run), f"training-{run.name}")

    def _set_training_status(
        self, job: Any, status: str, secondary: str, message: str, failure_reason: str | None = None
    ) -> None:
        now = _now()
        with self._lock:
            transitions = job.secondary_status_transitions
            if transitions and "EndTime" not in transitions[-1]:
                transitions[-1]["EndTime"] = now
            if not transitions or transitions[-1]["Status"] != secondary or status in TERMINAL_JOB_STATUSES:
                entry = {"Status": secondary, "StartTime": now, "StatusMessage": message}
                if status in TERMINAL_JOB_STATUSES:
                    entry["EndTime"] = now
                transitions.append(entry)
            changed = job.training_job_status != status
            job.training_job_status = status
            job.secondary_status = secondary
            job.last_modified_time = now
            if failure_reason is not None:
                job.failure_reason = failure_reason[:1024]
            if secondary == "Training" and job.training_start_time is None:
                job.training_start_time = now
            if status in TERMINAL_JOB_STATUSES:
                job.training_end_time = now
                start = job.training_start_time or job.creation_time
                seconds = max(1, int((now - start).total_seconds()))
                job.training_time_in_seconds = seconds
                job.billable_time_in_seconds = seconds
        if changed:
            self._emit_training(job)

    def _emit_training(self, job: Any) -> None:
        detail = json_safe(job.response_object)
        detail["Tags"] = _tag_map(job.tags)
        self._emit("SageMaker Training Job State Change", job.arn, detail)

    def _run_training(self, job: Any, run: _TrainingRun) -> None:
        try:
            self._train(job, run)
        except _Cancelled:
            self._set_training_status(job, "Stopped", "Stopped", "Training job stopped")
        except Exception as exc:
            LOG.exception("Training job %s failed in the emulator", run.name)
            self._set_training_status(job, "Failed", "Failed", "Training job failed", f"InternalServerError: {exc}")
        finally:
            run.done.set()

    def _train(self, job: Any, run: _TrainingRun) -> None:
        if run.failure is not None:
            self._set_training_status(job, "Failed", "Failed", "Training job failed", run.failure)
            return
        while not self._train_slots.acquire(timeout=0.2):
            if run.stop_requested or self._closing.is_set():
                raise _Cancelled
        try:
            self._train_in_slot(job, run)
        finally:
            self._train_slots.release()

    def _train_in_slot(self, job: Any, run: _TrainingRun) -> None:
        if run.stop_requested:
            raise _Cancelled
        root = run.directory / "ml"
        if run.directory.exists():
            shutil.rmtree(run.directory)
        for sub in ("input/config", "input/data", "model", "output/data", "checkpoints"):
            (root / sub).mkdir(parents=True, exist_ok=True)

        self._set_training_status(job, "InProgress", "Downloading", "Downloading input data")
        try:
            self._prepare_training_root(job, root)
        except Exception as exc:
            self._set_training_status(job, "Failed", "Failed", "Training job failed", f"ClientError: {exc}")
            return

        self._set_training_status(
            job, "InProgress", "Training", "Training image download completed. Training in progress."
        )
        spec = job.algorithm_specification or {}
        image = spec.get("TrainingImage", "")
        env = self._container_environment({"SAGESTEP_ML_ROOT": str(root), **(getattr(job, "environment", None) or {})})
        metrics = self._compile_metrics(spec.get("MetricDefinitions") or [])
        tail: collections.deque[str] = collections.deque(maxlen=20)
        process = self._start_process(
            self._command(image, "train"),
            env,
            root,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            errors="replace",
            bufsize=1,
        )
        run.process = process
        timer = None
        max_runtime = (job.stopping_condition or {}).get("MaxRuntimeInSeconds")
        if max_runtime:

            def time_out() -> None:
                run.timed_out = True
                self._terminate(process)

            timer = threading.Timer(float(max_runtime), time_out)
            timer.daemon = True
            timer.start()
        try:
            assert process.stdout is not None
            with run.log_path.open("w", encoding="utf-8") as log:
                for line in process.stdout:
                    log.write(line)
                    log.flush()
                    tail.append(line.rstrip("\n"))
                    self._record_metrics(job, metrics, line)
            returncode = process.wait()
        finally:
            if timer is not None:
                timer.cancel()
            with self._lock:
                self._processes.discard(process)

        if run.stop_requested:
            self._set_training_status(job, "Stopped", "Stopped", "Training job stopped")
            return
        if run.timed_out:
            self._set_training_status(
                job, "Stopped", "MaxRuntimeExceeded", f"Training job exceeded MaxRuntimeInSeconds={max_runtime}"
            )
            return
        if returncode != 0:
            self._set_training_status(
                job, "Failed", "Failed", "Training job failed", self._failure_reason(root, tail, returncode)
            )
            return

        self._set_training_status(job, "InProgress", "Uploading", "Uploading generated training model")
        artifacts = self._upload_outputs(job, root)
        with self._lock:
            job.model_artifacts = {"S3ModelArtifacts": artifacts}
        self._set_training_status(job, "Completed", "Completed", "Training job completed")

    def _prepare_training_root(self, job: Any, root: Path) -> None:
        config = root / "input" / "config"
        (config / "hyperparameters.json").write_text(json.dumps(job.hyper_parameters or {}))
        resources = job.resource_config or {}
        (config / "resourceconfig.json").write_text(
            json.dumps(
                {
                    "current_host": "algo-1",
                    "current_instance_type": resources.get("InstanceType", "local"),
                    "current_group_name": "homogeneousCluster",
                    "hosts": ["algo-1"],
                    "instance_groups": [
                        {
                            "instance_group_name": "homogeneousCluster",
                            "instance_type": resources.get("InstanceType", "local"),
                            "hosts": ["algo-1"],
                        }
                    ],
                    "network_interface_name": "eth0",
                }
            )
        )
        channels: dict[str, Any] = {}
        s3 = self._clients("s3")
        for channel in job.input_data_config or []:
            name = channel["ChannelName"]
            channels[name] = {
                "ContentType": channel.get("ContentType", ""),
                "TrainingInputMode": channel.get("InputMode")
                or (job.algorithm_specification or {}).get("TrainingInputMode", "File"),
                "S3DistributionType": "FullyReplicated",
                "RecordWrapperType": channel.get("RecordWrapperType", "None"),
            }
            source = (channel.get("DataSource") or {}).get("S3DataSource")
            if not source:
                raise ValueError(f"channel {name}: only S3 data sources are emulated")
            if source.get("S3DataType", "S3Prefix") not in ("S3Prefix", "S3Object"):
                raise ValueError(f"channel {name}: S3DataType {source.get('S3DataType')} is not emulated")
            self._download_prefix(s3, source["S3Uri"], root / "input" / "data" / name)
        (config / "inputdataconfig.json").write_text(json.dumps(channels))

    @staticmethod
    def _download_prefix(s3: Any, uri: str, destination: Path) -> None:
        bucket, prefix = _split_s3(uri)
        destination.mkdir(parents=True, exist_ok=True)
        found = 0
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
            for item in page.get("Contents", []):
                key = item["Key"]
                if key.endswith("/"):
                    continue
                relative = key[len(prefix) :].lstrip("/") or key.rsplit("/", 1)[-1]
                target = destination / relative
                target.parent.mkdir(parents=True, exist_ok=True)
                s3.download_file(bucket, key, str(target))
                found += 1
        if not found:
            raise ValueError(f"Data download failed: no objects under {uri}")

    @staticmethod
    def _compile_metrics(definitions: Sequence[Mapping[str, str]]) -> list[tuple[str, re.Pattern[str]]]:
        compiled = []
        for definition in definitions:
            try:
                compiled.append((definition["Name"], re.compile(definition["Regex"])))
            except (KeyError, re.error) as exc:
                LOG.warning("Ignoring metric definition %s: %s", definition, exc)
        return compiled

    def _record_metrics(self, job: Any, metrics: list[tuple[str, re.Pattern[str]]], line: str) -> None:
        for name, pattern in metrics:
            match = pattern.search(line)
            if not match:
                continue
            try:
                value = float(match.group(1) if match.groups() else match.group(0))
            except ValueError:
                continue
            entry = {"MetricName": name, "Value": value, "Timestamp": _now()}
            with self._lock:
                job.final_metric_data_list = [m for m in job.final_metric_data_list if m["MetricName"] != name] + [
                    entry
                ]

    @staticmethod
    def _failure_reason(root: Path, tail: Sequence[str], returncode: int) -> str:
        failure = root / "output" / "failure"
        if failure.is_file() and failure.read_text(errors="replace").strip():
            return f"AlgorithmError: {failure.read_text(errors='replace').strip()}"
        last = "\n".join(list(tail)[-5:])
        return f"AlgorithmError: exit code {returncode}. Last output:\n{last}"

    def _upload_outputs(self, job: Any, root: Path) -> str:
        s3 = self._clients("s3")
        bucket, prefix = _split_s3(job.output_data_config["S3OutputPath"])
        base = "/".join(p for p in (prefix.rstrip("/"), job.training_job_name, "output") if p)
        for directory, filename in ((root / "model", "model.tar.gz"), (root / "output" / "data", "output.tar.gz")):
            if filename == "output.tar.gz" and not any(directory.iterdir()):
                continue
            buffer = io.BytesIO()
            with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
                for path in sorted(directory.rglob("*")):
                    archive.add(path, arcname=str(path.relative_to(directory)), recursive=False)
            s3.put_object(Bucket=bucket, Key=f"{base}/{filename}", Body=buffer.getvalue())
        return f"s3://{bucket}/{base}/model.tar.gz"

    def stop_training_job(self, backend: Any, name: str) -> None:
        job = backend.training_jobs.get(name)
        if job is None:
            from moto.sagemaker.exceptions import ValidationError

            raise ValidationError(message=f"Could not find training job '{self._arn('training-job', name)}'.")
        with self._lock:
            run = self._trainings.get(name)
            if run is None or job.training_job_status in TERMINAL_JOB_STATUSES:
                return
            run.stop_requested = True
            process = run.process
        self._set_training_status(job, "Stopping", "Stopping", "Stopping the training job")
        if process is not None:
            self._spawn(lambda: self._terminate(process), f"stop-{name}")

    def _arn(self, kind: str, name: str) -> str:
        return f"arn:aws:sagemaker:{self.region}:{self.account_id}:{kind}/{name.lower()}"

    # Hyperparameter tuning -------------------------------------------------------------------------

    def _on_create_tuning_job(self, tuning: Any) -> None:
        tuning.hyper_parameter_tuning_job_status = "InProgress"
        tuning.creation_time = tuning.last_modified_time = _now()
        tuning.hyper_parameter_tuning_end_time = None
        tuning.training_job_status_counters = {
            "Completed": 0,
            "InProgress": 0,
            "RetryableError": 0,
            "NonRetryableError": 0,
            "Stopped": 0,
        }
        tuning.objective_status_counters = {"Succeeded": 0, "Pending": 0, "Failed": 0}
        tuning.best_training_job = None
        tuning.OverallBestTrainingJob = None
        tuning.failure_reason = None
        tuning.tuning_job_completion_details = None
        tuning.consumed_resources = {"RuntimeInSeconds": 0}
        run = _TuningRun(tuning.hyper_parameter_tuning_job_name)
        with self._lock:
            self._tunings[run.name] = run
        self._emit_tuning(tuning)
        self._spawn(lambda: self._run_tuning(tuning, run), f"tuning-{run.name}")

    def _emit_tuning(self, tuning: Any) -> None:
        detail = {k: v for k, v in json_safe(tuning.describe()).items() if v is not None}
        detail["Tags"] = _tag_map(tuning.tags)
        self._emit("SageMaker HyperParameter Tuning Job State Change", tuning.arn, detail)

    def _run_tuning(self, tuning: Any, run: _TuningRun) -> None:
        try:
            self._tune(tuning, run)
        except Exception as exc:
            LOG.exception("Tuning job %s failed in the emulator", run.name)
            self._finish_tuning(tuning, "Failed", f"InternalServerError: {exc}")
        finally:
            run.done.set()

    def _finish_tuning(self, tuning: Any, status: str, failure_reason: str | None = None) -> None:
        now = _now()
        with self._lock:
            tuning.hyper_parameter_tuning_job_status = status
            tuning.hyper_parameter_tuning_end_time = now
            tuning.last_modified_time = now
            tuning.failure_reason = failure_reason
            tuning.consumed_resources = {"RuntimeInSeconds": int((now - tuning.creation_time).total_seconds())}
        self._emit_tuning(tuning)

    def _tune(self, tuning: Any, run: _TuningRun) -> None:
        import optuna

        optuna.logging.set_verbosity(optuna.logging.WARNING)
        config = tuning.hyper_parameter_tuning_job_config
        definition = tuning.training_job_definition or (tuning.training_job_definitions or [{}])[0]
        objective = config.get("HyperParameterTuningJobObjective") or definition.get("TuningObjective") or {}
        metric_name = objective.get("MetricName", "")
        direction: Literal["minimize", "maximize"] = "maximize" if objective.get("Type") == "Maximize" else "minimize"
        limits = config.get("ResourceLimits") or {}
        max_jobs = int(limits.get("MaxNumberOfTrainingJobs") or 1)
        parallel = max(1, min(int(limits.get("MaxParallelTrainingJobs") or 1), self.max_parallel_training_jobs))
        deadline = (
            time.monotonic() + float(limits["MaxRuntimeInSeconds"]) if limits.get("MaxRuntimeInSeconds") else None
        )
        ranges = config.get("ParameterRanges") or definition.get("HyperParameterRanges") or {}
        seed = config.get("RandomSeed")
        if seed is None:
            seed = zlib.crc32(run.name.encode())
        strategy = config.get("Strategy", "Bayesian")
        sampler: optuna.samplers.BaseSampler
        if strategy == "Bayesian":
            sampler = optuna.samplers.TPESampler(seed=seed)
        else:
            sampler = optuna.samplers.RandomSampler(seed=seed)
        study = optuna.create_study(direction=direction, sampler=sampler)
        if strategy == "Grid":
            # Every combination of the categorical values, once. (optuna's GridSampler stops the study
            # from inside tell(), which only works with study.optimize, not ask/tell.)
            categorical = ranges.get("CategoricalParameterRanges", [])
            combinations = list(itertools.product(*(spec["Values"] for spec in categorical)))
            for combination in combinations:
                study.enqueue_trial({spec["Name"]: value for spec, value in zip(categorical, combination, strict=True)})
            max_jobs = min(max_jobs, len(combinations))
        client = self._clients("sagemaker")
        static = dict(definition.get("StaticHyperParameters") or {})
        running: dict[str, tuple[optuna.trial.Trial, dict[str, str]]] = {}
        launched = 0
        stop_sent = False
        best: dict[str, Any] | None = None

        while True:
            for job_name in [n for n in running if self._trainings[n].done.is_set()]:
                trial, tuned = running.pop(job_name)
                best = self._account_trial(tuning, study, trial, tuned, job_name, metric_name, objective, best)
            stopping = run.stop_requested or self._closing.is_set()
            out_of_time = deadline is not None and time.monotonic() > deadline
            if not stopping and not out_of_time and launched < max_jobs and len(running) < parallel:
                trial = study.ask()
                tuned = {p["Name"]: value for p, value in self._suggest(trial, ranges)}
                launched += 1
                job_name = f"{run.name}-{launched:03d}-{uuid.uuid4().hex[:8]}"
                self._create_tuning_training_job(client, tuning, definition, job_name, {**static, **tuned}, metric_name)
                running[job_name] = (trial, tuned)
                with self._lock:
                    run.trials.append(job_name)
                    tuning.training_job_status_counters["InProgress"] += 1
                    tuning.objective_status_counters["Pending"] += 1
                    tuning.last_modified_time = _now()
                continue
            if not running:
                break
            if stopping and not stop_sent:
                stop_sent = True
                for job_name in running:
                    self.stop_training_job(self._backend(), job_name)
            self._trainings[next(iter(running))].done.wait(0.2)

        if run.stop_requested:
            self._finish_tuning(tuning, "Stopped")
        elif best is None:
            self._finish_tuning(
                tuning,
                "Failed",
                f"No training job succeeded after {launched} attempts. "
                "Please take a look at the training job failures to get more details.",
            )
        else:
            self._finish_tuning(tuning, "Completed")

    def _create_tuning_training_job(
        self,
        client: Any,
        tuning: Any,
        definition: Mapping[str, Any],
        job_name: str,
        hyperparameters: dict[str, str],
        metric_name: str,
    ) -> None:
        request: dict[str, Any] = {
            key: definition[key]
            for key in (
                "RoleArn",
                "InputDataConfig",
                "VpcConfig",
                "OutputDataConfig",
                "ResourceConfig",
                "StoppingCondition",
                "EnableNetworkIsolation",
                "EnableInterContainerTrafficEncryption",
                "EnableManagedSpotTraining",
                "CheckpointConfig",
                "RetryStrategy",
                "Environment",
            )
            if definition.get(key) is not None
        }
        request.setdefault("ResourceConfig", {"InstanceType": "ml.m5.large", "InstanceCount": 1, "VolumeSizeInGB": 1})
        request.setdefault("StoppingCondition", {"MaxRuntimeInSeconds": 86400})
        spec = dict(definition.get("AlgorithmSpecification") or {})
        # SageMaker tells the container which metric is tuned through this hyperparameter.
        hyperparameters = {**hyperparameters, "_tuning_objective_metric": metric_name}
        client.create_training_job(
            TrainingJobName=job_name,
            AlgorithmSpecification=spec,
            HyperParameters=hyperparameters,
            Tags=list(tuning.tags or []),
            **request,
        )
        job = self._backend().training_jobs[job_name]
        job.tuning_job_arn = tuning.arn

    @staticmethod
    def _suggest(trial: Any, ranges: Mapping[str, Any]) -> list[tuple[Mapping[str, Any], str]]:
        values: list[tuple[Mapping[str, Any], str]] = []
        for spec in ranges.get("IntegerParameterRanges", []):
            log = spec.get("ScalingType") == "Logarithmic"
            number = trial.suggest_int(spec["Name"], int(spec["MinValue"]), int(spec["MaxValue"]), log=log)
            values.append((spec, str(number)))
        for spec in ranges.get("ContinuousParameterRanges", []):
            low, high = float(spec["MinValue"]), float(spec["MaxValue"])
            scaling = spec.get("ScalingType", "Auto")
            if scaling == "ReverseLogarithmic":
                # Values close to 1 are explored densely: sample 1 - x on a log scale.
                value = 1.0 - trial.suggest_float(spec["Name"], 1.0 - high, 1.0 - low, log=True)
            else:
                value = trial.suggest_float(spec["Name"], low, high, log=scaling == "Logarithmic")
            values.append((spec, _format_number(value)))
        for spec in ranges.get("CategoricalParameterRanges", []):
            values.append((spec, str(trial.suggest_categorical(spec["Name"], list(spec["Values"])))))
        return values

    def _account_trial(
        self,
        tuning: Any,
        study: Any,
        trial: Any,
        tuned: dict[str, str],
        job_name: str,
        metric_name: str,
        objective: Mapping[str, Any],
        best: dict[str, Any] | None,
    ) -> dict[str, Any] | None:
        from optuna.trial import TrialState

        job = self._backend().training_jobs[job_name]
        status = job.training_job_status
        value = next((m["Value"] for m in job.final_metric_data_list if m["MetricName"] == metric_name), None)
        succeeded = status == "Completed" and value is not None
        if succeeded and value is not None:
            study.tell(trial, float(value))
        else:
            study.tell(trial, state=TrialState.FAIL)
        with self._lock:
            counters = tuning.training_job_status_counters
            counters["InProgress"] -= 1
            if status == "Completed":
                counters["Completed"] += 1
            elif status == "Stopped":
                counters["Stopped"] += 1
            else:
                counters["NonRetryableError"] += 1
            objectives = tuning.objective_status_counters
            objectives["Pending"] -= 1
            objectives["Succeeded" if succeeded else "Failed"] += 1
            if succeeded:
                better = best is None or (
                    value > best["value"] if objective.get("Type") == "Maximize" else value < best["value"]
                )
                if better:
                    best = {"value": value, "job": job_name}
                    tuning.best_training_job = self._trial_summary(tuning, job, tuned, metric_name, objective)
            tuning.last_modified_time = _now()
        return best

    def _trial_summary(
        self, tuning: Any, job: Any, tuned: Mapping[str, str], metric_name: str, objective: Mapping[str, Any]
    ) -> dict[str, Any]:
        value = next((m["Value"] for m in job.final_metric_data_list if m["MetricName"] == metric_name), None)
        summary: dict[str, Any] = {
            "TrainingJobName": job.training_job_name,
            "TrainingJobArn": job.arn,
            "TuningJobName": tuning.hyper_parameter_tuning_job_name,
            "CreationTime": job.creation_time,
            "TrainingStartTime": job.training_start_time,
            "TrainingEndTime": job.training_end_time,
            "TrainingJobStatus": job.training_job_status,
            "TunedHyperParameters": dict(tuned),
            "FailureReason": job.failure_reason,
            "ObjectiveStatus": (
                "Succeeded"
                if value is not None and job.training_job_status == "Completed"
                else ("Pending" if job.training_job_status == "InProgress" else "Failed")
            ),
        }
        if value is not None:
            summary["FinalHyperParameterTuningJobObjectiveMetric"] = {
                "Type": objective.get("Type", "Minimize"),
                "MetricName": metric_name,
                "Value": value,
            }
        return {k: v for k, v in summary.items() if v is not None}

    def list_training_jobs_for_tuning_job(
        self,
        backend: Any,
        name: str,
        status_equals: str | None = None,
        sort_by: str | None = None,
        sort_order: str | None = None,
        max_results: int | None = None,
        next_token: str | None = None,
    ) -> dict[str, Any]:
        tuning = backend.hyper_parameter_tuning_jobs.get(name)
        with self._lock:
            run = self._tunings.get(name)
            trial_names = list(run.trials) if run else []
        if tuning is None:
            from moto.sagemaker.exceptions import ResourceNotFound

            raise ResourceNotFound(message=f"Could not find hyper parameter tuning job '{name}'.")
        config = tuning.hyper_parameter_tuning_job_config
        objective = config.get("HyperParameterTuningJobObjective") or {}
        metric_name = objective.get("MetricName", "")
        summaries = []
        for trial_name in trial_names:
            job = backend.training_jobs.get(trial_name)
            if job is None:
                continue
            tuned = {
                k: v
                for k, v in (job.hyper_parameters or {}).items()
                if k in _range_names(config.get("ParameterRanges") or {})
            }
            summaries.append(self._trial_summary(tuning, job, tuned, metric_name, objective))
        if status_equals:
            summaries = [s for s in summaries if s["TrainingJobStatus"] == status_equals]
        # AWS's defaults: by name, ascending, 10 per page; sorting by the objective lists scored jobs only.
        key = sort_by or "Name"
        reverse = sort_order == "Descending"
        if key == "FinalObjectiveMetricValue":
            summaries = [s for s in summaries if "FinalHyperParameterTuningJobObjectiveMetric" in s]
            summaries.sort(key=lambda s: s["FinalHyperParameterTuningJobObjectiveMetric"]["Value"], reverse=reverse)
        else:
            field_name = {"Name": "TrainingJobName", "CreationTime": "CreationTime", "Status": "TrainingJobStatus"}[key]
            summaries.sort(key=lambda s: s[field_name], reverse=reverse)
        start = int(next_token or 0)
        size = int(max_results or 10)
        page = summaries[start : start + size]
        result: dict[str, Any] = {"TrainingJobSummaries": page}
        if start + size < len(summaries):
            result["NextToken"] = str(start + size)
        return result

    def stop_tuning_job(self, backend: Any, name: str) -> None:
        tuning = backend.hyper_parameter_tuning_jobs.get(name)
        if tuning is None:
            from moto.sagemaker.exceptions import ResourceNotFound

            raise ResourceNotFound(message=f"Could not find hyper parameter tuning job '{name}'.")
        with self._lock:
            run = self._tunings.get(name)
            if run is None or tuning.hyper_parameter_tuning_job_status != "InProgress":
                return
            run.stop_requested = True
            tuning.hyper_parameter_tuning_job_status = "Stopping"
            tuning.last_modified_time = _now()
        self._emit_tuning(tuning)

    # Endpoints -------------------------------------------------------------------------------------

    def _on_create_endpoint(self, endpoint: Any) -> None:
        fault = self.faults.take_endpoint_fault()
        with self._lock:
            state = self._endpoints.setdefault(endpoint.endpoint_name, _EndpointState(endpoint.endpoint_name))
            state.generation += 1
            generation = state.generation
            endpoint.endpoint_status = "Creating"
            endpoint.failure_reason = None
            endpoint.creation_time = endpoint.last_modified_time = _now()
        self._emit_endpoint(endpoint)
        if fault is not None and fault.kind == "hang":
            LOG.info("Endpoint %s will stay Creating (injected fault)", endpoint.endpoint_name)
            return
        config_name = endpoint.endpoint_config_name
        failure = fault.reason if fault is not None else None
        self._spawn(
            lambda: self._deploy_new(endpoint, state, generation, config_name, failure),
            f"endpoint-{endpoint.endpoint_name}",
        )

    def _deploy_new(
        self, endpoint: Any, state: _EndpointState, generation: int, config_name: str, failure: str | None
    ) -> None:
        try:
            if failure is not None:
                raise _DeployError(failure)
            serving = self._start_serving(state, generation, config_name)
        except _Cancelled:
            return
        except Exception as exc:
            reason = str(exc) if isinstance(exc, _DeployError) else f"InternalServerError: {exc}"
            with self._lock:
                if state.generation != generation:
                    return
                endpoint.endpoint_status = "Failed"
                endpoint.failure_reason = reason[:1024]
                endpoint.last_modified_time = _now()
            self._emit_endpoint(endpoint)
            return
        with self._lock:
            current = state.generation == generation
            if current:
                state.serving = serving
                endpoint.endpoint_status = "InService"
                endpoint.last_modified_time = _now()
        if not current:
            self._terminate(serving.process)
            return
        self._emit_endpoint(endpoint)

    def _start_serving(self, state: _EndpointState, generation: int, config_name: str) -> _Serving:
        """Download the model of the configuration's first variant and start its server."""

        def check_cancelled() -> None:
            if state.generation != generation or self._closing.is_set():
                raise _Cancelled

        client = self._clients("sagemaker")
        config = client.describe_endpoint_config(EndpointConfigName=config_name)
        variant = config["ProductionVariants"][0]
        model = client.describe_model(ModelName=variant["ModelName"])
        container = model.get("PrimaryContainer") or (model.get("Containers") or [{}])[0]
        with self._lock:
            state.deployments += 1
            directory = self.work_dir / "endpoints" / state.name / f"{state.deployments:03d}-{config_name}"
        root = directory / "ml"
        (root / "model").mkdir(parents=True, exist_ok=True)
        data_url = container.get("ModelDataUrl")
        if data_url:
            try:
                bucket, key = _split_s3(data_url)
                body = self._clients("s3").get_object(Bucket=bucket, Key=key)["Body"].read()
                with tarfile.open(fileobj=io.BytesIO(body), mode="r:*") as archive:
                    archive.extractall(root / "model", filter="data")
            except Exception as exc:
                raise _DeployError(f"Failed to download model data from {data_url}: {exc}") from exc
        check_cancelled()
        port = _free_port()
        env = self._container_environment(
            {
                **(container.get("Environment") or {}),
                "SAGESTEP_ML_ROOT": str(root),
                "SAGEMAKER_BIND_TO_PORT": str(port),
                "SAGESTEP_BIND_HOST": "127.0.0.1",
            }
        )
        log_path = directory / "serve.log"
        with log_path.open("wb") as log:
            process = self._start_process(
                self._command(container.get("Image", ""), "serve"), env, root, stdout=log, stderr=subprocess.STDOUT
            )
        serving = _Serving(config_name, variant.get("VariantName", "AllTraffic"), process, port, directory)
        deadline = time.monotonic() + self.endpoint_start_timeout
        try:
            while True:
                check_cancelled()
                if process.poll() is not None:
                    raise _DeployError(
                        PING_FAILURE.format(variant=serving.variant_name)
                        + f" The model server exited with status {process.returncode}; "
                        + f"last output:\n{_tail(log_path)}"
                    )
                if _ping(port):
                    return serving
                if time.monotonic() > deadline:
                    raise _DeployError(
                        PING_FAILURE.format(variant=serving.variant_name)
                        + f" No answer to /ping within {self.endpoint_start_timeout:g} s; log: {log_path}"
                    )
                time.sleep(0.1)
        except BaseException:
            self._terminate(process)
            raise

    def _emit_endpoint(self, endpoint: Any) -> None:
        with self._lock:
            detail: dict[str, Any] = {
                "EndpointName": endpoint.endpoint_name,
                "EndpointArn": endpoint.arn,
                "EndpointConfigName": endpoint.endpoint_config_name,
                "ProductionVariants": json_safe(endpoint.production_variants),
                "EndpointStatus": _event_status(endpoint.endpoint_status),
                "CreationTime": json_safe(endpoint.creation_time),
                "LastModifiedTime": json_safe(endpoint.last_modified_time),
                "Tags": _tag_map(endpoint.tags),
            }
            if endpoint.failure_reason:
                detail["FailureReason"] = endpoint.failure_reason
        self._emit("SageMaker Endpoint State Change", endpoint.arn, detail)

    def update_endpoint(
        self, backend: Any, name: str, config_name: str, deployment_config: Mapping[str, Any] | None
    ) -> str:
        from moto.sagemaker.exceptions import ValidationError

        endpoint = backend.endpoints.get(name)
        if endpoint is None:
            raise ValidationError(message=f"Could not find endpoint '{self._arn('endpoint', name)}'.")
        backend.describe_endpoint_config(config_name)  # raises ValidationError when missing
        failure = self.faults.take_update_failure()
        with self._lock:
            if endpoint.endpoint_status != "InService":
                raise ValidationError(message=f'Cannot update in-progress endpoint "{endpoint.arn}".')
            state = self._endpoints.setdefault(name, _EndpointState(name))
            state.generation += 1
            generation = state.generation
            old_config = endpoint.endpoint_config_name
            endpoint.endpoint_status = "Updating"
            endpoint.last_modified_time = _now()
        self._emit_endpoint(endpoint)
        guardrails = deployment_config or {}
        rollback = bool(guardrails.get("AutoRollbackConfiguration") or guardrails.get("BlueGreenUpdatePolicy"))
        self._spawn(
            lambda: self._deploy_update(endpoint, state, generation, old_config, config_name, failure, rollback),
            f"endpoint-update-{name}",
        )
        return str(endpoint.arn)

    def _deploy_update(
        self,
        endpoint: Any,
        state: _EndpointState,
        generation: int,
        old_config: str,
        new_config: str,
        failure: str | None,
        rollback: bool,
    ) -> None:
        try:
            if failure is not None:
                raise _DeployError(failure)
            serving = self._start_serving(state, generation, new_config)
        except _Cancelled:
            return
        except Exception as exc:
            reason = (str(exc) if isinstance(exc, _DeployError) else f"InternalServerError: {exc}")[:1024]
            stale: _Serving | None = None
            with self._lock:
                if state.generation != generation:
                    return
                endpoint.last_modified_time = _now()
                endpoint.failure_reason = reason
                if rollback:
                    endpoint.endpoint_status = "InService"
                    endpoint.endpoint_config_name = old_config
                else:
                    endpoint.endpoint_status = "Failed"
                    stale, state.serving = state.serving, None
            if stale is not None:
                self._terminate(stale.process)
            self._emit_endpoint(endpoint)
            return
        with self._lock:
            current = state.generation == generation
            previous = state.serving
            if current:
                state.serving = serving
                endpoint.endpoint_config_name = new_config
                endpoint.production_variants = _variants(self._backend().describe_endpoint_config(new_config))
                endpoint.endpoint_status = "InService"
                endpoint.failure_reason = None
                endpoint.last_modified_time = _now()
        if not current:
            self._terminate(serving.process)
            return
        if previous is not None:
            self._terminate(previous.process)
        self._emit_endpoint(endpoint)

    def _on_delete_endpoint(self, backend: Any, name: str) -> None:
        endpoint = backend.endpoints.get(name)
        with self._lock:
            state = self._endpoints.pop(name, None)
            serving = None
            if state is not None:
                state.generation += 1
                serving, state.serving = state.serving, None
            if endpoint is not None:
                endpoint.endpoint_status = "Deleting"
                endpoint.last_modified_time = _now()
        if endpoint is not None:
            self._emit_endpoint(endpoint)
        if serving is not None:
            self._terminate(serving.process)

    def invoke_endpoint(self, name: str, body: bytes, headers: Mapping[str, str]) -> tuple[int, dict[str, str], bytes]:
        """Forward an InvokeEndpoint call to the endpoint's model server (sagemaker-runtime)."""
        throttled = self.faults.take_throttle("InvokeEndpoint")
        if throttled:
            return _error_response(400, "ThrottlingException", throttled)
        with self._lock:
            state = self._endpoints.get(name)
            serving = state.serving if state else None
            endpoint = self._backend().endpoints.get(name)
        if endpoint is None or serving is None or endpoint.endpoint_status not in ("InService", "Updating"):
            return _error_response(400, "ValidationError", f"Endpoint {name} of account {self.account_id} not found.")
        forward = {k: v for k, v in headers.items() if v}
        log_group = f"/aws/sagemaker/Endpoints/{name}"
        log_arn = f"arn:aws:logs:{self.region}:{self.account_id}:log-group:{log_group}"
        connection = http.client.HTTPConnection("127.0.0.1", serving.port, timeout=self.invoke_timeout)
        try:
            connection.request("POST", "/invocations", body=body, headers=forward)
            answer = connection.getresponse()
            payload = answer.read()
            status = answer.status
            content_type = answer.getheader("Content-Type") or "application/octet-stream"
        except OSError as exc:
            status, payload, content_type = 0, str(exc).encode(), "text/plain"
        finally:
            connection.close()
        if status == 200:
            headers = {
                "Content-Type": content_type,
                "x-Amzn-Invoked-Production-Variant": serving.variant_name,
                "status": "200",
            }
            return 200, headers, payload
        kind = "client" if 400 <= status < 500 else "server"
        text = payload.decode("utf-8", errors="replace")
        message = (
            f'Received {kind} error ({status}) from primary with message "{text}". See '
            f"https://{self.region}.console.aws.amazon.com/cloudwatch/home?region={self.region}"
            f"#logEventViewer:group={log_group} in account {self.account_id} for more information."
        )
        return _error_response(
            424,
            "ModelError",
            message,
            {
                "ErrorCode": f"{kind.upper()}_ERROR_FROM_MODEL",
                "OriginalStatusCode": status,
                "OriginalMessage": text,
                "LogStreamArn": log_arn,
            },
        )

    # moto hooks ------------------------------------------------------------------------------------

    def install(self, patcher: Patcher) -> None:
        """Wrap moto's SageMaker backend and responses (the replaced internals, each with its reason)."""
        from moto.core.responses import ActionResult, EmptyResult
        from moto.sagemaker.exceptions import ResourceInUseException
        from moto.sagemaker.models import SageMakerModelBackend
        from moto.sagemaker.responses import SageMakerResponse
        from moto.sagemakerruntime.responses import SageMakerRuntimeResponse

        emulator = self

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
            emulator._on_create_training_job(job, specification)
            return job

        patcher.replace(SageMakerModelBackend, "create_training_job", create_training_job)

        # CreateHyperParameterTuningJob: moto returns a Completed job with fake best-job data.
        original_create_tuning = SageMakerModelBackend.create_hyper_parameter_tuning_job

        def create_hyper_parameter_tuning_job(backend: Any, *args: Any, **kwargs: Any) -> Any:
            arn = original_create_tuning(backend, *args, **kwargs)
            name = arn.rsplit("/", 1)[-1]
            tuning = next(
                t
                for t in backend.hyper_parameter_tuning_jobs.values()
                if t.arn == arn or t.hyper_parameter_tuning_job_name == name
            )
            emulator._on_create_tuning_job(tuning)
            return arn

        patcher.replace(SageMakerModelBackend, "create_hyper_parameter_tuning_job", create_hyper_parameter_tuning_job)

        # CreateEndpoint: moto marks the endpoint InService at once and silently replaces an
        # existing endpoint of the same name (AWS refuses).
        original_create_endpoint = SageMakerModelBackend.create_endpoint

        def create_endpoint(backend: Any, endpoint_name: str, *args: Any, **kwargs: Any) -> Any:
            if endpoint_name in backend.endpoints:
                from moto.sagemaker.exceptions import ValidationError

                arn = backend.endpoints[endpoint_name].arn
                raise ValidationError(message=f'Cannot create already existing endpoint "{arn}".')
            endpoint = original_create_endpoint(backend, endpoint_name, *args, **kwargs)
            emulator._on_create_endpoint(endpoint)
            return endpoint

        patcher.replace(SageMakerModelBackend, "create_endpoint", create_endpoint)

        # DeleteEndpoint: also stop the model server.
        original_delete_endpoint = SageMakerModelBackend.delete_endpoint

        def delete_endpoint(backend: Any, endpoint_name: str) -> None:
            emulator._on_delete_endpoint(backend, endpoint_name)
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

        # API calls moto lacks, added to its response class (moto dispatches by method name).
        def update_endpoint(response: Any) -> Any:
            arn = emulator.update_endpoint(
                response.sagemaker_backend,
                response._get_param("EndpointName"),
                response._get_param("EndpointConfigName"),
                response._get_param("DeploymentConfig"),
            )
            return ActionResult({"EndpointArn": arn})

        def stop_training_job(response: Any) -> Any:
            emulator.stop_training_job(response.sagemaker_backend, response._get_param("TrainingJobName"))
            return EmptyResult()

        def list_training_jobs_for_hyper_parameter_tuning_job(response: Any) -> Any:
            return ActionResult(
                emulator.list_training_jobs_for_tuning_job(
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
            emulator.stop_tuning_job(response.sagemaker_backend, response._get_param("HyperParameterTuningJobName"))
            return EmptyResult()

        for function in (
            update_endpoint,
            stop_training_job,
            list_training_jobs_for_hyper_parameter_tuning_job,
            stop_hyper_parameter_tuning_job,
        ):
            patcher.replace(SageMakerResponse, function.__name__, function)

        # Throttling faults: answered before moto dispatches the action. Lost responses: the action takes
        # effect, then the caller gets a 500 InternalFailure instead of its result.
        original_call_action = SageMakerResponse.call_action

        def call_action(response: Any) -> Any:
            action = response._get_action()
            message = emulator.faults.take_throttle(action)
            if message is not None:
                return _json_error(400, "ThrottlingException", message)
            result = original_call_action(response)
            if emulator.faults.take_lost_response(action):
                return _json_error(500, "InternalFailure", LOST_RESPONSE_MESSAGE)
            return result

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
            return emulator.invoke_endpoint(name, body, headers)

        patcher.replace(SageMakerRuntimeResponse, "invoke_endpoint", invoke_endpoint)


def _json_error(status: int, code: str, message: str) -> tuple[int, dict[str, str], str]:
    """An error as SageMaker's JSON protocol reports it (moto's serializer has no shape for these codes)."""
    headers = {
        "Content-Type": "application/x-amz-json-1.1",
        "x-amzn-RequestId": str(uuid.uuid4()),
        "status": str(status),
    }
    return status, headers, json.dumps({"__type": code, "message": message})


def _error_response(
    status: int, code: str, message: str, extra: Mapping[str, Any] | None = None
) -> tuple[int, dict[str, str], bytes]:
    """A rest-json error as AWS's runtime endpoint sends it (botocore reads the type header).

    moto takes the HTTP status of a response tuple from its ``status`` header.
    """
    body = {"message": message, **(extra or {})}
    headers = {"x-amzn-ErrorType": code, "Content-Type": "application/json", "status": str(status)}
    return status, headers, json.dumps(body).encode()


def _ping(port: int) -> bool:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
    try:
        connection.request("GET", "/ping")
        return connection.getresponse().status == 200
    except OSError:
        return False
    finally:
        connection.close()


def _tail(path: Path, lines: int = 10) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


def _variants(config: Mapping[str, Any]) -> list[dict[str, Any]]:
    variants = []
    for variant in config.get("ProductionVariants", []):
        entry: dict[str, Any] = {"VariantName": variant["VariantName"]}
        if variant.get("InitialInstanceCount"):
            entry["CurrentInstanceCount"] = entry["DesiredInstanceCount"] = variant["InitialInstanceCount"]
        if variant.get("InitialVariantWeight") is not None:
            entry["CurrentWeight"] = entry["DesiredWeight"] = variant["InitialVariantWeight"]
        variants.append(entry)
    return variants


def _range_names(ranges: Mapping[str, Any]) -> set[str]:
    return {
        spec["Name"]
        for kind in ("IntegerParameterRanges", "ContinuousParameterRanges", "CategoricalParameterRanges")
        for spec in ranges.get(kind, [])
    }
