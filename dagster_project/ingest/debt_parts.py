"""A debt table's totals and their parts (DOMAIN.md 2.3: "totals = sum of parts"), after its rows are read.

* **A 合计 row inside a section** (二、还本额 / 一般债务 / 专项债务 / 合计) is that section's total (``section_totals``;
  row_keys.RowKeys.total): before, it had no item, its figure unkeyed and the heading's blank cells read as a total 0.
  When the heading states figures too, the two are one item: a blank one of the pair is "not stated" (the other
  states it); two equal figures are one statement (the 合计's left without the item, once in a column); two that
  differ are refused — the 合计 row is a reject naming its row and column, the heading's figure kept (the DEBT_PARTS
  identities judge it against its parts).
* **A split left blank** (``part_columns`` / ``part_rows``). RAW_FORMATS.md reads a blank or ``-`` amount as 0: in a
  department table an empty leaf cell is nothing spent, and so is one kind's cell left blank beside the other's (一般
  22 | 专项 空 under 合计 22: no special bonds). But a total stated with every part of one split blank (一、发行额 |
  120.5 | 空 | 空, the publisher filled only 合计) says nothing of the split: 0 + 0 would be figures nobody published
  and a false "total ≠ parts". Those parts are not stated — amount None: no figure in int_line_items or the mart, so
  the identity has no parts to judge (not a failure); the line stays, its item present (DEBT_ITEM_MISSING). A
  written ``0`` or ``-`` is stated (as the 三公 split's, macros/text.sql cell_is_blank).
"""
from __future__ import annotations

from collections import defaultdict

from dagster_project.ingest.parsed import ParsedLine, ParsedSheet, RowReject
from dagster_project.ingest.workbook_spec import TableSpec

SECTION_CLASH = ("合计行「{total}」与本节标题行「{heading}」的数额不一致 (the section's 合计 row says {total}, its heading "
                 "{heading}: two totals of one section that disagree — the heading's figure is kept, judged against "
                 "its parts)")


def _blank(line: ParsedLine) -> bool:
    return not (line.value_text or "").strip()


def _row(line: ParsedLine) -> tuple:
    return line.source_page, line.source_row, line.side


def settle(sheet: ParsedSheet, spec: TableSpec, kind_cells: list[tuple]) -> None:
    """The section totals first (a heading left blank states no total), then the splits left blank."""
    original = {id(line): column for line, _, column in kind_cells}  # a *_total row's kind cell: its own column
    if spec.section_totals:
        _section_totals(sheet, original)
    if spec.part_columns:
        rows = defaultdict(dict)
        for line in sheet.lines:
            rows[_row(line)][original.get(id(line), line.column_key)] = line
        for cells in rows.values():
            for total, parts in spec.part_columns.items():
                _unstated(cells.get(total), [cells.get(p) for p in parts])
    if spec.part_rows:
        positions = defaultdict(lambda: defaultdict(list))
        for line in sheet.lines:
            if line.row_key is not None:
                positions[(line.column_key, line.side)][line.row_key].append(line)
        for items in positions.values():
            for total, splits in spec.part_rows.items():
                for split in splits:
                    for line in items.get(total, ()):
                        _unstated(line, [p for key in split for p in items.get(key, ())])


def _unstated(total: ParsedLine | None, parts: list[ParsedLine | None]) -> None:
    """Every part present blank beside a stated total: not stated."""
    present = [p for p in parts if p is not None]
    if total is not None and total.amount_yuan is not None and not _blank(total) and present \
            and all(_blank(p) for p in present):
        for part in present:
            part.amount_yuan = None


def _section_totals(sheet: ParsedSheet, original: dict) -> None:
    cells = defaultdict(list)
    for line in sheet.lines:
        if line.row_key is not None:
            cells[(line.row_key, line.column_key, line.side)].append(line)
    refused = {}
    for lines in cells.values():
        totals = [ln for ln in lines if ln.is_total]
        if not totals or len(lines) < 2:
            continue
        filled = [ln for ln in lines if not _blank(ln)]
        for line in lines:
            if filled and _blank(line):
                line.amount_yuan = None  # the other of the pair states it
        if len(filled) < 2:
            continue
        heading = next((ln for ln in filled if not ln.is_total), filled[0])
        for line in filled:
            if line is heading:
                continue
            if line.amount_yuan == heading.amount_yuan:
                line.row_key, line.column_key = None, original.get(id(line), line.column_key)  # said once
            elif line.is_total:
                refused.setdefault(_row(line), (line, heading))
    for key, (line, heading) in refused.items():
        sheet.lines = [ln for ln in sheet.lines if _row(ln) != key]
        sheet.rows_loaded, sheet.rows_rejected = sheet.rows_loaded - 1, sheet.rows_rejected + 1
        where = f"第{line.source_page}页" if line.source_page is not None else f"工作表「{sheet.sheet}」"
        sheet.rejects.append(RowReject(
            sheet.sheet, line.source_row, line.source_column, line.value_text,
            f"{where}第{line.source_row}行 {line.source_column}列「{line.line_label}」: "
            + SECTION_CLASH.format(total=line.value_text, heading=heading.value_text), source_page=line.source_page))
