"""The other forms publishers send, made the way they make them: a disclosure printed to PDF from HTML
by headless Chromium (tables break over pages and repeat their <thead>), and an .xls written by a real
BIFF writer (xlwt). Both start from the same openpyxl worksheets the .xlsx sample is written to."""
from __future__ import annotations

import hashlib
import html
import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome")
FIXED_PDF_DATE = b"D:20200101000000+00'00'"


def chromium() -> str | None:
    return next((p for p in (shutil.which(n) for n in CHROMIUM_NAMES) if p), None)


# --------------------------------------------------------------------------------------------- HTML
_CSS = """
@page { size: A4 landscape; margin: 16mm 14mm 16mm 14mm;
        @top-center { content: "%(head)s"; font-size: 9pt; color: #555; }
        @bottom-center { content: counter(page); font-size: 9pt; } }
body { font-family: 'Noto Sans CJK SC', 'Noto Serif CJK SC', sans-serif; font-size: 11pt; }
h1 { text-align: center; font-size: 26pt; margin-top: 60mm; }
h2 { font-size: 15pt; } h3.title { text-align: center; font-size: 14pt; margin: 0 0 4pt 0; }
.unit { display: flex; justify-content: space-between; font-size: 10pt; margin-bottom: 3pt; }
table { border-collapse: collapse; width: 100%%; }
th, td { border: 0.8pt solid #000; padding: 5pt 4pt; font-size: 10.5pt; }
td.num { text-align: right; } thead { display: table-header-group; } tr { page-break-inside: avoid; }
.table { page-break-before: always; } .part { page-break-before: always; }
p { text-indent: 2em; line-height: 1.6; } p.note { text-indent: 0; font-size: 10pt; }
.toc p { text-indent: 0; }
"""


def worksheet_html(ws, header_rows: int, title: str, publisher_line: str, unit_label: str) -> str:
    """One table of a worksheet laid out by ``workbook.write_sheet`` (title row 1, publisher/unit row 2,
    ``header_rows`` header rows from row 3, data, notes) as the HTML a portal's PDF printer receives."""
    merges = {}
    covered = set()
    for m in ws.merged_cells.ranges:
        merges[(m.min_row, m.min_col)] = (m.max_row - m.min_row + 1, m.max_col - m.min_col + 1)
        covered |= {(r, c) for r in range(m.min_row, m.max_row + 1) for c in range(m.min_col, m.max_col + 1)} \
            - {(m.min_row, m.min_col)}
    width = ws.max_column
    head, body, notes = [], [], []
    for r in range(3, ws.max_row + 1):
        first = ws.cell(r, 1).value
        if isinstance(first, str) and first.startswith("注："):
            notes.append(f'<p class="note">{html.escape(first)}</p>')
            continue
        cells = []
        for c in range(1, width + 1):
            if (r, c) in covered:
                continue
            value = ws.cell(r, c).value
            span = merges.get((r, c))
            attrs = ""
            if span and span[0] > 1:
                attrs += f' rowspan="{span[0]}"'
            if span and span[1] > 1:
                attrs += f' colspan="{span[1]}"'
            tag = "th" if r < 3 + header_rows else "td"
            text = "" if value is None else _amount_text(value)
            cls = ' class="num"' if tag == "td" and re.fullmatch(r"-?[\d,]+(\.\d+)?", text) else ""
            cells.append(f"<{tag}{attrs}{cls}>{html.escape(text)}</{tag}>")
        (head if r < 3 + header_rows else body).append("<tr>" + "".join(cells) + "</tr>")
    return (f'<section class="table"><h3 class="title">{html.escape(title)}</h3>'
            f'<div class="unit"><span>{html.escape(publisher_line)}</span><span>{html.escape(unit_label)}</span></div>'
            f'<table><thead>{"".join(head)}</thead><tbody>{"".join(body)}</tbody></table>{"".join(notes)}</section>')


def _amount_text(value) -> str:
    """Numbers as a PDF shows them: thousands separators, two decimals (an integer code stays bare)."""
    if isinstance(value, float):
        return f"{value:,.2f}"
    return str(value)


def document_html(head: str, cover: list[str], toc: list[str], parts: list[str]) -> str:
    toc_html = "".join(f"<p>{html.escape(line)}</p>" for line in toc)
    cover_html = "".join(f"<h1>{html.escape(line)}</h1>" if i == 0 else f"<h2 style='text-align:center'>{html.escape(line)}</h2>"
                         for i, line in enumerate(cover))
    return (f'<!doctype html><html><head><meta charset="utf-8"><title>{html.escape(head)}</title>'
            f'<style>{_CSS % {"head": head.replace(chr(34), "")}}</style></head><body>'
            f'{cover_html}<div class="part toc"><h2>目　录</h2>{toc_html}</div>{"".join(parts)}</body></html>')


def narrative_html(part_title: str, sections: list[tuple[str, list[str]]]) -> str:
    body = "".join(f"<h2>{html.escape(h)}</h2>" + "".join(f"<p>{html.escape(p)}</p>" for p in paras)
                   for h, paras in sections)
    return f'<div class="part"><h2>{html.escape(part_title)}</h2>{body}</div>'


def _print_cache() -> Path:
    return Path(tempfile.gettempdir()) / "gongkai-pdf-print-cache"


def print_pdf(html_text: str, out: Path) -> None:
    """Print HTML to PDF with headless Chromium, then fix the two timestamps it stamps (same length, so
    the cross-reference offsets stay valid) so the same HTML gives the same bytes. A print is kept by the
    SHA-256 of its HTML and the browser's path in the temp dir: generating the same sample again (tests
    do, three times) does not start the browser again for the same page."""
    browser = chromium()
    if browser is None:
        raise RuntimeError("chromium not found")
    key = hashlib.sha256((browser + "\0" + html_text).encode("utf-8")).hexdigest()
    cached = _print_cache() / f"{key}.pdf"
    if cached.is_file():
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_bytes(cached.read_bytes())
        return
    with tempfile.TemporaryDirectory(prefix="gongkai-pdf-") as tmp:
        page = Path(tmp) / "disclosure.html"
        page.write_text(html_text, encoding="utf-8")
        target = Path(tmp) / "out.pdf"
        subprocess.run(
            [browser, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
             "--disable-component-update", "--no-first-run", f"--user-data-dir={tmp}/profile",
             "--no-pdf-header-footer", f"--print-to-pdf={target}", page.as_uri()],
            check=True, capture_output=True, timeout=120,
        )
        data = target.read_bytes()
    def fixed(m: re.Match) -> bytes:
        old = m.group(2)
        return b"/" + m.group(1) + b" (" + (FIXED_PDF_DATE if len(FIXED_PDF_DATE) == len(old) else old) + b")"

    data = re.sub(rb"/(CreationDate|ModDate) \((D:[^)]*)\)", fixed, data)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(data)
    try:
        _print_cache().mkdir(parents=True, exist_ok=True)
        tmp = cached.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_bytes(data)
        os.replace(tmp, cached)
    except OSError:
        pass  # a cache that cannot be written costs time, never correctness


# --------------------------------------------------------------------------------------------- XLS
def save_xls(wb, path: Path) -> None:
    """Write an openpyxl workbook's values and merged ranges as BIFF8 (.xls) with xlwt, as WPS saves it."""
    import xlwt

    book = xlwt.Workbook(encoding="utf-8")
    for ws in wb.worksheets:
        sheet = book.add_sheet(ws.title[:31], cell_overwrite_ok=True)
        merged_tops = {}
        covered = set()
        for m in ws.merged_cells.ranges:
            merged_tops[(m.min_row, m.min_col)] = m
            covered |= {(r, c) for r in range(m.min_row, m.max_row + 1) for c in range(m.min_col, m.max_col + 1)}
        for row in ws.iter_rows():
            for cell in row:
                if cell.value is None or (cell.row, cell.column) in covered and (cell.row, cell.column) not in merged_tops:
                    continue
                if (cell.row, cell.column) in merged_tops:
                    continue
                sheet.write(cell.row - 1, cell.column - 1, cell.value)
        for (r, c), m in merged_tops.items():
            sheet.write_merge(m.min_row - 1, m.max_row - 1, m.min_col - 1, m.max_col - 1, ws.cell(r, c).value)
    path.parent.mkdir(parents=True, exist_ok=True)
    book.save(str(path))


# --------------------------------------------------------------------------------------------- HTML "xls"
def save_html_xls(wb, path: Path, encoding: str = "gb18030") -> None:
    """Write an openpyxl workbook as a web system's 导出Excel does: an HTML page in Excel's namespace (its
    conditional-comment sheet list, a stylesheet, ``charset=gbk`` by default), one ``<table>`` per sheet, merged
    ranges as ``rowspan``/``colspan``, spaces as ``&nbsp;``, line breaks as ``<br>`` — saved under an .xls name."""
    import datetime as dt
    import html

    charset = "gbk" if encoding.lower() in ("gbk", "gb18030", "gb2312") else encoding
    names = "".join(f"<x:ExcelWorksheet><x:Name>{html.escape(ws.title)}</x:Name></x:ExcelWorksheet>" for ws in wb.worksheets)
    out = ["<html xmlns:o='urn:schemas-microsoft-com:office:office' xmlns:x='urn:schemas-microsoft-com:office:excel'>",
           f"<head><meta http-equiv='Content-Type' content='text/html; charset={charset}'><title>导出</title>",
           f"<!--[if gte mso 9]><xml><x:ExcelWorkbook><x:ExcelWorksheets>{names}</x:ExcelWorksheets>"
           "</x:ExcelWorkbook></xml><![endif]-->",
           "<style>td { mso-number-format:'\\@'; border: .5pt solid windowtext; }</style></head><body>"]
    for ws in wb.worksheets:
        tops, covered = {}, set()
        for m in ws.merged_cells.ranges:
            tops[(m.min_row, m.min_col)] = (m.max_row - m.min_row + 1, m.max_col - m.min_col + 1)
            covered |= {(r, c) for r in range(m.min_row, m.max_row + 1) for c in range(m.min_col, m.max_col + 1)}
        out.append("<table border='1' cellspacing='0'>")
        for r in range(1, ws.max_row + 1):
            cells = []
            for c in range(1, ws.max_column + 1):
                if (r, c) in covered and (r, c) not in tops:
                    continue
                value = ws.cell(r, c).value
                if isinstance(value, dt.datetime):
                    value = value.isoformat(sep=" ")
                text = "" if value is None else html.escape(str(value)).replace(" ", "&nbsp;").replace("\n", "<br>")
                rows, cols = tops.get((r, c), (1, 1))
                spans = (f" rowspan='{rows}'" if rows > 1 else "") + (f" colspan='{cols}'" if cols > 1 else "")
                cells.append(f"<td{spans}>{text}</td>")
            out.append("<tr>" + "".join(cells) + "</tr>")
        out.append("</table>")
    out.append("</body></html>")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes("\n".join(out).encode(encoding))


# --------------------------------------------------------------------------------------------- XML Spreadsheet "xls"
def save_spreadsheet_xml(wb, path: Path) -> None:
    """Write an openpyxl workbook as a Java system's template export does: XML Spreadsheet 2003 (SpreadsheetML),
    numbers as ``Number``, dates as ``DateTime``, merged ranges as ``MergeAcross``/``MergeDown`` with ``ss:Index``
    after a gap, alignment indents as styles — saved under an .xls name."""
    import datetime as dt
    from xml.sax.saxutils import escape, quoteattr

    styles: dict[int, str] = {}
    sheets = []
    for ws in wb.worksheets:
        tops, covered = {}, set()
        for m in ws.merged_cells.ranges:
            tops[(m.min_row, m.min_col)] = (m.max_row - m.min_row, m.max_col - m.min_col)
            covered |= {(r, c) for r in range(m.min_row, m.max_row + 1) for c in range(m.min_col, m.max_col + 1)}
        rows = []
        for r in range(1, ws.max_row + 1):
            cells, expected = [], 1
            for c in range(1, ws.max_column + 1):
                cell = ws.cell(r, c)
                if (r, c) in covered and (r, c) not in tops or (cell.value is None and (r, c) not in tops):
                    continue
                attrs = f' ss:Index="{c}"' if c != expected else ""
                down, across = tops.get((r, c), (0, 0))
                attrs += (f' ss:MergeAcross="{across}"' if across else "") + (f' ss:MergeDown="{down}"' if down else "")
                indent = int(cell.alignment.indent or 0) if cell.has_style else 0
                if indent:
                    styles[indent] = f"i{indent}"
                    attrs += f' ss:StyleID="i{indent}"'
                value = cell.value
                if value is None:
                    data = ""
                elif isinstance(value, bool):
                    data = f'<Data ss:Type="Boolean">{int(value)}</Data>'
                elif isinstance(value, (int, float)):
                    data = f'<Data ss:Type="Number">{value!r}</Data>'
                elif isinstance(value, (dt.date, dt.datetime)):
                    stamp = value if isinstance(value, dt.datetime) else dt.datetime.combine(value, dt.time())
                    data = f'<Data ss:Type="DateTime">{stamp.isoformat(timespec="milliseconds")}</Data>'
                else:
                    data = f'<Data ss:Type="String">{escape(str(value))}</Data>'
                cells.append(f"<Cell{attrs}>{data}</Cell>")
                expected = c + across + 1
            rows.append(f'<Row ss:Index="{r}">' + "".join(cells) + "</Row>" if cells else "")
        sheets.append(f"<Worksheet ss:Name={quoteattr(ws.title)}><Table>" + "\n".join(x for x in rows if x)
                      + "</Table></Worksheet>")
    style_xml = "".join(f'<Style ss:ID="{sid}"><Alignment ss:Indent="{level}"/></Style>' for level, sid in styles.items())
    text = ('<?xml version="1.0" encoding="UTF-8"?>\n<?mso-application progid="Excel.Sheet"?>\n'
            '<Workbook xmlns="urn:schemas-microsoft-com:office:spreadsheet" '
            'xmlns:ss="urn:schemas-microsoft-com:office:spreadsheet" xmlns:x="urn:schemas-microsoft-com:office:excel">\n'
            f"<Styles>{style_xml}</Styles>\n" + "\n".join(sheets) + "\n</Workbook>\n")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
