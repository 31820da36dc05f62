"""Registry CSVs (regions / entities / approvals) and the portal publication log → raw tables.

Which table a file holds is decided by its header row (``specs/registry_tables.yaml``; the first record a table
identifies by, so a title line a spreadsheet keeps above it is not read as data), never by its name — except the fiscal year of an ``entities_<year>.csv`` without a ``fiscal_year`` column,
which the contract puts only in the file name. Encodings, staging and parsing are shared with the
trading loader (``textfiles``): UTF-8 / UTF-8 BOM / GB18030, set-based SQL. A bad date, boolean,
number or enumeration value rejects its row into ``raw.load_rejects`` — unless its field is ``bad: blank`` in the
spec (a value that does not say which record the row is: an approval date, a flag): then the row loads with that
value NULL and the cell is kept in ``raw.load_blanked_cells`` for a finding (QUAR_VALUE_UNREADABLE; a damaged code:
QUAR_CODE_DAMAGED), so one impossible date does not drop an entity from what is expected of it.
"""
from __future__ import annotations

import re
from functools import lru_cache

import duckdb
import yaml

from dagster_project import paths
from dagster_project.ingest import textfiles as tf
from dagster_project.ingest.framework import FileOutcome, FileRejected, RawFile

SPEC_PATH = paths.INGEST_SPECS_DIR / "registry_tables.yaml"


@lru_cache(maxsize=1)
def table_specs() -> dict:
    return yaml.safe_load(SPEC_PATH.read_text(encoding="utf-8"))


def _aliases(table: dict) -> dict[str, str]:
    out: dict[str, str] = {}
    for name, spec in table["fields"].items():
        for alias in [name, *spec.get("aliases", [])]:
            out.setdefault(tf.normalise_label(alias), name)
    return out


def _enum_values(spec: dict) -> dict[str, str] | None:
    if spec["kind"] != "enum":
        return None
    return {str(s).strip().lower(): canonical for canonical, synonyms in spec["values"].items() for s in synonyms}


def bind_table(table: dict, headers: list[str]) -> tuple[list[tf.Binding], list[str]]:
    aliases = _aliases(table)
    bindings, ignored, bound = [], [], set()
    for index, header in enumerate(headers):
        name = aliases.get(tf.normalise_label(header))
        if name is None or name in bound:
            ignored.append(header)
            continue
        bound.add(name)
        spec = table["fields"][name]
        bindings.append(tf.Binding(name, spec["kind"], index, header, values=_enum_values(spec),
                                   bad_rejects_row=not tf.blank_when_bad(spec)))
    return bindings, ignored


def identify_table(family: str, headers: list[str]) -> tuple[str, list[tf.Binding], list[str]]:
    """The table of ``family`` whose identifying fields are all in the header row."""
    specs = table_specs()
    best = None
    for key in specs["family_tables"][family]:
        table = specs["tables"][key]
        bindings, ignored = bind_table(table, headers)
        fields = {b.field for b in bindings}
        if set(table["identify_by"]) <= fields and (best is None or len(bindings) > len(best[1])):
            best = (key, bindings, ignored)
    if best is None:
        expected = "; ".join(
            f"{key}: {', '.join(specs['tables'][key]['identify_by'])}" for key in specs["family_tables"][family]
        )
        raise FileRejected(
            f"无法识别表格类型: 表头缺少必需的列 (cannot tell which table this is; the header row must "
            f"hold the columns of one of — {expected}); 表头为 (headers found): {', '.join(headers) or '(无 none)'}"
        )
    return best


def _is_header(family: str, texts: list[str]) -> bool:
    try:
        identify_table(family, texts)
    except FileRejected:
        return False
    return True


FULL_WIDTH_DIGITS, DIGITS = "０１２３４５６７８９", "0123456789"


def _with_value_patterns(relation: str, table: dict, bindings: list[tf.Binding]) -> str:
    """The staged relation with each ``value_pattern`` field's cell replaced by the pattern's first group where it
    matches (digits typed full-width read as digits): a year typed ``2016年`` or ``2016年度`` in a 年度 column is the
    year 2016, not an unreadable number. A cell the pattern does not match stays as written (and is judged as such)."""
    replaced = []
    for b in bindings:
        pattern = table["fields"][b.field].get("value_pattern")
        if pattern:
            text = f"translate(c{b.column}, {tf.sql_literal(FULL_WIDTH_DIGITS)}, {tf.sql_literal(DIGITS)})"
            replaced.append(f"coalesce(nullif(regexp_extract({text}, {tf.sql_literal(pattern)}, 1), ''), c{b.column})"
                            f" AS c{b.column}")
    return f"(SELECT * REPLACE ({', '.join(replaced)}) FROM {relation})" if replaced else relation


def _load(con: duckdb.DuckDBPyConnection, f: RawFile, load_id: str, family: str) -> FileOutcome:
    with tf.bounded_memory(con):
        return _load_bounded(con, f, load_id, family)


def _load_bounded(con: duckdb.DuckDBPyConnection, f: RawFile, load_id: str, family: str) -> FileOutcome:
    if f.path.suffix.lower() != ".csv":
        raise FileRejected(f"{f.rel}: 只接受 CSV 文件 (only .csv files are read here)")
    with tf.utf8_source(f) as src:
        # a registry kept in a spreadsheet is saved with its title line(s) above the header (2016年度预算单位名录):
        # the header is the first record one of the family's tables identifies by, within the first few
        staged = tf.stage_text_file(con, f, src, find_header=lambda texts: _is_header(family, texts))
        kind, bindings, ignored = identify_table(family, staged.headers)
        table = table_specs()["tables"][kind]
        staged.relation = _with_value_patterns(staged.relation, table, bindings)
        present = {b.field for b in bindings}
        checks: list[tf.RowCheck] = []
        values = {b.field: f"p_{b.field}" for b in bindings}
        notes = []
        # a row without what names its record (a region's code and name, an entity's code and name, an approval's
        # region and document) is no record: a note under the table (制表：…, 注：…) or a half-filled line — said
        for field in table.get("required", []):
            binding = next(b for b in bindings if b.field == field)
            # the cell as written (r_, kept beside a parsed kind; a text field is its own): a value that is there but
            # unreadable (a code in scientific notation) is that cell's error, not a blank
            written = f"r_{field}" if binding.kind != "text" else f"p_{field}"
            checks.append(tf.RowCheck(
                bad_sql=f"{written} IS NULL", column=binding.header, value_sql="NULL",
                reason=f"「{binding.header}」为空, 不是一条记录 ({field} is blank: not a record of {kind})",
            ))
        if kind == "entities":
            match = re.search(table["file_name_year_pattern"], f.path.name)
            name_year = int(match.group(1)) if match else None
            if "fiscal_year" in present:
                values["fiscal_year"] = f"coalesce(p_fiscal_year, {name_year if name_year else 'NULL'})"
                checks.append(tf.RowCheck(
                    bad_sql=f"{values['fiscal_year']} IS NULL", column="fiscal_year", value_sql="NULL",
                    reason="缺少年度 (fiscal_year is blank and the file name gives no year)",
                ))
            elif name_year is not None:
                values["fiscal_year"] = str(name_year)
                notes.append(f"年度取自文件名 (fiscal year {name_year} taken from the file name)")
            else:
                raise FileRejected(
                    f"{f.rel}: 无法确定年度: 没有 fiscal_year 列, 文件名也不是 entities_<年度>.csv "
                    f"(no fiscal_year column and the file name does not say the year: entities_<year>.csv)"
                )
        parsed = tf.parse_staged(con, f, load_id, staged, bindings, checks)
    try:
        rows_loaded = tf.insert_loadable(con, parsed, f, load_id, table["target_table"], values)
    finally:
        tf.drop_temp(con, parsed.table)
    notes += parsed.notes
    if parsed.rows_rejected:
        notes.append(f"{parsed.rows_rejected} 行被拒绝, 见 raw.load_rejects ({parsed.rows_rejected} rows rejected)")
    if ignored:
        notes.append(f"未识别的列已忽略 (unknown columns ignored): {', '.join(ignored)}")
    return tf.text_file_outcome(staged, parsed, rows_loaded, notes, kind)


def load_registry_file(con: duckdb.DuckDBPyConnection, f: RawFile, load_id: str) -> FileOutcome:
    """``registry/*.csv`` → ``raw.registry_regions`` | ``raw.registry_entities`` | ``raw.registry_approvals``."""
    return _load(con, f, load_id, "registry")


def load_portal_file(con: duckdb.DuckDBPyConnection, f: RawFile, load_id: str) -> FileOutcome:
    """``portal/*.csv`` → ``raw.portal_publications`` (the header ``column`` is stored as ``portal_column``)."""
    return _load(con, f, load_id, "portal")


__all__ = ["identify_table", "load_portal_file", "load_registry_file", "table_specs"]
