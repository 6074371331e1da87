"""Consolidating several workers' labels for one item into one answer, with a confidence (pure; no AWS).

* ``dawid_skene`` (categorical labels): the Dawid-Skene EM (1979). Each worker ``w`` has a confusion matrix
  ``pi[w][k][l]`` = P(w answers ``l`` | the true class is ``k``) and the classes a prior ``p[k]``. Starting from the
  majority vote, the M-step estimates ``pi`` and ``p`` from the items' current posteriors and the E-step recomputes
  each item's posterior P(true = k | its answers) ∝ p[k] · Π_w pi[w][k][answer_w]. It stops when no posterior moved
  by more than ``tolerance`` or after ``iterations`` rounds. Unlike the majority vote it learns who to trust: a
  worker who always answers the same class, or at random, tells nothing about the truth and gets little weight.
* ``majority_vote``: the baseline (confidence = share of the item's votes).
* ``multi_label``: one binary Dawid-Skene (``absent``/``present``) per class.
* ``merge_boxes`` (object detection): greedy IoU clustering of the workers' boxes, see its docstring.

Every result is deterministic: items, workers and classes are iterated in sorted (classes: given) order and ties
go to the class listed first; there is no randomness. ``smoothing`` (a pseudo-count added to every cell of the
priors and the confusion matrices) keeps every probability above zero, so an item answered by one worker, a worker
with one answer, a class nobody chose or unanimous data give finite, well-defined results.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Mapping, Sequence
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

ABSENT, PRESENT = "absent", "present"
#: The binary classes of ``multi_label``'s per-class runs; ``absent`` first, so a tie means absent.
BINARY = (ABSENT, PRESENT)


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)


class Answer(_Model):
    """One worker's label for one item."""

    item: str = Field(min_length=1)
    worker: str = Field(min_length=1)
    label: str


class ItemResult(_Model):
    """An item's consolidated label; ``confidence`` is that label's posterior (0..1), ``posterior`` every class's
    (summing to 1), ``answers`` how many workers answered the item."""

    item: str
    label: str
    confidence: float
    posterior: dict[str, float]
    answers: int


class WorkerResult(_Model):
    """A worker's estimated accuracy, P(answer = truth) = Σ_k p[k] · pi[k][k] (Dawid-Skene), or the share of the
    worker's answers agreeing with the consolidated label (majority vote); ``items`` = the items answered."""

    worker: str
    accuracy: float
    items: int


class Consolidated(_Model):
    """Per item and per worker results (keyed by their ids), the class priors, and how the EM ended (the majority
    vote reports 0 iterations, converged)."""

    method: Literal["dawid_skene", "majority_vote"]
    classes: list[str]
    items: dict[str, ItemResult]
    workers: dict[str, WorkerResult]
    priors: dict[str, float]
    iterations: int
    converged: bool


class _Data:
    """Answers as indices: sorted items and workers, classes in the given order; one answer per (item, worker)."""

    def __init__(self, answers: Sequence[Answer], classes: Sequence[str]) -> None:
        if len(set(classes)) != len(classes) or not classes:
            raise ValueError("classes must be non-empty and distinct")
        index = {c: k for k, c in enumerate(classes)}
        seen: dict[tuple[str, str], str] = {}
        for a in answers:
            if a.label not in index:
                raise ValueError(f"item {a.item!r}: worker {a.worker!r} answered {a.label!r}, not one of the classes")
            if (a.item, a.worker) in seen:
                raise ValueError(f"item {a.item!r}: worker {a.worker!r} answered more than once")
            seen[(a.item, a.worker)] = a.label
        self.classes = list(classes)
        self.items = sorted({item for item, _ in seen})
        self.workers = sorted({worker for _, worker in seen})
        item_index = {i: n for n, i in enumerate(self.items)}
        worker_index = {w: n for n, w in enumerate(self.workers)}
        #: per item: (worker index, class index) sorted by worker
        self.obs: list[list[tuple[int, int]]] = [[] for _ in self.items]
        for (item, worker), label in sorted(seen.items()):
            self.obs[item_index[item]].append((worker_index[worker], index[label]))
        self.counts = [0] * len(self.workers)
        for row in self.obs:
            for w, _ in row:
                self.counts[w] += 1


def _argmax(values: Sequence[float]) -> int:
    """The first index of the largest value (ties go to the class listed first)."""
    return max(range(len(values)), key=lambda k: (values[k], -k))


def _votes(data: _Data) -> list[list[float]]:
    """Per item, each class's share of the votes."""
    shares = []
    for row in data.obs:
        counts = [0.0] * len(data.classes)
        for _, label in row:
            counts[label] += 1
        shares.append([c / len(row) for c in counts])
    return shares


def _result(
    data: _Data,
    method: Literal["dawid_skene", "majority_vote"],
    posteriors: list[list[float]],
    accuracies: list[float],
    priors: list[float],
    iterations: int,
    converged: bool,
) -> Consolidated:
    items = {}
    for n, item in enumerate(data.items):
        post = posteriors[n]
        best = _argmax(post)
        items[item] = ItemResult(
            item=item,
            label=data.classes[best],
            confidence=post[best],
            posterior=dict(zip(data.classes, post, strict=True)),
            answers=len(data.obs[n]),
        )
    workers = {
        w: WorkerResult(worker=w, accuracy=accuracies[n], items=data.counts[n]) for n, w in enumerate(data.workers)
    }
    return Consolidated(
        method=method,
        classes=data.classes,
        items=items,
        workers=workers,
        priors=dict(zip(data.classes, priors, strict=True)),
        iterations=iterations,
        converged=converged,
    )


def majority_vote(answers: Sequence[Answer], classes: Sequence[str]) -> Consolidated:
    """The most chosen class per item (a tie goes to the class listed first); confidence = its share of the item's
    votes, posterior = every class's share; a worker's accuracy = the share of its answers equal to the consolidated
    label; priors = the share of items consolidated to each class."""
    data = _Data(answers, classes)
    shares = _votes(data)
    labels = [_argmax(s) for s in shares]
    agree = [0] * len(data.workers)
    for n, row in enumerate(data.obs):
        for w, label in row:
            agree[w] += label == labels[n]
    accuracies = [agree[w] / data.counts[w] for w in range(len(data.workers))]
    total = max(len(data.items), 1)
    priors = [sum(1 for label in labels if label == k) / total for k in range(len(data.classes))]
    return _result(data, "majority_vote", shares, accuracies, priors, 0, True)


def dawid_skene(
    answers: Sequence[Answer],
    classes: Sequence[str],
    *,
    iterations: int = 50,
    tolerance: float = 1e-6,
    smoothing: float = 0.01,
) -> Consolidated:
    """The Dawid-Skene EM (module docstring). Initialised with each item's majority-vote label as a certain truth
    (one-hot; ties to the class listed first). One iteration is an M-step then an E-step:

    * M: p[k] = (Σ_i T[i][k] + s) / (items + K·s) and pi[w][k][l] = (Σ_{i answered l by w} T[i][k] + s) /
      (Σ_{i answered by w} T[i][k] + K·s), with s = ``smoothing`` (> 0) and T the posteriors;
    * E: T[i][k] ∝ p[k] · Π_{w answered i} pi[w][k][answer], computed in logs and normalised.

    Stops once the largest change of any T[i][k] is below ``tolerance`` (``converged``) or after ``iterations``.
    An item's label is its most probable class, its confidence that posterior; a worker's accuracy is
    Σ_k p[k] · pi[w][k][k] (a spammer's is about 1/K, or the prior of the class it always answers).

    When no item has two answers (one worker per item, e.g. an expert review) nothing tells the workers apart: the
    EM has no overlap to learn from and would move answers towards the class priors. The result is then the
    majority vote, i.e. each item's one answer (``method`` says so).
    """
    if smoothing <= 0:
        raise ValueError("smoothing must be positive")
    if iterations < 1:
        raise ValueError("iterations must be at least 1")
    per_item: dict[str, int] = defaultdict(int)
    for answer in answers:
        per_item[answer.item] += 1
    if all(count == 1 for count in per_item.values()):
        return majority_vote(answers, classes)
    data = _Data(answers, classes)
    K, W = len(data.classes), len(data.workers)
    posteriors: list[list[float]] = []
    for shares in _votes(data):
        best = _argmax(shares)
        posteriors.append([1.0 if k == best else 0.0 for k in range(K)])
    priors = [1.0 / K] * K
    confusion = [[[1.0 / K] * K for _ in range(K)] for _ in range(W)]
    converged, done = False, 0
    for done in range(1, iterations + 1):  # noqa: B007 (reported after the loop)
        # M-step
        mass = [smoothing] * K
        for post in posteriors:
            for k in range(K):
                mass[k] += post[k]
        priors = [m / sum(mass) for m in mass]
        cells = [[[smoothing] * K for _ in range(K)] for _ in range(W)]
        for n, row in enumerate(data.obs):
            post = posteriors[n]
            for w, label in row:
                for k in range(K):
                    cells[w][k][label] += post[k]
        confusion = [[[c / sum(cells[w][k]) for c in cells[w][k]] for k in range(K)] for w in range(W)]
        # E-step
        log_priors = [math.log(p) for p in priors]
        log_confusion = [[[math.log(c) for c in row] for row in matrix] for matrix in confusion]
        change = 0.0
        for n, row in enumerate(data.obs):
            logs = list(log_priors)
            for w, label in row:
                for k in range(K):
                    logs[k] += log_confusion[w][k][label]
            top = max(logs)
            weights = [math.exp(v - top) for v in logs]
            total = sum(weights)
            new = [v / total for v in weights]
            change = max(change, *(abs(a - b) for a, b in zip(new, posteriors[n], strict=True)))
            posteriors[n] = new
        if change < tolerance:
            converged = True
            break
    accuracies = [sum(priors[k] * confusion[w][k][k] for k in range(K)) for w in range(W)]
    return _result(data, "dawid_skene", posteriors, accuracies, priors, done, converged)


class MultiAnswer(_Model):
    """One worker's set of labels for one item (an empty set: the worker saw none of the classes)."""

    item: str = Field(min_length=1)
    worker: str = Field(min_length=1)
    labels: set[str]


class MultiLabelItem(_Model):
    """An item's labels (those with P(present) > 0.5, in class order), ``confidence`` per chosen label
    (its P(present)), ``presence`` P(present) for every class."""

    item: str
    labels: list[str]
    confidence: dict[str, float]
    presence: dict[str, float]
    answers: int


class MultiLabelWorker(_Model):
    """A worker's binary Dawid-Skene accuracy per class and their mean (``accuracy``)."""

    worker: str
    accuracy: float
    per_class: dict[str, float]
    items: int


class MultiConsolidated(_Model):
    """Per item and per worker results of ``multi_label``, keyed by their ids."""

    classes: list[str]
    items: dict[str, MultiLabelItem]
    workers: dict[str, MultiLabelWorker]


def multi_label(
    answers: Sequence[MultiAnswer],
    classes: Sequence[str],
    *,
    iterations: int = 50,
    tolerance: float = 1e-6,
    smoothing: float = 0.01,
) -> MultiConsolidated:
    """One binary Dawid-Skene per class: every worker who answered an item says ``present`` for the classes in its
    set and ``absent`` for the others; an item gets the classes whose P(present) > 0.5 (0.5 exactly: absent)."""
    known = set(classes)
    for a in answers:
        if unknown := a.labels - known:
            raise ValueError(f"item {a.item!r}: worker {a.worker!r} answered {sorted(unknown)}, not in the classes")
    runs = {
        c: dawid_skene(
            [Answer(item=a.item, worker=a.worker, label=PRESENT if c in a.labels else ABSENT) for a in answers],
            BINARY,
            iterations=iterations,
            tolerance=tolerance,
            smoothing=smoothing,
        )
        for c in classes
    }
    items: dict[str, MultiLabelItem] = {}
    workers: dict[str, MultiLabelWorker] = {}
    if not answers or not classes:
        return MultiConsolidated(classes=list(classes), items=items, workers=workers)
    first = runs[classes[0]]
    for item, result in first.items.items():
        presence = {c: runs[c].items[item].posterior[PRESENT] for c in classes}
        chosen = [c for c in classes if presence[c] > 0.5]
        items[item] = MultiLabelItem(
            item=item,
            labels=chosen,
            confidence={c: presence[c] for c in chosen},
            presence=presence,
            answers=result.answers,
        )
    for worker, counted in first.workers.items():
        per_class = {c: runs[c].workers[worker].accuracy for c in classes}
        workers[worker] = MultiLabelWorker(
            worker=worker, accuracy=sum(per_class.values()) / len(classes), per_class=per_class, items=counted.items
        )
    return MultiConsolidated(classes=list(classes), items=items, workers=workers)


class Box(_Model):
    """An axis-aligned box in image pixels (Ground Truth's ``left``/``top``/``width``/``height``)."""

    label: str
    left: float
    top: float
    width: float = Field(ge=0)
    height: float = Field(ge=0)


class BoxAnswer(_Model):
    """One worker's boxes on one item (an empty list: the worker saw no object)."""

    item: str = Field(min_length=1)
    worker: str = Field(min_length=1)
    boxes: list[Box]


class MergedBox(_Model):
    """A consolidated box, its confidence (0..1) and the workers whose boxes it merges (sorted)."""

    label: str
    left: float
    top: float
    width: float
    height: float
    confidence: float
    workers: list[str]


def iou(a: Box, b: Box) -> float:
    """Intersection over union of two boxes' areas (0 when they do not overlap or both are empty)."""
    width = min(a.left + a.width, b.left + b.width) - max(a.left, b.left)
    height = min(a.top + a.height, b.top + b.height) - max(a.top, b.top)
    inter = max(width, 0.0) * max(height, 0.0)
    union = a.width * a.height + b.width * b.height - inter
    return inter / union if union > 0 else 0.0


def _average(label: str, members: Sequence[tuple[str, Box]], weight: Mapping[str, float]) -> Box:
    total = sum(weight[w] for w, _ in members)

    def mean(field: str) -> float:
        return sum(weight[w] * getattr(b, field) for w, b in members) / total

    return Box(label=label, left=mean("left"), top=mean("top"), width=mean("width"), height=mean("height"))


def merge_boxes(
    answers: Sequence[BoxAnswer],
    *,
    iou_threshold: float = 0.5,
    worker_weights: Mapping[str, float] | None = None,
) -> dict[str, list[MergedBox]]:
    """Per item, the merged boxes, by this rule:

    1. A worker's weight is ``worker_weights[worker]`` (e.g. its Dawid-Skene accuracy; every answering worker must
       have one, > 0) or 1 for all. The item's total weight is that of every worker who answered it, with or
       without boxes (a worker who drew nothing votes against every box).
    2. Per label, boxes are taken heaviest worker first (then by worker id, then in the worker's order); each joins
       the cluster whose current merged box it overlaps most, with IoU ≥ ``iou_threshold``, among the clusters
       without a box of that worker yet (each worker contributes at most one box to a cluster); otherwise it
       starts a new cluster.
    3. A cluster is kept when its workers' weight is at least half the item's total weight.
    4. The merged box is the weighted average of the members' left, top, width and height.
    5. Confidence = (the cluster's weight / the item's total weight) x the mean IoU of the members to the merged box.

    Items are keyed by id; each item's boxes are sorted by label, then top, then left. An item whose workers
    agreed on nothing has an empty list.
    """
    if not 0 < iou_threshold <= 1:
        raise ValueError("iou_threshold must be in (0, 1]")
    by_item: dict[str, dict[str, list[Box]]] = defaultdict(dict)
    for a in answers:
        if a.worker in by_item[a.item]:
            raise ValueError(f"item {a.item!r}: worker {a.worker!r} answered more than once")
        by_item[a.item][a.worker] = a.boxes
    weight: dict[str, float] = {}
    for worker in sorted({a.worker for a in answers}):
        weight[worker] = 1.0 if worker_weights is None else worker_weights.get(worker, math.nan)
        if not weight[worker] > 0:
            raise ValueError(f"worker {worker!r} needs a positive weight")
    merged: dict[str, list[MergedBox]] = {}
    for item in sorted(by_item):
        drawn = by_item[item]
        total = sum(weight[w] for w in drawn)
        order = sorted(drawn, key=lambda w: (-weight[w], w))
        result: list[MergedBox] = []
        for label in sorted({b.label for boxes in drawn.values() for b in boxes}):
            clusters: list[list[tuple[str, Box]]] = []
            centres: list[Box] = []
            for worker in order:
                for box in (b for b in drawn[worker] if b.label == label):
                    best, best_iou = -1, iou_threshold
                    for n, centre in enumerate(centres):
                        if any(w == worker for w, _ in clusters[n]):
                            continue  # a worker's second box on the same object is a new cluster
                        overlap = iou(box, centre)
                        if overlap > best_iou or (best < 0 and overlap == best_iou):
                            best, best_iou = n, overlap
                    if best < 0:
                        clusters.append([(worker, box)])
                        centres.append(box)
                    else:
                        clusters[best].append((worker, box))
                        centres[best] = _average(label, clusters[best], weight)
            for members in clusters:
                share = sum(weight[w] for w, _ in members) / total
                if share < 0.5:
                    continue
                centre = _average(label, members, weight)
                agreement = sum(iou(b, centre) for _, b in members) / len(members)
                result.append(
                    MergedBox(
                        label=label,
                        left=centre.left,
                        top=centre.top,
                        width=centre.width,
                        height=centre.height,
                        confidence=share * agreement,
                        workers=sorted(w for w, _ in members),
                    )
                )
        merged[item] = sorted(result, key=lambda m: (m.label, m.top, m.left))
    return merged
