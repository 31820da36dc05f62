"""A two-level 1-4 printed by LibreOffice Calc with 项目 as a print-title column (``fixtures/debt_calc/``, MAKE.md
there): the print must read like the workbook it was printed from — every item, region and figure.

``debt_calc_print_title``: 银川市's 2020 1-4 (本地区 and 其中：本级 each merged over 合计 | 一般债券 | 专项债券, 项目
merged down, headers centred), figures 36 wide, column A a print-title column: one figure column a page, 项目 printed
again left of each. Calc draws a merged header at its place in the sheet, centred over columns printed on other pages:
on the page of 本地区's 专项债券 the text 本地区 lands inside the repeated 项目 cell, clipped away (a reader sees 项目
alone, and no header over 专项债券). Read by position it was joined into that cell (``本地区项目``) and the page's header
no longer matched: 本级's 专项债券 (6 of 36 lines) was lost. The title, merged over A1:G1, is in the print-title column:
Calc draws it on every page, and on the pages right of the first again at its place in the sheet, from left of the
paper to the repeated copy's start; joined, the city was read as ``年地方政府债券发行及还本付息情况表银川市``.
``debt_calc_print_title_left``: the same with the headers left-aligned (the title's copy alone went wrong there).

What decides is the PDF's clipping path (``ingest/pdf_clip.py``): the hidden text is not the cell's it lies in but the
header of the cell it is clipped to.
"""
from __future__ import annotations

from collections import Counter
from pathlib import Path

import pdfplumber
import pytest

from dagster_project.ingest.pdf_clip import clipped_away
from dagster_project.ingest.pdf_reader import read_pdf
from dagster_project.ingest.workbook import parse_workbook

CALC = Path(__file__).parent / "fixtures" / "debt_calc"


def _tables(parsed) -> list:
    return [(s.table_name, s.status, s.entity_name, s.fiscal_year, s.unit_label,
             Counter((ln.line_label, ln.row_key, ln.column_key, ln.amount_yuan) for ln in s.lines))
            for s in parsed.sheets]


@pytest.mark.parametrize("name", ["debt_calc_print_title", "debt_calc_print_title_left"])
def test_a_1_4_printed_with_a_print_title_column_reads_like_the_workbook(name):
    workbook, printed = parse_workbook(CALC / f"{name}.xlsx"), parse_workbook(CALC / f"{name}.pdf")
    assert printed.page_count == 6  # one figure column a page: the case this fixture is about
    (sheet,) = workbook.sheets
    assert sheet.status == "parsed" and len(sheet.lines) == 36 and sheet.entity_name == "银川市"
    assert _tables(printed) == _tables(workbook)


def test_a_header_clipped_away_over_the_print_title_cell_is_not_that_cells_text():
    path = CALC / "debt_calc_print_title.pdf"
    with pdfplumber.open(path) as pdf:
        page = pdf.pages[2]  # 本地区's 专项债券
        hidden = clipped_away(page)
        cells = page.find_tables()[0].cells
    item = min(cells, key=lambda c: (c[1], c[0]))  # 项目, merged down over the two header rows
    header = sorted(key for key in hidden if item[1] <= key[1] <= item[3])
    assert "".join(text for _, _, text in header) == "本地区"
    # drawn over 项目 (by position it is that cell's text), clipped to the figure column right of it
    assert all(item[0] <= x0 < item[2] for x0, _, _ in header)
    assert {round(hidden[key][0], 1) for key in header} == {round(item[2], 1)}
    rows = [it for it in read_pdf(path, path.name).items if it.page == 3 and it.kind == "table"]
    assert rows[0].cells == ["项目", "本地区"]


def test_a_clip_drawn_with_curves_around_the_page_hides_nothing(tmp_path):
    """The same print with every page's drawing inside an oval clip around the paper (m and four c, no straight line —
    as a writer clips to a rounded or elliptic shape): it looks the same and must read the same. A clip's box taken
    from its m/l points alone was one point: every glyph was taken for hidden and the table was lost."""
    from pypdf import PdfWriter
    from pypdf.generic import DecodedStreamObject

    path, oval = CALC / "debt_calc_print_title.pdf", tmp_path / "oval.pdf"
    k, cx, cy, rx, ry = 0.5523, 300, 420, 600, 800  # Bézier quarter-ellipse constant; centre; radii past the paper
    clip = (f"{cx + rx} {cy} m {cx + rx} {cy + k * ry} {cx + k * rx} {cy + ry} {cx} {cy + ry} c "
            f"{cx - k * rx} {cy + ry} {cx - rx} {cy + k * ry} {cx - rx} {cy} c "
            f"{cx - rx} {cy - k * ry} {cx - k * rx} {cy - ry} {cx} {cy - ry} c "
            f"{cx + k * rx} {cy - ry} {cx + rx} {cy - k * ry} {cx + rx} {cy} c h W n\n").encode()
    writer = PdfWriter(clone_from=str(path))
    for page in writer.pages:
        stream = DecodedStreamObject()
        stream.set_data(b"q " + clip + page.get_contents().get_data() + b"\nQ")
        page.replace_contents(stream)
    writer.write(oval)
    assert _tables(parse_workbook(oval)) == _tables(parse_workbook(path))


def test_hidden_glyphs_are_found_on_a_page_whose_mediabox_does_not_start_at_zero(tmp_path):
    """pdfplumber puts a glyph at pdfminer's x plus the mediabox's left: a page whose MediaBox starts at x = 50 (the same
    drawing moved with it, so it looks the same) must give the same hidden glyphs, 50 pt to the right."""
    from pypdf import PdfWriter, Transformation
    from pypdf.generic import RectangleObject

    path, shifted = CALC / "debt_calc_print_title.pdf", tmp_path / "shifted.pdf"
    writer = PdfWriter(clone_from=str(path))
    for page in writer.pages:
        x0, y0, x1, y1 = (float(v) for v in page.mediabox)
        page.add_transformation(Transformation().translate(50, 0))
        page.mediabox = page.cropbox = RectangleObject([x0 + 50, y0, x1 + 50, y1])
    writer.write(shifted)
    with pdfplumber.open(path) as pdf, pdfplumber.open(shifted) as moved:
        want = {(round(x + 50, 1), top, text): (clip[0] + 50, clip[1], clip[2] + 50, clip[3])
                for (x, top, text), clip in clipped_away(pdf.pages[2]).items()}
        got = clipped_away(moved.pages[2])
    assert want and set(got) == set(want)
    assert all(abs(got[key][i] - want[key][i]) < 0.1 for key in want for i in range(4))
