"""A debt table's totals and their parts (DOMAIN.md 2.3: "totals = sum of parts"), after its rows are read.

* **A 合计 row inside a section** (二、还本额 / 一般债务 / 专项债务 / 合计) is that section's total (``section_totals``;
  row_keys.RowKeys.total): before, it had no item, its figure unkeyed and the heading's blank cells read as a total 0.
  When the heading states figures too, per cell: a blank one of the pair is no cell of the total (dropped: the other
  states it); both
  filled, the 合计's is the section's total stated again — its own item ``<section>_repeated`` (one item once in a
  column), judged equal to the heading's by DEBT_PARTS (seeds/ref_line_identities.csv). Not a reject: a row reject
  leaves the whole sheet unjudged, and two totals that disagree is what DEBT_PARTS reports.
* **A split left blank** (``part_columns`` / ``part_rows``). RAW_FORMATS.md reads a blank or ``-`` amount as 0: in a
  department table an empty leaf cell is nothing spent, and so is one kind's cell left blank beside the other's (一般
  22 | 专项 空 under 合计 22: no special bonds). But a total stated with every part of one split blank (一、发行额 |
  120.5 | 空 | 空, the publisher filled only 合计) says nothing of the split: 0 + 0 would be figures nobody published
  and a false "total ≠ parts". Those parts are not stated — amount None: no figure in the mart, and an identity
  over such a cell is not evaluated (not a failure; int_line_items carries the cell without a figure, so a partial sum
  — 本地区 = 本级 + 下级 with 本级's 一般 unknown — is not judged either); the line stays, its item present
  (DEBT_ITEM_MISSING). A written ``0`` or ``-`` is stated (as the 三公 split's, macros/text.sql cell_is_blank). The
  converse too: a total left blank beside parts stating figures (二、还本额 | 空 over 32 / 53, no 合计 row) is not
  stated, not 0.
* **A 合计 straight under a heading** (五、付息预算数 then 合计, no part listed between) closes no section: a grand
  合计 adding up the sections, unkeyed as before.
"""
from __future__ import annotations

from collections import defaultdict

from dagster_project.ingest.parsed import ParsedLine, ParsedSheet
from dagster_project.ingest.workbook_spec import TableSpec

REPEATED = "_repeated"  # a section's total stated again on its 合计 row: issued_total_repeated …


def _blank(line: ParsedLine) -> bool:
    return not (line.value_text or "").strip()


def _row(line: ParsedLine) -> tuple:
    return line.source_page, line.source_row, line.side


def settle(sheet: ParsedSheet, spec: TableSpec, kind_cells: list[tuple]) -> None:
    """The section totals first (a heading left blank states no total), then the splits left blank."""
    if spec.section_totals:
        _section_totals(sheet, kind_cells)
    original = {id(line): column for line, _, column in kind_cells}  # a *_total row's kind cell: its own column
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
    """Every part present blank beside a stated total: not stated. And the converse — the total blank beside a part
    stating a figure other than 0 (二、还本额 | 空 over 一般 32 / 专项 53, no 合计 row; 本级 | 空 | 130 | 150): the total
    is not stated, not 0 — a 0 would be a false "total ≠ parts" (or a limit of 0 under a balance) and a figure nobody
    published. Beside parts all 0 (or blank) a blank total contradicts nothing: 0, as blank reads elsewhere."""
    present = [p for p in parts if p is not None]
    if total is None or not present:
        return
    if total.amount_yuan is not None and not _blank(total) and all(_blank(p) for p in present):
        for part in present:
            part.amount_yuan = None
    elif _blank(total) and any(not _blank(p) and p.amount_yuan for p in present):
        total.amount_yuan = None


def _section_totals(sheet: ParsedSheet, kind_cells: list[tuple]) -> None:
    """Each cell of a section's 合计 row beside the heading's cell of the same item and column."""
    section = {id(line): total for line, total, _ in kind_cells}  # a remapped kind cell: its row's section item
    original = {id(line): column for line, _, column in kind_cells}
    cells = defaultdict(list)
    for line in sheet.lines:
        if line.row_key is not None:
            cells[(line.row_key, line.column_key, line.side)].append(line)
    # the blank one of a pair is no cell of the total at all, not a total "not stated": the other states it (as a
    # line without a figure it would stop the identity over the total — int_reconciliation_checks judges none over a
    # cell not stated)
    superseded = set()
    for lines in cells.values():
        heading = next((ln for ln in lines if not ln.is_total), None)
        if heading is None:
            continue
        for total in (ln for ln in lines if ln.is_total):
            if _blank(heading) and not _blank(total):
                superseded.add(id(heading))  # a heading without figures: the 合计 row states the total
            elif _blank(total) and not _blank(heading):
                superseded.add(id(total))
            elif not _blank(total):
                # stated twice: the 合计's is its own item, judged against the heading's (DEBT_PARTS, *_repeated)
                total.row_key = section.get(id(total), total.row_key) + REPEATED
                total.column_key = original.get(id(total), total.column_key)
    sheet.lines[:] = [line for line in sheet.lines if id(line) not in superseded]
