"""Tables printed without rules, found from where words stand (``pdf_unruled``), on word boxes as pdfplumber gives
them. The printed forms (three-line, rows only, no rules) are tested end to end in ``test_ingest_forms``."""
from __future__ import annotations

from dagster_project.ingest.pdf_unruled import unruled_tables


def line(top: float, *words: tuple[float, str], size: float = 10.0) -> tuple[float, list[dict]]:
    """A line of words, each (x0, text) with a width of one em per character (half for ASCII)."""
    out = []
    for x0, text in words:
        width = sum(size if ord(ch) > 127 else size / 2 for ch in text)
        out.append({"x0": x0, "x1": x0 + width, "top": top, "bottom": top + size, "text": text, "size": size})
    return top, out


def clean(text: str) -> str:
    return text.strip()


def test_running_text_with_spaced_figures_is_no_table():
    # a narrative paragraph typed with spaces around its figures: figures fall where the words end
    lines = [line(100, (50, "1."), (62, "一般公共预算拨款收入"), (170, "1,000.00"), (215, "万元，")),
             line(114, (50, "2."), (62, "政府性基金收入"), (140, "234.56"), (175, "万元，比上年增加"), (260, "10%")),
             line(128, (50, "3."), (62, "上年结转"), (110, "12.00"), (140, "万元。"))]
    tables, taken = unruled_tables(lines, join=clean)
    assert tables == [] and taken == set()


def test_aligned_rows_under_a_header_are_a_table_and_a_page_number_is_not():
    lines = [line(40, (300, "部门收支总表"), size=12),
             line(60, (50, "单位：元")),
             line(80, (50, "项目"), (200, "预算数"), (300, "决算数")),
             line(100, (50, "一般公共预算"), (200, "1,234.00"), (300, "1,200.00")),
             line(114, (50, "政府性基金"), (220, "34.00"), (320, "-")),
             line(128, (50, "合计"), (200, "1,268.00"), (300, "1,200.00")),
             line(500, (290, "-"), (298, "3"), (306, "-"))]
    tables, taken = unruled_tables(lines, join=clean, is_caption=lambda t: "单位" in t or "总表" in t,
                                   margin={6})
    assert taken == {0, 1, 2, 3, 4, 5}
    (rows,) = tables
    assert [cells for cells, _, _ in rows] == [
        [None, None, "部门收支总表"], ["单位：元", None, None],  # a caption's words: the column under their centre
        ["项目", "预算数", "决算数"],
        ["一般公共预算", "1,234.00", "1,200.00"], ["政府性基金", "34.00", "-"], ["合计", "1,268.00", "1,200.00"]]


def test_a_note_right_under_the_last_row_is_not_its_wrapped_name():
    # LibreOffice Calc printed a borderless 决算 table with its note one line under the last row, as close as a
    # wrapped name: the row was read as 「合计注：本表以万元为单位…」
    lines = [line(80, (50, "项目"), (200, "合计"), (300, "事业收入")),
             line(100, (50, "本单位"), (200, "5,066.41"), (300, "170.18")),
             line(114, (50, "合计"), (200, "5,066.41"), (300, "170.18")),
             line(128, (50, "注：单位万元。"))]
    tables, taken = unruled_tables(lines, join=clean, is_note=lambda t: t.startswith("注"))
    (rows,) = tables
    assert [cells for cells, _, _ in rows][-1] == ["合计", "5,066.41", "170.18"] and 3 not in taken
    # (without a note test the line is the row's wrapped name, as the module is told nothing else)
    (rows,), _ = unruled_tables(lines, join=clean)
    assert rows[-1][0][0] == "合计 注：单位万元。"


def test_a_header_over_a_column_blank_in_every_data_row_keeps_its_column():
    # an empty table printed without rules (Calc, 国有资本经营预算财政拨款支出决算表): its one row 合计 | 0.00 | 0.00 |
    # 0.00 leaves the 科目编码 column blank; the header line standing over it was taken for text beside the table, and
    # the row's 合计 was read under 科目编码
    lines = [line(80, (50, "科目编码"), (300, "科目名称"), (360, "合计"), (410, "基本支出"), (470, "项目支出")),
             line(94, (300, "合计"), (360, "0.00"), (410, "0.00"), (470, "0.00"))]
    (rows,), taken = unruled_tables(lines, join=clean)
    assert [cells for cells, _, _ in rows] == [["科目编码", "科目名称", "合计", "基本支出", "项目支出"],
                                              [None, "合计", "0.00", "0.00", "0.00"]]
    assert taken == {0, 1}
