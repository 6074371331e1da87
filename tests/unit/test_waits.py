"""Event-driven waits (platform/waits.py, the training workflow's endpoint waiter): the token stored in the resource's
wait record is resumed exactly once, by the completion event or by the check that closes the race with an event
that came first."""

from __future__ import annotations

import json
import time
from types import SimpleNamespace
from typing import Any

import pytest

from sagestep_service.platform import queries, waits
from sagestep_service.platform.errors import NotFound
from sagestep_service.platform.jobs import wait_item_id
from sagestep_service.platform.submission import owned_job
from sagestep_service.workflows.training.models import TrainingJobView, TrainingKind
from tests.unit.conftest import Backend


class FakeStepFunctions:
    def __init__(self) -> None:
        self.calls: list[tuple[str, dict[str, Any]]] = []

    def send_task_success(self, **kwargs: Any) -> None:
        self.calls.append(("success", kwargs))

    def send_task_failure(self, **kwargs: Any) -> None:
        self.calls.append(("failure", kwargs))


class FakeSageMaker:
    def __init__(self, **endpoint: Any) -> None:
        self.endpoint = endpoint

    def describe_endpoint(self, EndpointName: str) -> dict[str, Any]:
        return {"EndpointName": EndpointName, **self.endpoint}


#: For events that need no look at the endpoint (any call on it fails the test).
NO_CLIENTS = SimpleNamespace()


def a_job(backend: Backend) -> str:
    body = {"dataUri": f"s3://{backend.data_bucket}/users/alice/housing/train.csv", "target": "price"}
    return str(backend.call("POST", "/model", body=body).body["jobId"])


def register(backend: Backend, job_id: str, sfn: FakeStepFunctions, **endpoint: Any) -> bool:
    request = {
        "taskToken": "token-1",
        "jobId": job_id,
        "resource": {"type": "sagemaker-endpoint", "name": job_id},
        "expect": {"EndpointConfigName": job_id},
        "deadlineSeconds": 600,
    }
    return waits.register(backend.store, SimpleNamespace(sagemaker=FakeSageMaker(**endpoint)), sfn, request)


def event(job_id: str, status: str, config: str | None = None, reason: str | None = None) -> dict[str, Any]:
    detail = {"EndpointName": job_id, "EndpointStatus": status, "EndpointConfigName": config or job_id}
    if reason:
        detail["FailureReason"] = reason
    return detail


def test_a_creating_endpoint_waits_for_its_event(backend: Backend) -> None:
    job_id, sfn = a_job(backend), FakeStepFunctions()
    # Given the endpoint is still Creating when the wait is registered
    before = time.time()
    assert register(backend, job_id, sfn, EndpointStatus="Creating", EndpointConfigName=job_id) is False
    wait = backend.store.find_waiting(f"sagemaker-endpoint#{job_id}")
    assert wait is not None
    assert (wait["waitingJobId"], wait["waitToken"], wait["kind"]) == (job_id, "token-1", "WAIT")
    # (removed by the table's TTL a day after its deadline if nothing resumes it)
    assert int(before) + 600 + 86_400 <= wait["expiresAt"] <= time.time() + 600 + 86_400
    # When intermediate and then final events arrive
    assert (
        waits.resume(backend.store, NO_CLIENTS, sfn, "SageMaker Endpoint State Change", event(job_id, "CREATING")) == []
    )
    resumed = waits.resume(
        backend.store, NO_CLIENTS, sfn, "SageMaker Endpoint State Change", event(job_id, "IN_SERVICE")
    )
    # Then the execution is resumed once, with the endpoint's state, and the token is gone from the job
    assert resumed == [job_id]
    [(kind, call)] = sfn.calls
    assert kind == "success"
    assert json.loads(call["output"])["endpointStatus"] == "InService"
    assert backend.store.find_waiting(f"sagemaker-endpoint#{job_id}") is None


def test_an_event_before_the_token_is_stored_is_not_lost(backend: Backend) -> None:
    job_id, sfn = a_job(backend), FakeStepFunctions()
    # Given the endpoint was already InService when the wait was registered (its event came earlier)
    assert register(backend, job_id, sfn, EndpointStatus="InService", EndpointConfigName=job_id) is True
    # Then the check resumed at once, and a late duplicate event does not resume a second time
    assert (
        waits.resume(backend.store, NO_CLIENTS, sfn, "SageMaker Endpoint State Change", event(job_id, "IN_SERVICE"))
        == []
    )
    assert [kind for kind, _ in sfn.calls] == ["success"]


def test_a_failed_endpoint_fails_the_task_with_its_reason(backend: Backend) -> None:
    job_id, sfn = a_job(backend), FakeStepFunctions()
    register(backend, job_id, sfn, EndpointStatus="Creating")
    waits.resume(
        backend.store, NO_CLIENTS, sfn, "SageMaker Endpoint State Change", event(job_id, "FAILED", reason="OOM")
    )
    [(kind, call)] = sfn.calls
    assert (kind, call["error"]) == ("failure", "EndpointFailed")
    assert "OOM" in call["cause"]


def test_an_update_back_on_the_old_config_is_a_rollback(backend: Backend) -> None:
    job_id, sfn = a_job(backend), FakeStepFunctions()
    # Given an in-place update whose endpoint still shows the old config right after UpdateEndpoint
    assert register(backend, job_id, sfn, EndpointStatus="InService", EndpointConfigName="old") is False
    # When the endpoint comes back InService on the old config
    detail = event(job_id, "IN_SERVICE", config="old", reason="alarm fired")
    waits.resume(backend.store, NO_CLIENTS, sfn, "SageMaker Endpoint State Change", detail)
    # Then the task fails as rolled back
    [(kind, call)] = sfn.calls
    assert (kind, call["error"]) == ("failure", "EndpointRolledBack")
    assert "alarm fired" in call["cause"]


def test_a_late_event_from_before_an_update_does_not_end_it(backend: Backend) -> None:
    job_id, sfn = a_job(backend), FakeStepFunctions()
    # Given an in-place update (to the config named like the job) registered while the endpoint is Updating
    assert register(backend, job_id, sfn, EndpointStatus="Updating", EndpointConfigName="old") is False
    # When a late IN_SERVICE event of the old config arrives (no failure reason) while it is still Updating
    late = {"EndpointName": job_id, "EndpointStatus": "IN_SERVICE", "EndpointConfigName": "old"}
    updating = SimpleNamespace(sagemaker=FakeSageMaker(EndpointStatus="Updating", EndpointConfigName="old"))
    # Then the endpoint's current state decides: still updating, keep waiting
    assert waits.resume(backend.store, updating, sfn, "SageMaker Endpoint State Change", late) == []
    assert sfn.calls == []
    # And when the same event comes at the end of a rollback, the endpoint's FailureReason makes it a rollback
    rolled_back = SimpleNamespace(
        sagemaker=FakeSageMaker(EndpointStatus="InService", EndpointConfigName="old", FailureReason="alarm fired")
    )
    assert waits.resume(backend.store, rolled_back, sfn, "SageMaker Endpoint State Change", late) == [job_id]
    [(kind, call)] = sfn.calls
    assert (kind, call["error"]) == ("failure", "EndpointRolledBack")
    assert "alarm fired" in call["cause"]


def test_events_of_other_resources_resume_nothing(backend: Backend) -> None:
    job_id, sfn = a_job(backend), FakeStepFunctions()
    register(backend, job_id, sfn, EndpointStatus="Creating")
    other = event("model-someone-else", "IN_SERVICE")
    assert waits.resume(backend.store, NO_CLIENTS, sfn, "SageMaker Endpoint State Change", other) == []
    assert waits.resume(backend.store, NO_CLIENTS, sfn, "Some Other Event", event(job_id, "IN_SERVICE")) == []
    assert sfn.calls == []


def test_wait_records_are_neither_jobs_nor_listed(backend: Backend) -> None:
    job_id, sfn = a_job(backend), FakeStepFunctions()
    register(backend, job_id, sfn, EndpointStatus="Creating")
    wait_id = wait_item_id(f"sagemaker-endpoint#{job_id}")
    assert backend.store.get(wait_id) is not None
    # The wait record shares the table but not the listings
    assert [job["jobId"] for job in backend.call("GET", "/model").body["items"]] == [job_id]
    assert backend.call("GET", "/hpo").body["items"] == []
    # And its id is no job's, for GET and DELETE of either kind (the routes' lookups)
    for kind in TrainingKind:
        with pytest.raises(NotFound):
            queries.show(backend.store, "alice", kind, wait_id, TrainingJobView)
        with pytest.raises(NotFound):
            owned_job(backend.store, wait_id, "alice", kind)


def test_an_undelivered_outcome_puts_the_wait_back_for_the_event_retry(backend: Backend) -> None:
    from botocore.exceptions import ClientError

    job_id = a_job(backend)

    class ThrottledStepFunctions(FakeStepFunctions):
        def send_task_success(self, **kwargs: Any) -> None:
            raise ClientError({"Error": {"Code": "ThrottlingException", "Message": "slow down"}}, "SendTaskSuccess")

    register(backend, job_id, FakeStepFunctions(), EndpointStatus="Creating")
    # When resuming is throttled, the error reaches EventBridge's retry and the wait is back
    throttled = ThrottledStepFunctions()
    with pytest.raises(ClientError, match="ThrottlingException"):
        waits.resume(
            backend.store, NO_CLIENTS, throttled, "SageMaker Endpoint State Change", event(job_id, "IN_SERVICE")
        )
    # Then the retried event resumes the execution
    sfn = FakeStepFunctions()
    assert waits.resume(
        backend.store, NO_CLIENTS, sfn, "SageMaker Endpoint State Change", event(job_id, "IN_SERVICE")
    ) == [job_id]
    assert [kind for kind, _ in sfn.calls] == ["success"]


def test_a_token_no_one_waits_on_is_dropped(backend: Backend) -> None:
    from botocore.exceptions import ClientError

    job_id = a_job(backend)

    class TimedOut(FakeStepFunctions):
        def send_task_success(self, **kwargs: Any) -> None:
            raise ClientError({"Error": {"Code": "TaskTimedOut", "Message": "too late"}}, "SendTaskSuccess")

    register(backend, job_id, FakeStepFunctions(), EndpointStatus="Creating")
    # When the execution's deadline passed before the event came, the event resumes nothing and the wait is gone
    assert (
        waits.resume(
            backend.store, NO_CLIENTS, TimedOut(), "SageMaker Endpoint State Change", event(job_id, "IN_SERVICE")
        )
        == []
    )
    assert backend.store.find_waiting(f"sagemaker-endpoint#{job_id}") is None
