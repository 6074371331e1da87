"""Restore: a content type's translations copied from Translate's output to ``<output>/<language>/<path>``, with
each failed file's reason from Translate's details files.

Translate writes ``<output>/<account>-TranslateText-<jobId>/<language>.<staged name>`` and, per language,
``details/<language>.auxiliary-translation-details.json`` listing the translated and the failed files. Each call
handles one manifest page (as staging wrote them), so the loop takes as many calls as staging did; the first call
reads the details files once and keeps their failures in ``results/<type>/errors.json`` for the later calls.
"""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from botocore.exceptions import ClientError

from sagestep_service.workflows.translation.models import RestoreTask
from sagestep_service.workflows.translation.staging import COPY_THREADS, manifest_key
from sagestep_service.workflows.translation.translate_service import details_key, output_folder


def errors_key(work_prefix: str, slug: str) -> str:
    return f"{work_prefix}results/{slug}/errors.json"


def results_key(work_prefix: str, slug: str, part: int) -> str:
    return f"{work_prefix}results/{slug}/{part:05d}.json"


def _read_json(s3: Any, bucket: str, key: str) -> Any:
    return json.loads(s3.get_object(Bucket=bucket, Key=key)["Body"].read())


def _bucket_key(uri: str) -> tuple[str, str]:
    bucket, _, key = uri.removeprefix("s3://").partition("/")
    return bucket, key


def read_details(s3: Any, task: RestoreTask) -> tuple[dict[str, dict[str, str]], dict[str, dict[str, int]]]:
    """Per language: the failed staged files with their reason, and the counts Translate reports."""
    bucket, prefix = _bucket_key(_output_uri(task))
    failures: dict[str, dict[str, str]] = {}
    counts: dict[str, dict[str, int]] = {}
    for language in task.plan["translation"]["TargetLanguageCodes"]:
        try:
            details = _read_json(s3, bucket, prefix + details_key(language))
        except ClientError as exc:
            if exc.response["Error"]["Code"] not in {"NoSuchKey", "404"}:
                raise
            details = {}
        failed: dict[str, str] = {}
        for entry in details.get("details", []):
            error = (entry.get("auxiliaryData") or {}).get("error")
            if error:
                failed[str(entry.get("sourceFile", ""))] = (
                    f"{error.get('errorCode', 'Error')}: {error.get('errorMessage', '')}"
                )
        failures[language] = failed
        counts[language] = {"charactersBilled": int(details.get("charactersTranslated") or 0)}
    return failures, counts


def _output_uri(task: RestoreTask) -> str:
    """Translate's output folder of the task's job."""
    work = task.plan["work"]
    folder = output_folder(task.plan["accountId"], task.translateJobId)
    return f"s3://{work['bucket']}/{work['prefix']}translated/{task.item.slug}/{folder}"


def restore_part(s3: Any, task: RestoreTask) -> dict[str, Any]:
    """Copy back the task's content type's files of one manifest page; returns the loop's next state."""
    work, output = task.plan["work"], task.plan["output"]
    languages: list[str] = task.plan["translation"]["TargetLanguageCodes"]
    slug = task.item.slug
    restored = {
        language: dict(task.restored.get("languages", {}).get(language, {}) or {"translated": 0, "failed": 0})
        for language in languages
    }
    if task.part == 0:
        failures, counts = read_details(s3, task)
        s3.put_object(Bucket=work["bucket"], Key=errors_key(work["prefix"], slug), Body=json.dumps(failures).encode())
        for language in languages:
            restored[language]["charactersBilled"] = counts[language]["charactersBilled"]
    else:
        failures = _read_json(s3, work["bucket"], errors_key(work["prefix"], slug))
    manifest = _read_json(s3, work["bucket"], manifest_key(work["prefix"], task.part))
    translated_bucket, translated_prefix = _bucket_key(_output_uri(task))
    results: list[dict[str, Any]] = []
    copies: list[tuple[dict[str, Any], str, str]] = []
    for entry in (f for f in manifest["files"] if f["type"] == slug):
        for language in languages:
            result: dict[str, Any] = {"path": entry["path"], "language": language}
            reason = failures.get(language, {}).get(entry["staged"])
            if reason:
                result.update(status="FAILED", reason=reason)
            else:
                destination = f"{output['prefix']}{language}/{entry['path']}"
                result.update(status="TRANSLATED", resultUri=f"s3://{output['bucket']}/{destination}")
                copies.append((result, f"{translated_prefix}{language}.{entry['staged']}", destination))
            results.append(result)

    def copy(item: tuple[dict[str, Any], str, str]) -> None:
        result, source, destination = item
        try:
            s3.copy_object(
                Bucket=output["bucket"], Key=destination, CopySource={"Bucket": translated_bucket, "Key": source}
            )
        except ClientError as exc:
            if exc.response["Error"]["Code"] not in {"NoSuchKey", "404"}:
                raise
            result.update(status="FAILED", reason="Translate wrote no output for this file", resultUri=None)

    with ThreadPoolExecutor(max_workers=COPY_THREADS) as pool:
        list(pool.map(copy, copies))
    for result in results:
        restored[result["language"]]["translated" if result["status"] == "TRANSLATED" else "failed"] += 1
    if results:
        s3.put_object(
            Bucket=work["bucket"],
            Key=results_key(work["prefix"], slug, task.part),
            Body=json.dumps([{k: v for k, v in r.items() if v is not None} for r in results]).encode(),
            ContentType="application/json",
        )
    part = task.part + 1
    return {"part": part, "parts": task.parts, "more": part < task.parts, "restored": {"languages": restored}}
