"""Incremental dbt by load gives the same warehouse as a full refresh (issue 16).

Budget/debt too: the same copy's budget root changes as well — a department workbook re-published with one figure
changed and one emptied (a changed and a vanished figure in fct_revisions, exactly those), a copy of another
workbook saved under a new name (a duplicate table: int_sheet_duplicates), and a final-accounts workbook removed —
so the budget chain built by publisher-year and by file (macros/budget_units.sql; fct_budget_lines and
int_detail_checks by the units they keep beside them) is compared with a full refresh.

The sample's warehouse (``sample_built``) is copied; its trading raw root then changes the ways real ones do — a
new export of a year the warehouse has not seen (with a late notice of a deal from an earlier year, so one deal
spans years), an export re-published with a bulletin dropped, one re-dated into the year before (its deal moves
partition) and an amount corrected, and an export that disappears — and is loaded through the real loader. One
copy is then built incrementally (plain ``dbt run``), another with ``--full-refresh``; every intermediate and mart
table must hold the same rows in both (EXCEPT ALL both ways); both builds run every model that reads trading rows. A second incremental run with nothing changed must
rebuild no partition and change nothing.
"""
from __future__ import annotations

import csv
import re
import shutil
import subprocess
import time
from pathlib import Path

from decimal import Decimal

import duckdb
import pytest
from openpyxl import load_workbook

from dagster_project.ingest import framework
from dagster_project.ingest.assets import FAMILY_LOADERS, resolve_loader
from dagster_project.paths import REPO_ROOT
from dbt_fixed_path import run_dbt

pytestmark = pytest.mark.slow
EXPORT = "trading/2017-2019_交易信息_导出.csv"
# Every model that reads trading or budget/debt rows; the others read nothing the change touched (both copies keep
# them as built)
CHANGED_MODELS = ["source:trading+", "source:budget+", "source:debt+"]
INCREMENTAL_TABLES = ("intermediate.int_bulletins_deduplicated", "intermediate.int_deals_assembled",
                      "intermediate.int_deal_timelines_evaluated", "intermediate.int_bulletin_privacy_hits",
                      "marts.fct_deals", "intermediate.int_identifier_checks")
# a view over the chain (no stored copy of int_bulletins_deduplicated's wide rows): compared as the tables are
CHAIN_VIEWS = ("marts.fct_trading_bulletins",)
BUDGET_INCREMENTAL_MODELS = ("int_lines_resolved", "int_line_items", "int_reconciliation_checks", "int_figure_versions")
# tables without unit columns, incremental by the publisher-year units they keep beside them (<model>__built_units)
BUDGET_UNIT_MARTS = {"fct_budget_lines": "marts", "int_detail_checks": "intermediate"}
BUDGET_TABLE = "部门支出总表"
UNREGISTERED_PUBLISHER = "未登记测试局"  # a department name in no registry and no portal publication
DATE_FIELDS = ("NOTICE_SEND_TIME", "DOC_GET_START_TIME", "DOC_GET_END_TIME", "BID_DOC_REFER_END_TIME",
               "BID_OPEN_TIME", "PUBLICITY_START_TIME", "PUBLICITY_END_TIME", "CONTRACT_SIGN_TIME")


def _read_export(path: Path) -> tuple[list[str], list[dict[str, str]]]:
    with path.open(encoding="utf-8-sig", newline="") as f:
        reader = csv.DictReader(f)
        return list(reader.fieldnames or []), list(reader)


def _write_export(path: Path, header: list[str], rows: list[dict[str, str]]) -> None:
    # csv.writer quotes the notice texts' line breaks, as the platform's exports do
    with path.open("w", encoding="utf-8-sig", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=header)
        writer.writeheader()
        writer.writerows(rows)


def _shift_years(row: dict[str, str], years: int) -> dict[str, str]:
    out = dict(row)
    for field in DATE_FIELDS:
        value = out.get(field) or ""
        if len(value) >= 4 and value[:4].isdigit():
            out[field] = f"{int(value[:4]) + years}{value[4:]}"
    return out


def _deals(rows: list[dict[str, str]]) -> dict[str, list[dict[str, str]]]:
    deals: dict[str, list[dict[str, str]]] = {}
    for row in rows:
        deals.setdefault(row["BID_SECTION_CODE"] or row["UNIFIED_DEAL_CODE"], []).append(row)
    return deals


def change_trading_root(raw: Path) -> dict[str, object]:
    """Change the trading files as a publisher would; return what was done (for messages)."""
    header, rows = _read_export(raw / EXPORT)
    years = sorted({int(r["NOTICE_SEND_TIME"][:4]) for r in rows if r["NOTICE_SEND_TIME"][:4].isdigit()})
    new_year = max(years) + 3
    deals = _deals(rows)
    multi = [key for key, bulletins in deals.items() if len(bulletins) >= 3]
    assert len(multi) >= 4, "the sample export should hold deals with several bulletins"
    moved_deal, dropped_deal, corrected_deal, spanning_deal = multi[:4]

    # 1. a new export of a new year: two deals of the export re-coded as new deals, dates moved on, plus a late
    #    notice of an existing deal (its deal keeps its earlier year and now spans years)
    fresh = []
    for key in multi[4:6]:
        for row in deals[key]:
            new = _shift_years(row, new_year - int(row["NOTICE_SEND_TIME"][:4] or years[0]))
            for field in ("PROJECT_CODE", "TENDER_PROJECT_CODE", "BID_SECTION_CODE", "UNIFIED_DEAL_CODE"):
                new[field] = f"X{new[field]}" if new[field] else new[field]
            fresh.append(new)
    late = dict(deals[spanning_deal][-1])
    late["NOTICE_SEND_TIME"] = f"{new_year}-01-15 10:00:00"
    late["NOTICE_NAME"] = (late["NOTICE_NAME"] or "") + "（补充公告）"
    fresh.append(late)
    _write_export(raw / "trading" / f"{new_year}_交易信息_导出.csv", header, fresh)

    # 2. the export re-published: a deal's announcement re-dated into the year before (the deal moves partition),
    #    one bulletin dropped, one amount corrected
    changed = []
    dropped = False
    for row in rows:
        key = row["BID_SECTION_CODE"] or row["UNIFIED_DEAL_CODE"]
        row = dict(row)
        if key == moved_deal and row["NOTICE_SEND_TIME"] == deals[moved_deal][0]["NOTICE_SEND_TIME"]:
            row["NOTICE_SEND_TIME"] = f"{int(row['NOTICE_SEND_TIME'][:4]) - 1}-12-20 09:00:00"
        if key == dropped_deal and not dropped and row["BULLETIN_TYPE"] != deals[dropped_deal][0]["BULLETIN_TYPE"]:
            dropped = True
            continue
        if key == corrected_deal and row["BUDGET_AMOUNT"]:
            row["BUDGET_AMOUNT"] = str(int(float(row["BUDGET_AMOUNT"])) + 1000)
        changed.append(row)
    assert dropped
    _write_export(raw / EXPORT, header, changed)

    # 3. an export that disappears (its bulletins must leave, or stay only through their other copies)
    removed = raw / "trading" / "ggzy_stream.jsonl"
    removed.unlink()
    return {"new_year": new_year, "moved": moved_deal, "removed": removed.name}


def change_budget_root(raw: Path, warehouse: Path) -> dict[str, object]:
    """Re-publish one department budget workbook with one leaf figure +1 and a later leaf line deleted (openpyxl, a
    real xlsx writer; a blank cell would read as 0, a changed figure), save a copy of a second workbook under a new
    name, remove a third; return what was done and the revisions it must give."""
    workbooks = sorted((raw / "budget").rglob("*部门预算.xlsx"))
    republished, copied = workbooks[0], workbooks[1]
    removed = sorted((raw / "budget").rglob("*部门决算.xlsx"))[-1]
    source_file = republished.relative_to(raw).as_posix()
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        sheet, unit = con.execute("select sheet, unit_multiplier from raw.budget_sheets where source_file = ? and "
                                  "table_name = ? and not is_retired", [source_file, BUDGET_TABLE]).fetchone()
        leaves = con.execute("""
            select source_row, source_column, column_key, amount_yuan from raw.budget_lines
            where source_file = ? and sheet = ? and column_key = 'basic' and not is_retired
              and not is_total and length(line_code) = 7 and amount_yuan > 0
            order by source_row""", [source_file, sheet]).fetchall()
        assert len(leaves) >= 2
        (changed_row, changed_column, _, changed_yuan), deleted_row = leaves[0], leaves[-1][0]
        vanished = {(deleted_row, key, "vanished", amount, None) for key, amount in con.execute(
            "select column_key, amount_yuan from raw.budget_lines where source_file = ? and sheet = ? and "
            "source_row = ? and amount_yuan is not null and not is_retired", [source_file, sheet, deleted_row]).fetchall()}
    finally:
        con.close()
    assert changed_row < deleted_row and vanished
    book = load_workbook(republished)
    cell = book[sheet][f"{changed_column}{changed_row}"]
    old = Decimal(str(cell.value).replace(",", ""))
    assert old * unit == changed_yuan
    cell.value = float(old + 1)
    book[sheet].delete_rows(deleted_row)
    book.save(republished)
    shutil.copyfile(copied, copied.with_name("转载_" + copied.name))
    # a workbook of a publisher neither the registry nor the portal knows (a third department's, renamed in its file
    # name and its sheet titles, else it is the same tables of the same publisher: a duplicate): an UNREG- key
    department = re.match(r"^(.*?)(?=\d{4}年)", workbooks[2].name).group(1)
    unregistered = workbooks[2].with_name(UNREGISTERED_PUBLISHER + workbooks[2].name[len(department):])
    assert department and not unregistered.exists()
    other = load_workbook(workbooks[2])
    for sheet in other.worksheets:
        for row in sheet.iter_rows(max_row=6):
            for title in row:
                if isinstance(title.value, str) and department in title.value:
                    title.value = title.value.replace(department, UNREGISTERED_PUBLISHER)
    other.save(unregistered)
    removed.unlink()
    return {"source_file": source_file, "unregistered_file": unregistered.relative_to(raw).as_posix(),
            "revisions": {(changed_row, "basic", "changed", changed_yuan, (old + 1) * unit), *vanished}}


def _dbt(args: list[str], warehouse: Path, raw: Path, env0: dict, work: Path) -> subprocess.CompletedProcess:
    env = {**env0, "GONGKAI_WAREHOUSE": str(warehouse), "GONGKAI_RAW_DIR": str(raw), "GONGKAI_OUT_DIR": str(work / "out")}
    result = run_dbt(args, env, work / "target", work / "logs")
    assert result.returncode == 0, result.stdout[-6000:]
    return result


def built_tables(warehouse: Path, table_type: str = "BASE TABLE") -> list[str]:
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        return [f"{s}.{t}" for s, t in con.execute(
            "select table_schema, table_name from information_schema.tables "
            "where table_schema in ('intermediate', 'marts') and table_type = ? order by 1, 2", [table_type]).fetchall()]
    finally:
        con.close()


def differing_rows(left: Path, right: Path, table: str) -> tuple[int, int]:
    """Rows of `table` only in the left warehouse, only in the right one (multisets: EXCEPT ALL)."""
    con = duckdb.connect()
    try:
        con.execute(f"attach '{left}' as l (read_only)")
        con.execute(f"attach '{right}' as r (read_only)")
        columns = ", ".join(f'"{c}"' for c, in con.execute(
            "select column_name from duckdb_columns() where database_name = 'l' and schema_name = ? and table_name = ? "
            "order by column_index", table.split(".")).fetchall())
        only_left = con.execute(f"select count(*) from (select {columns} from l.{table} except all "
                                f"select {columns} from r.{table})").fetchone()[0]
        only_right = con.execute(f"select count(*) from (select {columns} from r.{table} except all "
                                 f"select {columns} from l.{table})").fetchone()[0]
        return only_left, only_right
    finally:
        con.close()


@pytest.fixture(scope="module")
def both_builds(sample_built, tmp_path_factory):
    warehouse0, _, env0 = sample_built
    root = tmp_path_factory.mktemp("incremental")
    raw = root / "raw"
    shutil.copytree(REPO_ROOT / "data" / "raw", raw)
    # named as the sample's, each in a folder: dbt's partial parse carries over from the session's other dbt calls
    # (dbt_fixed_path.py)
    incremental, full = root / "incremental" / "warehouse.duckdb", root / "full" / "warehouse.duckdb"
    incremental.parent.mkdir()
    full.parent.mkdir()
    shutil.copyfile(warehouse0, incremental)
    changes = change_trading_root(raw)
    budget_changes = change_budget_root(raw, incremental)
    con = duckdb.connect(str(incremental))
    try:
        report = framework.load_family(con, raw, "trading", resolve_loader(FAMILY_LOADERS["trading"]),
                                       progress=lambda _: None)
        budget_report = framework.load_family(con, raw, "budget", resolve_loader(FAMILY_LOADERS["budget"]),
                                              progress=lambda _: None)
    finally:
        con.close()
    assert report.retired, report
    assert len(budget_report.loaded) == 3 and len(budget_report.retired) == 1, budget_report
    shutil.copyfile(incremental, full)
    started = time.perf_counter()
    run = _dbt(["run", "--select", *CHANGED_MODELS], incremental, raw, env0, root / "a")
    incremental_s = time.perf_counter() - started
    started = time.perf_counter()
    _dbt(["run", "--full-refresh", "--select", *CHANGED_MODELS], full, raw, env0, root / "b")
    full_s = time.perf_counter() - started
    print(f"dbt run on the changed sample: incremental {incremental_s:.1f} s, full refresh {full_s:.1f} s")
    return dict(incremental=incremental, full=full, raw=raw, env=env0, root=root, changes=changes, log=run.stdout,
                budget_changes=budget_changes)


def test_incremental_equals_full_refresh(both_builds):
    tables = built_tables(both_builds["full"])
    assert set(INCREMENTAL_TABLES) <= set(tables)
    assert built_tables(both_builds["incremental"]) == tables
    views = built_tables(both_builds["full"], "VIEW")
    assert set(CHAIN_VIEWS) <= set(views) and built_tables(both_builds["incremental"], "VIEW") == views
    differing = {t: d for t in tables + views if (d := differing_rows(both_builds["incremental"], both_builds["full"], t)) != (0, 0)}
    assert not differing, f"rows only in the incremental build / only in the full refresh: {differing}"


def test_the_republished_workbook_shows_in_fct_revisions_exactly(both_builds):
    c = both_builds["budget_changes"]
    for warehouse in (both_builds["incremental"], both_builds["full"]):
        con = duckdb.connect(str(warehouse), read_only=True)
        try:
            rows = set(con.execute(
                "select coalesce(new_source_row, old_source_row), measure, change_kind, old_amount_yuan, new_amount_yuan "
                "from marts.fct_revisions where old_source_file = ?", [c["source_file"]]).fetchall())
        finally:
            con.close()
        assert rows == c["revisions"]


def test_a_copied_workbook_is_a_duplicate_compared_line_by_line(both_builds):
    """The copy saved under a new name: each of its tables is a left-out copy of the original's, with the same lines
    (int_sheet_duplicates hashes only the lines of files holding a table with a copy: macros/sheet_copies.sql)."""
    for warehouse in (both_builds["incremental"], both_builds["full"]):
        con = duckdb.connect(str(warehouse), read_only=True)
        try:
            rows = con.execute(
                "select kept_source_file, is_identical, line_count, kept_line_count from intermediate.int_sheet_duplicates "
                "where source_file like '%/转载\\_%' escape '\\'").fetchall()
        finally:
            con.close()
        assert rows and all(identical and lines == kept for _, identical, lines, kept in rows), rows
        assert sum(lines for _, _, lines, _ in rows) > 0 and not any(f.split("/")[-1].startswith("转载") for f, *_ in rows)


def test_a_new_workbook_of_an_unregistered_publisher_is_a_unit_of_its_own(both_builds):
    """Its sheets resolve to no registered publisher (an UNREG- key, never NULL: int_sheets_resolved), form their own
    publisher-year unit, and that unit's lines were built by the incremental run as by the full refresh (the
    equality test compares the rows)."""
    source_file = both_builds["budget_changes"]["unregistered_file"]
    for warehouse in (both_builds["incremental"], both_builds["full"]):
        con = duckdb.connect(str(warehouse), read_only=True)
        try:
            units = con.execute(
                "select distinct sheets.publisher_code, sheets.is_registered_publisher, lines.rebuild_unit "
                "from intermediate.int_sheets_resolved as sheets "
                "join intermediate.int_lines_resolved as lines on lines.sheet_id = sheets.sheet_id "
                "where sheets.source_file = ?", [source_file]).fetchall()
        finally:
            con.close()
        assert len(units) == 1, units
        publisher, registered, unit = units[0]
        assert publisher.startswith("UNREG-") and registered is False
        assert unit.startswith(publisher + "|")


def test_only_the_changed_budget_units_were_rebuilt(both_builds):
    """Each budget model rebuilt some units, not all (else it is a full build in disguise)."""
    con = duckdb.connect(str(both_builds["full"]), read_only=True)
    try:
        all_units = {m: con.execute(f"select count(distinct rebuild_unit) from intermediate.{m}").fetchone()[0]
                     for m in BUDGET_INCREMENTAL_MODELS}
        sheet_units = con.execute("select distinct coalesce(publisher_code, '~') || '|' || coalesce(cast(fiscal_year as "
                                  "varchar), '') from intermediate.int_sheets_resolved").fetchall()
        kept = con.execute("select rebuild_unit from intermediate.int_detail_checks__built_units").fetchall()
    finally:
        con.close()
    assert sorted(kept) == sorted(sheet_units)  # a unit whose sheets have no lines is kept too
    all_units["fct_budget_lines"] = all_units["int_lines_resolved"]  # the mart keeps int_lines_resolved's units
    # int_detail_checks keeps every publisher-year of int_sheets_resolved beside it (units_of 'sheets')
    all_units["int_detail_checks"] = len(sheet_units)
    for model in (*BUDGET_INCREMENTAL_MODELS, *BUDGET_UNIT_MARTS):
        line = next(l for l in both_builds["log"].splitlines() if f"{model}: rebuilding" in l)
        rebuilt = int(line.split(": rebuilding ", 1)[1].split()[0])
        assert 0 < rebuilt < all_units[model] / 2, (model, rebuilt, all_units[model])
    # worked out once per model: the pre-hook reads the units back from the compiled SQL (budget_rebuild_marker)
    for model in (*BUDGET_INCREMENTAL_MODELS, *BUDGET_UNIT_MARTS):
        assert sum(f"{model}: rebuilding" in l for l in both_builds["log"].splitlines()) == 1, model


def test_only_touched_years_were_rebuilt(both_builds):
    """The incremental run rebuilt some partitions, not every one (else it is a full build in disguise)."""
    con = duckdb.connect(str(both_builds["full"]), read_only=True)
    try:
        all_years = {y for y, in con.execute(
            "select distinct partition_year from intermediate.int_deals_assembled").fetchall()}
        moved = con.execute("select distinct partition_year from intermediate.int_deals_assembled "
                            "where bid_section_code = ?", [both_builds["changes"]["moved"]]).fetchall()
    finally:
        con.close()
    log = both_builds["log"]
    line = next(l for l in log.splitlines() if "int_deals_assembled: rebuilding partition_year" in l)
    rebuilt = {int(y) for y in line.rsplit("partition_year", 1)[1].replace(",", " ").split() if y.isdigit()}
    assert both_builds["changes"]["new_year"] in rebuilt
    assert moved and {y for y, in moved} <= rebuilt  # the moved deal's new year
    assert rebuilt <= all_years | {both_builds["changes"]["new_year"] - 1}


def test_an_unchanged_rerun_rebuilds_nothing(both_builds):
    b = both_builds
    snapshot = b["root"] / "before_rerun.duckdb"
    shutil.copyfile(b["incremental"], snapshot)
    models = [t.split(".")[1] for t in INCREMENTAL_TABLES]
    run = _dbt(["run", "--select", *models], b["incremental"], b["raw"], b["env"], b["root"] / "c")
    for model in models:
        assert f"{model}: rebuilding partition_year none" in run.stdout
    for table in INCREMENTAL_TABLES:
        assert differing_rows(snapshot, b["incremental"], table) == (0, 0)
    budget = _dbt(["run", "--select", *BUDGET_INCREMENTAL_MODELS, *BUDGET_UNIT_MARTS], b["incremental"], b["raw"],
                  b["env"], b["root"] / "d")
    for model in BUDGET_INCREMENTAL_MODELS:
        assert re.search(rf"{model}: rebuilding \d+ units, 0 of them built before", budget.stdout), budget.stdout[-3000:]
        assert differing_rows(snapshot, b["incremental"], f"intermediate.{model}") == (0, 0)
    for model, schema in BUDGET_UNIT_MARTS.items():
        assert f"{model}: rebuilding 0 units" in budget.stdout, budget.stdout[-3000:]
        assert differing_rows(snapshot, b["incremental"], f"{schema}.{model}") == (0, 0)
