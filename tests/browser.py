"""Open a page gongkai wrote in headless Chromium as a person would, and measure what it shows.

``probe(page)`` loads a copy of the page with a measuring script appended (so relative links such as
``plotly.min.js`` still resolve), lets the page run, and returns what the script measured (boxes of
every text of every plotly figure, tick labels, legend entries; or what a custom script returns)
together with the page's console messages. No network: Chromium is started without it.
"""
from __future__ import annotations

import json
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

CHROMIUM = Path(shutil.which("chromium") or "/usr/bin/chromium")
HAVE_CHROMIUM = CHROMIUM.exists()
SKIP_REASON = "headless Chromium not installed (apt package chromium; `make test` installs it as root)"

# Boxes are page coordinates [left, top, right, bottom]. Only visible, non-empty texts are reported.
MEASURE_FIGURES_JS = r"""
function gkBox(e){var r=e.getBoundingClientRect();return [r.left+scrollX,r.top+scrollY,r.right+scrollX,r.bottom+scrollY];}
function gkTexts(root, sel){return Array.prototype.filter.call(root.querySelectorAll(sel), function(t){
  var s=getComputedStyle(t); var r=t.getBoundingClientRect();
  return t.textContent.trim()!=='' && s.display!=='none' && s.visibility!=='hidden' && s.opacity!=='0' && r.width>0;
}).map(function(t){return {text:t.textContent, box:gkBox(t)};});}
function gkMeasure(){
  return Array.prototype.map.call(document.querySelectorAll('.js-plotly-plot'), function(div){
    return {id:div.id, box:gkBox(div), xticks:gkTexts(div,'g.xtick text'), yticks:gkTexts(div,'g.ytick text'),
            legend:gkTexts(div,'.legendtext'), texts:gkTexts(div,'text')};
  });
}
"""

_PROBE_TAIL = """
<script>
{measure_js}
window.addEventListener('load', function(){{ setTimeout(function(){{
  var out; try {{ out = ({expression}); }} catch (e) {{ out = {{error: String(e)}}; }}
  var s = document.createElement('script'); s.type = 'application/json'; s.id = 'gk-probe';
  s.textContent = JSON.stringify(out); document.body.appendChild(s);
}}, 300); }});
</script>
"""
_PROBE_RE = re.compile(r'<script type="application/json" id="gk-probe">(.*?)</script>', re.S)


@dataclass
class Probe:
    result: object
    console: list[str]
    dom: str


def chromium_command(profile: Path) -> list[str]:
    return [str(CHROMIUM), "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
            "--disable-component-update", "--no-first-run", "--disable-extensions", f"--user-data-dir={profile}",
            "--enable-logging=stderr", "--v=0", "--window-size=1400,1000"]


def console_lines(stderr: str) -> list[str]:
    """The page's console messages (and failed loads) from Chromium's log."""
    return [line for line in stderr.splitlines() if ":CONSOLE" in line or "net::ERR" in line]


def probe(page: Path, tmp: Path, expression: str = "gkMeasure()", extra_js: str = "",
          budget_ms: int = 8000) -> Probe:
    """Load ``page`` (with ``extra_js`` and the measuring script appended) and return ``expression``'s value."""
    text = page.read_text(encoding="utf-8")
    tail = _PROBE_TAIL.format(measure_js=MEASURE_FIGURES_JS + extra_js, expression=expression)
    copy = page.with_name(f".gk-probe-{page.name}")
    copy.write_text(text.replace("</body>", tail + "</body>") if "</body>" in text else text + tail, encoding="utf-8")
    try:
        proc = subprocess.run(
            # one profile folder per ``tmp`` (a test's pages, opened one after another): Chromium makes a fresh
            # profile at each start in a new folder, ≈ 0.15 CPU-s a page more (0.55–0.69 against 0.66–0.83, s9 wave 19)
            chromium_command(tmp / "profile") + [f"--virtual-time-budget={budget_ms}", "--dump-dom",
                                                              copy.as_uri()],
            capture_output=True, text=True, timeout=180)
    finally:
        copy.unlink()
    assert proc.returncode == 0, proc.stderr[-3000:]
    m = _PROBE_RE.search(proc.stdout)
    assert m, f"{page.name}: the measuring script did not run; console: {console_lines(proc.stderr)}"
    return Probe(json.loads(m.group(1)), console_lines(proc.stderr), proc.stdout)


def overlaps(a: list[float], b: list[float], tol: float = 0.5) -> bool:
    return a[0] < b[2] - tol and b[0] < a[2] - tol and a[1] < b[3] - tol and b[1] < a[3] - tol


def inside(inner: list[float], outer: list[float], tol: float = 1.5) -> bool:
    return (inner[0] >= outer[0] - tol and inner[1] >= outer[1] - tol
            and inner[2] <= outer[2] + tol and inner[3] <= outer[3] + tol)


def overlapping_pairs(items: list[dict]) -> list[tuple[str, str]]:
    out = []
    for i, a in enumerate(items):
        for b in items[i + 1:]:
            if overlaps(a["box"], b["box"]):
                out.append((a["text"], b["text"]))
    return out
