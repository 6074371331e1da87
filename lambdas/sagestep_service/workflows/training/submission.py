"""Submitting model and HPO jobs (``POST /model``, ``POST /hpo``): validate, plan, then the platform claims."""

from __future__ import annotations

import dataclasses
from typing import Any

from botocore.exceptions import ClientError

from sagestep_service.platform.errors import BadRequest, Conflict
from sagestep_service.platform.jobs import EndpointBusy, JobStore
from sagestep_service.platform.queries import owned
from sagestep_service.platform.submission import Acquire, Prepared, Submission, Submitter
from sagestep_service.workflows.training import datasets, hyperparameters, plans, problem_type
from sagestep_service.workflows.training.models import (
    HpoRequest,
    ProblemType,
    TrainingKind,
    TrainingStatus,
    TrainRequest,
)
from sagestep_service.workflows.training.settings import TrainingSettings

#: An endpoint reservation outlives the updating job's longest possible run by this much; after that a new
#: update (or a DELETE) may take the endpoint even if the job that reserved it never released it.
RESERVATION_GRACE_SECONDS = 3600


class TrainingSubmitter:
    """Validates training and HPO requests, builds their plans and submits them through the platform."""

    def __init__(self, settings: TrainingSettings, store: JobStore, sfn: Any, s3: Any) -> None:
        self._settings = settings
        self._store = store
        self._s3 = s3
        self._submitter = Submitter(store, sfn, settings.training_state_machine_arn)

    def submit_training(self, owner: str, request: TrainRequest, idempotency_key: str | None) -> Submission:
        """``POST /model``."""
        body = request.model_dump(mode="json", exclude_none=True)
        decided: dict[str, Any] = {}

        def prepare(job_id: str) -> Prepared:
            data_uri, target = request.dataUri, request.target
            requested, hpo_job = request.problemType, None
            values: dict[str, Any] = dict(request.hyperparameters)
            self._check_hyperparameters(request.hyperparameters)
            if request.hpoJobId:
                hpo_job = owned(self._store, request.hpoJobId, owner, TrainingKind.HPO, "hpoJobId")
                if hpo_job["status"] != TrainingStatus.HPO_COMPLETED or not hpo_job.get("hpo"):
                    raise Conflict(
                        f"hpoJobId: HPO job {request.hpoJobId!r} has not completed (status {hpo_job['status']})"
                    )
                hpo_request = hpo_job["request"]
                data_uri = data_uri or hpo_request["dataUri"]
                target = target or hpo_request["target"]
                if requested is None:
                    # The search optimised the HPO job's problem type: its decision carries over.
                    requested = hpo_job.get("problemType") or hpo_request.get("problemType")
                values = {
                    **hpo_request.get("hyperparameters", {}),
                    **hpo_job["hpo"]["bestHyperparameters"],
                    **request.hyperparameters,
                }
            assert data_uri is not None and target is not None  # guaranteed by TrainRequest's validator
            previous = None
            if request.updateEndpointOf:
                previous = owned(self._store, request.updateEndpointOf, owner, TrainingKind.MODEL, "updateEndpointOf")
                if previous["status"] != TrainingStatus.READY or not previous.get("resources", {}).get("endpointName"):
                    raise Conflict(
                        f"updateEndpointOf: job {request.updateEndpointOf!r} has no endpoint in service "
                        f"(status {previous['status']})"
                    )
            elif request.deployment.autoRollbackAlarmName:
                raise BadRequest("deployment.autoRollbackAlarmName", "applies only with updateEndpointOf")
            datasets.check_data(self._s3, self._settings.data_bucket, owner, data_uri, target)
            inherited_from = hpo_job if request.problemType is None else None
            decided.update(self._decide_problem_type(requested, data_uri, target, inherited_from))
            plan = plans.training_plan(
                self._settings,
                job_id,
                owner,
                request,
                data_uri,
                target,
                decided["problemType"],
                values,
                previous,
            )
            acquire = (self._record_fields(job_id, decided), self._manifest(job_id, data_uri))
            if previous is None:
                return Prepared("TRAIN", plan, acquire)
            lease = request.maxRuntimeSeconds + plan["endpointDeadlineSeconds"] + RESERVATION_GRACE_SECONDS
            return Prepared("TRAIN", plan, (*acquire, lambda: self._reserve(previous["jobId"], job_id, lease)))

        submission = self._submitter.submit(
            kind=TrainingKind.MODEL, owner=owner, body=body, idempotency_key=idempotency_key, prepare=prepare
        )
        return self._with_fields(submission, decided)

    def submit_hpo(self, owner: str, request: HpoRequest, idempotency_key: str | None) -> Submission:
        """``POST /hpo``."""
        body = request.model_dump(mode="json", exclude_none=True)
        decided: dict[str, Any] = {}

        def prepare(job_id: str) -> Prepared:
            self._check_hyperparameters(request.hyperparameters)
            datasets.check_data(self._s3, self._settings.data_bucket, owner, request.dataUri, request.target)
            decided.update(self._decide_problem_type(request.problemType, request.dataUri, request.target))
            plan = plans.hpo_plan(self._settings, job_id, owner, request, decided["problemType"])
            acquire = (self._record_fields(job_id, decided), self._manifest(job_id, request.dataUri))
            return Prepared("HPO", plan, acquire)

        submission = self._submitter.submit(
            kind=TrainingKind.HPO, owner=owner, body=body, idempotency_key=idempotency_key, prepare=prepare
        )
        return self._with_fields(submission, decided)

    def _check_hyperparameters(self, values: dict[str, Any]) -> None:
        """Only sagestep's own container is known to refuse unknown names; a custom image gets them as given."""
        if self._settings.sagestep_image:
            hyperparameters.check_names(values)

    def _decide_problem_type(
        self,
        requested: ProblemType | None,
        data_uri: str,
        target: str,
        inherited_from: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """The job's problem type and whether sagestep inferred it (``problem_type`` module): a requested
        classification is taken as is; a requested regression must have a numeric target (the container trains
        no regression on labels); none requested is inferred from a sample of the target column.
        ``inherited_from``: the HPO job whose problem type ``requested`` is (inferred if it was inferred there)."""
        inferred_before = bool(inherited_from and inherited_from.get("problemTypeInferred"))
        if requested == "classification":
            return {"problemType": requested, "problemTypeInferred": inferred_before}
        key, cells = problem_type.sample(self._s3, data_uri, target)
        name = key.rpartition("/")[2]
        if requested == "regression":
            label = problem_type.first_label(cells)
            if label is not None:
                origin = f" (the problem type of HPO job {inherited_from['jobId']!r})" if inherited_from else ""
                raise BadRequest(
                    "problemType",
                    f"is regression{origin}, but target column {target!r} of {name!r} holds {label!r}, which is not "
                    "a number; use classification, or omit problemType to infer it",
                )
            return {"problemType": requested, "problemTypeInferred": inferred_before}
        inferred = problem_type.infer(cells)
        if inferred is None:
            raise BadRequest(
                "problemType",
                f"cannot be inferred: target column {target!r} has no values in the first rows of {name!r}; give it",
            )
        return {"problemType": inferred, "problemTypeInferred": True}

    def _record_fields(self, job_id: str, fields: dict[str, Any]) -> Acquire:
        """Write the submission's decisions on the claimed record before its execution starts (removed with the
        record if the start fails). A replay that starts the execution again keeps the first call's decisions:
        they are the ones its execution input was planned with."""

        def write() -> None:
            try:
                self._store.update(job_id, set_fields=fields, require_absent=tuple(fields))
            except ClientError as exc:
                if exc.response["Error"]["Code"] != "ConditionalCheckFailedException":
                    raise

        return write

    @staticmethod
    def _with_fields(submission: Submission, fields: dict[str, Any]) -> Submission:
        """A new job's record as stored: the platform's record and what ``_record_fields`` wrote on it."""
        if not submission.created:
            return submission
        return dataclasses.replace(submission, record={**submission.record, **fields})

    def _manifest(self, job_id: str, data_uri: str) -> Acquire:
        """A job trained on one file reads it through a manifest (see ``datasets``), written once claimed."""

        def write() -> None:
            datasets.write_manifest(self._s3, self._settings.artifact_bucket, job_id, data_uri)

        return write

    def _reserve(self, previous_job_id: str, job_id: str, lease_seconds: int) -> Any:
        """One in-place update of an endpoint at a time: reserved once the job is claimed, released when the
        update ends (hand-over or failure) or by this call's own failure to start it."""
        try:
            taken = self._store.reserve_endpoint(previous_job_id, job_id, lease_seconds=lease_seconds)
        except EndpointBusy as exc:
            current = self._store.get(previous_job_id) or {}
            raise Conflict(
                f"updateEndpointOf: the endpoint of {previous_job_id!r} is being updated by job "
                f"{current.get('updatingBy', '?')!r}; wait for it to end"
            ) from exc
        return (lambda: self._store.release_endpoint(previous_job_id, job_id)) if taken else None
