"""Publication by input: what each publication reads, by content, so that only what changed is rebuilt.

The dbt stage's fingerprint moves whenever any raw file changes; a publication that reads only some marts must not
be rebuilt for a change it never sees (a corrected budget figure does not touch the OCDS packages, which read the
trading marts only). These fingerprints are built from the relations a publication reads
(``relation_fingerprint``: columns, row count, order-independent row-hash aggregate), the publishing code and the
settings that shape it. ``None`` = unknown, or ``GONGKAI_NO_CARRY=1``: then the publication is rebuilt.
"""
from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Iterable

import duckdb

from dagster_project import stage_state
from dagster_project.paths import REPO_ROOT, carrying_disabled
from dagster_project.relation_fingerprint import RelationFingerprints, query_fingerprint

PUBLISH_CODE_PATHS = (REPO_ROOT / "dagster_project" / "publish", REPO_ROOT / "dashboards")
# what build_ocds reads (ocds.ocds_source_sql): bulletins, deals, the records dbt left out of the packages
OCDS_RELATIONS = ("fct_trading_bulletins", "fct_deals", "int_records_quarantined")


def publish_code_digest() -> str:
    return stage_state.tree_digest(list(PUBLISH_CODE_PATHS), suffixes=(".py", ".yaml", ".yml", ".json"))


def qualified(con: duckdb.DuckDBPyConnection, table_name: str) -> str | None:
    """``schema.table`` of a relation found by name (``warehouse.find_relation``'s choice), unquoted."""
    rows = [r[0] for r in con.execute(
        "SELECT table_schema FROM information_schema.tables WHERE table_name = ? AND table_catalog = current_database()",
        [table_name]).fetchall()]
    if not rows:
        return None
    rows.sort(key=lambda s: (0 if "mart" in s else 1, s))
    return f"{rows[0]}.{table_name}"


def relations_by_name(relations: RelationFingerprints, con: duckdb.DuckDBPyConnection,
                      names: Iterable[str]) -> str:
    """One digest of relations found by name; a missing one counts as "absent" (what the publication sees too)."""
    parts = []
    for name in sorted(set(names)):
        full = qualified(con, name)
        value = relations.of(full) if full else "absent"
        parts.append(f"{name}={value}")
    return hashlib.sha256("\n".join(parts).encode("utf-8")).hexdigest()


def ocds_fingerprint(warehouse: Path, *settings_parts: str) -> str | None:
    """What the OCDS packages are made of: the trading marts' rows, the mapping and code, the settings."""
    if carrying_disabled() or not warehouse.exists():
        return None
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        relations = RelationFingerprints(con)
        if qualified(con, "fct_trading_bulletins") is None:
            return None
        data = relations_by_name(relations, con, OCDS_RELATIONS)
    finally:
        con.close()
    return stage_state.fingerprint("publish_ocds", data, publish_code_digest(), *settings_parts)


def latest_findings_sql(con: duckdb.DuckDBPyConnection) -> str | None:
    tables = {r[0] for r in con.execute(
        "SELECT table_schema || '.' || table_name FROM information_schema.tables").fetchall()}
    if not {"quality.findings", "quality.runs"} <= tables:
        return None
    return ("SELECT * FROM quality.findings WHERE run_id = "
            "(SELECT run_id FROM quality.runs ORDER BY started_at DESC LIMIT 1)")


def json_digest(value) -> str:
    return hashlib.sha256(json.dumps(value, sort_keys=True, ensure_ascii=False, default=str).encode()).hexdigest()


def findings_fingerprint(con: duckdb.DuckDBPyConnection) -> str | None:
    """The latest quality run's findings by content (its run id left out: a carried run repeats the same rows)."""
    sql = latest_findings_sql(con)
    return None if sql is None else query_fingerprint(con, sql, exclude=("run_id",))
