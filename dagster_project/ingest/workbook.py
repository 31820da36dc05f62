"""One generic parser for budget and debt workbooks (one sheet = one published table).

The layout knowledge lives in data: ``specs/workbook_tables.yaml`` (header aliases → column_key,
code layout, two-sided summaries, item-row patterns → row_key), the disclosure catalogue (canonical
table names) and ``ref_amount_units.csv`` (unit → 元). This module only knows the *shape* of a
published table: title, publisher/unit line, 1–3 merged header rows, data rows, footnotes.

``parse_workbook(path)`` is pure (no database) so tests can call it; ``load_workbook_file`` is the
family loader the ingest framework calls for ``budget/`` and ``debt/``.
"""
from __future__ import annotations

import datetime as dt
import re
import unicodedata
import warnings
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from pathlib import Path

import duckdb
import pyarrow as pa
from openpyxl import load_workbook
from openpyxl.utils import get_column_letter

from dagster_project.ingest.framework import FileOutcome, FileRejected, RawFile, insert_rejects
from dagster_project.ingest.workbook_spec import (
    Alias,
    TableSpec,
    WorkbookVocabulary,
    normalise,
    vocabulary,
)

CENT = Decimal("0.01")
MAX_HEADER_ROWS = 3
HEADER_SEARCH_ROWS = 15
_BLANK_AMOUNTS = {"", "-", "--", "—", "——", "–", "−", "－"}
_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)")
_BRACKETED = re.compile(r"\((.+)\)")
_YEAR = re.compile(r"([0-9０-９]{4}|[〇○零一二三四五六七八九]{4})\s*年")
_CN_DIGITS = str.maketrans("〇○零一二三四五六七八九", "00012345678" + "9")
_LEADING_CODE = re.compile(r"^(\d{3,})(?![\d年])\s*(.*)$", re.S)
_LABEL_CODE = re.compile(r"^(\d{3}|\d{5}|\d{7})(?![\d年月日.%])\s*(.*)$", re.S)
_CODE_LIKE = re.compile(r"^\d{3}(?:\d{2}){0,2}$")
WORKBOOK_FAMILIES = ("budget", "debt")


# ---------------------------------------------------------------------------------------------------
# Parsed shapes
@dataclass
class ParsedLine:
    source_row: int
    side: str | None
    line_code: str | None
    line_label: str | None
    indent_level: int
    is_total: bool
    row_key: str | None
    column_key: str
    source_column: str
    value_text: str | None
    amount_yuan: Decimal | None


@dataclass
class RowReject:
    sheet: str
    source_row: int | None
    source_column: str | None
    raw_value: str | None
    reason: str


@dataclass
class ParsedSheet:
    sheet: str
    sheet_index: int
    status: str = "parsed"  # parsed | unknown_table | error
    reason: str | None = None
    title: str | None = None
    table_name: str | None = None
    table_keys: tuple[str, ...] = ()
    kind: str | None = None
    entity_name: str | None = None
    publisher_line: str | None = None
    fiscal_year: int | None = None
    phase: str | None = None
    unit_label: str | None = None
    unit_multiplier: Decimal = Decimal(1)
    code_layout: str | None = None
    header_row_count: int | None = None
    note_text: str | None = None
    is_empty: bool | None = None
    has_empty_note: bool | None = None
    column_map: dict[str, str] = field(default_factory=dict)  # column letter → column_key / role
    lines: list[ParsedLine] = field(default_factory=list)
    rejects: list[RowReject] = field(default_factory=list)
    rows_in: int = 0
    rows_loaded: int = 0
    rows_rejected: int = 0
    warnings: list[str] = field(default_factory=list)

    @property
    def data_row_count(self) -> int:
        return self.rows_loaded


@dataclass
class ParsedWorkbook:
    path: Path
    sheets: list[ParsedSheet]

    @property
    def rows_in(self) -> int:
        return sum(s.rows_in for s in self.sheets)

    @property
    def rows_loaded(self) -> int:
        return sum(s.rows_loaded for s in self.sheets)

    @property
    def rows_rejected(self) -> int:
        return sum(s.rows_rejected for s in self.sheets)

    @property
    def lines(self) -> list[ParsedLine]:
        return [line for s in self.sheets for line in s.lines]

    @property
    def rejects(self) -> list[RowReject]:
        return [r for s in self.sheets for r in s.rejects]


class SheetError(Exception):
    """A sheet that names a known table but cannot be read; the other sheets go on."""


# ---------------------------------------------------------------------------------------------------
# Cell helpers
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


def nfkc(text: str) -> str:
    return unicodedata.normalize("NFKC", text)


def parse_amount(value: object) -> tuple[bool, Decimal]:
    """(ok, amount in the sheet's unit). Blank and dashes are 0; other text is not a number."""
    if value is None:
        return True, Decimal(0)
    if isinstance(value, bool):
        return False, Decimal(0)
    if isinstance(value, int):
        return True, Decimal(value)
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            return False, Decimal(0)
        return True, Decimal(repr(value))  # the shortest repr is what the sheet showed; no float maths
    if isinstance(value, Decimal):
        return True, value
    if not isinstance(value, str):
        return False, Decimal(0)  # dates, times: not an amount
    text = re.sub(r"\s+", "", nfkc(value)).replace(",", "").replace("\u2212", "-")
    if text in _BLANK_AMOUNTS:
        return True, Decimal(0)
    # accounting notation: (1,234.50) / （1,234.50） is -1234.50 (NFKC made the brackets ASCII)
    negative = _BRACKETED.fullmatch(text)
    if negative and _NUMBER.fullmatch(negative.group(1)) and negative.group(1)[0] not in "+-":
        return True, -Decimal(negative.group(1))
    if _NUMBER.fullmatch(text):
        try:
            return True, Decimal(text)
        except InvalidOperation:  # pragma: no cover - the regex already guards this
            return False, Decimal(0)
    return False, Decimal(0)


def indent_of(raw_label: str, alignment_indent: float | int | None = None) -> int:
    """Depth shown by leading spaces: one full-width space or two half-width spaces per level."""
    full = half = 0
    for ch in raw_label:
        if ch == "\u3000":
            full += 1
        elif ch in " \xa0\t":
            half += 1
        else:
            break
    return max(full + (half + 1) // 2, int(alignment_indent or 0))


def _code_part(value: object) -> str | None:
    """A code cell as digits (numbers come back as 201.0 or 1); None when it is not a code."""
    if value is None:
        return None
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return str(int(value)) if float(value).is_integer() and value >= 0 else None
    text = nfkc(str(value)).strip()
    return text if text.isdigit() else None


# ---------------------------------------------------------------------------------------------------
# Header matching
def score_alias(alias: Alias, path: list[str]) -> tuple[int, int, int, int] | None:
    """How specifically ``alias`` names the column with header ``path`` (None: it does not)."""
    max_depth = -1
    exact = 0
    for part in alias.parts:
        found = None
        for depth in range(len(path) - 1, -1, -1):
            cell = path[depth]
            if cell == part:
                found = (depth, 1)
                break
            if not alias.exact_only and part in cell and found is None:
                found = (depth, 0)
        if found is None:
            return None
        max_depth = max(max_depth, found[0])
        exact += found[1]
    return (len(alias.parts), max_depth, exact, sum(len(p) for p in alias.parts))


_ALIAS_CACHE: dict[tuple[int, tuple[str, ...]], tuple[tuple, Alias] | None] = {}


def best_alias(spec: TableSpec, path: list[str]) -> tuple[tuple, Alias] | None:
    """The most specific alias of ``spec`` for a header path (cached: headers repeat across files)."""
    key = (id(spec), tuple(path))
    if key not in _ALIAS_CACHE:
        if len(_ALIAS_CACHE) > 200_000:
            _ALIAS_CACHE.clear()
        _ALIAS_CACHE[key] = _best_alias(spec, path)
    return _ALIAS_CACHE[key]


def _best_alias(spec: TableSpec, path: list[str]) -> tuple[tuple, Alias] | None:
    best = None
    for alias in spec.aliases:
        s = score_alias(alias, path)
        if s is not None and (best is None or s > best[0]):
            best = (s, alias)
    return best


@dataclass
class Column:
    index: int  # 0-based
    letter: str
    header: str  # header path as printed, joined with '/'
    role: str    # measure | text | code | label | lei | kuan | xiang
    key: str
    score: tuple


# ---------------------------------------------------------------------------------------------------
# Sheet parsing
class _Grid:
    def __init__(self, ws):
        # Styled but empty cells can stretch a sheet to a million rows: read only up to the last value.
        try:
            filled = [key for key, cell in ws._cells.items() if cell.value is not None]
            last_row = max((r for r, _ in filled), default=0)
            last_col = max((c for _, c in filled), default=0)
        except AttributeError:  # pragma: no cover - other openpyxl worksheet kinds
            last_row, last_col = ws.max_row, ws.max_column
        self.rows: list[tuple] = (
            [tuple(r) for r in ws.iter_rows(min_row=1, max_row=last_row, max_col=last_col, values_only=True)]
            if last_row else []
        )
        self.ws = ws
        self.merges = [
            (m.min_row - 1, m.min_col - 1, m.max_row - 1, m.max_col - 1) for m in ws.merged_cells.ranges
        ]
        self.width = max((len(r) for r in self.rows), default=0)
        self._texts: dict[int, list[tuple[int, str]]] = {}

    def value(self, r: int, c: int):
        row = self.rows[r]
        return row[c] if c < len(row) else None

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


def _strip_unit_publisher(vocab: WorkbookVocabulary, text: str) -> bool:
    """A cell that *is* a unit or publisher line ('单位：万元', '部门：…'), not one that mentions a unit
    at its end (a title such as '…部门收支总表（单位：万元）' is still a title)."""
    n = nfkc(text).strip()
    unit = vocab.unit_regex.search(n)
    return bool((unit and unit.start() <= 2) or vocab.publisher_regex.match(n))


def _find_title(vocab: WorkbookVocabulary, grid: _Grid, sheet_name: str):
    """(title text, title row index or None, catalogue table or None)."""
    nonblank = [r for r in range(len(grid.rows)) if not grid.is_blank(r)]
    candidates = []
    for r in nonblank[:6]:
        cells = grid.texts(r)
        if len(cells) >= 3:  # a header row: the title is above it
            break
        text = "".join(t for _, t in cells if not _strip_unit_publisher(vocab, t))
        if text and not vocab.title_prefix.fullmatch(nfkc(text.strip())):  # '附表1-1' alone is no title
            candidates.append((r, text))
    candidates = candidates[:2]  # the title is at the top; a list of table names further down is a contents page
    for i, (r, text) in enumerate(candidates):
        table = vocab.table_for_title(text)
        if table:
            if i > 0 and _YEAR.match(vocab.title_prefix.sub("", nfkc(text.strip()))):
                # entity on the row above, '2019年部门收入总表' below: the title spans both rows
                return (candidates[i - 1][1].strip() + text.strip()), r, table
            return text.strip(), r, table
        if i > 0:
            joined = candidates[i - 1][1] + text
            table = vocab.table_for_title(joined)
            if table:
                return joined.strip(), r, table
    title = candidates[0][1].strip() if candidates else None
    title_row = candidates[0][0] if candidates else None
    table = vocab.table_for_title(vocab.title_prefix.sub("", nfkc(sheet_name)))
    if table is None and title_row is not None and len(grid.texts(title_row)) > 1:
        title, title_row = None, None
    return title, title_row, table


def _year_of(match: re.Match | None) -> int | None:
    return int(nfkc(match.group(1)).translate(_CN_DIGITS)) if match else None


def _entity_and_year(vocab: WorkbookVocabulary, title: str | None, table_name: str | None):
    if not title:
        return None, None
    m = _YEAR.search(title)
    year = _year_of(m)
    if m:
        before = title[: m.start()]
    elif table_name and table_name in title:
        before = title[: title.index(table_name)]
    else:
        return None, year
    prefix = vocab.title_prefix.match(nfkc(before))
    entity = before[prefix.end():] if prefix else before
    entity = entity.strip(" \u3000\t:：-—")
    return entity or None, year


def _header_candidate(vocab, spec: TableSpec, grid: _Grid, r: int) -> bool:
    roles = measures = 0
    for _, text in grid.texts(r):
        if _strip_unit_publisher(vocab, text):
            continue
        best = best_alias(spec, [normalise(text)])
        if best is None:
            continue
        if best[1].role in ("label", "code", "lei", "kuan", "xiang"):
            roles += 1
        else:
            measures += 1
    return (roles >= 1 and roles + measures >= 2) or measures >= 2


def _looks_numeric(value) -> bool:
    if isinstance(value, (int, float, Decimal)) and not isinstance(value, bool):
        return True
    text = nfkc(cell_text(value)).strip().replace(",", "")
    return bool(_NUMBER.fullmatch(text) or _CODE_LIKE.match(text))


def _find_header(vocab, spec: TableSpec, grid: _Grid, start: int) -> list[int]:
    header_start = None
    for r in range(start, min(len(grid.rows), start + HEADER_SEARCH_ROWS)):
        if _header_candidate(vocab, spec, grid, r):
            header_start = r
            break
    if header_start is None:
        return []
    rows = [header_start]
    # a side / group row above the detected one (e.g. 收入 | 支出 over 项目 | 预算数)
    above = header_start - 1
    if above >= start and not grid.is_blank(above):
        cells = grid.texts(above)
        spans = any(
            r0 == above and (c1 > c0 or r1 > r0) for r0, c0, r1, c1 in grid.merges
        )
        if (
            spans
            and all(not _looks_numeric(grid.value(above, c)) for c, _ in cells)
            and not any(_strip_unit_publisher(vocab, t) for _, t in cells)
        ):
            rows.insert(0, above)
    r = header_start + 1
    while len(rows) < MAX_HEADER_ROWS and r < len(grid.rows):
        if grid.is_blank(r):
            # blank only because a merged header cell above reaches down into it (科目编码 over two rows,
            # then 类 | 款 | 项): still header
            if any(r0 <= rows[-1] and r1 >= r and r0 >= rows[0] for r0, c0, r1, c1 in grid.merges):
                rows.append(r)
                r += 1
                continue
            break
        cells = grid.texts(r)
        if any(_looks_numeric(grid.value(r, c)) for c, _ in cells):
            break
        prev = rows[-1]
        covered = any(r0 <= prev < r1 and r0 <= r <= r1 for r0, c0, r1, c1 in grid.merges)
        under_span = any(
            r0 <= prev <= r1 and r1 < r and c1 > c0 and any(c0 <= c <= c1 for c, _ in cells)
            for r0, c0, r1, c1 in grid.merges
        )
        all_aliases = len(cells) >= 2 and all(best_alias(spec, [normalise(t)]) for _, t in cells)
        first_is_total = bool(cells) and vocab.is_total_label(cells[0][1])
        if covered or under_span or (all_aliases and not first_is_total):
            rows.append(r)
            r += 1
            continue
        break
    return rows


def _column_paths(vocab, grid: _Grid, header_rows: list[int]) -> dict[int, tuple[list[str], str]]:
    merged = grid.merged_value_map(header_rows[0], header_rows[-1])
    paths: dict[int, tuple[list[str], str]] = {}
    for c in range(grid.width):
        norm_path: list[str] = []
        raw_path: list[str] = []
        for r in header_rows:
            value = merged.get((r, c), grid.value(r, c))
            text = cell_text(value).strip()
            if not text or _strip_unit_publisher(vocab, text):
                continue
            n = normalise(text)
            if norm_path and norm_path[-1] == n:
                continue
            norm_path.append(n)
            raw_path.append(re.sub(r"\s+", "", text))
        if norm_path:
            paths[c] = (norm_path, "/".join(raw_path))
    return paths


def _map_columns(vocab, spec: TableSpec, paths, sheet: ParsedSheet) -> list[Column]:
    columns: list[Column] = []
    unknown = []
    seen: set[str] = set()
    for c, (path, header) in sorted(paths.items()):
        if any(word in path[-1] for word in vocab.ignore_headers):
            continue
        best = best_alias(spec, path)
        if best is None:
            unknown.append(f"{get_column_letter(c + 1)}「{header}」")
            continue
        score, alias = best
        key = alias.key
        if alias.role == "measure":
            match_depth = score[1]
            for group in spec.group_prefixes:
                if all(any(p in cell for cell in path[:match_depth]) for p in group.parts):
                    key = group.prefix + key
                    break
        if key in seen and key in spec.repeat_keys:  # 合计|一般|专项 printed twice: the second group
            key = spec.repeat_keys[key]
        seen.add(key)
        columns.append(Column(c, get_column_letter(c + 1), header, alias.role, key, score))
    if unknown:
        sheet.warnings.append("未识别的列已忽略 (unrecognised columns ignored): " + "、".join(unknown))
    return columns


def _dedupe(columns: list[Column], sheet: ParsedSheet) -> list[Column]:
    """One column per key (within one side): the most specific header wins."""
    best: dict[str, Column] = {}
    for col in columns:
        have = best.get(col.key)
        if have is None or col.score > have.score:
            best[col.key] = col
    dropped = [c for c in columns if best[c.key] is not c]
    if dropped:
        sheet.warnings.append(
            "重复的列已忽略 (duplicate columns ignored): "
            + "、".join(f"{c.letter}「{c.header}」→{c.key}" for c in dropped)
        )
    return sorted(best.values(), key=lambda c: c.index)


@dataclass
class _Segment:
    side: str | None
    label: Column | None
    code: Column | None
    split: dict[str, Column]
    measures: list[Column]
    texts: list[Column]


def _segments(vocab, spec: TableSpec, columns: list[Column], paths, sheet: ParsedSheet) -> list[_Segment]:
    labels = [c for c in columns if c.role == "label"]
    if spec.two_sided and len(labels) >= 2:
        bounds = [c.index for c in labels] + [10**6]
        groups = []
        for i, label in enumerate(labels):
            lo = bounds[i] if i else -1
            hi = bounds[i + 1]
            groups.append((label, [c for c in columns if lo <= c.index < hi and c is not label]))
        segments = []
        sides_by_order = ["income", "expenditure"]
        for i, (label, members) in enumerate(groups):
            path = paths[label.index][0] + [p for m in members for p in paths[m.index][0][:1]]
            hits = {s for s, word in vocab.side_aliases.items() if any(word in cell for cell in path[:1] + paths[label.index][0])}
            side = hits.pop() if len(hits) == 1 else (sides_by_order[i] if i < 2 else None)
            segments.append(_segment_of(side, label, members, sheet))
        return segments
    label = labels[0] if labels else None
    return [_segment_of(None, label, [c for c in columns if c is not label], sheet)]


def _codes_under_a_shared_header(grid: _Grid, columns: list[Column], data_start: int) -> list[Column]:
    """'科目' merged over the code and the name column: the column holding codes is the code column."""
    labels = [c for c in columns if c.role == "label"]
    if len(labels) < 2 or any(c.role in ("code", "lei", "kuan", "xiang") for c in columns):
        return columns
    for col in labels:
        values = [grid.value(r, col.index) for r in range(data_start, min(len(grid.rows), data_start + 40))]
        filled = [v for v in values if cell_text(v).strip()]
        codes = [v for v in filled if _code_part(v) is not None]
        if filled and len(codes) * 2 >= len(filled):
            col.role = col.key = "code"
            break
    return columns


def _segment_of(side, label, members: list[Column], sheet) -> _Segment:
    members = _dedupe([m for m in members if m.role in ("measure", "text")], sheet) + [
        m for m in members if m.role not in ("measure", "text")
    ]
    code = next((m for m in members if m.role == "code"), None)
    split = {}
    for m in members:
        if m.role in ("lei", "kuan", "xiang") and m.role not in split:
            split[m.role] = m
    return _Segment(
        side=side,
        label=label,
        code=code,
        split=split,
        measures=[m for m in members if m.role == "measure"],
        texts=[m for m in members if m.role == "text"],
    )


def _pre_header_info(vocab, grid: _Grid, rows: range, sheet: ParsedSheet, header_rows=()) -> list[str]:
    """Publisher line and unit from the rows above the data; returns any empty-table notes there."""
    notes = []
    for r in rows:
        for _, text in grid.texts(r):
            if r in header_rows and not _strip_unit_publisher(vocab, text):
                continue
            n = nfkc(text)
            u = vocab.unit_regex.search(n)
            if u and sheet.unit_label is None:
                sheet.unit_label = u.group(1)
            p = vocab.publisher_regex.search(n)
            if p and sheet.publisher_line is None and not (u and u.start() <= p.start() < u.end()):
                end = u.start() if u and u.start() > p.start() else len(n)
                printed = text if len(text) == len(n) else n  # NFKC keeps CJK positions: slice as printed
                sheet.publisher_line = printed[p.start():end].strip() or None
            if r not in header_rows and vocab.empty_note_regex.search(normalise(text)):
                notes.append(text.strip())
    return notes


def _label_fallback(value) -> str | None:
    text = cell_text(value)
    return text if text.strip() else None


class _RowKeys:
    """Item rows → row_key, by ordered patterns with sections (see the YAML header)."""

    def __init__(self, vocab, patterns):
        self.vocab = vocab
        self.patterns = patterns
        self.section: str | None = None

    @classmethod
    def best_for(cls, vocab, spec: TableSpec, labels: list[str]) -> "_RowKeys":
        """The pattern set (year shift) that names the most distinct items on this sheet."""
        best, best_count = cls(vocab, spec.row_patterns), -1
        for patterns in (spec.row_patterns, *spec.alternative_row_patterns):
            trial = cls(vocab, patterns)
            count = len({trial(label) for label in labels} - {None})
            if count > best_count:
                best, best_count = cls(vocab, patterns), count
        return best

    def __call__(self, label: str | None) -> str | None:
        if not self.patterns or not label:
            return None
        norm = normalise(label)
        top = bool(self.vocab.top_numbering.match(norm))
        for pattern in self.patterns:
            if pattern.within and (top or self.section not in pattern.within):
                continue
            if pattern.regex.search(norm):
                if not pattern.within:
                    self.section = pattern.key
                return pattern.key
        return None


def _parse_known_sheet(vocab, ws, grid: _Grid, sheet: ParsedSheet, title_row: int | None) -> None:
    spec = vocab.spec_for(sheet.table_name, sheet.fiscal_year)
    sheet.kind = spec.kind
    first = 0 if title_row is None else title_row + 1
    header_rows = _find_header(vocab, spec, grid, first)
    # the unit and publisher may sit anywhere above the data, even at the right of a header row
    top_notes = _pre_header_info(
        vocab, grid, range(0, header_rows[-1] + 1 if header_rows else first), sheet, header_rows
    )
    if not header_rows:
        raise SheetError(
            "未找到表头行 (no header row found): 期望如「科目编码」「项目」「预算数」等列名 "
            "(expected headers such as 科目编码 / 项目 / 预算数)"
        )
    sheet.header_row_count = len(header_rows)
    paths = _column_paths(vocab, grid, header_rows)
    if sheet.unit_label is None:
        for path, header in paths.values():
            m = vocab.header_unit_regex.search(nfkc(header))
            if m:
                sheet.unit_label = m.group(1)
                break
    if sheet.unit_label is None:
        sheet.warnings.append("未注明金额单位，按元处理 (no unit stated; amounts taken as 元)")
    else:
        sheet.unit_multiplier = vocab.units.get(sheet.unit_label, vocab.units.get(sheet.unit_label.lower(), Decimal(1)))
    columns = _map_columns(vocab, spec, paths, sheet)
    if spec.codes and not spec.two_sided:
        columns = _codes_under_a_shared_header(grid, columns, header_rows[-1] + 1)
    sheet.column_map = {c.letter: c.key for c in columns}
    segments = _segments(vocab, spec, columns, paths, sheet)
    if not any(seg.measures or seg.texts for seg in segments):
        raise SheetError("未识别任何金额列 (no amount column recognised in the header)")
    if any(seg.split for seg in segments):
        sheet.code_layout = "split"
    elif any(seg.code for seg in segments) or spec.codes:
        sheet.code_layout = "single"
    else:
        sheet.code_layout = "none"

    mapped_cols = sorted(
        {c.index for seg in segments for c in ([seg.label, seg.code] + list(seg.split.values()) + seg.measures + seg.texts) if c}
    )
    text_cols = {c.index for seg in segments for c in seg.texts}
    data_start = header_rows[-1] + 1
    data_merges = grid.merged_value_map(data_start, len(grid.rows) - 1, text_cols) if text_cols else {}
    notes: list[str] = list(top_notes)
    in_notes = False
    row_keys = _RowKeys(vocab, spec.row_patterns)
    if spec.alternative_row_patterns:
        label_cols = [seg.label.index for seg in segments if seg.label]
        labels = [cell_text(grid.value(r, c)) for r in range(data_start, len(grid.rows)) for c in label_cols
                  if cell_text(grid.value(r, c)).strip()]
        row_keys = _RowKeys.best_for(vocab, spec, labels)
    split_state = {"lei": None, "kuan": None}
    multiplier = sheet.unit_multiplier

    for r in range(data_start, len(grid.rows)):
        cells = grid.texts(r)
        if not cells:
            continue
        joined = " ".join(t for _, t in cells)
        first_norm = normalise(cells[0][1])
        if in_notes or first_norm.startswith(vocab.note_prefixes):
            in_notes = True
            notes.append(joined)
            continue
        if vocab.footer_prefixes and first_norm.startswith(vocab.footer_prefixes):
            continue
        if first_norm in vocab.skip_row_labels:  # 栏次 | 1 | 2 …: column numbering, not data
            continue
        if not any(grid.value(r, c) is not None and cell_text(grid.value(r, c)).strip() for c in mapped_cols):
            continue
        if sheet.rows_in == 0 and _more_header(vocab, spec, grid, r, cells):
            continue  # a 4th header row (beyond MAX_HEADER_ROWS): header words, not amounts to reject
        measures_blank = all(
            nfkc(cell_text(grid.value(r, m.index))).strip() in _BLANK_AMOUNTS for seg in segments for m in seg.measures
        )
        if measures_blank and vocab.empty_note_regex.search(normalise(joined)) and not any(
            _looks_numeric(grid.value(r, c)) for c, _ in cells
        ):
            notes.append(joined)  # an empty-table note inside the table body; rows after it still count
            continue
        sheet.rows_in += 1
        row_lines: list[ParsedLine] = []
        row_rejects: list[RowReject] = []
        excel_row = r + 1
        for seg in segments:
            _parse_segment_row(vocab, ws, grid, sheet, spec, seg, r, excel_row, multiplier, row_keys,
                               split_state, data_merges, row_lines, row_rejects)
        if row_rejects:
            sheet.rows_rejected += 1
            sheet.rejects.extend(row_rejects)
        elif row_lines:
            sheet.rows_loaded += 1
            sheet.lines.extend(row_lines)
        else:  # nothing on either side of a two-sided row but ignored columns: still accounted
            sheet.rows_loaded += 1

    sheet.note_text = "\n".join(notes) or None
    sheet.has_empty_note = bool(sheet.note_text and vocab.empty_note_regex.search(normalise(sheet.note_text)))
    sheet.is_empty = not any(
        line.amount_yuan not in (None, Decimal(0)) for line in sheet.lines if not line.is_total
    )
    if sheet.warnings:
        sheet.reason = "; ".join(sheet.warnings)


def _more_header(vocab, spec: TableSpec, grid: _Grid, r: int, cells) -> bool:
    return (
        len(cells) >= 2
        and not vocab.is_total_label(cells[0][1])
        and not any(_looks_numeric(grid.value(r, c)) for c, _ in cells)
        and all(best_alias(spec, [normalise(t)]) for _, t in cells)
    )


def _parse_segment_row(vocab, ws, grid, sheet, spec, seg: _Segment, r, excel_row, multiplier, row_keys,
                       split_state, data_merges, row_lines, row_rejects) -> None:
    raw_label = _label_fallback(grid.value(r, seg.label.index)) if seg.label else None
    label_col = seg.label.index if seg.label else None
    if raw_label is None and spec.label_column:
        text_col = next((t for t in seg.texts if t.key == spec.label_column), None)
        if text_col is not None:
            raw_label = _label_fallback(data_merges.get((r, text_col.index), grid.value(r, text_col.index)))
            label_col = text_col.index
    code = None
    if seg.code is not None:
        value = grid.value(r, seg.code.index)
        part = _code_part(value)
        if part is not None:
            code = part
        elif value is not None and cell_text(value).strip():
            m = _LEADING_CODE.match(nfkc(cell_text(value)).strip())
            if m:
                code = m.group(1)
                if raw_label is None and m.group(2).strip():
                    raw_label = m.group(2)
            elif raw_label is None:
                raw_label = cell_text(value)
    elif seg.split:
        parts = {}
        for level in ("lei", "kuan", "xiang"):
            col = seg.split.get(level)
            value = grid.value(r, col.index) if col else None
            part = _code_part(value)
            if part is None and value is not None and cell_text(value).strip() and raw_label is None:
                raw_label = cell_text(value)  # e.g. 合计 merged across 类|款|项
            parts[level] = part
        code = _join_split(parts, split_state)
    if code is None and spec.codes and raw_label:
        m = _LABEL_CODE.match(nfkc(raw_label).strip())
        if m:
            code = m.group(1)
            raw_label = m.group(2) if m.group(2).strip() else None
    indent = 0
    if raw_label is not None:
        alignment = None
        if label_col is not None:
            try:
                alignment = ws.cell(row=excel_row, column=label_col + 1).alignment.indent
            except Exception:  # read-only or odd cells: spaces alone decide
                alignment = None
        indent = indent_of(raw_label, alignment)
    label = raw_label.strip(" \u3000\t\xa0\r\n") if raw_label else None
    is_total = bool(label) and vocab.is_total_label(label)
    amounts = []
    for m in seg.measures:
        value = grid.value(r, m.index)
        ok, amount = parse_amount(value)
        if not ok:
            raw = cell_text(value)
            found = (f"公式未保存计算结果「{raw}」，请在 Excel/WPS 中打开并保存后重新提交 (a formula saved "
                     f"without its computed value, '{raw}': open and save the file in Excel or WPS)"
                     if isinstance(value, UncachedFormula) else f"实际为「{raw}」 (expected a number, found '{raw}')")
            row_rejects.append(RowReject(
                sheet.sheet, excel_row, m.letter, raw,
                f"工作表「{sheet.sheet}」第{excel_row}行 {m.letter}列「{m.header}」: 期望金额数字, {found}",
            ))
            continue
        amounts.append((m, value, amount))
    texts = []
    for t in seg.texts:
        value = data_merges.get((r, t.index), grid.value(r, t.index))
        texts.append((t, value))
    if not label and code is None and all(v is None or not cell_text(v).strip() for _, v, _ in amounts) \
            and all(v is None or not cell_text(v).strip() for _, v in texts) and not row_rejects:
        return  # this side of the row is empty
    if row_rejects:
        return
    row_key = None if is_total else row_keys(label)
    common = dict(
        source_row=excel_row, side=seg.side, line_code=code, line_label=label, indent_level=indent,
        is_total=is_total, row_key=row_key,
    )
    for m, value, amount in amounts:
        row_lines.append(ParsedLine(
            **common, column_key=m.key, source_column=m.letter,
            value_text=cell_text(value) if value is not None else None,
            amount_yuan=(amount * multiplier).quantize(CENT, rounding=ROUND_HALF_UP),
        ))
    for t, value in texts:
        text = cell_text(value).strip()
        row_lines.append(ParsedLine(
            **common, column_key=t.key, source_column=t.letter,
            value_text=text or None, amount_yuan=None,
        ))


def _join_split(parts: dict[str, str | None], state: dict) -> str | None:
    """类|款|项 cells → one code; blank parent parts are inherited from the last parent row."""
    lei, kuan, xiang = parts["lei"], parts["kuan"], parts["xiang"]
    if lei is None and kuan is None and xiang is None:
        return None
    code = None
    if lei is not None:
        state["lei"], state["kuan"] = lei, None
        code = lei
        if len(lei) > 3:  # a full code written into the 类 column
            state["lei"] = lei[:3]
            state["kuan"] = lei[:5] if len(lei) >= 5 else None
    if kuan is not None:
        kuan_code = kuan if len(kuan) > 2 else (state["lei"] or "") + kuan.zfill(2)
        state["kuan"] = kuan_code
        code = kuan_code
    if xiang is not None:
        code = xiang if len(xiang) > 2 else (state["kuan"] or state["lei"] or "") + xiang.zfill(2)
    return code


def _count_rows(grid: _Grid, start: int) -> int:
    return sum(1 for r in range(max(start, 0), len(grid.rows)) if not grid.is_blank(r))


def parse_sheet(ws, sheet_index: int, vocab: WorkbookVocabulary | None = None) -> ParsedSheet:
    vocab = vocab or vocabulary()
    sheet = ParsedSheet(sheet=ws.title, sheet_index=sheet_index)
    grid = _Grid(ws)
    if all(grid.is_blank(r) for r in range(len(grid.rows))):
        sheet.status, sheet.reason = "unknown_table", "空白工作表 (blank sheet)"
        return sheet
    title, title_row, table = _find_title(vocab, grid, ws.title)
    sheet.title = title
    if table is None:
        sheet.status = "unknown_table"
        sheet.reason = (
            f"标题「{title or ''}」和工作表名「{ws.title}」都不含已知表名 "
            "(no known table name in the title or the sheet name)"
        )
        return sheet
    sheet.table_name, sheet.table_keys, sheet.phase = table.table_name, table.table_keys, table.phase
    sheet.entity_name, sheet.fiscal_year = _entity_and_year(vocab, title, table.table_name)
    if sheet.fiscal_year is None:  # the year on a line under the title, else in the sheet name
        near = [text for r in range(0, min(len(grid.rows), (title_row or 0) + 3)) for _, text in grid.texts(r)]
        sheet.fiscal_year = next(
            (y for y in (_year_of(_YEAR.search(t)) for t in near + [ws.title]) if y), None
        )
    try:
        _parse_known_sheet(vocab, ws, grid, sheet, title_row)
    except SheetError as exc:
        if _is_contents_page(vocab, grid):
            _reset(sheet, "unknown_table", "目录页，列出多张表但本身不是表 (a contents page listing tables)")
            return sheet
        _sheet_error(sheet, grid, title_row, str(exc))
    except Exception as exc:  # one bad sheet must not stop the others
        _sheet_error(sheet, grid, title_row, f"{type(exc).__name__}: {exc}")
    return sheet


def _reset(sheet: ParsedSheet, status: str, reason: str) -> None:
    sheet.status, sheet.reason = status, reason
    sheet.lines, sheet.rejects = [], []
    sheet.rows_in = sheet.rows_loaded = sheet.rows_rejected = 0


def _is_contents_page(vocab, grid: _Grid) -> bool:
    names = {t.table_name for r in range(len(grid.rows)) for _, text in grid.texts(r)
             if (t := vocab.table_for_title(text))}
    return len(names) >= 3


def _sheet_error(sheet: ParsedSheet, grid: _Grid, title_row: int | None, detail: str) -> None:
    """A sheet that names a known table but cannot be read: one reject, its rows counted as rejected."""
    _reset(sheet, "error", f"工作表「{sheet.sheet}」无法解析 (sheet could not be parsed): {detail}")
    sheet.rejects = [RowReject(sheet.sheet, None, None, None, sheet.reason)]
    counted = _count_rows(grid, (title_row + 1) if title_row is not None else 0)
    sheet.rows_in, sheet.rows_rejected = counted, counted


class UncachedFormula(str):
    """A formula cell saved without its computed value (``=SUM(B6:B9)``): files written by scripts rather
    than by Excel or WPS carry no result, and openpyxl reads such a cell as empty. Put back as the
    formula text, an amount there is a row error naming the formula instead of a silent zero."""


_CELL_XML = re.compile(r'<c r="([A-Z]+)([0-9]+)"([^>]*?)(?:/>|>(.*?)</c>)', re.S)
_FORMULA_XML = re.compile(r"<f\b[^>]*?(?:/>|>(.*?)</f>)", re.S)
# A saved value is a non-empty <v>; scripts write <v/> or none. An empty <v> is still a saved value when the
# cell's type is a string (t="str"): Excel's result of =IF(B5=0,"",B5).
_VALUE_XML = re.compile(r"<v\b[^>]*>[^<]+</v>")
_STRING_RESULT_XML = re.compile(r'\bt="str"')
_REL_NS = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"


def uncached_formulas(path: Path) -> dict[str, dict[tuple[int, int], str]]:
    """Formula cells without a saved value, by sheet title and (row, column), both 1-based."""
    import html
    import zipfile
    from xml.etree import ElementTree

    from openpyxl.utils import column_index_from_string

    found: dict[str, dict[tuple[int, int], str]] = {}
    with zipfile.ZipFile(path) as z:
        workbook = ElementTree.fromstring(z.read("xl/workbook.xml"))
        rels = ElementTree.fromstring(z.read("xl/_rels/workbook.xml.rels"))
        targets = {r.get("Id"): r.get("Target", "") for r in rels}
        for sheet in workbook.iter():
            if not sheet.tag.endswith("}sheet"):
                continue
            target = targets.get(sheet.get(_REL_NS + "id"), "")
            member = target.lstrip("/") if target.startswith("/") else "xl/" + target
            if member not in z.namelist():
                continue
            xml = z.read(member).decode("utf-8", errors="replace")
            if "<f" not in xml:
                continue  # the usual case: no formulas at all
            for m in _CELL_XML.finditer(xml):
                inner = m.group(4) or ""
                formula = _FORMULA_XML.search(inner)
                if formula and not _VALUE_XML.search(inner) and not _STRING_RESULT_XML.search(m.group(3)):
                    text = html.unescape(formula.group(1) or "") or "(shared formula 共享公式)"
                    found.setdefault(sheet.get("name", ""), {})[
                        (int(m.group(2)), column_index_from_string(m.group(1)))] = "=" + text
    return found


def _restore_uncached_formulas(wb, path: Path) -> None:
    try:
        formulas = uncached_formulas(path)
    except Exception:  # noqa: BLE001 - detection must never make a readable workbook unreadable
        return
    for ws in wb.worksheets:
        for (row, column), text in formulas.get(ws.title, {}).items():
            ws.cell(row=row, column=column)._value = UncachedFormula(text)


def parse_workbook(path: Path | str, display_name: str | None = None) -> ParsedWorkbook:
    """Parse every sheet of a workbook. Raises FileRejected when it is not a readable xlsx."""
    path = Path(path)
    name = display_name or path.name
    vocab = vocabulary()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # openpyxl's style warnings say nothing about the data
            wb = load_workbook(path, data_only=True)
    except Exception as exc:
        raise FileRejected(
            f"{name} 不是可读取的Excel工作簿 (not a readable workbook): {type(exc).__name__}: {exc}"
        ) from None
    try:
        _restore_uncached_formulas(wb, path)
        sheets = [parse_sheet(ws, i, vocab) for i, ws in enumerate(wb.worksheets)]
    finally:
        wb.close()
    return ParsedWorkbook(path=path, sheets=sheets)


# ---------------------------------------------------------------------------------------------------
# Loader
_SHEET_SCHEMA = pa.schema([
    ("load_id", pa.string()), ("source_file", pa.string()), ("source_sha256", pa.string()),
    ("sheet", pa.string()), ("sheet_index", pa.int32()), ("title", pa.string()),
    ("table_name", pa.string()), ("entity_name", pa.string()), ("publisher_line", pa.string()),
    ("fiscal_year", pa.int32()), ("phase", pa.string()), ("unit_label", pa.string()),
    ("unit_multiplier", pa.decimal128(20, 4)), ("code_layout", pa.string()),
    ("header_row_count", pa.int32()), ("data_row_count", pa.int32()), ("note_text", pa.string()),
    ("is_empty", pa.bool_()), ("has_empty_note", pa.bool_()), ("status", pa.string()),
    ("reason", pa.string()), ("is_retired", pa.bool_()),
])
_LINE_SCHEMA = pa.schema([
    ("load_id", pa.string()), ("source_file", pa.string()), ("source_sha256", pa.string()),
    ("sheet", pa.string()), ("source_row", pa.int32()), ("table_name", pa.string()),
    ("side", pa.string()), ("line_code", pa.string()), ("line_label", pa.string()),
    ("indent_level", pa.int32()), ("is_total", pa.bool_()), ("row_key", pa.string()),
    ("column_key", pa.string()), ("source_column", pa.string()), ("value_text", pa.string()),
    ("amount_yuan", pa.decimal128(20, 2)), ("is_retired", pa.bool_()),
])


def _insert(con: duckdb.DuckDBPyConnection, table: str, schema: pa.Schema, rows: list[tuple]) -> None:
    if not rows:
        return
    columns = list(zip(*rows))
    arrow = pa.table([pa.array(col, type=f.type) for col, f in zip(columns, schema)], schema=schema)
    view = "_workbook_rows"
    con.register(view, arrow)
    try:
        con.execute(f"INSERT INTO {table} BY NAME SELECT * FROM {view}")
    finally:
        con.unregister(view)


def load_workbook_file(con: duckdb.DuckDBPyConnection, f: RawFile, load_id: str) -> FileOutcome:
    """Family loader for budget/ and debt/: writes raw.<family>_sheets, raw.<family>_lines, rejects."""
    if f.family not in WORKBOOK_FAMILIES:
        raise ValueError(f"workbook loader called for family {f.family!r}")
    parsed = parse_workbook(f.path, display_name=f.rel)
    sheet_rows, line_rows = [], []
    for s in parsed.sheets:
        sheet_rows.append((
            load_id, f.rel, f.sha256, s.sheet, s.sheet_index, s.title, s.table_name, s.entity_name,
            s.publisher_line, s.fiscal_year, s.phase, s.unit_label, s.unit_multiplier, s.code_layout,
            s.header_row_count, s.data_row_count, s.note_text, s.is_empty, s.has_empty_note, s.status,
            s.reason, False,
        ))
        for ln in s.lines:
            line_rows.append((
                load_id, f.rel, f.sha256, s.sheet, ln.source_row, s.table_name, ln.side, ln.line_code,
                ln.line_label, ln.indent_level, ln.is_total, ln.row_key, ln.column_key, ln.source_column,
                ln.value_text, ln.amount_yuan, False,
            ))
    _insert(con, f"raw.{f.family}_sheets", _SHEET_SCHEMA, sheet_rows)
    _insert(con, f"raw.{f.family}_lines", _LINE_SCHEMA, line_rows)
    insert_rejects(con, f, load_id, [(r.sheet, r.source_row, r.source_column, r.raw_value, r.reason)
                                     for r in parsed.rejects])
    issues = [
        f"「{s.sheet}」{s.reason}" for s in parsed.sheets if s.status != "parsed" and s.reason
    ]
    if parsed.rows_rejected:
        issues.insert(0, f"{parsed.rows_rejected} 行被拒绝 (rows rejected)")
    return FileOutcome(
        status="loaded_with_rejects" if parsed.rows_rejected or parsed.rejects else "loaded",
        reason="; ".join(issues) or None,
        rows_in=parsed.rows_in,
        rows_loaded=parsed.rows_loaded,
        rows_rejected=parsed.rows_rejected,
        file_format=f.path.suffix.lower().lstrip("."),
        encoding=None,
        detected_kind="workbook",
    )


__all__ = [
    "ParsedLine", "ParsedSheet", "ParsedWorkbook", "RowReject", "load_workbook_file", "parse_amount",
    "parse_sheet", "parse_workbook",
]
