"""Metric functions against hand-computed values, and the metric line format."""

from __future__ import annotations

import re

import numpy as np
import pytest

from sagestep_training.metrics import abs_err_p95, accuracy, macro_f1, metric_line


def test_macro_f1_averages_per_class_f1_over_every_class_seen() -> None:
    actual = np.array([0, 0, 0, 1, 1, 2])
    predicted = np.array([0, 0, 1, 1, 2, 2])
    # class 0: tp 2, fp 0, fn 1 -> 4/5; class 1: tp 1, fp 1, fn 1 -> 2/4; class 2: tp 1, fp 1, fn 0 -> 2/3
    assert macro_f1(actual, predicted) == pytest.approx((4 / 5 + 1 / 2 + 2 / 3) / 3)
    assert accuracy(actual, predicted) == pytest.approx(4 / 6)


def test_a_class_that_is_only_predicted_counts_with_f1_zero() -> None:
    assert macro_f1(np.array([0, 0]), np.array([0, 1])) == pytest.approx((2 / 3 + 0) / 2)


def test_abs_err_p95_is_the_95th_percentile_of_absolute_errors() -> None:
    actual = np.zeros(101)
    predicted = np.linspace(-100, 0, 101)
    assert abs_err_p95(actual, predicted) == pytest.approx(95.0)


def test_metric_lines_parse_with_the_sagemaker_regex() -> None:
    line = metric_line({"validation_loss": 1.5e-7, "validation_f1": 0.912345678})
    assert line == "validation_loss=1.5e-07; validation_f1=0.912346;"
    assert re.findall(r"validation_loss=([-+0-9.eE]+);", line) == ["1.5e-07"]
