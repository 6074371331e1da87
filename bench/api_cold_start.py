"""API Lambda cold start: import + first request of the API handler in a fresh interpreter, vs `import boto3`.

Figures are ratios to ``import boto3`` alone, measured in the same run.

The parent synthesizes the real stack (cached), starts the embedded AWS (``LocalAws``: a moto server on
127.0.0.1), provisions the template into it and seeds the jobs table with 20 model jobs of one owner
(through the real submission logic, with the execution start stubbed out). Then, for ``--rounds``
rounds, it spawns fresh ``python -c`` interpreters, each measuring inside itself with ``perf_counter``:

- (a) ``import boto3``;
- (b) ``import sagestep_service.platform.api``, then the first request ``GET /model`` (an API Gateway
  proxy event with the Cognito authorizer's claims; a real DynamoDB Query against the moto server
  through ``AWS_ENDPOINT_URL``), then a second, warm request;
- (c) ``import boto3``, ``boto3.client("dynamodb")`` and a first ``query`` of the same index.

The children get the provisioned ``Api`` function's environment (as the local runtime gives it, with
Powertools tracing and metrics disabled) and fake credentials, so no credential lookup leaves the
machine. The order of (a), (b), (c) rotates between rounds. A last child runs (b) under
``-X importtime`` to show which packages the import and the first request spend their time in.

    .venv/bin/python -m bench.api_cold_start [--rounds 7]

Bytecode caches are warm (as in a Lambda package that ships ``__pycache__``); the interpreter's own
start-up (spawn to the first measured line) and exit (result printed to process reaped) are outside
every figure and shown beside them (medians, parent's wall clock).
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import Mapping
from typing import Any

from sagestep.local.cloudformation import FunctionSpec, provision, synthesize_assembly
from sagestep.local.emulator import LocalAws
from sagestep.local.runtime import LOCAL_HANDLER_ENVIRONMENT, LOCAL_TRAINING_IMAGE, REPO

API_HANDLER = "sagestep_service.platform.api.handler"
OWNER = "3f0c9a4e-bench-owner"
SEEDED_JOBS = 20
MARK = "BENCH-RESULT "
START_MARK = "BENCH-IMPORT-START"
REQUEST_MARK = "BENCH-REQUEST-START"

CONTEXT_CLASS = """
class Context:
    function_name = "Api"
    memory_limit_in_mb = 256
    invoked_function_arn = "arn:aws:lambda:us-east-1:000000000000:function:Api"
    aws_request_id = "bench"
    @staticmethod
    def get_remaining_time_in_millis():
        return 29000
"""

CHILDREN = {
    "a": f"""
import json, sys, time
w0, t0 = time.time(), time.perf_counter()
import boto3
t1 = time.perf_counter()
print({MARK!r} + json.dumps({{"import": t1 - t0, "w0": w0, "w1": time.time()}}))
""",
    "b": f"""
import json, sys, time
{CONTEXT_CLASS}
event = json.loads(sys.argv[1])
sys.stderr.write({START_MARK!r} + "\\n"); sys.stderr.flush()
w0, t0 = time.time(), time.perf_counter()
from sagestep_service.platform.api import handler
t1 = time.perf_counter()
sys.stderr.write({REQUEST_MARK!r} + "\\n"); sys.stderr.flush()
first = handler(event, Context())
t2 = time.perf_counter()
second = handler(event, Context())
t3 = time.perf_counter()
items = len(json.loads(first["body"]).get("items", [])) if first.get("body") else -1
print({MARK!r} + json.dumps({{
    "import": t1 - t0, "first": t2 - t1, "warm": t3 - t2,
    "status": [first["statusCode"], second["statusCode"]], "items": items, "w0": w0, "w1": time.time(),
}}))
""",
    "c": f"""
import json, sys, time
query = json.loads(sys.argv[1])
w0, t0 = time.time(), time.perf_counter()
import boto3
t1 = time.perf_counter()
client = boto3.client("dynamodb")
t2 = time.perf_counter()
response = client.query(**query)
t3 = time.perf_counter()
client.query(**query)
t4 = time.perf_counter()
print({MARK!r} + json.dumps({{
    "import": t1 - t0, "client": t2 - t1, "query": t3 - t2, "warm": t4 - t3, "items": response["Count"],
    "w0": w0, "w1": time.time(),
}}))
""",
}


def api_event() -> dict[str, Any]:
    """``GET /model`` as API Gateway's proxy integration sends it after the Cognito authorizer."""
    return {
        "resource": "/model",
        "path": "/model",
        "httpMethod": "GET",
        "headers": {"Accept": "application/json", "Host": "127.0.0.1"},
        "multiValueHeaders": {"Accept": ["application/json"], "Host": ["127.0.0.1"]},
        "queryStringParameters": None,
        "multiValueQueryStringParameters": None,
        "pathParameters": None,
        "stageVariables": None,
        "body": None,
        "isBase64Encoded": False,
        "requestContext": {
            "requestId": str(uuid.uuid4()),
            "stage": "v1",
            "httpMethod": "GET",
            "resourcePath": "/model",
            "path": "/v1/model",
            "authorizer": {"claims": {"sub": OWNER, "email": "bench@example.com", "cognito:username": OWNER}},
            "identity": {"sourceIp": "127.0.0.1"},
        },
    }


def seed(api: FunctionSpec) -> None:
    """Write ``SEEDED_JOBS`` model jobs of ``OWNER`` through the real submission logic (no execution)."""
    from sagestep_service.platform import aws as service_aws
    from sagestep_service.platform import settings
    from sagestep_service.platform.jobs import JobStore
    from sagestep_service.workflows.training.models import TrainRequest
    from sagestep_service.workflows.training.settings import TrainingSettings
    from sagestep_service.workflows.training.submission import TrainingSubmitter
    from sagestep_training.datasets import REGRESSION_CSV, REGRESSION_TARGET

    class NoExecution:
        """Stands in for Step Functions: the records are what this benchmark needs, not the training."""

        def start_execution(self, stateMachineArn: str, name: str, input: str) -> dict[str, str]:
            return {"executionArn": stateMachineArn.replace(":stateMachine:", ":execution:") + f":{name}"}

    os.environ.update(api.environment)
    settings.load.cache_clear()
    service_aws.reset()
    s3 = service_aws.client("s3")
    data = api.environment["DATA_BUCKET"]
    s3.put_object(Bucket=data, Key=f"users/{OWNER}/bench/train.csv", Body=REGRESSION_CSV.read_bytes())
    training = settings.load(TrainingSettings)
    submitter = TrainingSubmitter(training, JobStore(training.jobs_table_name), NoExecution(), s3)
    request = TrainRequest(dataUri=f"s3://{data}/users/{OWNER}/bench/train.csv", target=REGRESSION_TARGET)
    for i in range(SEEDED_JOBS):
        submitter.submit_training(OWNER, request, f"bench-{i}")


def run_child(kind: str, argument: str, env: Mapping[str, str], flags: tuple[str, ...] = ()) -> dict[str, Any]:
    spawned = time.time()
    result = subprocess.run(
        [sys.executable, *flags, "-c", CHILDREN[kind], argument],
        env=dict(env),
        capture_output=True,
        text=True,
        timeout=120,
        cwd=REPO,
    )
    exited = time.time()
    if result.returncode != 0:
        raise RuntimeError(f"child ({kind}) failed with status {result.returncode}:\n{result.stderr[-3000:]}")
    line = next((line for line in result.stdout.splitlines() if line.startswith(MARK)), None)
    if line is None:
        raise RuntimeError(f"child ({kind}) printed no result:\n{result.stdout[-2000:]}\n{result.stderr[-2000:]}")
    figures: dict[str, Any] = json.loads(line[len(MARK) :])
    figures["startup"] = figures["w0"] - spawned  # spawn to the first measured line
    figures["exit"] = exited - figures["w1"]  # result printed to the process reaped
    figures["stderr"] = result.stderr
    return figures


def import_profile(stderr: str) -> tuple[collections.Counter[str], collections.Counter[str]]:
    """Self time (us) by top-level package, of the handler import and of the first request."""
    stdlib = sys.stdlib_module_names
    phases: tuple[collections.Counter[str], collections.Counter[str]] = (collections.Counter(), collections.Counter())
    phase = -1
    for line in stderr.splitlines():
        if line.startswith(START_MARK):
            phase = 0
        elif line.startswith(REQUEST_MARK):
            phase = 1
        elif phase >= 0 and line.startswith("import time:") and "|" in line:
            self_us, _, name = (part.strip() for part in line[len("import time:") :].split("|"))
            if not self_us.isdigit():
                continue  # the header line
            top = name.split(".")[0]
            phases[phase]["(stdlib)" if top in stdlib else top] += int(self_us)
    return phases


def ms(seconds: float) -> str:
    return f"{seconds * 1e3:9.1f}"


def load() -> str:
    return "load average " + " ".join(f"{value:.2f}" for value in os.getloadavg()) + f" ({os.cpu_count()} cores)"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7, help="fresh interpreters per measurement")
    args = parser.parse_args()
    print(load())
    started = time.perf_counter()
    assembly = synthesize_assembly(REPO, REPO / ".sagestep" / "synth", {"trainingImageUri": LOCAL_TRAINING_IMAGE})
    print(
        f"synthesized ({'cached' if assembly.cached else 'ran the CDK app'}) in {time.perf_counter() - started:.1f} s"
    )
    with LocalAws() as aws:
        stack = provision(
            assembly.template,
            client_factory=aws.client,
            stack_name=assembly.stack_name,
            asset_dir=assembly.directory,
            region=aws.region,
        )
        api = next(spec for spec in stack.functions.values() if spec.handler == API_HANDLER)
        seed(api)
        print(f"moto server {aws.endpoint_url}, stack provisioned and {SEEDED_JOBS} jobs seeded")
        env = {**os.environ, **api.environment, **LOCAL_HANDLER_ENVIRONMENT}
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        query = {
            "TableName": api.environment["JOBS_TABLE_NAME"],
            "IndexName": "byOwnerKind",
            "KeyConditionExpression": "ownerKind = :ownerKind",
            "ExpressionAttributeValues": {":ownerKind": {"S": f"{OWNER}#model"}},
            "ScanIndexForward": False,
            "Limit": 21,
        }
        arguments = {"a": "", "b": json.dumps(api_event()), "c": json.dumps(query)}
        for kind in "abc":  # warm the bytecode and file caches; not counted
            run_child(kind, arguments[kind], env)
        results: dict[str, list[dict[str, Any]]] = {"a": [], "b": [], "c": []}
        for round_ in range(args.rounds):
            order = "abc"[round_ % 3 :] + "abc"[: round_ % 3]
            for kind in order:
                results[kind].append(run_child(kind, arguments[kind], env))
        profile = run_child("b", arguments["b"], env, ("-X", "importtime"))
    for figures in results["b"]:
        if figures["status"] != [200, 200] or figures["items"] != SEEDED_JOBS:
            raise RuntimeError(f"GET /model answered {figures['status']} with {figures['items']} items")

    def column(kind: str, *keys: str) -> list[float]:
        return [sum(figures[key] for key in keys) for figures in results[kind]]

    a = column("a", "import")
    b = column("b", "import", "first")
    c = column("c", "import", "client", "query")
    print(f"\n{args.rounds} rounds of fresh interpreters; milliseconds measured inside each child")
    print(f"{'':<50}{'median':>9}{'min':>9}{'start-up':>9}{'exit':>9}")
    rows = [
        ("(a) import boto3", a, "a"),
        ("(b) import api handler + first GET /model", b, "b"),
        ("      import sagestep_service.platform.api", column("b", "import"), ""),
        ("      first request (clients, Query, response)", column("b", "first"), ""),
        ("      second request (warm)", column("b", "warm"), ""),
        ("(c) import boto3 + client + first query", c, "c"),
        ("      import boto3", column("c", "import"), ""),
        ("      boto3.client('dynamodb')", column("c", "client"), ""),
        ("      first query", column("c", "query"), ""),
        ("      second query (warm)", column("c", "warm"), ""),
    ]
    for label, values, kind in rows:
        process = "".join(ms(statistics.median(f[key] for f in results[kind])) for key in ("startup", "exit") if kind)
        print(f"{label:<50}{ms(statistics.median(values))}{ms(min(values))}{process}")
    print("\nratios (median / median, min / min)")
    for label, top, bottom in (("(b) / (a)", b, a), ("(b) / (c)", b, c), ("(c) / (a)", c, a)):
        median_ratio = statistics.median(top) / statistics.median(bottom)
        print(f"  {label}: {median_ratio:5.2f}x   {min(top) / min(bottom):5.2f}x")

    imports, request = import_profile(profile["stderr"])
    print(
        "\n(b) under -X importtime (one run; inflates times): self time by package, ms"
        f"\n  handler import {sum(imports.values()) / 1e3:.0f} ms, imports during the first request "
        f"{sum(request.values()) / 1e3:.0f} ms"
    )
    for title, counter in (("handler import", imports), ("first request", request)):
        heaviest = ", ".join(f"{name} {us / 1e3:.0f}" for name, us in counter.most_common(8))
        print(f"  {title}: {heaviest}")
    print(load())


if __name__ == "__main__":
    main()
