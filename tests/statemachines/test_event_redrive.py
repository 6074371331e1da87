"""No event is lost: a resume that fails three times lands in the dead-letter queue, and the redrive resumes
its job (training.asl.json's endpoint wait, the platform's WaitResume, its on-failure destination and
RedriveEvents, all through the local runtime)."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import pytest

from sagestep.local.runtime import LocalRuntime
from tests.statemachines.harness import FAST, Harness


@pytest.fixture(scope="module")
def harness() -> Iterator[Harness]:
    # Its own runtime: the endpoint of this test is held in Creating, which other paths must not see.
    with LocalRuntime(port=0, sync_poll_interval=0.1) as runtime:
        yield Harness(runtime)


def _until(condition: Any, what: str, timeout: float = 120) -> Any:
    deadline = time.monotonic() + timeout
    while not (value := condition()):
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.2)
    return value


def _dead_letters(harness: Harness) -> list[dict[str, Any]]:
    sqs = harness.runtime.client("sqs")
    queue = harness.runtime.stack.attribute(
        next(i for i, r in harness.runtime.stack.of_type("AWS::SQS::Queue").items() if "DeadLetter" in i), "QueueUrl"
    )
    messages = sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10, VisibilityTimeout=0).get("Messages", [])
    return [json.loads(m["Body"]) for m in messages]


def test_a_resume_that_fails_three_times_is_redriven_and_resumes_its_job(harness: Harness) -> None:
    runtime = harness.runtime
    # Given a deployment waiting for its endpoint (held in Creating, so only the event can resume it), and a
    # WaitResume that will fail its first attempt and both retries
    runtime.faults.hang_next_endpoint()
    job_id = harness.submit("/model", {**harness.regression, "hyperparameters": FAST})
    _until(lambda: harness.job("model", job_id)["status"] == "DEPLOYING_ENDPOINT", "the endpoint wait")
    wait_key = {"jobId": {"S": f"wait#sagemaker-endpoint#{job_id}"}}
    table = runtime.stack.outputs["JobsTableName"]
    _until(lambda: "Item" in harness.table.get_item(TableName=table, Key=wait_key), "the wait record")
    runtime.faults.fail_function("WaitResume", count=3)
    # When SageMaker announces the endpoint InService
    runtime.client("events").put_events(
        Entries=[
            {
                "Source": "aws.sagemaker",
                "DetailType": "SageMaker Endpoint State Change",
                "Detail": json.dumps(
                    {"EndpointName": job_id, "EndpointStatus": "IN_SERVICE", "EndpointConfigName": job_id}
                ),
            }
        ]
    )
    # Then the three failed attempts put the event in the dead-letter queue, and the job still waits
    [record] = _until(lambda: _dead_letters(harness), "the dead letter")
    assert record["requestContext"]["condition"] == "RetriesExhausted"
    assert record["requestContext"]["approximateInvokeCount"] == 3
    assert record["requestPayload"]["detail"]["EndpointName"] == job_id
    assert harness.job("model", job_id)["status"] == "DEPLOYING_ENDPOINT"
    # When the operator invokes the redrive (as on AWS: `aws lambda invoke --function-name <RedriveFunctionName>`)
    redrive = runtime.stack.outputs["RedriveFunctionName"]
    answer = runtime.client("lambda").invoke(FunctionName=redrive, Payload=b"{}")
    redriven = json.loads(answer["Payload"].read())
    assert sum(redriven["redriven"].values()) == 1 and redriven["left"] == []
    # Then the event reaches WaitResume again and the job finishes its deployment
    _until(lambda: harness.job("model", job_id)["status"] == "READY", "READY after the redrive")
    assert _dead_letters(harness) == []
    notes = _until(lambda: harness.notifications_for(job_id), "the job's notification")
    runtime.wait_idle(30)
    assert (
        [n["message"]["status"] for n in notes]
        == ["READY"]
        == [n["message"]["status"] for n in harness.notifications_for(job_id)]
    )
