"""Count cells of a table: the 三公 detail's trips abroad and people, vehicles bought and held, domestic receptions
(DOMAIN.md 2.2 — a final's 三公 table gives them as columns beside the amounts, or as a lower block of item rows).
A count is a whole number of things, never an amount: it is not scaled by the table's unit (团组 2 in a 万元 table is
2, not 20,000 元) and a fraction in its cell (an amount typed there, 12.50) is that cell's reject. Which columns and
item rows hold counts is data: the kind's ``count_keys`` in ``specs/workbook_tables.yaml``. Split from recogniser.py,
which reads the rows.
"""
from __future__ import annotations

from dagster_project.ingest.grid import Grid, cell_text
from dagster_project.ingest.parsed import _BLANK_AMOUNTS, ParsedCount, RowReject, nfkc, parse_count
from dagster_project.ingest.region_band import UNKNOWN_COLUMNS
from dagster_project.ingest.workbook_spec import TableSpec, normalise

# a count read but asked for by no rule (a bare column's cell on a row naming no cost, 外事接待批次): compared with nothing
OTHER_COUNT = "other_count"


def count_column(spec: TableSpec, key: str) -> str | None:
    """The count a column holds, or None: its key a count key, bare or under a group's prefix (预算数 over 团组数 is
    budget_trips_abroad — the year's planned trips, a count of the budget column, never an amount in the unit)."""
    if key in spec.count_keys:
        return key
    base = next((key[len(g.prefix):] for g in spec.group_prefixes if key.startswith(g.prefix)), None)
    return base if base in spec.count_keys else None


def cost_of_row(row_keys, label: str | None, is_total: bool) -> str | None:
    """The cost a row names (1.因公出国（境）费 → overseas), for the bare count columns beside it; None on a total."""
    return None if is_total or not label else row_keys.peek(label)


def counted_keys(spec: TableSpec, key: str, row_keys, label: str | None, is_total: bool,
                 counted_item: str | None) -> tuple[str | None, str | None]:
    """(count key, column key) of a measure column's cell on this row: a bare count column's by its row's cost
    (row_count), else the column's own count or the count item the row names (column key: the column's), else
    (None, None) — an amount."""
    by_row = row_count(spec, key, cost_of_row(row_keys, label, is_total)) if spec.row_counts else None
    return by_row if by_row is not None else (count_column(spec, key) or counted_item, None)


def unnamed_row_counts(sheet, spec: TableSpec, columns) -> None:
    """A bare count column of which no cell counted a cost its row names (车辆数 beside one 公务用车购置及运行费 row:
    bought or held, the table does not say) is no count: its cells (all other_count) are dropped and the column
    reported as unrecognised, as it was before row_counts read it. Run once the rows are read: whether a row names
    the column's cost is the whole table's question."""
    bare = {c.letter: c for c in columns if row_count(spec, c.key, None) is not None}
    named = {c.source_column for c in sheet.counts if c.source_column in bare and c.count_key != OTHER_COUNT}
    unnamed = [bare[letter] for letter in sorted(bare) if letter not in named]
    if not unnamed:
        return
    letters = {c.letter for c in unnamed}
    sheet.counts = [c for c in sheet.counts if c.source_column not in letters]
    sheet.warnings.append(UNKNOWN_COLUMNS + "、".join(f"{c.letter}「{c.header}」" for c in unnamed))


def row_count(spec: TableSpec, key: str, row_key: str | None) -> tuple[str, str] | None:
    """(count key, column key) of a bare count column's cell (团组数 | 人次数 beside one row per cost), or None when the
    column is none: the row's cost names the count (人次数 on the 公务接待费 row is reception_persons), the column key
    is the count's own (the year's count) or under the group's prefix (预算数 over 团组数: budget_trips_abroad). On a
    row naming no cost of the column (合计) the cell is other_count: read as a count, compared with nothing."""
    prefix = next((g.prefix for g in spec.group_prefixes if key.startswith(g.prefix)
                   and key[len(g.prefix):] in spec.row_counts), "")
    by_row = spec.row_counts.get(key[len(prefix):])
    if by_row is None:
        return None
    counted = by_row.get(row_key, OTHER_COUNT)
    return counted, prefix + counted


def count_item(spec: TableSpec, row_keys, label: str | None, is_total: bool) -> str | None:
    """The count key an item row names (因公出国（境）团组数（个） → trips_abroad), or None: its cells are then counts in
    whichever column they stand. Read without moving the row patterns' sections (the row's own key comes after)."""
    if not spec.count_keys or not label or is_total:
        return None
    key = row_keys.peek(label)
    return key if key in spec.count_keys else None


def count_cell(grid: Grid, spec: TableSpec, sheet, r: int, column, value, count_key: str,
               column_key: str | None = None) -> ParsedCount | RowReject | None:
    """One count cell as its count, its reject (not a whole number), or None: a blank cell of an item row's other
    columns (the 预算数 beside a 决算 count is no count of anything), or a mark saying the count is not given here.
    A dash is 0 as in an amount (RAW_FORMATS.md); the spec's words for none (无) are 0 — a 决算 table writes them for
    none as the narrative writes 未购置; its marks of not applicable (/) state no count: a 0 there would be compared
    with the narrative's count (a false NARR_COUNT_MISMATCH), a reject would drop the row's costs with it.
    One rule for a blank: it is 0 (RAW_FORMATS.md: blank is 0) in a cell holding the count its column is the year's
    count of — a 公务用车购置数 column's, or a bare 车辆数 column's on the 购置费 row, which its row's cost makes the
    same count — and states nothing elsewhere (a 预算数 column, a bare column's cell on a row naming no cost)."""
    column_key = column_key or column.key
    text = cell_text(value).strip() if value is not None else ""
    asked = column.key in (count_key, "amount") or column_key == count_key != OTHER_COUNT
    if nfkc(text).strip() in _BLANK_AMOUNTS and not asked:
        return None
    word = normalise(text)
    if word in spec.count_absent_marks:
        return None
    count = 0 if word in spec.count_zero_words else parse_count(value)
    if count is None:
        return RowReject(
            sheet.sheet, grid.source_row(r), column.letter, text,
            f"{grid.where(r)} {column.letter}列「{column.header}」: 期望整数个数, 实际为「{text}」 (expected a whole count of "
            f"trips, people, vehicles or batches, found '{text}')",
            source_page=grid.page(r),
        )
    return ParsedCount(source_row=grid.source_row(r), line_label=None, count_key=count_key, column_key=column_key,
                       source_column=column.letter, value_text=text or None, count_value=count,
                       source_page=grid.page(r))
