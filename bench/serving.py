"""Serving benchmark: ``/invocations`` over loopback HTTP against in-process prediction of the same rows.

Trains a model on the bundled regression dataset (in-process, a few seconds), compares the in-process
runtimes (torch eager, TorchScript, ONNX Runtime: the one ``serve`` uses), then starts the real
``python -m sagestep_training serve`` on a free loopback port and measures throughput and p50/p99
latency at concurrency 1 and 8 with keep-alive connections. Request counts are bounded and every
measurement also stops after ``--seconds``.

    PYTHONPATH=containers/training .venv/bin/python -m bench.serving [--requests 2000] [--seconds 20]

The client runs on the same (2-core) machine as the server and competes with it for the cores, so
the HTTP figures are a lower bound of what the server alone could do.
"""

from __future__ import annotations

import argparse
import functools
import http.client
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import torch

import sagestep_training
from sagestep_training.data import Dataset, load_dataset, split
from sagestep_training.datasets import REGRESSION_CSV, REGRESSION_TARGET
from sagestep_training.export import save_model
from sagestep_training.fit import fit
from sagestep_training.hyperparameters import Hyperparameters
from sagestep_training.layout import Layout
from sagestep_training.predictor import Predictor

BATCH_ROWS = 100
SERVED = "ONNX Runtime (served)"


@dataclass(frozen=True)
class Measurement:
    """Latencies (seconds) of one configuration and the wall time they took."""

    latencies: np.ndarray
    elapsed: float

    @property
    def throughput(self) -> float:
        return len(self.latencies) / self.elapsed

    def percentile(self, q: float) -> float:
        return float(np.percentile(self.latencies, q))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=2000, help="requests per one-row configuration")
    parser.add_argument("--seconds", type=float, default=20.0, help="time limit per configuration")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as directory:
        layout = Layout(Path(directory))
        layout.channel().mkdir(parents=True)
        shutil.copy(REGRESSION_CSV, layout.channel())
        dataset = load_dataset(layout.channel(), REGRESSION_TARGET, "regression")
        eager = _train(layout.model_dir, dataset)
        rows = dataset.features.astype(np.float32)
        payloads = {1: rows[:1], BATCH_ROWS: rows[:BATCH_ROWS]}
        in_process = _in_process(layout.model_dir, eager, payloads, args.requests, args.seconds)
        _http(layout, payloads, in_process, args.requests, args.seconds)


def _train(model_dir: Path, dataset: Dataset) -> torch.nn.Module:
    config = replace(Hyperparameters(target=REGRESSION_TARGET), epochs=30)
    result = fit(*split(dataset, config.validation_fraction, config.seed), config)
    save_model(model_dir, result, dataset, config)
    return result.model


def _in_process(
    model_dir: Path,
    eager: torch.nn.Module,
    payloads: dict[int, np.ndarray],
    requests: int,
    seconds: float,
) -> dict[int, Measurement]:
    """Prints the runtime comparison; returns the served runtime's figures, keyed by rows per call."""
    torch.set_num_threads(1)  # as onnxruntime in `serve`: one thread per request
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # TorchScript is what Neo compiles
        scripted = torch.jit.load(str(model_dir / "model.torchscript.pt"))
    predictor = Predictor(model_dir)

    def torch_runtime(module: torch.nn.Module) -> Callable[[np.ndarray], object]:
        def predict(features: np.ndarray) -> object:
            with torch.inference_mode():
                return module(torch.from_numpy(features)).tolist()

        return predict

    runtimes = {
        "torch eager": torch_runtime(eager),
        "TorchScript": torch_runtime(scripted),
        SERVED: predictor.predict,
    }
    print("in-process prediction (one thread)")
    print(f"{'runtime':<24}{'rows/call':>10}{'p50 us':>10}{'p99 us':>10}{'calls/s':>10}")
    served: dict[int, Measurement] = {}
    for rows, features in payloads.items():
        for name, predict in runtimes.items():
            measurement = _repeat(functools.partial(predict, features), requests, seconds)
            print(
                f"{name:<24}{rows:>10}{measurement.percentile(50) * 1e6:>10.1f}"
                f"{measurement.percentile(99) * 1e6:>10.1f}{measurement.throughput:>10.0f}"
            )
            if name == SERVED:
                served[rows] = measurement
    return served


def _repeat(call: Callable[[], object], count: int, seconds: float) -> Measurement:
    for _ in range(min(count, 100)):
        call()
    latencies = []
    start = time.perf_counter()
    deadline = start + seconds
    for _ in range(count):
        before = time.perf_counter()
        call()
        latencies.append(time.perf_counter() - before)
        if before > deadline:
            break
    return Measurement(np.array(latencies), time.perf_counter() - start)


def _http(
    layout: Layout, payloads: dict[int, np.ndarray], in_process: dict[int, Measurement], requests: int, seconds: float
) -> None:
    package_root = Path(sagestep_training.__file__).resolve().parent.parent
    environment = {
        **os.environ,
        "SAGESTEP_ML_ROOT": str(layout.root),
        "SAGEMAKER_BIND_TO_PORT": "0",
        "SAGESTEP_BIND_HOST": "127.0.0.1",
        "PYTHONPATH": os.pathsep.join(filter(None, [str(package_root), os.environ.get("PYTHONPATH")])),
    }
    started = time.perf_counter()
    server = subprocess.Popen(
        [sys.executable, "-m", "sagestep_training", "serve"],
        env=environment,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert server.stderr is not None
        banner = server.stderr.readline()
        port = int(banner.rsplit(":", 1)[1])
        print(f"\nserve listening after {time.perf_counter() - started:.2f} s")
        print("HTTP POST /invocations, text/csv, keep-alive connections")
        print(
            f"{'concurrency':>12}{'rows/req':>10}{'requests':>10}{'req/s':>10}{'p50 ms':>10}{'p99 ms':>10}"
            f"{'p50 / in-process':>18}{'req/s / in-process':>20}"
        )
        for rows, features in payloads.items():
            body = "\n".join(",".join(f"{value:.6g}" for value in row) for row in features).encode()
            count = requests if rows == 1 else max(1, requests // 4)
            for concurrency in (1, 8):
                measurement = _load(port, body, concurrency, count, seconds)
                reference = in_process[rows]
                print(
                    f"{concurrency:>12}{rows:>10}{len(measurement.latencies):>10}"
                    f"{measurement.throughput:>10.0f}{measurement.percentile(50) * 1e3:>10.3f}"
                    f"{measurement.percentile(99) * 1e3:>10.3f}"
                    f"{measurement.percentile(50) / reference.percentile(50):>17.1f}x"
                    f"{measurement.throughput / reference.throughput:>19.2f}x"
                )
    finally:
        server.terminate()
        server.wait(timeout=10)


def _load(port: int, body: bytes, concurrency: int, count: int, seconds: float) -> Measurement:
    """``count`` requests over ``concurrency`` keep-alive connections, stopping early at ``seconds``."""
    latencies: list[float] = []
    lock = threading.Lock()
    remaining = [count]
    deadline = time.perf_counter() + seconds
    headers = {"Content-Type": "text/csv", "Accept": "application/json"}

    def client() -> None:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        try:
            while True:
                with lock:
                    if remaining[0] <= 0 or time.perf_counter() > deadline:
                        return
                    remaining[0] -= 1
                before = time.perf_counter()
                connection.request("POST", "/invocations", body, headers)
                response = connection.getresponse()
                response.read()
                elapsed = time.perf_counter() - before
                if response.status != 200:
                    raise RuntimeError(f"/invocations answered {response.status}")
                with lock:
                    latencies.append(elapsed)
        finally:
            connection.close()

    threads = [threading.Thread(target=client) for _ in range(concurrency)]
    start = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return Measurement(np.array(latencies), time.perf_counter() - start)


if __name__ == "__main__":
    main()
