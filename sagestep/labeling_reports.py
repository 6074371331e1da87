"""SQL over a labeling batch's report tables in local mode: the same Parquet files Athena reads on AWS, downloaded
from (local) S3 and queried with DuckDB under views named like the Glue tables (``annotations``, ``items``,
``workers``), so ``sagestep labeling report BATCH --sql ...`` runs the SQL one would run in Athena. DuckDB is
imported only when a query runs.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from sagestep_service.workflows.labeling import report_schema

_NAME = re.compile(r"^[a-z_][a-z0-9_]*$")


def download_tables(s3: Any, bucket: str, prefix: str, directory: Path) -> dict[str, list[Path]]:
    """Download each report table's Parquet file under ``prefix`` into ``directory``; a table without a file gets
    no path (its view is empty)."""
    tables: dict[str, list[Path]] = {}
    for table in report_schema.TABLES:
        key = report_schema.table_key(prefix, table)
        target = directory / table / report_schema.PARQUET_FILE
        try:
            body = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
        except s3.exceptions.NoSuchKey:
            tables[table] = []
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(body)
        tables[table] = [target]
    return tables


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _empty_view(table: str) -> str:
    columns = ", ".join(
        f"CAST(NULL AS {report_schema.DUCKDB_TYPES[c.type]}) AS {c.name}" for c in report_schema.columns(table)
    )
    return f"SELECT {columns} WHERE false"


def query(sql: str, tables: Mapping[str, Sequence[str | Path]]) -> list[dict[str, Any]]:
    """Run ``sql`` over views named after ``tables`` (each: its Parquet files; none: an empty view with the table's
    columns when it is a report table) and return the rows as dicts."""
    import duckdb  # lazy: only the local report needs it

    connection = duckdb.connect(":memory:")
    try:
        for name, files in tables.items():
            if not _NAME.match(name):
                raise ValueError(f"{name!r} is not a table name")
            if files:
                paths = ", ".join(_literal(str(f)) for f in files)
                connection.execute(f"CREATE VIEW {name} AS SELECT * FROM read_parquet([{paths}])")
            elif name in report_schema.TABLES:
                connection.execute(f"CREATE VIEW {name} AS {_empty_view(name)}")
        cursor = connection.execute(sql)
        names = [d[0] for d in cursor.description or []]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
    finally:
        connection.close()
