"""``mode=hpo``: Bayesian search with Optuna (seeded TPE, median pruning) on a fraction of the data.

Every trial trains on the same split of ``hpo_data_fraction`` of the rows for ``hpo_epochs`` epochs and
reports the objective after each epoch so that the pruner can stop trials that trail the median. The
best parameters come back as strings that a later ``mode=train`` job takes as its hyperparameters.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, replace
from typing import Any

import optuna

from sagestep_training.data import Dataset, split, subsample
from sagestep_training.errors import TrainingDiverged, UserError
from sagestep_training.fit import Epoch, fit
from sagestep_training.hyperparameters import (
    ACTIVATIONS,
    HPO_ONLY,
    OPTIMIZERS,
    Hyperparameters,
    to_string,
    to_strings,
)
from sagestep_training.metrics import objective

_METRICS_ATTR = "metrics"


@dataclass(frozen=True)
class SearchResult:
    """What ``model/hpo_results.json`` holds, plus the best trial's metrics for the metric lines."""

    objective: dict[str, Any]
    best_hyperparameters: dict[str, str]
    trials: list[dict[str, Any]]
    best_metrics: dict[str, float]

    def to_json(self) -> dict[str, Any]:
        """The contract's shape: ``objective``, ``best_hyperparameters``, ``trials``."""
        return {
            "objective": self.objective,
            "best_hyperparameters": self.best_hyperparameters,
            "trials": self.trials,
        }


def search(dataset: Dataset, hyperparameters: Hyperparameters) -> SearchResult:
    """Run ``hpo_trials`` trials over depth, width, dropout, batch norm, optimizer, activation and
    learning rate; the other hyperparameters stay as given."""
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    seed = hyperparameters.seed
    sample = dataset
    if hyperparameters.hpo_data_fraction < 1:
        sample = subsample(dataset, hyperparameters.hpo_data_fraction, seed)
    train, validation = split(sample, hyperparameters.validation_fraction, seed)
    metric, direction = objective(dataset.problem_type)
    print(
        f"hpo: {hyperparameters.hpo_trials} trials of {hyperparameters.hpo_epochs} epochs on "
        f"{len(train)} training and {len(validation)} validation rows; {direction} {metric}",
        flush=True,
    )

    def run_trial(trial: optuna.Trial) -> float:
        trial_hyperparameters = replace(
            hyperparameters, epochs=hyperparameters.hpo_epochs, **_suggest(trial, hyperparameters)
        )

        def report(epoch: Epoch) -> None:
            trial.report(epoch.metrics[metric], epoch.number)
            if trial.should_prune():
                raise optuna.TrialPruned()

        try:
            result = fit(train, validation, trial_hyperparameters, on_epoch=report)
        except TrainingDiverged:
            return math.nan  # Optuna records the trial as failed and the search goes on
        trial.set_user_attr(_METRICS_ATTR, result.metrics)
        return result.metrics[metric]

    study = optuna.create_study(
        direction=direction,
        sampler=optuna.samplers.TPESampler(seed=seed),
        pruner=optuna.pruners.MedianPruner(n_warmup_steps=max(1, hyperparameters.hpo_epochs // 4)),
    )
    study.optimize(run_trial, n_trials=hyperparameters.hpo_trials, callbacks=[_log_trial])
    completed = study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.COMPLETE,))
    if not completed:
        raise UserError(
            f"no HPO trial completed ({len(study.trials)} pruned or diverged); "
            "raise hpo_trials or hpo_epochs, or check the data"
        )
    best = study.best_trial
    return SearchResult(
        objective={"name": metric, "value": best.value, "direction": direction},
        best_hyperparameters=to_strings(replace(hyperparameters, **best.params), exclude=HPO_ONLY),
        trials=[_trial_json(trial) for trial in study.trials],
        best_metrics=best.user_attrs[_METRICS_ATTR],
    )


def _suggest(trial: optuna.Trial, hyperparameters: Hyperparameters) -> dict[str, Any]:
    """The search space; batch norm only when batches can hold two rows."""
    return {
        "hidden_layers": trial.suggest_int("hidden_layers", 1, 4),
        "hidden_units": trial.suggest_int("hidden_units", 16, 256, log=True),
        "dropout": trial.suggest_float("dropout", 0.0, 0.5),
        "batch_norm": trial.suggest_categorical(
            "batch_norm", [False, True] if hyperparameters.batch_size > 1 else [False]
        ),
        "optimizer": trial.suggest_categorical("optimizer", OPTIMIZERS),
        "activation": trial.suggest_categorical("activation", ACTIVATIONS),
        "learning_rate": trial.suggest_float("learning_rate", 1e-4, 3e-2, log=True),
    }


def _trial_json(trial: optuna.trial.FrozenTrial) -> dict[str, Any]:
    complete = trial.state == optuna.trial.TrialState.COMPLETE
    return {
        "name": f"trial-{trial.number}",
        "hyperparameters": {name: to_string(value) for name, value in trial.params.items()},
        "value": trial.value if complete else None,
        "state": trial.state.name,
    }


def _log_trial(study: optuna.Study, trial: optuna.trial.FrozenTrial) -> None:
    """One line per trial; deliberately not in ``name=value;`` form so metric regexes skip it."""
    summary = _trial_json(trial)
    value = "-" if summary["value"] is None else f"{summary['value']:.6g}"
    print(
        f"hpo {summary['name']} {summary['state']} objective {value} {json.dumps(summary['hyperparameters'])}",
        flush=True,
    )
