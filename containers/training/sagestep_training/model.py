"""The network: an MLP for tabular data, and the inference wrapper that is exported and served.

``InferenceModel`` folds the preprocessing into the graph (raw features in, predictions on the original
scale or class probabilities out), so the ONNX file that ``serve`` runs and the TorchScript file that
SageMaker Neo compiles need nothing but ``meta.json`` beside them to be used correctly.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from sagestep_training.data import Standardizer

ACTIVATIONS: dict[str, type[nn.Module]] = {
    "relu": nn.ReLU,
    "tanh": nn.Tanh,
    "gelu": nn.GELU,
    "leaky_relu": nn.LeakyReLU,
    "elu": nn.ELU,
}


@dataclass(frozen=True)
class Architecture:
    """The shape of the MLP: ``hidden_layers`` blocks of Linear [-> BatchNorm] -> activation -> Dropout."""

    inputs: int
    outputs: int
    hidden_layers: int
    hidden_units: int
    dropout: float
    batch_norm: bool
    activation: str


def build_mlp(architecture: Architecture) -> nn.Sequential:
    """The untrained network; its output is one value (regression) or one logit per class."""
    layers: list[nn.Module] = []
    width = architecture.inputs
    for _ in range(architecture.hidden_layers):
        layers.append(nn.Linear(width, architecture.hidden_units))
        if architecture.batch_norm:
            layers.append(nn.BatchNorm1d(architecture.hidden_units))
        layers.append(ACTIVATIONS[architecture.activation]())
        if architecture.dropout > 0:
            layers.append(nn.Dropout(architecture.dropout))
        width = architecture.hidden_units
    layers.append(nn.Linear(width, architecture.outputs))
    return nn.Sequential(*layers)


class InferenceModel(nn.Module):
    """Raw feature rows ``(n, features)`` to predictions: ``(n,)`` values or ``(n, classes)`` probabilities.

    Standardises the features with the training split's statistics, runs the trained MLP in eval mode,
    then undoes the target scaling (regression) or applies softmax (classification).
    """

    feature_mean: torch.Tensor
    feature_scale: torch.Tensor
    target_mean: torch.Tensor
    target_scale: torch.Tensor

    def __init__(self, mlp: nn.Sequential, features: Standardizer, target: Standardizer | None) -> None:
        super().__init__()
        self.mlp = mlp
        self.classification = target is None
        self.register_buffer("feature_mean", _tensor(features.mean))
        self.register_buffer("feature_scale", _tensor(features.scale))
        self.register_buffer("target_mean", _tensor(target.mean if target else np.zeros(())))
        self.register_buffer("target_scale", _tensor(target.scale if target else np.ones(())))
        self.eval()

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        outputs = self.mlp((features - self.feature_mean) / self.feature_scale)
        if self.classification:
            return torch.softmax(outputs, dim=1)
        return outputs[:, 0] * self.target_scale + self.target_mean


def _tensor(values: np.ndarray) -> torch.Tensor:
    return torch.as_tensor(values, dtype=torch.float32)
