"""The project's own quality report: one static, self-contained HTML page (inline CSS/JS, no CDN),
plus findings.csv (UTF-8 with BOM, so Excel opens Chinese correctly) and findings.xlsx.

Everything is read back from the quality tables of this run (and the previous run, for the diff), so
the report shows exactly what was stored.
"""
from __future__ import annotations

import html
from pathlib import Path

import duckdb
import yaml

from dagster_project import personal_numbers
from dagster_project.paths import REPO_ROOT
from dagster_project.quality import report_sections as sections
from dagster_project.quality import report_revisions as revisions
from dagster_project.publish import safe_cells
from dagster_project.quality import store
from dagster_project.quality.report_grouped import GROUP_CSS, render_grouped_findings
from dagster_project.quality.suites import load_rule_catalogue

# DOMAIN.md §5: how inspectors score it. Rule family (catalogue) -> scorecard dimension.
DIMENSIONS = (
    ("present", "已公开", "present"),
    ("on_time", "按时", "on time"),
    ("detailed", "细化", "detailed"),
    ("consistent", "一致", "consistent"),
    ("privacy_safe", "隐私安全", "privacy-safe"),
    ("trading", "交易合规", "trading rules"),
    ("red_flag", "风险提示", "red flags"),
)
FAMILY_DIMENSION = {
    "disclosure": "present", "detail": "detailed", "reconciliation": "consistent", "debt": "consistent",
    "privacy": "privacy_safe", "trading": "trading", "identifier": "trading", "red_flag": "red_flag",
    "registry": "present",
}
RULE_DIMENSION_OVERRIDES = {"DISC_LATE": "on_time"}
SEVERITY_LABEL = {"failure": "违规 failure", "warning": "警告 warning", "red_flag": "风险 red flag", "info": "提示 info"}
STATUS_LABEL = {"passed": "通过 passed", "failed": "发现问题 findings", "error": "未能运行 error",
                "skipped": "跳过 skipped", "insufficient_data": "数据不足 insufficient data"}

FINDING_EXPORT_COLUMNS = (
    ("run_id", "运行 run_id"), ("kind", "类别 kind"), ("suite", "检查组 suite"), ("rule_id", "规则 rule_id"),
    ("severity", "严重程度 severity"), ("legal_basis", "依据 legal_basis"), ("publisher_code", "公开主体代码 publisher_code"),
    ("publisher_name", "公开主体 publisher_name"), ("fiscal_year", "年度 fiscal_year"), ("object_key", "对象 object_key"),
    ("observed", "实际 observed"), ("expected", "应为 expected"), ("source_file", "来源文件 source_file"),
    ("sheet", "工作表 sheet"), ("source_row", "行 source_row"), ("detail", "说明 detail"),
    ("document", "文件 document"), ("group_key", "分组 group_key"), ("finding_key", "问题键 finding_key"),
)

CSS = """
body{font-family:"Noto Sans CJK SC","Noto Sans SC","Microsoft YaHei",sans-serif;margin:1.5em;color:#222}
h1{font-size:1.5em}h2{font-size:1.2em;margin-top:1.6em;border-bottom:1px solid #ccc}
table{border-collapse:collapse;margin:.5em 0;font-size:.9em}th,td{border:1px solid #ccc;padding:.25em .5em;text-align:left}
th{background:#f2f2f2}td.num{text-align:right}.ok{background:#e6f4ea}.bad{background:#fce8e6}.warn{background:#fff4ce}
.na{color:#888}.badge{display:inline-block;padding:0 .4em;border-radius:3px;font-size:.85em}
.failure{background:#fce8e6}.warning{background:#fff4ce}.red_flag{background:#fde7d9}.info{background:#e8f0fe}
details{margin:.3em 0}summary{cursor:pointer}#filter{padding:.3em;width:24em}
.nav a{margin-right:1em}.amount{white-space:nowrap}
"""

JS = sections.FILTER_JS


def _e(value) -> str:
    """A value as the page shows it: personal numbers masked (any written form), HTML-escaped."""
    return "" if value is None else html.escape(personal_numbers.mask(str(value)))


def _rows(con, sql: str, params=()) -> list[dict]:
    cur = con.execute(sql, list(params))
    names = [d[0] for d in cur.description]
    return [dict(zip(names, r)) for r in cur.fetchall()]


def _dimension(rule_id: str, catalogue: dict[str, dict[str, str]]) -> str | None:
    if rule_id in RULE_DIMENSION_OVERRIDES:
        return RULE_DIMENSION_OVERRIDES[rule_id]
    family = catalogue.get(rule_id, {}).get("family")
    return FAMILY_DIMENSION.get(family)


def scorecard(con, run_id: str, catalogue: dict[str, dict[str, str]]) -> list[dict]:
    """One row per publisher: disclosure shares from fct_disclosure_status, finding counts per dimension."""
    tables = store.existing_tables(con)
    cards: dict[str, dict] = {}
    if "marts.fct_disclosure_status" in tables:
        for r in _rows(con, """
            select publisher_code, min(publisher_name) as publisher_name,
                   -- a missing item whose deadline is unknown is apart from the timeliness figures
                   count(*) filter (where status not in ('not_yet_due', 'missing_deadline_unknown')) as due,
                   count(*) filter (where status not in ('not_yet_due', 'missing', 'missing_deadline_unknown')) as published,
                   count(*) filter (where status in ('on_time', 'empty_with_note', 'empty_without_note')) as on_time
            from marts.fct_disclosure_status group by 1"""):
            cards[r["publisher_code"]] = {**r, "counts": {}}
    for r in _rows(con, """
            select publisher_code, min(publisher_name) as publisher_name, rule_id, count(distinct finding_key) as n
            from quality.findings where run_id = ? and kind = 'compliance' and severity <> 'info'
            group by publisher_code, rule_id""", [run_id]):
        code = r["publisher_code"] or "—"
        card = cards.setdefault(code, {"publisher_code": code, "publisher_name": r["publisher_name"],
                                       "due": None, "published": None, "on_time": None, "counts": {}})
        card["publisher_name"] = card["publisher_name"] or r["publisher_name"]
        dim = _dimension(r["rule_id"], catalogue)
        card["counts"][dim] = card["counts"].get(dim, 0) + r["n"]
    return sorted(cards.values(), key=lambda c: (-sum(c["counts"].values()), str(c["publisher_code"])))


def _score_cell(card: dict, dim: str) -> str:
    n = card["counts"].get(dim, 0)
    if dim == "present" and card.get("due"):
        share = card["published"] / card["due"]
        cls = "ok" if n == 0 and share == 1 else "bad"
        return f'<td class="{cls} num">{share:.0%} ({card["published"]}/{card["due"]})</td>'
    if dim == "on_time" and card.get("published"):
        share = card["on_time"] / card["published"]
        cls = "ok" if n == 0 else "bad"
        return f'<td class="{cls} num">{share:.0%} ({card["on_time"]}/{card["published"]})</td>'
    if dim in ("present", "on_time") and not card.get("due") and n == 0:
        return '<td class="na num" title="无应公开项 nothing due">—</td>'
    if n == 0:
        return '<td class="ok num">✓ 0</td>'
    cls = "warn" if dim == "red_flag" else "bad"
    return f'<td class="{cls} num">✗ {n}</td>'


def dashboard_links(folder: Path = REPO_ROOT / "dashboards") -> list[tuple[str, str]]:
    """(name, title) of every dashboard definition. Read from the definitions, not the output folder:
    publication renders the dashboards after this report is written."""
    links = []
    for path in sorted(folder.glob("*.yaml")):
        try:
            doc = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        except yaml.YAMLError:
            continue
        name = doc.get("name") or path.stem
        links.append((name, f'{doc.get("title_zh", "")} {doc.get("title_en", "")}'.strip() or name))
    return links


def export_cell(value):
    """A findings export cell: personal numbers masked in any written form (the spreadsheet-safe
    writers neutralise formulas)."""
    return personal_numbers.mask_value(value)


def write_exports(con, run_id: str, quality_dir: Path) -> tuple[Path, Path]:
    cols = ", ".join(c for c, _ in FINDING_EXPORT_COLUMNS)
    # a total order (every exported column after the grouping): the same findings are the same rows in the same order
    import pyarrow as pa

    found = con.sql(
        f"select {cols} from quality.findings where run_id = ? order by kind, group_key, rule_id, object_key, source_row, "
        f"{cols}", params=[run_id]).to_arrow_table()
    labels = [label for _, label in FINDING_EXPORT_COLUMNS]
    # typed as DuckDB gave them; only text can hold a personal number (personal_numbers.mask caches recurring texts)
    columns = [pa.array([export_cell(v) for v in column.to_pylist()], type=column.type)
               if pa.types.is_string(column.type) or pa.types.is_large_string(column.type) else column
               for column in found.columns]
    exported = pa.Table.from_arrays(columns, names=labels)
    csv_path = safe_cells.write_csv(quality_dir / "findings.csv", labels,
                                    zip(*(column.to_pylist() for column in exported.columns)))
    from dagster_project.quality.findings_xlsx import write_findings_xlsx

    xlsx_path = write_findings_xlsx(con, quality_dir / "findings.xlsx", "findings 问题清单", exported, run_id)
    return csv_path, xlsx_path


def carried_suites_note(run) -> str:
    """Which suites this run carried from the one before instead of validating (``suite_carry.py``)."""
    carried = getattr(run, "carried_suites", None) or {}
    if not carried or getattr(run, "carried_from_run", None):
        return ""
    names = ", ".join(f"<code>{_e(s)}</code>" for s in sorted(carried))
    sources = ", ".join(f"<code>{_e(r)}</code>" for r in sorted(set(carried.values())))
    return (f'<p id="carried-suites">输入未变化的套件沿用运行 {sources} 的结果，未重新校验 Suites whose inputs did not '
            f"change carry the results of run {sources} (GX not run again): {names}.</p>")


def checks_of(con, run_id: str) -> list[dict]:
    return _rows(con, "select * from quality.check_runs where run_id = ? order by kind, suite, rule_id", [run_id])


def render_html(con, run, suites, quality_dir: Path, drill_limit: int = 500) -> str:
    checks = checks_of(con, run.run_id)
    return render_head(con, run, quality_dir, checks, drill_limit) + "\n" + render_body(con, run.run_id, suites, checks,
                                                                                       drill_limit)


def render_head(con, run, quality_dir: Path, checks: list[dict], drill_limit: int = 500) -> str:
    """What names the run: its id and times, what it carried, the change since the run before it (findings and
    figures). The body (``render_body``) is the run's results alone: a run whose check and finding rows are another
    run's, on the same data with the same code, has that run's body (``report_carry.py``)."""
    run_id = run.run_id
    change = store.change_since_previous(con, run_id)
    out = []
    add = out.append
    add('<!DOCTYPE html><html lang="zh-CN"><head><meta charset="utf-8">')
    add("<title>数据质量报告 Quality report</title>")
    add(f"<style>{CSS}{GROUP_CSS}</style><script>{JS}</script></head><body>")
    add("<h1>公开 gongkai · 数据质量报告 Quality report</h1>")
    add(f'<p>运行 Run <code>{_e(run_id)}</code> · 开始 started {_e(run.started_at.isoformat(timespec="seconds"))} · '
        f"GX 校验用时 validation {run.gx_seconds:.1f} s</p>")
    carried = getattr(run, "carried_from_run", None)
    if carried:
        add(f'<p id="carried">结果沿用运行 Results carried from run <code>{_e(carried)}</code>：输入未变化，未重新校验 '
            f"inputs unchanged since that run, GX was not run again.</p>")
    add(carried_suites_note(run))
    add('<p class="nav">')
    add('<a href="findings.csv">findings.csv</a><a href="findings.xlsx">findings.xlsx</a>')
    add('<a href="#rejects">拒收 Rejected files and rows</a><a href="#pipeline-checks">管道检查 Pipeline checks</a>')
    if run.data_docs_index:
        rel = run.data_docs_index.relative_to(quality_dir).as_posix()
        add(f'<a href="{_e(rel)}">GX 数据文档 Data Docs</a>')
    add(' 仪表板 Dashboards: <a href="../dashboards/index.html">全部 all</a>')
    for name, title in dashboard_links():
        add(f'<a href="../dashboards/{_e(name)}.html">{_e(title)}</a>')
    add("</p>")

    integrity = [c for c in checks if c["kind"] == "integrity"]
    bad_integrity = [c for c in integrity if c["status"] != "passed"]
    if bad_integrity:
        add('<p class="bad"><b>管道检查未通过，停止发布 Pipeline checks failed: publication is blocked</b> '
            '(<a href="#pipeline-checks">详见 see below</a>).</p>')
    else:
        add(f'<p class="ok">管道检查 Pipeline checks: {len(integrity)} 项全部通过 all passed.</p>')

    add("<h2>与上次比较 Change since the previous run</h2>")
    data_changes = revisions.data_changes_since_previous(con, run_id)
    if change.previous_run_id is None:
        add(f"<p>首次运行 First run: {len(change.new)} 项问题 findings.</p>")
    elif change.unchanged and not data_changes.rows:
        add(f'<p id="change">与上次相同 no change since last run (<code>{_e(change.previous_run_id)}</code>): '
            f"{len(change.still_open)} 项仍未解决 still open.</p>")
    else:
        add(f'<p id="change">上次 previous <code>{_e(change.previous_run_id)}</code>: 新增 new {len(change.new)} · '
            f"已解决 fixed {len(change.fixed)} · 仍未解决 still open {len(change.still_open)}</p>")
        for label, keys in (("新增 new", change.new), ("已解决 fixed", change.fixed)):
            if keys:
                add(f"<details><summary>{label} ({len(keys)})</summary><ul>")
                add("".join(f"<li><code>{_e(k)}</code></li>" for k in keys[:drill_limit]))
                add("</ul></details>")
    # the data side: figures of re-published files that changed (a quiet correction raises no finding of its own)
    add(revisions.data_changes_section(data_changes, drill_limit))
    return "\n".join(out)


def render_body(con, run_id: str, suites, checks: list[dict], drill_limit: int = 500) -> str:
    """The run's results: scorecard, results per rule, findings by publisher, rejects, pipeline checks."""
    catalogue = load_rule_catalogue()
    cards = scorecard(con, run_id, catalogue)
    findings_by_rule: dict[str, list[dict]] = {}
    all_findings = _rows(con, """select * from quality.findings where run_id = ?
                           order by rule_id, publisher_code, fiscal_year, object_key, source_row""", [run_id])
    for f in all_findings:
        if f["kind"] != "integrity":  # pipeline problems are shown with the pipeline checks
            findings_by_rule.setdefault(f["rule_id"], []).append(f)
    amounts = sections.AmountFormatter(sections.SourceUnits.read(con), catalogue)
    reject_files, reject_rows = sections.read_rejects(con)
    out = []
    add = out.append
    add("<h2>公开主体记分卡 Scorecard per publisher</h2>")
    add('<table id="scorecard"><tr><th>公开主体 Publisher</th><th>代码 Code</th>')
    add("".join(f"<th>{zh} {en}</th>" for _, zh, en in DIMENSIONS) + "</tr>")
    for card in cards:
        add(f'<tr><td>{_e(card.get("publisher_name"))}</td><td><code>{_e(card["publisher_code"])}</code></td>')
        add("".join(_score_cell(card, dim) for dim, _, _ in DIMENSIONS) + "</tr>")
    add("</table><p class=\"na\">已公开 present = 已发布/应公开 published/due; 按时 on time = 按时/已发布; "
        "其余为问题数 others: number of findings.</p>")

    add("<h2>规则结果 Results per rule</h2>")
    add("<table id=\"rules\"><tr><th>检查组 Suite</th><th>规则 Rule</th><th>名称 Title</th><th>严重程度 Severity</th>"
        "<th>依据 Legal basis</th><th>评估 Evaluated</th><th>问题 Findings</th><th>比例 Rate</th>"
        "<th>数据不足 Insufficient data</th><th>状态 Status</th></tr>")
    for c in (c for c in checks if c["kind"] != "integrity"):  # pipeline checks have their own section
        cat = catalogue.get(c["rule_id"], {})
        title = f'{cat.get("title_zh", "")} {cat.get("title_en", "")}'.strip() or c["batch"]
        rate = f'{c["failed"] / c["evaluated"]:.1%}' if c["evaluated"] else "—"
        cls = {"passed": "ok", "failed": "bad", "error": "warn"}.get(c["status"], "")
        add(f'<tr><td>{_e(c["suite"])}</td><td><a href="#rule-{_e(c["rule_id"])}">{_e(c["rule_id"])}</a></td>'
            f'<td>{_e(title)}</td><td><span class="badge {_e(c["severity"])}">{_e(SEVERITY_LABEL.get(c["severity"], c["severity"]))}</span></td>'
            f'<td>{_e(c["legal_basis"])}</td><td class="num">{_e(c["evaluated"])}</td><td class="num">{_e(c["failed"])}</td>'
            f'<td class="num">{rate}</td><td class="num">{_e(c["insufficient"])}</td>'
            f'<td class="{cls}" title="{_e(c["detail"])}">{_e(STATUS_LABEL.get(c["status"], c["status"]))}'
            f'{"<br><small>" + _e(c["detail"][:200]) + "</small>" if c["detail"] else ""}</td></tr>')
    add("</table>")

    # findings grouped publisher → document → rule (report_grouped); the filter (report_sections.FILTER_JS)
    # works on the nested publisher / document blocks holding `tr.finding` rows
    add('<div id="findings-groups">')
    add(render_grouped_findings(con, run_id, catalogue, drill_limit=min(drill_limit, 20), format_value=amounts.text))
    add("</div>")
    # anchors of the per-rule table: each rule's findings are counted there and listed by publisher above
    add("".join(f'<span id="rule-{_e(r)}"></span>' for r in findings_by_rule))
    add(sections.rejects_section(reject_files, reject_rows, drill_limit))
    add(sections.pipeline_checks_section(checks, all_findings, catalogue, suites))
    add("</body></html>")
    return "\n".join(out)


def write_reports(con: duckdb.DuckDBPyConnection, run, suites, quality_dir: Path) -> Path:
    from dagster_project.quality import report_carry

    quality_dir.mkdir(parents=True, exist_ok=True)
    report_carry.forget(quality_dir)
    write_exports(con, run.run_id, quality_dir)
    sections.write_rejects_csv(sections.read_rejects(con)[1], quality_dir / report_carry.REJECTS_CSV)
    index = quality_dir / report_carry.INDEX
    checks = checks_of(con, run.run_id)
    prefix = (render_head(con, run, quality_dir, checks) + "\n").encode("utf-8")
    index.write_bytes(prefix + render_body(con, run.run_id, suites, checks).encode("utf-8"))
    # which run the files are, and where the page's body starts: a run carrying this one reuses them
    report_carry.remember(quality_dir, run.run_id, len(prefix))
    return index
