"""A debt 1-2 with 本地区 | 其中：本级 | counties each over 执行数 | 预算数 (tests/test_debt_ministry_layout.pairs_workbook:
past years' items filled under 执行数, the table's year's under 预算数) where a row fills both cells of 本地区's pair.

Before, the pair was no longer read as one column: 本地区/预算数 was dropped for the whole table with a warning, and
the new year's limit read as 0 from its empty 执行数 cell. Now the row decides (ingest/figure_pairs.py): the same
figure twice is that figure; two figures are told apart by the year the item's label names (a past year's item is
its executed figure, the budget year's its budget); a label naming no year is a reject naming both cells.
Expected readings: the same workbook without the second figure."""
from __future__ import annotations

from openpyxl import load_workbook

from dagster_project.ingest.workbook import parse_workbook
from test_debt_ministry_layout import pairs_workbook


def read(path):
    (sheet,) = parse_workbook(path).sheets
    return sheet, sorted((ln.source_row, ln.row_key, ln.column_key, ln.source_column, ln.amount_yuan)
                         for ln in sheet.lines)


def base(tmp_path) -> list[tuple]:
    pairs_workbook(tmp_path / "base.xlsx", None)
    return read(tmp_path / "base.xlsx")[1]


def edited(tmp_path, name, edit):
    pairs_workbook(tmp_path / "pairs.xlsx", None)
    wb = load_workbook(tmp_path / "pairs.xlsx")
    ws = wb.active
    rows = {str(ws.cell(r, 1).value)[:2]: r for r in range(1, ws.max_row + 1) if ws.cell(r, 1).value}
    edit(ws, rows)
    wb.save(tmp_path / name)
    return ws, rows


def test_a_past_years_item_with_both_figures_reads_its_executed_figure(tmp_path):
    """五、2019年末…余额 in 2020's table: 执行数 5000, 预算数 5100 — 2019 is history, its executed figure stands."""
    expected = base(tmp_path)
    edited(tmp_path, "both.xlsx", lambda ws, rows: ws.cell(rows["五、"], 3, ws.cell(rows["五、"], 2).value + 100))
    sheet, got = read(tmp_path / "both.xlsx")
    assert got == expected and not sheet.rejects and not sheet.reason


def test_the_budget_years_item_with_both_figures_reads_its_budget(tmp_path):
    """六、2020年…限额: an 执行数 beside the budget year's 预算数 is not the year's limit."""
    expected = base(tmp_path)
    edited(tmp_path, "both.xlsx", lambda ws, rows: ws.cell(rows["六、"], 2, ws.cell(rows["六、"], 3).value - 1))
    sheet, got = read(tmp_path / "both.xlsx")
    assert got == expected and not sheet.rejects and not sheet.reason


def test_the_same_figure_in_both_cells_is_that_figure(tmp_path):
    expected = base(tmp_path)

    def same(ws, rows):
        for r in rows.values():
            if isinstance(ws.cell(r, 2).value, (int, float)):
                ws.cell(r, 3, ws.cell(r, 2).value)
    edited(tmp_path, "same.xlsx", same)
    sheet, got = read(tmp_path / "same.xlsx")
    assert got == expected and not sheet.rejects and not sheet.reason
    assert any(line[2] == "amount" and line[1] == "limit" and line[4] for line in got)  # the new year's limit


def test_an_item_naming_no_year_with_two_figures_is_refused_naming_both_cells(tmp_path):
    """三、一般债务发行额 (no year) with 执行数 3000 and 预算数 3100: which the table states cannot be told — each cell a
    reject naming sheet, row, column and header; the row's other figures are not read with it, the other rows are."""
    def no_year(ws, rows):
        ws.cell(rows["三、"], 1, "三、一般债务发行额")
        ws.cell(rows["三、"], 3, ws.cell(rows["三、"], 2).value + 100)
    ws, rows = edited(tmp_path, "no_year.xlsx", no_year)
    _, expected = read(tmp_path / "pairs.xlsx")
    sheet, got = read(tmp_path / "no_year.xlsx")
    row = rows["三、"]
    assert got == [line for line in expected if line[0] != row]
    assert sorted((r.sheet, r.source_row, r.source_column) for r in sheet.rejects) == [
        (ws.title, row, "B"), (ws.title, row, "C")]
    assert all("B%d「本地区/执行数」" % row in r.reason and "C%d「本地区/预算数」" % row in r.reason for r in sheet.rejects)
    assert sheet.rows_rejected == 1


def test_years_in_words_decide_as_years_in_digits(tmp_path):
    """上年末…余额 / 本年…限额 in a budget table (no digits): 上年 is history (执行数), 本年 the budget year (预算数) — read
    as the same labels with their years written out."""
    expected = base(tmp_path)

    def worded(ws, rows):
        ws.cell(rows["五、"], 1, "五、上年末一般债务余额")
        ws.cell(rows["五、"], 3, ws.cell(rows["五、"], 2).value + 100)
        ws.cell(rows["六、"], 1, "六、本年一般债务限额")
        ws.cell(rows["六、"], 2, ws.cell(rows["六、"], 3).value - 1)
    ws, rows = edited(tmp_path, "worded.xlsx", worded)
    sheet, got = read(tmp_path / "worded.xlsx")
    assert not sheet.rejects
    # the item too (review R5: the row pattern read 上年末 as the opening balance while the pair read 上年 as 2019 —
    # 五、上年末… in 2020's table is 2019年末…, the closing balance, as its digits would say)
    assert {(r, k, c, v) for r, k, c, _, v in got} == {(r, k, c, v) for r, k, c, _, v in expected}


def test_the_labels_head_names_its_year_not_a_remark_in_brackets(tmp_path):
    """六、本年一般债务限额（比上年增加500） with 执行数 and 预算数: 本年 is the budget year — the 上年 of the remark names another
    year, not the item's (before: any 上年 in the label made it last year's, and its executed figure was read)."""
    expected = base(tmp_path)

    def remark(ws, rows):
        ws.cell(rows["六、"], 1, "六、本年一般债务限额（比上年增加500）")
        ws.cell(rows["六、"], 2, ws.cell(rows["六、"], 3).value - 500)
    edited(tmp_path, "remark.xlsx", remark)
    sheet, got = read(tmp_path / "remark.xlsx")
    assert not sheet.rejects
    assert {(r, k, c, v) for r, k, c, _, v in got} == {(r, k, c, v) for r, k, c, _, v in expected}


def test_a_zero_executed_figure_beside_a_budgeted_one_is_a_figure(tmp_path):
    """三、2019年一般债务发行额 with 执行数 0 and 预算数 2952.71 (review R5): nothing was issued in 2019 — the table states 0
    for the past year. Before, 0 counted as an empty cell and the budgeted 2952.71 was read as 2019's issuance (a false
    DEBT_ROLL_FORWARD). The same row's budget-year twin (六、2020年…限额 with 执行数 0) keeps its budget."""
    def zero(ws, rows):
        ws.cell(rows["三、"], 3, ws.cell(rows["三、"], 2).value)
        ws.cell(rows["三、"], 2, 0)
        ws.cell(rows["六、"], 2, 0)
    ws, rows = edited(tmp_path, "zero.xlsx", zero)
    sheet, got = read(tmp_path / "zero.xlsx")
    _, expected = read(tmp_path / "pairs.xlsx")
    assert not sheet.rejects
    issued = {line[1:3]: line[4] for line in got if line[0] == rows["三、"]}
    assert issued[("issued", "amount")] == 0
    assert {line for line in got if line[0] != rows["三、"]} == {line for line in expected if line[0] != rows["三、"]}


def test_headers_naming_their_years_decide_without_the_tables_year(tmp_path):
    """2019年执行数 | 2020年预算数 under a title naming no year (review R5): 五、2019年末… filling both is the 2019 column's
    figure — the headers say which year each column is. Before, the table's budget year unknown, the row was refused."""
    def years(ws, rows):
        ws["A1"] = "银川市地方政府一般债务余额情况表"
        for row in ws.iter_rows():
            for c in row:
                if c.value in ("执行数", "预算数"):
                    c.value = {"执行数": "2019年执行数", "预算数": "2020年预算数"}[c.value]
    edited(tmp_path, "pairs_years.xlsx", years)
    ws, rows = edited(tmp_path, "both_years.xlsx", lambda ws, rows: (
        years(ws, rows), ws.cell(rows["五、"], 3, ws.cell(rows["五、"], 2).value + 100)))
    _, expected = read(tmp_path / "pairs_years.xlsx")
    sheet, got = read(tmp_path / "both_years.xlsx")
    assert sheet.fiscal_year is None and not sheet.rejects
    assert got == expected
