"""The ``sagestep`` CLI with a fake client (injected through ``obj``): output, ``--json``, option parsing,
one-line errors and exit statuses. No runtime, no network.

Given / When / Then.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace
from typing import Any, ClassVar

import pytest
from typer.testing import CliRunner

from sagestep.cli import app
from sagestep.cli.target import Target
from sagestep.cli.training import parse_hyperparameters, parse_range
from sagestep.client import (
    ApiError,
    BadRequestError,
    ConflictError,
    NotFoundError,
    SagestepError,
    Submission,
    UnauthorizedError,
    UnreachableError,
)
from sagestep.demo import DemoError
from sagestep.local.faults import ArmedFault
from sagestep_service.workflows.training.models import (
    HpoRequest,
    InferRequest,
    InferResponse,
    SweepRange,
    TrainingJobPage,
    TrainingJobView,
    TrainingKind,
    TrainRequest,
)

MODEL_ID = "model-20261122-135501-3fa9c2d1"
HPO_ID = "hpo-20261122-135501-3fa9c2d1"
DATA = "s3://data-bucket/crop.csv"


def view(job_id: str = MODEL_ID, status: str = "SUBMITTED", **extra: Any) -> TrainingJobView:
    return TrainingJobView.model_validate(
        {
            "jobId": job_id,
            "kind": job_id.split("-", 1)[0],
            "status": status,
            "createdAt": "2026-11-22T13:55:01.123Z",
            "updatedAt": "2026-11-22T13:56:01.123Z",
            "history": [{"status": "SUBMITTED", "at": "2026-11-22T13:55:01.123Z"}]
            + ([{"status": status, "at": "2026-11-22T13:56:01.123Z"}] if status != "SUBMITTED" else []),
            **extra,
        }
    )


class FakeClient:
    """Records calls; answers with canned values, or raises ``error`` from every call."""

    api_url = "http://127.0.0.1:8000"

    def __init__(self, error: SagestepError | None = None) -> None:
        self.error = error
        self.calls: list[tuple[str, Any]] = []
        self.final_status = "READY"
        self.pages = [TrainingJobPage(items=[view(), view("model-20261122-135400-aaaaaaaa", "READY")], nextCursor="c1")]
        self.armed: list[ArmedFault] = []

    def _record(self, name: str, argument: Any) -> None:
        self.calls.append((name, argument))
        if self.error is not None:
            raise self.error

    def submit(self, request: TrainRequest | HpoRequest, *, idempotency_key: str | None = None) -> Submission:
        self._record("submit", (request, idempotency_key))
        job_id = MODEL_ID if isinstance(request, TrainRequest) else HPO_ID
        return Submission(view(job_id), replayed=idempotency_key == "again", idempotency_key=idempotency_key or "k")

    def list_models(self, limit: int = 20, cursor: str | None = None) -> TrainingJobPage:
        self._record("list_models", (limit, cursor))
        return self.pages[0]

    def list_hpo(self, limit: int = 20, cursor: str | None = None) -> TrainingJobPage:
        self._record("list_hpo", (limit, cursor))
        return TrainingJobPage(items=[])

    def iter_models(self, page_size: int = 50) -> Iterator[TrainingJobView]:
        self._record("iter_models", page_size)
        yield from [view(), view("model-20261122-135400-aaaaaaaa"), view("model-20261122-135300-bbbbbbbb")]

    def get_job(self, job_id: str, kind: TrainingKind | None = None) -> TrainingJobView:
        self._record("get_job", (job_id, kind))
        return view(job_id, "READY", metrics={"validation_abs_err_p95": 0.25}, resources={"endpointName": job_id})

    def delete_model(self, job_id: str) -> TrainingJobView:
        self._record("delete_model", job_id)
        return view(job_id, "DELETED")

    def wait(
        self, job_id: str, kind: Any = None, *, on_update: Callable[[TrainingJobView], None], **options: Any
    ) -> TrainingJobView:
        self._record("wait", job_id)
        for status in ("TRAINING_MODEL", self.final_status):
            extra = {"error": "AlgorithmError: the loss diverged"} if status == "ERROR" else {}
            on_update(view(job_id, status, **extra))
        return view(job_id, self.final_status, **extra)

    def local_faults(self, spec: dict[str, Any] | None = None) -> list[ArmedFault]:
        self._record("local_faults", spec)
        if spec is not None:
            self.armed.append(
                ArmedFault(spec["fault"], spec.get("count", 1), spec.get("operation"), spec.get("reason"))
            )
        return list(self.armed)

    def clear_local_faults(self, fault: str | None = None) -> list[ArmedFault]:
        self._record("clear_local_faults", fault)
        cleared = [armed for armed in self.armed if fault in (None, armed.fault)]
        self.armed = [armed for armed in self.armed if armed not in cleared]
        return cleared

    def infer(self, request: InferRequest) -> InferResponse:
        self._record("infer", request)
        rows = request.rows()
        if request.range is not None:
            points = request.range.points()
            return InferResponse(x_axis=points, predictions=[2.0 * x for x in points])
        return InferResponse(predictions=[sum(row) for row in rows])


def run(args: list[str], client: FakeClient | None = None, **kwargs: Any) -> Any:
    """Invoke the CLI with ``client`` injected (None: the real target selection)."""
    factory = (lambda target: client) if client is not None else None
    return CliRunner().invoke(app, args, obj=factory, **kwargs)


def one_error_line(result: Any) -> str:
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ")
    assert "Traceback" not in result.output
    return lines[0]


class TestOptionParsing:
    @pytest.mark.parametrize(
        ("text", "expected"),
        [
            ("0:1:0.25", SweepRange(start=0, end=1, step=0.25)),
            ("-1:1:0.5", SweepRange(start=-1, end=1, step=0.5)),
            ("1e-3:2e-3:1e-3", SweepRange(start=0.001, end=0.002, step=0.001)),
        ],
    )
    def test_ranges(self, text: str, expected: SweepRange) -> None:
        assert parse_range(text) == expected

    @pytest.mark.parametrize(
        ("text", "problem"),
        [
            ("0:1", "expected START:END:STEP"),
            ("0:1:x", "expected START:END:STEP"),
            ("a:b:c:d", "expected START:END:STEP"),
            ("1:0:1", "end must not be smaller than start"),
            ("0:1:0", "step: Input should be greater than 0"),
            ("0:nan:1", "finite"),
        ],
    )
    def test_bad_ranges_name_the_option(self, text: str, problem: str) -> None:
        client = FakeClient()
        result = run(["infer", "--job", MODEL_ID, "--input", "1,2", "--range", text], client)
        assert result.exit_code == 2
        line = one_error_line(result)
        assert line.startswith("error: --range: ") and problem in line
        assert client.calls == []

    def test_hyperparameters_stay_strings(self) -> None:
        assert parse_hyperparameters(["epochs=20", " optimizer = adam", "expr=a=b", "empty="]) == {
            "epochs": "20",
            "optimizer": "adam",
            "expr": "a=b",
            "empty": "",
        }

    @pytest.mark.parametrize("bad", ["epochs", "=3"])
    def test_bad_hyperparameters_name_the_option(self, bad: str) -> None:
        result = run(["model", "train", "--data", DATA, "--target", "y", "--hp", bad], FakeClient())
        assert result.exit_code == 2
        assert one_error_line(result) == f"error: --hp: expected KEY=VALUE, got {bad!r}"


class TestModel:
    def test_train_sends_the_validated_request(self) -> None:
        # Given a client / When training from an HPO job with extra hyperparameters and a key
        client = FakeClient()
        args = ["model", "train", "--from-hpo", HPO_ID, "--hp", "epochs=30", "--hp", "dropout=0.2"]
        result = run([*args, "--idempotency-key", "build-7"], client)
        # Then one submission carries exactly what was asked, and the job id is printed
        assert result.exit_code == 0, result.output
        request, key = client.calls[0][1]
        assert request == TrainRequest(hpoJobId=HPO_ID, hyperparameters={"epochs": "30", "dropout": "0.2"})
        assert key == "build-7"
        assert MODEL_ID in result.stdout and f"sagestep model wait {MODEL_ID}" in result.stdout

    def test_train_reports_a_replay(self) -> None:
        result = run(["model", "train", "--data", DATA, "--target", "y", "--idempotency-key", "again"], FakeClient())
        assert "Already submitted" in result.stdout

    def test_invalid_train_input_is_one_line_and_exit_2_without_a_request(self) -> None:
        client = FakeClient()
        result = run(["model", "train", "--data", "not-s3", "--target", "y"], client)
        assert result.exit_code == 2
        assert one_error_line(result) == "error: dataUri: must look like s3://bucket/key"
        assert client.calls == []

    def test_train_wait_shows_progress_and_ends_0_when_ready(self) -> None:
        result = run(["model", "train", "--data", DATA, "--target", "y", "--wait", "--json"], FakeClient())
        assert result.exit_code == 0, result.output
        assert json.loads(result.stdout)["status"] == "READY"
        assert "TRAINING_MODEL" in result.stderr  # progress goes to stderr with --json

    def test_train_wait_ends_1_when_the_job_fails(self) -> None:
        client = FakeClient()
        client.final_status = "ERROR"
        result = run(["model", "train", "--data", DATA, "--target", "y", "--wait"], client)
        assert result.exit_code == 1
        assert "AlgorithmError: the loss diverged" in result.stdout
        assert one_error_line(result) == f"error: job {MODEL_ID} ended in ERROR: AlgorithmError: the loss diverged"

    def test_list_prints_a_table_and_the_cursor(self) -> None:
        result = run(["model", "list", "--limit", "2"], FakeClient())
        assert result.exit_code == 0, result.output
        assert MODEL_ID in result.stdout and "READY" in result.stdout and "--cursor c1" in result.stdout

    def test_list_json_is_the_page(self) -> None:
        client = FakeClient()
        result = run(["model", "list", "--json", "--cursor", "c0"], client)
        page = TrainingJobPage.model_validate_json(result.stdout)
        assert page.nextCursor == "c1" and len(page.items) == 2
        assert client.calls == [("list_models", (20, "c0"))]

    def test_list_all_follows_every_page(self) -> None:
        client = FakeClient()
        result = run(["model", "list", "--all", "--json"], client)
        assert len(json.loads(result.stdout)["items"]) == 3
        assert client.calls == [("iter_models", 100)]

    def test_show_json(self) -> None:
        result = run(["model", "show", MODEL_ID, "--json"], FakeClient())
        shown = json.loads(result.stdout)
        assert shown["jobId"] == MODEL_ID and shown["metrics"] == {"validation_abs_err_p95": 0.25}

    def test_show_for_people(self) -> None:
        result = run(["model", "show", MODEL_ID], FakeClient())
        assert "validation_abs_err_p95" in result.stdout and "endpointName" in result.stdout

    def test_delete(self) -> None:
        client = FakeClient()
        result = run(["model", "delete", MODEL_ID], client)
        assert result.exit_code == 0 and "DELETED" in result.stdout
        assert client.calls == [("delete_model", MODEL_ID)]


class TestHpo:
    def test_run_maps_options_to_the_request(self) -> None:
        client = FakeClient()
        args = ["hpo", "run", "--data", DATA, "--target", "y", "--strategy", "sagemaker", "--trials", "6"]
        result = run([*args, "--parallel-trials", "2", "--json"], client)
        assert result.exit_code == 0, result.output
        request, _ = client.calls[0][1]
        assert request == HpoRequest(dataUri=DATA, target="y", strategy="sagemaker", maxTrials=6, maxParallelTrials=2)
        assert json.loads(result.stdout)["jobId"] == HPO_ID

    def test_an_unknown_strategy_is_refused_in_the_apis_words(self) -> None:
        result = run(["hpo", "run", "--data", DATA, "--target", "y", "--strategy", "grid"], FakeClient())
        assert result.exit_code == 2
        assert one_error_line(result).startswith("error: strategy: Input should be 'in-container' or 'sagemaker'")

    def test_an_empty_list(self) -> None:
        result = run(["hpo", "list"], FakeClient())
        assert result.exit_code == 0 and "no hpo jobs yet" in result.stdout


class TestInfer:
    def test_a_sweep_prints_x_against_prediction(self) -> None:
        client = FakeClient()
        result = run(["infer", "--job", MODEL_ID, "--input", "1,2,3", "--range", "0:1:0.5"], client)
        assert result.exit_code == 0, result.output
        request = client.calls[0][1]
        assert request == InferRequest(jobId=MODEL_ID, input=[1, 2, 3], range=SweepRange(start=0, end=1, step=0.5))
        rows = [re.findall(r"[-0-9.]+", line) for line in result.stdout.splitlines()]
        assert [row for row in rows if row] == [["0", "0"], ["0.5", "1"], ["1", "2"]]

    def test_json_output(self) -> None:
        result = run(["infer", "--endpoint", "ep", "--input", "1,2", "--input", "3,4", "--json"], FakeClient())
        assert json.loads(result.stdout) == {"predictions": [3.0, 7.0]}

    def test_bad_input_values_name_the_option(self) -> None:
        result = run(["infer", "--job", MODEL_ID, "--input", "1,,2"], FakeClient())
        assert result.exit_code == 2
        assert one_error_line(result).startswith("error: --input: ")

    def test_job_and_endpoint_together_are_refused_in_the_apis_words(self) -> None:
        result = run(["infer", "--job", MODEL_ID, "--endpoint", "ep", "--input", "1"], FakeClient())
        assert result.exit_code == 2
        assert one_error_line(result) == "error: body: give exactly one of jobId and endpointName"


class TestErrorsAndExitStatuses:
    @pytest.mark.parametrize(
        ("error", "code"),
        [
            (BadRequestError(400, "target: column 'y' is not in the header of 'x.csv'", "target"), 2),
            (UnauthorizedError(401, "Unauthorized"), 3),
            (NotFoundError(404, f"no model job {MODEL_ID!r}"), 4),
            (ConflictError(409, "hpoJobId: HPO job has not completed"), 4),
            (UnreachableError("cannot reach the API at http://127.0.0.1:8000: [Errno 111] Connection refused"), 5),
            (ApiError(502, "an AWS service refused the request (ValidationException)"), 1),
        ],
    )
    def test_api_errors_are_one_line_with_their_exit_status(self, error: SagestepError, code: int) -> None:
        result = run(["model", "show", MODEL_ID], FakeClient(error))
        assert result.exit_code == code
        assert one_error_line(result).startswith(f"error: {error.message}")

    def test_an_unreachable_local_runtime_hints_at_local_up(self) -> None:
        result = run(["model", "list"], FakeClient(UnreachableError("cannot reach the API")))
        assert one_error_line(result).endswith("(is `sagestep local up` running?)")

    def test_a_usage_error_is_one_line_too(self) -> None:
        result = run(["model", "train", "--no-such-option"], FakeClient())
        assert result.exit_code == 2
        assert "No such option: --no-such-option" in one_error_line(result)


class TestTargetSelection:
    @pytest.fixture(autouse=True)
    def _config(self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
        monkeypatch.setenv("SAGESTEP_CONFIG_DIR", str(tmp_path))
        for name in ("SAGESTEP_STACK", "AWS_REGION", "AWS_DEFAULT_REGION", "SAGESTEP_USERNAME", "SAGESTEP_PASSWORD"):
            monkeypatch.delenv(name, raising=False)
        return tmp_path

    def test_without_a_local_runtime_or_stack_it_says_what_to_do(self) -> None:
        result = run(["model", "list"])
        assert result.exit_code == 2
        assert "sagestep local up" in one_error_line(result) and "--stack" in result.stderr

    def test_a_stack_needs_a_region(self) -> None:
        result = run(["model", "list", "--stack", "sagestep", "--username", "ada"])
        assert result.exit_code == 2
        assert one_error_line(result).startswith("error: --region: required with --stack")

    def test_the_options_reach_the_factory(self) -> None:
        seen: list[Target] = []

        def factory(target: Target) -> FakeClient:
            seen.append(target)
            return FakeClient()

        args = ["model", "list", "--stack", "prod", "--region", "eu-west-1", "--username", "ada"]
        CliRunner().invoke(app, args, obj=factory)
        assert seen == [Target(local=False, stack="prod", region="eu-west-1", username="ada")]

    def test_the_password_comes_from_the_environment(self, monkeypatch: pytest.MonkeyPatch) -> None:
        captured: dict[str, Any] = {}

        def for_stack(stack: str, **kwargs: Any) -> FakeClient:
            captured.update(stack=stack, **kwargs)
            return FakeClient()

        monkeypatch.setattr("sagestep.cli.target.SagestepClient.for_stack", for_stack)
        monkeypatch.setenv("SAGESTEP_PASSWORD", "pw-from-env")
        result = run(["model", "list", "--stack", "prod", "--region", "eu-west-1", "--username", "ada"])
        assert result.exit_code == 0, result.output
        assert captured == {"stack": "prod", "region": "eu-west-1", "username": "ada", "password": "pw-from-env"}


class TestDemo:
    def test_the_demo_steps_run_against_any_api_and_return_their_timings(self, tmp_path: Path) -> None:
        from sagestep.demo import training
        from tests.unit.test_client import FakeApi, job, ok

        # Given an API whose HPO and training jobs complete, and which answers a sweep
        best = {"hidden_layers": "2", "hidden_units": "32"}
        hpo_result = {
            "strategy": "in-container",
            "objective": {"name": "validation_abs_err_p95", "value": 0.4, "direction": "Minimize"},
            "bestHyperparameters": best,
        }

        def infer(request: Any) -> Any:
            swept = SweepRange.model_validate(json.loads(request.content)["range"])
            return ok({"x_axis": swept.points(), "predictions": [x / 100 for x in swept.points()]})

        api = (
            FakeApi()
            .on("POST", "/prod/hpo", ok(job(HPO_ID), 202))
            .on(
                "GET",
                f"/prod/hpo/{HPO_ID}",
                ok(job(HPO_ID, "HPO_RUNNING")),
                ok(job(HPO_ID, "HPO_COMPLETED", hpo=hpo_result)),
            )
            .on("POST", "/prod/model", ok(job(MODEL_ID), 202))
            .on("GET", f"/prod/model/{MODEL_ID}", ok(job(MODEL_ID, "READY", metrics={"validation_abs_err_p95": 0.3})))
            .on("POST", "/prod/infer", infer)
        )
        sample = training.Sample.load()
        # When the demo's steps run
        result = training.run_steps(
            api.client(), "s3://data-bucket/demo/crop_yield.csv", sample, trials=2, plot_path=tmp_path / "p.png"
        )
        # Then HPO ran with the demo's settings, training started from it, the last feature was swept
        posts = {r.url.path: json.loads(r.content) for r in api.requests if r.method == "POST"}
        assert posts["/prod/hpo"]["maxTrials"] == 2 and posts["/prod/hpo"]["target"] == sample.target
        assert posts["/prod/model"]["hpoJobId"] == HPO_ID
        assert posts["/prod/infer"]["input"] == sample.means and posts["/prod/infer"]["jobId"] == MODEL_ID
        assert result.feature == sample.features[-1] and len(result.x) == len(result.predictions) > 10
        # And a PNG was written, and every phase was timed
        assert (tmp_path / "p.png").read_bytes()[:4] == b"\x89PNG"
        assert list(result.timings.phases) == ["hpo", "train and deploy", "inference", "plot"]
        assert result.to_json()["bestHyperparameters"] == best

    def test_a_failed_job_stops_the_demo_with_its_error(self) -> None:
        from sagestep.demo import training
        from tests.unit.test_client import FakeApi, job, ok

        failed = job(HPO_ID, "ERROR", error="AlgorithmError: no rows")
        api = FakeApi().on("POST", "/prod/hpo", ok(job(HPO_ID), 202)).on("GET", f"/prod/hpo/{HPO_ID}", ok(failed))
        with pytest.raises(training.DemoError, match=f"HPO job {HPO_ID} ended in ERROR: AlgorithmError: no rows"):
            training.run_hpo(api.client(), "s3://data-bucket/x.csv", "y")

    def test_own_data_needs_a_target(self, tmp_path: Path) -> None:
        data = tmp_path / "d.csv"
        data.write_text("a,b\n1,2\n")
        result = run(["demo", "--data", str(data)])
        assert result.exit_code == 2
        assert one_error_line(result) == "error: --target: required with --data"

    def test_a_target_missing_from_own_data_is_bad_input(self, tmp_path: Path) -> None:
        from sagestep.client import BadRequestError
        from sagestep.demo import training

        data = tmp_path / "d.csv"
        data.write_text("a,b\n1,2\n")
        with pytest.raises(BadRequestError, match="target: column 'y' is not in the header"):
            training.Sample.load(data, "y")


class FakeRuntime:
    """Stands in for ``LocalRuntime`` in the demo: records its starts and stops."""

    events: ClassVar[list[str]] = []

    def __init__(self, port: int = 0) -> None:
        self.port = port

    def start(self) -> Any:
        self.events.append("start")
        return SimpleNamespace(
            api_url="http://127.0.0.1:1/v1",
            region="us-east-1",
            aws_endpoint_url="http://127.0.0.1:2",
            user_pool_client_id="client",
            username="demo@example.com",
            password="pw",
            data_bucket="data",
        )

    def stop(self) -> None:
        self.events.append("stop")


@dataclass
class FakeSection:
    """A workflow's demo section that times one phase, then fails with ``error`` or returns its name."""

    name: str
    error: SagestepError | None = None
    title: str = "a fake workflow"

    def run(self, context: Any) -> Any:
        FakeRuntime.events.append(f"run {self.name} on {context.info.api_url}")
        with context.timings.phase("step"):
            if self.error is not None:
                raise self.error
        return SimpleNamespace(to_json=lambda: {"ran": self.name})


class TestDemoSections:
    @pytest.fixture(autouse=True)
    def _fakes(self, monkeypatch: pytest.MonkeyPatch) -> None:
        import sagestep.demo
        import sagestep.local.runtime

        FakeRuntime.events = []
        monkeypatch.setattr(sagestep.local.runtime, "LocalRuntime", FakeRuntime)
        failure = DemoError("beta job beta-1 ended in ERROR: out of memory")
        self.sections: dict[str, Callable[..., FakeSection]] = {
            "alpha": lambda: FakeSection("alpha"),
            "beta": lambda: FakeSection("beta", error=failure if self.beta_fails else None),
        }
        self.beta_fails = False
        monkeypatch.setattr(sagestep.demo, "SECTIONS", self.sections)

    def test_without_a_workflow_every_section_runs_once_against_one_runtime(self) -> None:
        # When the demo runs without a workflow
        result = run(["demo"])
        # Then one runtime ran every registered section, in order, and was stopped
        assert result.exit_code == 0, result.output
        api = "http://127.0.0.1:1/v1"
        assert FakeRuntime.events == ["start", f"run alpha on {api}", f"run beta on {api}", "stop"]
        # And the timings table has the runtime's start and stop, each section with its phase, and the total
        rows = [line.strip("│ ").split("│")[0].strip() for line in result.stdout.splitlines() if "│" in line]
        assert rows == ["start local runtime", "alpha", "step", "beta", "step", "stop local runtime", "total"]

    def test_a_workflow_runs_only_its_section(self) -> None:
        result = run(["demo", "beta", "--json"])
        assert result.exit_code == 0, result.output
        assert FakeRuntime.events == ["start", "run beta on http://127.0.0.1:1/v1", "stop"]
        summary = json.loads(result.stdout)
        assert summary["workflows"] == {"beta": {"ran": "beta"}}
        assert list(summary["timings"]) == ["start local runtime", "beta", "stop local runtime"]
        assert summary["totalSeconds"] == pytest.approx(sum(summary["timings"].values()), abs=0.01)

    def test_an_unknown_workflow_lists_the_choices(self) -> None:
        result = run(["demo", "labeling"])
        assert result.exit_code == 2
        assert one_error_line(result) == "error: demo: unknown workflow 'labeling' (one of alpha, beta)"
        assert FakeRuntime.events == []

    def test_a_failed_section_does_not_stop_the_next_and_fails_the_demo(self) -> None:
        # Given a section whose job ends in ERROR
        self.beta_fails = True
        self.sections["gamma"] = lambda: FakeSection("gamma")
        # When every section runs
        result = run(["demo"])
        # Then the next section still ran, the runtime was stopped, and the demo ends 1 with the failure
        assert FakeRuntime.events[-2:] == ["run gamma on http://127.0.0.1:1/v1", "stop"]
        assert result.exit_code == 1
        assert one_error_line(result) == "error: beta job beta-1 ended in ERROR: out of memory"
        assert "beta (failed)" in result.stdout


class TestLocalFaults:
    def test_arming_a_fault_sends_its_spec_and_lists_what_is_armed(self) -> None:
        # Given a local runtime with nothing armed
        client = FakeClient()
        # When a training failure is armed
        result = run(["local", "fault", "fail-training", "--reason", "disk full"], client)
        # Then the runtime got the fault's spec, and the armed faults are listed by their CLI names
        assert result.exit_code == 0, result.output
        assert client.calls == [("local_faults", {"fault": "fail_next_training_job", "reason": "disk full"})]
        assert "fail-training" in result.stdout and "disk full" in result.stdout

    def test_a_throttle_takes_operation_and_count_and_answers_json(self) -> None:
        client = FakeClient()
        result = run(["local", "fault", "throttle", "--operation", "CreateEndpoint", "--count", "20", "--json"], client)
        assert result.exit_code == 0, result.output
        assert client.calls == [("local_faults", {"fault": "throttle", "operation": "CreateEndpoint", "count": 20})]
        assert json.loads(result.stdout) == {
            "faults": [{"fault": "throttle", "remaining": 20, "operation": "CreateEndpoint"}]
        }

    def test_a_function_failure_and_a_refused_call_are_armed_by_name(self) -> None:
        client = FakeClient()
        result = run(["local", "fault", "fail-function", "--function", "WaitResume", "--count", "3"], client)
        assert result.exit_code == 0, result.output
        call = ["local", "fault", "fail-call", "--operation", "CreateEndpointConfig", "--code", "ResourceLimitExceeded"]
        assert run(call, client).exit_code == 0
        assert client.calls == [
            ("local_faults", {"fault": "fail_function", "operation": "WaitResume", "count": 3}),
            (
                "local_faults",
                {
                    "fault": "fail_call",
                    "operation": "CreateEndpointConfig",
                    "code": "ResourceLimitExceeded",
                    "count": 1,
                },
            ),
        ]

    @pytest.mark.parametrize("args", [["local", "fault", "list"], ["local", "fault"]], ids=["list", "no command"])
    def test_list_shows_each_armed_fault_with_what_is_left(self, args: list[str]) -> None:
        # Given a throttle of which 18 calls are left and a hanging endpoint
        client = FakeClient()
        client.armed = [ArmedFault("throttle", 18, "CreateEndpoint"), ArmedFault("hang_next_endpoint", 1)]
        # When the faults are listed
        result = run(args, client)
        # Then each is a row: its kind, operation and remaining count
        assert result.exit_code == 0, result.output
        assert client.calls == [("local_faults", None)]
        rows = [line.split() for line in result.stdout.splitlines()]
        assert ["│", "throttle", "│", "CreateEndpoint", "│", "18", "│", "│"] in rows, result.stdout
        assert any("hang-endpoint" in row for row in rows)

    def test_list_says_when_nothing_is_armed(self) -> None:
        result = run(["local", "fault", "list"], FakeClient())
        assert (result.exit_code, result.stdout.strip()) == (0, "no fault armed")
        assert json.loads(run(["local", "fault", "list", "--json"], FakeClient()).stdout) == {"faults": []}

    def test_clear_one_kind_disarms_only_that_kind(self) -> None:
        # Given two armed kinds
        client = FakeClient()
        client.armed = [ArmedFault("throttle", 18, "CreateEndpoint"), ArmedFault("fail_next_training_job", 1)]
        # When the throttles are cleared
        result = run(["local", "fault", "clear", "throttle", "--json"], client)
        # Then only they were cleared, by the runtime's name of the kind
        assert result.exit_code == 0, result.output
        assert client.calls == [("clear_local_faults", "throttle")]
        assert json.loads(result.stdout) == {
            "cleared": [{"fault": "throttle", "remaining": 18, "operation": "CreateEndpoint"}]
        }
        assert [armed.fault for armed in client.armed] == ["fail_next_training_job"]

    def test_clear_without_a_kind_disarms_everything(self) -> None:
        client = FakeClient()
        client.armed = [ArmedFault("lose_response", 2, "CreateTrainingJob"), ArmedFault("fail_next_endpoint", 1)]
        result = run(["local", "fault", "clear"], client)
        assert result.exit_code == 0, result.output
        assert client.calls == [("clear_local_faults", None)]
        assert "cleared" in result.stdout and "lose-response" in result.stdout and "fail-endpoint" in result.stdout
        assert client.armed == []
        assert (
            run(["local", "fault", "clear", "fail-update"], client).stdout.strip() == "no fail-update fault was armed"
        )

    def test_clear_of_an_unknown_kind_names_the_kinds(self) -> None:
        client = FakeClient()
        result = run(["local", "fault", "clear", "explode"], client)
        assert result.exit_code == 2
        assert one_error_line(result).startswith("error: fault clear: unknown kind 'explode' (one of fail-training,")
        assert client.calls == []

    @pytest.mark.parametrize("kind", ["throttle", "lose-response"])
    def test_per_call_faults_need_an_operation(self, kind: str) -> None:
        result = run(["local", "fault", kind], FakeClient())
        assert result.exit_code == 2
        assert "--operation" in one_error_line(result)

    def test_an_unknown_kind_is_one_line(self) -> None:
        result = run(["local", "fault", "explode"], FakeClient())
        assert result.exit_code == 2
        assert "unknown kind 'explode'" in one_error_line(result)
