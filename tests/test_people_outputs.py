"""What people open, built from the bundled sample and checked as they would see it.

One quality run and one dashboard build on the sample warehouse (``sample_built``); then: the quality
report lists the rejected files and rows, shows amounts in the source unit and pipeline checks apart,
its filter works on grouped findings; the procurement dashboard's figures are the report's counts; the
dashboards are readable in Chromium on real data; and no HTML page gongkai writes (report, dashboards,
GX Data Docs, dbt docs) loads anything from outside or logs a console error.
"""
from __future__ import annotations

import csv
import html
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from browser import HAVE_CHROMIUM, SKIP_REASON, probe
from dagster_project.quality.offline_docs import external_references

TIMELINE_RULES = ("TRADE_SHORT_TENDER_PERIOD", "FLAG_SHORT_PERIOD", "FLAG_SINGLE_BIDDER")


@pytest.fixture(scope="module")
def built(sample_quality_runs):
    """The sample's first quality run and the dashboards drawn after it (conftest: made once, shared with
    test_quality_sample)."""
    r = sample_quality_runs
    return r["warehouse"], r["out"], r["first"], r["dashboards"]


def _query(warehouse: Path, sql: str, params=()) -> list[tuple]:
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        return con.execute(sql, list(params)).fetchall()
    finally:
        con.close()


def _report(out: Path) -> str:
    return (out / "quality" / "index.html").read_text(encoding="utf-8")


def _section(page: str, element_id: str) -> str:
    start = page.index(f'id="{element_id}"')
    return page[start:page.index("</table>", start)]


# ------------------------------------------------------------------------------------ quality report

def test_report_lists_every_rejected_file_and_row(built):
    warehouse, out, _, _ = built
    rejects = _query(warehouse, """select source_file, sheet, source_row, source_column, reason from raw.load_rejects
                                   where not is_retired""")
    files = _query(warehouse, "select source_file, status from raw.load_files where is_current and "
                              "status in ('rejected', 'loaded_with_rejects')")
    assert rejects and any(s == "rejected" for _, s in files)  # the sample plants both kinds
    page = _report(out)
    rows_html = _section(page, "rejected-rows")
    assert rows_html.count('<tr class="reject">') == len(rejects)
    for source_file, sheet, row, column, reason in rejects:
        assert html.escape(source_file) in rows_html and html.escape(reason)[:40] in rows_html
        if row is not None:   # a record rejected whole (a malformed JSON line) names no column
            assert f'<td class=num>{row}</td>' in rows_html
            assert column is None or f"<td>{column}</td>" in rows_html
    files_html = _section(page, "rejected-files")
    assert all(f in files_html for f, _ in files)
    with (out / "quality" / "rejects.csv").open(encoding="utf-8-sig", newline="") as fh:
        exported = list(csv.DictReader(fh))
    assert len(exported) == len(rejects)
    assert {(r["文件 file"], r["行 row"]) for r in exported} == {(f, "" if r is None else str(r)) for f, _, r, _, _ in rejects}


def test_amounts_show_in_the_source_unit_with_yuan_beside(built):
    warehouse, out, run, _ = built
    rows = _query(warehouse, """
        select min(f.observed) as observed, s.unit_label, s.unit_multiplier from quality.findings f
        join (select source_file, sheet, unit_label, unit_multiplier from raw.budget_sheets where not is_retired
              union all select source_file, sheet, unit_label, unit_multiplier from raw.debt_sheets where not is_retired) s
          using (source_file, sheet)
        where f.run_id = ? and f.suite in ('reconciliation', 'debt') and s.unit_multiplier > 1
          and regexp_matches(f.observed, '^-?[0-9]+\\.[0-9]{2}$')
        group by f.finding_key, s.unit_label, s.unit_multiplier""", [run.run_id])  # the report shows one row per finding
    assert rows, "the sample has amount findings on sheets printed in 万元 or 亿元"
    page = _report(out)
    for observed, unit, multiplier in rows:
        yuan = Decimal(observed)
        in_unit = yuan / Decimal(str(multiplier))
        assert f"{in_unit:,.2f}"[:-1] in page and unit in page  # e.g. 3,701.16 万元
        assert f"（{yuan:,.2f} 元）" in page
        assert f"<td>{observed}</td>" not in page  # never the bare 元 figure without separators


def test_pipeline_checks_are_apart_from_compliance(built):
    warehouse, out, run, _ = built
    integrity = {r[0] for r in _query(warehouse, "select rule_id from quality.check_runs where run_id = ? and "
                                                 "kind = 'integrity'", [run.run_id])}
    assert integrity
    page = _report(out)
    rules = _section(page, "rules")
    pipeline = _section(page, "pipeline")
    assert all(f">{r}<" not in rules for r in integrity)
    assert all(f"<code>{r}</code>" in pipeline for r in integrity)
    assert "违规" not in pipeline and "通过 passed" in pipeline


@pytest.fixture(scope="module")
def report_in_chromium(built, tmp_path_factory) -> dict:
    """The quality report opened once in Chromium for two tests (one browser start, ≈ 1–3 CPU-s, fewer): the filter
    typed as a person types it (test_filter_works_on_grouped_findings) and the page's own script and console
    (test_pages_render_offline_without_console_errors). The probe's filtering runs after the page loaded, inside
    the probe's try: an error there is its result, not a console message; the load's console is the page's."""
    from dagster_project.quality.report_grouped import DOCUMENT_LABEL

    warehouse, out, run, _ = built
    name, code = _query(warehouse, """select publisher_name, publisher_code from quality.findings
        where run_id = ? and kind = 'compliance' and publisher_name is not null
        group by 1, 2 order by count(distinct finding_key) desc limit 1""", [run.run_id])[0]
    year, document, n_document = _query(warehouse, """select fiscal_year, coalesce(document, suite), count(distinct finding_key)
        from quality.findings where run_id = ? and kind = 'compliance' and fiscal_year is not null
        group by 1, 2 order by 3 desc limit 1""", [run.run_id])[0]
    heading = f"{year} {DOCUMENT_LABEL.get(document, document)}"
    rule = "DISC_MISSING"
    probe_js = """
    function gkTry(q){document.getElementById('filter').value=q; filterFindings();
      var root=document.getElementById('findings-groups'), vis=function(e){return e.style.display!=='none';};
      var rows=Array.prototype.filter.call(root.querySelectorAll('tr.finding'), vis);
      var blocks=Array.prototype.filter.call(root.querySelectorAll('section.publisher, tbody.document'), vis);
      return {rows: rows.length, all_rows: root.querySelectorAll('tr.finding').length,
              publishers: Array.prototype.filter.call(root.querySelectorAll('section.publisher'), vis)
                          .map(function(s){return s.getAttribute('data-publisher');}),
              empty_blocks_shown: blocks.filter(function(b){return !Array.prototype.some.call(b.querySelectorAll('tr.finding'), vis);}).length,
              rows_without_query: rows.filter(function(r){return r.textContent.indexOf(q)<0;}).length};}
    """
    # typeof first: what the page's own script defined before the probe typed anything
    measured = probe(out / "quality" / "index.html", tmp_path_factory.mktemp("report_in_chromium"), extra_js=probe_js,
                     expression=f"[typeof filterFindings, gkTry({name!r}), gkTry({heading!r}), gkTry('{rule}'), gkTry('')]",
                     budget_ms=12000)
    # a list, or {error: …} when the expression threw (no filterFindings, say): each test fails on it
    return dict(code=code, n_document=n_document, rule=rule, result=measured.result, console=measured.console)


@pytest.mark.skipif(not HAVE_CHROMIUM, reason=SKIP_REASON)
def test_filter_works_on_grouped_findings(built, report_in_chromium):
    """Findings grouped publisher → document → rule: typing a publisher's name keeps exactly its block;
    typing a document heading ("2019 决算 final accounts", in no row) keeps the rows under that heading in
    every publisher; typing a rule id keeps exactly that rule's rows; blocks left empty are hidden;
    clearing shows everything again."""
    warehouse, _, run, _ = built
    r = report_in_chromium
    code, n_document, rule = r["code"], r["n_document"], r["rule"]
    assert isinstance(r["result"], list), r["result"]
    _, by_name, by_heading, by_rule, cleared = r["result"]
    n_publisher = _query(warehouse, "select count(distinct finding_key) from quality.findings where run_id = ? and "
                                    "kind = 'compliance' and publisher_code = ?", [run.run_id, code])[0][0]
    assert by_name["publishers"] == [code] and by_name["rows"] == n_publisher  # one row per finding
    # the heading is in no row: every row shown was matched through its document block's label
    assert by_heading["rows"] == n_document and by_heading["rows_without_query"] == n_document
    n_rule = _query(warehouse, "select count(distinct finding_key) from quality.findings where run_id = ? and "
                               "kind = 'compliance' and contains(rule_id, ?)", [run.run_id, rule])[0][0]
    assert by_rule["rows"] == n_rule and by_rule["rows_without_query"] == 0  # DISC_MISSING*: every rule it names
    for result in (by_name, by_heading, by_rule):
        assert result["empty_blocks_shown"] == 0
    assert cleared["rows"] == cleared["all_rows"] > by_rule["rows"]


# --------------------------------------------------------------------------------------- dashboards

def test_procurement_dashboard_shows_the_reports_counts(built):
    """One source: per rule, the dashboard's found/judged summed over trade areas are the quality run's
    failed/evaluated (quality.check_runs), which the report prints in its rules table."""
    warehouse, out, run, dashboards = built
    page = next(p for p in dashboards.pages if p.name == "procurement_competition")
    by_area = next(f for f in page.shown if "By trade area" in f.title)
    report = _section(_report(out), "rules")
    for rule in TIMELINE_RULES:
        evaluated, failed = _query(warehouse, "select evaluated, failed from quality.check_runs where run_id = ? "
                                              "and rule_id = ?", [run.run_id, rule])[0]
        rows = [r for r in by_area.rows if r["rule_id"] == rule]
        assert sum(r["judged"] for r in rows) == evaluated, rule
        assert sum(r["found"] for r in rows) == failed, rule
        row = report[report.index(f">{rule}</a>"):]
        row = row[:row.index("</tr>")]
        assert f'<td class="num">{evaluated}</td><td class="num">{failed}</td>' in row, rule
    # the legal 20-day rule is judged only where it applies, so its share is not over every deal
    short = [r for r in by_area.rows if r["rule_id"] == "TRADE_SHORT_TENDER_PERIOD"]
    all_deals = _query(warehouse, "select count(*) from marts.fct_deals")[0][0]
    assert sum(r["judged"] for r in short) < all_deals


def test_timeliness_dashboard_counts_are_the_scorecards(built):
    """The on-time rate the dashboard draws per region and year adds up to the report scorecard's counts."""
    from dagster_project.quality.report import scorecard
    from dagster_project.quality.suites import load_rule_catalogue

    warehouse, out, run, dashboards = built
    page = next(p for p in dashboards.pages if p.name == "timeliness")
    rates = next(f for f in page.shown if "On-time rate" in f.title)
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        cards = scorecard(con, run.run_id, load_rule_catalogue())
    finally:
        con.close()
    for measure in ("due", "published", "on_time"):
        assert sum(r[measure] for r in rates.rows) == sum(c[measure] or 0 for c in cards), measure
    assert all(r["on_time_pct"] == round(100.0 * r["on_time"] / r["published"], 1) for r in rates.rows if r["published"])


@pytest.mark.skipif(not HAVE_CHROMIUM, reason=SKIP_REASON)
def test_dashboards_on_the_sample_are_readable(built, tmp_path):
    from test_publish_dashboards import assert_readable

    warehouse, _, _, dashboards = built
    for page in dashboards.pages:
        measured = probe(page.path, tmp_path)
        assert measured.console == [], measured.console
        assert_readable(page, measured.result)
    heatmap = next(p for p in dashboards.pages if p.name == "disclosure_compliance")
    years = _query(warehouse, "select fiscal_year, count(distinct publisher_code) from marts.fct_disclosure_status "
                              "group by 1 order by 1 desc")
    assert [f.layout["y_categories"] for f in heatmap.shown] == [n for _, n in years]


# ---------------------------------------------------------------------------------------- offline

def test_every_html_page_loads_nothing_from_outside(built):
    """Every page written beside the report: GX Data Docs, the dashboards and the docs site (dbt docs generated on
    this warehouse and the index: built with the runs, conftest's sample_quality_runs)."""
    _, out, _, _ = built
    pages = sorted(out.rglob("*.html"))
    kinds = {p.relative_to(out).parts[0] for p in pages}
    assert {"quality", "dashboards", "docs"} <= kinds
    assert any("gx_data_docs" in p.parts for p in pages) and (out / "docs" / "dbt" / "index.html") in pages
    outside = {p.relative_to(out).as_posix(): external_references(p.read_text(encoding="utf-8")) for p in pages}
    assert {k: v for k, v in outside.items() if v} == {}


def test_the_docs_site_keeps_the_warehouses_dbt_parse_state(built):
    """`make docs` starts dbt from the parse state kept for the warehouse and keeps what dbt wrote
    (docs_site.build_dbt_docs, parse_state.py), as the builds do: the docs site built on this copy of the
    sample's warehouse — by no other dbt call — left one beside it."""
    from dagster_project.parse_state import STATE_FOLDER

    warehouse = built[0]
    assert sorted((warehouse.parent / "tmp" / STATE_FOLDER).glob("warehouse-local-*.msgpack"))


@pytest.mark.skipif(not HAVE_CHROMIUM, reason=SKIP_REASON)
def test_pages_render_offline_without_console_errors(built, report_in_chromium, tmp_path):
    """One page of each kind in Chromium without network: its scripts ran (jQuery in Data Docs, Angular in
    dbt docs, plotly in dashboards) and the console stayed empty."""
    _, out, _, _ = built
    gx = out / "quality" / "gx_data_docs"
    validation = sorted((gx / "validations").rglob("*.html"))[0]
    suite_page = sorted((gx / "expectations").glob("*.html"))[0]
    # the quality report: opened once with the filter test (report_in_chromium)
    assert report_in_chromium["console"] == [], ("index.html", report_in_chromium["console"][:3])
    result = report_in_chromium["result"]
    assert isinstance(result, list) and result[0] == "function", ("index.html", result)
    checks = {
        gx / "index.html": "typeof jQuery + ' ' + typeof jQuery.fn.bootstrapTable",
        validation: "typeof jQuery + ' ' + typeof jQuery.fn.modal",
        suite_page: "typeof jQuery + ' ' + typeof vegaEmbed",
        out / "dashboards" / "index.html": "document.links.length > 0 ? 'function' : 'none'",
    }
    dbt_page = out / "docs" / "dbt" / "index.html"
    if dbt_page.exists():
        checks[dbt_page] = "typeof angular.module"
    for page, expression in checks.items():
        measured = probe(page, tmp_path, expression=expression, budget_ms=12000)
        assert measured.console == [], (page.name, measured.console[:3])
        assert set(str(measured.result).split()) == {"function"}, (page.name, measured.result)
