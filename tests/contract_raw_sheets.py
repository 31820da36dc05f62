"""Workbook-writing helpers for the contract root: amount formatting, ``SheetWriter`` (titles, unit lines,
merged headers), ``Layout`` and the writers for coded (类|款|项), item, two-sided and 三公 tables, and
``offset_sheet``. Part of ``contract_raw``; depends only on ``contract_raw_catalogue``.
"""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from openpyxl.utils import get_column_letter

from contract_raw_catalogue import D, ExpectedSheet, function_name


# --- workbook writing ------------------------------------------------------------------------------------------
FW = "\u3000"   # full-width space: one level of indent


def fmt(value: Decimal, style: str):
    """An amount cell as a publisher types it."""
    if value == 0:
        return {"num": 0, "text": "-", "blank": None}[style]
    if style == "text":
        return f"{value:,.2f}" if value != value.to_integral() else f"{value:,.0f}"
    return float(value)


class SheetWriter:
    """Writes one published table into a worksheet and tallies what a parser must read from it."""

    def __init__(self, ws, expected: ExpectedSheet, multiplier: Decimal):
        self.ws, self.expected, self.multiplier = ws, expected, multiplier
        self.row = 1

    def put(self, r: int, c: int, value) -> None:
        self.ws.cell(row=r, column=c, value=value)

    def merge(self, r0: int, c0: int, r1: int, c1: int) -> None:
        if (r0, c0) != (r1, c1):
            self.ws.merge_cells(start_row=r0, start_column=c0, end_row=r1, end_column=c1)

    def title(self, text: str, width: int) -> None:
        self.put(self.row, 1, text)
        self.merge(self.row, 1, self.row, width)
        self.row += 1

    def unit_line(self, publisher: str | None, unit_text: str, unit_left: bool, width: int,
                  one_cell: bool = False) -> None:
        if one_cell:   # '编制单位：…　　　单位：元' typed into one merged cell
            self.put(self.row, 1, f"{publisher}{FW * 6}{unit_text}")
            self.merge(self.row, 1, self.row, width)
        elif unit_left:
            self.put(self.row, 1, unit_text)
            if publisher:
                self.put(self.row, width, publisher)
        else:
            if publisher:
                self.put(self.row, 1, publisher)
            self.put(self.row, width, unit_text)
        self.row += 1

    def amount(self, r: int, c: int, value: Decimal, style: str) -> None:
        self.put(r, c, fmt(value, style))
        self.expected.amount_yuan_total += value * self.multiplier

    def note(self, text: str) -> None:
        self.row += 1
        self.put(self.row, 1, text)
        self.row += 1


@dataclass
class Layout:
    sheet_name: str
    title: str
    publisher: str | None
    unit_label: str        # 元 | 万元 | 亿元
    unit_text: str
    unit_left: bool
    header_rows: int       # 1..3
    split_codes: bool
    style: str             # num | text | blank (how zeros and amounts are typed)
    indent: str = FW       # one level of indent in the name column: a full-width space or two spaces
    total_at_bottom: bool = False
    one_cell_unit_line: bool = False


def coded_rows(leaves: dict[str, dict[str, Decimal]], keys: list[str]) -> list[tuple[str, dict[str, Decimal]]]:
    """Parent codes (3 / 5 digits) summed from the leaves, in code order, parents first."""
    sums: dict[str, dict[str, Decimal]] = {}
    for code, values in leaves.items():
        for n in (3, 5, 7):
            if len(code) >= n:
                row = sums.setdefault(code[:n], {k: D(0) for k in keys})
                for k in keys:
                    row[k] += values.get(k, D(0))
    return sorted(sums.items())


def write_coded(ws, exp: ExpectedSheet, lay: Layout, mult: Decimal, year: int,
                columns: list[tuple[str, str]], leaves: dict[str, dict[str, Decimal]],
                total_label: str = "合计", note: str | None = None, code_header: str = "科目编码",
                name_header: str = "科目名称", group_header: str | None = None, empty: bool = False,
                reject_cell: tuple[str, str] | None = None, tamper: dict[str, dict[str, Decimal]] | None = None,
                rel: str = "", rejects: set | None = None) -> None:
    """A coded table: code column(s), name, amount columns; parents, leaves and a total row."""
    w = SheetWriter(ws, exp, mult)
    keys = [k for _, k in columns]
    code_cols = 3 if lay.split_codes else 1
    width = code_cols + 1 + len(columns)
    w.title(lay.title, width)
    w.unit_line(lay.publisher, lay.unit_text, lay.unit_left, width, lay.one_cell_unit_line)
    top = w.row
    first_amount = code_cols + 2
    if lay.header_rows == 1:
        if lay.split_codes:
            for i, part in enumerate("类款项"):
                w.put(top, 1 + i, part)
        else:
            w.put(top, 1, code_header)
        w.put(top, code_cols + 1, name_header)
        for i, (text, _) in enumerate(columns):
            w.put(top, first_amount + i, text)
    else:
        last = top + lay.header_rows - 1
        if lay.split_codes:
            w.put(top, 1, code_header)
            w.merge(top, 1, last - 1, 3)
            for i, part in enumerate("类款项"):
                w.put(last, 1 + i, part)
        else:
            w.put(top, 1, code_header)
            w.merge(top, 1, last, 1)
        w.put(top, code_cols + 1, name_header)
        w.merge(top, code_cols + 1, last, code_cols + 1)
        if group_header and lay.header_rows == 3 and len(columns) >= 3:
            # 本年预算 over every amount column; 合计 alone, then 其中 over the parts
            w.put(top, first_amount, group_header)
            w.merge(top, first_amount, top, first_amount + len(columns) - 1)
            w.put(top + 1, first_amount, columns[0][0])
            w.merge(top + 1, first_amount, last, first_amount)
            w.put(top + 1, first_amount + 1, "其中")
            w.merge(top + 1, first_amount + 1, top + 1, first_amount + len(columns) - 1)
            for i, (text, _) in enumerate(columns[1:], start=1):
                w.put(last, first_amount + i, text)
        else:
            for i, (text, _) in enumerate(columns):
                w.put(top, first_amount + i, text)
                w.merge(top, first_amount + i, last, first_amount + i)
    r = top + lay.header_rows
    rows = [] if empty else coded_rows(leaves, [k for k in keys if k])
    total = {k: sum((v[k] for c, v in rows if len(c) == 3), D(0)) for k in keys if k}
    def total_row(r: int) -> int:
        if lay.split_codes:
            w.put(r, 1, total_label)
            w.merge(r, 1, r, 3)
        else:
            w.put(r, code_cols + 1, total_label)
        for i, k in enumerate(keys):
            if k is None:   # a ratio column (增长% / 为预算数的%): no amount
                w.put(r, first_amount + i, 103.7)
                continue
            w.amount(r, first_amount + i, total[k], lay.style)
        return r + 1

    if not lay.total_at_bottom:   # the total row first, as many publishers print it
        r = total_row(r)
    for code, values in rows:
        values = dict(values)
        if tamper and code in tamper:
            for k, delta in tamper[code].items():
                values[k] += delta
        level = {3: 0, 5: 1, 7: 2}[len(code)]
        if lay.split_codes:
            w.put(r, 1, int(code[:3]) if len(code) == 3 else None)
            w.put(r, 2, int(code[3:5]) if len(code) >= 5 else None)
            w.put(r, 3, int(code[5:7]) if len(code) == 7 else None)
        else:
            w.put(r, 1, code if lay.style == "text" else int(code))
        w.put(r, code_cols + 1, lay.indent * level + function_name(code, year))
        rejected_row = bool(reject_cell and reject_cell[0] == code)
        for i, k in enumerate(keys):
            if k is None:
                w.put(r, first_amount + i, 98.2)
                continue
            if rejected_row and reject_cell[1] == k:
                w.put(r, first_amount + i, "待定")
                if rejects is not None:
                    rejects.add((rel, ws.title, r, get_column_letter(first_amount + i), "待定"))
                continue
            w.amount(r, first_amount + i, values[k], lay.style)
            if rejected_row:  # a rejected row loads nothing: its other cells do not count either
                exp.amount_yuan_total -= values[k] * mult
        r += 1
    if lay.total_at_bottom:
        r = total_row(r)
    w.row = r
    if note:
        w.note(note)
    exp.is_empty = empty


def write_items(ws, exp: ExpectedSheet, lay: Layout, mult: Decimal, columns: list[tuple[str, str]],
                items: list[tuple[str, dict[str, Decimal]]], label_header: str = "项目",
                total_label: str | None = "合计", note: str | None = None) -> None:
    """An item table: label column + amount columns; optional total row at the bottom."""
    w = SheetWriter(ws, exp, mult)
    width = 1 + len(columns)
    w.title(lay.title, width)
    w.unit_line(lay.publisher, lay.unit_text, lay.unit_left, width, lay.one_cell_unit_line)
    top = w.row
    w.put(top, 1, label_header)
    for i, (text, _) in enumerate(columns):
        w.put(top, 2 + i, text)
    if lay.header_rows > 1:
        for c in range(1, width + 1):
            w.merge(top, c, top + lay.header_rows - 1, c)
    r = top + lay.header_rows
    for label, values in items:
        w.put(r, 1, label)
        for i, (_, k) in enumerate(columns):
            if k in values and values[k] is None:
                continue   # an empty cell
            w.amount(r, 2 + i, values.get(k, D(0)), lay.style)
        r += 1
    if total_label:
        w.put(r, 1, total_label)
        for i, (_, k) in enumerate(columns):
            w.amount(r, 2 + i, sum((v.get(k) or D(0) for _, v in items), D(0)), lay.style)
        r += 1
    w.row = r
    if note:
        w.note(note)


def write_two_sided(ws, exp: ExpectedSheet, lay: Layout, mult: Decimal,
                    income: list[tuple[str, Decimal]], expenditure: list[tuple[str, dict[str, Decimal]]],
                    right_columns: list[tuple[str, str]], left_amount: str, left_label: str, right_label: str,
                    income_total_label: str, expenditure_total_label: str, income_total_delta: Decimal = D(0),
                    carry: tuple[Decimal, Decimal] | None = None):
    """收支总表: income items left, expenditure items (one or more amount columns) right.

    ``carry`` = (上年结转, 年末结转和结余): the finance ministry's template, where 本年收入合计 and
    本年支出合计 differ and only 收入总计 = 支出总计 (each total includes its side's carry-over)."""
    w = SheetWriter(ws, exp, mult)
    width = 2 + 1 + len(right_columns)
    w.title(lay.title, width)
    w.unit_line(lay.publisher, lay.unit_text, lay.unit_left, width, lay.one_cell_unit_line)
    top = w.row
    w.put(top, 1, "收入")
    w.merge(top, 1, top, 2)
    w.put(top, 3, "支出")
    w.merge(top, 3, top, width)
    sub = top + 1
    w.put(sub, 1, left_label)
    w.put(sub, 2, left_amount)
    w.put(sub, 3, right_label)
    for i, (text, _) in enumerate(right_columns):
        w.put(sub, 4 + i, text)
    r = sub + 1
    n = max(len(income), len(expenditure))
    for i in range(n):
        if i < len(income):
            w.put(r, 1, income[i][0])
            w.amount(r, 2, income[i][1], lay.style)
        if i < len(expenditure):
            w.put(r, 3, expenditure[i][0])
            for j, (_, k) in enumerate(right_columns):
                w.amount(r, 4 + j, expenditure[i][1].get(k, D(0)), lay.style)
        r += 1
    income_sum = sum((v for _, v in income), D(0)) + income_total_delta
    expenditure_sum = {k: sum((v.get(k, D(0)) for _, v in expenditure), D(0)) for _, k in right_columns}
    if carry:
        w.put(r, 1, "本年收入合计")
        w.amount(r, 2, income_sum, lay.style)
        w.put(r, 3, "本年支出合计")
        for j, (_, k) in enumerate(right_columns):
            w.amount(r, 4 + j, expenditure_sum[k], lay.style)
        r += 1
        w.put(r, 1, "上年结转")
        w.amount(r, 2, carry[0], lay.style)
        w.put(r, 3, "年末结转和结余")
        for j, _ in enumerate(right_columns):
            w.amount(r, 4 + j, carry[1] if j == 0 else D(0), lay.style)
        r += 1
        income_sum += carry[0]
        expenditure_sum[right_columns[0][1]] += carry[1]
    w.put(r, 1, income_total_label)
    w.amount(r, 2, income_sum, lay.style)
    w.put(r, 3, expenditure_total_label)
    for j, (_, k) in enumerate(right_columns):
        w.amount(r, 4 + j, expenditure_sum[k], lay.style)
    w.row = r + 1


def write_sangong(ws, exp: ExpectedSheet, lay: Layout, mult: Decimal, overseas: Decimal, purchase: Decimal,
                  running: Decimal, reception: Decimal, note: str | None = None) -> None:
    """三公: 合计 | 因公出国（境）费 | 公务用车购置及运行费 (小计 | 购置费 | 运行费) | 公务接待费, one data row."""
    w = SheetWriter(ws, exp, mult)
    w.title(lay.title, 6)
    w.unit_line(lay.publisher, lay.unit_text, lay.unit_left, 6, lay.one_cell_unit_line)
    top = w.row
    for c, text in ((1, "合计"), (2, "因公出国（境）费"), (6, "公务接待费")):
        w.put(top, c, text)
        w.merge(top, c, top + 1, c)
    w.put(top, 3, "公务用车购置及运行费")
    w.merge(top, 3, top, 5)
    for c, text in ((3, "小计"), (4, "购置费"), (5, "运行费")):
        w.put(top + 1, c, text)
    r = top + 2
    vehicle = purchase + running
    for c, v in ((1, overseas + vehicle + reception), (2, overseas), (3, vehicle), (4, purchase), (5, running),
                 (6, reception)):
        w.amount(r, c, v, lay.style)
    w.row = r + 1
    if note:
        w.note(note)


def offset_sheet(ws, rows: int, cols: int) -> None:
    """Move a drawn table down and right (openpyxl does not move merged ranges: re-merge them shifted)."""
    merges = [(m.min_row, m.min_col, m.max_row, m.max_col) for m in ws.merged_cells.ranges]
    for r0, c0, r1, c1 in merges:
        ws.unmerge_cells(start_row=r0, start_column=c0, end_row=r1, end_column=c1)
    ws.insert_rows(1, rows)
    ws.insert_cols(1, cols)
    for r0, c0, r1, c1 in merges:
        ws.merge_cells(start_row=r0 + rows, start_column=c0 + cols, end_row=r1 + rows, end_column=c1 + cols)


CN_NUMBERS = "一二三四五六七八九十"
