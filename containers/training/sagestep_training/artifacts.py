"""Names and JSON helpers for the files a job leaves in ``model/`` (torch-free: ``serve`` imports it)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

ONNX_FILE = "model.onnx"
"""The served artifact: ONNX Runtime answers a one-row request several times faster than torch."""
TORCHSCRIPT_FILE = "model.torchscript.pt"
"""The traced model, for SageMaker Neo compilation (input ``input0`` of shape ``meta.json:input_shape``)."""
META_FILE = "meta.json"
METRICS_FILE = "metrics.json"
HPO_RESULTS_FILE = "hpo_results.json"
HISTORY_FILE = "history.json"
"""Per-epoch losses and learning rate, written to ``output/data/``."""
INPUT_NAME = "input0"
OUTPUT_NAME = "output0"


def write_json(path: Path, payload: Any) -> None:
    """Write ``payload`` as indented JSON, creating the parent folder."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(payload, indent=2) + "\n", encoding="utf-8")
