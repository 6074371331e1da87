"""A labeling job's ``CreateLabelingJob`` request, from the batch's plan (pure).

Per modality (``ground_truth.TASK_TYPES``): the worker UI is AWS's (``HumanTaskUiArn``) where AWS has one, else a
crowd-html template sagestep ships (``templates/``, written next to the job's manifest with the job's categories
filled in) or, for ``Custom``, yours. The pre-annotation and consolidation Lambdas are sagestep's own where it
consolidates better than one answer (classification, multi-label, boxes, named entities: Dawid-Skene and box
merging, see ``consolidation``) and for ``Custom`` jobs that bring none; Ground Truth's own (per region,
``ground_truth.lambda_arn``) for video frames, point clouds and segmentation.
"""

from __future__ import annotations

import html
import json
from dataclasses import dataclass
from importlib import resources
from typing import Any

from sagestep_service.workflows.labeling.ground_truth import Modality, human_task_ui_arn, lambda_arn, task_type

#: Modalities whose answers sagestep's own Lambdas consolidate.
OWN_LAMBDAS = frozenset(
    {
        Modality.IMAGE_CLASSIFICATION,
        Modality.IMAGE_CLASSIFICATION_MULTI_LABEL,
        Modality.TEXT_CLASSIFICATION,
        Modality.TEXT_CLASSIFICATION_MULTI_LABEL,
        Modality.BOUNDING_BOX,
        Modality.BOUNDING_BOX_AUDIT,
        Modality.NAMED_ENTITY_RECOGNITION,
        Modality.CUSTOM,
    }
)
#: The template sagestep ships for a modality without an AWS worker UI.
TEMPLATES = {
    Modality.IMAGE_CLASSIFICATION: "image-classification",
    Modality.IMAGE_CLASSIFICATION_MULTI_LABEL: "image-multi-label",
    Modality.TEXT_CLASSIFICATION: "classification",
    Modality.TEXT_CLASSIFICATION_MULTI_LABEL: "multi-label",
    Modality.BOUNDING_BOX: "bounding-box",
    Modality.BOUNDING_BOX_AUDIT: "bounding-box",
    Modality.SEMANTIC_SEGMENTATION: "semantic-segmentation",
    Modality.SEMANTIC_SEGMENTATION_AUDIT: "semantic-segmentation",
    Modality.VIDEO_CLASSIFICATION: "video-classification",
}
_LABELS = "{{ task.input.labels | to_json | escape }}"
#: What the labeling job's tags say: the sagestep job (batch) and stack it belongs to, and the batch's name.
TAG_JOB_ID, TAG_STACK, TAG_BATCH = "sagestep:job-id", "sagestep:stack", "sagestep:batch-id"
#: The job's modality, for tools reading the job (the local Ground Truth among them): its Lambdas do not always say.
TAG_MODALITY = "sagestep:modality"


@dataclass(frozen=True)
class Functions:
    """sagestep's own Ground Truth Lambdas, and the region (AWS's Lambdas and worker UIs are per region)."""

    pre_annotation: str
    consolidation: str
    region: str


def template(modality: str, categories: list[str]) -> str | None:
    """sagestep's worker UI for ``modality`` with its categories filled in, or None (AWS's UI, or Custom)."""
    name = TEMPLATES.get(Modality(modality))
    if name is None:
        return None
    text = resources.files("sagestep_service.workflows.labeling").joinpath(f"templates/{name}.liquid.html")
    return text.read_text(encoding="utf-8").replace(_LABELS, html.escape(json.dumps(categories), quote=True))


def lambdas(job: dict[str, Any], functions: Functions) -> tuple[str, str]:
    """(pre-annotation, consolidation) Lambda ARNs of a planned job."""
    modality = Modality(job["modality"])
    if modality == Modality.CUSTOM:
        return job.get("pre") or functions.pre_annotation, job.get("acs") or functions.consolidation
    if modality in OWN_LAMBDAS:
        return functions.pre_annotation, functions.consolidation
    return (
        lambda_arn("PRE", modality, functions.region),
        lambda_arn("ACS", modality, functions.region),
    )


def ui_config(job: dict[str, Any], functions: Functions, template_uri: str | None) -> dict[str, str]:
    """``UiConfig``: AWS's worker UI where it has one, else the template at ``template_uri``."""
    if job["modality"] != Modality.CUSTOM:
        arn = human_task_ui_arn(job["modality"], functions.region)
        if arn is not None:
            return {"HumanTaskUiArn": arn}
    if template_uri is None:
        raise ValueError(f"{job['name']}: a {job['modality']} job needs a worker UI template")
    return {"UiTemplateS3Uri": template_uri}


def create_request(
    job: dict[str, Any],
    *,
    job_id: str,
    stack: str,
    batch_id: str,
    manifest_uri: str,
    categories_uri: str,
    output_uri: str,
    key_arn: str,
    template_uri: str | None,
    functions: Functions,
) -> dict[str, Any]:
    """The ``CreateLabelingJob`` request (every field the state machine passes is present)."""
    pre, consolidation = lambdas(job, functions)
    kind = task_type(job["modality"])
    title = job.get("title") or f"{job['modality']}: {job['name']}"
    description = job.get("description") or (
        f"Adjust the labels of an earlier job ({job['modality']})"
        if kind.audit
        else f"Label each item ({job['modality']})"
    )
    return {
        "LabelingJobName": job["labelingJobName"],
        "LabelAttributeName": job["attribute"],
        "InputConfig": {"DataSource": {"S3DataSource": {"ManifestS3Uri": manifest_uri}}},
        "OutputConfig": {"S3OutputPath": output_uri, "KmsKeyId": key_arn},
        "LabelCategoryConfigS3Uri": categories_uri,
        "StoppingConditions": {"MaxPercentageOfInputDatasetLabeled": 100},
        "HumanTaskConfig": {
            "WorkteamArn": job["workteam"],
            "UiConfig": ui_config(job, functions, template_uri),
            "PreHumanTaskLambdaArn": pre,
            "TaskTitle": title[:128],
            "TaskDescription": description[:255],
            "NumberOfHumanWorkersPerDataObject": job["workers"],
            "TaskTimeLimitInSeconds": job["taskTimeLimitInSeconds"],
            "TaskAvailabilityLifetimeInSeconds": job["taskAvailabilityLifetimeInSeconds"],
            "MaxConcurrentTaskCount": job["maxConcurrentTaskCount"],
            "AnnotationConsolidationConfig": {"AnnotationConsolidationLambdaArn": consolidation},
        },
        "Tags": [
            {"Key": TAG_JOB_ID, "Value": job_id},
            {"Key": TAG_STACK, "Value": stack},
            {"Key": TAG_BATCH, "Value": batch_id},
            {"Key": TAG_MODALITY, "Value": job["modality"]},
        ],
    }
