"""``problemType`` left out of a request is inferred at submission from a sample of the target column
(workflows/training/problem_type.py), with the training container's own rule, and recorded on the job."""

from __future__ import annotations

import io
import random
from typing import Any

import boto3
import pytest

from sagestep_service.workflows.training import problem_type
from sagestep_training.problem_type import infer_problem_type
from tests.unit.conftest import Backend

BINARY_CSV = b"rooms,area,sold\n" + b"".join(f"{i % 5},{50 + i},{i % 2}\n".encode() for i in range(40))
LABELS_CSV = b"rooms,area,grade\n" + b"".join(f"{i % 5},{50 + i},{'abc'[i % 3]}\n".encode() for i in range(40))


def repeat(values: list[str], rows: int) -> list[str]:
    return [values[i % len(values)] for i in range(rows)]


def upload(backend: Backend, name: str, body: bytes, owner: str = "alice") -> str:
    boto3.client("s3").put_object(Bucket=backend.data_bucket, Key=f"users/{owner}/{name}", Body=body)
    return f"s3://{backend.data_bucket}/users/{owner}/{name}"


class TestRule:
    @pytest.mark.parametrize(
        ("cells", "expected"),
        [
            pytest.param(repeat(["0", "1"], 10), "classification", id="binary-integers"),
            pytest.param(["-1", "1", "1"], "classification", id="binary-integers-three-rows"),
            pytest.param(repeat(["setosa", "versicolor", "virginica"], 30), "classification", id="text-labels"),
            pytest.param(repeat([str(k) for k in range(5)], 100), "classification", id="five-integer-classes"),
            pytest.param(["150", "250", "400"], "regression", id="three-prices"),
            pytest.param(repeat([str(k) for k in range(21)], 1000), "regression", id="twenty-one-integers"),
            pytest.param(repeat([str(k) for k in range(10)], 40), "regression", id="four-rows-per-integer"),
            pytest.param(repeat(["1.0", "2.0"], 30), "regression", id="decimal-point"),
            pytest.param(repeat(["3.2", "N/A", "4.7"], 30), "regression", id="measurements-with-a-marker"),
            pytest.param(repeat([" 1 ", "0", "", "  "], 20), "classification", id="blanks-ignored"),
        ],
    )
    def test_cases(self, cells: list[str], expected: str) -> None:
        assert problem_type.infer(cells) == expected

    def test_a_blank_column_cannot_be_decided(self) -> None:
        assert problem_type.infer(["", " "]) is None

    def test_it_is_the_training_containers_rule(self) -> None:
        # Given random columns mixing whole numbers, decimals, text and blanks (seeded)
        rng = random.Random(7)
        pools = [
            [str(k) for k in range(-3, 30)],
            ["+1", "007", "-0", "12"],
            ["1.5", "2.0", "1e3", "nan", "inf"],
            ["yes", "no", "N/A", "?"],
            ["", " "],
        ]
        for _ in range(2000):
            vocabulary = [cell for pool in rng.sample(pools, rng.randint(1, 3)) for cell in rng.sample(pool, 2)]
            cells = [rng.choice(vocabulary) for _ in range(rng.randint(1, 150))]
            # Then the API decides as the container's rule (which raises where the API returns None)
            try:
                expected: str | None = infer_problem_type(cells)
            except ValueError:
                expected = None
            assert problem_type.infer(cells) == expected, cells

    def test_a_label_is_a_cell_that_is_not_a_number(self) -> None:
        assert problem_type.first_label(["1", "2.5", " ", "nan", " cat ", "dog"]) == "cat"
        assert problem_type.first_label(["1", "inf", ""]) is None


class TestSample:
    def test_a_cut_last_line_is_dropped_and_quoted_cells_are_read(self) -> None:
        text = 'a,"b, quoted",y\n1,"x,y",0\n2,z,1\n3,w,1'
        assert problem_type.target_cells(text + "\n", "y", complete=True) == ["0", "1", "1"]
        assert problem_type.target_cells(text, "y", complete=False) == ["0", "1"]
        assert problem_type.target_cells(text, "missing", complete=True) == []

    def test_only_the_first_bytes_of_the_checked_file_are_read(self) -> None:
        # Given a file larger than the sample
        data = b"x,y\n" + b"".join(f"{i},{i % 2}\n".encode() for i in range(100_000))
        requests: list[dict[str, Any]] = []

        class S3:
            def get_object(self, **kwargs: Any) -> dict[str, Any]:
                requests.append(kwargs)
                start, end = (int(n) for n in kwargs["Range"].removeprefix("bytes=").split("-"))
                part = data[start : end + 1]
                return {"Body": io.BytesIO(part), "ContentRange": f"bytes {start}-{end}/{len(data)}"}

        # When it is sampled
        key, cells = problem_type.sample(S3(), "s3://bucket/users/alice/big.csv", "y")
        # Then one ranged GET read SAMPLE_BYTES of it, and no cut row was taken
        assert key == "users/alice/big.csv"
        assert requests == [{"Bucket": "bucket", "Key": key, "Range": f"bytes=0-{problem_type.SAMPLE_BYTES - 1}"}]
        assert 10_000 < len(cells) < 100_000
        assert set(cells) == {"0", "1"}


class TestSubmission:
    def test_a_0_1_target_without_problem_type_trains_a_classification(self, backend: Backend) -> None:
        # Given a CSV whose target is 0/1 and a request without problemType
        data = upload(backend, "sales/sold.csv", BINARY_CSV)
        # When it is submitted
        response = backend.call("POST", "/model", body={"dataUri": data, "target": "sold"})
        # Then the job trains a classification, and says that sagestep inferred it
        assert response.status == 202
        job_id = response.body["jobId"]
        plan = backend.execution_plan(job_id)
        assert plan["trainingJob"]["HyperParameters"]["problem_type"] == "classification"
        for view in (response.body, backend.call("GET", f"/model/{job_id}").body):
            assert (view["problemType"], view["problemTypeInferred"]) == ("classification", True)
        assert "problemType" not in backend.store.get(job_id)["request"]  # type: ignore[index]

    def test_a_price_target_is_inferred_as_regression(self, backend: Backend) -> None:
        data = f"s3://{backend.data_bucket}/users/alice/housing/train.csv"
        response = backend.call("POST", "/model", body={"dataUri": data, "target": "price"})
        assert (response.body["problemType"], response.body["problemTypeInferred"]) == ("regression", True)

    def test_hpo_infers_it_too_and_optimises_its_metric(self, backend: Backend) -> None:
        data = upload(backend, "sales/sold.csv", BINARY_CSV)
        response = backend.call("POST", "/hpo", body={"dataUri": data, "target": "sold", "strategy": "sagemaker"})
        assert response.status == 202
        tuning = backend.execution_plan(response.body["jobId"])["tuningJob"]
        objective = tuning["HyperParameterTuningJobConfig"]["HyperParameterTuningJobObjective"]
        assert objective == {"Type": "Maximize", "MetricName": "validation_f1"}
        assert tuning["TrainingJobDefinition"]["StaticHyperParameters"]["problem_type"] == "classification"
        assert (response.body["problemType"], response.body["problemTypeInferred"]) == ("classification", True)

    def test_a_requested_problem_type_is_kept_and_not_marked_inferred(self, backend: Backend) -> None:
        data = upload(backend, "sales/sold.csv", BINARY_CSV)
        body = {"dataUri": data, "target": "sold", "problemType": "regression"}
        response = backend.call("POST", "/model", body=body)
        assert (response.body["problemType"], response.body["problemTypeInferred"]) == ("regression", False)
        plan = backend.execution_plan(response.body["jobId"])
        assert plan["trainingJob"]["HyperParameters"]["problem_type"] == "regression"

    @pytest.mark.parametrize("route", ["/model", "/hpo"])
    def test_text_labels_with_regression_are_a_400_naming_problem_type(self, backend: Backend, route: str) -> None:
        # Given a target of text labels and a request for a regression
        data = upload(backend, "grades.csv", LABELS_CSV)
        body = {"dataUri": data, "target": "grade", "problemType": "regression"}
        # When submitted / Then a 400 names the API's field, not the container's hyperparameter
        response = backend.call("POST", route, body=body)
        assert response.status == 400
        assert response.body["field"] == "problemType"
        assert "'a'" in response.body["message"] and "classification" in response.body["message"]
        assert "problem_type" not in response.body["message"]
        assert backend.executions() == []

    def test_text_labels_without_problem_type_are_a_classification(self, backend: Backend) -> None:
        data = upload(backend, "grades.csv", LABELS_CSV)
        response = backend.call("POST", "/model", body={"dataUri": data, "target": "grade"})
        assert response.body["problemType"] == "classification"

    def test_a_target_without_values_asks_for_problem_type(self, backend: Backend) -> None:
        data = upload(backend, "empty.csv", b"rooms,sold\n1,\n2,\n")
        response = backend.call("POST", "/model", body={"dataUri": data, "target": "sold"})
        assert response.status == 400
        assert response.body["field"] == "problemType"
        given = backend.call("POST", "/model", body={"dataUri": data, "target": "sold", "problemType": "regression"})
        assert given.status == 202

    def test_training_from_an_hpo_job_keeps_its_inferred_problem_type(self, backend: Backend) -> None:
        # Given a completed HPO job whose problem type was inferred as classification
        data = upload(backend, "sales/sold.csv", BINARY_CSV)
        hpo = backend.call("POST", "/hpo", body={"dataUri": data, "target": "sold"}).body["jobId"]
        backend.store.update(
            hpo,
            status="HPO_COMPLETED",
            set_fields={
                "hpo": {
                    "strategy": "in-container",
                    "objective": {"name": "validation_f1", "value": 0.9, "direction": "maximize"},
                    "bestHyperparameters": {"hidden_units": "32"},
                    "trials": [],
                }
            },
        )
        # When a model is trained from it
        response = backend.call("POST", "/model", body={"hpoJobId": hpo})
        # Then it trains the same problem, still marked as inferred
        assert response.status == 202
        assert (response.body["problemType"], response.body["problemTypeInferred"]) == ("classification", True)
        plan = backend.execution_plan(response.body["jobId"])
        assert plan["trainingJob"]["HyperParameters"]["problem_type"] == "classification"
