"""Fixtures for the training container: jobs in SageMaker's layout, run through the real entry points.

Each bundled dataset is split into a training part (written to the job's ``train`` channel) and a
held-out part that only the tests see, so model quality is judged on rows the job never touched.
Trained jobs and running servers are session-scoped: training happens once per dataset.
"""

from __future__ import annotations

import http.client
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

import sagestep_training
from sagestep_training.__main__ import main
from sagestep_training.datasets import (
    CLASSIFICATION_CSV,
    CLASSIFICATION_TARGET,
    REGRESSION_CSV,
    REGRESSION_TARGET,
)
from sagestep_training.layout import Layout

PACKAGE_ROOT = Path(sagestep_training.__file__).resolve().parent.parent
HELD_OUT_ROWS = 100
QUICK = {"epochs": "40", "early_stopping_patience": "10"}
"""Enough epochs for the bundled datasets to beat the baselines by a wide margin, in about a second."""


def make_job(root: Path, hyperparameters: dict[str, str], files: dict[str, str]) -> Layout:
    """A job folder with ``hyperparameters.json`` and the ``train`` channel's files (name -> text)."""
    layout = Layout(root)
    layout.hyperparameters_file.parent.mkdir(parents=True, exist_ok=True)
    layout.hyperparameters_file.write_text(json.dumps(hyperparameters))
    layout.channel().mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (layout.channel() / name).write_text(text)
    return layout


def container_env(layout: Layout, **extra: str) -> dict[str, str]:
    """The environment of a container process: the layout root, and the package importable."""
    path = os.pathsep.join(filter(None, [str(PACKAGE_ROOT), os.environ.get("PYTHONPATH")]))
    return {**os.environ, "SAGESTEP_ML_ROOT": str(layout.root), "PYTHONPATH": path, **extra}


def run_train(layout: Layout) -> subprocess.CompletedProcess[str]:
    """``python -m sagestep_training train`` as the image's ``bin/train`` runs it."""
    return subprocess.run(
        [sys.executable, "-m", "sagestep_training", "train"],
        env=container_env(layout),
        capture_output=True,
        text=True,
        timeout=180,
    )


def train_in_process(layout: Layout, monkeypatch: pytest.MonkeyPatch) -> int:
    """The ``train`` entry point in this process: the same code path without paying torch's import
    time again; returns the exit status."""
    monkeypatch.setenv("SAGESTEP_ML_ROOT", str(layout.root))
    return main(["train"])


@dataclass(frozen=True)
class HeldOut:
    """Rows the job did not see: features as CSV lines (no header, no target) and their targets."""

    feature_lines: list[str]
    targets: list[str]
    train_targets: list[str]


@dataclass(frozen=True)
class TrainedJob:
    layout: Layout
    process: subprocess.CompletedProcess[str]
    held_out: HeldOut


def split_csv(text: str, target: str) -> tuple[str, HeldOut]:
    """The CSV without its last ``HELD_OUT_ROWS`` rows, and those rows."""
    header, *rows = text.splitlines()
    position = header.split(",").index(target)
    train, test = rows[:-HELD_OUT_ROWS], rows[-HELD_OUT_ROWS:]

    def without_target(row: str) -> str:
        cells = row.split(",")
        return ",".join(cells[:position] + cells[position + 1 :])

    held_out = HeldOut(
        feature_lines=[without_target(row) for row in test],
        targets=[row.split(",")[position] for row in test],
        train_targets=[row.split(",")[position] for row in train],
    )
    return "\n".join([header, *train]) + "\n", held_out


def train_bundled(root: Path, csv_file: Path, hyperparameters: dict[str, str]) -> TrainedJob:
    train_text, held_out = split_csv(csv_file.read_text(), hyperparameters["target"])
    layout = make_job(root, hyperparameters, {csv_file.name: train_text})
    process = run_train(layout)
    assert process.returncode == 0, process.stderr
    return TrainedJob(layout, process, held_out)


@pytest.fixture(scope="session")
def regression_job(tmp_path_factory: pytest.TempPathFactory) -> TrainedJob:
    return train_bundled(tmp_path_factory.mktemp("regression"), REGRESSION_CSV, {"target": REGRESSION_TARGET, **QUICK})


@pytest.fixture(scope="session")
def classification_job(tmp_path_factory: pytest.TempPathFactory) -> TrainedJob:
    return train_bundled(
        tmp_path_factory.mktemp("classification"),
        CLASSIFICATION_CSV,
        {"target": CLASSIFICATION_TARGET, "problem_type": "classification", **QUICK},
    )


class Server:
    """A running ``python -m sagestep_training serve`` on a free loopback port."""

    def __init__(self, layout: Layout) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "sagestep_training", "serve"],
            env=container_env(layout, SAGEMAKER_BIND_TO_PORT="0", SAGESTEP_BIND_HOST="127.0.0.1"),
            stderr=subprocess.PIPE,
            text=True,
        )
        assert self.process.stderr is not None
        banner = self.process.stderr.readline()
        assert "serving" in banner, banner
        self.port = int(banner.rsplit(":", 1)[1])

    def request(
        self, method: str, path: str, body: bytes | None = None, headers: dict[str, str] | None = None
    ) -> tuple[int, dict[str, str], bytes]:
        """Status, headers and body of one request on a fresh connection."""
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        try:
            connection.request(method, path, body, headers or {})
            response = connection.getresponse()
            return response.status, dict(response.getheaders()), response.read()
        finally:
            connection.close()

    def invoke(self, body: str, content_type: str, accept: str = "application/json") -> tuple[int, bytes]:
        status, _, payload = self.request(
            "POST", "/invocations", body.encode(), {"Content-Type": content_type, "Accept": accept}
        )
        return status, payload

    def predict_csv(self, lines: list[str]) -> list[object]:
        status, payload = self.invoke("\n".join(lines), "text/csv")
        assert status == 200, payload
        return json.loads(payload)["predictions"]

    def stop(self) -> int:
        """SIGTERM, as SageMaker and the local runtime stop a container; returns the exit status."""
        self.process.terminate()
        status = self.process.wait(timeout=10)
        assert self.process.stderr is not None
        self.process.stderr.close()
        return status


@pytest.fixture(scope="session")
def regression_server(regression_job: TrainedJob) -> Iterator[Server]:
    server = Server(regression_job.layout)
    yield server
    assert server.stop() == 0


@pytest.fixture(scope="session")
def classification_server(classification_job: TrainedJob) -> Iterator[Server]:
    server = Server(classification_job.layout)
    yield server
    assert server.stop() == 0


def rmse(actual: np.ndarray, predicted: np.ndarray) -> float:
    return float(np.sqrt(np.mean((actual - predicted) ** 2)))
