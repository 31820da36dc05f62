"""Finding the marts and quality tables in the DuckDB warehouse, whatever schema dbt put them in."""
from __future__ import annotations

import duckdb

from dagster_project.duckdb_memory import capped
from dagster_project.publish.masking import quote_ident


def _quiet(con: duckdb.DuckDBPyConnection) -> duckdb.DuckDBPyConnection:
    # No progress bar on stdout: publishing runs inside Dagster and from the CLI, where it is noise.
    con.execute("SET enable_progress_bar = false")
    # DuckDB's default memory limit is 80 % of RAM; publication shares the machine with the rest of the pipeline and
    # must stay well under the 4 GiB budget, spilling to disk instead of growing
    return capped(con)


def open_read_only(path) -> duckdb.DuckDBPyConnection:
    """A read-only connection to the warehouse file (close it in ``finally``)."""
    return _quiet(duckdb.connect(str(path), read_only=True))


def open_scratch() -> duckdb.DuckDBPyConnection:
    """An in-memory connection for reading written files."""
    return _quiet(duckdb.connect())


def find_relation(con: duckdb.DuckDBPyConnection, table_name: str, schema: str | None = None) -> str | None:
    """Fully qualified name of ``table_name`` (a table or view), preferring a schema named like marts.

    dbt's schema naming (``main_marts``, ``marts``…) is the dbt engineer's choice; publishing must not
    break when it changes, so the table is found by name.
    """
    rows = con.execute(
        "SELECT table_schema FROM information_schema.tables WHERE table_name = ? "
        "AND table_catalog = current_database()",
        [table_name],
    ).fetchall()
    schemas = [r[0] for r in rows]
    if schema is not None:
        schemas = [s for s in schemas if s == schema]
    if not schemas:
        return None
    schemas.sort(key=lambda s: (0 if "mart" in s else 1, s))
    return f"{quote_ident(schemas[0])}.{quote_ident(table_name)}"


def describe(con: duckdb.DuckDBPyConnection, relation_sql: str) -> list[tuple[str, str]]:
    """(column name, DuckDB type) of a relation or a parenthesised query."""
    return [(r[0], str(r[1])) for r in con.execute(f"DESCRIBE SELECT * FROM {relation_sql} AS src").fetchall()]
