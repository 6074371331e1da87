"""The logic of sagestep's own Ground Truth Lambdas (``LabelingPreAnnotation``, ``LabelingConsolidation``); their
handlers only pass the event (and an S3 client) in and the answer out.

**One consolidation function for every modality.** Ground Truth's consolidation event names the labeling job, the
label attribute and the label categories, not the task type; asking SageMaker (``DescribeLabelingJob``) on every
call would cost a call per batch of items and a permission. The answers tell it instead: each built-in worker UI
answers under its own key (``annotations.ANSWER_KEYS``: ``crowd-image-classifier``, ``crowd-classifier``,
``*-multi-select``, ``boundingBox``, ``crowd-entity-annotation``); any other answer is a custom task's. When the
answers of one call mix shapes, the most common shape decides and the others count as invalid answers. Whether the
job is an *audit* cannot be told from a bounding box's shape: the handler may pass ``modality`` (and the earlier
labels, ``earlier``) when it knows them, which adds ``adjustment-status``.

Consolidation per kind (all deterministic):

* one class: Dawid-Skene over every item of the call (the local Ground Truth calls once per job, so the EM sees
  the whole job; AWS may call per batch of items), confidence = the label's posterior;
* several classes: one binary Dawid-Skene per class (``consolidation.multi_label``);
* boxes: ``consolidation.merge_boxes`` (a box is kept when workers of at least half the item's weight drew it);
* named entities: span voting, a span (same label and offsets) is kept when at least half the item's workers
  marked it, confidence = that share (the same rule as boxes);
* custom: the answer most workers gave (compared as canonical JSON; a tie goes to the smallest JSON text),
  confidence = its share.

An item with no valid answer gets ``failure-reason`` metadata and no label.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sagestep_service.platform import objects
from sagestep_service.workflows.labeling.annotations import (
    AnswerError,
    Kind,
    OutputContext,
    Parsed,
    Span,
    adjustment_status,
    agrees,
    as_box,
    box_output,
    canonical,
    classification_output,
    creation_date,
    custom_output,
    earlier_attributes,
    failure_metadata,
    kind_of_answer,
    kind_of_modality,
    load_content,
    modality_of_answer,
    multi_label_output,
    ner_output,
    output_type,
    parse_answer,
)
from sagestep_service.workflows.labeling.consolidation import (
    Answer,
    Box,
    BoxAnswer,
    MergedBox,
    MultiAnswer,
    dawid_skene,
    iou,
    merge_boxes,
    multi_label,
)
from sagestep_service.workflows.labeling.ground_truth import Modality, task_type

#: The answer key of sagestep's simulated workforce: it never goes into a worker's task.
ANSWER_KEY = "sagestep-answer"
KEPT_SHARE = 0.5  #: a span (or box) is kept when workers of at least this share of the item's weight marked it


# --- pre-annotation --------------------------------------------------------------------------------------------------


def pre_annotation(event: Mapping[str, Any]) -> dict[str, Any]:
    """The task of one data object: ``taskObject`` = its text (``source``) or file (``source-ref``), as AWS's
    built-in pre-annotation Lambdas give it. When the object already carries labels of earlier jobs (an audit or a
    review), the task also has ``manifestLine`` (the line without sagestep's answer key: what AWS's adjustment
    templates read, ``task.input.manifestLine.<attr>``), ``labelAttributeName`` (the latest earlier attribute) and
    ``labels`` (every earlier attribute's label and metadata). Every object needs a human."""
    data = event.get("dataObject")
    if not isinstance(data, Mapping):
        raise ValueError("the event has no dataObject")
    if "source-ref" in data:
        task: dict[str, Any] = {"taskObject": data["source-ref"]}
    elif "source" in data:
        task = {"taskObject": data["source"]}
    else:
        raise ValueError("the data object has neither source nor source-ref")
    earlier = earlier_attributes(data)
    if earlier:
        task["manifestLine"] = {k: v for k, v in data.items() if k != ANSWER_KEY}
        task["labelAttributeName"] = earlier[-1]
        task["labels"] = {a: {"label": data.get(a), "metadata": data[f"{a}-metadata"]} for a in earlier}
    return {"taskInput": task, "isHumanAnnotationRequired": "true"}


# --- consolidation (pure) ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class WorkerAnswer:
    """One worker's answer to one item, as Ground Truth stores it (an object or its JSON text)."""

    item: str
    worker: str
    content: str | Mapping[str, Any]


@dataclass(frozen=True)
class WorkerEstimate:
    """A worker's estimated accuracy in one run (``method``: ``dawid-skene``, ``dawid-skene-per-class``, ``f1``
    for boxes and entities = mean per-item F1 against the consolidated label, ``agreement`` for custom), its share
    of answers equal to the consolidated label (``agreement``) and the items it answered."""

    worker: str
    accuracy: float
    agreement: float
    items: int
    method: str


@dataclass
class ItemOutcome:
    """One item's consolidated label (``consolidated``: as an answer would be) and confidences; ``parts`` =
    the per-part confidences (multi-label: per chosen class; boxes: per box, as ``boxes``; entities: per span)."""

    item: str
    answers: int = 0
    invalid: int = 0
    consolidated: Parsed | None = None
    confidence: float | None = None
    parts: Any = None
    boxes: list[MergedBox] = field(default_factory=list)
    failure: str | None = None


@dataclass
class Run:
    kind: Kind
    classes: list[str]
    items: dict[str, ItemOutcome]
    workers: dict[str, WorkerEstimate]
    #: valid answers by (item, worker)
    answers: dict[tuple[str, str], Parsed]


def _kind(loaded: Sequence[Mapping[str, Any]]) -> Kind:
    counts = Counter(kind_of_answer(c) for c in loaded)
    if not counts:
        return Kind.CUSTOM
    order = list(Kind)
    return max(counts, key=lambda k: (counts[k], -order.index(k)))


def _f1(mine: int, theirs: int, matched: int) -> float:
    return 1.0 if mine == theirs == 0 else 2 * matched / (mine + theirs)


def _box_matches(worker: Sequence[Box], merged: Sequence[MergedBox], threshold: float = 0.5) -> int:
    free, matched = list(worker), 0
    for target in map(as_box, merged):
        hit = next((b for b in free if b.label == target.label and iou(b, target) >= threshold), None)
        if hit is not None:
            free.remove(hit)
            matched += 1
    return matched


def run_consolidation(
    answers: Sequence[WorkerAnswer],
    classes: Sequence[str],
    *,
    kind: Kind | None = None,
    items: Sequence[str] = (),
) -> Run:
    """Consolidate every item's answers (module docstring). ``items`` lists items to report even without any
    answer (they fail); ``classes`` empty = the classes answered, sorted."""
    loaded: list[tuple[WorkerAnswer, dict[str, Any] | None, str | None]] = []
    for a in answers:
        try:
            loaded.append((a, load_content(a.content), None))
        except AnswerError as error:
            loaded.append((a, None, str(error)))
    if kind is None:
        kind = _kind([c for _, c, _ in loaded if c is not None])
    outcomes = {item: ItemOutcome(item) for item in items}
    valid: dict[tuple[str, str], Parsed] = {}
    errors: dict[str, str] = {}
    for a, content, unreadable in loaded:
        outcome = outcomes.setdefault(a.item, ItemOutcome(a.item))
        problem = unreadable
        if content is not None and kind_of_answer(content) is not kind:
            problem = f"a {kind_of_answer(content)} answer in a {kind} job"
        if content is not None and problem is None:
            try:
                valid[(a.item, a.worker)] = parse_answer(content, classes or None)
            except AnswerError as bad:
                problem = str(bad)
        if problem is not None:
            outcome.invalid += 1
            errors.setdefault(a.item, f"worker {a.worker}: {problem}")
    if not classes:
        seen: set[str] = set()
        for p in valid.values():
            seen |= {p.label} if p.label else set(p.labels) | {b.label for b in p.boxes} | {s.label for s in p.spans}
        classes = sorted(seen)
    for item, _ in valid:
        outcomes[item].answers += 1
    accuracy: dict[str, float] = {}
    method = {
        Kind.CLASSIFICATION: "dawid-skene",
        Kind.MULTI_LABEL: "dawid-skene-per-class",
        Kind.CUSTOM: "agreement",
    }.get(kind, "f1")
    if kind is Kind.CLASSIFICATION and valid:
        result = dawid_skene([Answer(item=i, worker=w, label=p.label or "") for (i, w), p in valid.items()], classes)
        for item, r in result.items.items():
            outcomes[item].consolidated = Parsed(kind, label=r.label)
            outcomes[item].confidence = r.confidence
        accuracy = {w: r.accuracy for w, r in result.workers.items()}
    elif kind is Kind.MULTI_LABEL and valid:
        chosen = [MultiAnswer(item=i, worker=w, labels=set(p.labels)) for (i, w), p in valid.items()]
        multi = multi_label(chosen, classes)
        for item, m in multi.items.items():
            outcomes[item].consolidated = Parsed(kind, labels=frozenset(m.labels))
            outcomes[item].parts = dict(m.confidence)
            outcomes[item].confidence = min(m.confidence.values()) if m.confidence else None
        accuracy = {w: r.accuracy for w, r in multi.workers.items()}
    elif kind is Kind.BOUNDING_BOX and valid:
        merged = merge_boxes([BoxAnswer(item=i, worker=w, boxes=list(p.boxes)) for (i, w), p in valid.items()])
        for item, boxes in merged.items():
            image = next((p.image for (i, _), p in sorted(valid.items()) if i == item and p.image), None)
            outcomes[item].consolidated = Parsed(kind, boxes=tuple(as_box(b) for b in boxes), image=image)
            outcomes[item].boxes = boxes
            outcomes[item].parts = [b.confidence for b in boxes]
            outcomes[item].confidence = min(outcomes[item].parts) if boxes else None
    elif kind is Kind.NAMED_ENTITY and valid:
        by_item: dict[str, list[Parsed]] = defaultdict(list)
        for (i, _), p in sorted(valid.items()):
            by_item[i].append(p)
        for item, given in by_item.items():
            votes = Counter(span for p in given for span in p.spans)
            kept = sorted((s, n / len(given)) for s, n in votes.items() if n / len(given) >= KEPT_SHARE)
            outcomes[item].consolidated = Parsed(kind, spans=frozenset(s for s, _ in kept))
            outcomes[item].parts = kept
            outcomes[item].confidence = min(c for _, c in kept) if kept else None
    elif kind is Kind.CUSTOM and valid:
        texts: dict[str, Counter[str]] = defaultdict(Counter)
        values: dict[str, Any] = {}
        for (i, _), p in valid.items():
            text = canonical(p.value)
            texts[i][text] += 1
            values[text] = p.value
        for item, counted in texts.items():
            best = min(counted, key=lambda t: (-counted[t], t))
            outcomes[item].consolidated = Parsed(kind, value=values[best])
            outcomes[item].confidence = counted[best] / sum(counted.values())
    for item, outcome in outcomes.items():
        if outcome.consolidated is None:
            outcome.failure = (
                f"no valid answer ({errors[item]})" if item in errors else "no worker answered this object"
            )
    workers = _estimates(kind, valid, outcomes, accuracy, method)
    return Run(kind=kind, classes=list(classes), items=outcomes, workers=workers, answers=valid)


def _estimates(
    kind: Kind,
    valid: Mapping[tuple[str, str], Parsed],
    outcomes: Mapping[str, ItemOutcome],
    accuracy: Mapping[str, float],
    method: str,
) -> dict[str, WorkerEstimate]:
    agree: dict[str, list[bool]] = defaultdict(list)
    f1: dict[str, list[float]] = defaultdict(list)
    for (item, worker), answer in valid.items():
        consolidated = outcomes[item].consolidated
        agree[worker].append(agrees(answer, consolidated))
        if kind is Kind.BOUNDING_BOX and consolidated is not None:
            merged = outcomes[item].boxes
            f1[worker].append(_f1(len(answer.boxes), len(merged), _box_matches(answer.boxes, merged)))
        elif kind is Kind.NAMED_ENTITY and consolidated is not None:
            both = len(answer.spans & consolidated.spans)
            f1[worker].append(_f1(len(answer.spans), len(consolidated.spans), both))
    estimates = {}
    for worker in sorted(agree):
        share = sum(agree[worker]) / len(agree[worker])
        if worker in accuracy:
            value = accuracy[worker]
        elif f1.get(worker):
            value = sum(f1[worker]) / len(f1[worker])
        else:
            value = share
        estimates[worker] = WorkerEstimate(worker, value, share, len(agree[worker]), method)
    return estimates


def worker_estimates(
    answers: Sequence[WorkerAnswer], classes: Sequence[str], *, kind: Kind | None = None
) -> dict[str, WorkerEstimate]:
    """Per worker, the estimated accuracy of the same run that consolidates these answers."""
    return run_consolidation(answers, classes, kind=kind).workers


def output(run: Run, item: str, ctx: OutputContext) -> tuple[Any, dict[str, Any]]:
    """An item's label (None when it failed) and ``<attr>-metadata``."""
    outcome = run.items[item]
    consolidated = outcome.consolidated
    if consolidated is None:
        return None, failure_metadata(outcome.failure or "not consolidated", ctx)
    if run.kind is Kind.CLASSIFICATION:
        return classification_output(consolidated.label or "", outcome.confidence or 0.0, ctx)
    if run.kind is Kind.MULTI_LABEL:
        return multi_label_output(sorted(consolidated.labels), outcome.parts or {}, ctx)
    if run.kind is Kind.BOUNDING_BOX:
        return box_output(outcome.boxes, consolidated.image, ctx)
    if run.kind is Kind.NAMED_ENTITY:
        spans: list[tuple[Span, float]] = outcome.parts or []
        return ner_output(spans, ctx)
    return custom_output(consolidated.value, outcome.confidence or 0.0, ctx)


# --- consolidation (the Lambda) ------------------------------------------------------------------------------------


def labeling_job_name(arn: str) -> str:
    """The name in ``arn:aws:sagemaker:<region>:<account>:labeling-job/<name>``."""
    marker = ":labeling-job/"
    if marker not in arn:
        raise ValueError(f"{arn!r} is not a labeling job ARN")
    return arn.split(marker, 1)[1]


def consolidate(
    event: Mapping[str, Any],
    s3: Any,
    *,
    modality: str | None = None,
    earlier: Mapping[str, Any] | None = None,
    now: datetime | None = None,
) -> list[dict[str, Any]]:
    """Ground Truth's annotation-consolidation call: the payload read from S3, every item consolidated (module
    docstring), the response list in payload order. ``modality`` overrides what the answers tell (an audit's
    comes only from it); ``earlier`` maps datasetObjectId to the earlier job's label, for ``adjustment-status``."""
    attribute = event["labelAttributeName"]
    classes = [str(c) for c in event.get("labelCategories") or []]
    payload = objects.read_json(s3, event["payload"]["s3Uri"])
    if not isinstance(payload, list):
        raise ValueError("the consolidation payload is not a list")
    answers, order, texts = [], [], {}
    for entry in payload:
        item = str(entry["datasetObjectId"])
        order.append(item)
        texts[item] = "content" in (entry.get("dataObject") or {})
        for annotation in entry.get("annotations") or []:
            content = (annotation.get("annotationData") or {}).get("content", "")
            answers.append(WorkerAnswer(item, str(annotation.get("workerId", "")), content))
    kind = kind_of_modality(modality) if modality else None
    run = run_consolidation(answers, classes, kind=kind, items=order)
    if modality is None:
        first = next((a for a in answers if (a.item, a.worker) in run.answers), None)
        shown = modality_of_answer(load_content(first.content), text=texts[first.item]) if first else Modality.CUSTOM
        modality = shown.value
    audit = task_type(modality).audit or earlier is not None
    job, date = labeling_job_name(event["labelingJobArn"]), creation_date(now)
    response = []
    for item in order:
        ctx = OutputContext(job, output_type(modality), run.classes, date)
        label, meta = output(run, item, ctx)
        if label is not None and audit:
            status = adjustment_status(label, (earlier or {}).get(item))
            meta["adjustment-status"] = status
        content = {f"{attribute}-metadata": meta}
        if label is not None:
            content = {attribute: label, **content}
        response.append({"datasetObjectId": item, "consolidatedAnnotation": {"content": content}})
    return response
