"""1-1 in the Ministry's other layout (RAW_FORMATS.md "Debt tables in the Ministry's layout": besides the region-by-row
form): items as rows — 一、2017年债务限额 / 其中：一般债务 / 专项债务 / 二、2017年债务余额 / … — and regions as columns —
本地区 | 本级 | 兴庆区 … (under a 分地区 band or not). Before, the sheet was refused (本地区 matched the label word 地区:
"no amount column"); now each figure reads as the usual layout's: the column says the scope and region (amount =
本地区, amount_own_level = 本级, region:<name>), the row the measure (fct_debt_positions reads both alike; its unit test
debt_region_table_with_items_as_rows_reads_as_the_usual_layout). Expected: the sample's own 1-1 (regions as rows),
written here with its rows and columns swapped, as a workbook (openpyxl) and as Chromium prints its HTML."""
from __future__ import annotations

import html
import subprocess

import pytest
from openpyxl import Workbook, load_workbook

from dagster_project.ingest.workbook import parse_workbook
from dagster_project.paths import REPO_ROOT
from dagster_project.sample.formats import chromium

SAMPLE = REPO_ROOT / "data" / "raw" / "debt" / "2018" / "银川市2018年预算政府债务情况表.xlsx"
WHOLE, OWN = "本地区", "本级"


def by_region(sheet) -> set[tuple]:
    """(region, measure, 元) of a 1-1 in either layout."""
    assert sheet.status == "parsed" and not sheet.rejects, sheet.reason
    out = set()
    for ln in sheet.lines:
        if ln.row_key is None:      # regions as rows: the row names the region, the column the measure
            out.add((ln.line_label.strip(), ln.column_key, ln.amount_yuan))
        else:                       # items as rows: the column names the region, the row the measure
            region = {"amount": WHOLE, "amount_own_level": OWN}.get(ln.column_key, ln.column_key.removeprefix("region:"))
            out.add((region, ln.row_key, ln.amount_yuan))
    return out


def swapped(band: str | None) -> tuple[list[list], list[str]]:
    """The sample 1-1's rows: title, publisher/unit, header row(s), then one row per item (6) — with the item labels
    as a bureau writes them: a year in the top items, 其中：一般债务 / 专项债务 under each."""
    ws = load_workbook(SAMPLE).worksheets[0]
    rows = [r for r in ws.iter_rows(values_only=True)]
    year = next(str(c) for c in rows[3] if c)[:4]
    data = [r for r in rows if r[0] and isinstance(r[1], (int, float))]
    regions = [r[0].strip() for r in data]
    items = [f"一、{year}年债务限额", "其中：一般债务", "专项债务", f"二、{year}年债务余额", "其中：一般债务", "专项债务"]
    width = 1 + len(regions)
    out = [[rows[0][0]] + [None] * (width - 1), [rows[1][0]] + [None] * (width - 2) + [rows[1][-1]]]
    if band:
        out.append(["项目", WHOLE, OWN, band] + [None] * (width - 4))
        out.append([None, None, None] + regions[2:])
    else:
        out.append(["项目"] + regions)
    for i, item in enumerate(items):
        out.append([item] + [r[1 + i] for r in data])
    return out, regions


def workbook(path, band: str | None):
    rows, regions = swapped(band)
    wb = Workbook()
    ws = wb.active
    ws.title = "1-1"
    for row in rows:
        ws.append(row)
    ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(rows[0]))
    if band:
        for col in (1, 2, 3):
            ws.merge_cells(start_row=3, start_column=col, end_row=4, end_column=col)
        ws.merge_cells(start_row=3, start_column=4, end_row=3, end_column=len(rows[0]))
    wb.save(path)


@pytest.mark.parametrize("band", [None, "分地区"])
def test_items_as_rows_read_as_the_regions_as_rows_table(tmp_path, band):
    expected = by_region(parse_workbook(SAMPLE).sheets[0])
    workbook(tmp_path / "swapped.xlsx", band)
    (sheet,) = parse_workbook(tmp_path / "swapped.xlsx").sheets
    assert by_region(sheet) == expected
    assert not sheet.reason  # no column ignored


@pytest.mark.skipif(chromium() is None, reason="headless Chromium is not installed (make browser)")
def test_the_same_printed_by_chromium_reads_the_same(tmp_path):
    expected = by_region(parse_workbook(SAMPLE).sheets[0])
    rows, _ = swapped(None)
    cells = "".join("<tr>" + "".join(f"<td>{html.escape('' if v is None else str(v))}</td>" for v in row) + "</tr>"
                    for row in rows[2:])
    page = tmp_path / "1-1.html"
    page.write_text(
        f"<html><head><meta charset='utf-8'><style>table{{border-collapse:collapse}}td{{border:1px solid #000;"
        f"padding:2px 4px;font-size:9pt}}</style></head><body><h3>{html.escape(rows[0][0])}</h3>"
        f"<p>{html.escape(rows[1][0])}　　{html.escape(rows[1][-1])}</p><table>{cells}</table></body></html>",
        encoding="utf-8")
    target = tmp_path / "1-1.pdf"
    subprocess.run([chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--no-pdf-header-footer",
                    f"--user-data-dir={tmp_path}/profile", f"--print-to-pdf={target}", page.as_uri()],
                   check=True, capture_output=True, timeout=120)
    (sheet,) = parse_workbook(target).sheets
    assert by_region(sheet) == expected


def _whole_region_words() -> list[str]:
    import csv
    with open(REPO_ROOT / "dbt" / "seeds" / "ref_debt_whole_region_labels.csv", encoding="utf-8", newline="") as fh:
        return [r["word"] for r in csv.DictReader(fh) if r["match_kind"] in ("exact", "contains")]


# every word of the one whole-region vocabulary (the seed dbt reads too) before 合计/总计: a word added there is read
# here without a second list to keep; 总计 is 合计 (bare, or after the own name: before, a column no alias took —
# ignored with a note, the whole region's figures lost)
@pytest.mark.parametrize("whole", ["合计", "银川市合计", *(f"{w}合计" for w in _whole_region_words()), "全自治区总计",
                                   "总计", "银川市总计"])
def test_a_total_column_of_items_as_rows_is_the_whole_region(tmp_path, whole):
    """项目 | 合计 | 本级 | 兴庆区 … (review R5): the 合计 of a table whose rows are items is the sum of its regions — the
    whole region, read as 本地区. Before, 合计 kept the usual layout's meaning (limit_total) on every row: every
    figure of the column filed as a lower region without a code, DEBT_REGION_SUM never ran."""
    expected = by_region(parse_workbook(SAMPLE).sheets[0])
    workbook(tmp_path / "swapped.xlsx", None)
    wb = load_workbook(tmp_path / "swapped.xlsx")
    ws = wb.active
    assert ws["B3"].value == WHOLE
    ws["B3"] = whole
    wb.save(tmp_path / "total.xlsx")
    (sheet,) = parse_workbook(tmp_path / "total.xlsx").sheets
    assert by_region(sheet) == expected


def test_an_item_column_in_items_as_rows_is_a_reject_naming_it(tmp_path):
    """项目 | 本地区 | 本级 | 一般债务 | …: a column headed by an item word where the rows are the items names no region —
    a reject naming the column, its figures not read (never filed as a region without a code)."""
    workbook(tmp_path / "swapped.xlsx", None)
    wb = load_workbook(tmp_path / "swapped.xlsx")
    ws = wb.active
    ws["D3"] = "一般债务"
    wb.save(tmp_path / "item.xlsx")
    (sheet,) = parse_workbook(tmp_path / "item.xlsx").sheets
    assert [(r.source_row, r.source_column) for r in sheet.rejects] == [(3, "D")]
    assert "一般债务" in sheet.rejects[0].reason
    assert all(ln.source_column != "D" for ln in sheet.lines)
    assert {ln.column_key for ln in sheet.lines} >= {"amount", "amount_own_level"}
