"""The Comprehend batch-item fault: armed, listed, consumed and cleared through :class:`Faults`, and armed by its
``sagestep local fault`` name (runtime faked); the emulation's patches are undone when it stops."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any, cast

import pytest

from sagestep.local.comprehend_faults import DEFAULT_ITEM_FAILURE, INTERNAL_ERROR_CODE
from sagestep.local.faults import ALL_FAULT_KINDS, ArmedFault, Faults
from sagestep.local.patching import Patcher
from sagestep.local.services.base import ServiceContext
from sagestep.local.services.comprehend import ACTIONS, ComprehendEmulator
from tests.unit.test_cli import FakeClient, run


def test_a_batch_item_fault_is_listed_then_taken_by_the_first_matching_batch_call() -> None:
    faults = Faults()
    faults.comprehend.fail_batch_item(3, "BatchDetectEntities", count=2)
    faults.apply({"fault": "fail_comprehend_batch_item", "index": 0, "message": "boom"})

    assert "fail_comprehend_batch_item" in ALL_FAULT_KINDS
    assert faults.armed() == [
        ArmedFault(
            "fail_comprehend_batch_item",
            2,
            operation="BatchDetectEntities",
            reason="item 3",
            message=DEFAULT_ITEM_FAILURE,
            code=INTERNAL_ERROR_CODE,
        ),
        ArmedFault("fail_comprehend_batch_item", 1, reason="item 0", message="boom", code=INTERNAL_ERROR_CODE),
    ]
    # A sentiment batch skips the entity faults and takes the one for any batch call
    taken = faults.comprehend.take_batch_item_failure("BatchDetectSentiment")
    assert taken is not None and (taken.index, taken.message) == (0, "boom")
    assert faults.comprehend.take_batch_item_failure("BatchDetectSentiment") is None
    taken = faults.comprehend.take_batch_item_failure("batch_detect_entities")  # any spelling of the action
    assert taken is not None and taken.index == 3
    assert [fault.remaining for fault in faults.armed()] == [1]


def test_batch_item_faults_are_cleared_by_kind_and_with_everything() -> None:
    faults = Faults()
    faults.comprehend.fail_batch_item(1)
    faults.throttle("DetectSentiment")
    cleared = faults.clear("fail_comprehend_batch_item")
    assert [fault.fault for fault in cleared] == ["fail_comprehend_batch_item"]
    assert [fault.fault for fault in faults.armed()] == ["throttle"]
    faults.comprehend.fail_batch_item(1)
    faults.clear()
    assert faults.armed() == []


@pytest.mark.parametrize("spec", [{"index": -1}, {"count": 0}])
def test_a_batch_item_fault_needs_an_index_and_a_count_that_make_sense(spec: dict[str, int]) -> None:
    with pytest.raises(ValueError):
        Faults().apply({"fault": "fail_comprehend_batch_item", **spec})


@pytest.mark.parametrize(
    ("args", "spec"),
    [
        (["fail-comprehend-item"], {"fault": "fail_comprehend_batch_item", "index": 0, "count": 1}),
        (
            ["fail-comprehend-item", "--index", "4", "--operation", "BatchDetectEntities", "--count", "2"],
            {"fault": "fail_comprehend_batch_item", "index": 4, "operation": "BatchDetectEntities", "count": 2},
        ),
    ],
)
def test_the_batch_item_fault_is_armed_by_its_cli_name(args: list[str], spec: dict[str, Any]) -> None:
    client = FakeClient()
    result = run(["local", "fault", *args], client)
    assert result.exit_code == 0, result.output
    assert client.calls == [("local_faults", spec)]


def test_the_emulation_s_patches_of_moto_are_undone_when_it_stops(tmp_path: Path) -> None:
    from moto.comprehend.responses import ComprehendResponse

    before = {name: vars(ComprehendResponse).get(name) for name in ("call_action", "detect_sentiment")}
    context = ServiceContext(
        clients=lambda name: None,
        faults=Faults(),
        activity=cast(Any, SimpleNamespace()),
        events=cast(Any, SimpleNamespace()),
        work_dir=tmp_path,
        account_id="123456789012",
        region="us-east-1",
    )
    patcher = Patcher()
    ComprehendEmulator().install(patcher, context)
    assert "batch_detect_sentiment" in vars(ComprehendResponse)
    assert len(ACTIONS) == 8

    patcher.restore()
    assert {name: vars(ComprehendResponse).get(name) for name in before} == before
    assert "batch_detect_sentiment" not in vars(ComprehendResponse)
