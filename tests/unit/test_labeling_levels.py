"""Between the levels of a batch: manifests merged, filtered and sampled, each job's CreateLabelingJob request, and
what the record holds (against moto S3; the state machine's paths are in tests/statemachines)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from moto import mock_aws

from sagestep_service.platform import aws
from sagestep_service.workflows.labeling import failure, levels, manifests, tasks
from sagestep_service.workflows.labeling.ground_truth import LAMBDA_ACCOUNTS
from sagestep_service.workflows.labeling.models import BatchRequest
from sagestep_service.workflows.labeling.submission import LabelingSubmitter
from sagestep_service.workflows.labeling.views import levels as level_views

DATA = "sagestep-data"
OWNER = "alice"
PREFIX = f"users/{OWNER}/"
FUNCTIONS = tasks.Functions(
    "arn:aws:lambda:us-east-1:111122223333:function:pre",
    "arn:aws:lambda:us-east-1:111122223333:function:acs",
    "us-east-1",
)
WORKTEAM = "arn:aws:sagemaker:us-east-1:111122223333:workteam/private-crowd/team"


@pytest.fixture
def s3(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    with mock_aws():
        aws.reset()
        client = aws.client("s3")
        client.create_bucket(Bucket=DATA)
        yield client
    aws.reset()


def _put(s3: Any, key: str, body: bytes | str) -> str:
    s3.put_object(Bucket=DATA, Key=f"{PREFIX}{key}", Body=body if isinstance(body, bytes) else body.encode())
    return f"s3://{DATA}/{PREFIX}{key}"


def _get(s3: Any, uri: str) -> str:
    bucket, _, key = uri.removeprefix("s3://").partition("/")
    return str(s3.get_object(Bucket=bucket, Key=key)["Body"].read().decode())


CATEGORIES = json.dumps({"labels": [{"label": "cat"}, {"label": "dog"}]})


def _labeled(text: str, attribute: str, label: str, confidence: float) -> dict[str, Any]:
    return {
        "source": text,
        attribute: ["cat", "dog"].index(label),
        f"{attribute}-metadata": {
            "class-name": label,
            "confidence": confidence,
            "job-name": f"labeling-job/{attribute}",
        },
    }


def _plan(s3: Any, jobs: list[dict[str, Any]]) -> dict[str, Any]:
    submitter = LabelingSubmitter.__new__(LabelingSubmitter)
    settings = type("S", (), {"data_bucket": DATA, "deadline_seconds": 3600, "default_workteam_arn": WORKTEAM})()
    submitter._settings = settings  # type: ignore[assignment]
    request = BatchRequest.model_validate({"batchId": "b1", "labelingJobs": jobs})
    return submitter.plan("labeling-1", OWNER, request)


def _builder(s3: Any, plan: dict[str, Any]) -> levels.LevelBuilder:
    return levels.LevelBuilder(s3, "labeling-1", plan, stack="sagestep", key_arn="arn:aws:kms:k", functions=FUNCTIONS)


# --- manifests ---------------------------------------------------------------------------------------------------


def test_merge_keeps_every_jobs_label_and_first_seen_order() -> None:
    a = [_labeled("one", "a", "cat", 0.9), _labeled("two", "a", "dog", 0.4)]
    b = [_labeled("two", "b", "dog", 0.95), _labeled("three", "b", "cat", 0.5)]
    merged = manifests.merge([a, b])
    assert [item["source"] for item in merged] == ["one", "two", "three"]
    assert {"a", "b"} <= set(merged[1])
    # The filter looks at the lowest confidence among the chained attributes (an unknown one is kept for review)
    kept = manifests.below_confidence(merged, ["a", "b"], 0.8)
    assert [item["source"] for item in kept] == ["two", "three"]


def test_sampling_is_seeded_by_item_not_by_position() -> None:
    items = [{"source": f"text {i}"} for i in range(1000)]
    first = manifests.sample(items, 0.1, "seed")
    assert 60 < len(first) < 140
    # The same items are chosen whatever the order, and another seed chooses others
    again = manifests.sample(list(reversed(items)), 0.1, "seed")
    assert {i["source"] for i in again} == {i["source"] for i in first}
    assert {i["source"] for i in manifests.sample(items, 0.1, "other")} != {i["source"] for i in first}


@pytest.mark.parametrize(
    ("lines", "message"),
    [
        (["not json"], "line 1 is not JSON"),
        (['{"x": 1}'], 'line 1 needs a "source" or "source-ref"'),
        (['{"source-ref": "s3://other/users/bob/a.png"}'], "is not under s3://sagestep-data/users/alice/"),
        (["", "  "], "has no data object"),
    ],
)
def test_bad_manifests_name_the_line(lines: list[str], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        manifests.parse_lines(lines, f"s3://{DATA}/{PREFIX}")


# --- requests ----------------------------------------------------------------------------------------------------


def test_own_lambdas_where_sagestep_consolidates_aws_ones_per_region_elsewhere() -> None:
    job = {"name": "j", "modality": "TextClassification", "pre": None, "acs": None}
    assert tasks.lambdas(job, FUNCTIONS) == (FUNCTIONS.pre_annotation, FUNCTIONS.consolidation)
    video = tasks.lambdas({**job, "modality": "VideoObjectDetectionAudit"}, FUNCTIONS)
    account = LAMBDA_ACCOUNTS["us-east-1"]
    assert video == (
        f"arn:aws:lambda:us-east-1:{account}:function:PRE-AdjustmentVideoObjectDetection",
        f"arn:aws:lambda:us-east-1:{account}:function:ACS-AdjustmentVideoObjectDetection",
    )
    custom = tasks.lambdas({**job, "modality": "Custom", "pre": "arn:aws:lambda:us-east-1:1:function:mine"}, FUNCTIONS)
    assert custom == ("arn:aws:lambda:us-east-1:1:function:mine", FUNCTIONS.consolidation)
    # AWS's worker UI where it has one, else sagestep's template
    assert "HumanTaskUiArn" in tasks.ui_config({**job, "modality": "NamedEntityRecognition"}, FUNCTIONS, None)
    assert tasks.ui_config(job, FUNCTIONS, "s3://b/t.html") == {"UiTemplateS3Uri": "s3://b/t.html"}


def test_shipped_templates_carry_the_jobs_categories() -> None:
    text = tasks.template("TextClassification", ["cat", "dog"])
    assert text is not None and "crowd-classifier" in text and "[&quot;cat&quot;, &quot;dog&quot;]" in text
    assert tasks.template("NamedEntityRecognition", ["x"]) is None  # AWS's UI


# --- levels ------------------------------------------------------------------------------------------------------


def _three_levels(s3: Any) -> dict[str, Any]:
    manifest = _put(s3, "m.manifest", "".join(json.dumps({"source": f"item {i}"}) + "\n" for i in range(20)))
    categories = _put(s3, "c.json", CATEGORIES)
    return _plan(
        s3,
        [
            {"jobName": "a", "jobModality": "TextClassification", "jobLevel": 1, "labelCategoryConfigS3Uri": categories,
             "inputConfig": {"inputManifestS3Uri": manifest}, "workersPerObject": 3},
            {"jobName": "b", "jobModality": "TextClassification", "jobLevel": 1, "labelCategoryConfigS3Uri": categories,
             "inputConfig": {"inputManifestS3Uri": manifest, "downSamplingRate": 50}},
            {"jobName": "review", "jobModality": "TextClassification", "jobLevel": 2,
             "inputConfig": {"chainFromJobName": ["a", "b"], "filter": {"confidenceBelow": 0.8}}},
        ],
    )  # fmt: skip


class _Store:
    def __init__(self) -> None:
        self.record: dict[str, Any] = {}

    def get(self, job_id: str) -> dict[str, Any]:
        return self.record

    def update(self, job_id: str, set_fields: dict[str, Any]) -> None:
        self.record.update(json.loads(json.dumps(set_fields)))


def test_level_one_requests_name_the_built_manifests_and_tag_the_job(s3: Any) -> None:
    plan = _three_levels(s3)
    store = _Store()
    answer = levels.advance(store, _builder(s3, plan), "labeling-1", plan, 0, [])  # type: ignore[arg-type]
    assert answer["level"] == 1 and not answer["done"]
    a, b = answer["jobs"]
    assert a["LabelingJobName"].startswith("b1-a-") and len(a["LabelingJobName"]) <= 63
    assert a["HumanTaskConfig"]["NumberOfHumanWorkersPerDataObject"] == 3
    assert a["OutputConfig"]["S3OutputPath"] == f"s3://{DATA}/{PREFIX}labeling/b1/output/"
    assert {t["Key"]: t["Value"] for t in a["Tags"]} == {
        "sagestep:job-id": "labeling-1", "sagestep:stack": "sagestep", "sagestep:batch-id": "b1",
        "sagestep:modality": "TextClassification",
    }  # fmt: skip
    # The down-sampled job labels about half of the items, the same half on a rerun
    lines = _get(s3, b["InputConfig"]["DataSource"]["S3DataSource"]["ManifestS3Uri"]).splitlines()
    assert 4 <= len(lines) <= 16
    assert levels.advance(_Store(), _builder(s3, plan), "labeling-1", plan, 0, [])["jobs"][1] == b  # type: ignore[arg-type]
    # And the record shows level 1 running, level 2 pending
    assert [level["status"] for level in store.record["levels"]] == ["IN_PROGRESS", "PENDING"]


def _complete(s3: Any, plan: dict[str, Any], name: str, items: list[dict[str, Any]]) -> dict[str, Any]:
    job = next(j for j in plan["jobs"] if j["name"] == name)
    uri = _put(
        s3, f"labeling/b1/output/{job['labelingJobName']}/manifests/output/output.manifest", manifests.dumps(items)
    )
    counters = {"TotalLabeled": len(items), "HumanLabeled": len(items)}
    return {"labelingJobName": job["labelingJobName"], "status": "Completed", "counters": counters, "output": uri}


def test_a_chained_job_labels_the_merged_low_confidence_items(s3: Any) -> None:
    plan = _three_levels(s3)
    store = _Store()
    levels.advance(store, _builder(s3, plan), "labeling-1", plan, 0, [])  # type: ignore[arg-type]
    results = [
        _complete(s3, plan, "a", [_labeled("x", "a", "cat", 0.95), _labeled("y", "a", "dog", 0.5)]),
        _complete(s3, plan, "b", [_labeled("y", "b", "dog", 0.99), _labeled("z", "b", "cat", 0.7)]),
    ]
    answer = levels.advance(store, _builder(s3, plan), "labeling-1", plan, 1, results)  # type: ignore[arg-type]
    (review,) = answer["jobs"]
    items = manifests.parse(_get(s3, review["InputConfig"]["DataSource"]["S3DataSource"]["ManifestS3Uri"]))
    assert [item["source"] for item in items] == ["y", "z"]
    assert {"a", "b"} <= set(items[0])
    # A chained job without categories labels with its source's
    assert review["LabelCategoryConfigS3Uri"] == plan["jobs"][0]["categories"]
    views = level_views(store.record)
    assert views[0].status == "COMPLETE" and views[0].jobs[0].outputManifest is not None
    assert [m.s3Uri for m in views[1].jobs[0].inputManifests][:2] == [r["output"] for r in results]


def test_a_filter_that_keeps_nothing_skips_the_job_and_the_batch_goes_on(s3: Any) -> None:
    plan = _three_levels(s3)
    store = _Store()
    levels.advance(store, _builder(s3, plan), "labeling-1", plan, 0, [])  # type: ignore[arg-type]
    results = [
        _complete(s3, plan, "a", [_labeled("x", "a", "cat", 0.95)]),
        _complete(s3, plan, "b", [_labeled("x", "b", "cat", 0.99)]),
    ]
    answer = levels.advance(store, _builder(s3, plan), "labeling-1", plan, 1, results)  # type: ignore[arg-type]
    assert answer == {"level": 2, "jobs": [], "done": True}
    level = store.record["levels"][1]
    assert level["status"] == "SKIPPED" and level["jobs"][0]["status"] == "SKIPPED"
    assert "filtered out" in level["jobs"][0]["message"]


def test_an_adjustment_job_gets_categories_naming_the_attribute_it_adjusts(s3: Any) -> None:
    manifest = _put(s3, "boxes.manifest", json.dumps({"source-ref": f"s3://{DATA}/{PREFIX}a.png"}) + "\n")
    categories = _put(s3, "c.json", CATEGORIES)
    plan = _plan(
        s3,
        [
            {"jobName": "boxes", "jobModality": "BoundingBox", "jobLevel": 1, "labelCategoryConfigS3Uri": categories,
             "inputConfig": {"inputManifestS3Uri": manifest}},
            {"jobName": "adjust", "jobModality": "BoundingBoxAudit", "jobLevel": 2,
             "inputConfig": {"chainFromJobName": "boxes"}},
        ],
    )  # fmt: skip
    store = _Store()
    levels.advance(store, _builder(s3, plan), "labeling-1", plan, 0, [])  # type: ignore[arg-type]
    box = {"source-ref": f"s3://{DATA}/{PREFIX}a.png", "boxes": {"annotations": []}, "boxes-metadata": {"objects": []}}
    answer = levels.advance(
        store,
        _builder(s3, plan),
        "labeling-1",
        plan,
        1,
        [_complete(s3, plan, "boxes", [box])],  # type: ignore[arg-type]
    )
    (adjust,) = answer["jobs"]
    document = json.loads(_get(s3, adjust["LabelCategoryConfigS3Uri"]))
    assert document["auditLabelAttributeName"] == "boxes"
    assert adjust["HumanTaskConfig"]["UiConfig"]["UiTemplateS3Uri"].endswith("inputs/adjust.liquid.html")


def test_items_outside_the_owners_prefix_fail_the_level(s3: Any) -> None:
    manifest = _put(s3, "m.manifest", json.dumps({"source-ref": "s3://elsewhere/users/bob/a.png"}) + "\n")
    categories = _put(s3, "c.json", CATEGORIES)
    plan = _plan(
        s3,
        [{"jobName": "a", "jobModality": "ImageClassification", "jobLevel": 1, "labelCategoryConfigS3Uri": categories,
          "inputConfig": {"inputManifestS3Uri": manifest}}],
    )  # fmt: skip
    with pytest.raises(levels.BatchInputError, match="not under"):
        levels.advance(_Store(), _builder(s3, plan), "labeling-1", plan, 0, [])  # type: ignore[arg-type]


# --- failures ----------------------------------------------------------------------------------------------------


def test_a_failure_names_the_failed_job_and_ground_truths_reason() -> None:
    described = {
        "ok": {"LabelingJobName": "b1-ok-1", "LabelingJobStatus": "Stopped"},
        "bad": {
            "LabelingJobName": "b1-bad-2",
            "LabelingJobStatus": "Failed",
            "FailureReason": "ClientError: no access",
        },
    }
    error, cause = failure.explain("LabelingJobEnded", "", {}, described)
    assert error == "LabelingJobFailed" and "bad (b1-bad-2) failed: ClientError: no access" in cause
    error, _ = failure.explain("LabelingDeadlineExceeded", None, {"deadlineSeconds": 60}, {})
    assert error == "LabelingDeadlineExceeded"
