"""Every 4xx answers ``{message, field}`` and names what to fix: bodies shaped like the reference web app's,
bodies that are not JSON, the wrong content type, ids of body fields that name no job."""

from __future__ import annotations

from typing import Any

import pytest

from tests.unit.conftest import Backend

DATA = "s3://{bucket}/users/alice/housing/train.csv"


class TestReferenceFields:
    def test_a_reference_training_body_names_sagesteps_fields(self, backend: Backend) -> None:
        # Given the body the reference web app posted to start a training
        body = {
            "trainingDataS3Name": "housing.csv",
            "modelName": "house-prices",
            "target": "price",
            "nbEpochsF": 5,
            "batchSizeF": 64,
            "nodes": [64, 32, 1],
        }
        # When it is posted to /model
        response = backend.call("POST", "/model", body=body)
        # Then the 400 names each reference field with the field to use instead
        assert response.status == 400
        assert response.body["field"] == "trainingDataS3Name"
        message = response.body["message"]
        assert "trainingDataS3Name: is a field of the reference web app; use dataUri" in message
        assert "nbEpochsF: is a field of the reference web app; use hyperparameters.epochs" in message
        assert "batchSizeF: is a field of the reference web app; use hyperparameters.batch_size" in message
        assert "nodes: is a field of the reference web app; use hyperparameters.hidden_units" in message
        assert "modelName: is a field of the reference web app; use description" in message
        assert backend.executions() == []

    def test_a_reference_hpo_body_names_sagesteps_fields(self, backend: Backend) -> None:
        body = {"dataUri": DATA.format(bucket=backend.data_bucket), "target": "price", "maxEval": 10, "nbEpochs": 3}
        response = backend.call("POST", "/hpo", body=body)
        assert response.status == 400
        assert response.body["field"] == "maxEval"
        assert "maxEval: is a field of the reference web app; use maxTrials" in response.body["message"]
        assert "nbEpochs: is a field of the reference web app; use epochsPerTrial" in response.body["message"]

    def test_the_reference_infer_body_names_job_id_or_endpoint_name(self, backend: Backend) -> None:
        body = {"modelName": "model-house-prices", "input": [3, 80], "range": {"start": 0, "end": 1, "step": 0.5}}
        response = backend.call("POST", "/infer", body=body)
        assert response.status == 400
        assert response.body["field"] == "modelName"
        assert "use jobId (the model job's id) or endpointName" in response.body["message"]

    def test_other_unknown_fields_are_still_plainly_refused(self, backend: Backend) -> None:
        response = backend.call("POST", "/infer", body={"jobId": "model-20260101-000000-00000000", "inputs": [1]})
        assert response.status == 400
        assert "inputs: Extra inputs are not permitted" in response.body["message"]


class TestBody:
    @pytest.mark.parametrize("route", ["/model", "/hpo", "/infer", "/uploads"])
    def test_a_body_that_is_not_json_is_a_400_on_the_body(self, backend: Backend, route: str) -> None:
        response = backend.call("POST", route, raw_body='{"dataUri": "s3://x/y",\n "target": }')
        assert response.status == 400
        assert response.body["field"] == "body"
        assert response.body["message"].startswith("body: is not valid JSON (Expecting value at line 2, column 12)")

    @pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data"])
    def test_the_wrong_content_type_is_a_415_in_the_error_shape(self, backend: Backend, content_type: str) -> None:
        # Given a body sent as something else than JSON (curl -d sends a form unless told otherwise)
        body = f'{{"dataUri": "{DATA.format(bucket=backend.data_bucket)}", "target": "price"}}'
        response = backend.call("POST", "/model", raw_body=body, headers={"Content-Type": content_type})
        # Then a 415 answers {message, field} like every other error
        assert response.status == 415
        assert response.body == {
            "message": f"Content-Type: the body must be application/json, not {content_type!r}",
            "field": "Content-Type",
        }
        assert backend.executions() == []

    def test_json_with_a_charset_and_bodiless_routes_are_not_concerned(self, backend: Backend) -> None:
        body = {"dataUri": DATA.format(bucket=backend.data_bucket), "target": "price"}
        charset = backend.call("POST", "/model", body=body, headers={"Content-Type": "application/json; charset=utf-8"})
        assert charset.status == 202
        listing = backend.call("GET", "/model", query={"limit": "1000"}, headers={"Content-Type": "text/plain"})
        assert (listing.status, listing.body["field"]) == (400, "limit")


class TestNotFound:
    @pytest.mark.parametrize(
        ("route", "body", "field"),
        [
            ("/model", {"hpoJobId": "hpo-20260101-000000-00000000"}, "hpoJobId"),
            ("/model", {"updateEndpointOf": "model-20260101-000000-00000000"}, "updateEndpointOf"),
            ("/infer", {"jobId": "model-20260101-000000-00000000", "input": [1.0]}, "jobId"),
            ("/infer", {"endpointName": "model-20260101-000000-00000000", "input": [1.0]}, "endpointName"),
        ],
    )
    def test_an_id_from_a_body_field_is_named(
        self, backend: Backend, route: str, body: dict[str, Any], field: str
    ) -> None:
        if route == "/model":
            body = {"dataUri": DATA.format(bucket=backend.data_bucket), "target": "price", **body}
        response = backend.call("POST", route, body=body)
        assert response.status == 404
        assert response.body["field"] == field
        assert response.body["message"].startswith(f"{field}: ")

    def test_an_id_in_the_path_has_no_field(self, backend: Backend) -> None:
        response = backend.call("GET", "/model/model-20260101-000000-00000000")
        assert response.status == 404
        assert set(response.body) == {"message"}
