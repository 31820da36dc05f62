"""Pages a spreadsheet printed to the right of others (Calc and Excel print a sheet wider than the paper down, then
across): the cues the segmenter's ``join_column_pages`` reads beyond rows level with rows — a page whose table is one
ruled column (each column wider than half the paper), a page whose rows start under header lines after a page of next
rows, and a header line over a page's columns, merged over the page's edges, set under the columns it covers.
"""
from __future__ import annotations

from dataclasses import replace

from dagster_project.ingest.pdf_reader import PageItem

# a page continuing another's rows to the right: its rows stand at the same heights (points)
ROW_TOP_TOLERANCE = 1.0
# a text line's top stands a cell's padding below the rule of the ruled row beside it (Calc: 1.3 pt): a header cell
# merged over a page's edge is a ruled row on one page and a line of text on the other
TEXT_TO_RULE_TOLERANCE = 2.5


def starts_lower(page: list[PageItem], before: list[PageItem]) -> bool:
    """Whether the page's ruled rows start lower than those of the page before, which start at the page's top: the
    page before held a table's next rows (no header printed again), so this page's rows, under header lines, are no
    next rows of it — the print went across. Columns all of one width draw the same rules on every page (a 支出总表
    in landscape, columns 40 wide: 类 | 款 on pages 1-2, 项 | 名称 on 3-4): page 3 was taken for page 2's next rows."""
    first = [min((it.top for it in its if it.kind == "table"), default=None) for its in (page, before)]
    top = min((it.top for it in before), default=None)
    return None not in first and top is not None and first[1] <= top + ROW_TOP_TOLERANCE \
        and first[0] > first[1] + ROW_TOP_TOLERANCE


def by_columns(line: PageItem, page: list[PageItem]) -> tuple[list[str], bool] | None:
    """A text line's cells set under the column each begins in, by the column rules of the page's ruled rows right
    under it, and whether a cell began left of the paper (None: no such rows, or two cells in one column). Calc
    draws a header merged over a page's edge again on the next page at its place in the sheet, off the paper (本地区
    at x = -57 beside 其中：本级 over that page's third column), where no one sees it: it is no header of the page's
    first column (so set, 本地区's 一般债券 | 专项债券 were read as 本级's) but says the header on the page before goes
    on over the page's first columns."""
    if len(line.lefts) != len(line.cells):
        return None
    seen = [(left, text) for left, text in zip(line.lefts, line.cells) if left >= 0]
    continued = len(seen) < len(line.cells)
    below = min((it for it in page if it.kind == "table" and it.edges and it.top > line.top), key=lambda it: it.top,
                default=None)
    if below is None:
        # (a page of one ruled column, its lines boxed: the header goes on over that column)
        return ([""] if any(it.boxed for it in page) else [], continued) if continued and not seen else None
    edges = below.edges
    columns = [max([i for i, x in enumerate(edges[:-1]) if x <= left + TEXT_TO_RULE_TOLERANCE] or [0])
               for left, _ in seen]
    if any(b <= a for a, b in zip(columns, columns[1:])):
        return None
    out = [""] * (columns[-1] + 1 if columns else 0)
    for column, (_, text) in zip(columns, seen):
        out[column] = text
    if continued:
        # the header goes on no further than a cell merged down over its row from above (机关运行经费预算数 beside
        # 公务用车购置及运行费, its last column alone on the page): that column is marked taken
        rows = sorted((it for it in page if it.kind == "table" and it.table_id == below.table_id), key=lambda it: it.top)
        for i, r in enumerate(rows):
            for _, c0, dr1, _ in r.merges:
                end = rows[i + dr1 + 1].top if i + dr1 + 1 < len(rows) else float("inf")
                if r.top < line.top < end - ROW_TOP_TOLERANCE and c0 >= len(out):
                    out += [""] * (c0 - len(out)) + [None]
    return out, continued


def box_as_rows(items: list[PageItem]) -> list[PageItem] | None:
    """A page with no ruled table but one ruled box one column wide (each line in it ``boxed``) → the page with the
    box's ruled rows as table rows of one cell, a row's lines joined (blank where the box shows no line) — or None.
    Calc prints a sheet whose columns are each wider than half the paper one column a page: 合计 alone on page 1,
    因公出国(境)费 on page 2, …; with no table on page 1, the pages to the right had no rows to go on and the whole
    table was read as running text (no figure at all)."""
    boxed = [it for it in items if it.boxed]
    if not boxed or len({it.box_rows for it in boxed}) != 1:
        return None
    tops = boxed[0].box_rows
    texts: dict[float, list[str]] = {}
    for it in boxed:
        rule = max((t for t in tops if t <= it.top + ROW_TOP_TOLERANCE), default=tops[0])
        texts.setdefault(rule, []).append(it.text)
    rows = [PageItem(boxed[0].page, 0, "table", [" ".join(texts.get(t, []))], t, 0, is_table_start=i == 0)
            for i, t in enumerate(tops)]
    out = sorted([it for it in items if not it.boxed] + rows, key=lambda it: it.top)
    return [replace(it, row=row) for row, it in enumerate(out, start=1)]


__all__ = ["ROW_TOP_TOLERANCE", "TEXT_TO_RULE_TOLERANCE", "box_as_rows", "by_columns", "starts_lower"]
