"""A trained model loaded for serving: the ONNX graph in ONNX Runtime, labels and names from ``meta.json``.

Torch-free on purpose: ``serve`` starts in well under a second and answers a one-row request in
microseconds (figures in ``containers/training/README.md``).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import onnxruntime

from sagestep_training import artifacts
from sagestep_training.errors import UserError


class Predictor:
    """Predicts original-scale values or original class labels from raw feature rows."""

    def __init__(self, model_dir: Path) -> None:
        meta_file = model_dir / artifacts.META_FILE
        if not meta_file.is_file():
            raise UserError(f"no trained model in {model_dir}: {artifacts.META_FILE} not found")
        meta = json.loads(meta_file.read_text(encoding="utf-8"))
        self.feature_names: list[str] = meta["feature_names"]
        self.classes: list[Any] | None = meta["classes"]
        self.problem_type: str = meta["problem_type"]
        options = onnxruntime.SessionOptions()
        # One thread per request: concurrent requests already fill the cores, and handing a one-row
        # batch to a thread pool costs more than computing it.
        options.intra_op_num_threads = 1
        options.inter_op_num_threads = 1
        self._session = onnxruntime.InferenceSession(
            str(model_dir / artifacts.ONNX_FILE), options, providers=["CPUExecutionProvider"]
        )

    def predict(self, features: np.ndarray) -> list[Any]:
        """Predictions for a float32 ``(rows, features)`` matrix: floats, or class labels."""
        outputs = self._session.run(None, {artifacts.INPUT_NAME: features})[0]
        if self.classes is None:
            return outputs.tolist()
        return [self.classes[index] for index in outputs.argmax(axis=1)]
