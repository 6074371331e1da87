"""State transitions per training run as simulated training and deployment times grow 10x: the count must not grow.

Runs the real training state machine in the local runtime (``LocalRuntime``: the synthesized stack, the
real Lambda handlers, the REST API with Cognito), with the tests' stand-in container
(``tests/local/fake_container/container.py``) as the training image:
training sleeps T seconds and the endpoint answers ``/ping`` only after D seconds. For (T, D) = (1, 1)
and (10, 10) it submits a TRAIN job through the HTTP API, waits for READY and the end of the execution,
then reads the execution history (paginated) and counts events, state transitions (``*StateEntered``
events, what Step Functions Standard bills) and Lambda invocations (every backend function, counted in
the in-process Lambda registry; the API's own invocations are not included). The same is done for an
HPO job with the in-container strategy (one training job, T seconds, no endpoint) and, unless
``--no-tuning``, with a native SageMaker tuning job (2 trials of T seconds, 2 in parallel).

    .venv/bin/python -m bench.transitions [--short 1] [--long 10]

The .sync SageMaker tasks and the event-driven endpoint wait (``waitForTaskToken``) should keep the
count constant, so the printed ratio (long / short) is expected to be 1.00. Cost is at Step Functions
Standard's $0.025 per 1,000 state transitions.
"""

from __future__ import annotations

import argparse
import collections
import itertools
import json
import logging
import os
import sys
import threading
import time
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sagestep.client import CognitoAuth, SagestepClient
from sagestep.local.lambdas import LambdaRegistry, RegisteredFunction
from sagestep.local.runtime import LOCAL_TRAINING_IMAGE, LocalRuntime
from sagestep.local.services.sagemaker import SageMakerEmulator
from sagestep_service.workflows.training.models import TrainingJobView
from sagestep_training.datasets import REGRESSION_CSV, REGRESSION_TARGET

#: The tests' stand-in container (training and serving durations set by hyperparameters).
FAKE_CONTAINER = [
    sys.executable,
    str(Path(__file__).resolve().parents[1] / "tests" / "local" / "fake_container" / "container.py"),
]
PRICE_PER_TRANSITION = 0.025 / 1000
TERMINAL_EXECUTION = {"SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED"}


class LambdaCounter:
    """Counts every invocation of a backend Lambda function (state machine tasks, EventBridge targets),
    and those that raised."""

    def __init__(self, registry: LambdaRegistry) -> None:
        self._lock = threading.Lock()
        self._counts: collections.Counter[str] = collections.Counter()
        self.errors: collections.Counter[str] = collections.Counter()
        original = registry.call

        def call(function: RegisteredFunction, event: Any) -> tuple[bytes, str | None]:
            payload, error = original(function, event)
            with self._lock:
                self._counts[function.name] += 1
                if error:
                    details = json.loads(payload)
                    message = " ".join(str(details.get("errorMessage", "")).split())[:100]
                    self.errors[f"{function.name}: {details.get('errorType')}: {message}"] += 1
            return payload, error

        setattr(registry, "call", call)  # noqa: B010 (an instance attribute shadows the method)

    def snapshot(self) -> collections.Counter[str]:
        with self._lock:
            return collections.Counter(self._counts)


class ServerErrors(logging.Filter):
    """Counts (and keeps off the console) the moto server's "Error on request" tracebacks, by last line."""

    def __init__(self) -> None:
        super().__init__()
        self.counts: collections.Counter[str] = collections.Counter()

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if not message.startswith("Error on request"):
            return True
        self.counts[message.strip().splitlines()[-1]] += 1
        return False

    def report(self) -> str:
        return "none" if not self.counts else "; ".join(f"{n} x {line}" for line, n in self.counts.items())


@dataclass
class Bench:
    """A started local runtime with the fake container, a signed-in API client and uploaded data."""

    runtime: LocalRuntime
    client: SagestepClient
    data_uri: str
    lambdas: LambdaCounter
    server_errors: ServerErrors
    state_machine_arn: str
    real_container: list[str]

    def use_fake_container(self, fake: bool) -> None:
        """Switch the training image's command (read by the emulator at each job and endpoint start)."""
        commands = self.runtime.aws.service(SageMakerEmulator).container_commands
        commands[LOCAL_TRAINING_IMAGE] = FAKE_CONTAINER if fake else self.real_container

    def execution_arn(self, job_id: str) -> str:
        return self.state_machine_arn.replace(":stateMachine:", ":execution:") + f":{job_id}"

    def wait_execution(self, job_id: str, timeout: float) -> str:
        sfn = self.runtime.client("stepfunctions")
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            status = str(sfn.describe_execution(executionArn=self.execution_arn(job_id))["status"])
            if status in TERMINAL_EXECUTION:
                return status
            time.sleep(0.1)
        raise TimeoutError(f"execution {job_id} still running after {timeout:g} s")

    def history(self, job_id: str) -> list[dict[str, Any]]:
        paginator = self.runtime.client("stepfunctions").get_paginator("get_execution_history")
        events: list[dict[str, Any]] = []
        for page in paginator.paginate(executionArn=self.execution_arn(job_id), PaginationConfig={"PageSize": 100}):
            events.extend(page["events"])
        return events


@contextmanager
def local_bench(sync_poll_interval: float = 0.25) -> Iterator[Bench]:
    """A ``LocalRuntime`` on free loopback ports, stopped at exit."""
    runtime = LocalRuntime(port=0, sync_poll_interval=sync_poll_interval)
    server_errors = ServerErrors()
    logging.getLogger("werkzeug").addFilter(server_errors)
    info = runtime.start()
    try:
        api = next(spec for spec in runtime.stack.functions.values() if spec.handler.endswith(".api.handler"))
        auth = CognitoAuth(info.user_pool_client_id, info.username, info.password, info.region, info.aws_endpoint_url)
        commands = runtime.aws.service(SageMakerEmulator).container_commands
        with SagestepClient(info.api_url, auth) as client:
            bench = Bench(
                runtime=runtime,
                client=client,
                data_uri=client.upload(REGRESSION_CSV, f"bench/{REGRESSION_CSV.name}"),
                lambdas=LambdaCounter(runtime.aws.lambdas),
                server_errors=server_errors,
                state_machine_arn=api.environment["TRAINING_STATE_MACHINE_ARN"],
                real_container=list(commands[LOCAL_TRAINING_IMAGE]),
            )
            bench.use_fake_container(True)
            yield bench
    finally:
        runtime.stop()
        logging.getLogger("werkzeug").removeFilter(server_errors)


def parse_time(value: str) -> float:
    """Epoch seconds of an ISO 8601 timestamp of a job's history (``...Z``)."""
    return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()


def phases(job: TrainingJobView) -> dict[str, float]:
    """Seconds from each status to the next one, from the job's history (server-side timestamps)."""
    changes = [(change.status, parse_time(change.at)) for change in job.history]
    return {status: later - at for (status, at), (_, later) in itertools.pairwise(changes)}


def load() -> str:
    return "load average " + " ".join(f"{value:.2f}" for value in os.getloadavg()) + f" ({os.cpu_count()} cores)"


@dataclass(frozen=True)
class Run:
    label: str
    t: float
    d: float | None
    wall: float
    events: int
    transitions: int
    lambdas: int
    lambda_detail: Mapping[str, int]
    event_types: collections.Counter[str]
    train_seconds: float
    deploy_seconds: float | None


def run_job(bench: Bench, mode: str, t: float, d: float, timeout: float) -> Run:
    """Submit one job, wait for its end status and its execution; count what it cost."""
    bench.runtime.wait_idle(30)
    before = bench.lambdas.snapshot()
    key = f"bench-{uuid.uuid4()}"
    start = time.perf_counter()
    if mode == "TRAIN":
        job = bench.client.train(
            dataUri=bench.data_uri,
            target=REGRESSION_TARGET,
            hyperparameters={"_sleep": t, "_serve_delay_seconds": d},
            idempotency_key=key,
        )
        wanted = {"READY"}
    else:
        job = bench.client.hpo(
            dataUri=bench.data_uri,
            target=REGRESSION_TARGET,
            strategy=mode,
            maxTrials=2 if mode == "sagemaker" else 3,
            maxParallelTrials=2 if mode == "sagemaker" else 1,
            hyperparameters={"_sleep": t},
            idempotency_key=key,
        )
        wanted = {"HPO_COMPLETED"}
    job = bench.client.wait(job.jobId, until=wanted | {"ERROR"}, timeout=timeout, poll_interval=0.1)
    wall = time.perf_counter() - start
    if job.status not in wanted:
        raise RuntimeError(f"{job.jobId} ended {job.status}: {job.error} {job.errorCause}")
    status = bench.wait_execution(job.jobId, timeout=60)
    if status != "SUCCEEDED":
        raise RuntimeError(f"execution of {job.jobId} ended {status}")
    bench.runtime.wait_idle(30)
    calls = bench.lambdas.snapshot() - before
    events = bench.history(job.jobId)
    types = collections.Counter(str(event["type"]) for event in events)
    durations = phases(job)
    if mode == "TRAIN":
        train_seconds = durations.get("TRAINING_MODEL", 0.0)
        deploy_seconds: float | None = durations.get("DEPLOYING_ENDPOINT", 0.0)
    else:
        train_seconds, deploy_seconds = durations.get("HPO_RUNNING", 0.0), None
    return Run(
        label=mode if mode == "TRAIN" else f"HPO {mode}",
        t=t,
        d=d if mode == "TRAIN" else None,
        wall=wall,
        events=len(events),
        transitions=sum(n for name, n in types.items() if name.endswith("StateEntered")),
        lambdas=sum(calls.values()),
        lambda_detail=dict(sorted(calls.items())),
        event_types=types,
        train_seconds=train_seconds,
        deploy_seconds=deploy_seconds,
    )


def print_table(runs: list[Run]) -> None:
    print(
        f"{'job':<18}{'T s':>6}{'D s':>6}{'wall s':>8}{'train s':>9}{'deploy s':>10}"
        f"{'events':>8}{'transitions':>13}{'lambdas':>9}{'$/run':>11}{'$/1k runs':>11}"
    )
    for run in runs:
        cost = run.transitions * PRICE_PER_TRANSITION
        d = "-" if run.d is None else f"{run.d:g}"
        deploy = "-" if run.deploy_seconds is None else f"{run.deploy_seconds:.2f}"
        print(
            f"{run.label:<18}{run.t:>6g}{d:>6}{run.wall:>8.2f}{run.train_seconds:>9.2f}{deploy:>10}"
            f"{run.events:>8}{run.transitions:>13}{run.lambdas:>9}{cost:>11.6f}{cost * 1000:>11.3f}"
        )


def compare(short: Run, long: Run) -> None:
    ratio = long.transitions / short.transitions
    print(
        f"{short.label}: transitions long/short = {ratio:.2f} (expected 1.00), "
        f"events {long.events / short.events:.2f}, Lambda invocations {long.lambdas / max(short.lambdas, 1):.2f}"
    )
    if short.event_types != long.event_types:
        grown = {
            name: (short.event_types[name], long.event_types[name])
            for name in sorted(set(short.event_types) | set(long.event_types))
            if short.event_types[name] != long.event_types[name]
        }
        print(f"  history events that differ (short, long): {grown}")
    if short.lambda_detail != long.lambda_detail:
        print(f"  Lambda invocations by function: short {short.lambda_detail}, long {long.lambda_detail}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--short", type=float, default=1.0, help="T and D of the short run (seconds)")
    parser.add_argument("--long", type=float, default=10.0, help="T and D of the long run (seconds)")
    parser.add_argument("--no-tuning", action="store_true", help="skip the native SageMaker tuning job")
    parser.add_argument("--timeout", type=float, default=300.0, help="limit per job (seconds)")
    args = parser.parse_args()
    print(load())
    started = time.perf_counter()
    modes = ["TRAIN", "in-container"] + ([] if args.no_tuning else ["sagemaker"])
    with local_bench() as bench:
        print(f"local runtime started in {time.perf_counter() - started:.1f} s; container: {FAKE_CONTAINER[1]}")
        warm_up = run_job(bench, "TRAIN", 0, 0, args.timeout)
        print(f"warm-up TRAIN job (T = D = 0, not in the table): {warm_up.wall:.2f} s\n")
        pairs = [
            (
                run_job(bench, mode, args.short, args.short, args.timeout),
                run_job(bench, mode, args.long, args.long, args.timeout),
            )
            for mode in modes
        ]
    print_table([run for pair in pairs for run in pair])
    print()
    for short, long in pairs:
        compare(short, long)
    train_short = pairs[0][0]
    print(f"\nLambda invocations per TRAIN run by function: {dict(train_short.lambda_detail)}")
    transitions = {name: n for name, n in train_short.event_types.items() if name.endswith("StateEntered")}
    print(f"state transitions per TRAIN run by state type: {transitions}")
    print(f"Lambda errors: {dict(bench.lambdas.errors) or 'none'}; moto server errors: {bench.server_errors.report()}")
    print(load())


if __name__ == "__main__":
    main()
