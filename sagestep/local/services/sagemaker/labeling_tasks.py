"""What the local Ground Truth knows about task types: which one a labeling job is, the answers Ground Truth's worker
UIs submit for it, and the documented behaviour of AWS's own pre-annotation (``PRE-*``) and consolidation
(``ACS-*``) Lambdas, which are not callable locally.

Values in *truth shape* (the answer key's, see the labeling contract) are what the simulated workforce reasons
with: a class name (classification), a list of class names (multi-label), ``{"imageSize", "boxes"}`` (bounding
boxes), a list of ``{"label", "startOffset", "endOffset"}`` (named entities), any JSON value otherwise.
:func:`answer_content` turns one into the ``answerContent`` a worker UI submits, :func:`parse_answer` back.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Literal

from sagestep_service.workflows.labeling.ground_truth import LAMBDA_ACCOUNTS, TASK_TYPES, Modality

Kind = Literal["classification", "multilabel", "boxes", "ner", "other"]

#: A tag of CreateLabelingJob that names the modality outright (one of ``ground_truth.Modality``), for jobs whose
#: Lambdas and UI do not tell it (e.g. sagestep's own Lambdas with a custom template).
MODALITY_TAG = "sagestep:modality"
#: The attribute of an input manifest line holding the answer key of the simulated workforce.
ANSWER_KEY = "sagestep-answer"

_CLASSIFICATION = {Modality.IMAGE_CLASSIFICATION, Modality.TEXT_CLASSIFICATION, Modality.VIDEO_CLASSIFICATION}
_MULTILABEL = {Modality.IMAGE_CLASSIFICATION_MULTI_LABEL, Modality.TEXT_CLASSIFICATION_MULTI_LABEL}
_BOXES = {Modality.BOUNDING_BOX, Modality.BOUNDING_BOX_AUDIT}
#: Lambda suffix (``PRE-<suffix>``/``ACS-<suffix>``) -> modality.
_BY_SUFFIX = {t.lambda_suffix: m.value for m, t in TASK_TYPES.items() if t.lambda_suffix}
#: AWS worker UI name (``human-task-ui/<name>``) -> modality (the non-audit one; audits share the UI).
_BY_UI: dict[str, str] = {}
for _modality, _task in TASK_TYPES.items():
    if _task.human_task_ui and not _task.audit:
        _BY_UI.setdefault(_task.human_task_ui, _modality.value)
#: Crowd HTML elements of a worker template -> modality, most specific first.
_BY_ELEMENT = (
    ("crowd-image-classifier-multi-select", Modality.IMAGE_CLASSIFICATION_MULTI_LABEL.value),
    ("crowd-classifier-multi-select", Modality.TEXT_CLASSIFICATION_MULTI_LABEL.value),
    ("crowd-image-classifier", Modality.IMAGE_CLASSIFICATION.value),
    ("crowd-classifier", Modality.TEXT_CLASSIFICATION.value),
    ("crowd-bounding-box", Modality.BOUNDING_BOX.value),
    ("crowd-entity-annotation", Modality.NAMED_ENTITY_RECOGNITION.value),
    ("crowd-semantic-segmentation", Modality.SEMANTIC_SEGMENTATION.value),
)
_AWS_LAMBDA = re.compile(
    r"^arn:aws[a-z-]*:lambda:[a-z0-9-]+:(?P<account>\d{12}):function:(?P<kind>PRE|ACS)-(?P<suffix>.+)$"
)


def aws_owned_lambda(arn: str | None) -> tuple[str, str] | None:
    """``(kind, suffix)`` if ``arn`` is one of Ground Truth's own ``PRE-``/``ACS-`` functions, else None."""
    match = _AWS_LAMBDA.match(arn or "")
    if match is None or match["account"] not in LAMBDA_ACCOUNTS.values():
        return None
    return match["kind"], match["suffix"]


def resolve_task_type(
    human_task_config: Mapping[str, Any],
    tags: Mapping[str, str],
    read_template: Callable[[str], str] | None = None,
) -> str:
    """The job's modality (a ``ground_truth.Modality`` value): the ``sagestep:modality`` tag, else the suffix of an
    AWS-owned ACS/PRE Lambda, else AWS's worker UI, else the crowd elements of the worker template (read with
    ``read_template`` when given), else ``Custom``."""
    tagged = tags.get(MODALITY_TAG)
    if tagged in {m.value for m in Modality}:
        return str(tagged)
    consolidation = (human_task_config.get("AnnotationConsolidationConfig") or {}).get(
        "AnnotationConsolidationLambdaArn"
    )
    for arn in (consolidation, human_task_config.get("PreHumanTaskLambdaArn")):
        owned = aws_owned_lambda(arn)
        if owned is not None and owned[1] in _BY_SUFFIX:
            return _BY_SUFFIX[owned[1]]
    ui = human_task_config.get("UiConfig") or {}
    ui_arn = str(ui.get("HumanTaskUiArn") or "")
    if "human-task-ui/" in ui_arn:
        name = ui_arn.rsplit("human-task-ui/", 1)[1]
        if name in _BY_UI:
            return _BY_UI[name]
    template_uri = ui.get("UiTemplateS3Uri")
    if template_uri and read_template is not None:
        template = read_template(str(template_uri))
        for element, modality in _BY_ELEMENT:
            if f"<{element}" in template:
                audit = modality == Modality.BOUNDING_BOX.value and "initial-value" in template
                return Modality.BOUNDING_BOX_AUDIT.value if audit else modality
    return Modality.CUSTOM.value


def kind_of(task_type: str) -> Kind:
    if task_type in _CLASSIFICATION:
        return "classification"
    if task_type in _MULTILABEL:
        return "multilabel"
    if task_type in _BOXES:
        return "boxes"
    if task_type == Modality.NAMED_ENTITY_RECOGNITION:
        return "ner"
    return "other"


def is_audit(task_type: str) -> bool:
    try:
        return TASK_TYPES[Modality(task_type)].audit
    except ValueError:
        return False


def needs_categories(task_type: str) -> bool:
    """Whether a job of this type must have a label category file (the built-in category types)."""
    return kind_of(task_type) != "other"


def output_type(task_type: str) -> str:
    """The ``type`` of the output manifest's metadata, e.g. ``groundtruth/image-classification``."""
    kind = kind_of(task_type)
    if kind == "boxes":
        return "groundtruth/object-detection"
    if kind == "ner":
        return "groundtruth/named-entity-recognition"
    if task_type == Modality.CUSTOM:
        return "groundtruth/custom"
    base = TASK_TYPES[Modality(task_type)].name if task_type in {m.value for m in Modality} else task_type
    if kind == "multilabel":
        base = base.replace("MultiLabel", "Multilabel")
    return "groundtruth/" + re.sub(r"(?<!^)(?=[A-Z])", "-", base).lower()


# Worker answers ---------------------------------------------------------------------------------------------------


def answer_content(task_type: str, value: Any) -> dict[str, Any]:
    """The ``answerContent`` Ground Truth's worker UI for ``task_type`` submits for an answer in truth shape."""
    kind = kind_of(task_type)
    if kind == "classification":
        element = "crowd-image-classifier" if task_type == Modality.IMAGE_CLASSIFICATION else "crowd-classifier"
        return {element: {"label": value}}
    if kind == "multilabel":
        image = task_type == Modality.IMAGE_CLASSIFICATION_MULTI_LABEL
        element = "crowd-image-classifier-multi-select" if image else "crowd-classifier-multi-select"
        return {element: {"labels": list(value or [])}}
    if kind == "boxes":
        value = value or {}
        size = value.get("imageSize") or {}
        return {
            "boundingBox": {
                "boundingBoxes": list(value.get("boxes") or []),
                "inputImageProperties": {"width": size.get("width", 0), "height": size.get("height", 0)},
            }
        }
    if kind == "ner":
        return {"crowd-entity-annotation": {"entities": list(value or [])}}
    return {"annotations": value}


def parse_answer(task_type: str, content: Mapping[str, Any]) -> Any:
    """The truth-shape value of an ``answerContent`` (the inverse of :func:`answer_content`)."""
    kind = kind_of(task_type)
    if kind == "classification":
        inner = content.get("crowd-image-classifier") or content.get("crowd-classifier") or {}
        return inner.get("label")
    if kind == "multilabel":
        inner = content.get("crowd-image-classifier-multi-select") or content.get("crowd-classifier-multi-select")
        return list((inner or {}).get("labels") or [])
    if kind == "boxes":
        inner = content.get("boundingBox") or {}
        size = inner.get("inputImageProperties") or {}
        return {
            "imageSize": {"width": size.get("width", 0), "height": size.get("height", 0), "depth": 3},
            "boxes": list(inner.get("boundingBoxes") or []),
        }
    if kind == "ner":
        return list((content.get("crowd-entity-annotation") or {}).get("entities") or [])
    return content.get("annotations", content)


def earlier_label(data_object: Mapping[str, Any], task_type: str, exclude: str) -> Any:
    """The most recent earlier job's label of a manifest line, in truth shape (None if it has none): the attribute
    ``a`` (not ``exclude``) with an ``a-metadata`` whose ``creation-date`` is the latest."""
    best: tuple[str, str] | None = None
    for key, metadata in data_object.items():
        attribute = key[: -len("-metadata")] if key.endswith("-metadata") else None
        if not attribute or attribute == exclude or attribute not in data_object or not isinstance(metadata, dict):
            continue
        created = str(metadata.get("creation-date", ""))
        if best is None or created >= best[0]:
            best = (created, attribute)
    if best is None:
        return None
    label, metadata = data_object[best[1]], data_object[f"{best[1]}-metadata"]
    class_map = {str(k): v for k, v in (metadata.get("class-map") or {}).items()}
    kind = kind_of(task_type)
    try:
        if kind == "classification":
            return metadata.get("class-name", class_map.get(str(label), label))
        if kind == "multilabel":
            return [class_map.get(str(index), str(index)) for index in label]
        if kind == "boxes":
            size = (label.get("image_size") or [{}])[0]
            boxes = [
                {
                    "label": class_map.get(str(box.get("class_id")), str(box.get("class_id"))),
                    **{k: box[k] for k in ("left", "top", "width", "height")},
                }
                for box in label.get("annotations") or []
            ]
            return {"imageSize": dict(size), "boxes": boxes}
        if kind == "ner":
            return list(((label.get("annotations") or {}).get("entities")) or [])
    except (AttributeError, KeyError, TypeError):
        return None
    return label


# AWS's built-in Lambdas, as documented ------------------------------------------------------------------------


def builtin_pre_annotation(data_object: Mapping[str, Any]) -> dict[str, Any]:
    """What an AWS ``PRE-*`` Lambda returns: the data object's source as the task object, a human task for it."""
    task_object = data_object.get("source", data_object.get("source-ref"))
    return {"taskInput": {"taskObject": task_object}, "isHumanAnnotationRequired": "true"}


def _same(a: Any, b: Any) -> bool:
    return json.dumps(a, sort_keys=True) == json.dumps(b, sort_keys=True)


def box_iou(a: Mapping[str, Any], b: Mapping[str, Any]) -> float:
    ax, ay, aw, ah = (float(a.get(k, 0)) for k in ("left", "top", "width", "height"))
    bx, by, bw, bh = (float(b.get(k, 0)) for k in ("left", "top", "width", "height"))
    w = max(0.0, min(ax + aw, bx + bw) - max(ax, bx))
    h = max(0.0, min(ay + ah, by + bh) - max(ay, by))
    union = aw * ah + bw * bh - w * h
    return w * h / union if union > 0 else 0.0


def builtin_consolidation(
    *,
    task_type: str,
    job_name: str,
    label_attribute: str,
    categories: Sequence[str],
    items: Sequence[Mapping[str, Any]],
    creation_date: str,
    earlier_labels: Mapping[str, Any] | None = None,
) -> list[dict[str, Any]]:
    """What an AWS ``ACS-*`` Lambda returns for a consolidation request's items (local behaviour, documented in
    the labeling contract): the first worker's answer is the label; ``confidence`` is 1.0 when every worker agrees,
    else the share of workers agreeing with it (per box: same label and IoU >= 0.5; per class of a multi-label
    answer: the share that chose it). Adjustment jobs' metadata adds ``adjustment-status`` (``unadjusted`` when the
    label equals the item's earlier label in ``earlier_labels``, by datasetObjectId)."""
    kind = kind_of(task_type)
    class_map = {str(i): name for i, name in enumerate(categories)}
    results = []
    for item in items:
        values = [
            parse_answer(task_type, json.loads(a["annotationData"]["content"])) for a in item.get("annotations") or []
        ]
        if not values:
            continue
        first = values[0]
        share = round(sum(_same(first, v) for v in values) / len(values), 2)
        metadata: dict[str, Any] = {
            "type": output_type(task_type),
            "job-name": f"labeling-job/{job_name}",
            "human-annotated": "yes",
            "creation-date": creation_date,
        }
        label: Any
        if kind == "classification":
            label = list(categories).index(first) if first in categories else -1
            metadata.update({"class-name": first, "confidence": share})
        elif kind == "multilabel":
            label = sorted(list(categories).index(name) for name in first if name in categories)
            metadata["class-map"] = {str(i): categories[i] for i in label}
            metadata["confidence-map"] = {
                str(i): round(sum(categories[i] in v for v in values) / len(values), 2) for i in label
            }
        elif kind == "boxes":
            size = first.get("imageSize") or {}
            boxes = first.get("boxes") or []
            label = {
                "image_size": [
                    {"width": size.get("width", 0), "height": size.get("height", 0), "depth": size.get("depth", 3)}
                ],
                "annotations": [
                    {
                        "class_id": list(categories).index(box["label"]) if box.get("label") in categories else -1,
                        **{k: box.get(k, 0) for k in ("left", "top", "width", "height")},
                    }
                    for box in boxes
                ],
            }
            metadata["objects"] = [
                {
                    "confidence": round(
                        sum(
                            any(
                                o.get("label") == box.get("label") and box_iou(o, box) >= 0.5
                                for o in v.get("boxes") or []
                            )
                            for v in values
                        )
                        / len(values),
                        2,
                    )
                }
                for box in boxes
            ]
            metadata["class-map"] = class_map
        elif kind == "ner":
            label = {"annotations": {"entities": first, "labels": [{"label": name} for name in categories]}}
            metadata["entities"] = [
                {"confidence": round(sum(any(_same(e, o) for o in v) for v in values) / len(values), 2)} for e in first
            ]
        else:
            label = answer_content(task_type, first)
            metadata["confidence"] = share
        if is_audit(task_type):
            earlier = (earlier_labels or {}).get(item["datasetObjectId"])
            metadata["adjustment-status"] = "unadjusted" if _same(earlier, first) else "adjusted"
        results.append(
            {
                "datasetObjectId": item["datasetObjectId"],
                "consolidatedAnnotation": {
                    "content": {label_attribute: label, f"{label_attribute}-metadata": metadata}
                },
            }
        )
    return results
