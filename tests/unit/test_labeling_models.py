"""The labeling workflow's request body (the reference's ``POST /batch/create``), its validation, the derived
labeling job names and Ground Truth's per-region Lambdas."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from pydantic import ValidationError

from sagestep_service.workflows.labeling.ground_truth import LAMBDA_ACCOUNTS, MODALITIES, lambda_arn, task_type
from sagestep_service.workflows.labeling.models import (
    NAME,
    BatchList,
    BatchRequest,
    BatchStatus,
    BatchView,
    JobStatus,
    LabelingJobView,
    LevelView,
    Link,
    labeling_job_name,
)

BUCKET = "s3://sagestep-data/users/0000/labeling"
WORKTEAM = "arn:aws:sagemaker:us-west-2:123456789012:workteam/private-crowd/first-level"

#: The reference's body: video object tracking, then its audit, both chained from level 1.
REFERENCE: dict[str, Any] = {
    "batchId": "nlp-test-1",
    "labelingJobs": [
        {
            "inputConfig": {"inputManifestS3Uri": f"{BUCKET}/two-frame-manifest.manifest"},
            "jobLevel": 1,
            "jobModality": "VideoObjectTracking",
            "jobName": "first-level",
            "jobType": "BATCH",
            "labelCategoryConfigS3Uri": f"{BUCKET}/tracking-labels.json",
            "workteamArn": WORKTEAM,
        },
        {
            "inputConfig": {"chainFromJobName": "first-level"},
            "jobLevel": 2,
            "jobModality": "VideoObjectTrackingAudit",
            "jobName": "second-level",
            "jobType": "BATCH",
            "labelCategoryConfigS3Uri": f"{BUCKET}/tracking-labels.json",
        },
        {
            "inputConfig": {"chainFromJobName": "second-level"},
            "jobLevel": 3,
            "jobModality": "VideoObjectTrackingAudit",
            "jobName": "third-level",
            "jobType": "BATCH",
        },
    ],
}


def body(**changes: Any) -> dict[str, Any]:
    document = copy.deepcopy(REFERENCE)
    document.update(changes)
    return document


def refused(document: dict[str, Any]) -> tuple[str, str]:
    """The first error's field (as the API names it) and message."""
    with pytest.raises(ValidationError) as caught:
        BatchRequest.model_validate(document)
    error = caught.value.errors()[0]
    return ".".join(str(p) for p in error["loc"]), str(error["msg"]).removeprefix("Value error, ")


def test_reference_body_is_accepted_with_the_reference_defaults() -> None:
    # Given the reference body verbatim / When validated
    batch = BatchRequest.model_validate(REFERENCE)
    # Then the three levels chain and the reference's defaults apply
    assert [[job.jobName for job in level] for level in batch.levels] == [
        ["first-level"],
        ["second-level"],
        ["third-level"],
    ]
    for job in batch.labelingJobs:
        assert (job.maxConcurrentTaskCount, job.taskAvailabilityLifetimeInSeconds) == (100, 864000)
        assert (job.taskTimeLimitInSeconds, job.workersPerObject) == (604800, 1)
    assert batch.labelingJobs[1].inputConfig.chained == ["first-level"]
    assert batch.labelingJobs[0].label_attribute == "first-level-ref"
    assert task_type(batch.labelingJobs[1].jobModality).audit
    assert batch.labeling_job_name("first-level") == "nlp-test-1-first-level"


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"batchId": "bad_id"}, "batchId", "not a valid batchId"),
        ({"destinationSnsArn": "arn:aws:sqs:us-east-1:123456789012:q"}, "destinationSnsArn", "SNS topic ARN"),
        ({"labelingJobs": []}, "labelingJobs", "at least 1"),
        ({"extra": 1}, "extra", "Extra inputs"),
    ],
)
def test_batch_fields_are_refused_by_name(change: dict[str, Any], field: str, message: str) -> None:
    # Given a body with one bad batch field / When validated / Then the field is named
    got_field, got_message = refused(body(**change))
    assert got_field == field
    assert message in got_message


@pytest.mark.parametrize(
    ("path", "value", "field", "message"),
    [
        (("jobName",), "-x", "labelingJobs.0.jobName", "not a valid job name"),
        (("jobName",), "a" * 64, "labelingJobs.0.jobName", "not a valid job name"),
        (("jobModality",), "Painting", "labelingJobs.0.jobModality", "not a supported modality"),
        (("jobType",), "STREAMING", "labelingJobs.0.jobType", "BATCH"),
        (("jobLevel",), 0, "labelingJobs.0.jobLevel", "greater than or equal to 1"),
        (("workersPerObject",), 10, "labelingJobs.0.workersPerObject", "less than or equal to 9"),
        (("workteamArn",), "team", "labelingJobs.0.workteamArn", "work team ARN"),
        (("labelCategoryConfigS3Uri",), "http://x/y", "labelingJobs.0.labelCategoryConfigS3Uri", "s3://"),
        (("labelAttributeName",), "boxes", "labelingJobs.0.labelAttributeName", "end in -ref"),
        (("inputConfig", "inputManifestS3Uri"), "/tmp/m", "labelingJobs.0.inputConfig.inputManifestS3Uri", "s3://"),
        (("inputConfig", "chainFromJobName"), "x", "labelingJobs.0.inputConfig", "exactly one of"),
        (("inputConfig", "filter"), {"sampleRate": 0.1}, "labelingJobs.0.inputConfig", "only to chained jobs"),
    ],
)
def test_job_fields_are_refused_by_name(path: tuple[str, ...], value: Any, field: str, message: str) -> None:
    # Given the reference body with one bad field of its first job
    document = body()
    target = document["labelingJobs"][0]
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    # When validated / Then the error names that field
    got_field, got_message = refused(document)
    assert got_field == field
    assert message in got_message


def test_a_level_one_job_must_have_categories_unless_chained() -> None:
    # Given a level 1 job without label categories / When validated / Then refused for that job
    document = body()
    del document["labelingJobs"][0]["labelCategoryConfigS3Uri"]
    field, message = refused(document)
    assert field == "labelingJobs.0"
    assert "labelCategoryConfigS3Uri is required" in message


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (
            lambda jobs: jobs[2].update(jobName="second-level"),
            "labelingJobs.2.jobName: 'second-level' names two jobs",
        ),
        (lambda jobs: jobs[2].update(jobLevel=4), "no job has level 3"),
        (lambda jobs: [job.update(jobLevel=job["jobLevel"] + 1) for job in jobs], "no job has level 1"),
        (
            lambda jobs: jobs[1]["inputConfig"].update(chainFromJobName="third-level"),
            "labelingJobs.1.inputConfig.chainFromJobName: names 'third-level', a job of level 3; a job may chain "
            "only from earlier levels",
        ),
        (
            lambda jobs: jobs[2].update(jobLevel=2),
            "labelingJobs.2.inputConfig.chainFromJobName: names 'second-level', a job of level 2",
        ),
        (
            lambda jobs: jobs[2]["inputConfig"].update(chainFromJobName="nowhere"),
            "labelingJobs.2.inputConfig.chainFromJobName: names 'nowhere', no job of the batch",
        ),
        (
            lambda jobs: [jobs[1].update(jobLevel=1), jobs[2].update(jobLevel=2)],
            "labelingJobs.1.inputConfig.inputManifestS3Uri: a level 1 job must label a manifest",
        ),
    ],
)
def test_rules_across_jobs_name_the_job_by_index(edit: Any, message: str) -> None:
    # Given the reference body broken across jobs
    document = body()
    edit(document["labelingJobs"])
    # When validated / Then refused on labelingJobs, the message naming the job
    field, got = refused(document)
    assert field == "labelingJobs"
    assert message in got


def test_any_number_of_levels_and_several_chained_jobs() -> None:
    # Given four levels, the last chaining from two earlier jobs of different levels, with filters
    document = body()
    document["labelingJobs"].append(
        {
            "jobName": "merge",
            "jobLevel": 4,
            "jobModality": "VideoObjectTrackingAudit",
            "inputConfig": {
                "chainFromJobName": ["first-level", "third-level"],
                "filter": {"confidenceBelow": 0.8},
            },
        }
    )
    document["labelingJobs"][1]["inputConfig"]["filter"] = {"sampleRate": 0.1, "seed": 7}
    # When validated
    batch = BatchRequest.model_validate(document)
    # Then the merge job chains from both and the filters are kept
    merge = batch.labelingJobs[3].inputConfig
    assert merge.chained == ["first-level", "third-level"]
    assert merge.filter is not None and merge.filter.confidenceBelow == 0.8
    sample = batch.labelingJobs[1].inputConfig.filter
    assert sample is not None and (sample.sampleRate, sample.seed) == (0.1, 7)
    assert len(batch.levels) == 4


@pytest.mark.parametrize(
    ("input_config", "message"),
    [
        ({"chainFromJobName": []}, "names no job"),
        ({"chainFromJobName": ["first-level", "first-level"]}, "names a job twice"),
        ({"chainFromJobName": "first-level", "filter": {}}, "exactly one of confidenceBelow and sampleRate"),
        (
            {"chainFromJobName": "first-level", "filter": {"confidenceBelow": 0.5, "sampleRate": 0.5}},
            "exactly one of confidenceBelow and sampleRate",
        ),
        ({"chainFromJobName": "first-level", "filter": {"confidenceBelow": 0.5, "seed": 1}}, "seed goes only"),
        ({"chainFromJobName": "first-level", "filter": {"sampleRate": 1.5}}, "less than or equal to 1"),
        ({"inputManifestS3Uri": f"{BUCKET}/m", "chainFromJobName": "first-level"}, "exactly one of"),
    ],
)
def test_bad_input_configs_are_refused(input_config: dict[str, Any], message: str) -> None:
    # Given the second job with a bad input config / When validated / Then refused within its inputConfig
    document = body()
    document["labelingJobs"][1]["inputConfig"] = input_config
    field, got = refused(document)
    assert field.startswith("labelingJobs.1.inputConfig")
    assert message in got


def test_labeling_job_names_fit_sagemaker_and_stay_unique() -> None:
    # Given long batch and job names sharing a prefix
    batch_id, long_a, long_b = "b" * 40, "j" * 40 + "a", "j" * 40 + "b"
    # When the labeling job names are derived
    names = [labeling_job_name(batch_id, name) for name in (long_a, long_b)]
    # Then they fit, are valid SageMaker names and differ; short ones are left as they are
    assert all(len(name) <= 63 and NAME.match(name) for name in names)
    assert names[0] != names[1]
    assert labeling_job_name("b", "j") == "b-j"
    assert len(labeling_job_name("b" * 30, "j" * 32)) == 63
    hyphens = labeling_job_name("b" * 53, "-" * 5 + "x")
    assert NAME.match(hyphens) and len(hyphens) <= 63


def test_lambda_arns_per_region() -> None:
    # Given a few regions / When the ARNs are asked for / Then each region's AWS account owns them
    assert lambda_arn("PRE", "BoundingBox", "us-east-1") == (
        "arn:aws:lambda:us-east-1:432418664414:function:PRE-BoundingBox"
    )
    assert lambda_arn("ACS", "VideoObjectTrackingAudit", "eu-west-1") == (
        "arn:aws:lambda:eu-west-1:568282634449:function:ACS-AdjustmentVideoObjectTracking"
    )
    assert lambda_arn("PRE", "PointCloudObjectDetectionAudit", "ap-southeast-2") == (
        "arn:aws:lambda:ap-southeast-2:454466003867:function:PRE-Adjustment3DPointCloudObjectDetection"
    )
    assert lambda_arn("ACS", "ImageClassificationMultiLabel", "ca-central-1").endswith(
        ":918755190332:function:ACS-ImageMultiClassMultiLabel"
    )
    assert len(LAMBDA_ACCOUNTS) == 12
    for modality in MODALITIES:
        if modality != "Custom":
            assert lambda_arn("PRE", modality, "us-west-2").startswith("arn:aws:lambda:us-west-2:081040173940:")


def test_lambda_arn_refuses_unknown_regions_and_custom() -> None:
    # Given a region Ground Truth does not serve, a custom job, an unknown modality / Then ValueError
    with pytest.raises(ValueError, match="not available in 'us-west-1'"):
        lambda_arn("PRE", "BoundingBox", "us-west-1")
    with pytest.raises(ValueError, match="bring their own"):
        lambda_arn("ACS", "Custom", "us-east-1")
    with pytest.raises(ValueError, match="not a supported modality"):
        lambda_arn("ACS", "Painting", "us-east-1")


def test_views_are_json_serialisable() -> None:
    # Given a batch view and a list / When dumped as JSON / Then they round-trip
    view = BatchView(
        batchId="b",
        status=BatchStatus.IN_PROGRESS,
        levels=[
            LevelView(
                level=1,
                status="IN_PROGRESS",
                jobs=[
                    LabelingJobView(
                        jobName="j",
                        labelingJobName="b-j",
                        jobModality="BoundingBox",
                        jobLevel=1,
                        status=JobStatus.IN_PROGRESS,
                        inputManifests=[Link(s3Uri=f"{BUCKET}/m", url="https://example/m")],
                    )
                ],
            )
        ],
        urlExpiresInSeconds=3600,
        urlExpiresAt=1_700_000_000,
    )
    assert BatchView.model_validate_json(view.model_dump_json()) == view
    assert BatchList(COMPLETE=["a"]).model_dump(mode="json")["COMPLETE"] == ["a"]
