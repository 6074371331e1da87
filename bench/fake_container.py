"""A stand-in training/serving container with controllable durations, for the orchestration benchmarks.

It follows the container contract of docs/architecture.md, standard library only, and is run as a script
(``python bench/fake_container.py train|serve``), like ``tests/local/fake_container/container.py``:

- ``train``: reads ``$SAGESTEP_ML_ROOT/input/config/hyperparameters.json`` and the ``train`` channel's CSV
  files, sleeps ``train_seconds`` (default 0), prints ``validation_loss=<float>;`` lines and
  ``validation_abs_err_p95=<float>;`` and writes ``model/model.json`` (keeping ``serve_delay_seconds``
  for ``serve``) and ``output/data/summary.json``. With ``mode=hpo`` it also writes
  ``model/hpo_results.json`` with ``hpo_trials`` trials. Hyperparameter ``fail`` writes its value to
  ``output/failure`` and exits 1.
- ``serve``: HTTP on ``$SAGESTEP_BIND_HOST:$SAGEMAKER_BIND_TO_PORT`` at once, but ``GET /ping`` answers
  503 until ``serve_delay_seconds`` have passed (a model server loading its model), then 200.
  ``POST /invocations`` (``text/csv`` rows or JSON ``{"instances": [[...]]}``) answers
  ``{"predictions": [sum(row)]}``.
"""

import glob
import json
import os
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

ROOT = os.environ.get("SAGESTEP_ML_ROOT", "/opt/ml")


def _path(*parts: str) -> str:
    return os.path.join(ROOT, *parts)


def train() -> int:
    with open(_path("input", "config", "hyperparameters.json")) as f:
        hyperparameters = json.load(f)
    if hyperparameters.get("fail"):
        with open(_path("output", "failure"), "w") as f:
            f.write(hyperparameters["fail"])
        return 1
    rows = 0
    for path in sorted(glob.glob(_path("input", "data", "train", "**", "*.csv"), recursive=True)):
        with open(path) as f:
            rows += sum(1 for line in f if line.strip()) - 1  # without the header row
    time.sleep(float(hyperparameters.get("train_seconds", 0)))
    loss = 1.0 / (1 + rows)
    for epoch in range(3):
        print(f"epoch {epoch}: validation_loss={loss * (3 - epoch):.6f};", flush=True)
    print(f"validation_abs_err_p95={loss:.6f};", flush=True)
    os.makedirs(_path("model"), exist_ok=True)
    with open(_path("model", "model.json"), "w") as f:
        json.dump({"rows": rows, "serve_delay_seconds": float(hyperparameters.get("serve_delay_seconds", 0))}, f)
    if hyperparameters.get("mode") == "hpo":
        trials = [
            {
                "name": f"trial-{i:03d}",
                "hyperparameters": {"hidden_units": str(8 << i)},
                "value": loss + i,
                "state": "COMPLETE",
            }
            for i in range(int(hyperparameters.get("hpo_trials", 1)))
        ]
        results = {
            "objective": {"name": "validation_abs_err_p95", "value": loss, "direction": "minimize"},
            "best_hyperparameters": trials[0]["hyperparameters"],
            "trials": trials,
        }
        with open(_path("model", "hpo_results.json"), "w") as f:
            json.dump(results, f)
    os.makedirs(_path("output", "data"), exist_ok=True)
    with open(_path("output", "data", "summary.json"), "w") as f:
        json.dump({"loss": loss}, f)
    return 0


def serve() -> int:
    with open(_path("model", "model.json")) as f:
        model = json.load(f)
    ready_at = time.monotonic() + float(model.get("serve_delay_seconds", 0))

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:
            pass

        def _answer(self, status: int, body: bytes, content_type: str = "application/json") -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self) -> None:
            if self.path != "/ping":
                self._answer(404, b"not found", "text/plain")
            elif time.monotonic() < ready_at:
                self._answer(503, b"loading", "text/plain")
            else:
                self._answer(200, b"{}")

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", 0))).decode()
            try:
                if self.headers.get("Content-Type", "").startswith("text/csv"):
                    rows = [[float(v) for v in line.split(",")] for line in body.splitlines() if line.strip()]
                else:
                    data = json.loads(body)
                    rows = data["instances"] if isinstance(data, dict) else data
                predictions = [sum(float(v) for v in row) for row in rows]
            except (ValueError, KeyError, TypeError) as exc:
                self._answer(400, f"bad input: {exc}".encode(), "text/plain")
                return
            self._answer(200, json.dumps({"predictions": predictions}).encode())

    host = os.environ.get("SAGESTEP_BIND_HOST", "0.0.0.0")
    port = int(os.environ.get("SAGEMAKER_BIND_TO_PORT", "8080"))
    ThreadingHTTPServer((host, port), Handler).serve_forever()
    return 0


if __name__ == "__main__":
    sys.exit({"train": train, "serve": serve}[sys.argv[1]]())
