"""Hyperparameter parsing: SageMaker's strings to typed values and back."""

from __future__ import annotations

from dataclasses import fields

import pytest

from sagestep_training.errors import UserError
from sagestep_training.hyperparameters import PARSERS, Hyperparameters, parse, to_strings


def test_every_hyperparameter_has_a_parser() -> None:
    assert set(PARSERS) == {field.name for field in fields(Hyperparameters)}


def test_strings_become_typed_values() -> None:
    parsed = parse(
        {
            "target": " price ",
            "problem_type": "Classification",
            "hidden_layers": "3.0",
            "batch_norm": "True",
            "learning_rate": "1e-3",
            "dropout": "0",
        }
    )
    assert parsed.target == "price"
    assert parsed.problem_type == "classification"
    assert parsed.hidden_layers == 3
    assert parsed.batch_norm is True
    assert parsed.learning_rate == 0.001
    assert parsed.dropout == 0.0


def test_to_strings_round_trips() -> None:
    original = parse({"target": "y", "batch_norm": "yes", "learning_rate": "0.000123", "mode": "hpo"})
    assert parse(to_strings(original)) == original


def test_sagemaker_entries_are_ignored() -> None:
    parsed = parse({"target": "y", "_tuning_objective_metric": "validation_f1", "sagemaker_region": "x"})
    assert parsed == Hyperparameters(target="y")


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"target": "y", "dropout": "1"}, "dropout='1' is invalid: expected a number in [0, 1)"),
        ({"target": "y", "validation_fraction": "0"}, "expected a number in (0, 1)"),
        ({"target": "y", "batch_norm": "maybe"}, "expected true or false"),
        ({"target": "y", "seed": "-1"}, "expected an integer >= 0"),
        ({"target": "y", "learning_rate": "nan"}, "learning_rate='nan' is invalid"),
        ({"target": ""}, "target='' is invalid: expected a non-empty string"),
        ({"target": "y", "epochs": ["1"]}, 'epochs must be a string, got ["1"]'),
        ({"target": "y", "batch_norm": "true", "batch_size": "1"}, "batch_size must be >= 2 when batch_norm"),
    ],
)
def test_bad_values_are_named(raw: dict[str, object], message: str) -> None:
    with pytest.raises(UserError) as raised:
        parse(raw)
    assert message in str(raised.value)
