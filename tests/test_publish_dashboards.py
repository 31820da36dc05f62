"""Dashboards from fixture marts, opened in headless Chromium: no console errors, figures drawn."""
from __future__ import annotations

import shutil
import struct
import subprocess
import zlib
from pathlib import Path

import pytest

from dagster_project.publish.dashboards import PLOTLY_JS, load_definitions, write_dashboards
from test_publish_support import PERSONAL_VALUES, build_fixture_warehouse

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"


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


@pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="chromium not installed")
def test_dashboards_open_in_headless_chromium(dashboards):
    result, tmp = dashboards
    definitions = {d["name"]: d for d in load_definitions()}
    for page in result.pages:
        png = tmp / f"{page.name}.png"
        proc = subprocess.run(
            [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
             "--disable-component-update", "--no-first-run", f"--user-data-dir={tmp / ('profile-' + page.name)}",
             "--enable-logging=stderr", "--v=0", f"--screenshot={png}", "--dump-dom", "--window-size=1200,900",
             page.path.as_uri()],
            capture_output=True, text=True, timeout=120,
        )
        assert proc.returncode == 0, proc.stderr[-2000:]
        console = [line for line in proc.stderr.splitlines() if ":CONSOLE" in line]
        assert console == [], console
        dom = proc.stdout
        d = definitions[page.name]
        assert d["title_en"] in dom and d["title_zh"] in dom
        assert dom.count('class="main-svg"') >= page.figures  # plotly drew every figure
        assert png_colours(png) > 20, f"{page.name}: screenshot looks blank"
