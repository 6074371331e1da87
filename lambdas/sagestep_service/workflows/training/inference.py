"""``POST /infer``: find the caller's endpoint and predict, optionally sweeping the last input."""

from __future__ import annotations

import json
from typing import Any

from botocore.exceptions import ClientError

from sagestep_service.platform.errors import BadRequest, Conflict, NotFound, UpstreamError
from sagestep_service.platform.jobs import JobStore
from sagestep_service.platform.queries import owned
from sagestep_service.workflows.training.models import InferRequest, InferResponse, TrainingKind, TrainingStatus
from sagestep_service.workflows.training.sagemaker_resources import describe_endpoint, tag_map


def resolve_endpoint(store: JobStore, sagemaker: Any, owner: str, stack_name: str, request: InferRequest) -> str:
    """The endpoint to call: the READY job's, or a named endpoint that one of the caller's jobs serves."""
    if request.jobId:
        job = owned(store, request.jobId, owner, TrainingKind.MODEL, "jobId")
        endpoint = job.get("resources", {}).get("endpointName")
        if job["status"] != TrainingStatus.READY or not endpoint:
            raise Conflict(f"jobId: job {request.jobId!r} has no endpoint in service (status {job['status']})")
        return str(endpoint)
    assert request.endpointName is not None
    unknown = NotFound(f"endpointName: no endpoint {request.endpointName!r}", field="endpointName")
    if not request.endpointName.startswith(f"{TrainingKind.MODEL.value}-"):
        raise unknown  # sagestep names every endpoint after its job; IAM forbids describing the others
    described = describe_endpoint(sagemaker, request.endpointName)
    if described is None:
        raise unknown
    tags = tag_map(sagemaker, described["EndpointArn"])
    if tags.get("sagestep:stack") != stack_name or "sagestep:job-id" not in tags:
        raise unknown
    record: dict[str, Any] | None = store.get(tags["sagestep:job-id"])
    while record and record.get("status") == TrainingStatus.SUPERSEDED and record.get("supersededBy"):
        record = store.get(record["supersededBy"])
    if record is None or record.get("owner") != owner:
        raise unknown
    if described.get("EndpointStatus") not in {"InService", "Updating"}:
        raise Conflict(f"endpointName: endpoint is {described.get('EndpointStatus')}, not InService")
    return request.endpointName


MAX_PAYLOAD_BYTES = 6 * 1024 * 1024


def to_csv(rows: list[list[float]]) -> str:
    """Feature rows as the container's text/csv input (repr keeps full float precision)."""
    return "\n".join(",".join(repr(float(v)) for v in row) for row in rows) + "\n"


def predict(runtime: Any, endpoint: str, request: InferRequest) -> InferResponse:
    """Invoke the endpoint once for all rows (the swept rows when a range is given)."""
    rows = request.rows()
    x_axis = None
    if request.range is not None:
        x_axis = request.range.points()
        base = rows[0]
        rows = [[*base[:-1], x] for x in x_axis]
    body = to_csv(rows)
    if len(body) > MAX_PAYLOAD_BYTES:
        raise BadRequest("input", f"the rows take {len(body):,} bytes; an endpoint accepts at most 6 MB a request")
    try:
        response = runtime.invoke_endpoint(
            EndpointName=endpoint, ContentType="text/csv", Accept="application/json", Body=body
        )
    except ClientError as exc:
        error = exc.response.get("Error", {})
        if error.get("Code") == "ModelError":
            raise BadRequest("input", str(exc.response.get("OriginalMessage") or error.get("Message"))) from exc
        raise UpstreamError(f"endpoint {endpoint!r} could not be invoked: {error.get('Message', exc)}") from exc
    try:
        payload = json.loads(response["Body"].read())
        predictions = payload["predictions"] if isinstance(payload, dict) else payload
        return InferResponse(predictions=predictions, x_axis=x_axis)
    except (ValueError, KeyError, TypeError) as exc:
        raise UpstreamError(f"endpoint {endpoint!r} answered without a list of predictions") from exc
