"""The labeling reports' tables, defined once: the Parquet writer (``reports.write_parquet``), the CDK construct
(a Glue database and these tables, no crawler: the schema is known, a crawler would only guess it) and the local
DuckDB views (``sagestep.labeling_reports``) all read them here. Importable without pyarrow (the Lambda gets pyarrow
from the AWS SDK for pandas layer; the construct never needs it).

Layout under a batch's report prefix: ``<prefix><table>/part-0.parquet``. Column names are snake_case (Athena
lower-cases names) and avoid SQL reserved words (``window`` is one, hence ``window_start``). Times are UTC,
millisecond timestamps without a zone (Athena's ``timestamp``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

PARQUET_FILE = "part-0.parquet"


@dataclass(frozen=True)
class Column:
    name: str
    type: str  #: Glue / Athena (Hive DDL) type
    comment: str = ""


def _c(name: str, type_: str, comment: str = "") -> Column:
    return Column(name, type_, comment)


TABLES: dict[str, tuple[Column, ...]] = {
    "annotations": (
        _c("batch_id", "string"),
        _c("job_name", "string", "the job's name in the batch"),
        _c("level", "int"),
        _c("labeling_job_name", "string", "the Ground Truth labeling job"),
        _c("label_attribute", "string"),
        _c("dataset_object_id", "string", "the item's line in the job's input manifest (0-based)"),
        _c("item_key", "string", "the item across jobs: its source-ref, or sha256: of its text"),
        _c("worker_id", "string"),
        _c("label", "string", "the worker's answer: class, classes joined by |, <n> boxes, <n> entities, JSON"),
        _c("class_names", "string", "the class names in the answer (one per box or entity), joined by |"),
        _c("acceptance_time", "timestamp"),
        _c("submission_time", "timestamp"),
        _c("time_spent_seconds", "double"),
        _c("consolidated_label", "string"),
        _c("agrees", "boolean", "the answer is the consolidated label"),
        _c("window_start", "timestamp", "the hour of the submission"),
    ),
    "items": (
        _c("batch_id", "string"),
        _c("job_name", "string"),
        _c("level", "int"),
        _c("labeling_job_name", "string"),
        _c("label_attribute", "string"),
        _c("modality", "string"),
        _c("dataset_object_id", "string"),
        _c("item_key", "string"),
        _c("label", "string", "the consolidated label (see annotations.label)"),
        _c("class_names", "string", "the class names in the label, joined by |"),
        _c("confidence", "double", "null when failed or without parts"),
        _c("answers", "int"),
        _c("failed", "boolean"),
        _c("failure_reason", "string"),
        _c("adjustment_status", "string", "adjusted / unadjusted for an audit job's item"),
        _c("audited_by", "string", "the later job that labeled the item again, if any"),
        _c("audit_label", "string"),
        _c("audit_outcome", "string", "confirmed / adjusted / failed"),
    ),
    "workers": (
        _c("batch_id", "string"),
        _c("scope", "string", "batch: across the batch; job: one job (job_name)"),
        _c("job_name", "string", "null for scope batch"),
        _c("worker_id", "string"),
        _c("jobs", "int"),
        _c("labels", "bigint", "answers given"),
        _c("total_seconds", "double"),
        _c("min_seconds", "double"),
        _c("mean_seconds", "double"),
        _c("max_seconds", "double"),
        _c("agreement", "double", "share of answers equal to the consolidated label"),
        _c("estimated_accuracy", "double", "Dawid-Skene (classification) or F1 (boxes, entities) estimate"),
    ),
}

#: DuckDB's names for the Glue types (the local views of a table without files).
DUCKDB_TYPES = {
    "string": "VARCHAR",
    "int": "INTEGER",
    "bigint": "BIGINT",
    "double": "DOUBLE",
    "boolean": "BOOLEAN",
    "timestamp": "TIMESTAMP",
}


def columns(table: str) -> tuple[Column, ...]:
    try:
        return TABLES[table]
    except KeyError:
        raise ValueError(f"no report table {table!r} (tables: {', '.join(TABLES)})") from None


def glue_columns(table: str) -> list[dict[str, str]]:
    """The columns as ``AWS::Glue::Table`` ``StorageDescriptor.Columns`` (``Name``, ``Type``, ``Comment``)."""
    return [{"Name": c.name, "Type": c.type, "Comment": c.comment} for c in columns(table)]


def table_key(prefix: str, table: str) -> str:
    """The object key of a table's file under a report prefix."""
    columns(table)
    return f"{prefix}{table}/{PARQUET_FILE}"


def arrow_type(glue_type: str) -> Any:
    import pyarrow as pa  # lazy: the Lambda layer brings it

    types = {
        "string": pa.string(),
        "int": pa.int32(),
        "bigint": pa.int64(),
        "double": pa.float64(),
        "boolean": pa.bool_(),
        "timestamp": pa.timestamp("ms"),
    }
    return types[glue_type]


def arrow_schema(table: str) -> Any:
    """The table's ``pyarrow.Schema`` (imports pyarrow)."""
    import pyarrow as pa

    return pa.schema([pa.field(c.name, arrow_type(c.type), nullable=True) for c in columns(table)])
