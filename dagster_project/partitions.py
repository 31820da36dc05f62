"""Fiscal-year partitions (财政年度分区): one year can be re-published alone, from the UI or the CLI.

Where a partition fits: the open-data release, whose work divides by year (publication functions take
``fiscal_years``: None = every year). The OCDS packages divide by year too, but the release depends on them and
Dagster refuses a partitioned → partitioned dependency in a run without a partition (the all-years job), so the
OCDS asset is unpartitioned and takes the year of the run it is in (``fiscal_years_of``). Ingest is not partitioned (files are
identified by content, a file may hold several years); dbt builds by load and skips an unchanged build (its
marts mix years: a deal's year is known only once its bulletins are assembled); quality judges the whole
warehouse in one GX run (~20 s on the sample) and its report compares runs; dashboards show every year on one
page. Those run as they are inside a one-year run.

The partitions are dynamic: the years the marts hold, registered after every dbt build (``register``). A run
without a partition (``make run``, the job ``gongkai_all`` as before) publishes every year; a run of one
partition (``make run YEAR=2019``, or "Materialize" with a partition in the UI) re-publishes that year and
carries the others over.
"""
from __future__ import annotations

import duckdb

import dagster as dg

FISCAL_YEAR_PARTITIONS = "fiscal_year"
fiscal_year_partitions = dg.DynamicPartitionsDefinition(name=FISCAL_YEAR_PARTITIONS)

# Marts whose rows carry the fiscal year a publication is divided by (CONTRACTS §4; a deal's year: fct_deals).
YEAR_SOURCES = (
    ("marts", "fct_disclosure_expected"), ("marts", "fct_budget_lines"), ("marts", "fct_debt_positions"),
    ("marts", "fct_deals"),
)
# A year outside this span is a publisher's typo, not a partition anyone wants in the UI.
PLAUSIBLE_YEARS = range(1990, 2100)


def years_in_warehouse(con: duckdb.DuckDBPyConnection) -> list[int]:
    present = set(con.execute("select table_schema, table_name from information_schema.tables").fetchall())
    parts = [f"select distinct fiscal_year from {s}.{t}" for s, t in YEAR_SOURCES if (s, t) in present]
    if not parts:
        return []
    rows = con.execute(" union ".join(parts)).fetchall()
    return sorted(int(y) for (y,) in rows if y is not None and int(y) in PLAUSIBLE_YEARS)


def register(instance: dg.DagsterInstance, years: list[int]) -> list[str]:
    """Add the years not yet partitions (never removes one: a year's past runs stay browsable)."""
    known = set(instance.get_dynamic_partitions(FISCAL_YEAR_PARTITIONS))
    new = [str(y) for y in years if str(y) not in known]
    if new:
        instance.add_dynamic_partitions(FISCAL_YEAR_PARTITIONS, new)
    return new


def selected_fiscal_years(partition_keys: list[str] | None, known: list[str]) -> set[int] | None:
    """The years a run publishes: None (every year) for a run without a partition or one covering them all."""
    if not partition_keys:
        return None
    if known and set(known) <= set(partition_keys):
        return None
    return {int(k) for k in partition_keys}


PARTITION_TAG = "dagster/partition"
RANGE_TAGS = ("dagster/asset_partition_range_start", "dagster/asset_partition_range_end")


def fiscal_years_of(context: dg.AssetExecutionContext) -> set[int] | None:
    """The years this step publishes. A partitioned asset: its partition(s). An unpartitioned asset in a run of a
    partition (the OCDS packages, upstream of the partitioned release): the run's partition, from its tags."""
    known = context.instance.get_dynamic_partitions(FISCAL_YEAR_PARTITIONS)
    if context.has_partition_key or context.has_partition_key_range:
        return selected_fiscal_years(list(context.partition_keys), known)
    tags = context.run.tags
    if tags.get(PARTITION_TAG):
        return selected_fiscal_years([tags[PARTITION_TAG]], known)
    start, end = (tags.get(t) for t in RANGE_TAGS)
    if start and end and start.isdigit() and end.isdigit():
        keys = [k for k in known if k.isdigit() and int(start) <= int(k) <= int(end)]
        return selected_fiscal_years(keys or [start, end], known)
    return None
