"""Hyperparameter tuning jobs: real training jobs, sampled with Optuna, behind moto's tuning-job records.

**CreateHyperParameterTuningJob** runs up to ``MaxNumberOfTrainingJobs`` training jobs
(``MaxParallelTrainingJobs`` at once, capped by ``max_parallel_training_jobs``) named
``{tuning job}-{NNN}-{8 hex}``, sampling ``ParameterRanges`` with Optuna (seeded TPE for ``Bayesian``, random
for ``Random``/``Hyperband``, grid for ``Grid``), and reports ``BestTrainingJob``, ``TrainingJobStatusCounters``
and ``ObjectiveStatusCounters``. ``ListTrainingJobsForHyperParameterTuningJob`` and
``StopHyperParameterTuningJob`` are added. Every status change puts a "SageMaker HyperParameter Tuning Job
State Change" event.
"""

from __future__ import annotations

import itertools
import logging
import threading
import time
import uuid
import zlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from sagestep.local.serialization import json_safe
from sagestep.local.services.sagemaker.common import Shared, tag_map, utcnow
from sagestep.local.services.sagemaker.processes import ContainerProcesses
from sagestep.local.services.sagemaker.training import TrainingJobs

LOG = logging.getLogger(__name__)


@dataclass
class TuningRun:
    name: str
    trials: list[str] = field(default_factory=list)
    stop_requested: bool = False
    done: threading.Event = field(default_factory=threading.Event)


class TuningJobs:
    """The tuning jobs of the emulation, by name.

    :param max_parallel_training_jobs: cap on a tuning job's ``MaxParallelTrainingJobs``.
    """

    def __init__(
        self,
        shared: Shared,
        processes: ContainerProcesses,
        trainings: TrainingJobs,
        max_parallel_training_jobs: int,
    ) -> None:
        self._shared = shared
        self._context = shared.context
        self._processes = processes
        self._trainings = trainings
        self._max_parallel_training_jobs = max_parallel_training_jobs
        self._runs: dict[str, TuningRun] = {}

    def on_create(self, tuning: Any) -> None:
        """A CreateHyperParameterTuningJob call created ``tuning`` in moto: start it, InProgress."""
        tuning.hyper_parameter_tuning_job_status = "InProgress"
        tuning.creation_time = tuning.last_modified_time = utcnow()
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
        run = TuningRun(tuning.hyper_parameter_tuning_job_name)
        with self._shared.lock:
            self._runs[run.name] = run
        self._emit(tuning)
        self._processes.spawn(lambda: self._run(tuning, run), f"tuning-{run.name}")

    def _emit(self, tuning: Any) -> None:
        detail = {k: v for k, v in json_safe(tuning.describe()).items() if v is not None}
        detail["Tags"] = tag_map(tuning.tags)
        self._shared.emit("SageMaker HyperParameter Tuning Job State Change", tuning.arn, detail)

    def _run(self, tuning: Any, run: TuningRun) -> None:
        try:
            self._tune(tuning, run)
        except Exception as exc:
            LOG.exception("Tuning job %s failed in the emulator", run.name)
            self._finish(tuning, "Failed", f"InternalServerError: {exc}")
        finally:
            run.done.set()

    def _finish(self, tuning: Any, status: str, failure_reason: str | None = None) -> None:
        now = utcnow()
        with self._shared.lock:
            tuning.hyper_parameter_tuning_job_status = status
            tuning.hyper_parameter_tuning_end_time = now
            tuning.last_modified_time = now
            tuning.failure_reason = failure_reason
            tuning.consumed_resources = {"RuntimeInSeconds": int((now - tuning.creation_time).total_seconds())}
        self._emit(tuning)

    def _tune(self, tuning: Any, run: TuningRun) -> None:
        import optuna

        optuna.logging.set_verbosity(optuna.logging.WARNING)
        config = tuning.hyper_parameter_tuning_job_config
        definition = tuning.training_job_definition or (tuning.training_job_definitions or [{}])[0]
        objective = config.get("HyperParameterTuningJobObjective") or definition.get("TuningObjective") or {}
        metric_name = objective.get("MetricName", "")
        direction: Literal["minimize", "maximize"] = "maximize" if objective.get("Type") == "Maximize" else "minimize"
        limits = config.get("ResourceLimits") or {}
        max_jobs = int(limits.get("MaxNumberOfTrainingJobs") or 1)
        parallel = max(1, min(int(limits.get("MaxParallelTrainingJobs") or 1), self._max_parallel_training_jobs))
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
        client = self._context.clients("sagemaker")
        static = dict(definition.get("StaticHyperParameters") or {})
        running: dict[str, tuple[optuna.trial.Trial, dict[str, str]]] = {}
        launched = 0
        stop_sent = False
        best: dict[str, Any] | None = None

        while True:
            for job_name in [n for n in running if self._trainings.run(n).done.is_set()]:
                trial, tuned = running.pop(job_name)
                best = self._account_trial(tuning, study, trial, tuned, job_name, metric_name, objective, best)
            stopping = run.stop_requested or self._shared.closing.is_set()
            out_of_time = deadline is not None and time.monotonic() > deadline
            if not stopping and not out_of_time and launched < max_jobs and len(running) < parallel:
                trial = study.ask()
                tuned = {p["Name"]: value for p, value in self._suggest(trial, ranges)}
                launched += 1
                job_name = f"{run.name}-{launched:03d}-{uuid.uuid4().hex[:8]}"
                self._create_training_job(client, tuning, definition, job_name, {**static, **tuned}, metric_name)
                running[job_name] = (trial, tuned)
                with self._shared.lock:
                    run.trials.append(job_name)
                    tuning.training_job_status_counters["InProgress"] += 1
                    tuning.objective_status_counters["Pending"] += 1
                    tuning.last_modified_time = utcnow()
                continue
            if not running:
                break
            if stopping and not stop_sent:
                stop_sent = True
                for job_name in running:
                    self._trainings.stop(self._shared.backend(), job_name)
            self._trainings.run(next(iter(running))).done.wait(0.2)

        if run.stop_requested:
            self._finish(tuning, "Stopped")
        elif best is None:
            self._finish(
                tuning,
                "Failed",
                f"No training job succeeded after {launched} attempts. "
                "Please take a look at the training job failures to get more details.",
            )
        else:
            self._finish(tuning, "Completed")

    def _create_training_job(
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
        job = self._shared.backend().training_jobs[job_name]
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

        job = self._shared.backend().training_jobs[job_name]
        status = job.training_job_status
        value = next((m["Value"] for m in job.final_metric_data_list if m["MetricName"] == metric_name), None)
        succeeded = status == "Completed" and value is not None
        if succeeded and value is not None:
            study.tell(trial, float(value))
        else:
            study.tell(trial, state=TrialState.FAIL)
        with self._shared.lock:
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
            tuning.last_modified_time = utcnow()
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

    def list_training_jobs(
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
        with self._shared.lock:
            run = self._runs.get(name)
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

    def stop(self, backend: Any, name: str) -> None:
        """StopHyperParameterTuningJob: stop its running training jobs; the tuning job ends Stopped."""
        tuning = backend.hyper_parameter_tuning_jobs.get(name)
        if tuning is None:
            from moto.sagemaker.exceptions import ResourceNotFound

            raise ResourceNotFound(message=f"Could not find hyper parameter tuning job '{name}'.")
        with self._shared.lock:
            run = self._runs.get(name)
            if run is None or tuning.hyper_parameter_tuning_job_status != "InProgress":
                return
            run.stop_requested = True
            tuning.hyper_parameter_tuning_job_status = "Stopping"
            tuning.last_modified_time = utcnow()
        self._emit(tuning)


def _format_number(value: float | int) -> str:
    return str(value) if isinstance(value, int) else repr(float(value))


def _range_names(ranges: Mapping[str, Any]) -> set[str]:
    return {
        spec["Name"]
        for kind in ("IntegerParameterRanges", "ContinuousParameterRanges", "CategoricalParameterRanges")
        for spec in ranges.get(kind, [])
    }
