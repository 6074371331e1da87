"""Translate jobs, state transitions and staging throughput of the translation workflow in the local runtime.

Starts one ``LocalRuntime`` (synthesized stack, real handlers, REST API with Cognito, the local Translate that
really rewrites documents with its pseudo-translator) and submits translation jobs through the client
(``client.translation.submit`` / ``wait``):

1. the bundled sample folder (``write_samples``: every supported type and one unsupported file) and a folder of one
   type only, uploaded with ``client.translation.upload_folder`` (presigned PUTs): the Translate batch jobs started
   (the runtime's ``translate`` client, jobs named ``<jobId>-<type>``) against the content types present;
2. 10 and 1,000 files of the same mix (small generated .txt and .html, a few .docx): state transitions
   (``*StateEntered`` history events), Stage and Restore calls, wall time (submit to the execution's end) and files
   per second, and the seconds of each phase (from the history's timestamps); the ratio 1000/10 is expected to be
   1.00 (staging and restore take one listing page per call). Both folders go up by presigned PUTs
   (``upload_folder``); ``--direct-upload`` puts the large one with the runtime's s3 client instead;
3. staging throughput of the 1,000-file job (``Stage`` entered to ``RecordTranslating`` entered, from the history's
   timestamps) against copying the same 1,000 objects one by one with one boto3 client (sequential copy_object) in
   this process, against the same local S3; for reference, the same copies from 16 threads (as staging copies).

    .venv/bin/python -m bench.translation [--files 1000] [--languages de] [--direct-upload]
"""

from __future__ import annotations

import argparse
import collections
import logging
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from bench.transitions import LambdaCounter, ServerErrors, load
from sagestep.client import CognitoAuth, SagestepClient
from sagestep.demo.translation_samples import HTML, TEXT, write_samples
from sagestep.local.runtime import LocalRuntime
from sagestep_service.workflows.translation.models import TranslationJobView
from sagestep_service.workflows.translation.translate_service import content_type_of

TERMINAL_EXECUTION = {"SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED"}
DOCX_EVERY = 50  #: one .docx in this many files (at least 2), the rest .txt and .html alternately


class Bench:
    def __init__(self, runtime: LocalRuntime, client: SagestepClient, languages: list[str], timeout: float) -> None:
        self.runtime, self.client, self.languages, self.timeout = runtime, client, languages, timeout
        self.sfn = runtime.client("stepfunctions")
        self.machine = runtime.stack.outputs["TranslationStateMachineArn"]

    def run(self, folder: str) -> tuple[TranslationJobView, list[dict[str, Any]], float]:
        """Submit a job on the folder; wait for its record's end and its execution's; its history; wall seconds."""
        self.runtime.wait_idle(30)
        start = time.perf_counter()
        job = self.client.translation.submit(
            {"inputUri": folder, "sourceLanguageCode": "en", "targetLanguageCodes": self.languages}
        )
        job = self.client.translation.wait(job.jobId, timeout=self.timeout, poll=0.1)
        arn = self.machine.replace(":stateMachine:", ":execution:") + f":{job.jobId}"
        deadline = time.monotonic() + self.timeout
        while (status := self.sfn.describe_execution(executionArn=arn)["status"]) not in TERMINAL_EXECUTION:
            if time.monotonic() > deadline:
                raise TimeoutError(f"execution {job.jobId} still {status} after {self.timeout:g} s")
            time.sleep(0.05)
        wall = time.perf_counter() - start
        if job.status != "COMPLETED" or status != "SUCCEEDED":
            print(f"  !! job {job.jobId}: {job.status} ({job.error}: {job.errorCause}); execution {status}")
        pages = self.sfn.get_paginator("get_execution_history").paginate(executionArn=arn)
        return job, [event for page in pages for event in page["events"]], wall

    def translate_jobs(self, job_id: str) -> dict[str, float]:
        """The Translate batch jobs the job started (``<jobId>-<type>``): name -> seconds submitted to end."""
        translate, jobs, token = self.runtime.client("translate"), [], None
        while True:
            page = translate.list_text_translation_jobs(MaxResults=500, **({"NextToken": token} if token else {}))
            jobs += page["TextTranslationJobPropertiesList"]
            if not (token := page.get("NextToken")):
                mine = [j for j in jobs if j["JobName"].startswith(f"{job_id}-")]
                return {j["JobName"]: (j["EndTime"] - j["SubmittedTime"]).total_seconds() for j in mine}


def entered(events: list[dict[str, Any]]) -> list[tuple[str, float]]:
    """The states entered, in order, with the event's timestamp (epoch seconds)."""
    return [
        (event["stateEnteredEventDetails"]["name"], event["timestamp"].timestamp())
        for event in events
        if event["type"].endswith("StateEntered")
    ]


def types_present(paths: list[str]) -> set[str]:
    return {t.slug for path in paths if (t := content_type_of(path)) is not None}


def mix(n: int, docx: bytes) -> dict[str, bytes]:
    """``n`` files under two levels of folders: a .docx every ``DOCX_EVERY`` (at least 2), else .txt / .html."""
    docx_at = set(range(0, n, DOCX_EVERY)) | {n - 1}
    files = {}
    for i in range(n):
        folder = f"part-{i // 100:02d}/doc-{i:04d}"
        if i in docx_at:
            files[f"{folder}.docx"] = docx
        elif i % 2:
            files[f"{folder}.txt"] = f"Document {i}.\n{TEXT}".encode()
        else:
            files[f"{folder}.html"] = HTML.replace("Welcome", f"Welcome {i}").encode()
    return files


def write(root: Path, files: dict[str, bytes]) -> Path:
    for name, body in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_bytes(body)
    return root


def upload(bench: Bench, root: Path, remote: str) -> tuple[str, float]:
    start = time.perf_counter()
    folder = bench.client.translation.upload_folder(root, remote)
    return folder, time.perf_counter() - start


def section_jobs(bench: Bench, tmp: Path) -> None:
    print("\n1. Translate batch jobs per translation job (one per content type present)")
    samples = tmp / "samples"
    written = [p.relative_to(samples).as_posix() for p in write_samples(samples)]
    one_type = write(tmp / "one-type", {f"notes/n{i}.txt": f"Note {i}. {TEXT}".encode() for i in range(5)})
    cases = [("bundled samples", samples, written), ("one type (5 .txt)", one_type, [f"n{i}.txt" for i in range(5)])]
    print(f"{'folder':<20}{'files':>6}{'upload s':>10}{'types present':>15}{'Translate jobs':>16}  check")
    for label, root, paths in cases:
        folder, seconds = upload(bench, root, f"bench/translation/{root.name}")
        job, _, _ = bench.run(folder)
        present, started = types_present(paths), bench.translate_jobs(job.jobId)
        names_ok = sorted(started) == sorted(f"{job.jobId}-{slug}" for slug in present)
        check = (
            "OK" if len(started) == len(present) and names_ok else f"MISMATCH {sorted(started)} vs {sorted(present)}"
        )
        print(f"{label:<20}{len(paths):>6}{seconds:>10.2f}{len(present):>15}{len(started):>16}  {check}")
    print("(uploads: client.translation.upload_folder, one POST /uploads + presigned PUT per file)")


def section_scale(bench: Bench, tmp: Path, n: int, direct: bool) -> None:
    docx = (tmp / "samples" / "report.docx").read_bytes()
    print(f"\n2. State transitions, 10 vs {n} files (same types: text, html, docx), into {bench.languages}")
    small, small_upload = upload(bench, write(tmp / "small", mix(10, docx)), "bench/translation/small")
    bucket, key = small.removeprefix("s3://").split("/", 1)
    prefix = key.removesuffix("small/") + "large/"  # users/<sub>/bench/translation/large/
    large_files = mix(n, docx)
    if direct:
        s3, start = bench.runtime.client("s3"), time.perf_counter()
        for name, body in large_files.items():
            s3.put_object(Bucket=bucket, Key=prefix + name, Body=body)
        large, large_upload, how = f"s3://{bucket}/{prefix}", time.perf_counter() - start, "put_object (direct)"
    else:
        large, large_upload = upload(bench, write(tmp / "large", large_files), "bench/translation/large")
        how = "presigned PUTs"
    print(
        f"uploads: 10 files by presigned PUTs in {small_upload:.2f} s ({10 / small_upload:.0f} files/s), "
        f"{n} files by {how} in {large_upload:.2f} s ({n / large_upload:.0f} files/s)"
    )
    runs = [(files, *bench.run(folder)) for files, folder in ((10, small), (n, large))]
    print(
        f"{'files':>6}{'status':>11}{'events':>8}{'transitions':>13}{'Stage':>7}{'Restore':>9}{'Translate jobs':>16}"
        f"{'wall s':>8}{'files/s':>9}{'staging s':>11}{'translate+restore s':>21}{'longest Translate job s':>25}"
        f"{'finish s':>10}"
    )
    for files, job, events, wall in runs:
        states = entered(events)
        names, at = collections.Counter(name for name, _ in states), dict(reversed(states))
        translate = bench.translate_jobs(job.jobId)
        print(
            f"{files:>6}{job.status:>11}{len(events):>8}{len(states):>13}{names['Stage']:>7}{names['Restore']:>9}"
            f"{len(translate):>16}{wall:>8.2f}{files / wall:>9.1f}{at['RecordTranslating'] - at['Stage']:>11.2f}"
            f"{at['Finish'] - at['RecordTranslating']:>21.2f}{max(translate.values()):>25.2f}"
            f"{events[-1]['timestamp'].timestamp() - at['Finish']:>10.2f}"
        )
    (_, _, small_events, _), (_, large_job, large_events, _) = runs
    small_names, large_names = (
        collections.Counter(name for name, _ in entered(e)) for e in (small_events, large_events)
    )
    ratio = sum(large_names.values()) / sum(small_names.values())
    print(f"transitions {n}/10 = {ratio:.2f} (expected 1.00); events {len(large_events) / len(small_events):.2f}")
    if small_names != large_names:
        print(f"  states entered more often: at 10 {small_names - large_names}, at {n} {large_names - small_names}")
    section_staging(bench, large_job, entered(large_events), [prefix + name for name in large_files], bucket)


def section_staging(
    bench: Bench, job: TranslationJobView, states: list[tuple[str, float]], keys: list[str], bucket: str
) -> None:
    at = dict(reversed(states))
    staged, seconds = (job.summary.files if job.summary else 0), at["RecordTranslating"] - at["Stage"]
    s3, target = bench.runtime.client("s3"), bench.runtime.stack.outputs["ArtifactBucketName"]
    bench.runtime.wait_idle(30)

    def copy(pair: tuple[int, str]) -> None:
        s3.copy_object(
            Bucket=target, Key=f"bench/baseline/{pair[0]:07d}", CopySource={"Bucket": bucket, "Key": pair[1]}
        )

    start = time.perf_counter()
    for pair in enumerate(keys):
        copy(pair)
    baseline = time.perf_counter() - start
    start = time.perf_counter()
    with ThreadPoolExecutor(max_workers=16) as pool:
        list(pool.map(copy, enumerate(keys)))
    threaded = time.perf_counter() - start
    print(f"\n3. Staging throughput through the local S3 ({staged} of {len(keys)} files staged)")
    print(f"{'':<58}{'files':>7}{'seconds':>9}{'files/s':>9}{'ratio':>8}")
    for label, files, took in (
        ("baseline: sequential copy_object, one boto3 client", len(keys), baseline),
        ("the Stage Lambda (16 threads): Stage -> RecordTranslating", staged, seconds),
        ("(for reference) copy_object from 16 threads, one client", len(keys), threaded),
    ):
        print(f"{label:<58}{files:>7}{took:>9.2f}{files / took:>9.0f}{files / took / (len(keys) / baseline):>7.2f}x")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=1000, help="files of the large job (1000: one listing page)")
    parser.add_argument("--languages", default="de", help="target languages, comma-separated")
    parser.add_argument("--direct-upload", action="store_true", help="put the large folder with the s3 client")
    parser.add_argument("--timeout", type=float, default=300.0, help="limit per job (seconds)")
    args = parser.parse_args()
    print(load())
    started = time.perf_counter()
    runtime = LocalRuntime(port=0)
    server_errors = ServerErrors()
    logging.getLogger("werkzeug").addFilter(server_errors)
    info = runtime.start()
    try:
        lambdas = LambdaCounter(runtime.aws.lambdas)
        auth = CognitoAuth(info.user_pool_client_id, info.username, info.password, info.region, info.aws_endpoint_url)
        print(f"local runtime started in {time.perf_counter() - started:.1f} s")
        with SagestepClient(info.api_url, auth) as client, tempfile.TemporaryDirectory() as tmp:
            bench = Bench(runtime, client, args.languages.split(","), args.timeout)
            section_jobs(bench, Path(tmp))
            section_scale(bench, Path(tmp), args.files, args.direct_upload)
        errors = "".join(f"\n  {n} x {error}" for error, n in sorted(lambdas.errors.items()))
        print(f"\nLambda errors:{errors or ' none'}; moto server errors: {server_errors.report()}")
    finally:
        runtime.stop()
        logging.getLogger("werkzeug").removeFilter(server_errors)
    print(f"benchmark took {time.perf_counter() - started:.0f} s; {load()}")


if __name__ == "__main__":
    main()
