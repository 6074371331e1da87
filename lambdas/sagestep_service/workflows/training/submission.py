"""Submitting model and HPO jobs (``POST /model``, ``POST /hpo``): validate, plan, then the platform claims."""

from __future__ import annotations

from typing import Any

from sagestep_service.platform.errors import BadRequest, Conflict
from sagestep_service.platform.jobs import EndpointBusy, JobStore
from sagestep_service.platform.submission import Acquire, Prepared, Submission, Submitter, owned_job
from sagestep_service.workflows.training import datasets, plans
from sagestep_service.workflows.training.models import HpoRequest, TrainingKind, TrainingStatus, TrainRequest
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

        def prepare(job_id: str) -> Prepared:
            data_uri, target, problem_type = request.dataUri, request.target, request.problemType
            hyperparameters: dict[str, Any] = dict(request.hyperparameters)
            if request.hpoJobId:
                hpo_job = owned_job(self._store, request.hpoJobId, owner, TrainingKind.HPO, "hpoJobId")
                if hpo_job["status"] != TrainingStatus.HPO_COMPLETED or not hpo_job.get("hpo"):
                    raise Conflict(
                        f"hpoJobId: HPO job {request.hpoJobId!r} has not completed (status {hpo_job['status']})"
                    )
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
                previous = owned_job(
                    self._store, request.updateEndpointOf, owner, TrainingKind.MODEL, "updateEndpointOf"
                )
                if previous["status"] != TrainingStatus.READY or not previous.get("resources", {}).get("endpointName"):
                    raise Conflict(
                        f"updateEndpointOf: job {request.updateEndpointOf!r} has no endpoint in service "
                        f"(status {previous['status']})"
                    )
            elif request.deployment.autoRollbackAlarmName:
                raise BadRequest("deployment.autoRollbackAlarmName", "applies only with updateEndpointOf")
            datasets.check_data(self._s3, self._settings.data_bucket, owner, data_uri, target)
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
            manifest = self._manifest(job_id, data_uri)
            if previous is None:
                return Prepared("TRAIN", plan, (manifest,))
            lease = request.maxRuntimeSeconds + plan["endpointDeadlineSeconds"] + RESERVATION_GRACE_SECONDS
            return Prepared("TRAIN", plan, (manifest, lambda: self._reserve(previous["jobId"], job_id, lease)))

        return self._submitter.submit(
            kind=TrainingKind.MODEL, owner=owner, body=body, idempotency_key=idempotency_key, prepare=prepare
        )

    def submit_hpo(self, owner: str, request: HpoRequest, idempotency_key: str | None) -> Submission:
        """``POST /hpo``."""
        body = request.model_dump(mode="json", exclude_none=True)

        def prepare(job_id: str) -> Prepared:
            datasets.check_data(self._s3, self._settings.data_bucket, owner, request.dataUri, request.target)
            plan = plans.hpo_plan(self._settings, job_id, owner, request)
            return Prepared("HPO", plan, (self._manifest(job_id, request.dataUri),))

        return self._submitter.submit(
            kind=TrainingKind.HPO, owner=owner, body=body, idempotency_key=idempotency_key, prepare=prepare
        )

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
