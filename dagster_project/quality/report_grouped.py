"""Findings a person can read: the quality report's findings grouped publisher → document → rule.

One block per publisher (its name, code and counts by severity), inside it one heading per fiscal year and
document (部门预算, 政府决算, 政府债务 …), under that one row per finding (rule, object, observed, expected,
where) with its offending rows folded away. A document none of whose tables was published is already one
finding (DISC_MISSING per publisher × document, its tables listed in the detail), so a registry of many
regions with few files stays one screen per publisher. Counts are exact: every finding of the run is a row.

The filter box (``report_sections.FILTER_JS``) shows the rows whose text or whose publisher / document label
(``data-label``) matches and hides the ``section.publisher`` / ``tbody.document`` blocks left empty.
"""
from __future__ import annotations

import html

from dagster_project import personal_numbers

SEVERITY_ORDER = {"failure": 0, "warning": 1, "red_flag": 2, "info": 3}
SEVERITY_SHORT = {"failure": "违规 failure", "warning": "警告 warning", "red_flag": "风险 red flag", "info": "提示 info"}
DOCUMENT_LABEL = {
    "budget": "预算 budget", "final": "决算 final accounts",
    "budget_debt": "债务（预算） debt with the budget", "final_debt": "债务（决算） debt with the final accounts",
    "trading": "公共资源交易 trading", "portal": "门户公开记录 portal", "registry": "登记信息 registry",
}
NO_PUBLISHER = "—"

GROUP_CSS = """
section.publisher{margin:.6em 0}section.publisher>details>summary{font-size:1.05em}
tbody.document th{background:#eef3fb;text-align:left}td.rows{white-space:nowrap}
"""


def _e(value) -> str:
    """Shown as the page shows it: personal numbers masked in any written form (issue 13), HTML-escaped."""
    return "" if value is None else html.escape(personal_numbers.mask(str(value)))


def grouped_findings(con, run_id: str) -> list[dict]:
    """One dict per publisher: its findings (one per finding_key) grouped by (year, document)."""
    cur = con.execute(
        """
        select coalesce(publisher_code, '') as publisher_code, min(publisher_name) as publisher_name,
               fiscal_year, coalesce(document, suite) as document, rule_id, severity, object_key, finding_key,
               min(observed) as observed, min(expected) as expected, min(detail) as detail,
               count(*) as offending_rows,
               min(source_file) as source_file, min(sheet) as sheet,
               list(source_row order by source_row) filter (where source_row is not null) as source_rows
        from quality.findings
        where run_id = ? and kind = 'compliance'
        group by all
        """,
        [run_id],
    )
    names = [d[0] for d in cur.description]
    publishers: dict[str, dict] = {}
    for row in cur.fetchall():
        f = dict(zip(names, row))
        code = f["publisher_code"] or NO_PUBLISHER
        p = publishers.setdefault(code, {"publisher_code": code, "publisher_name": f["publisher_name"],
                                         "documents": {}, "counts": {}})
        p["publisher_name"] = p["publisher_name"] or f["publisher_name"]
        p["counts"][f["severity"]] = p["counts"].get(f["severity"], 0) + 1
        p["documents"].setdefault((f["fiscal_year"], f["document"]), []).append(f)
    for p in publishers.values():
        for findings in p["documents"].values():
            findings.sort(key=lambda f: (SEVERITY_ORDER.get(f["severity"], 9), f["rule_id"], str(f["object_key"])))
    def weight(p):
        c = p["counts"]
        return (-(c.get("failure", 0) + c.get("warning", 0) + c.get("red_flag", 0)), -c.get("info", 0),
                p["publisher_code"])
    return sorted(publishers.values(), key=weight)


def render_grouped_findings(con, run_id: str, catalogue: dict[str, dict[str, str]], drill_limit: int = 20,
                            format_value=None) -> str:
    """HTML of the findings section: publisher → (year, document) → one row per finding.

    ``format_value(finding, value)``: HTML of an observed/expected/detail value (the report passes the
    source-unit amount formatter, report_sections.AmountFormatter.text); default: escaped text. The
    publisher's ``details`` and the document's heading cell carry a ``data-label`` for the report's filter."""
    fmt = format_value or (lambda f, v: _e(v))
    publishers = grouped_findings(con, run_id)
    out = ['<h2 id="findings">问题明细（按公开主体 → 文件 → 规则） Findings by publisher → document → rule</h2>',
           '<p><input id="filter" placeholder="筛选 filter: 规则、主体、文件… rule, publisher, file…" '
           'oninput="filterFindings()"></p>']
    if not publishers:
        out.append("<p>无问题 No findings.</p>")
        return "\n".join(out)
    total = sum(sum(p["counts"].values()) for p in publishers)
    out.append(f'<p id="findings-count">{len(publishers)} 个公开主体 publishers · {total} 项问题 findings '
               '(每项一行 one row per finding; 明细行见 findings.csv, rows behind each finding in findings.csv)</p>')
    for p in publishers:
        counts = " · ".join(f"{SEVERITY_SHORT[s]} {p['counts'][s]}" for s in SEVERITY_ORDER if p["counts"].get(s))
        n = sum(p["counts"].values())
        serious = n - p["counts"].get("info", 0)
        out.append(f'<section class="publisher" data-publisher="{_e(p["publisher_code"])}">'
                   f'<details{" open" if serious else ""} data-label="{_e(p["publisher_name"] or "")} '
                   f'{_e(p["publisher_code"])}"><summary><b>{_e(p["publisher_name"] or "")}</b> '
                   f'<code>{_e(p["publisher_code"])}</code> — {n} 项 findings ({counts})</summary>')
        out.append("<table><tr><th>规则 Rule</th><th>严重程度 Severity</th><th>对象 Object</th><th>实际 Observed</th>"
                   "<th>应为 Expected</th><th>来源 Where</th><th>说明 Detail</th></tr>")
        for (year, document), findings in sorted(p["documents"].items(), key=lambda kv: (str(kv[0][0]), kv[0][1])):
            label = DOCUMENT_LABEL.get(document, document)
            out.append(f'<tbody class="document"><tr><th colspan="7" data-label="{_e(year or "")} {_e(label)}">'
                       f'{_e(year or "")} {_e(label)} '
                       f'— {len(findings)} 项 findings</th></tr>')
            for f in findings:
                cat = catalogue.get(f["rule_id"], {})
                rows = f["source_rows"] or []
                where = " / ".join(str(x) for x in (f["source_file"], f["sheet"]) if x)
                if rows:
                    shown = ", ".join(str(r) for r in rows[:drill_limit])
                    more = f" … (+{len(rows) - drill_limit})" if len(rows) > drill_limit else ""
                    where += f" · 行 rows {shown}{more}"
                out.append(
                    f'<tr class="finding"><td><a href="#rule-{_e(f["rule_id"])}">{_e(f["rule_id"])}</a><br>'
                    f'<small>{_e(cat.get("title_zh", ""))}</small></td>'
                    f'<td><span class="badge {_e(f["severity"])}">{_e(SEVERITY_SHORT.get(f["severity"], f["severity"]))}'
                    f'</span></td><td><code>{_e(f["object_key"])}</code></td><td>{fmt(f, f["observed"])}</td>'
                    f'<td>{fmt(f, f["expected"])}</td><td class="rows">{_e(where)}</td><td>{fmt(f, f["detail"])}</td></tr>')
            out.append("</tbody>")
        out.append("</table></details></section>")
    return "\n".join(out)
