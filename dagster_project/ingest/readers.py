"""Readers: one per source form, each turning a file into ``Grid``s (and text lines) with provenance.

- ``.xlsx`` / ``.xlsm`` through openpyxl (cached values; formulas saved without a value come back as
  ``UncachedFormula`` so an amount there is a row error, not a silent zero);
- ``.xls`` (BIFF, as Excel 97–2003 and WPS save it) through xlrd;
- text ``.pdf`` through pdfplumber (``pdf_reader.py``): pages → lines and table rows, in reading order;
- an HTML table saved as ``.xls`` (a web system's 导出Excel) through ``html_tables.py``, an XML Spreadsheet 2003 saved
  as ``.xls`` (a Java system's template export) through ``spreadsheet_xml.py``.

The form is decided by the file's first bytes, not its name (a workbook renamed .xls still reads).
Files that are no readable form are refused whole with a reason naming the accepted forms.
"""
from __future__ import annotations

import datetime as dt
import io
import re
import warnings
from pathlib import Path

from dagster_project.ingest.framework import FileRejected
from dagster_project.ingest.grid import Grid, UncachedFormula, unify_ideographs

ACCEPTED_FORMS_ZH = "文字版PDF（.pdf）、Excel 工作簿（.xlsx/.xlsm）或 Excel 97-2003/WPS 工作簿（.xls）"
ACCEPTED_FORMS_EN = "a text PDF, an .xlsx/.xlsm workbook or an .xls (BIFF) workbook"

# An HTML page (or an XML Spreadsheet) is read as a workbook only under a workbook's name (a web export saved as .xls); under any other
# name (an error page saved as ….pdf) it is refused for what it is.
TEXT_WORKBOOK_SUFFIXES = (".xls", ".xlsx", ".xlsm")
_ZIP = b"PK\x03\x04"
_OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


def sniff(path: Path) -> str:
    """'xlsx' | 'xls' | 'pdf' | 'html' | 'xml' (XML Spreadsheet 2003) | 'unknown' from the first bytes."""
    from dagster_project.ingest.html_tables import SNIFF_BYTES, looks_like_html

    with path.open("rb") as handle:
        head = handle.read(SNIFF_BYTES)
    if head.startswith(_ZIP):
        return "xlsx"
    if head.startswith(_OLE2):
        return "xls"
    if b"%PDF-" in head[:1024]:
        return "pdf"
    if looks_like_html(head):
        return "html"
    from dagster_project.ingest.spreadsheet_xml import looks_like_spreadsheet_xml

    if looks_like_spreadsheet_xml(head):
        return "xml"
    return "unknown"


def refuse(name: str, what_zh: str, what_en: str) -> FileRejected:
    return FileRejected(
        f"{name} {what_zh}，无法读取；请提交{ACCEPTED_FORMS_ZH} "
        f"({what_en}: cannot be read; accepted forms are {ACCEPTED_FORMS_EN})"
    )


# --------------------------------------------------------------------------------------------- xlsx
_CELL_XML = re.compile(r'<c r="([A-Z]+)([0-9]+)"([^>]*?)(?:/>|>(.*?)</c>)', re.S)
_FORMULA_XML = re.compile(r"<f\b[^>]*?(?:/>|>(.*?)</f>)", re.S)
# A saved value is a non-empty <v>; scripts write <v/> or none. An empty <v> is still a saved value when the
# cell's type is a string (t="str"): Excel's result of =IF(B5=0,"",B5).
_VALUE_XML = re.compile(r"<v\b[^>]*>[^<]+</v>")
_STRING_RESULT_XML = re.compile(r'\bt="str"')
_REL_NS = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"


def uncached_formulas(path: Path) -> dict[str, dict[tuple[int, int], str]]:
    """Formula cells without a saved value, by sheet title and (row, column), both 1-based."""
    import html
    import zipfile
    from xml.etree import ElementTree

    from openpyxl.utils import column_index_from_string

    found: dict[str, dict[tuple[int, int], str]] = {}
    with zipfile.ZipFile(path) as z:
        workbook = ElementTree.fromstring(z.read("xl/workbook.xml"))
        rels = ElementTree.fromstring(z.read("xl/_rels/workbook.xml.rels"))
        targets = {r.get("Id"): r.get("Target", "") for r in rels}
        for sheet in workbook.iter():
            if not sheet.tag.endswith("}sheet"):
                continue
            target = targets.get(sheet.get(_REL_NS + "id"), "")
            member = target.lstrip("/") if target.startswith("/") else "xl/" + target
            if member not in z.namelist():
                continue
            xml = z.read(member).decode("utf-8", errors="replace")
            if "<f" not in xml:
                continue  # the usual case: no formulas at all
            for m in _CELL_XML.finditer(xml):
                inner = m.group(4) or ""
                formula = _FORMULA_XML.search(inner)
                if formula and not _VALUE_XML.search(inner) and not _STRING_RESULT_XML.search(m.group(3)):
                    text = html.unescape(formula.group(1) or "") or "(shared formula 共享公式)"
                    found.setdefault(sheet.get("name", ""), {})[
                        (int(m.group(2)), column_index_from_string(m.group(1)))] = "=" + text
    return found


def _xlsx_grid(ws, formulas: dict[tuple[int, int], str]) -> Grid:
    from openpyxl.utils.datetime import from_excel

    from dagster_project.ingest.number_formats import EAST_ASIAN_BUILTIN, is_general
    from dagster_project.ingest.xlsx_cells import _asian_date

    # Styled but empty cells can stretch a sheet to a million rows: read only up to the last value.
    try:
        filled = [key for key, cell in ws._cells.items() if cell.value is not None]
        filled += list(formulas)
        last_row = max((r for r, _ in filled), default=0)
        last_col = max((c for _, c in filled), default=0)
    except AttributeError:  # pragma: no cover - other openpyxl worksheet kinds
        last_row, last_col = ws.max_row, ws.max_column
    rows = [list(r) for r in ws.iter_rows(min_row=1, max_row=last_row, max_col=last_col, values_only=True)] \
        if last_row else []
    for (r, c), text in formulas.items():
        if r <= len(rows) and c <= len(rows[r - 1]):
            rows[r - 1][c - 1] = UncachedFormula(text)
    indents, formats = {}, {}
    for (r, c), cell in getattr(ws, "_cells", {}).items():
        if cell.has_style:
            level = cell.alignment.indent
            if level:
                indents[(r - 1, c - 1)] = int(level)
            value = cell.value
            if r <= len(rows) and c <= len(rows[r - 1]) and value.__class__ in (int, float):
                # the cell's own style (cell.style_id would add a new entry: a loaded cell's style array is a copy)
                if cell._style.numFmtId in EAST_ASIAN_BUILTIN:
                    rows[r - 1][c - 1] = _asian_date(value, ws.parent.epoch, from_excel)
                elif not is_general(cell.number_format):
                    formats[(r - 1, c - 1)] = cell.number_format
    merges = [(m.min_row - 1, m.min_col - 1, m.max_row - 1, m.max_col - 1) for m in ws.merged_cells.ranges]
    return Grid(name=ws.title, rows=[tuple(r) for r in rows], merges=merges, indents=indents, source_format="xlsx",
                hidden=ws.sheet_state != "visible", formats=formats)


def _grid_of_cells(sheet, formulas: dict[tuple[int, int], str]) -> Grid:
    """``_xlsx_grid`` for a sheet read by ``xlsx_cells`` (same bounds, values, formulas, merges, indents)."""
    values = sheet.values
    filled = [key for key, value in values.items() if value is not None]
    filled += list(formulas)
    last_row = max((r for r, _ in filled), default=0)
    last_col = max((c for _, c in filled), default=0)
    rows = [[values.get((r, c)) for c in range(1, last_col + 1)] for r in range(1, last_row + 1)]
    for (r, c), text in formulas.items():
        if r <= len(rows) and c <= len(rows[r - 1]):
            rows[r - 1][c - 1] = UncachedFormula(text)
    indents = {(r - 1, c - 1): level for (r, c), level in sheet.indents.items()}
    formats = {(r - 1, c - 1): code for (r, c), code in sheet.formats.items()}
    merges = [(r0 - 1, c0 - 1, r1 - 1, c1 - 1) for r0, c0, r1, c1 in sheet.merges]
    return Grid(name=sheet.title, rows=[tuple(r) for r in rows], merges=merges, indents=indents,
                source_format="xlsx", hidden=sheet.hidden, formats=formats)


def read_xlsx(path: Path, name: str) -> list[Grid]:
    """The workbook's sheets as grids: through ``xlsx_cells`` (openpyxl's value semantics without its object
    building, ~3x faster), and through ``load_workbook`` for whatever that reader does not reproduce exactly."""
    from dagster_project.ingest.xlsx_cells import read_cells

    try:
        sheets = read_cells(path)
    except Exception:  # noqa: BLE001 - NotPlain, or anything odd: the full reader decides, with its messages
        return read_xlsx_openpyxl(path, name)
    formulas = {}
    if any(sheet.formula_text for sheet in sheets):  # no sheet holds "<f": uncached_formulas would find none
        try:
            formulas = uncached_formulas(path)
        except Exception:  # noqa: BLE001 - detection must never make a readable workbook unreadable
            formulas = {}
    return [_grid_of_cells(sheet, formulas.get(sheet.title, {})) for sheet in sheets]


def read_xlsx_openpyxl(path: Path, name: str) -> list[Grid]:
    from openpyxl import load_workbook

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # openpyxl's style warnings say nothing about the data
            # its bytes, not its name: load_workbook refuses a name not ending .xlsx/.xlsm (a renamed workbook)
            wb = load_workbook(io.BytesIO(path.read_bytes()), data_only=True)
    except Exception as exc:
        if (other := _other_document(path)) is not None:
            raise refuse(name, *other) from None
        raise FileRejected(
            f"{name} 不是可读取的Excel工作簿 (not a readable workbook): {type(exc).__name__}: {exc}"
        ) from None
    try:
        try:
            formulas = uncached_formulas(path)
        except Exception:  # noqa: BLE001 - detection must never make a readable workbook unreadable
            formulas = {}
        return [_xlsx_grid(ws, formulas.get(ws.title, {})) for ws in wb.worksheets]
    finally:
        wb.close()


# --------------------------------------------------------------------------------------------- xls
# An .xlsx saved with a password is no zip: Excel and WPS wrap it in an OLE2 file whose streams are EncryptionInfo
# and EncryptedPackage (MS-OFFCRYPTO), so it sniffs as .xls and xlrd finds no workbook in it; an .xls saved with a
# password holds a FILEPASS record, which xlrd names. Either way the clerk needs to hear "password", not "not an .xls".
def _encrypted_ole2(path: Path, exc: Exception) -> bool:
    """xlrd failed on an OLE2 file: an .xls with a FILEPASS record (xlrd says "encrypted"), or an OLE2 directory
    holding the EncryptedPackage stream (an .xlsx saved with a password)."""
    if "encrypt" in str(exc).lower():
        return True
    import os

    from xlrd.compdoc import CompDoc

    try:
        with open(os.devnull, "w") as quiet:
            names = {entry.name for entry in CompDoc(path.read_bytes(), logfile=quiet).dirlist}
    except Exception:  # noqa: BLE001 - not even a readable OLE2 directory: not ours to name
        return False
    return "EncryptedPackage" in names


# A document saved under a workbook's name (a .docx attached as 预算.xlsx, a Word 97 .doc as .xls) sniffs as a workbook
# by its container (zip, OLE2); the reader's own error ("no valid workbook part") told the clerk nothing. Its parts say
# what it is: word/document.xml or a WordDocument stream is Word's (WPS Writer writes the same), ppt/ a presentation.
_WORD_DOCUMENT = ("是Word文档", "a Word document")
_ZIP_PARTS = (("word/", _WORD_DOCUMENT), ("ppt/", ("是PowerPoint演示文稿", "a PowerPoint presentation")))


def _other_document(path: Path) -> tuple[str, str] | None:
    """(zh, en) naming the office document a file that is no workbook is, from its container's parts; else None."""
    import zipfile

    try:
        if zipfile.is_zipfile(path):
            with zipfile.ZipFile(path) as archive:
                names = archive.namelist()
                mimetype = archive.read("mimetype").decode("ascii", "replace") if "mimetype" in names else ""
            if "opendocument.text" in mimetype:
                return _REFUSED_SUFFIXES[".odt"]
            return next((kind for prefix, kind in _ZIP_PARTS if any(n.startswith(prefix) for n in names)), None)
        import os

        from xlrd.compdoc import CompDoc

        with open(os.devnull, "w") as quiet:
            entries = {entry.name for entry in CompDoc(path.read_bytes(), logfile=quiet).dirlist}
        return _WORD_DOCUMENT if "WordDocument" in entries else None
    except Exception:  # noqa: BLE001 - naming the document is a courtesy: the file is refused either way
        return None


def read_xls(path: Path, name: str) -> list[Grid]:
    import xlrd

    try:
        book = xlrd.open_workbook(str(path), formatting_info=True, on_demand=True)
    except Exception as exc:  # a Word .doc renamed .xls is OLE2 too: xlrd says it is no workbook
        if _encrypted_ole2(path, exc):
            raise refuse(name, "是加密的工作簿（需要密码才能打开），请去掉密码后重新提交",
                         "an encrypted workbook (it needs a password to open); remove the password and submit it "
                         "again") from None
        if (other := _other_document(path)) is not None:
            raise refuse(name, *other) from None
        raise FileRejected(
            f"{name} 不是可读取的Excel 97-2003/WPS工作簿 (not a readable .xls workbook): {type(exc).__name__}: {exc}"
        ) from None
    grids = []
    format_of_xf = {index: code for index, xf in enumerate(book.xf_list) if (code := _xls_format(book, xf))}
    try:
        for index in range(book.nsheets):
            sheet = book.sheet_by_index(index)
            rows, indents, formats = [], {}, {}
            for r in range(sheet.nrows):
                values = []
                for c in range(sheet.ncols):
                    cell = sheet.cell(r, c)
                    values.append(_xls_value(book, cell))
                    xf = book.xf_list[cell.xf_index] if cell.xf_index is not None else None
                    if xf is not None and xf.alignment.indent_level and values[-1] is not None:
                        indents[(r, c)] = int(xf.alignment.indent_level)
                    if cell.ctype == xlrd.XL_CELL_NUMBER and cell.xf_index in format_of_xf:
                        formats[(r, c)] = format_of_xf[cell.xf_index]
                rows.append(tuple(values))
            merges = [(r0, c0, r1 - 1, c1 - 1) for r0, r1, c0, c1 in sheet.merged_cells]
            grids.append(Grid(name=sheet.name, rows=rows, merges=merges, indents=indents, source_format="xls",
                              hidden=sheet.visibility != 0, formats=formats))  # 1 hidden, 2 very hidden
            book.unload_sheet(index)
    finally:
        book.release_resources()
    return grids


def _xls_format(book, xf) -> str | None:
    """The number format code of a BIFF XF record (its FORMAT record, or a built-in xlrd knows), General left out."""
    from dagster_project.ingest.number_formats import is_general

    found = book.format_map.get(xf.format_key)
    code = found.format_str if found is not None else None
    return None if is_general(code) else code


def _xls_value(book, cell):
    import xlrd

    kind = cell.ctype
    if kind in (xlrd.XL_CELL_EMPTY, xlrd.XL_CELL_BLANK):
        return None
    if kind == xlrd.XL_CELL_DATE:
        try:
            value = xlrd.xldate_as_datetime(cell.value, book.datemode)
        except Exception:  # noqa: BLE001 - an out-of-range serial stays a number
            return cell.value
        return value.date() if value.time() == dt.time() else value
    if kind == xlrd.XL_CELL_ERROR:
        return xlrd.error_text_from_code.get(cell.value, "#ERR")  # '#REF!' is a row error downstream
    if kind == xlrd.XL_CELL_BOOLEAN:
        return bool(cell.value)
    return cell.value


# --------------------------------------------------------------------------------------------- dispatch
_REFUSED_SUFFIXES = {
    ".doc": _WORD_DOCUMENT,
    ".docx": _WORD_DOCUMENT,
    ".wps": ("是WPS文字文档", "a WPS Writer document"),
    ".et": ("是WPS表格专有格式（.et）文件", "a WPS Spreadsheets .et file"),
    # LibreOffice Calc's own format, and the name Calc/Excel/WPS give an "XML 表格" (XML Spreadsheet 2003): both were
    # refused as an unknown type; the clerk hears what the file is and what to save it as
    ".ods": ("是OpenDocument表格（.ods，LibreOffice Calc 的默认格式），请另存为 .xlsx",
             "an OpenDocument spreadsheet (.ods, LibreOffice Calc's own format); save it as .xlsx"),
    ".odt": ("是OpenDocument文本文档（.odt）", "an OpenDocument text document (.odt)"),
    ".xml": ("是XML文件（如另存为“XML 表格 / Excel 2003 XML”的工作簿），请另存为 .xlsx",
             "an XML file (such as a workbook saved as 'XML Spreadsheet 2003'); save it as .xlsx"),
}


def refused_suffix_reason(name: str, suffix: str) -> str | None:
    """The exact refusal for Word/WPS files (the framework's suffix check asks here)."""
    found = _REFUSED_SUFFIXES.get(suffix.lower())
    return str(refuse(name, *found)) if found else None


def read_grids(path: Path, name: str):
    """(form, grids, pdf document or None) for any budget/debt file; FileRejected when unreadable."""
    form = sniff(path)
    if form == "xlsx":
        return form, read_xlsx(path, name), None
    if form == "xls":
        return form, read_xls(path, name), None
    suffix = path.suffix.lower()
    if form == "html" and suffix in TEXT_WORKBOOK_SUFFIXES:  # a web system's "export to Excel": an HTML table
        from dagster_project.ingest.html_tables import read_html_tables

        return form, read_html_tables(path, name), None
    if form == "xml" and suffix in TEXT_WORKBOOK_SUFFIXES:  # a Java system's template export (XML Spreadsheet 2003)
        from dagster_project.ingest.spreadsheet_xml import read_spreadsheet_xml

        return form, read_spreadsheet_xml(path, name), None
    if form == "pdf":
        from dagster_project.ingest.pdf_reader import read_pdf

        document = read_pdf(path, name)
        return form, [], document
    if suffix in _REFUSED_SUFFIXES:
        raise refuse(name, *_REFUSED_SUFFIXES[suffix])
    if suffix == ".pdf" and form == "html":  # a portal's error page saved under the attachment's name
        raise refuse(name, "不是有效的PDF文件（是一个网页，可能是下载失败时的错误页）",
                     "not a valid PDF file (it is a web page: perhaps the error page of a failed download)")
    if suffix == ".pdf":
        raise refuse(name, "不是有效的PDF文件", "not a valid PDF file")
    raise FileRejected(
        f"{name} 不是可读取的Excel工作簿 (not a readable workbook): 文件内容不是 xlsx/xls/pdf "
        f"(the content is none of xlsx, xls, pdf, an HTML table, an XML Spreadsheet); 请提交{ACCEPTED_FORMS_ZH}"
    )


__all__ = ["ACCEPTED_FORMS_EN", "ACCEPTED_FORMS_ZH", "read_grids", "read_xls", "read_xlsx", "read_xlsx_openpyxl",
           "refused_suffix_reason", "sniff", "uncached_formulas", "unify_ideographs"]
