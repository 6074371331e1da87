"""Reading channels and splitting data; the bundled datasets are what their generator writes."""

from __future__ import annotations

import shutil
from collections import Counter
from pathlib import Path

import numpy as np

from sagestep_training.data import load_dataset, split
from sagestep_training.datasets import (
    CLASSIFICATION_CSV,
    CLASSIFICATION_TARGET,
    REGRESSION_CSV,
    REGRESSION_TARGET,
)
from sagestep_training.datasets.generate import crop_yield, machine_condition


def channel_with(csv_file: Path, directory: Path) -> Path:
    shutil.copy(csv_file, directory)
    return directory


def test_bundled_datasets_are_reproduced_by_their_generator() -> None:
    assert REGRESSION_CSV.read_text() == crop_yield()
    assert CLASSIFICATION_CSV.read_text() == machine_condition()


def test_every_csv_of_the_channel_is_read_with_columns_in_the_first_files_order(tmp_path: Path) -> None:
    (tmp_path / "part").mkdir()
    (tmp_path / "a.csv").write_text("x,y,label\n" + "1,2,a\n" * 6)
    (tmp_path / "part" / "b.csv").write_text("label,y,x\n" + "b,20,10\n" * 6 + "\n")
    dataset = load_dataset(tmp_path, "label", "classification")
    assert dataset.feature_names == ("x", "y")
    assert dataset.features.tolist() == [[1.0, 2.0]] * 6 + [[10.0, 20.0]] * 6
    assert dataset.classes == ("a", "b")


def test_the_split_is_seeded_and_stratified(tmp_path: Path) -> None:
    dataset = load_dataset(channel_with(CLASSIFICATION_CSV, tmp_path), CLASSIFICATION_TARGET, "classification")
    train, validation = split(dataset, 0.2, seed=7)
    again, _ = split(dataset, 0.2, seed=7)
    assert np.array_equal(train.features, again.features)
    assert len(train) + len(validation) == len(dataset)
    shares = Counter(validation.target.tolist())
    totals = Counter(dataset.target.tolist())
    assert all(abs(shares[k] / totals[k] - 0.2) < 0.01 for k in totals)


def test_regression_targets_are_numbers(tmp_path: Path) -> None:
    dataset = load_dataset(channel_with(REGRESSION_CSV, tmp_path), REGRESSION_TARGET, "regression")
    assert dataset.target.dtype == np.float64
    assert len(dataset) == 400
