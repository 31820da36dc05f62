"""Dashboards: one generic renderer for the definitions in ``dashboards/*.yaml``.

A definition names its figures; each figure has a SQL query (placeholders ``{fct_…}`` / ``{dim_…}``
become the masked marts from ``masking.masked_select``, so dashboards see exactly what the open data
shows), a plotly express function (``kind``: bar, box, histogram, treemap, …, or ``status_heatmap``)
with its arguments, bilingual labels and an optional ``split_by`` column (one figure per value).
Only aggregates reach Python.

Pages go to ``<out>/dashboards/<name>.html`` with one shared ``plotly.min.js`` beside them (what
``write_html(include_plotlyjs='directory')`` does; 4.6 MB once instead of per page), so they open
offline from the file system. ``index.html`` lists them; the quality report links to
``../dashboards/<name>.html``.
"""
from __future__ import annotations

import html
import json
import re
import time
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import plotly.graph_objects as go
import yaml
from plotly.offline import get_plotlyjs

from dagster_project.paths import REPO_ROOT, carrying_disabled
from dagster_project.publish import dashboard_layout
from dagster_project.publish.dashboard_figures import FIGURE_CACHE, DrawnFigure, FigureCache
from dagster_project.publish.masking import MaskingPolicy, SelectPlan, plan_by_candidate_values, plan_probed_by_value
from dagster_project.publish.release import RULE_CATALOGUE_CSV, load_spec
from dagster_project.publish.release_validation import sha256_file
from dagster_project.publish.warehouse import describe, find_relation, open_read_only

DASHBOARDS_DIR = REPO_ROOT / "dashboards"
PLOTLY_JS = "plotly.min.js"
# What the last rendering wrote: its inputs' fingerprint and each file's SHA-256. A re-run with the same inputs
# keeps the pages when every file is still there, byte for byte (``rendered_unchanged``).
RENDERED_MANIFEST = ".rendered.json"
_PLACEHOLDER = re.compile(r"\{((?:fct|dim|int)_[a-z0-9_]+)\}")
_FONT = "Noto Sans CJK SC, Source Han Sans SC, Microsoft YaHei, PingFang SC, sans-serif"


@dataclass
class DashboardOutput:
    name: str
    path: Path
    figures: int
    bytes: int
    empty_figures: int = 0
    shown: list = field(default_factory=list)   # FigureData of every drawn figure, in page order
    fingerprint: str | None = None               # what the page was drawn from (``page_fingerprints``)
    kept: bool = False                           # not drawn again: its inputs are unchanged


@dataclass
class DashboardsResult:
    folder: Path
    pages: list[DashboardOutput] = field(default_factory=list)
    plotly_js_bytes: int = 0
    seconds: float = 0.0
    figures_reused: int = 0                      # taken from the last rendering (``FigureCache``)


def load_definitions(folder: Path = DASHBOARDS_DIR) -> list[dict]:
    defs = []
    for path in sorted(folder.glob("*.yaml")):
        with open(path, encoding="utf-8") as fh:
            defs.append(yaml.load(fh, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader)))  # noqa: S506
    return defs


def resolve_sql(con: duckdb.DuckDBPyConnection, sql: str, policy: MaskingPolicy, value_maps: dict,
                masked: dict[str, str] | None = None) -> str:
    """Replace ``{mart}`` placeholders by masked sub-queries; a missing mart raises, naming it. ``masked``:
    placeholder -> a temporary table already holding that relation masked (``mask_once``)."""
    masked = masked or {}

    def sub(m: re.Match) -> str:
        if m.group(1) in masked:
            return masked[m.group(1)]
        rel = find_relation(con, m.group(1))
        if rel is None:
            raise LookupError(f"mart {m.group(1)} not found")
        return "(" + _masked(con, rel, sql, policy, value_maps).sql + ")"

    resolved = _PLACEHOLDER.sub(sub, sql).replace("{rule_catalogue_csv}", RULE_CATALOGUE_CSV.as_posix())
    if "{latest_findings}" in resolved:
        resolved = resolved.replace("{latest_findings}", masked.get("latest_findings") or
                                    "(" + latest_findings_sql(con, policy, value_maps, sql).sql + ")")
    return resolved


def mask_once(con: duckdb.DuckDBPyConnection, figure_sqls: list[str], policy: MaskingPolicy,
              value_maps: dict) -> dict[str, str]:
    """Each relation the figures read, masked once into a temporary table with the columns any of them reads:
    placeholder -> table. Why: DuckDB binds the masking expression of a text column (``masking.column_sql``, a long
    regular expression) in ≈ 0.1–0.5 s, once per column per query, so masking per figure paid it again for every
    figure that reads the column. A relation none of whose columns needs a masking expression or a by-value join
    (``SelectPlan.masked_columns``: every column as published, by its value map or the literals of its few passing
    values) is not copied: its select goes into each figure's query as a sub-query, which DuckDB plans in no time and
    reads only as far as the figure needs (the 4.2 M timeline rows at 1 M: a 0.7 s copy). A relation that is missing
    is left out (its figures say so, as before)."""
    names: dict[str, list[str]] = {}
    for sql in figure_sqls:
        for name in _PLACEHOLDER.findall(sql):
            names.setdefault(name, []).append(sql)
        if "{latest_findings}" in sql:
            names.setdefault("latest_findings", []).append(sql)
    out = {}
    for name, sqls in sorted(names.items()):
        text = "\n".join(sqls)
        if name == "latest_findings":
            try:
                select = latest_findings_sql(con, policy, value_maps, text)
            except LookupError:
                continue
        else:
            rel = find_relation(con, name)
            if rel is None:
                continue
            select = _masked(con, rel, text, policy, value_maps)
        if not select.masked_columns:
            out[name] = f"({select.sql})"
            continue
        table = f"_dashboard_{name}"
        con.execute(f"CREATE OR REPLACE TEMP TABLE {table} AS {select.sql}")
        out[name] = table
    return out


_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
# a star that expands to columns: `SELECT *`, `, *`, `t.*`, `COLUMNS(*)` (not `count(*)` nor a multiplication)
_STAR = re.compile(r"(?:\bselect|,|\.|\bcolumns\s*\()\s*\*", re.IGNORECASE)


def referenced_columns(sql: str, columns: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """The columns a figure's SQL can read: those whose name appears in its text as a word. All of them when the
    text has a star that expands to columns (``SELECT *``, ``t.*``). Why: the masking of a column
    (``masking.column_sql``) is a per-row regular expression, and a filter on a masked column cannot be pushed below
    it — masking the columns a figure never reads cost most of the dashboards' time (≈ 19 s of the debt figure's
    0.1 s of work at 100 k rows under load)."""
    if _STAR.search(sql):
        return list(columns)
    words = {w.lower() for w in _WORD.findall(sql)}
    kept = [c for c in columns if c[0].lower() in words]
    return kept or list(columns[:1])


def _masked(con: duckdb.DuckDBPyConnection, relation: str, figure_sql: str, policy: MaskingPolicy,
            value_maps: dict) -> SelectPlan:
    """The relation as the open data shows it (masked), with the columns the figure reads: the masking is the
    release's (``masked_select_by_value`` gives ``masked_select``'s rows, masking a repetitive column once per
    distinct value), so the figure's rows are those it would draw from every column masked row by row."""
    return _masked_probed_by_value(con, relation, referenced_columns(figure_sql, describe(con, relation)), policy,
                                   value_maps)


# Up to this many rows a relation is masked by ``masking.masked_select_probed_by_value`` (a column none of whose values
# passes its candidate test gets no masking expression: DuckDB plans one in ≈ 0.1–0.5 s whatever the rows); above it
# the candidate tests over every row cost more than the planning they save, and masking by value stays (1 M trading
# rows, load 6: 295 k budget lines 2.8 → 1.1 s probed; the 5.6 M timeline rows gained nothing).
PROBE_MAX_ROWS = 300_000


def _masked_probed_by_value(con: duckdb.DuckDBPyConnection, relation: str, columns: list[tuple[str, str]],
                            policy: MaskingPolicy, value_maps: dict) -> SelectPlan:
    """The rows of ``masked_select`` (the same masking), probed first where the relation is small; a larger one is
    probed by its distinct values (``masking.masked_select_by_candidate_values``: at 1 M trading rows the 4.2 M
    timeline rows' by-value joins cost ≈ 3 s, where 1 and 3 distinct values of two columns need masking)."""
    if con.execute(f"SELECT count(*) FROM {relation} AS src").fetchone()[0] > PROBE_MAX_ROWS:
        return plan_by_candidate_values(con, relation, columns, policy, value_maps)
    return plan_probed_by_value(con, relation, columns, policy, value_maps)


def latest_findings_sql(con: duckdb.DuckDBPyConnection, policy: MaskingPolicy, value_maps: dict,
                        figure_sql: str | None = None) -> SelectPlan:
    """The findings of the latest quality run (by start time): the rows the quality report counts.

    Dashboards that show rule outcomes read these, never a threshold of their own.
    """
    findings = find_relation(con, "findings", schema="quality")
    runs = find_relation(con, "runs", schema="quality")
    if findings is None or runs is None:
        raise LookupError("quality.findings not found (no quality run yet)")
    latest = f"(SELECT run_id FROM {runs} ORDER BY started_at DESC LIMIT 1)"
    rows = f"(SELECT * FROM {findings} WHERE run_id = {latest})"
    columns = describe(con, rows)
    if figure_sql is not None:
        columns = referenced_columns(figure_sql, columns)
    return _masked_probed_by_value(con, rows, columns, policy, value_maps)


def _empty_figure(title: str) -> go.Figure:
    fig = go.Figure()
    fig.add_annotation(text="无数据 No data", showarrow=False, font={"size": 20})
    fig.update_layout(title=dashboard_layout.bilingual_lines(title, 900, dashboard_layout.TITLE_FONT),
                      xaxis_visible=False, yaxis_visible=False, font={"family": _FONT}, template="plotly_white",
                      width=1000, height=300)
    return fig


def _status_heatmap(df, spec: dict, title: str, code_labels: dict[str, list]) -> go.Figure:
    """Publisher (rows) × item (columns) coloured by status; a discrete legend, one entry per status.

    A colour bar would squeeze six labels into the plot's height (they overprinted each other); one
    legend entry per status, drawn by invisible marker traces, is readable at any size.
    """
    order = spec["status_order"]
    colors = spec["status_colors"]
    index = {s: i for i, s in enumerate(order)}
    xs = sorted(df[spec["x"]].unique().tolist())
    ys = sorted(df[spec["y"]].unique().tolist(), reverse=True)  # first publisher at the top
    z = [[None] * len(xs) for _ in ys]
    text = [[""] * len(xs) for _ in ys]
    xi = {x: i for i, x in enumerate(xs)}
    yi = {y: i for i, y in enumerate(ys)}
    label = lambda s: " ".join((code_labels.get(s) or [s, s])[:2])  # noqa: E731
    for x, y, status in zip(df[spec["x"]], df[spec["y"]], df[spec["status"]]):
        z[yi[y]][xi[x]] = index.get(status, len(order) - 1)
        text[yi[y]][xi[x]] = label(status)
    n = len(order)
    scale = []  # a stepped scale: each status one flat band of colour
    for i, c in enumerate(colors):
        scale += [[i / n, c], [(i + 1) / n, c]]
    fig = go.Figure(go.Heatmap(
        z=z, x=xs, y=ys, text=text, hovertemplate="%{y}<br>%{x}<br>%{text}<extra></extra>",
        zmin=-0.5, zmax=n - 0.5, colorscale=scale, xgap=1, ygap=1, showscale=False, showlegend=False,
    ))
    for status, colour in zip(order, colors):
        # no data point: the trace exists only to draw its legend entry
        fig.add_trace(go.Scatter(x=[None], y=[None], mode="markers", name=label(status),
                                 marker={"symbol": "square", "size": 12, "color": colour},
                                 hoverinfo="skip", showlegend=True))
    fig.update_layout(title=title, legend_title_text="状态 Status",
                      xaxis_title=spec.get("labels", {}).get(spec["x"], spec["x"]),
                      yaxis_title=spec.get("labels", {}).get(spec["y"], spec["y"]),
                      plot_bgcolor="#ffffff")
    return fig


@dataclass
class FigureData:
    """What one figure shows: its title, the rows it was drawn from (``rows``: made from ``frame`` when asked for —
    a histogram of 375 k deals at 1 M made records nobody read, ≈ 1 s a rendering), and its computed layout."""
    title: str
    frame: object  # the pandas DataFrame of the figure's rows
    layout: dict = field(default_factory=dict)

    @property
    def rows(self) -> list[dict]:
        return self.frame.to_dict("records")


def render_figures(con: duckdb.DuckDBPyConnection, spec: dict, page_title: str, policy: MaskingPolicy,
                   value_maps: dict, code_labels: dict, shown: list[FigureData] | None = None,
                   masked: dict[str, str] | None = None, cache: "FigureCache | None" = None) -> list["DrawnFigure"]:
    """The figures of one definition entry (one per ``split_by`` value), sized by ``dashboard_layout.fit``.

    A title may say ``{n}``: the number of distinct values of the entry's ``count_column`` in the
    figure's rows (a "top 25" chart of 18 buyers says 18). ``shown`` collects each figure's rows. ``cache``: a
    figure drawn by the last rendering from the same rows, definition and code is taken from it (``FigureCache``).
    """
    df = con.execute(resolve_sql(con, spec["sql"], policy, value_maps, masked)).df()
    title = spec.get("title", page_title)
    split = spec.get("split_by")
    groups = [(None, df)]
    if split and not df.empty:
        values = sorted(df[split].dropna().unique().tolist(), reverse=True)[: spec.get("max_splits", 10)]
        groups = [(v, df[df[split] == v]) for v in values]
    figs = []
    for value, part in groups:
        # numbered from 0 in every figure (a split's rows keep their place in the query's result otherwise, which
        # moves when a new year's rows come first): the figure is a function of its rows alone
        part = part.reset_index(drop=True)
        sub_title = f"{title} — {value}" if value is not None else title
        if spec.get("count_column") and spec["count_column"] in part:
            sub_title = sub_title.replace("{n}", str(part[spec["count_column"]].nunique()))
        if part.empty:
            figs.append(DrawnFigure.of(_empty_figure(sub_title)))
            continue
        key = cache.key(spec, page_title, sub_title, part, code_labels) if cache is not None else None
        hit = cache.get(key) if cache is not None else None
        if hit is not None:
            if shown is not None:
                shown.append(FigureData(sub_title, part, hit.layout))
            figs.append(hit)
            continue
        if spec["kind"] == "status_heatmap":
            fig = _status_heatmap(part, spec, sub_title, code_labels)
        else:
            import plotly.express as px  # ≈ 1 s of imports (numpy, narwhals…): only when a figure is drawn

            fig = getattr(px, spec["kind"])(part, title=sub_title, labels=spec.get("labels") or {},
                                            **(spec.get("args") or {}))
        fig.update_layout(font={"family": _FONT}, template="plotly_white")
        for axis, text in (spec.get("axis_titles") or {}).items():  # e.g. a histogram's count axis
            fig.update_layout({f"{axis}axis_title_text": text})
        args = spec.get("args") or {}
        if args.get("text"):  # counts beside the bars, with room for them inside the plot area
            fig.update_traces(textposition="outside", cliponaxis=False, textfont_size=11)
            value_axis = "x" if args.get("orientation") == "h" else "y"
            top = float(part[args[value_axis]].max() or 0)
            fig.update_layout({f"{value_axis}axis_range": [0, max(top * 1.18, 1.0)]})
        sizes = dashboard_layout.fit(fig, category_slot=spec.get("category_slot"))
        if shown is not None:
            shown.append(FigureData(sub_title, part, sizes))
        drawn = DrawnFigure.of(fig, sizes)
        if cache is not None:
            cache.put(key, drawn)
        figs.append(drawn)
    return figs


_PAGE = """<!DOCTYPE html>
<html lang="zh-CN"><head><meta charset="utf-8">
<title>{title}</title>
<script src="{plotly_js}"></script>
<style>body{{font-family:{font};margin:24px;color:#222}} nav a{{margin-right:1em}} .fig{{margin:18px 0}}</style>
</head><body>
<nav><a href="index.html">仪表板 Dashboards</a><a href="../quality/index.html">质量报告 Quality report</a>
<a href="../open-data/">开放数据 Open data</a></nav>
<h1>{title}</h1>
<p>{description_zh}<br>{description_en}</p>
{figures}
<p><small>数据来源：gongkai 开放数据（个人信息已脱敏） Source: gongkai open data (personal data masked).</small></p>
</body></html>
"""


def _figure_salt() -> str:
    """What every figure depends on besides its own inputs: the publishing code (renderer, layout, definitions), the
    plotly version and the page font."""
    import plotly

    from dagster_project.publish.inputs import json_digest, publish_code_digest

    return json_digest([publish_code_digest(), plotly.__version__, _FONT])


def page_fingerprints(warehouse: Path, definitions: list[dict] | None = None) -> dict[str, str] | None:
    """What each page is drawn from: its definition, the publishing code, the masking and labels, plotly's version,
    the relations its figures name (by content, ``relation_fingerprint``, kept by dbt generation:
    ``inputs.KeptFingerprints``) and, for a figure over the latest
    findings, those findings (``_findings_fingerprint``: a finding of another rule does not redraw it). None: unknown or
    ``GONGKAI_NO_CARRY=1`` — every page is drawn."""
    import plotly

    from dagster_project.paths import carrying_disabled
    from dagster_project.publish.inputs import KeptFingerprints, json_digest, publish_code_digest, relations_by_name

    if carrying_disabled() or not warehouse.exists():
        return None
    definitions = definitions if definitions is not None else load_definitions()
    spec = load_spec()
    common = json_digest([publish_code_digest(), plotly.__version__, spec.get("masking"), spec.get("value_maps"),
                          spec.get("code_lists"), sha256_file(RULE_CATALOGUE_CSV)])
    out = {}
    con = open_read_only(warehouse)
    try:
        relations = KeptFingerprints(con)  # by dbt generation: a mart no build reached is not hashed again
        for d in definitions:
            parts = [common, json_digest(d)]
            for fspec in d["figures"]:
                parts.append(relations_by_name(relations, con, _PLACEHOLDER.findall(fspec["sql"])))
                if "{latest_findings}" in fspec["sql"]:
                    parts.append(_findings_fingerprint(con, fspec["sql"]))
            out[d["name"]] = json_digest(parts)
    finally:
        con.close()
    relations.remember(warehouse)
    return out


_RULE_LITERAL = re.compile(r"'([A-Z][A-Z0-9_]+)'")


def _findings_fingerprint(con: duckdb.DuckDBPyConnection, sql: str) -> str:
    """The latest findings a figure reads, by content (run id left out): only those of the rule ids its SQL names
    as literals (``rule_id IN ('FLAG_SINGLE_BIDDER', …)``), else all of them. Cheaper than running the figure's
    query (which masks the marts it joins), and a finding of another rule does not redraw the page."""
    from dagster_project.publish.inputs import latest_findings_sql
    from dagster_project.relation_fingerprint import query_fingerprint

    findings = latest_findings_sql(con)
    if findings is None:
        return "no findings"
    from dagster_project.quality.suites import load_rule_catalogue

    rules = sorted(set(_RULE_LITERAL.findall(sql)) & set(load_rule_catalogue()))  # literals that are rule ids
    if rules:
        findings = f"SELECT * FROM ({findings}) WHERE rule_id IN ({', '.join(repr(r) for r in rules)})"
    return query_fingerprint(con, findings, exclude=("run_id",))


def pages_to_keep(folder: Path, fingerprints: dict[str, str] | None) -> dict[str, dict]:
    """Pages of the last rendering drawn from the same inputs and still intact: name -> what it recorded."""
    path = folder / RENDERED_MANIFEST
    if not fingerprints or not path.is_file():
        return {}
    try:
        recorded = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    keep = {}
    for name, page in (recorded.get("pages") or {}).items():
        file = folder / f"{name}.html"
        sha = (recorded.get("files") or {}).get(file.name)
        if (fingerprints.get(name) and page.get("fingerprint") == fingerprints[name] and sha and file.is_file()
                and sha256_file(file) == sha):
            keep[name] = page
    return keep


def write_dashboards(warehouse: Path, out_dir: Path, definitions: list[dict] | None = None,
                     fingerprints: dict[str, str] | None = None, keep: dict[str, dict] | None = None
                     ) -> DashboardsResult:
    """Draw every page, except those in ``keep`` (``pages_to_keep``: same inputs, file intact), which stay as
    they are. ``fingerprints``: each page's inputs, recorded with the rendering."""
    started = time.monotonic()
    fingerprints, keep = fingerprints or {}, keep or {}
    definitions = definitions if definitions is not None else load_definitions()
    spec = load_spec()
    policy = MaskingPolicy.from_spec(spec.get("masking") or {})
    value_maps = spec.get("value_maps") or {}
    code_labels = {code: labels for cl in (spec.get("code_lists") or {}).values()
                   for code, labels in (cl.get("codes") or {}).items()}
    folder = out_dir / "dashboards"
    folder.mkdir(parents=True, exist_ok=True)
    # the pages are about to change: until the new manifest is written, nothing here counts as current
    (folder / RENDERED_MANIFEST).unlink(missing_ok=True)
    result = DashboardsResult(folder=folder)
    js = folder / PLOTLY_JS
    script = get_plotlyjs().encode("utf-8")
    if not js.is_file() or js.stat().st_size != len(script) or js.read_bytes() != script:
        tmp = folder / (PLOTLY_JS + ".tmp")
        tmp.write_bytes(script)
        tmp.replace(js)
    result.plotly_js_bytes = js.stat().st_size
    cache = None if carrying_disabled() else FigureCache(folder, _figure_salt())
    (folder / FIGURE_CACHE).unlink(missing_ok=True)  # rewritten below once every page is written
    con = open_read_only(warehouse)
    try:
        masked = mask_once(con, [f["sql"] for d in definitions if d["name"] not in keep for f in d["figures"]],
                           policy, value_maps)
        for d in definitions:
            target = folder / f"{d['name']}.html"
            if cache is not None:
                cache.page = d["name"]
            if d["name"] in keep:
                if cache is not None:
                    cache.keep_page(d["name"])
                page = keep[d["name"]]
                result.pages.append(DashboardOutput(d["name"], target, int(page.get("figures") or 0),
                                                    target.stat().st_size, int(page.get("empty_figures") or 0),
                                                    fingerprint=fingerprints.get(d["name"]), kept=True))
                continue
            title = f"{d['title_zh']} {d['title_en']}"
            figs: list[DrawnFigure] = []
            shown: list[FigureData] = []
            empty = 0
            for fspec in d["figures"]:
                try:
                    figs += render_figures(con, fspec, title, policy, value_maps, code_labels, shown, masked, cache)
                except LookupError as exc:  # a mart not built yet: say so on the page, do not fail
                    figs.append(DrawnFigure.of(_empty_figure(f"{fspec.get('title', title)} — {exc}")))
                    empty += 1
            name = d["name"]
            parts = [f'<div class="fig">{fig.div(f"{name}-{i}")}</div>' for i, fig in enumerate(figs)]
            page = _PAGE.format(title=html.escape(title), plotly_js=PLOTLY_JS, font=_FONT,
                                description_zh=html.escape(d.get("description_zh", "")),
                                description_en=html.escape(d.get("description_en", "")), figures="\n".join(parts))
            tmp = folder / f".{d['name']}.html.tmp"
            tmp.write_text(page, encoding="utf-8")
            tmp.replace(target)  # a reader never sees half a page
            result.pages.append(DashboardOutput(d["name"], target, len(figs), target.stat().st_size, empty, shown,
                                                fingerprint=fingerprints.get(d["name"])))
    finally:
        con.close()
    if cache is not None:
        cache.save()
        result.figures_reused = cache.hits
    links = "\n".join(
        f'<li><a href="{p.name}.html">{html.escape(d["title_zh"])} {html.escape(d["title_en"])}</a></li>'
        for p, d in zip(result.pages, definitions)
    )
    index = (f'<!DOCTYPE html><html lang="zh-CN"><head><meta charset="utf-8"><title>仪表板 Dashboards</title></head>'
             f'<body style="font-family:{_FONT};margin:24px"><h1>仪表板 Dashboards</h1><ul>{links}</ul>'
             f'<p><a href="../quality/index.html">质量报告 Quality report</a></p></body></html>')
    index_path = folder / "index.html"
    if not index_path.is_file() or index_path.read_text(encoding="utf-8") != index:
        index_path.write_text(index, encoding="utf-8")
    result.seconds = round(time.monotonic() - started, 2)
    return result


def written_files(result: DashboardsResult) -> list[Path]:
    return [p.path for p in result.pages] + [result.folder / "index.html", result.folder / PLOTLY_JS]


def remember_rendering(folder: Path, fingerprint: str | None, files: list[Path],
                       pages: list[DashboardOutput] = ()) -> None:
    """Write the manifest of a finished rendering: its inputs' fingerprint (None: unknown, then the next run
    renders again), each page's fingerprint and each file's SHA-256."""
    recorded = {p.name: {"fingerprint": p.fingerprint, "figures": p.figures, "empty_figures": p.empty_figures}
                for p in pages if p.fingerprint}
    if fingerprint is None and not recorded:
        return
    manifest = {"fingerprint": fingerprint, "files": {p.name: sha256_file(p) for p in files}, "pages": recorded}
    tmp = folder / (RENDERED_MANIFEST + ".tmp")
    tmp.write_text(json.dumps(manifest, ensure_ascii=False, indent=1, sort_keys=True), encoding="utf-8")
    tmp.replace(folder / RENDERED_MANIFEST)


def rendered_unchanged(folder: Path, fingerprint: str | None) -> dict | None:
    """The last rendering's manifest when it was made from ``fingerprint`` and every file it wrote is present
    and intact (same SHA-256); else None (render again: a deleted or edited page is re-written)."""
    path = folder / RENDERED_MANIFEST
    if fingerprint is None or not path.is_file():
        return None
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if manifest.get("fingerprint") != fingerprint or not manifest.get("files"):
        return None
    for name, sha in manifest["files"].items():
        file = folder / name
        if not file.is_file() or sha256_file(file) != sha:
            return None
    return manifest
