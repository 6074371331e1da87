"""The local Ground Truth through a real boto3 client against the emulator: labeling jobs over manifests in the
emulator's S3, their output layout, statuses and events, real and AWS-owned Lambdas, the simulated workforce,
stopping, faults and throttling."""

from __future__ import annotations

import datetime as dt
import json
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from sagestep.local.emulator import LocalAws
from sagestep.local.faults import ArmedFault, Faults
from sagestep.local.services import ServiceRegistry
from sagestep.local.services.sagemaker import SageMakerEmulator
from sagestep.local.services.sagemaker.labeling_tasks import answer_content
from sagestep.local.services.sagemaker.workforce import (
    DEFAULT_CROWD,
    DEFAULT_EXPERTS,
    LabelingTask,
    SimulatedWorker,
    SimulatedWorkforce,
    load_workforce,
)
from sagestep_service.workflows.labeling.ground_truth import lambda_arn

BUCKET = "labeling-data"
ROLE = "arn:aws:iam::123456789012:role/GroundTruth"
TEAM = "arn:aws:sagemaker:us-east-1:123456789012:workteam/private-crowd/annotators"
EXPERTS = "arn:aws:sagemaker:us-east-1:123456789012:workteam/private-crowd/expert-reviewers"
CLASSES = ["positive", "negative", "neutral"]
TERMINAL = ("Completed", "Failed", "Stopped")
ISO_MS = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
ISO_US = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}$")
STAMP = r"\d{4}-\d\d-\d\d_\d\d:\d\d:\d\d\.json"


@pytest.fixture(scope="module")
def aws() -> Iterator[LocalAws]:
    with LocalAws(registry=ServiceRegistry([SageMakerEmulator])) as running:
        running.client("s3").create_bucket(Bucket=BUCKET)
        put_json(running, "config/categories.json", categories(CLASSES))
        yield running


@pytest.fixture(scope="module")
def client(aws: LocalAws) -> Any:
    return aws.client("sagemaker", config=Config(retries={"total_max_attempts": 1}))  # errors not retried away


@pytest.fixture()
def sm(aws: LocalAws, client: Any) -> Iterator[Any]:
    """The SageMaker client; default workforce and no delay unless a test changes them; faults and stray jobs gone
    after each test."""
    emulator = aws.service(SageMakerEmulator)
    emulator.workforce, emulator.labeling_item_delay = SimulatedWorkforce(), 0.0
    yield client
    aws.faults.clear()
    for job in client.list_labeling_jobs(MaxResults=100)["LabelingJobSummaryList"]:
        if job["LabelingJobStatus"] in ("Initializing", "InProgress"):
            client.stop_labeling_job(LabelingJobName=job["LabelingJobName"])
    assert aws.wait_idle(20)


def categories(names: list[str]) -> dict[str, Any]:
    return {"document-version": "2018-11-28", "labels": [{"label": name} for name in names]}


def put_json(aws: LocalAws, key: str, value: Any) -> str:
    aws.client("s3").put_object(Bucket=BUCKET, Key=key, Body=json.dumps(value).encode())
    return f"s3://{BUCKET}/{key}"


def put_manifest(aws: LocalAws, key: str, lines: list[dict[str, Any]]) -> str:
    body = "\n".join(json.dumps(line) for line in lines).encode()
    aws.client("s3").put_object(Bucket=BUCKET, Key=key, Body=body)
    return f"s3://{BUCKET}/{key}"


def text_lines(count: int) -> list[dict[str, Any]]:
    return [{"source": f"review number {i}", "sagestep-answer": CLASSES[i % 3]} for i in range(count)]


def read(aws: LocalAws, uri: str) -> bytes:
    bucket, _, key = uri[5:].partition("/")
    body: bytes = aws.client("s3").get_object(Bucket=bucket, Key=key)["Body"].read()
    return body


def keys(aws: LocalAws, prefix: str) -> list[str]:
    pages = aws.client("s3").get_paginator("list_objects_v2").paginate(Bucket=BUCKET, Prefix=prefix)
    return sorted(item["Key"] for page in pages for item in page.get("Contents", []))


def create(
    sm: Any,
    name: str,
    manifest: str,
    modality: str = "TextClassification",
    *,
    workers: int = 3,
    pre: str | None = None,
    acs: str | None = None,
    team: str = TEAM,
    category_uri: str | None = f"s3://{BUCKET}/config/categories.json",
    **extra: Any,
) -> str:
    config: dict[str, Any] = {
        "WorkteamArn": team,
        "UiConfig": {"UiTemplateS3Uri": f"s3://{BUCKET}/config/template.liquid"},
        "PreHumanTaskLambdaArn": pre or lambda_arn("PRE", modality, "us-east-1"),
        "TaskTitle": "Label it",
        "TaskDescription": "Label it well",
        "NumberOfHumanWorkersPerDataObject": workers,
        "TaskTimeLimitInSeconds": 300,
        "AnnotationConsolidationConfig": {
            "AnnotationConsolidationLambdaArn": acs or lambda_arn("ACS", modality, "us-east-1")
        },
    }
    request: dict[str, Any] = {
        "LabelingJobName": name,
        "LabelAttributeName": extra.pop("LabelAttributeName", name),
        "InputConfig": {"DataSource": {"S3DataSource": {"ManifestS3Uri": manifest}}},
        "OutputConfig": {"S3OutputPath": f"s3://{BUCKET}/output/"},
        "RoleArn": ROLE,
        "HumanTaskConfig": config,
        **extra,
    }
    if category_uri:
        request["LabelCategoryConfigS3Uri"] = category_uri
    arn: str = sm.create_labeling_job(**request)["LabelingJobArn"]
    return arn


def wait(sm: Any, name: str, statuses: tuple[str, ...] = TERMINAL, timeout: float = 10) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        job: dict[str, Any] = sm.describe_labeling_job(LabelingJobName=name)
        if job["LabelingJobStatus"] in statuses or time.monotonic() > deadline:
            return job
        time.sleep(0.02)


def output_lines(aws: LocalAws, job: dict[str, Any]) -> list[dict[str, Any]]:
    text = read(aws, job["LabelingJobOutput"]["OutputDatasetS3Uri"]).decode()
    return [json.loads(line) for line in text.splitlines()]


# Jobs ------------------------------------------------------------------------------------------------------


def test_a_job_writes_every_output_file_in_ground_truth_s_layout_and_format(aws: LocalAws, sm: Any) -> None:
    manifest = put_manifest(aws, "input/layout.manifest", text_lines(12))
    arn = create(sm, "layout-job", manifest, Tags=[{"Key": "sagestep:batch", "Value": "b1"}])
    job = wait(sm, "layout-job")

    assert job["LabelingJobStatus"] == "Completed", job.get("FailureReason")
    assert job["LabelingJobArn"] == arn == "arn:aws:sagemaker:us-east-1:123456789012:labeling-job/layout-job"
    assert job["LabelCounters"] == {
        "TotalLabeled": 12,
        "HumanLabeled": 12,
        "MachineLabeled": 0,
        "FailedNonRetryableError": 0,
        "Unlabeled": 0,
    }
    base = "output/layout-job"
    assert job["LabelingJobOutput"]["OutputDatasetS3Uri"] == f"s3://{BUCKET}/{base}/manifests/output/output.manifest"
    assert job["Tags"] == [{"Key": "sagestep:batch", "Value": "b1"}]
    assert job["HumanTaskConfig"]["NumberOfHumanWorkersPerDataObject"] == 3
    assert job["JobReferenceCode"].startswith("123456789012")

    written = keys(aws, base + "/")
    consolidation = f"{base}/annotations/consolidated-annotation"
    assert [k for k in written if "/consolidated-annotation/" in k] == [
        k for k in written if re.fullmatch(rf"{consolidation}/consolidation-(request|response)/iteration-1/{STAMP}", k)
    ]
    assert len([k for k in written if "/consolidation-request/" in k]) == 1
    assert len([k for k in written if "/consolidation-response/" in k]) == 1
    responses = [k for k in written if "/worker-response/" in k]
    assert len(responses) == 12 and written == sorted(
        [f"{base}/manifests/output/output.manifest", *responses, *(k for k in written if "/consolidated-" in k)]
    )
    assert all(re.fullmatch(rf"{base}/annotations/worker-response/iteration-1/\d+/{STAMP}", k) for k in responses)

    # One worker response per item, every worker's answer as the worker UI submits it
    first = json.loads(read(aws, f"s3://{BUCKET}/" + next(k for k in responses if "/iteration-1/0/" in k)))
    assert len(first["answers"]) == 3 and len({a["workerId"] for a in first["answers"]}) == 3
    for answer in first["answers"]:
        assert set(answer) == {
            "workerId",
            "workerMetadata",
            "answerContent",
            "acceptanceTime",
            "submissionTime",
            "timeSpentInSeconds",
        }
        assert answer["workerMetadata"]["identityData"]["identityProviderType"] == "Cognito"
        assert answer["answerContent"]["crowd-classifier"]["label"] in CLASSES
        assert ISO_MS.match(answer["acceptanceTime"]) and ISO_MS.match(answer["submissionTime"])
        accepted = dt.datetime.fromisoformat(answer["acceptanceTime"].rstrip("Z"))
        submitted = dt.datetime.fromisoformat(answer["submissionTime"].rstrip("Z"))
        assert abs((submitted - accepted).total_seconds() - answer["timeSpentInSeconds"]) < 0.01

    # The consolidation request payload is the contract's; the output manifest keeps input order
    request_key = next(k for k in written if "/consolidation-request/" in k)
    payload = json.loads(read(aws, f"s3://{BUCKET}/{request_key}"))
    assert payload[0]["datasetObjectId"] == "0" and payload[0]["dataObject"] == {"content": "review number 0"}
    assert json.loads(payload[0]["annotations"][0]["annotationData"]["content"]) == first["answers"][0]["answerContent"]
    lines = output_lines(aws, job)
    assert [line["source"] for line in lines] == [f"review number {i}" for i in range(12)]
    for line in lines:
        metadata = line["layout-job-metadata"]
        assert CLASSES[line["layout-job"]] == metadata["class-name"]
        assert metadata["type"] == "groundtruth/text-classification"
        assert metadata["job-name"] == "labeling-job/layout-job" and metadata["human-annotated"] == "yes"
        assert ISO_US.match(metadata["creation-date"]) and 0 < metadata["confidence"] <= 1


def test_state_changes_are_put_on_eventbridge_in_order_with_aws_s_detail(aws: LocalAws, sm: Any) -> None:
    sqs, events = aws.client("sqs"), aws.client("events")
    queue = sqs.create_queue(QueueName="labeling-events")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    pattern = {"source": ["aws.sagemaker"], "detail-type": ["SageMaker Ground Truth Labeling Job State Change"]}
    events.put_rule(Name="labeling-jobs", EventPattern=json.dumps(pattern))
    events.put_targets(Rule="labeling-jobs", Targets=[{"Id": "queue", "Arn": queue_arn}])
    manifest = put_manifest(aws, "input/events.manifest", text_lines(3))

    arn = create(sm, "events-job", manifest)
    wait(sm, "events-job")
    assert aws.wait_idle(10)

    received = [json.loads(m["Body"]) for m in sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10)["Messages"]]
    assert [e["detail"] for e in received] == [
        {"LabelingJobStatus": status} for status in ("Initializing", "InProgress", "Completed")
    ]
    assert all(e["resources"] == [arn] and e["source"] == "aws.sagemaker" for e in received)
    events.remove_targets(Rule="labeling-jobs", Ids=["queue"])
    events.delete_rule(Name="labeling-jobs")


def test_names_are_unique_case_insensitively_and_unknown_jobs_are_not_found(aws: LocalAws, sm: Any) -> None:
    manifest = put_manifest(aws, "input/unique.manifest", text_lines(2))
    arn = create(sm, "Unique-Job", manifest)
    with pytest.raises(ClientError) as refused:
        create(sm, "unique-job", manifest)
    assert refused.value.response["Error"]["Code"] == "ResourceInUse"
    assert refused.value.response["Error"]["Message"] == (
        "Labeling job names must be unique within an AWS account and region, and a labeling job with this name "
        f"already exists ({arn})"
    )
    assert wait(sm, "UNIQUE-JOB")["LabelingJobName"] == "Unique-Job"
    with pytest.raises(ClientError) as missing:
        sm.describe_labeling_job(LabelingJobName="no-such-job")
    assert missing.value.response["Error"]["Code"] == "ResourceNotFound"
    with pytest.raises(ClientError, match="ResourceNotFound"):
        sm.stop_labeling_job(LabelingJobName="no-such-job")
    with pytest.raises(ClientError, match="LabelCategoryConfigS3Uri is required"):
        create(sm, "no-categories", manifest, category_uri=None)


def test_an_unreadable_manifest_or_category_file_fails_the_job_with_a_reason(aws: LocalAws, sm: Any) -> None:
    create(sm, "missing-manifest", f"s3://{BUCKET}/input/nothing-here.manifest")
    job = wait(sm, "missing-manifest")
    assert job["LabelingJobStatus"] == "Failed"
    assert job["FailureReason"].startswith("ClientError: Failed to read the input manifest")
    assert f"s3://{BUCKET}/input/nothing-here.manifest" in job["FailureReason"]
    assert "LabelingJobOutput" not in job

    manifest = put_manifest(aws, "input/cats.manifest", text_lines(2))
    create(sm, "missing-categories", manifest, category_uri=f"s3://{BUCKET}/config/none.json")
    job = wait(sm, "missing-categories")
    assert job["LabelingJobStatus"] == "Failed" and "label category configuration file" in job["FailureReason"]


def test_list_filters_sorts_and_pages(aws: LocalAws, sm: Any) -> None:
    manifest = put_manifest(aws, "input/list.manifest", text_lines(1))
    before = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)
    for name in ("listed-b", "listed-a", "listed-c"):
        create(sm, name, manifest)
        wait(sm, name)
    create(sm, "listed-failed", f"s3://{BUCKET}/input/absent.manifest")
    wait(sm, "listed-failed")

    def names(**params: Any) -> list[str]:
        return [j["LabelingJobName"] for j in sm.list_labeling_jobs(**params)["LabelingJobSummaryList"]]

    assert names(NameContains="LISTED", SortBy="Name") == ["listed-a", "listed-b", "listed-c", "listed-failed"]
    assert names(NameContains="listed", SortBy="CreationTime", SortOrder="Descending")[0] == "listed-failed"
    assert names(NameContains="listed", StatusEquals="Failed") == ["listed-failed"]
    assert names(NameContains="listed", CreationTimeAfter=before, SortBy="Name", MaxResults=2) == [
        "listed-a",
        "listed-b",
    ]
    assert names(NameContains="listed", CreationTimeBefore=before) == []
    first = sm.list_labeling_jobs(NameContains="listed", SortBy="Name", MaxResults=3)
    rest = sm.list_labeling_jobs(NameContains="listed", SortBy="Name", MaxResults=3, NextToken=first["NextToken"])
    assert [j["LabelingJobName"] for j in rest["LabelingJobSummaryList"]] == [
        "listed-failed"
    ] and "NextToken" not in rest
    summary = first["LabelingJobSummaryList"][0]
    assert summary["WorkteamArn"] == TEAM and summary["LabelCounters"]["HumanLabeled"] == 1
    assert summary["LabelingJobOutput"]["OutputDatasetS3Uri"].endswith("/listed-a/manifests/output/output.manifest")


def test_tags_are_listed_and_added_on_the_job_arn(aws: LocalAws, sm: Any) -> None:
    manifest = put_manifest(aws, "input/tags.manifest", text_lines(1))
    arn = create(sm, "tagged-job", manifest, Tags=[{"Key": "a", "Value": "1"}])
    sm.add_tags(ResourceArn=arn, Tags=[{"Key": "b", "Value": "2"}])
    assert sm.list_tags(ResourceArn=arn)["Tags"] == [{"Key": "a", "Value": "1"}, {"Key": "b", "Value": "2"}]
    assert wait(sm, "tagged-job")["Tags"] == [{"Key": "a", "Value": "1"}, {"Key": "b", "Value": "2"}]


# Stopping ----------------------------------------------------------------------------------------------------


def test_a_stopped_job_goes_stopping_then_stopped_with_what_was_labeled(aws: LocalAws, sm: Any) -> None:
    aws.service(SageMakerEmulator).labeling_item_delay = 0.02
    manifest = put_manifest(aws, "input/stop.manifest", text_lines(200))
    create(sm, "stopped-job", manifest)
    assert wait(sm, "stopped-job", ("InProgress",))["LabelingJobStatus"] == "InProgress"
    time.sleep(0.1)
    sm.stop_labeling_job(LabelingJobName="stopped-job")
    assert sm.describe_labeling_job(LabelingJobName="stopped-job")["LabelingJobStatus"] in ("Stopping", "Stopped")
    started = time.monotonic()
    job = wait(sm, "stopped-job")
    assert job["LabelingJobStatus"] == "Stopped" and time.monotonic() - started < 1
    counters = job["LabelCounters"]
    assert 0 < counters["HumanLabeled"] < 200 and counters["Unlabeled"] == 200 - counters["HumanLabeled"]
    assert len(output_lines(aws, job)) == counters["HumanLabeled"]


def test_stopping_conditions_label_only_the_first_items_then_stop(aws: LocalAws, sm: Any) -> None:
    manifest = put_manifest(aws, "input/conditions.manifest", text_lines(10))
    create(sm, "capped-job", manifest, StoppingConditions={"MaxHumanLabeledObjectCount": 4})
    job = wait(sm, "capped-job")
    assert job["LabelingJobStatus"] == "Stopped"
    assert job["LabelCounters"]["HumanLabeled"] == 4 and job["LabelCounters"]["Unlabeled"] == 6
    assert [line["source"] for line in output_lines(aws, job)] == [f"review number {i}" for i in range(4)]
    create(sm, "percent-job", manifest, StoppingConditions={"MaxPercentageOfInputDatasetLabeled": 30})
    assert wait(sm, "percent-job")["LabelCounters"]["HumanLabeled"] == 3


# Lambdas --------------------------------------------------------------------------------------------------------


def test_real_pre_and_consolidation_lambdas_are_invoked_with_ground_truth_s_events(aws: LocalAws, sm: Any) -> None:
    pre_events: list[dict[str, Any]] = []
    acs_events: list[dict[str, Any]] = []

    def pre(event: dict[str, Any], context: Any) -> dict[str, Any]:
        pre_events.append(event)
        text = event["dataObject"]["source"]
        return {"taskInput": {"text": text.upper()}, "isHumanAnnotationRequired": "false" if "2" in text else "true"}

    def consolidate(event: dict[str, Any], context: Any) -> list[dict[str, Any]]:
        acs_events.append(event)
        items = json.loads(read(aws, event["payload"]["s3Uri"]))
        attribute = event["labelAttributeName"]
        result = []
        for item in items:
            labels = [
                json.loads(a["annotationData"]["content"])["crowd-classifier"]["label"] for a in item["annotations"]
            ]
            winner = max(set(labels), key=labels.count)
            content = {attribute: winner, f"{attribute}-metadata": {"votes": len(labels)}}
            result.append({"datasetObjectId": item["datasetObjectId"], "consolidatedAnnotation": {"content": content}})
        return result

    pre_arn = aws.register_lambda("LabelingPreAnnotation", pre)
    acs_arn = aws.register_lambda("LabelingConsolidation", consolidate)
    manifest = put_manifest(aws, "input/lambdas.manifest", text_lines(4))
    arn = create(
        sm,
        "lambda-job",
        manifest,
        pre=pre_arn,
        acs=acs_arn,
        Tags=[{"Key": "sagestep:modality", "Value": "TextClassification"}],
    )
    job = wait(sm, "lambda-job")

    assert job["LabelingJobStatus"] == "Completed", job.get("FailureReason")
    assert [e["dataObject"]["source"] for e in pre_events] == [f"review number {i}" for i in range(4)]
    assert pre_events[0] == {"version": "2018-10-16", "labelingJobArn": arn, "dataObject": text_lines(4)[0]}
    assert len(acs_events) == 1
    event = acs_events[0]
    assert event["labelCategories"] == CLASSES and event["labelAttributeName"] == "lambda-job"
    assert event["roleArn"] == ROLE and event["version"] == "2018-10-16" and event["labelingJobArn"] == arn
    assert event["outputConfig"] == (
        f"s3://{BUCKET}/output/lambda-job/annotations/consolidated-annotation/consolidation-response"
    )
    assert re.fullmatch(rf".*/consolidation-request/iteration-1/{STAMP}", event["payload"]["s3Uri"])
    lines = output_lines(aws, job)
    assert [line.get("lambda-job-metadata") for line in lines] == [{"votes": 3}, {"votes": 3}, None, {"votes": 3}]
    assert job["LabelCounters"]["HumanLabeled"] == 3 and job["LabelCounters"]["Unlabeled"] == 1
    assert len(keys(aws, "output/lambda-job/annotations/worker-response/")) == 3


def test_a_lambda_error_or_a_bad_response_fails_the_job_naming_the_lambda(aws: LocalAws, sm: Any) -> None:
    def broken(event: dict[str, Any], context: Any) -> None:
        raise KeyError("labelAttributeName")

    acs_arn = aws.register_lambda("BrokenConsolidation", broken)
    pre_arn = aws.register_lambda("BadPreAnnotation", lambda event, context: {"isHumanAnnotationRequired": "true"})
    manifest = put_manifest(aws, "input/broken.manifest", text_lines(2))
    create(sm, "broken-acs", manifest, acs=acs_arn)
    create(sm, "bad-pre", manifest, pre=pre_arn)

    job = wait(sm, "broken-acs")
    assert job["LabelingJobStatus"] == "Failed"
    assert job["FailureReason"] == (
        f"ClientError: The annotation consolidation Lambda {acs_arn} failed: KeyError: 'labelAttributeName'"
    )
    job = wait(sm, "bad-pre")
    assert job["LabelingJobStatus"] == "Failed"
    assert f"The pre-annotation Lambda {pre_arn} returned an invalid response" in job["FailureReason"]


def test_a_bounding_box_job_chains_into_an_adjustment_job_by_experts(aws: LocalAws, sm: Any) -> None:
    put_json(aws, "config/boxes.json", categories(["car", "person"]))
    truth = {
        "imageSize": {"width": 640, "height": 480, "depth": 3},
        "boxes": [{"label": "car", "left": 10, "top": 20, "width": 100, "height": 80}],
    }
    lines = [{"source-ref": f"s3://{BUCKET}/images/{i}.jpg", "sagestep-answer": truth} for i in range(5)]
    manifest = put_manifest(aws, "input/boxes.manifest", lines)
    category_uri = f"s3://{BUCKET}/config/boxes.json"
    create(sm, "boxes-job", manifest, "BoundingBox", workers=1, category_uri=category_uri)
    first = wait(sm, "boxes-job")
    assert first["LabelingJobStatus"] == "Completed", first.get("FailureReason")
    labeled = output_lines(aws, first)
    assert labeled[0]["boxes-job"]["image_size"] == [{"width": 640, "height": 480, "depth": 3}]
    assert labeled[0]["boxes-job-metadata"]["type"] == "groundtruth/object-detection"
    assert labeled[0]["boxes-job-metadata"]["class-map"] == {"0": "car", "1": "person"}

    create(
        sm,
        "boxes-audit",
        first["LabelingJobOutput"]["OutputDatasetS3Uri"],
        "BoundingBoxAudit",
        workers=1,
        team=EXPERTS,
        category_uri=category_uri,
    )
    audit = wait(sm, "boxes-audit")
    assert audit["LabelingJobStatus"] == "Completed", audit.get("FailureReason")
    for line in output_lines(aws, audit):
        assert "boxes-job" in line and line["boxes-audit-metadata"]["adjustment-status"] in ("adjusted", "unadjusted")
    response = json.loads(
        read(aws, f"s3://{BUCKET}/" + keys(aws, "output/boxes-audit/annotations/worker-response/")[0])
    )
    assert response["answers"][0]["workerId"].startswith("sim-expert-")
    assert set(response["answers"][0]["answerContent"]["boundingBox"]) == {"boundingBoxes", "inputImageProperties"}


def test_a_thousand_items_with_three_workers_label_in_well_under_two_seconds(aws: LocalAws, sm: Any) -> None:
    manifest = put_manifest(aws, "input/big.manifest", text_lines(1000))
    started = time.monotonic()
    create(sm, "big-job", manifest)
    job = wait(sm, "big-job")
    elapsed = time.monotonic() - started
    assert job["LabelingJobStatus"] == "Completed" and job["LabelCounters"]["HumanLabeled"] == 1000
    assert elapsed < 1.5, elapsed


def test_create_labeling_job_sync_in_step_functions_outputs_the_description_or_fails(aws: LocalAws, sm: Any) -> None:
    manifest = put_manifest(aws, "input/sync.manifest", text_lines(3))
    parameters = {
        "LabelingJobName.$": "$.name",
        "LabelAttributeName.$": "$.name",
        "InputConfig": {"DataSource": {"S3DataSource": {"ManifestS3Uri.$": "$.manifest"}}},
        "OutputConfig": {"S3OutputPath": f"s3://{BUCKET}/output/"},
        "RoleArn": ROLE,
        "LabelCategoryConfigS3Uri": f"s3://{BUCKET}/config/categories.json",
        "HumanTaskConfig": {
            "WorkteamArn": TEAM,
            "UiConfig": {"UiTemplateS3Uri": f"s3://{BUCKET}/config/template.liquid"},
            "PreHumanTaskLambdaArn": lambda_arn("PRE", "TextClassification", "us-east-1"),
            "TaskTitle": "t",
            "TaskDescription": "d",
            "NumberOfHumanWorkersPerDataObject": 2,
            "TaskTimeLimitInSeconds": 300,
            "AnnotationConsolidationConfig": {
                "AnnotationConsolidationLambdaArn": lambda_arn("ACS", "TextClassification", "us-east-1")
            },
        },
    }
    definition = {
        "StartAt": "Label",
        "States": {
            "Label": {
                "Type": "Task",
                "Resource": "arn:aws:states:::sagemaker:createLabelingJob.sync",
                "Parameters": parameters,
                "Catch": [{"ErrorEquals": ["States.TaskFailed"], "ResultPath": "$.error", "Next": "Failed"}],
                "End": True,
            },
            "Failed": {"Type": "Pass", "End": True},
        },
    }
    sfn = aws.client("stepfunctions")
    machine = sfn.create_state_machine(name="labeling-sync", definition=json.dumps(definition), roleArn=ROLE)
    runs = {}
    for name, uri in (("sync-ok", manifest), ("sync-missing", f"s3://{BUCKET}/input/absent.manifest")):
        runs[name] = sfn.start_execution(
            stateMachineArn=machine["stateMachineArn"], name=name, input=json.dumps({"name": name, "manifest": uri})
        )["executionArn"]
    results = {}
    for name, execution in runs.items():
        deadline = time.monotonic() + 10
        while (described := sfn.describe_execution(executionArn=execution))["status"] == "RUNNING":
            assert time.monotonic() < deadline
            time.sleep(0.05)
        results[name] = json.loads(described["output"])
    assert results["sync-ok"]["LabelingJobStatus"] == "Completed"
    assert results["sync-ok"]["LabelingJobOutput"]["OutputDatasetS3Uri"].endswith(
        "/sync-ok/manifests/output/output.manifest"
    )
    caught = results["sync-missing"]["error"]
    assert caught["Error"] == "States.TaskFailed"
    assert json.loads(caught["Cause"])["FailureReason"].startswith("ClientError: Failed to read the input manifest")


# Faults and throttling ----------------------------------------------------------------------------------------


def test_a_hanging_job_stays_in_progress_until_stopped_and_a_failing_one_fails(aws: LocalAws, sm: Any) -> None:
    manifest = put_manifest(aws, "input/faults.manifest", text_lines(2))
    aws.faults.labeling.hang_next_job("hang-*")
    aws.faults.labeling.fail_next_job("ClientError: no workers", job="fail-*")
    create(sm, "other-job", manifest)
    assert wait(sm, "other-job")["LabelingJobStatus"] == "Completed"  # neither glob matches

    create(sm, "hang-job", manifest)
    create(sm, "fail-job", manifest)
    failed = wait(sm, "fail-job")
    assert failed["LabelingJobStatus"] == "Failed" and failed["FailureReason"] == "ClientError: no workers"
    time.sleep(0.3)
    assert sm.describe_labeling_job(LabelingJobName="hang-job")["LabelingJobStatus"] == "InProgress"
    sm.stop_labeling_job(LabelingJobName="hang-job")
    stopped = wait(sm, "hang-job")
    assert stopped["LabelingJobStatus"] == "Stopped" and "LabelingJobOutput" not in stopped


def test_throttling_and_refusals_hit_create_labeling_job_without_creating_it(aws: LocalAws, sm: Any) -> None:
    manifest = put_manifest(aws, "input/throttle.manifest", text_lines(1))
    aws.faults.throttle("CreateLabelingJob", message="Rate exceeded")
    with pytest.raises(ClientError) as throttled:
        create(sm, "throttled-job", manifest)
    assert throttled.value.response["Error"]["Code"] == "ThrottlingException"
    aws.faults.fail_call("CreateLabelingJob", "ResourceLimitExceeded", "too many labeling jobs")
    with pytest.raises(ClientError) as refused:
        create(sm, "throttled-job", manifest)
    assert refused.value.response["Error"]["Code"] == "ResourceLimitExceeded"
    with pytest.raises(ClientError, match="ResourceNotFound"):
        sm.describe_labeling_job(LabelingJobName="throttled-job")
    create(sm, "throttled-job", manifest)  # the faults are spent
    assert wait(sm, "throttled-job")["LabelingJobStatus"] == "Completed"


def test_labeling_faults_are_armed_from_json_listed_and_cleared() -> None:
    faults = Faults()
    faults.apply({"fault": "fail_next_labeling_job", "reason": "boom", "job": "a-*"})
    faults.apply({"fault": "fail_next_labeling_job", "reason": "boom"})
    faults.apply({"fault": "hang_next_labeling_job"})
    assert faults.armed() == [
        ArmedFault("fail_next_labeling_job", 2, reason="boom"),
        ArmedFault("hang_next_labeling_job", 1),
    ]
    assert faults.clear("hang_next_labeling_job") == [ArmedFault("hang_next_labeling_job", 1)]
    assert faults.labeling.take_job_faults("b-job").failure == "boom"  # the glob-free one
    assert faults.labeling.take_job_faults("b-job").failure is None
    assert faults.labeling.take_job_faults("a-job").failure == "boom"
    assert faults.armed() == []


# The simulated workforce -----------------------------------------------------------------------------------------


def task(
    object_id: str,
    truth: Any,
    task_type: str = "TextClassification",
    kind: Any = "classification",
    *,
    job: str = "sim-job",
    team: str = TEAM,
    workers: int = 1,
    audit: bool = False,
    earlier: Any = None,
    classes: list[str] = CLASSES,
) -> LabelingTask:
    return LabelingTask(
        job_name=job,
        workteam_arn=team,
        task_type=task_type,
        kind=kind,
        audit=audit,
        dataset_object_id=object_id,
        data_object={"source": object_id},
        task_input={"taskObject": object_id},
        categories=classes,
        answer_key=truth,
        earlier_label=earlier,
        workers=workers,
        started=dt.datetime(2026, 12, 2, 10, 0, 0),
    )


def answers_of(workforce: SimulatedWorkforce, count: int, **kwargs: Any) -> list[Any]:
    return [
        [(a.worker_id, a.answer_content, a.acceptance_time, a.time_spent_in_seconds) for a in workforce.label(t)]
        for t in (task(str(i), CLASSES[i % 3], **kwargs) for i in range(count))
    ]


def test_the_simulated_workforce_is_deterministic_by_data_team_and_seed() -> None:
    assert answers_of(SimulatedWorkforce(seed=1), 50, workers=3) == answers_of(
        SimulatedWorkforce(seed=1), 50, workers=3
    )
    assert answers_of(SimulatedWorkforce(seed=1), 50, workers=3) != answers_of(
        SimulatedWorkforce(seed=2), 50, workers=3
    )
    # Another run's job (its name carries a random job id) labeling the same data gets the same answers
    assert answers_of(SimulatedWorkforce(), 50, workers=3, job="a") == answers_of(SimulatedWorkforce(), 50, workers=3)
    first = answers_of(SimulatedWorkforce(), 20, workers=3)
    assert all(len({worker for worker, *_ in item}) == 3 for item in first)
    # each worker's clock advances from the job's start by the items it answered
    clocks: dict[str, dt.datetime] = {}
    for item in first:
        for worker, _, accepted, spent in item:
            assert accepted >= clocks.get(worker, dt.datetime(2026, 12, 2, 10, 0, 0))
            clocks[worker] = accepted + dt.timedelta(seconds=spent)


def test_a_worker_is_right_as_often_as_its_accuracy_and_follows_its_confusion_matrix() -> None:
    confusion = {"positive": {"negative": 1.0}}
    workforce = SimulatedWorkforce(
        {
            TEAM: [SimulatedWorker("ninety", 0.9, 10.0)],
            "*/biased": [SimulatedWorker("biased", 1.0, confusion=confusion)],
        }
    )
    answers = [workforce.label(task(str(i), CLASSES[i % 3]))[0] for i in range(1000)]
    right = sum(a.answer_content["crowd-classifier"]["label"] == CLASSES[i % 3] for i, a in enumerate(answers))
    assert 0.87 <= right / 1000 <= 0.93
    assert all(a.answer_content["crowd-classifier"]["label"] in CLASSES for a in answers)
    spent = [a.time_spent_in_seconds for a in answers]
    assert 9.0 <= sum(spent) / len(spent) <= 11.0
    biased = workforce.label(task("1", "positive", team="arn:aws:sagemaker:us-east-1:1:workteam/private-crowd/biased"))
    assert biased[0].answer_content == {"crowd-classifier": {"label": "negative"}}


def test_default_teams_and_the_answers_of_each_task_kind() -> None:
    workforce = SimulatedWorkforce()
    assert workforce.team(TEAM) == DEFAULT_CROWD and workforce.team(EXPERTS) == DEFAULT_EXPERTS
    assert [w.accuracy for w in DEFAULT_CROWD] == [0.95, 0.85, 0.75, 0.6, 0.4]
    perfect = SimulatedWorkforce({"default": [SimulatedWorker("perfect", 1.0)]})
    wrong = SimulatedWorkforce({"default": [SimulatedWorker("wrong", 0.0)]})
    boxes = {
        "imageSize": {"width": 100, "height": 100, "depth": 3},
        "boxes": [{"label": "car", "left": 10, "top": 10, "width": 50, "height": 40}],
    }
    entities = [{"label": "METHOD", "startOffset": 0, "endOffset": 10}]
    cases: list[tuple[str, Any, Any]] = [
        ("TextClassificationMultiLabel", "multilabel", ["positive", "neutral"]),
        ("BoundingBox", "boxes", boxes),
        ("NamedEntityRecognition", "ner", entities),
        ("VideoObjectTracking", "other", {"frames": [1, 2]}),
    ]
    for task_type, kind, truth in cases:
        right = perfect.label(task("0", truth, task_type, kind, classes=["car", "person", "METHOD", "TASK"]))[0]
        assert right.answer_content == answer_content(task_type, truth)
    multi = [
        wrong.label(task(str(i), ["positive"], "TextClassificationMultiLabel", "multilabel"))[0] for i in range(20)
    ]
    assert all(m.answer_content["crowd-classifier-multi-select"]["labels"] != ["positive"] for m in multi)
    # an audit starts from the earlier label: a perfect worker corrects it, a worst one keeps it
    earlier = {
        "imageSize": boxes["imageSize"],
        "boxes": [{"label": "car", "left": 30, "top": 10, "width": 50, "height": 40}],
    }
    for workforce_, expected in ((perfect, boxes), (wrong, earlier)):
        audited = workforce_.label(task("0", boxes, "BoundingBoxAudit", "boxes", audit=True, earlier=earlier))[0]
        assert audited.answer_content == answer_content("BoundingBoxAudit", expected)


def test_the_workforce_is_configured_by_a_json_file_or_a_class_name(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "teams.json"
    spec = {"seed": 5, "teams": {TEAM: {"workers": [{"id": "alice", "accuracy": 0.8, "meanSeconds": 12}]}}}
    path.write_text(json.dumps(spec))
    monkeypatch.setenv("SAGESTEP_WORKFORCE", str(path))
    loaded = load_workforce()
    assert isinstance(loaded, SimulatedWorkforce) and loaded.seed == 5
    assert loaded.team(TEAM) == (SimulatedWorker("alice", 0.8, 12.0),) and loaded.team(EXPERTS) == DEFAULT_EXPERTS
    monkeypatch.setenv("SAGESTEP_WORKFORCE", "sagestep.local.services.sagemaker.workforce:SimulatedWorkforce")
    assert isinstance(SageMakerEmulator().workforce, SimulatedWorkforce)
    with pytest.raises(ValueError, match="SAGESTEP_WORKFORCE"):
        load_workforce("not a spec")
