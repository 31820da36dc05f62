"""Great Expectations 1.24 on DuckDB: the one workaround, and a context that always lets go of the file.

Why the workaround: GX runs each metric query on a pooled SQLAlchemy connection, returns the
connection, and only then fetches the rows. DuckDB (via duckdb-engine) drops a result when its
connection is released, so every metric came back empty (`list index out of range`, or a
`UnexpectedRowsExpectation` that sees no rows). GX already keeps ONE persisted connection for a
list of dialects (`_PERSISTED_CONNECTION_DIALECTS`, meant for SQLite temp tables); putting DuckDB
on that list makes GX fetch before anything is released. The list holds `GXSqlDialect` members and
is checked two ways -- `dialect_name in LIST` (a plain str compared with each entry) and
`url.startswith(entry.value)` -- so the entry we add is a `str` that also carries `.value`.

We patch the module attribute at runtime (never site-packages) and only once. Importing
`great_expectations` costs ~5 s, so nothing here imports it at module import time.
"""
from __future__ import annotations

import contextlib
import sys
from pathlib import Path
from typing import Any, Iterator

from dagster_project.duckdb_memory import limit_for_new_instance

DUCKDB_DIALECT = "duckdb"


class _DialectName(str):
    """A dialect name usable where GX expects a `GXSqlDialect`: equal to the plain string and with `.value`."""

    @property
    def value(self) -> str:  # GX reads `.value` in `_dialect_requires_persisted_connection`
        return str(self)


def import_gx():
    """``great_expectations``, imported without pyspark.

    GX's ``compatibility.pyspark`` imports pyspark whenever it is installed (the ``spark`` extra is, for the dbt
    parity test): ≈ 1.5 s of every quality step, for an engine gongkai never gives GX (it judges on DuckDB
    through SQLAlchemy). While GX is imported, pyspark is marked absent in ``sys.modules`` — GX's own fallback
    for a machine without pyspark (its Spark names become ``NotImported``) — and unmarked after, so anything
    else in the process still imports pyspark. Nothing is hidden when pyspark is already imported.
    """
    if "great_expectations" in sys.modules:
        import great_expectations  # waits for an import under way in another thread (the quality asset starts one)

        return great_expectations
    hide = "pyspark" not in sys.modules
    if hide:
        sys.modules["pyspark"] = None  # `import pyspark` raises ImportError while this entry is None
    try:
        import great_expectations
    finally:
        if hide and "pyspark" in sys.modules and sys.modules["pyspark"] is None:
            del sys.modules["pyspark"]
    return great_expectations


def _engine_module():
    import_gx()
    from great_expectations.execution_engine import sqlalchemy_execution_engine

    return sqlalchemy_execution_engine


def is_duckdb_persisted() -> bool:
    """True when GX keeps one persisted connection for DuckDB (the workaround is in place)."""
    module = _engine_module()
    return any(entry == DUCKDB_DIALECT for entry in module._PERSISTED_CONNECTION_DIALECTS)


def apply_duckdb_workaround() -> None:
    """Add DuckDB to GX's persisted-connection dialects. Idempotent."""
    module = _engine_module()
    if not is_duckdb_persisted():
        module._PERSISTED_CONNECTION_DIALECTS = (
            *module._PERSISTED_CONNECTION_DIALECTS,
            _DialectName(DUCKDB_DIALECT),
        )


def remove_duckdb_workaround() -> None:
    """Undo the workaround (tests use it to prove the workaround is still needed)."""
    module = _engine_module()
    module._PERSISTED_CONNECTION_DIALECTS = tuple(
        entry for entry in module._PERSISTED_CONNECTION_DIALECTS if entry != DUCKDB_DIALECT
    )


def connection_string(warehouse: Path | str) -> str:
    # duckdb-engine hands the URL's query to DuckDB as its configuration: GX's validations run under the cap the
    # process's other warehouse connections have (duckdb_memory), not DuckDB's default of 80 % of RAM. DuckDB keeps
    # a database's configuration from its first connection and refuses a later one that differs, so the cap is
    # computed once, here, for the URL every connection of GX's engine uses.
    return f"duckdb:///{Path(warehouse).resolve()}?memory_limit={limit_for_new_instance()}"


DATA_DOCS_SITE = "gongkai"


def ephemeral_config(docs_dir: Path | None = None):
    """In-memory stores, no progress bars, and no temp-dir docs site (GX's ephemeral default makes a
    new /tmp directory per context); Data Docs only where asked, under the output root."""
    import_gx()
    from great_expectations.data_context.types.base import (
        DataContextConfig,
        InMemoryStoreBackendDefaults,
        ProgressBarsConfig,
    )

    sites = {}
    if docs_dir is not None:
        sites[DATA_DOCS_SITE] = {
            "class_name": "SiteBuilder",
            "store_backend": {"class_name": "TupleFilesystemStoreBackend", "base_directory": str(docs_dir)},
            "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
        }
    return DataContextConfig(
        store_backend_defaults=InMemoryStoreBackendDefaults(init_temp_docs_sites=False),
        data_docs_sites=sites,
        progress_bars=ProgressBarsConfig(globally=False),
        analytics_enabled=False,
    )


@contextlib.contextmanager
def ephemeral_duckdb_context(
    warehouse: Path | str,
    datasource_name: str = "warehouse",
    *,
    workaround: bool = True,
    docs_dir: Path | None = None,
) -> Iterator[tuple[Any, Any]]:
    """Yield (context, datasource) for an ephemeral GX context on the DuckDB file.

    On exit the datasource's execution engine is disposed and its persisted connection closed,
    because while it lives it holds DuckDB's file lock (dbt and other steps would fail).
    """
    gx = import_gx()

    if workaround:
        apply_duckdb_workaround()
    context = gx.get_context(mode="ephemeral", project_config=ephemeral_config(docs_dir))
    datasource = context.data_sources.add_sql(
        name=datasource_name, connection_string=connection_string(warehouse)
    )
    try:
        yield context, datasource
    finally:
        release_datasource(datasource)


def reset_connection(datasource: Any) -> None:
    """Roll back the persisted connection between checkpoints (every GX query only reads).

    A query that fails while its rows are fetched (a cast that fails on one published value) leaves
    DuckDB's transaction aborted on the one persisted connection, and every later query of every later
    suite would then fail with "Current transaction is aborted" — one rule's error must not become the
    integrity suite's error, which would block publication.
    """
    engines = []
    with contextlib.suppress(Exception):
        engines.append(datasource.get_execution_engine())
    engine = getattr(datasource, "_execution_engine", None)
    if engine is not None:
        engines.append(engine)
    for execution_engine in engines:
        connection = getattr(execution_engine, "_connection", None)
        if connection is not None:
            with contextlib.suppress(Exception):
                connection.rollback()


def release_datasource(datasource: Any) -> None:
    """Close the persisted connection and dispose the SQLAlchemy engine of a GX SQL datasource."""
    engines = []
    engine = getattr(datasource, "_execution_engine", None)
    if engine is not None:
        engines.append(engine)
    with contextlib.suppress(Exception):
        engines.append(datasource.get_execution_engine())
    with contextlib.suppress(Exception):
        sa_engine = datasource.get_engine()
        sa_engine.dispose()
    for execution_engine in engines:
        connection = getattr(execution_engine, "_connection", None)
        if connection is not None:
            with contextlib.suppress(Exception):
                connection.close()
            execution_engine._connection = None
        sa_engine = getattr(execution_engine, "engine", None)
        if sa_engine is not None:
            with contextlib.suppress(Exception):
                sa_engine.dispose()
