"""Dagster resources shared by every concern."""
from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator

import dagster as dg
import duckdb

from dagster_project.paths import settings

# Every asset that opens the DuckDB file runs in this pool (limit 1): DuckDB has one writer, and
# dbt fails at once if any other process holds the file (see shared/STACK_NOTES.md).
DUCKDB_POOL = "duckdb"


class WarehouseResource(dg.ConfigurableResource):
    """The DuckDB warehouse file. Connections are short-lived and always closed."""

    path: str = ""  # blank: GONGKAI_WAREHOUSE via paths.settings()

    def resolved_path(self) -> str:
        return self.path or str(settings().warehouse)

    @contextmanager
    def connect(self) -> Iterator[duckdb.DuckDBPyConnection]:
        from pathlib import Path

        target = Path(self.resolved_path())
        target.parent.mkdir(parents=True, exist_ok=True)
        con = duckdb.connect(str(target))
        try:
            yield con
        finally:
            con.close()
