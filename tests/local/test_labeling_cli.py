"""``sagestep labeling`` through a local runtime, as a user runs it beside ``sagestep local up``: the runtime's
``local.json`` in a config folder of the test's, the real client and (for ``report --sql``) the runtime's S3.

Batches label the sample reviews (``sagestep.demo.labeling_samples``) with the simulated workforce: the deployment's
crowd, and a team whose name contains ``expert`` for reviews.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner, Result

from sagestep.cli import app
from sagestep.cli.labeling import default_batch_id, run_body
from sagestep.client import CONFIG_DIR_ENV
from sagestep.demo import labeling_samples as samples
from sagestep.local.runtime import LocalRuntime

pytestmark = pytest.mark.slow  # a local runtime

ITEMS = 30


class Cli:
    """The started runtime, published to a config folder, and the CLI run against it."""

    def __init__(self, runtime: LocalRuntime, files: Path) -> None:
        self.runtime, self.files = runtime, files
        self.experts = runtime.stack.outputs["LabelingWorkteamArn"].replace("labelers", "experts")
        (files / "reviews.manifest").write_bytes(samples.manifest(ITEMS))
        (files / "labels.json").write_bytes(samples.categories())

    def __call__(self, *args: str) -> Result:
        return CliRunner().invoke(app, ["labeling", *args, "--local"])

    def json(self, *args: str) -> Any:
        result = self(*args, "--json")
        assert result.exit_code == 0, result.output
        return json.loads(result.stdout)


@pytest.fixture(scope="module")
def cli(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cli]:
    config, files = tmp_path_factory.mktemp("config"), tmp_path_factory.mktemp("files")
    with pytest.MonkeyPatch.context() as patch, LocalRuntime(port=0, sync_poll_interval=0.1) as runtime:
        patch.setenv(CONFIG_DIR_ENV, str(config))
        runtime.publish(config)
        yield Cli(runtime, files)
        runtime.faults.clear()


@pytest.fixture(scope="module")
def reviewed(cli: Cli) -> Result:
    """``labeling run`` of the reviews, two levels: 3 crowd workers, experts for confidence below 0.9."""
    return cli(
        "run", str(cli.files / "reviews.manifest"), "--categories", str(cli.files / "labels.json"),
        "--modality", "TextClassification", "--workers", "3", "--review-below", "0.9",
        "--expert-team", cli.experts, "--batch-id", "cli-reviews", "--wait", "--timeout", "60",
    )  # fmt: skip


def test_run_uploads_the_files_and_labels_in_two_levels_crowd_then_experts(cli: Cli, reviewed: Result) -> None:
    assert reviewed.exit_code == 0, reviewed.output
    assert "level 1 COMPLETE" in reviewed.stdout and "level 2 COMPLETE" in reviewed.stdout  # the progress lines
    batch = cli.json("show", "cli-reviews")
    assert batch["status"] == "COMPLETE"
    crowd, review = (level["jobs"][0] for level in batch["levels"])
    assert crowd["itemCounts"]["total"] == ITEMS
    assert crowd["inputManifests"][0]["s3Uri"].endswith("/labeling-input/cli-reviews/reviews.manifest")
    assert 0 < review["itemCounts"]["total"] < ITEMS
    assert {w["workerId"].split("-")[1] for w in batch["workers"]} == {"crowd", "expert"}
    assert "cli-reviews" in cli.json("list")["COMPLETE"]


def test_report_prints_the_summary_and_its_json(cli: Cli, reviewed: Result) -> None:
    result = cli("report", "cli-reviews")
    assert result.exit_code == 0, result.output
    assert "answers by" in result.stdout and "sim-crowd-1" in result.stdout and "review" in result.stdout
    report = cli.json("report", "cli-reviews")
    assert [a["jobName"] for a in report["perLabelAttribute"]] == ["crowd", "review"]
    assert report["perLabelAttribute"][0]["annotations"] == 3 * ITEMS


def test_report_sql_queries_the_batchs_parquet_tables(cli: Cli, reviewed: Result) -> None:
    rows = cli.json(
        "report", "cli-reviews", "--sql",
        "SELECT level, count(*) AS answers, count(DISTINCT item_key) AS items FROM annotations "
        "GROUP BY level ORDER BY level",
    )  # fmt: skip
    reviewed_items = cli.json("show", "cli-reviews")["levels"][1]["jobs"][0]["itemCounts"]["total"]
    assert rows == [
        {"level": 1, "answers": 3 * ITEMS, "items": ITEMS},
        {"level": 2, "answers": reviewed_items, "items": reviewed_items},
    ]
    table = cli("report", "cli-reviews", "--sql", "SELECT count(*) AS n FROM items WHERE audited_by = 'review'")
    assert table.exit_code == 0, table.output
    assert f"│ {reviewed_items} " in table.stdout  # a table with the header n and one row
    wrong = cli("report", "cli-reviews", "--sql", "SELECT nothing FROM nowhere")
    assert wrong.exit_code == 2 and "--sql:" in wrong.stderr


def test_create_takes_the_reference_body_from_a_file_and_replays_an_idempotency_key(cli: Cli) -> None:
    client = cli.runtime
    assert client.info is not None
    prefix = f"s3://{client.info.data_bucket}/users/"
    reviewed = cli.json("show", "cli-reviews")["levels"][0]["jobs"][0]["inputManifests"][0]["s3Uri"]
    assert reviewed.startswith(prefix)
    body = run_body("cli-created", reviewed, reviewed.replace("reviews.manifest", "labels.json"), "TextClassification")
    path = cli.files / "body.json"
    path.write_text(json.dumps(body))
    first = cli("create", str(path), "--idempotency-key", "cli-created-1", "--wait", "--timeout", "60")
    assert first.exit_code == 0, first.output
    assert "level 1 COMPLETE" in first.stdout and "level 2" not in first.stdout
    again = cli.json("create", str(path), "--idempotency-key", "cli-created-1")
    assert again["batchId"] == "cli-created" and again["status"] == "COMPLETE"


def _labeling_job_started(runtime: LocalRuntime, prefix: str, timeout: float = 20) -> None:
    """Wait until Ground Truth has the job (a stop that comes before it exists is seen only between levels)."""
    sagemaker, deadline = runtime.client("sagemaker"), time.monotonic() + timeout
    while not sagemaker.list_labeling_jobs(NameContains=prefix)["LabelingJobSummaryList"]:
        assert time.monotonic() < deadline, f"no labeling job {prefix}* after {timeout} s"
        time.sleep(0.1)


def test_stop_ends_a_running_batch_stopped(cli: Cli) -> None:
    cli.runtime.faults.labeling.hang_next_job("cli-stopped-*")
    started = cli(
        "run", str(cli.files / "reviews.manifest"), "--categories", str(cli.files / "labels.json"),
        "--modality", "TextClassification", "--batch-id", "cli-stopped",
    )  # fmt: skip
    assert started.exit_code == 0, started.output
    assert "sagestep labeling wait cli-stopped" in started.stdout
    _labeling_job_started(cli.runtime, "cli-stopped-crowd-")
    stopped = cli("stop", "cli-stopped")
    assert stopped.exit_code == 0 and "stopping cli-stopped" in stopped.stdout, stopped.output
    waited = cli("wait", "cli-stopped", "--timeout", "30")
    assert waited.exit_code == 1 and "ended STOPPED" in waited.stderr, waited.output


def test_errors_are_one_line_with_their_exit_status(cli: Cli) -> None:
    missing = cli("report", "no-such-batch")
    assert missing.exit_code == 4, missing.output
    bad = cli.files / "bad.json"
    bad.write_text(json.dumps({"batchId": "bad", "labelingJobs": []}))
    invalid = cli("create", str(bad))
    assert invalid.exit_code == 2 and "labelingJobs" in invalid.stderr, invalid.output
    alone = cli("run", "x.manifest", "--categories", "l.json", "--modality", "TextClassification", "--expert-team", "a")
    assert alone.exit_code == 2 and "--review-below" in alone.stderr


def test_the_default_batch_id_is_the_manifests_name_and_the_time() -> None:
    from datetime import UTC, datetime

    now = datetime(2026, 12, 2, 10, 5, 9, tzinfo=UTC)
    assert default_batch_id("s3://b/users/u/My reviews_v2.manifest", now) == "My-reviews-v2-20261202-100509"
    assert default_batch_id("___.jsonl", now) == "batch-20261202-100509"


def test_the_demo_section_measures_the_labels_against_the_answer_keys(cli: Cli, tmp_path: Path) -> None:
    from sagestep.client import SagestepClient
    from sagestep.demo.labeling import ITEMS as DEMO_ITEMS
    from sagestep.demo.labeling import LabelingDemo, expert_team_arn
    from sagestep.demo.runner import DemoContext, Timings

    assert cli.runtime.info is not None
    assert expert_team_arn(cli.runtime.info.topic_arn).rsplit("/", 1)[0] == cli.experts.rsplit("/", 1)[0]
    with SagestepClient.for_local() as client:
        context = DemoContext(cli.runtime.info, client, None, Timings())
        result = LabelingDemo(plot_path=tmp_path / "workers.png").run(context)
    assert result.batch.status == "COMPLETE"
    assert 0 <= result.reviewed < DEMO_ITEMS  # the crowd's confidences vary with the simulated workers' draws
    assert set(result.accuracy) == {"final", "crowd", "majorityVote"}
    assert all(0.5 < value <= 1 for value in result.accuracy.values()), result.accuracy
    assert {w.workerId for w in result.workers} >= {"sim-crowd-1", "sim-crowd-5"}
    assert (tmp_path / "workers.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert json.dumps(result.to_json())  # sagestep demo --json
