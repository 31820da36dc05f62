"""Trading platform exports (CSV / JSON / JSON Lines) → ``raw.trading_bulletins``.

Headers are mapped onto canonical fields by the alias seed ``dbt/seeds/ingest/ref_trading_field_aliases.csv``;
what each field is (text, time, amount, integer) comes from ``specs/trading_bulletins.yaml``. DuckDB
reads the file and every parse, unit conversion, reject and insert is one set-based SQL statement,
so a file of millions of rows never passes through Python (see ``textfiles`` for encodings and
parsing rules; times are naive Asia/Shanghai local time).

``bulletin_key`` (CONTRACTS.md §2.2) = ``deal id | BULLETIN_TYPE | NOTICE_SEND_TIME (ISO) |
WIN_CANDIDATE_ORDER``, deal id = ``PROJECT_CODE/BID_SECTION_CODE`` (blank section → empty) when
PROJECT_CODE is present, else ``UNIFIED_DEAL_CODE``; missing parts are empty strings. The same
bulletin exported twice is kept twice here, each copy with its provenance; dbt keeps one.
"""
from __future__ import annotations

import csv
from functools import lru_cache

import duckdb
import yaml

from dagster_project import paths
from dagster_project.ingest import textfiles as tf
from dagster_project.ingest.framework import FileOutcome, FileRejected, RawFile

SPEC_PATH = paths.INGEST_SPECS_DIR / "trading_bulletins.yaml"
ALIAS_SEED = paths.DBT_SEEDS_DIR / "ingest" / "ref_trading_field_aliases.csv"


@lru_cache(maxsize=1)
def trading_spec() -> dict:
    return yaml.safe_load(SPEC_PATH.read_text(encoding="utf-8"))


@lru_cache(maxsize=1)
def field_aliases() -> dict[str, str]:
    """Normalised alias → canonical field."""
    with ALIAS_SEED.open(encoding="utf-8") as handle:
        return {tf.normalise_label(row["alias"]): row["canonical_field"] for row in csv.DictReader(handle)}


def bind_headers(headers: list[str]) -> tuple[list[tf.Binding], list[str]]:
    """Map printed headers to canonical fields; return (bindings, ignored headers).

    A header is ignored when it matches no alias or repeats a field already bound (first one wins).
    """
    spec_fields = trading_spec()["fields"]
    aliases = field_aliases()
    bindings: list[tf.Binding] = []
    ignored: list[str] = []
    bound: set[str] = set()
    for index, header in enumerate(headers):
        base, _unit, multiplier = tf.split_header_unit(header)
        name = aliases.get(tf.normalise_label(header)) or aliases.get(base)
        if name is None or name in bound or name not in spec_fields:
            ignored.append(header)
            continue
        kind = spec_fields[name]["kind"]
        if multiplier is not None and kind != "amount":
            ignored.append(header)
            continue
        bound.add(name)
        bindings.append(tf.Binding(name, kind, index, header, multiplier=multiplier))
    return bindings, ignored


def _bulletin_key_sql(present: set[str]) -> str:
    def col(name: str) -> str:
        return f"p_{name}" if name in present else "NULL"

    deal = (
        f"CASE WHEN {col('project_code')} IS NOT NULL "
        f"THEN {col('project_code')} || '/' || coalesce({col('bid_section_code')}, '') "
        f"ELSE coalesce({col('unified_deal_code')}, '') END"
    )
    return (
        f"concat_ws('|', {deal}, coalesce({col('bulletin_type')}, ''), "
        f"coalesce(strftime({col('notice_send_time')}, '%Y-%m-%dT%H:%M:%S'), ''), "
        f"coalesce(CAST({col('win_candidate_order')} AS VARCHAR), ''))"
    )


def load_trading_file(con: duckdb.DuckDBPyConnection, f: RawFile, load_id: str) -> FileOutcome:
    """One trading export → ``raw.trading_bulletins`` + row rejects (see the module docstring)."""
    with tf.bounded_memory(con):
        return _load_trading_file(con, f, load_id)


def _load_trading_file(con: duckdb.DuckDBPyConnection, f: RawFile, load_id: str) -> FileOutcome:
    spec = trading_spec()
    with tf.utf8_source(f) as src:
        staged = tf.stage_text_file(con, f, src, tuple(spec["json_record_keys"]))
        bindings, ignored = bind_headers(staged.headers)
        present = {b.field for b in bindings}
        if not present & set(spec["key_fields"]):
            tf.drop_temp(con, *staged.temp_tables)
            raise FileRejected(
                f"{f.rel}: 不是公共资源交易数据: 没有项目编号/统一交易标识码/公告类型列 (not a trading "
                f"export: none of the key columns PROJECT_CODE, UNIFIED_DEAL_CODE, BULLETIN_TYPE); "
                f"表头为 (headers found): {', '.join(staged.headers) or '(无 none)'}"
            )
        # a bulletin without a deal id cannot be tied to a deal (every TRADE rule is per deal), so
        # it is a row reject rather than a row that would pool with all other id-less rows
        ids = " AND ".join(f"p_{n} IS NULL" for n in ("project_code", "unified_deal_code") if n in present)
        checks = [tf.RowCheck(
            bad_sql=ids or "true", column=None, value_sql="NULL",
            reason="缺少项目编号和统一交易标识码, 无法归属到交易 (neither PROJECT_CODE nor "
                   "UNIFIED_DEAL_CODE is filled: the bulletin cannot be tied to a deal)",
        )]
        parsed = tf.parse_staged(
            con, f, load_id, staged, bindings, checks, extra_sql={"_bulletin_key": _bulletin_key_sql(present)}
        )
    try:
        values = {"bulletin_key": "_bulletin_key"}
        for b in bindings:
            target = spec["fields"][b.field].get("column", b.field)
            if target is not None:  # helper fields (amount_unit) are not stored
                values[target] = f"p_{b.field}"
        rows_loaded = tf.insert_loadable(con, parsed, f, load_id, "raw.trading_bulletins", values)
    finally:
        tf.drop_temp(con, parsed.table)
    notes = []
    if parsed.rows_rejected:
        notes.append(f"{parsed.rows_rejected} 行被拒绝, 见 raw.load_rejects ({parsed.rows_rejected} rows rejected)")
    if ignored:
        notes.append(f"未识别的列已忽略 (unknown columns ignored): {', '.join(ignored)}")
    return tf.text_file_outcome(staged, parsed, rows_loaded, notes, "bulletins")



def duplicate_report(con: duckdb.DuckDBPyConnection, limit: int = 50) -> dict:
    """Bulletins seen more than once among current rows (two exports overlapping).

    Returns ``{"duplicate_keys": n, "duplicate_rows": m, "examples": [...]}`` where each example is
    ``{"source_file", "source_row", "duplicate_of", "duplicate_row", "bulletin_key"}``: a later copy
    pointing to the first copy, as in ground_truth.json ``ingest.duplicate_rows``. "First" orders files
    by path without extension, as a file manager lists them (``导出.csv`` before ``导出(1).csv``,
    the usual name of a second download), then by row.
    """
    # only keys seen more than once are windowed; capped memory so 10 M rows spill, not swell
    copies = """
        WITH repeated AS (
            SELECT bulletin_key FROM raw.trading_bulletins WHERE NOT is_retired
            GROUP BY bulletin_key HAVING count(*) > 1
        )
        SELECT b.bulletin_key, b.source_file, b.source_row,
               row_number() OVER w AS copy_no,
               first_value(b.source_file) OVER w AS first_file,
               first_value(b.source_row) OVER w AS first_row
        FROM raw.trading_bulletins b SEMI JOIN repeated r ON b.bulletin_key = r.bulletin_key
        WHERE NOT b.is_retired
        WINDOW w AS (PARTITION BY b.bulletin_key
                     ORDER BY regexp_replace(b.source_file, '\\.[^./]+$', ''), b.source_file, b.source_row)
    """
    with tf.bounded_memory(con):
        n_rows, n_keys = con.execute(
            f"SELECT count(*), count(DISTINCT bulletin_key) FROM ({copies}) WHERE copy_no > 1"
        ).fetchone()
        examples = [
            {"source_file": r[0], "source_row": r[1], "duplicate_of": r[2], "duplicate_row": r[3],
             "bulletin_key": r[4]}
            for r in con.execute(
                f"SELECT source_file, source_row, first_file, first_row, bulletin_key FROM ({copies}) "
                f"WHERE copy_no > 1 ORDER BY source_file, source_row LIMIT {int(limit)}"
            ).fetchall()
        ]
    return {"duplicate_keys": n_keys, "duplicate_rows": n_rows, "examples": examples}


__all__ = ["bind_headers", "duplicate_report", "field_aliases", "load_trading_file", "trading_spec"]
