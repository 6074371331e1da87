"""Validation metrics and the ``name=value;`` lines that SageMaker metric definitions parse from stdout.

A metric definition such as ``validation_f1=([-+0-9.eE]+);`` matches a line printed by ``metric_line``;
``%g`` formatting keeps the number inside that character class (no ``nan``: divergence fails the job).
"""

from __future__ import annotations

from typing import Literal

import numpy as np

LOSS = "validation_loss"
ABS_ERR_P95 = "validation_abs_err_p95"
ACCURACY = "validation_accuracy"
F1 = "validation_f1"

Direction = Literal["minimize", "maximize"]


def abs_err_p95(actual: np.ndarray, predicted: np.ndarray) -> float:
    """The 95th percentile of the absolute error: the error bound for 19 predictions in 20."""
    return float(np.quantile(np.abs(actual - predicted), 0.95))


def accuracy(actual: np.ndarray, predicted: np.ndarray) -> float:
    return float(np.mean(actual == predicted))


def macro_f1(actual: np.ndarray, predicted: np.ndarray) -> float:
    """F1 averaged over every class that occurs in ``actual`` or ``predicted``, each counting the same."""
    scores = []
    for label in np.union1d(actual, predicted):
        true_positives = np.sum((predicted == label) & (actual == label))
        errors = np.sum(predicted != actual, where=(predicted == label) | (actual == label))
        scores.append(2 * true_positives / (2 * true_positives + errors))
    return float(np.mean(scores))


def evaluate(problem_type: str, actual: np.ndarray, predicted: np.ndarray) -> dict[str, float]:
    """The contract's final metrics for a problem type, keyed by metric name."""
    if problem_type == "classification":
        return {ACCURACY: accuracy(actual, predicted), F1: macro_f1(actual, predicted)}
    return {ABS_ERR_P95: abs_err_p95(actual, predicted)}


def objective(problem_type: str) -> tuple[str, Direction]:
    """The HPO objective metric and its direction: p95 absolute error down, or macro F1 up."""
    return (F1, "maximize") if problem_type == "classification" else (ABS_ERR_P95, "minimize")


def metric_line(metrics: dict[str, float]) -> str:
    """``name=value;`` for each metric, space separated, in the form SageMaker metric regexes expect."""
    return " ".join(f"{name}={value:.6g};" for name, value in metrics.items())
