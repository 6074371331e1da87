"""What AWS does atomically stays atomic under concurrent callers of the emulation.

Each test first widens the window between moto's check and its write (a sleep after the check), so that,
unpatched, concurrent callers would certainly interleave; the stock-moto tests show that they do.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from sagestep.local import atomicity
from sagestep.local.patching import Patcher

DEFINITION = json.dumps({"StartAt": "Wait", "States": {"Wait": {"Type": "Wait", "Seconds": 30, "End": True}}})
ROLE = "arn:aws:iam::123456789012:role/sfn"
CALLERS = 6


@pytest.fixture
def slow_checks(monkeypatch: pytest.MonkeyPatch) -> None:
    """Sleep after moto's execution-name check and after its DynamoDB condition evaluation."""
    import moto.dynamodb.models as backend_module
    from moto.dynamodb.models import table as table_module
    from moto.stepfunctions.models import StateMachine

    original_check = StateMachine._handle_name_input_idempotency

    def slow_name_check(self: Any, name: str, execution_input: str) -> Any:
        found = original_check(self, name, execution_input)
        time.sleep(0.05)
        return found

    original_filter = table_module.get_filter_expression

    class SlowCondition:
        def __init__(self, condition: Any) -> None:
            self._condition = condition

        def expr(self, item: Any) -> bool:
            passed = bool(self._condition.expr(item))
            time.sleep(0.05)
            return passed

    class SlowParser:
        def __init__(self, parser: Any) -> None:
            self._parser = parser

        def parse(self) -> SlowCondition:
            return SlowCondition(self._parser.parse())

    original_parser = backend_module.create_condition_expression_parser

    monkeypatch.setattr(StateMachine, "_handle_name_input_idempotency", slow_name_check)
    # PutItem evaluates its condition in Table.put_item, UpdateItem and DeleteItem in the backend.
    monkeypatch.setattr(table_module, "get_filter_expression", lambda *a, **k: SlowCondition(original_filter(*a, **k)))
    monkeypatch.setattr(
        backend_module, "get_filter_expression", lambda *a, **k: SlowCondition(original_filter(*a, **k))
    )
    monkeypatch.setattr(
        backend_module, "create_condition_expression_parser", lambda *a, **k: SlowParser(original_parser(*a, **k))
    )


@pytest.fixture
def atomic() -> Iterator[None]:
    patcher = Patcher()
    atomicity.install(patcher)
    yield
    patcher.restore()


@pytest.fixture(params=[False, True], ids=["moto-sfn", "moto-sfn-executing"])
def region(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """In-process moto, with Step Functions' execution engine off (the unit tests) and on (the runtime)."""
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    with mock_aws(config={"stepfunctions": {"execute_state_machine": request.param}}):
        yield


def concurrently(call: Callable[[], Any]) -> list[Any]:
    """Run ``call`` from CALLERS threads released together; the results (or exceptions) in any order."""
    barrier = threading.Barrier(CALLERS)
    results: list[Any] = []

    def run() -> None:
        barrier.wait()
        try:
            results.append(call())
        except Exception as exc:
            results.append(exc)

    threads = [threading.Thread(target=run) for _ in range(CALLERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def start_executions() -> int:
    sfn = boto3.client("stepfunctions", region_name="us-east-1")
    arn = sfn.create_state_machine(name="sm", definition=DEFINITION, roleArn=ROLE)["stateMachineArn"]
    results = concurrently(lambda: sfn.start_execution(stateMachineArn=arn, name="job-1", input="{}"))
    assert not [r for r in results if isinstance(r, Exception)]
    assert len({r["executionArn"] for r in results}) == 1
    return len(sfn.list_executions(stateMachineArn=arn)["executions"])


def jobs_table() -> Any:
    ddb = boto3.client("dynamodb", region_name="us-east-1")
    if "jobs" not in ddb.list_tables()["TableNames"]:
        ddb.create_table(
            TableName="jobs",
            KeySchema=[{"AttributeName": "jobId", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "jobId", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
    return ddb


def conditional_puts() -> int:
    ddb = jobs_table()
    writer = iter(range(CALLERS))
    lock = threading.Lock()

    def put() -> str:
        with lock:
            me = str(next(writer))
        ddb.put_item(
            TableName="jobs",
            Item={"jobId": {"S": "job-1"}, "writer": {"S": me}},
            ConditionExpression="attribute_not_exists(jobId)",
        )
        return me

    results = concurrently(put)
    failures = [r for r in results if isinstance(r, ClientError)]
    assert all(f.response["Error"]["Code"] == "ConditionalCheckFailedException" for f in failures)
    winners = [r for r in results if isinstance(r, str)]
    stored = ddb.get_item(TableName="jobs", Key={"jobId": {"S": "job-1"}})["Item"]["writer"]["S"]
    assert stored in winners
    return len(winners)


@pytest.mark.usefixtures("slow_checks", "atomic", "region")
def test_concurrent_starts_with_one_name_make_one_execution() -> None:
    assert start_executions() == 1


def conditional_updates() -> int:
    """Concurrent claims of one READY job (as eviction claims it before deleting its endpoint)."""
    ddb = jobs_table()
    ddb.put_item(TableName="jobs", Item={"jobId": {"S": "job-1"}, "status": {"S": "READY"}})

    def claim() -> bool:
        ddb.update_item(
            TableName="jobs",
            Key={"jobId": {"S": "job-1"}},
            UpdateExpression="SET #s = :deleted",
            ConditionExpression="#s = :ready",
            ExpressionAttributeNames={"#s": "status"},
            ExpressionAttributeValues={":ready": {"S": "READY"}, ":deleted": {"S": "ENDPOINT_DELETED"}},
        )
        return True

    results = concurrently(claim)
    failures = [r for r in results if isinstance(r, Exception)]
    assert all(
        isinstance(f, ClientError) and f.response["Error"]["Code"] == "ConditionalCheckFailedException"
        for f in failures
    ), failures
    return len([r for r in results if r is True])


@pytest.mark.usefixtures("slow_checks", "atomic", "region")
def test_one_of_concurrent_conditional_puts_wins() -> None:
    assert conditional_puts() == 1


def conditional_deletes() -> int:
    """Concurrent takes of one wait record (WaitRegister's check and WaitResume's event racing)."""
    ddb = jobs_table()
    ddb.put_item(TableName="jobs", Item={"jobId": {"S": "wait#x"}, "waitToken": {"S": "t"}})

    def take() -> bool:
        ddb.delete_item(
            TableName="jobs",
            Key={"jobId": {"S": "wait#x"}},
            ConditionExpression="waitToken = :token",
            ExpressionAttributeValues={":token": {"S": "t"}},
        )
        return True

    results = concurrently(take)
    assert all(r is True or _conditional_failure(r) for r in results), results
    return len([r for r in results if r is True])


def _conditional_failure(result: Any) -> bool:
    return isinstance(result, ClientError) and result.response["Error"]["Code"] == "ConditionalCheckFailedException"


@pytest.mark.usefixtures("slow_checks", "atomic", "region")
def test_one_of_concurrent_conditional_updates_wins() -> None:
    assert conditional_updates() == 1


@pytest.mark.usefixtures("slow_checks", "atomic", "region")
def test_one_of_concurrent_conditional_deletes_wins() -> None:
    assert conditional_deletes() == 1


@pytest.mark.usefixtures("slow_checks", "region")
def test_stock_moto_interleaves() -> None:
    # If this fails, moto became atomic by itself and sagestep.local.atomicity can go.
    assert start_executions() > 1
    assert conditional_puts() > 1
    assert conditional_updates() > 1
    assert conditional_deletes() > 1


def test_restore_puts_moto_back() -> None:
    from moto.dynamodb.models import DynamoDBBackend
    from moto.stepfunctions.models import StepFunctionBackend
    from moto.stepfunctions.parser.models import StepFunctionsParserBackend

    def methods() -> list[Any]:
        return [vars(DynamoDBBackend)[name] for name in atomicity.DYNAMODB_WRITES + atomicity.DYNAMODB_READS] + [
            vars(StepFunctionBackend)["start_execution"],
            vars(StepFunctionsParserBackend)["start_execution"],
        ]

    before = methods()
    patcher = Patcher()
    atomicity.install(patcher)
    assert methods() != before
    patcher.restore()
    assert methods() == before
