"""``train`` on the bundled datasets through the real entry point: quality, metric lines, artifacts."""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
import torch

from sagestep_training.datasets import CLASSIFICATION_CSV, CLASSIFICATION_TARGET, REGRESSION_TARGET
from sagestep_training.predictor import Predictor
from tests.container.conftest import QUICK, Server, TrainedJob, make_job, rmse, train_in_process

METRIC = r"([-+0-9.eE]+);"
"""The value part of a SageMaker metric definition regex."""


def test_regression_model_beats_the_mean_on_held_out_rows(
    regression_job: TrainedJob, regression_server: Server
) -> None:
    # Given a model trained without the held-out rows
    held_out = regression_job.held_out
    actual = np.array(held_out.targets, dtype=float)
    # When the server predicts them
    predicted = np.array(regression_server.predict_csv(held_out.feature_lines))
    # Then its error is well below that of always predicting the training mean
    baseline = rmse(actual, np.full_like(actual, np.mean(np.array(held_out.train_targets, dtype=float))))
    assert rmse(actual, predicted) <= 0.5 * baseline


def test_classification_model_beats_the_majority_class_on_held_out_rows(
    classification_job: TrainedJob, classification_server: Server
) -> None:
    held_out = classification_job.held_out
    predicted = classification_server.predict_csv(held_out.feature_lines)
    majority = Counter(held_out.train_targets).most_common(1)[0][0]
    majority_accuracy = np.mean([target == majority for target in held_out.targets])
    accuracy = np.mean([p == t for p, t in zip(predicted, held_out.targets, strict=True)])
    assert accuracy >= majority_accuracy + 0.3


def test_metric_lines_match_sagemaker_metric_definitions(
    regression_job: TrainedJob, classification_job: TrainedJob
) -> None:
    # Given the stdout of both jobs and the per-epoch history of the regression job
    regression_out = regression_job.process.stdout
    history = json.loads((regression_job.layout.output_data_dir / "history.json").read_text())
    # Then validation_loss is printed once per epoch, then once more for the restored best epoch
    losses = [float(value) for value in re.findall("validation_loss=" + METRIC, regression_out)]
    assert len(losses) == len(history) + 1
    assert losses[-1] == pytest.approx(min(losses[:-1]), rel=1e-5)
    # And the final metrics, as printed, are those of model/metrics.json
    for job, names in (
        (regression_job, ["validation_abs_err_p95"]),
        (classification_job, ["validation_accuracy", "validation_f1"]),
    ):
        metrics = json.loads((job.layout.model_dir / "metrics.json").read_text())
        assert set(metrics) == {"validation_loss", *names}
        for name in names:
            printed = re.findall(name + "=" + METRIC, job.process.stdout)
            assert len(printed) == 1
            assert float(printed[0]) == pytest.approx(metrics[name], rel=1e-5)


def test_meta_json_describes_the_model(classification_job: TrainedJob) -> None:
    meta = json.loads((classification_job.layout.model_dir / "meta.json").read_text())
    assert meta["problem_type"] == "classification"
    assert meta["classes"] == ["fault", "normal", "warning"]
    assert meta["feature_names"] == ["vibration_mm_s", "bearing_temp_c", "load_pct", "speed_rpm"]
    assert meta["input_shape"] == [1, 4]
    assert len(meta["feature_scaler"]["mean"]) == 4
    assert meta["target_scaler"] is None
    assert meta["hyperparameters"]["target"] == CLASSIFICATION_TARGET
    assert set(meta["metrics"]) == {"validation_loss", "validation_accuracy", "validation_f1"}


def test_regression_meta_keeps_the_target_scaler(regression_job: TrainedJob) -> None:
    meta = json.loads((regression_job.layout.model_dir / "meta.json").read_text())
    assert meta["target"] == REGRESSION_TARGET
    assert meta["target_scaler"]["scale"] > 0


@pytest.mark.filterwarnings("ignore:`torch.jit.load` is deprecated:DeprecationWarning")
@pytest.mark.parametrize("job_name", ["regression", "classification"])
def test_torchscript_artifact_predicts_what_the_server_answers(job_name: str, request: pytest.FixtureRequest) -> None:
    # Given a trained job, its server, and the TorchScript file that SageMaker Neo would compile
    job: TrainedJob = request.getfixturevalue(f"{job_name}_job")
    server: Server = request.getfixturevalue(f"{job_name}_server")
    traced = torch.jit.load(str(job.layout.model_dir / "model.torchscript.pt"))
    lines = job.held_out.feature_lines
    features = torch.tensor([[float(cell) for cell in line.split(",")] for line in lines])
    # When both predict the held-out rows
    with torch.inference_mode():
        outputs = traced(features).numpy()
    served = server.predict_csv(lines)
    # Then they agree: the same values, or the same labels from the class probabilities
    if job_name == "regression":
        np.testing.assert_allclose(outputs, np.array(served, dtype=float), rtol=1e-5, atol=1e-5)
    else:
        classes = json.loads((job.layout.model_dir / "meta.json").read_text())["classes"]
        assert [classes[index] for index in outputs.argmax(axis=1)] == served
        np.testing.assert_allclose(outputs.sum(axis=1), 1.0, rtol=1e-5)


def test_the_same_seed_trains_the_same_model(
    regression_job: TrainedJob, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given the regression job's data and hyperparameters in a second job folder
    first = regression_job.layout
    hyperparameters = json.loads(first.hyperparameters_file.read_text())
    files = {path.name: path.read_text() for path in first.channel().glob("*.csv")}
    second = make_job(tmp_path, hyperparameters, files)
    # When it trains, in another process than the first job
    assert train_in_process(second, monkeypatch) == 0
    # Then its metrics and predictions are identical
    assert (second.model_dir / "metrics.json").read_text() == (first.model_dir / "metrics.json").read_text()
    rows = np.array(
        [[float(cell) for cell in line.split(",")] for line in regression_job.held_out.feature_lines],
        dtype=np.float32,
    )
    assert Predictor(second.model_dir).predict(rows) == Predictor(first.model_dir).predict(rows)


def test_integer_class_labels_are_predicted_as_integers(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Given the classification dataset with its labels replaced by integers
    codes = {"normal": "0", "warning": "1", "fault": "2"}
    header, *rows = CLASSIFICATION_CSV.read_text().splitlines()
    relabelled = [row.rsplit(",", 1)[0] + "," + codes[row.rsplit(",", 1)[1]] for row in rows]
    layout = make_job(
        tmp_path,
        {"target": CLASSIFICATION_TARGET, "problem_type": "classification", **QUICK, "epochs": "5"},
        {"data.csv": "\n".join([header, *relabelled]) + "\n"},
    )
    # When it trains
    assert train_in_process(layout, monkeypatch) == 0
    # Then classes and predictions are integers, not strings
    predictor = Predictor(layout.model_dir)
    assert predictor.classes == [0, 1, 2]
    row = np.array([[1.0, 60.0, 50.0, 2000.0]], dtype=np.float32)
    predictions = predictor.predict(row)
    assert predictions[0] in (0, 1, 2)
    assert isinstance(predictions[0], int)
    # And probabilities are keyed by the labels as JSON object keys (strings)
    labels, probabilities = predictor.predict_probabilities(row)
    assert labels == predictions
    assert list(probabilities[0]) == ["0", "1", "2"]


def test_class_labels_keep_their_text_unless_every_label_is_an_integer_as_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given zero-padded codes that would read as the integers 1 and 2
    rows = [f"{i},{i % 4},{'001' if i % 2 else '002'}" for i in range(20)]
    layout = make_job(
        tmp_path,
        {"target": "code", "problem_type": "classification", "epochs": "2"},
        {"data.csv": "\n".join(["a,b,code", *rows]) + "\n"},
    )
    # When it trains
    assert train_in_process(layout, monkeypatch) == 0
    # Then the classes, and so the predictions, are the labels of the file
    predictor = Predictor(layout.model_dir)
    assert predictor.classes == ["001", "002"]
    assert predictor.predict(np.array([[1.0, 1.0]], dtype=np.float32))[0] in ("001", "002")
