"""Which standard item (row_key) each item row of a table is: the spec's ordered row patterns, read row by row with
their sections (``within``) and the parts of a section (``under``: a debt kind's own 其中 rows), and the cells a
*_total row's kind columns give its kinds (``kind_columns``). Split from recogniser.py, which reads the rows.
"""
from __future__ import annotations

import re

from dagster_project.ingest.cut_labels import completions
from dagster_project.ingest.item_years import with_digit_years
from dagster_project.ingest.parsed import ParsedSheet
from dagster_project.ingest.workbook_spec import TableSpec, normalise


class RowKeys:
    """Item rows → row_key, by ordered patterns with sections (see the YAML header); a label a print cut at its
    column's edge by the one item of the template it can begin (cut_labels.py)."""

    def __init__(self, vocab, patterns, wordings=(), fiscal_year=None):
        self.vocab = vocab
        self.patterns = patterns
        self.wordings = wordings
        self.fiscal_year = fiscal_year  # set: 上年 / 本年 read as the years they name (item_years.py)
        self.section: str | None = None
        self.section_listed = False  # whether an item of the section was listed under its heading (a 合计 closing it)
        self.part: str | None = None  # the section's last numbered item ((一)一般债务): its 其中 rows' (`under`)
        self.part_numbering: str | None = None  # its numbering's level ((一)): a row numbered alike or above closes it
        # a part opened by a plain row (一般债务, no numbering): its own are the 其中 rows under it and the rows that
        # continue their list (财政预算安排 after 其中：再融资); a plain row outside such a list is its sibling
        self.part_plain = False
        self.part_levels: list[str] = []  # the numbering levels seen when a plain part opened: a row of one closes it
        self.part_inner: set[str] = set()  # the numbering levels of the plain part's own list so far
        self.inner_levels: set[str] = set()  # the levels first used inside a plain part: a kind's own list's
        self.part_indent = 0  # the plain part's indentation: a 其中 indented below it is its own
        self.plain_count = 0  # the plain kinds of the section so far
        self.owned = False  # whether a plain kind of the section had its own 其中 row
        self.listing: str | None = None  # the item of the 其中 row that opened the list the rows below continue
        self.listed: set[str] = set()  # the items of that list so far: a list names an item once
        self.parts = {key for p in patterns for key in p.under}  # the items that have their own (其中 …) items
        self.kind_cells: list[tuple] = []  # (line, its row's *_total item, its column): a *_total row's kind cell
        self.levels: list[str] = []  # the numbering levels in the order they first appear (一、 then (一) then 1.)
        self.where = ""
        self.cut: list[str] = []  # notes: cut labels read as their one item, or left without one
        self.roll = None  # the roll-forward's year (roll_forward_year.py): its balances' items

    @classmethod
    def best_for(cls, vocab, spec: TableSpec, labels: list[str], fiscal_year=None) -> "RowKeys":
        """The pattern set (year shift) that names the most distinct items on this sheet."""
        best, best_count = cls(vocab, spec.row_patterns, spec.item_wordings, fiscal_year), -1
        for patterns in (spec.row_patterns, *spec.alternative_row_patterns):
            trial = cls(vocab, patterns, spec.item_wordings, fiscal_year)
            count = len({trial(label) for label in labels} - {None})
            if count > best_count:
                best, best_count = cls(vocab, patterns, spec.item_wordings, fiscal_year), count
        return best

    def _first(self, norm: str) -> bool:
        """Whether a numbered label is the first of its list ((一), 1., 一、)."""
        numeral = re.search(r"\d+|[一二三四五六七八九十]+", self.vocab.label_numbering.match(norm).group(0))
        return numeral is not None and numeral.group(0) in ("1", "一")

    def total(self, section_totals: bool = False) -> str | None:
        """A total row (合计): the part and the list above it end. With ``section_totals`` (1-4), it is the total of
        the section it closes (二、还本额 / 一般 / 专项 / 合计: principal_total; debt_parts.py settles it beside the
        heading's); before, it had no item."""
        self.part, self.listing = None, None
        if section_totals and self.section is not None and self.section_listed:
            return self.section
        # (a 合计 straight under a heading lists nothing it closes: a grand 合计 after 五、付息预算数 adding up the five
        # sections, no section's total — taken for 五、's stated again, it was a false DEBT_PARTS)
        return None

    def _match(self, norm: str, top: bool):
        norm = with_digit_years(norm, self.fiscal_year)
        for pattern in self.patterns:
            if pattern.within and (top or self.section not in pattern.within):
                continue
            if pattern.under and self.part not in pattern.under:
                continue
            if pattern.regex.search(norm):
                return pattern
        return None

    def peek(self, label: str) -> str | None:
        """The key the row patterns give a label on their own, without opening or closing a section."""
        norm = normalise(label)
        pattern = self._match(norm, bool(self.vocab.top_numbering.match(norm))) if self.patterns else None
        return pattern.key if pattern is not None else None

    def __call__(self, label: str | None, indent: int = 0) -> str | None:
        if not self.patterns or not label:
            return None
        norm = normalise(label)
        top = bool(self.vocab.top_numbering.match(norm))
        numbering = self.vocab.numbering_level(norm)
        qizhong = self.vocab.label_numbering.sub("", norm).startswith("其中")
        if numbering is not None:
            self.levels += [numbering] if numbering not in self.levels else []
            if self.part and self.part_plain:
                # under a plain kind, a numbered row is the kind's when its level is one the kinds' list does not use
                # and the part's list of that level begins at (一) / 1.: (三)再融资债券 after 一般债券 / 专项债券 counts
                # on from the two kinds, the whole's; (一)再融资 under the next plain kind is that kind's
                if numbering in self.part_levels or numbering not in self.part_inner and not self._first(norm):
                    self.part = None
                else:
                    self.part_inner.add(numbering)
                    self.inner_levels.add(numbering)
            elif self.part and self.levels.index(numbering) <= self.levels.index(self.part_numbering):
                self.part = None  # (三)再融资 beside (一)一般 / (二)专项, (二)再融资 over 1.一般 / 2.专项: no kind's own
            self.listing = None
        elif self.part and self.part_plain and not qizhong and self.listing is None:
            self.part = None  # 再融资债券 after a plain 专项债券 (no 其中): its sibling, no item of it
        elif self.part and self.part_plain and qizhong and self.listing is None and not (
                indent > self.part_indent or indent == self.part_indent and (self.owned or self.plain_count == 1)):
            # the first 其中 under a plain kind is the kind's when indented below it, or, level with it, when it follows
            # the first kind or a kind before had its own; 一般债券 / 专项债券 / 其中：再融资债券 all level (the sample's,
            # the Ministry's print) is the whole's 其中, as before
            self.part = None
        pattern = self._match(norm, top)
        if pattern is not None and pattern.under and not qizhong and self.listing is not None and \
                pattern.key in self.listed:
            # 再融资债券 after 专项债券 / 其中：再融资债券: the list has that item — the row is the kinds' sibling, the
            # whole's (before, the 专项's 再融资 again: one item twice in a column)
            self.part, self.listing = None, None
            pattern = self._match(norm, top)
        if pattern is None and self.wordings:
            bare = self.vocab.label_numbering.sub("", norm).removeprefix("其中:")
            found = {p.key: p for rest in completions(bare, self.wordings) if (p := self._match(norm + rest, top))}
            if len(found) == 1:
                pattern = next(iter(found.values()))
                self.cut.append(f"{self.where}「{label.strip()}」→{pattern.key}")
            elif found:
                self.cut.append(f"{self.where}「{label.strip()}」→? ({'/'.join(sorted(found))})")
        if pattern is None:
            return None
        if not pattern.within:
            self.section, self.part, self.listing = pattern.key, None, None
            self.owned, self.plain_count, self.section_listed = False, 0, False
        elif not pattern.under and numbering is not None:
            # (一)一般债务: its 其中 rows (and rows numbered deeper, 1.再融资) below are the kind's; 其中：一般债券 opens none
            self.part, self.part_numbering, self.part_plain = pattern.key, numbering, False
        elif not pattern.under and not qizhong and pattern.key in self.parts and not (
                self.part is None and self.listing in self.parts):
            # 一般债务 written plain: its 其中 rows are its own as (一)一般债务's are — unless it continues a list of the
            # kinds opened by 其中 (其中：一般债券 / 专项债券: the whole's parts, the 其中：再融资 after them the whole's)
            # the levels of the kinds' list and above, not those of an earlier kind's own list ((一)再融资 under 一般债务)
            self.part_levels = [level for level in self.levels if level not in self.inner_levels]
            self.part, self.part_plain, self.part_inner, self.listing = pattern.key, True, set(), None
            self.part_indent, self.plain_count = indent, self.plain_count + 1
        elif pattern.under and qizhong:
            self.owned = True  # a kind had its own 其中: the next kind's 其中 level with it is its own too
        self.section_listed = self.section_listed or bool(pattern.within)
        if qizhong and self.listing is None:
            self.listing, self.listed = pattern.key, set()
        if self.listing is not None:
            self.listed.add(pattern.key)
        if self.roll is not None and not self.roll.keeps(pattern.key, f"{self.where}「{label.strip()}」", norm,
                                                         bool(pattern.within)):
            return None  # a balance of a table naming two roll-forward years, an issuance of a year it does not roll
        return pattern.key


def kind_cells_once(sheet: ParsedSheet, kind_cells: list[tuple]) -> None:
    """A *_total row's 一般债券 / 专项债券 cell is its kind's item (kind_columns) — unless the table lists that kind as a
    row too ((一)一般债券 under 合计 | 一般债券 | 专项债券): then the kind row's 合计 cell is that item, and the total row's
    cell is the total's figure in that column (each cell read once, as its row × column name it; before, both cells
    were one item, twice)."""
    if not kind_cells:
        return
    moved = {id(line) for line, _, _ in kind_cells}
    named = {(ln.row_key, ln.column_key) for ln in sheet.lines if id(ln) not in moved}
    for line, total, column in kind_cells:
        if (line.row_key, line.column_key) in named:
            line.row_key, line.column_key = total, column
