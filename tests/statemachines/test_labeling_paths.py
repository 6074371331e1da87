"""The paths of statemachines/labeling.asl.json, executed by the local runtime's Step Functions interpreter with the
real task functions and the local Ground Truth (its simulated workforce answers from the sample reviews' answer
keys): levels one after another, chaining, merging, filters, a failed job stopping its siblings, the deadline, the
owner's stop, throttling, duplicate submissions and the batch's own destination topic.

The module runs its own runtime: its deployment allows a destination topic (context ``labelingDestinationTopics``).
What a user does with a finished batch (show, report, links) is in ``tests/e2e/test_local_labeling.py``.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any, cast

import httpx
import pytest

from sagestep.local.runtime import LocalRuntime
from sagestep.local.services.sagemaker import SageMakerEmulator
from sagestep.local.services.sagemaker.workforce import SimulatedWorker, SimulatedWorkforce
from sagestep_service.platform.jobs import JobStore
from sagestep_service.platform.submission import JobName, Prepared, Submitter
from sagestep_service.workflows.labeling import manifests
from sagestep_service.workflows.labeling.models import BatchRequest, labeling_job_name
from sagestep_service.workflows.labeling.settings import LabelingSettings
from sagestep_service.workflows.labeling.submission import LabelingSubmitter
from tests.statemachines.labeling_helpers import (
    FAILURE_TAIL,
    LEVEL,
    STOPPED_TAIL,
    SUCCESS_TAIL,
    Batch,
    Labeling,
    text_job,
)

ACCOUNT_TOPICS = "arn:aws:sns:us-east-1:123456789012:"
DESTINATIONS = f"{ACCOUNT_TOPICS}labeling-destination-*"
SUCCESS_KEYS = {"batchId", "message", "batchInfo", "status"}
FAILURE_KEYS = {"batchId", "errorType", "errorString", "status"}


@pytest.fixture(scope="module")
def harness() -> Iterator[Labeling]:
    """The demo user on a runtime whose deployment allows ``labeling-destination-*`` topics (named ``harness``:
    the folder's conftest stops its shared runtime for a module that has one, and disarms faults after each test)."""
    context = {"labelingDestinationTopics": [DESTINATIONS]}
    with LocalRuntime(port=0, sync_poll_interval=0.1, context=context) as runtime:
        token = runtime.sign_in()
        labeling = Labeling(runtime, lambda: token)
        # A team of novices, whose consolidated labels are often unsure (the default crowd's seldom are), the other
        # teams as the local Ground Truth has them by default
        novices = [SimulatedWorker(f"novice-{n}", 0.5, 10.0) for n in (1, 2, 3)]
        runtime.aws.service(SageMakerEmulator).workforce = SimulatedWorkforce({labeling_novices(labeling): novices})
        yield labeling


def labeling_novices(labeling: Labeling) -> str:
    return labeling.workteam.rsplit("/", 1)[0] + "/sagestep-novices"


@pytest.fixture(scope="module")
def reviews(harness: Labeling) -> str:
    return harness.reviews("paths/labeling/reviews.manifest", 24)


def _one_notification(harness: Labeling, batch: Batch, status: str) -> dict[str, Any]:
    """The batch's one message on the platform topic, in the reference's shape."""
    notes = harness.notifications_for(batch.batch_id)
    assert len(notes) == 1, notes
    [note] = notes
    message = note["message"]
    if status == "SUCCESS":
        assert set(message) == SUCCESS_KEYS and message["status"] == "SUCCESS", message
        assert note["attributes"] == {"kind": "labeling", "status": "SUCCESS"}
    else:
        assert set(message) == FAILURE_KEYS and message["status"] == "FAILED", message
        assert note["attributes"] == {"kind": "labeling", "status": status}
    assert message["batchId"] == batch.batch_id
    return dict(message)


def _assert_failed(harness: Labeling, batch: Batch, error: str, status: str = "FAILED") -> dict[str, Any]:
    """A batch that ended FAILED (or STOPPED) through its failure path: one message naming ``error``, no labeling
    job left running."""
    assert batch.status == "FAILED", batch.status
    assert batch.view["status"] == status, batch.view
    assert batch.entered[-len(FAILURE_TAIL) :] == (STOPPED_TAIL if status == "STOPPED" else FAILURE_TAIL)
    message = _one_notification(harness, batch, status)
    assert message["errorType"] == error, message
    assert batch.view["error"] == message["errorString"]
    running = {name: s for name, s in harness.labeling_jobs(batch).items() if s in ("InProgress", "Initializing")}
    assert running == {}
    return message


# The paths without a fault -------------------------------------------------------------------------------------


def test_three_levels_crowd_then_review_of_low_confidence_then_a_sampled_audit(harness: Labeling, reviews: str) -> None:
    # Given a crowd of three novices per item, experts reviewing what the crowd was unsure of (below 0.99), and
    # experts auditing a reproducible sample of the crowd's and the review's labels merged
    body = {
        "batchId": "paths-three-levels",
        "labelingJobs": [
            text_job(
                "crowd",
                1,
                manifest=reviews,
                labelCategoryConfigS3Uri=harness.categories,
                workersPerObject=3,
                workteamArn=labeling_novices(harness),
            ),
            text_job("review", 2, chain="crowd", filter={"confidenceBelow": 0.99}, workteamArn=harness.experts),
            text_job(
                "audit",
                3,
                chain=["crowd", "review"],
                filter={"sampleRate": 0.5, "seed": 11},
                workteamArn=harness.experts,
            ),
        ],
    }
    # When it runs
    batch = harness.run(body)
    # Then every level ran one after another, each its one job, and the batch completed
    assert batch.status == "SUCCEEDED"
    assert batch.entered == ["RecordInProgress", "StartLevels", *LEVEL * 3, *SUCCESS_TAIL]
    view = batch.view
    assert view["status"] == "COMPLETE" and view["error"] is None and view["finishedAt"]
    assert [level["status"] for level in view["levels"]] == ["COMPLETE"] * 3
    assert all(level["jobCounts"]["completed"] == level["jobCounts"]["total"] == 1 for level in view["levels"])
    # And level 1 labeled every item; level 2 exactly the items whose crowd label is below 0.99
    crowd, review, audit = batch.job("crowd"), batch.job("review"), batch.job("audit")
    assert crowd["itemCounts"]["total"] == crowd["itemCounts"]["humanLabeled"] == 24
    crowd_out = harness.manifest(crowd["outputManifest"]["s3Uri"])
    unsure = {item["source"] for item in crowd_out if item["crowd-metadata"]["confidence"] < 0.99}
    assert unsure, "the crowd was sure of every item: nothing to review"
    review_in = harness.manifest(review["inputManifests"][-1]["s3Uri"])
    assert {item["source"] for item in review_in} == unsure
    assert [link["s3Uri"] for link in review["inputManifests"][:-1]] == [crowd["outputManifest"]["s3Uri"]]
    assert review["itemCounts"]["total"] == len(unsure)
    # And level 3 the seeded sample of the merge: every reviewed item carries both labels
    review_out = harness.manifest(review["outputManifest"]["s3Uri"])
    merged = manifests.merge([crowd_out, review_out])
    expected = {item["source"] for item in manifests.sample(merged, 0.5, "11")}
    audit_in = harness.manifest(audit["inputManifests"][-1]["s3Uri"])
    assert {item["source"] for item in audit_in} == expected and 0 < len(expected) < 24
    assert all(("review" in item) == (item["source"] in unsure) and "crowd" in item for item in audit_in)
    assert audit["itemCounts"]["total"] == len(expected)
    # And Ground Truth's jobs all completed, named after the batch and tagged with it
    assert harness.labeling_jobs(batch) == {"crowd": "Completed", "review": "Completed", "audit": "Completed"}
    described = harness.sagemaker.describe_labeling_job(LabelingJobName=audit["labelingJobName"])
    assert audit["labelingJobName"].startswith("paths-three-levels-audit-")
    assert {"Key": "sagestep:batch-id", "Value": "paths-three-levels"} in described["Tags"]
    assert described["HumanTaskConfig"]["WorkteamArn"] == harness.experts
    # And one SUCCESS message whose batchInfo is the batch as shown (without links)
    message = _one_notification(harness, batch, "SUCCESS")
    info = message["batchInfo"]
    assert info["status"] == "COMPLETE" and [len(level["jobs"]) for level in info["levels"]] == [1, 1, 1]
    assert all(link["url"] is None for link in info["levels"][0]["jobs"][0]["inputManifests"])
    assert info["report"]["s3Uri"] == view["report"]["s3Uri"]


def test_a_job_chaining_from_two_jobs_labels_their_outputs_merged_by_source(harness: Labeling) -> None:
    # Given two level-1 jobs whose manifests overlap (reviews 6..11 are in both)
    everything = harness.manifest(harness.reviews("paths/labeling/merge-all.manifest", 18))
    first = harness.upload("paths/labeling/merge-a.manifest", manifests.dumps(everything[:12]).encode())
    second = harness.upload("paths/labeling/merge-b.manifest", manifests.dumps(everything[6:]).encode())
    body = {
        "batchId": "paths-merge",
        "labelingJobs": [
            text_job("left", 1, manifest=first, labelCategoryConfigS3Uri=harness.categories),
            text_job("right", 1, manifest=second, labelCategoryConfigS3Uri=harness.categories),
            text_job("both", 2, chain=["left", "right"], workteamArn=harness.experts),
        ],
    }
    # When it runs
    batch = harness.run(body)
    # Then level 1 ran its two jobs in parallel, and level 2 its one
    assert batch.view["status"] == "COMPLETE", batch.view["error"]
    assert batch.entered.count("CreateLabelingJob") == 3 and batch.entered.count("LabelLevel") == 2
    assert batch.level(1)["jobCounts"]["completed"] == 2
    # And the merged manifest has each item once (the union by source), in first-seen order, with both jobs'
    # label attributes where both labeled it
    both = batch.job("both")
    left_out, right_out = (harness.manifest(batch.job(n)["outputManifest"]["s3Uri"]) for n in ("left", "right"))
    assert [link["s3Uri"] for link in both["inputManifests"][:2]] == [
        batch.job("left")["outputManifest"]["s3Uri"],
        batch.job("right")["outputManifest"]["s3Uri"],
    ]
    merged = harness.manifest(both["inputManifests"][-1]["s3Uri"])
    assert [item["source"] for item in merged] == [item["source"] for item in everything]
    for index, item in enumerate(merged):
        attributes = {name for name in ("left", "right") if name in item and f"{name}-metadata" in item}
        expected = {name for name, labeled in (("left", index < 12), ("right", index >= 6)) if labeled}
        assert attributes == expected, (index, item)
    assert {item["source"] for item in merged if "right" in item} == {item["source"] for item in right_out}
    assert {item["source"] for item in merged if "left" in item} == {item["source"] for item in left_out}
    # And the merged job labeled all 18, keeping the earlier labels in its output
    assert both["itemCounts"]["total"] == 18 and both["status"] == "COMPLETED"
    output = harness.manifest(both["outputManifest"]["s3Uri"])
    assert len(output) == 18 and all("both" in item and "both-metadata" in item for item in output)
    assert sum("left" in item and "right" in item for item in output) == 6
    _one_notification(harness, batch, "SUCCESS")


def test_a_filter_that_keeps_nothing_skips_the_job_and_its_level(harness: Labeling, reviews: str) -> None:
    # Given a review of the items the crowd labeled with a confidence below 0.0001 (none)
    body = {
        "batchId": "paths-filtered-out",
        "labelingJobs": [
            text_job("crowd", 1, manifest=reviews, labelCategoryConfigS3Uri=harness.categories),
            text_job("review", 2, chain="crowd", filter={"confidenceBelow": 0.0001}),
        ],
    }
    # When it runs
    batch = harness.run(body)
    # Then level 2 was skipped in the same Advance that recorded level 1, and the batch completed anyway
    assert batch.status == "SUCCEEDED"
    assert batch.entered == ["RecordInProgress", "StartLevels", *LEVEL, *SUCCESS_TAIL]
    assert batch.view["status"] == "COMPLETE"
    level = batch.level(2)
    assert level["status"] == "SKIPPED" and level["message"] == "every job of the level had nothing to label"
    assert level["jobCounts"]["skipped"] == 1
    review = batch.job("review")
    assert review["status"] == "SKIPPED"
    assert review["message"] == "nothing to label: the input's 24 items were all filtered out"
    assert review["itemCounts"]["total"] == 0 and review["outputManifest"] is None
    # And no labeling job was created for it
    assert harness.labeling_jobs(batch) == {"crowd": "Completed", "review": None}
    message = _one_notification(harness, batch, "SUCCESS")
    assert message["batchInfo"]["levels"][1]["status"] == "SKIPPED"


# Failures ---------------------------------------------------------------------------------------------------------


def test_a_failed_job_of_a_level_stops_its_sibling_and_fails_the_batch(harness: Labeling, reviews: str) -> None:
    # Given level 2's "slow" job never finishing and its "broken" job failing
    faults = harness.runtime.faults.labeling
    faults.hang_next_job(job="paths-failed-job-slow-*")
    faults.fail_next_job(
        "ClientError: The work team private-crowd/gone does not exist.", job="paths-failed-job-broken-*"
    )
    body = {
        "batchId": "paths-failed-job",
        "labelingJobs": [
            text_job("crowd", 1, manifest=reviews, labelCategoryConfigS3Uri=harness.categories),
            text_job("slow", 2, chain="crowd"),
            text_job("broken", 2, chain="crowd"),
        ],
    }
    # When it runs
    batch = harness.run(body)
    # Then the failed job failed the Map, the failure path stopped the hanging sibling, and the batch is FAILED with
    # the failed job's reason
    assert batch.entered[: len(LEVEL) + 2] == ["RecordInProgress", "StartLevels", *LEVEL]
    assert "LabelingJobEnded" in batch.entered
    message = _assert_failed(harness, batch, "LabelingJobFailed")
    assert "broken" in message["errorString"] and "private-crowd/gone does not exist" in message["errorString"]
    assert harness.labeling_jobs(batch) == {"crowd": "Completed", "slow": "Stopped", "broken": "Failed"}
    # And the batch's view says which job failed and why, level 1 still complete
    assert batch.level(1)["status"] == "COMPLETE" and batch.level(2)["status"] == "FAILED"
    assert batch.job("broken")["status"] == "FAILED"
    assert "private-crowd/gone" in (batch.job("broken")["failureReason"] or "")
    assert batch.job("slow")["status"] == "STOPPED"


def _start_directly(harness: Labeling, body: dict[str, Any], deadline_seconds: int) -> None:
    """Submit as the API does (record claimed, execution started with the plan) but with a level deadline below
    the 60 s the API accepts."""
    outputs = harness.runtime.stack.outputs
    settings = SimpleNamespace(
        data_bucket=harness.bucket,
        deadline_seconds=14 * 24 * 3600,
        default_workteam_arn=harness.workteam,
        labeling_state_machine_arn=harness.state_machine_arn,
    )
    request = BatchRequest.model_validate(body)
    store = JobStore(outputs["JobsTableName"])
    planner = LabelingSubmitter(cast(LabelingSettings, settings), store, harness.sfn, harness.s3)

    def prepare(job_id: str) -> Prepared:
        return Prepared("label", {**planner.plan(job_id, harness.owner, request), "deadlineSeconds": deadline_seconds})

    Submitter(store, harness.sfn, harness.state_machine_arn).submit(
        kind="labeling",
        owner=harness.owner,
        body=request.model_dump(mode="json", exclude_none=True),
        idempotency_key=None,
        prepare=prepare,
        name=JobName("batchId", request.batchId),
    )


def test_a_level_past_its_deadline_fails_the_batch_and_stops_its_jobs(harness: Labeling, reviews: str) -> None:
    # Given a labeling job that never finishes, in a batch whose levels may take 3 s
    harness.runtime.faults.labeling.hang_next_job(job="paths-deadline-*")
    body = {
        "batchId": "paths-deadline",
        "labelingJobs": [text_job("crowd", 1, manifest=reviews, labelCategoryConfigS3Uri=harness.categories)],
    }
    # When it runs
    _start_directly(harness, body, deadline_seconds=3)
    batch = harness.wait("paths-deadline")
    # Then the job's task timed out, the iteration named the deadline, and the batch FAILED saying so
    assert any(e["type"] == "TaskTimedOut" for e in batch.events)
    assert "DeadlineExceeded" in batch.entered
    message = _assert_failed(harness, batch, "LabelingDeadlineExceeded")
    assert "within 3 s" in message["errorString"]
    # And the hanging job was stopped
    assert harness.labeling_jobs(batch) == {"crowd": "Stopped"}
    assert batch.job("crowd")["status"] == "STOPPED"


def test_stopping_a_batch_stops_its_jobs_and_records_it(harness: Labeling, reviews: str) -> None:
    # Given a running batch whose level-1 job never finishes
    harness.runtime.faults.labeling.hang_next_job(job="paths-stopped-*")
    body = {
        "batchId": "paths-stopped",
        "labelingJobs": [
            text_job("crowd", 1, manifest=reviews, labelCategoryConfigS3Uri=harness.categories),
            text_job("review", 2, chain="crowd"),
        ],
    }
    created = harness.create(body)
    assert created.status_code == 202, created.text
    crowd_name = labeling_job_name("paths-stopped", "crowd", harness.job_id("paths-stopped"))
    harness.wait_for_job_status(crowd_name, "InProgress")
    assert harness.show("paths-stopped")["levels"][0]["jobs"][0]["status"] == "IN_PROGRESS"
    # When its owner stops it
    stopped = harness.request("POST", "/batch/paths-stopped/stop")
    assert stopped.status_code == 202, stopped.text
    # Then the job's .sync task ended with the job, the failure path recorded STOPPED with the owner's reason
    batch = harness.wait("paths-stopped")
    message = _assert_failed(harness, batch, "StoppedByOwner", status="STOPPED")
    assert "stopped by its owner" in message["errorString"]
    assert harness.labeling_jobs(batch) == {"crowd": "Stopped", "review": None}
    assert batch.job("crowd")["status"] == "STOPPED" and batch.job("review")["status"] == "PENDING"
    # And stopping it again is a conflict: it has ended
    assert harness.request("POST", "/batch/paths-stopped/stop").status_code == 409


def test_a_job_created_after_the_stop_request_is_stopped_when_it_starts(harness: Labeling, reviews: str) -> None:
    # Given a batch whose create is throttled once (the expansion waits before its retry) and whose job would never
    # finish
    harness.runtime.faults.throttle("CreateLabelingJob", count=1)
    harness.runtime.faults.labeling.hang_next_job(job="paths-late-stop-*")
    body = {
        "batchId": "paths-late-stop",
        "labelingJobs": [text_job("crowd", 1, manifest=reviews, labelCategoryConfigS3Uri=harness.categories)],
    }
    assert harness.create(body).status_code == 202
    name = labeling_job_name("paths-late-stop", "crowd", harness.job_id("paths-late-stop"))
    deadline = time.monotonic() + 20
    while [f for f in harness.runtime.faults.armed() if f.fault == "throttle"]:
        assert time.monotonic() < deadline, "the throttled create never ran"
        time.sleep(0.05)
    # When its owner stops it before Ground Truth has the job (nothing to stop yet)
    assert harness.sagemaker.list_labeling_jobs(NameContains=name)["LabelingJobSummaryList"] == []
    assert harness.request("POST", "/batch/paths-late-stop/stop").status_code == 202
    # Then the job the retry creates is stopped as it starts (its state change event), and the batch ends STOPPED
    batch = harness.wait("paths-late-stop")
    _assert_failed(harness, batch, "StoppedByOwner", status="STOPPED")
    assert harness.labeling_jobs(batch) == {"crowd": "Stopped"}


# Retries and duplicates ------------------------------------------------------------------------------------------


def test_a_throttled_create_is_retried_and_creates_one_job(harness: Labeling, reviews: str) -> None:
    # Given Ground Truth throttles the next CreateLabelingJob
    harness.runtime.faults.throttle("CreateLabelingJob", count=1)
    body = {
        "batchId": "paths-throttled",
        "labelingJobs": [text_job("crowd", 1, manifest=reviews, labelCategoryConfigS3Uri=harness.categories)],
    }
    # When it runs
    batch = harness.run(body)
    # Then the expansion's retry absorbed it: one failure of the create, one labeling job, COMPLETE
    assert not [f for f in harness.runtime.faults.armed() if f.fault == "throttle"], "the throttle was never hit"
    failures = batch.failures_of("CreateLabelingJob")
    assert [f["error"] for f in failures] == ["SageMaker.AmazonSageMakerException"]
    assert "ThrottlingException" in failures[0]["cause"]
    assert batch.entered.count("CreateLabelingJob") == 2 and "CreateLabelingJobWait" in batch.entered
    assert batch.view["status"] == "COMPLETE"
    listed = harness.sagemaker.list_labeling_jobs(NameContains="paths-throttled-")["LabelingJobSummaryList"]
    assert [(j["LabelingJobName"], j["LabelingJobStatus"]) for j in listed] == [
        (batch.job("crowd")["labelingJobName"], "Completed")
    ]
    _one_notification(harness, batch, "SUCCESS")


def test_a_duplicate_submission_is_a_conflict_or_a_replay_and_never_a_second_execution(
    harness: Labeling, reviews: str
) -> None:
    def body(batch_id: str) -> dict[str, Any]:
        job = text_job("crowd", 1, manifest=reviews, labelCategoryConfigS3Uri=harness.categories)
        return {"batchId": batch_id, "labelingJobs": [job]}

    # Given a batch created with an Idempotency-Key
    first = harness.create(body("paths-duplicate"), key="dup-1")
    assert first.status_code == 202, first.text
    # When the same batchId comes again without the key, or with another body: 409 naming batchId
    again = harness.create(body("paths-duplicate"))
    assert again.status_code == 409 and again.json()["field"] == "batchId", again.text
    changed = body("paths-duplicate")
    changed["labelingJobs"][0]["workersPerObject"] = 2
    assert harness.create(changed, key="dup-1").status_code == 409
    # And with the same key and body: a replay, answered 200 with the batch
    replay = harness.create(body("paths-duplicate"), key="dup-1")
    assert replay.status_code == 200 and replay.headers["Idempotent-Replayed"] == "true"
    assert replay.json()["batchId"] == "paths-duplicate"
    # And concurrent duplicates of a new batch: one creates it, the others replay it
    answers: list[int] = []

    def submit() -> None:
        answers.append(harness.create(body("paths-concurrent"), key="dup-2").status_code)

    threads = [threading.Thread(target=submit) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(answers) == [200, 200, 200, 202], answers
    # Then each batch has one execution, and ran once
    for batch_id in ("paths-duplicate", "paths-concurrent"):
        batch = harness.wait(batch_id)
        assert batch.view["status"] == "COMPLETE"
        named = [
            e
            for e in harness.sfn.list_executions(stateMachineArn=harness.state_machine_arn, maxResults=1000)[
                "executions"
            ]
            if e["name"] == batch.job_id
        ]
        assert len(named) == 1
        assert len(harness.notifications_for(batch_id)) == 1
        listed = harness.sagemaker.list_labeling_jobs(NameContains=f"{batch_id}-crowd-")["LabelingJobSummaryList"]
        assert len(listed) == 1


def test_a_batch_also_tells_its_own_allowed_topic(harness: Labeling, reviews: str) -> None:
    # Given a topic the deployment allows, with a queue subscribed, and a topic it does not allow
    sns, sqs = harness.runtime.client("sns"), harness.runtime.client("sqs")
    topic = sns.create_topic(Name="labeling-destination-paths")["TopicArn"]
    assert topic == f"{ACCOUNT_TOPICS}labeling-destination-paths"
    queue = sqs.create_queue(QueueName="labeling-destination-paths")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue_arn)
    job = text_job("crowd", 1, manifest=reviews, labelCategoryConfigS3Uri=harness.categories)
    refused = harness.create(
        {"batchId": "paths-other-topic", "labelingJobs": [job], "destinationSnsArn": f"{ACCOUNT_TOPICS}elsewhere"}
    )
    assert refused.status_code == 400 and refused.json()["field"] == "destinationSnsArn", refused.text
    # When a batch names the allowed topic
    batch = harness.run({"batchId": "paths-destination", "labelingJobs": [job], "destinationSnsArn": topic})
    # Then the platform topic has its one message, and the batch's topic the same message
    assert batch.entered[-3:] == ["HasDestination", "NotifyDestination", "Succeeded"]
    message = _one_notification(harness, batch, "SUCCESS")
    deadline = time.monotonic() + 10
    received: list[dict[str, Any]] = []
    while not received:
        assert time.monotonic() < deadline, "nothing reached the batch's topic"
        for entry in sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10).get("Messages", []):
            envelope = json.loads(entry["Body"])
            received.append(
                {
                    "message": json.loads(envelope["Message"]),
                    "attributes": {k: v["Value"] for k, v in envelope.get("MessageAttributes", {}).items()},
                }
            )
    assert received == [{"message": message, "attributes": {"kind": "labeling", "status": "SUCCESS"}}]
    assert httpx.get(f"{harness.api_url}/batch/show", headers=harness.headers(), timeout=30).json()["COMPLETE"]
