"""StartExecution with one name is atomic, as on AWS: concurrent duplicates share one execution.

moto checks for a running execution of the same name and then appends the new one without a lock; the
check is slowed down here so that, unpatched, concurrent starts would certainly interleave.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws
from moto.stepfunctions.models import StateMachine

from sagestep.local.patching import Patcher
from sagestep.local.stepfunctions import atomic_execution_starts

DEFINITION = json.dumps({"StartAt": "Wait", "States": {"Wait": {"Type": "Wait", "Seconds": 30, "End": True}}})
ROLE = "arn:aws:iam::123456789012:role/sfn"


@pytest.fixture
def slow_check(monkeypatch: pytest.MonkeyPatch) -> None:
    original = StateMachine._handle_name_input_idempotency

    def slowly(self: Any, name: str, execution_input: str) -> Any:
        found = original(self, name, execution_input)
        time.sleep(0.05)
        return found

    monkeypatch.setattr(StateMachine, "_handle_name_input_idempotency", slowly)


@pytest.fixture
def sfn(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    with mock_aws():
        yield boto3.client("stepfunctions", region_name="us-east-1")


def start_concurrently(sfn: Any, name: str, clients: int = 6) -> tuple[str, set[str]]:
    arn = sfn.create_state_machine(name=f"sm-{name}", definition=DEFINITION, roleArn=ROLE)["stateMachineArn"]
    barrier = threading.Barrier(clients)
    returned: set[str] = set()

    def start() -> None:
        barrier.wait()
        returned.add(sfn.start_execution(stateMachineArn=arn, name=name, input="{}")["executionArn"])

    threads = [threading.Thread(target=start) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return arn, returned


@pytest.mark.usefixtures("slow_check")
def test_concurrent_starts_with_one_name_make_one_execution(sfn: Any) -> None:
    patcher = Patcher()
    atomic_execution_starts(patcher)
    try:
        arn, returned = start_concurrently(sfn, "once")
    finally:
        patcher.restore()
    assert len(sfn.list_executions(stateMachineArn=arn)["executions"]) == 1
    assert len(returned) == 1


@pytest.mark.usefixtures("slow_check")
def test_stock_moto_would_start_duplicates(sfn: Any) -> None:
    # If this starts failing, moto made the check atomic itself and atomic_execution_starts can go.
    arn, _ = start_concurrently(sfn, "twice")
    assert len(sfn.list_executions(stateMachineArn=arn)["executions"]) > 1


def test_the_patch_is_undone() -> None:
    from moto.stepfunctions.models import StepFunctionBackend
    from moto.stepfunctions.parser.models import StepFunctionsParserBackend

    before = (vars(StepFunctionBackend)["start_execution"], vars(StepFunctionsParserBackend)["start_execution"])
    patcher = Patcher()
    atomic_execution_starts(patcher)
    patcher.restore()
    assert (vars(StepFunctionBackend)["start_execution"], vars(StepFunctionsParserBackend)["start_execution"]) == before
