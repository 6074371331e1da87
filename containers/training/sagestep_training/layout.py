"""Paths of SageMaker's container directory layout, rooted at ``$SAGESTEP_ML_ROOT`` (default ``/opt/ml``).

The local runtime runs the container as a plain process and points ``SAGESTEP_ML_ROOT`` at a job folder,
so every path the container touches comes from here.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

ROOT_ENV = "SAGESTEP_ML_ROOT"
DEFAULT_ROOT = "/opt/ml"
TRAIN_CHANNEL = "train"


@dataclass(frozen=True)
class Layout:
    """The directories and files of one job under ``root``."""

    root: Path

    @classmethod
    def from_env(cls) -> Layout:
        """The layout rooted at ``$SAGESTEP_ML_ROOT``, or at ``/opt/ml`` as in a SageMaker container."""
        return cls(Path(os.environ.get(ROOT_ENV, DEFAULT_ROOT)))

    @property
    def hyperparameters_file(self) -> Path:
        return self.root / "input" / "config" / "hyperparameters.json"

    def channel(self, name: str = TRAIN_CHANNEL) -> Path:
        """The folder SageMaker downloads an input channel's S3 data into."""
        return self.root / "input" / "data" / name

    @property
    def model_dir(self) -> Path:
        """Packed by SageMaker into ``model.tar.gz``: what ``serve`` loads."""
        return self.root / "model"

    @property
    def failure_file(self) -> Path:
        return self.root / "output" / "failure"

    @property
    def output_data_dir(self) -> Path:
        """Packed by SageMaker into ``output.tar.gz``: by-products that serving does not need."""
        return self.root / "output" / "data"
