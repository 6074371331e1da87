"""Executions per second of the training state machine in the local runtime, and time from POST to READY.

Starts a ``LocalRuntime`` (synthesized stack, real handlers, REST API with Cognito) with
``tests/local/fake_container/container.py`` as the training image (training and endpoint start instant), then:

1. a warm-up job, then ``--singles`` jobs one after the other: the baseline time-to-READY of a job alone;
2. ``--jobs`` K jobs submitted back to back (``POST /model``, distinct ``Idempotency-Key``), waited for
   until each has reached READY: executions/s (K over first POST to last READY) and p50/p95
   time-to-READY, as a ratio to the job alone; the statuses' durations (from the job's history) show
   where the time goes. The emulator runs 2 training jobs at once (``LocalAws``'s default);
   ``MAX_ENDPOINTS`` (5) makes the last deployments evict the first endpoints (their jobs then show
   ``ENDPOINT_DELETED``: they reached READY first). Then, once the work has settled: endpoints left
   InService against ``MAX_ENDPOINTS``, READY jobs whose endpoint is gone, Lambda errors (by function,
   type and message), moto server errors, and the CPU time of moto's ASL parse that every execution
   start repeats;
3. one job with the real container (``python -m sagestep_training``) on the bundled regression sample
   (``--epochs``): time from POST to READY, as a ratio to the fake container's job alone.

    .venv/bin/python -m bench.runtime_throughput [--jobs 20] [--singles 3] [--epochs 30]

Time-to-READY is measured from the client's clock before the POST to the READY entry of the job's
history (written by the state machine, same machine clock). Every wait is bounded by ``--timeout``.
"""

from __future__ import annotations

import argparse
import statistics
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from bench.transitions import Bench, load, local_bench, parse_time, phases
from sagestep_service.workflows.training.models import TrainingJobView
from sagestep_training.datasets import REGRESSION_CSV, REGRESSION_TARGET

PHASES = ("SUBMITTED", "TRAINING_MODEL", "CREATING_MODEL", "CONFIGURING_ENDPOINT", "DEPLOYING_ENDPOINT")


@dataclass(frozen=True)
class Submitted:
    job_id: str
    at: float  # epoch seconds before the POST
    post_seconds: float


@dataclass(frozen=True)
class Finished:
    job: TrainingJobView
    submitted: Submitted

    @property
    def to_ready(self) -> float:
        ready = next(change.at for change in self.job.history if change.status == "READY")
        return parse_time(ready) - self.submitted.at


def submit(bench: Bench, hyperparameters: dict[str, str | int | float]) -> Submitted:
    at = time.time()
    before = time.perf_counter()
    job = bench.client.train(
        dataUri=bench.data_uri,
        target=REGRESSION_TARGET,
        hyperparameters=hyperparameters,
        idempotency_key=f"bench-{uuid.uuid4()}",
    )
    return Submitted(job.jobId, at, time.perf_counter() - before)


def wait_ready(bench: Bench, submitted: Iterable[Submitted], timeout: float) -> list[Finished]:
    """Poll the job listing until every job has reached READY (it may have been evicted since)."""
    pending = {s.job_id: s for s in submitted}
    finished: list[Finished] = []
    deadline = time.monotonic() + timeout
    while pending:
        if time.monotonic() > deadline:
            raise TimeoutError(f"{len(pending)} jobs not READY after {timeout:g} s: {sorted(pending)[:3]} ...")
        for job in bench.client.iter_models(page_size=100):
            if job.jobId not in pending:
                continue
            if job.status == "ERROR":
                raise RuntimeError(f"{job.jobId} failed: {job.error} {job.errorCause}")
            if any(change.status == "READY" for change in job.history):
                finished.append(Finished(job, pending.pop(job.jobId)))
        if pending:
            time.sleep(0.25)
    return finished


def percentile(values: list[float], q: float) -> float:
    return float(np.percentile(values, q))


def phase_line(label: str, finished: list[Finished]) -> str:
    durations = [phases(f.job) for f in finished]
    cells = "".join(f"{statistics.median(d.get(name, 0.0) for d in durations):>11.2f}" for name in PHASES)
    return f"{label:<26}{cells}"


def integrity(bench: Bench) -> str:
    """Endpoints left in service and READY jobs whose endpoint is gone, once the work has settled."""
    bench.runtime.wait_idle(60)
    time.sleep(1.0)  # the executions' last states (notification) after READY
    pages = bench.runtime.client("sagemaker").get_paginator("list_endpoints").paginate(StatusEquals="InService")
    in_service = {endpoint["EndpointName"] for page in pages for endpoint in page["Endpoints"]}
    limit = next(
        spec.environment["MAX_ENDPOINTS"]
        for spec in bench.runtime.stack.functions.values()
        if "MAX_ENDPOINTS" in spec.environment
    )
    ready = [job for job in bench.client.iter_models(page_size=100) if job.status == "READY"]
    orphans = [job for job in ready if job.resources.get("endpointName") not in in_service]
    return (
        f"settled: {len(in_service)} endpoints InService (MAX_ENDPOINTS {limit}), {len(ready)} jobs READY, "
        f"{len(orphans)} of them READY without an endpoint {[job.jobId for job in orphans][:3] or ''}"
    )


def parse_seconds(bench: Bench, repeat: int = 3) -> float:
    """CPU time of moto's ASL parse of the training state machine, which moto repeats at every execution start
    (``ExecutionWorker._get_evaluation_entrypoint``), in the runtime's process; the fastest of ``repeat``."""
    from moto.stepfunctions.parser.asl.parse.asl_parser import AmazonStateLanguageParser

    sfn = bench.runtime.client("stepfunctions")
    definition = sfn.describe_state_machine(stateMachineArn=bench.state_machine_arn)["definition"]
    times = []
    for _ in range(repeat):
        before = time.thread_time()
        AmazonStateLanguageParser.parse(definition)
        times.append(time.thread_time() - before)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=20, help="K executions submitted back to back")
    parser.add_argument("--singles", type=int, default=3, help="jobs run alone for the baseline")
    parser.add_argument("--epochs", type=int, default=30, help="epochs of the real container's job")
    parser.add_argument("--no-real", action="store_true", help="skip the real container's job")
    parser.add_argument(
        "--sync-poll-interval", type=float, default=0.25, help="seconds between a .sync task's Describe calls"
    )
    parser.add_argument("--timeout", type=float, default=600.0, help="limit per wait (seconds)")
    args = parser.parse_args()
    print(load())
    started = time.perf_counter()
    with local_bench(args.sync_poll_interval) as bench:
        print(
            f"local runtime started in {time.perf_counter() - started:.1f} s "
            f"(.sync poll interval {args.sync_poll_interval:g} s)"
        )
        wait_ready(bench, [submit(bench, {})], args.timeout)  # warm-up

        singles: list[Finished] = []
        for _ in range(args.singles):
            bench.runtime.wait_idle(30)
            singles += wait_ready(bench, [submit(bench, {})], args.timeout)
        alone = statistics.median(f.to_ready for f in singles)

        bench.runtime.wait_idle(30)
        batch = [submit(bench, {}) for _ in range(args.jobs)]
        posted = time.time()
        done = wait_ready(bench, batch, args.timeout)
        first = min(s.at for s in batch)
        last_ready = max(f.submitted.at + f.to_ready for f in done)
        times = [f.to_ready for f in done]
        posts = [s.post_seconds for s in batch]

        print(f"\nfake container (training and endpoint start instant), {args.jobs} executions submitted back to back")
        print(f"{'':<26}{'jobs':>6}{'exec/s':>9}{'p50 s':>8}{'p95 s':>8}{'max s':>8}{'p50 / alone':>13}")
        print(f"{'alone (median of runs)':<26}{len(singles):>6}{1 / alone:>9.2f}{alone:>8.2f}{'':>8}{'':>8}{1:>12.2f}x")
        print(
            f"{'back to back':<26}{len(done):>6}{len(done) / (last_ready - first):>9.2f}"
            f"{percentile(times, 50):>8.2f}{percentile(times, 95):>8.2f}{max(times):>8.2f}"
            f"{percentile(times, 50) / alone:>12.2f}x"
        )
        idle_posts = [f.submitted.post_seconds for f in singles]
        print(
            f"POST /model: alone p50 {percentile(idle_posts, 50) * 1e3:.0f} ms; back to back p50 "
            f"{percentile(posts, 50) * 1e3:.0f} ms, p95 {percentile(posts, 95) * 1e3:.0f} ms, "
            f"{args.jobs} POSTs in {posted - first:.2f} s"
        )
        print(integrity(bench))
        print(f"moto server errors: {bench.server_errors.report()}")
        errors = "".join(f"\n  {n} x {error}" for error, n in sorted(bench.lambdas.errors.items()))
        print(f"Lambda errors:{errors or ' none'}")
        parse = parse_seconds(bench)
        print(
            f"moto parses the ASL definition at every execution start: {parse * 1e3:.0f} ms CPU "
            f"({parse / alone:.0%} of a job alone, {parse * args.jobs:.1f} s for the batch)"
        )
        print("\nmedian seconds in each status (from the jobs' histories)")
        print(f"{'':<26}" + "".join(f"{name[:10]:>11}" for name in PHASES))
        print(phase_line("alone", singles))
        print(phase_line("back to back", done))

        if not args.no_real:
            bench.runtime.wait_idle(60)
            bench.use_fake_container(False)
            real = wait_ready(bench, [submit(bench, {"epochs": args.epochs})], args.timeout)
            to_ready = real[0].to_ready
            print(f"\nreal container (python -m sagestep_training), {REGRESSION_CSV.name}, epochs={args.epochs}")
            print(f"POST /model to READY: {to_ready:.2f} s ({to_ready / alone:.1f}x the fake container's job alone)")
            print(f"{'':<26}" + "".join(f"{name[:10]:>11}" for name in PHASES))
            print(phase_line("real container", real))
    print(load())


if __name__ == "__main__":
    main()
