"""Dashboards from fixture marts, opened in headless Chromium and measured: every label drawn, nothing cut off."""
from __future__ import annotations

import pytest

from dagster_project.publish.dashboards import PLOTLY_JS, load_definitions, write_dashboards
from browser import HAVE_CHROMIUM, SKIP_REASON, probe
from test_publish_support import PERSONAL_VALUES, build_fixture_warehouse


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
    """Small data (4 tables, 3 publishers) next to the sample's in test_people_outputs: the two pages whose
    layout depends most on the data's shape (heatmap, long buyer labels)."""
    result, tmp = dashboards
    definitions = {d["name"]: d for d in load_definitions()}
    for page in (p for p in result.pages if p.name in ("disclosure_compliance", "procurement_competition")):
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


def test_figures_read_the_same_rows_from_the_relations_masked_once(dashboards):
    """Every figure's rows, read from the relations masked once with only the columns the figures name
    (``mask_once``), equal its rows read with every column masked row by row (``masking.masked_select``)."""
    import re

    from dagster_project.publish.dashboards import _PLACEHOLDER, load_definitions, mask_once, resolve_sql
    from dagster_project.publish.masking import MaskingPolicy, masked_select
    from dagster_project.publish.release import load_spec
    from dagster_project.publish.warehouse import describe, find_relation, open_read_only

    spec = load_spec()
    policy, value_maps = MaskingPolicy.from_spec(spec.get("masking") or {}), spec.get("value_maps") or {}
    sqls = [f["sql"] for d in load_definitions() for f in d["figures"]]
    _, tmp = dashboards
    con = open_read_only(tmp / "gongkai.duckdb")
    try:
        masked = mask_once(con, sqls, policy, value_maps)
        assert {"fct_deals", "int_deal_timelines_evaluated", "latest_findings"} <= set(masked)

        def every_column(match: re.Match) -> str:
            relation = find_relation(con, match.group(1))
            return "(" + masked_select(relation, describe(con, relation), policy, value_maps) + ")"

        for sql in sqls:
            whole = resolve_sql(con, _PLACEHOLDER.sub(every_column, sql), policy, value_maps)
            once = resolve_sql(con, sql, policy, value_maps, masked)
            expected, got = con.execute(whole).fetchall(), con.execute(once).fetchall()
            assert sorted(map(repr, got)) == sorted(map(repr, expected)), sql[:80]
    finally:
        con.close()


def test_every_figure_split_by_year_reads_its_rows_in_a_total_order():
    """A figure split by a value (one per fiscal year) is taken from the last rendering when its rows are the same
    (``FigureCache``: a digest of the rows in the order the query gives them). Without an ORDER BY, DuckDB may give a
    year's unchanged rows in another order once a new year is in the table, and every year's figure is drawn again
    (the compliance heatmaps: ≈ 1 s of plotly at 1 M). So each such query ends in an ORDER BY naming the split."""
    import re

    from dagster_project.publish.dashboards import load_definitions

    split = [(d["name"], f) for d in load_definitions() for f in d["figures"] if f.get("split_by")]
    assert split
    for name, fspec in split:
        sql = re.sub(r"--[^\n]*", "", fspec["sql"])
        order = re.search(r"\bORDER\s+BY\b(?!.*\bORDER\s+BY\b)(.*)$", sql, re.IGNORECASE | re.DOTALL)
        assert order and fspec["split_by"] in order.group(1), (name, fspec.get("title"))
