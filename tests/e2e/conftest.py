"""End-to-end fixtures: one local runtime for the whole folder, used the way a user uses sagestep.

Jobs are submitted and read through the runtime's REST API (the real :class:`SagestepClient`, or raw
HTTP where the client would refuse a request before sending it). The embedded AWS is read only to check
what a user cannot see through the API: the states an execution entered, endpoints, models and
model-server processes left behind.

The modules share the runtime and one READY regression model (``regression_job``): a test looks only at its
own jobs, disarms what it armed (``_disarm_faults`` makes sure) and deletes a READY model it has no reason to
keep, so that the shared model is never the oldest of more than five endpoints (the stack evicts it then).
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from sagestep.client import SagestepClient
from sagestep.local.runtime import LocalRuntime, RuntimeInfo
from sagestep_service.workflows.training.models import TrainingJobView
from sagestep_training.datasets import CLASSIFICATION_CSV, REGRESSION_CSV, REGRESSION_TARGET
from tests.statemachines.harness import container_processes, execution_arn, execution_history, states_entered

#: Tiny trainings: each job takes seconds on two cores.
FAST: dict[str, Any] = {"epochs": 3, "batch_size": 64}
#: A regression row (rainfall_mm, sunshine_h, soil_ph, temperature_c, fertilizer_kg_ha).
CROP_ROW = [600.0, 1800.0, 6.5, 15.0, 100.0]
TRAIN_STATUSES = ["SUBMITTED", "TRAINING_MODEL", "CREATING_MODEL", "CONFIGURING_ENDPOINT", "DEPLOYING_ENDPOINT"]
JOB_TIMEOUT = 180.0  # seconds a tiny job may take on a busy machine before a test gives up
TERMINAL_EXECUTION = {"SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED"}
HERE = Path(__file__).parent


@dataclass(frozen=True)
class Execution:
    """How a job's execution ended and the states it entered, in order."""

    status: str
    entered: list[str]


class SignedIn:
    """A token provider for one user of the local pool: signs in once, again after ``invalidate()``."""

    def __init__(self, runtime: LocalRuntime, username: str | None = None, password: str | None = None) -> None:
        self._runtime = runtime
        self._username = username
        self._password = password
        self._lock = threading.Lock()
        self._token: str | None = None

    def __call__(self) -> str:
        with self._lock:
            if self._token is None:
                if self._username is None:
                    self._token = self._runtime.sign_in()
                else:
                    self._token = self._runtime.sign_in(self._username, self._password)
            return self._token

    def invalidate(self) -> None:
        with self._lock:
            self._token = None


class Backend:
    """A started local runtime, its demo user's client, the uploaded datasets, and read-only probes."""

    def __init__(self, runtime: LocalRuntime) -> None:
        assert runtime.info is not None
        self.runtime = runtime
        self.info: RuntimeInfo = runtime.info
        self.api_url = self.info.api_url
        self.token = SignedIn(runtime)
        self.client = SagestepClient(self.api_url, self.token, retries=2, backoff=0.2)
        self.sagemaker = runtime.client("sagemaker")
        self.sfn = runtime.client("stepfunctions")
        self.state_machine_arn = runtime.stack.outputs["TrainingStateMachineArn"]
        # Uploaded as a user uploads: into the demo user's own prefix, through POST /uploads
        first = self.client.upload(REGRESSION_CSV.read_bytes(), "e2e/crop_yield.csv")
        self.data_prefix = first.removesuffix("e2e/crop_yield.csv")
        self.client.upload(CLASSIFICATION_CSV.read_bytes(), "e2e/machine_condition.csv")
        self.regression: dict[str, Any] = {"dataUri": first, "target": REGRESSION_TARGET}

    def uri(self, path: str) -> str:
        """The ``s3://`` URI of ``path`` in the demo user's prefix of the data bucket."""
        return f"{self.data_prefix}{path}"

    def headers(self, token: str | None = None) -> dict[str, str]:
        return {"Authorization": token if token is not None else self.token()}

    def http(self, method: str, path: str, *, token: str | None = None, **kwargs: Any) -> httpx.Response:
        """A raw request with the demo user's token (or ``token``), for what the client checks locally."""
        return httpx.request(method, f"{self.api_url}{path}", headers=self.headers(token), timeout=35, **kwargs)

    def other_user(self, email: str, password: str = "Other-user-Passw0rd-1a") -> SagestepClient:
        """A client signed in as a second user of the pool (created on first use)."""
        self.runtime.create_user(email, password)
        return SagestepClient(self.api_url, SignedIn(self.runtime, email, password), retries=2, backoff=0.2)

    # Jobs -------------------------------------------------------------------------------------------

    def finished(
        self, job_id: str, client: SagestepClient | None = None, timeout: float = JOB_TIMEOUT
    ) -> TrainingJobView:
        """Wait for the job's workflow to end as a user would (polling the API), then for its execution
        to end and background work to settle, so notifications and clean-up are complete."""
        (client or self.client).wait(job_id, timeout=timeout, poll_interval=0.25)
        arn = execution_arn(self.state_machine_arn, job_id)
        deadline = time.monotonic() + 30
        while self.sfn.describe_execution(executionArn=arn)["status"] not in TERMINAL_EXECUTION:
            assert time.monotonic() < deadline, f"the execution of {job_id} did not end after its job did"
            time.sleep(0.1)
        self.runtime.wait_idle(10)
        return (client or self.client).get_job(job_id)

    def train(self, body: Mapping[str, Any], client: SagestepClient | None = None) -> TrainingJobView:
        """``POST /model`` and wait until the workflow has ended."""
        return self.finished((client or self.client).train(dict(body)).jobId, client)

    def hpo(self, body: Mapping[str, Any]) -> TrainingJobView:
        """``POST /hpo`` and wait until the workflow has ended."""
        return self.finished(self.client.hpo(dict(body)).jobId)

    def execution(self, job_id: str) -> Execution:
        """The job's execution: its status and the states it entered (the path a user's request took)."""
        arn = execution_arn(self.state_machine_arn, job_id)
        status = self.sfn.describe_execution(executionArn=arn)["status"]
        return Execution(status, states_entered(execution_history(self.sfn, arn)))

    def notifications_for(self, job_id: str) -> list[dict[str, Any]]:
        return [n for n in self.runtime.notifications() if n["message"].get("jobId") == job_id]

    def executions_named(self, name: str) -> list[dict[str, Any]]:
        executions: list[dict[str, Any]] = []
        kwargs: dict[str, Any] = {"stateMachineArn": self.state_machine_arn, "maxResults": 100}
        while True:
            page = self.sfn.list_executions(**kwargs)
            executions += [e for e in page["executions"] if e["name"] == name]
            if not page.get("nextToken"):
                return executions
            kwargs["nextToken"] = page["nextToken"]

    # What SageMaker holds -----------------------------------------------------------------------------

    def endpoints(self) -> dict[str, str]:
        return {e["EndpointName"]: e["EndpointStatus"] for e in self.sagemaker.list_endpoints()["Endpoints"]}

    def endpoint_configs(self) -> set[str]:
        return {c["EndpointConfigName"] for c in self.sagemaker.list_endpoint_configs()["EndpointConfigs"]}

    def models(self) -> set[str]:
        return {m["ModelName"] for m in self.sagemaker.list_models()["Models"]}

    def processes_of(self, job_id: str) -> list[int]:
        """Running container processes (training or model server) of ``job_id``."""
        return container_processes(self.runtime, job_id)

    def assert_failed_cleanly(self, job: TrainingJobView) -> None:
        """A failed job: ERROR with an explanation, one ERROR notification, nothing of it left running."""
        assert job.status == "ERROR", job
        assert job.error and job.errorCause, job
        assert [h.status for h in job.history][-1] == "ERROR"
        notes = self.notifications_for(job.jobId)
        assert len(notes) == 1, notes
        assert notes[0]["attributes"] == {"kind": "model", "status": "ERROR"}
        assert notes[0]["message"]["status"] == "ERROR"
        assert job.jobId not in self.endpoints()
        assert job.jobId not in self.endpoint_configs()
        assert job.jobId not in self.models()
        assert self.processes_of(job.jobId) == []


def finite_numbers(values: list[Any]) -> bool:
    return all(isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v) for v in values)


@pytest.fixture(scope="package")
def backend() -> Iterator[Backend]:
    """One local runtime for every module of the folder (starting one takes seconds, and only one can run in
    a process at a time: it is stopped when the folder's tests are done)."""
    with LocalRuntime(port=0, sync_poll_interval=0.1) as runtime:
        backend = Backend(runtime)
        try:
            yield backend
        finally:
            runtime.faults.clear()
            backend.client.close()


@pytest.fixture(autouse=True)
def _disarm_faults(backend: Backend) -> Iterator[None]:
    """A fault a test armed and did not use must not hit another test's job on the shared runtime."""
    yield
    backend.runtime.faults.clear()


@pytest.fixture(scope="package")
def regression_job(backend: Backend) -> TrainingJobView:
    """One READY regression model of the demo user, for every check that only reads or predicts with it (no
    test deletes, updates or supersedes it)."""
    job = backend.train({**backend.regression, "hyperparameters": FAST})
    assert job.status == "READY", job
    return job


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Every test here runs against the local runtime: ``slow`` (``make unit`` leaves them out)."""
    for item in items:
        if item.path.is_relative_to(HERE):
            item.add_marker(pytest.mark.slow)
