"""Submitting a job of any workflow: id, record, execution — idempotent under retries and concurrent
duplicates.

The job's record is the claim: it is written with a conditional put before anything else happens, so of
concurrent submissions with one ``Idempotency-Key`` exactly one goes on, and a loser has taken nothing it
could release. Side effects a workflow takes for a job (e.g. reserving an endpoint for an in-place update)
come after the claim and are undone only by the call that took them.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import ClientError

from sagestep_service.platform.errors import BadRequest, Conflict, NotFound
from sagestep_service.platform.jobs import JobExists, JobStore, now_iso, owner_kind
from sagestep_service.platform.models import SUBMITTED

#: How long a claimed record whose execution never started is kept: its ``expiresAt`` (epoch seconds, the table's
#: TTL attribute) lets DynamoDB remove it; the execution's first status write removes ``expiresAt``, so a job
#: that started is never removed. A replay within this time still finds the claim and starts its execution.
UNSTARTED_JOB_TTL_SECONDS = 24 * 60 * 60

#: Limits by design. Step Functions' state limit is 256 KiB and cannot be caught (``States.DataLimitExceeded``):
#: an execution input of at most a quarter of it leaves room for what the state gathers on its way (task
#: results, a caught failure's cause of up to 32 KiB). A job record is written with the request and the
#: execution input and grows afterwards (history, results, cause): at most 128 KiB at submission keeps it far
#: from DynamoDB's 400 KB item limit.
MAX_EXECUTION_INPUT_BYTES = 64 * 1024
MAX_RECORD_BYTES = 128 * 1024


@dataclass(frozen=True)
class Submission:
    """The job a submission refers to and whether this call created it."""

    record: dict[str, Any]
    created: bool


def new_job_id(kind: str, owner: str, idempotency_key: str | None) -> str:
    """A fresh, time-ordered id, or a deterministic one for an idempotency key (same key, same job)."""
    if idempotency_key:
        digest = hashlib.sha256(f"{owner}\n{kind}\n{idempotency_key}".encode()).hexdigest()
        return f"{kind}-{digest[:24]}"
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    return f"{kind}-{stamp}-{secrets.token_hex(4)}"


def named_job_id(kind: str, owner: str, name: str) -> str:
    """The id of the owner's job that the owner named ``name`` (e.g. a labeling batch's ``batchId``): one name, one
    job, so that the claim itself (a conditional put) refuses a second job of the same name."""
    digest = hashlib.sha256(f"{owner}\n{kind}\nname:{name}".encode()).hexdigest()
    return f"{kind}-{digest[:24]}"


@dataclass(frozen=True)
class JobName:
    """A job named by its owner: ``field`` (the request field holding the name) and the ``value``."""

    field: str
    value: str


def request_hash(request: dict[str, Any]) -> str:
    """Fingerprint of a request, to tell a replay from a different request reusing a key."""
    return hashlib.sha256(json.dumps(request, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def owned_job(store: JobStore, job_id: str, owner: str, kind: str, field: str | None = None) -> dict[str, Any]:
    """The caller's job of ``kind``; another user's job is as unknown as a missing one."""
    record = store.get(job_id)
    if record is None or record.get("owner") != owner or record.get("kind") != kind:
        what = f"{field}: " if field else ""
        raise NotFound(f"{what}no {kind} job {job_id!r}")
    return record


def execution_plan(record: dict[str, Any]) -> dict[str, Any]:
    """The plan a job's execution was started with (its record keeps the execution input)."""
    plan: dict[str, Any] = json.loads(record.get("executionInput") or "{}").get("plan", {})
    return plan


#: Takes a side effect for a claimed job and returns how to undo it, or None when this call took nothing
#: (e.g. the reservation was already held by the same job).
Acquire = Callable[[], Callable[[], None] | None]


@dataclass(frozen=True)
class Prepared:
    """A validated submission, ready to claim: the execution input's ``mode`` and ``plan``, and the side
    effects to take once the claim is won."""

    mode: str
    plan: dict[str, Any]
    acquire: tuple[Acquire, ...] = dataclasses.field(default_factory=tuple)


class Submitter:
    """Claims a job record and starts its workflow's state machine."""

    def __init__(self, store: JobStore, sfn: Any, state_machine_arn: str) -> None:
        self._store = store
        self._sfn = sfn
        self._state_machine_arn = state_machine_arn

    def submit(
        self,
        *,
        kind: str,
        owner: str,
        body: dict[str, Any],
        idempotency_key: str | None,
        prepare: Callable[[str], Prepared],
        name: JobName | None = None,
    ) -> Submission:
        """Submit ``body`` as a job of ``kind``: a replay returns the existing job; otherwise ``prepare(job_id)``
        validates and plans (reads only), the record is claimed, the prepared side effects are taken and the
        execution is started. A failure after the claim undoes what this call took and removes the record.

        A ``name``d job has the id of its name (`named_job_id`): a second submission of the name is a conflict,
        unless it repeats the first one's ``Idempotency-Key`` and body (a replay)."""
        job_id = named_job_id(kind, owner, name.value) if name else new_job_id(kind, owner, idempotency_key)
        existing = self._store.get(job_id)
        if existing is not None:
            self._check_replay(existing, owner, body, idempotency_key, name)
            if existing["status"] != SUBMITTED or not existing.get("executionInput"):
                # Its execution started: the replay is answered with the job as it is, not validated again (its
                # data may have changed since, e.g. a folder emptied by the finished job's owner).
                return Submission(existing, created=False)
        prepared = prepare(job_id)
        if existing is not None:
            return self._resume(existing, prepared)
        execution_input = json.dumps(
            {"jobId": job_id, "kind": kind, "owner": owner, "mode": prepared.mode, "plan": prepared.plan},
            separators=(",", ":"),
        )
        if len(execution_input.encode()) > MAX_EXECUTION_INPUT_BYTES:
            raise BadRequest(
                "body",
                f"the request makes a workflow input of {len(execution_input.encode())} bytes; at most "
                f"{MAX_EXECUTION_INPUT_BYTES} (shorten the longest fields)",
            )
        now = now_iso()
        record = {
            "jobId": job_id,
            "kind": kind,
            "owner": owner,
            "ownerKind": owner_kind(owner, kind),
            "createdAt": now,
            "updatedAt": now,
            "status": SUBMITTED,
            "request": body,
            "requestHash": request_hash(body),
            "executionInput": execution_input,
            **({"idempotencyKey": idempotency_key} if name and idempotency_key else {}),
            "resources": {},
            "history": [{"status": SUBMITTED, "at": now}],
            "expiresAt": int(datetime.now(UTC).timestamp()) + UNSTARTED_JOB_TTL_SECONDS,
        }
        record_size = len(json.dumps(record, separators=(",", ":")).encode())
        if record_size > MAX_RECORD_BYTES:
            raise BadRequest(
                "body", f"the request makes a job record of {record_size} bytes; at most {MAX_RECORD_BYTES}"
            )
        try:
            self._store.create(record)
        except JobExists:
            # A concurrent duplicate won the claim: answer with its job (this call has taken nothing).
            winner = self._store.get(job_id)
            assert winner is not None
            self._check_replay(winner, owner, body, idempotency_key, name)
            return self._resume(winner, prepared)
        undo: list[Callable[[], None]] = []
        try:
            for acquire in prepared.acquire:
                release = acquire()
                if release is not None:
                    undo.append(release)
            record["executionArn"] = self._start_execution(job_id, execution_input)
        except BaseException:
            for release in reversed(undo):
                release()
            self._store.delete_submitted(job_id)
            raise
        return Submission(record, created=True)

    @staticmethod
    def _check_replay(
        existing: dict[str, Any],
        owner: str,
        body: dict[str, Any],
        idempotency_key: str | None = None,
        name: JobName | None = None,
    ) -> None:
        if name is not None and (
            not idempotency_key
            or existing.get("idempotencyKey") != idempotency_key
            or existing.get("requestHash") != request_hash(body)
        ):
            conflict = Conflict(f"{name.field}: you already have a {existing.get('kind', 'job')} named {name.value!r}")
            conflict.field = name.field
            raise conflict
        if existing.get("owner") != owner or existing.get("requestHash") != request_hash(body):
            raise Conflict("Idempotency-Key: this key was already used for a different request")

    def _resume(self, existing: dict[str, Any], prepared: Prepared) -> Submission:
        """A replay of a claimed job. If its execution may not have started (the first call died between the
        claim and StartExecution), take its side effects again (they are idempotent per job: a reservation
        held by the same job passes) and start it: the execution name is the job id, so at most one runs."""
        if existing["status"] == SUBMITTED and existing.get("executionInput"):
            for acquire in prepared.acquire:
                acquire()  # not undone on failure: the first call may still be using it
            self._start_execution(existing["jobId"], existing["executionInput"])
        return Submission(existing, created=False)

    def _start_execution(self, job_id: str, execution_input: str) -> str:
        try:
            response = self._sfn.start_execution(
                stateMachineArn=self._state_machine_arn, name=job_id, input=execution_input
            )
            return str(response["executionArn"])
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "ExecutionAlreadyExists":
                raise
            arn = self._state_machine_arn.replace(":stateMachine:", ":execution:")
            return f"{arn}:{job_id}"
