"""The problem type rule the API applies when ``problemType`` is left out, and integer class labels."""

from __future__ import annotations

import pytest

from sagestep_training.problem_type import (
    MAX_INFERRED_CLASSES,
    STABLE_SAMPLE_ROWS,
    infer_problem_type,
    is_integer_label,
)


def repeat(values: list[str], rows: int) -> list[str]:
    """``rows`` cells cycling through ``values``."""
    return [values[i % len(values)] for i in range(rows)]


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        pytest.param(repeat(["setosa", "versicolor", "virginica"], 30), "classification", id="text-labels"),
        pytest.param(repeat(["yes", "no"], 4), "classification", id="few-text-rows"),
        pytest.param(repeat(["1", "2", "other"], 30), "classification", id="text-and-integer-labels"),
        pytest.param(repeat(["0", "1"], 10), "classification", id="binary-integers"),
        pytest.param(["-1", "1", "1"], "classification", id="binary-integers-three-rows"),
        pytest.param(repeat([str(k) for k in range(5)], 100), "classification", id="five-integer-classes"),
        pytest.param(
            repeat([str(k) for k in range(MAX_INFERRED_CLASSES)], STABLE_SAMPLE_ROWS),
            "classification",
            id="twenty-classes-five-rows-each",
        ),
        pytest.param(
            repeat([str(k) for k in range(MAX_INFERRED_CLASSES + 1)], 1000),
            "regression",
            id="twenty-one-distinct-integers",
        ),
        pytest.param(repeat([str(k) for k in range(10)], 40), "regression", id="four-rows-per-integer"),
        pytest.param(repeat(["007", "+1", "12"], 30), "classification", id="whole-numbers-as-written"),
        pytest.param(repeat(["1.0", "2.0"], 30), "regression", id="decimal-point"),
        pytest.param(repeat(["3.2", "4.7", "5.1"], 30), "regression", id="measurements"),
        pytest.param(repeat(["1e3", "2e3"], 30), "regression", id="exponent"),
        pytest.param(repeat(["3.2", "N/A", "4.7"], 30), "regression", id="measurements-with-a-missing-marker"),
        pytest.param(repeat(["1", "2", "nan"], 30), "regression", id="nan-is-a-measurement"),
        pytest.param(repeat([" 1 ", "0", "", "  "], 20), "classification", id="blanks-and-spaces-ignored"),
    ],
)
def test_infer_problem_type(values: list[str], expected: str) -> None:
    assert infer_problem_type(values) == expected


def test_a_sample_of_stable_size_decides_as_the_whole_column() -> None:
    # Given a column of 12 integer classes and a sample of its first 100 rows
    column = repeat([str(k) for k in range(12)], 5000)
    # Then both decide the same, although the sample has fewer than 12 rows of some classes
    assert infer_problem_type(column[:STABLE_SAMPLE_ROWS]) == infer_problem_type(column) == "classification"


def test_a_blank_column_cannot_be_decided() -> None:
    with pytest.raises(ValueError, match="no values"):
        infer_problem_type(["", " "])


@pytest.mark.parametrize(
    ("text", "expected"),
    [("0", True), ("17", True), ("-3", True), ("007", False), ("+1", False), ("-0", False), ("1.0", False)],
)
def test_integer_labels_are_those_that_read_back_as_written(text: str, expected: bool) -> None:
    assert is_integer_label(text) is expected
