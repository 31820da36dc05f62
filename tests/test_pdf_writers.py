"""PDFs as office writers export them, read like the files they were printed from.

The fixtures under ``tests/fixtures/pdf_calc/`` were made by LibreOffice Calc (not in CI; see MAKE.md there): a budget
workbook printed with its page settings left as they are, so a sheet wider than A4 goes on over further pages to the
right, also a one-column slice, and a long sheet over pages down and across (1 2 | 3 4 | 5 6); the same under Calc's
page header and footer. Each table of the PDF must give what the same workbook gives; and the sample workbook as it is (default column widths) printed with
gridlines, where text too long for its cell is cut at the next cell's rule; a bordered sheet whose text runs on over
empty cells; two sheets printed with a narrow top margin, their unit lines in the page-header band. The segmenter's
page joining and page numbers are also tested on page items of their own, and the narrative reader on lines wrapped
as a justified paragraph wraps them.
``tests/fixtures/pdf_writer/`` holds the disclosure the Chromium tests print, as a Word document written and exported
by LibreOffice Writer: it must read as Chromium's print of it does.
"""
from __future__ import annotations

import re
from collections import Counter
from decimal import Decimal
from pathlib import Path

import pytest

from dagster_project.ingest.grid import TextBlock
from dagster_project.ingest.narrative import read_narrative
from dagster_project.ingest.pdf_reader import PageItem, PdfDocument
from dagster_project.ingest.segmenter import furniture, join_column_pages, segment
from dagster_project.ingest.workbook import parse_workbook
from dagster_project.ingest.workbook_spec import vocabulary
from dagster_project.sample.formats import chromium, print_pdf
from test_ingest_forms import disclosure_html

CALC = Path(__file__).parent / "fixtures" / "pdf_calc"
WRITER = Path(__file__).parent / "fixtures" / "pdf_writer"


def _tables(parsed) -> dict:
    out = {}
    for s in parsed.sheets:
        if s.status == "unknown_table":
            continue  # the workbook's 说明 sheet: in the PDF it is running text (sections compared below)
        lines = Counter((ln.line_code, ln.line_label, ln.column_key, ln.amount_yuan, ln.side) for ln in s.lines)
        out.setdefault(s.table_name, []).append(
            (s.status, s.entity_name, s.fiscal_year, s.unit_label, s.code_layout, s.is_empty, lines, len(s.rejects)))
    return out


# calc_page_headers: the same sheets with Calc's page header (the sheet's name, 3-部门支出总表, read as a title it opened
# a table on every page) and the footer 第 6 页，共 16 页 (not taken for a page number, it closed the table it ended),
# and the code and name columns printed again on the pages to the right (the right-hand page's rows then ruled where
# the left-hand page has the 2019年预算数 line: the two halves were read as two tables; and on the two-sided 收支总表
# the income items printed again beside the expenditure ones were read as their labels)
@pytest.mark.parametrize("name", ["calc_wide_sheets", "calc_page_headers"])
def test_a_calc_print_of_sheets_wider_than_the_paper_reads_like_the_workbook(name):
    workbook = parse_workbook(CALC / f"{name}.xlsx")
    printed = parse_workbook(CALC / f"{name}.pdf")
    assert printed.file_format == "pdf" and printed.page_count == {"calc_wide_sheets": 16, "calc_page_headers": 20}[name]
    expected, got = _tables(workbook), _tables(printed)
    assert set(expected) == {"部门收支总表", "部门收入总表", "部门支出总表", "一般公共预算支出表"}
    # before the pages to the right were joined, every table lost the columns printed there (收入总表: 6 of 16 figures)
    for name in expected:
        assert got.get(name) == expected[name], name
    assert {s.table_name for s in printed.sections} == {s.table_name for s in workbook.sections}
    by_name = {s.table_name: s for s in printed.sheets}
    # the long table runs over two pages down (and three across): its rows are cited on the two pages down
    long_table = by_name["一般公共预算支出表"]
    first, second = sorted({ln.source_page for ln in long_table.lines})
    assert second == first + 1
    # … and the name says where its further columns stand, since a row is cited on its left-hand page
    assert re.fullmatch(rf"表4（第{first}-{second}页，右侧各列在第{second + 1}-\d+页）", long_table.sheet)


@pytest.mark.skipif(chromium() is None, reason="headless Chromium is not installed (make browser)")
def test_a_word_document_exported_by_writer_reads_like_the_same_disclosure_printed_by_chromium(tmp_path):
    # LibreOffice Writer sets its footer (第 6 页，共 10 页) above the page's margin band: it was read as running text,
    # which closed the table it ended, and the table's next three pages (44 of its 60 rows) were lost
    chromium_print = tmp_path / "chromium.pdf"
    print_pdf(disclosure_html(tbd_code="2130342"), chromium_print)
    expected, got = parse_workbook(chromium_print), parse_workbook(WRITER / "disclosure.pdf")
    assert _tables(got) == _tables(expected)
    assert {(s.table_name, s.rows_in) for s in got.sheets} == {(s.table_name, s.rows_in) for s in expected.sheets}
    assert sorted(s.table_name for s in got.sections) == sorted(s.table_name for s in expected.sections)

    def stated(parsed):
        return sorted((s.statement_key, s.amount_yuan, s.year_named) for s in parsed.statements)

    assert stated(got) == stated(expected)


def test_a_spreadsheet_printed_without_rules_reads_like_the_workbook():
    # Calc pads a cell by about a point: a right-aligned amount and the next cell's left-aligned 「-」 (nothing) stood
    # 1.2 points apart, were one word 「2,366,062.69-」 and a row reject, 15 of 20 rows of 部门支出总表; split, the
    # dashes then made a strip of their own beside the amounts of their column, which took the column's header.
    workbook = _tables(parse_workbook(CALC / "calc_no_borders.xlsx"))
    printed = parse_workbook(CALC / "calc_no_borders.pdf")
    assert [r.raw_value for s in printed.sheets for r in s.rejects] == []
    got = _tables(printed)
    # 部门收支总表: an income amount stood as close to the expenditure item right of it (「37,878,532.74教育支出」),
    # and the income rows beside no expenditure item (经营收入 | -) were no rows at all: 3 of its 13 figures lost
    assert got == workbook


def test_text_cut_at_a_cells_rule_stays_out_of_the_next_cell():
    # Calc prints a label too long for its cell cut at the rule when the next cell is filled; the glyphs past the cut
    # are still in the file. Read by position they went into the next cell: 「算37878533」, 「就8386197」 — a figure
    # the reader sees plainly became a row reject, 3 to 6 per table of this file.
    workbook = parse_workbook(CALC / "calc_narrow_columns.xlsx")
    printed = parse_workbook(CALC / "calc_narrow_columns.pdf")
    mixed = re.compile(r"[\u3400-\u9fff].*\d|\d.*[\u3400-\u9fff]")
    assert [r.raw_value for s in printed.sheets for r in s.rejects if r.raw_value and mixed.search(r.raw_value)] == []
    assert sum(len(s.rejects) for s in printed.sheets) == sum(len(s.rejects) for s in workbook.sheets) == 0
    expected = {(s.table_name, ln.line_code, ln.column_key): ln.amount_yuan
                for s in workbook.sheets for ln in s.lines if ln.line_code}
    got = {(s.table_name, ln.line_code, ln.column_key): ln for s in printed.sheets for ln in s.lines if ln.line_code}
    assert set(got) == set(expected) and len(got) > 150
    for key, line in got.items():
        # the General format prints the digits the cell has room for (38316879.82 as 38316880): within half of the
        # last printed digit of what the workbook holds
        digits = line.value_text.split(".")[1] if "." in (line.value_text or "") else ""
        assert abs(line.amount_yuan - expected[key]) <= Decimal(5) * Decimal(10) ** -(len(digits) + 1), key


def test_a_unit_line_standing_at_one_height_on_each_page_is_no_running_head():
    # Printed with a narrow top margin, each sheet's line 「部门：… 单位：万元」 stands at the same height on both pages,
    # inside the band where page headers sit; taken for a running head on the second page, 部门支出总表 was read as
    # having no unit and its 万元 amounts as 元 (3,831.69 for 38,316,900.00). On its third page, under the title and unit
    # line printed again (print-title rows), the unit line still goes with the title: the same table goes on.
    workbook = parse_workbook(CALC / "calc_unit_margin.xlsx")
    printed = parse_workbook(CALC / "calc_unit_margin.pdf")
    assert {s.unit_label for s in workbook.sheets} == {"万元"}
    assert _tables(printed) == _tables(workbook)
    assert printed.page_count == 3 and len(printed.sheets) == 2


def test_text_running_on_over_an_empty_cell_is_read_whole():
    # Calc prints a text too long for its cell across the empty cells beside it (their rules drawn through it) and cuts
    # it only at a filled one. Every glyph past the rule was cut off: the title not merged over its row was read as
    # 「宁夏回族自」 (no table at all), 学前教育（含幼儿园及托儿所等）, run on over an empty 合计, as 「学前教育（」
    workbook, printed = parse_workbook(CALC / "calc_overflow.xlsx"), parse_workbook(CALC / "calc_overflow.pdf")
    assert [s.table_name for s in printed.sheets] == [s.table_name for s in workbook.sheets] == ["一般公共预算支出表"]
    assert [r.raw_value for s in printed.sheets for r in s.rejects] == []
    expected = {(ln.line_code, ln.column_key): (ln.line_label, ln.amount_yuan) for ln in workbook.sheets[0].lines}
    got = {(ln.line_code, ln.column_key): (ln.line_label, ln.amount_yuan) for ln in printed.sheets[0].lines}
    assert set(got) == set(expected)
    cut = {key for key in got if got[key] != expected[key]}
    # … and a text cut where the next cell is filled still shows what a reader sees there, a beginning of it
    assert {code for code, _ in cut} == {"2050202"}
    assert all(expected[key][0].startswith(got[key][0]) and got[key][1] == expected[key][1] for key in cut)


def _row(page: int, top: float, cells: list, edges: tuple = (), kind: str = "table", **kw) -> PageItem:
    return PageItem(page, 0, kind, cells, top, 0 if kind == "table" else None, edges=edges, **kw)


def _numbered(items: list[PageItem]) -> list[PageItem]:
    rows: dict[int, int] = {}
    for it in items:
        rows[it.page] = rows.get(it.page, 0) + 1
        it.row = rows[it.page]
    return items


def test_a_lone_amount_or_pair_of_years_on_a_pages_edge_is_no_page_number():
    # A page's first and last lines are tested as page numbers whatever their height (Writer sets its footer above the
    # margin band); the pattern took a count after any separator, so 1,234, 100 200 and 2019、2020 there were dropped
    vocab = vocabulary()
    edges = ["1,234", "100 200", "2019 2020", "2019、2020", "2019，2020"]
    numbers = ["第 1 页，共 6 页", "- 2 -", "3/6", "Page 4 of 6", "第5页", "6"]
    items = []
    for page, (edge, number) in enumerate(zip(edges + [None], numbers), start=1):
        # the edge line first on odd pages (the number at the foot), last on even ones (the number in the head)
        body = [_row(page, 100, ["本部门2025年收入预算总计如下："], kind="text")]
        if edge:
            body.insert(0 if page % 2 else 1, _row(page, 90 if page % 2 else 710, [edge], kind="text"))
        number_line = _row(page, 800 if page % 2 else 30, [number], kind="text", in_margin=True)
        items += body + [number_line] if page % 2 else [number_line] + body
    document = PdfDocument("x.pdf", 6, _numbered(items), 6)
    assert sorted(it.text for it in document.items if id(it) in furniture(document.items, 6, vocab)) == sorted(numbers)
    _, blocks = segment(document, vocab)
    assert [b.text for b in blocks if b.text in edges] == edges


def test_pages_to_the_right_join_their_rows_and_the_same_tables_next_page_does_not():
    vocab = vocabulary()
    left_rules, right_rules = (50.0, 80.0, 200.0, 300.0), (50.0, 150.0, 250.0)
    title = _row(1, 60, ["宁夏回族自治区水利厅2025年部门支出总表"], kind="text")
    unit = _row(1, 80, ["编制部门：宁夏回族自治区水利厅"], kind="text")
    left = [_row(1, 100 + 15 * i, cells, left_rules) for i, cells in enumerate(
        [["科目编码", "科目名称", "合计"], ["2130301", "水利项目01", "1,000.00"], ["2130302", "水利项目02", "2,000.00"]])]
    piece = _row(2, 60, ["总表"], kind="text", in_margin=True)   # the centred title's end, on the page to the right
    right_unit = _row(2, 80, ["单位：元"], kind="text")
    right = [_row(2, 100 + 15 * i, cells, right_rules) for i, cells in enumerate(
        [["基本支出", "项目支出"], ["900.00", "100.00"], ["1,500.00", "500.00"]])]
    number = _row(2, 570, ["- 2 -"], kind="text", in_margin=True)
    items = _numbered([title, unit, *left, piece, right_unit, *right, number])
    joined = join_column_pages(items, vocab)
    page1 = [it for it in joined if it.page == 1]
    assert [it.cells for it in page1] == [
        ["宁夏回族自治区水利厅2025年部门支出总表"], ["编制部门：宁夏回族自治区水利厅", "单位：元"],
        ["科目编码", "科目名称", "合计", "基本支出", "项目支出"], ["2130301", "水利项目01", "1,000.00", "900.00", "100.00"],
        ["2130302", "水利项目02", "2,000.00", "1,500.00", "500.00"]]
    assert [it.cells for it in joined if it.page == 2] == [["- 2 -"]]   # the page number stays where it was
    (grid,), _ = segment(PdfDocument("x.pdf", 2, items, 2), vocab)
    assert grid.rows[3] == ("2130301", "水利项目01", "1,000.00", "900.00", "100.00")
    # the same table's next page (its header repeated at the same heights, the same rules) is rows, not columns
    same = _numbered([_row(3, 100 + 15 * i, list(it.cells), left_rules) for i, it in enumerate(left)])
    assert [it.cells for it in join_column_pages(_numbered([title, unit, *left]) + same, vocab) if it.page == 3] \
        == [it.cells for it in same]
    # another table at the same heights, with its own title, is another table
    other = _numbered([_row(3, 60, ["宁夏回族自治区水利厅2025年部门收入总表"], kind="text", in_margin=True)]
                      + [_row(3, 100 + 15 * i, ["x", "1.00"], right_rules) for i in range(3)])
    assert len([it for it in join_column_pages(_numbered([title, unit, *left]) + other, vocab) if it.page == 3]) == 4


def test_a_figure_wrapped_over_two_lines_is_still_read():
    # A justified paragraph breaks where the line is full: Chromium printed 「…2025年收入预算总计1,234.56万」 |
    # 「元，与2024年相比增加10%。」, and the stated total was lost (read line by line, neither line held figure + unit).
    vocab = vocabulary()
    lines = ["三、部门预算编制说明", "本部门按照自治区党委、政府的决策部署，统筹推进各项重点工作，2025年收入预算总计1,234.56万",
             "元，与2024年相比增加10%。支出预算总计1,", "234.56万元。", "四、“三公”经费情况说明", "本部门严格执行中央八项规定精神，2025年“三公”经费预算数为58.30",
             "万元。"]
    blocks = [TextBlock(t, 7 + (i > 3), None, i) for i, t in enumerate(lines, start=1)]
    _, statements = read_narrative(blocks, vocab, vocab.units)
    by_key = {s.statement_key: s for s in statements if s.statement_key != "year_named"}
    assert {k: (s.amount_yuan, s.section, s.source_page, s.source_row) for k, s in by_key.items()} == {
        "income_total": (Decimal("12345600.00"), "预算编制说明", 7, 2),
        "expenditure_total": (Decimal("12345600.00"), "预算编制说明", 7, 3),
        "sangong_total": (Decimal("583000.0"), "“三公”经费情况说明", 8, 6)}
    assert sorted(s.year_named for s in statements if s.statement_key == "year_named") == [2024, 2025]
    # a workbook's cells are not wrapped lines: two cells are not read as one text
    cells = [TextBlock("三、部门预算编制说明", None, "说明", 1), TextBlock("收入预算总计1,234.56", None, "说明", 2),
             TextBlock("万元", None, "说明", 3)]
    assert [s for s in read_narrative(cells, vocab, vocab.units)[1] if s.statement_key == "income_total"] == []
