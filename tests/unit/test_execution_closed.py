"""The safety net for executions that end outside the state machine's failure path (platform/safety_net.py,
dispatching the cleanup to the job's workflow): the job still gets ERROR, cleanup and exactly one notification —
and a job that already ended is left alone."""

from __future__ import annotations

import json
from typing import Any

import boto3

from sagestep_service.platform import safety_net
from tests.unit.conftest import Backend


def subscribed_queue(topic_arn: str) -> str:
    sqs = boto3.client("sqs")
    url = sqs.create_queue(QueueName="notifications")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    boto3.client("sns").subscribe(TopicArn=topic_arn, Protocol="sqs", Endpoint=arn)
    return str(url)


def messages(url: str) -> list[dict[str, Any]]:
    received = boto3.client("sqs").receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
    return [json.loads(json.loads(m["Body"])["Message"]) for m in received]


def test_an_aborted_execution_closes_its_running_job(backend: Backend) -> None:
    # Given a job whose execution was stopped by hand while it trained
    body = {"dataUri": f"s3://{backend.data_bucket}/users/alice/housing/train.csv", "target": "price"}
    job_id = backend.call("POST", "/model", body=body).body["jobId"]
    backend.store.update(job_id, status="TRAINING_MODEL")
    topic = backend.stack.outputs["TopicArn"]
    queue = subscribed_queue(topic)
    detail = {"name": job_id, "status": "ABORTED", "input": backend.execution_input(job_id)}
    sns = boto3.client("sns")
    # When the execution's status change arrives
    closed = safety_net.close_abandoned(backend.store, sns, topic, detail)
    # Then the job is ERROR with the reason, and one failure notification went out
    assert closed is not None
    record = backend.store.get(job_id)
    assert record is not None
    assert (record["status"], record["error"]) == ("ERROR", "ExecutionAborted")
    assert "expiresAt" not in record  # an ended job is kept (the claim's TTL only removes unstarted ones)
    [message] = messages(queue)
    assert message == {
        "jobId": job_id,
        "kind": "model",
        "status": "ERROR",
        "summary": {"error": "ExecutionAborted", "cause": record["errorCause"]},
    }
    # And a second delivery of the same event changes nothing
    assert safety_net.close_abandoned(backend.store, sns, topic, detail) is None
    assert messages(queue) == []


def test_a_job_that_ended_through_its_failure_path_is_left_alone(backend: Backend) -> None:
    body = {"dataUri": f"s3://{backend.data_bucket}/users/alice/housing/train.csv", "target": "price"}
    job_id = backend.call("POST", "/model", body=body).body["jobId"]
    backend.store.update(job_id, status="ERROR", set_fields={"error": "TrainingJobFailed", "errorCause": "x"})
    topic = backend.stack.outputs["TopicArn"]
    detail = {"name": job_id, "status": "FAILED", "error": "JobFailed"}
    closed = safety_net.close_abandoned(backend.store, boto3.client("sns"), topic, detail)
    assert closed is None
    assert backend.store.get(job_id)["error"] == "TrainingJobFailed"  # type: ignore[index]
