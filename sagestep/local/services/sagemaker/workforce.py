"""Who answers the local Ground Truth's tasks: a pluggable :class:`Workforce`, simulated by default.

The local labeling jobs (:mod:`.labeling`) hand every data object that needs a human to ``Workforce.label`` as a
:class:`LabelingTask` and write the :class:`WorkerAnswer` list it returns as Ground Truth's worker response. A real
human workforce (a web UI, a queue of people) plugs in through the same seam.

:class:`SimulatedWorkforce` answers at once, deterministically: the same data object, team, task type and seed give
the same answers, workers and times. A team is a list of :class:`SimulatedWorker` (an accuracy or a confusion
matrix, a mean time per item); each data object gets ``workers`` distinct members (a seeded choice per object). A
worker is right with probability ``accuracy``; otherwise: classification -> another category (drawn from the
worker's confusion-matrix row for the true class when one is given); multi-label -> one or two labels flipped; boxes
-> coordinates jittered by a share of the box proportional to ``1 - accuracy``, and each box sometimes missed or
mislabelled; named entities -> offsets shifted, a wrong label or a missed entity; audits start from the earlier
job's label and correct it toward the answer key with the worker's accuracy. Times are drawn (lognormal around
``mean_seconds``), never slept: each worker's clock starts at the job's start and advances by the items it answered.

Teams are chosen by work team ARN (exact, or a glob); unconfigured ARNs get ``"default"`` if configured, else
:data:`DEFAULT_CROWD` (5 workers of mixed quality) or, if the ARN's team name contains ``expert``,
:data:`DEFAULT_EXPERTS` (2 workers at 0.97). Configuration: ``SageMakerEmulator(workforce=...)`` or
``$SAGESTEP_WORKFORCE`` = a JSON file path (:meth:`SimulatedWorkforce.from_json`) or ``package.module:ClassName``.
"""

from __future__ import annotations

import datetime as dt
import fnmatch
import importlib
import json
import math
import os
import random
import threading
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from sagestep.local.services.sagemaker.labeling_tasks import Kind, answer_content, box_iou

WORKFORCE_ENV = "SAGESTEP_WORKFORCE"


@dataclass(frozen=True)
class LabelingTask:
    """One data object of a labeling job, to be answered by ``workers`` distinct workers.

    :param answer_key: the ``sagestep-answer`` of the manifest line in truth shape (None when it has none).
    :param earlier_label: the earlier job's label of the object in truth shape, for audits (else None).
    :param started: when the job started (the simulated workers' clocks start there).
    """

    job_name: str
    workteam_arn: str
    task_type: str  #: the modality, e.g. ``TextClassification`` (``ground_truth.Modality``)
    kind: Kind
    audit: bool
    dataset_object_id: str
    data_object: Mapping[str, Any]
    task_input: Any  #: what the pre-annotation Lambda returned as ``taskInput``
    categories: Sequence[str]
    answer_key: Any
    earlier_label: Any
    workers: int
    started: dt.datetime
    region: str = "us-east-1"


@dataclass(frozen=True)
class WorkerAnswer:
    """One worker's answer, as Ground Truth's worker response holds it (times naive UTC)."""

    worker_id: str
    answer_content: dict[str, Any]
    acceptance_time: dt.datetime
    submission_time: dt.datetime
    time_spent_in_seconds: float
    worker_metadata: dict[str, Any] = field(default_factory=dict)


@runtime_checkable
class Workforce(Protocol):
    """Answers labeling tasks (the seam for a real human workforce)."""

    def label(self, task: LabelingTask) -> Sequence[WorkerAnswer]:
        """The answers of ``task.workers`` distinct workers of the task's work team."""
        ...


@dataclass(frozen=True)
class SimulatedWorker:
    """A simulated worker: right with probability ``accuracy`` (or, for classification, answering by
    ``confusion[true class]``: class -> probability), taking ``mean_seconds`` per item on average."""

    worker_id: str
    accuracy: float
    mean_seconds: float = 30.0
    confusion: Mapping[str, Mapping[str, float]] | None = None

    @classmethod
    def from_json(cls, value: Mapping[str, Any]) -> SimulatedWorker:
        return cls(
            worker_id=str(value.get("id") or value["workerId"]),
            accuracy=float(value.get("accuracy", 0.9)),
            mean_seconds=float(value.get("meanSeconds", value.get("mean_seconds", 30.0))),
            confusion=value.get("confusion"),
        )


DEFAULT_CROWD: tuple[SimulatedWorker, ...] = (
    SimulatedWorker("sim-crowd-1", 0.95, 40.0),
    SimulatedWorker("sim-crowd-2", 0.85, 25.0),
    SimulatedWorker("sim-crowd-3", 0.75, 20.0),
    SimulatedWorker("sim-crowd-4", 0.60, 12.0),
    SimulatedWorker("sim-crowd-5", 0.40, 6.0),
)
DEFAULT_EXPERTS: tuple[SimulatedWorker, ...] = (
    SimulatedWorker("sim-expert-1", 0.97, 60.0),
    SimulatedWorker("sim-expert-2", 0.97, 45.0),
)
_SIGMA = 0.5  #: of the lognormal time per item
_GAP_SECONDS = 2.0  #: mean pause between a worker's tasks


class SimulatedWorkforce:
    """Simulated workers (see the module docstring).

    :param teams: work team ARN or glob (or ``"default"``) -> its workers.
    :param seed: with the work team, the task type and the data object, seeds every draw.
    """

    def __init__(self, teams: Mapping[str, Sequence[SimulatedWorker]] | None = None, *, seed: int = 0) -> None:
        self.teams = {key: tuple(workers) for key, workers in (teams or {}).items()}
        for key, workers in self.teams.items():
            if not workers:
                raise ValueError(f"the work team {key!r} has no workers")
        self.seed = seed
        self._lock = threading.Lock()
        self._clocks: dict[tuple[str, dt.datetime], dict[str, dt.datetime]] = {}

    @classmethod
    def from_json(cls, source: str | Path | Mapping[str, Any]) -> SimulatedWorkforce:
        """From a JSON file (or its parsed object): ``{"seed": 0, "teams": {"<ARN or glob>" | "default":
        [{"id": "alice", "accuracy": 0.9, "meanSeconds": 30, "confusion": {"cat": {"cat": 0.8, "dog": 0.2}}}] |
        {"workers": [...]}}}``."""
        spec = source if isinstance(source, Mapping) else json.loads(Path(source).read_text())
        teams: dict[str, list[SimulatedWorker]] = {}
        for key, value in (spec.get("teams") or {}).items():
            members = value.get("workers", []) if isinstance(value, Mapping) else value
            teams[str(key)] = [SimulatedWorker.from_json(member) for member in members]
        return cls(teams, seed=int(spec.get("seed", 0)))

    def team(self, workteam_arn: str) -> tuple[SimulatedWorker, ...]:
        """The workers of a work team (see the module docstring for the lookup)."""
        if workteam_arn in self.teams:
            return self.teams[workteam_arn]
        for key, workers in self.teams.items():
            if key != "default" and fnmatch.fnmatchcase(workteam_arn, key):
                return workers
        if "default" in self.teams:
            return self.teams["default"]
        name = workteam_arn.rsplit("/", 1)[-1]
        return DEFAULT_EXPERTS if "expert" in name.lower() else DEFAULT_CROWD

    def job_finished(self, job_name: str) -> None:
        """Forget the clocks of a job's workers."""
        with self._lock:
            for key in [key for key in self._clocks if key[0] == job_name]:
                del self._clocks[key]

    def label(self, task: LabelingTask) -> list[WorkerAnswer]:
        team = self.team(task.workteam_arn)
        # Seeded by what the object is, not by the job's name (which carries a run's random job id), so that the same
        # data labeled by the same team for the same task type gets the same answers in every run.
        item = task.data_object.get("source-ref", task.data_object.get("source", task.dataset_object_id))
        rng = random.Random(f"{self.seed}:{task.workteam_arn}:{task.task_type}:{task.audit}:{item}")
        chosen = rng.sample(team, min(task.workers, len(team)))
        answers = []
        for worker in chosen:
            value = _simulate(rng, worker, task)
            mu = math.log(max(worker.mean_seconds, 0.1)) - _SIGMA**2 / 2
            spent = round(rng.lognormvariate(mu, _SIGMA), 1)
            gap = rng.expovariate(1 / _GAP_SECONDS)
            with self._lock:
                clocks = self._clocks.setdefault((task.job_name, task.started), {})
                accepted = clocks.get(worker.worker_id, task.started) + dt.timedelta(seconds=gap)
                submitted = accepted + dt.timedelta(seconds=spent)
                clocks[worker.worker_id] = submitted
            answers.append(
                WorkerAnswer(
                    worker_id=worker.worker_id,
                    answer_content=answer_content(task.task_type, value),
                    acceptance_time=accepted,
                    submission_time=submitted,
                    time_spent_in_seconds=spent,
                    worker_metadata=_identity(worker.worker_id, task.region),
                )
            )
        return answers


def _identity(worker_id: str, region: str) -> dict[str, Any]:
    return {
        "identityData": {
            "identityProviderType": "Cognito",
            "issuer": f"https://cognito-idp.{region}.amazonaws.com/{region}_sagestep",
            "sub": str(uuid.uuid5(uuid.NAMESPACE_URL, f"sagestep-worker:{worker_id}")),
        }
    }


# Answers -------------------------------------------------------------------------------------------------------


def _simulate(rng: random.Random, worker: SimulatedWorker, task: LabelingTask) -> Any:
    truth, categories = task.answer_key, list(task.categories)
    if task.kind == "classification":
        if truth is None:
            return rng.choice(categories) if categories else None
        start = task.earlier_label if task.audit and task.earlier_label is not None else None
        return _classify(rng, worker, truth, categories, start)
    if task.kind == "multilabel":
        if truth is None:
            return []
        start = task.earlier_label if task.audit and task.earlier_label is not None else None
        if start is not None:
            return list(truth) if rng.random() < worker.accuracy else list(start)
        return _multi(rng, worker.accuracy, list(truth), categories)
    if task.kind == "boxes":
        if truth is None:
            return {"imageSize": {"width": 0, "height": 0, "depth": 3}, "boxes": []}
        if task.audit and task.earlier_label is not None:
            return _audit_boxes(rng, worker.accuracy, truth, task.earlier_label)
        return _boxes(rng, worker.accuracy, truth, categories)
    if task.kind == "ner":
        if truth is None:
            return []
        if task.audit and task.earlier_label is not None:
            return list(truth) if rng.random() < worker.accuracy else list(task.earlier_label)
        return _entities(rng, worker.accuracy, list(truth), categories)
    return {} if truth is None else truth


def _classify(rng: random.Random, worker: SimulatedWorker, truth: str, categories: list[str], start: str | None) -> str:
    row = (worker.confusion or {}).get(truth)
    if row:
        names, weights = list(row), [float(w) for w in row.values()]
        return str(rng.choices(names, weights)[0])
    if rng.random() < worker.accuracy:
        return truth
    if start is not None:
        return start
    others = [c for c in categories if c != truth]
    return rng.choice(others) if others else truth


def _multi(rng: random.Random, accuracy: float, truth: list[str], categories: list[str]) -> list[str]:
    if rng.random() < accuracy or not categories:
        return [c for c in categories if c in truth] or list(truth)
    chosen = set(truth)
    for name in rng.sample(categories, min(len(categories), rng.choice((1, 2)))):
        chosen ^= {name}
    return [c for c in categories if c in chosen]


def _jitter(rng: random.Random, box: Mapping[str, Any], accuracy: float, size: Mapping[str, Any]) -> dict[str, Any]:
    scale = max(0.0, 1.0 - accuracy) * 0.5
    width, height = float(box.get("width", 0)), float(box.get("height", 0))
    left = float(box.get("left", 0)) + rng.gauss(0, scale * width)
    top = float(box.get("top", 0)) + rng.gauss(0, scale * height)
    new_width = max(1.0, width * (1 + rng.gauss(0, scale)))
    new_height = max(1.0, height * (1 + rng.gauss(0, scale)))
    max_w, max_h = float(size.get("width") or 0), float(size.get("height") or 0)
    if max_w > 0:
        left = min(max(0.0, left), max_w - 1)
        new_width = min(new_width, max_w - left)
    if max_h > 0:
        top = min(max(0.0, top), max_h - 1)
        new_height = min(new_height, max_h - top)
    return {
        "label": box.get("label"),
        "left": round(max(0.0, left)),
        "top": round(max(0.0, top)),
        "width": max(1, round(new_width)),
        "height": max(1, round(new_height)),
    }


def _boxes(rng: random.Random, accuracy: float, truth: Mapping[str, Any], categories: list[str]) -> dict[str, Any]:
    size = truth.get("imageSize") or {}
    boxes = []
    for box in truth.get("boxes") or []:
        if rng.random() < accuracy:
            boxes.append(_jitter(rng, box, accuracy, size))
            continue
        mistake = rng.random()
        if mistake < 0.4:
            continue  # missed
        drawn = _jitter(rng, box, accuracy, size)
        if mistake < 0.7:
            others = [c for c in categories if c != box.get("label")]
            drawn["label"] = rng.choice(others) if others else drawn["label"]
        boxes.append(drawn)
    return {"imageSize": dict(size), "boxes": boxes}


def _audit_boxes(
    rng: random.Random, accuracy: float, truth: Mapping[str, Any], earlier: Mapping[str, Any]
) -> dict[str, Any]:
    """An adjustment: each earlier box is corrected to its best-matching key box (or removed, when no key box
    matches) with probability ``accuracy``, else kept; key boxes nobody drew are added with that probability."""
    key = list(truth.get("boxes") or [])
    matched: set[int] = set()
    result = []
    for box in earlier.get("boxes") or []:
        scores = [(box_iou(box, k), i) for i, k in enumerate(key) if i not in matched]
        best = max(scores, default=(0.0, -1))
        fix = rng.random() < accuracy
        if best[0] > 0:
            matched.add(best[1])
            result.append(dict(key[best[1]]) if fix else dict(box))
        elif not fix:
            result.append(dict(box))  # a false box left in
    for i, box in enumerate(key):
        if i not in matched and rng.random() < accuracy:
            result.append(dict(box))
    return {"imageSize": dict(truth.get("imageSize") or earlier.get("imageSize") or {}), "boxes": result}


def _entities(rng: random.Random, accuracy: float, truth: list[Any], categories: list[str]) -> list[dict[str, Any]]:
    entities = []
    for entity in truth:
        if rng.random() < accuracy:
            entities.append(dict(entity))
            continue
        mistake = rng.random()
        if mistake < 0.3:
            continue  # missed
        wrong = dict(entity)
        if mistake < 0.65:
            others = [c for c in categories if c != entity.get("label")]
            wrong["label"] = rng.choice(others) if others else wrong.get("label")
        else:
            shift = rng.choice((-3, -2, -1, 1, 2, 3))
            start = max(0, int(entity.get("startOffset", 0)) + shift)
            wrong["startOffset"] = start
            wrong["endOffset"] = max(start + 1, int(entity.get("endOffset", 0)) + rng.choice((-1, 0, 1, shift)))
        entities.append(wrong)
    return entities


# Loading ---------------------------------------------------------------------------------------------------------


def load_workforce(spec: Workforce | str | None = None) -> Workforce:
    """The workforce ``spec`` names, else ``$SAGESTEP_WORKFORCE``: a JSON file of teams, or
    ``package.module:ClassName`` (instantiated without arguments); else a default :class:`SimulatedWorkforce`.
    Raises ValueError for a spec that names neither."""
    if spec is not None and not isinstance(spec, str):
        return spec
    text = spec if spec is not None else os.environ.get(WORKFORCE_ENV, "")
    if not text:
        return SimulatedWorkforce()
    if Path(text).is_file():
        return SimulatedWorkforce.from_json(text)
    module_name, _, class_name = text.partition(":")
    if not module_name or not class_name or "/" in module_name:
        raise ValueError(f"{WORKFORCE_ENV} must be a JSON file of teams or package.module:ClassName, not {text!r}")
    workforce = getattr(importlib.import_module(module_name), class_name)()
    if not isinstance(workforce, Workforce):
        raise ValueError(f"{text} has no label(task) method")
    return workforce
