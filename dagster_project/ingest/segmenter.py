"""The segmenter: a PDF's stream of lines and table rows → one ``Grid`` per published table, plus the
running text around them.

It knows layout, not meaning: a table starts at its title line (a line naming a catalogue table), takes
the publisher/unit line and any note under the title, then the ruled table's rows — over as many pages
as the table runs: a page that opens with table rows and no title continues the open table (its
repeated header rows stay in the grid; the recogniser skips a header band met again). Notes under the
table (``注：…``, an empty-table note) belong to it. Page numbers and running heads are furniture, never
data. A contents page (目录) lists table names without being tables. Everything else is running text:
the narrative a disclosure must also carry.
"""
from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field

from dagster_project.ingest.grid import Grid, TextBlock
from dagster_project.ingest.pdf_reader import PageItem, PdfDocument
from dagster_project.ingest.pdf_unruled import CONTENTS_LINE as _CONTENTS_LINE
from dagster_project.ingest.pdf_unruled import HEADING as _HEADING
from dagster_project.ingest.workbook_spec import WorkbookVocabulary, normalise

_PAGE_NUMBER = re.compile(r"^[-—–·\s]*(?:第\s*)?\d{1,4}(?:\s*页)?(?:\s*[/／]\s*(?:共\s*)?\d{1,4}\s*页?)?[-—–·\s]*$")
_CONTENTS_HEAD = re.compile(r"^目\s*录$")
MAX_TITLE_CHARS = 60
MAX_LINES_BEFORE_TABLE = 4


@dataclass
class _Segment:
    title: PageItem
    items: list[PageItem] = field(default_factory=list)
    state: str = "pre"  # pre (title seen) | table (rows seen) | post (notes under the table)
    has_empty_note: bool = False

    @property
    def last_page(self) -> int:
        return self.items[-1].page


def furniture(items: list[PageItem], page_count: int) -> set[int]:
    """ids of page numbers and running heads/feet: text lines in a page's top or bottom margin band (or, where
    the printer set no margins, among its first/last two lines) that are a page number, or that repeat on at
    least three pages (and on a third of them). A publisher/unit line repeated under every table title is
    not in the margin: it stays."""
    by_page: dict[int, list[PageItem]] = {}
    for it in items:
        by_page.setdefault(it.page, []).append(it)
    edges: list[PageItem] = []
    for page_items in by_page.values():
        texts = [it for it in page_items if it.kind == "text"]
        margin = [it for it in texts if it.in_margin]
        edges += margin if margin else [it for it in texts[:1] + texts[-1:] if _PAGE_NUMBER.fullmatch(it.text)]
    out = {id(it) for it in edges if _PAGE_NUMBER.fullmatch(it.text)}
    repeats = Counter(normalise(it.text) for it in {id(it): it for it in edges}.values())
    threshold = max(3, page_count // 3)
    out |= {id(it) for it in edges if repeats[normalise(it.text)] >= threshold and not _PAGE_NUMBER.fullmatch(it.text)
            and len(normalise(it.text)) <= MAX_TITLE_CHARS}
    return out


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


def segment(document: PdfDocument, vocab: WorkbookVocabulary) -> tuple[list[Grid], list[TextBlock]]:
    skip = furniture(document.items, document.page_count)
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

    for it in document.items:
        if id(it) in skip or it.page in toc:
            continue
        if it.kind == "text":
            if is_title(vocab, it.text):
                close()
                current = _Segment(title=it, items=[it])
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
            close()  # a ruled table with no title of its own: a cover or a narrative box, not a budget table
    close()
    grids = [_grid(document, i, s) for i, s in enumerate(segments)]
    blocks = [TextBlock(it.text, it.page, None, it.row) for it in narrative]
    return grids, blocks


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
    first, last = segment_.items[0].page, segment_.items[-1].page
    pages = f"第{first}页" if first == last else f"第{first}-{last}页"
    return Grid(name=f"表{index + 1}（{pages}）", rows=rows, merges=merges, origins=origins, source_format="pdf")


__all__ = ["contents_pages", "furniture", "is_title", "segment"]
