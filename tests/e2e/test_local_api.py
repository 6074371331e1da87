"""The REST API's behaviour as a user meets it through the local runtime: idempotent submissions,
authentication, owner isolation, validation, deletion and listing.
"""

from __future__ import annotations

import base64
import json
import threading
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from sagestep.client import (
    BadRequestError,
    ConflictError,
    NotFoundError,
    SagestepClient,
    Submission,
    UnauthorizedError,
    parse_request,
)
from sagestep.local.faults import ArmedFault
from sagestep_service.workflows.training.models import TrainingJobView, TrainRequest
from sagestep_training.datasets import REGRESSION_CSV
from tests.e2e.conftest import CROP_ROW, FAST, TRAIN_STATUSES, Backend

SOME_JOB_ID = "model-0123456789abcdef01234567"


@pytest.fixture(scope="module")
def intruder(backend: Backend) -> SagestepClient:
    """A second user of the same pool."""
    return backend.other_user("intruder@example.com")


# Idempotency ----------------------------------------------------------------------------------------


def test_concurrent_duplicates_with_one_idempotency_key_make_one_job_and_one_execution(backend: Backend) -> None:
    # Given one training request and one Idempotency-Key
    request = parse_request(TrainRequest, {**backend.regression, "hyperparameters": FAST})
    start = threading.Barrier(8)
    results: list[Submission | BaseException] = []
    lock = threading.Lock()

    def submit() -> None:
        client = SagestepClient(backend.api_url, backend.token, retries=4, backoff=0.2)
        start.wait()
        try:
            outcome: Submission | BaseException = client.submit(request, idempotency_key="e2e-duplicate-submission")
        except BaseException as exc:  # collected and reported below
            outcome = exc
        finally:
            client.close()
        with lock:
            results.append(outcome)

    # When eight clients submit it at the same moment
    threads = [threading.Thread(target=submit) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    # Then every one of them got the same job, exactly one as its creator and the others as replays
    failures = [r for r in results if isinstance(r, BaseException)]
    assert not failures, failures
    submissions = [r for r in results if isinstance(r, Submission)]
    assert len(submissions) == 8
    assert len({s.job.jobId for s in submissions}) == 1
    assert sorted(s.replayed for s in submissions) == [False] + [True] * 7
    job_id = submissions[0].job.jobId
    # And exactly one Step Functions execution runs that job, which ends READY
    assert len(backend.executions_named(job_id)) == 1
    job = backend.finished(job_id)
    assert job.status == "READY", job
    assert len(backend.executions_named(job_id)) == 1
    assert [n["message"]["status"] for n in backend.notifications_for(job_id)] == ["READY"]
    # And a later replay still answers with that job without starting anything
    replay = backend.client.submit(request, idempotency_key="e2e-duplicate-submission")
    assert replay.replayed and replay.job.jobId == job_id
    assert len(backend.executions_named(job_id)) == 1
    assert backend.client.delete_model(job_id).status == "DELETED"  # cleanup: free the endpoint


def test_idempotency_key_reused_for_another_request_is_a_conflict(backend: Backend) -> None:
    # Given a key already used for one request (whose training fails at once: only the key matters here)
    key = "e2e-key-reuse"
    backend.runtime.faults.fail_next_training_job("AlgorithmError: idempotency test")
    first = backend.client.submit(
        parse_request(TrainRequest, {**backend.regression, "hyperparameters": FAST}), idempotency_key=key
    )
    # When the same key comes with a different request
    other = parse_request(TrainRequest, {**backend.regression, "hyperparameters": {"epochs": 4}})
    # Then the API refuses it with 409 naming the header, and no second execution is started
    with pytest.raises(ConflictError) as refused:
        backend.client.submit(other, idempotency_key=key)
    assert refused.value.status == 409
    assert "Idempotency-Key" in refused.value.message
    assert len(backend.executions_named(first.job.jobId)) == 1
    backend.finished(first.job.jobId)


# Authentication and isolation --------------------------------------------------------------------------


def test_request_without_a_token_is_unauthorized(backend: Backend, regression_job: TrainingJobView) -> None:
    # Given / When a request carries no Authorization header
    for method, path in (("GET", "/model"), ("GET", f"/model/{regression_job.jobId}"), ("POST", "/infer")):
        response = httpx.request(method, f"{backend.api_url}{path}", json={"jobId": regression_job.jobId, "input": [1]})
        # Then API Gateway answers 401 before the function runs
        assert response.status_code == 401, (method, path, response.text)
        assert response.json()["message"] == "Unauthorized"


def _tampered(token: str, how: str) -> str:
    header, payload, signature = token.split(".")
    if how == "claims":  # claim to be someone else, keeping the original signature
        claims = _decode(payload)
        claims["sub"] = "00000000-0000-0000-0000-000000000000"
        payload = base64.urlsafe_b64encode(json.dumps(claims).encode()).decode().rstrip("=")
        return f"{header}.{payload}.{signature}"
    if how == "signature":
        flipped = "A" if signature[10] != "A" else "B"
        return f"{header}.{payload}.{signature[:10]}{flipped}{signature[11:]}"
    return "not-a-jwt"


@pytest.mark.parametrize("how", ["claims", "signature", "garbage"])
def test_tampered_token_is_unauthorized(backend: Backend, regression_job: TrainingJobView, how: str) -> None:
    # Given a token of the demo user, altered
    token = _tampered(backend.token(), how)
    client = SagestepClient(backend.api_url, lambda: token, retries=0)
    # When it is used / Then the API refuses it with 401 and shows nothing
    with pytest.raises(UnauthorizedError) as refused:
        client.get_model(regression_job.jobId)
    assert refused.value.status == 401
    assert backend.http("GET", "/model", token=token).status_code == 401


def test_another_users_job_is_not_found_for_reading_deleting_or_predicting(
    backend: Backend, regression_job: TrainingJobView, intruder: SagestepClient
) -> None:
    # Given the demo user's READY job and a second user of the same pool
    endpoint = regression_job.resources["endpointName"]
    # When the second user reads, deletes or predicts with it / Then it does not exist for them
    with pytest.raises(NotFoundError):
        intruder.get_model(regression_job.jobId)
    with pytest.raises(NotFoundError):
        intruder.delete_model(regression_job.jobId)
    with pytest.raises(NotFoundError):
        intruder.infer(jobId=regression_job.jobId, input=CROP_ROW)
    with pytest.raises(NotFoundError):
        intruder.infer(endpointName=endpoint, input=CROP_ROW)
    with pytest.raises(NotFoundError):
        intruder.train(updateEndpointOf=regression_job.jobId, **backend.regression)
    # And it is answered exactly like a job that does not exist at all
    unknown = backend.http("GET", f"/model/{SOME_JOB_ID}", token=intruder.token_provider())
    theirs = backend.http("GET", f"/model/{regression_job.jobId}", token=intruder.token_provider())
    assert unknown.status_code == theirs.status_code == 404
    assert theirs.json()["message"] == unknown.json()["message"].replace(SOME_JOB_ID, regression_job.jobId)
    # And their listing is empty, while the owner's job is untouched and still serves
    assert intruder.list_models().items == []
    assert backend.client.get_model(regression_job.jobId).status == "READY"
    assert backend.endpoints()[endpoint] == "InService"
    assert len(backend.client.infer(jobId=regression_job.jobId, input=CROP_ROW).predictions) == 1


# Validation -----------------------------------------------------------------------------------------

Body = Callable[[Backend], dict[str, Any]]


def _with(**changes: Any) -> Body:
    return lambda backend: {**backend.regression, **changes}


def _sweep(start: float, end: float, step: float) -> Body:
    return lambda backend: {
        "jobId": SOME_JOB_ID,
        "input": CROP_ROW,
        "range": {"start": start, "end": end, "step": step},
    }


@pytest.mark.parametrize(
    ("route", "body", "field", "fragment"),
    [
        pytest.param(
            "/model",
            _with(dataUri="s3://somebody-elses-bucket/train.csv"),
            "dataUri",
            "(your own prefix; upload files with POST /uploads)",
            id="dataUri outside the data bucket",
        ),
        pytest.param(
            "/model", _with(target="harvest"), "target", "'harvest' is not in the header", id="unknown target"
        ),
        pytest.param("/model", _with(epochz=3), "epochz", "Extra inputs are not permitted", id="unknown field"),
        pytest.param(
            "/model",
            _with(deployment={"deadlineSeconds": 0}),
            "deployment.deadlineSeconds",
            "greater than or equal",
            id="zero deadline",
        ),
        pytest.param("/hpo", _with(maxTrials=0), "maxTrials", "greater than or equal to 1", id="no trials"),
        pytest.param("/infer", _sweep(5, 1, 1), "range", "end must not be smaller than start", id="range backwards"),
        pytest.param("/infer", _sweep(0, 1, 0), "range.step", "greater than 0", id="range with zero step"),
    ],
)
def test_bad_input_is_a_400_naming_the_field(
    backend: Backend, route: str, body: Body, field: str, fragment: str
) -> None:
    # Given an invalid request body
    executions = len(backend.sfn.list_executions(stateMachineArn=backend.state_machine_arn)["executions"])
    # When it is sent
    response = backend.http("POST", route, json=body(backend))
    # Then the API answers 400 naming the field and the problem, and starts nothing
    assert response.status_code == 400, response.text
    problem = response.json()
    assert problem["field"] == field, problem
    assert fragment in problem["message"], problem
    assert len(backend.sfn.list_executions(stateMachineArn=backend.state_machine_arn)["executions"]) == executions


def test_missing_target_is_a_400_that_says_so(backend: Backend) -> None:
    # Given a training request without a target (and no hpoJobId to take it from)
    body = {"dataUri": backend.regression["dataUri"], "hyperparameters": FAST}
    # When it is sent / Then 400, and the message names the missing field
    response = backend.http("POST", "/model", json=body)
    assert response.status_code == 400, response.text
    assert "target: is required unless hpoJobId is given" in response.json()["message"]


def test_missing_target_is_named_in_the_400s_field(backend: Backend) -> None:
    response = backend.http("POST", "/model", json={"dataUri": backend.regression["dataUri"]})
    assert response.status_code == 400
    assert response.json()["field"] == "target"


def test_client_reports_the_apis_400_with_its_field(backend: Backend) -> None:
    # Given a request the client cannot check locally (the data bucket is known only to the API)
    body = {**backend.regression, "dataUri": "s3://somebody-elses-bucket/train.csv"}
    # When the client submits it / Then it raises the API's 400 with the field
    with pytest.raises(BadRequestError) as refused:
        backend.client.train(body)
    assert refused.value.status == 400
    assert refused.value.field == "dataUri"
    # And for a request it can check, it refuses before sending, naming the same field as the API
    with pytest.raises(BadRequestError) as local:
        backend.client.train({**backend.regression, "epochz": 3})
    assert local.value.status is None
    assert local.value.field == backend.http("POST", "/model", json={**backend.regression, "epochz": 3}).json()["field"]


# Deletion -------------------------------------------------------------------------------------------


def test_delete_refuses_a_running_job_then_removes_everything_of_a_ready_one(backend: Backend) -> None:
    # Given a job that has just been submitted
    job = backend.client.train({**backend.regression, "hyperparameters": FAST})
    # When the user deletes it while it runs / Then 409, and the job carries on
    with pytest.raises(ConflictError) as refused:
        backend.client.delete_model(job.jobId)
    assert refused.value.status == 409
    assert "running" in refused.value.message
    ready = backend.finished(job.jobId)
    assert ready.status == "READY", ready
    assert backend.endpoints()[job.jobId] == "InService"
    assert backend.processes_of(job.jobId), "a READY job has a model server"
    # When the user deletes the READY job
    deleted = backend.client.delete_model(job.jobId)
    backend.runtime.wait_idle(10)
    # Then it is DELETED and its endpoint, endpoint config, model and model server are gone
    assert deleted.status == "DELETED"
    assert [h.status for h in deleted.history] == [*TRAIN_STATUSES, "READY", "DELETED"]
    assert job.jobId not in backend.endpoints()
    assert job.jobId not in backend.endpoint_configs()
    assert job.jobId not in backend.models()
    assert backend.processes_of(job.jobId) == []
    # And it can no longer predict; deleting it again changes nothing
    with pytest.raises(ConflictError):
        backend.client.infer(jobId=job.jobId, input=CROP_ROW)
    assert backend.client.delete_model(job.jobId).status == "DELETED"
    assert backend.client.get_model(job.jobId).status == "DELETED"


# Listing --------------------------------------------------------------------------------------------


def test_listing_with_limit_1_follows_next_cursor_through_all_of_the_users_jobs(backend: Backend) -> None:
    # Given a user with three model jobs (they fail fast: listing does not care how jobs end)
    pager = backend.other_user("pager@example.com")
    for _ in range(3):
        backend.runtime.faults.fail_next_training_job("AlgorithmError: listing test")
    data = pager.upload(REGRESSION_CSV.read_bytes(), "listing/crop_yield.csv")  # each user trains on their own data
    body = {**backend.regression, "dataUri": data, "hyperparameters": FAST}
    submitted = [pager.train(body).jobId for _ in range(3)]
    for job_id in submitted:
        backend.finished(job_id, client=pager)
    # When they page through their jobs one at a time
    pages = []
    cursor = None
    while True:
        page = pager.list_models(limit=1, cursor=cursor)
        pages.append(page)
        assert len(pages) <= 5, "the listing does not end"
        if not page.nextCursor:
            break
        cursor = page.nextCursor
    # Then every page but an empty last one holds one job, and together they are exactly the user's jobs,
    # newest first, each once
    listed = [job.jobId for page in pages for job in page.items]
    assert [len(page.items) for page in pages[:3]] == [1, 1, 1]
    assert all(not page.items for page in pages[3:])
    assert listed == list(reversed(submitted))
    # And nobody else's listing shows them, and the other kind's listing is empty for them
    assert not {job.jobId for job in backend.client.iter_models()} & set(submitted)
    assert pager.list_hpo(limit=1).items == []
    # And a cursor forged to continue the demo user's listing is refused with a 400 naming it
    key = _decode(pages[0].nextCursor or "")
    key["ownerKind"] = f"{_claims(backend.token())['sub']}#model"
    forged = base64.urlsafe_b64encode(json.dumps(key).encode()).decode()
    with pytest.raises(BadRequestError) as refused:
        pager.list_models(limit=1, cursor=forged)
    assert refused.value.status == 400
    assert refused.value.field == "cursor"


def _decode(part: str) -> dict[str, Any]:
    """A base64url JSON object (a JWT part or a listing cursor)."""
    value: dict[str, Any] = json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))
    return value


def _claims(token: str) -> dict[str, Any]:
    return _decode(token.split(".")[1])


def test_faults_can_be_armed_over_http_by_a_signed_in_user(backend: Backend) -> None:
    # Given the local runtime's fault route: it needs a token, like every route
    root = backend.api_url.rsplit("/", 1)[0]
    assert httpx.get(f"{root}/_local/faults", timeout=10).status_code == 401
    # When a user arms a training failure through the client (as `sagestep local fault fail-training` does)
    armed = backend.client.local_faults({"fault": "fail_next_training_job", "reason": "disk full (injected)"})
    assert armed == [ArmedFault("fail_next_training_job", 1, reason="disk full (injected)")]
    with pytest.raises(BadRequestError):
        backend.client.local_faults({"fault": "no_such_fault"})
    # Then the next training job fails with that reason
    job = backend.train({**backend.regression, "hyperparameters": {"epochs": 2}})
    assert job.status == "ERROR"
    assert "disk full (injected)" in (job.errorCause or "")
    assert backend.client.local_faults() == []


def test_armed_faults_can_be_listed_and_cleared_over_http(backend: Backend) -> None:
    # Given the fault route refuses to list or clear without a token
    root = backend.api_url.rsplit("/", 1)[0]
    assert httpx.delete(f"{root}/_local/faults", timeout=10).status_code == 401
    # And a throttle of 20 calls nobody makes (as a --count larger than needed leaves), and a failing update
    client = backend.client
    client.local_faults({"fault": "throttle", "operation": "CreateCompilationJob", "count": 20})
    client.local_faults({"fault": "fail_next_endpoint_update", "reason": "bad variant"})
    # When they are listed, Then each shows its kind, operation and remaining count
    throttle = ArmedFault("throttle", 20, operation="CreateCompilationJob", message="Rate exceeded")
    update = ArmedFault("fail_next_endpoint_update", 1, reason="bad variant")
    assert client.local_faults() == [update, throttle]
    # When the throttles are cleared, Then only they are gone
    assert client.clear_local_faults("throttle") == [throttle]
    assert client.local_faults() == [update]
    # And an unknown kind is refused, clearing everything clears the rest, and nothing is left
    with pytest.raises(BadRequestError, match="unknown fault 'explode'"):
        client.clear_local_faults("explode")
    assert client.clear_local_faults() == [update]
    assert client.local_faults() == []
