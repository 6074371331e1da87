"""Consolidation quality and speed, and state transitions per batch, of the labeling workflow.

1. Accuracy of ``dawid_skene`` against ``majority_vote`` (``sagestep_service.workflows.labeling.consolidation``, the
   consolidation sagestep's ACS Lambda runs) on simulated workers of mixed quality: ``--items`` items (2,000), 5
   classes (balanced), workers right with probability 0.9, 0.8, 0.65, 0.5, 0.35 (otherwise a uniformly drawn wrong
   class) and one spammer who always answers the first class; every worker answers every item ("all 6"), and
   Ground Truth's way, 3 distinct workers drawn per item ("3 of 6"). Over ``--seeds`` seeds: accuracy against the
   truth, errors of the majority vote / errors of Dawid-Skene (the baseline's errors per error of ours), and each
   worker's estimated accuracy against its true one. When ``crowdkit`` is importable (``pip install crowd-kit``; not
   a dependency of sagestep), crowd-kit's ``DawidSkene`` on the same answers, side by side.
2. Speed on ``--speed-items`` items (100,000) x 5 workers (the five non-spammers, every worker every item): seconds
   and items/s of ``dawid_skene`` (and its EM iterations) against ``majority_vote`` on the same ``Answer`` list
   (building the list is timed apart).
3. State transitions per batch through a local runtime (synthesized stack, real handlers, the local Ground Truth
   with its simulated workforce): a two-level batch (3 crowd workers per item, then experts for the items below
   ``--review-below`` (0.99) confidence) of ``--small`` (20) and ``--large`` (2,000) items of the sample reviews:
   history events, states entered (``*StateEntered``), Lambda invocations (the state machine's tasks; Ground
   Truth's pre-annotation and consolidation Lambdas apart), items reviewed at level 2, wall time (create to the
   execution's end) and items/s; the ratio of transitions large/small is expected to be 1.00 (a level is one Map
   iteration per job, whatever its number of items). A batch whose crowd was confident about every item skips
   level 2 (fewer transitions, not comparable): it is run again under a new id on other reviews (the simulated
   answers are seeded by the data).

    PYTHONPATH=.:lambdas .venv/bin/python -m bench.labeling [--items 2000] [--seeds 3] [--speed-items 100000]
        [--small 20] [--large 2000] [--review-below 0.9] [--no-runtime]
"""

from __future__ import annotations

import argparse
import collections
import logging
import random
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from bench.transitions import LambdaCounter, ServerErrors, load
from sagestep_service.workflows.labeling.consolidation import Answer, Consolidated, dawid_skene, majority_vote

CLASSES = ("a", "b", "c", "d", "e")
ACCURACIES = (0.9, 0.8, 0.65, 0.5, 0.35)
SPAMMER = "w6-spam"  #: always answers CLASSES[0]
TERMINAL_EXECUTION = {"SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED"}
#: Ground Truth's Lambdas (invoked by the labeling job, not by the state machine), by function name suffix
GROUND_TRUTH_LAMBDAS = ("PreAnnotationFunction", "ConsolidationFunction")
ATTEMPTS = 5  #: a small batch whose crowd was confident everywhere skips level 2; the workers' draws vary per batch


@dataclass(frozen=True)
class Simulated:
    answers: list[Answer]
    truth: dict[str, str]
    accuracy: dict[str, float]
    """Each worker's true accuracy on the answers it gave."""


def simulate(
    items: int,
    seed: int,
    *,
    per_item: int | None = None,
    accuracies: Sequence[float] = ACCURACIES,
    spammer: bool = True,
) -> Simulated:
    """Answers of workers ``w1..`` (right with their accuracy, else a uniform wrong class) and the spammer; every
    worker per item, or ``per_item`` distinct workers drawn per item."""
    rng = random.Random(seed)
    workers = [(f"w{n + 1}-{round(a * 100)}", a) for n, a in enumerate(accuracies)]
    if spammer:
        workers.append((SPAMMER, -1.0))
    answers, truth = [], {}
    right: dict[str, list[bool]] = collections.defaultdict(list)
    for index in range(items):
        item, true = f"item-{index:06d}", CLASSES[index % len(CLASSES)]
        truth[item] = true
        chosen = rng.sample(workers, per_item) if per_item else workers
        for worker, accuracy in chosen:
            if accuracy < 0:
                label = CLASSES[0]
            elif rng.random() < accuracy:
                label = true
            else:
                label = rng.choice([c for c in CLASSES if c != true])
            answers.append(Answer(item=item, worker=worker, label=label))
            right[worker].append(label == true)
    return Simulated(answers, truth, {w: sum(r) / len(r) for w, r in right.items()})


def accuracy(labels: dict[str, str], truth: dict[str, str]) -> float:
    return sum(labels.get(item) == label for item, label in truth.items()) / len(truth)


def crowdkit_labels(answers: Sequence[Answer]) -> dict[str, str] | None:
    """crowd-kit's Dawid-Skene on the same answers (None when crowd-kit is not installed)."""
    try:
        import pandas as pd
        from crowdkit.aggregation import DawidSkene
    except ImportError:
        return None
    frame = pd.DataFrame({"task": [a.item for a in answers], "worker": [a.worker for a in answers],
                          "label": [a.label for a in answers]})  # fmt: skip
    result = DawidSkene(n_iter=100).fit_predict(frame)
    return {str(item): str(label) for item, label in result.items()}


def section_accuracy(items: int, seeds: int) -> None:
    print(f"\n1. Consolidation accuracy: {items} items, {len(CLASSES)} classes, workers {ACCURACIES} + a spammer")
    has_crowdkit = crowdkit_labels(simulate(5, 0).answers) is not None
    if not has_crowdkit:
        print("   (crowd-kit not installed: `pip install crowd-kit` adds its DawidSkene as a second reference)")
    header = f"{'answers':<10}{'seed':>5}{'majority':>10}{'D-S':>8}{'errors MV/DS':>14}{'D-S iter.':>11}"
    print(header + (f"{'crowd-kit D-S':>15}{'ours/ck':>9}" if has_crowdkit else ""))
    estimates: dict[str, list[tuple[float, float]]] = collections.defaultdict(list)
    for label, per_item in (("all 6", None), ("3 of 6", 3)):
        ratios, mv_all, ds_all = [], [], []
        for seed in range(seeds):
            data = simulate(items, seed, per_item=per_item)
            mv, ds = majority_vote(data.answers, CLASSES), dawid_skene(data.answers, CLASSES)
            mv_acc = accuracy({i: r.label for i, r in mv.items.items()}, data.truth)
            ds_acc = accuracy({i: r.label for i, r in ds.items.items()}, data.truth)
            ratio = (1 - mv_acc) / (1 - ds_acc) if ds_acc < 1 else float("inf")
            ratios.append(ratio)
            mv_all.append(mv_acc)
            ds_all.append(ds_acc)
            line = f"{label:<10}{seed:>5}{mv_acc:>10.3f}{ds_acc:>8.3f}{ratio:>13.2f}x{ds.iterations:>11}"
            if has_crowdkit:
                ck = crowdkit_labels(data.answers) or {}
                ck_acc = accuracy(ck, data.truth)
                line += f"{ck_acc:>15.3f}{ds_acc / ck_acc:>8.3f}x"
            print(line)
            if per_item is None:
                for worker, result in ds.workers.items():
                    estimates[worker].append((result.accuracy, data.accuracy[worker]))
        print(
            f"{label:<10}{'mean':>5}{statistics.mean(mv_all):>10.3f}{statistics.mean(ds_all):>8.3f}"
            f"{statistics.mean(ratios):>13.2f}x   accuracy D-S / majority "
            f"{statistics.mean(ds_all) / statistics.mean(mv_all):.3f}x"
        )
    print(f"\n   workers' accuracy, all 6 answering (mean over {seeds} seeds): Dawid-Skene's estimate vs the truth")
    print(f"   {'worker':<10}{'estimated':>11}{'true':>8}")
    for worker in sorted(estimates):
        pairs = estimates[worker]
        print(
            f"   {worker:<10}{statistics.mean(p[0] for p in pairs):>11.3f}{statistics.mean(p[1] for p in pairs):>8.3f}"
        )


def timed(run: Callable[[], Consolidated]) -> tuple[Consolidated, float]:
    start = time.perf_counter()
    result = run()
    return result, time.perf_counter() - start


def section_speed(items: int) -> None:
    workers = len(ACCURACIES)
    print(f"\n2. Speed: {items:,} items x {workers} workers ({items * workers:,} answers), one thread")
    start = time.perf_counter()
    data = simulate(items, 0, spammer=False)
    print(f"   building the Answer list (pydantic models): {time.perf_counter() - start:.2f} s")
    mv, mv_seconds = timed(lambda: majority_vote(data.answers, CLASSES))
    ds, ds_seconds = timed(lambda: dawid_skene(data.answers, CLASSES))
    print(
        f"   {'':<16}{'seconds':>9}{'items/s':>10}{'answers/s':>11}{'iterations':>12}{'accuracy':>10}{'time ratio':>12}"
    )
    for name, result, seconds in (("majority_vote", mv, mv_seconds), ("dawid_skene", ds, ds_seconds)):
        acc = accuracy({i: r.label for i, r in result.items.items()}, data.truth)
        print(
            f"   {name:<16}{seconds:>9.2f}{items / seconds:>10,.0f}{items * workers / seconds:>11,.0f}"
            f"{result.iterations:>12}{acc:>10.3f}{seconds / mv_seconds:>11.2f}x"
        )
    print(f"   D-S per EM iteration: {ds_seconds / ds.iterations:.2f} s (converged: {ds.converged})")


# --- 3. through a local runtime ------------------------------------------------------------------------------------


def section_transitions(small: int, large: int, review_below: float, timeout: float) -> None:
    from sagestep.cli.labeling import run_body
    from sagestep.client import CognitoAuth, SagestepClient
    from sagestep.demo import labeling_samples as samples
    from sagestep.local.runtime import LocalRuntime

    print(f"\n3. State transitions per two-level batch, {small} vs {large} items (local runtime)")
    started = time.perf_counter()
    runtime = LocalRuntime(port=0)
    server_errors = ServerErrors()
    logging.getLogger("werkzeug").addFilter(server_errors)
    info = runtime.start()
    try:
        lambdas = LambdaCounter(runtime.aws.lambdas)
        print(f"   local runtime started in {time.perf_counter() - started:.1f} s")
        auth = CognitoAuth(info.user_pool_client_id, info.username, info.password, info.region, info.aws_endpoint_url)
        experts = runtime.stack.outputs["LabelingWorkteamArn"].replace("labelers", "experts")
        rows: list[BatchRun] = []
        with SagestepClient(info.api_url, auth) as client:
            categories = client.upload(samples.categories(), "bench/labeling/labels.json")
            for items in (small, large):
                for attempt in range(1, ATTEMPTS + 1):
                    # The simulated answers are seeded by the data: another attempt labels other reviews.
                    manifest = client.upload(
                        samples.manifest(items, seed=6 + attempt), f"bench/labeling/reviews-{items}-{attempt}.manifest"
                    )
                    body = run_body(f"bench-{items}-{attempt}", manifest, categories, "TextClassification", workers=3,
                                    review_below=review_below, expert_team=experts)  # fmt: skip
                    row = run_batch(runtime, client, lambdas, body, timeout)
                    if row.reviewed:
                        break
                    print(f"   (bench-{items}-{attempt}: no item below {review_below}, level 2 skipped: again)")
                rows.append(row)
        print(f"   {'items':>6}{'status':>10}{'events':>8}{'transitions':>13}{'task Lambdas':>14}{'GT Lambdas':>12}"
              f"{'reviewed':>10}{'wall s':>8}{'items/s':>9}")  # fmt: skip
        for r in rows:
            print(f"   {r.items:>6}{r.status:>10}{r.events:>8}{sum(r.states.values()):>13}{r.workflow_lambdas:>14}"
                  f"{r.ground_truth_lambdas:>12}{r.reviewed:>10}{r.wall:>8.2f}{r.items / r.wall:>9.1f}")  # fmt: skip
        print("   (task Lambdas: the state machine's; GT Lambdas: Ground Truth's pre-annotation, once per item, and "
              "consolidation, once per job here)")  # fmt: skip
        first, last = rows
        ratio = sum(last.states.values()) / sum(first.states.values())
        print(f"   transitions {large}/{small} = {ratio:.2f} (expected 1.00); events {last.events / first.events:.2f}")
        if first.states != last.states:
            print(f"   states entered more often: at {small} {first.states - last.states}, at {large} "
                  f"{last.states - first.states}")  # fmt: skip
        errors = "".join(f"\n     {n} x {error}" for error, n in sorted(lambdas.errors.items()))
        print(f"   Lambda errors:{errors or ' none'}; moto server errors: {server_errors.report()}")
    finally:
        runtime.stop()
        logging.getLogger("werkzeug").removeFilter(server_errors)


@dataclass(frozen=True)
class BatchRun:
    items: int
    status: str
    events: int
    states: collections.Counter[str]
    workflow_lambdas: int
    ground_truth_lambdas: int
    reviewed: int
    wall: float


def run_batch(runtime: Any, client: Any, lambdas: LambdaCounter, body: dict[str, Any], timeout: float) -> BatchRun:
    """Create the batch, wait for it and for its execution's end; what its execution cost."""
    sfn, machine = runtime.client("stepfunctions"), runtime.stack.outputs["LabelingStateMachineArn"]
    batch_id = body["batchId"]
    runtime.wait_idle(30)
    before, calls = _executions(sfn, machine), lambdas.snapshot()
    start = time.perf_counter()
    client.labeling.create(body)
    batch = client.labeling.wait(batch_id, timeout=timeout, poll=0.1)
    (arn,) = _executions(sfn, machine) - before
    deadline = time.monotonic() + timeout
    while sfn.describe_execution(executionArn=arn)["status"] not in TERMINAL_EXECUTION:
        if time.monotonic() > deadline:
            raise TimeoutError(f"execution of {batch_id} still running after {timeout:g} s")
        time.sleep(0.05)
    wall = time.perf_counter() - start
    pages = sfn.get_paginator("get_execution_history").paginate(executionArn=arn)
    events = [event for page in pages for event in page["events"]]
    states = collections.Counter(
        e["stateEnteredEventDetails"]["name"] for e in events if e["type"].endswith("StateEntered")
    )
    invoked = lambdas.snapshot() - calls
    ground_truth = sum(n for name, n in invoked.items() if name.endswith(GROUND_TRUTH_LAMBDAS))
    if batch.status != "COMPLETE":
        print(f"   !! batch {batch_id}: {batch.status} ({batch.error})")
    items = batch.levels[0].jobs[0].itemCounts.total
    reviewed = batch.levels[1].jobs[0].itemCounts.total if len(batch.levels) > 1 else 0
    workflow = sum(invoked.values()) - ground_truth
    return BatchRun(items, str(batch.status), len(events), states, workflow, ground_truth, reviewed, wall)


def _executions(sfn: Any, machine: str) -> set[str]:
    arns: set[str] = set()
    kwargs: dict[str, Any] = {"stateMachineArn": machine, "maxResults": 100}
    while True:
        page = sfn.list_executions(**kwargs)
        arns |= {e["executionArn"] for e in page["executions"]}
        if not page.get("nextToken"):
            return arns
        kwargs["nextToken"] = page["nextToken"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=2000, help="items of the accuracy section")
    parser.add_argument("--seeds", type=int, default=3, help="simulations per case of the accuracy section")
    parser.add_argument("--speed-items", type=int, default=100_000, help="items of the speed section")
    parser.add_argument("--small", type=int, default=20, help="items of the small batch")
    parser.add_argument("--large", type=int, default=2000, help="items of the large batch")
    parser.add_argument("--review-below", type=float, default=0.99, help="level 2 reviews items below this")
    parser.add_argument("--timeout", type=float, default=600.0, help="limit per batch (seconds)")
    parser.add_argument("--no-runtime", action="store_true", help="skip section 3 (the local runtime)")
    args = parser.parse_args()
    print(load())
    started = time.perf_counter()
    section_accuracy(args.items, args.seeds)
    section_speed(args.speed_items)
    if not args.no_runtime:
        section_transitions(args.small, args.large, args.review_below, args.timeout)
    print(f"\nbenchmark took {time.perf_counter() - started:.0f} s; {load()}")


if __name__ == "__main__":
    main()
