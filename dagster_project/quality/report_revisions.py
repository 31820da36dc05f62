"""The data side of the report's "since the previous run": figures that changed, vanished or appeared.

Findings alone cannot show a quiet correction: a workbook re-published with some figures changed (totals kept)
raises no finding of its own. ``marts.fct_revisions`` pairs the versions of every re-published budget/debt file
figure by figure; this section lists the revisions whose later version was loaded after the previous quality run
started (every revision on a first run), grouped publisher → file, with both amounts and whether the new version
carries a correction note. REV_SILENT_CORRECTION judges them; this only shows them.

The amounts compared are those of the readings made when the publisher replaced the file: a version read again by
changed readers also shows what it reads as now (``new_amount_now_yuan``), and a version first read in a load where
the readers changed and moved figures of the same table in unchanged files (``readers_changed``: compared with the old
bytes as older readers read them) is marked as such — its difference cannot be told from the readers', so it is
counted and shown as a change without a correction note that needs review (REV_SILENT_CORRECTION names it so too).
"""
from __future__ import annotations

import datetime as dt
import html
from dataclasses import dataclass, field

from dagster_project import personal_numbers

REVISIONS_TABLE = "marts.fct_revisions"
KIND_LABEL = {"changed": "更改 changed", "vanished": "删除 vanished", "added": "新增 added"}


def _e(value) -> str:
    return "" if value is None else html.escape(personal_numbers.mask(str(value)))


@dataclass(frozen=True)
class DataChanges:
    """Revisions loaded since ``since`` (None: no previous run, every revision counts)."""
    since: dt.datetime | None
    rows: list[dict] = field(default_factory=list)

    def count(self, kind: str) -> int:
        return sum(1 for r in self.rows if r["change_kind"] == kind)

    @property
    def silent(self) -> int:
        return sum(1 for r in self.rows if r["change_kind"] != "added" and not r["has_correction_note"])

    @property
    def readers_changed(self) -> int:
        """Of the silent ones, those read across a readers' change: a person must tell whose change it is."""
        return sum(1 for r in self.rows
                   if r["change_kind"] != "added" and not r["has_correction_note"] and r.get("readers_changed"))


def data_changes_since_previous(con, run_id: str) -> DataChanges:
    """The revisions whose later version was loaded after the quality run before ``run_id`` started."""
    tables = {f"{s}.{t}" for s, t in con.execute(
        "select table_schema, table_name from information_schema.tables").fetchall()}
    prev = con.execute(
        """select started_at from quality.runs
           where started_at < (select started_at from quality.runs where run_id = ?)
           order by started_at desc limit 1""",
        [run_id],
    ).fetchone() if "quality.runs" in tables else None
    since = prev[0] if prev else None
    if REVISIONS_TABLE not in tables:
        return DataChanges(since)
    cur = con.execute(
        f"""select r.*, coalesce(p.entity_name, g.region_name) as publisher_name
            from {REVISIONS_TABLE} r
            left join (select entity_code, min(entity_name) as entity_name from marts.dim_entity group by 1) p
                on p.entity_code = r.publisher_code
            left join (select region_code, min(region_name) as region_name from marts.dim_region group by 1) g
                on g.region_code = r.publisher_code
            where ? is null or r.last_seen_at > ?
            order by r.publisher_code, r.new_source_file, r.last_seen_at, r.table_key, r.old_sheet, r.new_sheet,
                     coalesce(r.new_source_row, r.old_source_row), r.measure""",
        [since, since],
    )
    names = [d[0] for d in cur.description]
    return DataChanges(since, [dict(zip(names, r)) for r in cur.fetchall()])


def data_changes_summary(changes: DataChanges) -> str:
    """One line for the head of the section (also used to tell "no change" from "findings unchanged")."""
    if not changes.rows:
        return "数据无变化 no published figure changed"
    return (f"数据变化 data changes: 更改 changed {changes.count('changed')} · 删除 vanished {changes.count('vanished')}"
            f" · 新增 added {changes.count('added')} (其中无更正说明 without a correction note: {changes.silent}"
            + (f"; 其中读取程序同时更新、须人工核对 of which read across a readers' change, needs review: "
               f"{changes.readers_changed}" if changes.readers_changed else "") + ")")


def data_changes_section(changes: DataChanges, drill_limit: int = 500) -> str:
    out = [f'<div id="data-changes"><p>{_e(data_changes_summary(changes))}</p>']
    if changes.rows:
        out.append('<table class="revisions"><tr><th>公开主体 Publisher</th><th>年度 Year</th><th>文件 File</th>'
                   '<th>表格 Table</th><th>项目 Item</th><th>指标 Measure</th><th>变化 Change</th>'
                   '<th>原数 Old (元)</th><th>新数 New (元)</th><th>更正说明 Correction note</th>'
                   '<th>版本 Versions</th></tr>')
        for r in changes.rows[:drill_limit]:
            note = ("有 yes" if r["has_correction_note"] else
                    '<span class="bad">无 none</span> 读取程序同时更新, 差异可能来自读取程序, 须人工核对 (read across a '
                    "readers' change: the difference may be the readers', needs review)" if r.get("readers_changed")
                    else '<span class="bad">无 none</span>')
            new = _e(r["new_amount_yuan"])
            now = r.get("new_amount_now_yuan")
            if now is not None and now != r["new_amount_yuan"]:
                new += f' <span class="now">(现读作 now read as {_e(now)})</span>'
            out.append(
                f'<tr class="revision"><td>{_e(r["publisher_name"] or r["publisher_code"])} '
                f'<code>{_e(r["publisher_code"])}</code></td><td>{_e(r["fiscal_year"])}</td>'
                f'<td>{_e(r["new_source_file"])}</td><td>{_e(r["table_key"])}</td><td>{_e(r["item_key"])}</td>'
                f'<td>{_e(r["measure"])}</td><td>{_e(KIND_LABEL.get(r["change_kind"], r["change_kind"]))}</td>'
                f'<td class="num amount">{_e(r["old_amount_yuan"])}</td><td class="num amount">{new}</td>'
                f'<td>{note}</td><td><code>{_e((r["old_source_sha256"] or "")[:12])}</code> → '
                f'<code>{_e((r["new_source_sha256"] or "")[:12])}</code></td></tr>')
        out.append("</table>")
        if len(changes.rows) > drill_limit:
            out.append(f"<p>… 另有 {len(changes.rows) - drill_limit} 项 more (marts.fct_revisions)</p>")
    out.append("</div>")
    return "".join(out)
