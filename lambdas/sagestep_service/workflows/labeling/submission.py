"""Submitting a batch (``POST /batch/create``): validate against the caller's files, plan, then the platform claims.

A batch's job id is derived from its owner and ``batchId`` (`platform.submission.named_job_id`), so the claim
(a conditional put) is what refuses a second batch of the same name: two concurrent submissions cannot both win,
and nothing is read-then-written. Everything a batch reads must lie under the caller's prefix of the data bucket:
manifests, category files, worker UI templates (the items' own ``source-ref`` objects are checked when each job's
manifest is built). Reading them here turns a typo into a 400 naming the field instead of a failed labeling job
hours later.
"""

from __future__ import annotations

import json
from typing import Any

from botocore.exceptions import ClientError

from sagestep_service.platform.errors import BadRequest
from sagestep_service.platform.jobs import JobStore
from sagestep_service.platform.submission import JobName, Prepared, Submission, Submitter
from sagestep_service.platform.uploads import owner_prefix
from sagestep_service.workflows.labeling import manifests
from sagestep_service.workflows.labeling.models import KIND, S3_URI, BatchRequest, LabelingJobRequest
from sagestep_service.workflows.labeling.settings import LabelingSettings

#: How much of a manifest submission reads to check it (the rest is read when its job's manifest is built).
CHECKED_BYTES = 1024 * 1024
#: Ground Truth's limits on a label category file.
MAX_CATEGORIES = 30
MAX_CATEGORY_LENGTH = 256


def batch_output_prefix(owner: str, batch_id: str) -> str:
    """Where a batch's files live in the data bucket: built manifests, Ground Truth's output, the report."""
    return f"{owner_prefix(owner)}labeling/{batch_id}/"


class LabelingSubmitter:
    """Validates batches, plans them and submits them through the platform."""

    def __init__(self, settings: LabelingSettings, store: JobStore, sfn: Any, s3: Any) -> None:
        self._settings = settings
        self._s3 = s3
        self._submitter = Submitter(store, sfn, settings.labeling_state_machine_arn)

    def submit(self, owner: str, request: BatchRequest, idempotency_key: str | None) -> Submission:
        body = request.model_dump(mode="json", exclude_none=True)

        def prepare(job_id: str) -> Prepared:
            self._check(owner, request)
            return Prepared(mode="label", plan=self.plan(job_id, owner, request))

        return self._submitter.submit(
            kind=KIND,
            owner=owner,
            body=body,
            idempotency_key=idempotency_key,
            prepare=prepare,
            name=JobName("batchId", request.batchId),
        )

    # Checks (reads only) ------------------------------------------------------------------------------------

    def _check(self, owner: str, request: BatchRequest) -> None:
        settings = self._settings
        if request.destinationSnsArn and not settings.topic_allowed(request.destinationSnsArn):
            raise BadRequest(
                "destinationSnsArn", "is not a topic this deployment may notify (context labelingDestinationTopics)"
            )
        if request.deadlineSeconds and request.deadlineSeconds > settings.deadline_seconds:
            raise BadRequest("deadlineSeconds", f"must be at most {settings.deadline_seconds} (this deployment's)")
        for index, job in enumerate(request.labelingJobs):
            where = f"labelingJobs.{index}"
            if job.workteamArn and not self._workteam_allowed(job.workteamArn):
                raise BadRequest(f"{where}.workteamArn", "must be a private work team of this account and region")
            for field in ("preHumanTaskLambdaArn", "annotationConsolidationLambdaArn"):
                arn = getattr(job, field)
                if arn and not settings.lambda_allowed(arn):
                    raise BadRequest(
                        f"{where}.{field}", "is not a Lambda this deployment allows (context labelingCustomLambdas)"
                    )
            if job.inputConfig.inputManifestS3Uri:
                self._check_manifest(
                    owner, job.inputConfig.inputManifestS3Uri, f"{where}.inputConfig.inputManifestS3Uri"
                )
            if job.labelCategoryConfigS3Uri:
                self._check_categories(owner, job, f"{where}.labelCategoryConfigS3Uri")
            if job.uiTemplateS3Uri:
                self._read(owner, job.uiTemplateS3Uri, f"{where}.uiTemplateS3Uri", 64 * 1024)

    def _workteam_allowed(self, arn: str) -> bool:
        default = self._settings.default_workteam_arn
        same_place = default.split(":workteam/")[0]
        return arn == default or arn.startswith(f"{same_place}:workteam/private-crowd/")

    def _read(self, owner: str, uri: str, field: str, limit: int) -> bytes:
        match = S3_URI.match(uri)
        assert match is not None  # the request model checked the URI's form
        bucket, key = match["bucket"], match["key"]
        if bucket != self._settings.data_bucket or not key.startswith(owner_prefix(owner)):
            raise BadRequest(field, f"must be under s3://{self._settings.data_bucket}/{owner_prefix(owner)}")
        try:
            response = self._s3.get_object(Bucket=bucket, Key=key, Range=f"bytes=0-{limit - 1}")
        except ClientError as exc:
            code = exc.response["Error"]["Code"]
            if code in ("NoSuchKey", "404", "InvalidRange"):
                raise BadRequest(field, f"{uri} does not exist (or is empty)") from exc
            raise BadRequest(field, f"{uri} cannot be read ({code})") from exc
        data: bytes = response["Body"].read()
        if not data.strip():
            raise BadRequest(field, f"{uri} is empty")
        return data

    def _check_manifest(self, owner: str, uri: str, field: str) -> None:
        data = self._read(owner, uri, field, CHECKED_BYTES)
        lines = data.decode("utf-8", errors="replace").splitlines()
        if len(data) >= CHECKED_BYTES and len(lines) > 1:
            lines = lines[:-1]  # the last line read may be cut off
        try:
            manifests.parse_lines(lines, f"s3://{self._settings.data_bucket}/{owner_prefix(owner)}")
        except ValueError as exc:
            raise BadRequest(field, str(exc)) from exc

    def _check_categories(self, owner: str, job: LabelingJobRequest, field: str) -> None:
        assert job.labelCategoryConfigS3Uri is not None
        data = self._read(owner, job.labelCategoryConfigS3Uri, field, 256 * 1024)
        try:
            categories = json.loads(data)
        except ValueError as exc:
            raise BadRequest(field, f"is not JSON ({exc})") from exc
        labels = categories.get("labels") if isinstance(categories, dict) else None
        if not isinstance(labels, list) or not labels:
            raise BadRequest(field, 'must be Ground Truth\'s label category file: {"labels": [{"label": "..."}, ...]}')
        names = [entry.get("label") if isinstance(entry, dict) else None for entry in labels]
        if not all(isinstance(name, str) and 0 < len(name) <= MAX_CATEGORY_LENGTH for name in names):
            raise BadRequest(field, f"every entry of labels needs a label of 1-{MAX_CATEGORY_LENGTH} characters")
        if len(set(names)) != len(names):
            raise BadRequest(field, "names a label twice")
        if len(names) > MAX_CATEGORIES and job.jobModality != "Custom":
            raise BadRequest(field, f"has {len(names)} labels; Ground Truth takes at most {MAX_CATEGORIES}")
        if "Classification" in job.jobModality and len(names) < 2:
            raise BadRequest(field, "a classification job needs at least two labels")

    # The plan --------------------------------------------------------------------------------------------------

    def plan(self, job_id: str, owner: str, request: BatchRequest) -> dict[str, Any]:
        """The execution's plan: what every level's jobs need, compact (the execution input is at most 64 KiB)."""
        settings = self._settings
        jobs = []
        for job in request.labelingJobs:
            jobs.append(
                {
                    "name": job.jobName,
                    "level": job.jobLevel,
                    "labelingJobName": request.labeling_job_name(job.jobName, job_id),
                    "modality": job.jobModality,
                    "attribute": job.label_attribute,
                    "categories": job.labelCategoryConfigS3Uri,
                    "manifest": job.inputConfig.inputManifestS3Uri,
                    "chain": job.inputConfig.chained,
                    "downSamplingRate": job.inputConfig.downSamplingRate,
                    "filter": job.inputConfig.filter.model_dump(exclude_none=True) if job.inputConfig.filter else None,
                    "workteam": job.workteamArn or settings.default_workteam_arn,
                    "workers": job.workersPerObject,
                    "maxConcurrentTaskCount": job.maxConcurrentTaskCount,
                    "taskAvailabilityLifetimeInSeconds": job.taskAvailabilityLifetimeInSeconds,
                    "taskTimeLimitInSeconds": job.taskTimeLimitInSeconds,
                    "title": job.taskTitle,
                    "description": job.taskDescription,
                    "ui": job.uiTemplateS3Uri,
                    "pre": job.preHumanTaskLambdaArn,
                    "acs": job.annotationConsolidationLambdaArn,
                }
            )
        return {
            "batchId": request.batchId,
            "owner": owner,
            "output": {"bucket": settings.data_bucket, "prefix": batch_output_prefix(owner, request.batchId)},
            "deadlineSeconds": min(request.deadlineSeconds or settings.deadline_seconds, settings.deadline_seconds),
            "destinationSnsArn": request.destinationSnsArn,
            "levels": max(job.jobLevel for job in request.labelingJobs),
            "jobs": jobs,
        }
