"""A labeling batch's reports against moto S3: a level-1 classification job with two good workers and a spammer,
a level-2 review by an expert that confirms, adjusts or fails items; worker responses read page by page (a later
iteration replacing an answer), the rows, the bounded JSON report, the Parquet tables read back with pyarrow and
queried with DuckDB under the Glue tables' names.

Given/When/Then.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from sagestep import labeling_reports
from sagestep_service.workflows.labeling import ground_truth_lambdas as gtl
from sagestep_service.workflows.labeling import report_schema, reports, sdk_for_pandas
from sagestep_service.workflows.labeling.annotations import OutputContext, creation_date
from sagestep_service.workflows.labeling.ground_truth import LAMBDA_ACCOUNTS
from tests.unit.translation_helpers import DATA, moto_s3

CLASSES = ["positive", "negative"]
OUT = f"s3://{DATA}/users/alice/labeling/b1/output"
TRUTH = ["positive", "negative", "positive", "positive", "negative", "positive"]
#: the expert's review: item 3 changed, item 5 not reviewed (failed), the others confirmed
REVIEW = {0: "positive", 1: "negative", 2: "positive", 3: "negative", 4: "negative"}


@pytest.fixture
def s3(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    yield from moto_s3(monkeypatch)


def answer(worker: str, label: str, minute: int, seconds: float, hour: int = 10) -> dict[str, Any]:
    return {
        "workerId": worker,
        "workerMetadata": {"identityData": {"identityProviderType": "Cognito", "issuer": "i", "sub": worker}},
        "answerContent": {"crowd-classifier": {"label": label}},
        "acceptanceTime": f"2026-12-02T{hour:02d}:{minute:02d}:00.000Z",
        "submissionTime": f"2026-12-02T{hour:02d}:{minute:02d}:{int(seconds):02d}.000Z",
        "timeSpentInSeconds": seconds,
    }


def put(s3: Any, uri: str, body: str) -> None:
    bucket, key = uri[5:].split("/", 1)
    s3.put_object(Bucket=bucket, Key=key, Body=body.encode())


def write_job(
    s3: Any, name: str, attribute: str, lines: list[dict[str, Any]], answers: dict[int, list[dict[str, Any]]]
) -> list[dict[str, Any]]:
    """Given a finished job: worker-response files and the output manifest consolidated as sagestep's ACS does."""
    for item, given in answers.items():
        put(
            s3,
            f"{reports.worker_response_uri(OUT, name)}iteration-1/{item}/2026-12-02T10:00:00.json",
            json.dumps({"answers": given}),
        )
    run = gtl.run_consolidation(
        [gtl.WorkerAnswer(str(i), a["workerId"], a["answerContent"]) for i, g in answers.items() for a in g],
        CLASSES,
        items=[str(n) for n in range(len(lines))],
    )
    ctx = OutputContext(name, "groundtruth/text-classification", CLASSES, creation_date(datetime(2026, 12, 2, 11)))
    out = []
    for n, line in enumerate(lines):
        label, meta = gtl.output(run, str(n), ctx)
        out.append({**line, **({attribute: label} if label is not None else {}), f"{attribute}-metadata": meta})
    put(s3, f"{OUT}/{name}/manifests/output/output.manifest", "\n".join(json.dumps(line) for line in out) + "\n")
    return out


@pytest.fixture
def batch(s3: Any) -> list[reports.JobSource]:
    lines = [{"source": f"review text {n}"} for n in range(len(TRUTH))]
    first = write_job(
        s3,
        "b1-sentiment",
        "sentiment",
        lines,
        {
            n: [answer("w1", t, n, 20 + n), answer("w2", t, n, 30), answer("spam", "negative", n, 2)]
            for n, t in enumerate(TRUTH)
        },
    )
    write_job(
        s3,
        "b1-review",
        "review",
        first,
        {n: [answer("expert", label, n, 45, hour=12)] for n, label in REVIEW.items()},
    )

    def source(job: str, level: int, attribute: str) -> reports.JobSource:
        return reports.JobSource(
            jobName=job.removeprefix("b1-"),
            labelingJobName=job,
            level=level,
            modality="TextClassification",
            labelAttribute=attribute,
            outputManifestUri=f"{OUT}/{job}/manifests/output/output.manifest",
            workerResponseUri=reports.worker_response_uri(OUT, job),
            classes=CLASSES,
        )

    return [source("b1-review", 2, "review"), source("b1-sentiment", 1, "sentiment")]


def test_worker_responses_are_read_page_by_page_and_a_later_iteration_wins(s3: Any) -> None:
    uri = reports.worker_response_uri(OUT, "job")
    for item in range(5):
        put(s3, f"{uri}iteration-1/{item}/t.json", json.dumps({"answers": [answer("w1", "positive", item, 10)]}))
    put(s3, f"{uri}iteration-2/3/t.json", json.dumps({"answers": [answer("w1", "negative", 59, 10)]}))
    put(s3, f"{uri}iteration-1/", "")  # a folder marker
    found = reports.read_responses(s3, uri, page_size=2)
    assert [(r.item, r.content["crowd-classifier"]["label"]) for r in found] == [
        ("0", "positive"),
        ("1", "positive"),
        ("2", "positive"),
        ("3", "negative"),
        ("4", "positive"),
    ]
    assert found[0].submitted == datetime(2026, 12, 2, 10, 0, 10) and found[0].seconds == 10


def test_rows_record_every_answer_item_audit_and_worker(s3: Any, batch: list[reports.JobSource]) -> None:
    rows = reports.collect(s3, "b1", batch)
    assert len(rows.annotations) == 3 * len(TRUTH) + len(REVIEW)
    first = rows.annotations[0]
    assert {k: first[k] for k in ("job_name", "level", "dataset_object_id", "worker_id", "label")} == {
        "job_name": "sentiment",
        "level": 1,
        "dataset_object_id": "0",
        "worker_id": "spam",
        "label": "negative",
    }
    assert first["window_start"] == datetime(2026, 12, 2, 10) and first["agrees"] is False
    assert set(first) == {c.name for c in report_schema.TABLES["annotations"]}

    items = {(i["job_name"], i["dataset_object_id"]): i for i in rows.items}
    assert [items[("sentiment", str(n))]["label"] for n in range(len(TRUTH))] == TRUTH
    outcomes = [items[("sentiment", str(n))]["audit_outcome"] for n in range(len(TRUTH))]
    assert outcomes == ["confirmed", "confirmed", "confirmed", "adjusted", "confirmed", "failed"]
    assert (
        items[("sentiment", "3")]["audited_by"] == "review" and items[("sentiment", "3")]["audit_label"] == "negative"
    )
    assert items[("review", "5")]["failed"] and items[("review", "5")]["answers"] == 0
    assert items[("review", "0")]["audit_outcome"] is None

    workers = {(w["scope"], w["job_name"], w["worker_id"]): w for w in rows.workers}
    spam, good = workers[("batch", None, "spam")], workers[("batch", None, "w1")]
    assert good["agreement"] == 1.0 and spam["agreement"] == pytest.approx(2 / 6)
    assert good["estimated_accuracy"] > spam["estimated_accuracy"]
    assert (good["min_seconds"], good["max_seconds"], good["total_seconds"]) == (20, 25, sum(range(20, 26)))
    assert good["mean_seconds"] == pytest.approx(22.5)
    assert workers[("job", "review", "expert")]["labels"] == len(REVIEW)


def test_the_json_report_is_bounded_and_sums_the_rows(s3: Any, batch: list[reports.JobSource]) -> None:
    rows = reports.collect(s3, "b1", batch)
    report = reports.build_report("b1", rows, batch, now=datetime(2026, 12, 3, tzinfo=UTC), top_workers=2)
    assert [(w.windowStart, w.annotations, w.workers) for w in report.annotationsPerWindow] == [
        ("2026-12-02T10:00:00Z", 18, 3),
        ("2026-12-02T12:00:00Z", 5, 1),
    ]
    # answers: w1 and w2 give the truth (4 positive, 2 negative each), the spammer 6 negative, the expert 2 + 3;
    # items: level 1 consolidates to the truth, the review to 2 positive + 3 negative (one failed)
    assert {(c.label, c.annotations, c.items) for c in report.perLabel} == {
        ("positive", 4 + 4 + 2, 4 + 2),
        ("negative", 2 + 2 + 6 + 3, 2 + 3),
    }
    assert [(a.jobName, a.level, a.items, a.failed, a.audited) for a in report.perLabelAttribute] == [
        ("sentiment", 1, 6, 0, 6),
        ("review", 2, 6, 1, 0),
    ]
    assert {(o.label, o.audited, o.confirmed, o.adjusted, o.failed) for o in report.auditOutcomes} == {
        ("positive", 4, 2, 1, 1),
        ("negative", 2, 2, 0, 0),
    }
    assert [w.workerId for w in report.workers] == ["spam", "w1"] and report.truncated == {"workers": 2}
    assert report.team.workers == 4 and report.team.annotations == 23 and report.team.jobs == 2
    assert report.team.meanAgreement == pytest.approx((6 + 6 + 2 + 5) / 23)
    assert len(report.model_dump_json()) < 5000


def test_windows_beyond_the_limit_are_left_out_and_counted(s3: Any, batch: list[reports.JobSource]) -> None:
    rows = reports.collect(s3, "b1", batch)
    report = reports.build_report("b1", rows, batch, max_windows=1, top_labels=1)
    assert [w.windowStart for w in report.annotationsPerWindow] == ["2026-12-02T12:00:00Z"]
    assert report.truncated["annotationsPerWindow"] == 1 and report.truncated["perLabel"] == 1


def test_parquet_round_trip_and_the_same_sql_in_duckdb(s3: Any, batch: list[reports.JobSource], tmp_path: Path) -> None:
    import pyarrow.parquet as pq

    rows = reports.collect(s3, "b1", batch)
    prefix = "users/alice/labeling/b1/output/reports/"
    keys = reports.write_parquet(s3, DATA, prefix, rows)
    assert keys == [f"{prefix}{t}/part-0.parquet" for t in ("annotations", "items", "workers")]
    tables = labeling_reports.download_tables(s3, DATA, prefix, tmp_path)
    read = pq.read_table(tables["annotations"][0])
    assert read.schema.names == [c.name for c in report_schema.TABLES["annotations"]]
    assert read.schema.equals(report_schema.arrow_schema("annotations"))
    assert read.num_rows == len(rows.annotations)
    result = labeling_reports.query(
        "SELECT worker_id, count(*) AS labels, avg(CAST(agrees AS INTEGER)) AS agreement FROM annotations "
        "WHERE job_name = 'sentiment' GROUP BY worker_id ORDER BY worker_id",
        tables,
    )
    assert result == [
        {"worker_id": "spam", "labels": 6, "agreement": pytest.approx(2 / 6)},
        {"worker_id": "w1", "labels": 6, "agreement": 1.0},
        {"worker_id": "w2", "labels": 6, "agreement": 1.0},
    ]
    audits = labeling_reports.query(
        "SELECT audit_outcome, count(*) AS n FROM items WHERE audited_by IS NOT NULL GROUP BY 1 ORDER BY 1", tables
    )
    assert audits == [
        {"audit_outcome": "adjusted", "n": 1},
        {"audit_outcome": "confirmed", "n": 4},
        {"audit_outcome": "failed", "n": 1},
    ]
    hour = labeling_reports.query("SELECT max(window_start) AS w FROM annotations", tables)
    assert hour == [{"w": datetime(2026, 12, 2, 12)}]


def test_empty_tables_are_written_and_queried_with_their_columns(s3: Any, tmp_path: Path) -> None:
    reports.write_parquet(s3, DATA, "r/", reports.ReportRows())
    tables = labeling_reports.download_tables(s3, DATA, "r/", tmp_path)
    assert labeling_reports.query("SELECT count(*) AS n FROM workers", tables) == [{"n": 0}]
    missing = labeling_reports.download_tables(s3, DATA, "nothing/", tmp_path / "none")
    assert missing == {"annotations": [], "items": [], "workers": []}
    assert labeling_reports.query("SELECT count(worker_id) AS n FROM annotations", missing) == [{"n": 0}]
    with pytest.raises(ValueError, match="not a table name"):
        labeling_reports.query("SELECT 1", {"x; drop": []})


def test_the_schema_module_serves_glue_without_pyarrow() -> None:
    code = (
        "import sys; from sagestep_service.workflows.labeling import report_schema as r; "
        "cols = r.glue_columns('items'); assert cols[0] == {'Name': 'batch_id', 'Type': 'string', 'Comment': ''}; "
        "assert 'pyarrow' not in sys.modules; print(len(cols))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        cwd=Path(__file__).parents[2],
        env={"PYTHONPATH": "lambdas", "PATH": ""},
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert int(done.stdout) == len(report_schema.TABLES["items"])
    assert set(report_schema.DUCKDB_TYPES) >= {c.type for cols in report_schema.TABLES.values() for c in cols}


def test_the_sdk_for_pandas_layer_is_known_in_every_ground_truth_region() -> None:
    assert set(sdk_for_pandas.LAYER_ARNS) == set(LAMBDA_ACCOUNTS)
    assert sdk_for_pandas.layer_arn("eu-west-1") == (
        "arn:aws:lambda:eu-west-1:336392948345:layer:AWSSDKPandas-Python311-Arm64:2"
    )
    assert sdk_for_pandas.layer_arn("eu-west-1", 30).endswith("-Arm64:30")
    with pytest.raises(ValueError):
        sdk_for_pandas.layer_arn("mars-1")
