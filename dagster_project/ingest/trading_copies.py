"""The duplicate report of the trading family (Dagster metadata of ``raw/trading``).

It names, for every bulletin that arrived more than once, which copy is canonical — with the very SQL
dbt uses to choose it: the macros of ``dbt/macros/trading_copies.sql`` are rendered here by Jinja2
(they use no dbt context), so the report and ``int_bulletins_deduplicated`` cannot disagree.
"""
from __future__ import annotations

import hashlib
import json
from functools import lru_cache

import duckdb
import jinja2

from dagster_project import paths
from dagster_project.ingest import textfiles as tf

MACROS = paths.DBT_PROJECT_DIR / "macros" / "trading_copies.sql"
CURRENT = "(SELECT * FROM raw.trading_bulletins WHERE NOT is_retired)"


@lru_cache(maxsize=1)
def _macros():
    return jinja2.Environment(autoescape=False).from_string(MACROS.read_text(encoding="utf-8")).module


def export_ranks_sql(relation: str = CURRENT) -> str:
    return str(_macros().trading_export_ranks(relation))


def copy_position_sql(export_rank: str, source_row: str, source_part: str) -> str:
    return str(_macros().trading_copy_position(export_rank, source_row, source_part))


def copies_sql() -> str:
    """Every non-canonical copy with the canonical copy it repeats."""
    position = copy_position_sql("e.export_rank", "b.source_row", "b.source_part")
    return f"""
        WITH exports AS ({export_ranks_sql()}),
        repeated AS (
            SELECT bulletin_key FROM {CURRENT} GROUP BY bulletin_key HAVING count(*) > 1
        ),
        positioned AS (
            SELECT b.bulletin_key, b.source_file, b.source_row, {position} AS copy_position
            FROM {CURRENT} b SEMI JOIN repeated r ON b.bulletin_key = r.bulletin_key
            JOIN exports e ON e.source_file = b.source_file
        ),
        canonical AS (
            SELECT bulletin_key, min(copy_position) AS copy_position FROM positioned GROUP BY bulletin_key
        )
        SELECT p.bulletin_key, p.source_file, p.source_row, c.source_file AS first_file, c.source_row AS first_row
        FROM positioned p
        JOIN canonical k ON k.bulletin_key = p.bulletin_key
        JOIN positioned c ON c.bulletin_key = k.bulletin_key AND c.copy_position = k.copy_position
        WHERE p.copy_position <> k.copy_position
    """


REPORT_TABLE = "raw.trading_copies_report"


def _report_inputs(con: duckdb.DuckDBPyConnection, limit: int) -> str:
    """What the report is made of: the trading family's current loads (a load's rows are written once and only
    retired later, with its file's record), the bulletins table's columns and current row count, the report SQL."""
    digest = hashlib.sha256(f"{copies_sql()}\n{int(limit)}".encode("utf-8"))
    for row in con.execute(
            "SELECT load_id, source_file, source_sha256, status FROM raw.load_files "
            "WHERE family = 'trading' AND is_current ORDER BY source_file, load_id").fetchall():
        digest.update(("\t".join(map(str, row)) + "\n").encode("utf-8"))
    digest.update(repr(con.execute("DESCRIBE raw.trading_bulletins").fetchall()).encode("utf-8"))
    digest.update(str(con.execute(f"SELECT count(*) FROM {CURRENT}").fetchone()[0]).encode("utf-8"))
    return digest.hexdigest()


def duplicate_report(con: duckdb.DuckDBPyConnection, limit: int = 50) -> dict:
    """Bulletins seen more than once among current rows (exports overlapping).

    Returns ``{"duplicate_keys": n, "duplicate_rows": m, "examples": [...], "canonical_rule": …}`` where
    each example is ``{"source_file", "source_row", "duplicate_of", "duplicate_row", "bulletin_key"}``: a
    non-canonical copy pointing to the canonical copy, as in ground_truth.json ``ingest.duplicate_rows``
    and as the marts keep it.

    Kept in ``raw.trading_copies_report`` with what it was made of (``_report_inputs``): a load that changed no
    trading file (an unchanged re-run, a re-published budget workbook) reads it back instead of grouping every
    current bulletin again (≈ 0.5–1 s at 1 M rows).
    """
    inputs = _report_inputs(con, limit)
    try:
        con.execute(f"CREATE TABLE IF NOT EXISTS {REPORT_TABLE} (inputs VARCHAR NOT NULL, report VARCHAR NOT NULL)")
    except duckdb.Error:  # a read-only connection: made, not kept
        return _duplicate_report(con, limit)
    kept = con.execute(f"SELECT report FROM {REPORT_TABLE} WHERE inputs = ?", [inputs]).fetchone()
    if kept is not None:
        return json.loads(kept[0])
    report = _duplicate_report(con, limit)
    con.execute(f"DELETE FROM {REPORT_TABLE}")
    con.execute(f"INSERT INTO {REPORT_TABLE} VALUES (?, ?)", [inputs, json.dumps(report, ensure_ascii=False)])
    return report


def _duplicate_report(con: duckdb.DuckDBPyConnection, limit: int) -> dict:
    with tf.bounded_memory(con):
        # every copy grouped once (materialised), counted and its first examples listed by DuckDB: an export dropped
        # twice under two names makes every row a copy, which Python must not hold (only ``limit`` rows come back)
        rows = con.execute(f"""
            WITH copies AS MATERIALIZED (
                SELECT source_file, source_row, first_file, first_row, bulletin_key FROM ({copies_sql()})),
            totals AS (SELECT count(*) AS n_rows, count(DISTINCT bulletin_key) AS n_keys FROM copies),
            first_copies AS (SELECT * FROM copies ORDER BY source_file, source_row LIMIT {int(limit)})
            SELECT n_rows, n_keys, source_file, source_row, first_file, first_row, bulletin_key
            FROM totals LEFT JOIN first_copies ON true ORDER BY source_file, source_row""").fetchall()
    n_rows, n_keys = (rows[0][0], rows[0][1]) if rows else (0, 0)
    examples = [{"source_file": r[2], "source_row": r[3], "duplicate_of": r[4], "duplicate_row": r[5],
                 "bulletin_key": r[6]} for r in rows if r[2] is not None]
    return {"duplicate_keys": n_keys, "duplicate_rows": n_rows, "examples": examples,
            "canonical_rule": "最新导出优先, 其次文件顺序 (latest export first — its newest NOTICE_SEND_TIME — "
                              "then file order, then row)"}


__all__ = ["copies_sql", "copy_position_sql", "duplicate_report", "export_ranks_sql"]
