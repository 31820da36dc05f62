"""One cap on DuckDB's memory for the warehouse connections the Dagster process opens.

DuckDB's default memory limit is 80 % of RAM (≈ 19 GB on the project's machine). Issue 16's budget is 4 GiB for the
largest process of a run, and the Dagster process also holds Python's heap (GX, the readers, Dagster's events), so
every connection that can run a large query — quality's GX validations and findings, publication's datasets and
OCDS packages — caps DuckDB's buffer pool here and spills to the temp directory past it. dbt's process caps it in its
profile (``dbt/profiles.yml``, the same 3 GB); loading a text file caps it lower still (``ingest/text_memory``).
"""
from __future__ import annotations

import duckdb

WAREHOUSE_MEMORY_LIMIT = "3GB"


def capped(con: duckdb.DuckDBPyConnection) -> duckdb.DuckDBPyConnection:
    """``con`` with DuckDB's memory capped at ``WAREHOUSE_MEMORY_LIMIT`` (a setting of its database instance)."""
    con.execute(f"SET memory_limit = '{WAREHOUSE_MEMORY_LIMIT}'")
    return con
