"""From a channel's CSV files to a numeric dataset: reading, validation, splitting and standardisation.

Every problem with the data is raised as a ``UserError`` that names the file, line, column and value, so
the message in ``output/failure`` is enough to fix the data without reading logs. Lines are numbered as
an editor shows them: the header is line 1, and a row starts on the line where its first field does.

Values must be finite and within float32, the model's number type; the scaled values are checked too
(``check_scalable``), since a column holding both -3e38 and 3e38 is in range but its centred values are
not.
"""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from sagestep_training.errors import UserError
from sagestep_training.problem_type import is_integer_label, is_number

MIN_ROWS = 10
"""Fewer rows cannot give both a training split (two rows for batch norm) and a validation split."""

Label = int | str
FLOAT32_MAX = float(np.finfo(np.float32).max)
"""The largest magnitude the model (float32 weights, inputs and outputs) can hold."""


@dataclass(frozen=True)
class Dataset:
    """Features and target of a tabular problem, in the column order of the first CSV file."""

    feature_names: tuple[str, ...]
    features: np.ndarray
    """``(rows, features)`` float64."""
    target_name: str
    target: np.ndarray
    """``(rows,)``: float64 values (regression) or int64 indices into ``classes`` (classification)."""
    problem_type: str
    files: tuple[str, ...]
    """The CSV files the rows come from, relative to the channel."""
    origins: np.ndarray
    """``(rows, 2)`` int64: each row's index into ``files`` and its line in that file."""
    classes: tuple[Label, ...] = ()
    """The original class labels, sorted: ints when every label is an integer, else strings."""

    def __len__(self) -> int:
        return len(self.target)

    def take(self, indices: np.ndarray) -> Dataset:
        """The rows at ``indices``."""
        return replace(
            self, features=self.features[indices], target=self.target[indices], origins=self.origins[indices]
        )

    def where(self, row: int) -> str:
        """Where row ``row`` is in the data, as ``data.csv line 17``."""
        file, line = self.origins[row]
        return f"{self.files[file]} line {line}"


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

    All columns but ``target`` are features and must be finite numbers within float32's range. A
    regression target must be such a number too; a classification target may hold any labels.
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
        features.append(_numeric(file, feature_names))
        labels.extend(_labels(file, target))
    if len(labels) < MIN_ROWS:
        raise UserError(f"the training data has {len(labels)} data rows; at least {MIN_ROWS} are needed")
    origins = np.concatenate(
        [np.column_stack([np.full(len(file.lines), index), file.lines]) for index, file in enumerate(files)]
    ).astype(np.int64)
    classes: tuple[Label, ...] = ()
    if problem_type == "classification":
        classes, target_values = _encode_classes(labels, target)
    else:
        try:
            np.array(labels, dtype=np.float64)
        except ValueError:
            raise _labels_for_regression(files, target) from None
        target_values = np.concatenate([_numeric(file, (target,)) for file in files])[:, 0]
    return Dataset(
        feature_names=feature_names,
        features=np.concatenate(features),
        target_name=target,
        target=target_values,
        problem_type=problem_type,
        files=tuple(file.name for file in files),
        origins=origins,
        classes=classes,
    )


def check_scalable(dataset: Dataset, features: Standardizer, target: Standardizer | None) -> None:
    """Raise ``UserError`` naming the first value that the float32 model cannot standardise.

    The exported model computes ``(x - mean) / scale`` in float32 with the training split's statistics
    (and so does training, for the regression target): a value within float32's range still overflows
    there when it is farther than float32's range from the mean, e.g. 3e38 in a column of -3e38.
    """
    columns: list[tuple[tuple[str, ...], np.ndarray, Standardizer]] = [
        (dataset.feature_names, dataset.features, features)
    ]
    if target is not None:
        columns.append(((dataset.target_name,), dataset.target[:, np.newaxis], target))
    for names, values, scaler in columns:
        mean, scale = scaler.mean.astype(np.float32), scaler.scale.astype(np.float32)
        with np.errstate(over="ignore", invalid="ignore"):
            scaled = (values.astype(np.float32) - mean) / scale
        bad = ~np.isfinite(scaled) | ~np.isfinite(scale)
        if bad.any():
            row, column = (int(index) for index in np.argwhere(bad)[0])
            raise UserError(
                f"{dataset.where(row)}, column {names[column]!r}: value {values[row, column]:g} overflows the "
                f"model's float32 range when standardised with the training rows' mean "
                f"{np.atleast_1d(scaler.mean)[column]:g} and standard deviation "
                f"{np.atleast_1d(scaler.scale)[column]:g}; bring the column's values closer together"
            )


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
            last_line = reader.line_num
            for row in reader:
                # A quoted field may span lines: the row starts after the previous row's last line.
                line, last_line = last_line + 1, reader.line_num
                if not any(cell.strip() for cell in row):
                    continue
                if len(row) != len(header):
                    raise UserError(f"{name} line {line} has {len(row)} fields; the header has {len(header)}")
                rows.append(row)
                lines.append(line)
    except UnicodeDecodeError:
        raise UserError(f"{name} is not UTF-8 text") from None
    except csv.Error as error:
        raise UserError(f"{name} is not valid CSV: {error}") from None
    return _CsvFile(name, header, rows, lines)


def _numeric(file: _CsvFile, columns: tuple[str, ...]) -> np.ndarray:
    """The ``columns`` of ``file`` as a float64 matrix; names the first cell that is not a finite number
    within float32's range."""
    positions = [file.header.index(column) for column in columns]
    cells = [[row[i] for i in positions] for row in file.rows]
    try:
        matrix = np.array(cells, dtype=np.float64).reshape(len(cells), len(columns))
    except ValueError:
        matrix = None
    if matrix is not None:
        with np.errstate(over="ignore"):
            if np.isfinite(matrix.astype(np.float32)).all():
                return matrix
    for row, line in zip(cells, file.lines, strict=True):
        for column, cell in zip(columns, row, strict=True):
            problem = _cell_problem(cell.strip())
            if problem:
                raise UserError(f"{file.name} line {line}, column {column!r}: {problem}")
    raise AssertionError("unreachable: the conversion failed but every cell is a number within float32")


def _cell_problem(cell: str) -> str | None:
    """Why a numeric column's (stripped) cell cannot be used, or ``None`` when it can."""
    if not cell:
        return "the value is blank; feature columns need a number in every row"
    if not is_number(cell):
        return f"value {cell!r} is not a number; feature columns must hold numbers"
    value = float(cell)
    if math.isnan(value) or (math.isinf(value) and cell.lstrip("+-").lower() in ("inf", "infinity")):
        return f"value {cell} is not a finite number"
    if abs(value) > FLOAT32_MAX:
        return f"value {cell} is too large for the model's float32 range (magnitudes up to {FLOAT32_MAX:.3g})"
    return None


def _labels(file: _CsvFile, target: str) -> list[str]:
    position = file.header.index(target)
    labels = [row[position].strip() for row in file.rows]
    for label, line in zip(labels, file.lines, strict=True):
        if not label:
            raise UserError(f"{file.name} line {line}, column {target!r}: the target is blank; every row needs one")
    return labels


def _labels_for_regression(files: list[_CsvFile], target: str) -> UserError:
    """The error for a regression target that holds text: most likely class labels."""
    examples: list[str] = []
    first = ""
    for file in files:
        position = file.header.index(target)
        for row, line in zip(file.rows, file.lines, strict=True):
            label = row[position].strip()
            if is_number(label):
                continue
            first = first or f"{file.name} line {line}"
            if label not in examples:
                examples.append(label)
    shown = ", ".join(repr(label) for label in examples[:3]) + (", ..." if len(examples) > 3 else "")
    return UserError(
        f"target column {target!r} has non-numeric values ({shown}; the first at {first}), so it cannot be "
        'a regression target: if it holds class labels, set problemType to "classification" '
        "(hyperparameter problem_type=classification)"
    )


def _encode_classes(labels: list[str], target: str) -> tuple[tuple[Label, ...], np.ndarray]:
    """Sorted distinct labels (as ints when all are integers as written, so predictions keep their type
    and text) and each row's code."""
    originals: list[Label]
    classes: tuple[Label, ...]
    if all(is_integer_label(label) for label in labels):
        numbers = [int(label) for label in labels]
        originals, classes = list(numbers), tuple(sorted(set(numbers)))
    else:
        originals, classes = list(labels), tuple(sorted(set(labels)))
    if len(classes) < 2:
        raise UserError(f"target column {target!r} has a single class {classes[0]!r}; at least two are needed")
    code = {label: index for index, label in enumerate(classes)}
    return classes, np.array([code[label] for label in originals], dtype=np.int64)
