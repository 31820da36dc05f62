"""One cap on DuckDB's memory for the warehouse connections the Dagster process opens.

DuckDB's default memory limit is 80 % of RAM (≈ 19 GB on the project's machine). Issue 16's budget is 4 GiB for the
largest process of a run, and the Dagster process also holds Python's heap (GX, the readers, Dagster's events), so
every connection that can run a large query — quality's GX validations and findings, publication's datasets and
OCDS packages — caps DuckDB's buffer pool here and spills to the temp directory past it. dbt's process caps it in its
profile (``dbt/profiles.yml``, the same 3 GB); loading a text file caps it lower still (``ingest/text_memory``).

The cap counts what the process already holds. A job that runs every step in one process carries about 1 GB of
Python into its release (10 M trading rows); a fixed 3 GB on top of that, plus what DuckDB allocates outside its
buffer pool, left 18 MiB of the 4 GiB budget (``benchmarks/RESULTS.md``, stop 42). So the cap is the budget, less
the memory the process holds outside this DuckDB, less a reserve for DuckDB's untracked allocations and the step's
own Python — never above ``WAREHOUSE_MEMORY_LIMIT_MIB`` and never below ``MEMORY_LIMIT_FLOOR_MIB`` (a query must still
run; past the cap it spills, and work that cannot spill may run again at the ceiling: ``retried_at_ceiling``).
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Callable, TypeVar

import duckdb

T = TypeVar("T")

# The ceiling: dbt's profile's "3GB" (DuckDB's GB is 10^9 bytes: 2 861 MiB).
WAREHOUSE_MEMORY_LIMIT_MIB = 3 * 1000**3 // 2**20

# Issue 16: no process of a run above 4 GiB. A deployment on a larger machine raises it by this variable.
PROCESS_BUDGET_ENV = "GONGKAI_PROCESS_MEMORY_MIB"
PROCESS_BUDGET_MIB = 4096
# Measured at 10 M (stop 42): the release's peak sat ≈ 220 MiB above (held memory + cap). Twice that, rounded.
RESERVE_MIB = 448
# The least any step is given. An OCDS package's items and checks do not spill whole: at 1 M trading rows, capped at
# 1 GiB, a package worker ran out of memory; at 1.5 GiB the build ran (83.5 s; 64.8 s at 2 GiB). A package's size is
# fixed (ocds.yaml), so this does not grow with the data; what still runs out is retried at the ceiling
# (``retried_at_ceiling``), past the budget rather than without a release.
MEMORY_LIMIT_FLOOR_MIB = 1536


def process_budget_mib() -> int:
    """The budget for this process's resident memory, in MiB (``GONGKAI_PROCESS_MEMORY_MIB`` or 4 096)."""
    value = os.environ.get(PROCESS_BUDGET_ENV, "").strip()
    return int(value) if value else PROCESS_BUDGET_MIB


def memory_limit_mib(held_elsewhere_mib: float, budget_mib: int | None = None) -> int:
    """DuckDB's cap for a process that holds ``held_elsewhere_mib`` outside this DuckDB instance."""
    budget = process_budget_mib() if budget_mib is None else budget_mib
    room = int(budget - RESERVE_MIB - held_elsewhere_mib)
    return max(MEMORY_LIMIT_FLOOR_MIB, min(WAREHOUSE_MEMORY_LIMIT_MIB, room))


def resident_mib() -> float | None:
    """This process's resident memory in MiB, or None where ``/proc`` does not tell it."""
    try:
        fields = Path("/proc/self/statm").read_text().split()
        return int(fields[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20
    except (OSError, ValueError, IndexError):
        return None


def duckdb_held_mib(con: duckdb.DuckDBPyConnection) -> float:
    """What ``con``'s database instance holds in memory now, in MiB (its buffer pool's account)."""
    row = con.execute("SELECT coalesce(sum(memory_usage_bytes), 0) FROM duckdb_memory()").fetchone()
    return float(row[0]) / 2**20


def limit_for_new_instance(budget_mib: int | None = None) -> str:
    """The cap, as DuckDB's setting text, for a database instance not yet open (its configuration at connect).

    Everything the process holds counts as held elsewhere: the instance holds nothing yet.
    """
    return f"{_limit_mib(0.0, budget_mib)}MiB"


def capped(con: duckdb.DuckDBPyConnection, budget_mib: int | None = None) -> duckdb.DuckDBPyConnection:
    """``con`` with DuckDB's memory capped to fit the process budget (a setting of its database instance).

    Another connection to the same instance, opened later in the process, sets it again from the memory held
    then; DuckDB's own share is subtracted, so a query already running does not lower its instance's cap.
    """
    con.execute(f"SET memory_limit = '{_limit_mib(duckdb_held_mib(con), budget_mib)}MiB'")
    return con


def at_ceiling(con: duckdb.DuckDBPyConnection) -> None:
    """``con``'s instance capped at the fixed ceiling again: for a statement that ran out of memory under the budget's
    cap, whose second attempt may take the process past the budget (as every step could before the cap counted)."""
    con.execute(f"SET memory_limit = '{WAREHOUSE_MEMORY_LIMIT_MIB}MiB'")


def retried_at_ceiling(con: duckdb.DuckDBPyConnection, work: Callable[[], T]) -> T:
    """``work()``, and once more at the ceiling (``at_ceiling``) if it ran out of memory under the cap: past the budget
    rather than a step without its output. ``work`` must start clean when run again (its statements each their own
    transaction, its temp tables replaced, its files rewritten whole)."""
    try:
        return work()
    except duckdb.OutOfMemoryException:
        at_ceiling(con)
        return work()


def _limit_mib(instance_holds_mib: float, budget_mib: int | None) -> int:
    resident = resident_mib()
    if resident is None:  # no /proc: the fixed ceiling, as before the cap counted anything
        return WAREHOUSE_MEMORY_LIMIT_MIB
    return memory_limit_mib(max(0.0, resident - instance_holds_mib), budget_mib)
