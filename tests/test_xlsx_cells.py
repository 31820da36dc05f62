"""The fast .xlsx reader (``ingest/xlsx_cells.py``) reads every sheet to the same grid as openpyxl's
``load_workbook``: values and their types, merges, indents, uncached formulas — and hands a workbook it does
not reproduce exactly (hyperlinks) to the full reader."""
import datetime as dt
import re
import zipfile
from pathlib import Path
import pytest
from openpyxl import Workbook
from openpyxl.cell.rich_text import CellRichText, TextBlock
from openpyxl.cell.text import InlineFont
from openpyxl.styles import Alignment

from dagster_project.ingest import readers
from dagster_project.ingest.xlsx_cells import FormulaMark, NotPlain, read_cells
from dagster_project.paths import REPO_ROOT

SAMPLE_RAW = REPO_ROOT / "data" / "raw"


def _comparable(grids):
    return [(g.name, g.rows, sorted(g.merges), sorted(g.indents.items()), g.source_format,
             [type(v).__name__ for row in g.rows for v in row]) for g in grids]


def _hostile_workbook(path: Path) -> None:
    wb = Workbook()
    ws = wb.active
    ws.title = "表1 收支总表"
    ws["A1"] = "2019年收支总表"
    ws.merge_cells("A1:D1")
    ws["A2"] = dt.date(2019, 3, 1)
    ws["B2"] = dt.datetime(2019, 3, 1, 12, 30)
    ws["C2"] = 43500
    ws["C2"].number_format = "yyyy-mm-dd"  # a serial shown as a date reads as a date
    ws["D2"], ws["E2"], ws["G2"], ws["H2"] = 1.5, True, "#REF!", 12345678901234567890
    ws["F2"] = "=SUM(C2:D2)"  # saved without a value: an UncachedFormula
    ws["A3"] = "  一、一般公共服务  "
    ws["A3"].alignment = Alignment(indent=2)
    ws["A4"] = "项目"
    ws["A4"].alignment = Alignment(indent=1)
    ws.merge_cells("A4:A5")
    ws["B3"] = CellRichText(["富", TextBlock(InlineFont(b=True), " 文本 "), "x"])
    ws["C3"], ws["D3"], ws["E3"], ws["F3"], ws["G3"] = "_x000D_换行\n第二行", 0.1 + 0.2, -0.0, 1e-7, dt.time(8, 30)
    ws["B50"].alignment = Alignment(indent=4)  # styled but empty: not a row of the grid
    hidden = wb.create_sheet("隐藏")
    hidden.sheet_state = "hidden"
    hidden["A1"] = "hidden sheet"
    wb.create_sheet("空表")
    wb.save(path)
    # Writers other than openpyxl leave a value under a merged range; openpyxl reads it as empty.
    with zipfile.ZipFile(path) as z:
        members = {name: z.read(name) for name in z.namelist()}
    sheet = members["xl/worksheets/sheet1.xml"].decode()
    sheet = re.sub(r'(<c r="A1"[^>]*>.*?</c>)', r'\1<c r="B1" t="inlineStr"><is><t>under the merge</t></is></c>', sheet,
                   count=1)
    members["xl/worksheets/sheet1.xml"] = sheet.encode()
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in members.items():
            z.writestr(name, data)


def test_a_hostile_workbook_reads_the_same_as_through_openpyxl(tmp_path):
    path = tmp_path / "hostile.xlsx"
    _hostile_workbook(path)
    assert [s.title for s in read_cells(path)] == ["表1 收支总表", "隐藏", "空表"]  # the fast path, not the fallback
    fast, full = readers.read_xlsx(path, path.name), readers.read_xlsx_openpyxl(path, path.name)
    assert _comparable(fast) == _comparable(full)
    first = fast[0]
    assert first.rows[0][:2] == ("2019年收支总表", None) and first.value(2, 1) == "富 文本 x"
    assert isinstance(first.value(1, 2), dt.datetime) and isinstance(first.value(1, 5), readers.UncachedFormula)
    assert first.indent(2, 0) == 2 and len(first.rows) == 4


def test_the_bundled_workbooks_read_the_same_as_through_openpyxl():
    paths = sorted(p for p in SAMPLE_RAW.rglob("*.xlsx") if zipfile.is_zipfile(p))[:12]
    assert paths
    for path in paths:
        assert _comparable(readers.read_xlsx(path, path.name)) == _comparable(
            readers.read_xlsx_openpyxl(path, path.name)), path


def test_a_workbook_with_hyperlinks_goes_to_the_full_reader(tmp_path):
    wb = Workbook()
    wb.active["A1"] = "附件"
    wb.active["B2"].hyperlink = "http://example.org/a.pdf"  # openpyxl writes the target into the empty cell
    path = tmp_path / "links.xlsx"
    wb.save(path)
    with pytest.raises(NotPlain):
        read_cells(path)
    grids = readers.read_xlsx(path, path.name)
    assert grids[0].value(1, 1) == "http://example.org/a.pdf"


_SHARED = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="4" uniqueCount="4">
<si><t>一般公共预算支出</t></si>
<si><r><t>基本</t></r><r><rPr><b/></rPr><t xml:space="preserve"> 支出 </t></r><rPh sb="0" eb="2"><t>ジキ</t></rPh><phoneticPr fontId="1"/></si>
<si><t>_x005F_x000D_行</t></si>
<si><t/></si>
</sst>"""


def test_a_shared_strings_workbook_as_excel_and_wps_write_it_reads_the_same_as_through_openpyxl(tmp_path):
    """Excel, WPS and LibreOffice keep text in sharedStrings.xml (openpyxl writes it inline): rich-text runs,
    phonetic runs (not text), an escaped _x005F_, an empty string; rows and cells without an r attribute."""
    path = tmp_path / "shared.xlsx"
    wb = Workbook()
    wb.active.title = "表1"
    wb.active["A1"] = "x"
    wb.save(path)
    with zipfile.ZipFile(path) as z:
        members = {name: z.read(name) for name in z.namelist()}
    rows = ('<row r="1"><c r="A1" t="s"><v>0</v></c><c r="C1" t="s"><v>1</v></c></row>'
            '<row><c t="s"><v>2</v></c><c t="s"><v>3</v></c><c><v>12.5</v></c></row>'
            '<row r="5"><c r="B5" t="s"><v>1</v></c><c><v>7</v></c></row>')
    sheet = members["xl/worksheets/sheet1.xml"].decode()
    members["xl/worksheets/sheet1.xml"] = re.sub(r"<sheetData>.*?</sheetData>|<sheetData/>",
                                                 f"<sheetData>{rows}</sheetData>", sheet, flags=re.S).encode()
    members["xl/sharedStrings.xml"] = _SHARED.encode()
    members["[Content_Types].xml"] = members["[Content_Types].xml"].replace(b"</Types>", (
        b'<Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-officedocument.'
        b'spreadsheetml.sharedStrings+xml"/></Types>'))
    members["xl/_rels/workbook.xml.rels"] = members["xl/_rels/workbook.xml.rels"].replace(b"</Relationships>", (
        b'<Relationship Id="rIdS" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
        b'sharedStrings" Target="sharedStrings.xml"/></Relationships>'))
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in members.items():
            z.writestr(name, data)
    assert [s.title for s in read_cells(path)] == ["表1"]  # the fast path
    fast, full = readers.read_xlsx(path, path.name), readers.read_xlsx_openpyxl(path, path.name)
    assert _comparable(fast) == _comparable(full)
    grid = fast[0]
    assert grid.rows[0][0] == "一般公共预算支出" and grid.rows[0][2] == "基本 支出 "
    assert grid.rows[1][:3] == ("_x000D_行", "", 12.5) and grid.value(4, 1) == "基本 支出 "


class _Chunks:
    """A source handing out its bytes in the given pieces (as an inflating zip member hands them to the parser)."""

    def __init__(self, *pieces: bytes) -> None:
        self.pieces = list(pieces)

    def read(self, size: int = -1) -> bytes:
        return self.pieces.pop(0) if self.pieces else b""


@pytest.mark.parametrize("pieces, seen", [
    ((b'<c r="A1"><f>SUM(B1)</f></c>',), True),
    ((b'<c r="A1"><', b'f>SUM(B1)</f></c>'), True),  # "<" ends one read, "f" starts the next
    ((b'<c r="A1"><v>1</v></c><', b'v>f</v>'), False),
    ((b'<c r="A1" t="s"><v>0</v></c>', b'f'), False),
])
def test_the_formula_mark_sees_what_uncached_formulas_looks_for(pieces, seen):
    mark = FormulaMark(_Chunks(*pieces))
    assert b"".join(iter(lambda: mark.read(16), b"")) == b"".join(pieces)
    assert mark.seen is seen is (b"<f" in b"".join(pieces))


def test_a_workbook_without_formulas_is_not_read_a_second_time(tmp_path, monkeypatch):
    """uncached_formulas inflates every sheet again: only a workbook whose sheets hold formulas needs it."""
    plain, with_formula = tmp_path / "plain.xlsx", tmp_path / "formula.xlsx"
    wb = Workbook()
    wb.active.append(["项目", "预算数"])
    wb.active.append(["一般公共预算支出", 12.5])
    wb.save(plain)
    wb.active["B3"] = "=SUM(B2:B2)"  # saved without a value
    wb.save(with_formula)
    calls = []
    real = readers.uncached_formulas
    monkeypatch.setattr(readers, "uncached_formulas", lambda path: calls.append(path.name) or real(path))
    assert readers.read_xlsx(plain, plain.name)[0].rows == [("项目", "预算数"), ("一般公共预算支出", 12.5)]
    assert calls == []
    grid = readers.read_xlsx(with_formula, with_formula.name)[0]
    assert calls == ["formula.xlsx"] and isinstance(grid.value(2, 1), readers.UncachedFormula)
