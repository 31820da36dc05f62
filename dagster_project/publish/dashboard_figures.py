"""Drawn dashboard figures, and the figures of the last rendering reused when drawn from the same inputs.

A page holds each figure as plotly's HTML of it (``DrawnFigure``). ``FigureCache`` keeps, beside the pages
(``.figures.json``), every figure of the last rendering by a digest of what it was drawn from, so that after a new
fiscal year the figures of the other years (one per ``split_by`` value) are not built by plotly again.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import plotly.graph_objects as go


# where the div id goes in a drawn figure's HTML (no page holds this text otherwise)
_DIV_ID = "gongkai-figure-div-id-4f1c9a"


@dataclass
class DrawnFigure:
    """One figure as its page holds it: plotly's HTML of the figure with ``_DIV_ID`` where its div id goes (the id
    is its place on the page), and its computed layout."""
    html: str
    layout: dict = field(default_factory=dict)

    @classmethod
    def of(cls, fig: go.Figure, layout: dict | None = None) -> "DrawnFigure":
        return cls(fig.to_html(full_html=False, include_plotlyjs=False, div_id=_DIV_ID), layout or {})

    def div(self, div_id: str) -> str:
        return self.html.replace(_DIV_ID, div_id)


FIGURE_CACHE = ".figures.json"


class FigureCache:
    """The figures of the last rendering, by what they were drawn from: a figure whose rows (every value, type and
    column, by a digest of the pickled DataFrame), definition entry, titles and labels, publishing code and plotly
    version are those of a figure drawn then is taken as it was drawn (plotly's HTML is a function of these: the same
    bytes). After a new fiscal year the figures of the other years (one per ``split_by`` value) are not drawn again:
    plotly's figure building was about half of the dashboards' time. Anything unreadable is an empty cache."""

    def __init__(self, folder: Path, salt: str):
        self.path = folder / FIGURE_CACHE
        self.salt = salt
        self.before: dict[str, dict] = {}
        self.now: dict[str, dict] = {}
        self.hits = 0
        try:
            recorded = json.loads(self.path.read_text(encoding="utf-8"))
            if recorded.get("salt") == salt and isinstance(recorded.get("figures"), dict):
                self.before = recorded["figures"]
        except (OSError, ValueError, AttributeError):
            pass

    def key(self, spec: dict, page_title: str, sub_title: str, part, code_labels: dict) -> str:
        import hashlib
        import pickle

        digest = hashlib.sha256(json.dumps([spec, page_title, sub_title, code_labels], sort_keys=True,
                                           ensure_ascii=False, default=str).encode("utf-8"))
        digest.update(pickle.dumps(part, protocol=5))
        return digest.hexdigest()

    def get(self, key: str) -> DrawnFigure | None:
        entry = self.before.get(key)
        if not isinstance(entry, dict) or not isinstance(entry.get("html"), str) or _DIV_ID not in entry["html"]:
            return None
        self.hits += 1
        self.now[key] = {**entry, "page": self.page}
        return DrawnFigure(entry["html"], entry.get("layout") or {})

    page = ""  # the page being drawn (its figures are carried when a later rendering keeps the page)

    def put(self, key: str, drawn: DrawnFigure) -> None:
        self.now[key] = {"html": drawn.html, "layout": drawn.layout, "page": self.page}

    def save(self) -> None:
        """The figures of this rendering (those of pages kept as they are included), for the next one."""
        tmp = self.path.with_name(self.path.name + ".tmp")
        tmp.write_text(json.dumps({"salt": self.salt, "figures": self.now}, ensure_ascii=False, default=str),
                       encoding="utf-8")
        tmp.replace(self.path)

    def keep_page(self, name: str) -> None:
        """A page kept as it is: its figures stay in the cache."""
        self.now.update({k: e for k, e in self.before.items() if isinstance(e, dict) and e.get("page") == name})
