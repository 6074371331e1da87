"""The labeling workflow as its users see it through the local API: the reference's body, refusals naming the
field, ``GET /batch/show`` (ids by status, one batch with presigned links), the report (JSON and its Parquet tables,
queried with DuckDB as Athena queries them on AWS) and Ground Truth's output manifests.

The local Ground Truth's simulated workforce answers from the sample reviews' answer keys; the state machine's
failure and retry paths are in ``tests/statemachines/test_labeling_paths.py``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from sagestep.client import NotFoundError
from sagestep.labeling_reports import download_tables, query
from sagestep_service.workflows.labeling.models import labeling_job_name
from tests.e2e.conftest import Backend
from tests.statemachines.labeling_helpers import CLASSES, LEVEL, SUCCESS_TAIL, Batch, Labeling, text_job

#: Ground Truth's frame sequence file (video frame jobs label sequences of frames).
SEQUENCE = {"seq-no": 1, "prefix": "", "number-of-frames": 2, "frames": [{"frame-no": 0}, {"frame-no": 1}]}


@pytest.fixture(scope="module")
def labeling(backend: Backend) -> Labeling:
    return Labeling(backend.runtime, backend.token)


@pytest.fixture(scope="module")
def reviews(labeling: Labeling) -> str:
    return labeling.reviews("e2e/labeling/reviews.manifest", 12)


@pytest.fixture(scope="module")
def text_batch(labeling: Labeling, reviews: str) -> Batch:
    """A crowd of three labels the reviews, experts label them again."""
    body = {
        "batchId": "e2e-reviews",
        "labelingJobs": [
            text_job("crowd", 1, manifest=reviews, labelCategoryConfigS3Uri=labeling.categories, workersPerObject=3),
            text_job("experts", 2, chain="crowd", workteamArn=labeling.experts),
        ],
    }
    batch = labeling.run(body)
    assert batch.view["status"] == "COMPLETE", batch.view["error"]
    return batch


def test_the_references_body_runs_a_video_object_detection_batch_with_its_audit(labeling: Labeling) -> None:
    # Given frame sequences of the user's and the reference's body for them, verbatim (its defaults spelled out)
    frames = []
    for number in (1, 2):
        sequence = {**SEQUENCE, "seq-no": number, "prefix": labeling.categories.rsplit("/", 2)[0] + "/frames/"}
        frames.append(labeling.upload(f"e2e/labeling/video/seq{number}.json", json.dumps(sequence).encode()))
    lines = "".join(json.dumps({"source-ref": uri}) + "\n" for uri in frames).encode()
    manifest = labeling.upload("e2e/labeling/video/frames.manifest", lines)
    categories = labeling.upload(
        "e2e/labeling/video/categories.json",
        json.dumps({"document-version": "2020-08-15", "labels": [{"label": "Car"}, {"label": "Pedestrian"}]}).encode(),
    )
    body = {
        "batchId": "e2e-reference",
        "labelingJobs": [
            {
                "inputConfig": {"inputManifestS3Uri": manifest},
                "jobLevel": 1,
                "jobModality": "VideoObjectDetection",
                "jobName": "first-level",
                "jobType": "BATCH",
                "labelCategoryConfigS3Uri": categories,
                "maxConcurrentTaskCount": 100,
                "taskAvailabilityLifetimeInSeconds": 864000,
                "taskTimeLimitInSeconds": 604800,
                "workteamArn": labeling.workteam,
            },
            {
                "inputConfig": {"chainFromJobName": "first-level"},
                "jobLevel": 2,
                "jobModality": "VideoObjectDetectionAudit",
                "jobName": "second-level",
                "jobType": "BATCH",
                "maxConcurrentTaskCount": 100,
                "taskAvailabilityLifetimeInSeconds": 864000,
                "taskTimeLimitInSeconds": 604800,
                "workteamArn": labeling.workteam,
            },
        ],
    }
    # When it is created and runs
    created = labeling.create(body)
    assert created.status_code == 202, created.text
    assert created.headers["Location"] == "/batch/show?batchId=e2e-reference"
    assert created.json()["status"] == "IN_PROGRESS"
    batch = labeling.wait("e2e-reference")
    # Then both levels ran, the audit on the first level's output, and the batch is COMPLETE
    assert batch.view["status"] == "COMPLETE", batch.view["error"]
    assert batch.entered == ["RecordInProgress", "StartLevels", *LEVEL * 2, *SUCCESS_TAIL]
    assert labeling.labeling_jobs(batch) == {"first-level": "Completed", "second-level": "Completed"}
    first, second = batch.job("first-level"), batch.job("second-level")
    assert first["itemCounts"]["total"] == 2 and second["itemCounts"]["total"] == 2
    # And the labeling jobs are what the reference asked for: frame jobs (label attribute <job>-ref) with AWS's
    # worker UI and Lambdas, the reference's task settings, the audit naming the attribute it adjusts
    described = labeling.sagemaker.describe_labeling_job(LabelingJobName=second["labelingJobName"])
    assert described["LabelAttributeName"] == "second-level-ref"
    config = described["HumanTaskConfig"]
    assert config["MaxConcurrentTaskCount"] == 100 and config["TaskTimeLimitInSeconds"] == 604800
    assert config["TaskAvailabilityLifetimeInSeconds"] == 864000 and config["WorkteamArn"] == labeling.workteam
    assert config["UiConfig"]["HumanTaskUiArn"].endswith(":human-task-ui/VideoObjectDetection")
    assert config["PreHumanTaskLambdaArn"].endswith(":function:PRE-AdjustmentVideoObjectDetection")
    audit_categories = json.loads(labeling.read(described["LabelCategoryConfigS3Uri"]))
    assert audit_categories["auditLabelAttributeName"] == "first-level-ref"
    output = labeling.manifest(second["outputManifest"]["s3Uri"])
    assert [item["source-ref"] for item in output] == frames
    assert all("first-level-ref" in item and "second-level-ref-metadata" in item for item in output)


def test_output_manifests_are_in_ground_truths_format(labeling: Labeling, text_batch: Batch) -> None:
    # Then every output line is the input line plus <attribute> (the class index) and <attribute>-metadata
    crowd = text_batch.job("crowd")
    output = labeling.manifest(crowd["outputManifest"]["s3Uri"])
    assert len(output) == 12
    for item in output:
        metadata = item["crowd-metadata"]
        assert set(metadata) >= {"class-name", "confidence", "type", "job-name", "human-annotated", "creation-date"}
        assert metadata["class-name"] == CLASSES[item["crowd"]]
        assert 0 <= metadata["confidence"] <= 1
        assert metadata["type"] == "groundtruth/text-classification"
        assert metadata["job-name"] == f"labeling-job/{crowd['labelingJobName']}"
        assert metadata["human-annotated"] == "yes"
        assert metadata["creation-date"].startswith("20") and "T" in metadata["creation-date"]
    # And the chained job's output keeps the earlier labels beside its own
    experts = labeling.manifest(text_batch.job("experts")["outputManifest"]["s3Uri"])
    assert [item["source"] for item in experts] == [item["source"] for item in output]
    assert all(
        item["crowd"] == earlier["crowd"] and "experts-metadata" in item
        for item, earlier in zip(experts, output, strict=True)
    )
    # And the crowd's labels mostly match the answer key (three workers, consolidated)
    right = sum(item["crowd-metadata"]["class-name"] == item["sagestep-answer"] for item in output)
    assert right >= 6, right


def test_the_batch_view_links_download_its_manifests(labeling: Labeling, text_batch: Batch) -> None:
    view = text_batch.view
    assert view["urlExpiresInSeconds"] == 3600
    crowd = text_batch.job("crowd")
    links = [*crowd["inputManifests"], crowd["outputManifest"], view["report"]]
    for link in links:
        downloaded = httpx.get(link["url"], timeout=30)
        assert downloaded.status_code == 200, link
        assert downloaded.content == labeling.read(link["s3Uri"])
    assert view["workers"] and all(w["items"] > 0 for w in view["workers"])


def test_the_report_and_its_parquet_tables(
    labeling: Labeling, backend: Backend, text_batch: Batch, tmp_path: Path
) -> None:
    # Given the batch's report through the API
    report = backend.client.labeling.report("e2e-reviews")
    assert report.batchId == "e2e-reviews"
    attributes = {entry.labelAttribute: entry for entry in report.perLabelAttribute}
    assert set(attributes) == {"crowd", "experts"}
    assert attributes["crowd"].items == 12 and attributes["crowd"].annotations == 36
    assert attributes["experts"].items == 12 and attributes["experts"].annotations == 12
    assert sum(entry.annotations for entry in report.annotationsPerWindow) == 48
    assert {entry.label for entry in report.perLabel} <= set(CLASSES)
    # When its Parquet tables are queried with DuckDB under the Glue tables' names
    report_uri = text_batch.view["report"]["s3Uri"]
    prefix = report_uri.removeprefix(f"s3://{labeling.bucket}/").removesuffix("report.json")
    tables = download_tables(labeling.s3, labeling.bucket, prefix, tmp_path)
    assert all(tables[name] for name in ("annotations", "items", "workers")), tables
    per_job = query(
        "SELECT job_name, count(*) AS answers, count(DISTINCT item_key) AS items FROM annotations "
        "GROUP BY job_name ORDER BY job_name",
        tables,
    )
    # Then they hold every answer and item of the batch, as the JSON report counts them
    assert per_job == [
        {"job_name": "crowd", "answers": 36, "items": 12},
        {"job_name": "experts", "answers": 12, "items": 12},
    ]
    items = query("SELECT count(*) AS n, bool_or(failed) AS failed FROM items WHERE job_name = 'crowd'", tables)
    assert items == [{"n": 12, "failed": False}]
    workers = query("SELECT worker_id, labels FROM workers WHERE scope = 'batch' ORDER BY labels DESC", tables)
    assert sum(w["labels"] for w in workers) == 48
    assert {w["worker_id"] for w in workers} == {w.workerId for w in report.workers}


def _body(labeling: Labeling, reviews: str, batch_id: str = "e2e-refused") -> dict[str, Any]:
    return {
        "batchId": batch_id,
        "labelingJobs": [
            text_job("crowd", 1, manifest=reviews, labelCategoryConfigS3Uri=labeling.categories),
            text_job("review", 2, chain="crowd"),
        ],
    }


def _gap(body: dict[str, Any]) -> None:
    body["labelingJobs"][1]["jobLevel"] = 3


def _later(body: dict[str, Any]) -> None:
    body["labelingJobs"].append(text_job("late", 3, chain="crowd"))
    body["labelingJobs"][1]["inputConfig"]["chainFromJobName"] = "late"


def _modality(body: dict[str, Any]) -> None:
    body["labelingJobs"][0]["jobModality"] = "HologramSegmentation"


def _outside(body: dict[str, Any]) -> None:
    body["labelingJobs"][0]["inputConfig"]["inputManifestS3Uri"] = "s3://sagestep-storagedatabucket/users/x/a.manifest"


def _missing(body: dict[str, Any]) -> None:
    uri = body["labelingJobs"][0]["inputConfig"]["inputManifestS3Uri"]
    body["labelingJobs"][0]["inputConfig"]["inputManifestS3Uri"] = uri.replace("reviews.manifest", "none.manifest")


def _categories(body: dict[str, Any]) -> None:
    uri = body["labelingJobs"][0]["labelCategoryConfigS3Uri"]
    body["labelingJobs"][0]["labelCategoryConfigS3Uri"] = uri.replace("labels.json", "broken-labels.json")


def _topic(body: dict[str, Any]) -> None:
    body["destinationSnsArn"] = "arn:aws:sns:us-east-1:123456789012:somebody-elses-topic"


def _custom(body: dict[str, Any]) -> None:
    body["labelingJobs"][0]["jobModality"] = "Custom"


@pytest.mark.parametrize(
    ("change", "field", "fragment"),
    [
        (_gap, "labelingJobs", "no job has level 2"),
        (_later, "labelingJobs", "a job may chain only from earlier levels"),
        (_modality, "labelingJobs.0.jobModality", "not a supported modality"),
        (_outside, "labelingJobs.0.inputConfig.inputManifestS3Uri", "must be under"),
        (_missing, "labelingJobs.0.inputConfig.inputManifestS3Uri", "does not exist"),
        (_categories, "labelingJobs.0.labelCategoryConfigS3Uri", "is not JSON"),
        (_topic, "destinationSnsArn", "labelingDestinationTopics"),
        (_custom, "labelingJobs.0", "uiTemplateS3Uri"),
    ],
    ids=["gap", "chain-to-later", "modality", "outside-prefix", "missing", "categories", "topic", "custom"],
)
def test_a_bad_batch_is_refused_naming_the_field_and_nothing_is_created(
    labeling: Labeling, reviews: str, change: Any, field: str, fragment: str
) -> None:
    labeling.upload("labeling/broken-labels.json", b'{"labels": [{"label": "positive"},')
    body = _body(labeling, reviews)
    change(body)
    response = labeling.create(body)
    assert response.status_code == 400, response.text
    assert response.json()["field"] == field, response.json()
    assert fragment in response.json()["message"], response.json()
    # And nothing of the batch exists: no record, no execution, no labeling job, no files
    assert labeling.request("GET", "/batch/show", params={"batchId": "e2e-refused"}).status_code == 404
    assert "e2e-refused" not in json.dumps(labeling.request("GET", "/batch/show").json())
    executions = labeling.sfn.list_executions(stateMachineArn=labeling.state_machine_arn, maxResults=1000)
    assert labeling.job_id("e2e-refused") not in [e["name"] for e in executions["executions"]]
    jobs = labeling.sagemaker.list_labeling_jobs(NameContains="e2e-refused")["LabelingJobSummaryList"]
    assert jobs == []
    prefix = f"users/{labeling.owner}/labeling/e2e-refused/"
    assert labeling.s3.list_objects_v2(Bucket=labeling.bucket, Prefix=prefix).get("KeyCount", 0) == 0


def test_a_jobs_fields_are_named_one_way(labeling: Labeling, reviews: str) -> None:
    # The body's validation and the checks against your files name a job's field alike (labelingJobs.<index>.<field>)
    by_validation, by_check = _body(labeling, reviews), _body(labeling, reviews)
    _modality(by_validation)
    _missing(by_check)
    fields = [labeling.create(body).json()["field"] for body in (by_validation, by_check)]
    assert fields[1] == "labelingJobs.0.inputConfig.inputManifestS3Uri"
    assert fields[0] == "labelingJobs.0.jobModality", fields


def test_batches_are_listed_by_status_and_hidden_from_other_users(
    labeling: Labeling, backend: Backend, reviews: str, text_batch: Batch
) -> None:
    # Given a completed batch, a failed one and a running one
    faults = backend.runtime.faults.labeling
    faults.fail_next_job("ClientError: The input manifest is gone.", job="e2e-failed-*")
    failed = labeling.run(_body(labeling, reviews, "e2e-failed"))
    assert failed.view["status"] == "FAILED"
    faults.hang_next_job(job="e2e-running-*")
    assert labeling.create(_body(labeling, reviews, "e2e-running")).status_code == 202
    labeling.wait_for_job_status(
        labeling_job_name("e2e-running", "crowd", labeling.job_id("e2e-running")), "InProgress"
    )
    # Then GET /batch/show groups the user's batch ids by status
    groups = backend.client.labeling.list()
    assert "e2e-reviews" in groups.COMPLETE and "e2e-failed" in groups.FAILED and "e2e-running" in groups.IN_PROGRESS
    # And another user sees none of them: show, stop and report are 404, the list has none
    other = backend.other_user("labeling-other@example.com")
    for call in (other.labeling.show, other.labeling.stop, other.labeling.report):
        with pytest.raises(NotFoundError):
            call("e2e-running")
        with pytest.raises(NotFoundError):
            call("e2e-reviews")
    assert other.labeling.list().model_dump() == {"IN_PROGRESS": [], "COMPLETE": [], "FAILED": [], "STOPPED": []}
    # And the owner's stop ends the running one STOPPED; it is listed so
    stopped = backend.client.labeling.stop("e2e-running")
    assert stopped.batchId == "e2e-running"
    assert labeling.wait("e2e-running").view["status"] == "STOPPED"
    groups = backend.client.labeling.list()
    assert "e2e-running" in groups.STOPPED and "e2e-running" not in groups.IN_PROGRESS
    # And a batch without a report answers 409 for it
    assert labeling.request("GET", "/batch/e2e-failed/report").status_code == 409


def test_named_entities_and_a_custom_task_are_labeled_with_sagesteps_own_lambdas(labeling: Labeling) -> None:
    # Given abstracts (say, text Textract read) whose sections are tagged as spans, and a custom task of the user's:
    # a Liquid template reading task.input, no Lambda of theirs (sagestep's pre-annotation and consolidation)
    abstract = "We train a model. Accuracy improves by ten points."
    spans = [
        {"label": "METHOD", "startOffset": 0, "endOffset": 17},
        {"label": "RESULT", "startOffset": 18, "endOffset": 50},
    ]
    ner_lines = [
        {"source": abstract, "sagestep-answer": spans},
        {"source": "We survey methods.", "sagestep-answer": []},
    ]
    ner = labeling.upload(
        "e2e/labeling/ner/abstracts.manifest", "".join(json.dumps(x) + "\n" for x in ner_lines).encode()
    )
    labels = json.dumps({"labels": [{"label": "METHOD"}, {"label": "RESULT"}]}).encode()
    ner_categories = labeling.upload("e2e/labeling/ner/labels.json", labels)
    custom_lines = [
        {"source": f"claim {i}", "sagestep-answer": {"verdict": "true" if i % 2 else "false"}} for i in range(4)
    ]
    custom = labeling.upload(
        "e2e/labeling/custom/claims.manifest", "".join(json.dumps(x) + "\n" for x in custom_lines).encode()
    )
    template = labeling.upload(
        "e2e/labeling/custom/template.liquid.html",
        b"<crowd-form><p>{{ task.input.taskObject }}</p>"
        b'<crowd-radio-group name="verdict"></crowd-radio-group></crowd-form>',
    )
    custom_categories = labeling.upload(
        "e2e/labeling/custom/labels.json", json.dumps({"labels": [{"label": "true"}, {"label": "false"}]}).encode()
    )
    body = {
        "batchId": "e2e-spans",
        "labelingJobs": [
            {"jobName": "sections", "jobModality": "NamedEntityRecognition", "jobLevel": 1,
             "labelCategoryConfigS3Uri": ner_categories, "inputConfig": {"inputManifestS3Uri": ner},
             "workersPerObject": 3},
            {"jobName": "claims", "jobModality": "Custom", "jobLevel": 1, "uiTemplateS3Uri": template,
             "labelCategoryConfigS3Uri": custom_categories, "inputConfig": {"inputManifestS3Uri": custom},
             "workersPerObject": 2},
        ],
    }  # fmt: skip
    # When the batch runs
    batch = labeling.run(body)
    assert batch.view["status"] == "COMPLETE", batch.view["error"]
    # Then the named entities are Ground Truth's NER output (AWS's worker UI, sagestep's span voting)
    sections = labeling.manifest(batch.job("sections")["outputManifest"]["s3Uri"])
    entities = sections[0]["sections"]["annotations"]["entities"]
    assert {(e["label"], e["startOffset"], e["endOffset"]) for e in entities} <= {
        (s["label"], s["startOffset"], s["endOffset"]) for s in spans
    }
    assert entities, sections[0]
    metadata = sections[0]["sections-metadata"]
    assert metadata["human-annotated"] == "yes" and metadata["job-name"].startswith("labeling-job/e2e-spans-sections-")
    described = labeling.sagemaker.describe_labeling_job(LabelingJobName=batch.job("sections")["labelingJobName"])
    assert described["HumanTaskConfig"]["UiConfig"]["HumanTaskUiArn"].endswith("human-task-ui/NamedEntityRecognition")
    # And the custom task used the user's template and sagestep's Lambdas; each claim got the workers' answer
    described = labeling.sagemaker.describe_labeling_job(LabelingJobName=batch.job("claims")["labelingJobName"])
    assert described["HumanTaskConfig"]["UiConfig"]["UiTemplateS3Uri"] == template
    assert "PreAnnotation" in described["HumanTaskConfig"]["PreHumanTaskLambdaArn"]
    consolidation = described["HumanTaskConfig"]["AnnotationConsolidationConfig"]["AnnotationConsolidationLambdaArn"]
    assert "Consolidation" in consolidation
    claims = labeling.manifest(batch.job("claims")["outputManifest"]["s3Uri"])
    assert [line["claims-metadata"]["type"] for line in claims] == ["groundtruth/custom"] * 4
    assert all("claims" in line and "sagestep-answer" in line for line in claims)
