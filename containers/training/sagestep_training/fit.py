"""Training one MLP: seeded mini-batches, ReduceLROnPlateau, early stopping, and the best epoch restored.

Used by ``mode=train`` (the whole training split, ``epochs``) and by each HPO trial (a fraction of the
data, ``hpo_epochs``). The same seed gives the same model: weights, dropout and shuffling all draw from
seeded generators.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from sagestep_training.data import Dataset, Standardizer, check_scalable
from sagestep_training.errors import TrainingDiverged
from sagestep_training.hyperparameters import Hyperparameters
from sagestep_training.metrics import LOSS, evaluate
from sagestep_training.model import Architecture, InferenceModel, build_mlp

LR_FACTOR = 0.5
"""ReduceLROnPlateau halves the learning rate after ``lr_patience`` epochs without improvement."""
SGD_MOMENTUM = 0.9
"""Plain SGD needs far more epochs than the adaptive optimizers; momentum closes most of the gap."""


@dataclass(frozen=True)
class Epoch:
    """What one epoch achieved; ``metrics`` are the contract's validation metrics on the original scale."""

    number: int
    train_loss: float
    validation_loss: float
    learning_rate: float
    metrics: dict[str, float]


@dataclass(frozen=True)
class FitResult:
    """The model of the epoch with the lowest validation loss, and how training went."""

    model: InferenceModel
    feature_scaler: Standardizer
    target_scaler: Standardizer | None
    history: list[Epoch]
    best: Epoch

    @property
    def metrics(self) -> dict[str, float]:
        """The final metrics: validation loss and the contract's metrics of the best epoch."""
        return {LOSS: self.best.validation_loss, **self.best.metrics}


def fit(
    train: Dataset,
    validation: Dataset,
    hyperparameters: Hyperparameters,
    on_epoch: Callable[[Epoch], None] | None = None,
) -> FitResult:
    """Train for up to ``hyperparameters.epochs`` epochs, calling ``on_epoch`` after each one.

    The validation loss is the training loss function on the validation split: mean squared error of the
    standardised target (regression) or cross-entropy (classification). ``on_epoch`` may raise to stop
    training (HPO pruning). Raises ``UserError`` when a value overflows float32 once standardised, and
    ``TrainingDiverged`` when a loss stops being finite.
    """
    torch.manual_seed(hyperparameters.seed)
    shuffling = torch.Generator().manual_seed(hyperparameters.seed)
    classification = train.problem_type == "classification"
    feature_scaler = Standardizer.fit(train.features)
    target_scaler = None if classification else Standardizer.fit(train.target)
    check_scalable(train, feature_scaler, target_scaler)
    check_scalable(validation, feature_scaler, target_scaler)
    x_train, y_train = _tensors(train, feature_scaler, target_scaler)
    x_validation, y_validation = _tensors(validation, feature_scaler, target_scaler)
    loss_function: nn.Module = nn.CrossEntropyLoss() if classification else nn.MSELoss()
    mlp = build_mlp(_architecture(train, hyperparameters))
    optimizer = _optimizer(hyperparameters.optimizer, mlp, hyperparameters.learning_rate)
    scheduler = torch.optim.lr_scheduler.ReduceLROnPlateau(
        optimizer, factor=LR_FACTOR, patience=hyperparameters.lr_patience
    )
    history: list[Epoch] = []
    best: Epoch | None = None
    best_state: dict[str, torch.Tensor] = {}
    for number in range(1, hyperparameters.epochs + 1):
        learning_rate = optimizer.param_groups[0]["lr"]
        train_loss = _train_epoch(
            mlp, x_train, y_train, loss_function, optimizer, hyperparameters.batch_size, shuffling
        )
        validation_loss, predicted = _validate(mlp, x_validation, y_validation, loss_function, target_scaler)
        if not (math.isfinite(train_loss) and math.isfinite(validation_loss)):
            raise TrainingDiverged(
                f"training diverged at epoch {number} (loss {train_loss:g}, validation loss "
                f"{validation_loss:g}); lower learning_rate (now {hyperparameters.learning_rate:g})"
            )
        epoch = Epoch(
            number=number,
            train_loss=train_loss,
            validation_loss=validation_loss,
            learning_rate=learning_rate,
            metrics=evaluate(train.problem_type, validation.target, predicted),
        )
        history.append(epoch)
        if on_epoch:
            on_epoch(epoch)
        if best is None or validation_loss < best.validation_loss:
            best, best_state = epoch, copy.deepcopy(mlp.state_dict())
        elif 0 < hyperparameters.early_stopping_patience <= number - best.number:
            break
        scheduler.step(validation_loss)
    assert best is not None, "epochs >= 1 is validated"
    mlp.load_state_dict(best_state)
    return FitResult(
        model=InferenceModel(mlp, feature_scaler, target_scaler),
        feature_scaler=feature_scaler,
        target_scaler=target_scaler,
        history=history,
        best=best,
    )


def _architecture(train: Dataset, hyperparameters: Hyperparameters) -> Architecture:
    return Architecture(
        inputs=len(train.feature_names),
        outputs=len(train.classes) if train.problem_type == "classification" else 1,
        hidden_layers=hyperparameters.hidden_layers,
        hidden_units=hyperparameters.hidden_units,
        dropout=hyperparameters.dropout,
        batch_norm=hyperparameters.batch_norm,
        activation=hyperparameters.activation,
    )


def _tensors(
    dataset: Dataset, features: Standardizer, target: Standardizer | None
) -> tuple[torch.Tensor, torch.Tensor]:
    """Standardised float32 features, and class indices or the standardised ``(rows, 1)`` target."""
    x = torch.as_tensor(features.transform(dataset.features), dtype=torch.float32)
    if target is None:
        return x, torch.as_tensor(dataset.target)
    return x, torch.as_tensor(target.transform(dataset.target), dtype=torch.float32).unsqueeze(1)


def _optimizer(name: str, mlp: nn.Module, learning_rate: float) -> torch.optim.Optimizer:
    parameters = mlp.parameters()
    if name == "adamw":
        return torch.optim.AdamW(parameters, lr=learning_rate)
    if name == "sgd":
        return torch.optim.SGD(parameters, lr=learning_rate, momentum=SGD_MOMENTUM)
    if name == "rmsprop":
        return torch.optim.RMSprop(parameters, lr=learning_rate)
    return torch.optim.Adam(parameters, lr=learning_rate)


def _train_epoch(
    mlp: nn.Module,
    x: torch.Tensor,
    y: torch.Tensor,
    loss_function: nn.Module,
    optimizer: torch.optim.Optimizer,
    batch_size: int,
    shuffling: torch.Generator,
) -> float:
    """One pass over the shuffled training rows; returns the mean training loss."""
    mlp.train()
    order = torch.randperm(len(x), generator=shuffling)
    total, count = 0.0, 0
    for start in range(0, len(x), batch_size):
        rows = order[start : start + batch_size]
        if len(rows) == 1 and batch_size > 1:
            continue  # batch norm cannot normalise a lone trailing row; it lands in a full batch next epoch
        optimizer.zero_grad()
        loss = loss_function(mlp(x[rows]), y[rows])
        loss.backward()
        optimizer.step()
        total += loss.item() * len(rows)
        count += len(rows)
    return total / count


def _validate(
    mlp: nn.Module,
    x: torch.Tensor,
    y: torch.Tensor,
    loss_function: nn.Module,
    target_scaler: Standardizer | None,
) -> tuple[float, np.ndarray]:
    """The validation loss, and the predictions as class indices or values on the original scale."""
    mlp.eval()
    with torch.inference_mode():
        outputs = mlp(x)
        loss = float(loss_function(outputs, y))
    if target_scaler is None:
        return loss, outputs.argmax(dim=1).numpy()
    return loss, target_scaler.inverse(outputs[:, 0].numpy().astype(np.float64))
