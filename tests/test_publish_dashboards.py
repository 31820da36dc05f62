"""Dashboards from fixture marts, opened in headless Chromium: no console errors, figures drawn."""
from __future__ import annotations

import shutil
import struct
import subprocess
import zlib
from pathlib import Path

import pytest

from dagster_project.publish.dashboards import PLOTLY_JS, load_definitions, write_dashboards
from browser import HAVE_CHROMIUM, SKIP_REASON, probe
from test_publish_support import PERSONAL_VALUES, build_fixture_warehouse


def png_colours(path: Path) -> int:
    """Number of distinct RGB(A) colours in an 8-bit PNG (enough to tell a blank page from a chart)."""
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat, width, height, channels = 8, b"", 0, 0, 0
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        if kind == b"IHDR":
            width, height, depth, colour_type = struct.unpack(">IIBB", body[:10])
            assert depth == 8
            channels = {2: 3, 6: 4, 0: 1, 4: 2}[colour_type]
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    raw = zlib.decompress(idat)
    stride = width * channels
    prev = bytearray(stride)
    colours = set()
    for y in range(height):
        f = raw[y * (stride + 1)]
        line = bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):
            a = line[i - channels] if i >= channels else 0
            b = prev[i]
            c = prev[i - channels] if i >= channels else 0
            if f == 1:
                line[i] = (line[i] + a) & 255
            elif f == 2:
                line[i] = (line[i] + b) & 255
            elif f == 3:
                line[i] = (line[i] + (a + b) // 2) & 255
            elif f == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        if y % 4 == 0:  # a sample of rows is plenty
            colours.update(bytes(line[i:i + channels]) for i in range(0, stride, channels * 4))
        prev = line
    return len(colours)


@pytest.fixture(scope="module")
def dashboards(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("dash")
    warehouse = build_fixture_warehouse(tmp / "gongkai.duckdb", n_extra_deals=6)
    return write_dashboards(warehouse, tmp / "out"), tmp


def test_every_definition_is_rendered_offline(dashboards):
    result, _ = dashboards
    names = {d["name"] for d in load_definitions()}
    assert {p.name for p in result.pages} == names
    assert (result.folder / PLOTLY_JS).stat().st_size == result.plotly_js_bytes > 1_000_000
    for page in result.pages:
        text = page.path.read_text(encoding="utf-8")
        assert f'src="{PLOTLY_JS}"' in text and "cdn.plot.ly" not in text
        assert page.figures >= 1 and page.empty_figures == 0
        for value in PERSONAL_VALUES:
            assert value not in text
    index = (result.folder / "index.html").read_text(encoding="utf-8")
    assert all(f'href="{n}.html"' in index for n in names)


def assert_readable(page, measured: list[dict]) -> None:
    """What a person sees: every category label of every axis drawn (as many as the figure's data has),
    no text outside its figure, no two tick labels or legend entries on top of each other."""
    from browser import inside, overlapping_pairs

    assert len(measured) == page.figures, page.name
    for fig, shown in zip(measured, page.shown):
        where = f"{page.name} / {shown.title}"
        cut = [t["text"] for t in fig["texts"] if not inside(t["box"], fig["box"])]
        assert cut == [], f"{where}: text cut off: {cut}"
        if shown.layout.get("x_categories"):
            assert len(fig["xticks"]) == shown.layout["x_categories"], where
        if shown.layout.get("y_categories"):
            assert len(fig["yticks"]) == shown.layout["y_categories"], where
        for kind in ("xticks", "yticks", "legend"):
            assert overlapping_pairs(fig[kind]) == [], f"{where}: {kind} overlap"
        assert len(fig["legend"]) == shown.layout.get("legend_entries", 0), where


@pytest.mark.skipif(not HAVE_CHROMIUM, reason=SKIP_REASON)
def test_dashboards_open_in_headless_chromium(dashboards):
    result, tmp = dashboards
    definitions = {d["name"]: d for d in load_definitions()}
    for page in result.pages:
        measured = probe(page.path, tmp)
        assert measured.console == [], measured.console
        d = definitions[page.name]
        assert d["title_en"] in measured.dom and d["title_zh"] in measured.dom
        assert_readable(page, measured.result)
        if page.name == "disclosure_compliance":  # every publisher row labelled, whatever their number
            for fig, shown in zip(measured.result, page.shown):
                assert len(fig["yticks"]) == len({r["publisher"] for r in shown.rows}) >= 3


def test_top_n_titles_say_how_many_are_shown(dashboards):
    result, _ = dashboards
    page = next(p for p in result.pages if p.name == "procurement_competition")
    by_buyer = [f for f in page.shown if "By buyer" in f.title]
    assert by_buyer and all(f"({len({r['buyer'] for r in f.rows})} with most deals)" in f.title for f in by_buyer)
