"""Contract conformance: the whole pipeline on a raw root written independently of our generator
(``tests/contract_raw.py``). Ingest with every family loader, ``dbt build`` and the quality runner; then
every file, sheet, reject, amount, disclosure status and finding must be what the builder planted."""
from __future__ import annotations

import shutil
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from dagster_project.ingest import framework
from dagster_project.ingest.assets import FAMILY_LOADERS, resolve_loader
from contract_raw import build_contract_raw
from dbt_fixed_path import run_dbt


pytestmark = pytest.mark.slow


def run_pipeline(tmp: Path, raw: Path, env_setter) -> Path:
    """Ingest → dbt build → quality, as the assets do; returns the warehouse path."""
    warehouse, out = tmp / "warehouse.duckdb", tmp / "out"
    env_setter("GONGKAI_RAW_DIR", str(raw))
    env_setter("GONGKAI_WAREHOUSE", str(warehouse))
    env_setter("GONGKAI_OUT_DIR", str(out))
    from dagster_project.paths import settings

    env = settings().env_for_subprocess()
    env.pop("GONGKAI_AS_OF", None)
    con = duckdb.connect(str(warehouse))
    try:
        for family, spec in FAMILY_LOADERS.items():
            framework.load_family(con, raw, family, resolve_loader(spec), progress=lambda _: None)
    finally:
        con.close()
    result = run_dbt(["build"], env, tmp / "target", tmp / "logs", unit_tests=False)
    assert result.returncode == 0, result.stdout[-6000:]
    from dagster_project.quality.runner import run_quality

    run_quality(warehouse, out)   # with its report: published to people, so it is scanned below too
    return warehouse


@pytest.fixture(scope="module")
def contract_warehouse(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("contract")
    expected = build_contract_raw(tmp / "raw")
    with pytest.MonkeyPatch.context() as mp:
        mp.delenv("GONGKAI_AS_OF", raising=False)   # today: every year of the root is long due
        warehouse = run_pipeline(tmp, tmp / "raw", mp.setenv)
    return warehouse, expected


@pytest.fixture(scope="module")
def contract_run(contract_warehouse):
    warehouse, expected = contract_warehouse
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        yield con, expected
    finally:
        con.close()


def test_every_file_is_accounted_for(contract_run):
    con, exp = contract_run
    rows = con.execute("select source_file, family, status, reason from raw.load_files where is_current").fetchall()
    assert {r[0]: r[1] for r in rows} == exp.files
    rejected = {r[0]: r[3] for r in rows if r[2] == "rejected"}
    assert set(rejected) == set(exp.rejected_files)
    for rel, hint in exp.rejected_files.items():
        assert hint in rejected[rel]


def test_row_rejects_only_where_planted(contract_run):
    con, exp = contract_run
    rows = con.execute(
        "select source_file, sheet, source_row, source_column, raw_value from raw.load_rejects "
        "where source_row is not null").fetchall()
    assert set(rows) == exp.row_rejects


def test_every_sheet_recognised_with_table_year_unit_and_amounts(contract_run):
    con, exp = contract_run
    sheets = con.execute(
        "select source_file, sheet, status, table_name, fiscal_year, unit_multiplier, is_empty, has_empty_note "
        "from raw.budget_sheets where not is_retired union all "
        "select source_file, sheet, status, table_name, fiscal_year, unit_multiplier, is_empty, has_empty_note "
        "from raw.debt_sheets where not is_retired").fetchall()
    # every table states its unit (元 too): none may fall back to a default
    (unitless,) = con.execute(
        "select count(*) from (select unit_label, status from raw.budget_sheets union all "
        "select unit_label, status from raw.debt_sheets) where status = 'parsed' and unit_label is null").fetchone()
    assert unitless == 0
    got = {(f, s): rest for f, s, *rest in sheets}
    assert set(got) == set(exp.sheets)
    wrong = {}
    for key, e in exp.sheets.items():
        status, table_name, year, multiplier, is_empty, has_note = got[key]
        if e.status != "parsed":
            if status != e.status:
                wrong[key] = (status, e.status)
            continue
        actual = (status, table_name, year, Decimal(multiplier))
        want = ("parsed", e.table_name, e.fiscal_year, e.unit_multiplier)
        if actual != want or bool(is_empty) != e.is_empty or bool(has_note) != e.has_empty_note:
            wrong[key] = (actual + (is_empty, has_note), want + (e.is_empty, e.has_empty_note))
    assert wrong == {}
    totals = dict(((f, s), t) for f, s, t in con.execute(
        "select source_file, sheet, sum(amount_yuan) from raw.budget_lines group by all union all "
        "select source_file, sheet, sum(amount_yuan) from raw.debt_lines group by all").fetchall())
    off = {k: (totals.get(k), e.amount_yuan_total) for k, e in exp.sheets.items()
           if Decimal(totals.get(k) or 0) != e.amount_yuan_total}
    assert off == {}


def test_every_sheet_resolved_to_its_publisher_and_table(contract_run):
    con, exp = contract_run
    got = {(f, s): (p, y, t) for f, s, p, y, t in con.execute(
        "select source_file, sheet, publisher_code, fiscal_year, table_key from intermediate.int_sheets_resolved"
    ).fetchall()}
    want = {k: (e.publisher_code, e.fiscal_year, e.table_key) for k, e in exp.sheets.items() if e.status == "parsed"}
    assert {k: got.get(k) for k in want if got.get(k) != want[k]} == {}


def test_trading_rows_duplicates_and_amounts(contract_run):
    con, exp = contract_run
    (rows,) = con.execute("select count(*) from raw.trading_bulletins").fetchone()
    assert rows == exp.trading_rows
    (distinct,) = con.execute("select count(*) from marts.fct_trading_bulletins").fetchone()
    assert distinct == exp.trading_rows - exp.trading_duplicates
    got = {}
    for deal, btype, order, budget, bid in con.execute(
            "select deal_key, bulletin_type_as_published, win_candidate_order, budget_amount_yuan, bid_amount_yuan "
            "from intermediate.int_bulletins_deduplicated").fetchall():
        ident = f"{deal}|{btype}|{order or ''}"
        if budget is not None:
            got[(ident, "BUDGET_AMOUNT")] = Decimal(budget)
        if bid is not None:
            got[(ident, "BID_AMOUNT")] = Decimal(bid)
    assert got == exp.trading_amounts


def test_deals_assembled_across_exports(contract_run):
    con, exp = contract_run
    got = {d: (y, c, a) for d, y, c, a in con.execute(
        "select deal_key, fiscal_year, candidate_count, has_announcement from marts.fct_deals").fetchall()}
    assert got == exp.deals


def test_disclosure_statuses_are_the_planted_ones(contract_run):
    con, exp = contract_run
    actual = {(p, y, t): s for p, y, t, s in con.execute(
        "select publisher_code, fiscal_year, table_key, status from marts.fct_disclosure_status").fetchall()}
    assert {k: s for k, s in actual.items() if s != "on_time"} == exp.statuses


def test_findings_are_the_planted_ones(contract_run):
    con, exp = contract_run
    (run_id,) = con.execute("select max(run_id) from quality.runs").fetchone()
    found = set(con.execute(
        "select distinct rule_id, publisher_code, fiscal_year, object_key from quality.findings "
        "where run_id = ? and kind = 'compliance' and severity <> 'info'", [run_id]).fetchall())
    assert found == exp.findings
    integrity = con.execute(
        "select rule_id, count(*) from quality.findings where run_id = ? and kind = 'integrity' group by all",
        [run_id]).fetchall()
    assert integrity == []


def test_publication_of_the_contract_root_holds_no_personal_data(contract_warehouse, tmp_path):
    """The open-data release, OCDS and dashboards build from this root, and the planted ID / mobile numbers
    (PM_CODE and notice text) appear in none of their files nor in the quality report."""
    warehouse, exp = contract_warehouse
    copy = tmp_path / "publish.duckdb"   # its own file: no lock shared with the read-only test connection
    shutil.copyfile(warehouse, copy)
    from dagster_project.publish.__main__ import main as publish_main

    out = tmp_path / "out"
    assert publish_main(["all", "--warehouse", str(copy), "--out", str(out)]) == 0
    files = [p for p in out.rglob("*") if p.is_file()]
    assert files
    quality = warehouse.parent / "out" / "quality"
    files += [p for p in quality.rglob("*") if p.is_file()]
    assert (quality / "findings.csv").is_file()
    leaks = {p.name: n for p in files for n in exp.personal_data
             if n.encode() in p.read_bytes()}
    assert leaks == {}
