"""Department and government budget files as publishers write them, with what wave 19 left unread (the probes:
tests/fixtures/budget_marks_w20/MAKE.md). Each test failed on the merged code (28a5f58):

- a 三公 决算表's count cell marked `无` (none) or `/` (not applicable) was its row's reject: the row's costs were lost
  with it (`—` and `-` were 0 already). Now `无` is 0 and `/` states no count — neither 0 nor a reject — so a narrative
  stating a count the table marks `/` is no NARR_COUNT_MISMATCH;
- a government's report 关于2023年预算执行情况和2024年预算草案的报告 was read as a 2023 disclosure (the first year in its
  title): it is the 2024 budget's;
- a unit's file naming 预算单位：X（本级） or X机关本级 was an unknown publisher (REG_UNKNOWN_PUBLISHER): it is X's own level;
- a bare 团组数（个） | 人次数（人） beside one row per cost was ignored (reported): the 因公出国（境）费 row's cells are the
  trips abroad and their people.
"""
from __future__ import annotations

import sys
from decimal import Decimal
from pathlib import Path

import pytest

from dagster_project.ingest.workbook import parse_workbook
from dagster_project.sample.formats import chromium, print_pdf

FIXTURES = Path(__file__).parent / "fixtures" / "budget_marks_w20"
sys.path.insert(0, str(FIXTURES))
import make_probes_w20 as probes  # noqa: E402

WAN = Decimal(10_000)
SPORTS_CODE, FINANCE_CODE, CULTURE_CODE = "11640000MB0000201S", "11640000MB0000202F", "11640000MB0000203C"
needs_chromium = pytest.mark.skipif(chromium() is None, reason="headless Chromium is not installed (make browser)")


def _sangong(parsed):
    return next(s for s in parsed.sheets if s.status == "parsed" and "sangong" in s.table_keys[-1])


def _printed(name: str, tables: list[dict], tmp_path: Path) -> Path:
    """The tables printed by headless Chromium as a department's PDF prints them (tests/blind_disclosure.py)."""
    from blind_disclosure import disclosure_html

    path = tmp_path / f"{name}.pdf"
    print_pdf(disclosure_html(tables, [("一、部门主要职能", "负责全区相关工作。")], tables[0]["publisher"].split("：")[-1],
                              "2024年度部门决算"), path)
    return path


def _form(name: str, form: str, table: dict, tmp_path: Path) -> Path:
    if form == "xlsx":
        return FIXTURES / f"{name}.xlsx"
    if chromium() is None:
        pytest.skip("headless Chromium is not installed (make browser)")
    return _printed(name, [table], tmp_path)


def _year_counts(sheet) -> dict:
    """count key → the first count stated (a number before a 0), of the year's own columns."""
    counts = sorted((c for c in sheet.counts if c.column_key == c.count_key), key=lambda c: (c.count_value == 0,))
    out: dict = {}
    for c in counts:
        out.setdefault(c.count_key, c.count_value)
    return out


@pytest.mark.parametrize("form", ["xlsx", "pdf"])
def test_none_and_not_applicable_marks_in_count_cells_are_no_rejects(tmp_path, form):
    """`无` is 0, `/` no count at all, `—` and `-` 0: no row rejected, every cost read."""
    sheet = _sangong(parse_workbook(_form("sangong_marks_final_2024", form, probes._marks_sangong(), tmp_path)))
    assert sheet.rejects == [] and sheet.rows_rejected == 0
    assert _year_counts(sheet) == probes.MARKS_TABLE  # vehicles_bought: `/` on every row, no count
    assert not [c for c in sheet.counts if c.value_text == "/"]
    assert {c.value_text for c in sheet.counts if c.count_value == 0} == {"无", "—", "-"}
    amounts = {"合计" if ln.is_total else ln.row_key: ln.amount_yuan for ln in sheet.lines if ln.column_key == "amount"}
    assert amounts == {"合计": Decimal("29.10") * WAN, "overseas": 0, "vehicle": Decimal("22.70") * WAN,
                       "vehicle_purchase": 0, "vehicle_running": Decimal("22.70") * WAN,
                       "reception": Decimal("6.40") * WAN}


@pytest.mark.parametrize("form", ["xlsx", "pdf"])
def test_bare_count_columns_beside_one_row_per_cost_are_that_costs_counts(tmp_path, form):
    """团组数（个） | 人次数（人） with no 因公出国 prefix, filled on the 因公出国（境）费 row: its trips and people; the
    人次数 left blank on the 公务接待费 row is 0 people received (a blank count on its cost's row is 0, wave 20 y5)."""
    sheet = _sangong(parse_workbook(_form("sangong_bare_trips_final_2024", form, probes._bare_sangong(), tmp_path)))
    assert _year_counts(sheet) == probes.BARE_TABLE
    assert [(c.count_key, c.line_label) for c in sheet.counts] == [("trips_abroad", "1.因公出国（境）费"),
                                                                  ("persons_abroad", "1.因公出国（境）费"),
                                                                  ("reception_persons", "3.公务接待费")]
    assert not sheet.warnings and sheet.rejects == []
    assert {ln.row_key: ln.amount_yuan for ln in sheet.lines if ln.column_key == "amount"}["overseas"] == Decimal(
        "8.40") * WAN


@needs_chromium
@pytest.mark.parametrize("name", sorted(probes.GOV_REPORTS))
def test_a_government_reports_cover_names_the_budget_it_submits(tmp_path, name):
    """关于2023年预算执行情况和2024年预算草案的报告 is the 2024 budget's report (2023's execution is what it reports on);
    a final's report and an adjustment's keep their own year; a standing committee's report on a final and the half
    year's execution is the final's."""
    _, year, phase = probes.GOV_REPORTS[name]
    path = tmp_path / f"{name}.pdf"
    print_pdf(probes.gov_report_html(name), path)
    parsed = parse_workbook(path)
    assert (parsed.fiscal_year, parsed.phase) == (year, phase)


# --------------------------------------------------------------------------------------- through dbt to the rules
@pytest.fixture(scope="module")
def judged(tmp_path_factory):
    """The four .xlsx probes loaded by the budget family's loader, built by dbt to marts.fct_sangong_counts and judged
    by the narrative suite (tests/test_sangong_counts.py's load_and_judge): the sheets' publishers, the counts, the
    NARR_COUNT findings."""
    import duckdb

    from test_sangong_counts import load_and_judge

    tmp = tmp_path_factory.mktemp("budget_marks_w20")
    (tmp / "raw" / "budget").mkdir(parents=True)
    for path in FIXTURES.glob("*.xlsx"):
        (tmp / "raw" / "budget" / path.name).write_bytes(path.read_bytes())
    report, warehouse, run_id = load_and_judge(tmp, [
        (year, code, name) for year in (2024, 2025)
        for code, name in ((SPORTS_CODE, probes.SPORTS), (FINANCE_CODE, probes.FINANCE), (CULTURE_CODE, probes.CULTURE))])
    with duckdb.connect(str(warehouse), read_only=True) as con:
        sheets = con.execute("select source_file, publisher_code, is_registered_publisher from "
                             "intermediate.int_sheets_resolved").fetchall()
        counts = con.execute("select publisher_code, count_key, table_count, stated_count, counts_agree "
                             "from marts.fct_sangong_counts").fetchall()
        findings = con.execute("select rule_id, publisher_code, observed from quality.findings where run_id = ? and "
                               "rule_id like 'NARR_COUNT%'", [run_id]).fetchall()
    return report, sheets, counts, findings


def test_an_own_level_units_file_is_its_departments(judged):
    """预算单位：X本级 / X（本级） / X机关本级 under 预算主管部门：X: X's own level, X's registry entity."""
    _, sheets, _, _ = judged
    assert sorted(sheets) == [
        ("budget/sangong_bare_trips_final_2024.xlsx", CULTURE_CODE, True),
        ("budget/sangong_marks_final_2024.xlsx", SPORTS_CODE, True),
        ("budget/unit_organ_level_budget_2025.xlsx", CULTURE_CODE, True),
        ("budget/unit_own_level_budget_2025.xlsx", FINANCE_CODE, True),
    ]


def test_a_count_marked_not_applicable_is_compared_with_nothing(judged):
    """The vehicles bought marked `/` on every row: no table count, so the narrative's 1 is no mismatch; `无` trips are
    0 as the narrative's 未组织因公出国（境）团组; the bare columns' counts reach the mart."""
    report, _, counts, findings = judged
    assert report.rows_rejected == 0
    by = {(code, key): (table, stated, agree) for code, key, table, stated, agree in counts}
    assert {key: v for (code, key), v in by.items() if code == SPORTS_CODE} == {
        key: (probes.MARKS_TABLE.get(key), stated,
              None if key not in probes.MARKS_TABLE else probes.MARKS_TABLE[key] == stated)
        for key, stated in probes.MARKS_STATED.items()}
    assert {key: table for (code, key), (table, _, _) in by.items() if code == CULTURE_CODE and table is not None} == \
        probes.BARE_TABLE
    assert findings == []
