"""Collect what an HPO job found, for both strategies, in one shape (``HpoResult``)."""

from __future__ import annotations

import io
import json
import tarfile
from typing import Any

from sagestep_service.workflows.training.models import S3_URI_PATTERN, HpoResult, Objective, Trial

RESULTS_FILE = "hpo_results.json"
MAX_TRIALS = 50
#: SageMaker training job statuses in the trial states the in-container search reports (Optuna's).
TRIAL_STATES = {"Completed": "COMPLETE", "Failed": "FAIL", "Stopped": "PRUNED", "InProgress": "RUNNING"}


def _best_first(trials: list[Trial], direction: str) -> list[Trial]:
    scored = [t for t in trials if t.value is not None]
    unscored = [t for t in trials if t.value is None]
    sign = 1.0 if direction.lower().startswith("min") else -1.0
    scored.sort(key=lambda t: sign * (t.value or 0.0))
    return (scored + unscored)[:MAX_TRIALS]


def parse_results_file(document: dict[str, Any]) -> HpoResult:
    """The container's ``hpo_results.json`` (contract in docs/architecture.md) as an ``HpoResult``."""
    objective = Objective.model_validate(document["objective"])
    objective.direction = objective.direction.lower()
    trials = [
        Trial(
            name=str(t.get("name")),
            hyperparameters={k: str(v) for k, v in t.get("hyperparameters", {}).items()},
            value=t.get("value"),
            state=str(t.get("state", "COMPLETE")),
        )
        for t in document.get("trials", [])
    ]
    return HpoResult(
        strategy="in-container",
        objective=objective,
        bestHyperparameters={k: str(v) for k, v in document["best_hyperparameters"].items()},
        trials=_best_first(trials, objective.direction),
    )


def from_model_artifact(s3: Any, artifact_uri: str) -> HpoResult:
    """Read ``hpo_results.json`` out of the in-container search's ``model.tar.gz``."""
    match = S3_URI_PATTERN.match(artifact_uri)
    if match is None:
        raise ValueError(f"not an S3 URI: {artifact_uri}")
    body = s3.get_object(Bucket=match["bucket"], Key=match["key"])["Body"].read()
    with tarfile.open(fileobj=io.BytesIO(body), mode="r:gz") as archive:
        member = next((m for m in archive.getmembers() if m.name.lstrip("./") == RESULTS_FILE), None)
        if member is None:
            raise ValueError(f"{artifact_uri} has no {RESULTS_FILE}: the container did not run a search")
        handle = archive.extractfile(member)
        assert handle is not None
        return parse_results_file(json.load(handle))


def from_tuning_job(sagemaker: Any, tuning_job_name: str) -> HpoResult:
    """Best hyperparameters and trials of a native SageMaker tuning job."""
    described = sagemaker.describe_hyper_parameter_tuning_job(HyperParameterTuningJobName=tuning_job_name)
    objective_spec = described["HyperParameterTuningJobConfig"]["HyperParameterTuningJobObjective"]
    best = described.get("BestTrainingJob")
    if not best:
        raise ValueError(f"tuning job {tuning_job_name} finished without a best training job")
    trials: list[Trial] = []
    kwargs: dict[str, Any] = {"HyperParameterTuningJobName": tuning_job_name, "MaxResults": 100}
    while True:
        page = sagemaker.list_training_jobs_for_hyper_parameter_tuning_job(**kwargs)
        for summary in page.get("TrainingJobSummaries", []):
            metric = summary.get("FinalHyperParameterTuningJobObjectiveMetric") or {}
            trials.append(
                Trial(
                    name=summary["TrainingJobName"],
                    hyperparameters=dict(summary.get("TunedHyperParameters", {})),
                    value=metric.get("Value"),
                    state=TRIAL_STATES.get(summary.get("TrainingJobStatus", ""), "UNKNOWN"),
                )
            )
        if not page.get("NextToken"):
            break
        kwargs["NextToken"] = page["NextToken"]
    direction = str(objective_spec["Type"]).lower()
    return HpoResult(
        strategy="sagemaker",
        objective=Objective(
            name=objective_spec["MetricName"],
            value=(best.get("FinalHyperParameterTuningJobObjectiveMetric") or {}).get("Value"),
            direction=direction,
        ),
        bestHyperparameters=dict(best.get("TunedHyperParameters", {})),
        trials=_best_first(trials, direction),
    )
