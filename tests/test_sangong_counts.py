"""The counts a department's final accounts give in their 三公 detail (DOMAIN.md 2.2: trips abroad and people, vehicles
bought and held, domestic receptions: batches, people), read from the 三公 决算表 and from the narrative as data, on
files made as departments publish them (tests/fixtures/blind_sangong_counts/MAKE.md): Chromium prints of HTML and
LibreOffice .xls saves of the same workbook.

Before, a count column of the 三公 table was an amount in the table's unit (团组 2 → 20,000.00 元), a count row of its
lower block was the cost it names (因公出国（境）团组数 2 → a second 因公出国 amount of 20,000 元), and the narrative's
counts were not read at all.
"""
from __future__ import annotations

import shutil
import sys
from decimal import Decimal
from pathlib import Path

import pytest

from dagster_project.ingest.workbook import parse_workbook
from dagster_project.sample.formats import chromium

FIXTURES = Path(__file__).parent / "fixtures" / "blind_sangong_counts"
sys.path.insert(0, str(FIXTURES))
import make_probes_sangong as probes  # noqa: E402  (blind_budget_w18 has a make_probes)

needs_chromium = pytest.mark.skipif(chromium() is None, reason="headless Chromium is not installed (make browser)")
COUNT_KEYS = ("trips_abroad", "persons_abroad", "vehicles_bought", "vehicles_held", "receptions", "reception_persons")
WAN = Decimal(10_000)


@pytest.fixture(scope="module")
def printed(tmp_path_factory):
    """Each probe printed by Chromium (the PDFs are made here, not committed: ~150 KB each)."""
    if chromium() is None:
        pytest.skip("headless Chromium is not installed (make browser)")
    tmp = tmp_path_factory.mktemp("printed")
    return {name: parse_workbook(probes.print_pdf(name, tmp / f"{name}.pdf", tmp)) for name in probes.documents()}


def _forms(printed) -> dict:
    saved = {name: parse_workbook(FIXTURES / f"{name}_wps.xls") for name in probes.documents()}
    return {"pdf": printed, "xls": saved}


def _sangong(parsed):
    return next(s for s in parsed.sheets if s.status == "parsed" and "sangong" in s.table_keys[-1])


def _table_counts(sheet) -> dict:
    """count key → count, of the year's own figures (a row layout's 决算数 column, a column layout's one row)."""
    return {c.count_key: c.count_value for c in sheet.counts if c.column_key in (c.count_key, "amount")}


def _stated_counts(parsed) -> dict:
    return {s.statement_key: s.count_value for s in parsed.statements if s.count_value is not None}


@pytest.mark.parametrize("form", ["pdf", "xls"])
def test_count_columns_beside_the_amounts_are_counts_not_amounts(printed, form):
    parsed = _forms(printed)[form]["health_final_2024"]
    sheet = _sangong(parsed)
    assert sheet.unit_label == "万元"
    amounts = {ln.column_key: ln.amount_yuan for ln in sheet.lines}
    assert {k: amounts[k] for k in set(amounts) & set(COUNT_KEYS)} == {}  # no count is an amount in 元
    assert amounts["total"] == Decimal("35.50") * WAN and amounts["budget_total"] == 40 * WAN and amounts["reception"] == Decimal("4.40") * WAN
    assert amounts["vehicle_purchase"] == Decimal("11.50") * WAN  # 公务用车购置数 is not the 购置费 column
    assert _table_counts(sheet) == probes.TABLE_COUNTS["health_final_2024"]
    assert sheet.rejects == [] and not sheet.warnings


@pytest.mark.parametrize("form", ["pdf", "xls"])
def test_a_lower_block_of_count_rows_is_counts_and_leaves_the_costs_alone(printed, form):
    """因公出国（境）团组数（个） is no 因公出国 cost, 公务用车购置数（辆） no 购置费, 国内公务接待批次（个） no 公务接待费; ０ full-width,
    `-` and blank are 0."""
    parsed = _forms(printed)[form]["sports_final_2024"]
    sheet = _sangong(parsed)
    costs = sorted(((ln.row_key, ln.column_key, ln.amount_yuan) for ln in sheet.lines if not ln.is_total), key=str)
    assert costs == sorted([("overseas", "budget", 5 * WAN), ("overseas", "amount", Decimal("4.8") * WAN),
                            ("vehicle", "budget", 8 * WAN), ("vehicle", "amount", Decimal("6.5") * WAN),
                            ("vehicle_purchase", "budget", 0), ("vehicle_purchase", "amount", 0),
                            ("vehicle_running", "budget", 8 * WAN), ("vehicle_running", "amount", Decimal("6.5") * WAN),
                            ("reception", "budget", 2 * WAN), ("reception", "amount", 1 * WAN)], key=str)
    assert sheet.rejects == [] and sheet.rows_in == sheet.rows_loaded == 12
    assert _table_counts(sheet) == probes.TABLE_COUNTS["sports_final_2024"]


@pytest.mark.parametrize("form", ["pdf", "xls"])
def test_the_narrative_states_its_counts(printed, form):
    forms = _forms(printed)[form]
    assert _stated_counts(forms["health_final_2024"]) == probes.TABLE_COUNTS["health_final_2024"]
    # the sports narrative: trips and people, none bought (本年未购置公务用车), 9 held; no receptions counts
    assert _stated_counts(forms["sports_final_2024"]) == dict(trips_abroad=1, persons_abroad=3, vehicles_bought=0,
                                                             vehicles_held=9)
    assert {s.section for s in forms["health_final_2024"].statements if s.count_value is not None} == {
        "“三公”经费情况说明"}
    assert _stated_counts(forms["health_budget_2025"]) == {}


def _sports_sangong_table(final_cells: dict[int, str]) -> dict:
    """The sports 三公 table with the 决算数 cell of each given row (index into its rows) replaced."""
    table = probes._sports_sangong()
    table["rows"] = [row[:] for row in table["rows"]]
    for row, value in final_cells.items():
        table["rows"][row][2] = value
    return table


def _sports_sangong_with(tmp_path, final_cells: dict[int, str]):
    """That table written as .xlsx and read back: its 三公 sheet."""
    from blind_disclosure import write_workbook

    path = tmp_path / "决算.xlsx"
    write_workbook(path, [_sports_sangong_table(final_cells)])
    return _sangong(parse_workbook(path))


def test_an_amount_like_decimal_in_a_count_cell_is_its_cells_reject(tmp_path):
    """A count cell holding 12.50 (an amount typed into the count column) is no count: the row is rejected, naming
    its sheet, row and column; a whole `2个` in a cell is 2."""
    sheet = _sports_sangong_with(tmp_path, {6: "2个", 9: "12.50"})
    assert [(r.source_row, r.source_column, r.raw_value) for r in sheet.rejects] == [(13, "C", "12.5")]
    assert "期望整数个数" in sheet.rejects[0].reason and "第13行" in sheet.rejects[0].reason, sheet.rejects[0].reason
    assert sheet.rows_in == sheet.rows_loaded + sheet.rows_rejected == 12
    assert _table_counts(sheet)["trips_abroad"] == 2 and "vehicles_held" not in _table_counts(sheet)


NUMERAL_CELLS = {6: "三", 7: "十二人次", 9: "三三"}


def _numeral_forms(tmp_path) -> dict:
    """The sports table with counts in Chinese numerals, as a department publishes it: the finance system's .xlsx,
    LibreOffice's BIFF .xls of it, and the disclosure page printed to PDF by headless Chromium."""
    from blind_disclosure import disclosure_html, write_workbook

    table = _sports_sangong_table(NUMERAL_CELLS)
    xlsx = tmp_path / "决算.xlsx"
    write_workbook(xlsx, [table])
    forms = {"xlsx": xlsx, "xls": probes.soffice_xls(xlsx, tmp_path, tmp_path)}
    forms["pdf"] = probes.print_html(disclosure_html([table], [], probes.SPORTS, "2024年度部门决算"),
                                     tmp_path / "决算.pdf", tmp_path)
    return {form: _sangong(parse_workbook(path)) for form, path in forms.items()}


@needs_chromium
@pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice is not installed")
def test_a_count_in_chinese_numerals_is_that_count_and_a_doubled_numeral_its_cells_reject(tmp_path):
    """A count cell in Chinese numerals (三, 十二人次) is that count, as the narrative's 两个团组 is; 三三 is no number:
    the cell's reject naming its column, not a guess — in each form a department publishes the table."""
    forms = _numeral_forms(tmp_path)
    for form, sheet in forms.items():
        assert [(r.source_column, r.raw_value) for r in sheet.rejects] == [("C", "三三")], form
        assert "期望整数个数" in sheet.rejects[0].reason, (form, sheet.rejects[0].reason)
        assert sheet.rows_in == sheet.rows_loaded + sheet.rows_rejected, form
        counts = _table_counts(sheet)
        assert counts["trips_abroad"] == 3 and counts["persons_abroad"] == 12, (form, counts)
        assert "vehicles_held" not in counts, form
    # the workbooks name the cell's row as the sheet numbers it (the PDF: its page's own row)
    assert forms["xlsx"].rejects[0].source_row == forms["xls"].rejects[0].source_row == 13


# --------------------------------------------------------------------------------------- through dbt to the rules
HEALTH_CODE, SPORTS_CODE = "11640000MB0000001H", "11640000MB0000002S"


def load_and_judge(tmp: Path, entities: list[tuple[int, str, str]]):
    """The budget files under ``tmp/raw/budget`` loaded by the budget family's loader (the registry: ``entities``,
    (year, code, name) departments of 640000), built by dbt to marts.fct_sangong_counts, judged by the narrative
    suite: (load report, warehouse, quality run id)."""
    import duckdb

    from dagster_project.ingest import framework
    from dagster_project.ingest.assets import FAMILY_LOADERS, resolve_loader
    from dagster_project.quality.runner import run_quality
    from dagster_project.quality.suites import load_suites
    from dbt_fixed_path import run_dbt, scenario_env

    warehouse = tmp / "warehouse.duckdb"
    con = duckdb.connect(str(warehouse))
    try:
        framework.ensure_schema(con)
        for row, (year, code, name) in enumerate(entities):
            con.execute("insert into raw.registry_entities (load_id, source_file, source_sha256, source_row, fiscal_year,"
                        " entity_code, entity_name, region_code, entity_kind) values ('t', ?, ?, ?, ?, ?, ?, '640000',"
                        " 'department')", [f"registry/entities_{year}.csv", "0" * 64, row + 2, year, code, name])
        con.execute("insert into raw.registry_regions (load_id, source_file, source_sha256, source_row, region_code,"
                    " region_name, level) values ('t', 'registry/regions.csv', ?, 2, '640000', '宁夏回族自治区', 'province')",
                    ["0" * 64])
        report = framework.load_family(con, tmp / "raw", "budget", resolve_loader(FAMILY_LOADERS["budget"]),
                                       progress=lambda _: None)
    finally:
        con.close()
    env = scenario_env(tmp, warehouse)
    result = run_dbt(["build", "--select", "+fct_sangong_counts", "ref_rule_catalogue", "--resource-type", "seed",
                      "--resource-type", "model"], env, tmp / "target", tmp / "logs")
    assert result.returncode == 0, result.stdout[-6000:]
    run = run_quality(warehouse, tmp / "out", suites=[s for s in load_suites() if s.name == "narrative"],
                      write_report=False)
    return report, warehouse, run.run_id


@pytest.fixture(scope="module")
def judged(tmp_path_factory):
    """The three .xls probes loaded by the budget family's loader, built by dbt to marts.fct_sangong_counts, and
    judged by the narrative suite."""
    import duckdb

    tmp = tmp_path_factory.mktemp("sangong_counts")
    (tmp / "raw" / "budget").mkdir(parents=True)
    for name in probes.documents():
        (tmp / "raw" / "budget" / f"{name}_wps.xls").write_bytes((FIXTURES / f"{name}_wps.xls").read_bytes())
    report, warehouse, run_id = load_and_judge(tmp, [
        (year, code, name) for year in (2024, 2025)
        for code, name in ((HEALTH_CODE, probes.HEALTH), (SPORTS_CODE, probes.SPORTS))])
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        rows = con.execute("select publisher_code, fiscal_year, document, count_key, table_count, stated_count, "
                           "count_required, counts_agree from marts.fct_sangong_counts").fetchall()
        findings = con.execute("select rule_id, publisher_code, fiscal_year, object_key, observed, source_file "
                               "from quality.findings where run_id = ?", [run_id]).fetchall()
    finally:
        con.close()
    return report, rows, findings


def test_counts_reach_the_mart_from_table_and_narrative(judged):
    report, rows, _ = judged
    assert report.rows_rejected == 0
    by = {(code, year, document, key): (table, stated, required, agree)
          for code, year, document, key, table, stated, required, agree in rows}
    health = probes.TABLE_COUNTS["health_final_2024"]
    sports = probes.TABLE_COUNTS["sports_final_2024"]
    sports_stated = dict(trips_abroad=1, persons_abroad=3, vehicles_bought=0, vehicles_held=9)
    assert by == {
        **{(HEALTH_CODE, 2024, "final", k): (v, v, True, True) for k, v in health.items()},
        **{(SPORTS_CODE, 2024, "final", k): (v, sports_stated.get(k), True,
                                             None if k not in sports_stated else v == sports_stated[k])
           for k, v in sports.items()},
    }  # the 2025 budget: no row — a budget is asked for no count and gives none


def test_a_finals_explanation_without_its_counts_warns_and_a_count_unlike_the_tables_fails(judged):
    _, _, findings = judged
    got = sorted((rule, code, year, key, observed.split("：")[0].split(" ")[0]) for rule, code, year, key, observed, _
                 in findings)
    assert got == [("NARR_COUNT_MISMATCH", SPORTS_CODE, 2024, "deptf_expl_sangong", "公务用车保有量"),
                   ("NARR_COUNT_MISSING", SPORTS_CODE, 2024, "deptf_expl_sangong", "国内公务接待人次"),
                   ("NARR_COUNT_MISSING", SPORTS_CODE, 2024, "deptf_expl_sangong", "国内公务接待批次")]
    assert {source for *_, source in findings} == {"budget/sports_final_2024_wps.xls"}


SIDE_BY_SIDE = dict(
    name="2024年度部门一般公共预算财政拨款“三公”经费支出决算表", publisher=f"编制部门：{probes.HEALTH}", unit="金额单位：万元",
    head=[[("项目", 1, 1), ("预算数", 1, 1), ("决算数", 1, 1), ("项目", 1, 1), ("统计数", 1, 1)]],
    rows=[["合计", "40.00", "35.50", "1.因公出国（境）团组数（个）", "2"],
          ["1.因公出国（境）费", "10.00", "8.40", "2.因公出国（境）人次数（人）", "5"],
          ["2.公务用车购置及运行费", "24.00", "22.70", "3.公务用车购置数（辆）", "1"],
          ["（1）公务用车购置费", "12.00", "11.50", "4.公务用车保有量（辆）", "12"],
          ["（2）公务用车运行费", "12.00", "11.20", "5.国内公务接待批次（个）", "30"],
          ["3.公务接待费", "6.00", "4.40", "其中：外事接待批次（个）", "2"],
          ["", "", "", "6.国内公务接待人次（人）", "210"],
          ["", "", "", "其中：外事接待人次（人）", "12"],
          ["", "", "", "7.国（境）外公务接待批次（个）", "1"],
          ["", "", "", "8.国（境）外公务接待人次（人）", "6"]])


@pytest.mark.parametrize("form", ["pdf", "xlsx"])
def test_a_statistics_block_beside_the_amounts_is_read_as_the_counts(tmp_path, form):
    """The central template's 三公 决算表: 项目 | 预算数 | 决算数 on the left, 项目 | 统计数 on the right — the counts as
    item rows of their own column pair (外事 and 国（境）外 receptions are other counts). Before, the second 项目 column was
    named and ignored: the counts were lost."""
    from blind_disclosure import disclosure_html, write_workbook

    if form == "pdf":
        if chromium() is None:
            pytest.skip("headless Chromium is not installed (make browser)")
        import subprocess

        page, path = tmp_path / "决算.html", tmp_path / "决算.pdf"
        page.write_text(disclosure_html([SIDE_BY_SIDE], [("一、部门主要职能", "负责全区卫生健康工作。")], probes.HEALTH,
                                        "2024年度部门决算"), encoding="utf-8")
        subprocess.run([chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--no-pdf-header-footer",
                        f"--user-data-dir={tmp_path}/profile", f"--print-to-pdf={path}", page.as_uri()],
                       check=True, capture_output=True, timeout=300)
    else:
        path = tmp_path / "决算.xlsx"
        write_workbook(path, [SIDE_BY_SIDE])
    sheet = _sangong(parse_workbook(path))
    counts = _table_counts(sheet)
    assert {k: v for k, v in counts.items() if k != "other_count"} == probes.TABLE_COUNTS["health_final_2024"]
    assert sorted(c.count_value for c in sheet.counts if c.count_key == "other_count") == [1, 2, 6, 12]
    amounts = {(ln.row_key, ln.column_key): ln.amount_yuan for ln in sheet.lines}
    assert amounts[("overseas", "amount")] == Decimal("8.40") * WAN and amounts[("reception", "amount")] == Decimal(
        "4.40") * WAN
    assert sheet.rejects == [] and not sheet.warnings


def test_none_in_words_is_zero_and_foreign_receptions_are_not_the_domestic_ones(tmp_path):
    """`未组织因公出国（境）团组` and `未购置公务用车` state 0; `外事接待2批次、10人次` before the domestic ones is not them."""
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.title = "说明"
    for text in ("宁夏回族自治区体育局2024年度部门决算公开说明", "二、“三公”经费财政拨款支出决算情况说明",
                 "2024年度未组织因公出国（境）团组；未购置公务用车，年末公务用车保有量为３辆；公务接待费0.80万元，"
                 "其中外事接待2批次、10人次，国内公务接待15批次、60人次。"):
        sheet.append([text])
    book.save(tmp_path / "说明.xlsx")
    assert _stated_counts(parse_workbook(tmp_path / "说明.xlsx")) == dict(
        trips_abroad=0, persons_abroad=0, vehicles_bought=0, vehicles_held=3, receptions=15, reception_persons=60)
