"""The neutral form every budget/debt reader produces: a grid of cells with its provenance.

A reader (``readers.py``: xlsx/xlsm, xls, pdf) knows one file format and nothing about budgets; the
recogniser (``recogniser.py``) knows budget tables and nothing about file formats. Between them sits
``Grid``: rows of cell values, merged spans, and for every row where a person finds it in the source —
a sheet and its row number, or a PDF page and the row of the table on that page.
"""
from __future__ import annotations

import datetime as dt
import unicodedata
from dataclasses import dataclass, field

# CJK Radicals Supplement code points that PDF text extraction returns for ordinary characters (fonts
# map a glyph to its radical's code point). NFKC folds the Kangxi radicals (U+2F00–U+2FDF) but not these.
_RADICALS_SUPPLEMENT = {
    "\u2e85": "亻", "\u2e89": "刂", "\u2e8c": "小", "\u2e96": "忄", "\u2e98": "扌", "\u2e9c": "日",
    "\u2e9d": "月", "\u2e9f": "母", "\u2ea0": "民", "\u2ea1": "氵", "\u2ea3": "灬", "\u2ea6": "丬",
    "\u2ea9": "王", "\u2ead": "礻", "\u2eae": "竹", "\u2eaf": "糹", "\u2eb0": "纟", "\u2eb3": "罓",
    "\u2ebc": "月", "\u2ebe": "艹", "\u2ebf": "艹", "\u2ec0": "艹", "\u2ec1": "虎", "\u2ec2": "衤",
    "\u2ec3": "覀", "\u2ec4": "西", "\u2ec5": "见", "\u2ec6": "角", "\u2ec7": "角", "\u2ec8": "讠",
    "\u2ec9": "贝", "\u2eca": "足", "\u2ecb": "车", "\u2ecc": "辶", "\u2ecd": "辶", "\u2ed0": "钅",
    "\u2ed1": "長", "\u2ed3": "长", "\u2ed4": "门", "\u2ed6": "阝", "\u2ed7": "雨", "\u2ed8": "青",
    "\u2ed9": "韦", "\u2eda": "页", "\u2edb": "风", "\u2edc": "飞", "\u2edd": "食", "\u2ee0": "饣",
    "\u2ee2": "马", "\u2ee3": "骨", "\u2ee4": "鬼", "\u2ee5": "鱼", "\u2ee6": "鸟", "\u2ee7": "卤",
    "\u2ee8": "麦", "\u2ee9": "黄", "\u2eea": "黾", "\u2eec": "齐", "\u2eee": "齿", "\u2ef0": "龙",
    "\u2ef3": "龟",
}
# Kangxi radicals whose NFKC form is the traditional character while a Simplified-Chinese font draws (and a reader sees)
# the simplified one: Chromium printing with Noto CJK SC writes 户 as U+2F3E ⼾, which NFKC folds to 戶 (账戶, 财政专戶)
_KANGXI_SIMPLIFIED = {"\u2f3e": "户"}
_RADICALS_TABLE = str.maketrans(_RADICALS_SUPPLEMENT | _KANGXI_SIMPLIFIED)


def unify_ideographs(text: str) -> str:
    """Radical code points → the ideographs a reader sees (部⻔⽀出 → 部门支出). Kangxi radicals by NFKC
    on those characters only (NFKC on the whole text would also fold full-width punctuation)."""
    if not text:
        return text
    text = text.translate(_RADICALS_TABLE)
    if any("\u2f00" <= ch <= "\u2fdf" for ch in text):
        text = "".join(unicodedata.normalize("NFKC", ch) if "\u2f00" <= ch <= "\u2fdf" else ch for ch in text)
    return text


def cell_text(value: object) -> str:
    """A cell as text, the way a person reads it."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat(sep=" ")
    if isinstance(value, (dt.date, dt.time)):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


class UncachedFormula(str):
    """A formula cell saved without its computed value (``=SUM(B6:B9)``): files written by scripts rather
    than by Excel or WPS carry no result, and a reader sees an empty cell. Put back as the formula text,
    an amount there is a row error naming the formula instead of a silent zero."""


@dataclass
class Grid:
    """One sheet, or one table of a PDF (its rows may come from several pages).

    ``rows`` hold cell values (str, int, float, Decimal, date, None); ``merges`` are 0-based inclusive
    (r0, c0, r1, c1) spans whose value sits in the top-left cell; ``origins`` give, per row of a PDF table,
    its page and its line on that page; ``indents`` the alignment indent of
    cells that carry one (xlsx); ``hidden`` a sheet hidden in its workbook; ``formats`` the number format code of
    numeric cells whose format is not General (xlsx ``numFmt``, xls ``FORMAT``, SpreadsheetML ``ss:NumberFormat``;
    PDF and HTML cells have none: their text is what was printed) — ``number_formats.py`` renders a value through it."""

    name: str
    rows: list[tuple]
    merges: list[tuple[int, int, int, int]] = field(default_factory=list)
    origins: list[tuple[int | None, int]] | None = None
    indents: dict[tuple[int, int], int] = field(default_factory=dict)
    source_format: str = "xlsx"
    # a sheet the workbook keeps hidden (Excel/WPS/Calc "hide sheet"): a person opening the file never sees it
    hidden: bool = False
    formats: dict[tuple[int, int], str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.width = max((len(r) for r in self.rows), default=0)
        self._texts: dict[int, list[tuple[int, str]]] = {}

    # --- provenance -------------------------------------------------------------------------------
    def source_row(self, r: int) -> int:
        """The row a person counts: a sheet's row; a PDF table's row counted from its title line over all its
        pages (unique within the table, so row-wise checks never mix two pages)."""
        return r + 1

    def page(self, r: int) -> int | None:
        return self.origins[r][0] if self.origins else None

    def line_on_page(self, r: int) -> int | None:
        return self.origins[r][1] if self.origins else None

    def where(self, r: int) -> str:
        """Where a person finds row r: '工作表「表3」第12行' or '第11页第8行（表6第25行）'."""
        page = self.page(r)
        if page is not None:
            return f"第{page}页第{self.line_on_page(r)}行（{self.name.split('（')[0]}第{self.source_row(r)}行）"
        return f"工作表「{self.name}」第{self.source_row(r)}行"

    @property
    def is_pdf(self) -> bool:
        return self.source_format == "pdf"

    # --- cells ------------------------------------------------------------------------------------
    def value(self, r: int, c: int):
        row = self.rows[r]
        return row[c] if c < len(row) else None

    def indent(self, r: int, c: int) -> int:
        return self.indents.get((r, c), 0)

    def texts(self, r: int) -> list[tuple[int, str]]:
        cached = self._texts.get(r)
        if cached is None:
            cached = [(c, t) for c, t in ((c, cell_text(v).strip()) for c, v in enumerate(self.rows[r])) if t]
            self._texts[r] = cached
        return cached

    def is_blank(self, r: int) -> bool:
        return not self.texts(r)

    def merged_value_map(self, row_lo: int, row_hi: int, cols: set[int] | None = None) -> dict:
        """(r, c) → top-left value for merged cells inside rows [row_lo, row_hi]."""
        out = {}
        for r0, c0, r1, c1 in self.merges:
            if r1 < row_lo or r0 > row_hi:
                continue
            top_left = self.value(r0, c0) if r0 < len(self.rows) else None
            for r in range(max(r0, row_lo), min(r1, row_hi) + 1):
                for c in range(c0, c1 + 1):
                    if cols is None or c in cols:
                        out[(r, c)] = top_left
        return out


@dataclass
class TextBlock:
    """A line of running text outside tables (PDF narrative, a 说明 sheet's cell), with its place."""
    text: str
    page: int | None
    sheet: str | None
    row: int


__all__ = ["Grid", "TextBlock", "UncachedFormula", "cell_text", "unify_ideographs"]
