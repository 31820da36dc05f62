"""The segmenter: a PDF's stream of lines and table rows → one ``Grid`` per published table, plus the
running text around them.

It knows layout, not meaning: a table starts at its title line (a line naming a catalogue table), takes
the publisher/unit line and any note under the title, then the ruled table's rows — over as many pages
as the table runs: a page that opens with table rows and no title continues the open table (its
repeated header rows stay in the grid; the recogniser skips a header band met again). Notes under the
table (``注：…``, an empty-table note) belong to it. A sheet wider than the paper, printed from a spreadsheet,
goes on over further pages to the right (Calc and Excel print down, then across): those pages' rows stand at the
very heights of the rows they continue, and are joined onto them first (``join_column_pages``). Page numbers and
running heads are furniture, never data. A contents page (目录) lists table names without being tables.
Everything else is running text: the narrative a disclosure must also carry — but a ruled table holding figures
under no title at all is refused with its page (``pdf_untitled.py``), never dropped.
"""
from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field, replace

from dagster_project.ingest.grid import Grid, TextBlock
from dagster_project.ingest.pdf_across import ROW_TOP_TOLERANCE, TEXT_TO_RULE_TOLERANCE, box_as_rows, by_columns, \
    starts_lower
from dagster_project.ingest.pdf_reader import MARGIN_BAND, PageItem, PdfDocument
from dagster_project.ingest.pdf_untitled import UntitledTable, holds_figures
from dagster_project.ingest.pdf_unruled import CONTENTS_LINE as _CONTENTS_LINE
from dagster_project.ingest.pdf_unruled import HEADING as _HEADING
from dagster_project.ingest.workbook_spec import WorkbookVocabulary, normalise, vocabulary

# page numbers as printers write them: 5, - 5 -, 第5页, 5/20, 第 5 页，共 20 页 (Excel's and WPS's footer), Page 5 of 20;
# a count after the number only behind a slash or 共/of: 1,234 (an amount), 2019 2020 and 2019、2020 (years) are no page
# numbers, and a page's first or last line is tested whatever its height
_PAGE_NUMBER = re.compile(r"^[-—–·\s]*(?:第\s*|page\s*)?\d{1,4}(?:\s*页)?"
                          r"(?:\s*[/／]\s*\d{1,4}\s*页?|\s*[,，、]?\s*(?:共|of)\s*\d{1,4}\s*页?)?[-—–·\s]*$",
                          re.IGNORECASE)
# a page number written after other text in one run: ``…部门预算 第7页`` (Writer drops the spaces before it:
# ``…委员会第 7 页``), ``…  7/17``, ``… - 7 -``
_TRAILING_PAGE_NUMBER = re.compile(r"(?:\s*第\s*\d{1,4}\s*页(?:\s*[,，]?\s*共\s*\d{1,4}\s*页)?|\s\d{1,4}\s*[/／]\s*\d{1,4}"
                                   r"|\s[-—]\s*\d{1,4}\s*[-—])\s*$")
_CONTENTS_HEAD = re.compile(r"^目\s*录$")
_FIGURE = re.compile(r"^\s*[-+]?[\d,]+(?:\.\d+)?\s*$")
MAX_TITLE_CHARS = 60
MAX_LINES_BEFORE_TABLE = 4
# a page continuing another's rows to the right lies within this
# many pages after the page it continues (a sheet two pages tall and three wide prints six)
MAX_COLUMN_PAGES_BACK = 8


@dataclass
class _Segment:
    title: PageItem
    items: list[PageItem] = field(default_factory=list)
    state: str = "pre"  # pre (title seen) | table (rows seen) | post (notes under the table)
    has_empty_note: bool = False

    @property
    def last_page(self) -> int:
        return self.items[-1].page


def furniture(items: list[PageItem], page_count: int, vocab: WorkbookVocabulary | None = None) -> set[int]:
    """ids of page numbers and running heads/feet: text lines in a page's top or bottom margin band (or its first or
    last line, a word processor's footer standing above the band) that are a page number, or that repeat on at
    least three pages (and on a third of them), or alike at one height on consecutive pages. A publisher/unit line
    (``部门：… 单位：万元``) is a running head only on a page that opens no table of its own: a sheet printed with a
    narrow top margin sets each table's unit line in the band at one height, and dropped, a table in 万元 was read in
    元; under a title repeated over a table's pages (print-title rows) it goes with that title."""
    vocab = vocab or vocabulary()
    by_page: dict[int, list[PageItem]] = {}
    by_id = {id(it): it for it in items}
    for it in items:
        by_page.setdefault(it.page, []).append(it)
    edges: list[PageItem] = []
    feet: list[PageItem] = []  # lines where a running head or foot may stand: the margin bands, each page's first and last
    for page_items in by_page.values():
        texts = [it for it in page_items if it.kind == "text"]
        margin = [it for it in texts if it.in_margin]
        # a word processor sets its footer above the page's margin band: a page number is the page's first or last
        # line whatever its height (a running head in the band does not make it text)
        edges += margin + [it for it in texts[:1] + texts[-1:] if not it.in_margin and _PAGE_NUMBER.fullmatch(it.text)]
        feet += margin + [it for it in texts[:1] + texts[-1:] if not it.in_margin]
    out = {id(it) for it in edges if _PAGE_NUMBER.fullmatch(it.text)}
    repeats = Counter(normalise(it.text) for it in {id(it): it for it in edges}.values())
    threshold = max(3, page_count // 3)
    out |= {id(it) for it in edges if repeats[normalise(it.text)] >= threshold and not _PAGE_NUMBER.fullmatch(it.text)
            and len(normalise(it.text)) <= MAX_TITLE_CHARS}
    # a running foot with the page number beside other text differs on every page only by its number: Chromium's own
    # print footer (``file:///…/预算.html  7/17``), Word's ``XX厅2025年部门预算  第7页``. Left as text, it closed a
    # table at each page's foot and the table's further pages were read as no table at all
    feet = list({id(it): it for it in feet}.values())
    steady = Counter(_without_page_number(it) for it in feet)
    out |= {id(it) for it in feet if (key := _without_page_number(it)) and steady[key] >= threshold
            and len(key) <= MAX_TITLE_CHARS * 2}
    # a spreadsheet's page header (the sheet's name, ``&A``: 3-部门支出总表) repeats only over that sheet's pages: in
    # a margin band, the same text at the same height on the next page is a running head from its second page on
    # (the first stays: a title repeated as a print-title row still opens its table there)
    margin_lines = sorted((it for it in items if it.kind == "text" and it.in_margin), key=lambda it: it.page)
    seen: dict[tuple[str, int], int] = {}
    for it in margin_lines:
        key = (normalise(it.text), round(it.top))
        if seen.get(key) == it.page - 1 or seen.get((key[0], key[1] - 1)) == it.page - 1 \
                or seen.get((key[0], key[1] + 1)) == it.page - 1:
            out.add(id(it))
        seen[key] = it.page
    opening = {it.page for it in items if id(it) not in out and _title_of(vocab, it)}
    return {i for i in out if not (by_id[i].page in opening and _is_caption_line(vocab, by_id[i].text))}


def _without_page_number(item: PageItem) -> str | None:
    """A line's text without the page number at its start or end (its own cell, or ``…预算 第7页`` in one), normalised;
    None when the line carries no page number there, or nothing else."""
    cells = [c for c in item.cells if c and c.strip()]
    if len(cells) > 1 and (_PAGE_NUMBER.fullmatch(cells[-1]) or _PAGE_NUMBER.fullmatch(cells[0])):
        rest = cells[:-1] if _PAGE_NUMBER.fullmatch(cells[-1]) else cells[1:]
        return normalise(" ".join(rest)) or None
    if len(cells) == 1 and (m := _TRAILING_PAGE_NUMBER.search(cells[0])) and m.start() > 0:
        return normalise(cells[0][:m.start()]) or None
    return None


def _title_of(vocab: WorkbookVocabulary, item: PageItem) -> bool:
    """Whether a line, or a ruled row of one filled cell (some printers draw the title so), is a table's title."""
    filled = [c for c in item.cells if c]
    return (item.kind == "text" and is_title(vocab, item.text)) or (len(filled) == 1 and is_title(vocab, filled[0]))


def _is_caption_line(vocab: WorkbookVocabulary, text: str) -> bool:
    """A table's publisher/unit line (``部门：宁夏回族自治区教育厅 单位：万元``), not its title."""
    return bool(vocab.unit_regex.search(text) or vocab.publisher_regex.search(normalise(text))) \
        and not is_title(vocab, text)


def contents_pages(items: list[PageItem]) -> set[int]:
    pages: dict[int, list[PageItem]] = {}
    for it in items:
        pages.setdefault(it.page, []).append(it)
    out = set()
    for page, page_items in pages.items():
        texts = [it.text for it in page_items if it.kind == "text"]
        leaders = sum(1 for t in texts if _CONTENTS_LINE.search(t))
        if any(_CONTENTS_HEAD.match(normalise(t)) for t in texts[:3]) or (texts and leaders * 2 >= len(texts) >= 3):
            out.add(page)
    return out


def _is_note(vocab: WorkbookVocabulary, text: str) -> bool:
    norm = normalise(text)
    return norm.startswith(vocab.note_prefixes) or bool(vocab.empty_note_regex.search(norm))


def is_title(vocab: WorkbookVocabulary, text: str) -> bool:
    norm = normalise(text)
    return (len(norm) <= MAX_TITLE_CHARS and not _CONTENTS_LINE.search(text)
            and vocab.table_for_title(text) is not None and not norm.startswith(vocab.note_prefixes))


def _is_header_line(vocab: WorkbookVocabulary, item: PageItem) -> bool:
    """A line that may sit between a title and its table: publisher/unit line, a second title line."""
    norm = normalise(item.text)
    if vocab.unit_regex.search(item.text) or vocab.publisher_regex.search(norm):
        return True
    return len(norm) <= 30 and not _HEADING.match(norm) and not norm.endswith(("。", "；"))


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
    return any(_title_of(vocab, it) and not _sheet_title_here(it, earlier, vocab) and not any(
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
    return _title_of(vocab, line) and bool(rows) and line.top < min(rows) - ROW_TOP_TOLERANCE \
        and not any(_title_of(vocab, q) for q in earlier)


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
               or (it.kind == "text" and it.top < rows[0].top and _is_caption_line(vocab, it.text))
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
    if not _own_titles(earlier, page, vocab):
        return True  # the title, centred over the whole width, is printed wholly on this page
    for it in _titles(page, vocab):
        beside = [q for q in earlier if abs(q.top - it.top) <= ROW_TOP_TOLERANCE]
        if not any(_pieces_of_one(q.text, it.text) for q in beside):
            return False
    return True


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
                and not (q is not None and _is_caption_line(vocab, it.text)):
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


def segment(document: PdfDocument, vocab: WorkbookVocabulary) -> tuple[list[Grid], list[TextBlock]]:
    document = PdfDocument(document.name, document.page_count,
                           join_column_pages(document.items, vocab, document.page_heights),
                           document.pages_with_text, document.page_heights)
    skip = furniture(document.items, document.page_count, vocab)
    toc = contents_pages(document.items)
    segments: list[_Segment] = []
    narrative: list[PageItem] = []
    current: _Segment | None = None

    def close() -> None:
        nonlocal current
        if current is None:
            return
        if current.state == "pre" and not current.has_empty_note:
            narrative.extend(current.items)  # a title with no table under it: a mention in the text
        else:
            segments.append(current)
        current = None

    page_first: dict[int, PageItem] = {}
    for it in document.items:
        if id(it) not in skip and it.page not in toc:
            page_first.setdefault(it.page, it)
    # ruled rows under no title (a title of another table, or none): runs of rows of one table on one page, each with
    # whether the page shows nothing above it but a publisher/unit line (no title at all, not one unknown to us)
    untitled: list[tuple[bool, list[PageItem]]] = []
    previous: PageItem | None = None

    for it in document.items:
        if id(it) in skip or it.page in toc:
            continue
        before, previous = previous, it
        if it.kind == "text":
            if is_title(vocab, it.text):
                close()
                current = _Segment(title=it, items=[it])
                continue
            if _title_over_two_lines(vocab, before, it):
                # a long title wrapped by the printer (石嘴山市2024年地方政府债务限额 / 及余额情况表): neither line names a
                # table, the two do — before, the table stood under no title and its figures were refused
                if narrative and narrative[-1] is before:
                    narrative.pop()
                elif current is not None and current.items[-1] is before:
                    current.items.pop()
                close()
                current = _Segment(title=before, items=[before, it])
                continue
            if current is not None:
                if current.state == "pre" and len(current.items) <= MAX_LINES_BEFORE_TABLE \
                        and (_is_header_line(vocab, it) or _is_note(vocab, it.text)):
                    current.items.append(it)
                    current.has_empty_note |= bool(vocab.empty_note_regex.search(normalise(it.text)))
                    continue
                if current.state in ("table", "post") and (
                        _is_note(vocab, it.text) or (current.state == "post" and not _HEADING.match(normalise(it.text))
                                                     and it.page == current.last_page and len(normalise(it.text)) <= 80
                                                     and not normalise(current.items[-1].text).endswith("。"))):
                    current.items.append(it)
                    current.state = "post"
                    continue
                close()
            narrative.append(it)
            continue
        # a table row; some printers draw the title (or the unit line) as the first ruled row, one merged cell
        filled = [c for c in it.cells if c]
        if len(filled) == 1 and is_title(vocab, filled[0]):
            close()
            current = _Segment(title=it, items=[it])
            continue
        if current is not None and current.state == "pre":
            current.state = "table"
            current.items.append(it)
        elif current is not None and current.state == "table" and (it.page == current.last_page or page_first.get(it.page) is it
                                                                   or not _starts_new_table(it, current)):
            current.items.append(it)  # the same table, or its continuation at the top of the next page
        elif current is not None and current.state == "post" and page_first.get(it.page) is it:
            current.items.append(it)  # notes at a page's foot, the table goes on over the page
            current.state = "table"
        else:
            close()  # a ruled table with no title of its own: a cover or a narrative box, not a budget table …
            if untitled and before is untitled[-1][1][-1] and (before.page, before.table_id) == (it.page, it.table_id):
                untitled[-1][1].append(it)
            else:
                untitled.append((before is None or before.page != it.page or before.kind == "text"
                                 and _is_caption_line(vocab, before.text), [it]))
    close()
    grids = [_grid(document, i, s) for i, s in enumerate(segments)]
    # … unless it holds figures and stands under no title at all: then it is a table we cannot name, refused
    grids += [_untitled(rows, len(grids) + k) for k, rows in enumerate(
        rows for bare, rows in untitled if bare and holds_figures([r.cells for r in rows]))]
    blocks = [TextBlock(it.text, it.page, None, it.row) for it in narrative]
    return grids, blocks


def _title_over_two_lines(vocab: WorkbookVocabulary, first: PageItem | None, second: PageItem) -> bool:
    """Two text lines one under the other on a page, neither a title, that together are one (a title wrapped)."""
    return (first is not None and first.kind == "text" and first.page == second.page
            and not is_title(vocab, first.text) and not _is_note(vocab, first.text)
            and is_title(vocab, first.text + second.text))


def _starts_new_table(it: PageItem, current: _Segment) -> bool:
    return it.is_table_start and it.page != current.last_page


def _grid(document: PdfDocument, index: int, segment_: _Segment) -> Grid:
    rows: list[tuple] = []
    merges: list[tuple[int, int, int, int]] = []
    origins: list[tuple[int | None, int]] = []
    for it in segment_.items:
        r = len(rows)
        rows.append(tuple(it.cells))
        origins.append((it.page, it.row))
        merges += [(r + dr0, c0, r + dr1, c1) for dr0, c0, dr1, c1 in it.merges]
    # the pages the rows stand on: printed across, then down, a sheet's rows are on pages 1 and 4 (2-3 and 5-6 hold
    # their further columns), not 1-4
    pages = f"第{_page_list(sorted({it.page for it in segment_.items}))}页"
    # columns printed on pages to the right are cited at their row on the left-hand page: the name says where they are
    across = sorted({p for it in segment_.items for p in it.joined_pages})
    if across:
        pages += f"，右侧各列在第{_page_list(across)}页"
    return Grid(name=f"表{index + 1}（{pages}）", rows=rows, merges=merges, origins=origins, source_format="pdf")


def _untitled(rows: list[PageItem], index: int) -> UntitledTable:
    pages = f"第{_page_list(sorted({it.page for it in rows}))}页"
    return UntitledTable(name=f"表{index + 1}（{pages}，无表名）", rows=[tuple(it.cells) for it in rows],
                         merges=[], origins=[(it.page, it.row) for it in rows], source_format="pdf")


def _page_list(pages: list[int]) -> str:
    """[11, 12, 13, 14, 16] → 11-14、16"""
    runs: list[list[int]] = []
    for page in pages:
        if runs and page == runs[-1][-1] + 1:
            runs[-1].append(page)
        else:
            runs.append([page])
    return "、".join(f"{r[0]}-{r[-1]}" if len(r) > 1 else f"{r[0]}" for r in runs)


__all__ = ["contents_pages", "furniture", "is_title", "join_column_pages", "segment"]
