"""Tables printed without rules: columns found from where the words of data rows stand.

pdfplumber's ``find_tables`` builds cells from drawn lines. A table printed without them — a three-line table (三线表:
rules above and below the header and at the foot only), a table ruled only between rows, an HTML table without
borders — had no cells, so its rows were read as running text and every figure in it was lost. On a page without a
ruled table, this module finds such tables in the page's text lines:

- **Data rows**: a run of lines with at least ``MIN_WORDS`` words of which one is a figure (``1,234.56``, ``-``,
  a code) — two such lines, or one holding ``MIN_FIGURES_ALONE`` figures. A narrative line is one or two words
  (Chinese text has no spaces), so it never makes a run.
- **Columns**: the x-ranges covered by the run's words; a vertical strip no word of any data row touches, at least
  ``MIN_GUTTER_EM`` wide, separates two columns (a space inside a cell is a quarter of an em; the padding between
  two cells is wider and, over many rows, never covered).
- **Rows above**: the table's header rows, its unit line and its title are the short lines right above the run
  (stopping at a heading, a sentence or a blank stretch); each of their words goes to the column its centre is in,
  and a word reaching over several columns (a header over 类 | 款 | 项) is a merged span over them.
- A wrapped cell (a long item name over several lines) is a line of few words, no figure, in text columns only:
  its text joins a row — between two rows' figures the widest blank is the padding between them (cells are centred
  vertically, so a name may start above its row's figures) — in reading order.

The rows come back as the ruled tables' do (cells, merges, top), so the segmenter and the recogniser treat both
alike: the title as a first row holding one cell, the header band, the data rows.
"""
from __future__ import annotations

import re

MIN_WORDS = 3
MIN_DATA_ROWS = 2
MIN_FIGURES_ALONE = 3
MIN_GUTTER_EM = 0.45
MAX_LINES_ABOVE = 7
# lines of wrapped text between two data rows (a long item name: half above its row's figures, half below when the
# cells are centred vertically, as browsers and Excel print them)
MAX_WRAP_LINES = 6
_FIGURE = re.compile(r"^[-+]?[\d,，.．]+%?$|^[-—–]$|^[（(]?[-+]?[\d,，.]+[)）]?$")
_SENTENCE_END = ("。", "；", ";")
# an amount or a code (not a list's ordinal "1." nor a dash): what stands aligned in a table's columns
_AMOUNT = re.compile(r"^[-+]?\d[\d,，]*(?:[.．]\d+)?%?$")
# Page layout read by this module and the segmenter alike (segmenter.py imports them): a contents line's leader
# dots before its page number, a numbered heading of the running text
LEADERS = re.compile(r"\.{3,}|…{2,}|·{3,}|-{4,}")
CONTENTS_LINE = re.compile(LEADERS.pattern.join(("(?:", r")\s*\d{1,4}\s*$")))
HEADING = re.compile(r"^(?:第[一二三四五六七八九十]+部分|[一二三四五六七八九十]+[、.．]|[（(][一二三四五六七八九十]+[)）])")


def _size(word: dict) -> float:
    return float(word.get("size") or 10)


def _is_data_line(words: list[dict]) -> bool:
    """At least MIN_WORDS words, one a figure; a contents line (``部门收支总表 ······ 5``) is none."""
    return len(words) >= MIN_WORDS and any(_FIGURE.match(w["text"]) for w in words) \
        and not LEADERS.search(" ".join(w["text"] for w in words))


def _columns(rows: list[list[dict]]) -> list[tuple[float, float]]:
    """Column x-ranges: the covered stretches of the data rows' words, split where a gutter is wide enough."""
    spans = sorted((w["x0"], w["x1"], _size(w)) for row in rows for w in row)
    # where the reader split a figure from the next cell's figure or dash (``cell_gap``), the gap is a gutter
    cuts = {w["x0"] for row in rows for w in row if w.get("cell_gap")}
    columns: list[list[float]] = []
    for x0, x1, size in spans:
        if columns and x0 - columns[-1][1] < MIN_GUTTER_EM * size and not (x0 in cuts and x0 > columns[-1][1]):
            columns[-1][1] = max(columns[-1][1], x1)
        else:
            columns.append([x0, x1])
    return _fold_dashes([(a, b) for a, b in columns], rows)


_DASH = re.compile(r"^[-—–]$")


def _fold_dashes(columns: list[tuple[float, float]], rows: list[list[dict]]) -> list[tuple[float, float]]:
    """A spreadsheet prints the text ``-`` (nothing) at its cell's left and the amounts of the same column at its
    right: the dashes make a strip of their own. A strip holding dashes only, beside a column no row fills together
    with it, is that column's left part. (A column of dashes in every row, all zero, shares its rows with the next.)"""
    def column(w: dict) -> int:
        return _column_of(columns, (w["x0"] + w["x1"]) / 2)

    i = 0
    while i < len(columns) - 1:
        words = [w for row in rows for w in row if column(w) == i]
        together = any({i, i + 1} <= {column(w) for w in row} for row in rows)
        if words and all(_DASH.match(w["text"]) for w in words) and not together:
            columns = columns[:i] + [(columns[i][0], columns[i + 1][1])] + columns[i + 2:]
            continue
        i += 1
    return columns


def _column_of(columns: list[tuple[float, float]], x: float) -> int:
    """The column whose range holds x, else the nearest one."""
    for i, (a, b) in enumerate(columns):
        if a - 0.5 <= x <= b + 0.5:
            return i
    return min(range(len(columns)), key=lambda i: min(abs(columns[i][0] - x), abs(columns[i][1] - x)))


def _cells(words: list[dict], columns: list[tuple[float, float]], join) -> list:
    """A data line's words → cells by column (words in one column joined)."""
    texts: list[list[str]] = [[] for _ in columns]
    for w in sorted(words, key=lambda w: w["x0"]):
        texts[_column_of(columns, (w["x0"] + w["x1"]) / 2)].append(w["text"])
    return [join(" ".join(t)) if t else None for t in texts]


def _header_rows(lines: list[tuple[float, list[dict]]], columns, join) -> list[tuple[list, list, float]]:
    """Header lines → rows laid out as the printed (merged) header was.

    Without rules a merged header cell is only a text standing somewhere over its columns, centred vertically in its
    rows: a cell spanning all header rows (单位名称) sits mid-band, a cell spanning the lower two sits between them.
    So: each text covers the columns whose centres it reaches over (else the column under its centre); lines that share no column fold into one row (a mid-band
    text joins the row it is printed beside); and a text above others is widened over the neighbouring columns that
    hold header text below it and no text of its own row or of the full height of the band — the span its rules
    would have drawn."""
    centres = [(a + b) / 2 for a, b in columns]
    placed = []  # (line index, first column, last column, text, vertical centre)
    for index, (_, words) in enumerate(lines):
        for w in words:
            over = [i for i, x in enumerate(centres) if w["x0"] <= x <= w["x1"]] or \
                [_column_of(columns, (w["x0"] + w["x1"]) / 2)]
            placed.append([index, over[0], over[-1], w["text"], (w["top"] + w["bottom"]) / 2])
    if not placed:
        return []
    band_top = min(w["top"] for _, words in lines for w in words)
    band_bottom = max(w["bottom"] for _, words in lines for w in words)
    middle, tolerance = (band_top + band_bottom) / 2, (band_bottom - band_top) * 0.08
    by_column: dict[int, list] = {}
    for item in placed:
        for c in range(item[1], item[2] + 1):
            by_column.setdefault(c, []).append(item)
    full_height = {c for c, items in by_column.items()
                   if len(items) == 1 and abs(items[0][4] - middle) <= tolerance and len(lines) > 1}
    # widen a text standing over others (a parent) over the columns beside it whose header text all lies below it
    for item in placed:
        index = item[0]
        if not any(other[0] > index for c in range(item[1], item[2] + 1) for other in by_column.get(c, [])):
            continue  # nothing printed under it: a leaf, its reach is its span
        for step in (-1, 1):
            c = item[1] if step < 0 else item[2]
            while 0 <= c + step < len(columns):
                nxt = c + step
                column_items = by_column.get(nxt, [])
                if nxt in full_height or not column_items or any(other[0] <= index for other in column_items):
                    break
                c = nxt
            if step < 0:
                item[1] = c
            else:
                item[2] = c
    # fold lines that share no column into one row, top down
    rows: list[list] = []
    for index in range(len(lines)):
        items = [item for item in placed if item[0] == index]
        used = {c for item in items for c in range(item[1], item[2] + 1)}
        if rows and not (rows[-1][0] & used):
            rows[-1][0] |= used
            rows[-1][1] += items
        else:
            rows.append([used, items, lines[index][0]])
    out = []
    for _, items, top in rows:
        texts: list[list[str]] = [[] for _ in columns]
        merges = []
        for item in sorted(items, key=lambda it: (it[1], it[4])):
            texts[item[1]].append(item[3])
            if item[2] > item[1]:
                merges.append((0, item[1], 0, item[2]))
        out.append(([join(" ".join(t)) if t else None for t in texts], merges, top))
    return out


def _close(lines, upper: int, lower: int) -> bool:
    """The two lines are printed as neighbouring rows: the blank between them is under 1.25 em of the upper line's
    type (a row's padding; a running head or a page number stands further off)."""
    size = max(_size(w) for w in lines[upper][1])
    return lines[lower][0] - max(w["bottom"] for w in lines[upper][1]) <= 1.25 * size


def _blocks(lines: list[tuple[float, list[dict]]], margin: set[int]) -> list[tuple[int, int]]:
    """(first, last) line indexes of runs of at least MIN_DATA_ROWS data lines (wrapped-cell lines may sit inside).
    A line in the page's margin band is a data line only next to one outside it (a table running to the page's
    foot), never a page number (``- 4 -``) or a running head holding a year."""
    def data(k: int) -> bool:
        if not _is_data_line(lines[k][1]):
            return False
        if k not in margin:
            return True
        return any(0 <= n < len(lines) and n not in margin and _is_data_line(lines[n][1])
                   and _close(lines, min(k, n), max(k, n)) for n in (k - 1, k + 1))

    out = []
    i = 0
    while i < len(lines):
        if not data(i):
            i += 1
            continue
        j, count, last_data = i, 0, i
        while j < len(lines):
            if data(j):
                count, last_data = count + 1, j
            elif j - last_data > MAX_WRAP_LINES or len(lines[j][1]) >= MIN_WORDS or not _close(lines, j - 1, j):
                break
            j += 1
        # one data row is a table when it holds several figures (a 三公 table: one unit, seven amounts)
        if count >= MIN_DATA_ROWS or sum(bool(_FIGURE.match(w["text"])) for w in lines[i][1]) >= MIN_FIGURES_ALONE:
            out.append((i, last_data))
        i = last_data + 1
    return out


def _short_row(words: list[dict]) -> bool:
    """A row with most of its cells blank, inside or right under a run of data rows: a name and a figure (a
    two-sided summary whose expenditure side has ended: 经营收入 | - ). It is a row, not a wrapped name."""
    return len(words) >= 2 and any(_FIGURE.match(w["text"]) for w in words) \
        and not LEADERS.search(" ".join(w["text"] for w in words))


def _wrap_line(words: list[dict], columns, text_columns: set[int]) -> bool:
    """A line of a wrapped cell: few words, no figure, all in text columns."""
    return len(words) < MIN_WORDS and not any(_FIGURE.match(w["text"]) for w in words) and all(
        _column_of(columns, (w["x0"] + w["x1"]) / 2) in text_columns for w in words)


def _aligned(rows: list[list[dict]]) -> bool:
    """Figures of different rows stand in a column: two amounts or codes share a left or a right edge (a table's
    cells are aligned; the figures of running text with spaces in it — ``收入 1,234.56 万元`` — fall where the words
    end, and a list's ordinals ``1.`` ``2.`` are no figures)."""
    lefts, rights = set(), set()
    for row in rows:
        for w in row:
            if _AMOUNT.match(w["text"]):
                left, right = round(w["x0"]), round(w["x1"])
                if {left - 1, left, left + 1} & lefts or {right - 1, right, right + 1} & rights:
                    return True
        # edges of this row join the pool only now: two figures of one row never align with each other
        lefts |= {round(w["x0"]) for w in row if _AMOUNT.match(w["text"])}
        rights |= {round(w["x1"]) for w in row if _AMOUNT.match(w["text"])}
    return False


def _line_height(lines: list[tuple[float, list[dict]]], first: int, last: int) -> float:
    gaps = [lines[k + 1][0] - lines[k][0] for k in range(first, last) if lines[k + 1][0] > lines[k][0]]
    gaps.sort()
    return gaps[len(gaps) // 2] if gaps else 14.0


def _above(lines, first: int, columns, height: float, normalise, margin: set[int]) -> int:
    """The first line of the rows above a run that belong to its table (header rows, unit line, title). In the
    page's margin band only a line of several words can be one (a header repeated at the top of the page); a
    running head or a page number is one text."""
    left, right = columns[0][0], columns[-1][1]
    start = first
    for k in range(first - 1, max(-1, first - 1 - MAX_LINES_ABOVE), -1):
        top, words = lines[k]
        if k in margin and not _close(lines, k, k + 1):
            break  # a running head: further off than a header row
        if lines[k + 1][0] - top > 3.5 * height:
            break  # a blank stretch: what is above is not this table's
        text = normalise("".join(w["text"] for w in words))
        if len(text) > 60 or text.endswith(_SENTENCE_END) or HEADING.match(text):
            break
        inside = [left - 3 * height <= (w["x0"] + w["x1"]) / 2 <= right + 3 * height for w in words]
        if not all(inside) and not (any(inside) and all(w["x1"] < left for w, ok in zip(words, inside) if not ok)):
            break  # a word centred outside the table: running text beside it (but a header over a column left of
            # the data's, blank in every data row: 科目编码 over the one row 合计 of an empty table)
        start = k
    return start


def unruled_tables(lines: list[tuple[float, list[dict]]], join, normalise=lambda s: s.strip(),
                   is_caption=lambda text: False, margin: set[int] = frozenset(),
                   is_note=lambda text: False) -> tuple[list, set]:
    """Tables of a page without rules. ``lines`` are the page's text lines (top, words sorted left to right). Returns the tables — each a list of (cells, merges, top) rows — and the indexes of the lines
    they took. ``join`` cleans a cell's text (CJK spaces, radicals) as the ruled tables' cells are cleaned;
    ``is_caption`` says whether a line is a table's title or its publisher/unit line (above the header band);
    ``is_note`` whether it is a note (``注：…``): under the last row, a note is the table's, never its wrapped name."""
    # a data line's word the reader found to be an amount glued to the next cell's name: two words here
    lines = [(top, [piece for w in words for piece in (w.get("pieces") or [w])]) if _is_data_line(words)
             else (top, words) for top, words in lines]
    tables, taken = [], set()
    for first, last in _blocks(lines, margin):
        data_rows = [lines[k][1] for k in range(first, last + 1) if _is_data_line(lines[k][1])]
        columns = _columns(data_rows)
        if len(columns) < 2 or (len(data_rows) > 1 and not _aligned(data_rows)):
            continue
        height = _line_height(lines, first, last)
        start = _above(lines, first, columns, height, normalise, margin)
        text_columns = {i for i in range(len(columns))
                        if not any(_FIGURE.match(w["text"]) for row in data_rows for w in row
                                   if _column_of(columns, (w["x0"] + w["x1"]) / 2) == i)}
        captions = start
        while captions < first and is_caption(" ".join(w["text"] for w in lines[captions][1])):
            captions += 1  # the title and the publisher/unit line: rows of their own, above the header band
        # header texts left of every data column head columns of their own, blank in the data rows
        left_of = [w for k in range(captions, first) for w in lines[k][1]
                   if w["x1"] < columns[0][0] - MIN_GUTTER_EM * _size(w)]
        if left_of:
            added = _columns([left_of])
            columns = added + columns
            text_columns = set(range(len(added))) | {i + len(added) for i in text_columns}
        rows: list[tuple[list, list, float]] = [(_cells(lines[k][1], columns, join), [], lines[k][0])
                                                for k in range(start, captions)]
        rows += _header_rows(lines[captions:first], columns, join)
        while last + 1 < len(lines) and (_wrap_line(lines[last + 1][1], columns, text_columns)
                                         or _short_row(lines[last + 1][1])) \
                and _close(lines, last, last + 1) and not is_note(" ".join(w["text"] for w in lines[last + 1][1])):
            last += 1  # the last row's name, wrapped below its figures; a row with most of its cells blank
        anchors = [k for k in range(first, last + 1) if _is_data_line(lines[k][1]) or _short_row(lines[k][1])]
        parts: dict[int, list[int]] = {k: [k] for k in anchors}
        for a, b in zip(anchors, anchors[1:] + [None]):
            pieces = [k for k in range(a + 1, b if b is not None else last + 1)
                      if _wrap_line(lines[k][1], columns, text_columns)]
            if b is None:
                parts[a] += pieces
                continue
            # between two rows' figures: the widest blank is the padding between the rows; a wrapped cell's
            # lines stand closer together
            chain = [a] + pieces + [b]
            blanks = [lines[chain[i + 1]][0] - max(w["bottom"] for w in lines[chain[i]][1])
                      for i in range(len(chain) - 1)]
            cut = blanks.index(max(blanks))
            parts[a] += chain[1:cut + 1]
            parts[b] += chain[cut + 1:-1]
        for anchor in anchors:
            words = sorted((w for k in sorted(parts[anchor]) for w in lines[k][1]), key=lambda w: (w["top"], w["x0"]))
            rows.append((_cells(words, columns, join), [], lines[anchor][0]))
        taken.update(range(start, last + 1))
        tables.append(rows)
    return tables, taken


__all__ = ["unruled_tables"]
