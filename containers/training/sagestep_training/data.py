"""From a channel's CSV files to a numeric dataset: reading, validation, splitting and standardisation.

Every problem with the data is raised as a ``UserError`` that names the file, line, column and value, so
the message in ``output/failure`` is enough to fix the data without reading logs.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from sagestep_training.errors import UserError

MIN_ROWS = 10
"""Fewer rows cannot give both a training split (two rows for batch norm) and a validation split."""

Label = int | str


@dataclass(frozen=True)
class Dataset:
    """Features and target of a tabular problem, in the column order of the first CSV file."""

    feature_names: tuple[str, ...]
    features: np.ndarray
    """``(rows, features)`` float64."""
    target: np.ndarray
    """``(rows,)``: float64 values (regression) or int64 indices into ``classes`` (classification)."""
    problem_type: str
    classes: tuple[Label, ...] = ()
    """The original class labels, sorted: ints when every label is an integer, else strings."""

    def __len__(self) -> int:
        return len(self.target)

    def take(self, indices: np.ndarray) -> Dataset:
        """The rows at ``indices``."""
        return replace(self, features=self.features[indices], target=self.target[indices])


@dataclass(frozen=True)
class Standardizer:
    """Per-column centring and scaling, fitted on the training split and saved with the model."""

    mean: np.ndarray
    scale: np.ndarray

    @classmethod
    def fit(cls, values: np.ndarray) -> Standardizer:
        """Column means and standard deviations; a constant column gets scale 1 (it maps to zero)."""
        scale = values.std(axis=0)
        return cls(mean=values.mean(axis=0), scale=np.where(scale > 1e-12, scale, 1.0))

    def transform(self, values: np.ndarray) -> np.ndarray:
        return (values - self.mean) / self.scale

    def inverse(self, values: np.ndarray) -> np.ndarray:
        return values * self.scale + self.mean

    def to_json(self) -> dict[str, object]:
        return {"mean": self.mean.tolist(), "scale": self.scale.tolist()}


@dataclass(frozen=True)
class _CsvFile:
    name: str
    header: list[str]
    rows: list[list[str]]
    lines: list[int]


def load_dataset(channel: Path, target: str, problem_type: str) -> Dataset:
    """Read every ``*.csv`` under ``channel`` (each with the same header) into one dataset.

    All columns but ``target`` are features and must be finite numbers. A regression target must be
    numeric too; a classification target may hold any labels.
    """
    files = [_read_csv(path, channel) for path in _csv_files(channel)]
    header = files[0].header
    if target not in header:
        raise UserError(f"target column {target!r} not found in {files[0].name}; columns: {', '.join(header)}")
    feature_names = tuple(column for column in header if column != target)
    if not feature_names:
        raise UserError(f"{files[0].name} has no feature column besides the target {target!r}")
    features: list[np.ndarray] = []
    labels: list[str] = []
    for file in files:
        if sorted(file.header) != sorted(header):
            raise UserError(
                f"{file.name} has columns {', '.join(file.header)}; "
                f"expected the columns of {files[0].name}: {', '.join(header)}"
            )
        features.append(_numeric(file, feature_names, "feature columns must hold numbers"))
        labels.extend(_labels(file, target))
    if len(labels) < MIN_ROWS:
        raise UserError(f"the training data has {len(labels)} data rows; at least {MIN_ROWS} are needed")
    if problem_type == "classification":
        classes, indices = _encode_classes(labels, target)
        return Dataset(feature_names, np.concatenate(features), indices, problem_type, classes)
    values = np.concatenate(
        [_numeric(file, (target,), "set problem_type=classification if it holds class labels") for file in files]
    )
    return Dataset(feature_names, np.concatenate(features), values[:, 0], problem_type)


def split(dataset: Dataset, validation_fraction: float, seed: int) -> tuple[Dataset, Dataset]:
    """A seeded random (training, validation) split, stratified by class for classification."""
    rng = np.random.default_rng(seed)
    if dataset.classes:
        groups = [np.flatnonzero(dataset.target == k) for k in range(len(dataset.classes))]
    else:
        groups = [np.arange(len(dataset))]
    training: list[np.ndarray] = []
    validation: list[np.ndarray] = []
    for group in groups:
        shuffled = rng.permutation(group)
        size = round(len(group) * validation_fraction)
        validation.append(shuffled[:size])
        training.append(shuffled[size:])
    train_rows, validation_rows = np.sort(np.concatenate(training)), np.sort(np.concatenate(validation))
    if len(validation_rows) < 1 or len(train_rows) < 2:
        raise UserError(
            f"validation_fraction={validation_fraction} splits {len(dataset)} rows into "
            f"{len(train_rows)} training and {len(validation_rows)} validation rows; both need rows"
        )
    return dataset.take(train_rows), dataset.take(validation_rows)


def subsample(dataset: Dataset, fraction: float, seed: int) -> Dataset:
    """A seeded random ``fraction`` of the rows (for HPO trials), at least ``MIN_ROWS`` of them."""
    size = round(len(dataset) * fraction)
    if size < MIN_ROWS:
        raise UserError(
            f"hpo_data_fraction={fraction} of {len(dataset)} rows leaves {size} rows; at least {MIN_ROWS} are needed"
        )
    rows = np.random.default_rng(seed).permutation(len(dataset))[:size]
    return dataset.take(np.sort(rows))


def _csv_files(channel: Path) -> list[Path]:
    if not channel.is_dir():
        raise UserError(f"the training channel {channel} does not exist")
    files = sorted(path for path in channel.rglob("*.csv") if path.is_file())
    if not files:
        raise UserError(f"no .csv file in the training channel {channel}")
    return files


def _read_csv(path: Path, channel: Path) -> _CsvFile:
    name = str(path.relative_to(channel))
    rows: list[list[str]] = []
    lines: list[int] = []
    try:
        with path.open(newline="", encoding="utf-8-sig") as handle:
            reader = csv.reader(handle)
            header = [cell.strip() for cell in next(reader, [])]
            if not any(header):
                raise UserError(f"{name} is empty: expected a header row of column names")
            if len(set(header)) != len(header):
                duplicates = sorted({column for column in header if header.count(column) > 1})
                raise UserError(f"{name} has duplicate column names: {', '.join(duplicates)}")
            for row in reader:
                if not any(cell.strip() for cell in row):
                    continue
                if len(row) != len(header):
                    raise UserError(
                        f"{name} line {reader.line_num} has {len(row)} fields; the header has {len(header)}"
                    )
                rows.append(row)
                lines.append(reader.line_num)
    except UnicodeDecodeError:
        raise UserError(f"{name} is not UTF-8 text") from None
    except csv.Error as error:
        raise UserError(f"{name} is not valid CSV: {error}") from None
    return _CsvFile(name, header, rows, lines)


def _numeric(file: _CsvFile, columns: tuple[str, ...], hint: str) -> np.ndarray:
    """The ``columns`` of ``file`` as a float64 matrix; names the first cell that is not a finite number."""
    positions = [file.header.index(column) for column in columns]
    cells = [[row[i] for i in positions] for row in file.rows]
    try:
        matrix = np.array(cells, dtype=np.float64).reshape(len(cells), len(columns))
    except ValueError:
        matrix = None
    if matrix is not None and np.isfinite(matrix).all():
        return matrix
    for row, line in zip(cells, file.lines, strict=True):
        for column, cell in zip(columns, row, strict=True):
            if not _is_finite_number(cell):
                raise UserError(f"column {column!r} has a non-numeric value {cell!r} ({file.name} line {line}); {hint}")
    raise AssertionError("unreachable: the conversion failed but every cell is a finite number")


def _is_finite_number(cell: str) -> bool:
    try:
        return bool(np.isfinite(float(cell)))
    except ValueError:
        return False


def _labels(file: _CsvFile, target: str) -> list[str]:
    position = file.header.index(target)
    labels = [row[position].strip() for row in file.rows]
    for label, line in zip(labels, file.lines, strict=True):
        if not label:
            raise UserError(f"target column {target!r} is empty at {file.name} line {line}")
    return labels


def _encode_classes(labels: list[str], target: str) -> tuple[tuple[Label, ...], np.ndarray]:
    """Sorted distinct labels (as ints when all are integers, so predictions keep their type) and codes."""
    originals: list[Label]
    classes: tuple[Label, ...]
    try:
        numbers = [int(label) for label in labels]
    except ValueError:
        originals, classes = list(labels), tuple(sorted(set(labels)))
    else:
        originals, classes = list(numbers), tuple(sorted(set(numbers)))
    if len(classes) < 2:
        raise UserError(f"target column {target!r} has a single class {classes[0]!r}; at least two are needed")
    code = {label: index for index, label in enumerate(classes)}
    return classes, np.array([code[label] for label in originals], dtype=np.int64)
