"""Bad input fails ``train`` clearly: the reason in ``output/failure``, exit status 1, no traceback."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from sagestep_training import train
from sagestep_training.__main__ import main
from sagestep_training.layout import Layout
from tests.container.conftest import container_env, make_job

GOOD_CSV = "a,b,y\n" + "".join(f"{i},{i % 3},{i * 2}\n" for i in range(20))
LABELS_CSV = "a,b,y\n" + "".join(f"{i},{i % 3},{'yes' if i % 2 else 'no'}\n" for i in range(20))
SPREAD_CSV = "a,b,y\n" + "".join(f"{'3e38' if i == 7 else '-3e38'},{i % 3},{i * 2}\n" for i in range(20))
"""Column a is within float32 but 3e38 (line 9) is 6e38 from the others: centring it overflows."""


def with_line_5(row: str, text: str = GOOD_CSV) -> str:
    """``text`` with its fourth data row, line 5 of the file, replaced by ``row``."""
    lines = text.splitlines()
    return "\n".join([*lines[:4], row, *lines[5:]]) + "\n"


def fail(layout: Layout, monkeypatch: pytest.MonkeyPatch) -> str:
    """Run ``train`` in-process, expect exit status 1, and return the failure reason."""
    monkeypatch.setenv("SAGESTEP_ML_ROOT", str(layout.root))
    assert main(["train"]) == 1
    reason = layout.failure_file.read_text()
    assert "Traceback" not in reason
    assert not (layout.model_dir / "model.onnx").exists()
    return reason


@pytest.mark.parametrize(
    ("hyperparameters", "files", "expected"),
    [
        pytest.param(
            {"target": "price"},
            {"data.csv": GOOD_CSV},
            "target column 'price' not found in data.csv; columns: a, b, y",
            id="missing-target-column",
        ),
        pytest.param(
            {"target": "y"},
            {"data.csv": with_line_5("3,abc,6")},
            "data.csv line 5, column 'b': value 'abc' is not a number; feature columns must hold numbers",
            id="non-numeric-feature",
        ),
        pytest.param(
            {"target": "y"},
            {"data.csv": with_line_5("3, ,6")},
            "data.csv line 5, column 'b': the value is blank; feature columns need a number in every row",
            id="blank-feature",
        ),
        pytest.param(
            {"target": "y"},
            {"data.csv": with_line_5("3,0,")},
            "data.csv line 5, column 'y': the target is blank",
            id="blank-target",
        ),
        pytest.param(
            {"target": "y"},
            {"data.csv": with_line_5("3,1e308,6")},
            "data.csv line 5, column 'b': value 1e308 is too large for the model's float32 range",
            id="feature-beyond-float32",
        ),
        pytest.param(
            {"target": "y"},
            {"data.csv": with_line_5("3,0,1e308")},
            "data.csv line 5, column 'y': value 1e308 is too large for the model's float32 range",
            id="target-beyond-float32",
        ),
        pytest.param(
            {"target": "y"},
            {"data.csv": with_line_5("3,0,1e400")},
            "data.csv line 5, column 'y': value 1e400 is too large for the model's float32 range",
            id="target-beyond-float64",
        ),
        pytest.param(
            {"target": "y", "problem_type": "classification"},
            {"data.csv": with_line_5("-4e38,0,yes", LABELS_CSV)},
            "data.csv line 5, column 'a': value -4e38 is too large for the model's float32 range",
            id="classification-feature-beyond-float32",
        ),
        pytest.param(
            {"target": "y"},
            {"data.csv": with_line_5("3,nan,6")},
            "data.csv line 5, column 'b': value nan is not a finite number",
            id="nan-feature",
        ),
        pytest.param(
            {"target": "y"},
            {"data.csv": with_line_5("3,0,-inf")},
            "data.csv line 5, column 'y': value -inf is not a finite number",
            id="infinite-target",
        ),
        pytest.param(
            {"target": "y"},
            {"data.csv": "a,b,y\n" + "".join(f"{(-1) ** i * 1e200},{i % 3},{i}\n" for i in range(20))},
            "data.csv line 2, column 'a': value 1e+200 is too large for the model's float32 range",
            id="standard-deviation-beyond-float64",
        ),
        pytest.param(
            {"target": "y"},
            {"data.csv": SPREAD_CSV},
            "data.csv line 9, column 'a': value 3e+38 overflows the model's float32 range when standardised",
            id="centred-feature-beyond-float32",
        ),
        pytest.param(
            {"target": "a"},
            {"data.csv": SPREAD_CSV},
            "data.csv line 9, column 'a': value 3e+38 overflows the model's float32 range when standardised",
            id="centred-target-beyond-float32",
        ),
        pytest.param(
            {"target": "y", "mode": "hpo", "hpo_trials": "2", "hpo_epochs": "2", "hpo_data_fraction": "1"},
            {"data.csv": SPREAD_CSV},
            "data.csv line 9, column 'a': value 3e+38 overflows",
            id="hpo-centred-feature-beyond-float32",
        ),
        pytest.param({"target": "y"}, {"data.csv": ""}, "data.csv is empty", id="empty-file"),
        pytest.param({"target": "y"}, {"data.txt": GOOD_CSV}, "no .csv file in the training channel", id="no-csv"),
        pytest.param(
            {"target": "y"}, {"data.csv": "a,b,y\n1,2,3\n"}, "has 1 data rows; at least 10", id="too-few-rows"
        ),
        pytest.param(
            {"target": "y"},
            {"a.csv": GOOD_CSV, "b.csv": GOOD_CSV.replace("a,b,y", "a,c,y")},
            "b.csv has columns a, c, y; expected the columns of a.csv",
            id="different-headers",
        ),
        pytest.param(
            {"epochs": "10"},
            {"data.csv": GOOD_CSV},
            "hyperparameter 'target' is required",
            id="missing-target-hyperparameter",
        ),
        pytest.param(
            {"target": "y", "learning_rate": "fast"},
            {"data.csv": GOOD_CSV},
            "hyperparameter learning_rate='fast' is invalid: expected a number in (0, inf)",
            id="bad-learning-rate",
        ),
        pytest.param(
            {"target": "y", "optimizer": "adagrad"},
            {"data.csv": GOOD_CSV},
            "hyperparameter optimizer='adagrad' is invalid: expected one of adam, adamw, sgd, rmsprop",
            id="bad-optimizer",
        ),
        pytest.param(
            {"target": "y", "epochs": "2.5"},
            {"data.csv": GOOD_CSV},
            "hyperparameter epochs='2.5' is invalid: expected an integer >= 1",
            id="bad-epochs",
        ),
        pytest.param(
            {"target": "y", "learing_rate": "0.1"},
            {"data.csv": GOOD_CSV},
            "unknown hyperparameter 'learing_rate'",
            id="unknown-hyperparameter",
        ),
        pytest.param(
            {"target": "y", "optimizer": "sgd", "learning_rate": "1e30"},
            {"data.csv": GOOD_CSV},
            "training diverged at epoch 1",
            id="diverged",
        ),
        pytest.param(
            {"target": "y"},
            {"data.csv": LABELS_CSV},
            "target column 'y' has non-numeric values ('no', 'yes'; the first at data.csv line 2), so it cannot be a "
            'regression target: if it holds class labels, set problemType to "classification" '
            "(hyperparameter problem_type=classification)",
            id="labels-for-regression",
        ),
        pytest.param(
            {"target": "y", "problem_type": "classification"},
            {"data.csv": LABELS_CSV.replace("yes", "no")},
            "target column 'y' has a single class 'no'",
            id="single-class",
        ),
    ],
)
def test_bad_input_is_reported_in_the_failure_file(
    hyperparameters: dict[str, str],
    files: dict[str, str],
    expected: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    layout = make_job(tmp_path, hyperparameters, files)
    assert expected in fail(layout, monkeypatch)


def test_lines_are_numbered_as_an_editor_shows_them(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Given b.csv with a quoted field over lines 2-3, a blank line 5, and a bad value in the row that
    # starts on line 7 and, through another quoted field, ends on line 8
    rows = ['1,2,"multi\nline"', "2,3,4", "", "3,4,5", '4,oops,"six\nseven"'] + [f"{i},{i},{i}" for i in range(10)]
    layout = make_job(tmp_path, {"target": "y"}, {"a.csv": GOOD_CSV, "b.csv": "a,b,y\n" + "\n".join(rows) + "\n"})
    # Then the failure names the line on which the bad row starts
    assert "b.csv line 7, column 'b': value 'oops' is not a number" in fail(layout, monkeypatch)


def test_malformed_hyperparameters_file_is_reported(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    layout = make_job(tmp_path, {}, {"data.csv": GOOD_CSV})
    layout.hyperparameters_file.write_text("{not json")
    assert "is not valid JSON" in fail(layout, monkeypatch)


def test_an_internal_error_is_summarised_with_the_traceback_in_the_log(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given a bug inside training
    def broken(layout: Layout) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(train, "run", broken)
    layout = make_job(tmp_path, {"target": "y"}, {"data.csv": GOOD_CSV})
    # Then the failure file holds one line, and the traceback goes to the log
    assert fail(layout, monkeypatch) == "internal error: RuntimeError: boom\n"
    assert "Traceback" in capsys.readouterr().err


def test_the_entry_point_exits_with_status_1_and_a_clean_message(tmp_path: Path) -> None:
    layout = make_job(tmp_path, {"target": "price"}, {"data.csv": GOOD_CSV})
    process = subprocess.run(
        [sys.executable, "-m", "sagestep_training", "train"],
        env=container_env(layout),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert process.returncode == 1
    assert process.stderr == "training failed: " + layout.failure_file.read_text()


def test_an_unknown_command_prints_usage(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["predict"]) == 2
    assert "usage" in capsys.readouterr().err
