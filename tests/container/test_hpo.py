"""``mode=hpo`` through the real entry point: the results file, its best hyperparameters, metric lines."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from sagestep_training.datasets import (
    CLASSIFICATION_CSV,
    CLASSIFICATION_TARGET,
    REGRESSION_CSV,
    REGRESSION_TARGET,
)
from sagestep_training.hyperparameters import HPO_ONLY
from tests.container.conftest import make_job, train_in_process

HPO = {"mode": "hpo", "hpo_epochs": "5", "hpo_data_fraction": "0.5", "epochs": "10"}


def test_hpo_results_name_the_best_trial_whose_hyperparameters_train(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given an HPO job of two short trials on half the regression data
    search = make_job(
        tmp_path / "hpo",
        {"target": REGRESSION_TARGET, **HPO, "hpo_trials": "2"},
        {"data.csv": REGRESSION_CSV.read_text()},
    )
    # When it runs
    assert train_in_process(search, monkeypatch) == 0
    stdout = capsys.readouterr().out
    # Then hpo_results.json has the contract's shape
    results = json.loads((search.model_dir / "hpo_results.json").read_text())
    assert set(results) == {"objective", "best_hyperparameters", "trials"}
    objective = results["objective"]
    assert objective["name"] == "validation_abs_err_p95"
    assert objective["direction"] == "minimize"
    trials = results["trials"]
    assert [trial["name"] for trial in trials] == ["trial-0", "trial-1"]
    for trial in trials:
        assert set(trial) == {"name", "hyperparameters", "value", "state"}
        assert trial["state"] in ("COMPLETE", "PRUNED", "FAIL")
        assert all(isinstance(value, str) for value in trial["hyperparameters"].values())
    complete = [trial["value"] for trial in trials if trial["state"] == "COMPLETE"]
    assert objective["value"] == min(complete)
    # And each trial is logged, and the best trial's objective is the last metric line
    assert len(re.findall(r"^hpo trial-\d+ ", stdout, flags=re.MULTILINE)) == 2
    printed = re.findall(r"validation_abs_err_p95=([-+0-9.eE]+);", stdout)
    assert float(printed[-1]) == pytest.approx(objective["value"], rel=1e-5)
    # And the best hyperparameters are strings that a train job takes as they are
    best = results["best_hyperparameters"]
    assert all(isinstance(value, str) for value in best.values())
    assert best["target"] == REGRESSION_TARGET
    assert not set(best) & set(HPO_ONLY)
    training = make_job(tmp_path / "train", best, {"data.csv": REGRESSION_CSV.read_text()})
    assert train_in_process(training, monkeypatch) == 0
    assert (training.model_dir / "model.onnx").is_file()


def test_one_trial_classification_search_maximises_macro_f1(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    search = make_job(
        tmp_path,
        {"target": CLASSIFICATION_TARGET, "problem_type": "classification", **HPO, "hpo_trials": "1"},
        {"data.csv": CLASSIFICATION_CSV.read_text()},
    )
    assert train_in_process(search, monkeypatch) == 0
    results = json.loads((search.model_dir / "hpo_results.json").read_text())
    assert results["objective"]["name"] == "validation_f1"
    assert results["objective"]["direction"] == "maximize"
    metrics = json.loads((search.model_dir / "metrics.json").read_text())
    assert metrics["validation_f1"] == results["objective"]["value"]
    assert re.search(r"validation_accuracy=([-+0-9.eE]+);", capsys.readouterr().out)
