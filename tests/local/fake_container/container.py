"""A tiny stand-in for the sagestep training container, following the same contract.

``python container.py train``: reads ``$SAGESTEP_ML_ROOT/input/config/hyperparameters.json`` and the CSV
files of the ``train`` channel, prints ``validation_loss=<float>;`` lines (the loss is
``(x - 3)^2 + (k - 2)^2`` for hyperparameters ``x`` and ``k``), writes ``model/model.json`` and
``output/data/summary.json``. Hyperparameter ``fail`` writes its value to ``output/failure`` and exits 1;
``sleep`` sleeps that many seconds first; ``crash_on_serve=true`` makes ``serve`` exit at start.

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


def train() -> int:
    with open(os.path.join(ROOT, "input", "config", "hyperparameters.json")) as f:
        hyperparameters = json.load(f)
    time.sleep(float(hyperparameters.get("sleep", 0)))
    if hyperparameters.get("fail"):
        with open(os.path.join(ROOT, "output", "failure"), "w") as f:
            f.write(hyperparameters["fail"])
        print("training failed", file=sys.stderr)
        return 1
    rows = []
    for path in sorted(glob.glob(os.path.join(ROOT, "input", "data", "train", "**", "*.csv"), recursive=True)):
        with open(path) as f:
            rows.extend(line for line in f.read().splitlines() if line.strip())
    x = float(hyperparameters.get("x", 0))
    k = int(hyperparameters.get("k", 2))
    loss = (x - 3) ** 2 + (k - 2) ** 2
    for epoch in range(3):
        print(f"epoch {epoch}: validation_loss={loss + 2 - epoch:.6f};", flush=True)
    print(f"rows={len(rows)}")
    print(f"validation_loss={loss:.6f};", flush=True)
    model = {
        "bias": float(hyperparameters.get("bias", 0)),
        "rows": len(rows),
        "crash_on_serve": hyperparameters.get("crash_on_serve") == "true",
    }
    with open(os.path.join(ROOT, "model", "model.json"), "w") as f:
        json.dump(model, f)
    with open(os.path.join(ROOT, "output", "data", "summary.json"), "w") as f:
        json.dump({"loss": loss}, f)
    return 0


def serve() -> int:
    with open(os.path.join(ROOT, "model", "model.json")) as f:
        model = json.load(f)
    if model.get("crash_on_serve"):
        print("cannot load the model", file=sys.stderr)
        return 3

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
            if self.path == "/ping":
                self._answer(200, b"{}", "application/json")
            else:
                self._answer(404, b"not found", "text/plain")

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", 0))
            body = self.rfile.read(length).decode()
            try:
                if self.headers.get("Content-Type", "").startswith("text/csv"):
                    rows = [[float(v) for v in line.split(",")] for line in body.splitlines() if line.strip()]
                else:
                    data = json.loads(body)
                    rows = data["instances"] if isinstance(data, dict) else data
                predictions = [sum(float(v) for v in row) + model["bias"] for row in rows]
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
