"""The duplicate report of the trading family (Dagster metadata of ``raw/trading``).

It names, for every bulletin that arrived more than once, which copy is canonical — with the very SQL
dbt uses to choose it: the macros of ``dbt/macros/trading_copies.sql`` are rendered here by Jinja2
(they use no dbt context), so the report and ``int_bulletins_deduplicated`` cannot disagree.
"""
from __future__ import annotations

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


def duplicate_report(con: duckdb.DuckDBPyConnection, limit: int = 50) -> dict:
    """Bulletins seen more than once among current rows (exports overlapping).

    Returns ``{"duplicate_keys": n, "duplicate_rows": m, "examples": [...], "canonical_rule": …}`` where
    each example is ``{"source_file", "source_row", "duplicate_of", "duplicate_row", "bulletin_key"}``: a
    non-canonical copy pointing to the canonical copy, as in ground_truth.json ``ingest.duplicate_rows``
    and as the marts keep it.
    """
    copies = copies_sql()
    with tf.bounded_memory(con):
        n_rows, n_keys = con.execute(
            f"SELECT count(*), count(DISTINCT bulletin_key) FROM ({copies})").fetchone()
        examples = [
            {"source_file": r[0], "source_row": r[1], "duplicate_of": r[2], "duplicate_row": r[3],
             "bulletin_key": r[4]}
            for r in con.execute(
                f"SELECT source_file, source_row, first_file, first_row, bulletin_key FROM ({copies}) "
                f"ORDER BY source_file, source_row LIMIT {int(limit)}"
            ).fetchall()
        ]
    return {"duplicate_keys": n_keys, "duplicate_rows": n_rows, "examples": examples,
            "canonical_rule": "最新导出优先, 其次文件顺序 (latest export first — its newest NOTICE_SEND_TIME — "
                              "then file order, then row)"}


__all__ = ["copies_sql", "copy_position_sql", "duplicate_report", "export_ranks_sql"]
