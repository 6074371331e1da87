"""What the labeling path tests (``test_labeling_paths.py``) and end-to-end tests (``tests/e2e/test_local_labeling.py``)
share: sample data uploaded as a user uploads it, batch bodies, waiting for a batch's execution, and reading what the
local Ground Truth and S3 hold of a batch.

A batch is submitted through the API (``POST /batch/create``) and read through it (``GET /batch/show``); the
embedded AWS is read only for what a user cannot see there (the states entered, the labeling jobs' statuses).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx
from botocore.exceptions import ClientError

from sagestep.demo import labeling_samples as samples
from sagestep.local.runtime import LocalRuntime
from sagestep_service.platform.submission import named_job_id
from sagestep_service.workflows.labeling.models import KIND
from tests.statemachines.harness import TERMINAL, execution_arn, execution_history, states_entered

CLASSES = list(samples.CLASSES)
#: The states of a level whose jobs all completed (one job: one CreateLabelingJob).
LEVEL = ["Advance", "MoreLevels", "LabelLevel", "CreateLabelingJob", "LabelingJobDone"]
SUCCESS_TAIL = ["Advance", "MoreLevels", "Finish", "RecordComplete", "NotifySucceeded", "HasDestination", "Succeeded"]
FAILURE_TAIL = ["ExplainFailure", "FailureStatus", "RecordFailed", "NotifyFailed", "FailureHasDestination", "JobFailed"]
STOPPED_TAIL = [
    "ExplainFailure",
    "FailureStatus",
    "RecordStopped",
    "NotifyFailed",
    "FailureHasDestination",
    "JobFailed",
]


@dataclass
class Batch:
    """One batch after its execution ended: the execution's status and events, the batch as ``GET /batch/show``
    answers it."""

    batch_id: str
    job_id: str
    status: str
    view: dict[str, Any]
    events: list[dict[str, Any]]

    @property
    def entered(self) -> list[str]:
        return states_entered(self.events)

    def job(self, name: str) -> dict[str, Any]:
        """A job of the batch's view by its ``jobName``."""
        return next(job for level in self.view["levels"] for job in level["jobs"] if job["jobName"] == name)

    def level(self, number: int) -> dict[str, Any]:
        return dict(self.view["levels"][number - 1])

    def failures_of(self, state: str) -> list[dict[str, Any]]:
        """Task failures that happened while ``state`` ran (retries show up here)."""
        failures, current = [], None
        for event in self.events:
            if event["type"].endswith("StateEntered"):
                current = event["stateEnteredEventDetails"]["name"]
            elif event["type"] == "TaskFailed" and current == state:
                failures.append(event["taskFailedEventDetails"])
        return failures


class Labeling:
    """A user's view of the labeling workflow on a started runtime (``token`` signs the user in)."""

    def __init__(self, runtime: LocalRuntime, token: Callable[[], str]) -> None:
        assert runtime.info is not None
        self.runtime = runtime
        self.api_url = runtime.info.api_url
        self.bucket = runtime.info.data_bucket
        self.token = token
        self.s3 = runtime.client("s3")
        self.sfn = runtime.client("stepfunctions")
        self.sagemaker = runtime.client("sagemaker")
        self.state_machine_arn = runtime.stack.outputs["LabelingStateMachineArn"]
        self.workteam = runtime.stack.outputs["LabelingWorkteamArn"]
        self.experts = self.workteam.rsplit("/", 1)[0] + "/sagestep-experts"
        self.categories = self.upload("labeling/labels.json", samples.categories())
        self.owner = self.categories.split("/users/", 1)[1].split("/", 1)[0]

    # Requests --------------------------------------------------------------------------------------------

    def headers(self, **extra: str) -> dict[str, str]:
        return {"Authorization": self.token(), **extra}

    def request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        headers = self.headers(**kwargs.pop("headers", {}))
        return httpx.request(method, f"{self.api_url}{path}", headers=headers, timeout=35, **kwargs)

    def upload(self, path: str, body: bytes) -> str:
        """Upload into the user's prefix as a user does (``POST /uploads``, then the presigned PUT)."""
        grant = self.request("POST", "/uploads", json={"path": path})
        assert grant.status_code == 201, grant.text
        httpx.put(grant.json()["uploadUrl"], content=body, timeout=30).raise_for_status()
        return str(grant.json()["dataUri"])

    def reviews(self, path: str, count: int, seed: int = 7) -> str:
        """A manifest of ``count`` sample reviews (with their answer keys) under the user's prefix."""
        return self.upload(path, samples.manifest(count, seed))

    def create(self, body: dict[str, Any], key: str | None = None) -> httpx.Response:
        headers = {"Idempotency-Key": key} if key else {}
        return self.request("POST", "/batch/create", json=body, headers=headers)

    def show(self, batch_id: str) -> dict[str, Any]:
        response = self.request("GET", "/batch/show", params={"batchId": batch_id})
        assert response.status_code == 200, response.text
        return dict(response.json())

    # Executions ------------------------------------------------------------------------------------------

    def job_id(self, batch_id: str) -> str:
        return named_job_id(KIND, self.owner, batch_id)

    def execution_arn(self, batch_id: str) -> str:
        return execution_arn(self.state_machine_arn, self.job_id(batch_id))

    def wait(self, batch_id: str, timeout: float = 60) -> Batch:
        """Wait for the batch's execution to end and background work (labeling jobs) to settle."""
        arn = self.execution_arn(batch_id)
        deadline = time.monotonic() + timeout
        while (status := self.sfn.describe_execution(executionArn=arn)["status"]) not in TERMINAL:
            assert time.monotonic() < deadline, f"{batch_id} still {status} after {timeout} s"
            time.sleep(0.1)
        self.runtime.wait_idle(20)
        return Batch(batch_id, self.job_id(batch_id), status, self.show(batch_id), execution_history(self.sfn, arn))

    def run(self, body: dict[str, Any], timeout: float = 60) -> Batch:
        """Submit (202) and wait for the batch to end."""
        response = self.create(body)
        assert response.status_code == 202, response.text
        return self.wait(body["batchId"], timeout)

    def wait_for_job_status(self, labeling_job_name: str, status: str, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while True:
            try:
                current = self.sagemaker.describe_labeling_job(LabelingJobName=labeling_job_name)["LabelingJobStatus"]
            except ClientError:
                current = None  # not created yet
            if current == status:
                return
            assert time.monotonic() < deadline, f"{labeling_job_name} is {current}, not {status}, after {timeout} s"
            time.sleep(0.1)

    # What the batch left ----------------------------------------------------------------------------------

    def notifications_for(self, batch_id: str) -> list[dict[str, Any]]:
        """The platform topic's messages about the batch."""
        return [n for n in self.runtime.notifications() if n["message"].get("batchId") == batch_id]

    def labeling_jobs(self, batch: Batch) -> dict[str, str | None]:
        """Each planned job's status in the local Ground Truth (None: never created), by ``jobName``."""
        statuses: dict[str, str | None] = {}
        for level in batch.view["levels"]:
            for job in level["jobs"]:
                try:
                    described = self.sagemaker.describe_labeling_job(LabelingJobName=job["labelingJobName"])
                    statuses[job["jobName"]] = described["LabelingJobStatus"]
                except ClientError as exc:
                    assert exc.response["Error"]["Code"] in ("ResourceNotFound", "ValidationException"), exc
                    statuses[job["jobName"]] = None
        return statuses

    def read(self, uri: str) -> bytes:
        bucket, _, key = uri.removeprefix("s3://").partition("/")
        body: bytes = self.s3.get_object(Bucket=bucket, Key=key)["Body"].read()
        return body

    def manifest(self, uri: str) -> list[dict[str, Any]]:
        """A manifest's items (JSON Lines)."""
        return [json.loads(line) for line in self.read(uri).decode().splitlines() if line.strip()]


def text_job(name: str, level: int, **fields: Any) -> dict[str, Any]:
    """A TextClassification job of the batch body (``manifest=`` a manifest URI, or ``chain=`` job names)."""
    manifest, chain = fields.pop("manifest", None), fields.pop("chain", None)
    config: dict[str, Any] = {"inputManifestS3Uri": manifest} if manifest else {"chainFromJobName": chain}
    if "filter" in fields:
        config["filter"] = fields.pop("filter")
    return {
        "jobName": name,
        "jobType": "BATCH",
        "jobModality": "TextClassification",
        "jobLevel": level,
        "inputConfig": config,
        **fields,
    }
