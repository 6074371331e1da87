"""A stand-in for the sagestep training container, following the same contract (docs/architecture.md), in the
standard library. The emulator tests and the orchestration benchmarks (bench/) run it where real training
would only cost time.

``python container.py train``: reads ``$SAGESTEP_ML_ROOT/input/config/hyperparameters.json`` and the CSV
files of the ``train`` channel, prints ``validation_loss=<float>;`` lines (the loss is
``(x - 3)^2 + (k - 2)^2`` for hyperparameters ``x`` and ``k``) and ``validation_abs_err_p95=<float>;``, writes
``model/model.json`` and ``output/data/summary.json``. Hyperparameters:

- ``sleep``: seconds to sleep first (a training of that duration);
- ``fail``: written to ``output/failure``, exit 1;
- ``mode=hpo``: also writes ``model/hpo_results.json`` with ``hpo_trials`` trials (in-container HPO);
- ``bias``: added to every prediction; ``crash_on_serve=true``: ``serve`` exits at start;
  ``serve_delay_seconds``: ``serve`` answers ``/ping`` with 503 that long (a server loading its model).

``python container.py serve``: HTTP on ``$SAGESTEP_BIND_HOST:$SAGEMAKER_BIND_TO_PORT``; ``GET /ping``;
``POST /invocations`` with ``text/csv`` rows or JSON ``{"instances": [[...]]}`` answers
``{"predictions": [sum(row) + bias]}`` (CSV with ``Accept: text/csv``); a malformed body gets a 400.
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


def _write_json(value: object, *parts: str) -> None:
    os.makedirs(_path(*parts[:-1]), exist_ok=True)
    with open(_path(*parts), "w") as f:
        json.dump(value, f)


def train() -> int:
    with open(_path("input", "config", "hyperparameters.json")) as f:
        given = json.load(f)
    # Through the API only the real container's names and `_*` ones pass: `_sleep` is read as `sleep`.
    hyperparameters = {**given, **{name[1:]: value for name, value in given.items() if name.startswith("_")}}
    time.sleep(float(hyperparameters.get("sleep", 0)))
    if hyperparameters.get("fail"):
        with open(_path("output", "failure"), "w") as f:
            f.write(hyperparameters["fail"])
        print("training failed", file=sys.stderr)
        return 1
    rows = []
    for path in sorted(glob.glob(_path("input", "data", "train", "**", "*.csv"), recursive=True)):
        with open(path) as f:
            rows.extend(line for line in f.read().splitlines() if line.strip())
    x = float(hyperparameters.get("x", 0))
    k = int(hyperparameters.get("k", 2))
    loss = (x - 3) ** 2 + (k - 2) ** 2
    for epoch in range(3):
        print(f"epoch {epoch}: validation_loss={loss + 2 - epoch:.6f};", flush=True)
    print(f"rows={len(rows)}")
    print(f"validation_loss={loss:.6f};", flush=True)
    print(f"validation_abs_err_p95={loss:.6f};", flush=True)
    model = {
        "bias": float(hyperparameters.get("bias", 0)),
        "rows": len(rows),
        "crash_on_serve": hyperparameters.get("crash_on_serve") == "true",
        "serve_delay_seconds": float(hyperparameters.get("serve_delay_seconds", 0)),
    }
    _write_json(model, "model", "model.json")
    if hyperparameters.get("mode") == "hpo":
        trials = [
            {"name": f"trial-{i:03d}", "hyperparameters": {"hidden_units": str(8 << i)}, "value": loss + i}
            for i in range(int(hyperparameters.get("hpo_trials", 1)))
        ]
        results = {
            "objective": {"name": "validation_abs_err_p95", "value": loss, "direction": "minimize"},
            "best_hyperparameters": trials[0]["hyperparameters"],
            "trials": [{**trial, "state": "COMPLETE"} for trial in trials],
        }
        _write_json(results, "model", "hpo_results.json")
    _write_json({"loss": loss}, "output", "data", "summary.json")
    return 0


def serve() -> int:
    with open(_path("model", "model.json")) as f:
        model = json.load(f)
    if model.get("crash_on_serve"):
        print("cannot load the model", file=sys.stderr)
        return 3
    bias = float(model.get("bias", 0))
    ready_at = time.monotonic() + float(model.get("serve_delay_seconds", 0))

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:
            pass

        def _answer(self, status: int, body: bytes, content_type: str) -> None:
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
                self._answer(200, b"{}", "application/json")

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", 0))
            body = self.rfile.read(length).decode()
            try:
                if self.headers.get("Content-Type", "").startswith("text/csv"):
                    rows = [[float(v) for v in line.split(",")] for line in body.splitlines() if line.strip()]
                else:
                    data = json.loads(body)
                    rows = data["instances"] if isinstance(data, dict) else data
                predictions = [sum(float(v) for v in row) + bias for row in rows]
            except (ValueError, KeyError, TypeError) as exc:
                self._answer(400, f"bad input: {exc}".encode(), "text/plain")
                return
            if self.headers.get("Accept") == "text/csv":
                self._answer(200, "\n".join(str(p) for p in predictions).encode(), "text/csv")
            else:
                self._answer(200, json.dumps({"predictions": predictions}).encode(), "application/json")

    host = os.environ.get("SAGESTEP_BIND_HOST", "0.0.0.0")
    port = int(os.environ.get("SAGEMAKER_BIND_TO_PORT", "8080"))
    ThreadingHTTPServer((host, port), Handler).serve_forever()
    return 0


if __name__ == "__main__":
    sys.exit({"train": train, "serve": serve}[sys.argv[1]]())
