"""Wave 19's probes of the debt readers (tests/fixtures/blind_debt_budget/MAKE.md, make_probes_w19.py): a 1-4 whose
totals leave their debt kinds blank, a 合计 row inside a 1-4 section, and a 1-1 titled with its figures' year whose
headers say 执行数, in a PDF whose cover says 预算 or 决算. Through the pipeline: tests/test_debt_blind.py.
"""
from __future__ import annotations

import sys
from decimal import Decimal
from pathlib import Path

from dagster_project.ingest.workbook import parse_workbook

FIXTURES = Path(__file__).parent / "fixtures" / "blind_debt_budget"
sys.path.insert(0, str(FIXTURES))
import make_probes_w19 as probes  # noqa: E402

WAN = Decimal(10_000)
FIRST_ROW = 4  # title, publisher and unit, header


def _sheet(name: str):
    (sheet,) = parse_workbook(FIXTURES / name).sheets
    return sheet


def _cells(sheet) -> dict:
    return {(ln.source_row, ln.row_key, ln.column_key): ln.amount_yuan for ln in sheet.lines}


def test_a_totals_kinds_left_blank_are_not_stated_and_a_leaf_left_blank_is_zero():
    # 一、发行额 | 120.5 | 空 | 空 and （一）新增债券 | 70.5 | 空 | 空: the publisher filled only 合计 — the kinds were read as
    # 0 + 0 (a false total ≠ parts, and 0 issuance of each kind in the mart). 五、付息预算数 | 22 | 22 | 空: the 专项 cell
    # beside a stated 一般 equal to the total is a leaf left empty — 0, as blank is in a department table
    sheet = _sheet("county_debt_blank_kinds_calc.xls")
    cells = _cells(sheet)
    expected = {}
    for i, (_, item, total, general, special) in enumerate(probes.BLANK_KIND_ROWS):
        row = FIRST_ROW + i
        kinds = {"general": general, "special": special}
        if item.endswith("_total"):
            expected[(row, item, "amount")] = Decimal(str(total)) * WAN
            for kind, figure in kinds.items():
                stated = figure is not None or any(v is not None for v in kinds.values())
                expected[(row, item[: -len("total")] + kind, "amount")] = (
                    Decimal(str(figure or 0)) * WAN if stated else None)
        else:
            expected[(row, item, "amount")] = Decimal(str(total)) * WAN
            for kind, figure in kinds.items():
                expected[(row, item, f"amount_{kind}")] = None if general is special is None else \
                    Decimal(str(figure or 0)) * WAN
    assert cells == expected
    assert cells[(FIRST_ROW, "issued_general", "amount")] is None                 # not 0.00
    assert cells[(FIRST_ROW + 6, "budget_interest_special", "amount")] == 0       # the leaf: 0
    assert (sheet.rows_in, sheet.rows_loaded, sheet.rows_rejected) == (7, 7, 0)


def test_a_sections_total_row_is_its_total_and_a_repeated_total_its_own_item():
    sheet = _sheet("district_debt_sections_calc.xls")
    cells = _cells(sheet)
    labels = [label for label, *_ in probes.SECTION_ROWS]
    row = {item: FIRST_ROW + i for i, (_, item, *_) in enumerate(probes.SECTION_ROWS) if item}
    totals = [FIRST_ROW + i for i, label in enumerate(labels) if label == "合计"]
    for column, own in (("amount", False), ("amount_own_level", True)):
        # 一、发行额 stated, its kinds blank: not stated
        assert cells[(row["issued_total"], "issued_total", column)] == (50 if own else 100) * WAN
        assert cells[(row["issued_general"], "issued_general", column)] is None
        assert cells[(row["issued_special"], "issued_special", column)] is None
        # 二、还本额 a heading without figures: its total is the 合计 row's (before: no item, the heading a total 0)
        # (the heading's blank cell is no cell of the total: not a line — a line without a figure is a cell not
        # stated, over which no identity is judged — review v15)
        assert (row["principal_total"], "principal_total", column) not in cells
        assert cells[(totals[0], "principal_total", column)] == (30 if own else 85) * WAN
        # 三、付息额 and 四、还本预算数 state their totals twice: the 合计's is the total again, its own item (judged
        # against the heading's through the pipeline: tests/test_debt_blind.py), the heading's the section's
        assert cells[(row["interest_total"], "interest_total", column)] == (9 if own else 20) * WAN
        assert cells[(totals[1], "interest_total_repeated", column)] == (9 if own else 20) * WAN
        assert cells[(row["budget_principal_total"], "budget_principal_total", column)] == (60 if own else 120) * WAN
        assert cells[(totals[2], "budget_principal_total_repeated", column)] == (60 if own else 125) * WAN
    # each item once in a column
    keyed = [(ln.row_key, ln.column_key) for ln in sheet.lines if ln.row_key and ln.amount_yuan is not None]
    assert len(keyed) == len(set(keyed))
    assert (sheet.rows_in, sheet.rows_loaded, sheet.rows_rejected) == (len(labels), len(labels), 0)


def test_a_1_1_titled_with_its_figures_year_over_executed_balances_is_what_its_cover_says():
    # 石嘴山市2023年…情况表 over 2023年债务限额 | 2023年末债务余额执行数, the PDF's only table. A budget shows last year's
    # limit and executed balance (DOMAIN.md 2.3; the Ministry's 五、2023年末一般债务余额执行数 in 2024's 1-2), a final its
    # own year's: the cover decides. Under `2024年政府预算` it was read as 2023's final (its headers' 执行)
    budget = _sheet("city_debt_1_1_budget_cover_chromium.pdf")
    assert (budget.status, budget.table_keys, budget.fiscal_year, budget.phase) == (
        "parsed", ("debt_1_1",), probes.YEAR, "budget")
    assert "2024 年预算的表1-1" in budget.reason
    final = _sheet("city_debt_1_1_final_cover_chromium.pdf")
    assert (final.status, final.table_keys, final.fiscal_year, final.phase) == (
        "parsed", ("debtf_1_1",), probes.FIGURES_YEAR, "final")
    # the same figures either way: 本地区's limit and balance, 万元
    for sheet in (budget, final):
        got = {(ln.line_label, ln.column_key): ln.amount_yuan for ln in sheet.lines if ln.line_label == "本地区"}
        assert got[("本地区", "limit_total")] == 565 * WAN and got[("本地区", "balance_total")] == 545 * WAN


def test_a_workbooks_cover_sheet_decides_the_same(tmp_path):
    # the same 1-1 in an openpyxl workbook whose first sheet is its cover (封面, no table): its text is the document's
    from openpyxl import Workbook

    from make_fixtures import _regions_1_1, _sheet_head

    got = {}
    for phase, cover in probes.COVERS.items():
        wb = Workbook()
        wb.active.title = "封面"
        wb.active.append([probes.CITY])
        wb.active.append([cover])
        ws = wb.create_sheet("表1-1")
        r = _sheet_head(ws, [probes.TITLE_1_1], f"编制单位：{probes.CITY}财政局", probes.WAN, 7)
        _regions_1_1(ws, r, probes.FIGURES_YEAR, probes.REGIONS_1_1)
        ws.cell(r, 5, f"{probes.FIGURES_YEAR}年末债务余额执行数")  # the executed balance, as in the PDFs
        wb.save(tmp_path / f"{phase}.xlsx")
        (sheet,) = [s for s in parse_workbook(tmp_path / f"{phase}.xlsx").sheets if s.status == "parsed"]
        got[phase] = (sheet.table_keys, sheet.fiscal_year, sheet.phase)
    assert got == {"budget": (("debt_1_1",), probes.YEAR, "budget"),
                   "final": (("debtf_1_1",), probes.FIGURES_YEAR, "final")}


def test_a_1_1_regions_limit_with_both_kinds_blank_states_no_split(tmp_path):
    # 1-1 (limit A = B 一般 + C 专项) read as 1-4: 本级 | 300 | 空 | 空 states its limit, not its split (was 0 + 0, a
    # false DEBT_PARTS); 惠农区's 一般 left blank beside a stated 专项 equal to its total is 0
    from make_fixtures import _regions_1_1, _sheet_head
    from openpyxl import Workbook

    rows = [("本地区", 565, 265, 300, 545, 248, 297), ("本级", 300, None, None, 280, 130, 150),
            ("惠农区", 80, None, 80, 70, 10, 60)]
    wb = Workbook()
    ws = wb.active
    r = _sheet_head(ws, [f"{probes.CITY}2024年地方政府债务限额及余额情况表"], f"编制单位：{probes.CITY}财政局", probes.WAN, 7)
    _regions_1_1(ws, r, 2023, rows)
    wb.save(tmp_path / "limits.xlsx")
    (sheet,) = parse_workbook(tmp_path / "limits.xlsx").sheets
    got = {(ln.line_label, ln.column_key): ln.amount_yuan for ln in sheet.lines}
    assert got[("本级", "limit_total")] == 300 * WAN
    assert got[("本级", "limit_general")] is None and got[("本级", "limit_special")] is None
    assert got[("本级", "balance_general")] == 130 * WAN
    assert got[("惠农区", "limit_general")] == 0 and got[("惠农区", "limit_special")] == 80 * WAN


# ---- review v15 of wave 19 (tests/fixtures/review_w19_v15/MAKE.md): the converse — a total left blank beside its
# stated parts
REVIEW = Path(__file__).parent / "fixtures" / "review_w19_v15"
sys.path.insert(0, str(REVIEW))
import make_probes_v15 as review  # noqa: E402  (its own name: wave 18's generator is a make_probes too)


def _review_cells(name: str) -> dict:
    (sheet,) = parse_workbook(REVIEW / name).sheets
    assert (sheet.status, sheet.rows_in, sheet.rows_rejected) == ("parsed", sheet.rows_loaded, 0)
    return {(ln.row_key or ln.line_label, ln.column_key): ln.amount_yuan for ln in sheet.lines}


def test_a_section_heading_left_blank_beside_its_stated_kinds_states_no_total():
    # 二、还本额 | 空 | 空 over （一）一般债务 32 | 10 / （二）专项债务 53 | 20, no 合计 row: the heading was read as a total
    # of 0 (a false 还本额 0 ≠ 32 + 53 and a 0 repayment in the mart). Its total is not stated; its kinds are
    cells = _review_cells("district_1_4_blank_heading_calc.xls")
    for column, (general, special) in (("amount", (32, 53)), ("amount_own_level", (10, 20))):
        assert cells[("principal_total", column)] is None
        assert (cells[("principal_general", column)], cells[("principal_special", column)]) == (
            general * WAN, special * WAN)
    assert cells[("issued_total", "amount")] == 100 * WAN  # the stated headings stay
    # the same under 合计 | 一般债券 | 专项债券: 二、还本额 | 空 | 30 | 50
    cells = _review_cells("county_1_4_blank_total_cell_calc.xls")
    assert cells[("principal_total", "amount")] is None
    assert (cells[("principal_general", "amount")], cells[("principal_special", "amount")]) == (30 * WAN, 50 * WAN)
    # and 1-1's regions: 本级 | 空 | 130 | 150 would be a limit of 0 under a balance of 280 (DEBT_BALANCE_OVER_LIMIT)
    from make_fixtures import _regions_1_1, _sheet_head
    from openpyxl import Workbook
    import tempfile

    wb = Workbook()
    r = _sheet_head(wb.active, [f"{review.CITY}2024年地方政府债务限额及余额情况表"], f"编制单位：{review.CITY}财政局",
                    probes.WAN, 7)
    _regions_1_1(wb.active, r, 2023, [("本地区", 565, 265, 300, 530, 240, 290), ("本级", None, 140, 160, 280, 130, 150),
                                      (review.DISTRICT, 265, 125, 140, 250, 110, 140)])
    with tempfile.TemporaryDirectory() as tmp:
        wb.save(Path(tmp) / "limits.xlsx")
        (sheet,) = parse_workbook(Path(tmp) / "limits.xlsx").sheets
    got = {(ln.line_label, ln.column_key): ln.amount_yuan for ln in sheet.lines}
    assert got[("本级", "limit_total")] is None and got[("本级", "limit_general")] == 140 * WAN


def test_a_grand_total_row_after_the_last_section_is_no_sections_total():
    # 五、付息预算数 | 22 | 10 | 12 then 合计 | 312 | 123 | 189 (the five sections added up): keyed as 五、's total stated
    # again (budget_interest_total_repeated), a false DEBT_PARTS 22 ≠ 312. No parts listed under 五、: the 合计 closes no
    # section — no item, as before wave 19
    (sheet,) = parse_workbook(REVIEW / "county_1_4_grand_total_calc.xls").sheets
    assert (sheet.status, sheet.rows_in, sheet.rows_loaded, sheet.rows_rejected) == ("parsed", 6, 6, 0)
    grand = [ln for ln in sheet.lines if ln.line_label == "合计"]
    assert grand and {ln.row_key for ln in grand} == {None}, [(ln.row_key, ln.column_key) for ln in grand]
    assert {(ln.row_key, ln.column_key): ln.amount_yuan for ln in sheet.lines}[("budget_interest_total", "amount")] \
        == 22 * WAN


def test_a_blank_cell_of_a_sections_total_stated_on_the_other_row_is_no_cell(tmp_path):
    # 三、付息额 | 20 | 9 over its kinds and 合计 | 20 | 空: the 合计's blank 本级 cell was kept as a cell without a figure
    # — a cell not stated, which stops the section's DEBT_PARTS (int_reconciliation_checks judges none over one). It is
    # no cell of the total: the heading states it
    from make_fixtures import _items, _sheet_head
    from openpyxl import Workbook

    rows = [("三、2023年地方政府债务付息额", "", 20, 9), ("（一）一般债务", "", 8, 4), ("（二）专项债务", "", 12, 5),
            ("合计", "", 20, None)]
    wb = Workbook()
    r = _sheet_head(wb.active, [probes.SECTION_TITLE], f"编制单位：{probes.DISTRICT}财政局", probes.WAN, 3)
    _items(wb.active, r, ["项目", "本地区", "本级"], rows)
    wb.save(tmp_path / "sections.xlsx")
    (sheet,) = parse_workbook(tmp_path / "sections.xlsx").sheets
    got = [(ln.line_label, ln.row_key, ln.column_key, ln.amount_yuan) for ln in sheet.lines if ln.row_key and
           ln.row_key.startswith("interest_total")]
    assert got == [("三、2023年地方政府债务付息额", "interest_total", "amount", 20 * WAN),
                   ("三、2023年地方政府债务付息额", "interest_total", "amount_own_level", 9 * WAN),
                   ("合计", "interest_total_repeated", "amount", 20 * WAN)]
