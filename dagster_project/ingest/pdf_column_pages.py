"""A sheet wider than the paper, printed from a spreadsheet, goes on over further pages to the right (Calc and Excel
print down, then across): those pages' rows stand at the very heights of the rows they continue, and are joined onto
them (``join_column_pages``) before the segmenter cuts the document into tables (``segmenter.py``)."""
from __future__ import annotations

import re
from dataclasses import replace

from dagster_project.ingest.pdf_across import ROW_TOP_TOLERANCE, TEXT_TO_RULE_TOLERANCE, box_as_rows, by_columns, \
    starts_lower
from dagster_project.ingest.pdf_reader import MARGIN_BAND, PageItem
from dagster_project.ingest.pdf_titles import is_caption_line, is_title, title_of
from dagster_project.ingest.workbook_spec import WorkbookVocabulary, normalise

_FIGURE = re.compile(r"^\s*[-+]?[\d,]+(?:\.\d+)?\s*$")
# a page continuing another's rows to the right lies within this
# many pages after the page it continues (a sheet two pages tall and three wide prints six)
MAX_COLUMN_PAGES_BACK = 8


def _fills_page(items: list[PageItem], height: float | None) -> bool:
    """Whether a page's table rows run down to its foot (within three rows of the bottom margin band): only then can
    the next page hold the same table's next rows. Unknown height: assume it does."""
    tops = sorted(it.top for it in items if it.kind == "table")
    if height is None or len(tops) < 2:
        return True
    pitch = max(tops[-1] - tops[-2], 1.0)
    return tops[-1] + 3 * pitch >= height * (1 - MARGIN_BAND)


def _title_of_its_own(page: list[PageItem], earlier: list[PageItem], vocab: WorkbookVocabulary) -> bool:
    """Whether the page has a title (a line, or a ruled row of one filled cell) other than a piece of the earlier page's
    title at its height (a centred title cut between two pages printed side by side) or the sheet's title centred
    over its whole width and printed on this page only (``_sheet_title_here``), or — the page printing the earlier
    page's first columns again, row for row (print-title columns) — the same title at its height: a title merged over
    a print-title column (项目) is printed with that column on every page to the right."""
    repeated = _title_columns(earlier, page) > 0
    return any(title_of(vocab, it) and not _sheet_title_here(it, earlier, vocab) and not any(
        abs(q.top - it.top) <= ROW_TOP_TOLERANCE and (normalise(q.text) != normalise(it.text) or repeated)
        and _pieces_of_one(q.text, it.text) for q in earlier) for it in page)


def _sheet_title_here(line: PageItem, earlier: list[PageItem], vocab: WorkbookVocabulary) -> bool:
    """Whether a title line of a page is the title of the earlier page's table, centred over the sheet's whole width
    and so printed on a page to the right only: the earlier page has no title at all (not a line, not a ruled row of
    one cell) and the line stands above its first ruled row. Calc centres a title merged over A1:H1 (columns 30 wide,
    three a page) on page 2: page 1 (项目 | 本地区) was a ruled table with no title — dropped, and pages 2-4 read as a
    table without its items. (Another table's page drawing the same rules has a title of its own on the earlier
    page; the rows level with the earlier page's are checked by ``_continues``.)"""
    rows = [q.top for q in earlier if q.kind == "table"]
    return title_of(vocab, line) and bool(rows) and line.top < min(rows) - ROW_TOP_TOLERANCE \
        and not any(title_of(vocab, q) for q in earlier)


def _continues(page: list[PageItem], earlier: list[PageItem], vocab: WorkbookVocabulary,
               earlier_full: bool = True, across: bool = False, paired: bool = False) -> bool:
    """Whether ``page`` holds the columns to the right of ``earlier``'s rows: two or more table rows (or lines in a
    ruled box one column wide: the sheet's last column alone), each level with a table row of ``earlier`` and each
    of those level with one of its own (the same rows, the same band), none drawn with the same column rules (that
    is the same table's next page), every line level with one of ``earlier``'s, and no title of another table (a
    centred title over the whole width is printed in pieces on both pages: one piece holds the other; a title on a
    margin band counts too, as Calc prints it there). Columns of one width repeated (a two-sided summary: 项目 | 预算数 |
    项目 | 预算数) draw the same rules on the page to the right: the same rules mean the table's next rows unless the
    earlier page ends well above its foot and this page has no title of its own (another sheet's table, one page
    each, draws the same rules too); nor when the print has gone across (``across``: a page further on than the
    next, right after a page of other rules, so not that page's next rows) and this page's rows start below the
    earlier page's title lines, as further columns do and next rows (from the page's top) do not — a sheet taller and
    wider than the paper: its first columns on pages 1-2, two columns as wide as those on page 5); nor when the page
    is paired with ``earlier`` in print order (``paired``: the page before continued another page's rows, and this
    one goes on the page after that, 12 after 11 → 1 on 2, though both start at the page's top)."""
    # ruled rows only: their rules tell the same table's next rows (same rules) from further columns; a table
    # printed without rules has no such sign, and its pages are left as they are
    rows = [it for it in page if (it.kind == "table" and it.edges) or it.boxed]
    theirs = [it for it in earlier if it.kind == "table"]
    # (a one-column box with a single line, its header over blank cells, still has its ruled rows)
    if (len(rows) < 2 and not any(len(r.box_rows) >= 2 for r in rows)) or not theirs:
        return False

    def level(a: PageItem, others: list[PageItem]) -> bool:
        return any(abs(a.top - b.top) <= (ROW_TOP_TOLERANCE if a.kind == b.kind else TEXT_TO_RULE_TOLERANCE)
                   for b in others)

    tops = sorted(q.top for q in theirs)

    def within(a: PageItem) -> bool:
        # a row inside one of the earlier page's rows: the earlier row is one cell tall over two rows here (合计 merged
        # down beside 公务用车购置及运行费 | 小计 购置费 运行费); a line in a one-column box too (小计 alone on its page)
        return (a.kind == "table" or a.boxed) and any(x + ROW_TOP_TOLERANCE < a.top < y - ROW_TOP_TOLERANCE
                                                      for x, y in zip(tops, tops[1:]))

    if not all(level(r, earlier) or within(r) for r in rows):
        return False  # (a row of the page may stand beside a line: print-title columns rule rows the earlier did not)
    # further columns start below the earlier page's title lines; its next rows start at the page's top
    below_titles = rows[0].top > min((q.top for q in earlier if not q.in_margin), default=rows[0].top) \
        + ROW_TOP_TOLERANCE
    if any(_same_rules(r, q) for r in rows for q in theirs if abs(r.top - q.top) <= ROW_TOP_TOLERANCE) \
            and (earlier_full and not (across and below_titles) and not paired
                 or _title_of_its_own(page, earlier, vocab)):
        return False  # the same table's rules: the next rows of the same columns (full pages, headers repeated)
    # (the unit line alone above the rows: `单位：万元` stands in the sheet's last column, the publisher in its first, and the
    # pages between have nothing at that height)
    if not all(level(it, earlier) or within(it)
               or (it.kind == "text" and it.top < rows[0].top and is_caption_line(vocab, it.text))
               or (it.kind == "text" and _sheet_title_here(it, earlier, vocab))
               for it in page if not it.in_margin):
        return False  # a line at no height of the earlier page: a page of its own (a narrative sheet after a table)
    # a one-column box shows no line where its cell is blank (公用经费 beside the 人员经费 rows): its own rules say where
    # its rows are and end
    ruled = [r for r in rows if r.kind == "table"] or [
        replace(rows[0], kind="table", top=top) for top in sorted({t for r in rows for t in r.box_rows})]
    if abs(ruled[-1].top - theirs[-1].top) > ROW_TOP_TOLERANCE:
        return False  # the same rows end at the same height on both pages
    # every row of the earlier page down to the last has its counterpart here, from the table's top: a full page of
    # rows at one pitch stands level with any other, and the pages to the right of a sheet's first page (its header
    # rows below the title) are no further columns of the pages under it (rows from the page's top)
    band = [q for q in theirs if q.top <= ruled[-1].top + ROW_TOP_TOLERANCE]
    own_tops = [r.top for r in ruled]

    def spanned(q: PageItem) -> bool:
        # a row of the earlier page inside a taller ruled row here: a header cell merged down over two rows there
        # (功能分类科目编码 over 类 | 款 | 项 on the left, 合计 | 基本支出 | 项目支出 two rows tall on the right)
        return any(x + ROW_TOP_TOLERANCE < q.top < y - ROW_TOP_TOLERANCE for x, y in zip(own_tops, own_tops[1:]))

    def header_above(q: PageItem) -> bool:
        # a header row of the earlier page above this page's first ruled row, with nothing drawn here: a header
        # merged over the page's edge and centred on the pages before (2019年债务余额 over 合计 | 一般债务 on page 2,
        # 专项债务 alone on page 3 under no text); rows holding figures still need their counterparts
        return q.top < ruled[0].top - ROW_TOP_TOLERANCE and not any(_FIGURE.match(c or "") for c in q.cells)

    if not all(level(q, ruled) or level(q, page) or spanned(q) or header_above(q) for q in band):
        return False
    if _publisher_of_its_own(page, earlier, vocab):
        return False
    if not _own_titles(earlier, page, vocab):
        return True  # the title, centred over the whole width, is printed wholly on this page
    for it in _titles(page, vocab):
        beside = [q for q in earlier if abs(q.top - it.top) <= ROW_TOP_TOLERANCE]
        if not any(_pieces_of_one(q.text, it.text) for q in beside):
            return False
    return True


def _publisher_of_its_own(page: list[PageItem], earlier: list[PageItem], vocab: WorkbookVocabulary) -> bool:
    """Whether the page names a publisher (``填报单位：…``) that no line of the earlier page at its height names: a
    sheet's further columns print at most its unit (``单位：万元``, in the last column) or, under print-title columns,
    the very same publisher line again. A page naming a publisher of its own starts a table of its own, whatever its
    title — one printed by the same stylesheet has its rows level with the earlier page's (the 财政项目支出绩效目标填报表
    after the 三公 table, its title on the margin band: it was joined on as the 三公 table's further columns, its
    project name the 三公 row's label)."""
    def publisher(text: str) -> str:
        found = vocab.publisher_regex.search(vocab.unit_regex.sub("", normalise(text)))
        return found.group(0) if found else ""

    for it in page:
        own = publisher(it.text) if it.kind == "text" and not it.in_margin else ""
        if own and not any(own in normalise(q.text) for q in earlier
                           if q.kind == "text" and abs(q.top - it.top) <= TEXT_TO_RULE_TOLERANCE):
            return True
    return False


def _title_columns(left: list[PageItem], right: list[PageItem]) -> int:
    """How many first columns the right-hand page prints again (print titles: the codes and names on every page to
    the right): those cells equal the left-hand row's, row for row, in at least two rows that fill them. Rows with
    a merged cell are left out: a header over the whole width is printed in other pieces on each page."""
    pairs = [(q.cells, it.cells) for it in right if it.kind == "table" and None not in it.cells
             for q in left if q.kind == "table" and None not in q.cells and abs(q.top - it.top) <= ROW_TOP_TOLERANCE]
    k = 0
    while pairs and all(len(b) > k + 1 and len(a) > k and (a[k] or "") == (b[k] or "") for a, b in pairs) \
            and sum(1 for a, _ in pairs if a[k]) >= 2:
        k += 1
    return k


def _same_rules(a: PageItem, b: PageItem) -> bool:
    return bool(a.edges) and len(a.edges) == len(b.edges) and all(
        abs(x - y) <= ROW_TOP_TOLERANCE for x, y in zip(a.edges, b.edges))


def _titles(items: list[PageItem], vocab: WorkbookVocabulary) -> list[PageItem]:
    return [it for it in items if it.kind == "text" and is_title(vocab, it.text)]


def _own_titles(items: list[PageItem], other: list[PageItem], vocab: WorkbookVocabulary) -> list[PageItem]:
    """Titles of a page but for those the other page repeats word for word at the same height: a page header
    naming the sheet (``&A``: 5-一般公共预算支出表) stands on all of its pages alike."""
    return [q for q in _titles(items, vocab) if not any(
        abs(q.top - it.top) <= ROW_TOP_TOLERANCE and normalise(q.text) == normalise(it.text) for it in other)]


def _pieces_of_one(a: str, b: str) -> bool:
    a, b = normalise(a), normalise(b)
    return bool(a and b) and (a in b or b in a)


def join_column_pages(items: list[PageItem], vocab: WorkbookVocabulary,
                      heights: dict[int, float] | None = None) -> list[PageItem]:
    """Pages printing the columns to the right of an earlier page's rows, joined onto those rows.

    A spreadsheet printed without "fit to page width" puts a wide sheet's further columns on further pages; a
    reader lays the pages side by side. Each line or row of such a page is appended, cell by cell, to the line or
    row of the earlier page at its height (rows padded to their table's width first, so every column keeps its
    place); a text piece that repeats the line beside it (the centred title drawn over both pages) keeps the
    longer piece; lines of the page at no earlier height go in at their height. The earlier page is looked for
    back to the nearest page that starts another table (one with a title), pages in between being the sheet's
    further pages down (a sheet two pages tall and two wide prints 1 2 | 3 4: 3 continues 1, 4 continues 2).
    The joined rows are cited on the earlier page, counted from its top: where a reader finds the row's start."""
    by_page: dict[int, list[PageItem]] = {}
    for it in items:
        by_page.setdefault(it.page, []).append(it)
    pages = sorted(by_page)
    original = {page: list(its) for page, its in by_page.items()}
    target: dict[int, int] = {}  # page printing further columns → the page whose rows it continues
    for index, page in enumerate(pages):
        # the page before draws other rules: this page is not its next rows, the print went across before it
        across = index > 0 and (not any(_same_rules(a, b) for a in original[pages[index - 1]]
                                        for b in original[page] if a.kind == b.kind == "table")
                                or starts_lower(original[page], original[pages[index - 1]]))
        window = pages[max(0, index - MAX_COLUMN_PAGES_BACK):index]
        # full pages of rows at one pitch stand level with each other: the page after the one the page before
        # continued is tried first (down, then across: 6 continues 1, so 7 continues 2), and a page after which
        # the print went across again goes on the page that one continued (11 after 10 → 5, then 6 → 1)
        preferred = None
        if index and pages[index - 1] in target:
            preferred = next((q for q in pages if q > target[pages[index - 1]]), None)
            preferred = target.get(preferred, preferred)
        for earlier in ([preferred] if preferred in by_page and preferred < page else []) + list(reversed(window)):
            # a page whose table is one column (the sheet's first column wider than half the paper) is a ruled box:
            # its lines are the rows the pages to the right continue, if one does
            view = by_page[earlier] if any(it.kind == "table" for it in by_page[earlier]) \
                else box_as_rows(by_page[earlier]) or by_page[earlier]
            full = _fills_page(view, (heights or {}).get(earlier))
            # (in print order, unless the page before went on the very page this one would: printed across, then
            # down, page 4 after 2 and 3 (both → 1) is page 1's next rows)
            paired = earlier == preferred and preferred != target.get(pages[index - 1])
            if view and _continues(by_page[page], view, vocab, full, across and earlier != pages[index - 1], paired):
                by_page[earlier], by_page[page] = _joined(view, by_page[page], vocab)
                target[page] = earlier
                break
            if earlier != preferred and _own_titles(by_page[earlier], by_page[page], vocab):
                break  # another table began there: no page before it is still being printed across
    return [it for page in pages for it in by_page[page]]


def _joined(left: list[PageItem], right: list[PageItem],
            vocab: WorkbookVocabulary) -> tuple[list[PageItem], list[PageItem]]:
    """(the earlier page's items with the right-hand page's joined on, what stays on the right-hand page)"""
    def width(its: list[PageItem]) -> dict[int | None, int]:
        out: dict[int | None, int] = {}
        for it in its:
            if it.kind == "table":
                out[it.table_id] = max(out.get(it.table_id, 0), len(it.cells))
        return out

    left_width, right_width = width(left), width(right)
    repeated = _title_columns(left, right)
    out = list(left)
    kept: list[PageItem] = []
    for it in right:
        k = None
        if it.box_rows:
            # a line of a one-column box goes to the ruled row of the box it stands in: a header cell merged down
            # over two rows (项目支出 beside 功能分类科目编码 over 类 | 款 | 项) centres its text between the two
            rule = max((t for t in it.box_rows if t <= it.top + ROW_TOP_TOLERANCE), default=it.top)
            k = next((i for i, q in enumerate(out) if q.kind == "table" and abs(q.top - rule) <= ROW_TOP_TOLERANCE),
                     None)
        if k is None:
            k = next((i for i, q in enumerate(out) if abs(q.top - it.top) <= ROW_TOP_TOLERANCE), None)
        if k is None:  # a line beside a ruled row (or a row beside a line) stands a cell's padding lower or higher
            k = next((i for i, q in enumerate(out) if q.kind != it.kind
                      and abs(q.top - it.top) <= TEXT_TO_RULE_TOLERANCE), None)
        q = out[k] if k is not None else None
        if q is not None and q.kind == it.kind == "text" and _pieces_of_one(q.text, it.text):
            cells = list(it.cells) if len(normalise(it.text)) > len(normalise(q.text)) else list(q.cells)
            out[k] = replace(q, cells=cells)
            continue
        # the page's own number (第 2 页，共 9 页) or running head stays there; but a unit line beside the earlier
        # page's publisher line (单位：万元 in the sheet's last column, printed on the page to the right) is that
        # line's end: kept apart, the table was read in 元
        if it.in_margin and (q.in_margin if q is not None else not is_title(vocab, it.text)) \
                and not (q is not None and is_caption_line(vocab, it.text)):
            kept.append(it)
            continue
        if q is None:
            above = max((r for r in left if r.kind == "table" and r.top < it.top), key=lambda r: r.top, default=None)
            if (it.kind == "table" or it.box_rows) and above is not None:
                # a row of the page to the right inside a taller row of the earlier page (a header merged down there):
                # its cells go under their own columns, right of the earlier page's (a one-column box's line too:
                # 小计 alone on its page beside 合计 merged down two rows)
                shift = left_width.get(above.table_id, 0) - repeated
                cells = [""] * left_width.get(above.table_id, 0) + list(it.cells)[repeated:]
                out.append(PageItem(above.page, 0, "table", cells, it.top, above.table_id,
                                    [(r0, c0 + shift, r1, c1 + shift) for r0, c0, r1, c1 in it.merges if c0 >= repeated],
                                    joined_pages=(it.page,), edges=above.edges))
                continue
            out.append(PageItem(out[0].page if out else it.page, 0, it.kind, list(it.cells), it.top, it.table_id,
                                list(it.merges), in_margin=False))
            continue
        base = list(q.cells)
        if q.kind == "table":
            base += [""] * (left_width.get(q.table_id, 0) - len(base))
        elif it.kind == "table":
            # a header cell merged over the earlier page's columns and cut at its edge is a line of text there
            # (功能分类科目编码 over 类 | 款, its 项 on the next page): it spans the width of the rows under it
            below = min((r for r in left if r.kind == "table" and r.top > q.top), key=lambda r: r.top, default=None)
            if below is not None:
                base += [""] * (left_width.get(below.table_id, 0) - len(base))
        extra = list(it.cells)
        drop = repeated if it.kind == "table" else 0
        placed = by_columns(it, right) if q.kind == "table" and it.kind == "text" else None
        spans_on = []
        if placed is not None:
            # a line over the page's rules beside a ruled row: headers merged over the page's edges (其中：本级 over
            # 合计 | 一般债券 | 专项债券, beginning in the page's third column) go under the columns they start in
            cells, continued = placed
            drop = repeated
            filled = [c for c, v in enumerate(base) if v]
            if filled and len(cells) > drop and cells[drop] and normalise(cells[drop]) == normalise(base[filled[-1]]):
                # a header centred over columns on both pages is drawn whole on each (其中：本级 over 合计 | 一般债券 on
                # page 4 and over 专项债券 on page 5): the page's first column is still under the earlier page's header
                cells, continued = cells[:drop] + [""] + cells[drop + 1:], True
            extra = (cells + [""] * (max(right_width.values(), default=0) - len(cells)))[drop:]
            if continued and filled:
                # the header drawn again off the paper goes on over this page's first columns, up to its next header
                lead = next((i for i, v in enumerate(extra) if v or v is None), len(extra))
                extra = ["" if v is None else v for v in extra]
                spans_on = [(0, filled[-1], 0, len(base) - drop + lead - 1 + drop)]
        if it.kind == "table":
            extra = (extra + [""] * (right_width.get(it.table_id, 0) - len(extra)))[drop:]
        shift = len(base) - drop
        merges = list(q.merges) + [(dr0, c0 + shift, dr1, c1 + shift) for dr0, c0, dr1, c1 in it.merges if c0 >= drop]
        if spans_on:
            # (one merge per cell: the header's merge within the earlier pages, if any, is widened)
            merges = [m for m in merges if not (m[0] == 0 and m[1] == spans_on[0][1])] + spans_on
        kind = "table" if "table" in (q.kind, it.kind) else "text"
        out[k] = replace(q, kind=kind, cells=base + extra, merges=merges, joined_pages=q.joined_pages + (it.page,),
                         table_id=q.table_id if q.kind == "table" else it.table_id,
                         is_table_start=q.is_table_start or (q.kind == "text" and it.is_table_start))
    out.sort(key=lambda it: it.top)
    return [replace(it, row=row) for row, it in enumerate(out, start=1)], kept
