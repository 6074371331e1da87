"""The job store: every job of every kind in one DynamoDB table (layout in docs/architecture.md)."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from botocore.exceptions import ClientError

from sagestep_service.platform import aws
from sagestep_service.platform.errors import BadRequest

OWNER_KIND_INDEX = "byOwnerKind"
WAIT_KIND = "WAIT"

_SERIALIZER = TypeSerializer()
_DESERIALIZER = TypeDeserializer()


class JobExists(Exception):
    """A conditional put found a record with the same id."""


class EndpointBusy(Exception):
    """The job's endpoint is not READY or another in-place update holds it."""


class StaleToken(Exception):
    """The wait token was already consumed (or replaced)."""


def now_iso() -> str:
    """The current time as the table stores it (ISO 8601, UTC, milliseconds)."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def to_dynamo(value: Any) -> Any:
    """JSON-compatible value -> what DynamoDB accepts (floats become Decimals)."""
    return json.loads(json.dumps(value), parse_float=Decimal)


def from_dynamo(value: Any) -> Any:
    """DynamoDB value -> plain JSON types (Decimals become int or float)."""
    if isinstance(value, dict):
        return {k: from_dynamo(v) for k, v in value.items()}
    if isinstance(value, list):
        return [from_dynamo(v) for v in value]
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    return value


def _to_attributes(item: Mapping[str, Any]) -> dict[str, Any]:
    """Python values -> DynamoDB attribute values (as boto3's ``Table`` resource serializes them)."""
    return {name: _SERIALIZER.serialize(value) for name, value in item.items()}


def _from_attributes(item: Mapping[str, Any]) -> dict[str, Any]:
    """DynamoDB attribute values -> Python values (numbers are Decimals, as from the ``Table`` resource)."""
    return {name: _DESERIALIZER.deserialize(value) for name, value in item.items()}


def wait_item_id(wait_key: str) -> str:
    """Key of the wait record for the resource named by ``wait_key`` (never a job id: those start with a kind)."""
    return f"wait#{wait_key}"


def owner_kind(owner: str, kind: str) -> str:
    """Partition key of the owner/kind index."""
    return f"{owner}#{kind}"


def encode_cursor(last_key: dict[str, Any]) -> str:
    """An opaque cursor for ``LastEvaluatedKey``."""
    raw = json.dumps(from_dynamo(last_key), separators=(",", ":"), sort_keys=True).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str, expected_owner_kind: str) -> dict[str, Any]:
    """The ``ExclusiveStartKey`` behind ``cursor``; a cursor of another listing is refused."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        key = json.loads(raw)
    except (binascii.Error, ValueError) as exc:
        raise BadRequest("cursor", "is not a cursor returned by this listing") from exc
    expected = {"jobId", "ownerKind", "createdAt"}
    if not isinstance(key, dict) or set(key) != expected or key.get("ownerKind") != expected_owner_kind:
        raise BadRequest("cursor", "is not a cursor returned by this listing")
    if not all(isinstance(v, str) for v in key.values()):
        raise BadRequest("cursor", "is not a cursor returned by this listing")
    return key


class JobStore:
    """Reads and writes job records.

    Through the low-level DynamoDB client rather than boto3's ``Table`` resource, whose creation costs every cold
    start about a fifth more than the client's alone (its model and classes; bench/api_cold_start.py)."""

    def __init__(self, table_name: str) -> None:
        self._dynamodb = aws.client("dynamodb")
        self._table_name = table_name

    def _item_key(self, job_id: str) -> dict[str, Any]:
        return {"TableName": self._table_name, "Key": {"jobId": {"S": job_id}}}

    def create(self, record: dict[str, Any]) -> None:
        """Write a new record; raise ``JobExists`` if the id is taken (this makes submissions idempotent)."""
        try:
            self._dynamodb.put_item(
                TableName=self._table_name,
                Item=_to_attributes(to_dynamo(record)),
                ConditionExpression="attribute_not_exists(jobId)",
            )
        except ClientError as exc:
            if exc.response["Error"]["Code"] == "ConditionalCheckFailedException":
                raise JobExists(record["jobId"]) from exc
            raise

    def get(self, job_id: str) -> dict[str, Any] | None:
        """The record, read consistently, or None."""
        item = self._dynamodb.get_item(**self._item_key(job_id), ConsistentRead=True).get("Item")
        return from_dynamo(_from_attributes(item)) if item else None

    def page(self, owner: str, kind: str, limit: int, cursor: str | None) -> tuple[list[dict[str, Any]], str | None]:
        """One page of the owner's jobs of a kind, newest first, and the cursor of the next page."""
        partition = owner_kind(owner, kind)
        query: dict[str, Any] = {
            "TableName": self._table_name,
            "IndexName": OWNER_KIND_INDEX,
            "KeyConditionExpression": "ownerKind = :ownerKind",
            "ExpressionAttributeValues": {":ownerKind": {"S": partition}},
            "ScanIndexForward": False,
            "Limit": limit,
        }
        if cursor:
            query["ExclusiveStartKey"] = _to_attributes(decode_cursor(cursor, partition))
        page = self._dynamodb.query(**query)
        last = page.get("LastEvaluatedKey")
        items = [from_dynamo(_from_attributes(item)) for item in page.get("Items", [])]
        return items, encode_cursor(_from_attributes(last)) if last else None

    def delete_submitted(self, job_id: str) -> None:
        """Remove a record whose workflow never started (a failed submission leaves nothing behind)."""
        try:
            self._dynamodb.delete_item(
                **self._item_key(job_id),
                ConditionExpression="#s = :submitted",
                ExpressionAttributeNames={"#s": "status"},
                ExpressionAttributeValues={":submitted": {"S": "SUBMITTED"}},
            )
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "ConditionalCheckFailedException":
                raise

    def update(
        self,
        job_id: str,
        *,
        status: str | None = None,
        set_fields: dict[str, Any] | None = None,
        remove_fields: tuple[str, ...] = (),
        resources: dict[str, str] | None = None,
        expected_status: str | None = None,
        require_absent: tuple[str, ...] = (),
        require_unreserved: bool = False,
    ) -> None:
        """Change a record: optionally its status (appending to the history), top-level fields and
        entries of ``resources``. ``expected_status`` and ``require_absent`` (attributes that must not
        exist) make the change conditional; ``require_unreserved``: no in-place update holds a live reservation
        of the job's endpoint (see :meth:`reserve_endpoint`)."""
        now = now_iso()
        names: dict[str, str] = {"#updatedAt": "updatedAt"}
        updates: dict[str, Any] = {":now": now}
        sets = ["#updatedAt = :now"]
        if status is not None:
            names["#status"] = "status"
            names["#history"] = "history"
            updates[":status"] = status
            updates[":entry"] = [{"status": status, "at": now}]
            updates[":empty"] = []
            sets.append("#status = :status")
            sets.append("#history = list_append(if_not_exists(#history, :empty), :entry)")
        for i, (name, value) in enumerate((set_fields or {}).items()):
            names[f"#f{i}"] = name
            updates[f":f{i}"] = to_dynamo(value)
            sets.append(f"#f{i} = :f{i}")
        if resources:
            names["#resources"] = "resources"
            for i, (name, value) in enumerate(resources.items()):
                names[f"#r{i}"] = name
                updates[f":r{i}"] = value
                sets.append(f"#resources.#r{i} = :r{i}")
        expression = "SET " + ", ".join(sets)
        if remove_fields:
            for i, name in enumerate(remove_fields):
                names[f"#x{i}"] = name
            expression += " REMOVE " + ", ".join(f"#x{i}" for i in range(len(remove_fields)))
        condition = "attribute_exists(jobId)"
        if expected_status is not None:
            names["#status"] = "status"
            updates[":expected"] = expected_status
            condition += " AND #status = :expected"
        for i, name in enumerate(require_absent):
            names[f"#absent{i}"] = name
            condition += f" AND attribute_not_exists(#absent{i})"
        if require_unreserved:
            names["#updatingBy"] = "updatingBy"
            names["#updatingUntil"] = "updatingUntil"
            updates[":epoch"] = int(datetime.now(UTC).timestamp())
            condition += " AND (attribute_not_exists(#updatingBy) OR #updatingUntil < :epoch)"
        self._dynamodb.update_item(
            **self._item_key(job_id),
            UpdateExpression=expression,
            ConditionExpression=condition,
            ExpressionAttributeNames=names,
            ExpressionAttributeValues=_to_attributes(updates),
        )

    def reserve_endpoint(self, job_id: str, updating_job_id: str, *, lease_seconds: int) -> bool:
        """Mark a READY job's endpoint as being updated in place by ``updating_job_id`` for at most
        ``lease_seconds`` (one update at a time; an expired lease may be taken over, so a reservation whose
        holder died never locks the endpoint forever). Returns whether this call took the reservation (False:
        ``updating_job_id`` already held it). Raises ``EndpointBusy`` otherwise."""
        now = datetime.now(UTC)
        try:
            response = self._dynamodb.update_item(
                **self._item_key(job_id),
                UpdateExpression="SET updatingBy = :job, updatingUntil = :until, updatedAt = :now",
                ConditionExpression="#status = :ready AND "
                "(attribute_not_exists(updatingBy) OR updatingBy = :job OR updatingUntil < :epoch)",
                ExpressionAttributeNames={"#status": "status"},
                ExpressionAttributeValues=_to_attributes(
                    {
                        ":job": updating_job_id,
                        ":ready": "READY",
                        ":now": now_iso(),
                        ":epoch": int(now.timestamp()),
                        ":until": int(now.timestamp()) + lease_seconds,
                    }
                ),
                ReturnValues="UPDATED_OLD",
            )
        except ClientError as exc:
            if exc.response["Error"]["Code"] == "ConditionalCheckFailedException":
                raise EndpointBusy(job_id) from exc
            raise
        return bool(_from_attributes(response.get("Attributes", {})).get("updatingBy") != updating_job_id)

    def release_endpoint(self, job_id: str, updating_job_id: str) -> None:
        """End ``updating_job_id``'s reservation of the job's endpoint (no-op if it holds none)."""
        try:
            self._dynamodb.update_item(
                **self._item_key(job_id),
                UpdateExpression="REMOVE updatingBy, updatingUntil",
                ConditionExpression="updatingBy = :job",
                ExpressionAttributeValues={":job": {"S": updating_job_id}},
            )
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "ConditionalCheckFailedException":
                raise

    # Wait records ------------------------------------------------------------------------------------
    # An event-driven wait is one item keyed by the awaited resource ("wait#<type>#<name>"), so that the
    # resuming function finds it with a strongly consistent GetItem: an event that follows the registration
    # by milliseconds still finds it (an index would be eventually consistent). The item carries no
    # `ownerKind`, so listings never see it, and `expiresAt` (the table's TTL attribute) removes one whose
    # execution ended without resuming it.

    def set_wait(self, wait_key: str, job_id: str, token: str, expect: dict[str, str], *, ttl_seconds: int) -> None:
        """Store the task token of ``job_id``'s wait on the resource named by ``wait_key``."""
        self._dynamodb.put_item(
            TableName=self._table_name,
            Item=_to_attributes(
                {
                    "jobId": wait_item_id(wait_key),
                    "kind": WAIT_KIND,
                    "waitKey": wait_key,
                    "waitingJobId": job_id,
                    "waitToken": token,
                    "waitExpect": expect,
                    "createdAt": now_iso(),
                    "expiresAt": int(datetime.now(UTC).timestamp()) + ttl_seconds,
                }
            ),
        )

    def find_waiting(self, wait_key: str) -> dict[str, Any] | None:
        """The wait on the resource named by ``wait_key`` (a consistent read), or None."""
        item = self._dynamodb.get_item(**self._item_key(wait_item_id(wait_key)), ConsistentRead=True).get("Item")
        return from_dynamo(_from_attributes(item)) if item else None

    def take_wait(self, wait_key: str, token: str) -> dict[str, Any]:
        """Remove the wait if it still holds ``token`` and return it: of several resumers only one wins."""
        try:
            response = self._dynamodb.delete_item(
                **self._item_key(wait_item_id(wait_key)),
                ConditionExpression="waitToken = :token",
                ExpressionAttributeValues={":token": {"S": token}},
                ReturnValues="ALL_OLD",
            )
            return from_dynamo(_from_attributes(response.get("Attributes", {})))
        except ClientError as exc:
            if exc.response["Error"]["Code"] == "ConditionalCheckFailedException":
                raise StaleToken(wait_key) from exc
            raise

    def restore_wait(self, wait: dict[str, Any]) -> None:
        """Put back a wait taken by :meth:`take_wait` (its outcome could not be delivered), unless a newer
        wait on the same resource was stored meanwhile."""
        try:
            self._dynamodb.put_item(
                TableName=self._table_name,
                Item=_to_attributes(to_dynamo(wait)),
                ConditionExpression="attribute_not_exists(jobId)",
            )
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "ConditionalCheckFailedException":
                raise
