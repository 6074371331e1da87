"""Run the real training state machine in the local runtime and read what it did: the execution history,
the job record, the notifications and the SageMaker resources left behind.

``tests/e2e`` reads executions and container processes with the same functions (:func:`states_entered`,
:func:`container_processes`).
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass
from typing import Any

import httpx

from sagestep.client import SagestepClient
from sagestep.local.runtime import LocalRuntime
from sagestep_training.datasets import REGRESSION_CSV, REGRESSION_TARGET

FAST = {"epochs": 3, "batch_size": 64}
TERMINAL = {"SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED"}


# Reading an execution -------------------------------------------------------------------------------------


def execution_arn(state_machine_arn: str, job_id: str) -> str:
    """A job's execution (it is named after the job)."""
    return state_machine_arn.replace(":stateMachine:", ":execution:") + f":{job_id}"


def execution_history(sfn: Any, arn: str) -> list[dict[str, Any]]:
    """Every event of an execution, in order."""
    events: list[dict[str, Any]] = []
    kwargs: dict[str, Any] = {"executionArn": arn, "maxResults": 1000}
    while True:
        page = sfn.get_execution_history(**kwargs)
        events += page["events"]
        if not page.get("nextToken"):
            return events
        kwargs["nextToken"] = page["nextToken"]


def states_entered(events: list[dict[str, Any]]) -> list[str]:
    """Names of the states entered, in order."""
    return [e["stateEnteredEventDetails"]["name"] for e in events if e["type"].endswith("StateEntered")]


def container_processes(runtime: LocalRuntime, job_id: str) -> list[int]:
    """Running container processes (training or model server) working in a folder of ``job_id``: training
    runs in ``training/<job>/``, model servers in ``endpoints/<endpoint>/<n>-<config>/``."""
    mine = []
    for pid in runtime.aws.child_processes():
        try:
            cwd = os.readlink(f"/proc/{pid}/cwd")
        except OSError:
            continue  # ended meanwhile
        if job_id in cwd:
            mine.append(pid)
    return mine


def non_numeric_feature_csv() -> bytes:
    """The regression data with a word in one feature cell: the header (and target) are fine, so the
    submission is accepted and the container must reject the data."""
    lines = REGRESSION_CSV.read_text(encoding="utf-8").splitlines()
    cells = lines[6].split(",")
    cells[1] = "sunny"  # sunshine_h on line 7 of the file
    lines[6] = ",".join(cells)
    return ("\n".join(lines) + "\n").encode()


# The harness ---------------------------------------------------------------------------------------------


@dataclass
class Run:
    """One execution of the training state machine, after it ended."""

    job_id: str
    status: str
    record: dict[str, Any]
    events: list[dict[str, Any]]

    @property
    def entered(self) -> list[str]:
        """Names of the states entered, in order."""
        return states_entered(self.events)

    def failures_of(self, state: str) -> list[dict[str, Any]]:
        """Task failures that happened while ``state`` ran (retries show up here)."""
        failures, current = [], None
        for event in self.events:
            if event["type"].endswith("StateEntered"):
                current = event["stateEnteredEventDetails"]["name"]
            elif event["type"] == "TaskFailed" and current == state:
                failures.append(event["taskFailedEventDetails"])
        return failures

    @property
    def statuses(self) -> list[str]:
        """The job's status history as the state machine recorded it."""
        return [h["status"] for h in self.record["history"]]


class Harness:
    """Submits jobs through the API (the only way a job starts) and waits for their executions; ``client`` is
    the demo user's :class:`SagestepClient`, for what a user sees of a path (predictions, refusals)."""

    def __init__(self, runtime: LocalRuntime) -> None:
        self.runtime = runtime
        info = runtime.info
        assert info is not None
        self.info = info
        token = runtime.sign_in()
        self.headers = {"Authorization": token}
        self.client = SagestepClient(info.api_url, lambda: token, retries=2, backoff=0.2)
        self.sfn = runtime.client("stepfunctions")
        self.sagemaker = runtime.client("sagemaker")
        self.table = runtime.client("dynamodb")
        self.state_machine_arn = runtime.stack.outputs["TrainingStateMachineArn"]
        self.regression = {
            "dataUri": self.upload("paths/regression.csv", REGRESSION_CSV.read_bytes()),
            "target": REGRESSION_TARGET,
        }

    def upload(self, path: str, body: bytes) -> str:
        """Upload into the demo user's prefix as a user does (``POST /uploads``, then the presigned PUT)."""
        grant = httpx.post(f"{self.info.api_url}/uploads", json={"path": path}, headers=self.headers, timeout=30)
        assert grant.status_code == 201, grant.text
        httpx.put(grant.json()["uploadUrl"], content=body, timeout=30).raise_for_status()
        return str(grant.json()["dataUri"])

    def submit(self, route: str, body: dict[str, Any]) -> str:
        response = httpx.post(f"{self.info.api_url}{route}", json=body, headers=self.headers, timeout=30)
        assert response.status_code == 202, response.text
        return str(response.json()["jobId"])

    def job(self, kind: str, job_id: str) -> dict[str, Any]:
        response = httpx.get(f"{self.info.api_url}/{kind}/{job_id}", headers=self.headers, timeout=30)
        assert response.status_code == 200, response.text
        return dict(response.json())

    def run(self, route: str, body: dict[str, Any], timeout: float = 240) -> Run:
        """Submit, wait for the execution to end, return what happened."""
        job_id = self.submit(route, body)
        arn = execution_arn(self.state_machine_arn, job_id)
        deadline = time.monotonic() + timeout
        while (status := self.sfn.describe_execution(executionArn=arn)["status"]) not in TERMINAL:
            assert time.monotonic() < deadline, f"{job_id} still {status} after {timeout} s"
            time.sleep(0.2)
        events = execution_history(self.sfn, arn)
        self.runtime.wait_idle(30)
        return Run(job_id, status, self.job(route.strip("/"), job_id), events)

    def notifications_for(self, job_id: str) -> list[dict[str, Any]]:
        return [n for n in self.runtime.notifications() if n["message"]["jobId"] == job_id]

    def endpoints(self) -> dict[str, str]:
        return {e["EndpointName"]: e["EndpointStatus"] for e in self.sagemaker.list_endpoints()["Endpoints"]}

    def models(self) -> list[str]:
        return [m["ModelName"] for m in self.sagemaker.list_models()["Models"]]

    def endpoint_configs(self) -> list[str]:
        return [c["EndpointConfigName"] for c in self.sagemaker.list_endpoint_configs()["EndpointConfigs"]]

    def predict(self, endpoint: str, row: list[float]) -> Any:
        body = ",".join(str(v) for v in row)
        runtime = self.runtime.client("sagemaker-runtime")
        answer = runtime.invoke_endpoint(EndpointName=endpoint, ContentType="text/csv", Body=body)
        return json.loads(answer["Body"].read())["predictions"][0]

    def processes_of(self, job_id: str) -> list[int]:
        return container_processes(self.runtime, job_id)

    def assert_failed_cleanly(self, run: Run) -> None:
        """A failed model job as its user sees it: ERROR with an explanation, one ERROR notification, and
        nothing of it left (endpoint, endpoint config, model, container process)."""
        assert run.status == "FAILED", run.status
        assert run.record["status"] == "ERROR", run.record
        assert run.record["error"] and run.record["errorCause"], run.record
        assert run.statuses[-1] == "ERROR"
        notes = self.notifications_for(run.job_id)
        assert len(notes) == 1, notes
        assert notes[0]["attributes"] == {"kind": "model", "status": "ERROR"}
        assert notes[0]["message"]["status"] == "ERROR"
        assert notes[0]["message"]["summary"]["error"] == run.record["error"]
        assert run.job_id not in self.endpoints()
        assert run.job_id not in self.endpoint_configs()
        assert run.job_id not in self.models()
        assert self.processes_of(run.job_id) == []
