"""API Lambda cold start: import + first request of the API handler in a fresh interpreter, vs `import boto3`.

Figures are ratios to ``import boto3`` alone and to a minimal boto3 handler, measured in the same run.

The parent synthesizes the real stack (cached), starts the embedded AWS (``LocalAws``: a moto server on
127.0.0.1), provisions the template into it and seeds the jobs table with 20 model jobs of one owner
(through the real submission logic, with the execution start stubbed out). Then, for ``--rounds``
rounds, it spawns fresh ``python -c`` interpreters, each measuring inside itself with ``perf_counter`` (wall)
and ``process_time`` (CPU, less sensitive to other load on the machine):

- (a) ``import boto3``;
- (b) ``import sagestep_service.platform.api``, then the first request ``GET /model`` (an API Gateway
  proxy event with the Cognito authorizer's claims; a real DynamoDB Query against the moto server
  through ``AWS_ENDPOINT_URL``), then a second, warm request;
- (t) (b) with tracing on, as the stack deploys the function (active tracing): ``LAMBDA_TASK_ROOT`` and a
  sampled ``_X_AMZN_TRACE_ID`` set, so Powertools' ``Tracer`` loads the X-Ray SDK (which drops its marker file
  /tmp/.aws-xray/initialized), patches botocore and sends the subsegments to the daemon address 127.0.0.1:2000
  (UDP; nothing listens);
- (c) the minimal boto3 handler: ``import boto3``, ``boto3.client("dynamodb")`` and a first ``query`` of
  the same index;
- (d) the smallest handler on the same framework: Powertools' ``APIGatewayRestResolver(enable_validation=True)``
  with one ``GET /model`` route returning a pydantic page of the items (c)'s query reads: what any API built
  this way pays before its own code.

The children get the provisioned ``Api`` function's environment (as the local runtime gives it, with
Powertools tracing and metrics disabled, except in (t)) and fake credentials, so no credential lookup leaves
the machine; (b) and (t) report where they imported ``sagestep_service`` from, which must be this checkout.
The order of the cases rotates between rounds. A last child runs (b) under ``-X importtime`` to show which
packages the import and the first request spend their time in.

    .venv/bin/python -m bench.api_cold_start [--rounds 9]

Bytecode caches are warm (the Lambda asset ships no ``__pycache__``, so a deployed cold start also compiles what
it imports: bench/README.md); the interpreter's own start-up (spawn to the first measured line) and exit (result
printed to process reaped) are outside every figure and shown beside them (medians, parent's wall clock).
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
from pathlib import Path
from typing import Any

from sagestep.local.cloudformation import FunctionSpec, provision, synthesize_assembly
from sagestep.local.emulator import LocalAws
from sagestep.local.runtime import LOCAL_HANDLER_ENVIRONMENT, LOCAL_TRAINING_IMAGE, REPO

API_HANDLER = "sagestep_service.platform.api.handler"
OWNER = "3f0c9a4e-bench-owner"
SEEDED_JOBS = 20
#: What the Lambda service sets for an invocation of a function with active tracing (sampled).
TRACED_ENVIRONMENT = {
    "LAMBDA_TASK_ROOT": str(REPO / "lambdas"),
    "_X_AMZN_TRACE_ID": "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1",
    "AWS_XRAY_DAEMON_ADDRESS": "127.0.0.1:2000",
    "AWS_XRAY_CONTEXT_MISSING": "IGNORE_ERROR",
}
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

API_CHILD = f"""
import json, sys, time
{CONTEXT_CLASS}
event = json.loads(sys.argv[1])
sys.stderr.write({START_MARK!r} + "\\n"); sys.stderr.flush()
w0, t0, c0 = time.time(), time.perf_counter(), time.process_time()
from sagestep_service.platform.api import handler
t1 = time.perf_counter()
sys.stderr.write({REQUEST_MARK!r} + "\\n"); sys.stderr.flush()
first = handler(event, Context())
t2, c2 = time.perf_counter(), time.process_time()
second = handler(event, Context())
t3 = time.perf_counter()
items = len(json.loads(first["body"]).get("items", [])) if first.get("body") else -1
print({MARK!r} + json.dumps({{
    "import": t1 - t0, "first": t2 - t1, "warm": t3 - t2, "cpu": c2 - c0,
    "status": [first["statusCode"], second["statusCode"]], "items": items,
    "origin": sys.modules["sagestep_service"].__file__, "xray": "aws_xray_sdk.core" in sys.modules,
    "w0": w0, "w1": time.time(),
}}))
"""

CHILDREN = {
    "a": f"""
import json, sys, time
w0, t0, c0 = time.time(), time.perf_counter(), time.process_time()
import boto3
t1, c1 = time.perf_counter(), time.process_time()
print({MARK!r} + json.dumps({{"import": t1 - t0, "cpu": c1 - c0, "w0": w0, "w1": time.time()}}))
""",
    "b": API_CHILD,
    "t": API_CHILD,
    "c": f"""
import json, sys, time
query = json.loads(sys.argv[1])
w0, t0, c0 = time.time(), time.perf_counter(), time.process_time()
import boto3
t1 = time.perf_counter()
client = boto3.client("dynamodb")
t2 = time.perf_counter()
response = client.query(**query)
t3, c3 = time.perf_counter(), time.process_time()
client.query(**query)
t4 = time.perf_counter()
print({MARK!r} + json.dumps({{
    "import": t1 - t0, "client": t2 - t1, "query": t3 - t2, "warm": t4 - t3, "cpu": c3 - c0,
    "items": response["Count"], "w0": w0, "w1": time.time(),
}}))
""",
    "d": f"""
import json, sys, time
{CONTEXT_CLASS}
event, query = json.loads(sys.argv[1]), json.loads(sys.argv[2])
w0, t0, c0 = time.time(), time.perf_counter(), time.process_time()
import boto3
from aws_lambda_powertools.event_handler import APIGatewayRestResolver
from pydantic import BaseModel

class Job(BaseModel):
    jobId: str
    kind: str
    status: str
    createdAt: str

class Page(BaseModel):
    items: list[Job]
    nextCursor: str | None = None

app = APIGatewayRestResolver(enable_validation=True)

@app.get("/model")
def list_models() -> Page:
    items = boto3.client("dynamodb").query(**query)["Items"]
    return Page(items=[{{name: value["S"] for name, value in item.items() if "S" in value}} for item in items])

t1 = time.perf_counter()
first = app.resolve(event, Context())
t2, c2 = time.perf_counter(), time.process_time()
second = app.resolve(event, Context())
t3 = time.perf_counter()
print({MARK!r} + json.dumps({{
    "import": t1 - t0, "first": t2 - t1, "warm": t3 - t2, "cpu": c2 - c0,
    "status": [first["statusCode"], second["statusCode"]], "items": len(json.loads(first["body"])["items"]),
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


def run_child(
    kind: str, arguments: tuple[str, ...], env: Mapping[str, str], flags: tuple[str, ...] = ()
) -> dict[str, Any]:
    spawned = time.time()
    result = subprocess.run(
        [sys.executable, *flags, "-c", CHILDREN[kind], *arguments],
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
    parser.add_argument("--rounds", type=int, default=9, help="fresh interpreters per measurement")
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
        traced = {**env, **TRACED_ENVIRONMENT}
        traced.pop("POWERTOOLS_TRACE_DISABLED")
        envs = {"a": env, "b": env, "t": traced, "c": env, "d": env}
        query = {
            "TableName": api.environment["JOBS_TABLE_NAME"],
            "IndexName": "byOwnerKind",
            "KeyConditionExpression": "ownerKind = :ownerKind",
            "ExpressionAttributeValues": {":ownerKind": {"S": f"{OWNER}#model"}},
            "ScanIndexForward": False,
            "Limit": 21,
        }
        event = json.dumps(api_event())
        arguments = {"a": (), "b": (event,), "t": (event,), "c": (json.dumps(query),), "d": (event, json.dumps(query))}
        kinds = "abtcd"
        for kind in kinds:  # warm the bytecode and file caches; not counted
            run_child(kind, arguments[kind], envs[kind])
        results: dict[str, list[dict[str, Any]]] = {kind: [] for kind in kinds}
        for round_ in range(args.rounds):
            shift = round_ % len(kinds)
            for kind in kinds[shift:] + kinds[:shift]:
                results[kind].append(run_child(kind, arguments[kind], envs[kind]))
        profile = run_child("b", arguments["b"], env, ("-X", "importtime"))
    for kind in "btd":
        for figures in results[kind]:
            if figures["status"] != [200, 200] or figures["items"] != SEEDED_JOBS:
                raise RuntimeError(f"({kind}) GET /model answered {figures['status']} with {figures['items']} items")
    for kind in "bt":
        origins = {figures["origin"] for figures in results[kind]}
        if not all(Path(origin).is_relative_to(REPO / "lambdas") for origin in origins):
            raise RuntimeError(f"({kind}) imported sagestep_service from {origins}, not from {REPO / 'lambdas'}")
    if not all(figures["xray"] for figures in results["t"]):
        raise RuntimeError("(t) did not load the X-Ray SDK: tracing was not on")

    def column(kind: str, *keys: str) -> list[float]:
        return [sum(figures[key] for key in keys) for figures in results[kind]]

    totals = {
        "a": column("a", "import"),
        "b": column("b", "import", "first"),
        "t": column("t", "import", "first"),
        "c": column("c", "import", "client", "query"),
        "d": column("d", "import", "first"),
    }
    print(f"\n{args.rounds} rounds of fresh interpreters; milliseconds measured inside each child")
    print(f"{'':<50}{'median':>9}{'min':>9}{'CPU':>9}{'start-up':>9}{'exit':>9}")
    rows = [
        ("(a) import boto3", "a", ()),
        ("(b) import api handler + first GET /model", "b", ()),
        ("      import sagestep_service.platform.api", "b", ("import",)),
        ("      first request (clients, Query, response)", "b", ("first",)),
        ("      second request (warm)", "b", ("warm",)),
        ("(t) (b) with tracing on, as deployed", "t", ()),
        ("      import sagestep_service.platform.api", "t", ("import",)),
        ("      first request", "t", ("first",)),
        ("(c) import boto3 + client + first query", "c", ()),
        ("      import boto3", "c", ("import",)),
        ("      boto3.client('dynamodb')", "c", ("client",)),
        ("      first query", "c", ("query",)),
        ("      second query (warm)", "c", ("warm",)),
        ("(d) minimal Powertools handler + first GET /model", "d", ()),
        ("      import, resolver and route", "d", ("import",)),
        ("      first request (client, Query, response)", "d", ("first",)),
    ]
    for label, kind, keys in rows:
        values = column(kind, *keys) if keys else totals[kind]
        # CPU, start-up and exit are per process: shown on its total's row
        process = (
            [] if keys else [statistics.median(f[key] for f in results[kind]) for key in ("cpu", "startup", "exit")]
        )
        print(f"{label:<50}" + "".join(ms(value) for value in (statistics.median(values), min(values), *process)))
    print("\nratios (median / median, min / min; CPU median / median)")
    for top, bottom in ("ba", "bc", "ta", "tc", "ca", "dc", "bd"):
        wall_top, wall_bottom = totals[top], totals[bottom]
        cpu_top, cpu_bottom = (statistics.median(f["cpu"] for f in results[kind]) for kind in (top, bottom))
        print(
            f"  ({top}) / ({bottom}): {statistics.median(wall_top) / statistics.median(wall_bottom):5.2f}x  "
            f"{min(wall_top) / min(wall_bottom):5.2f}x   CPU {cpu_top / cpu_bottom:5.2f}x"
        )

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
