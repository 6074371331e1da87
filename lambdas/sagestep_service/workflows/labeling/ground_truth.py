"""Facts about SageMaker Ground Truth the labeling workflow relies on: the modalities it supports and, per modality,
Ground Truth's task type, whether it is an audit (adjustment) of an earlier job's labels, and the AWS-owned
pre-annotation (``PRE-*``) and annotation-consolidation (``ACS-*``) Lambdas of each region.

Source: the SageMaker API reference of ``HumanTaskConfig.PreHumanTaskLambdaArn``,
``AnnotationConsolidationConfig.AnnotationConsolidationLambdaArn`` and ``UiConfig.HumanTaskUiArn`` (the same text
botocore ships): every built-in function is ``arn:aws:lambda:<region>:<account>:function:<PRE|ACS>-<suffix>``, one
AWS account per region owning all of them. The modality names are the reference's (``VideoObjectTracking``,
``VideoObjectTrackingAudit``, ...), with the image and text types added; ``Custom`` brings its own Lambdas.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Literal

LambdaKind = Literal["PRE", "ACS"]


class Modality(StrEnum):
    IMAGE_CLASSIFICATION = "ImageClassification"
    IMAGE_CLASSIFICATION_MULTI_LABEL = "ImageClassificationMultiLabel"
    TEXT_CLASSIFICATION = "TextClassification"
    TEXT_CLASSIFICATION_MULTI_LABEL = "TextClassificationMultiLabel"
    BOUNDING_BOX = "BoundingBox"
    BOUNDING_BOX_AUDIT = "BoundingBoxAudit"
    SEMANTIC_SEGMENTATION = "SemanticSegmentation"
    SEMANTIC_SEGMENTATION_AUDIT = "SemanticSegmentationAudit"
    NAMED_ENTITY_RECOGNITION = "NamedEntityRecognition"
    VIDEO_CLASSIFICATION = "VideoClassification"
    VIDEO_OBJECT_DETECTION = "VideoObjectDetection"
    VIDEO_OBJECT_DETECTION_AUDIT = "VideoObjectDetectionAudit"
    VIDEO_OBJECT_TRACKING = "VideoObjectTracking"
    VIDEO_OBJECT_TRACKING_AUDIT = "VideoObjectTrackingAudit"
    POINT_CLOUD_OBJECT_DETECTION = "PointCloudObjectDetection"
    POINT_CLOUD_OBJECT_DETECTION_AUDIT = "PointCloudObjectDetectionAudit"
    POINT_CLOUD_OBJECT_TRACKING = "PointCloudObjectTracking"
    POINT_CLOUD_OBJECT_TRACKING_AUDIT = "PointCloudObjectTrackingAudit"
    POINT_CLOUD_SEMANTIC_SEGMENTATION = "PointCloudSemanticSegmentation"
    POINT_CLOUD_SEMANTIC_SEGMENTATION_AUDIT = "PointCloudSemanticSegmentationAudit"
    CUSTOM = "Custom"


@dataclass(frozen=True)
class TaskType:
    """One modality as Ground Truth knows it."""

    name: str  #: Ground Truth's task type (the audit variant shares its base type's)
    audit: bool  #: an adjustment job: workers correct the labels of an earlier job (so it must chain from one)
    lambda_suffix: str | None  #: ``PRE-<suffix>`` / ``ACS-<suffix>``; None for ``Custom``
    human_task_ui: str | None = None  #: AWS's worker UI (``human-task-ui/<name>``), else a crowd-html template
    frames: bool = False  #: a video-frame or point-cloud sequence job (its label attribute ends in ``-ref``)


def _pair(name: str, suffix: str, ui: str | None = None, frames: bool = False) -> tuple[TaskType, TaskType]:
    """A task type and its adjustment variant (``Adjustment<suffix>``, ``Adjustment3D...`` for point clouds)."""
    adjustment = suffix.replace("3D", "Adjustment3D", 1) if suffix.startswith("3D") else f"Adjustment{suffix}"
    return TaskType(name, False, suffix, ui, frames), TaskType(name, True, adjustment, ui, frames)


_BOX, _BOX_AUDIT = _pair("BoundingBox", "BoundingBox")
_SEG, _SEG_AUDIT = _pair("SemanticSegmentation", "SemanticSegmentation")
_VOD, _VOD_AUDIT = _pair("VideoObjectDetection", "VideoObjectDetection", "VideoObjectDetection", True)
_VOT, _VOT_AUDIT = _pair("VideoObjectTracking", "VideoObjectTracking", "VideoObjectTracking", True)
_PCD, _PCD_AUDIT = _pair("PointCloudObjectDetection", "3DPointCloudObjectDetection", "PointCloudObjectDetection", True)
_PCT, _PCT_AUDIT = _pair("PointCloudObjectTracking", "3DPointCloudObjectTracking", "PointCloudObjectTracking", True)
_PCS, _PCS_AUDIT = _pair(
    "PointCloudSemanticSegmentation", "3DPointCloudSemanticSegmentation", "PointCloudSemanticSegmentation", True
)

TASK_TYPES: dict[Modality, TaskType] = {
    Modality.IMAGE_CLASSIFICATION: TaskType("ImageClassification", False, "ImageMultiClass"),
    Modality.IMAGE_CLASSIFICATION_MULTI_LABEL: TaskType(
        "ImageClassificationMultiLabel", False, "ImageMultiClassMultiLabel"
    ),
    Modality.TEXT_CLASSIFICATION: TaskType("TextClassification", False, "TextMultiClass"),
    Modality.TEXT_CLASSIFICATION_MULTI_LABEL: TaskType(
        "TextClassificationMultiLabel", False, "TextMultiClassMultiLabel"
    ),
    Modality.BOUNDING_BOX: _BOX,
    Modality.BOUNDING_BOX_AUDIT: _BOX_AUDIT,
    Modality.SEMANTIC_SEGMENTATION: _SEG,
    Modality.SEMANTIC_SEGMENTATION_AUDIT: _SEG_AUDIT,
    Modality.NAMED_ENTITY_RECOGNITION: TaskType(
        "NamedEntityRecognition", False, "NamedEntityRecognition", "NamedEntityRecognition"
    ),
    Modality.VIDEO_CLASSIFICATION: TaskType("VideoClassification", False, "VideoMultiClass"),
    Modality.VIDEO_OBJECT_DETECTION: _VOD,
    Modality.VIDEO_OBJECT_DETECTION_AUDIT: _VOD_AUDIT,
    Modality.VIDEO_OBJECT_TRACKING: _VOT,
    Modality.VIDEO_OBJECT_TRACKING_AUDIT: _VOT_AUDIT,
    Modality.POINT_CLOUD_OBJECT_DETECTION: _PCD,
    Modality.POINT_CLOUD_OBJECT_DETECTION_AUDIT: _PCD_AUDIT,
    Modality.POINT_CLOUD_OBJECT_TRACKING: _PCT,
    Modality.POINT_CLOUD_OBJECT_TRACKING_AUDIT: _PCT_AUDIT,
    Modality.POINT_CLOUD_SEMANTIC_SEGMENTATION: _PCS,
    Modality.POINT_CLOUD_SEMANTIC_SEGMENTATION_AUDIT: _PCS_AUDIT,
    Modality.CUSTOM: TaskType("Custom", False, None),
}

#: The AWS account that owns Ground Truth's built-in Lambdas in each region Ground Truth serves.
LAMBDA_ACCOUNTS: dict[str, str] = {
    "us-east-1": "432418664414",
    "us-east-2": "266458841044",
    "us-west-2": "081040173940",
    "ca-central-1": "918755190332",
    "eu-west-1": "568282634449",
    "eu-west-2": "487402164563",
    "eu-central-1": "203001061592",
    "ap-northeast-1": "477331159723",
    "ap-northeast-2": "845288260483",
    "ap-south-1": "565803892007",
    "ap-southeast-1": "377565633583",
    "ap-southeast-2": "454466003867",
}
#: The account of AWS's worker UIs (``arn:aws:sagemaker:<region>:394669845002:human-task-ui/<name>``), every region.
HUMAN_TASK_UI_ACCOUNT = "394669845002"

MODALITIES: tuple[str, ...] = tuple(modality.value for modality in Modality)


def task_type(modality: str) -> TaskType:
    """The task type of a modality (``ValueError`` for one Ground Truth does not have)."""
    try:
        return TASK_TYPES[Modality(modality)]
    except ValueError:
        raise ValueError(f"{modality!r} is not a supported modality ({', '.join(MODALITIES)})") from None


def _account(region: str) -> str:
    try:
        return LAMBDA_ACCOUNTS[region]
    except KeyError:
        raise ValueError(
            f"Ground Truth is not available in {region!r} (regions: {', '.join(sorted(LAMBDA_ACCOUNTS))})"
        ) from None


def lambda_arn(kind: LambdaKind, modality: str, region: str) -> str:
    """The ARN of Ground Truth's pre-annotation (``PRE``) or consolidation (``ACS``) Lambda for a modality in a
    region. ``ValueError`` for a region Ground Truth does not serve, an unknown kind, or ``Custom`` (which brings
    its own)."""
    if kind not in ("PRE", "ACS"):
        raise ValueError(f"kind must be PRE or ACS, not {kind!r}")
    account = _account(region)
    suffix = task_type(modality).lambda_suffix
    if suffix is None:
        raise ValueError(f"{modality} jobs bring their own {kind} Lambda; AWS has none for them")
    return f"arn:aws:lambda:{region}:{account}:function:{kind}-{suffix}"


def human_task_ui_arn(modality: str, region: str) -> str | None:
    """AWS's worker UI for a modality in a region, or None when the job needs a crowd-html template instead."""
    _account(region)
    ui = task_type(modality).human_task_ui
    return None if ui is None else f"arn:aws:sagemaker:{region}:{HUMAN_TASK_UI_ACCOUNT}:human-task-ui/{ui}"
