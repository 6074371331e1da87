"""Ground Truth's answer and output formats (``annotations``) and sagestep's own PRE/ACS Lambda logic
(``ground_truth_lambdas``): the contract's answer shapes parsed, AWS's documented output shapes written and read
back, one consolidation function for every modality (kind told by the answers), adversarial workers, ties,
invalid answers and audits. The ACS reads its payload from moto S3.

Given/When/Then.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from sagestep_service.workflows.labeling import annotations as ann
from sagestep_service.workflows.labeling import ground_truth_lambdas as gtl
from sagestep_service.workflows.labeling.annotations import Kind, OutputContext, Span
from sagestep_service.workflows.labeling.consolidation import Answer, MergedBox, majority_vote
from tests.unit.translation_helpers import DATA, moto_s3

NOW = datetime(2026, 12, 2, 10, 0, tzinfo=UTC)
JOB_ARN = "arn:aws:sagemaker:us-east-1:123456789012:labeling-job/b1-sentiment"
CLASSES = ["positive", "negative", "neutral"]


@pytest.fixture
def s3(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    yield from moto_s3(monkeypatch)


def classify(label: str, ui: str = "crowd-classifier") -> dict[str, Any]:
    return {ui: {"label": label}}


def boxes(*drawn: tuple[str, int, int, int, int], width: int = 640, height: int = 480) -> dict[str, Any]:
    return {
        "boundingBox": {
            "boundingBoxes": [{"label": b[0], "left": b[1], "top": b[2], "width": b[3], "height": b[4]} for b in drawn],
            "inputImageProperties": {"width": width, "height": height},
        }
    }


def entities(*spans: tuple[str, int, int]) -> dict[str, Any]:
    return {
        "crowd-entity-annotation": {
            "entities": [{"label": s[0], "startOffset": s[1], "endOffset": s[2]} for s in spans]
        }
    }


def event(payload_key: str, classes: list[str], attribute: str = "sentiment") -> dict[str, Any]:
    return {
        "version": "2018-10-16",
        "labelingJobArn": JOB_ARN,
        "labelCategories": classes,
        "labelAttributeName": attribute,
        "roleArn": "arn:aws:iam::123456789012:role/gt",
        "payload": {"s3Uri": f"s3://{DATA}/{payload_key}"},
        "outputConfig": f"s3://{DATA}/out/b1-sentiment/annotations/consolidated-annotation/consolidation-response",
    }


def put_payload(s3: Any, items: dict[str, list[tuple[str, dict[str, Any]]]], *, text: bool = True) -> str:
    """Given a consolidation request: per item, (worker, answerContent) pairs, the answers as JSON strings."""
    payload = [
        {
            "datasetObjectId": item,
            "dataObject": {"content": f"text {item}"} if text else {"s3Uri": f"s3://{DATA}/img/{item}.jpg"},
            "annotations": [
                {"workerId": worker, "annotationData": {"content": json.dumps(content)}} for worker, content in answers
            ],
        }
        for item, answers in items.items()
    ]
    key = "out/b1-sentiment/annotations/consolidated-annotation/consolidation-request/iteration-1/1.json"
    s3.put_object(Bucket=DATA, Key=key, Body=json.dumps(payload).encode())
    return key


def content_of(response: list[dict[str, Any]], item: str) -> dict[str, Any]:
    (entry,) = [r for r in response if r["datasetObjectId"] == item]
    return entry["consolidatedAnnotation"]["content"]


# --- answers in --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "kind"),
    [
        ({"crowd-image-classifier": {"label": "a"}}, Kind.CLASSIFICATION),
        ({"crowd-classifier": {"label": "a"}}, Kind.CLASSIFICATION),
        ({"crowd-image-classifier-multi-select": {"labels": ["a"]}}, Kind.MULTI_LABEL),
        ({"crowd-classifier-multi-select": {"labels": []}}, Kind.MULTI_LABEL),
        (boxes(("a", 1, 2, 3, 4)), Kind.BOUNDING_BOX),
        (entities(("a", 0, 5)), Kind.NAMED_ENTITY),
        ({"annotations": {"anything": [1, 2]}}, Kind.CUSTOM),
        ({"crowd-classifier": {"label": "a"}, "extra": 1}, Kind.CUSTOM),
    ],
)
def test_the_kind_of_an_answer_is_told_by_its_shape(content: dict[str, Any], kind: Kind) -> None:
    assert ann.kind_of_answer(content) is kind
    assert ann.parse_answer(json.dumps(content)).kind is kind


def test_answers_parse_into_consolidation_inputs() -> None:
    assert ann.parse_answer(classify("positive")).label == "positive"
    assert ann.parse_answer({"crowd-classifier-multi-select": {"labels": ["a", "b"]}}).labels == {"a", "b"}
    parsed = ann.parse_answer(boxes(("car", 10, 20, 30, 40)))
    assert [(b.label, b.left, b.top, b.width, b.height) for b in parsed.boxes] == [("car", 10, 20, 30, 40)]
    assert parsed.image == {"width": 640, "height": 480}
    assert ann.parse_answer(entities(("METHOD", 0, 10))).spans == {Span(0, 10, "METHOD")}
    assert ann.parse_answer({"annotations": {"x": 1}}).value == {"x": 1}


@pytest.mark.parametrize(
    "content",
    [
        "not json",
        "[1]",
        {"crowd-classifier": {"label": ""}},
        {"crowd-classifier": {"label": "dog"}},  # not a category
        {"crowd-classifier-multi-select": {"labels": "positive"}},
        boxes(("positive", 1, 2, -3, 4)),
        {"boundingBox": {"boundingBoxes": [{"label": "positive", "left": "1", "top": 0, "width": 1, "height": 1}]}},
        entities(("positive", 5, 5)),
        entities(("positive", True, 5)),
    ],
)
def test_malformed_answers_are_answer_errors(content: Any) -> None:
    with pytest.raises(ann.AnswerError):
        ann.parse_answer(content if isinstance(content, str) else json.dumps(content), CLASSES)


# --- output formats ----------------------------------------------------------------------------------------------


def ctx(type_: str = "groundtruth/text-classification", classes: list[str] = CLASSES, **kw: Any) -> OutputContext:
    return OutputContext("b1-sentiment", type_, classes, ann.creation_date(NOW), **kw)


def test_classification_output_is_the_class_index_with_class_name() -> None:
    label, meta = ann.classification_output("negative", 0.87, ctx())
    assert label == 1
    assert meta == {
        "class-name": "negative",
        "confidence": 0.87,
        "type": "groundtruth/text-classification",
        "job-name": "labeling-job/b1-sentiment",
        "human-annotated": "yes",
        "creation-date": "2026-12-02T10:00:00.000000",
    }


def test_multi_label_output_has_class_and_confidence_maps_by_index() -> None:
    label, meta = ann.multi_label_output(
        ["neutral", "positive"], {"positive": 0.9, "neutral": 0.6}, ctx("groundtruth/text-classification-multilabel")
    )
    assert label == [0, 2]
    assert meta["class-map"] == {"0": "positive", "2": "neutral"}
    assert meta["confidence-map"] == {"0": 0.9, "2": 0.6}
    assert meta["type"] == "groundtruth/text-classification-multilabel"


def test_box_output_follows_object_detection() -> None:
    merged = [MergedBox(label="bus", left=10.4, top=20.6, width=30, height=40, confidence=0.8, workers=["a"])]
    label, meta = ann.box_output(
        merged, {"width": 640, "height": 480}, ctx("groundtruth/object-detection", ["car", "bus"])
    )
    assert label == {
        "image_size": [{"width": 640, "height": 480, "depth": 3}],
        "annotations": [{"class_id": 1, "left": 10, "top": 21, "width": 30, "height": 40}],
    }
    assert meta["objects"] == [{"confidence": 0.8}]
    assert meta["class-map"] == {"1": "bus"}


def test_ner_output_follows_aws_text_span_output() -> None:
    label, meta = ann.ner_output(
        [(Span(7, 9, "B"), 1.0), (Span(0, 5, "A"), 0.5)], ctx("groundtruth/text-span", ["A", "B"])
    )
    assert label == {
        "annotations": {
            "entities": [
                {"label": "A", "startOffset": 0, "endOffset": 5},
                {"label": "B", "startOffset": 7, "endOffset": 9},
            ],
            "labels": [{"label": "A"}, {"label": "B"}],
        }
    }
    assert meta["entities"] == [{"confidence": 0.5}, {"confidence": 1.0}]
    assert meta["type"] == "groundtruth/text-span"


def test_failure_metadata_has_no_label_and_says_why() -> None:
    meta = ann.failure_metadata("no worker answered", ctx(adjustment_status="adjusted"))
    assert meta["failure-reason"] == "no worker answered"
    assert meta["human-annotated"] == "no"
    assert "adjustment-status" not in meta


# --- reading back ------------------------------------------------------------------------------------------------


def test_aws_documented_outputs_read_back() -> None:
    """The examples of AWS's "Labeling job output data" page."""
    sport = {
        "source-ref": "s3://bucket/image_example.png",
        "sport": 0,
        "sport-metadata": {
            "class-name": "football",
            "confidence": 0.00,
            "type": "groundtruth/image-classification",
            "job-name": "identify-sport",
            "human-annotated": "yes",
            "creation-date": "2018-10-18T22:18:13.527256",
        },
    }
    read = ann.read_label(sport, "sport")
    assert read is not None and (read.display, read.names, read.confidence) == ("football", ("football",), 0.0)
    multi = {
        "a": [1, 0, 8],
        "a-metadata": {
            "class-map": {"1": "bicycle", "0": "person", "8": "clothing"},
            "confidence-map": {"1": 0.95, "0": 0.77, "8": 0.2},
            "type": "x",
        },
    }
    read = ann.read_label(multi, "a")
    assert read is not None and read.names == ("bicycle", "person", "clothing") and read.confidence == 0.2
    box = {
        "bounding-box": {
            "image_size": [{"width": 500, "height": 400, "depth": 3}],
            "annotations": [
                {"class_id": 0, "left": 111, "top": 134, "width": 61, "height": 128},
                {"class_id": 5, "left": 161, "top": 250, "width": 30, "height": 30},
            ],
        },
        "bounding-box-metadata": {
            "objects": [{"confidence": 0.8}, {"confidence": 0.9}],
            "class-map": {"0": "dog", "5": "bone"},
            "type": "groundtruth/object-detection",
            "adjustment-status": "adjusted",
        },
    }
    read = ann.read_label(box, "bounding-box")
    assert read is not None and read.names == ("dog", "bone") and read.confidence == 0.8
    assert read.display == "2 boxes" and read.adjustment_status == "adjusted"
    assert ann.read_label(box, "other") is None


def test_every_written_label_reads_back_as_what_was_consolidated() -> None:
    written = {
        "c": ann.classification_output("neutral", 0.7, ctx()),
        "m": ann.multi_label_output(["positive"], {"positive": 0.9}, ctx()),
        "n": ann.ner_output([(Span(0, 4, "positive"), 0.75)], ctx("groundtruth/text-span")),
        "x": ann.custom_output({"k": [1]}, 0.5, ctx("groundtruth/custom")),
    }
    line = {"source": "t"} | {a: v[0] for a, v in written.items()} | {f"{a}-metadata": v[1] for a, v in written.items()}
    reads = {a: ann.read_label(line, a) for a in written}
    assert {a: (r.display, r.confidence) for a, r in reads.items() if r} == {
        "c": ("neutral", 0.7),
        "m": ("positive", 0.9),
        "n": ("1 entities", 0.75),
        "x": ('{"k":[1]}', 0.5),
    }
    custom = reads["x"]
    assert custom is not None and custom.parsed is not None
    assert ann.agrees(ann.parse_answer({"annotations": {"k": [1]}}), custom.parsed)


def test_a_failed_item_reads_as_failed_and_below_any_threshold() -> None:
    line = {"source": "t", "s-metadata": ann.failure_metadata("nobody", ctx())}
    read = ann.read_label(line, "s")
    assert read is not None and read.failed and read.failure_reason == "nobody" and read.below(0.01)


# --- pre-annotation ----------------------------------------------------------------------------------------------


def test_pre_annotation_gives_the_text_or_the_file() -> None:
    assert gtl.pre_annotation({"dataObject": {"source": "hello"}}) == {
        "taskInput": {"taskObject": "hello"},
        "isHumanAnnotationRequired": "true",
    }
    answer = gtl.pre_annotation({"dataObject": {"source-ref": "s3://b/k.jpg", "sagestep-answer": "cat"}})
    assert answer["taskInput"] == {"taskObject": "s3://b/k.jpg"}


def test_pre_annotation_of_an_audit_carries_the_earlier_labels_but_never_the_answer_key() -> None:
    label, meta = ann.classification_output("positive", 0.9, ctx())
    line = {"source": "hello", "sentiment": label, "sentiment-metadata": meta, "sagestep-answer": "positive"}
    task = gtl.pre_annotation({"dataObject": line})["taskInput"]
    assert task["labelAttributeName"] == "sentiment"
    assert task["labels"]["sentiment"]["label"] == 0
    assert "sagestep-answer" not in task["manifestLine"] and task["manifestLine"]["sentiment"] == 0


def test_pre_annotation_without_a_source_fails() -> None:
    with pytest.raises(ValueError, match="neither source"):
        gtl.pre_annotation({"dataObject": {"x": 1}})


# --- consolidation -----------------------------------------------------------------------------------------------


def test_dawid_skene_learns_to_discount_workers_who_always_answer_the_same(s3: Any) -> None:
    """Given three good workers (each wrong on every fifth item, answering "negative" then) and two spammers who
    always answer "negative": the majority vote follows the spammers whenever a good worker errs; Dawid-Skene
    learns that the spammers' answers tell nothing and gets more items right, and ranks the workers."""
    truth = [CLASSES[n % 3] for n in range(30)]
    items: dict[str, list[tuple[str, dict[str, Any]]]] = {}
    for n, t in enumerate(truth):
        good = [
            (f"g{k}", classify(("negative" if t != "negative" else "positive") if n % 5 == k else t)) for k in range(3)
        ]
        items[str(n)] = [*good, ("s1", classify("negative")), ("s2", classify("negative"))]
    response = gtl.consolidate(event(put_payload(s3, items), CLASSES), s3, now=NOW)
    names = [content_of(response, str(n))["sentiment-metadata"]["class-name"] for n in range(len(truth))]
    answers = [gtl.WorkerAnswer(i, w, c) for i, given in items.items() for w, c in given]
    votes = majority_vote(
        [Answer(item=a.item, worker=a.worker, label=next(iter(a.content.values()))["label"]) for a in answers], CLASSES
    )  # type: ignore[union-attr]
    right = sum(a == b for a, b in zip(names, truth, strict=True))
    assert right > sum(votes.items[str(n)].label == t for n, t in enumerate(truth))
    assert right >= 24
    fourth = content_of(response, "3")  # every good worker right: "positive", class 0
    assert fourth["sentiment"] == 0 and fourth["sentiment-metadata"]["type"] == "groundtruth/text-classification"
    estimates = gtl.worker_estimates(answers, CLASSES)
    assert min(estimates[f"g{k}"].accuracy for k in range(3)) > max(estimates["s1"].accuracy, estimates["s2"].accuracy)
    assert estimates["s1"].method == "dawid-skene" and estimates["s1"].items == 30


def test_a_tie_goes_to_the_class_listed_first(s3: Any) -> None:
    items = {"0": [("a", classify("neutral")), ("b", classify("positive"))]}
    response = gtl.consolidate(event(put_payload(s3, items), CLASSES), s3, now=NOW)
    assert content_of(response, "0")["sentiment-metadata"]["class-name"] == "positive"


def test_items_without_a_valid_answer_fail_and_others_are_kept(s3: Any) -> None:
    items = {
        "0": [("a", classify("positive")), ("b", classify("dog"))],  # one invalid, one valid
        "1": [("a", classify("dog"))],
        "2": [],
    }
    response = gtl.consolidate(event(put_payload(s3, items), CLASSES), s3, now=NOW)
    assert content_of(response, "0")["sentiment-metadata"]["class-name"] == "positive"
    failed = content_of(response, "1")
    assert "sentiment" not in failed
    assert "not one of the label categories" in failed["sentiment-metadata"]["failure-reason"]
    assert (
        content_of(response, "2")["sentiment-metadata"]["failure-reason"] == "no valid answer"
        or "no worker" in (content_of(response, "2")["sentiment-metadata"]["failure-reason"])
    )
    assert [r["datasetObjectId"] for r in response] == ["0", "1", "2"]


def test_image_answers_give_image_types_and_video_clips_their_own(s3: Any) -> None:
    items = {"0": [("a", classify("positive", "crowd-image-classifier"))]}
    response = gtl.consolidate(event(put_payload(s3, items, text=False), CLASSES), s3, now=NOW)
    assert content_of(response, "0")["sentiment-metadata"]["type"] == "groundtruth/image-classification"
    items = {"0": [("a", classify("positive"))]}
    response = gtl.consolidate(event(put_payload(s3, items, text=False), CLASSES), s3, now=NOW)
    assert content_of(response, "0")["sentiment-metadata"]["type"] == "groundtruth/video-classification"


def test_multi_label_answers_are_consolidated_per_class(s3: Any) -> None:
    pick = lambda *labels: {"crowd-classifier-multi-select": {"labels": list(labels)}}  # noqa: E731
    items = {
        "0": [("a", pick("positive", "neutral")), ("b", pick("positive")), ("c", pick("positive", "neutral"))],
        "1": [("a", pick()), ("b", pick("negative")), ("c", pick())],
    }
    response = gtl.consolidate(event(put_payload(s3, items), CLASSES, "tags"), s3, now=NOW)
    first = content_of(response, "0")
    assert first["tags"] == [0, 2]
    assert first["tags-metadata"]["class-map"] == {"0": "positive", "2": "neutral"}
    assert first["tags-metadata"]["type"] == "groundtruth/text-classification-multilabel"
    assert content_of(response, "1")["tags"] == []


def test_boxes_are_merged_and_a_lone_box_is_dropped(s3: Any) -> None:
    items = {
        "0": [
            ("a", boxes(("car", 10, 10, 100, 50), ("car", 400, 300, 20, 20))),
            ("b", boxes(("car", 12, 10, 100, 50))),
            ("c", boxes(("car", 8, 12, 100, 50))),
        ]
    }
    response = gtl.consolidate(event(put_payload(s3, items, text=False), ["car", "bus"], "objects"), s3, now=NOW)
    first = content_of(response, "0")
    assert first["objects"] == {
        "image_size": [{"width": 640, "height": 480, "depth": 3}],
        "annotations": [{"class_id": 0, "left": 10, "top": 11, "width": 100, "height": 50}],
    }
    assert first["objects-metadata"]["class-map"] == {"0": "car"}
    assert 0.9 < first["objects-metadata"]["objects"][0]["confidence"] <= 1.0
    assert first["objects-metadata"]["type"] == "groundtruth/object-detection"
    run = gtl.run_consolidation([gtl.WorkerAnswer("0", w, c) for w, c in items["0"]], ["car", "bus"])
    assert run.workers["b"].accuracy == 1.0 and run.workers["a"].accuracy == pytest.approx(2 / 3)


def test_an_audit_says_whether_its_workers_adjusted_the_earlier_boxes(s3: Any) -> None:
    items = {"0": [("expert", boxes(("car", 10, 10, 100, 50)))], "1": [("expert", boxes(("car", 50, 50, 10, 10)))]}
    earlier = {
        "image_size": [{"width": 640, "height": 480, "depth": 3}],
        "annotations": [{"class_id": 0, "left": 10, "top": 10, "width": 100, "height": 50}],
    }
    response = gtl.consolidate(
        event(put_payload(s3, items, text=False), ["car"], "audit"),
        s3,
        modality="BoundingBoxAudit",
        earlier={"0": earlier, "1": earlier},
        now=NOW,
    )
    assert content_of(response, "0")["audit-metadata"]["adjustment-status"] == "unadjusted"
    assert content_of(response, "1")["audit-metadata"]["adjustment-status"] == "adjusted"


def test_named_entity_spans_are_kept_by_majority(s3: Any) -> None:
    items = {
        "0": [
            ("a", entities(("METHOD", 0, 10), ("DATA", 20, 25))),
            ("b", entities(("METHOD", 0, 10))),
            ("c", entities(("METHOD", 0, 10), ("DATA", 30, 35))),
        ]
    }
    response = gtl.consolidate(event(put_payload(s3, items), ["METHOD", "DATA"], "ner"), s3, now=NOW)
    first = content_of(response, "0")
    assert first["ner"]["annotations"]["entities"] == [{"label": "METHOD", "startOffset": 0, "endOffset": 10}]
    assert first["ner"]["annotations"]["labels"] == [{"label": "METHOD"}, {"label": "DATA"}]
    assert first["ner-metadata"]["entities"] == [{"confidence": 1.0}]
    assert first["ner-metadata"]["type"] == "groundtruth/text-span"


def test_custom_answers_take_the_most_given_answer_ties_to_the_smallest_json(s3: Any) -> None:
    items = {
        "0": [
            ("a", {"annotations": {"b": 1, "a": 2}}),
            ("b", {"annotations": {"a": 2, "b": 1}}),
            ("c", {"annotations": 3}),
        ],
        "1": [("a", {"annotations": "z"}), ("b", {"annotations": "y"})],
    }
    response = gtl.consolidate(event(put_payload(s3, items), [], "custom"), s3, now=NOW)
    first = content_of(response, "0")
    assert first["custom"] == {"b": 1, "a": 2}
    assert first["custom-metadata"]["confidence"] == pytest.approx(2 / 3, abs=1e-6)
    assert first["custom-metadata"]["type"] == "groundtruth/custom"
    assert content_of(response, "1")["custom"] == "y"


def test_mixed_shapes_count_the_minority_as_invalid() -> None:
    answers = [
        gtl.WorkerAnswer("0", "a", classify("positive")),
        gtl.WorkerAnswer("0", "b", classify("positive")),
        gtl.WorkerAnswer("0", "c", entities(("positive", 0, 3))),
    ]
    run = gtl.run_consolidation(answers, CLASSES)
    assert run.kind is Kind.CLASSIFICATION
    assert run.items["0"].answers == 2 and run.items["0"].invalid == 1


def test_the_job_name_comes_from_the_arn() -> None:
    assert gtl.labeling_job_name(JOB_ARN) == "b1-sentiment"
    with pytest.raises(ValueError):
        gtl.labeling_job_name("arn:aws:sagemaker:us-east-1:1:training-job/x")
