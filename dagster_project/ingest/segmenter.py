"""The segmenter: a PDF's stream of lines and table rows → one ``Grid`` per published table, plus the
running text around them.

It knows layout, not meaning: a table starts at its title line (a line naming a catalogue table), takes
the publisher/unit line and any note under the title, then the ruled table's rows — over as many pages
as the table runs: a page that opens with table rows and no title continues the open table (its
repeated header rows stay in the grid; the recogniser skips a header band met again). Notes under the
table (``注：…``, an empty-table note) belong to it. A sheet wider than the paper, printed from a spreadsheet,
goes on over further pages to the right (Calc and Excel print down, then across): those pages' rows stand at the
very heights of the rows they continue, and are joined onto them first (``pdf_column_pages.py``). Page numbers and
running heads are furniture, never data. A contents page (目录) lists table names without being tables.
Everything else is running text: the narrative a disclosure must also carry — but a ruled table holding figures
under no title at all is refused with its page (``pdf_untitled.py``), never dropped.
"""
from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field

from dagster_project.ingest.grid import Grid, TextBlock
from dagster_project.ingest.pdf_column_pages import join_column_pages
from dagster_project.ingest.pdf_reader import PageItem, PdfDocument
from dagster_project.ingest.pdf_titles import MAX_TITLE_CHARS, is_caption_line, is_title, title_of
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
# a table's title printed again where it goes on (Word and WPS documents split a long table: ``…支出预算总表（续表）``,
# ``（续）``, ``续表``): matched on the normalised title (NFKC: full-width brackets are ASCII)
_CONTINUED = re.compile(r"(?:\(续(?:表|上表)?\)|续表)$")
MAX_LINES_BEFORE_TABLE = 4


@dataclass
class _Segment:
    title: PageItem
    items: list[PageItem] = field(default_factory=list)
    state: str = "pre"  # pre (title seen) | table (rows seen) | post (notes under the table)
    has_empty_note: bool = False
    resumed: bool = False  # its title printed again with 续表: the next rows go on with it though they start a page

    def title_text(self) -> str:
        return self.title.text if self.title.kind == "text" else next((c for c in self.title.cells if c), "")

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
    opening = {it.page for it in items if id(it) not in out and title_of(vocab, it)}
    return {i for i in out if not (by_id[i].page in opening and is_caption_line(vocab, by_id[i].text))}


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


def _is_header_line(vocab: WorkbookVocabulary, item: PageItem) -> bool:
    """A line that may sit between a title and its table: publisher/unit line, a second title line."""
    norm = normalise(item.text)
    if vocab.unit_regex.search(item.text) or vocab.publisher_regex.search(norm):
        return True
    return len(norm) <= 30 and not _HEADING.match(norm) and not norm.endswith(("。", "；"))


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
            if _resumes(vocab, it.text, current):
                current.resumed, current.state = True, "table"
                continue  # the title again (续表): not data, and no new table
            if current is not None and current.resumed and is_caption_line(vocab, it.text):
                continue  # its publisher/unit line again
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
        if len(filled) == 1 and _resumes(vocab, filled[0], current):
            current.resumed, current.state = True, "table"
            continue
        if len(filled) == 1 and is_title(vocab, filled[0]):
            close()
            current = _Segment(title=it, items=[it])
            continue
        if current is not None and current.state == "pre":
            current.state = "table"
            current.items.append(it)
        elif current is not None and current.state == "table" and (it.page == current.last_page or page_first.get(it.page) is it
                                                                   or current.resumed
                                                                   or not _starts_new_table(it, current)):
            current.items.append(it)  # the same table, or its continuation at the top of the next page (or its 续表)
            current.resumed = False
        elif current is not None and current.state == "post" and page_first.get(it.page) is it:
            current.items.append(it)  # notes at a page's foot, the table goes on over the page
            current.state = "table"
        else:
            close()
            title = _unknown_title_above(vocab, narrative, before, it)
            if title is not None:
                # a table under a title naming no catalogue table (…对下转移支付分地区分项目表): a table of its own, read
                # and reported as one we cannot name (RAW_FORMATS.md: reported, not fatal). Before, it was taken for a
                # narrative box and dropped in silence — or, its unit line under the title, refused as having no title.
                # Its lines stay in the running text too: a 财政项目支出绩效目标填报表 is where a 绩效目标 explanation is found
                k = next(i for i in range(len(narrative) - 1, -1, -1) if narrative[i] is title)
                current = _Segment(title=title, items=[*narrative[k:], it], state="table")
                continue
            # a ruled table with no title of its own: a cover or a narrative box, not a budget table …
            if untitled and before is untitled[-1][1][-1] and (before.page, before.table_id) == (it.page, it.table_id):
                untitled[-1][1].append(it)
            else:
                untitled.append((before is None or before.page != it.page or before.kind == "text"
                                 and is_caption_line(vocab, before.text), [it]))
    close()
    grids = [_grid(document, i, s) for i, s in enumerate(segments)]
    # … unless it holds figures and stands under no title at all: then it is a table we cannot name, refused
    grids += [_untitled(rows, len(grids) + k) for k, rows in enumerate(
        rows for bare, rows in untitled if bare and holds_figures([r.cells for r in rows]))]
    blocks = [TextBlock(it.text, it.page, None, it.row) for it in narrative]
    return grids, blocks


def _unknown_title_above(vocab: WorkbookVocabulary, narrative: list[PageItem], before: PageItem | None,
                         row: PageItem) -> PageItem | None:
    """The line right above a ruled table (its publisher/unit lines between them aside) when it reads as a table's
    title that names no catalogue table: on the same page, short, ending in 表, no note, no contents line."""
    if before is None or not narrative or narrative[-1] is not before:
        return None
    k = len(narrative) - 1
    while k > 0 and len(narrative) - k <= 2 and is_caption_line(vocab, narrative[k].text):
        k -= 1
    line = narrative[k]
    norm = normalise(line.text)
    if line.kind != "text" or line.page != row.page or not norm.endswith("表") or len(norm) > MAX_TITLE_CHARS \
            or _is_note(vocab, line.text) or _CONTENTS_LINE.search(line.text) or is_caption_line(vocab, line.text):
        return None
    return line


def _title_over_two_lines(vocab: WorkbookVocabulary, first: PageItem | None, second: PageItem) -> bool:
    """Two text lines one under the other on a page, neither a title, that together are one (a title wrapped)."""
    return (first is not None and first.kind == "text" and first.page == second.page
            and not is_title(vocab, first.text) and not _is_note(vocab, first.text)
            and is_title(vocab, first.text + second.text))


def _resumes(vocab: WorkbookVocabulary, text: str, current: _Segment | None) -> bool:
    """Whether a line is the open table's title printed again where the table goes on (``…（续表）``): it names the same
    catalogue table. Before, the 续表 was a second table of the same name, without the 合计 row its rows add up to."""
    if current is None or current.state == "pre":
        return False
    norm = normalise(text)
    found = _CONTINUED.search(norm)
    if not found or not is_title(vocab, text):
        return False
    same = vocab.table_for_title(norm[:found.start()])
    return same is not None and same is vocab.table_for_title(current.title_text())


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
