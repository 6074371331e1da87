"""A trained model loaded for serving: the ONNX graph in ONNX Runtime, labels and names from ``meta.json``.

Torch-free on purpose: ``serve`` starts in well under a second and answers a one-row request in
microseconds (figures in ``containers/training/README.md``). Predictions are always finite: when the
model's output is not, the request is diagnosed instead of answered (``UnpredictableInput`` when a
feature overflows float32 once standardised, ``NonFinitePrediction`` otherwise).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import onnxruntime

from sagestep_training import artifacts
from sagestep_training.errors import UserError

PROBABILITY_DECIMALS = 6
"""float32 softmax is exact to about 7 significant digits; 6 decimals keep every probability readable
and their sum within 1e-5 of 1."""


class UnpredictableInput(ValueError):
    """A feature value so far from the training data that the model's float32 scaling overflows."""


class NonFinitePrediction(ArithmeticError):
    """The model computed a non-finite value from finite, scalable features."""


class Predictor:
    """Predicts original-scale values or original class labels (and their probabilities) from raw
    feature rows."""

    def __init__(self, model_dir: Path) -> None:
        meta_file = model_dir / artifacts.META_FILE
        if not meta_file.is_file():
            raise UserError(f"no trained model in {model_dir}: {artifacts.META_FILE} not found")
        meta = json.loads(meta_file.read_text(encoding="utf-8"))
        self.feature_names: list[str] = meta["feature_names"]
        self.classes: list[Any] | None = meta["classes"]
        self.problem_type: str = meta["problem_type"]
        self.target: str = meta["target"]
        self._feature_mean = np.asarray(meta["feature_scaler"]["mean"], dtype=np.float32)
        self._feature_scale = np.asarray(meta["feature_scaler"]["scale"], dtype=np.float32)
        options = onnxruntime.SessionOptions()
        # One thread per request: concurrent requests already fill the cores, and handing a one-row
        # batch to a thread pool costs more than computing it.
        options.intra_op_num_threads = 1
        options.inter_op_num_threads = 1
        self._session = onnxruntime.InferenceSession(
            str(model_dir / artifacts.ONNX_FILE), options, providers=["CPUExecutionProvider"]
        )

    def predict(self, features: np.ndarray) -> list[Any]:
        """Predictions for a finite float32 ``(rows, features)`` matrix: floats, or class labels."""
        outputs = self._run(features)
        if self.classes is None:
            return outputs.tolist()
        return [self.classes[index] for index in outputs.argmax(axis=1)]

    def predict_probabilities(self, features: np.ndarray) -> tuple[list[Any], list[dict[str, float]]]:
        """Class labels and, per row, each class's probability keyed by its label (as a string: JSON
        object keys are strings), in the order of ``meta.json:classes``. Classification only."""
        if self.classes is None:
            raise ValueError("a regression model has no class probabilities")
        outputs = self._run(features)
        keys = [str(label) for label in self.classes]
        rounded = np.round(outputs.astype(np.float64), PROBABILITY_DECIMALS).tolist()
        labels = [self.classes[index] for index in outputs.argmax(axis=1)]
        return labels, [dict(zip(keys, row, strict=True)) for row in rounded]

    def _run(self, features: np.ndarray) -> np.ndarray:
        outputs: np.ndarray = self._session.run(None, {artifacts.INPUT_NAME: features})[0]
        if not np.isfinite(outputs).all():
            self._diagnose(features, outputs)
        return outputs

    def _diagnose(self, features: np.ndarray, outputs: np.ndarray) -> None:
        """Raise for the first row whose prediction is not finite, naming its most extreme feature."""
        finite = np.isfinite(outputs.reshape(len(outputs), -1)).all(axis=1)
        row = int(np.argmin(finite))
        with np.errstate(over="ignore", invalid="ignore"):
            scaled = (features[row] - self._feature_mean) / self._feature_scale
        distances = np.where(np.isfinite(scaled), np.abs(scaled), np.inf)
        column = int(np.argmax(distances))
        name, value = self.feature_names[column], float(features[row, column])
        training = (
            f"the training rows' mean is {float(self._feature_mean[column]):g} and standard deviation "
            f"{float(self._feature_scale[column]):g}"
        )
        if not np.isfinite(distances[column]):
            raise UnpredictableInput(
                f"row {row + 1}, column {name!r}: value {value:g} is too far from the training data for "
                f"the model's float32 arithmetic ({training})"
            )
        raise NonFinitePrediction(
            f"the model's prediction for row {row + 1} is not a finite number; its farthest feature from "
            f"the training data is {name!r} = {value:g}, {float(distances[column]):.3g} standard deviations "
            f"from the mean ({training})"
        )
