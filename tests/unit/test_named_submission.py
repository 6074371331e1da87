"""Jobs named by their owner (a labeling batch's ``batchId``): one name, one job — the claim itself refuses a second
job of the name; only a replay (the first call's ``Idempotency-Key`` and body) is answered with the job."""

from __future__ import annotations

import threading
from typing import Any

import pytest

from sagestep_service.platform.errors import Conflict
from sagestep_service.platform.jobs import JobExists
from sagestep_service.platform.submission import JobName, Prepared, Submitter, named_job_id


class _Store:
    def __init__(self) -> None:
        self.records: dict[str, dict[str, Any]] = {}
        self.lock = threading.Lock()

    def get(self, job_id: str) -> dict[str, Any] | None:
        return self.records.get(job_id)

    def create(self, record: dict[str, Any]) -> None:
        with self.lock:
            if record["jobId"] in self.records:
                raise JobExists(record["jobId"])
            self.records[record["jobId"]] = record

    def delete_submitted(self, job_id: str) -> None:
        self.records.pop(job_id, None)


class _StepFunctions:
    def __init__(self) -> None:
        self.started: list[str] = []

    def start_execution(self, *, stateMachineArn: str, name: str, input: str) -> dict[str, str]:
        self.started.append(name)
        return {"executionArn": f"arn:aws:states:us-east-1:1:execution:sm:{name}"}


def _submit(submitter: Submitter, owner: str, body: dict[str, Any], key: str | None = None) -> Any:
    return submitter.submit(
        kind="labeling",
        owner=owner,
        body=body,
        idempotency_key=key,
        prepare=lambda job_id: Prepared(mode="label", plan={}),
        name=JobName("batchId", body["batchId"]),
    )


@pytest.fixture
def parts() -> tuple[_Store, _StepFunctions, Submitter]:
    store, sfn = _Store(), _StepFunctions()
    return store, sfn, Submitter(store, sfn, "arn:aws:states:us-east-1:1:stateMachine:sm")  # type: ignore[arg-type]


def test_a_second_batch_of_the_same_name_is_a_conflict_naming_the_field(parts: Any) -> None:
    _store, sfn, submitter = parts
    first = _submit(submitter, "alice", {"batchId": "b1", "n": 1})
    assert first.created and first.record["jobId"] == named_job_id("labeling", "alice", "b1")
    for body, key in (
        ({"batchId": "b1", "n": 1}, None),
        ({"batchId": "b1", "n": 2}, None),
        ({"batchId": "b1", "n": 1}, "k"),
    ):
        with pytest.raises(Conflict, match="batchId: you already have a labeling named 'b1'") as raised:
            _submit(submitter, "alice", body, key)
        assert raised.value.field == "batchId"
    # Another owner's batch of the same name is theirs
    assert _submit(submitter, "bob", {"batchId": "b1", "n": 1}).created
    assert len(sfn.started) == 2


def test_a_replay_with_the_first_key_and_body_answers_the_batch(parts: Any) -> None:
    store, sfn, submitter = parts
    first = _submit(submitter, "alice", {"batchId": "b1"}, "key-1")
    store.records[first.record["jobId"]]["status"] = "IN_PROGRESS"
    again = _submit(submitter, "alice", {"batchId": "b1"}, "key-1")
    assert not again.created and again.record["jobId"] == first.record["jobId"]
    with pytest.raises(Conflict):
        _submit(submitter, "alice", {"batchId": "b1"}, "key-2")
    assert sfn.started == [first.record["jobId"]]


def test_concurrent_submissions_of_a_name_start_one_execution(parts: Any) -> None:
    _store, sfn, submitter = parts
    outcomes: list[str] = []

    def submit() -> None:
        try:
            _submit(submitter, "alice", {"batchId": "b1"})
            outcomes.append("created")
        except Conflict:
            outcomes.append("conflict")

    threads = [threading.Thread(target=submit) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["conflict"] * 7 + ["created"]
    assert len(sfn.started) == 1
