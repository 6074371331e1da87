"""Consolidating several workers' labels (``workflows/labeling/consolidation.py``): Dawid-Skene against the
majority vote on known, adversarial, tied, single-worker and simulated answers; multi-label; bounding boxes.

Given/When/Then. Simulated workers come from a seeded ``random.Random`` (``_simulate``), so every run is the same.
"""

from __future__ import annotations

import json
import random

import pytest

from sagestep_service.workflows.labeling.consolidation import (
    Answer,
    Box,
    BoxAnswer,
    Consolidated,
    MultiAnswer,
    dawid_skene,
    iou,
    majority_vote,
    merge_boxes,
    multi_label,
)

CLASSES = ["cat", "dog", "bird"]


def _answers(rows: dict[str, dict[str, str]]) -> list[Answer]:
    """``{item: {worker: label}}`` as answers."""
    return [Answer(item=i, worker=w, label=label) for i, by in rows.items() for w, label in by.items()]


def _simulate(
    rng: random.Random, items: int, classes: list[str], accuracies: dict[str, float]
) -> tuple[dict[str, str], list[Answer]]:
    """Each item's truth uniform over the classes; each worker answers every item, right with its accuracy, else a
    uniformly chosen wrong class."""
    truth = {f"item-{n:04d}": rng.choice(classes) for n in range(items)}
    answers = []
    for item, true in truth.items():
        for worker, accuracy in accuracies.items():
            label = true if rng.random() < accuracy else rng.choice([c for c in classes if c != true])
            answers.append(Answer(item=item, worker=worker, label=label))
    return truth, answers


def _correct(result: Consolidated, truth: dict[str, str]) -> float:
    return sum(result.items[item].label == true for item, true in truth.items()) / len(truth)


def test_three_agreeing_workers_give_their_label_with_confidence_near_one() -> None:
    # Given three workers who agree on every item
    answers = _answers({f"i{n}": {w: CLASSES[n % 3] for w in ("a", "b", "c")} for n in range(6)})
    # When consolidated both ways
    ds, mv = dawid_skene(answers, CLASSES), majority_vote(answers, CLASSES)
    # Then the label is theirs, Dawid-Skene is nearly certain and the vote unanimous
    for n in range(6):
        assert ds.items[f"i{n}"].label == mv.items[f"i{n}"].label == CLASSES[n % 3]
        assert ds.items[f"i{n}"].confidence > 0.99
        assert mv.items[f"i{n}"].confidence == 1.0
        assert sum(ds.items[f"i{n}"].posterior.values()) == pytest.approx(1.0)
    assert all(w.accuracy > 0.95 and w.items == 6 for w in ds.workers.values())
    assert ds.converged and ds.method == "dawid_skene"


def test_dawid_skene_recovers_the_truth_where_two_constant_spammers_and_a_random_one_beat_majority_vote() -> None:
    # Given two good workers, two who always answer "cat" and one who answers at random
    rng = random.Random(7)
    truth = {f"i{n:03d}": rng.choice(CLASSES) for n in range(60)}
    rows = {
        item: {"good1": true, "good2": true, "spam1": "cat", "spam2": "cat", "random": rng.choice(CLASSES)}
        for item, true in truth.items()
    }
    # When consolidated both ways
    ds, mv = dawid_skene(_answers(rows), CLASSES), majority_vote(_answers(rows), CLASSES)
    # Then the majority vote is often wrong, Dawid-Skene always right
    assert _correct(mv, truth) < 0.7
    assert _correct(ds, truth) == 1.0
    # and it trusts the good workers, not the spammers
    accuracy = {w: r.accuracy for w, r in ds.workers.items()}
    assert accuracy["good1"] > 0.95 and accuracy["good2"] > 0.95
    assert max(accuracy["spam1"], accuracy["spam2"], accuracy["random"]) < 0.5


def test_a_tie_goes_to_the_class_listed_first() -> None:
    # Given one item with one vote for dog and one for cat
    answers = _answers({"i": {"a": "dog", "b": "cat"}})
    # When consolidated
    mv, ds = majority_vote(answers, CLASSES), dawid_skene(answers, CLASSES)
    # Then cat (listed first) wins, at half the votes; Dawid-Skene stays undecided between the two
    assert mv.items["i"].label == "cat" and mv.items["i"].confidence == 0.5
    assert ds.items["i"].label in {"cat", "dog"}
    assert ds.items["i"].posterior["bird"] < ds.items["i"].confidence
    # and the reverse class order gives dog
    assert majority_vote(answers, ["dog", "cat", "bird"]).items["i"].label == "dog"


def test_a_single_worker_and_a_class_nobody_chose_are_handled() -> None:
    # Given one worker answering a few items, never "bird"
    answers = _answers({"i1": {"solo": "cat"}, "i2": {"solo": "dog"}, "i3": {"solo": "cat"}})
    # When consolidated
    ds = dawid_skene(answers, CLASSES)
    # Then its answers stand: with no item answered twice nothing tells workers apart, and the EM (which would pull
    # answers towards the class priors) gives way to the answers themselves
    assert {i: r.label for i, r in ds.items.items()} == {"i1": "cat", "i2": "dog", "i3": "cat"}
    assert ds.method == "majority_vote"
    assert all(r.confidence > 0.5 for r in ds.items.values())
    assert ds.workers["solo"].items == 3 and 0 < ds.workers["solo"].accuracy <= 1
    # and one answer in all is fine too
    one = dawid_skene([Answer(item="x", worker="w", label="bird")], CLASSES)
    assert one.items["x"].label == "bird" and one.items["x"].answers == 1


def test_shuffled_input_gives_the_same_result() -> None:
    # Given simulated answers, and the same answers shuffled
    _, answers = _simulate(random.Random(3), 40, CLASSES, {"a": 0.8, "b": 0.6, "c": 0.5})
    shuffled = list(answers)
    random.Random(99).shuffle(shuffled)
    # When consolidated
    # Then the results are identical, down to the JSON
    assert dawid_skene(answers, CLASSES).model_dump_json() == dawid_skene(shuffled, CLASSES).model_dump_json()
    assert majority_vote(answers, CLASSES) == majority_vote(shuffled, CLASSES)
    assert json.loads(dawid_skene(answers, CLASSES).model_dump_json())["items"]["item-0000"]["label"] in CLASSES


def test_on_simulated_workers_of_mixed_quality_dawid_skene_is_at_least_as_accurate() -> None:
    # Given 300 items of 4 classes answered by workers of accuracies 0.9, 0.7, 0.55 and 0.4
    classes = ["a", "b", "c", "d"]
    accuracies = {"w90": 0.9, "w70": 0.7, "w55": 0.55, "w40": 0.4}
    truth, answers = _simulate(random.Random(2026), 300, classes, accuracies)
    # When consolidated both ways
    ds, mv = dawid_skene(answers, classes), majority_vote(answers, classes)
    # Then Dawid-Skene matches the truth at least as often, and ranks the workers right
    print(f"\nagainst the truth: dawid-skene {_correct(ds, truth):.3f}, majority vote {_correct(mv, truth):.3f}")
    print({w: round(r.accuracy, 3) for w, r in ds.workers.items()})
    assert _correct(ds, truth) >= _correct(mv, truth)
    estimated = [ds.workers[w].accuracy for w in accuracies]
    assert estimated == sorted(estimated, reverse=True)
    for worker, accuracy in accuracies.items():
        assert ds.workers[worker].accuracy == pytest.approx(accuracy, abs=0.1)


def test_invalid_answers_are_refused() -> None:
    with pytest.raises(ValueError, match="not one of the classes"):
        dawid_skene([Answer(item="i", worker="w", label="fish")], CLASSES)
    with pytest.raises(ValueError, match="more than once"):
        majority_vote(_answers({"i": {"w": "cat"}}) * 2, CLASSES)
    with pytest.raises(ValueError, match="distinct"):
        dawid_skene([], ["cat", "cat"])
    # and no answers at all give empty results
    assert dawid_skene([], CLASSES).items == {} and multi_label([], CLASSES).items == {}
    assert merge_boxes([]) == {}


def test_multi_label_keeps_the_labels_most_workers_saw() -> None:
    # Given three workers tagging two photos; one worker also tags "bird" on the first
    answers = [
        MultiAnswer(item="p1", worker="a", labels={"cat", "dog"}),
        MultiAnswer(item="p1", worker="b", labels={"cat", "dog", "bird"}),
        MultiAnswer(item="p1", worker="c", labels={"cat", "dog"}),
        MultiAnswer(item="p2", worker="a", labels=set()),
        MultiAnswer(item="p2", worker="b", labels={"bird"}),
        MultiAnswer(item="p2", worker="c", labels={"bird"}),
    ]
    # When consolidated
    result = multi_label(answers, CLASSES)
    # Then each photo gets the labels of the majority, in class order, each with its confidence
    assert result.items["p1"].labels == ["cat", "dog"]
    assert result.items["p2"].labels == ["bird"]
    assert set(result.items["p1"].confidence) == {"cat", "dog"}
    assert all(0.5 < c <= 1 for c in result.items["p1"].confidence.values())
    assert result.items["p1"].presence["bird"] < 0.5
    assert result.workers["a"].items == 2 and set(result.workers["a"].per_class) == set(CLASSES)
    json.loads(result.model_dump_json())


def _box(left: float, top: float, width: float = 100, height: float = 50, label: str = "car") -> Box:
    return Box(label=label, left=left, top=top, width=width, height=height)


def test_iou_of_known_boxes() -> None:
    assert iou(_box(0, 0, 10, 10), _box(0, 0, 10, 10)) == 1.0
    assert iou(_box(0, 0, 10, 10), _box(5, 0, 10, 10)) == pytest.approx(50 / 150)
    assert iou(_box(0, 0, 10, 10), _box(20, 20, 10, 10)) == 0.0
    assert iou(_box(0, 0, 0, 0), _box(0, 0, 0, 0)) == 0.0


def test_overlapping_boxes_of_three_workers_are_merged_and_an_outlier_is_dropped() -> None:
    # Given three workers drawing the same car, slightly apart, and one of them a stray box elsewhere
    answers = [
        BoxAnswer(item="img", worker="a", boxes=[_box(100, 100), _box(600, 400)]),
        BoxAnswer(item="img", worker="b", boxes=[_box(104, 102)]),
        BoxAnswer(item="img", worker="c", boxes=[_box(96, 98)]),
    ]
    # When merged
    merged = merge_boxes(answers)["img"]
    # Then one box remains, the average of the three, drawn by all, with a high confidence
    assert len(merged) == 1
    box = merged[0]
    assert (box.left, box.top, box.width, box.height) == (pytest.approx(100), pytest.approx(100), 100, 50)
    assert box.workers == ["a", "b", "c"]
    assert 0.85 < box.confidence < 1
    # and weighted, the merged box moves toward the most trusted worker's: (3*104 + 100 + 96) / 5
    weighted = merge_boxes(answers, worker_weights={"a": 1.0, "b": 3.0, "c": 1.0})["img"][0]
    assert weighted.left == pytest.approx(101.6)


def test_labels_are_kept_apart_and_weights_decide_what_is_kept() -> None:
    # Given a car and a person drawn on the same spot by two workers, and a third who drew nothing
    answers = [
        BoxAnswer(item="img", worker="a", boxes=[_box(0, 0), _box(0, 0, label="person")]),
        BoxAnswer(item="img", worker="b", boxes=[_box(0, 0)]),
        BoxAnswer(item="img", worker="c", boxes=[]),
    ]
    # When merged with equal weights
    merged = merge_boxes(answers)["img"]
    # Then the car (2 of 3 workers) stays apart from the person (1 of 3, dropped)
    assert [(m.label, m.workers) for m in merged] == [("car", ["a", "b"])]
    assert merged[0].confidence == pytest.approx(2 / 3)
    # and when worker a is trusted far more, its person box is kept (weight 0.9 of 1.5)
    weights = {"a": 0.9, "b": 0.3, "c": 0.3}
    heavy = merge_boxes(answers, worker_weights=weights)["img"]
    assert [m.label for m in heavy] == ["car", "person"]
    assert heavy[1].confidence == pytest.approx(0.6)
    # and a worker never contributes two boxes to one cluster
    twice = merge_boxes([BoxAnswer(item="i", worker="a", boxes=[_box(0, 0), _box(2, 0)])])["i"]
    assert len(twice) == 2 and all(m.workers == ["a"] for m in twice)
    with pytest.raises(ValueError, match="positive weight"):
        merge_boxes(answers, worker_weights={"a": 1.0})


def test_one_answer_per_item_from_several_workers_is_never_overturned() -> None:
    # Given an expert review: each item answered by one of two experts, classes spread unevenly
    answers = [Answer(item=str(i), worker=f"e{i % 2}", label=CLASSES[(i * 7) % 3]) for i in range(30)]
    # Then every item keeps its one answer (the EM without overlap would move some towards the priors)
    ds = dawid_skene(answers, CLASSES)
    assert all(ds.items[a.item].label == a.label for a in answers)
