"""Lay a ``Table`` out on a worksheet the way publishers do (title, publisher/unit line, merged headers,
codes, indented names, totals, footnotes), under a ``Layout`` that varies across files."""
from __future__ import annotations

import datetime as dt
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path

from openpyxl import Workbook
from openpyxl.utils import get_column_letter

from .tables import PHASE_AMOUNT_ZH, Table

FIXED_TIME = dt.datetime(2020, 1, 1)


@dataclass(frozen=True)
class Layout:
    sheet_names: str      # table_n (表1) | numbered (1-部门收支总表) | sheet1 (Sheet1) | table_name
    publisher_prefix: str  # 部门： | 编制单位：
    unit_label: str       # e.g. 单位：万元
    header_rows: int      # 1..3
    code_layout: str      # single | split
    indent: str           # "  " | "　"
    amount_style: str     # number | text
    zero_style: str       # zero | blank | dash
    total_label: str      # 合计 | 总计
    total_first: bool
    merged_title: bool
    footnote: bool

    def variants(self) -> set[str]:
        v = {f"sheet_name_{self.sheet_names}", f"header_rows_{self.header_rows}", f"amount_{self.amount_style}",
             f"zero_as_{self.zero_style}", "indent_fullwidth" if self.indent == "　" else "indent_spaces",
             "publisher_line_department" if self.publisher_prefix == "部门：" else "publisher_line_compiler"}
        if self.merged_title:
            v.add("merged_title")
        if self.footnote:
            v.add("footnotes")
        return v


def unit_variant(label: str) -> str:
    unit = label.split("：")[-1].split(":")[-1]
    colon = "fullwidth_colon" if "：" in label else "halfwidth_colon"
    prefix = "amount_unit_prefix" if label.startswith("金额单位") else "unit_prefix"
    return f"unit_{ {'元': 'yuan', '千元': 'thousand', '万元': 'wan', '亿元': 'yi'}[unit]}_{colon}_{prefix}".replace(" ", "")


def sheet_name(layout: Layout, index: int, table: Table) -> str:
    if layout.sheet_names == "table_n":
        return f"表{index + 1}"
    if layout.sheet_names == "numbered":
        return f"{index + 1}-{table.table_name}"[:31]
    if layout.sheet_names == "sheet1":
        return f"Sheet{index + 1}"
    return table.table_name[:31]


def _fmt_amount(v, layout: Layout):
    if v is None:
        return None
    if isinstance(v, str):
        return v
    if v == 0:
        return {"zero": 0 if layout.amount_style == "number" else "0.00", "blank": None, "dash": "-"}[layout.zero_style]
    if layout.amount_style == "number":
        return v / 100
    sign = "-" if v < 0 else ""
    whole, cents = divmod(abs(v), 100)
    return f"{sign}{whole:,}.{cents:02d}"


def _label_columns(table: Table, layout: Layout) -> list[tuple[str, tuple[str, ...]]]:
    if table.shape == "coded":
        group = {"function": "支出功能分类科目", "revenue": "收入分类科目"}.get(table.classification, "支出经济分类科目")
        if layout.code_layout == "split":
            codes = [("code_lei", ("科目编码", "类")), ("code_kuan", ("科目编码", "款")), ("code_xiang", ("科目编码", "项"))]
        else:
            codes = [("code", (group, "科目编码"))]
        return codes + [("label", (group, "科目名称"))]
    if table.shape == "bond_use":
        return [("label", ("序号",))]
    return [("label", (table.label_header,))]


def _normalise(paths: list[tuple[str, ...]], h: int, top: str) -> list[tuple[str, ...]]:
    out = []
    for p in paths:
        p2 = p if len(p) >= 2 else (p[0], p[0])
        if h == 1:
            out.append((p2[-1],))
        elif h == 2:
            out.append(p2[-2:])
        else:
            out.append(((p2[0] if p2[0] == p2[1] and len(p) == 1 else top),) + p2[-2:])
    return out


def _write_headers(ws, first_row: int, paths: list[tuple[str, ...]]) -> None:
    h = len(paths[0])
    vstart = []
    for ci, p in enumerate(paths):
        start = h - 1
        while start > 0 and p[start - 1] == p[h - 1]:
            start -= 1
        vstart.append(start)
        for lv in range(h):
            if lv <= start:
                ws.cell(first_row + lv, ci + 1, p[lv] if lv == start or lv < start else None)
            else:
                ws.cell(first_row + lv, ci + 1, p[lv])
        for lv in range(start + 1, h):
            ws.cell(first_row + lv, ci + 1).value = None
        if start < h - 1:
            ws.merge_cells(start_row=first_row + start, end_row=first_row + h - 1, start_column=ci + 1, end_column=ci + 1)
    for lv in range(h):
        ci = 0
        while ci < len(paths):
            cj = ci
            while (cj + 1 < len(paths) and vstart[ci] > lv and vstart[cj + 1] > lv
                   and paths[cj + 1][: lv + 1] == paths[ci][: lv + 1]):
                cj += 1
            if cj > ci:
                for k in range(ci + 1, cj + 1):
                    ws.cell(first_row + lv, k + 1).value = None
                ws.merge_cells(start_row=first_row + lv, end_row=first_row + lv, start_column=ci + 1, end_column=cj + 1)
            ci = cj + 1


def write_sheet(ws, table: Table, *, entity_title: str, publisher_name: str, year: int, phase: str,
                layout: Layout) -> dict:
    """Write one table. Returns where things went: {'cells': {(side, row_index, column_key): 'E12'}, ...}."""
    two_sided = table.shape == "two_sided"
    top = f"{year}年{PHASE_AMOUNT_ZH[phase]}"
    if two_sided:
        right_headers = getattr(table, "right_headers")
        cols = ([("left:label", ("收入", "项目"))] + [(f"left:{c}", table.headers[c]) for c in table.columns]
                + [("right:label", ("支出", "项目"))] + [(f"right:{c}", right_headers[c]) for c in table.right_columns])
        h = max(1, min(layout.header_rows, 2))
    else:
        cols = _label_columns(table, layout) + [(c, table.headers[c]) for c in table.columns]
        depth = max(len(p) for _, p in cols)
        # a 3-row header only where there is a group level to show; single-label tables get at most 2 rows
        h = min(layout.header_rows, depth + 1 if depth >= 2 else 2)
    paths = _normalise([p for _, p in cols], h, top)
    width = len(cols)
    ws.cell(1, 1, f"{entity_title}{year}年{table.table_name}")
    if layout.merged_title and width > 1:
        ws.merge_cells(start_row=1, end_row=1, start_column=1, end_column=width)
    ws.cell(2, 1, f"{layout.publisher_prefix}{publisher_name}")
    ws.cell(2, width, layout.unit_label)
    _write_headers(ws, 3, paths)
    r = 3 + h
    col_index = {key: i + 1 for i, (key, _) in enumerate(cols)}
    cells: dict[tuple[str, int, str], str] = {}

    def put_amounts(side: str, row, keys, ri):
        for k in keys:
            ci = col_index[f"{side}:{k}" if two_sided else k]
            v = row.values.get(k)
            ws.cell(r, ci, v if k in table.text_columns else _fmt_amount(v, layout))
            cells[(side, ri, k)] = f"{get_column_letter(ci)}{r}"

    if two_sided:
        for ri, (lrow, rrow) in enumerate(zip(table.rows, table.right_rows)):
            ws.cell(r, col_index["left:label"], lrow.label or None)
            put_amounts("left", lrow, table.columns, ri)
            ws.cell(r, col_index["right:label"], rrow.label or None)
            put_amounts("right", rrow, table.right_columns, ri)
            r += 1
    else:
        for ri, row in enumerate(table.rows):
            indent = layout.indent * max(0, row.level - 1)
            if table.shape == "bond_use":
                ws.cell(r, 1, ri + 1)
            elif row.code and layout.code_layout == "split" and table.shape == "coded":
                ws.cell(r, col_index["code_lei"], row.code[:3])
                ws.cell(r, col_index["code_kuan"], row.code[3:5] or None)
                ws.cell(r, col_index["code_xiang"], row.code[5:7] or None)
            elif row.code:
                ws.cell(r, col_index["code"], row.code)
            if table.shape != "bond_use":
                ws.cell(r, col_index["label"], indent + row.label)
            put_amounts("main", row, table.columns, ri)
            r += 1
    notes = []
    if table.note:
        notes.append(f"注：{table.note}")
    elif layout.footnote and not table.is_empty:
        notes.append(f"注：本表以{layout.unit_label.split('单位')[-1].lstrip('：:')}为单位，数据来源于{year}年{PHASE_AMOUNT_ZH[phase][:2]}编制系统。")
    for n in notes:
        ws.cell(r, 1, n)
        r += 1
    return {"cells": cells, "header_rows": h, "width": width}


def new_workbook() -> Workbook:
    wb = Workbook()
    wb.remove(wb.active)
    return wb


def save_workbook(wb: Workbook, path: Path) -> None:
    """Save with fixed document properties and zip timestamps, so the same content gives the same bytes."""
    wb.properties.creator = "gongkai sample"
    wb.properties.created = FIXED_TIME
    wb.properties.modified = FIXED_TIME
    wb.properties.lastModifiedBy = None
    tmp = path.with_suffix(".tmp")
    wb.save(tmp)
    with zipfile.ZipFile(tmp) as src, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            data = src.read(info.filename)
            if info.filename == "docProps/core.xml":   # openpyxl stamps the save time here
                data = re.sub(rb"(<dcterms:modified[^>]*>)[^<]*(<)", rb"\g<1>2020-01-01T00:00:00Z\g<2>", data)
            zi = zipfile.ZipInfo(info.filename, date_time=(2020, 1, 1, 0, 0, 0))
            zi.compress_type = zipfile.ZIP_DEFLATED
            zi.external_attr = info.external_attr
            dst.writestr(zi, data)
    tmp.unlink()
