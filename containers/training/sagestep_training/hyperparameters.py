"""Typed, validated hyperparameters from SageMaker's all-strings ``hyperparameters.json``.

SageMaker passes every hyperparameter as a string (native tuning too), so each one has a parser that
turns the string into its typed value or explains what was expected. Unknown names are rejected (a typo
would otherwise silently train with a default) except SageMaker's own ``_*`` and ``sagemaker_*`` entries.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from sagestep_training.errors import UserError

PROBLEM_TYPES = ("regression", "classification")
MODES = ("train", "hpo")
OPTIMIZERS = ("adam", "adamw", "sgd", "rmsprop")
ACTIVATIONS = ("relu", "tanh", "gelu", "leaky_relu", "elu")
HPO_ONLY = ("mode", "hpo_trials", "hpo_data_fraction", "hpo_epochs")
_SAGEMAKER_PREFIXES = ("_", "sagemaker_")


@dataclass(frozen=True)
class Hyperparameters:
    """Everything a ``train`` run is configured by; defaults suit a few thousand rows of tabular data."""

    target: str
    problem_type: str = "regression"
    mode: str = "train"
    hidden_layers: int = 2
    hidden_units: int = 64
    dropout: float = 0.1
    batch_norm: bool = False
    optimizer: str = "adam"
    activation: str = "relu"
    learning_rate: float = 0.003
    epochs: int = 100
    batch_size: int = 32
    lr_patience: int = 5
    early_stopping_patience: int = 15
    validation_fraction: float = 0.2
    seed: int = 42
    hpo_trials: int = 20
    hpo_data_fraction: float = 0.5
    hpo_epochs: int = 20


Parser = Callable[[str], Any]


def _text(text: str) -> str:
    if not text.strip():
        raise ValueError("a non-empty string")
    return text.strip()


def _choice(options: tuple[str, ...]) -> Parser:
    def parse(text: str) -> str:
        value = text.strip().lower()
        if value not in options:
            raise ValueError(f"one of {', '.join(options)}")
        return value

    return parse


def _boolean(text: str) -> bool:
    value = text.strip().lower()
    if value in ("true", "1", "yes"):
        return True
    if value in ("false", "0", "no"):
        return False
    raise ValueError("true or false")


def _integer(minimum: int) -> Parser:
    def parse(text: str) -> int:
        try:
            number = float(text)
        except ValueError:
            number = math.nan
        if not (number.is_integer() and number >= minimum):
            raise ValueError(f"an integer >= {minimum}")
        return int(number)

    return parse


def _number(low: float, high: float, *, low_open: bool = False, high_open: bool = False) -> Parser:
    expected = f"a number in {'(' if low_open else '['}{low:g}, {high:g}{')' if high_open else ']'}"

    def parse(text: str) -> float:
        try:
            number = float(text)
        except ValueError:
            raise ValueError(expected) from None
        above = number > low if low_open else number >= low
        below = number < high if high_open else number <= high
        if not (above and below):
            raise ValueError(expected)
        return number

    return parse


PARSERS: dict[str, Parser] = {
    "target": _text,
    "problem_type": _choice(PROBLEM_TYPES),
    "mode": _choice(MODES),
    "hidden_layers": _integer(0),
    "hidden_units": _integer(1),
    "dropout": _number(0, 1, high_open=True),
    "batch_norm": _boolean,
    "optimizer": _choice(OPTIMIZERS),
    "activation": _choice(ACTIVATIONS),
    "learning_rate": _number(0, math.inf, low_open=True, high_open=True),
    "epochs": _integer(1),
    "batch_size": _integer(1),
    "lr_patience": _integer(0),
    "early_stopping_patience": _integer(0),
    "validation_fraction": _number(0, 1, low_open=True, high_open=True),
    "seed": _integer(0),
    "hpo_trials": _integer(1),
    "hpo_data_fraction": _number(0, 1, low_open=True),
    "hpo_epochs": _integer(1),
}


def parse(raw: Mapping[str, object]) -> Hyperparameters:
    """Validate SageMaker's hyperparameter mapping; raises ``UserError`` naming the first bad entry."""
    values: dict[str, Any] = {}
    for name, value in raw.items():
        if name.startswith(_SAGEMAKER_PREFIXES):
            continue
        if name not in PARSERS:
            raise UserError(f"unknown hyperparameter {name!r}; known: {', '.join(PARSERS)}")
        if not isinstance(value, str | int | float):
            raise UserError(f"hyperparameter {name} must be a string, got {json.dumps(value)}")
        try:
            values[name] = PARSERS[name](str(value))
        except ValueError as error:
            raise UserError(f"hyperparameter {name}={value!r} is invalid: expected {error}") from None
    if "target" not in values:
        raise UserError("hyperparameter 'target' is required: the name of the CSV column to predict")
    hyperparameters = Hyperparameters(**values)
    if hyperparameters.batch_norm and hyperparameters.batch_size < 2:
        raise UserError("hyperparameter batch_size must be >= 2 when batch_norm is true")
    return hyperparameters


def load(path: Path) -> Hyperparameters:
    """Read and validate ``input/config/hyperparameters.json``."""
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UserError(f"{path} not found: hyperparameter 'target' is required") from None
    except json.JSONDecodeError as error:
        raise UserError(f"{path} is not valid JSON: {error}") from None
    if not isinstance(raw, dict):
        raise UserError(f"{path} must hold a JSON object of hyperparameters")
    return parse(raw)


def to_strings(hyperparameters: Hyperparameters, *, exclude: tuple[str, ...] = ()) -> dict[str, str]:
    """The hyperparameters as SageMaker strings that ``parse`` reads back to the same values."""
    return {
        field.name: to_string(getattr(hyperparameters, field.name))
        for field in fields(hyperparameters)
        if field.name not in exclude
    }


def to_string(value: object) -> str:
    """One hyperparameter value as the string SageMaker would pass (booleans as ``true``/``false``)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
