"""Excel-friendly downloads: the .xlsx beside each CSV read back as Excel would (openpyxl cell types)."""
from __future__ import annotations

import datetime as dt
import json

import duckdb
import pytest
from openpyxl import load_workbook

from dagster_project import identifiers
from dagster_project.publish.release import build_release, load_spec
from dagster_project.publish.release_validation import verify_sha256sums
from test_publish_support import build_fixture_warehouse


def _numeric_uscc() -> str:
    """An 18-digit, all-numeric, checksum-valid 统一社会信用代码 (a 事业单位's code can look like this)."""
    for serial in range(100):
        code = identifiers.make_uscc(f"126401000000{serial:05d}")
        if code.isdigit():
            return code
    raise AssertionError("no all-numeric code found")


NUMERIC_CODE = _numeric_uscc()
FORMULA_LIKE = "=HYPERLINK(\"http://x\")"


@pytest.fixture
def release(tmp_path, monkeypatch):
    warehouse = tmp_path / "gongkai.duckdb"
    build_fixture_warehouse(warehouse)
    con = duckdb.connect(str(warehouse))
    try:  # a publisher with an all-numeric code and a table name that looks like a formula
        con.execute("UPDATE main_marts.fct_disclosure_status SET publisher_code = ?, table_name_zh = ? "
                    "WHERE publisher_code = '640100'", [NUMERIC_CODE, FORMULA_LIKE])
    finally:
        con.close()
    monkeypatch.setenv("GONGKAI_OUT_DIR", str(tmp_path / "out"))
    return build_release(warehouse, tmp_path / "out", run_id="t"), warehouse


def test_every_csv_has_a_workbook_with_codes_as_text_and_dates_as_dates(release):
    result, _ = release
    folder = result.path
    package = json.loads((folder / "datapackage.json").read_text(encoding="utf-8"))
    csvs = [r["path"] for r in package["resources"] if r.get("format") == "csv"]
    xlsx = {r["path"]: r for r in package["resources"] if r.get("format") == "xlsx"}
    assert csvs and {p[:-4] + ".xlsx" for p in csvs} == set(xlsx)
    assert all(x["hash"].startswith("sha256:") and x["bytes"] > 0 for x in xlsx.values())
    sums = (folder / "SHA256SUMS").read_text(encoding="utf-8")
    assert all(f"  {p}\n" in sums for p in xlsx) and verify_sha256sums(folder) == []
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    part = manifest["datasets"]["disclosure_status"]["parts"]["2018"]
    assert part["files"]["xlsx"] == "data/disclosure_status/disclosure_status-2018.xlsx"

    wb = load_workbook(folder / part["files"]["xlsx"])  # not read-only: cell types as Excel has them
    ws = wb.worksheets[0]
    header = [c.value for c in ws[1]]
    con = duckdb.connect()
    try:
        expected = con.execute(f"SELECT * FROM read_parquet('{(folder / part['files']['parquet']).as_posix()}')"
                               ).fetchall()
    finally:
        con.close()
    assert ws.max_row == len(expected) + 1
    code_cells = [row[header.index("publisher_code")] for row in ws.iter_rows(min_row=2)]
    numeric = [c for c in code_cells if c.value == NUMERIC_CODE]
    assert numeric and all(c.data_type == "s" for c in code_cells)  # 18 digits, still text
    names = [row[header.index("table_name_zh")] for row in ws.iter_rows(min_row=2)]
    # text, not a formula, and neutralised as in the CSV beside it (a leading ' : Excel shows it, never evaluates it)
    assert any(c.value == "'" + FORMULA_LIKE and c.data_type == "s" for c in names)
    assert not any(str(c.value).startswith("=") for c in names)
    deadlines = [row[header.index("deadline_date")] for row in ws.iter_rows(min_row=2)]
    assert all(c.is_date and isinstance(c.value, dt.datetime) for c in deadlines)
    assert [c.value.date() for c in deadlines] == [r[header.index("deadline_date")] for r in expected]
    published = [row[header.index("published_at")] for row in ws.iter_rows(min_row=2)]
    assert any(c.is_date and c.value.hour == 10 for c in published)
    years = [row[header.index("fiscal_year")] for row in ws.iter_rows(min_row=2)]
    assert all(c.data_type == "n" and isinstance(c.value, int) for c in years)


def test_datasets_larger_than_the_limit_keep_csv_and_say_why(tmp_path, monkeypatch):
    warehouse = tmp_path / "gongkai.duckdb"
    build_fixture_warehouse(warehouse)
    spec = load_spec()
    spec["release"]["xlsx_max_rows"] = 5
    monkeypatch.setenv("GONGKAI_OUT_DIR", str(tmp_path / "out"))
    result = build_release(warehouse, tmp_path / "out", run_id="t", spec=spec)
    manifest = json.loads((result.path / "manifest.json").read_text(encoding="utf-8"))
    big = [(n, k) for n, d in result.datasets.items() for k, p in d.parts.items() if p.rows > 5]
    assert big
    for name, key in big:  # a workbook per fiscal-year part, when that part fits
        part = manifest["datasets"][name]["parts"][key]
        assert part["files"]["csv"] in manifest["xlsx_not_written"]
        assert not (result.path / part["files"]["csv"]).with_suffix(".xlsx").exists()
        assert "xlsx" not in part["files"]


def test_a_sheets_cells_are_written_exactly_and_null_cells_left_out(tmp_path):
    """The sheet's XML, byte for byte, for every kind of cell: each cell is one ``concat`` of its pieces (NULL read
    as '' there), so a NULL value must still leave its cell out, and a value's cell must hold every piece."""
    import zipfile

    from dagster_project.publish import excel

    con = duckdb.connect()
    try:
        con.execute("""CREATE TABLE t AS SELECT * FROM (VALUES
            (1, 2.5::DOUBLE, true, DATE '2019-01-02', TIMESTAMP '2019-01-02 12:00:00', 'a&b<c>', ['x', 'y'], '=1+2'),
            (NULL, 'inf'::DOUBLE, NULL, NULL, NULL, NULL, NULL, NULL),
            (3, NULL, false, NULL, NULL, chr(11) || '-x', [], '-1.5'))
            AS v(i, d, b, dt, ts, s, l, f)""")
        parquet = tmp_path / "t.parquet"
        con.execute(f"COPY t TO '{parquet.as_posix()}' (FORMAT parquet)")
        target = tmp_path / "t.xlsx"
        assert excel.write_sheet_rows(con, f"read_parquet('{parquet.as_posix()}')", target, "t",
                                      parquet_file=parquet)() == 3
    finally:
        con.close()
    with zipfile.ZipFile(target) as z:
        sheet = z.read("xl/worksheets/sheet1.xml").decode("utf-8")
    body = sheet.split("<sheetData>", 1)[1].split("</sheetData>", 1)[0]
    rows = body.split("</row>", 1)[1].split("\n")  # after the header row, one line a row
    text = '" t="inlineStr"><is><t xml:space="preserve">'
    assert rows == [
        f'<row r="2"><c r="A2"><v>1</v></c><c r="B2"><v>2.5</v></c><c r="C2" t="b"><v>1</v></c>'
        f'<c r="D2" s="1"><v>43467</v></c><c r="E2" s="2"><v>43467.5</v></c><c r="F2{text}a&amp;b&lt;c&gt;</t></is></c>'
        f'<c r="G2{text}x; y</t></is></c><c r="H2{text}\'=1+2</t></is></c></row>',
        '<row r="3"></row>',
        f'<row r="4"><c r="A4"><v>3</v></c><c r="C4" t="b"><v>0</v></c><c r="F4{text}\'-x</t></is></c>'
        f'<c r="G4{text}</t></is></c><c r="H4{text}-1.5</t></is></c></row>',
        "",
    ]


def test_a_text_cell_is_the_guarded_xml_text_of_its_value(tmp_path):
    """Every text cell of a sheet holds, XML-escaped, ``safe_cells.neutralise(safe_cells.xml_text(value))`` (the
    characters XML forbids dropped, then the spreadsheet guard): the SQL tests the value before the guard for what needs escaping
    or dropping (the guard adds only a ``'``), on hostile values where the two could part — a forbidden character
    before a formula, an escape after one, a number-like text behind control characters."""
    import html

    from dagster_project.publish import safe_cells

    values = ["=1+2", "a&b", "<x>", "=a&b", chr(11) + "=cmd", chr(11) + "<", "@" + chr(31) + "&", "-1.5",
              chr(1) + "-1,234.50", "+86 139 0000 0000", "\t=x<y", "\r@'", "'=x", "＝全角", "普通&文本",
              chr(0xFFFE) + "=x&y", "a" + chr(0xFFFF), "", " ", "--", "-", "&", "x" * 70]
    target, rows = _text_sheet(tmp_path, values)
    written = [r.split('xml:space="preserve">', 1)[1].split("</t>", 1)[0] for r in rows]
    expected = [html.escape(safe_cells.neutralise(safe_cells.xml_text(v)), quote=False) for v in values]
    assert written == expected


def test_a_text_longer_than_an_excel_cell_is_cut_in_the_workbook_only_and_says_so(tmp_path):
    """Excel holds 32 767 UTF-16 code units in a cell and repairs a workbook with more (its cells dropped). A longer
    publisher text is cut to fit, with the mark after it; a text that fits is whole, up to the last unit, astral
    characters (two units each) included; the guard before a formula survives the cut."""
    import html

    from dagster_project.publish import excel, safe_cells

    limit = excel.EXCEL_CELL_MAX
    astral = "\U00020000"  # a CJK Extension B character: two code units
    values = [
        "x" * limit,                           # fits exactly: whole
        "x" * (limit + 1),                     # one unit over: cut
        "中" * 40_000,                          # three UTF-8 bytes, one unit each
        astral * 20_000,                       # 40 000 units
        "x" * (limit - 2) + astral,            # 32 767 units in 32 769 bytes: whole
        "x" * (limit - 1) + astral,            # one unit over, the last character astral: cut before it
        "=" + "公告" * 20_000,                  # a formula's guard, then cut
        "a&b<" * 9_000,                        # escaped after the cut: no entity split
        "短文本",
    ]
    target, rows = _text_sheet(tmp_path, values)
    written = [html.unescape(r.split('xml:space="preserve">', 1)[1].split("</t>", 1)[0]) for r in rows]

    def units(text: str) -> int:
        return len(text.encode("utf-16-le")) // 2

    cut = []
    for value, cell in zip(values, written, strict=True):
        whole = safe_cells.neutralise(value)
        assert units(cell) <= limit, (units(cell), value[:10])
        if units(whole) <= limit:
            assert cell == whole
            continue
        cut.append(value[:3])
        assert cell.endswith(excel.CUT_MARK)
        kept = cell[: -len(excel.CUT_MARK)]
        # all that fits beside the mark and room for a guard, but one unit where an astral character would straddle
        assert whole.startswith(kept) and units(kept) >= limit - 1 - len(excel.CUT_MARK) - 1, units(kept)
    assert len(cut) == 6, cut
    openpyxl = pytest.importorskip("openpyxl")
    sheet = openpyxl.load_workbook(target, read_only=True).active
    assert [r[0] for r in sheet.iter_rows(min_row=2, values_only=True)] == written


def _text_sheet(tmp_path, values: list[str]):
    """A one-column workbook of ``values`` written by the release's sheet writer: its path and its data rows' XML."""
    import zipfile

    from dagster_project.publish import excel

    con = duckdb.connect()
    try:
        con.execute("CREATE TABLE t (n INTEGER, s VARCHAR)")
        con.executemany("INSERT INTO t VALUES (?, ?)", list(enumerate(values)))
        parquet = tmp_path / "t.parquet"
        con.execute(f"COPY (SELECT s FROM t ORDER BY n) TO '{parquet.as_posix()}' (FORMAT parquet)")
        target = tmp_path / "t.xlsx"
        excel.write_sheet_rows(con, f"read_parquet('{parquet.as_posix()}')", target, "t", parquet_file=parquet)()
    finally:
        con.close()
    with zipfile.ZipFile(target) as z:
        sheet = z.read("xl/worksheets/sheet1.xml").decode("utf-8")
    rows = sheet.split("<sheetData>", 1)[1].split("</sheetData>", 1)[0].split("</row>", 1)[1].split("\n")[:-1]
    return target, rows
