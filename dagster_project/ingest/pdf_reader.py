"""Text PDFs → pages of lines and table rows, in reading order, with page and row numbers.

pdfplumber (MIT) finds ruled tables on a page (``find_tables``: cell rectangles from the drawn lines)
and the words outside them. A page becomes a list of ``PageItem``s sorted top to bottom: a text line
(words split into cells where a wide gap separates them: ``编制部门：…`` | ``单位：元``) or a table row
(cells by the table's column edges; a merged cell's text in its top-left cell, the span recorded).
``row`` is the item's position on its page counting every line and table row from the top, as a person
counts them. Which items form a budget table, which are its continuation on the next page and which are
page furniture is the segmenter's business (``segmenter.py``), not this module's.

Format quirks are fixed here once: radical code points (``部⻔⽀出`` → ``部门支出``), pdfminer's noisy
FontBBox warnings, scanned pages without a text layer, text in fonts without a Unicode map, and encrypted
files.
"""
from __future__ import annotations

import logging
from bisect import bisect_left, bisect_right
from dataclasses import dataclass, field
from pathlib import Path

from dagster_project.ingest.grid import unify_ideographs
from dagster_project.ingest.pdf_unruled import unruled_tables

# pdfminer logs a FontBBox warning per glyph run on Chromium/Noto CJK PDFs: nothing about the data.
for _name in ("pdfminer", "pdfminer.pdffont", "pdfminer.pdfpage", "pdfminer.pdfinterp", "pdfminer.converter"):
    logging.getLogger(_name).setLevel(logging.ERROR)

# words further apart than this (in multiples of the font size) are separate cells of a text line
CELL_GAP_EM = 2.5
LINE_TOLERANCE = 3.0
# A PDF is refused as unreadable when this share of its characters has no Unicode value (pdfminer's "(cid:N)")
UNMAPPED_SHARE = 0.1
MARGIN_BAND = 0.09  # share of the page height at top and bottom that holds running heads and page numbers


@dataclass
class PageItem:
    page: int                       # 1-based
    row: int                        # 1-based position on the page (lines and table rows)
    kind: str                       # text | table
    cells: list                     # text: strings; table: strings or None (None = covered by a merge)
    top: float
    table_id: int | None = None     # tables on one page are numbered 0, 1, …
    merges: list[tuple[int, int, int, int]] = field(default_factory=list)  # table rows: spans starting here
    is_table_start: bool = False    # first row of a ruled table on its page
    in_margin: bool = False         # in the top or bottom margin band, where running heads and page numbers sit
    boxed: bool = False             # a text line inside a ruled box one column wide (a one-column slice of a table)
    edges: tuple[float, ...] = ()   # ruled table rows: the x of the table's column rules (points, rounded)
    joined_pages: tuple[int, ...] = ()  # pages printing this row's further columns (a sheet printed across pages)
    box_rows: tuple[float, ...] = ()    # boxed lines: the tops of the box's ruled rows (blank cells show no line)
    lefts: tuple[float, ...] = ()       # text lines: the x of each cell's left end (points)

    @property
    def text(self) -> str:
        return " ".join(c for c in self.cells if c)


@dataclass
class PdfDocument:
    name: str
    page_count: int
    items: list[PageItem]
    pages_with_text: int
    page_heights: dict[int, float] = field(default_factory=dict)  # points, by page number
    # pages drawn as images with no text on them (scanned pages bound into a text PDF): their content cannot be read
    image_pages: tuple[int, ...] = ()


def _encrypted_error(exc: Exception) -> bool:
    # pdfplumber wraps pdfminer's PDFPasswordIncorrect / PDFEncryptionError in its own exception's args
    text = " ".join(f"{type(e).__name__} {e!r}" for e in (exc, *exc.args, exc.__context__) if e is not None).lower()
    return any(word in text for word in ("password", "encrypt", "decrypt", "crypt"))


def read_pdf(path: Path, name: str) -> PdfDocument:
    import pdfplumber

    from dagster_project.ingest.readers import refuse

    try:
        pdf = pdfplumber.open(str(path))
        pages = pdf.pages  # parses the page tree: encrypted files fail here at the latest
    except Exception as exc:  # noqa: BLE001 - every failure to open is a whole-file refusal
        if _encrypted_error(exc):
            raise refuse(name, "是加密的PDF（需要密码才能打开）", "an encrypted PDF (it needs a password to open)") from None
        raise refuse(name, f"不是可读取的PDF文件（{type(exc).__name__}）", f"not a readable PDF ({type(exc).__name__})") from None
    items: list[PageItem] = []
    heights: dict[int, float] = {}
    with_text = glyphs = unmapped = 0
    image_pages: list[int] = []
    try:
        for page in pages:
            glyphs += len(page.chars)
            unmapped += sum(1 for ch in page.chars if ch["text"].startswith("(cid:"))
            try:
                page_items = _page_items(page)
            except Exception as exc:  # noqa: BLE001
                if _encrypted_error(exc):
                    raise refuse(name, "是加密的PDF（需要密码才能打开）", "an encrypted PDF (it needs a password to open)") from None
                raise
            heights[page.page_number] = float(page.height)
            if page_items:
                with_text += 1
            elif page.images:
                image_pages.append(page.page_number)
            items.extend(page_items)
        count = len(pages)
    finally:
        pdf.close()
    if count and not with_text:
        raise refuse(name, "是扫描件（图片PDF），没有文字层", "a scanned PDF: its pages are images with no text layer")
    if glyphs and unmapped >= UNMAPPED_SHARE * glyphs:
        # fonts embedded without a Unicode map (ToUnicode): the text layer is glyph numbers, "(cid:144)(cid:255)…";
        # read as it is, the file would show no table and no section — "missing" instead of "unreadable"
        raise refuse(name, f"的文字无法提取（{unmapped}/{glyphs} 个字符的字体没有Unicode映射），请重新导出为可复制文字的PDF",
                     f"a PDF whose text cannot be extracted ({unmapped} of {glyphs} characters in fonts without a "
                     f"Unicode map); export it again as a PDF whose text can be copied")
    return PdfDocument(name=name, page_count=count, items=items, pages_with_text=with_text, page_heights=heights,
                       image_pages=tuple(image_pages))


def _table_settings(page) -> dict:
    """pdfplumber's defaults, plus the borders pdfminer reports as curves: a thin axis-aligned box drawn as a path
    pdfminer does not take for a rectangle (its points in another order: a page printed rotated, /Rotate 270, drew
    the rules between 类 | 款 | 项 so) — without them those cells merged and their headers were lost."""
    from pdfplumber.utils import rect_to_edges

    boxes = []
    for curve in page.curves:
        points = curve.get("pts") or []
        xs, ys = {round(x, 1) for x, _ in points}, {round(y, 1) for _, y in points}
        if 4 <= len(points) <= 5 and len(xs) <= 2 and len(ys) <= 2 and min(curve["width"], curve["height"]) < 2:
            boxes.append(curve)
    if not boxes:
        return {}
    edges = [edge for box in boxes for edge in rect_to_edges(box)]
    return {"explicit_vertical_lines": [e for e in edges if e["orientation"] == "v"],
            "explicit_horizontal_lines": [e for e in edges if e["orientation"] == "h"]}


def _inside(word: dict, bbox) -> bool:
    x = (word["x0"] + word["x1"]) / 2
    y = (word["top"] + word["bottom"]) / 2
    return bbox[0] - 1 <= x <= bbox[2] + 1 and bbox[1] - 1 <= y <= bbox[3] + 1


# glyphs further apart than this (points) are not one run of text; a text starting or ending this near a cell's rule is
# aligned to that side of the cell
RUN_GAP = 0.6
ALIGN_SLACK = 4.0
CLIP_OVERHANG = 1.0  # points a glyph may reach over its cell's rule and still be seen whole


def _runs(chars: list[dict]) -> list[list[dict]]:
    """Glyphs → runs: glyphs of one baseline drawn edge to edge (a cell's text as the printer set it)."""
    runs: list[list[dict]] = []
    for ch in sorted(chars, key=lambda c: (round(c["top"], 1), c["x0"])):
        last = runs[-1][-1] if runs else None
        if last and abs(last["top"] - ch["top"]) <= 0.5 and -RUN_GAP <= ch["x0"] - last["x1"] <= RUN_GAP:
            runs[-1].append(ch)
        else:
            runs.append([ch])
    return runs


def _overflow(page, tables) -> tuple[set[tuple], dict[tuple, list[tuple[str, str]]]]:
    """Glyphs past the rule of the cell their text belongs to, and what they add to that cell's text.

    A spreadsheet prints text too long for its cell across the neighbouring cells while they are empty (borders are
    still drawn through it: a reader sees the whole text), and cut off at the rule of the first one that holds
    something (Calc and Excel clip it there; the glyphs past the cut are still drawn, only hidden). By position the
    glyphs past the rule would land in the neighbour (``算37878533`` for ``37878533``, ``幼儿园…`` under 合计): all
    of them are taken off the page, and those over empty neighbours, up to the first filled one, are given back to
    the text's own cell as (the text its cell shows, the whole text). The text's own cell is the one it is aligned
    in: starting at a cell's left rule (left-aligned, going on to the right), else ending at its right rule
    (right-aligned, to the left), else the cell holding its middle (centred)."""
    off: set[tuple] = set()
    given: dict[tuple, list[tuple[str, str]]] = {}
    # cells grouped by their row band (top, bottom): a run looks only at the bands around its middle
    bands: dict[tuple[float, float], list[tuple]] = {}
    for table in tables:
        for cell in table.cells:
            bands.setdefault((cell[1], cell[3]), []).append(cell)
    if not bands:
        return off, given
    tops = sorted(bands)
    tallest = max(bottom - top for top, bottom in tops)
    starts = [top for top, _ in tops]
    in_band: dict[tuple[float, float], list[dict]] = {}

    def holds_text(cell: tuple, run_keys: set[tuple]) -> bool:
        """Whether a cell holds glyphs of its own (not the running text's): filled, it cuts the text at its rule."""
        band = (cell[1], cell[3])
        if band not in in_band:
            in_band[band] = [ch for ch in page.chars if band[0] <= (ch["top"] + ch["bottom"]) / 2 < band[1]]
        return any(cell[0] <= (ch["x0"] + ch["x1"]) / 2 < cell[2] and _key(ch) not in run_keys for ch in in_band[band])

    for run in _runs(page.chars):
        left, right = run[0]["x0"], run[-1]["x1"]
        middle = (run[0]["top"] + run[0]["bottom"]) / 2
        k = bisect_right(starts, middle)
        row = [c for top, bottom in tops[bisect_left(starts, middle - tallest):k] if bottom >= middle
               for c in bands[(top, bottom)]]
        touched = [c for c in row if c[0] < right and c[2] > left]
        if len(touched) < 2:
            continue  # within one cell: nothing overflows
        home = (next((c for c in touched if c[0] - 1 <= left <= c[0] + ALIGN_SLACK), None)
                or next((c for c in touched if c[2] - ALIGN_SLACK <= right <= c[2] + 1), None)
                or next((c for c in touched if c[0] <= (left + right) / 2 <= c[2]), None))
        if home is None:
            continue
        past = [ch for ch in run if ch["x1"] > home[2] + CLIP_OVERHANG or ch["x0"] < home[0] - CLIP_OVERHANG]
        if not past:
            continue
        keys = {_key(ch) for ch in run}
        off |= {_key(ch) for ch in past}
        # a glyph is seen when no cell between its own cell and the text's holds anything (empty, the text runs on)
        between = [c for c in touched if c is not home]
        seen = [ch for ch in past if not any(
            holds_text(c, keys) for c in between
            if home[2] - 1 <= c[0] < ch["x1"] - CLIP_OVERHANG or ch["x0"] + CLIP_OVERHANG < c[2] <= home[0] + 1)]
        if seen:
            shown = [ch for ch in run if all(ch is not q for q in past)]
            whole = sorted(shown + seen, key=lambda ch: ch["x0"])
            given.setdefault(home, []).append(("".join(ch["text"] for ch in shown).strip(),
                                               "".join(ch["text"] for ch in whole).strip()))
    return off, given


def _key(ch: dict) -> tuple:
    return ch["x0"], ch["top"], ch["text"]


def _page_items(page) -> list[PageItem]:
    if not page.chars:
        return []
    found = page.find_tables(_table_settings(page))
    off, given = _overflow(page, found)
    # glyphs the page clips away (a print-title column's pages): pdf_clip.py
    from dagster_project.ingest.pdf_clip import clipped, relocated

    hidden, cut_off = clipped(page, found)
    hidden_words = relocated(page, found, hidden, given)
    off |= set(hidden) | cut_off
    if off:
        # the rules stay as they were: the same cells, their text read from the page without the glyphs past them
        from pdfplumber.table import Table

        page = page.filter(lambda obj: obj.get("object_type") != "char" or _key(obj) not in off)
        found = [Table(page, table.cells) for table in found]
    tables = [t for t in found if len(t.rows) >= 1 and len({c[0] for c in t.cells}) >= 2]
    # a ruled box one column wide is no table (a framed note, a cover's box), but it may be the last column of a
    # sheet printed over two pages: its lines say so, for the segmenter to join them to the rows they continue
    boxes = {t.bbox: tuple(round(r.bbox[1], 1) for r in t.rows) for t in found if t not in tables and len(t.rows) >= 2}
    entries: list[tuple[float, PageItem]] = []
    for table_id, table in enumerate(tables):
        edges = tuple(round(x, 1) for x in _edges([c[0] for c in table.cells] + [table.bbox[2]]))
        for position, (cells, merges, top) in enumerate(_table_rows(table, given)):
            entries.append((top, PageItem(page.page_number, 0, "table", cells, top, table_id, merges,
                                          is_table_start=position == 0, edges=edges)))
    every_word = _split_figures(page.extract_words(use_text_flow=False, keep_blank_chars=False,
                                                   extra_attrs=["size"], return_chars=True))
    words = [w for w in every_word if not any(_inside(w, t.bbox) for t in tables)] + [
        w for w in hidden_words if w["x0"] < 0]
    # words inside a table's frame and in none of its cells: a header merged over the page's edge has no rule there,
    # so no cell (本地区 over 合计 and the columns on the next page); they go in that row's open slot, or nowhere
    loose = [w for w in every_word if any(_inside(w, t.bbox) for t in tables)
             and not any(_inside(w, cell) for t in tables for cell in t.cells)]
    loose += [w for w in hidden_words if w["x0"] >= 0]
    if loose:
        _run_on_past_the_edge(_word_lines(loose), tables, entries)
    band = MARGIN_BAND * float(page.height)
    lines = _word_lines(words)
    taken: set[int] = set()
    if not tables:  # a table printed without rules (三线表, rules between rows only, no borders): pdf_unruled.py
        margin = {k for k, (top, _) in enumerate(lines) if top < band or top > float(page.height) - band}
        found, taken = unruled_tables(lines, join=_clean_cell, normalise=lambda t: t.strip(), is_caption=_is_caption,
                                      margin=margin, is_note=_is_note)
        for table_id, rows in enumerate(found):
            for position, (cells, merges, top) in enumerate(rows):
                entries.append((top, PageItem(page.page_number, 0, "table", cells, top, table_id, merges,
                                              is_table_start=position == 0)))
    taken |= _run_on_past_the_edge(lines, tables, entries)
    verticals = [(float(e["x0"]), float(e["top"]), float(e["bottom"])) for e in page.vertical_edges]
    for k, (top, line) in enumerate(lines):
        if k not in taken:
            box_rows = next((r for box, r in boxes.items() if all(_inside(w, box) for w in line)), ())
            entries.append((top, PageItem(page.page_number, 0, "text", _line_cells(line), top,
                                          in_margin=top < band or top > float(page.height) - band,
                                          boxed=bool(box_rows), box_rows=box_rows,
                                          lefts=_line_lefts(line, verticals))))
    entries.sort(key=lambda e: (e[0], 0 if e[1].kind == "text" else 1))
    out = []
    for row, (_, item) in enumerate(entries, start=1):
        item.row = row
        out.append(item)
    return out


def _run_on_past_the_edge(lines: list[tuple[float, list[dict]]], tables, entries: list[tuple[float, PageItem]]) -> set[int]:
    """Lines that are a ruled row's own text, drawn right of the row's last cell: a header merged across columns that
    the page cuts (公务用车购置及运行费 over 小计 | 购置费 | 运行费, its first column on this page, the others on the
    next) has no rule at the page's edge, so no cell; Calc still draws its text, centred over the whole merge, past
    the last rule. Kept as a line of its own, it was joined onto the row beside it before the row's cells (公务接待费)
    and every figure right of it was read one column off. It goes in the row's first open slot after its last cell
    (no cell there, no merge covering it). Returns the lines so placed."""
    placed: set[int] = set()
    rows = [it for _, it in entries if it.kind == "table" and it.edges]
    for k, (top, line) in enumerate(lines):
        x0 = line[0]["x0"]
        for table_id, table in enumerate(tables):
            own = sorted((it for it in rows if it.table_id == table_id), key=lambda it: it.top)
            if not own or not (table.bbox[1] - LINE_TOLERANCE <= top < table.bbox[3]):
                continue
            at = max((i for i, it in enumerate(own) if it.top <= top + LINE_TOLERANCE), default=None)
            if at is None:
                continue
            row, edges = own[at], own[at].edges
            covered = {c for it in own[:at + 1] for dr0, c0, dr1, c1 in it.merges
                       if own.index(it) + dr1 >= at for c in range(c0, c1 + 1)}
            filled = [c for c, v in enumerate(row.cells) if v is not None or c in covered]
            slot = (filled[-1] + 1) if filled else 0
            if slot < len(row.cells) and slot + 1 < len(edges) and x0 >= edges[slot] \
                    and all(row.cells[c] is None and c not in covered for c in range(slot, len(row.cells))):
                row.cells[slot] = " ".join(_line_cells(line))
                placed.add(k)
            break
    return placed


# a figure's glyphs stand edge to edge; a gap this wide (in ems) after one is the padding between two cells
FIGURE_GAP_EM = 0.12
_FIGURE_END = set("0123456789.,%)）")
_FIGURE_NEXT = set("-—–0123456789(（")


def _split_figures(words: list[dict]) -> list[dict]:
    """Words split where a figure ends and, after a gap, a figure or a dash begins: a right-aligned amount and the
    next cell's left-aligned ``-`` (nothing), printed without rules and with a spreadsheet's narrow cell padding,
    stand closer than pdfplumber's word gap (``2,366,062.69-``); a reader sees two cells. The second word carries
    ``cell_gap``: the table finder (``pdf_unruled.py``) takes the gap for a gutter, narrow as it is."""
    out = []
    for word in words:
        chars = word.pop("chars", None) or []
        start, label_at = 0, None
        for i in range(1, len(chars)):
            a, b = chars[i - 1], chars[i]
            if a["text"] in _FIGURE_END and b["x0"] - a["x1"] > FIGURE_GAP_EM * float(b.get("size") or 10):
                if b["text"] in _FIGURE_NEXT:
                    out.append(_word_of(chars[start:i], word, start > 0))
                    start = i
                elif label_at is None and "\u4e00" <= b["text"] <= "\u9fff":
                    label_at = i
        last = _word_of(chars[start:], word, True) if start else word
        if label_at is not None and label_at > start:
            # an amount and the next cell's name (收入 | 37,878,532.74 | 教育支出): split only inside a table's data
            # row (pdf_unruled.py), as a justified paragraph sets such gaps between a figure and its unit too
            last["pieces"] = [_word_of(chars[start:label_at], word, start > 0), _word_of(chars[label_at:], word, True)]
        out.append(last)
    return out


def _word_of(chars: list[dict], word: dict, after_gap: bool) -> dict:
    piece = {**word, "text": "".join(c["text"] for c in chars), "x0": chars[0]["x0"], "x1": chars[-1]["x1"]}
    if after_gap:
        piece["cell_gap"] = True
    return piece


def _word_lines(words: list[dict]) -> list[tuple[float, list[dict]]]:
    """Words → lines by vertical position: (top, the line's words left to right)."""
    lines: list[list[dict]] = []
    for word in sorted(words, key=lambda w: (round(w["top"]), w["x0"])):
        if lines and abs(lines[-1][0]["top"] - word["top"]) <= LINE_TOLERANCE:
            lines[-1].append(word)
        else:
            lines.append([word])
    return [(min(w["top"] for w in line), sorted(line, key=lambda w: w["x0"])) for line in lines]


def _line_lefts(line: list[dict], verticals: list[tuple[float, float, float]]) -> tuple[float, ...]:
    """Where each of ``_line_cells``' cells begins: the nearest vertical rule left of its text at its height (a header
    merged over columns is centred between rules, not at its first column's), else its text's left end; a text
    beginning left of the paper keeps that (negative) x."""
    lefts, last_x1 = [], None
    for word in line:
        if last_x1 is None or word["x0"] - last_x1 > CELL_GAP_EM * float(word.get("size") or 10):
            x0, middle = float(word["x0"]), (float(word["top"]) + float(word["bottom"])) / 2
            rules = [x for x, top, bottom in verticals if top <= middle <= bottom and x <= x0 + 1]
            lefts.append(round(max(rules) if rules and x0 >= 0 else x0, 1))
        last_x1 = word["x1"]
    return tuple(lefts)


def _line_cells(line: list[dict]) -> list[str]:
    """A text line's words → cells, split at wide gaps."""
    cells, current, last_x1 = [], [], None
    for word in line:
        gap_limit = CELL_GAP_EM * float(word.get("size") or 10)
        if last_x1 is not None and word["x0"] - last_x1 > gap_limit:
            cells.append(" ".join(current))
            current = []
        current.append(unify_ideographs(word["text"]))
        last_x1 = word["x1"]
    cells.append(" ".join(current))
    return [_join_cjk(c) for c in cells]


def _is_caption(text: str) -> bool:
    """A table's title (the segmenter's own test) or its publisher/unit line: above a header band."""
    from dagster_project.ingest.segmenter import is_title
    from dagster_project.ingest.workbook_spec import normalise, vocabulary

    vocab, text = vocabulary(), _join_cjk(unify_ideographs(text))
    return bool(vocab.unit_regex.search(text) or vocab.publisher_regex.search(normalise(text)) or is_title(vocab, text))


def _is_note(text: str) -> bool:
    from dagster_project.ingest.workbook_spec import normalise, vocabulary

    return normalise(_join_cjk(unify_ideographs(text))).startswith(vocabulary().note_prefixes)


def _clean_cell(text: str) -> str:
    return _join_cjk(unify_ideographs(text)).strip()


def _join_cjk(text: str) -> str:
    """pdfplumber puts a space between words; between two CJK characters it is a line-wrap artefact."""
    out = []
    for i, ch in enumerate(text):
        if ch == " " and 0 < i < len(text) - 1 and _is_cjk(text[i - 1]) and _is_cjk(text[i + 1]):
            continue
        out.append(ch)
    return "".join(out)


def _is_cjk(ch: str) -> bool:
    return "\u3000" <= ch <= "\u9fff" or "\uff00" <= ch <= "\uffef"


def _edges(values: list[float], tolerance: float = 1.5) -> list[float]:
    out: list[float] = []
    for v in sorted(values):
        if not out or v - out[-1] > tolerance:
            out.append(v)
    return out


def _index(edges: list[float], value: float, tolerance: float = 1.5) -> int:
    return min(range(len(edges)), key=lambda i: abs(edges[i] - value))


def _table_rows(table, given: dict[tuple, list[tuple[str, str]]] | None = None) -> list[tuple[list, list, float]]:
    """Rows of one ruled table: (cells with None where a merge covers them, merges starting on the row, top).
    ``given``: text run on over empty neighbours, by its own cell: (what the cell holds of it, the whole text)."""
    xs = _edges([c[0] for c in table.cells])
    ys = _edges([c[1] for c in table.cells])
    width, height = len(xs), len(ys)
    grid: list[list] = [[None] * width for _ in range(height)]
    spans: dict[int, list[tuple[int, int, int, int]]] = {}
    texts = {}
    for row, extracted in zip(table.rows, table.extract()):
        for bbox, text in zip(row.cells, extracted):
            if bbox is not None:
                texts[bbox] = text
    for bbox in table.cells:
        r0, c0 = _index(ys, bbox[1]), _index(xs, bbox[0])
        r1 = max([i for i, y in enumerate(ys) if y < bbox[3] - 1.5] or [r0])
        c1 = max([i for i, x in enumerate(xs) if x < bbox[2] - 1.5] or [c0])
        text = texts.get(bbox)
        for shown, whole in (given or {}).get(bbox, []):
            # (nothing of it found in the cell's text: the whole text goes after the cell's other lines, never glued on)
            text = text.replace(shown, whole, 1) if shown and text and shown in text else \
                "\n".join(t for t in (text, whole) if t)
        grid[r0][c0] = _join_cjk(unify_ideographs((text or "").replace("\n", " ")).strip())
        if r1 > r0 or c1 > c0:
            spans.setdefault(r0, []).append((0, c0, r1 - r0, c1))
    out = []
    for r in range(height):
        out.append((grid[r], spans.get(r, []), ys[r]))
    return out


__all__ = ["PageItem", "PdfDocument", "read_pdf"]
