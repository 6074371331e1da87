"""A labeling batch's reports: who labeled what, how fast, how well, and what the audits changed.

The reference built these by hand (a Glue crawler over the output manifests and worker responses, Athena views,
QuickSight). Here one function reads what Ground Truth wrote for every job of the batch (the output manifest and
the worker responses, ``<out>/<LabelingJobName>/annotations/worker-response/iteration-<n>/<id>/<ts>.json``) and
computes three row sets, written as Parquet for Athena (``write_parquet``; tables in ``report_schema``) and
summed up into the bounded JSON of ``GET /batch/{batchId}/report`` (``build_report``):

* annotations: one row per worker answer, with the consolidated label and whether the worker agreed with it;
* items: one row per item per job, with the label, its confidence and, when a later level labeled the same item
  again (an audit or a review: its lines carry this job's label attribute), what that job did with it:
  ``confirmed`` (same label, or ``adjustment-status: unadjusted``), ``adjusted`` or ``failed``;
* workers: per worker per job and across the batch: jobs, labels, seconds per item (total, min, mean, max),
  agreement with the consolidated labels and the estimated accuracy of the same consolidation sagestep's ACS
  Lambda runs (Dawid-Skene for classes; F1 against the consolidated label for boxes and entities).

Items are matched across jobs by ``item_key`` (the ``source-ref``, or a hash of the ``source`` text), not by
``datasetObjectId``: a chained job's manifest may be filtered or merged, so its line numbers differ.
"""

from __future__ import annotations

import hashlib
import io
import json
import statistics
from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from sagestep_service.platform import objects
from sagestep_service.platform.listing import PAGE_SIZE, list_folder
from sagestep_service.workflows.labeling import report_schema
from sagestep_service.workflows.labeling.annotations import (
    ADJUSTED,
    UNADJUSTED,
    AnswerError,
    Parsed,
    ReadLabel,
    agrees,
    kind_of_modality,
    parse_answer,
    read_label,
)
from sagestep_service.workflows.labeling.ground_truth_lambdas import WorkerAnswer, run_consolidation

TOP_LABELS = 50
TOP_WORKERS = 100
MAX_WINDOWS = 168  #: a week of hours; older windows are summed into the report's ``truncated``
CONFIRMED, FAILED = "confirmed", "failed"


def worker_response_uri(output_path: str, labeling_job_name: str) -> str:
    """``<S3OutputPath>/<LabelingJobName>/annotations/worker-response/``."""
    return f"{output_path.rstrip('/')}/{labeling_job_name}/annotations/worker-response/"


class JobSource(BaseModel):
    """One labeling job of the batch, and where Ground Truth wrote its output."""

    model_config = ConfigDict(extra="forbid")

    jobName: str
    labelingJobName: str
    level: int
    modality: str
    labelAttribute: str
    outputManifestUri: str | None = Field(default=None, description="None: the job wrote no output.")
    workerResponseUri: str | None = Field(default=None, description="See `worker_response_uri`.")
    classes: list[str] = Field(default_factory=list, description="The label categories (empty: those answered).")


@dataclass(frozen=True)
class Response:
    """One worker's answer as ``worker-response`` files hold it."""

    item: str
    worker: str
    content: Mapping[str, Any]
    accepted: datetime | None
    submitted: datetime | None
    seconds: float | None


@dataclass
class ReportRows:
    """The three tables' rows (column names of ``report_schema``)."""

    annotations: list[dict[str, Any]] = field(default_factory=list)
    items: list[dict[str, Any]] = field(default_factory=list)
    workers: list[dict[str, Any]] = field(default_factory=list)

    def table(self, name: str) -> list[dict[str, Any]]:
        report_schema.columns(name)
        rows: list[dict[str, Any]] = getattr(self, name)
        return rows


# --- reading S3 ------------------------------------------------------------------------------------------------------


def _time(value: Any) -> datetime | None:
    """Ground Truth's ``2026-12-02T10:00:31.200Z`` as a naive UTC datetime (None when absent or unreadable)."""
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    if parsed.tzinfo is not None:
        parsed = parsed.astimezone(UTC).replace(tzinfo=None)
    return parsed


def parse_responses(item: str, document: Mapping[str, Any]) -> list[Response]:
    """The answers of one worker-response file."""
    found = []
    for answer in document.get("answers") or []:
        if not isinstance(answer, Mapping) or not isinstance(answer.get("answerContent"), Mapping):
            continue
        seconds = answer.get("timeSpentInSeconds")
        found.append(
            Response(
                item=item,
                worker=str(answer.get("workerId", "")),
                content=answer["answerContent"],
                accepted=_time(answer.get("acceptanceTime")),
                submitted=_time(answer.get("submissionTime")),
                seconds=float(seconds) if isinstance(seconds, int | float) and not isinstance(seconds, bool) else None,
            )
        )
    return found


def read_responses(s3: Any, uri: str, *, page_size: int = PAGE_SIZE) -> list[Response]:
    """Every answer under a job's worker-response prefix (every iteration; listed page by page). A worker who
    answered an item more than once (a later iteration) counts with its latest submission."""
    bucket, prefix = objects.split_uri(uri)
    latest: dict[tuple[str, str], Response] = {}
    for listed in list_folder(s3, bucket, prefix, page_size=page_size):
        parts = listed.path.split("/")
        if len(parts) < 3 or not listed.key.endswith(".json"):
            continue
        document = json.loads(s3.get_object(Bucket=bucket, Key=listed.key)["Body"].read())
        for response in parse_responses(parts[-2], document):
            key = (response.item, response.worker)
            kept = latest.get(key)
            if kept is None or (response.submitted or datetime.min) >= (kept.submitted or datetime.min):
                latest[key] = response
    return [latest[key] for key in sorted(latest, key=lambda k: (_order(k[0]), k[1]))]


def _order(item: str) -> tuple[int, str]:
    return (int(item), "") if item.isdigit() else (1 << 62, item)


def read_manifest(s3: Any, uri: str) -> list[dict[str, Any]]:
    """A JSON Lines manifest's objects (blank lines skipped)."""
    body = objects.read_bytes(s3, uri).decode("utf-8")
    return [json.loads(line) for line in body.splitlines() if line.strip()]


def collect(s3: Any, batch_id: str, jobs: Sequence[JobSource]) -> ReportRows:
    """Read every job's output manifest and worker responses, and compute the rows."""
    manifests = {j.jobName: read_manifest(s3, j.outputManifestUri) if j.outputManifestUri else [] for j in jobs}
    responses = {j.jobName: read_responses(s3, j.workerResponseUri) if j.workerResponseUri else [] for j in jobs}
    return build_rows(batch_id, jobs, manifests, responses)


# --- rows (pure) -----------------------------------------------------------------------------------------------------


def item_key(line: Mapping[str, Any]) -> str:
    """The item across jobs: its ``source-ref``, or ``sha256:<hex>`` of its ``source`` text."""
    if "source-ref" in line:
        return str(line["source-ref"])
    return "sha256:" + hashlib.sha256(str(line.get("source", "")).encode()).hexdigest()


def _hour(moment: datetime | None) -> datetime | None:
    return None if moment is None else moment.replace(minute=0, second=0, microsecond=0)


def _parse(content: Mapping[str, Any]) -> Parsed | None:
    try:
        return parse_answer(content)
    except AnswerError:
        return None


def _names(parsed: Parsed) -> list[str]:
    """The class names an answer gives (one per box or entity; none for a custom answer)."""
    if parsed.label:
        return [parsed.label]
    return sorted(parsed.labels) + [b.label for b in parsed.boxes] + [s.label for s in sorted(parsed.spans)]


def _outcome(earlier: ReadLabel, later: ReadLabel) -> str:
    if later.failed:
        return FAILED
    if later.adjustment_status in (ADJUSTED, UNADJUSTED):
        return ADJUSTED if later.adjustment_status == ADJUSTED else CONFIRMED
    same = later.display == earlier.display and sorted(later.names) == sorted(earlier.names)
    return CONFIRMED if same else ADJUSTED


def build_rows(
    batch_id: str,
    jobs: Sequence[JobSource],
    manifests: Mapping[str, Sequence[Mapping[str, Any]]],
    responses: Mapping[str, Sequence[Response]],
) -> ReportRows:
    """The rows from every job's output manifest lines and worker answers (module docstring)."""
    rows = ReportRows()
    ordered = sorted(jobs, key=lambda j: (j.level, j.jobName))
    per_job_workers: dict[str, dict[str, dict[str, Any]]] = {}
    for job in ordered:
        lines = manifests.get(job.jobName, [])
        answers = responses.get(job.jobName, [])
        labels = {str(n): read_label(line, job.labelAttribute) for n, line in enumerate(lines)}
        run = run_consolidation(
            [WorkerAnswer(r.item, r.worker, r.content) for r in answers],
            job.classes,
            kind=kind_of_modality(job.modality),
        )
        counts = Counter(r.item for r in answers)
        common = {
            "batch_id": batch_id,
            "job_name": job.jobName,
            "level": job.level,
            "labeling_job_name": job.labelingJobName,
            "label_attribute": job.labelAttribute,
        }
        stats: dict[str, dict[str, Any]] = defaultdict(lambda: {"seconds": [], "agree": 0, "labels": 0})
        for r in answers:
            consolidated = labels.get(r.item)
            parsed = _parse(r.content)
            agreed = bool(parsed and consolidated and agrees(parsed, consolidated.parsed))
            line = lines[int(r.item)] if r.item.isdigit() and int(r.item) < len(lines) else {}
            rows.annotations.append(
                {
                    **common,
                    "dataset_object_id": r.item,
                    "item_key": item_key(line) if line else None,
                    "worker_id": r.worker,
                    "label": parsed.display() if parsed else None,
                    "class_names": "|".join(_names(parsed)) if parsed else None,
                    "acceptance_time": r.accepted,
                    "submission_time": r.submitted,
                    "time_spent_seconds": r.seconds,
                    "consolidated_label": consolidated.display if consolidated and not consolidated.failed else None,
                    "agrees": agreed,
                    "window_start": _hour(r.submitted),
                }
            )
            worker = stats[r.worker]
            worker["labels"] += 1
            worker["agree"] += agreed
            if r.seconds is not None:
                worker["seconds"].append(r.seconds)
        for n, line in enumerate(lines):
            label = labels[str(n)]
            rows.items.append(
                {
                    **common,
                    "modality": job.modality,
                    "dataset_object_id": str(n),
                    "item_key": item_key(line),
                    "label": label.display if label and not label.failed else None,
                    "class_names": "|".join(label.names) if label and not label.failed else None,
                    "confidence": label.confidence if label else None,
                    "answers": counts.get(str(n), 0),
                    "failed": label is None or label.failed,
                    "failure_reason": (label.failure_reason if label else "not labeled")
                    if not label or label.failed
                    else None,
                    "adjustment_status": label.adjustment_status if label else None,
                    "audited_by": None,
                    "audit_label": None,
                    "audit_outcome": None,
                }
            )
        workers = {}
        for worker_id, s in sorted(stats.items()):
            estimate = run.workers.get(worker_id)
            workers[worker_id] = {
                "batch_id": batch_id,
                "scope": "job",
                "job_name": job.jobName,
                "worker_id": worker_id,
                "jobs": 1,
                "labels": s["labels"],
                **_seconds(s["seconds"]),
                "agreement": s["agree"] / s["labels"] if s["labels"] else None,
                "estimated_accuracy": estimate.accuracy if estimate else None,
            }
        per_job_workers[job.jobName] = workers
        rows.workers.extend(workers.values())
    _link_audits(ordered, manifests, rows.items)
    rows.workers.extend(_batch_workers(batch_id, per_job_workers))
    return rows


def _seconds(values: Sequence[float]) -> dict[str, float | None]:
    if not values:
        return {"total_seconds": 0.0, "min_seconds": None, "mean_seconds": None, "max_seconds": None}
    return {
        "total_seconds": float(sum(values)),
        "min_seconds": float(min(values)),
        "mean_seconds": float(sum(values) / len(values)),
        "max_seconds": float(max(values)),
    }


def _link_audits(
    jobs: Sequence[JobSource], manifests: Mapping[str, Sequence[Mapping[str, Any]]], items: list[dict[str, Any]]
) -> None:
    """Fill each item row's audit columns from the first later job (by level, then name) that labeled it again."""
    by_job: dict[str, dict[str, dict[str, Any]]] = defaultdict(dict)
    for row in items:
        by_job[row["job_name"]].setdefault(row["item_key"], row)
    for n, earlier in enumerate(jobs):
        for later in jobs[n + 1 :]:
            if later.level <= earlier.level:
                continue
            for line in manifests.get(later.jobName, []):
                before = read_label(line, earlier.labelAttribute)
                target = by_job[earlier.jobName].get(item_key(line))
                if before is None or target is None or target["audited_by"] is not None:
                    continue
                after = read_label(line, later.labelAttribute)
                target["audited_by"] = later.jobName
                target["audit_label"] = after.display if after and not after.failed else None
                target["audit_outcome"] = FAILED if after is None else _outcome(before, after)


def _batch_workers(batch_id: str, per_job: Mapping[str, Mapping[str, Mapping[str, Any]]]) -> list[dict[str, Any]]:
    merged: dict[str, list[Mapping[str, Any]]] = defaultdict(list)
    for workers in per_job.values():
        for worker_id, row in workers.items():
            merged[worker_id].append(row)
    out = []
    for worker_id, parts in sorted(merged.items()):
        labels = sum(p["labels"] for p in parts)
        timed = [p for p in parts if p["min_seconds"] is not None]
        estimated = [(p["estimated_accuracy"], p["labels"]) for p in parts if p["estimated_accuracy"] is not None]
        weight = sum(n for _, n in estimated)
        out.append(
            {
                "batch_id": batch_id,
                "scope": "batch",
                "job_name": None,
                "worker_id": worker_id,
                "jobs": len(parts),
                "labels": labels,
                "total_seconds": float(sum(p["total_seconds"] for p in parts)),
                "min_seconds": min((p["min_seconds"] for p in timed), default=None),
                "mean_seconds": (
                    sum(p["total_seconds"] for p in timed) / sum(p["labels"] for p in timed) if timed else None
                ),
                "max_seconds": max((p["max_seconds"] for p in timed), default=None),
                "agreement": (sum((p["agreement"] or 0) * p["labels"] for p in parts) / labels) if labels else None,
                "estimated_accuracy": sum(a * n for a, n in estimated) / weight if weight else None,
            }
        )
    return out


# --- the JSON report ---------------------------------------------------------------------------------------------


class WindowCount(BaseModel):
    windowStart: str = Field(description="The hour (UTC, ISO 8601).")
    annotations: int
    workers: int


class LabelCount(BaseModel):
    label: str = Field(description="A class name.")
    annotations: int = Field(description="Worker answers naming the class.")
    items: int = Field(description="Consolidated labels naming the class.")


class LabelAttributeSummary(BaseModel):
    labelAttribute: str
    jobName: str
    level: int
    modality: str
    items: int
    labeled: int
    failed: int
    meanConfidence: float | None
    annotations: int
    workers: int
    audited: int = Field(description="Items a later level labeled again.")


class AuditOutcomeCount(BaseModel):
    label: str = Field(description="The audited item's earlier label.")
    audited: int
    confirmed: int
    adjusted: int
    failed: int


class WorkerSummary(BaseModel):
    workerId: str
    jobs: int
    labels: int
    totalSeconds: float
    minSeconds: float | None
    meanSeconds: float | None
    maxSeconds: float | None
    agreement: float | None
    estimatedAccuracy: float | None


class TeamStats(BaseModel):
    workers: int
    jobs: int
    items: int
    annotations: int
    totalSeconds: float
    meanSecondsPerAnnotation: float | None
    medianSecondsPerAnnotation: float | None
    meanAgreement: float | None = Field(description="Share of all answers equal to the consolidated label.")
    meanEstimatedAccuracy: float | None = Field(description="Mean over workers of their estimated accuracy.")


class BatchReport(BaseModel):
    """``GET /batch/{batchId}/report``: bounded, the long lists cut to their top entries (``truncated`` says how
    many entries each list left out; the Parquet tables hold everything)."""

    batchId: str
    generatedAt: str
    annotationsPerWindow: list[WindowCount]
    perLabel: list[LabelCount]
    perLabelAttribute: list[LabelAttributeSummary]
    auditOutcomes: list[AuditOutcomeCount]
    workers: list[WorkerSummary]
    team: TeamStats
    truncated: dict[str, int] = Field(default_factory=dict)


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def build_report(
    batch_id: str,
    rows: ReportRows,
    jobs: Sequence[JobSource],
    *,
    now: datetime | None = None,
    top_labels: int = TOP_LABELS,
    top_workers: int = TOP_WORKERS,
    max_windows: int = MAX_WINDOWS,
) -> BatchReport:
    truncated: dict[str, int] = {}
    windows: dict[datetime, list[str]] = defaultdict(list)
    for a in rows.annotations:
        if a["window_start"] is not None:
            windows[a["window_start"]].append(a["worker_id"])
    hours = sorted(windows)
    if len(hours) > max_windows:
        truncated["annotationsPerWindow"] = len(hours) - max_windows
        hours = hours[-max_windows:]
    per_window = [
        WindowCount(windowStart=_iso(h), annotations=len(windows[h]), workers=len(set(windows[h]))) for h in hours
    ]

    answered: Counter[str] = Counter()
    for a in rows.annotations:
        if a["class_names"]:
            answered.update(set(a["class_names"].split("|")))
    consolidated: Counter[str] = Counter()
    for i in rows.items:
        if i["class_names"]:
            consolidated.update(set(i["class_names"].split("|")))
    names = sorted(set(answered) | set(consolidated), key=lambda n: (-(answered[n] + consolidated[n]), n))
    if len(names) > top_labels:
        truncated["perLabel"] = len(names) - top_labels
    per_label = [LabelCount(label=n, annotations=answered[n], items=consolidated[n]) for n in names[:top_labels]]

    attributes = []
    for job in sorted(jobs, key=lambda j: (j.level, j.jobName)):
        items = [i for i in rows.items if i["job_name"] == job.jobName]
        notes = [a for a in rows.annotations if a["job_name"] == job.jobName]
        confident = [i["confidence"] for i in items if i["confidence"] is not None]
        attributes.append(
            LabelAttributeSummary(
                labelAttribute=job.labelAttribute,
                jobName=job.jobName,
                level=job.level,
                modality=job.modality,
                items=len(items),
                labeled=sum(not i["failed"] for i in items),
                failed=sum(i["failed"] for i in items),
                meanConfidence=sum(confident) / len(confident) if confident else None,
                annotations=len(notes),
                workers=len({a["worker_id"] for a in notes}),
                audited=sum(i["audited_by"] is not None for i in items),
            )
        )

    outcomes: dict[str, Counter[str]] = defaultdict(Counter)
    for i in rows.items:
        if i["audit_outcome"]:
            outcomes[i["label"] or ""][i["audit_outcome"]] += 1
    audited = sorted(outcomes, key=lambda label: (-sum(outcomes[label].values()), label))
    if len(audited) > top_labels:
        truncated["auditOutcomes"] = len(audited) - top_labels
    audit_list = [
        AuditOutcomeCount(
            label=label,
            audited=sum(outcomes[label].values()),
            confirmed=outcomes[label][CONFIRMED],
            adjusted=outcomes[label][ADJUSTED],
            failed=outcomes[label][FAILED],
        )
        for label in audited[:top_labels]
    ]

    batch_workers = sorted(
        (w for w in rows.workers if w["scope"] == "batch"), key=lambda w: (-w["labels"], w["worker_id"])
    )
    if len(batch_workers) > top_workers:
        truncated["workers"] = len(batch_workers) - top_workers
    worker_list = [
        WorkerSummary(
            workerId=w["worker_id"],
            jobs=w["jobs"],
            labels=w["labels"],
            totalSeconds=w["total_seconds"],
            minSeconds=w["min_seconds"],
            meanSeconds=w["mean_seconds"],
            maxSeconds=w["max_seconds"],
            agreement=w["agreement"],
            estimatedAccuracy=w["estimated_accuracy"],
        )
        for w in batch_workers[:top_workers]
    ]
    seconds = [a["time_spent_seconds"] for a in rows.annotations if a["time_spent_seconds"] is not None]
    estimates = [w["estimated_accuracy"] for w in batch_workers if w["estimated_accuracy"] is not None]
    team = TeamStats(
        workers=len(batch_workers),
        jobs=len(jobs),
        items=len(rows.items),
        annotations=len(rows.annotations),
        totalSeconds=float(sum(seconds)),
        meanSecondsPerAnnotation=sum(seconds) / len(seconds) if seconds else None,
        medianSecondsPerAnnotation=float(statistics.median(seconds)) if seconds else None,
        meanAgreement=sum(a["agrees"] for a in rows.annotations) / len(rows.annotations) if rows.annotations else None,
        meanEstimatedAccuracy=sum(estimates) / len(estimates) if estimates else None,
    )
    return BatchReport(
        batchId=batch_id,
        generatedAt=_iso(now or datetime.now(UTC)),
        annotationsPerWindow=per_window,
        perLabel=per_label,
        perLabelAttribute=attributes,
        auditOutcomes=audit_list,
        workers=worker_list,
        team=team,
        truncated=truncated,
    )


# --- Parquet -------------------------------------------------------------------------------------------------------


def write_parquet(s3: Any, bucket: str, prefix: str, rows: ReportRows) -> list[str]:
    """Write ``<prefix>{annotations,workers,items}/part-0.parquet`` (every table, empty ones too, so that Athena
    and DuckDB find each); returns the keys. pyarrow is imported here: on AWS the function gets it from the AWS
    SDK for pandas layer."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    keys = []
    for table in report_schema.TABLES:
        schema = report_schema.arrow_schema(table)
        data = pa.Table.from_pylist(rows.table(table), schema=schema)
        buffer = io.BytesIO()
        pq.write_table(data, buffer, compression="snappy")
        key = report_schema.table_key(prefix, table)
        s3.put_object(Bucket=bucket, Key=key, Body=buffer.getvalue(), ContentType="application/vnd.apache.parquet")
        keys.append(key)
    return keys
