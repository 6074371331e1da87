"""Writing a trained model to ``model/``: the ONNX graph ``serve`` runs, the TorchScript file Neo compiles,
and ``meta.json`` describing both."""

from __future__ import annotations

import warnings
from pathlib import Path

import torch

from sagestep_training import artifacts
from sagestep_training.data import Dataset
from sagestep_training.fit import FitResult
from sagestep_training.hyperparameters import HPO_ONLY, Hyperparameters, to_strings

ONNX_OPSET = 17
"""Old enough for every onnxruntime >= 1.18 and for GELU as Erf; an MLP gains nothing from newer ops."""


def save_model(model_dir: Path, result: FitResult, dataset: Dataset, hyperparameters: Hyperparameters) -> None:
    """Trace the inference model to TorchScript and ONNX and write ``meta.json`` beside them."""
    model_dir.mkdir(parents=True, exist_ok=True)
    example = torch.zeros(1, len(dataset.feature_names))
    with warnings.catch_warnings():
        # TorchScript tracing is deprecated in favour of torch.export, but a traced TorchScript file is
        # what SageMaker Neo compiles; the TorchScript-based ONNX exporter is deprecated in favour of one
        # that needs onnxscript. Both work at the pinned torch and export the same trace.
        warnings.simplefilter("ignore", DeprecationWarning)
        torch.jit.trace(result.model, example).save(str(model_dir / artifacts.TORCHSCRIPT_FILE))
        torch.onnx.export(
            result.model,
            (example,),
            str(model_dir / artifacts.ONNX_FILE),
            dynamo=False,
            opset_version=ONNX_OPSET,
            input_names=[artifacts.INPUT_NAME],
            output_names=[artifacts.OUTPUT_NAME],
            dynamic_axes={artifacts.INPUT_NAME: {0: "rows"}, artifacts.OUTPUT_NAME: {0: "rows"}},
        )
    classification = dataset.problem_type == "classification"
    artifacts.write_json(
        model_dir / artifacts.META_FILE,
        {
            "problem_type": dataset.problem_type,
            "feature_names": list(dataset.feature_names),
            "target": hyperparameters.target,
            "classes": list(dataset.classes) if classification else None,
            "input_name": artifacts.INPUT_NAME,
            "input_shape": [1, len(dataset.feature_names)],
            "output": "class probabilities (rows, classes)" if classification else "values (rows,)",
            "feature_scaler": result.feature_scaler.to_json(),
            "target_scaler": result.target_scaler.to_json() if result.target_scaler else None,
            "metrics": result.metrics,
            "hyperparameters": to_strings(hyperparameters, exclude=HPO_ONLY),
            "files": {"onnx": artifacts.ONNX_FILE, "torchscript": artifacts.TORCHSCRIPT_FILE},
            "torch_version": torch.__version__,
        },
    )
