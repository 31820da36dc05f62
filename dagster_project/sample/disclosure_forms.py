"""What a department's disclosure carries besides its tables, and the Ministry's own layouts.

- The required explanations (DOMAIN.md 2.2; the catalogue's `explanation` rows) as headed paragraphs,
  with the totals the 编制说明 states taken from the tables as written (in 万元, rounded), so a clean
  disclosure states exactly its tables. Written as a 说明 sheet of a workbook or as pages of a PDF.
- The Ministry template's table titles (部门财务收支预算总表 …) and its “三公”经费和机关运行经费预算表.
- Debt tables 1-2/1-3 with items as rows and 本地区 | 其中：本级 columns, 1-4 with 合计 | 一般债券 | 专项债券.
"""
from __future__ import annotations

import html
import random
from decimal import ROUND_HALF_UP, Decimal

from .tables import PHASE_ZH, Row, Table, rand_cents

# Ministry template titles (budget) and their 决算 twins, by catalogue table_key
TEMPLATE_TITLES = {
    "dept_summary": "部门财务收支预算总表", "dept_revenue": "部门收入预算总表", "dept_expenditure": "部门支出预算总表",
    "dept_fiscal_summary": "财政拨款收支预算总表", "dept_gpb_expenditure": "一般公共预算支出功能分类预算表",
    "dept_gpb_basic": "一般公共预算基本支出部门预算经济分类预算表", "dept_sangong": "“三公”经费和机关运行经费预算表",
    "dept_gfb_expenditure": "政府性基金预算支出功能分类预算表", "dept_scb_expenditure": "国有资本经营预算支出功能分类预算表",
    "deptf_summary": "部门财务收支决算总表", "deptf_revenue": "部门收入决算总表", "deptf_expenditure": "部门支出决算总表",
    "deptf_fiscal_summary": "财政拨款收支决算总表", "deptf_gpb_expenditure": "一般公共预算支出功能分类决算表",
    "deptf_gpb_basic": "一般公共预算基本支出部门预算经济分类决算表", "deptf_sangong": "“三公”经费和机关运行经费决算表",
    "deptf_gfb": "政府性基金预算支出功能分类决算表", "deptf_scb": "国有资本经营预算支出功能分类决算表",
}


def wan(cents: int, multiplier: int) -> str:
    """Cents of a table's unit → 万元 with two decimals, as an explanation prints it."""
    value = (Decimal(cents) * multiplier / Decimal(1_000_000)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    return f"{value:,.2f}"


def figures(written: dict[str, Table], multiplier: int, sangong_multiplier: int | None = None) -> dict[str, str]:
    """The totals an explanation states, read from the tables as written."""
    out = {}
    summary = written.get("dept_summary") or written.get("deptf_summary")
    fiscal = written.get("dept_fiscal_summary") or written.get("deptf_fiscal_summary")
    sangong = written.get("dept_sangong") or written.get("deptf_sangong")
    if summary:
        out["income_total"] = wan(summary.rows[-1].values["amount"], multiplier)
        out["expenditure_total"] = wan(summary.right_rows[-1].values["amount"], multiplier)
    if fiscal:
        out["fiscal_appropriation"] = wan(fiscal.rows[-1].values["amount"], multiplier)
    if sangong and "total" in sangong.columns:
        m = sangong_multiplier or multiplier
        out["sangong_total"] = wan(sangong.rows[0].values["total"], m)
        if "office_running" in sangong.columns:
            out["office_running"] = wan(sangong.rows[0].values["office_running"], m)
    return out


def explanations(entity: str, year: int, phase: str, figs: dict[str, str], *, missing: frozenset[str] = frozenset(),
                 wrong_year: bool = False, wrong_total: bool = False) -> list[tuple[str, str, list[str]]]:
    """(part, heading, paragraphs) of every required explanation; `missing` names catalogue sections left out;
    `wrong_year` names a year the 编制说明 must not (copied from an old text); `wrong_total` states a total
    that is not the table's."""
    word = PHASE_ZH[phase]
    prior = year - 2 if wrong_year else year - 1
    income = figs.get("income_total", "0.00")
    if wrong_total:
        income = f"{Decimal(income.replace(',', '')) + Decimal('12.34'):,.2f}"
    notes_name = "预算编制说明" if phase == "budget" else "决算编制说明"
    notes_heading = "一、部门预算编制说明" if phase == "budget" else "一、收入支出决算总体情况说明"
    notes = [f"{year}年收入{word}总计{income}万元，支出{word}总计{figs.get('expenditure_total', '0.00')}万元。"
             f"与{prior}年相比，收支总计略有增加，主要是业务工作量增加。"]
    if "fiscal_appropriation" in figs:
        notes.append(f"{year}年财政拨款收入{word}总计{figs['fiscal_appropriation']}万元。")
    sangong = [f"{year}年“三公”经费{word}数为{figs['sangong_total']}万元，比上年有所减少，主要是严格控制公务接待。"] \
        if "sangong_total" in figs else ["“三公”经费严格按照规定从紧安排。"]
    office = [f"{year}年机关运行经费{word}数为{figs['office_running']}万元，主要用于办公费、水电费、差旅费等。"] \
        if "office_running" in figs else ["机关运行经费主要用于保障机关日常运转的办公费、水电费、差旅费等。"]
    parts = [
        ("第一部分 部门概况", "一、部门主要职能", [f"{entity}负责本领域政策的制定、组织实施和监督管理工作。"]),
        ("第一部分 部门概况", "二、机构设置", ["本部门内设办公室、财务处等职能处室，下属事业单位若干个。"]),
        (f"第三部分 {year}年部门{word}情况说明", notes_heading, notes),
        (f"第三部分 {year}年部门{word}情况说明", "二、“三公”经费情况说明", sangong),
        (f"第三部分 {year}年部门{word}情况说明", "三、机关运行经费情况说明", office),
        (f"第三部分 {year}年部门{word}情况说明", "四、政府采购情况说明", ["政府采购按照货物、工程、服务分类编列，中小企业合同金额占比符合规定。"]),
        (f"第三部分 {year}年部门{word}情况说明", "五、国有资产占用情况说明", ["本部门共有车辆若干辆，单位价值50万元以上通用设备若干台（套）。"]),
        (f"第三部分 {year}年部门{word}情况说明", "六、绩效目标情况说明", ["本部门所有项目支出均编制了绩效目标，重点项目绩效目标随本表公开。"]),
        (f"第三部分 {year}年部门{word}情况说明", "七、项目经费情况说明", ["项目经费主要用于履行职能的专项业务工作。"]),
        ("第四部分 名词解释", "名词解释", ["财政拨款收入：指本级财政当年拨付的资金。", "机关运行经费：指为保障行政单位运行用于购买货物和服务的各项资金。"]),
    ]
    section_of = {"一、部门主要职能": "部门主要职能", "二、机构设置": "机构设置", notes_heading: notes_name,
                  "二、“三公”经费情况说明": "“三公”经费情况说明", "三、机关运行经费情况说明": "机关运行经费情况说明",
                  "四、政府采购情况说明": "政府采购情况说明", "五、国有资产占用情况说明": "国有资产占用情况说明",
                  "六、绩效目标情况说明": "绩效目标情况说明", "七、项目经费情况说明": "项目经费情况说明", "名词解释": "名词解释"}
    return [(part, heading, paras) for part, heading, paras in parts if section_of[heading] not in missing]


def write_explanation_sheet(wb, entity: str, year: int, phase: str, texts) -> None:
    """A 说明 sheet as departments add to their workbooks: headings and paragraphs down column A."""
    ws = wb.create_sheet("说明")
    ws.cell(1, 1, f"{entity}{year}年部门{PHASE_ZH[phase]}公开说明")
    r = 2
    last_part = None
    for part, heading, paras in texts:
        if part != last_part:
            ws.cell(r, 1, part)
            r += 1
            last_part = part
        ws.cell(r, 1, heading)
        r += 1
        for p in paras:
            ws.cell(r, 1, p)
            r += 1


def narrative_parts_html(texts) -> dict[str, str]:
    """HTML of each part (第一部分 …) of the explanations, keyed by the part's title."""
    out: dict[str, list[str]] = {}
    for part, heading, paras in texts:
        out.setdefault(part, []).append(f"<h2>{html.escape(heading)}</h2>" + "".join(
            f"<p>{html.escape(p)}</p>" for p in paras))
    return {part: f'<div class="part"><h2>{html.escape(part)}</h2>{"".join(body)}</div>' for part, body in out.items()}


def round_sangong_to_wan(model, rng: random.Random) -> None:
    """A 三公 table published in 万元 inside a 元 book: its figures are whole hundreds of 元 (exact in 万元
    to two decimals); parts are rounded down and totals recomputed so every identity still holds; the
    机关运行经费 figure is added."""
    for values in (model.sangong, model.prior_sangong):
        for key in ("overseas", "vehicle_purchase", "vehicle_running", "reception"):
            values[key] = values[key] // 10000 * 10000
        values["vehicle"] = values["vehicle_purchase"] + values["vehicle_running"]
        values["total"] = values["overseas"] + values["vehicle"] + values["reception"]
        values["office_running"] = rand_cents(rng, 50, 400, 1) // 10000 * 10000


def sangong_template_html(table: Table, year: int, phase: str, publisher_line: str, title: str) -> str:
    """The template's “三公”经费和机关运行经费预算表 in 万元: a two-level merged header over the 三公 block,
    the vehicle cost split under its own group, a 机关运行经费 column beside it."""
    word = "预算数" if phase == "budget" else "决算数"
    head = (
        f'<tr><th rowspan="3">项目</th><th colspan="6">“三公”经费{word}</th><th rowspan="3">机关运行经费{word}</th></tr>'
        '<tr><th rowspan="2">合计</th><th rowspan="2">因公出国（境）费</th><th rowspan="2">公务接待费</th>'
        '<th colspan="3">公务用车购置及运行费</th></tr>'
        '<tr><th>小计</th><th>购置费</th><th>运行费</th></tr>'
    )
    order = ["total", "overseas", "reception", "vehicle", "vehicle_purchase", "vehicle_running", "office_running"]
    body = ""
    for row in table.rows:
        cells = "".join(f'<td class="num">{row.values.get(k, 0) * 1 / 1000000:,.2f}</td>' for k in order)
        body += f"<tr><td>{html.escape(row.label)}</td>{cells}</tr>"
    return (f'<section class="table"><h3 class="title">{html.escape(title)}</h3>'
            f'<div class="unit"><span>{html.escape(publisher_line)}</span><span>单位：万元</span></div>'
            f'<table><thead>{head}</thead><tbody>{body}</tbody></table></section>')


# --------------------------------------------------------------------------------------------- debt
def ministry_roll_rows(kind: str, year: int, region: dict[str, int], own: dict[str, int]) -> list[Row]:
    """1-2 (general) / 1-3 (special) in the Ministry's layout: items as rows, 本地区 | 其中：本级 columns."""
    p, pp = year - 1, year - 2
    zh = "一般" if kind == "general" else "专项"
    labels = [("opening_balance", f"一、{pp}年末{zh}债务余额实际数"), ("prior_limit", f"二、{p}年{zh}债务限额"),
              ("issued", f"三、{p}年{zh}债务发行额")]
    if kind == "general":
        labels += [("issued_foreign_onlent", "    其中：中央转贷地方的国际金融组织和外国政府贷款"),
                   ("issued_bonds", f"          {p}年地方政府一般债券发行额")]
    else:
        labels += [("issued_bonds", f"    其中：{p}年地方政府专项债券发行额")]
    labels += [("repaid", f"四、{p}年{zh}债务还本额"), ("closing_balance", f"五、{p}年末{zh}债务余额预计执行数")]
    labels += [("deficit", f"六、{year}年地方财政赤字")] if kind == "general" else \
        [("new_limit", f"六、{year}年新增专项债务限额")]
    labels += [("limit", f"七、{year}年{zh}债务限额")]
    return [Row(label, {"amount": region.get(key, 0), "amount_own_level": own.get(key, 0)}, row_key=key)
            for key, label in labels]


def own_level_roll(rng: random.Random, own_row: dict[str, int], kind: str, limit_growth: int) -> dict[str, int]:
    """The 本级 column of 1-2/1-3 from 1-1's 本级 row (same identities as the region's)."""
    closing = own_row[f"balance_{kind}"]
    issued = closing * rng.randint(8, 25) // 100
    repaid = closing * rng.randint(3, 12) // 100
    foreign = issued * rng.randint(0, 5) // 100 if kind == "general" else 0
    prior_limit = own_row[f"limit_{kind}"]
    out = {"opening_balance": closing - issued + repaid, "prior_limit": prior_limit, "issued": issued,
           "issued_bonds": issued - foreign, "issued_foreign_onlent": foreign, "repaid": repaid,
           "closing_balance": closing, "limit": prior_limit + prior_limit * limit_growth // 100}
    out["new_limit"] = out["limit"] - prior_limit
    out["deficit"] = 0
    return out


def ministry_service_rows(year: int, items: dict, rng: random.Random) -> list[Row]:
    """1-4 in the Ministry's layout: items as rows, 合计 | 一般债券 | 专项债券 columns."""
    g, s, service = items["general_roll"], items["special_roll"], items["service"]
    p = year - 1

    def split(total: int) -> tuple[int, int]:
        general = total * rng.randint(30, 70) // 100
        return general, total - general

    ref_g, ref_s = split(service["issued_refinancing"])
    bpr_g, bpr_s = split(service["budget_principal_refinancing"])
    bpf_g, bpf_s = split(service["budget_principal_funded"])
    bi_g, bi_s = split(service["budget_interest_total"])
    rows = [
        (f"一、{p}年地方政府债券发行额", g["issued_bonds"], s["issued_bonds"]),
        ("    其中：再融资债券", ref_g, ref_s),
        (f"二、{p}年地方政府债务还本额", g["repaid"], s["repaid"]),
        (f"三、{p}年地方政府债务付息额", service["interest_general"], service["interest_special"]),
        (f"四、{year}年地方政府债务还本预算数", bpr_g + bpf_g, bpr_s + bpf_s),
        ("    其中：再融资债券还本", bpr_g, bpr_s),
        ("          财政预算安排还本", bpf_g, bpf_s),
        (f"五、{year}年地方政府债务付息预算数", bi_g, bi_s),
    ]
    return [Row(label, {"amount": a + b, "amount_general": a, "amount_special": b}) for label, a, b in rows]


def ministry_debt_table(table_key: str, table_name: str, year: int, phase: str, rows: list[Row]) -> Table:
    if "amount_own_level" in rows[0].values:
        columns, headers = ["amount", "amount_own_level"], {"amount": ("本地区",), "amount_own_level": ("其中：本级",)}
    else:
        columns = ["amount", "amount_general", "amount_special"]
        headers = {"amount": ("合计",), "amount_general": ("一般债券",), "amount_special": ("专项债券",)}
    return Table(table_key, table_name, "debt_items", columns, rows, headers=headers)
