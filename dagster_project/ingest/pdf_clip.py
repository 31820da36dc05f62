"""Glyphs a PDF draws but clips away: the text a reader of the page does not see.

A spreadsheet's print clips each cell's text to the cell (Calc: ``re W n`` before the text). A header merged over
columns the page does not hold is still drawn at its place in the sheet: with a print-title column (项目 printed again
left of every page's figure column) Calc draws 本地区 / 其中：本级, centred over columns printed on other pages, over the
repeated 项目 cell — clipped to nothing, hidden. By position its glyphs land in 项目's cell (``地区项目``, ``：本级项目``)
and the page's header no longer read as one: every figure of those pages was lost. pdfminer ignores clipping paths
(``W`` is a no-op there), so this module interprets the page once more keeping, per glyph, the bounding box of the
clipping path in force when it was drawn (rectangles: the bounding box of the path is the clip as a spreadsheet sets
it), and returns the glyphs drawn outside it.

Only glyphs on the paper count: a header drawn off the paper (x < 0 or past the page's width) is read by the segmenter
as a cue that a header goes on from the page before (``pdf_across.py``), hidden as it is. ``clipped`` says which hidden
glyphs ``pdf_reader`` takes off the page (interpreting it again only where a sign of hidden text is seen: the cost is
one more pdfminer pass of those pages), ``relocated`` gives the hidden text to the cell it was clipped to: which text
belongs to which cell is the clip's to say, not the glyphs' position.
"""
from __future__ import annotations

from pdfminer.converter import PDFPageAggregator
from pdfminer.layout import LTChar
from pdfminer.pdfinterp import PDFPageInterpreter
from pdfminer.utils import apply_matrix_pt

from dagster_project.ingest.pdf_reader import CLIP_OVERHANG, _key, _runs

CLIP_SLACK = 1.0  # points a glyph's middle may stand outside its clip and still be seen (rounding of the writer)


class _ClipInterpreter(PDFPageInterpreter):
    """pdfminer's interpreter keeping the clipping path's bounding box (device space) with the graphics state."""

    def init_state(self, ctm) -> None:
        super().init_state(ctm)
        self.clip = None
        self.clips: list = []

    def do_q(self) -> None:
        self.clips.append(self.clip)
        super().do_q()

    def do_Q(self) -> None:
        if self.clips:
            self.clip = self.clips.pop()
        super().do_Q()

    def do_W(self) -> None:
        # every point of the path, curves' control points too (a curve lies inside them): a clip drawn with curves
        # only (an oval around the page) was one point, and every glyph under it was taken for hidden
        points = [apply_matrix_pt(self.ctm, (op[i], op[i + 1])) for op in self.curpath if op[0] in "mlcvy"
                  for i in range(1, len(op) - 1, 2)]
        if not points:
            return
        xs, ys = [p[0] for p in points], [p[1] for p in points]
        box = (min(xs), min(ys), max(xs), max(ys))
        if self.clip is not None:  # a clip only narrows what is in force
            box = (max(box[0], self.clip[0]), max(box[1], self.clip[1]),
                   min(box[2], self.clip[2]), min(box[3], self.clip[3]))
        self.clip = box

    do_W_a = do_W


class _ClipDevice(PDFPageAggregator):
    interpreter: _ClipInterpreter | None = None
    drawn: list  # (glyph, hidden, clip)

    def render_char(self, *args, **kwargs) -> float:
        advance = super().render_char(*args, **kwargs)
        clip = self.interpreter.clip if self.interpreter is not None else None
        char = self.cur_item._objs[-1] if self.cur_item._objs else None
        if isinstance(char, LTChar):
            x, y = (char.x0 + char.x1) / 2, (char.y0 + char.y1) / 2
            seen = clip is None or (clip[0] - CLIP_SLACK <= x <= clip[2] + CLIP_SLACK
                                    and clip[1] - CLIP_SLACK <= y <= clip[3] + CLIP_SLACK)
            self.drawn.append((char, not seen, clip))
        return advance


def clipped_away(page) -> dict[tuple[float, float, str], tuple[float, float, float, float]]:
    """The glyphs of a pdfplumber page drawn on the paper but outside their clipping path, as (x0, top, text) rounded
    to 0.1 pt — pdfplumber's char keys —, each with the box it was clipped to (x0, top, x1, bottom: the cell the text
    belongs to). A glyph drawn twice at one place (Calc draws a title merged over the print-title column once clipped
    to that column and once to the page's other columns) is seen where either copy is."""
    device = _ClipDevice(page.pdf.rsrcmgr, pageno=page.page_number, laparams=None)
    device.drawn = []
    interpreter = _ClipInterpreter(page.pdf.rsrcmgr, device)
    device.interpreter = interpreter
    interpreter.process_page(page.page_obj)
    # device space (pdfminer: origin at the mediabox's lower left, so the paper is 0 … width) → pdfplumber's, as
    # pdfplumber converts it: x plus the mediabox's left, top measured down from the mediabox's top
    x0, top = (float(page.mediabox[0]), float(page.mediabox[3])) if page.mediabox else (0.0, 0.0)
    width = float(page.width)
    hidden: dict[tuple[float, float, str], tuple[float, float, float, float]] = {}
    seen: set[tuple[float, float, str]] = set()
    for ch, away, clip in device.drawn:
        if 0 <= ch.x0 and ch.x1 <= width:
            key = (round(ch.x0 + x0, 1), round(top - ch.y1, 1), ch.get_text())
            if away:
                hidden[key] = (clip[0] + x0, top - clip[3], clip[2] + x0, top - clip[1])
            else:
                seen.add(key)
    return {key: clip for key, clip in hidden.items() if key not in seen}


def clipped(page, tables) -> tuple[dict[tuple, tuple], set[tuple]]:
    """Glyphs the page clips away, by pdfplumber char key: (those on the paper at a ruled table's height, each with its
    clip — a header centred over columns printed on other pages, drawn over the print-title column —; the runs begun
    left of the paper whose part on it is hidden and repeats what the line shows — a title merged over a print-title
    column drawn again at its place in the sheet beside the page's copy: joined, 银川市 was read as
    ``年地方政府…情况表银川市``). The page is interpreted again only when a glyph on the paper at a frame's height
    crosses the frame's left or right rule (a cell's own text never does: Calc clips it to its cell), two glyphs in a
    frame overlap or stand against each other on other baselines (本地区 drawn into 项目's cell: no writer sets text so),
    or a run begins off the paper and ends on it."""
    frames = [t.bbox for t in tables]
    width = float(page.width)

    def crossing(ch: dict) -> bool:
        middle = (ch["top"] + ch["bottom"]) / 2
        return 0 <= ch["x0"] and ch["x1"] <= width and any(
            f[1] <= middle <= f[3] and (ch["x0"] < f[0] - CLIP_OVERHANG < ch["x1"]
                                        or ch["x0"] < f[2] + CLIP_OVERHANG < ch["x1"]) for f in frames)

    def in_frames(ch: dict) -> bool:
        return any(f[1] <= (ch["top"] + ch["bottom"]) / 2 <= f[3] for f in frames)

    # (runs outside the frames' heights only: a header drawn off the paper is the segmenter's cue, hidden as it is)
    onto = [run for run in _runs(page.chars) if run[0]["x0"] < 0 < run[-1]["x1"] and not in_frames(run[0])]
    if not onto and not (frames and (any(crossing(ch) for ch in page.chars) or _overlapping(page.chars, frames))):
        return {}, set()
    hidden = clipped_away(page)
    away = {_key(ch) for ch in page.chars if (round(ch["x0"], 1), round(ch["top"], 1), ch["text"]) in hidden}
    # (at a frame's height only: a title cut at the print-title column's edge is left as it was read)
    framed = {_key(ch): hidden[(round(ch["x0"], 1), round(ch["top"], 1), ch["text"])] for ch in page.chars
              if _key(ch) in away and in_frames(ch)}
    # a run whose part on the paper is hidden, repeating text the page shows on its line, is not seen at all: a copy of
    # a title drawn at its place in the sheet (a header drawn so, alone on its line, stays: the segmenter's cue)
    copies: set[tuple] = set()
    for run in onto:
        if not all(_key(ch) in away for ch in run if ch["x0"] >= 0):
            continue
        keys = {_key(ch) for ch in run}
        shown = "".join(ch["text"] for ch in sorted(page.chars, key=lambda ch: ch["x0"])
                        if abs(ch["top"] - run[0]["top"]) <= 0.5 and ch["x0"] >= 0 and _key(ch) not in keys)
        if "".join(ch["text"] for ch in run).strip() in shown:
            copies |= keys
    return framed, copies


def relocated(page, tables, clipped: dict[tuple, tuple], given: dict[tuple, list[tuple[str, str]]]) -> list[dict]:
    """Hidden runs of text (``clipped``) set in the cell they were clipped to: the cell of the run's row inside its
    clip (本地区, centred over 本地区's three columns and drawn over the print-title column 项目, is clipped to the page's
    figure column: it is the header of that column, merged over columns printed on other pages), given to that cell
    when it shows nothing of its own (``given``, as ``_overflow`` gives text run on). With no such cell in the row
    (a header merged over the page's edge has no rule there) the run is a word at the clip's left inside the frame —
    ``pdf_reader._run_on_past_the_edge`` puts it in the row's open slot — or, clipped to nothing on the paper, a word
    off it (x < 0): the segmenter's sign that a header of the page before goes on here. Returns those words."""
    words = []
    cells = [c for t in tables for c in t.cells]
    for run in _runs([ch for ch in page.chars if _key(ch) in clipped]):
        clip = clipped[_key(run[0])]
        text = "".join(ch["text"] for ch in run).strip()
        middle = (run[0]["top"] + run[0]["bottom"]) / 2
        own = [c for c in cells if c[1] <= middle <= c[3] and clip[0] - 1 <= c[0] and c[2] <= clip[2] + 1]
        empty = [c for c in own if not any(
            c[0] <= (ch["x0"] + ch["x1"]) / 2 <= c[2] and c[1] <= (ch["top"] + ch["bottom"]) / 2 <= c[3]
            and _key(ch) not in clipped for ch in page.chars)]
        word = {"text": text, "top": run[0]["top"], "bottom": run[0]["bottom"], "size": run[0]["size"]}
        if own:
            if empty == own:  # (a cell showing text of its own keeps it: that is what a reader sees there)
                given.setdefault(min(own), []).append(("", text))
            continue
        x0 = clip[0] + 1 if clip[0] + 1 < min(float(page.width), max(t.bbox[2] for t in tables)) else -float(page.width)
        words.append({**word, "x0": x0, "x1": x0 + run[-1]["x1"] - run[0]["x0"]})
    return words


def _overlapping(chars: list[dict], frames: list) -> bool:
    """Whether two glyphs inside the frames, side by side or one over the other (less than a glyph apart), stand on
    baselines closer than a line's height: text set over or against other text, as no writer sets it (本地区 drawn
    into 项目's cell, a few points higher). Glyphs of one line share their top; the same glyph drawn twice at one
    place is no overlap (Calc draws a title merged over a print-title column twice)."""
    inside = sorted((ch for ch in chars if any(f[0] <= (ch["x0"] + ch["x1"]) / 2 <= f[2]
                                               and f[1] <= (ch["top"] + ch["bottom"]) / 2 <= f[3] for f in frames)),
                    key=lambda ch: ch["x0"])
    for i, a in enumerate(inside):
        near = a["x1"] + (a["bottom"] - a["top"])
        for b in inside[i + 1:]:
            if b["x0"] > near:
                break
            if min(a["bottom"], b["bottom"]) - max(a["top"], b["top"]) > 1 and abs(a["top"] - b["top"]) > 1:
                return True
    return False


__all__ = ["clipped", "clipped_away", "relocated"]
