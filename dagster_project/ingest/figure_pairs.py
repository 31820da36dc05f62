"""Two figure columns of one key: 执行数 | 预算数 of a debt item table spanning two years (RAW_FORMATS.md "Debt tables
in the Ministry's layout": ``本地区 | 其中：本级`` each over ``执行数 | 预算数``).

The past years' items are filled under 执行数, the table's budget year's under 预算数; the two columns are read as one,
each row from the cell it filled (``coalesce_columns``). A row may fill both:

* the same figure twice: that figure (nothing to choose); a 0 of a pair is a figure like any other (执行数 0 beside
  预算数 2952.71: the item's year decides, never the 0 taken for an empty cell);
* two different figures: the item's label says which year it is (the contract: "the year inside an item label says
  which year it is"), and so which of the two a reader takes for it — a year before the table's budget year is
  history, its executed figure (执行数, 决算数, 实际数); the budget year's is the budget (预算数). The budget year is the
  fiscal year of a budget table, the year after it of a final-accounts table (whose own year is executed); headers
  naming their years (2019年执行数 | 2020年预算数) name the item's column themselves, the table's year known or not. 上年 / 本年
  name the fiscal year's last and own year; a final table's item naming no year is its own year's. A budget table's
  label naming no year (年末余额), or a pair whose headers do not say which is executed and which budgeted: which figure the table
  states cannot be told — a reject naming both cells, never one silently chosen (before: the first column won for
  the whole table, with a warning, and the new year's limit read as 0 from the empty 执行数 cell).

Two columns that are not an executed/budget pair and both hold figures on one row stay two readings of the same
items, left to the usual choice of one (``header_band._dedupe``, with a warning).
"""
from __future__ import annotations

from dagster_project.ingest.grid import Grid, cell_text
from dagster_project.ingest.item_years import label_year
from dagster_project.ingest.parsed import _BLANK_AMOUNTS, RowReject, nfkc, parse_amount

_EXECUTED = ("执行", "决算", "实际")
_BUDGETED = ("预算",)


def amount_filled(value) -> bool:
    """A cell that states a figure other than nothing: not blank, not a dash, not zero."""
    if value is None or nfkc(cell_text(value)).strip() in _BLANK_AMOUNTS:
        return False
    ok, amount = parse_amount(value)
    return not ok or amount != 0


def figure_stated(value) -> bool:
    """A cell that states a figure, 0 included (a 0 under 执行数 says nothing was issued that year: the item's
    year decides between it and a budgeted figure beside it, as between any two figures)."""
    return value is not None and nfkc(cell_text(value)).strip() not in _BLANK_AMOUNTS


def figure_kind(header: str) -> str | None:
    """'executed' or 'budget' by the column's own (last) header cell; None when it says neither or both."""
    last = nfkc(header.split("/")[-1])
    executed, budget = any(w in last for w in _EXECUTED), any(w in last for w in _BUDGETED)
    return "executed" if executed and not budget else "budget" if budget and not executed else None


def _is_pair(group: list) -> bool:
    return len(group) == 2 and {figure_kind(c.header) for c in group} == {"executed", "budget"}


def coalesce_columns(grid: Grid, columns: list, data_start: int) -> tuple[list, dict[int, list]]:
    """Measure columns sharing a key that never both hold a figure on one row, or that are an executed/budget pair,
    are one column: {first column's index: [the others]}; the row decides (``choose``)."""
    by_key: dict[str, list] = {}
    for col in columns:
        if col.role == "measure":
            by_key.setdefault(col.key, []).append(col)
    alternates: dict[int, list] = {}
    for group in by_key.values():
        if len(group) < 2:
            continue
        both = any(sum(amount_filled(grid.value(r, c.index)) for c in group) > 1
                   for r in range(data_start, len(grid.rows)))
        if not both or _is_pair(group):
            alternates[group[0].index] = group[1:]
    dropped = {a.index for alts in alternates.values() for a in alts}
    return [c for c in columns if c.index not in dropped], alternates


def item_year(label: str | None, sheet) -> int | None:
    """The year an item's label names (``item_years.label_year``: its head's digits, 上年 the fiscal year's last, 本年 /
    当年 the fiscal year's); a final-accounts table's item naming none is its fiscal year's (the table states that
    year's execution). None when the label cannot say (a budget table's 年末余额)."""
    year = label_year(label, sheet.fiscal_year)
    if year is None and sheet.fiscal_year and sheet.phase == "final":
        return sheet.fiscal_year
    return year


def choose(grid: Grid, sheet, r: int, column, others, label: str | None):
    """(the column whose cell row ``r`` reads, rejects): see the module's docstring."""
    group = [column, *others]
    # an executed/budget pair: a 0 is a figure the item's year decides on; other columns of one key: 0 as empty
    stated = figure_stated if _is_pair(group) else amount_filled
    filled = [c for c in group if stated(grid.value(r, c.index))]
    if len(filled) <= 1:
        return (filled[0] if filled else column), []
    amounts = {parse_amount(grid.value(r, c.index)) for c in filled}
    if len(amounts) == 1:
        return filled[0], []
    year = item_year(label, sheet)
    budget_year = sheet.fiscal_year + (1 if sheet.phase == "final" else 0) if sheet.fiscal_year else None
    want = None
    if year is not None and budget_year is not None and _is_pair(filled):
        want = "executed" if year < budget_year else "budget" if year == budget_year else None
    chosen = next((c for c in filled if want and figure_kind(c.header) == want), None)
    # headers naming their years (2019年执行数 | 2020年预算数): the column of the item's own year, whatever the table's
    # year is known to be (a title without one)
    of_year = [c for c in filled if year is not None and label_year(c.header.split("/")[-1], None) == year]
    if chosen is None and len(of_year) == 1:
        chosen = of_year[0]
    if chosen is not None:
        return chosen, []
    cells = "、".join(f"{c.letter}{grid.source_row(r)}「{c.header}」{cell_text(grid.value(r, c.index))}" for c in filled)
    why = (f"项目「{label}」未写年份" if year is None else f"项目年份{year}与表的预算年度{budget_year}不能确定"
           if _is_pair(filled) else "两列不是执行数与预算数")
    rejects = [RowReject(
        sheet.sheet, grid.source_row(r), c.letter, cell_text(grid.value(r, c.index)),
        f"{grid.where(r)} {c.letter}列「{c.header}」: 同一项目两列数字不同（{cells}），{why}，无法确定本表所列数字，"
        f"均未读入 (two different figures for one item in columns of one key, {cells}: which one the table states "
        f"cannot be told from the item's label, so neither was read)",
        source_page=grid.page(r),
    ) for c in filled]
    return column, rejects
