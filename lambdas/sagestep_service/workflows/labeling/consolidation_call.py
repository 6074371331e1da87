"""What sagestep's consolidation Lambda learns of the labeling job behind a call: its modality and, for an
adjustment job, the labels it adjusts.

Ground Truth's consolidation event names the job (``labelingJobArn``) but not its task type, and an adjustment's
answers look like any other job's. The job itself says both: its ``sagestep:modality`` tag (set by
``tasks.create_request``) and its input manifest, whose line ``i`` is the data object ``i`` with the earlier job's
label (the attribute of the job's categories' ``auditLabelAttributeName``, else the latest one the line carries).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from botocore.exceptions import ClientError

from sagestep_service.platform import objects
from sagestep_service.workflows.labeling import annotations as answer_formats
from sagestep_service.workflows.labeling import manifests
from sagestep_service.workflows.labeling.ground_truth import task_type
from sagestep_service.workflows.labeling.tasks import TAG_MODALITY


def job_context(sagemaker: Any, s3: Any, event: Mapping[str, Any]) -> tuple[str | None, dict[str, Any] | None]:
    """(the job's modality or None when it cannot be told, the earlier labels by datasetObjectId for an
    adjustment job or None)."""
    name = str(event.get("labelingJobArn", "")).rsplit("/", 1)[-1]
    try:
        job = sagemaker.describe_labeling_job(LabelingJobName=name)
    except ClientError:
        return None, None
    tags = {tag["Key"]: tag.get("Value", "") for tag in job.get("Tags") or []}
    modality = tags.get(TAG_MODALITY)
    if not modality:
        return None, None
    try:
        audit = task_type(modality).audit
    except ValueError:
        return None, None
    if not audit:
        return modality, None
    categories = objects.read_json(s3, job["LabelCategoryConfigS3Uri"])
    attribute = categories.get("auditLabelAttributeName")
    manifest = job["InputConfig"]["DataSource"]["S3DataSource"]["ManifestS3Uri"]
    earlier: dict[str, Any] = {}
    for index, line in enumerate(manifests.parse(objects.read_bytes(s3, manifest).decode("utf-8"))):
        carried = answer_formats.earlier_attributes(line)
        chosen = attribute if attribute in line else (carried[-1] if carried else None)
        if chosen is not None and chosen in line:
            earlier[str(index)] = line[chosen]
    return modality, earlier
