"""Glue: the labeling reports' database and tables are not created locally — the local mode runs the same SQL over
the same Parquet files with DuckDB (``sagestep labeling report --sql``, :mod:`sagestep.labeling_reports`)."""

from __future__ import annotations

from sagestep.local.cloudformation.registry import Service

_DUCKDB = "the local mode queries the labeling reports' Parquet files with DuckDB"

SERVICE = Service(skipped={"AWS::Glue::Database": _DUCKDB, "AWS::Glue::Table": _DUCKDB})
