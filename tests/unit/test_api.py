"""The API handler against moto: validation, ownership, idempotency, pagination, deletion, inference input.

Given/When/Then; the backend is provisioned from the synthesized stack (tests/unit/conftest.py).
"""

from __future__ import annotations

import json
import threading
import time
from typing import Any

import boto3
import pytest

from tests.unit.conftest import Backend

DATA = "s3://{bucket}/users/{owner}/housing/train.csv"


def train_body(backend: Backend, owner: str = "alice", **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"dataUri": DATA.format(bucket=backend.data_bucket, owner=owner), "target": "price"}
    body.update(overrides)
    return body


class TestValidation:
    def test_missing_target_is_a_400_naming_the_field(self, backend: Backend) -> None:
        # Given a body without target / When posted
        response = backend.call(
            "POST", "/model", body={"dataUri": DATA.format(bucket=backend.data_bucket, owner="alice")}
        )
        # Then a 400 names the problem and nothing was created
        assert response.status == 400
        assert response.body["field"] == "target"
        assert "target: is required unless hpoJobId is given" in response.body["message"]
        assert backend.executions() == []

    def test_unknown_field_is_rejected(self, backend: Backend) -> None:
        response = backend.call("POST", "/model", body=train_body(backend, epochz=3))
        assert response.status == 400
        assert response.body["field"] == "epochz"

    def test_data_outside_the_data_bucket_is_refused(self, backend: Backend) -> None:
        response = backend.call("POST", "/model", body=train_body(backend, dataUri="s3://someone-else/x.csv"))
        assert response.status == 400
        assert response.body["field"] == "dataUri"
        assert f"s3://{backend.data_bucket}/users/alice/" in response.body["message"]

    def test_missing_data_is_refused(self, backend: Backend) -> None:
        body = train_body(backend, dataUri=f"s3://{backend.data_bucket}/users/alice/nothing/here.csv")
        response = backend.call("POST", "/model", body=body)
        assert response.status == 400
        assert "no such file" in response.body["message"]
        folder = train_body(backend, dataUri=f"s3://{backend.data_bucket}/users/alice/nothing/")
        assert "no data found" in backend.call("POST", "/model", body=folder).body["message"]


class TestOwnData:
    def test_another_users_data_is_refused_without_showing_it(self, backend: Backend) -> None:
        # Given bob's file with a header alice has never seen
        s3 = boto3.client("s3")
        s3.put_object(Bucket=backend.data_bucket, Key="users/bob/secret.csv", Body=b"salary,ssn\n1,2\n")
        # When alice trains on it
        body = train_body(backend, dataUri=f"s3://{backend.data_bucket}/users/bob/secret.csv", target="x")
        response = backend.call("POST", "/model", body=body)
        # Then it is a 400 about the location that names none of bob's columns, and no job exists
        assert (response.status, response.body["field"]) == (400, "dataUri")
        assert "ssn" not in response.body["message"] and "salary" not in response.body["message"]
        assert backend.executions() == []

    def test_a_file_uri_trains_on_that_file_only(self, backend: Backend) -> None:
        # Given train.csv and a neighbour whose key starts with the same characters
        s3 = boto3.client("s3")
        s3.put_object(Bucket=backend.data_bucket, Key="users/alice/housing/train.csv.old.csv", Body=b"junk\n1\n")
        # When alice trains on train.csv
        job = backend.call("POST", "/model", body=train_body(backend)).body
        # Then the training job reads a manifest that lists exactly that file
        source = backend.execution_plan(job["jobId"])["trainingJob"]["InputDataConfig"][0]["DataSource"]
        assert source["S3DataSource"]["S3DataType"] == "ManifestFile"
        bucket, _, key = source["S3DataSource"]["S3Uri"].removeprefix("s3://").partition("/")
        manifest = json.loads(s3.get_object(Bucket=bucket, Key=key)["Body"].read())
        assert manifest == [{"prefix": f"s3://{backend.data_bucket}/users/alice/housing/"}, "train.csv"]

    def test_a_folder_uri_ends_with_a_slash(self, backend: Backend) -> None:
        body = train_body(backend, dataUri=f"s3://{backend.data_bucket}/users/alice/housing/")
        job = backend.call("POST", "/model", body=body).body
        source = backend.execution_plan(job["jobId"])["trainingJob"]["InputDataConfig"][0]["DataSource"]
        assert source["S3DataSource"]["S3DataType"] == "S3Prefix"
        assert source["S3DataSource"]["S3Uri"] == f"s3://{backend.data_bucket}/users/alice/housing/"
        # And a URI naming neither a file nor a folder is a 400 that says how to name a folder
        bare = train_body(backend, dataUri=f"s3://{backend.data_bucket}/users/alice/housing")
        response = backend.call("POST", "/model", body=bare)
        assert (response.status, response.body["field"]) == (400, "dataUri")
        assert "ends with '/'" in response.body["message"]

    def test_an_upload_url_writes_into_the_callers_prefix(self, backend: Backend) -> None:
        # When alice asks for an upload URL
        response = backend.call("POST", "/uploads", body={"path": "crops/yield.csv"})
        # Then it is a presigned PUT into her own prefix, with its expiry stated
        assert response.status == 201
        upload = response.body
        assert upload["dataUri"] == f"s3://{backend.data_bucket}/users/alice/crops/yield.csv"
        assert upload["method"] == "PUT" and upload["expiresInSeconds"] == 900
        assert "X-Amz-Signature=" in upload["uploadUrl"] and "users/alice/crops/yield.csv" in upload["uploadUrl"]
        # And a path that climbs out of the prefix is refused
        escape = backend.call("POST", "/uploads", body={"path": "../bob/x.csv"})
        assert (escape.status, escape.body["field"]) == (400, "path")

    def test_target_not_in_header_lists_the_columns(self, backend: Backend) -> None:
        response = backend.call("POST", "/model", body=train_body(backend, target="cost"))
        assert response.status == 400
        assert response.body["field"] == "target"
        assert "rooms" in response.body["message"]

    def test_bad_hyperparameter_value(self, backend: Backend) -> None:
        response = backend.call("POST", "/model", body=train_body(backend, hyperparameters={"bad name": 1}))
        assert response.status == 400
        assert "hyperparameter" in response.body["message"]

    def test_limit_out_of_range(self, backend: Backend) -> None:
        response = backend.call("GET", "/model", query={"limit": "1000"})
        assert response.status == 400
        assert response.body["field"] == "limit"

    def test_infer_needs_exactly_one_target(self, backend: Backend) -> None:
        response = backend.call("POST", "/infer", body={"input": [1.0]})
        assert response.status == 400
        assert "exactly one of jobId and endpointName" in response.body["message"]

    def test_infer_range_needs_one_row(self, backend: Backend) -> None:
        body = {"endpointName": "x", "input": [[1.0], [2.0]], "range": {"start": 0, "end": 1, "step": 0.5}}
        response = backend.call("POST", "/infer", body=body)
        assert response.status == 400
        assert "range needs exactly one input row" in response.body["message"]

    def test_no_identity_is_401(self, backend: Backend) -> None:
        response = backend.call("GET", "/model", owner=None)
        assert response.status == 401


class TestSubmission:
    def test_train_writes_the_record_then_starts_one_execution(self, backend: Backend) -> None:
        response = backend.call("POST", "/model", body=train_body(backend))
        assert response.status == 202
        job_id = response.body["jobId"]
        assert job_id.startswith("model-")
        assert response.body["status"] == "SUBMITTED"
        executions = backend.executions()
        assert [e["name"] for e in executions] == [job_id]
        execution_input = json.loads(backend.execution_input(job_id))
        assert execution_input["mode"] == "TRAIN"
        plan = execution_input["plan"]
        assert plan["trainingJob"]["TrainingJobName"] == job_id
        assert plan["trainingJob"]["HyperParameters"]["target"] == "price"
        assert plan["endpoint"]["EndpointName"] == job_id
        assert {"Key": "sagestep:owner", "Value": "alice"} in plan["endpoint"]["Tags"]

    def test_same_idempotency_key_returns_the_same_job(self, backend: Backend) -> None:
        headers = {"Idempotency-Key": "abc-123"}
        first = backend.call("POST", "/model", body=train_body(backend), headers=headers)
        second = backend.call("POST", "/model", body=train_body(backend), headers=headers)
        assert first.status == 202
        assert second.status == 200
        assert second.headers.get("Idempotent-Replayed") == "true"
        assert first.body["jobId"] == second.body["jobId"]
        assert len(backend.executions()) == 1

    def test_concurrent_duplicates_start_one_execution(self, backend: Backend) -> None:
        # Given eight clients retrying the same submission at once
        results: list[Any] = []
        barrier = threading.Barrier(8)

        def submit() -> None:
            barrier.wait()
            results.append(backend.call("POST", "/hpo", body=train_body(backend), headers={"Idempotency-Key": "same"}))

        threads = [threading.Thread(target=submit) for _ in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        # Then all got the same job and exactly one execution exists
        assert {r.status for r in results} <= {200, 202}
        assert len({r.body["jobId"] for r in results}) == 1
        assert len(backend.executions()) == 1

    def test_key_reused_with_another_body_is_a_conflict(self, backend: Backend) -> None:
        headers = {"Idempotency-Key": "k"}
        backend.call("POST", "/model", body=train_body(backend), headers=headers)
        response = backend.call(
            "POST", "/model", body=train_body(backend, hyperparameters={"epochs": 3}), headers=headers
        )
        assert response.status == 409
        assert len(backend.executions()) == 1

    def test_same_key_of_another_user_is_another_job(self, backend: Backend) -> None:
        headers = {"Idempotency-Key": "k"}
        mine = backend.call("POST", "/model", body=train_body(backend), headers=headers)
        theirs = backend.call("POST", "/model", body=train_body(backend, "bob"), headers=headers, owner="bob")
        assert mine.body["jobId"] != theirs.body["jobId"]

    def test_failed_start_leaves_no_record(self, backend: Backend) -> None:
        backend.break_state_machine()
        response = backend.call("POST", "/model", body=train_body(backend))
        assert response.status == 502
        assert backend.call("GET", "/model").body["items"] == []

    def test_hpo_plan_for_each_strategy(self, backend: Backend) -> None:
        inside = backend.call("POST", "/hpo", body=train_body(backend, maxTrials=3))
        native = backend.call("POST", "/hpo", body=train_body(backend, strategy="sagemaker", problemType="regression"))
        inside_plan = json.loads(backend.execution_input(inside.body["jobId"]))["plan"]
        native_plan = json.loads(backend.execution_input(native.body["jobId"]))["plan"]
        assert inside_plan["trainingJob"]["HyperParameters"]["mode"] == "hpo"
        assert inside_plan["trainingJob"]["HyperParameters"]["hpo_trials"] == "3"
        config = native_plan["tuningJob"]["HyperParameterTuningJobConfig"]
        assert config["Strategy"] == "Bayesian"
        assert config["HyperParameterTuningJobObjective"] == {
            "Type": "Minimize",
            "MetricName": "validation_abs_err_p95",
        }
        assert len(native_plan["tuningJob"]["HyperParameterTuningJobName"]) <= 32

    def test_train_from_an_unfinished_hpo_job_is_a_conflict(self, backend: Backend) -> None:
        hpo = backend.call("POST", "/hpo", body=train_body(backend))
        response = backend.call("POST", "/model", body={"hpoJobId": hpo.body["jobId"]})
        assert response.status == 409

    def test_train_from_hpo_uses_its_best_hyperparameters_and_data(self, backend: Backend) -> None:
        hpo = backend.call("POST", "/hpo", body=train_body(backend))
        backend.store.update(
            hpo.body["jobId"],
            status="HPO_COMPLETED",
            set_fields={
                "hpo": {
                    "strategy": "in-container",
                    "objective": {"name": "validation_abs_err_p95", "value": 0.5, "direction": "minimize"},
                    "bestHyperparameters": {"hidden_units": "64", "dropout": "0.1"},
                    "trials": [],
                }
            },
        )
        response = backend.call(
            "POST", "/model", body={"hpoJobId": hpo.body["jobId"], "hyperparameters": {"dropout": 0.2}}
        )
        assert response.status == 202
        hyperparameters = json.loads(backend.execution_input(response.body["jobId"]))["plan"]["trainingJob"][
            "HyperParameters"
        ]
        assert hyperparameters["hidden_units"] == "64"
        assert hyperparameters["dropout"] == "0.2"
        assert hyperparameters["target"] == "price"

    def test_another_users_hpo_job_is_not_found(self, backend: Backend) -> None:
        hpo = backend.call("POST", "/hpo", body=train_body(backend, "bob"), owner="bob")
        response = backend.call("POST", "/model", body={"hpoJobId": hpo.body["jobId"]})
        assert response.status == 404

    def test_update_of_a_job_that_is_not_ready_is_a_conflict(self, backend: Backend) -> None:
        first = backend.call("POST", "/model", body=train_body(backend))
        response = backend.call("POST", "/model", body=train_body(backend, updateEndpointOf=first.body["jobId"]))
        assert response.status == 409
        assert "updateEndpointOf" in response.body["message"]


class TestReading:
    def test_other_users_job_is_404_like_an_unknown_one(self, backend: Backend) -> None:
        job_id = backend.call("POST", "/model", body=train_body(backend)).body["jobId"]
        assert backend.call("GET", f"/model/{job_id}").status == 200
        assert backend.call("GET", f"/model/{job_id}", owner="bob").status == 404
        assert backend.call("GET", "/model/model-20260101-000000-00000000").status == 404
        assert backend.call("GET", f"/hpo/{job_id}").status == 404

    def test_listing_pages_newest_first_with_a_cursor(self, backend: Backend) -> None:
        ids = [backend.call("POST", "/model", body=train_body(backend)).body["jobId"] for _ in range(5)]
        backend.call("POST", "/model", body=train_body(backend, "bob"), owner="bob")
        seen: list[str] = []
        cursor = None
        pages = 0
        while True:
            query = {"limit": "2", **({"cursor": cursor} if cursor else {})}
            page = backend.call("GET", "/model", query=query).body
            seen += [item["jobId"] for item in page["items"]]
            pages += 1
            cursor = page.get("nextCursor")
            if not cursor:
                break
        assert sorted(seen) == sorted(ids)
        created = [backend.store.get(i)["createdAt"] for i in seen]  # type: ignore[index]
        assert created == sorted(created, reverse=True)
        assert pages >= 3

    def test_a_cursor_of_another_listing_is_refused(self, backend: Backend) -> None:
        for _ in range(2):
            backend.call("POST", "/model", body=train_body(backend, "bob"), owner="bob")
        bobs_cursor = backend.call("GET", "/model", query={"limit": "1"}, owner="bob").body["nextCursor"]
        response = backend.call("GET", "/model", query={"cursor": bobs_cursor})
        assert response.status == 400
        assert response.body["field"] == "cursor"
        assert backend.call("GET", "/model", query={"cursor": "!!notbase64"}).status == 400


class TestDeletion:
    def test_running_job_cannot_be_deleted(self, backend: Backend) -> None:
        job_id = backend.call("POST", "/model", body=train_body(backend)).body["jobId"]
        response = backend.call("DELETE", f"/model/{job_id}")
        assert response.status == 409
        assert "still running" in response.body["message"]

    def test_ready_job_deletes_endpoint_config_and_model(self, backend: Backend) -> None:
        job_id = backend.call("POST", "/model", body=train_body(backend)).body["jobId"]
        backend.deploy_fake_endpoint(job_id)
        response = backend.call("DELETE", f"/model/{job_id}")
        assert response.status == 200
        assert response.body["status"] == "DELETED"
        assert backend.sagemaker_names() == {"endpoints": [], "configs": [], "models": []}

    def test_delete_of_another_users_job_is_404(self, backend: Backend) -> None:
        job_id = backend.call("POST", "/model", body=train_body(backend)).body["jobId"]
        assert backend.call("DELETE", f"/model/{job_id}", owner="bob").status == 404


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"endpointName": "e", "input": []}, "body"),
        ({"endpointName": "e", "input": [1.0], "range": {"start": 1, "end": 0, "step": 1}}, "range"),
        ({"endpointName": "e", "input": [1.0], "range": {"start": 0, "end": 1, "step": 0}}, "range.step"),
    ],
)
def test_infer_input_errors_name_the_field(backend: Backend, body: dict[str, Any], field: str) -> None:
    response = backend.call("POST", "/infer", body=body)
    assert response.status == 400
    assert response.body["field"] == field


def test_a_job_whose_execution_never_started_can_be_deleted(backend: Backend) -> None:
    # Given a record left in a running status with no execution behind it (the submission died)
    job_id = backend.call("POST", "/model", body=train_body(backend)).body["jobId"]
    execution = backend.state_machine_arn.replace(":stateMachine:", ":execution:") + f":{job_id}"
    boto3.client("stepfunctions").stop_execution(executionArn=execution)
    # When its owner deletes it / Then it is not refused as running
    response = backend.call("DELETE", f"/model/{job_id}")
    assert response.status == 200
    assert response.body["status"] == "DELETED"


class TestInPlaceUpdates:
    def test_one_update_of_an_endpoint_at_a_time(self, backend: Backend) -> None:
        # Given a READY model whose endpoint one job is already updating
        ready = backend.call("POST", "/model", body=train_body(backend)).body["jobId"]
        backend.deploy_fake_endpoint(ready)
        first = backend.call("POST", "/model", body=train_body(backend, updateEndpointOf=ready))
        assert first.status == 202
        assert backend.call("GET", f"/model/{ready}").body["updatingBy"] == first.body["jobId"]
        # When a second update of the same endpoint is submitted
        second = backend.call("POST", "/model", body=train_body(backend, updateEndpointOf=ready, description="2"))
        # Then it is a conflict naming the running update, and the READY job cannot be deleted meanwhile
        assert second.status == 409
        assert first.body["jobId"] in second.body["message"]
        assert backend.call("DELETE", f"/model/{ready}").status == 409
        assert len(backend.executions()) == 2

    def test_a_failed_start_gives_the_endpoint_back(self, backend: Backend) -> None:
        ready = backend.call("POST", "/model", body=train_body(backend)).body["jobId"]
        backend.deploy_fake_endpoint(ready)
        backend.break_state_machine()
        assert backend.call("POST", "/model", body=train_body(backend, updateEndpointOf=ready)).status == 502
        assert backend.call("GET", f"/model/{ready}").body.get("updatingBy") is None

    def test_a_conflicting_duplicate_never_releases_the_winners_reservation(self, backend: Backend) -> None:
        # Given a READY model and two concurrent updates of its endpoint with one Idempotency-Key but different
        # bodies (a client bug, or two users of one script)
        ready = backend.call("POST", "/model", body=train_body(backend)).body["jobId"]
        backend.deploy_fake_endpoint(ready)
        headers = {"Idempotency-Key": "update-1"}
        bodies = [train_body(backend, updateEndpointOf=ready, description=str(i)) for i in range(6)]
        barrier = threading.Barrier(len(bodies))
        results: list[Any] = []

        def submit(body: dict[str, Any]) -> None:
            barrier.wait()
            results.append(backend.call("POST", "/model", body=body, headers=headers))

        threads = [threading.Thread(target=submit, args=(body,)) for body in bodies]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        # Then exactly one won, the others are conflicts, and the winner still holds the endpoint
        [winner] = [r for r in results if r.status == 202]
        assert sorted(r.status for r in results if r is not winner) == [409] * (len(bodies) - 1)
        assert backend.call("GET", f"/model/{ready}").body["updatingBy"] == winner.body["jobId"]
        assert backend.call("DELETE", f"/model/{ready}").status == 409
        assert len(backend.executions()) == 2

    def test_an_expired_reservation_no_longer_locks_the_endpoint(self, backend: Backend) -> None:
        # Given an update whose job died without releasing the endpoint, and whose lease has passed
        ready = backend.call("POST", "/model", body=train_body(backend)).body["jobId"]
        backend.deploy_fake_endpoint(ready)
        first = backend.call("POST", "/model", body=train_body(backend, updateEndpointOf=ready))
        assert first.status == 202
        record = backend.store.get(ready)
        assert record is not None
        # The lease covers the update's longest run: training time + endpoint deadline + an hour.
        assert record["updatingUntil"] >= time.time() + 86400 + 3600
        backend.store.update(ready, set_fields={"updatingUntil": int(time.time()) - 1})
        # When another update is submitted / Then it takes the endpoint over
        second = backend.call("POST", "/model", body=train_body(backend, updateEndpointOf=ready, description="2"))
        assert second.status == 202
        assert backend.call("GET", f"/model/{ready}").body["updatingBy"] == second.body["jobId"]


class TestLimits:
    def test_a_request_too_large_for_the_workflow_is_a_400_and_creates_nothing(self, backend: Backend) -> None:
        # Given hyperparameters within their own limits whose sum makes a plan over the execution input limit
        big = {f"_note{i}": "x" * 2400 for i in range(40)}  # 96 KB; `_*` names are SageMaker's own, passed through
        # When submitted
        response = backend.call("POST", "/model", body=train_body(backend, hyperparameters=big))
        # Then it is refused before anything is claimed, naming the limit
        assert (response.status, response.body["field"]) == (400, "body")
        assert "at most 65536" in response.body["message"]
        assert backend.executions() == []
        assert backend.call("GET", "/model").body["items"] == []
