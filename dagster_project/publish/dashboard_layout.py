"""Figure sizes and margins computed from what a figure shows, so no label is cut or thinned out.

Plotly sizes a figure from the browser window and thins out category labels that do not fit (a
63-column heatmap showed every other table, 9 publisher rows were drawn 7 px high and only 5 of
their labels shown). Here every category axis shows every label, each category gets a slot tall or
wide enough for one line of text, and the margins hold the longest tick label, the (wrapped) axis
titles, the legend and the title, estimated from the text itself.

Text width is estimated per character (CJK and full-width characters 1 em, others 0.62 em: the
widest Latin glyphs of Noto Sans CJK SC, so estimates err on the wide side); the browser test
(tests/test_dashboards_layout.py) measures the rendered boxes in Chromium and fails if a label is
cut, hidden or overlaps another.
"""
from __future__ import annotations

import numbers
import re
import unicodedata

import plotly.graph_objects as go

TICK_FONT = 12
TITLE_FONT = 16
AXIS_TITLE_FONT = 13
LEGEND_FONT = 12
LINE = 1.35                 # line height, in font sizes
PAD = 12                    # px between stacked label blocks
MIN_PLOT_WIDTH = 640
MAX_PLOT_WIDTH = 1100       # a bar chart with few categories is not stretched beyond this
PLOT_HEIGHT = 380           # value axis length of a bar/box/histogram chart
CATEGORY_SLOT = 22          # px per category when each holds one line of text (heatmap cells)
_WIDE = ("W", "F")
_CARTESIAN = {"bar", "heatmap", "box", "histogram", "scatter"}
AREA_CHART = (1000, 640)    # treemaps and other charts without axes
_TAG = re.compile(r"<[^>]+>")


def text_width(text: str, size: float = TICK_FONT) -> float:
    """Estimated rendered width of one line of ``text`` in px (HTML tags such as <br> ignored)."""
    plain = _TAG.sub("", str(text))
    return sum(size if unicodedata.east_asian_width(ch) in _WIDE else 0.62 * size for ch in plain)


def lines_width(text: str, size: float) -> float:
    return max((text_width(line, size) for line in str(text).split("<br>")), default=0.0)


def line_count(text: str) -> int:
    return str(text).count("<br>") + 1 if text else 0


def bilingual_lines(text: str, max_width: float, size: float) -> str:
    """``中文 English`` on two lines (Chinese first) when one line is wider than ``max_width``;
    each line is then wrapped at spaces if it is still too wide."""
    if not text or text_width(text, size) <= max_width:
        return text
    m = re.match(r"^(.*?[^\x00-\x7f][^\x00-\x7f\s]*)\s+([\x00-\x7f].*)$", text)
    parts = [m.group(1), m.group(2)] if m else [text]
    out = []
    for part in parts:
        words, line = part.split(" "), ""
        for w in words:
            candidate = f"{line} {w}".strip()
            if line and text_width(candidate, size) > max_width:
                out.append(line)
                line = w
            else:
                line = candidate
        out.append(line)
    return "<br>".join(out)


def _categories(fig: go.Figure, axis: str) -> list:
    """Distinct category values on ``axis`` ('x' or 'y') over the traces, in first-seen order."""
    seen: dict = {}
    for trace in fig.data:
        values = getattr(trace, axis, None)
        if values is None:
            continue
        for v in list(values):
            if v is not None:
                seen.setdefault(v, None)
    return list(seen)


def _is_category_axis(fig: go.Figure, axis: str) -> bool:
    values = _categories(fig, axis)
    return bool(values) and all(isinstance(v, str) for v in values)


def _numeric_tick_width(fig: go.Figure, axis: str) -> float:
    """Width of the longest numeric tick label plotly will draw (e.g. '−1,234.5')."""
    longest = 0
    for trace in fig.data:
        values = getattr(trace, axis, None)
        for v in (list(values) if values is not None else ()):
            if isinstance(v, numbers.Real) and not isinstance(v, bool):
                longest = max(longest, len(f"{float(v):,.1f}") + 1)
    return text_width("8" * max(longest, 3))


def _legend_entries(fig: go.Figure) -> list[str]:
    names = []
    for trace in fig.data:
        if getattr(trace, "showlegend", None) is not False and trace.name and trace.name not in names:
            names.append(trace.name)
    return names


def fit(fig: go.Figure, *, category_slot: float | None = None, max_plot_width: float = MAX_PLOT_WIDTH) -> dict:
    """Size ``fig`` from its content; returns the layout numbers (for tests and metadata).

    Category axes show every category (``tickmode='array'``); a category axis gets ``category_slot``
    px per category (default: one text line for heatmaps, room for the bars of a grouped bar chart);
    x labels wider than their slot are turned upright. Margins hold the labels; the figure's width and
    height are set explicitly, so the page does not depend on the window size.
    """
    layout = fig.layout
    if any(t.type not in _CARTESIAN for t in fig.data):
        return _fit_area_chart(fig)
    is_heatmap = any(t.type == "heatmap" for t in fig.data)
    n_groups = max(1, len([t for t in fig.data if t.type == "bar"]))
    default_slot = CATEGORY_SLOT if is_heatmap else max(48.0, 16.0 * n_groups + 16)
    slot = category_slot or default_slot
    line_tick = TICK_FONT * LINE

    # x axis: plot width and the height its labels need
    x_cats = _categories(fig, "x") if _is_category_axis(fig, "x") else []
    if x_cats:
        widest = max(text_width(c) for c in x_cats)
        if is_heatmap:
            plot_w = len(x_cats) * slot
        else:  # labels stay level when the chart can be widened enough (up to max_plot_width)
            level_slot = max(slot, widest + 16)
            plot_w = max(MIN_PLOT_WIDTH, len(x_cats) * (level_slot if len(x_cats) * level_slot <= max_plot_width
                                                        else slot))
        per_cat = plot_w / len(x_cats)
        upright = widest + 8 > per_cat
        fig.update_xaxes(tickmode="array", tickvals=x_cats, ticktext=x_cats, tickangle=-90 if upright else 0,
                         automargin=True, tickfont={"size": TICK_FONT})
        x_labels_h = (widest if upright else line_tick) + 10
    else:
        plot_w = MIN_PLOT_WIDTH if not is_heatmap else MIN_PLOT_WIDTH
        fig.update_xaxes(automargin=True, tickfont={"size": TICK_FONT})
        x_labels_h = line_tick + 10

    # y axis: plot height and the width its labels need
    y_cats = _categories(fig, "y") if _is_category_axis(fig, "y") else []
    if y_cats:
        plot_h = max(len(y_cats) * slot, 3 * slot)
        fig.update_yaxes(tickmode="array", tickvals=y_cats, ticktext=y_cats, automargin=True,
                         tickfont={"size": TICK_FONT})
        if not is_heatmap:  # rows read top-down in the order of the data (plotly stacks them bottom-up)
            fig.update_yaxes(autorange="reversed")
        y_labels_w = max(text_width(c) for c in y_cats) + 10
    else:
        plot_h = PLOT_HEIGHT
        fig.update_yaxes(automargin=True, tickfont={"size": TICK_FONT})
        y_labels_w = _numeric_tick_width(fig, "y") + 10

    # axis titles: two lines (Chinese, English) when one would be longer than the axis
    x_title = layout.xaxis.title.text or ""
    y_title = layout.yaxis.title.text or ""
    if x_title:
        x_title = bilingual_lines(x_title, plot_w, AXIS_TITLE_FONT)
        fig.update_xaxes(title={"text": x_title, "font": {"size": AXIS_TITLE_FONT}, "standoff": 8})
    if y_title:
        y_title = bilingual_lines(y_title, plot_h, AXIS_TITLE_FONT)
        plot_h = max(plot_h, lines_width(y_title, AXIS_TITLE_FONT) + 20)  # an upright title never outruns its axis
        fig.update_yaxes(title={"text": y_title, "font": {"size": AXIS_TITLE_FONT}, "standoff": 8})
    axis_title_h = AXIS_TITLE_FONT * LINE

    # legend on the right, one entry per line (entries never overprint each other)
    entries = _legend_entries(fig) if layout.showlegend is not False else []
    legend_title = layout.legend.title.text or ""
    if entries:
        legend_w = max([text_width(e, LEGEND_FONT) for e in entries] + [text_width(legend_title, LEGEND_FONT)]) + 50
        fig.update_layout(legend={"orientation": "v", "x": 1.0, "xanchor": "left", "y": 1.0, "yanchor": "top",
                                  "font": {"size": LEGEND_FONT}, "itemsizing": "constant"})
        plot_h = max(plot_h, (len(entries) + 1.5) * LEGEND_FONT * 1.9)
    else:
        legend_w = 0

    margin_l = y_labels_w + line_count(y_title) * axis_title_h + PAD + 10
    margin_b = x_labels_h + line_count(x_title) * axis_title_h + PAD + 10
    margin_r = max(30.0, legend_w + 20)
    width = plot_w + margin_l + margin_r
    title = layout.title.text or ""
    title = bilingual_lines(title, max(width - 40, 480), TITLE_FONT) if title else ""
    width = max(width, lines_width(title, TITLE_FONT) + 40)  # a narrow chart is widened for its title
    # the modebar (toolbar) sits in the top margin: a band for it above the title
    margin_t = 34 + line_count(title) * TITLE_FONT * LINE + PAD
    height = plot_h + margin_t + margin_b
    if title:
        fig.update_layout(title={"text": title, "x": 0, "xanchor": "left", "xref": "container", "yref": "container", "pad": {"l": 12},
                                 "y": 1 - 34 / height, "yanchor": "top", "font": {"size": TITLE_FONT}})
    fig.update_layout(
        autosize=False, width=round(width), height=round(height),
        margin={"l": round(margin_l), "r": round(margin_r), "t": round(margin_t), "b": round(margin_b),
                "pad": 2, "autoexpand": True},
    )
    return {"width": round(width), "height": round(height), "plot_width": round(plot_w), "plot_height": round(plot_h),
            "x_categories": len(x_cats), "y_categories": len(y_cats), "legend_entries": len(entries)}


def _fit_area_chart(fig: go.Figure) -> dict:
    """Charts without axes (treemaps): a fixed drawing area, room for the (wrapped) title above it."""
    width, plot_h = AREA_CHART
    title = bilingual_lines(fig.layout.title.text or "", width - 40, TITLE_FONT)
    margin_t = 34 + line_count(title) * TITLE_FONT * LINE + PAD
    fig.update_layout(title={"text": title, "x": 0, "xanchor": "left", "xref": "container", "yref": "container", "pad": {"l": 12},
                             "y": 1 - 34 / (margin_t + plot_h + 10), "yanchor": "top", "font": {"size": TITLE_FONT}},
                      autosize=False, width=width, height=round(margin_t + plot_h + 10),
                      margin={"l": 10, "r": 10, "t": round(margin_t), "b": 10})
    return {"width": width, "height": round(margin_t + plot_h + 10), "plot_width": width, "plot_height": plot_h,
            "x_categories": 0, "y_categories": 0, "legend_entries": 0}
