"""Generate a raw root (registry/ budget/ debt/ trading/ portal/) and its ground truth.

Everything is drawn from ``random.Random(seed)`` / numpy generators seeded from ``seed`` in a fixed order,
so the same arguments give the same files. Planted defects are listed in ``PLANTS`` (data), each on its
own publisher/year; the ground truth's disclosure statuses are derived from what was actually written.
"""
from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import json
import random
from pathlib import Path

from . import refdata, trading
from .publishers import Publisher, build_extra_publishers, build_publishers
from .tables import PHASE_ZH, Table, build_dept_model, build_table, debt_item_values, debt_region_rows
from . import disclosure_forms as forms
from .formats import chromium, document_html, print_pdf, save_xls, worksheet_html
from .workbook import Layout, new_workbook, save_workbook, sheet_name, unit_variant, write_sheet

GENERATOR_VERSION = 2
UNIT_MULTIPLIERS = {"元": 1, "千元": 1000, "万元": 10000, "亿元": 100000000}

# Planted budget-side defects: (entity slot, year slot, document, action, table_key or None).
# Entity slots: D0..D3 provincial departments, U0 a unit, C0 a city bureau, R0..R2 regions.
PLANTS = [
    ("D2", 0, "budget", "omit", "dept_sangong"),
    ("D2", 0, "budget", "omit", "dept_gfb_expenditure"),
    ("R2", 1, "budget", "omit", "gov_gfb_transfer"),
    ("D1", 0, "final", "late", None),
    ("D0", 2, "budget", "empty_no_note", "dept_gfb_expenditure"),
    ("D3", 2, "budget", "summary_imbalance", "dept_summary"),
    ("U0", 1, "budget", "hierarchy_break", "dept_gpb_expenditure"),
    ("C0", 0, "budget", "detail_to_kuan", "dept_gpb_expenditure"),
    ("D1", 1, "budget", "sangong_unsplit", "dept_sangong"),
    ("R1", 1, "budget", "balance_over_limit", "debt_1_1"),
    ("R0", 2, "budget", "roll_forward_break", "debt_1_3"),
    ("R2", 2, "final", "corrupt", None),
    ("R1", 2, "budget", "cell_tbd", "gov_gpb_revenue"),
    ("D3", 0, "final", "cell_ref", "deptf_expenditure"),
    ("C0", 1, "budget", "blank_reply", None),
    ("R2", 0, "budget", "debt_in_gov_workbook", None),
    ("D0", 1, "budget", "unknown_sheet", None),
    # cross-table gaps: each table consistent in itself, 12.34 万元 off against its siblings
    ("D0", 0, "budget", "expenditure_gap", "dept_expenditure"),
    ("D3", 1, "final", "basic_gap", "deptf_gpb_basic"),
    ("D2", 1, "budget", "gpb_gap", "dept_gpb_expenditure"),
    # one unit of the table off: rounding (information), not a failure
    ("D1", 2, "budget", "rounding", "dept_expenditure"),
    # a 2019 table still using the 2018 names of codes renamed in 2019 (210, 21001): information, not a mismatch
    ("D3", 2, "budget", "old_names", "dept_gpb_expenditure"),
    # no congress approval date for a region's final accounts: a missing table's deadline is unknown
    ("R1", 0, "final", "no_approval", None),
    ("R1", 0, "final", "omit", "govf_gfb_transfer"),
    # the PDF department (P0): one explanation left out, a total the 编制说明 misstates, a year it misnames
    ("P0", 0, "budget", "missing_explanation", "dept_expl_assets"),
    ("P0", 1, "budget", "narrative_wrong_total", "dept_expl_budget_notes"),
    ("P0", 2, "budget", "narrative_wrong_year", "dept_expl_budget_notes"),
    # R1's debt tables in the Ministry's layout: a 本级 year-end balance above its limit in 1-2
    ("R1", 0, "budget", "ministry_over_limit", "debt_1_2"),
]
# What each planted table defect must raise (rule ids); status-driven ones are derived.
# Each entry: (rule id, object table key; None = the planted table itself).
PLANT_RULES = {
    # the income item raised also breaks 本年收入 (收入总计) = 收入总表 合计
    "summary_imbalance": [("RECON_SUMMARY_BALANCE", None), ("RECON_CROSS_TABLE", None)],
    "hierarchy_break": [("RECON_HIERARCHY", None)],
    "detail_to_kuan": [("DETAIL_FUNCTION_XIANG", None)], "sangong_unsplit": [("DETAIL_SANGONG_SPLIT", None)],
    "balance_over_limit": [("DEBT_BALANCE_OVER_LIMIT", None)], "roll_forward_break": [("DEBT_ROLL_FORWARD", None)],
    # 收支总表 支出总计 and its 类 lines vs 支出总表: the finding is about the summary (the left of the identity)
    "expenditure_gap": [("RECON_CROSS_TABLE", "dept_summary")],
    # 支出决算表 基本支出 vs 基本支出决算表 (about the expenditure table); 一般公共预算 … 基本支出 vs it (about the basic table)
    "basic_gap": [("RECON_CROSS_TABLE", "deptf_expenditure"), ("RECON_CROSS_TABLE", None)],
    "gpb_gap": [("RECON_CROSS_TABLE", "dept_fiscal_summary")],
    # the explanations misstate a total / name a wrong year: about the 编制说明 (the plant's key)
    "narrative_wrong_total": [("NARR_TOTAL_MISMATCH", None)], "narrative_wrong_year": [("NARR_YEAR_MISMATCH", None)],
    "ministry_over_limit": [("DEBT_BALANCE_OVER_LIMIT", None)],
}
# Information the rules must raise (severity info: not findings of §3), by plant.
PLANT_INFO = {
    "rounding": [("RECON_ROUNDING", None), ("RECON_ROUNDING", "dept_summary")],
    "old_names": [("CLASS_NAME_RENAMED", None)],
}
MINISTRY_DEBT_SLOTS = ("R1",)   # regions whose debt tables come in the Ministry's items-as-rows layout


class Writer:
    """Collects files, variants and ground truth while the generator writes."""

    def __init__(self, out: Path):
        self.out = out
        self.variants: dict[str, set[str]] = {}
        self.rejected_files: list[dict] = []
        self.rejected_rows: list[dict] = []
        self.duplicate_rows: list[dict] = []
        self.conflicting_copies: list[dict] = []
        self.findings: set[tuple] = set()
        self.info: set[tuple] = set()
        self.finding_notes: dict[tuple, str] = {}
        self.counts = {"workbooks": 0, "sheets": 0}

    def variant(self, name: str, rel: str) -> None:
        self.variants.setdefault(name, set()).add(rel)

    def finding(self, rule_id: str, publisher: str, year: int, object_key: str, note: str) -> None:
        key = (rule_id, publisher, year, object_key)
        self.findings.add(key)
        self.finding_notes.setdefault(key, note)

    def write_text(self, rel: str, text: str, encoding: str = "utf-8") -> Path:
        p = self.out / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(text.encode(encoding))
        return p


def csv_text(header: list[str], rows: list[list]) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(header)
    w.writerows(rows)
    return buf.getvalue()


def layout_for(i: int, family: str, level: str) -> Layout:
    """Layouts cycle through every variant (different cycle lengths so combinations spread)."""
    if family == "debt":
        units = ["单位：亿元", "单位:亿元"] if level == "province" else ["单位：万元", "金额单位：万元"]
    elif family == "government":
        units = ["单位：万元", "金额单位：万元", "单位:万元", "单位：千元"]
    else:
        units = ["单位：万元", "单位:元", "金额单位：万元", "单位：千元"]
    return Layout(
        sheet_names=["table_n", "numbered", "sheet1", "table_name"][i % 4],
        publisher_prefix=["部门：", "编制单位："][(i // 2) % 2] if family == "department" else "编制单位：",
        unit_label=units[(i // 3) % len(units)],
        header_rows=[1, 2, 3][i % 3],
        code_layout=["single", "split"][(i // 4) % 2],
        indent=["  ", "　"][(i // 5) % 2],
        amount_style=["number", "text"][(i // 6) % 2] if i % 7 else "number",
        zero_style=["zero", "blank", "dash"][(i // 2) % 3],
        total_label=["合计", "总计"][(i // 3) % 2],
        total_first=bool((i // 4) % 2),
        merged_title=(i % 5 != 4),
        footnote=(i % 3 == 1),
    )


def _date(d: dt.date) -> str:
    return d.isoformat()


def generate(out: Path, seed: int, scale: float, years: list[int]) -> dict:
    rng = random.Random(seed)
    w = Writer(out)
    regions, entities = build_publishers(rng, scale)
    extras = build_extra_publishers(seed)
    slots = {p.slot: p for p in regions + entities + extras if p.slot}
    ys = lambda i: years[i % len(years)]  # noqa: E731
    plants: dict[tuple, list[tuple[str, str | None]]] = {}
    for slot, yi, doc, action, table_key in PLANTS:
        if slot in slots:
            plants.setdefault((slots[slot].code, ys(yi), doc), []).append((action, table_key))

    # ---------------- registry ----------------
    w.write_text("registry/regions.csv", csv_text(
        ["region_code", "region_name", "level", "parent_code"],
        [[r.code, r.names[2015], r.level, refdata.regions()[r.code]["parent_code"]] for r in regions]))
    w.variant("registry_regions", "registry/regions.csv")
    approvals: dict[tuple[str, int, str], dt.date] = {}
    appr_rows = []
    recorded: set[tuple[str, int, str]] = set()   # approvals written to the registry (the rest: deadline unknown)
    for r in regions:
        for y in years:
            b = dt.date(y, 1, 10) + dt.timedelta(days=rng.randint(0, 35))
            f = dt.date(y + 1, 7, 15) + dt.timedelta(days=rng.randint(0, 40))
            approvals[(r.code, y, "budget")] = b
            approvals[(r.code, y, "final")] = f
            for doc, d in (("budget", b), ("final", f)):
                if ("no_approval", None) not in plants.get((r.code, y, doc), []):
                    appr_rows.append([r.code, y, doc, _date(d)])
                    recorded.add((r.code, y, doc))
    w.write_text("registry/approvals.csv", csv_text(["region_code", "fiscal_year", "document", "approved_on"], appr_rows))
    replies: dict[tuple[str, int, str], dt.date | None] = {}
    for y in years:
        rows = []
        for e in sorted(entities, key=lambda e: (e.kind != "department", 0)):
            for doc in ("budget", "final"):
                base = approvals[(e.region_code, y, doc)]
                if e.kind == "unit":
                    parent_reply = replies[(e.parent.code, y, doc)] or (base + dt.timedelta(days=20))
                    reply = parent_reply + dt.timedelta(days=rng.randint(3, 15))
                else:
                    reply = base + dt.timedelta(days=rng.randint(5, 20))
                if ("blank_reply", None) in plants.get((e.code, y, doc), []):
                    reply = None
                replies[(e.code, y, doc)] = reply
        extra_rng = random.Random(f"{seed}:extra-replies:{y}")
        for e in extras:
            for doc in ("budget", "final"):
                replies[(e.code, y, doc)] = approvals[(e.region_code, y, doc)] + dt.timedelta(days=extra_rng.randint(5, 20))
        for e in entities + extras:
            rows.append([e.code, e.name(y), e.region_code, e.kind, e.parent.code if e.parent else "",
                         str(e.has_gfb).lower(), str(e.has_scb and y >= 2019).lower(),
                         _date(replies[(e.code, y, "budget")]) if replies[(e.code, y, "budget")] else "",
                         _date(replies[(e.code, y, "final")]) if replies[(e.code, y, "final")] else ""])
        w.write_text(f"registry/entities_{y}.csv", csv_text(
            ["entity_code", "entity_name", "region_code", "entity_kind", "parent_entity_code", "has_government_fund",
             "has_state_capital", "budget_approved_on", "final_approved_on"], rows))

    # ---------------- workbooks ----------------
    catalogue = refdata.catalogue()
    portal_rows: list[list] = []
    status_items: list[dict] = []   # one per expected item that is not on_time
    wb_counter = 0

    def deadline_of(p: Publisher, y: int, doc: str, known_only: bool = True) -> tuple[dt.date | None, str]:
        """The legal deadline from the registry; None when the registry lacks the approval date it needs."""
        appr = approvals[(p.region_code, y, doc)]
        if known_only and (p.region_code, y, doc) not in recorded:
            appr = None
        reply = replies[(p.code, y, doc)] if p.kind != "government" else None
        if reply:
            return reply + dt.timedelta(days=20), "finance_reply_plus_20"
        if appr is None:
            return None, "unknown"
        if p.kind == "government":
            return appr + dt.timedelta(days=20), "congress_plus_20"
        return appr + dt.timedelta(days=40 if p.kind == "department" else 55), "approval_fallback"

    def publish_date(p: Publisher, y: int, doc: str, late: bool, r: random.Random) -> dt.date:
        deadline, _ = deadline_of(p, y, doc, known_only=False)
        if late:
            return deadline + dt.timedelta(days=10)
        anchor = deadline - dt.timedelta(days=20)
        return anchor + dt.timedelta(days=r.randint(3, 19))

    def write_workbook(p: Publisher, y: int, doc: str, family: str, tables: list, rel: str, title: str, column: str,
                       explanations: list | None = None):
        nonlocal wb_counter
        form = p.profile.get("form", "xlsx")
        # the extra publishers draw from their own stream and fixed layouts: the rest of the sample is unchanged
        prng = random.Random(f"{seed}:{p.code}:{y}:{doc}") if form != "xlsx" else rng
        if form == "pdf":
            layout = PDF_LAYOUT
        elif form == "xls":
            layout = layout_for(7, "department", p.level)
        else:
            layout = layout_for(wb_counter, "debt" if family == "debt" else p.kind if p.kind != "unit" else "department",
                                p.level)
            wb_counter += 1
        actions = plants.get((p.code, y, doc), [])
        corrupt = ("corrupt", None) in actions and family == "budget"
        late = ("late", None) in actions
        unit = layout.unit_label.split("：")[-1].split(":")[-1]
        mult = UNIT_MULTIPLIERS[unit]
        region_scale = {"province": 20.0, "city": 5.0}.get(refdata.regions()[p.region_code]["level"], 1.0)
        ctx = {"year": y, "phase": doc, "multiplier": mult, "total_label": layout.total_label,
               "total_first": layout.total_first, "region_scale": region_scale, "entity_name": p.name(y),
               "income_total_label": ["合计", "本年收入合计"][wb_counter % 2], "region_code": p.region_code,
               "region_name": p.name(y)}
        if p.kind == "government":
            regs = refdata.regions()
            lower = [regs[c]["region_name"] for c in sorted(regs) if regs[c]["parent_code"] == p.code]
            drng = random.Random(f"{seed}:{p.code}:{y}:{doc}:debt")
            ctx["lower_regions"] = lower
            # the debt model is shared by the gov workbook and the debt workbook of the same region/year/phase
            dmult_ctx = dict(ctx, multiplier=mult)
            ctx["debt"] = {"regions": debt_region_rows(drng, dmult_ctx)}
            ctx["debt"]["items"] = debt_item_values(drng, dict(dmult_ctx, debt=ctx["debt"]))
        else:
            ctx["model"] = build_dept_model(prng, p.profile, y, mult, p.kind == "unit", p.has_gfb,
                                            p.has_scb and y >= 2019)
            if form == "pdf":
                forms.round_sangong_to_wan(ctx["model"], prng)
        ministry = family == "debt" and p.slot in MINISTRY_DEBT_SLOTS
        written: dict[str, Table] = {}
        wb = new_workbook()
        html_parts: list[str] = []
        sheet_i = 0
        for ct in tables:
            act = next((a for a, k in actions if k == ct.table_key), None)
            if act == "omit":
                continue
            tctx = dict(ctx, detail_to_kuan=(act == "detail_to_kuan"), old_names=(act == "old_names"))
            mutation = act if act in ("summary_imbalance", "hierarchy_break", "sangong_unsplit", "balance_over_limit",
                                      "roll_forward_break", "empty_no_note", "expenditure_gap", "basic_gap",
                                      "gpb_gap", "rounding") else None
            if ministry and ct.table_key in ("debt_1_2", "debt_1_3", "debt_1_4", "debtf_1_2", "debtf_1_3", "debtf_1_4"):
                table = ministry_table(ct, ctx, act, seed, p, y, doc)
            else:
                table = build_table(ct.table_key, ct.table_name_zh, tctx, prng, mutation)
            if form == "pdf" and ct.table_key in ("dept_sangong", "deptf_sangong"):
                table.columns = table.columns + ["office_running"]
                html_parts.append(forms.sangong_template_html(
                    table, y, doc, "编制部门：" + p.name(y), f"{y}年{forms.TEMPLATE_TITLES[ct.table_key]}"))
                written[ct.table_key] = table
                continue
            ws = wb.create_sheet(sheet_name(layout, sheet_i, table))
            sheet_i += 1
            info = write_sheet(ws, table, entity_title=p.name(y), publisher_name=publisher_line_name(p, y),
                               year=y, phase=doc, layout=layout)
            if form == "pdf":
                html_parts.append(worksheet_html(ws, info["header_rows"], f"{y}年{forms.TEMPLATE_TITLES[ct.table_key]}",
                                                 "编制部门：" + p.name(y), layout.unit_label))
            written[ct.table_key] = table
            if form == "xlsx":
                for v in layout.variants():
                    w.variant(v, rel)
                w.variant(unit_variant(layout.unit_label), rel)
                w.variant(f"code_{layout.code_layout}_column" if table.shape == "coded" else "", rel)
                w.variant("total_" + layout.total_label, rel)
                if table.shape == "two_sided":
                    w.variant("two_sided_summary", rel)
                    w.variant("total_收入总计", rel)
                    w.variant("total_支出总计", rel)
                if table.shape == "income_sources":
                    w.variant("total_" + ctx["income_total_label"], rel)
                if table.note:
                    w.variant("empty_table_note", rel)
            if act in ("cell_tbd", "cell_ref"):
                raw = "待定" if act == "cell_tbd" else "#REF!"
                keys = [k for k in info["cells"] if k[0] == "main" and not table.rows[k[1]].is_total
                        and k[2] in table.columns]
                cell = info["cells"][keys[min(2, len(keys) - 1)]]
                ws[cell] = raw
                col = "".join(ch for ch in cell if ch.isalpha())
                w.rejected_rows.append({"source_file": rel, "sheet": ws.title, "source_row": int(cell[len(col):]),
                                        "source_column": col, "raw_value": raw})
            for rule, object_key in PLANT_RULES.get(act, []):
                w.finding(rule, p.code, y, object_key or ct.table_key, f"planted {act} in {rel} / {ws.title}")
            renamed = act != "old_names" or any(
                r.code and r.label != refdata.class_name(table.classification, r.code, y) for r in table.rows)
            for rule, object_key in PLANT_INFO.get(act, []) if renamed else []:
                w.info.add((rule, p.code, y, object_key or ct.table_key))
        if ministry:
            w.variant("debt_ministry_layout", rel)
        # the required explanations of a department's disclosure (a 说明 sheet, or the PDF's narrative pages)
        written_explanations: set[str] = set()
        texts = []
        if explanations:
            missing = frozenset(c.table_name_zh for c in explanations for a, k in actions
                                if a == "missing_explanation" and k == c.table_key)
            wrong_total = any(a == "narrative_wrong_total" for a, _ in actions)
            wrong_year = any(a == "narrative_wrong_year" for a, _ in actions)
            figs = forms.figures(written, mult, 1 if form == "pdf" else None)
            texts = forms.explanations(p.name(y), y, doc, figs, missing=missing, wrong_total=wrong_total,
                                       wrong_year=wrong_year)
            written_explanations = {c.table_key for c in explanations if c.table_name_zh not in missing}
            for a, k in actions:
                for rule, object_key in PLANT_RULES.get(a, []) if a.startswith("narrative_") else []:
                    w.finding(rule, p.code, y, object_key or k, f"planted {a} in {rel}")
            if form != "pdf":
                forms.write_explanation_sheet(wb, p.name(y), y, doc, texts)
        if ("unknown_sheet", None) in actions:
            ws = wb.create_sheet("附件")
            ws.cell(1, 1, "数据来源：部门预算管理系统导出")
            ws.cell(2, 1, "导出批次：第3批")
            w.variant("unknown_sheet", rel)
        if len({c.book == "debt" for c in tables if c.table_key in written}) > 1:   # budget and debt tables together
            w.variant("multi_kind_workbook", rel)
        path = out / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if corrupt:
            path.write_bytes(("<html><head><title>404 Not Found</title></head><body>附件不存在或已删除"
                              "</body></html>\n").encode("utf-8"))
            w.rejected_files.append({"source_file": rel, "reason_hint": "not a readable workbook"})
            w.variant("corrupt_workbook", rel)
            w.finding("DISC_ATTACHMENT_UNREADABLE", p.code, y, path.name, f"planted corrupt workbook {rel}")
            written = {}
            written_explanations = set()
        elif form == "pdf":
            write_pdf_disclosure(path, p, y, doc, html_parts, texts)
            w.variant("pdf_disclosure", rel)
            w.counts["pdfs"] = w.counts.get("pdfs", 0) + 1
        elif form == "xls":
            save_xls(wb, path)
            w.variant("xls_biff_workbook", rel)
            w.counts["workbooks"] += 1
            w.counts["sheets"] += len(wb.sheetnames)
        else:
            save_workbook(wb, path)
            w.counts["workbooks"] += 1
            w.counts["sheets"] += len(wb.sheetnames)
        if doc == "final" and "deptf_expl_sangong" in written_explanations:
            # the sample's finals explain their 三公 amounts, not the counts a final's 三公 detail gives (DOMAIN.md 2.2)
            w.finding("NARR_COUNT_MISSING", p.code, y, "deptf_expl_sangong", f"三公 explanation without counts in {rel}")
        published = publish_date(p, y, doc, late, prng)
        portal_rows.append([p.code if p.kind != "government" else p.region_code, p.name(y), column, title,
                            f"{_date(published)} {9 + prng.randint(0, 8):02d}:{prng.choice(['00', '15', '30', '45'])}:00",
                            f"http://www.nx.gov.cn/zwgk/{family}/{y}/{hashlib.sha1(rel.encode()).hexdigest()[:12]}.html",
                            path.name])
        deadline, _basis = deadline_of(p, y, doc)
        missing_by_document: dict[tuple, list[tuple[str, str, str]]] = {}
        owed = list(tables) + list(explanations or [])   # tables and required explanations alike
        for ct in owed:
            t = written.get(ct.table_key)
            if ct.book == "explanation":
                if ct.table_key not in written_explanations and deadline is None:
                    status, why = "missing_deadline_unknown", "explanation left out; no approval date in the registry"
                elif ct.table_key not in written_explanations:
                    status, why = "missing", ("attachment unreadable" if corrupt else "explanation left out")
                elif deadline is not None and published > deadline:
                    status, why = "late", f"published {published} after deadline {deadline}"
                else:
                    continue
            elif t is None and deadline is None:
                status, why = "missing_deadline_unknown", "table left out; no approval date in the registry"
            elif t is None:
                status, why = "missing", ("attachment unreadable" if corrupt else "table left out of the workbook")
            elif deadline is not None and published > deadline:
                status, why = "late", f"published {published} after deadline {deadline}"
            elif t.is_empty and t.note:
                status, why = "empty_with_note", t.note
            elif t.is_empty:
                status, why = "empty_without_note", "empty table without a note"
            else:
                continue
            status_items.append({"publisher_code": p.code, "fiscal_year": y, "table_key": ct.table_key,
                                 "status": status, "note": why})
            rule = {"missing": "DISC_MISSING", "late": "DISC_LATE", "empty_without_note": "DISC_EMPTY_NO_NOTE",
                    "missing_deadline_unknown": "DISC_MISSING_DEADLINE_UNKNOWN"}.get(status)
            if rule:
                missing_by_document.setdefault((p.code, y, document_group(ct)), []).append((rule, ct.table_key, why))
        # DISC_MISSING: a document none of whose tables was published is one finding (object = the document
        # group, CONTRACTS.md §3); otherwise one per missing table. Other statuses are always per table.
        for (code, year, group), items in missing_by_document.items():
            expected_tables = [c for c in owed if document_group(c) == group]
            for rule in ("DISC_MISSING", "DISC_MISSING_DEADLINE_UNKNOWN"):
                missing = [(k, why) for r, k, why in items if r == rule]
                if missing and len(missing) == len(expected_tables):
                    w.finding(rule, code, year, group, f"{missing[0][1]}: all {len(missing)} tables")
                    continue
                for key, why in missing:
                    w.finding(rule, code, year, key, why)
            for rule, key, why in items:
                if rule not in ("DISC_MISSING", "DISC_MISSING_DEADLINE_UNKNOWN"):
                    w.finding(rule, code, year, key, why)

    for y in years:
        for doc in ("budget", "final"):
            for r in regions:
                gov = [c for c in catalogue if c.publisher_kind == "government" and c.document == doc
                       and c.applies(r.level, y)]
                gov_main = [c for c in gov if c.book != "debt"]
                debt = [c for c in gov if c.book == "debt"]
                together = ("debt_in_gov_workbook", None) in plants.get((r.code, y, doc), [])
                kind_zh = f"{y}年{PHASE_ZH[doc]}"
                write_workbook(r, y, doc, "budget", gov_main + (debt if together else []),
                               f"budget/{y}/{r.names[2015]}{kind_zh}公开表.xlsx", f"{r.names[2015]}{kind_zh}公开",
                               "预决算公开")
                if not together:
                    write_workbook(r, y, doc, "debt", debt, f"debt/{y}/{r.names[2015]}{kind_zh}政府债务情况表.xlsx",
                                   f"{r.names[2015]}{kind_zh}政府债务情况", "政府债务")
            for e in entities:
                dept, expl = department_items(catalogue, e, y, doc)
                kind_zh = f"{y}年部门{PHASE_ZH[doc]}"
                write_workbook(e, y, doc, "budget", dept, f"budget/{y}/{e.name(y)}{kind_zh}.xlsx",
                               f"{e.name(y)}{kind_zh}公开", "预决算公开", expl)
    # the publishers in other forms last, from their own random streams
    for e in extras:
        for y in years:
            for doc in ("budget", "final"):
                dept, expl = department_items(catalogue, e, y, doc)
                kind_zh = f"{y}年部门{PHASE_ZH[doc]}"
                suffix = {"pdf": ".pdf", "xls": ".xls"}[e.profile["form"]]
                write_workbook(e, y, doc, "budget", dept, f"budget/{y}/{e.name(y)}{kind_zh}{suffix}",
                               f"{e.name(y)}{kind_zh}公开", "预决算公开", expl)

    # ---------------- portal ----------------
    header = ["publisher_code", "publisher_name", "column", "title", "published_at", "url", "attachment"]
    half = len(portal_rows) // 2
    w.write_text("portal/publications_budget.csv", csv_text(header, [r for r in portal_rows if r[2] == "预决算公开"]))
    w.write_text("portal/publications_debt.csv", csv_text(header, [r for r in portal_rows if r[2] == "政府债务"]))
    w.variant("portal_publications", "portal/publications_budget.csv")
    w.variant("portal_publications", "portal/publications_debt.csv")
    del half

    # ---------------- trading ----------------
    buyers = [(e.code, e.name(years[-1]), e.region_code) for e in entities]
    tstats = trading.generate_trading(out, seed, scale, years, buyers, w)

    w.variants.pop("", None)
    truth = {
        "generator": {"seed": seed, "scale": scale, "years": years, "version": GENERATOR_VERSION},
        "disclosure_status": sorted(status_items, key=lambda s: (s["publisher_code"], s["fiscal_year"], s["table_key"])),
        "findings": [
            {"rule_id": k[0], "publisher_code": k[1], "fiscal_year": k[2], "object_key": k[3], "note": w.finding_notes[k]}
            for k in sorted(w.findings)
        ],
        "info": [
            {"rule_id": k[0], "publisher_code": k[1], "fiscal_year": k[2], "object_key": k[3]} for k in sorted(w.info)
        ],
        "ingest": {"rejected_files": w.rejected_files, "rejected_rows": w.rejected_rows,
                   "duplicate_rows": w.duplicate_rows, "conflicting_copies": w.conflicting_copies},
        "variants": {k: sorted(v) for k, v in sorted(w.variants.items())},
        "counts": {"trading_rows": tstats["rows"], "deals": tstats["deals"], "workbooks": w.counts["workbooks"],
                   "pdfs": w.counts.get("pdfs", 0),
                   "sheets": w.counts["sheets"]},
    }
    (out / "ground_truth.json").write_text(json.dumps(truth, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    return truth


PDF_LAYOUT = Layout(sheet_names="table_name", publisher_prefix="编制部门：", unit_label="单位：元", header_rows=2,
                    code_layout="split", indent="　", amount_style="number", zero_style="zero", total_label="合计",
                    total_first=True, merged_title=True, footnote=False)


def department_items(catalogue, e: Publisher, y: int, doc: str):
    """(tables, required explanations) a department or unit owes for a year and document."""
    items = [c for c in catalogue if c.publisher_kind == "department" and c.document == doc and c.applies(e.kind, y)]
    return [c for c in items if c.book != "explanation"], [c for c in items if c.book == "explanation"]


def ministry_table(ct, ctx: dict, act: str | None, seed: int, p: Publisher, y: int, doc: str) -> Table:
    """Debt 1-2/1-3/1-4 in the Ministry's layout, with the same figures as the region's model."""
    items = ctx["debt"]["items"]
    own_row = next(r.values for r in ctx["debt"]["regions"] if r.label.strip() == "本级")
    mrng = random.Random(f"{seed}:{p.code}:{y}:{doc}:ministry")
    key = ct.table_key.replace("debtf_", "debt_")
    if key == "debt_1_4":
        return forms.ministry_debt_table(ct.table_key, ct.table_name_zh, y, doc, forms.ministry_service_rows(y, items, mrng))
    kind = "general" if key == "debt_1_2" else "special"
    region = dict(items[f"{kind}_roll"])
    own = forms.own_level_roll(mrng, own_row, kind, mrng.randint(3, 12))
    if act == "ministry_over_limit":  # 本级 year-end balance above its limit; the roll-forward still holds
        delta = own["prior_limit"] - own["closing_balance"] + own["prior_limit"] // 20 + 100
        own["closing_balance"] += delta
        own["opening_balance"] += delta
    rows = forms.ministry_roll_rows(kind, y, region, own)
    return forms.ministry_debt_table(ct.table_key, ct.table_name_zh, y, doc, rows)


def write_pdf_disclosure(path: Path, p: Publisher, y: int, doc: str, tables_html: list[str], texts) -> None:
    """One PDF per disclosure, as departments publish: cover, contents, 部门概况, the tables, the
    explanations, 名词解释 — printed from HTML by headless Chromium (tables break over pages)."""
    word = PHASE_ZH[doc]
    parts = forms.narrative_parts_html(texts)
    ordered = [html for title, html in parts.items() if title.startswith("第一部分")]
    ordered.append(f'<div class="part"><h2>第二部分 {y}年部门{word}表</h2></div>')
    ordered += tables_html
    ordered += [html for title, html in parts.items() if not title.startswith("第一部分")]
    toc = ["第一部分 部门概况 ........ 3", f"第二部分 {y}年部门{word}表 ........ 4",
           f"第三部分 {y}年部门{word}情况说明 ........ 15", "第四部分 名词解释 ........ 18"]
    document = document_html(f"{p.name(y)}{y}年部门{word}", [p.name(y), f"{y}年部门{word}"], toc, ordered)
    if chromium() is None:
        print(f"chromium not found: {path.name} not printed (the PDF part of the sample is left out)")
        return
    print_pdf(document, path)


def document_group(ct) -> str:
    """The document a catalogue table is published in (CONTRACTS.md §3): budget | final, debt tables apart."""
    return ct.document + ("_debt" if ct.book == "debt" else "")


def publisher_line_name(p: Publisher, y: int) -> str:
    if p.kind == "government":
        return p.names[2015] + ("财政厅" if p.level == "province" else "财政局")
    return p.name(y)
