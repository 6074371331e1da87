"""Comprehend calls, segmentation speed and state transitions of the documents workflow (see bench/README.md):
(1) ``insights.analyse`` against one ``Detect*`` call per paragraph and feature, through the local Comprehend alone;
(2) ``segment(blocks, technique)`` on synthetic Textract responses (the builder of tests/unit/textract_blocks.py);
(3) the workflow in ``LocalRuntime`` on generated PDFs of 1 and 100 pages: the parent's and the Distributed Map
child's transitions. Moto lists no child execution; it runs them inside the parent, their events in one
``EventManager`` per map run, kept here by wrapping moto's ``_map_run`` (in this process).

    PYTHONPATH=.:lambdas .venv/bin/python -m bench.documents [--paragraphs 10,60,200] [--pages 1,100]
"""

from __future__ import annotations

import argparse
import collections
import functools
import io
import itertools
import logging
import re
import textwrap
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any

from botocore.exceptions import ClientError

from bench.transitions import LambdaCounter, ServerErrors, load
from sagestep.client import CognitoAuth, SagestepClient
from sagestep.demo.documents_samples import CONTINUED, NEGATIVE, NEUTRAL, POSITIVE
from sagestep.local.emulator import LocalAws
from sagestep.local.runtime import LocalRuntime
from sagestep.local.services import ServiceRegistry
from sagestep.local.services.comprehend import ComprehendEmulator
from sagestep_service.workflows.documents.comprehend_service import MAX_SENTIMENT_BYTES as MAX_BYTES
from sagestep_service.workflows.documents.comprehend_service import SENTIMENT_READS_CHARACTERS as READS
from sagestep_service.workflows.documents.insights import FEATURES, analyse, sentiment_groups
from sagestep_service.workflows.documents.segmentation import TECHNIQUES, segment
from tests.unit import textract_blocks as tb

SENTENCES = re.split(r"(?<=\.)\s+", " ".join((POSITIVE, NEGATIVE, NEUTRAL, CONTINUED)))
TIMEOUT, TERMINAL = 180.0, {"SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED"}
SINGLE = ("detect_sentiment", "detect_key_phrases", "detect_entities")  #: the reference's calls


def timed(call: Callable[[], Any]) -> tuple[float, Any]:
    start = time.perf_counter()
    result = call()
    return time.perf_counter() - start, result


def row(values: tuple[Any, ...], widths: tuple[int, ...]) -> str:
    return "".join(f"{value:>{width}}" for value, width in zip(values, widths, strict=True))


def texts(n: int) -> list[str]:
    """``n`` paragraphs: one sentence (a third), 3-6 sentences, or 50 sentences (~6,000 bytes) one in 20."""
    sizes = (50 if i % 20 == 7 else 1 if i % 3 == 0 else 3 + i % 4 for i in range(n))
    return [
        f"Paragraph {i + 1}. " + " ".join(itertools.islice(itertools.cycle(SENTENCES), i, i + k))
        for i, k in enumerate(sizes)
    ]


def reference(client: Any, paragraphs: list[str]) -> collections.Counter[str]:
    """One call per paragraph and feature, each paragraph whole: the calls Comprehend refused, by API and error."""
    refused = collections.Counter[str]()
    for text, api in itertools.product(paragraphs, SINGLE):
        try:
            getattr(client, api)(Text=text, LanguageCode="en")
        except ClientError as error:
            refused[f"{api} {error.response['Error']['Code']}"] += 1
    return refused


def section_comprehend(sizes: list[int]) -> None:
    print("\n1. Comprehend per document, all three features: reference (Detect* per paragraph) / batch (analyse)")
    widths = (10, 8, 11, 11, 13, 11, 9, 16, 13)
    head = ("paragraphs", "chars", "calls", "ref/batch", "units", "batch/ref", "refused", "sentiment read", "seconds")
    print(row(head, widths))
    with LocalAws(registry=ServiceRegistry([ComprehendEmulator])) as aws:
        client, emulator = aws.client("comprehend"), aws.service(ComprehendEmulator)
        client.detect_sentiment(Text=POSITIVE, LanguageCode="en")  # the client's and the analysers' first call
        for n in sizes:
            paragraphs = texts(n)
            chars = sum(map(len, paragraphs))
            emulator.reset_usage()  # the counter: the reference's calls, then the batch ones
            ref_seconds, refused = timed(functools.partial(reference, client, paragraphs))
            ref_calls, ref_usage = len(paragraphs) * len(SINGLE), emulator.usage()
            ref_read = sum(min(len(t), READS) for t in paragraphs if len(t.encode()) <= MAX_BYTES) / chars
            emulator.reset_usage()
            seconds, result = timed(functools.partial(analyse, client, paragraphs, "en", set(FEATURES)))
            usage, billed = result.usage, emulator.usage()
            read = sum(len(g.text) for t in paragraphs for g in sentiment_groups(t)) / chars
            calls, errors = sum(usage["calls"].values()), sum(len(p["errors"]) for p in result.paragraphs)
            units = (sum(u["units"] for u in ref_usage.values()), sum(u["units"] for u in billed.values()))
            assert units[1] == sum(usage["units"].values()), (billed, usage["units"])  # Usage = the emulator's
            cells: tuple[str, ...] = (f"{ref_calls}/{calls}", f"{ref_calls / calls:.1f}x", f"{units[0]}/{units[1]}")
            cells += (f"{units[1] / units[0]:.2f}", f"{sum(refused.values())}/{errors}", f"{ref_read:.0%}/{read:.0%}")
            print(row((n, chars, *cells, f"{ref_seconds:.2f}/{seconds:.2f}"), widths))
        by_api = [{api: u["units"] for api, u in counter.items()} for counter in (ref_usage, billed)]
        print(f"  {n} paragraphs: units {by_api[0]} / {by_api[1]}; refused {dict(refused)}; {usage['calls']}")


def pages_of(n: int) -> list[dict[str, Any]]:
    """``n`` pages of a header and six 5-line paragraphs, with LAYOUT_SECTION_HEADER / LAYOUT_TEXT blocks."""
    words = textwrap.wrap(" ".join(SENTENCES * 2), 85)
    specs, layouts = [], []
    for page in range(n):
        lines = [tb.line(f"Section {page + 1} on region {page % 7 + 1}", 0.08, width=0.45, height=0.018)]
        layout: list[tb.Layout] = [("LAYOUT_SECTION_HEADER", [0])]
        top = 0.12
        for k in range(6):
            para = tb.paragraph([words[(page * 30 + k * 5 + j) % len(words)] for j in range(5)], top)
            layout.append(("LAYOUT_TEXT", list(range(len(lines), len(lines) + len(para)))))
            lines, top = lines + para, tb.after(para)
        specs.append(lines)
        layouts.append(layout)
    return tb.document(specs, layouts)


def section_segmentation(sizes: list[int]) -> None:
    print("\n2. Segmentation speed (segment(blocks, technique), synthetic Textract responses, best of 3 / of 1)")
    widths = (14, 7, 9, 9, 10, 11, 12)
    print(row(("technique", "pages", "blocks", "seconds", "pages/s", "blocks/s", "paragraphs"), widths))
    for n in sizes:
        blocks = pages_of(n)
        for technique in TECHNIQUES[1:]:
            runs = [timed(functools.partial(segment, blocks, technique)) for _ in range(3 if n <= 100 else 1)]
            best = min(seconds for seconds, _ in runs)
            cells = (f"{best:.3f}", f"{n / best:.0f}", f"{len(blocks) / best:.0f}", len(runs[0][1].paragraphs))
            print(row((technique, n, len(blocks), *cells), widths))


def pdf(pages: int) -> bytes:
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen.canvas import Canvas

    canvas = Canvas(buffer := io.BytesIO(), pagesize=A4)
    for page in range(pages):
        canvas.setFont("Helvetica-Bold", 14)
        canvas.drawString(72, A4[1] - 80, f"Section {page + 1}")
        body = canvas.beginText(72, A4[1] - 110)
        body.setFont("Helvetica", 11, leading=14)
        for k in range(4):  # four paragraphs of three sentences, a blank line between
            sentences = itertools.islice(itertools.cycle(SENTENCES), page + k * 3, page + k * 3 + 3)
            body.textLines([*textwrap.wrap(" ".join(sentences), 85), ""])
        canvas.drawText(body)
        canvas.showPage()
    canvas.save()
    return buffer.getvalue()


def capture_map_runs() -> dict[str, list[dict[str, Any]]]:
    """From now on, keep each map run's child events in the dict returned (map run ARN -> events)."""
    from moto.stepfunctions.parser.asl.component.state.exec.state_map.iteration import distributed_iteration_component

    component, runs = distributed_iteration_component.DistributedIterationComponent, {}
    original = component._map_run

    def _map_run(self: Any, env: Any, eval_input: Any) -> None:
        try:
            original(self, env, eval_input)
        finally:
            runs[eval_input.map_run_record.map_run_arn] = list(env.event_manager.get_event_history())

    setattr(component, "_map_run", _map_run)  # noqa: B010
    return runs


def states(events: list[dict[str, Any]]) -> list[tuple[str, float]]:
    """States entered and when, then ``("", the last event's time)`` (moto's own events: ISO times, enum types)."""
    marks: list[tuple[str, float]] = []
    for event in events:
        at = (t if isinstance(t := event["timestamp"], datetime) else datetime.fromisoformat(t)).timestamp()
        if str(getattr(event["type"], "value", event["type"])).endswith("StateEntered"):
            marks.append((event["stateEnteredEventDetails"]["name"], at))
    return [*marks, ("", at)] if events else []


def run_document(runtime: LocalRuntime, client: SagestepClient, lambdas: LambdaCounter, uri: str) -> tuple[Any, ...]:
    """Submit a job on one document, wait for it and for the parent's end: wall, cells, parent's states, map run."""
    sfn, machine = runtime.client("stepfunctions"), runtime.stack.outputs["DocumentsStateMachineArn"]
    before, start = lambdas.snapshot(), time.perf_counter()
    job = client.documents.wait(client.documents.submit({"documentUri": uri}).jobId, TIMEOUT, poll=0.1)
    arn, deadline = machine.replace(":stateMachine:", ":execution:") + f":{job.jobId}", time.monotonic() + TIMEOUT
    while (status := sfn.describe_execution(executionArn=arn)["status"]) not in TERMINAL:
        if time.monotonic() > deadline:
            raise TimeoutError(f"execution {job.jobId} still {status} after {TIMEOUT:g} s")
        time.sleep(0.05)
    wall = time.perf_counter() - start
    runtime.wait_idle(30)
    pages = sfn.get_paginator("get_execution_history").paginate(executionArn=arn)
    [run] = sfn.list_map_runs(executionArn=arn)["mapRuns"]
    counts = sfn.describe_map_run(mapRunArn=run["mapRunArn"])["executionCounts"]
    item = job.summary.items[0] if job.summary and job.summary.items else None  # one document
    if job.status != "COMPLETED" or status != "SUCCEEDED":
        print(f"  !! job {job.status} ({job.error}: {job.errorCause}); execution {status}; {counts}")
    cells: tuple[Any, ...] = (item.pages, item.paragraphs) if item else (0, 0)
    cells += (f"{counts['succeeded']}/{counts['total']}", sum((lambdas.snapshot() - before).values()))
    return wall, cells, states([e for page in pages for e in page["events"]]), run["mapRunArn"]


def section_transitions(page_counts: list[int]) -> None:
    runs = capture_map_runs()
    runtime, server_errors = LocalRuntime(port=0), ServerErrors()
    logging.getLogger("werkzeug").addFilter(server_errors)
    info = runtime.start()
    try:
        lambdas = LambdaCounter(runtime.aws.lambdas)
        auth = CognitoAuth(info.user_pool_client_id, info.username, info.password, info.region, info.aws_endpoint_url)
        with SagestepClient(info.api_url, auth) as client:
            rows: list[tuple[int, float, tuple[Any, ...], list[str], list[str], str]] = []
            for pages in [1, *page_counts]:  # the first: a warm-up, not in the table
                uri = client.upload(pdf(pages), f"bench/documents/{len(rows)}-{pages}-pages.pdf")
                wall, cells, entered, map_run = run_document(runtime, client, lambdas, uri)
                marks = states(runs.get(map_run, []))
                seconds = ", ".join(f"{name} {end - at:.2f}" for (name, at), (_, end) in itertools.pairwise(marks))
                rows.append((pages, wall, cells, [n for n, _ in entered[:-1]], [n for n, _ in marks[:-1]], seconds))
    finally:
        runtime.stop()
        logging.getLogger("werkzeug").removeFilter(server_errors)
    print("\n3. State transitions per document, documents workflow in the local runtime (one PDF, all features)")
    widths = (6, 6, 12, 10, 9, 8, 7, 8, 9)
    print(row(("pages", "read", "paragraphs", "children", "lambdas", "parent", "child", "wall s", "pages/s"), widths))
    for pages, wall, cells, parent_names, child_names, _ in rows[1:]:
        print(row((pages, *cells, len(parent_names), len(child_names), f"{wall:.2f}", f"{pages / wall:.1f}"), widths))
    (small, *_, small_parent, small_child, _), (large, *_, large_parent, large_child, _) = rows[1], rows[-1]
    parent, child = (len(b) / max(len(a), 1) for a, b in ((small_parent, large_parent), (small_child, large_child)))
    print(f"transitions {large}/{small} pages: parent {parent:.2f}, child {child:.2f} (expected 1.00)")
    for pages, *_, parent_names, child_names, seconds in rows[1:]:
        print(f"  {pages} page(s): parent {parent_names}\n    child {child_names}, seconds per state: {seconds}")
    print(f"Lambda errors: {dict(lambdas.errors) or 'none'}; moto server errors: {server_errors.report()}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--paragraphs", default="10,60,200", help="paragraphs of the generated documents (1.)")
    parser.add_argument("--pages", default="1,100", help="pages of the generated PDFs (3.)")
    args, started = parser.parse_args(), time.perf_counter()
    print(load())
    section_comprehend([int(n) for n in args.paragraphs.split(",")])
    section_segmentation([50, 500])
    section_transitions([int(n) for n in args.pages.split(",")])
    print(f"\nbenchmark took {time.perf_counter() - started:.0f} s; {load()}")


if __name__ == "__main__":
    main()
