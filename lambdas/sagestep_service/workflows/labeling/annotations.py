"""Ground Truth's answer and output formats, per kind of task (pure; no AWS).

Three directions, one module, so that the format of a kind lives in one place:

* **in**: a worker's ``answerContent`` (what Ground Truth's built-in worker UIs submit, see the labeling contract)
  parsed into what ``consolidation`` takes (``parse_answer``). The *kind* of an answer is told by its one key
  (``ANSWER_KEYS``): ``crowd-image-classifier`` / ``crowd-classifier`` (one class), ``*-multi-select`` (a set of
  classes), ``boundingBox`` (boxes), ``crowd-entity-annotation`` (text spans); any other answer is *custom*.
* **out**: a consolidated result turned into the label and ``<attr>-metadata`` Ground Truth writes into the output
  manifest, in AWS's documented shapes (SageMaker Developer Guide, "Labeling job output data"): a classification
  label is the class index with ``class-name``; multi-label a list of indices with ``class-map`` and
  ``confidence-map``; object detection ``{"image_size": [...], "annotations": [{"class_id", ...}]}`` with
  ``objects: [{"confidence"}]`` and a ``class-map`` of the classes present; named entities
  ``{"annotations": {"entities": [...], "labels": [...]}}`` with ``entities: [{"confidence"}]`` and type
  ``groundtruth/text-span`` (AWS's documented type for NER). An adjustment (audit) job adds ``adjustment-status``.
* **back**: ``read_label`` reads a consolidated label out of an output manifest line (any job's, ours or AWS's
  ACS's), for the next level's ``confidenceBelow`` filter and for the reports.

Custom tasks have no AWS format: their label is the answer itself (the value of ``annotations`` when that is the
answer's only key), compared between workers as canonical JSON.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from sagestep_service.workflows.labeling.consolidation import Box, MergedBox, iou
from sagestep_service.workflows.labeling.ground_truth import Modality, task_type


class Kind(StrEnum):
    """What a task's answers are, which decides how they are consolidated and written."""

    CLASSIFICATION = "classification"
    MULTI_LABEL = "multi-label"
    BOUNDING_BOX = "bounding-box"
    NAMED_ENTITY = "named-entity"
    CUSTOM = "custom"


#: The key of each built-in worker UI's answer, and the kind it tells.
ANSWER_KEYS: dict[str, Kind] = {
    "crowd-image-classifier": Kind.CLASSIFICATION,
    "crowd-classifier": Kind.CLASSIFICATION,
    "crowd-image-classifier-multi-select": Kind.MULTI_LABEL,
    "crowd-classifier-multi-select": Kind.MULTI_LABEL,
    "boundingBox": Kind.BOUNDING_BOX,
    "crowd-entity-annotation": Kind.NAMED_ENTITY,
}

_MODALITY_KINDS: dict[Modality, Kind] = {
    Modality.IMAGE_CLASSIFICATION: Kind.CLASSIFICATION,
    Modality.TEXT_CLASSIFICATION: Kind.CLASSIFICATION,
    Modality.VIDEO_CLASSIFICATION: Kind.CLASSIFICATION,
    Modality.IMAGE_CLASSIFICATION_MULTI_LABEL: Kind.MULTI_LABEL,
    Modality.TEXT_CLASSIFICATION_MULTI_LABEL: Kind.MULTI_LABEL,
    Modality.BOUNDING_BOX: Kind.BOUNDING_BOX,
    Modality.BOUNDING_BOX_AUDIT: Kind.BOUNDING_BOX,
    Modality.NAMED_ENTITY_RECOGNITION: Kind.NAMED_ENTITY,
}

#: Ground Truth's ``type`` per modality written by sagestep's own consolidation. Video classification's is not shown
#: in AWS's output examples; it follows the image and text ones.
OUTPUT_TYPES: dict[Modality, str] = {
    Modality.IMAGE_CLASSIFICATION: "groundtruth/image-classification",
    Modality.TEXT_CLASSIFICATION: "groundtruth/text-classification",
    Modality.VIDEO_CLASSIFICATION: "groundtruth/video-classification",
    Modality.IMAGE_CLASSIFICATION_MULTI_LABEL: "groundtruth/image-classification-multilabel",
    Modality.TEXT_CLASSIFICATION_MULTI_LABEL: "groundtruth/text-classification-multilabel",
    Modality.BOUNDING_BOX: "groundtruth/object-detection",
    Modality.BOUNDING_BOX_AUDIT: "groundtruth/object-detection",
    Modality.NAMED_ENTITY_RECOGNITION: "groundtruth/text-span",
    Modality.CUSTOM: "groundtruth/custom",
}
ADJUSTED, UNADJUSTED = "adjusted", "unadjusted"
DEFAULT_DEPTH = 3  #: ``image_size.depth`` when the worker UI does not report it (RGB)


def kind_of_modality(modality: str) -> Kind:
    """The kind of a modality's answers (every modality without a built-in UI sagestep consolidates is custom)."""
    task_type(modality)  # ValueError for an unknown modality
    return _MODALITY_KINDS.get(Modality(modality), Kind.CUSTOM)


def kind_of_answer(content: Mapping[str, Any]) -> Kind:
    """The kind an answer's shape tells: a built-in UI's single key, else custom."""
    if len(content) == 1:
        (key,) = content
        return ANSWER_KEYS.get(key, Kind.CUSTOM)
    return Kind.CUSTOM


def output_type(modality: str) -> str:
    return OUTPUT_TYPES.get(Modality(modality), "groundtruth/custom")


def modality_of_answer(content: Mapping[str, Any], *, text: bool) -> Modality:
    """The modality an answer's shape tells; ``text`` = the data object is text (``content``), not a file. A
    ``crowd-classifier`` answer on a file is a video clip's (Ground Truth's text classifier takes text only); a
    bounding-box answer is never known to be an audit from its shape."""
    key = next(iter(content), "") if len(content) == 1 else ""
    if key == "crowd-image-classifier":
        return Modality.IMAGE_CLASSIFICATION
    if key == "crowd-classifier":
        return Modality.TEXT_CLASSIFICATION if text else Modality.VIDEO_CLASSIFICATION
    if key == "crowd-image-classifier-multi-select":
        return Modality.IMAGE_CLASSIFICATION_MULTI_LABEL
    if key == "crowd-classifier-multi-select":
        return Modality.TEXT_CLASSIFICATION_MULTI_LABEL
    if key == "boundingBox":
        return Modality.BOUNDING_BOX
    if key == "crowd-entity-annotation":
        return Modality.NAMED_ENTITY_RECOGNITION
    return Modality.CUSTOM


def canonical(value: Any) -> str:
    """A JSON text equal for equal values (keys sorted, no spaces): how custom answers are compared."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


# --- in: a worker's answer -----------------------------------------------------------------------------------------


class AnswerError(ValueError):
    """An answer that does not have its kind's shape (the worker's answer is left out, not the whole job)."""


@dataclass(frozen=True, order=True)
class Span:
    """A labeled text span: ``startOffset`` inclusive, ``endOffset`` exclusive (Unicode code points)."""

    start: int
    end: int
    label: str

    def as_entity(self) -> dict[str, Any]:
        return {"label": self.label, "startOffset": self.start, "endOffset": self.end}


@dataclass(frozen=True)
class Parsed:
    """One worker's answer as consolidation inputs: ``label`` (classification), ``labels`` (multi-label),
    ``boxes`` + ``image`` (bounding box: the UI's ``inputImageProperties``), ``spans`` (named entities), ``value``
    (custom: the label to write, compared as ``canonical(value)``)."""

    kind: Kind
    label: str | None = None
    labels: frozenset[str] = frozenset()
    boxes: tuple[Box, ...] = ()
    image: Mapping[str, Any] | None = None
    spans: frozenset[Span] = frozenset()
    value: Any = None

    def display(self) -> str:
        """The answer in one short text (reports): the class, the classes joined by ``|``, ``<n> boxes`` /
        ``<n> entities``, or the canonical JSON of a custom answer (first 200 characters)."""
        if self.kind is Kind.CLASSIFICATION:
            return self.label or ""
        if self.kind is Kind.MULTI_LABEL:
            return "|".join(sorted(self.labels))
        if self.kind is Kind.BOUNDING_BOX:
            return f"{len(self.boxes)} boxes"
        if self.kind is Kind.NAMED_ENTITY:
            return f"{len(self.spans)} entities"
        return canonical(self.value)[:200]


def load_content(content: str | Mapping[str, Any]) -> dict[str, Any]:
    """An answer as an object: the consolidation request carries it as a JSON string
    (``annotationData.content``), the worker-response files as an object."""
    if isinstance(content, str):
        try:
            content = json.loads(content)
        except json.JSONDecodeError as error:
            raise AnswerError(f"not JSON: {error.msg}") from None
    if not isinstance(content, Mapping):
        raise AnswerError("not a JSON object")
    return dict(content)


def _number(value: Any, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise AnswerError(f"{what} is not a number")
    return float(value)


def parse_answer(content: str | Mapping[str, Any], classes: Sequence[str] | None = None) -> Parsed:
    """A worker's ``answerContent`` (object or JSON text) as consolidation inputs. With ``classes``, a class
    outside them is an ``AnswerError`` (Ground Truth's UIs offer only the job's categories)."""
    answer = load_content(content)
    kind = kind_of_answer(answer)
    known = None if classes is None else set(classes)

    def check(label: Any) -> str:
        if not isinstance(label, str) or not label:
            raise AnswerError("a label is not a non-empty string")
        if known is not None and label not in known:
            raise AnswerError(f"{label!r} is not one of the label categories")
        return label

    if kind is Kind.CUSTOM:
        value = answer["annotations"] if set(answer) == {"annotations"} else answer
        return Parsed(kind, value=value)
    body = next(iter(answer.values()))
    if not isinstance(body, Mapping):
        raise AnswerError(f"{next(iter(answer))} is not an object")
    if kind is Kind.CLASSIFICATION:
        return Parsed(kind, label=check(body.get("label")))
    if kind is Kind.MULTI_LABEL:
        labels = body.get("labels")
        if not isinstance(labels, list):
            raise AnswerError("labels is not a list")
        return Parsed(kind, labels=frozenset(check(label) for label in labels))
    if kind is Kind.BOUNDING_BOX:
        drawn = body.get("boundingBoxes")
        if not isinstance(drawn, list):
            raise AnswerError("boundingBoxes is not a list")
        boxes = []
        for box in drawn:
            if not isinstance(box, Mapping):
                raise AnswerError("a box is not an object")
            width, height = _number(box.get("width"), "width"), _number(box.get("height"), "height")
            if width < 0 or height < 0:
                raise AnswerError("a box has a negative size")
            boxes.append(
                Box(
                    label=check(box.get("label")),
                    left=_number(box.get("left"), "left"),
                    top=_number(box.get("top"), "top"),
                    width=width,
                    height=height,
                )
            )
        image = body.get("inputImageProperties")
        return Parsed(kind, boxes=tuple(boxes), image=dict(image) if isinstance(image, Mapping) else None)
    entities = body.get("entities")
    if not isinstance(entities, list):
        raise AnswerError("entities is not a list")
    spans = set()
    for entity in entities:
        if not isinstance(entity, Mapping):
            raise AnswerError("an entity is not an object")
        start, end = entity.get("startOffset"), entity.get("endOffset")
        if not (isinstance(start, int) and isinstance(end, int)) or isinstance(start, bool) or not 0 <= start < end:
            raise AnswerError("an entity's offsets are not integers with 0 <= startOffset < endOffset")
        spans.add(Span(start, end, check(entity.get("label"))))
    return Parsed(kind, spans=frozenset(spans))


def agrees(answer: Parsed, consolidated: Parsed | None, *, iou_threshold: float = 0.5) -> bool:
    """Whether a worker's answer is the consolidated one: the same class / set of classes / spans / custom value;
    for boxes, as many boxes and each consolidated box matched one to one by a box of the worker's with the same
    label and IoU ≥ ``iou_threshold``."""
    if consolidated is None or answer.kind is not consolidated.kind:
        return False
    if answer.kind is Kind.CLASSIFICATION:
        return answer.label == consolidated.label
    if answer.kind is Kind.MULTI_LABEL:
        return answer.labels == consolidated.labels
    if answer.kind is Kind.NAMED_ENTITY:
        return answer.spans == consolidated.spans
    if answer.kind is Kind.CUSTOM:
        return canonical(answer.value) == canonical(consolidated.value)
    if len(answer.boxes) != len(consolidated.boxes):
        return False
    free = list(answer.boxes)
    for target in consolidated.boxes:
        match = next((b for b in free if b.label == target.label and iou(b, target) >= iou_threshold), None)
        if match is None:
            return False
        free.remove(match)
    return True


# --- out: Ground Truth's output label and metadata -----------------------------------------------------------------


def creation_date(now: datetime | None = None) -> str:
    """Ground Truth's ``creation-date``: UTC, microseconds, no zone (``2026-12-02T10:00:00.000000``)."""
    return (now or datetime.now(UTC)).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")


@dataclass(frozen=True)
class OutputContext:
    """What every label's metadata says besides the label: the labeling job, the ``type``, the job's label
    categories (their order gives the class indices), when, and for an adjustment job its ``adjustment-status``."""

    labeling_job_name: str
    type: str
    classes: Sequence[str]
    creation_date: str = field(default_factory=creation_date)
    adjustment_status: str | None = None

    def metadata(self, **fields: Any) -> dict[str, Any]:
        meta = {
            **fields,
            "type": self.type,
            "job-name": f"labeling-job/{self.labeling_job_name}",
            "human-annotated": "yes",
            "creation-date": self.creation_date,
        }
        if self.adjustment_status is not None:
            meta["adjustment-status"] = self.adjustment_status
        return meta

    def index(self, label: str) -> int:
        try:
            return list(self.classes).index(label)
        except ValueError:
            raise ValueError(f"{label!r} is not one of the label categories") from None


def _confidence(value: float) -> float:
    return round(min(max(float(value), 0.0), 1.0), 6)


def classification_output(label: str, confidence: float, ctx: OutputContext) -> tuple[int, dict[str, Any]]:
    """The class index and ``class-name`` + ``confidence``."""
    return ctx.index(label), ctx.metadata(**{"class-name": label, "confidence": _confidence(confidence)})


def multi_label_output(
    labels: Sequence[str], confidence: Mapping[str, float], ctx: OutputContext
) -> tuple[list[int], dict[str, Any]]:
    """The chosen classes' indices (in category order) with ``class-map`` and ``confidence-map`` keyed by index."""
    indices = sorted(ctx.index(label) for label in labels)
    names = {str(i): ctx.classes[i] for i in indices}
    return indices, ctx.metadata(
        **{
            "class-map": names,
            "confidence-map": {str(i): _confidence(confidence.get(ctx.classes[i], 0.0)) for i in indices},
        }
    )


def as_box(box: MergedBox) -> Box:
    """A merged box as a plain one (to compare with workers' boxes)."""
    return Box(label=box.label, left=box.left, top=box.top, width=box.width, height=box.height)


def box_output(
    boxes: Sequence[MergedBox], image: Mapping[str, Any] | None, ctx: OutputContext
) -> tuple[dict[str, Any], dict[str, Any]]:
    """``image_size`` + ``annotations`` with ``class_id``; metadata ``objects`` (one confidence per box, same
    order) and the ``class-map`` of the classes present. Coordinates are rounded to whole pixels, as the UI draws."""
    image = image or {}
    size = {
        "width": int(image.get("width", 0) or 0),
        "height": int(image.get("height", 0) or 0),
        "depth": int(image.get("depth", DEFAULT_DEPTH) or DEFAULT_DEPTH),
    }
    annotations = [
        {
            "class_id": ctx.index(box.label),
            "left": round(box.left),
            "top": round(box.top),
            "width": round(box.width),
            "height": round(box.height),
        }
        for box in boxes
    ]
    present = sorted({a["class_id"] for a in annotations})
    return {"image_size": [size], "annotations": annotations}, ctx.metadata(
        objects=[{"confidence": _confidence(box.confidence)} for box in boxes],
        **{"class-map": {str(i): ctx.classes[i] for i in present}},
    )


def ner_output(spans: Sequence[tuple[Span, float]], ctx: OutputContext) -> tuple[dict[str, Any], dict[str, Any]]:
    """``annotations.entities`` (in text order) and ``annotations.labels`` (the categories); metadata
    ``entities`` with one confidence per entity, same order."""
    ordered = sorted(spans, key=lambda pair: pair[0])
    label = {
        "annotations": {
            "entities": [span.as_entity() for span, _ in ordered],
            "labels": [{"label": c} for c in ctx.classes],
        }
    }
    return label, ctx.metadata(entities=[{"confidence": _confidence(c)} for _, c in ordered])


def custom_output(value: Any, confidence: float, ctx: OutputContext) -> tuple[Any, dict[str, Any]]:
    return value, ctx.metadata(confidence=_confidence(confidence))


def failure_metadata(reason: str, ctx: OutputContext) -> dict[str, Any]:
    """An item no answer could be consolidated for: no label, ``failure-reason`` and ``human-annotated: no``."""
    meta = ctx.metadata(**{"failure-reason": reason[:1000]})
    meta["human-annotated"] = "no"
    meta.pop("adjustment-status", None)
    return meta


def adjustment_status(label: Any, earlier: Any) -> str:
    """``adjusted`` when an audit's label differs from the earlier job's (compared as canonical JSON), else
    ``unadjusted``."""
    return UNADJUSTED if canonical(label) == canonical(earlier) else ADJUSTED


# --- back: a consolidated label read from an output manifest line --------------------------------------------------


@dataclass(frozen=True)
class ReadLabel:
    """A job's label on one item, as the reports and filters need it.

    ``names`` = the class names in the label (classification: one; multi-label: the chosen; boxes: one per box;
    entities: one per entity; custom: none); ``display`` = one short text (see ``Parsed.display``);
    ``confidence`` = the label's (classification, custom), else its weakest part's (multi-label, boxes,
    entities), None when failed or when it has no part (no box, no entity, no class chosen).
    ``parsed`` = the label as an answer would be (``agrees`` compares a worker's answer with it)."""

    attribute: str
    failed: bool
    type: str | None
    display: str
    names: tuple[str, ...] = ()
    confidence: float | None = None
    adjustment_status: str | None = None
    failure_reason: str | None = None
    job_name: str | None = None
    human_annotated: bool = False
    parsed: Parsed | None = None

    def below(self, threshold: float) -> bool:
        """For ``confidenceBelow``: a failed item or one without a confidence counts as below (review it)."""
        return self.confidence is None or self.confidence < threshold


def _weakest(values: Sequence[Any]) -> float | None:
    numbers = [float(v) for v in values if isinstance(v, int | float) and not isinstance(v, bool)]
    return min(numbers) if numbers else None


def read_label(line: Mapping[str, Any], attribute: str) -> ReadLabel | None:
    """The label ``attribute`` gave this manifest line, or None when the line has none (not labeled by that job).
    Reads every shape this module writes, and AWS's classification/multi-label/box/NER outputs likewise."""
    meta = line.get(f"{attribute}-metadata")
    if not isinstance(meta, Mapping):
        return None
    value = line.get(attribute)
    kind_type = meta.get("type") if isinstance(meta.get("type"), str) else None
    common: dict[str, Any] = {
        "attribute": attribute,
        "type": kind_type,
        "adjustment_status": meta.get("adjustment-status"),
        "job_name": meta.get("job-name"),
        "human_annotated": meta.get("human-annotated") == "yes",
    }
    if "failure-reason" in meta or attribute not in line:
        return ReadLabel(failed=True, display="", failure_reason=str(meta.get("failure-reason", "")), **common)
    if kind_type is not None and kind_type.endswith("/custom"):
        return _custom_read(value, meta, common)
    if "class-name" in meta:
        name = str(meta["class-name"])
        parsed = Parsed(Kind.CLASSIFICATION, label=name)
        return ReadLabel(
            failed=False,
            display=name,
            names=(name,),
            confidence=_weakest([meta.get("confidence")]),
            parsed=parsed,
            **common,
        )
    class_map: Mapping[str, Any] = meta["class-map"] if isinstance(meta.get("class-map"), Mapping) else {}
    if "confidence-map" in meta and isinstance(value, list):
        names = tuple(str(class_map.get(str(i), i)) for i in value)
        parsed = Parsed(Kind.MULTI_LABEL, labels=frozenset(names))
        confidence_map: Mapping[str, Any] = (
            meta["confidence-map"] if isinstance(meta["confidence-map"], Mapping) else {}
        )
        return ReadLabel(
            failed=False,
            display=parsed.display(),
            names=names,
            confidence=_weakest([confidence_map.get(str(i)) for i in value]),
            parsed=parsed,
            **common,
        )
    if isinstance(value, Mapping) and isinstance(value.get("annotations"), list):
        size = (value.get("image_size") or [{}])[0]
        boxes = tuple(
            Box(
                label=str(class_map.get(str(a.get("class_id")), a.get("class_id"))),
                left=float(a.get("left", 0)),
                top=float(a.get("top", 0)),
                width=max(float(a.get("width", 0)), 0.0),
                height=max(float(a.get("height", 0)), 0.0),
            )
            for a in value["annotations"]
            if isinstance(a, Mapping)
        )
        parsed = Parsed(Kind.BOUNDING_BOX, boxes=boxes, image=size if isinstance(size, Mapping) else None)
        objects: list[Any] = meta["objects"] if isinstance(meta.get("objects"), list) else []
        return ReadLabel(
            failed=False,
            display=parsed.display(),
            names=tuple(b.label for b in boxes),
            confidence=_weakest([o.get("confidence") for o in objects if isinstance(o, Mapping)]),
            parsed=parsed,
            **common,
        )
    if isinstance(value, Mapping) and isinstance(value.get("annotations"), Mapping):
        raw = value["annotations"].get("entities")
        spans = frozenset(
            Span(int(e["startOffset"]), int(e["endOffset"]), str(e["label"]))
            for e in (raw if isinstance(raw, list) else [])
            if isinstance(e, Mapping) and {"startOffset", "endOffset", "label"} <= set(e)
        )
        parsed = Parsed(Kind.NAMED_ENTITY, spans=spans)
        entities: list[Any] = meta["entities"] if isinstance(meta.get("entities"), list) else []
        return ReadLabel(
            failed=False,
            display=parsed.display(),
            names=tuple(s.label for s in sorted(spans)),
            confidence=_weakest([e.get("confidence") for e in entities if isinstance(e, Mapping)]),
            parsed=parsed,
            **common,
        )
    return _custom_read(value, meta, common)


def _custom_read(value: Any, meta: Mapping[str, Any], common: dict[str, Any]) -> ReadLabel:
    parsed = Parsed(Kind.CUSTOM, value=value)
    return ReadLabel(
        failed=False,
        display=parsed.display(),
        confidence=_weakest([meta.get("confidence")]),
        parsed=parsed,
        **common,
    )


def earlier_attributes(line: Mapping[str, Any]) -> list[str]:
    """The label attributes a manifest line already carries (each ``X`` with an ``X-metadata``), oldest first
    (by ``creation-date``, then name)."""
    found = [
        key[: -len("-metadata")]
        for key, value in line.items()
        if key.endswith("-metadata") and isinstance(value, Mapping) and key != "source-ref-metadata"
    ]
    return sorted(found, key=lambda a: (str(line[f"{a}-metadata"].get("creation-date", "")), a))
