"""Labeling jobs: a local SageMaker Ground Truth (moto has none).

**CreateLabelingJob** validates what AWS refuses at once (the name, case-insensitively unique: ``ResourceInUse``;
a label attribute ending in ``-metadata``; a built-in category type without ``LabelCategoryConfigS3Uri``), records
the job ``Initializing`` and starts a worker thread, which:

1. reads the input manifest (JSON Lines; unreadable or invalid: the job ends ``Failed`` with a ``ClientError``
   FailureReason, as AWS fails a job whose input it cannot read), resolves the task type
   (:func:`.labeling_tasks.resolve_task_type`) and reads the label category file; then ``InProgress``;
2. takes the items the ``StoppingConditions`` allow (``MaxPercentageOfInputDatasetLabeled`` of the manifest, at most
   ``MaxHumanLabeledObjectCount``); per item, calls the pre-annotation Lambda (AWS-owned ``PRE-*`` ARNs: their
   documented behaviour, built in) and, when it answers ``isHumanAnnotationRequired: "true"``, asks the workforce
   (:mod:`.workforce`) for ``NumberOfHumanWorkersPerDataObject`` answers, written as Ground Truth's worker response;
3. calls the consolidation Lambda ONCE with every answered item (the request payload written to S3 first;
   AWS-owned ``ACS-*``: :func:`.labeling_tasks.builtin_consolidation`), writes its response, and writes the output
   manifest (each processed input line plus the consolidated ``<attr>``/``<attr>-metadata``; an item the response
   leaves out gets failure metadata and counts in ``FailedNonRetryableError``);
4. sets ``LabelCounters`` and ``LabelingJobOutput.OutputDatasetS3Uri`` and ends ``Completed`` — or ``Stopped`` when a
   stopping condition left items unlabeled ("the job is automatically stopped", as the API documents it) or
   StopLabelingJob asked (``Stopping`` at once; the worker checks between items; what was labeled is still
   consolidated and written).

A Lambda error, an unreadable answer or a response of the wrong shape fails the job, the FailureReason naming the
Lambda and why. Every status change puts "SageMaker Ground Truth Labeling Job State Change" on the default bus,
detail ``{"LabelingJobStatus": ...}`` and resources ``[job ARN]``, as AWS documents it. Faults armed in
``faults.labeling`` (:mod:`sagestep.local.labeling_faults`) fail or hang the next job.

Output layout (``<out>`` = ``OutputConfig.S3OutputPath`` without its trailing slash): ``<out>/<job>/manifests/
output/output.manifest``, ``<out>/<job>/annotations/worker-response/iteration-1/<id>/<ts>.json``, ``<out>/<job>/
annotations/consolidated-annotation/consolidation-request|consolidation-response/iteration-1/<ts>.json``. Small files
are written straight into moto's in-process S3 backend (notifications still fire): 1,000 items in a fraction of a
second, where a PutObject through the server takes milliseconds.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import math
import random
import re
import string
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import ClientError

from sagestep.local.labeling_faults import LabelingJobFaults
from sagestep.local.services.sagemaker.common import Shared, split_s3, tag_map, utcnow
from sagestep.local.services.sagemaker.labeling_tasks import (
    ANSWER_KEY,
    aws_owned_lambda,
    builtin_consolidation,
    builtin_pre_annotation,
    earlier_label,
    is_audit,
    kind_of,
    needs_categories,
    output_type,
    resolve_task_type,
)
from sagestep.local.services.sagemaker.processes import Cancelled, ContainerProcesses
from sagestep.local.services.sagemaker.workforce import LabelingTask, WorkerAnswer, Workforce

LOG = logging.getLogger(__name__)

EVENT_DETAIL_TYPE = "SageMaker Ground Truth Labeling Job State Change"
TERMINAL_STATUSES = frozenset({"Completed", "Failed", "Stopped"})
NAME = re.compile(r"^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$")
_SORT_KEYS: dict[str, Callable[[LabelingJob], Any]] = {
    "Name": lambda job: job.name,
    "CreationTime": lambda job: job.created,
    "Status": lambda job: job.status,
}


class JobFailed(Exception):
    """The job ends Failed with this FailureReason."""


@dataclass
class LabelingJob:
    """The emulation's record of one labeling job (``tags`` is what ListTags/AddTags work on)."""

    name: str
    arn: str
    account: str
    region: str
    request: dict[str, Any]
    faults: LabelingJobFaults
    tags: list[dict[str, str]]
    reference_code: str
    status: str = "Initializing"
    created: dt.datetime = field(default_factory=utcnow)
    modified: dt.datetime = field(default_factory=utcnow)
    failure_reason: str | None = None
    output_uri: str | None = None
    counters: dict[str, int] = field(
        default_factory=lambda: {
            "TotalLabeled": 0,
            "HumanLabeled": 0,
            "MachineLabeled": 0,
            "FailedNonRetryableError": 0,
            "Unlabeled": 0,
        }
    )
    stop: threading.Event = field(default_factory=threading.Event)
    done: threading.Event = field(default_factory=threading.Event)

    def describe(self) -> dict[str, Any]:
        """DescribeLabelingJob's response."""
        request = self.request
        answer: dict[str, Any] = {
            "LabelingJobStatus": self.status,
            "LabelCounters": dict(self.counters),
            "CreationTime": self.created,
            "LastModifiedTime": self.modified,
            "JobReferenceCode": self.reference_code,
            "LabelingJobName": self.name,
            "LabelingJobArn": self.arn,
            "LabelAttributeName": request["LabelAttributeName"],
            "InputConfig": request["InputConfig"],
            "OutputConfig": request["OutputConfig"],
            "RoleArn": request["RoleArn"],
            "HumanTaskConfig": request["HumanTaskConfig"],
            "Tags": [dict(tag) for tag in self.tags],
        }
        for key in ("LabelCategoryConfigS3Uri", "StoppingConditions", "LabelingJobAlgorithmsConfig"):
            if request.get(key) is not None:
                answer[key] = request[key]
        if self.failure_reason is not None:
            answer["FailureReason"] = self.failure_reason
        if self.output_uri is not None:
            answer["LabelingJobOutput"] = {"OutputDatasetS3Uri": self.output_uri}
        return answer

    def summary(self) -> dict[str, Any]:
        """ListLabelingJobs' ``LabelingJobSummary``."""
        config = self.request["HumanTaskConfig"]
        answer: dict[str, Any] = {
            "LabelingJobName": self.name,
            "LabelingJobArn": self.arn,
            "CreationTime": self.created,
            "LastModifiedTime": self.modified,
            "LabelingJobStatus": self.status,
            "LabelCounters": dict(self.counters),
            "WorkteamArn": config.get("WorkteamArn", ""),
            "InputConfig": self.request["InputConfig"],
        }
        if config.get("PreHumanTaskLambdaArn"):
            answer["PreHumanTaskLambdaArn"] = config["PreHumanTaskLambdaArn"]
        acs = (config.get("AnnotationConsolidationConfig") or {}).get("AnnotationConsolidationLambdaArn")
        if acs:
            answer["AnnotationConsolidationLambdaArn"] = acs
        if self.failure_reason is not None:
            answer["FailureReason"] = self.failure_reason
        if self.output_uri is not None:
            answer["LabelingJobOutput"] = {"OutputDatasetS3Uri": self.output_uri}
        return answer


@dataclass
class _Item:
    """One processed data object."""

    index: int
    line: dict[str, Any]
    answers: list[WorkerAnswer] | None = None  # None: no human task (isHumanAnnotationRequired false)
    earlier: Any = None


class LabelingJobs:
    """The labeling jobs of the emulation (see the module docstring).

    :param workforce: returns the workforce for the next job (read at every start).
    :param item_delay: returns the real seconds to wait per item (0: none), so that tests can watch InProgress.
    """

    def __init__(
        self,
        shared: Shared,
        processes: ContainerProcesses,
        workforce: Callable[[], Workforce],
        item_delay: Callable[[], float],
    ) -> None:
        self._shared = shared
        self._context = shared.context
        self._processes = processes
        self._workforce = workforce
        self._item_delay = item_delay
        self._jobs: dict[tuple[str, str, str], LabelingJob] = {}

    # Records ---------------------------------------------------------------------------------------------

    def job(self, account: str, region: str, name: str) -> LabelingJob:
        """A job by name (case-insensitive, as Ground Truth's names are); ``ResourceNotFound`` if none."""
        with self._shared.lock:
            job = self._jobs.get((account, region, name.lower()))
        if job is None:
            from moto.sagemaker.exceptions import ResourceNotFound

            raise ResourceNotFound(
                message=f"Could not find labeling job 'arn:aws:sagemaker:{region}:{account}:labeling-job/"
                f"{name.lower()}'."
            )
        return job

    def by_arn(self, account: str, region: str, arn: str) -> LabelingJob | None:
        """The job an ARN names (for ListTags/AddTags/DeleteTags), or None."""
        with self._shared.lock:
            return self._jobs.get((account, region, arn.rsplit("/", 1)[-1].lower()))

    def stop_all(self) -> None:
        """Ask every job's worker to stop (on shutdown)."""
        with self._shared.lock:
            for job in self._jobs.values():
                job.stop.set()

    # API ---------------------------------------------------------------------------------------------------

    def create(self, account: str, region: str, request: dict[str, Any]) -> str:
        """CreateLabelingJob: validate, record ``Initializing``, start the worker; the job ARN."""
        from moto.sagemaker.exceptions import ResourceInUseException, ValidationError

        request = json.loads(json.dumps(request))  # the caller's structures, detached
        name = str(request.get("LabelingJobName") or "")
        if not NAME.match(name):
            raise ValidationError(
                message=f"1 validation error detected: Value '{name}' at 'labelingJobName' failed to satisfy "
                "constraint: Member must satisfy regular expression pattern: ^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}"
            )
        for required in ("LabelAttributeName", "InputConfig", "OutputConfig", "RoleArn", "HumanTaskConfig"):
            if not request.get(required):
                raise ValidationError(message=f"1 validation error detected: {required} must not be null")
        attribute = str(request["LabelAttributeName"])
        if attribute.endswith("-metadata"):
            raise ValidationError(message=f"The label attribute name {attribute} must not end with -metadata.")
        manifest = ((request["InputConfig"].get("DataSource") or {}).get("S3DataSource") or {}).get("ManifestS3Uri")
        if not manifest:
            raise ValidationError(message="Only InputConfig.DataSource.S3DataSource.ManifestS3Uri is emulated.")
        tags = list(request.get("Tags") or [])
        task_type = resolve_task_type(request["HumanTaskConfig"], tag_map(tags))
        if needs_categories(task_type) and not request.get("LabelCategoryConfigS3Uri"):
            raise ValidationError(message=f"LabelCategoryConfigS3Uri is required for {task_type} labeling jobs.")
        arn = f"arn:aws:sagemaker:{region}:{account}:labeling-job/{name.lower()}"
        code = account + "".join(random.choices(string.ascii_letters + string.digits, k=16))
        with self._shared.lock:
            key = (account, region, name.lower())
            if key in self._jobs:
                raise ResourceInUseException(
                    message=f"Labeling job names must be unique within an AWS account and region, and a labeling "
                    f"job with this name already exists ({arn})"
                )
            job = LabelingJob(
                name=name,
                arn=arn,
                account=account,
                region=region,
                request=request,
                faults=self._context.faults.labeling.take_job_faults(name),
                tags=tags,
                reference_code=code,
            )
            self._jobs[key] = job
        self._emit(job)
        self._processes.spawn(lambda: self._run(job), f"labeling-{name}")
        return arn

    def list_jobs(self, account: str, region: str, params: Mapping[str, Any]) -> dict[str, Any]:
        """ListLabelingJobs with its filters, sort and pages (``NextToken`` = the offset)."""
        from moto.sagemaker.exceptions import ValidationError

        with self._shared.lock:
            jobs = [job for key, job in self._jobs.items() if key[:2] == (account, region)]
        contains = str(params.get("NameContains") or "").lower()
        status = params.get("StatusEquals")
        bounds = {k: _timestamp(params.get(k)) for k in _TIME_FILTERS}
        selected = [
            job
            for job in jobs
            if contains in job.name.lower()
            and (status is None or job.status == status)
            and all(_within(job, key, bound) for key, bound in bounds.items() if bound is not None)
        ]
        sort_by = params.get("SortBy") or "CreationTime"
        if sort_by not in _SORT_KEYS:
            raise ValidationError(message=f"SortBy must be one of Name, CreationTime, Status, not {sort_by}")
        selected.sort(key=_SORT_KEYS[sort_by], reverse=params.get("SortOrder") == "Descending")
        limit = int(params.get("MaxResults") or 10)
        try:
            start = int(params.get("NextToken") or 0)
        except ValueError:
            raise ValidationError(message="Invalid pagination token") from None
        page = selected[start : start + limit]
        answer: dict[str, Any] = {"LabelingJobSummaryList": [job.summary() for job in page]}
        if start + limit < len(selected):
            answer["NextToken"] = str(start + limit)
        return answer

    def stop(self, account: str, region: str, name: str) -> None:
        """StopLabelingJob: ``Stopping`` now, ``Stopped`` once the worker is between items."""
        job = self.job(account, region, name)
        with self._shared.lock:
            if job.status not in ("Initializing", "InProgress"):
                return
            job.stop.set()
        self._set_status(job, "Stopping")

    # Worker ----------------------------------------------------------------------------------------------

    def _set_status(self, job: LabelingJob, status: str, failure_reason: str | None = None) -> None:
        with self._shared.lock:
            if job.status in TERMINAL_STATUSES:
                return
            if status == "InProgress" and job.status == "Stopping":
                return  # stopped before it began: it stays Stopping until the worker ends it
            changed = job.status != status
            job.status = status
            job.modified = utcnow()
            if failure_reason is not None:
                job.failure_reason = failure_reason[:1024]
        if changed:
            self._emit(job)

    def _emit(self, job: LabelingJob) -> None:
        self._shared.emit(EVENT_DETAIL_TYPE, job.arn, {"LabelingJobStatus": job.status})

    def _run(self, job: LabelingJob) -> None:
        workforce = self._workforce()
        try:
            self._label(job, workforce)
        except JobFailed as exc:
            self._set_status(job, "Failed", str(exc))
        except Cancelled:
            self._set_status(job, "Stopped")
        except Exception as exc:
            LOG.exception("Labeling job %s failed in the emulator", job.name)
            self._set_status(job, "Failed", f"InternalServerError: {exc}")
        finally:
            finished = getattr(workforce, "job_finished", None)
            if callable(finished):
                finished(job.name)
            job.done.set()

    def _stopping(self, job: LabelingJob) -> bool:
        return job.stop.is_set() or self._shared.closing.is_set()

    def _label(self, job: LabelingJob, workforce: Workforce) -> None:
        if job.faults.failure is not None:
            raise JobFailed(job.faults.failure)
        request, files = job.request, _Files(self._context.clients("s3"), job.account)
        lines = _manifest(files, request["InputConfig"]["DataSource"]["S3DataSource"]["ManifestS3Uri"])
        config = request["HumanTaskConfig"]
        task_type = resolve_task_type(config, tag_map(job.tags), lambda uri: files.read_text(uri, "worker template"))
        categories = _categories(files, request.get("LabelCategoryConfigS3Uri"), needs_categories(task_type))
        with self._shared.lock:
            job.counters["Unlabeled"] = len(lines)
        self._set_status(job, "InProgress")
        if job.faults.hang:
            while not self._stopping(job):
                job.stop.wait(0.2)
        if self._shared.closing.is_set():
            raise Cancelled
        limit = _allowed(len(lines), request.get("StoppingConditions") or {})
        attribute = str(request["LabelAttributeName"])
        audit = is_audit(task_type)
        started = job.created
        workers = int(config.get("NumberOfHumanWorkersPerDataObject") or 1)
        pre_arn = config.get("PreHumanTaskLambdaArn")
        items: list[_Item] = []
        for index, line in enumerate(lines[:limit]):
            if self._stopping(job):
                break
            delay = self._item_delay()
            if delay > 0 and job.stop.wait(delay):
                break
            pre = self._pre_annotation(job, pre_arn, line)
            item = _Item(index, line, earlier=earlier_label(line, task_type, attribute) if audit else None)
            if pre["isHumanAnnotationRequired"]:
                task = LabelingTask(
                    job_name=job.name,
                    workteam_arn=str(config.get("WorkteamArn", "")),
                    task_type=task_type,
                    kind=kind_of(task_type),
                    audit=audit,
                    dataset_object_id=str(index),
                    data_object=line,
                    task_input=pre["taskInput"],
                    categories=categories,
                    answer_key=line.get(ANSWER_KEY),
                    earlier_label=item.earlier,
                    workers=workers,
                    started=started,
                    region=job.region,
                )
                item.answers = list(workforce.label(task))
                files.put(_worker_response_uri(job, index, item.answers), _worker_response(item.answers))
            items.append(item)
        if self._shared.closing.is_set():
            raise Cancelled
        consolidated = self._consolidate(job, files, task_type, categories, items)
        self._write_output(job, files, task_type, items, consolidated, len(lines))
        stopped = job.stop.is_set() or len(items) < len(lines)
        self._set_status(job, "Stopped" if stopped else "Completed")

    # Lambdas ---------------------------------------------------------------------------------------------

    def _invoke(self, arn: str, what: str, event: dict[str, Any]) -> Any:
        try:
            response = self._context.clients("lambda").invoke(
                FunctionName=arn, InvocationType="RequestResponse", Payload=json.dumps(event).encode()
            )
            payload = response["Payload"].read()
        except ClientError as exc:
            raise JobFailed(f"ClientError: The {what} Lambda {arn} could not be invoked: {exc}") from None
        if response.get("FunctionError"):
            try:
                details = json.loads(payload)
                reason = f"{details.get('errorType')}: {details.get('errorMessage')}"
            except (ValueError, AttributeError):
                reason = payload.decode(errors="replace")[:300]
            raise JobFailed(f"ClientError: The {what} Lambda {arn} failed: {reason}")
        try:
            return json.loads(payload)
        except ValueError:
            raise JobFailed(f"ClientError: The {what} Lambda {arn} returned a response that is not JSON") from None

    def _pre_annotation(self, job: LabelingJob, arn: str | None, line: dict[str, Any]) -> dict[str, Any]:
        """``{"taskInput", "isHumanAnnotationRequired": bool}`` for one data object."""
        if not arn or aws_owned_lambda(arn) is not None:
            answer: Any = builtin_pre_annotation(line)
        else:
            event = {"version": "2018-10-16", "labelingJobArn": job.arn, "dataObject": line}
            answer = self._invoke(arn, "pre-annotation", event)
        if not isinstance(answer, dict) or "taskInput" not in answer:
            raise JobFailed(
                f"ClientError: The pre-annotation Lambda {arn} returned an invalid response: it must be an object "
                f"with taskInput, got {json.dumps(answer)[:200]}"
            )
        required = answer.get("isHumanAnnotationRequired", "true")
        if str(required).lower() not in ("true", "false"):
            raise JobFailed(
                f"ClientError: The pre-annotation Lambda {arn} returned an invalid response: "
                f'isHumanAnnotationRequired must be "true" or "false", got {required!r}'
            )
        return {"taskInput": answer["taskInput"], "isHumanAnnotationRequired": str(required).lower() == "true"}

    def _consolidate(
        self, job: LabelingJob, files: _Files, task_type: str, categories: list[str], items: list[_Item]
    ) -> dict[str, dict[str, Any]]:
        """The consolidation Lambda's content per datasetObjectId (one call with every answered item)."""
        answered = [item for item in items if item.answers]
        if not answered:
            return {}
        base = _job_prefix(job) + "/annotations/consolidated-annotation"
        stamp = _file_stamp(utcnow())
        payload = [
            {
                "datasetObjectId": str(item.index),
                "dataObject": {"s3Uri": item.line["source-ref"]}
                if "source-ref" in item.line
                else {"content": item.line.get("source")},
                "annotations": [
                    {"workerId": a.worker_id, "annotationData": {"content": json.dumps(a.answer_content)}}
                    for a in item.answers or []
                ],
            }
            for item in answered
        ]
        request_uri = f"{base}/consolidation-request/iteration-1/{stamp}.json"
        files.put(request_uri, json.dumps(payload).encode())
        attribute = str(job.request["LabelAttributeName"])
        arn = (job.request["HumanTaskConfig"].get("AnnotationConsolidationConfig") or {}).get(
            "AnnotationConsolidationLambdaArn"
        )
        if not arn or aws_owned_lambda(arn) is not None:
            response: Any = builtin_consolidation(
                task_type=task_type,
                job_name=job.name,
                label_attribute=attribute,
                categories=categories,
                items=payload,
                creation_date=_iso(utcnow(), 6),
                earlier_labels={str(item.index): item.earlier for item in answered},
            )
        else:
            event = {
                "version": "2018-10-16",
                "labelingJobArn": job.arn,
                "labelCategories": categories,
                "labelAttributeName": attribute,
                "roleArn": job.request["RoleArn"],
                "payload": {"s3Uri": request_uri},
                "outputConfig": f"{base}/consolidation-response",
            }
            response = self._invoke(arn, "annotation consolidation", event)
        contents = _consolidated(arn, response)
        files.put(f"{base}/consolidation-response/iteration-1/{stamp}.json", json.dumps(response).encode())
        return contents

    # Output ------------------------------------------------------------------------------------------------

    def _write_output(
        self,
        job: LabelingJob,
        files: _Files,
        task_type: str,
        items: list[_Item],
        consolidated: dict[str, dict[str, Any]],
        total: int,
    ) -> None:
        attribute = str(job.request["LabelAttributeName"])
        if not items:  # stopped before the first item: nothing to write
            return
        labeled = failed = 0
        out_lines = []
        for item in items:
            line = dict(item.line)
            content = consolidated.get(str(item.index))
            if content is not None:
                line.update(content)
                labeled += 1
            elif item.answers:
                failed += 1
                line[f"{attribute}-metadata"] = {
                    "failure-reason": "ClientError: The annotation consolidation Lambda returned no annotation "
                    "for this data object.",
                    "human-annotated": "no",
                    "job-name": f"labeling-job/{job.name}",
                    "type": output_type(task_type),
                    "creation-date": _iso(utcnow(), 6),
                }
            out_lines.append(json.dumps(line))
        uri = _job_prefix(job) + "/manifests/output/output.manifest"
        files.put(uri, ("\n".join(out_lines) + ("\n" if out_lines else "")).encode())
        with self._shared.lock:
            job.output_uri = uri
            job.counters.update(
                {
                    "TotalLabeled": labeled,
                    "HumanLabeled": labeled,
                    "MachineLabeled": 0,
                    "FailedNonRetryableError": failed,
                    "Unlabeled": total - labeled - failed,
                }
            )


# Helpers ---------------------------------------------------------------------------------------------------


class _Files:
    """S3 for a job: reads through the emulator's client, writes into moto's in-process backend (fast)."""

    def __init__(self, s3: Any, account: str) -> None:
        self._s3 = s3
        self._account = account

    def read(self, uri: str, what: str) -> bytes:
        try:
            bucket, key = split_s3(uri)
            body: bytes = self._s3.get_object(Bucket=bucket, Key=key)["Body"].read()
            return body
        except (ClientError, ValueError) as exc:
            raise JobFailed(f"ClientError: Failed to read the {what} {uri}: {exc}") from None

    def read_text(self, uri: str, what: str) -> str:
        return self.read(uri, what).decode("utf-8", errors="replace")

    def put(self, uri: str, body: bytes) -> None:
        from moto.s3.models import s3_backends

        bucket, key = split_s3(uri)
        try:
            s3_backends[self._account]["aws"].put_object(bucket, key, body)
        except Exception as exc:
            raise JobFailed(f"ClientError: Failed to write the output {uri}: {exc}") from None


def _manifest(files: _Files, uri: str) -> list[dict[str, Any]]:
    text = files.read_text(uri, "input manifest")
    lines = []
    for number, raw in enumerate(text.splitlines(), start=1):
        if not raw.strip():
            continue
        try:
            value = json.loads(raw)
        except ValueError:
            raise JobFailed(f"ClientError: The input manifest {uri} is not valid JSON Lines (line {number})") from None
        if not isinstance(value, dict) or not ("source" in value or "source-ref" in value):
            raise JobFailed(
                f"ClientError: Line {number} of the input manifest {uri} has neither a source nor a source-ref"
            )
        lines.append(value)
    if not lines:
        raise JobFailed(f"ClientError: The input manifest {uri} has no data objects")
    return lines


def _categories(files: _Files, uri: str | None, required: bool) -> list[str]:
    if not uri:
        return []
    try:
        spec = json.loads(files.read(uri, "label category configuration file"))
        labels = [str(entry["label"]) for entry in spec.get("labels") or []]
    except (ValueError, KeyError, TypeError, AttributeError):
        raise JobFailed(
            f"ClientError: The label category configuration file {uri} is not valid: it needs "
            '{"document-version": "2018-11-28", "labels": [{"label": ...}]}'
        ) from None
    if required and not labels:
        raise JobFailed(f"ClientError: The label category configuration file {uri} lists no labels")
    return labels


def _allowed(total: int, conditions: Mapping[str, Any]) -> int:
    """How many items the stopping conditions let the job label (the first ones)."""
    limit = total
    percentage = conditions.get("MaxPercentageOfInputDatasetLabeled")
    if percentage:
        limit = min(limit, max(1, math.floor(total * float(percentage) / 100)))
    count = conditions.get("MaxHumanLabeledObjectCount")
    if count:
        limit = min(limit, int(count))
    return limit


def _consolidated(arn: str | None, response: Any) -> dict[str, dict[str, Any]]:
    """Check a consolidation response's shape: datasetObjectId -> the content to add to the manifest line."""

    def invalid(why: str) -> JobFailed:
        return JobFailed(f"ClientError: The annotation consolidation Lambda {arn} returned an invalid response: {why}")

    if not isinstance(response, list):
        raise invalid(f"it must be a list, got {type(response).__name__}")
    contents = {}
    for position, entry in enumerate(response):
        try:
            object_id = str(entry["datasetObjectId"])
            content = entry["consolidatedAnnotation"]["content"]
        except (KeyError, TypeError):
            raise invalid(f"entry {position} has no datasetObjectId and consolidatedAnnotation.content") from None
        if not isinstance(content, dict):
            raise invalid(f"the content of entry {position} is not an object")
        contents[object_id] = content
    return contents


def _job_prefix(job: LabelingJob) -> str:
    return f"{str(job.request['OutputConfig']['S3OutputPath']).rstrip('/')}/{job.name}"


def _iso(moment: dt.datetime, digits: int) -> str:
    """``2026-12-02T10:00:00.000000`` (6 digits) or ``2026-12-02T10:00:00.000Z`` (3)."""
    text = moment.strftime("%Y-%m-%dT%H:%M:%S.%f")
    return text if digits == 6 else text[: -(6 - digits)] + "Z"


def _file_stamp(moment: dt.datetime) -> str:
    return moment.strftime("%Y-%m-%d_%H:%M:%S")


def _worker_response_uri(job: LabelingJob, index: int, answers: list[WorkerAnswer]) -> str:
    last = max((a.submission_time for a in answers), default=utcnow())
    return f"{_job_prefix(job)}/annotations/worker-response/iteration-1/{index}/{_file_stamp(last)}.json"


def _worker_response(answers: list[WorkerAnswer]) -> bytes:
    return json.dumps(
        {
            "answers": [
                {
                    "workerId": a.worker_id,
                    "workerMetadata": a.worker_metadata,
                    "answerContent": a.answer_content,
                    "acceptanceTime": _iso(a.acceptance_time, 3),
                    "submissionTime": _iso(a.submission_time, 3),
                    "timeSpentInSeconds": a.time_spent_in_seconds,
                }
                for a in answers
            ]
        }
    ).encode()


_TIME_FILTERS = ("CreationTimeAfter", "CreationTimeBefore", "LastModifiedTimeAfter", "LastModifiedTimeBefore")


def _timestamp(value: Any) -> dt.datetime | None:
    """A timestamp parameter (epoch seconds in the JSON protocol, or ISO text) as naive UTC."""
    if value is None or value == "":
        return None
    if isinstance(value, int | float):
        return dt.datetime.fromtimestamp(float(value), dt.UTC).replace(tzinfo=None)
    parsed = dt.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    return parsed.astimezone(dt.UTC).replace(tzinfo=None) if parsed.tzinfo else parsed


def _within(job: LabelingJob, key: str, bound: dt.datetime) -> bool:
    moment = job.created if key.startswith("Creation") else job.modified
    return moment > bound if key.endswith("After") else moment < bound
