"""Training jobs: a real ``train`` run of the container behind moto's CreateTrainingJob.

**CreateTrainingJob** starts ``InProgress``; a worker thread builds a SageMaker directory layout
(``input/config/{hyperparameters,resourceconfig,inputdataconfig}.json``, every S3 channel downloaded into
``input/data/<channel>/``), runs ``<container command> train`` with ``SAGESTEP_ML_ROOT`` set, logs its output
to ``<work_dir>/training/<job>/train.log``, parses each line with the job's ``MetricDefinitions`` into
``FinalMetricDataList`` (last value per metric), and on exit status 0 uploads ``model/`` as
``{S3OutputPath}/{job}/output/model.tar.gz`` (``output/data/`` as ``output.tar.gz``) and ends ``Completed``;
otherwise ``Failed`` with ``FailureReason`` from ``output/failure`` (or the last output lines).
**StopTrainingJob** kills it (``Stopped``); ``StoppingCondition.MaxRuntimeInSeconds`` ends it
``Stopped``/``MaxRuntimeExceeded``. Every status change puts a "SageMaker Training Job State Change" event.

``S3Prefix``/``S3Object`` and ``ManifestFile`` channels in ``File`` mode are supported.
"""

from __future__ import annotations

import collections
import io
import json
import logging
import re
import shutil
import subprocess
import tarfile
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from botocore.exceptions import ClientError

from sagestep.local.serialization import json_safe
from sagestep.local.services.sagemaker.common import TERMINAL_JOB_STATUSES, Shared, split_s3, tag_map, utcnow
from sagestep.local.services.sagemaker.processes import Cancelled, ContainerProcesses

LOG = logging.getLogger(__name__)


@dataclass
class TrainingRun:
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


class TrainingJobs:
    """The training jobs of the emulation, by name.

    :param max_concurrent_trainings: training processes allowed at once (others wait, InProgress).
    """

    def __init__(self, shared: Shared, processes: ContainerProcesses, max_concurrent_trainings: int) -> None:
        self._shared = shared
        self._context = shared.context
        self._processes = processes
        self._slots = threading.Semaphore(max_concurrent_trainings)
        self._runs: dict[str, TrainingRun] = {}

    def run(self, name: str) -> TrainingRun:
        """The emulation's record of a training job it started (``KeyError`` if none)."""
        with self._shared.lock:
            return self._runs[name]

    def stop_all(self) -> None:
        """Ask every training job to stop (on shutdown: their workers then end as Stopped)."""
        with self._shared.lock:
            for run in self._runs.values():
                run.stop_requested = True

    def on_create(self, job: Any, algorithm_specification: dict[str, Any]) -> None:
        """A CreateTrainingJob call created ``job`` in moto: start it, InProgress."""
        # moto replaces the caller's MetricDefinitions with a canned one; put the caller's back.
        job.algorithm_specification = algorithm_specification
        now = utcnow()
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
        run = TrainingRun(
            name=job.training_job_name,
            directory=self._context.work_dir / "training" / job.training_job_name,
            failure=self._context.faults.take_training_failure(),
        )
        with self._shared.lock:
            self._runs[run.name] = run
        self._emit(job)
        self._processes.spawn(lambda: self._run(job, run), f"training-{run.name}")

    def _set_status(
        self, job: Any, status: str, secondary: str, message: str, failure_reason: str | None = None
    ) -> None:
        now = utcnow()
        with self._shared.lock:
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
            self._emit(job)

    def _emit(self, job: Any) -> None:
        detail = json_safe(job.response_object)
        detail["Tags"] = tag_map(job.tags)
        self._shared.emit("SageMaker Training Job State Change", job.arn, detail)

    def _run(self, job: Any, run: TrainingRun) -> None:
        try:
            self._train(job, run)
        except Cancelled:
            self._set_status(job, "Stopped", "Stopped", "Training job stopped")
        except Exception as exc:
            LOG.exception("Training job %s failed in the emulator", run.name)
            self._set_status(job, "Failed", "Failed", "Training job failed", f"InternalServerError: {exc}")
        finally:
            run.done.set()

    def _train(self, job: Any, run: TrainingRun) -> None:
        if run.failure is not None:
            self._set_status(job, "Failed", "Failed", "Training job failed", run.failure)
            return
        while not self._slots.acquire(timeout=0.2):
            if run.stop_requested or self._shared.closing.is_set():
                raise Cancelled
        try:
            self._train_in_slot(job, run)
        finally:
            self._slots.release()

    def _train_in_slot(self, job: Any, run: TrainingRun) -> None:
        if run.stop_requested:
            raise Cancelled
        root = run.directory / "ml"
        if run.directory.exists():
            shutil.rmtree(run.directory)
        for sub in ("input/config", "input/data", "model", "output/data", "checkpoints"):
            (root / sub).mkdir(parents=True, exist_ok=True)

        self._set_status(job, "InProgress", "Downloading", "Downloading input data")
        try:
            self._prepare_root(job, root)
        except Exception as exc:
            self._set_status(job, "Failed", "Failed", "Training job failed", f"ClientError: {exc}")
            return

        self._set_status(job, "InProgress", "Training", "Training image download completed. Training in progress.")
        spec = job.algorithm_specification or {}
        image = spec.get("TrainingImage", "")
        env = self._processes.environment({"SAGESTEP_ML_ROOT": str(root), **(getattr(job, "environment", None) or {})})
        metrics = self._compile_metrics(spec.get("MetricDefinitions") or [])
        tail: collections.deque[str] = collections.deque(maxlen=20)
        process = self._processes.start(
            self._processes.command(image, "train"),
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
                self._processes.terminate(process)

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
            self._processes.forget(process)

        if run.stop_requested:
            self._set_status(job, "Stopped", "Stopped", "Training job stopped")
            return
        if run.timed_out:
            self._set_status(
                job, "Stopped", "MaxRuntimeExceeded", f"Training job exceeded MaxRuntimeInSeconds={max_runtime}"
            )
            return
        if returncode != 0:
            self._set_status(
                job, "Failed", "Failed", "Training job failed", self._failure_reason(root, tail, returncode)
            )
            return

        self._set_status(job, "InProgress", "Uploading", "Uploading generated training model")
        artifacts = self._upload_outputs(job, root)
        with self._shared.lock:
            job.model_artifacts = {"S3ModelArtifacts": artifacts}
        self._set_status(job, "Completed", "Completed", "Training job completed")

    def _prepare_root(self, job: Any, root: Path) -> None:
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
        s3 = self._context.clients("s3")
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
            data_type = source.get("S3DataType", "S3Prefix")
            if data_type == "ManifestFile":
                self._download_manifest(s3, source["S3Uri"], root / "input" / "data" / name)
            elif data_type in ("S3Prefix", "S3Object"):
                self._download_prefix(s3, source["S3Uri"], root / "input" / "data" / name)
            else:
                raise ValueError(f"channel {name}: S3DataType {data_type} is not emulated")
        (config / "inputdataconfig.json").write_text(json.dumps(channels))

    @staticmethod
    def _download_prefix(s3: Any, uri: str, destination: Path) -> None:
        bucket, prefix = split_s3(uri)
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
    def _download_manifest(s3: Any, uri: str, destination: Path) -> None:
        """A ``ManifestFile`` channel: ``[{"prefix": "s3://bucket/folder/"}, "relative/key", ...]`` — exactly the
        listed objects, kept at their paths relative to the prefix (as SageMaker lays them out)."""
        bucket, key = split_s3(uri)
        try:
            entries = json.loads(s3.get_object(Bucket=bucket, Key=key)["Body"].read())
            prefix_bucket, prefix = split_s3(entries[0]["prefix"])
            relatives = [str(entry) for entry in entries[1:]]
        except (ClientError, ValueError, KeyError, IndexError, TypeError) as exc:
            raise ValueError(f"Data download failed: {uri} is not a readable manifest ({exc})") from exc
        if not relatives:
            raise ValueError(f"Data download failed: the manifest {uri} lists no objects")
        for relative in relatives:
            target = destination / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            try:
                s3.download_file(prefix_bucket, prefix + relative, str(target))
            except ClientError as exc:
                raise ValueError(f"Data download failed: s3://{prefix_bucket}/{prefix}{relative} ({exc})") from exc

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
            entry = {"MetricName": name, "Value": value, "Timestamp": utcnow()}
            with self._shared.lock:
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
        s3 = self._context.clients("s3")
        bucket, prefix = split_s3(job.output_data_config["S3OutputPath"])
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

    def stop(self, backend: Any, name: str) -> None:
        """StopTrainingJob: kill the container; the job ends Stopped."""
        job = backend.training_jobs.get(name)
        if job is None:
            from moto.sagemaker.exceptions import ValidationError

            raise ValidationError(message=f"Could not find training job '{self._shared.arn('training-job', name)}'.")
        with self._shared.lock:
            run = self._runs.get(name)
            if run is None or job.training_job_status in TERMINAL_JOB_STATUSES:
                return
            run.stop_requested = True
            process = run.process
        self._set_status(job, "Stopping", "Stopping", "Stopping the training job")
        if process is not None:
            self._processes.spawn(lambda: self._processes.terminate(process), f"stop-{name}")
