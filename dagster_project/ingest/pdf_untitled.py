"""A PDF's ruled table holding figures under no title at all: the segmenter cannot tell which table it is, and a
table of figures is never dropped in silence (a cover or a narrative box, holding no figures, is running text). Calc
printing a sheet wider than the paper draws a title centred over the whole width on a page to the right only; were
those pages not joined, page 1 (items and 本地区) would be such a table. It is refused: one reject naming its page and
first line, its rows counted as rejected.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from dagster_project.ingest.grid import Grid
from dagster_project.ingest.parsed import ParsedSheet, RowReject

_FIGURE = re.compile(r"^\s*[-+]?[\d,]+(?:\.\d+)?\s*$")
# a year or a page number alone in a cover's box is one figure: a table of figures holds more
MIN_FIGURES = 2


@dataclass
class UntitledTable(Grid):
    """The rows of a ruled table under no title (``origins``: page and line of each)."""


def holds_figures(rows: list[list]) -> bool:
    return sum(bool(_FIGURE.match(str(c or ""))) for cells in rows for c in cells) >= MIN_FIGURES


def untitled_sheet(grid: UntitledTable, index: int) -> ParsedSheet:
    """The sheet of an untitled table: an error with one reject naming its page and first line, its rows rejected."""
    page, row = (grid.origins or [(None, None)])[0]
    reason = (f"第{page}页第{row}行起的表格没有表名，看不出是哪张表，其中的数字未读入 (a ruled table holding figures "
              f"from page {page}, line {row}, has no title: which table it is cannot be told, its figures were not read)")
    sheet = ParsedSheet(sheet=grid.name, sheet_index=index, status="error", reason=reason)
    sheet.rejects = [RowReject(grid.name, row, None, None, reason, source_page=page)]
    sheet.rows_in = sheet.rows_rejected = len(grid.rows)
    return sheet


def image_page_sheets(pages: tuple[int, ...], first_index: int) -> list[ParsedSheet]:
    """Pages of a text PDF drawn as images only (scanned tables bound in with the typed narrative): each run of them
    an error naming its pages, counted as one row rejected a page. Before, they vanished: the tables they show were
    "missing", never "published unreadable" (a PDF scanned throughout is refused whole by the reader)."""
    runs: list[list[int]] = []
    for page in sorted(pages):
        if runs and page == runs[-1][-1] + 1:
            runs[-1].append(page)
        else:
            runs.append([page])
    sheets = []
    for k, run in enumerate(runs):
        span = f"{run[0]}-{run[-1]}" if len(run) > 1 else f"{run[0]}"
        name = f"第{span}页（图片）"
        reason = (f"第{span}页是图片（扫描页），没有文字层，其中的表格和文字未读入；请提交文字版PDF (pages {span} are images "
                  f"(scanned) with no text layer: their tables and text were not read; submit a text PDF)")
        sheet = ParsedSheet(sheet=name, sheet_index=first_index + k, status="error", reason=reason)
        sheet.rejects = [RowReject(name, 1, None, None, reason, source_page=page) for page in run]
        sheet.rows_in = sheet.rows_rejected = len(run)
        sheets.append(sheet)
    return sheets


__all__ = ["UntitledTable", "holds_figures", "image_page_sheets", "untitled_sheet"]
