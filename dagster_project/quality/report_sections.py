"""Parts of the quality report that stand on their own (kept apart from ``report.py``'s layout):

- ``rejects_section``: the files and rows ingest refused (``raw.load_files`` / ``raw.load_rejects``),
  with reason, file, sheet or page, row, column and the value read — what the Bureau has to chase;
  also written as ``rejects.csv``;
- ``SourceUnits`` / ``AmountFormatter``: amounts of the amount rules shown in the unit the source
  table was printed in (万元 …), with thousands separators and the 元 figure beside;
- ``pipeline_checks_section``: gongkai's own integrity checks, shown apart from the publishers'
  compliance results (a failed pipeline check is our fault, not a publisher's violation);
- ``FILTER_JS``: the findings filter, written against a grouped layout (inside ``#findings-groups``): every
  finding row is a ``tr.finding``; every group of findings at any depth is a ``section.publisher``, a
  ``tbody.document`` (report_grouped) or any ``.fgroup`` element, named by a ``data-label`` on itself, on its
  ``details`` or on its heading cell (else its ``summary``). A row shows when the query is found in its text
  or in the label of a group around it; a group shows when a row inside it shows.
"""
from __future__ import annotations

import html
import re
from decimal import Decimal, InvalidOperation
from pathlib import Path

from dagster_project import personal_numbers
from dagster_project.publish import safe_cells

# Rule families whose observed/expected values are amounts in 元 (int_reconciliation_checks:
# expected_yuan / actual_yuan, CONTRACTS.md §4) and so are shown in the source table's unit.
AMOUNT_FAMILIES = frozenset({"reconciliation", "debt"})
_AMOUNT = re.compile(r"(?<![\w.])-?\d+\.\d{2}(?![\d.])")


def _e(value) -> str:
    return "" if value is None else html.escape(str(value))


def _rows(con, sql: str, params=()) -> list[dict]:
    cur = con.execute(sql, list(params))
    names = [d[0] for d in cur.description]
    return [dict(zip(names, r)) for r in cur.fetchall()]


def _tables(con) -> set[str]:
    return {r[0] for r in con.execute(
        "select table_schema || '.' || table_name from information_schema.tables").fetchall()}


# ------------------------------------------------------------------------------------ source units

class SourceUnits:
    """The unit each source sheet was printed in: (source_file, sheet) -> (label, 元 per unit)."""

    def __init__(self, units: dict[tuple[str, str], tuple[str, Decimal]]):
        self.units = units

    @classmethod
    def read(cls, con) -> "SourceUnits":
        tables = _tables(con)
        parts = [f"select source_file, sheet, unit_label, unit_multiplier from raw.{t} where not is_retired "
                 f"and unit_multiplier is not null and unit_label is not null"
                 for t in ("budget_sheets", "debt_sheets") if f"raw.{t}" in tables]
        if not parts:
            return cls({})
        rows = con.execute(" union all ".join(parts)).fetchall()
        return cls({(f, s): (label, Decimal(str(m))) for f, s, label, m in rows})

    def of(self, source_file: str | None, sheet: str | None) -> tuple[str, Decimal] | None:
        return self.units.get((source_file, sheet)) if source_file and sheet else None


def format_amount(yuan: Decimal, unit: tuple[str, Decimal] | None) -> str:
    """``3,701.16 万元（37,011,600.00 元）``; in 元 only ``37,011,600.00 元``."""
    yuan_text = f"{yuan:,.2f} 元"
    if unit is None or unit[1] == 1:
        return yuan_text
    label, multiplier = unit
    value = yuan / multiplier
    # as many decimals as the 元 figure needs (2 in 元 → up to 6 in 万元), at least 2
    decimals = max(2, min(8, -value.normalize().as_tuple().exponent))
    return f"{value:,.{decimals}f} {label}（{yuan_text}）"


class AmountFormatter:
    """Rewrites the 元 amounts in a finding's texts into the source unit, for the amount rule families."""

    def __init__(self, units: SourceUnits, catalogue: dict[str, dict[str, str]]):
        self.units = units
        self.catalogue = catalogue

    def applies(self, finding: dict) -> bool:
        return self.catalogue.get(finding.get("rule_id"), {}).get("family") in AMOUNT_FAMILIES

    def text(self, finding: dict, value) -> str:
        """HTML of ``value`` (a finding's observed/expected/detail) with its amounts in the source unit."""
        if value is None:
            return ""
        if not self.applies(finding):
            return _e(value)
        unit = self.units.of(finding.get("source_file"), finding.get("sheet"))
        out, last = [], 0
        text = str(value)
        for m in _AMOUNT.finditer(text):
            try:
                amount = Decimal(m.group(0))
            except InvalidOperation:
                continue
            out.append(_e(text[last:m.start()]))
            out.append(f'<span class="amount">{_e(format_amount(amount, unit))}</span>')
            last = m.end()
        out.append(_e(text[last:]))
        # a bare amount ("37011600.00") reads as 元 even where the sheet's unit is unknown
        return "".join(out)


# ------------------------------------------------------------------------------------------ rejects

REJECT_COLUMNS = (
    ("family", "类别 family"), ("source_file", "文件 file"), ("file_status", "文件状态 file status"),
    ("sheet", "工作表/页 sheet or page"), ("source_row", "行 row"), ("source_column", "列 column"),
    ("raw_value", "读到的值 value read"), ("reason", "原因 reason"),
)


def read_rejects(con) -> tuple[list[dict], list[dict]]:
    """(files with rejects, reject rows) of the current loads; empty when ingest never ran here."""
    tables = _tables(con)
    if "raw.load_files" not in tables:
        return [], []
    files = _rows(con, """
        select family, source_file, status, reason, rows_in, rows_loaded, rows_rejected, loaded_at
        from raw.load_files
        where is_current and status in ('rejected', 'loaded_with_rejects')
        order by status desc, family, source_file""")
    rows = []
    if "raw.load_rejects" in tables:
        rows = _rows(con, """
            select r.family, r.source_file, f.status as file_status, r.sheet, r.source_row, r.source_column,
                   r.raw_value, r.reason
            from raw.load_rejects r
            left join raw.load_files f on f.source_file = r.source_file and f.is_current
            where not r.is_retired
            order by r.family, r.source_file, r.sheet nulls first, r.source_row nulls first, r.source_column""")
    # a rejected cell or line is the publisher's text as found: it can hold an ID or phone number (a malformed JSON
    # line's notice, a phone typed into an amount column); the report masks personal numbers as its findings do
    masked = ("raw_value", "reason")
    files = [{k: personal_numbers.mask_value(v) if k == "reason" else v for k, v in f.items()} for f in files]
    rows = [{k: personal_numbers.mask_value(v) if k in masked else v for k, v in r.items()} for r in rows]
    return files, rows


def write_rejects_csv(rows: list[dict], path: Path) -> Path:
    # formula text neutralised (a rejected cell may start with '='), as findings.csv is
    return safe_cells.write_csv(path, [label for _, label in REJECT_COLUMNS],
                                [[r.get(c) for c, _ in REJECT_COLUMNS] for r in rows])


FILE_STATUS_LABEL = {"rejected": "整个文件拒收 whole file rejected", "loaded_with_rejects": "部分行拒收 rows rejected"}


def rejects_section(files: list[dict], rows: list[dict], drill_limit: int = 500) -> str:
    out = ['<h2 id="rejects">拒收的文件和行 Rejected files and rows</h2>']
    if not files and not rows:
        out.append("<p>无拒收 Nothing was rejected.</p>")
        return "\n".join(out)
    whole = sum(1 for f in files if f["status"] == "rejected")
    out.append(f'<p>{whole} 个文件整个拒收 files rejected whole · {len(files) - whole} 个文件部分行拒收 files with '
               f'rejected rows · {len(rows)} 条拒收记录 reject records. 全部见 all in '
               f'<a href="rejects.csv">rejects.csv</a>. 请联系公开主体更正后重新提交 Ask the publisher to correct '
               f'and resend.</p>')
    out.append('<table id="rejected-files"><tr><th>文件 File</th><th>状态 Status</th><th>读入 Rows in</th>'
               '<th>已载入 Loaded</th><th>拒收 Rejected</th><th>原因 Reason</th></tr>')
    for f in files:
        out.append(f'<tr class="{"bad" if f["status"] == "rejected" else "warn"}"><td>{_e(f["source_file"])}</td>'
                   f'<td>{_e(FILE_STATUS_LABEL.get(f["status"], f["status"]))}</td>'
                   f'<td class="num">{_e(f["rows_in"])}</td><td class="num">{_e(f["rows_loaded"])}</td>'
                   f'<td class="num">{_e(f["rows_rejected"])}</td><td>{_e(f["reason"])}</td></tr>')
    out.append("</table>")
    out.append('<table id="rejected-rows"><tr>' + "".join(f"<th>{_e(label)}</th>" for _, label in REJECT_COLUMNS)
               + "</tr>")
    for r in rows[:drill_limit]:
        out.append('<tr class="reject">' + "".join(
            f'<td{" class=num" if c == "source_row" else ""}>'
            f'{_e(FILE_STATUS_LABEL.get(r[c], r[c]) if c == "file_status" else r[c])}</td>'
            for c, _ in REJECT_COLUMNS) + "</tr>")
    out.append("</table>")
    if len(rows) > drill_limit:
        out.append(f"<p>仅显示前 {drill_limit} 条 first {drill_limit} shown; 全部见 all in rejects.csv.</p>")
    return "\n".join(out)


# ---------------------------------------------------------------------------------- pipeline checks

PIPELINE_STATUS_LABEL = {"passed": "通过 passed", "failed": "未通过 failed", "error": "未能运行 could not run",
                         "skipped": "跳过 skipped", "insufficient_data": "数据不足 insufficient data"}


def pipeline_checks_section(checks: list[dict], findings: list[dict], catalogue: dict, suites=None,
                            drill_limit: int = 200) -> str:
    """gongkai's own invariants (kind = integrity), apart from the publishers' compliance results.

    A check is named by its expectation's description in the suite (``suites``), else the table it reads."""
    described = {(e.rule_id, e.batch): e.description for s in (suites or []) for e in s.expectations}
    integrity = [c for c in checks if c["kind"] == "integrity"]
    failing = [c for c in integrity if c["status"] not in ("passed", "insufficient_data")]
    out = ['<h2 id="pipeline-checks">管道检查 Pipeline checks</h2>',
           "<p>gongkai 自身的完整性检查（行数核算、主键、代码表等），不是对公开主体的要求；未通过时停止发布。 "
           "gongkai's own integrity checks (row accounting, keys, vocabularies): not obligations of publishers; "
           "a failing one stops publication.</p>"]
    if failing:
        out.append('<p class="bad"><b>管道检查未通过，停止发布 Pipeline checks failed: publication is blocked.</b></p>')
    else:
        out.append(f'<p class="ok">{len(integrity)} 项管道检查全部通过 pipeline checks, all passed.</p>')
    out.append('<table id="pipeline"><tr><th>检查 Check</th><th>名称 Title</th><th>评估 Evaluated</th>'
               '<th>问题 Problems</th><th>状态 Status</th></tr>')
    for c in integrity:
        cat = catalogue.get(c["rule_id"], {})
        title = (f'{cat.get("title_zh", "")} {cat.get("title_en", "")}'.strip()
                 or described.get((c["rule_id"], c.get("batch"))) or c.get("expectation_type") or "")
        title = " · ".join(t for t in (title, c.get("batch")) if t)
        cls = {"passed": "ok", "failed": "bad", "error": "bad"}.get(c["status"], "")
        detail = f'<br><small>{_e(c["detail"][:300])}</small>' if c.get("detail") else ""
        out.append(f'<tr><td><code>{_e(c["rule_id"])}</code></td><td>{_e(title)}</td>'
                   f'<td class="num">{_e(c["evaluated"])}</td><td class="num">{_e(c["failed"])}</td>'
                   f'<td class="{cls}">{_e(PIPELINE_STATUS_LABEL.get(c["status"], c["status"]))}{detail}</td></tr>')
    out.append("</table>")
    problems = [f for f in findings if f.get("kind") == "integrity"]
    if problems:
        out.append(f"<details open><summary>问题明细 Problems ({len(problems)})</summary><table>"
                   "<tr><th>检查 Check</th><th>对象 Object</th><th>实际 Observed</th><th>应为 Expected</th>"
                   "<th>来源文件 Source file</th><th>说明 Detail</th></tr>")
        for f in problems[:drill_limit]:
            out.append(f'<tr><td><code>{_e(f["rule_id"])}</code></td><td><code>{_e(f["object_key"])}</code></td>'
                       f'<td>{_e(f["observed"])}</td><td>{_e(f["expected"])}</td><td>{_e(f["source_file"])}</td>'
                       f'<td>{_e(f["detail"])}</td></tr>')
        out.append("</table></details>")
    return "\n".join(out)


# ------------------------------------------------------------------------------------------- filter

FILTER_JS = """
var GK_GROUPS='.fgroup, section.publisher, tbody.document';
function gkGroupLabel(g){
  var l=g.getAttribute('data-label'); if(l) return l.toLowerCase();
  var e=g.querySelector(':scope > details[data-label], :scope > tr > th[data-label]'); if(e) return e.getAttribute('data-label').toLowerCase();
  var s=g.querySelector(':scope > summary'); return s?s.textContent.toLowerCase():'';}
function filterFindings(){
  var q=document.getElementById('filter').value.trim().toLowerCase();
  var root=document.getElementById('findings-groups')||document.body;
  var shown=0;
  root.querySelectorAll('tr.finding').forEach(function(r){
    var hay=r.textContent.toLowerCase(), g=r.parentElement;
    while(g && g!==root){ if(g.matches && g.matches(GK_GROUPS)) hay+=' '+gkGroupLabel(g); g=g.parentElement; }
    var hit=!q || hay.indexOf(q)>=0; r.style.display=hit?'':'none'; if(hit) shown++;
  });
  var groups=Array.prototype.slice.call(root.querySelectorAll(GK_GROUPS)).reverse();  // innermost first
  groups.forEach(function(g){
    var any=Array.prototype.some.call(g.querySelectorAll('tr.finding'), function(r){return r.style.display!=='none';});
    g.style.display=any?'':'none';
    var d=g.tagName==='DETAILS'?g:g.querySelector(':scope > details'); if(q && any && d) d.open=true;
  });
  var n=document.getElementById('filter-count'); if(n) n.textContent=q?(shown+' 行 rows'):'';
}
"""
