"""Moving a batch from one level to the next (the state machine's ``Advance`` task).

One call records the level that just ended (its jobs' statuses, counts and output manifests, from the ``.sync``
results) and prepares the next: for each of its jobs the input manifest (level 1: your manifest, down-sampled;
later levels: the chained jobs' outputs merged, then the filter), the categories (an adjustment job's name the
attribute it adjusts, ``auditLabelAttributeName``), the worker UI, and the ``CreateLabelingJob`` request. A job left
with no item (a filter that keeps nothing) is skipped and says why; a level whose jobs are all skipped is skipped
and the next one prepared in the same call. The batch's record holds the levels as ``GET /batch/show`` shows them.
Manifests live in S3, never in the execution's state: the state machine's transitions do not grow with the items.
"""

from __future__ import annotations

import json
from typing import Any

from sagestep_service.platform import objects
from sagestep_service.platform.jobs import JobStore
from sagestep_service.workflows.labeling import manifests, tasks
from sagestep_service.workflows.labeling.ground_truth import task_type
from sagestep_service.workflows.labeling.models import JobStatus, item_counts

_STATUS = {"Completed": JobStatus.COMPLETED, "Failed": JobStatus.FAILED, "Stopped": JobStatus.STOPPED}


class BatchInputError(ValueError):
    """A job's input cannot be labeled (a manifest that does not parse, an item outside your folder)."""


def categories_uri(plan: dict[str, Any], name: str) -> str:
    """The categories file a planned job labels with: its own, else (a chained job) its first source's."""
    jobs = {job["name"]: job for job in plan["jobs"]}
    job = jobs[name]
    while not job["categories"] and job["chain"]:
        job = jobs[job["chain"][0]]
    return str(job["categories"])


def initial_levels(plan: dict[str, Any]) -> list[dict[str, Any]]:
    """Every level PENDING, as the record holds them before the first starts."""
    return [
        {
            "level": level,
            "status": "PENDING",
            "jobs": [
                {
                    "jobName": job["name"],
                    "labelingJobName": job["labelingJobName"],
                    "jobModality": job["modality"],
                    "jobLevel": level,
                    "status": str(JobStatus.PENDING),
                }
                for job in plan["jobs"]
                if job["level"] == level
            ],
        }
        for level in range(1, plan["levels"] + 1)
    ]


def record_results(levels: list[dict[str, Any]], level: int, results: list[dict[str, Any]]) -> None:
    """Write the ``.sync`` results of ``level``'s jobs into ``levels`` (in place)."""
    by_name = {result["labelingJobName"]: result for result in results}
    entry = levels[level - 1]
    for job in entry["jobs"]:
        result = by_name.get(job["labelingJobName"])
        if result is None:
            continue
        job["status"] = str(_STATUS.get(result.get("status", ""), JobStatus.COMPLETED))
        job["itemCounts"] = item_counts(result.get("counters") or {}, job.get("itemCounts"))
        if result.get("output"):
            job["outputManifest"] = {"s3Uri": result["output"]}
    if all(job["status"] in (JobStatus.COMPLETED, JobStatus.SKIPPED) for job in entry["jobs"]):
        entry["status"] = "COMPLETE"


class LevelBuilder:
    """Builds one level's manifests and requests (S3 through ``s3``)."""

    def __init__(
        self, s3: Any, job_id: str, plan: dict[str, Any], *, stack: str, key_arn: str, functions: tasks.Functions
    ):
        self._s3 = s3
        self._job_id = job_id
        self._plan = plan
        self._stack = stack
        self._key_arn = key_arn
        self._functions = functions
        output = plan["output"]
        self._bucket, self._prefix = output["bucket"], output["prefix"]
        self._owner_prefix = f"s3://{self._bucket}/users/{plan['owner']}/"

    def _uri(self, suffix: str) -> str:
        return f"s3://{self._bucket}/{self._prefix}{suffix}"

    def _get(self, uri: str) -> bytes:
        return objects.read_bytes(self._s3, uri)

    def _put(self, suffix: str, body: str, content_type: str) -> str:
        self._s3.put_object(
            Bucket=self._bucket, Key=f"{self._prefix}{suffix}", Body=body.encode(), ContentType=content_type
        )
        return self._uri(suffix)

    def _items(self, job: dict[str, Any], levels: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], list[str]]:
        """The job's items before the filter, and the manifests they came from."""
        if job["manifest"]:
            try:
                items = manifests.parse(self._get(job["manifest"]).decode("utf-8"), self._owner_prefix)
            except ValueError as exc:
                raise BatchInputError(f"{job['name']}: the manifest {job['manifest']} {exc}") from exc
            return items, [job["manifest"]]
        jobs = {entry["jobName"]: entry for level in levels for entry in level["jobs"]}
        sources = [jobs[name]["outputManifest"]["s3Uri"] for name in job["chain"] if jobs[name].get("outputManifest")]
        outputs = [self._output(uri) for uri in sources]
        return manifests.merge(outputs), sources

    def _output(self, uri: str) -> list[dict[str, Any]]:
        """A chained job's output manifest (empty when Ground Truth labeled nothing)."""
        text = self._get(uri).decode("utf-8")
        return manifests.parse(text) if text.strip() else []

    def _select(self, job: dict[str, Any], items: list[dict[str, Any]]) -> list[dict[str, Any]]:
        seed = f"{self._plan['batchId']}/{job['name']}"
        if job.get("downSamplingRate"):
            items = manifests.sample(items, job["downSamplingRate"] / 100, seed)
        selection = job.get("filter") or {}
        attributes = [self._job(name)["attribute"] for name in job["chain"]]
        if "confidenceBelow" in selection:
            items = manifests.below_confidence(items, attributes, selection["confidenceBelow"])
        if "sampleRate" in selection:
            items = manifests.sample(items, selection["sampleRate"], str(selection.get("seed", seed)))
        # Items Ground Truth could not label upstream carry no label to review or adjust.
        if attributes and task_type(job["modality"]).audit:
            items = [item for item in items if not any(manifests.failed(item, a) for a in attributes)]
        return items

    def _job(self, name: str) -> dict[str, Any]:
        return next(job for job in self._plan["jobs"] if job["name"] == name)

    def _categories(self, job: dict[str, Any]) -> tuple[str, list[str]]:
        """The job's categories file (an adjustment job's names the attribute it adjusts) and the labels."""
        uri = categories_uri(self._plan, job["name"])
        document = json.loads(self._get(uri))
        labels = [entry["label"] for entry in document.get("labels", [])]
        if task_type(job["modality"]).audit:
            document = {**document, "auditLabelAttributeName": self._job(job["chain"][0])["attribute"]}
            uri = self._put(f"inputs/{job['name']}.categories.json", json.dumps(document), "application/json")
        return uri, labels

    def build(self, level: int, levels: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """The level's ``CreateLabelingJob`` requests; its entry in ``levels`` updated (jobs started or skipped)."""
        entry = levels[level - 1]
        requests = []
        for view in entry["jobs"]:
            job = self._job(view["jobName"])
            items, sources = self._items(job, levels)
            total = len(items)
            items = self._select(job, items)
            view["inputManifests"] = [{"s3Uri": uri} for uri in sources]
            if not items:
                view["status"] = str(JobStatus.SKIPPED)
                view["message"] = (
                    f"nothing to label: the input's {total} items were all filtered out"
                    if total
                    else "nothing to label: the jobs it chains from labeled no item"
                )
                view["itemCounts"] = {"total": 0}
                continue
            manifest_uri = self._put(f"inputs/{job['name']}.manifest", manifests.dumps(items), "application/jsonlines")
            view["inputManifests"].append({"s3Uri": manifest_uri})
            categories_uri, labels = self._categories(job)
            template_uri = job.get("ui")
            text = tasks.template(job["modality"], labels)
            if text is not None:
                template_uri = self._put(f"inputs/{job['name']}.liquid.html", text, "text/html")
            requests.append(
                tasks.create_request(
                    job,
                    job_id=self._job_id,
                    stack=self._stack,
                    batch_id=self._plan["batchId"],
                    manifest_uri=manifest_uri,
                    categories_uri=categories_uri,
                    output_uri=self._uri("output/"),
                    key_arn=self._key_arn,
                    template_uri=template_uri,
                    functions=self._functions,
                )
            )
            view["status"] = str(JobStatus.IN_PROGRESS)
            view["itemCounts"] = {"total": len(items)}
        if requests:
            entry["status"] = "IN_PROGRESS"
        else:
            entry["status"] = "SKIPPED"
            entry["message"] = "every job of the level had nothing to label"
        return requests


def advance(
    store: JobStore,
    builder: LevelBuilder,
    job_id: str,
    plan: dict[str, Any],
    level: int,
    results: list[dict[str, Any]],
) -> dict[str, Any]:
    """Record ``level``'s results (0: the batch starts), prepare the next level with work; ``done`` after the last."""
    record = store.get(job_id) or {}
    levels: list[dict[str, Any]] = record.get("levels") or initial_levels(plan)
    if level:
        record_results(levels, level, results)
    requests: list[dict[str, Any]] = []
    while not requests and level < plan["levels"]:
        level += 1
        requests = builder.build(level, levels)
    store.update(job_id, set_fields={"levels": levels})
    return {"level": level, "jobs": requests, "done": not requests}
