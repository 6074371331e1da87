"""Submitting a job: id, record, execution — idempotent under retries and concurrent duplicates."""

from __future__ import annotations

import hashlib
import json
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import ClientError

from sagestep_service.dal.jobs import EndpointBusy, JobExists, JobStore, now_iso, owner_kind
from sagestep_service.errors import BadRequest, Conflict, NotFound
from sagestep_service.logic import datasets, plans
from sagestep_service.models.api import HpoRequest, TrainRequest
from sagestep_service.models.jobs import JobKind, JobStatus
from sagestep_service.settings import TrainingSettings


@dataclass(frozen=True)
class Submission:
    """The job a submission refers to and whether this call created it."""

    record: dict[str, Any]
    created: bool


def new_job_id(kind: JobKind, owner: str, idempotency_key: str | None) -> str:
    """A fresh, time-ordered id, or a deterministic one for an idempotency key (same key, same job)."""
    if idempotency_key:
        digest = hashlib.sha256(f"{owner}\n{kind.value}\n{idempotency_key}".encode()).hexdigest()
        return f"{kind.value}-{digest[:24]}"
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    return f"{kind.value}-{stamp}-{secrets.token_hex(4)}"


def request_hash(request: dict[str, Any]) -> str:
    """Fingerprint of a request, to tell a replay from a different request reusing a key."""
    return hashlib.sha256(json.dumps(request, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def owned_job(store: JobStore, job_id: str, owner: str, kind: JobKind, field: str | None = None) -> dict[str, Any]:
    """The caller's job of ``kind``; another user's job is as unknown as a missing one."""
    record = store.get(job_id)
    if record is None or record.get("owner") != owner or record.get("kind") != kind.value:
        what = f"{field}: " if field else ""
        raise NotFound(f"{what}no {kind.value} job {job_id!r}")
    return record


class Submitter:
    """Creates job records and starts the training state machine."""

    def __init__(self, settings: TrainingSettings, store: JobStore, sfn: Any, s3: Any) -> None:
        self._settings = settings
        self._store = store
        self._sfn = sfn
        self._s3 = s3

    def submit_training(self, owner: str, request: TrainRequest, idempotency_key: str | None) -> Submission:
        """``POST /model``."""
        body = request.model_dump(mode="json", exclude_none=True)
        job_id = new_job_id(JobKind.MODEL, owner, idempotency_key)
        replay = self._replay(job_id, owner, body)
        if replay:
            return replay
        data_uri, target, problem_type = request.dataUri, request.target, request.problemType
        hyperparameters: dict[str, Any] = dict(request.hyperparameters)
        if request.hpoJobId:
            hpo_job = owned_job(self._store, request.hpoJobId, owner, JobKind.HPO, "hpoJobId")
            if hpo_job["status"] != JobStatus.HPO_COMPLETED or not hpo_job.get("hpo"):
                raise Conflict(f"hpoJobId: HPO job {request.hpoJobId!r} has not completed (status {hpo_job['status']})")
            hpo_request = hpo_job["request"]
            data_uri = data_uri or hpo_request["dataUri"]
            target = target or hpo_request["target"]
            problem_type = problem_type or hpo_request.get("problemType")
            hyperparameters = {
                **hpo_request.get("hyperparameters", {}),
                **hpo_job["hpo"]["bestHyperparameters"],
                **request.hyperparameters,
            }
        assert data_uri is not None and target is not None  # guaranteed by TrainRequest's validator
        previous = None
        if request.updateEndpointOf:
            previous = owned_job(self._store, request.updateEndpointOf, owner, JobKind.MODEL, "updateEndpointOf")
            if previous["status"] != JobStatus.READY or not previous.get("resources", {}).get("endpointName"):
                raise Conflict(
                    f"updateEndpointOf: job {request.updateEndpointOf!r} has no endpoint in service "
                    f"(status {previous['status']})"
                )
        elif request.deployment.autoRollbackAlarmName:
            raise BadRequest("deployment.autoRollbackAlarmName", "applies only with updateEndpointOf")
        datasets.check_data(self._s3, self._settings.data_bucket, data_uri, target)
        plan = plans.training_plan(
            self._settings,
            job_id,
            owner,
            request,
            data_uri,
            target,
            problem_type or "regression",
            hyperparameters,
            previous,
        )
        if previous is None:
            return self._start(job_id, JobKind.MODEL, owner, body, "TRAIN", plan)
        # One in-place update of an endpoint at a time: reserved here, released when the update ends.
        try:
            self._store.reserve_endpoint(previous["jobId"], job_id)
        except EndpointBusy as exc:
            current = self._store.get(previous["jobId"]) or {}
            raise Conflict(
                f"updateEndpointOf: the endpoint of {previous['jobId']!r} is being updated by job "
                f"{current.get('updatingBy', '?')!r}; wait for it to end"
            ) from exc
        try:
            return self._start(job_id, JobKind.MODEL, owner, body, "TRAIN", plan)
        except BaseException:
            self._store.release_endpoint(previous["jobId"], job_id)
            raise

    def submit_hpo(self, owner: str, request: HpoRequest, idempotency_key: str | None) -> Submission:
        """``POST /hpo``."""
        body = request.model_dump(mode="json", exclude_none=True)
        job_id = new_job_id(JobKind.HPO, owner, idempotency_key)
        replay = self._replay(job_id, owner, body)
        if replay:
            return replay
        datasets.check_data(self._s3, self._settings.data_bucket, request.dataUri, request.target)
        plan = plans.hpo_plan(self._settings, job_id, owner, request)
        return self._start(job_id, JobKind.HPO, owner, body, "HPO", plan)

    def _replay(self, job_id: str, owner: str, body: dict[str, Any]) -> Submission | None:
        """The existing job for a replayed key, or None if the id is new."""
        existing = self._store.get(job_id)
        if existing is None:
            return None
        return self._same_or_conflict(existing, owner, body)

    def _same_or_conflict(self, existing: dict[str, Any], owner: str, body: dict[str, Any]) -> Submission:
        if existing.get("owner") != owner or existing.get("requestHash") != request_hash(body):
            raise Conflict("Idempotency-Key: this key was already used for a different request")
        if existing["status"] == JobStatus.SUBMITTED and existing.get("executionInput"):
            # The first submission may have died between writing the record and starting the
            # execution; starting again is safe because the execution name is the job id.
            self._start_execution(existing["jobId"], existing["executionInput"])
        return Submission(existing, created=False)

    def _start(
        self, job_id: str, kind: JobKind, owner: str, body: dict[str, Any], mode: str, plan: dict[str, Any]
    ) -> Submission:
        execution_input = json.dumps(
            {"jobId": job_id, "kind": kind.value, "owner": owner, "mode": mode, "plan": plan},
            separators=(",", ":"),
        )
        now = now_iso()
        record = {
            "jobId": job_id,
            "kind": kind.value,
            "owner": owner,
            "ownerKind": owner_kind(owner, kind.value),
            "createdAt": now,
            "updatedAt": now,
            "status": JobStatus.SUBMITTED.value,
            "request": body,
            "requestHash": request_hash(body),
            "executionInput": execution_input,
            "resources": {},
            "history": [{"status": JobStatus.SUBMITTED.value, "at": now}],
        }
        try:
            self._store.create(record)
        except JobExists:
            # A concurrent duplicate won the conditional put: answer with its job.
            existing = self._store.get(job_id)
            assert existing is not None
            return self._same_or_conflict(existing, owner, body)
        try:
            arn = self._start_execution(job_id, execution_input)
        except Exception:
            self._store.delete_submitted(job_id)
            raise
        record["executionArn"] = arn
        return Submission(record, created=True)

    def _start_execution(self, job_id: str, execution_input: str) -> str:
        try:
            response = self._sfn.start_execution(
                stateMachineArn=self._settings.training_state_machine_arn, name=job_id, input=execution_input
            )
            return str(response["executionArn"])
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "ExecutionAlreadyExists":
                raise
            arn = self._settings.training_state_machine_arn.replace(":stateMachine:", ":execution:")
            return f"{arn}:{job_id}"
