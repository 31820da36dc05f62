"""A second raw root, written independently of ``dagster_project.sample`` from the contract alone
(``../shared/RAW_FORMATS.md``, ``../shared/DOMAIN.md``, ``docs/CONTRACTS.md`` §3/§7).

It differs from the generator's sample wherever the contract allows: fiscal years 2015, 2016 and 2020,
regions 640000 / 640400 固原市 / 640422 西吉县, other departments and a unit, titles with the year before
the name, ``表一`` / ``Sheet1`` sheet names, units 元 / 万元 / 亿元 on the left or the right, one to three
merged header rows with alias wording, split 类|款|项 code columns with numeric cells, full-width indents,
amounts as text with thousands separators / ``-`` / blank, footnotes, debt tables in 亿元, a bond-use
table, trading exports in GBK / UTF-8-BOM / JSON ``{"data": …}`` / JSONL with Chinese labels in another
order and every time format, registry CSVs with columns in another order, portal publications.

``build_contract_raw(root)`` writes it (about a second) and returns what a correct pipeline must make of
it: every file's fate, every sheet's table / publisher / year / unit and amount total in 元, the planted
row rejects and duplicates, the non-on_time disclosure statuses and the distinct findings. Each planted
defect sits on its own publisher/year so one cannot hide another.
"""
from __future__ import annotations

import csv
import datetime as dt
import io
import json
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from openpyxl import Workbook
from openpyxl.utils import get_column_letter

YEARS = (2015, 2016, 2020)
D = Decimal

# --- identifiers, computed here from the standards (not from dagster_project.identifiers) -----------------
_USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)


def _org_code(body8: str) -> str:
    """GB 11714 organisation code: 8 characters + check (a digit here; bodies with X/0 checks are skipped)."""
    weights = (3, 7, 9, 10, 5, 8, 4, 2)
    c = 11 - sum(int(ch) * w for ch, w in zip(body8, weights)) % 11
    return body8 + {10: "X", 11: "0"}.get(c, str(c))


def uscc(prefix: str, region: str, serial: int) -> str:
    """A valid 统一社会信用代码: prefix (e.g. '11' 机关) + region + organisation code + check."""
    for n in range(serial, serial + 50):
        org = _org_code(f"{n:08d}")
        if org[-1].isdigit():
            break
    first17 = prefix + region + org
    total = sum(_USCC_ALPHABET.index(ch) * w for ch, w in zip(first17, _USCC_WEIGHTS))
    return first17 + _USCC_ALPHABET[(31 - total % 31) % 31]


def id_number(region: str, birth: str, seq: int) -> str:
    first17 = f"{region}{birth}{seq:03d}"
    weights = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
    return first17 + "10X98765432"[sum(int(c) * w for c, w in zip(first17, weights)) % 11]


# --- registry -----------------------------------------------------------------------------------------------
REGIONS = [  # code, name, level, parent
    ("640000", "宁夏回族自治区", "province", ""),
    ("640400", "固原市", "city", "640000"),
    ("640422", "西吉县", "county", "640400"),
]
REGION_NAME = {c: n for c, n, _, _ in REGIONS}
# debt table 1-1 lists every lower region by name (GB/T 2260), not only those in our registry
LOWER_NAMES = {"640000": ["银川市", "石嘴山市", "吴忠市", "固原市", "中卫市"],
               "640400": ["原州区", "西吉县", "隆德县", "泾源县", "彭阳县"], "640422": []}
BUDGET_APPROVAL = {"640000": (1, 20), "640400": (2, 14), "640422": (3, 2)}     # month, day of year Y
FINAL_APPROVAL = {"640000": (7, 28), "640400": (8, 18), "640422": (8, 26)}     # of year Y + 1

WATER = ("宁夏回族自治区水利厅", uscc("11", "640000", 1_200_001))
CIVIL = ("宁夏回族自治区民政厅", uscc("11", "640000", 1_300_001))
WELFARE = ("宁夏回族自治区社会福利院", uscc("12", "640000", 1_300_501))
# created in 2018: in the registry (and owing tables) from 2020 on only; its 224 codes' 款/项 are not in our
# code list (a reference gap, reported as information, never a publisher's failure)
EMERGENCY = ("宁夏回族自治区应急管理厅", uscc("11", "640000", 1_400_001))
FIRST_YEAR = {EMERGENCY[1]: 2019}
ENTITY_STYLE = {WATER[1]: 0, CIVIL[1]: 1, WELFARE[1]: 2, EMERGENCY[1]: 0}
ENTITIES = [  # name, code, kind, parent code
    (EMERGENCY[0], EMERGENCY[1], "department", ""),
    (WATER[0], WATER[1], "department", ""),
    (CIVIL[0], CIVIL[1], "department", ""),
    (WELFARE[0], WELFARE[1], "unit", CIVIL[1]),
]


def budget_approval(region: str, year: int) -> dt.date:
    return dt.date(year, *BUDGET_APPROVAL[region])


def final_approval(region: str, year: int) -> dt.date:
    return dt.date(year + 1, *FINAL_APPROVAL[region])


def finance_reply(code: str, year: int, phase: str) -> dt.date | None:
    """The finance department's 批复 date; the unit's 2016 budget reply is unknown (blank in the registry)."""
    if code == WELFARE[1] and year == 2016 and phase == "budget":
        return None
    anchor = budget_approval("640000", year) if phase == "budget" else final_approval("640000", year)
    return anchor + dt.timedelta(days=14 if code != WELFARE[1] else 24)


# --- catalogue (the tables a publisher owes; names as the contract's catalogue prints them) -----------------
GOV_BUDGET = [
    ("gov_gpb_revenue", "一般公共预算收入表"), ("gov_gpb_expenditure", "一般公共预算支出表"),
    ("gov_gpb_own_expenditure", "一般公共预算本级支出表"), ("gov_gpb_own_basic", "一般公共预算本级基本支出表"),
    ("gov_gpb_transfer", "一般公共预算税收返还和转移支付表"), ("gov_general_debt", "政府一般债务限额和余额情况表"),
    ("gov_gfb_revenue", "政府性基金预算收入表"), ("gov_gfb_expenditure", "政府性基金预算支出表"),
    ("gov_gfb_own_expenditure", "政府性基金预算本级支出表"), ("gov_gfb_transfer", "政府性基金预算转移支付表"),
    ("gov_special_debt", "政府专项债务限额和余额情况表"), ("gov_scb_revenue", "国有资本经营预算收入表"),
    ("gov_scb_expenditure", "国有资本经营预算支出表"), ("gov_scb_own_expenditure", "国有资本经营预算本级支出表"),
    ("gov_scb_transfer", "国有资本经营预算转移支付表"), ("gov_ssf_revenue", "社会保险基金预算收入表"),
    ("gov_ssf_expenditure", "社会保险基金预算支出表"), ("gov_sangong", "一般公共预算“三公”经费支出表"),
]
GOV_FINAL = [
    ("govf_gpb_revenue", "一般公共预算收入决算表"), ("govf_gpb_expenditure", "一般公共预算支出决算表"),
    ("govf_gpb_own_expenditure", "一般公共预算本级支出决算表"), ("govf_gpb_own_basic", "一般公共预算本级基本支出决算表"),
    ("govf_gpb_transfer", "一般公共预算税收返还和转移支付决算表"), ("govf_general_debt", "政府一般债务限额和余额决算表"),
    ("govf_gfb_revenue", "政府性基金预算收入决算表"), ("govf_gfb_expenditure", "政府性基金预算支出决算表"),
    ("govf_gfb_own_expenditure", "政府性基金预算本级支出决算表"), ("govf_gfb_transfer", "政府性基金预算转移支付决算表"),
    ("govf_special_debt", "政府专项债务限额和余额决算表"), ("govf_scb_revenue", "国有资本经营预算收入决算表"),
    ("govf_scb_expenditure", "国有资本经营预算支出决算表"), ("govf_scb_own_expenditure", "国有资本经营预算本级支出决算表"),
    ("govf_scb_transfer", "国有资本经营预算转移支付决算表"), ("govf_ssf_revenue", "社会保险基金预算收入决算表"),
    ("govf_ssf_expenditure", "社会保险基金预算支出决算表"), ("govf_sangong", "一般公共预算“三公”经费支出决算表"),
]
DEBT_BUDGET = [("debt_1_1", "地方政府债务限额及余额情况表"), ("debt_1_2", "地方政府一般债务余额情况表"),
               ("debt_1_3", "地方政府专项债务余额情况表"), ("debt_1_4", "地方政府债券发行及还本付息情况表")]
DEBT_FINAL = [("debtf_1_1", "地方政府债务限额及余额决算情况表"), ("debtf_1_2", "地方政府一般债务余额决算情况表"),
              ("debtf_1_3", "地方政府专项债务余额决算情况表"), ("debtf_1_4", "地方政府债券发行及还本付息决算情况表"),
              ("debtf_bond_use", "地方政府债券资金使用情况表")]
DEPT_BUDGET = [("dept_summary", "部门收支总表"), ("dept_revenue", "部门收入总表"), ("dept_expenditure", "部门支出总表"),
               ("dept_fiscal_summary", "财政拨款收支总表"), ("dept_gpb_expenditure", "一般公共预算支出表"),
               ("dept_gpb_basic", "一般公共预算基本支出表"), ("dept_sangong", "一般公共预算“三公”经费支出表"),
               ("dept_gfb_expenditure", "政府性基金预算支出表"), ("dept_scb_expenditure", "国有资本经营预算支出表")]
DEPT_FINAL = [("deptf_summary", "收入支出决算总表"), ("deptf_revenue", "收入决算表"), ("deptf_expenditure", "支出决算表"),
              ("deptf_fiscal_summary", "财政拨款收入支出决算总表"),
              ("deptf_gpb_expenditure", "一般公共预算财政拨款支出决算表"),
              ("deptf_gpb_basic", "一般公共预算财政拨款基本支出决算表"),
              ("deptf_sangong", "一般公共预算财政拨款“三公”经费支出决算表"),
              ("deptf_gfb", "政府性基金预算财政拨款收入支出决算表"), ("deptf_scb", "国有资本经营预算财政拨款支出决算表")]


# how the finance ministry's department template words some titles (the catalogue's names are shorter)
TEMPLATE_WORDING = {
    "部门收支总表": "部门收支总体情况表", "部门收入总表": "部门收入总体情况表", "部门支出总表": "部门支出总体情况表",
    "财政拨款收支总表": "财政拨款收支总体情况表", "一般公共预算支出表": "一般公共预算支出情况表",
    "一般公共预算基本支出表": "一般公共预算基本支出情况表",
    "一般公共预算“三公”经费支出表": "一般公共预算“三公”经费支出情况表",
    "政府性基金预算支出表": "政府性基金预算支出情况表",
}


# the current Ministry template's titles (no entity in the title: the publisher line names it)
MINISTRY_TEMPLATE = {
    "部门收支总表": "部门财务收支预算总表", "部门收入总表": "部门收入预算总表", "部门支出总表": "部门支出预算总表",
    "财政拨款收支总表": "财政拨款收支预算总表", "一般公共预算支出表": "一般公共预算支出功能分类预算表",
    "一般公共预算基本支出表": "一般公共预算基本支出部门预算经济分类预算表",
    "一般公共预算“三公”经费支出表": "“三公”经费和机关运行经费预算表",
    "政府性基金预算支出表": "政府性基金预算支出功能分类预算表", "国有资本经营预算支出表": "国有资本经营预算支出功能分类预算表",
}
# required explanations (DOMAIN.md 2.2), as a 说明 sheet words them: catalogue key suffix, heading
EXPLANATIONS = [("duties", "一、部门职责"), ("structure", "二、机构设置情况"), ("notes", None),
                ("office_costs", "四、机关运行经费支出情况"), ("procurement", "五、政府采购支出情况"),
                ("assets", "六、国有资产占用使用情况"), ("performance", "七、预算绩效管理情况"),
                ("sangong", "八、“三公”经费支出情况说明"), ("project_funds", "九、项目支出情况说明"), ("terms", "十、名词解释")]


def dept_budget_tables(year: int) -> list[tuple[str, str]]:
    return DEPT_BUDGET if year >= 2019 else DEPT_BUDGET[:8]   # the 9th table exists from 2019


def gov_budget_tables(region: str, final: bool) -> list[tuple[str, str]]:
    tables = GOV_FINAL if final else GOV_BUDGET
    level = next(lv for c, _, lv, _ in REGIONS if c == region)
    return [t for t in tables if not (t[0].endswith("scb_transfer") and level == "county")]


# --- classification names (the code lists of DOMAIN.md §3, year-keyed where 2019 renamed them) ----------------
def function_name(code: str, year: int) -> str:
    names = {
        "201": "一般公共服务支出", "20106": "财政事务", "2010601": "行政运行", "2010602": "一般行政管理事务",
        "208": "社会保障和就业支出", "20805": "行政事业单位离退休", "2080501": "行政单位离退休",
        "2080505": "机关事业单位基本养老保险缴费支出",
        "210": "卫生健康支出" if year >= 2019 else "医疗卫生与计划生育支出", "21011": "行政事业单位医疗",
        "2101101": "行政单位医疗",
        "212": "城乡社区支出", "21208": "国有土地使用权出让收入安排的支出", "2120801": "征地和拆迁补偿支出",
        "2120803": "城市建设支出",
        "229": "其他支出", "22960": "彩票公益金安排的支出", "2296002": "用于社会福利的彩票公益金支出",
        "221": "住房保障支出", "22102": "住房改革支出", "2210201": "住房公积金",
        "213": "农林水支出", "21301": "农业", "2130101": "行政运行",
        "224": "灾害防治及应急管理支出", "22401": "应急管理事务", "2240101": "行政运行",
        # revenue
        "101": "税收收入", "10101": "增值税", "10104": "企业所得税", "103": "非税收入",
        "10304": "行政事业性收费收入", "10301": "政府性基金收入", "1030148": "国有土地使用权出让收入",
        "10306": "国有资本经营收入", "1030601": "利润收入",
        # economic (department scheme; the government scheme 501… exists from 2018)
        "301": "工资福利支出", "30101": "基本工资", "30102": "津贴补贴", "302": "商品和服务支出",
        "30201": "办公费", "30211": "差旅费",
        "501": "机关工资福利支出", "50101": "工资奖金津补贴", "502": "机关商品和服务支出", "50201": "办公经费",
    }
    return names[code]


# --- expected outcome records ----------------------------------------------------------------------------------
@dataclass
class ExpectedSheet:
    table_key: str
    table_name: str
    publisher_code: str
    fiscal_year: int
    unit_multiplier: Decimal
    amount_yuan_total: Decimal = D(0)
    lines_expected: bool = True
    is_empty: bool = False
    has_empty_note: bool = False
    status: str = "parsed"          # unknown_table: a sheet that is no known table (reported, not fatal)


@dataclass
class ContractRaw:
    root: Path
    files: dict[str, str] = field(default_factory=dict)          # rel → family
    rejected_files: dict[str, str] = field(default_factory=dict)  # rel → reason hint
    sheets: dict[tuple[str, str], ExpectedSheet] = field(default_factory=dict)
    row_rejects: set[tuple[str, str, int, str, str]] = field(default_factory=set)  # rel, sheet, row, col, value
    statuses: dict[tuple[str, int, str], str] = field(default_factory=dict)        # non on_time only
    findings: set[tuple[str, str, int, str]] = field(default_factory=set)
    trading_rows: int = 0
    trading_duplicates: int = 0
    trading_amounts: dict[tuple[str, str, str], Decimal] = field(default_factory=dict)  # (bulletin id, field) → 元
    portal_rows: int = 0
    deals: dict[str, tuple[int, int, bool]] = field(default_factory=dict)  # deal id → (year, candidates, announced)
    personal_data: list[str] = field(default_factory=list)   # planted ID / mobile numbers: never published


# --- workbook writing ------------------------------------------------------------------------------------------
FW = "\u3000"   # full-width space: one level of indent


def fmt(value: Decimal, style: str):
    """An amount cell as a publisher types it."""
    if value == 0:
        return {"num": 0, "text": "-", "blank": None}[style]
    if style == "text":
        return f"{value:,.2f}" if value != value.to_integral() else f"{value:,.0f}"
    return float(value)


class SheetWriter:
    """Writes one published table into a worksheet and tallies what a parser must read from it."""

    def __init__(self, ws, expected: ExpectedSheet, multiplier: Decimal):
        self.ws, self.expected, self.multiplier = ws, expected, multiplier
        self.row = 1

    def put(self, r: int, c: int, value) -> None:
        self.ws.cell(row=r, column=c, value=value)

    def merge(self, r0: int, c0: int, r1: int, c1: int) -> None:
        if (r0, c0) != (r1, c1):
            self.ws.merge_cells(start_row=r0, start_column=c0, end_row=r1, end_column=c1)

    def title(self, text: str, width: int) -> None:
        self.put(self.row, 1, text)
        self.merge(self.row, 1, self.row, width)
        self.row += 1

    def unit_line(self, publisher: str | None, unit_text: str, unit_left: bool, width: int,
                  one_cell: bool = False) -> None:
        if one_cell:   # '编制单位：…　　　单位：元' typed into one merged cell
            self.put(self.row, 1, f"{publisher}{FW * 6}{unit_text}")
            self.merge(self.row, 1, self.row, width)
        elif unit_left:
            self.put(self.row, 1, unit_text)
            if publisher:
                self.put(self.row, width, publisher)
        else:
            if publisher:
                self.put(self.row, 1, publisher)
            self.put(self.row, width, unit_text)
        self.row += 1

    def amount(self, r: int, c: int, value: Decimal, style: str) -> None:
        self.put(r, c, fmt(value, style))
        self.expected.amount_yuan_total += value * self.multiplier

    def note(self, text: str) -> None:
        self.row += 1
        self.put(self.row, 1, text)
        self.row += 1


@dataclass
class Layout:
    sheet_name: str
    title: str
    publisher: str | None
    unit_label: str        # 元 | 万元 | 亿元
    unit_text: str
    unit_left: bool
    header_rows: int       # 1..3
    split_codes: bool
    style: str             # num | text | blank (how zeros and amounts are typed)
    indent: str = FW       # one level of indent in the name column: a full-width space or two spaces
    total_at_bottom: bool = False
    one_cell_unit_line: bool = False


def coded_rows(leaves: dict[str, dict[str, Decimal]], keys: list[str]) -> list[tuple[str, dict[str, Decimal]]]:
    """Parent codes (3 / 5 digits) summed from the leaves, in code order, parents first."""
    sums: dict[str, dict[str, Decimal]] = {}
    for code, values in leaves.items():
        for n in (3, 5, 7):
            if len(code) >= n:
                row = sums.setdefault(code[:n], {k: D(0) for k in keys})
                for k in keys:
                    row[k] += values.get(k, D(0))
    return sorted(sums.items())


def write_coded(ws, exp: ExpectedSheet, lay: Layout, mult: Decimal, year: int,
                columns: list[tuple[str, str]], leaves: dict[str, dict[str, Decimal]],
                total_label: str = "合计", note: str | None = None, code_header: str = "科目编码",
                name_header: str = "科目名称", group_header: str | None = None, empty: bool = False,
                reject_cell: tuple[str, str] | None = None, tamper: dict[str, dict[str, Decimal]] | None = None,
                rel: str = "", rejects: set | None = None) -> None:
    """A coded table: code column(s), name, amount columns; parents, leaves and a total row."""
    w = SheetWriter(ws, exp, mult)
    keys = [k for _, k in columns]
    code_cols = 3 if lay.split_codes else 1
    width = code_cols + 1 + len(columns)
    w.title(lay.title, width)
    w.unit_line(lay.publisher, lay.unit_text, lay.unit_left, width, lay.one_cell_unit_line)
    top = w.row
    first_amount = code_cols + 2
    if lay.header_rows == 1:
        if lay.split_codes:
            for i, part in enumerate("类款项"):
                w.put(top, 1 + i, part)
        else:
            w.put(top, 1, code_header)
        w.put(top, code_cols + 1, name_header)
        for i, (text, _) in enumerate(columns):
            w.put(top, first_amount + i, text)
    else:
        last = top + lay.header_rows - 1
        if lay.split_codes:
            w.put(top, 1, code_header)
            w.merge(top, 1, last - 1, 3)
            for i, part in enumerate("类款项"):
                w.put(last, 1 + i, part)
        else:
            w.put(top, 1, code_header)
            w.merge(top, 1, last, 1)
        w.put(top, code_cols + 1, name_header)
        w.merge(top, code_cols + 1, last, code_cols + 1)
        if group_header and lay.header_rows == 3 and len(columns) >= 3:
            # 本年预算 over every amount column; 合计 alone, then 其中 over the parts
            w.put(top, first_amount, group_header)
            w.merge(top, first_amount, top, first_amount + len(columns) - 1)
            w.put(top + 1, first_amount, columns[0][0])
            w.merge(top + 1, first_amount, last, first_amount)
            w.put(top + 1, first_amount + 1, "其中")
            w.merge(top + 1, first_amount + 1, top + 1, first_amount + len(columns) - 1)
            for i, (text, _) in enumerate(columns[1:], start=1):
                w.put(last, first_amount + i, text)
        else:
            for i, (text, _) in enumerate(columns):
                w.put(top, first_amount + i, text)
                w.merge(top, first_amount + i, last, first_amount + i)
    r = top + lay.header_rows
    rows = [] if empty else coded_rows(leaves, [k for k in keys if k])
    total = {k: sum((v[k] for c, v in rows if len(c) == 3), D(0)) for k in keys if k}
    def total_row(r: int) -> int:
        if lay.split_codes:
            w.put(r, 1, total_label)
            w.merge(r, 1, r, 3)
        else:
            w.put(r, code_cols + 1, total_label)
        for i, k in enumerate(keys):
            if k is None:   # a ratio column (增长% / 为预算数的%): no amount
                w.put(r, first_amount + i, 103.7)
                continue
            w.amount(r, first_amount + i, total[k], lay.style)
        return r + 1

    if not lay.total_at_bottom:   # the total row first, as many publishers print it
        r = total_row(r)
    for code, values in rows:
        values = dict(values)
        if tamper and code in tamper:
            for k, delta in tamper[code].items():
                values[k] += delta
        level = {3: 0, 5: 1, 7: 2}[len(code)]
        if lay.split_codes:
            w.put(r, 1, int(code[:3]) if len(code) == 3 else None)
            w.put(r, 2, int(code[3:5]) if len(code) >= 5 else None)
            w.put(r, 3, int(code[5:7]) if len(code) == 7 else None)
        else:
            w.put(r, 1, code if lay.style == "text" else int(code))
        w.put(r, code_cols + 1, lay.indent * level + function_name(code, year))
        rejected_row = bool(reject_cell and reject_cell[0] == code)
        for i, k in enumerate(keys):
            if k is None:
                w.put(r, first_amount + i, 98.2)
                continue
            if rejected_row and reject_cell[1] == k:
                w.put(r, first_amount + i, "待定")
                if rejects is not None:
                    rejects.add((rel, ws.title, r, get_column_letter(first_amount + i), "待定"))
                continue
            w.amount(r, first_amount + i, values[k], lay.style)
            if rejected_row:  # a rejected row loads nothing: its other cells do not count either
                exp.amount_yuan_total -= values[k] * mult
        r += 1
    if lay.total_at_bottom:
        r = total_row(r)
    w.row = r
    if note:
        w.note(note)
    exp.is_empty = empty


def write_items(ws, exp: ExpectedSheet, lay: Layout, mult: Decimal, columns: list[tuple[str, str]],
                items: list[tuple[str, dict[str, Decimal]]], label_header: str = "项目",
                total_label: str | None = "合计", note: str | None = None) -> None:
    """An item table: label column + amount columns; optional total row at the bottom."""
    w = SheetWriter(ws, exp, mult)
    width = 1 + len(columns)
    w.title(lay.title, width)
    w.unit_line(lay.publisher, lay.unit_text, lay.unit_left, width, lay.one_cell_unit_line)
    top = w.row
    w.put(top, 1, label_header)
    for i, (text, _) in enumerate(columns):
        w.put(top, 2 + i, text)
    if lay.header_rows > 1:
        for c in range(1, width + 1):
            w.merge(top, c, top + lay.header_rows - 1, c)
    r = top + lay.header_rows
    for label, values in items:
        w.put(r, 1, label)
        for i, (_, k) in enumerate(columns):
            if k in values and values[k] is None:
                continue   # an empty cell
            w.amount(r, 2 + i, values.get(k, D(0)), lay.style)
        r += 1
    if total_label:
        w.put(r, 1, total_label)
        for i, (_, k) in enumerate(columns):
            w.amount(r, 2 + i, sum((v.get(k) or D(0) for _, v in items), D(0)), lay.style)
        r += 1
    w.row = r
    if note:
        w.note(note)


def write_two_sided(ws, exp: ExpectedSheet, lay: Layout, mult: Decimal,
                    income: list[tuple[str, Decimal]], expenditure: list[tuple[str, dict[str, Decimal]]],
                    right_columns: list[tuple[str, str]], left_amount: str, left_label: str, right_label: str,
                    income_total_label: str, expenditure_total_label: str, income_total_delta: Decimal = D(0),
                    carry: tuple[Decimal, Decimal] | None = None):
    """收支总表: income items left, expenditure items (one or more amount columns) right.

    ``carry`` = (上年结转, 年末结转和结余): the finance ministry's template, where 本年收入合计 and
    本年支出合计 differ and only 收入总计 = 支出总计 (each total includes its side's carry-over)."""
    w = SheetWriter(ws, exp, mult)
    width = 2 + 1 + len(right_columns)
    w.title(lay.title, width)
    w.unit_line(lay.publisher, lay.unit_text, lay.unit_left, width, lay.one_cell_unit_line)
    top = w.row
    w.put(top, 1, "收入")
    w.merge(top, 1, top, 2)
    w.put(top, 3, "支出")
    w.merge(top, 3, top, width)
    sub = top + 1
    w.put(sub, 1, left_label)
    w.put(sub, 2, left_amount)
    w.put(sub, 3, right_label)
    for i, (text, _) in enumerate(right_columns):
        w.put(sub, 4 + i, text)
    r = sub + 1
    n = max(len(income), len(expenditure))
    for i in range(n):
        if i < len(income):
            w.put(r, 1, income[i][0])
            w.amount(r, 2, income[i][1], lay.style)
        if i < len(expenditure):
            w.put(r, 3, expenditure[i][0])
            for j, (_, k) in enumerate(right_columns):
                w.amount(r, 4 + j, expenditure[i][1].get(k, D(0)), lay.style)
        r += 1
    income_sum = sum((v for _, v in income), D(0)) + income_total_delta
    expenditure_sum = {k: sum((v.get(k, D(0)) for _, v in expenditure), D(0)) for _, k in right_columns}
    if carry:
        w.put(r, 1, "本年收入合计")
        w.amount(r, 2, income_sum, lay.style)
        w.put(r, 3, "本年支出合计")
        for j, (_, k) in enumerate(right_columns):
            w.amount(r, 4 + j, expenditure_sum[k], lay.style)
        r += 1
        w.put(r, 1, "上年结转")
        w.amount(r, 2, carry[0], lay.style)
        w.put(r, 3, "年末结转和结余")
        for j, _ in enumerate(right_columns):
            w.amount(r, 4 + j, carry[1] if j == 0 else D(0), lay.style)
        r += 1
        income_sum += carry[0]
        expenditure_sum[right_columns[0][1]] += carry[1]
    w.put(r, 1, income_total_label)
    w.amount(r, 2, income_sum, lay.style)
    w.put(r, 3, expenditure_total_label)
    for j, (_, k) in enumerate(right_columns):
        w.amount(r, 4 + j, expenditure_sum[k], lay.style)
    w.row = r + 1


def write_sangong(ws, exp: ExpectedSheet, lay: Layout, mult: Decimal, overseas: Decimal, purchase: Decimal,
                  running: Decimal, reception: Decimal, note: str | None = None) -> None:
    """三公: 合计 | 因公出国（境）费 | 公务用车购置及运行费 (小计 | 购置费 | 运行费) | 公务接待费, one data row."""
    w = SheetWriter(ws, exp, mult)
    w.title(lay.title, 6)
    w.unit_line(lay.publisher, lay.unit_text, lay.unit_left, 6, lay.one_cell_unit_line)
    top = w.row
    for c, text in ((1, "合计"), (2, "因公出国（境）费"), (6, "公务接待费")):
        w.put(top, c, text)
        w.merge(top, c, top + 1, c)
    w.put(top, 3, "公务用车购置及运行费")
    w.merge(top, 3, top, 5)
    for c, text in ((3, "小计"), (4, "购置费"), (5, "运行费")):
        w.put(top + 1, c, text)
    r = top + 2
    vehicle = purchase + running
    for c, v in ((1, overseas + vehicle + reception), (2, overseas), (3, vehicle), (4, purchase), (5, running),
                 (6, reception)):
        w.amount(r, c, v, lay.style)
    w.row = r + 1
    if note:
        w.note(note)


def offset_sheet(ws, rows: int, cols: int) -> None:
    """Move a drawn table down and right (openpyxl does not move merged ranges: re-merge them shifted)."""
    merges = [(m.min_row, m.min_col, m.max_row, m.max_col) for m in ws.merged_cells.ranges]
    for r0, c0, r1, c1 in merges:
        ws.unmerge_cells(start_row=r0, start_column=c0, end_row=r1, end_column=c1)
    ws.insert_rows(1, rows)
    ws.insert_cols(1, cols)
    for r0, c0, r1, c1 in merges:
        ws.merge_cells(start_row=r0 + rows, start_column=c0 + cols, end_row=r1 + rows, end_column=c1 + cols)


# --- the raw root ---------------------------------------------------------------------------------------------
CN_NUMBERS = "一二三四五六七八九十"


class Builder:
    def __init__(self, root: Path):
        self.out = ContractRaw(root=root)
        self.root = root
        self.portal: list[dict] = []

    # helpers
    def rel(self, path: Path) -> str:
        return path.relative_to(self.root).as_posix()

    def publish(self, rel: str, publisher_code: str, publisher_name: str, column: str, title: str,
                when: dt.datetime, by_path: bool) -> None:
        self.portal.append({
            "title": title, "published_at": when, "publisher_name": publisher_name,
            "publisher_code": publisher_code, "column": column,
            "url": f"http://www.nx.gov.cn/zwgk/{len(self.portal) + 1:06d}.htm",
            "attachment": rel if by_path else rel.rsplit("/", 1)[-1],
        })

    def amounts_for(self, seed: int, n: int, base: int) -> list[Decimal]:
        return [D(base + (seed * 37 + i * 101) % 900) for i in range(n)]

    # department workbooks ------------------------------------------------------------------------------
    def department(self, name: str, code: str, year: int, final: bool, style_no: int) -> None:
        tables = DEPT_FINAL if final else dept_budget_tables(year)
        unit_label = ("元", "万元", "千元" if year == 2020 else "万元")[style_no]
        mult = {"元": D(1), "千元": D(1000), "万元": D(10000)}[unit_label]
        unit_text = ("单位：元", "金额单位:万元", f"单位: {unit_label}")[style_no]
        unit_left = style_no == 1
        style = ("num", "text", "blank")[style_no]
        year_first = style_no == 0 and year == 2016
        wb = Workbook()
        wb.remove(wb.active)
        kind = "决算" if final else "预算"
        folder = self.root / "budget" / str(year) / ("departments" if style_no != 2 else "")
        suffix = ".XLSX" if (name == WELFARE[0] and year == 2016 and final) else ".xlsx"
        path = folder / f"{year}年{name}部门{kind}公开表{suffix}"
        rel = self.rel(path)
        s = style_no * 7 + year % 10 + (3 if final else 0)
        # leaf figures (in the sheet's unit): function leaves with basic / project
        fn_leaves = {
            "2080501": {"basic": D(300 + s), "project": D(40 + s)},
            "2080505": {"basic": D(120 + s), "project": D(0)},
            "2101101": {"basic": D(55), "project": D(12 + s)},
            "2210201": {"basic": D(80 + s), "project": D(0)},
        }
        if name == WATER[0]:
            fn_leaves["2130101"] = {"basic": D(210 + s), "project": D(500 + s)}
        if name == EMERGENCY[0]:
            fn_leaves["2240101"] = {"basic": D(190 + s), "project": D(75 + s)}
        for v in fn_leaves.values():
            v["total"] = v["basic"] + v["project"]
        if unit_label == "万元":   # two decimals in 万元
            for v in fn_leaves.values():
                for k in v:
                    v[k] = v[k] + D("0.25") if v[k] else v[k]
                v["total"] = v["basic"] + v["project"]
        gpb_basic = sum((v["basic"] for v in fn_leaves.values()), D(0))
        gpb_project = sum((v["project"] for v in fn_leaves.values()), D(0))
        gpb_total = gpb_basic + gpb_project
        # economic leaves summing to the basic total: personnel (301) and public (302)
        public = (gpb_basic * D("0.2")).quantize(D("0.01"))
        personnel = gpb_basic - public
        econ = {
            "30101": {"personnel": (personnel * D("0.6")).quantize(D("0.01"))},
            "30201": {"public": (public * D("0.5")).quantize(D("0.01"))},
        }
        econ["30102"] = {"personnel": personnel - econ["30101"]["personnel"]}
        econ["30211"] = {"public": public - econ["30201"]["public"]}
        for v in econ.values():
            v["total"] = v.get("personnel", D(0)) + v.get("public", D(0))
        gfb_leaves = {"2296002": {"amount": D(66 + s)}}
        scb_leaves = {"2210201": {"amount": D(9 + s)}}
        gfb_total, scb_total = D(66 + s), D(9 + s)
        has_scb = "dept_scb_expenditure" in dict(tables) or final
        gfb_empty = name == WATER[0] and year in (2015, 2016) and not final
        if gfb_empty:
            gfb_total = D(0)
        if not has_scb or (final and year < 2019):
            scb_total = D(0) if not final else scb_total
        business = D(30 + s)
        income_items = [("一、一般公共预算拨款", gpb_total), ("二、政府性基金预算拨款", gfb_total)]
        if "dept_scb_expenditure" in dict(tables) or final:
            income_items.append(("三、国有资本经营预算拨款", scb_total))
        income_items.append(("四、事业收入", business))
        grand = sum((v for _, v in income_items), D(0))
        # Every fund by code, so the department's tables satisfy DOMAIN.md 2.2 between them: 支出总表 and 收入总表
        # cover every fund (事业收入 and 国有资本经营 too), the summary lists 类 totals of all funds, and what is
        # spent out of the carry-over (福利院: 上年结转 12, 年末结转和结余 8) is spending of the year.
        carry = (D(12), D(8)) if name == WELFARE[0] else None
        first_leaf = sorted(fn_leaves)[0]
        all_leaves = {c: dict(v) for c, v in fn_leaves.items()}
        revenue_leaves = {c: {"total": v["total"], "gpb": v["total"]} for c, v in fn_leaves.items()}

        def fund(code_: str, amount_: Decimal, key: str, spent: bool = True, received: bool = True) -> None:
            if spent:
                leaf = all_leaves.setdefault(code_, {"basic": D(0), "project": D(0), "total": D(0)})
                leaf["project"] += amount_
                leaf["total"] += amount_
            if received:
                rev = revenue_leaves.setdefault(code_, {"total": D(0)})
                rev[key] = rev.get(key, D(0)) + amount_
                rev["total"] += amount_

        fund("2296002", gfb_total, "gfb", spent=not gfb_empty)
        if scb_total and any("国有资本经营" in label for label, _ in income_items):
            fund("2210201", scb_total, "scb")
        fund(first_leaf, business, "business")
        if carry:
            fund(first_leaf, carry[0] - carry[1], "carryover", received=False)
            fund(first_leaf, carry[0], "carryover", spent=False)
        revenue_columns = [("合计", "total"), ("上年结转", "carryover"), ("一般公共预算拨款", "gpb"),
                           ("政府性基金预算拨款", "gfb"), ("国有资本经营预算拨款", "scb"), ("事业收入", "business")]
        revenue_columns = [c for c in revenue_columns
                           if c[1] == "total" or any(c[1] in v for v in revenue_leaves.values())]
        fiscal_total = grand - business

        for i, (table_key, table_name) in enumerate(tables):
            sheet_name = (f"表{CN_NUMBERS[i]}", f"Sheet{i + 1}", table_name.replace("“", "").replace("”", ""))[style_no]
            ws = wb.create_sheet(sheet_name)
            # 民政厅 titles its 2015 final tables with a short name the registry does not hold: the publisher
            # then comes from the portal row that published the workbook (CONTRACTS.md §7)
            shown_name = "自治区民政厅" if (name == CIVIL[0] and year == 2015 and final) else name
            printed = table_name
            if name == WATER[0] and year == 2015 and not final:   # the template's 总体情况表 / 情况表 wording
                printed = TEMPLATE_WORDING.get(table_name, table_name)
            if year_first:
                title = f"{year}年{shown_name}{printed}"
            else:
                title = f"{shown_name}{year}年{printed}"
            publisher = (f"编制单位：{name}", f"部门：{name}", f"单位：{name}")[style_no]   # 单位：<name> too
            if name == EMERGENCY[0] and year == 2020 and not final:   # the current template: entity in the publisher line
                title = f"{year}年{MINISTRY_TEMPLATE[table_name]}"
                publisher = f"预算主管部门：{name}"
            lay = Layout(sheet_name, title, publisher, unit_label, unit_text, unit_left,
                         header_rows=(1, 2, 3)[(i + style_no) % 3], split_codes=(i + style_no) % 2 == 1,
                         style=style, indent="  " if style_no == 2 else FW, total_at_bottom=style_no == 1,
                         one_cell_unit_line=style_no == 0 and year == 2020)
            exp = ExpectedSheet(table_key, table_name, code, year, mult)
            self.out.sheets[(rel, sheet_name)] = exp
            amount_word = ("决算数" if final else ("预算数", "本年预算", f"{year}年预算数")[style_no])
            base = table_key.split("_", 1)[1]
            if base == "summary":
                expenditure = [(f"{n}、{function_name(c, year)}", {"amount": sum(
                    (v["total"] for lc, v in all_leaves.items() if lc.startswith(c)), D(0))})
                    for n, c in zip("一二三四五六七", sorted({lc[:3] for lc in all_leaves}))]
                delta = D(100) if (name == WATER[0] and year == 2020 and not final) else D(0)
                write_two_sided(ws, exp, lay, mult, income_items, expenditure, [(amount_word, "amount")],
                                amount_word, "收入项目", "支出项目", "收入总计", "支出总计", delta, carry=carry)
            elif base == "fiscal_summary":
                inc = [it for it in income_items if "事业收入" not in it[0]]
                exp_rows = [(function_name(c, year), {
                    "amount": sum((v["total"] for lc, v in fn_leaves.items() if lc.startswith(c)), D(0)),
                    "gpb": sum((v["total"] for lc, v in fn_leaves.items() if lc.startswith(c)), D(0))})
                    for c in sorted({lc[:3] for lc in fn_leaves})]
                exp_rows.append(("其他支出", {"amount": gfb_total + scb_total, "gfb": gfb_total, "scb": scb_total}))
                write_two_sided(ws, exp, lay, mult, inc, exp_rows,
                                [("合计", "amount"), ("一般公共预算", "gpb"), ("政府性基金预算", "gfb"),
                                 ("国有资本经营预算", "scb")],
                                amount_word, "项目", "项目", "收入总计", "支出总计")
            elif base == "revenue":
                write_coded(ws, exp, lay, mult, year, revenue_columns, revenue_leaves, total_label="合计",
                            code_header="功能分类科目编码")
            elif base == "expenditure":
                leaves = {c: dict(v) for c, v in all_leaves.items()}
                rejects = self.out.row_rejects
                write_coded(ws, exp, lay, mult, year,
                            [("合计", "total"), ("基本支出", "basic"), ("项目支出", "project")], leaves,
                            total_label="总计",
                            reject_cell=("2080501", "project") if (code == WELFARE[1] and year == 2015 and final)
                            else None, rel=rel, rejects=rejects)
            elif base == "gpb_expenditure":
                tamper = ({"2080505": {"basic": D(7), "total": D(7)}}
                          if (name == CIVIL[0] and year == 2020 and not final) else None)
                write_coded(ws, exp, lay, mult, year,
                            [("合计", "total"), ("基本支出", "basic"), ("项目支出", "project")], fn_leaves,
                            group_header=amount_word, tamper=tamper,
                            note="注：本表反映部门年度一般公共预算当年拨款支出情况。")
            elif base == "gpb_basic":
                write_coded(ws, exp, lay, mult, year,
                            [("合计", "total"), ("人员经费", "personnel"), ("公用经费", "public")], econ,
                            code_header="经济分类科目编码", group_header=amount_word)
            elif base == "sangong":
                write_sangong(ws, exp, lay, mult, D(0), D(0), D(8 + s % 5), D(3 + s % 4),
                              note="注：本部门因公出国（境）费为零。")
            elif base in ("gfb_expenditure", "gfb"):
                if gfb_empty:
                    note = ("注：本部门无政府性基金预算支出，故本表为空表。" if year == 2015 else None)
                    write_coded(ws, exp, lay, mult, year, [(amount_word, "amount")], {}, empty=True, note=note)
                    exp.has_empty_note = note is not None
                else:
                    write_coded(ws, exp, lay, mult, year, [(amount_word, "amount")], gfb_leaves)
            elif base in ("scb_expenditure", "scb"):
                write_coded(ws, exp, lay, mult, year, [(amount_word, "amount")], scb_leaves)
        if name == CIVIL[0] and year == 2020 and final:   # tables drawn from B3: a blank column and two rows
            for ws in wb.worksheets:
                offset_sheet(ws, rows=2, cols=1)
        if name == WATER[0] and year == 2020 and final:   # a sheet of instructions: no table
            ws = wb.create_sheet("填报说明")
            ws["A1"] = f"一、本套报表为{name}{year}年度部门决算公开报表，共九张。"
            ws["A2"] = "二、报表所列金额按四舍五入保留两位小数。"
            self.out.sheets[(rel, "填报说明")] = ExpectedSheet("", "", code, year, D(1), status="unknown_table")
        if year >= 2017:   # the required explanations (catalogue book explanation, from 2017)
            shown_income = grand + (D(100) if (name == WATER[0] and year == 2020 and not final) else D(0)) \
                + (D(12) if name == WELFARE[0] else D(0))
            self.explanation_sheet(wb, rel, name, code, year, final, shown_income * mult, fiscal_total * mult)
        folder.mkdir(parents=True, exist_ok=True)
        wb.save(path)
        self.out.files[rel] = "budget"
        # publication
        reply = finance_reply(code, year, "final" if final else "budget")
        if reply is None:
            congress = budget_approval("640000", year)
            when = congress + dt.timedelta(days=50)   # unit fallback: congress + 55
        else:
            when = reply + dt.timedelta(days=15)
        late = name == CIVIL[0] and year == 2016 and not final
        if late:
            when = reply + dt.timedelta(days=26)
            for table_key, _ in tables:
                self.out.statuses[(code, year, table_key)] = "late"
                self.out.findings.add(("DISC_LATE", code, year, table_key))
        self.publish(rel, code, name, "预决算公开/部门预决算", f"{name}{year}年部门{kind}公开",
                     dt.datetime.combine(when, dt.time(16, 30)), by_path=style_no == 1)
        if gfb_empty:
            key = "dept_gfb_expenditure"
            if year == 2015:
                self.out.statuses[(code, year, key)] = "empty_with_note"
            else:
                self.out.statuses[(code, year, key)] = "empty_without_note"
                self.out.findings.add(("DISC_EMPTY_NO_NOTE", code, year, key))
        if name == WATER[0] and year == 2020 and not final:
            self.out.findings.add(("RECON_SUMMARY_BALANCE", code, year, "dept_summary"))
            # the raised income total is also no longer 收入总表 合计 (收入总计 stands in for 本年收入合计)
            self.out.findings.add(("RECON_CROSS_TABLE", code, year, "dept_summary"))
        if name == CIVIL[0] and year == 2020 and not final:
            self.out.findings.add(("RECON_HIERARCHY", code, year, "dept_gpb_expenditure"))

    def explanation_sheet(self, wb, rel: str, name: str, code: str, year: int, final: bool,
                          income_yuan: Decimal, fiscal_yuan: Decimal) -> None:
        """A 说明 sheet with the required explanations; the 编制说明 states the income total and the fiscal
        appropriation in 万元 (two decimals). Planted: 民政厅 2020 budget leaves out 名词解释, 应急管理厅 2020
        budget misstates its income total, 社会福利院 2020 final names a year that is not its own."""
        word = "决算" if final else "预算"
        prefix = "deptf_expl_" if final else "dept_expl_"
        wan = lambda v: f"{(v / D(10000)).quantize(D('0.01')):,}"  # noqa: E731
        stated = income_yuan + (D(10000) if (name == EMERGENCY[0] and year == 2020 and not final) else D(0))
        compared = year - 3 if (name == WELFARE[0] and year == 2020 and final) else year - 1
        notes_heading = f"三、关于{year}年度收入支出决算总体情况说明" if final else f"三、关于{year}年收支预算情况的总体说明"
        ws = wb.create_sheet("说明")
        ws.append([f"{name}{year}年部门{word}公开说明"])
        for key, heading in EXPLANATIONS:
            if key == "terms" and name == CIVIL[0] and year == 2020 and not final:
                self.out.statuses[(code, year, prefix + key)] = "missing"
                self.out.findings.add(("DISC_MISSING", code, year, prefix + key))
                continue
            if key == "notes":
                ws.append([notes_heading])
                ws.append([f"{year}年收入{word}总计{wan(stated)}万元，财政拨款收入{word}总计{wan(fiscal_yuan)}万元，"
                           f"与{compared}年相比略有增加。"])
                continue
            ws.append([heading])
            ws.append([f"{name}按照有关规定说明{heading[2:]}。"])
        self.out.sheets[(rel, "说明")] = ExpectedSheet("", "", code, year, D(1), status="unknown_table")
        notes_key = prefix + ("final_notes" if final else "budget_notes")
        if name == EMERGENCY[0] and year == 2020 and not final:
            self.out.findings.add(("NARR_TOTAL_MISMATCH", code, year, notes_key))
        if name == WELFARE[0] and year == 2020 and final:
            self.out.findings.add(("NARR_YEAR_MISMATCH", code, year, notes_key))

    # government workbooks -------------------------------------------------------------------------------
    def government(self, region: str, year: int, final: bool) -> None:
        rname = REGION_NAME[region]
        tables = gov_budget_tables(region, final)
        missing = (region == "640422" and year == 2015 and not final)
        if missing:
            tables = [t for t in tables if t[0] != "gov_gfb_transfer"]
            self.out.statuses[(region, year, "gov_gfb_transfer")] = "missing"
            self.out.findings.add(("DISC_MISSING", region, year, "gov_gfb_transfer"))
        variant = (list(REGION_NAME).index(region) + YEARS.index(year) + final) % 3
        unit_label = ("万元", "元", "万元")[variant]
        mult = D(10000) if unit_label == "万元" else D(1)
        unit_text = ("单位：万元", "单位:元", "金额单位：万元")[variant]
        style = ("text", "num", "blank")[variant]
        kind = "决算" if final else "预算"
        wb = Workbook()
        wb.remove(wb.active)
        folder = self.root / "budget" / str(year) / "government"
        path = folder / f"{rname}{year}年{kind}公开表_{region}.xlsx"
        rel = self.rel(path)
        s = list(REGION_NAME).index(region) * 11 + year % 10
        amount_word = "决算数" if final else ("预算数", "本年预算", f"{year}年预算数")[variant]
        for i, (table_key, table_name) in enumerate(tables):
            sheet_name = (f"表{i + 1}", f"{i + 1}-{table_name.replace('“', '').replace('”', '')}", f"Sheet{i + 1}")[variant]
            base = table_key.split("_", 1)[1]
            entity = f"{rname}本级" if base in ("sangong", "gpb_own_basic") and variant == 1 else rname
            title = (f"{year}年{entity}{table_name}" if (region == "640400" and year == 2020)
                     else f"{entity}{year}年{table_name}")
            if region == "640422" and not final:
                title = f"附件{i + 1}：{title}"
            lay = Layout(sheet_name, title, None, unit_label, unit_text, variant == 1,
                         header_rows=(1, 2, 3)[(i + variant) % 3], split_codes=(i + variant) % 3 == 2,
                         style=style, total_at_bottom=variant == 2)
            exp = ExpectedSheet(table_key, table_name, region, year, mult)
            self.out.sheets[(rel, sheet_name)] = exp
            ws = wb.create_sheet(sheet_name)
            # final accounts beside their budget (年初 / 调整) and budgets beside last year's outturn,
            # each with a ratio column that is no amount
            if final and variant == 0:
                cols = [("年初预算数", "budget"), ("调整预算数", "adjusted_budget"), ("决算数", "amount"),
                        ("决算数为调整预算数的%", None)]
            elif not final and variant == 2:
                cols = [(f"{year - 1}年执行数", "prior_year"), (amount_word, "amount"), ("比上年执行数增长%", None)]
            else:
                cols = [(amount_word, "amount")]

            def with_columns(leaves: dict) -> dict:
                offsets = {"budget": D(-3), "adjusted_budget": D(-1), "prior_year": D(-5), "amount": D(0)}
                return {c: {k: v["amount"] + offsets[k] for _, k in cols if k} for c, v in leaves.items()}

            if base == "gpb_revenue":
                leaves = {"10101": {"amount": D(400 + s)}, "10104": {"amount": D(120 + s)},
                          "10304": {"amount": D(35)}}
                write_coded(ws, exp, lay, mult, year, cols, with_columns(leaves), total_label="收入合计",
                            code_header="收入分类科目编码")
            elif base in ("gpb_expenditure", "gpb_own_expenditure"):
                leaves = {"2010601": {"amount": D(90 + s)}, "2010602": {"amount": D(20)},
                          "2080501": {"amount": D(70 + s)}, "2101101": {"amount": D(15 + s)}}
                write_coded(ws, exp, lay, mult, year, cols, with_columns(leaves), total_label="支出合计",
                            code_header="功能分类科目编码")
            elif base == "gpb_own_basic":
                econ = ({"50101": {"amount": D(60 + s)}, "50201": {"amount": D(14)}} if year >= 2018 else
                        {"30101": {"amount": D(60 + s)}, "30102": {"amount": D(9)}, "30201": {"amount": D(14)}})
                write_coded(ws, exp, lay, mult, year, [(amount_word, "amount")], econ,
                            code_header="经济分类科目编码")
            elif base in ("gfb_revenue",):
                write_coded(ws, exp, lay, mult, year, [(amount_word, "amount")],
                            {"1030148": {"amount": D(250 + s)}}, total_label="收入合计")
            elif base in ("gfb_expenditure", "gfb_own_expenditure"):
                write_coded(ws, exp, lay, mult, year, [(amount_word, "amount")],
                            {"2120801": {"amount": D(150 + s)}, "2120803": {"amount": D(40)},
                             "2296002": {"amount": D(12)}}, total_label="支出合计")
            elif base == "scb_revenue":
                write_coded(ws, exp, lay, mult, year, [(amount_word, "amount")],
                            {"1030601": {"amount": D(18 + s)}}, total_label="收入合计")
            elif base in ("gpb_transfer", "gfb_transfer", "scb_transfer", "scb_expenditure",
                          "scb_own_expenditure", "ssf_revenue", "ssf_expenditure"):
                labels = {
                    "gpb_transfer": ["一、税收返还", "二、一般性转移支付", "三、专项转移支付"],
                    "gfb_transfer": ["一、国有土地使用权出让收入安排的支出", "二、彩票公益金安排的支出"],
                    "scb_transfer": ["一、国有资本经营预算转移支付支出"],
                    "scb_expenditure": ["一、解决历史遗留问题及改革成本支出", "二、国有企业资本金注入"],
                    "scb_own_expenditure": ["一、解决历史遗留问题及改革成本支出", "二、国有企业资本金注入"],
                    "ssf_revenue": ["一、企业职工基本养老保险基金收入", "二、城乡居民基本养老保险基金收入"],
                    "ssf_expenditure": ["一、企业职工基本养老保险基金支出", "二、城乡居民基本养老保险基金支出"],
                }[base]
                items = [(lb, {"amount": D(20 + s + 7 * j)}) for j, lb in enumerate(labels)]
                write_items(ws, exp, lay, mult, [(amount_word, "amount")], items,
                            total_label="收入合计" if "revenue" in base else "合计")
            elif base in ("general_debt", "special_debt"):
                kind_word = "一般" if base == "general_debt" else "专项"
                shift = 0 if final else 1
                items = [(f"{year - shift}年{kind_word}债务限额", {"amount": D(90 + s)}),
                         (f"{year - shift}年末{kind_word}债务余额", {"amount": D(80 + s)})]
                if not final:
                    items.append((f"{year}年{kind_word}债务限额", {"amount": D(95 + s)}))
                write_items(ws, exp, lay, mult, [(amount_word, "amount")], items, total_label=None)
            elif base == "sangong" and (region == "640422" and final or region == "640000" and year == 2020):
                overseas, purchase, running, reception = D(3 + s % 3), D(5), D(11 + s % 4), D(4)
                unsplit = region == "640000"   # planted: vehicle costs printed, both part rows left blank
                write_items(ws, exp, lay, mult, [(amount_word, "amount")], [
                    ("一、因公出国（境）费", {"amount": overseas}),
                    ("二、公务用车购置及运行费", {"amount": purchase + running}),
                    ("其中：公务用车购置费", {"amount": None if unsplit else purchase}),
                    ("公务用车运行费", {"amount": None if unsplit else running}),
                    ("三、公务接待费", {"amount": reception})], total_label=None)
                if unsplit:
                    self.out.findings.add(("DETAIL_SANGONG_SPLIT", region, year, table_key))
                w = SheetWriter(ws, exp, mult)   # the total row at the top, under the header
                ws.insert_rows(lay.header_rows + 3)
                ws.cell(row=lay.header_rows + 3, column=1, value="合计")
                w.amount(lay.header_rows + 3, 2, overseas + purchase + running + reception, lay.style)
            elif base == "sangong":
                write_sangong(ws, exp, lay, mult, D(3 + s % 3), D(5), D(11 + s % 4), D(4))
        folder.mkdir(parents=True, exist_ok=True)
        wb.save(path)
        self.out.files[rel] = "budget"
        approval = final_approval(region, year) if final else budget_approval(region, year)
        self.publish(rel, region, f"{rname}财政局" if region != "640000" else "宁夏回族自治区财政厅",
                     "预决算公开/政府预决算", f"关于{rname}{year}年{kind}的公开",
                     dt.datetime.combine(approval + dt.timedelta(days=12), dt.time(9, 0)), by_path=variant == 2)

    def debt(self, region: str, year: int, final: bool) -> None:
        """Debt tables 1-1 … 1-4 (+ bond use with the final accounts) in 亿元."""
        rname = REGION_NAME[region]
        tables = DEBT_FINAL if final else DEBT_BUDGET
        mult = D(100000000)
        wb = Workbook()
        wb.remove(wb.active)
        kind = "决算" if final else "预算"
        folder = self.root / "debt" / f"{year}{kind}"
        path = folder / f"{region}_{year}_债务{kind}.xlsx"
        rel = self.rel(path)
        s = D(list(REGION_NAME).index(region) * 3 + year % 10) / D(10)
        shown = year if final else year - 1          # budget tables show last year's figures
        # 1-1 rows: own level and lower regions (general, special limit / balance), 本地区 = sum
        def position(k: Decimal) -> dict[str, Decimal]:
            return {"limit_general": D("12.5") * k + s, "limit_special": D("20.25") * k + s,
                    "balance_general": D("11.8") * k + s, "balance_special": D("18.4") * k + s}
        own = position(D(list(REGION_NAME).index(region) + 1))
        over = region == "640400" and year == 2016 and not final
        if over:
            own["balance_general"] = own["limit_general"] + D("0.35")
            self.out.findings.add(("DEBT_BALANCE_OVER_LIMIT", region, year, "debt_1_1"))
        rows = [("本级", own)] + [(n, position(D(j + 2) / D(4))) for j, n in enumerate(LOWER_NAMES[region])]
        whole = {k: sum((v[k] for _, v in rows), D(0)) for k in own}
        rows = [("本地区", whole)] + rows
        for i, (table_key, table_name) in enumerate(tables):
            sheet_name = (table_name, f"附表1-{i + 1}")[(i + year) % 2]
            title = f"{rname}{year}年{table_name}"
            unit_left = i % 2 == 0
            unit_text = "金额单位:亿元" if unit_left else "单位：亿元"
            exp = ExpectedSheet(table_key, table_name, region, year, mult)
            self.out.sheets[(rel, sheet_name)] = exp
            ws = wb.create_sheet(sheet_name)
            w = SheetWriter(ws, exp, mult)
            style = ("num", "text")[i % 2]
            base = table_key.split("_", 1)[1]
            if base == "1_1":
                w.title(title, 7)
                w.unit_line(None, unit_text, unit_left, 7)
                top = w.row
                w.put(top, 1, "地区")
                w.merge(top, 1, top + 1, 1)
                w.put(top, 2, f"{shown}年债务限额")
                w.merge(top, 2, top, 4)
                w.put(top, 5, f"{shown}年债务余额")
                w.merge(top, 5, top, 7)
                subheads = (["小计 A=B+C", "一般债务 B", "专项债务 C", "小计 D=E+F", "一般债务 E", "专项债务 F"]
                            if final else ["合计", "一般债务", "专项债务"] * 2)
                for c, text in enumerate(subheads, start=2):
                    w.put(top + 1, c, text)
                r = top + 2
                for label, v in rows:
                    w.put(r, 1, label)
                    lt = v["limit_general"] + v["limit_special"]
                    bt = v["balance_general"] + v["balance_special"]
                    for c, val in enumerate([lt, v["limit_general"], v["limit_special"], bt, v["balance_general"],
                                             v["balance_special"]], start=2):
                        w.amount(r, c, val, style)
                    r += 1
                w.row = r
                w.note("注：本表“本地区”为本级与所辖地区合计。")
            elif base in ("1_2", "1_3", "1_4") and region == "640000" and year == 2020 and not final:
                self.ministry_debt(ws, exp, base, rname, year, whole, own, mult, style)
            elif base in ("1_2", "1_3"):
                word = "一般" if base == "1_2" else "专项"
                bal = "balance_general" if base == "1_2" else "balance_special"
                closing = whole[bal]
                repaid, issued = D("1.2") + s, D("3.4")
                opening = closing - issued + repaid
                if region == "640422" and year == 2020 and not final and base == "1_2":
                    opening += D("5")   # planted: the roll-forward does not hold, beyond rounding (4 figures: 2 units)
                    self.out.findings.add(("DEBT_ROLL_FORWARD", region, year, "debt_1_2"))
                items = [(f"{shown - 1}年末{word}债务余额", opening),
                         (f"{shown}年{word}债务限额", whole["limit_general" if base == "1_2" else "limit_special"]),
                         (f"{shown}年{word}债务举借额", issued)]
                if base == "1_3":   # 其中 rows under the issuance: not terms of the roll-forward
                    items += [("其中：新增债券", issued - D("1.1")), ("再融资债券", D("1.1"))]
                items += [(f"{shown}年{word}债务还本额", repaid),
                         (f"{shown}年末{word}债务余额", closing)]
                if not final:
                    items.append((f"{year}年{word}债务限额", whole["limit_general" if base == "1_2" else "limit_special"] + D(2)))
                write_items(ws, exp, Layout(sheet_name, title, None, "亿元", unit_text, unit_left, 1, False, style),
                            mult, [("金额", "amount")], [(lb, {"amount": v}) for lb, v in items],
                            total_label=None)
            elif base == "1_4":
                g, sp = D("1.5") + s, D("2.25")
                pg, ps = D("0.8"), D("0.6") + s
                ig, isp = D("0.31"), D("0.42")
                items = [(f"一、{shown}年地方政府债券发行额", g + sp), ("其中：一般债券", g), ("专项债券", sp),
                         (f"二、{shown}年地方政府债券还本额", pg + ps), ("其中：一般债务", pg), ("专项债务", ps),
                         (f"三、{shown}年地方政府债券付息额", ig + isp), ("其中：一般债务", ig), ("专项债务", isp)]
                if not final:
                    items += [(f"四、{year}年地方政府债券还本预算数", D("1.9")),
                              (f"五、{year}年地方政府债券付息预算数", D("0.77"))]
                write_items(ws, exp, Layout(sheet_name, title, None, "亿元", unit_text, unit_left, 1, False, style),
                            mult, [(f"{'决算数' if final else '预算数'}", "amount")],
                            [(lb, {"amount": v}) for lb, v in items], total_label=None)
            elif base == "bond_use":
                w.title(title, 8)
                amount_header = "债券规模"
                if year == 2016:
                    amount_header = "债券规模（亿元）"
                else:
                    w.unit_line(None, unit_text, unit_left, 8)
                headers = ["项目名称", "项目编号", "项目领域", "主管部门", "实施单位", "债券性质", amount_header, "发行时间"]
                for c, text in enumerate(headers, start=1):
                    w.put(w.row, c, text)
                r = w.row + 1
                for j, (pname, area, btype, amt) in enumerate([
                        ("清水河流域综合治理工程", "水利", "专项债券", D("1.25")),
                        ("城乡供水一体化工程", "市政", "一般债券", D("0.6"))]):
                    for c, val in enumerate([pname, f"P{year % 100:02d}{region}-{j + 1:04d}", area,
                                             f"{rname}水务局", f"{rname}水务投资公司", btype], start=1):
                        w.put(r, c, val)
                    w.amount(r, 7, amt, style)
                    w.put(r, 8, dt.datetime(year, 6, 10 + j) if year < 2020 else f"{year}-06-1{j}")
                    r += 1
                w.row = r
        folder.mkdir(parents=True, exist_ok=True)
        wb.save(path)
        self.out.files[rel] = "debt"
        approval = final_approval(region, year) if final else budget_approval(region, year)
        self.publish(rel, region, REGION_NAME[region], "政府债务", f"{rname}{year}年政府债务{kind}情况",
                     dt.datetime.combine(approval + dt.timedelta(days=15), dt.time(10, 0)), by_path=False)

    def ministry_debt(self, ws, exp: ExpectedSheet, base: str, rname: str, year: int, whole: dict, own: dict,
                      mult: Decimal, style: str) -> None:
        """1-2 / 1-3 in the Ministry's layout (items as rows, 本地区 | 其中：本级 columns, a 公式 row, a title naming
        two years) and 1-4 with 合计 | 一般债券 | 专项债券 columns. Planted: 1-3's 本级 year-end balance above
        its limit (the roll-forward still holds)."""
        w = SheetWriter(ws, exp, mult)
        p, pp = year - 1, year - 2
        if base == "1_4":
            w.title(f"{rname}{year}年地方政府债券发行及还本付息情况表", 4)
            w.unit_line(None, "单位：亿元", False, 4)
            for c, text in enumerate(["项目", "合计", "一般债券", "专项债券"], start=1):
                w.put(w.row, c, text)
            r = w.row + 1
            for label, g, sp in [(f"一、{p}年地方政府债券发行额", D("2.5"), D("4.75")), ("其中：再融资债券", D("1"), D("0.5")),
                                 (f"二、{p}年地方政府债务还本额", D("1.2"), D("0.8")),
                                 (f"三、{p}年地方政府债务付息额", D("0.33"), D("0.41")),
                                 (f"四、{year}年地方政府债务还本预算数", D("1.4"), D("0.9")),
                                 (f"五、{year}年地方政府债务付息预算数", D("0.35"), D("0.44"))]:
                w.put(r, 1, label)
                for c, v in enumerate([g + sp, g, sp], start=2):
                    w.amount(r, c, v, style)
                r += 1
            w.row = r
            return
        word, key = ("一般", "general") if base == "1_2" else ("专项", "special")
        w.title(f"{rname}{p}年和{year}年地方政府{word}债务余额情况表", 3)
        w.unit_line(None, "单位：亿元", False, 3)
        for c, text in enumerate(["项　　目", "本地区", "其中：本级"], start=1):
            w.put(w.row, c, text)
        w.put(w.row + 1, 1, "公式")
        w.put(w.row + 1, 2, "A")
        w.put(w.row + 1, 3, "B")
        columns = []
        for scope in (whole, own):
            closing = scope[f"balance_{key}"]
            issued, repaid = D("2.4"), D("0.9")
            limit = scope[f"limit_{key}"]
            if scope is own and base == "1_3":   # planted: 本级 year-end balance above that year's limit
                limit = closing - D("0.6")
                self.out.findings.add(("DEBT_BALANCE_OVER_LIMIT", "640000", year, "debt_1_3"))
            columns.append({"opening": closing - issued + repaid, "limit": limit, "issued": issued, "repaid": repaid,
                            "closing": closing, "next": limit + D(3)})
        items = [(f"一、{pp}年末地方政府{word}债务余额实际数", "opening"), (f"二、{p}年地方政府{word}债务限额", "limit"),
                 (f"三、{p}年地方政府{word}债务发行额", "issued"), (f"四、{p}年地方政府{word}债务还本支出", "repaid"),
                 (f"五、{p}年末地方政府{word}债务余额预计执行数", "closing"), (f"六、{year}年地方政府{word}债务限额", "next")]
        r = w.row + 2
        for label, k in items:
            w.put(r, 1, label)
            for c, col in enumerate(columns, start=2):
                w.amount(r, c, col[k], style)
            r += 1
        w.row = r

    # registry ---------------------------------------------------------------------------------------------------
    def registry(self) -> None:
        folder = self.root / "registry"
        folder.mkdir(parents=True)
        with (folder / "regions.csv").open("w", encoding="utf-8-sig", newline="") as h:
            wr = csv.writer(h)
            wr.writerow(["parent_code", "level", "region_name", "region_code"])
            for code, name, level, parent in REGIONS:
                wr.writerow([parent, level, name, code])
        for year in YEARS:
            encoding = "gbk" if year == 2016 else "utf-8"   # as Excel on Chinese Windows saves it
            with (folder / f"entities_{year}.csv").open("w", encoding=encoding, newline="") as h:
                wr = csv.writer(h)
                wr.writerow(["entity_name", "entity_kind", "entity_code", "parent_entity_code", "region_code",
                             "final_approved_on", "budget_approved_on", "has_state_capital", "has_government_fund"])
                for name, code, kind, parent in ENTITIES:
                    if year < FIRST_YEAR.get(code, 0):
                        continue
                    b = finance_reply(code, year, "budget")
                    f = finance_reply(code, year, "final")
                    wr.writerow([name, kind, code, parent, "640000", f.isoformat(), b.isoformat() if b else "",
                                 "true" if year >= 2019 else "false", "true"])
        with (folder / "approvals.csv").open("w", encoding="utf-8", newline="") as h:
            wr = csv.writer(h)
            wr.writerow(["fiscal_year", "document", "approved_on", "region_code"])
            for year in YEARS:
                for code, *_ in REGIONS:
                    wr.writerow([year, "budget", budget_approval(code, year).isoformat(), code])
                    wr.writerow([year, "final", final_approval(code, year).isoformat(), code])
                    if code == "640400" and year == 2016:   # a budget adjustment: owes no tables of its own here
                        wr.writerow([year, "adjustment", dt.date(2016, 10, 28).isoformat(), code])
        for p in folder.iterdir():
            self.out.files[self.rel(p)] = "registry"

    # trading --------------------------------------------------------------------------------------------------
    def trading(self) -> None:
        folder = self.root / "trading"
        folder.mkdir(parents=True)
        buyers = {
            "water": (WATER[0], WATER[1]), "civil": (CIVIL[0], CIVIL[1]),
            "xiji_water": ("西吉县水务局", uscc("11", "640422", 2_000_101)),
            "guyuan_housing": ("固原市住房和城乡建设局", uscc("11", "640400", 2_000_201)),
            "xiji_civil": ("西吉县民政局", uscc("11", "640422", 2_000_301)),
            "guyuan_transport": ("固原市交通运输局", uscc("11", "640400", 2_000_401)),
            "guyuan_land": ("固原市自然资源局", uscc("11", "640400", 2_000_501)),
        }
        agency = ("宁夏恒信招标代理有限公司", uscc("91", "640100", 3_000_101))
        firms = [(f"宁夏{n}建设工程有限公司", uscc("91", "640400", 4_000_000 + 97 * i))
                 for i, n in enumerate(["六盘山", "清水河", "须弥山", "火石寨", "葫芦河", "月亮山"])]
        bad_code = firms[4][1][:-1] + ("0" if firms[4][1][-1] != "0" else "1")   # wrong check character
        pm_id = id_number("640402", "19830417", 21)
        leaked_id = id_number("640422", "19790302", 35)
        works, gp = "工程建设项目招标投标", "政府采购"
        bulletins: list[dict] = []

        def b(deal: str, section: str, btype: str, area: str, buyer: str, sent: dt.datetime, **fields) -> dict:
            name, code = buyers[buyer]
            row = {"PROJECT_CODE": deal, "BID_SECTION_CODE": section, "BULLETIN_TYPE": btype, "TRADE_AREA": area,
                   "NOTICE_NAME": fields.pop("NOTICE_NAME", f"{name}{deal}{btype}"), "NOTICE_SEND_TIME": sent,
                   "REGION_CODE": fields.pop("REGION_CODE", "640400"), "TENDERER_NAME": name,
                   "TENDERER_CODE": code, "TENDER_AGENCY_NAME": agency[0], "TENDER_AGENCY_CODE": agency[1],
                   "CONTACT_PHONE": "0954-2031234", "URL": f"http://ggzyjy.nx.gov.cn/{deal}/{len(bulletins)}"}
            row.update(fields)
            bulletins.append(row)
            return row

        T = dt.datetime
        # D1 works, 水利厅 2016: complete and compliant; three candidates one row each (PM_CODE is an ID field)
        d1 = "NXSL-2016-001"
        b(d1, "001", "交易公告", works, "water", T(2016, 3, 1, 9), BUDGET_AMOUNT=D("1250.5"),
          DOC_GET_START_TIME=T(2016, 3, 2, 9), DOC_GET_END_TIME=T(2016, 3, 9, 17),
          BID_DOC_REFER_END_TIME=T(2016, 3, 28, 9, 30), BID_OPEN_TIME=T(2016, 3, 28, 9, 30))
        for order, firm in enumerate(firms[:3], start=1):
            b(d1, "001", "中标候选人公示", works, "water", T(2016, 3, 30, 10), WIN_CANDIDATE_NAME=firm[0],
              WIN_CANDIDATE_CODE=firm[1], WIN_CANDIDATE_ORDER=order, PUBLICITY_START_TIME=T(2016, 3, 30),
              PUBLICITY_END_TIME=T(2016, 4, 2), BID_PRICE=None, PM_NAME="马建国", PM_CODE=pm_id)
        b(d1, "001", "中标结果公告", works, "water", T(2016, 4, 5, 10), WIN_BIDDER_NAME=firms[0][0],
          WIN_BIDDER_CODE=firms[0][1], BID_AMOUNT=D("1198.3"), BIDDER_COUNT=5, CONTRACT_SIGN_TIME=T(2016, 4, 25))
        # D2 GP open tender, 民政厅 2016: compliant, result and contract notices
        d2 = "NXMZ-2016-GK-07"
        b(d2, "1", "交易公告", gp, "civil", T(2016, 5, 3, 9), NOTICE_NAME="宁夏回族自治区民政厅\n养老服务设备公开招标公告",
          NOTICE_CONTENT="一、采购需求：养老服务设备一批\r\n二、获取文件：网上下载\n\n三、联系电话：0951-5012345",
          BUDGET_AMOUNT=D("86.4"), DOC_GET_START_TIME=T(2016, 5, 4, 8, 30), DOC_GET_END_TIME=T(2016, 5, 11, 17),
          BID_DOC_REFER_END_TIME=T(2016, 5, 26, 9), BID_OPEN_TIME=T(2016, 5, 26, 9))
        b(d2, "1", "更正公告", gp, "civil", T(2016, 5, 10, 9), NOTICE_CONTENT="采购需求第3项数量由20台更正为24台。")
        b(d2, "1", "中标结果公告", gp, "civil", T(2016, 5, 31, 15), WIN_BIDDER_NAME=firms[1][0],
          WIN_BIDDER_CODE=firms[1][1], BID_AMOUNT=D("80.15"), BIDDER_COUNT=4)
        b(d2, "1", "合同公告", gp, "civil", T(2016, 6, 14, 11), WIN_BIDDER_NAME=firms[1][0],
          WIN_BIDDER_CODE=firms[1][1], BID_AMOUNT=D("80.15"), CONTRACT_SIGN_TIME=T(2016, 6, 13))
        # D3 works, 西吉县水务局 2020: submission period 15 days < 20 (planted)
        d3 = "XJSW-2020-015"
        b(d3, "A", "交易公告", works, "xiji_water", T(2020, 5, 6, 9), REGION_CODE="640422", BUDGET_AMOUNT=D("480"),
          DOC_GET_START_TIME=T(2020, 5, 6, 9), DOC_GET_END_TIME=T(2020, 5, 12, 17),
          BID_DOC_REFER_END_TIME=T(2020, 5, 21, 9), BID_OPEN_TIME=T(2020, 5, 21, 9))
        b(d3, "A", "中标候选人公示", works, "xiji_water", T(2020, 5, 23, 9), REGION_CODE="640422",
          WIN_CANDIDATE_NAME="；".join(f[0] for f in (firms[2], firms[0], firms[5])),
          PUBLICITY_START_TIME=T(2020, 5, 23), PUBLICITY_END_TIME=T(2020, 5, 26))
        b(d3, "A", "中标结果公告", works, "xiji_water", T(2020, 5, 29, 9), REGION_CODE="640422",
          WIN_BIDDER_NAME=firms[2][0], WIN_BIDDER_CODE=firms[2][1], BID_AMOUNT=D("455.7"), BIDDER_COUNT=6)
        self.out.findings.add(("TRADE_SHORT_TENDER_PERIOD", buyers["xiji_water"][1], 2020, f"{d3}/A"))
        # D4 works, 固原市住建局 2016: a result with no announcement (planted)
        # (exported without PROJECT_CODE: the deal is its 统一交易标识码)
        d4 = "GYZJ-2016-044"
        unified = "A16640400GC0044001"
        row = b(d4, "01", "中标结果公告", works, "guyuan_housing", T(2016, 9, 12, 10), WIN_BIDDER_NAME=firms[3][0],
                WIN_BIDDER_CODE=firms[3][1], BID_AMOUNT=D("230"), BIDDER_COUNT=4, UNIFIED_DEAL_CODE=unified)
        row["WIN_BIDDER_NAME"] = "宁夏𡈽原建设工程有限公司"   # a character outside GBK: the export is GB18030
        row["PROJECT_CODE"] = row["BID_SECTION_CODE"] = None
        self.out.findings.add(("TRADE_RESULT_WITHOUT_ANNOUNCEMENT", buyers["guyuan_housing"][1], 2016, unified))
        # D5 GP, 西吉县民政局 2020: winner's credit code fails its check character (planted)
        d5 = "XJMZ-2020-CG-03"
        b(d5, "1", "交易公告", gp, "xiji_civil", T(2020, 7, 1, 9), REGION_CODE="640422",
          NOTICE_NAME="西吉县民政局敬老院物资竞争性磋商公告", BUDGET_AMOUNT=D("35"),
          DOC_GET_START_TIME=T(2020, 7, 2, 9), DOC_GET_END_TIME=T(2020, 7, 9, 17),
          BID_DOC_REFER_END_TIME=T(2020, 7, 15, 9), BID_OPEN_TIME=T(2020, 7, 15, 9))
        b(d5, "1", "成交结果公告", gp, "xiji_civil", T(2020, 7, 17, 9), REGION_CODE="640422",
          WIN_BIDDER_NAME=firms[4][0], WIN_BIDDER_CODE=bad_code, BID_AMOUNT=D("33.6"), BIDDER_COUNT=3)
        self.out.findings.add(("IDENT_USCC_INVALID", buyers["xiji_civil"][1], 2020, bad_code))
        # D6 works, 固原市交通运输局 2015: an ID number and a mobile number in the notice text (planted)
        d6 = "GYJT-2015-009"
        b(d6, "1", "交易公告", works, "guyuan_transport", T(2015, 8, 3, 9), BUDGET_AMOUNT=D("760"),
          DOC_GET_START_TIME=T(2015, 8, 4, 9), DOC_GET_END_TIME=T(2015, 8, 10, 17),
          BID_DOC_REFER_END_TIME=T(2015, 8, 26, 9), BID_OPEN_TIME=T(2015, 8, 26, 9),
          NOTICE_CONTENT=f"联系人：李明，身份证号{leaked_id}，手机13995041234，请于规定时间内获取招标文件。")
        b(d6, "1", "中标结果公告", works, "guyuan_transport", T(2015, 9, 2, 9), WIN_BIDDER_NAME=firms[5][0],
          WIN_BIDDER_CODE=firms[5][1], BID_AMOUNT=D("702.4"), BIDDER_COUNT=5)
        self.out.findings.add(("PRIV_ID_NUMBER", buyers["guyuan_transport"][1], 2015, f"{d6}/1"))
        self.out.findings.add(("PRIV_MOBILE", buyers["guyuan_transport"][1], 2015, f"{d6}/1"))
        self.out.personal_data += [pm_id, leaked_id, "13995041234"]
        # D7 land use rights, 固原市自然资源局 2020: a 20-day listing with two bidders (no tender rules apply)
        d7 = "GYZR-2020-GP-11"
        b(d7, "1", "交易公告", "国有土地使用权出让", "guyuan_land", T(2020, 8, 3, 9),
          NOTICE_NAME="固原市国有建设用地使用权挂牌出让公告",
          DOC_GET_START_TIME=T(2020, 8, 4, 9), DOC_GET_END_TIME=T(2020, 8, 24, 17),
          BID_DOC_REFER_END_TIME=T(2020, 8, 24, 17), BID_OPEN_TIME=T(2020, 8, 25, 10))
        b(d7, "1", "成交结果公告", "国有土地使用权出让", "guyuan_land", T(2020, 8, 27, 9),
          WIN_BIDDER_NAME=firms[1][0], WIN_BIDDER_CODE=firms[1][1], BID_AMOUNT=D("1610"), BIDDER_COUNT=2)

        for row in bulletins:
            deal = (f"{row['PROJECT_CODE']}/{row['BID_SECTION_CODE']}" if row.get("PROJECT_CODE")
                    else row["UNIFIED_DEAL_CODE"])
            year, candidates, announced = self.out.deals.get(deal, (9999, 0, False))
            names = row.get("WIN_CANDIDATE_NAME")
            self.out.deals[deal] = (min(year, row["NOTICE_SEND_TIME"].year),
                                    candidates + (len(names.split("；")) if names else 0),
                                    announced or row["BULLETIN_TYPE"] == "交易公告")
        # expected amounts in 元 (exports state 万元)
        for row in bulletins:
            deal = (f"{row['PROJECT_CODE']}/{row['BID_SECTION_CODE']}" if row.get("PROJECT_CODE")
                    else row["UNIFIED_DEAL_CODE"])
            bid = f"{deal}|{row['BULLETIN_TYPE']}|{row.get('WIN_CANDIDATE_ORDER') or ''}"
            for fld in ("BUDGET_AMOUNT", "BID_AMOUNT"):
                if row.get(fld) is not None:
                    self.out.trading_amounts[(bid, fld)] = row[fld] * 10000

        # --- write the exports: each bulletin once, D1 twice (two overlapping exports) ------------------
        by_deal = {}
        for row in bulletins:
            by_deal.setdefault(row["PROJECT_CODE"] or row["UNIFIED_DEAL_CODE"], []).append(row)
        by_deal[d4] = by_deal.pop(unified)
        cn_labels = {  # Chinese labels, in an order of their own
            "NOTICE_NAME": "公告标题", "BULLETIN_TYPE": "公告类型", "TRADE_AREA": "交易领域",
            "PROJECT_CODE": "项目编号", "BID_SECTION_CODE": "标段(包)编号", "UNIFIED_DEAL_CODE": "统一交易标识码",
            "NOTICE_SEND_TIME": "发布时间",
            "TENDERER_NAME": "招标人/采购人", "TENDERER_CODE": "招标人代码", "REGION_CODE": "行政区划",
            "TENDER_AGENCY_NAME": "代理机构", "TENDER_AGENCY_CODE": "代理机构代码",
            "BUDGET_AMOUNT": "预算金额（万元）", "DOC_GET_START_TIME": "文件获取开始时间",
            "DOC_GET_END_TIME": "文件获取截止时间", "BID_DOC_REFER_END_TIME": "投标截止时间",
            "BID_OPEN_TIME": "开标时间", "BIDDER_COUNT": "投标人数", "WIN_CANDIDATE_NAME": "中标候选人",
            "WIN_CANDIDATE_CODE": "中标候选人代码", "WIN_CANDIDATE_ORDER": "排名", "PUBLICITY_START_TIME": "公示开始",
            "PUBLICITY_END_TIME": "公示结束", "WIN_BIDDER_NAME": "中标人/成交供应商", "WIN_BIDDER_CODE": "中标人代码",
            "BID_AMOUNT": "中标金额（万元）", "CONTRACT_SIGN_TIME": "合同签订时间", "PM_NAME": "项目负责人",
            "PM_CODE": "项目负责人证件号", "CONTACT_PHONE": "联系电话", "NOTICE_CONTENT": "公告内容", "URL": "公告链接",
        }
        national = ["URL", "NOTICE_CONTENT", "CONTACT_PHONE", "PM_CODE", "PM_NAME", "CONTRACT_SIGN_TIME", "AMOUNT_UNIT",
                    "BID_AMOUNT", "WIN_BIDDER_CODE", "WIN_BIDDER_NAME", "PUBLICITY_END_TIME", "PUBLICITY_START_TIME",
                    "WIN_CANDIDATE_ORDER", "WIN_CANDIDATE_CODE", "WIN_CANDIDATE_NAME", "BIDDER_COUNT", "BID_OPEN_TIME",
                    "BID_DOC_REFER_END_TIME", "DOC_GET_END_TIME", "DOC_GET_START_TIME", "BUDGET_AMOUNT",
                    "TENDER_AGENCY_CODE", "TENDER_AGENCY_NAME", "TENDERER_CODE", "TENDERER_NAME", "REGION_CODE",
                    "NOTICE_SEND_TIME", "NOTICE_NAME", "TRADE_AREA", "BULLETIN_TYPE", "BID_SECTION_CODE",
                    "PROJECT_CODE"]

        def text_time(value, style: str):
            if not isinstance(value, dt.datetime):
                return value
            if style == "slash":
                return f"{value.year}/{value.month}/{value.day} {value.hour}:{value.minute:02d}"
            if style == "chinese":
                return f"{value.year}年{value.month}月{value.day}日"
            if style == "compact":
                return value.strftime("%Y%m%d")
            if style == "serial":
                delta = value - dt.datetime(1899, 12, 30)
                return round(delta.days + delta.seconds / 86400, 6)
            return value.strftime("%Y-%m-%d %H:%M:%S")

        def cell(row: dict, key: str, style: str, unit_in_header: bool):
            value = row.get(key)
            if value is None:
                return None
            if isinstance(value, Decimal):
                return str(value) if unit_in_header else str(value)
            return text_time(value, style)

        # GBK CSV, Chinese labels, slash times, amounts in 万元 by header: D1 (+ D4)
        gbk_rows = by_deal[d1] + by_deal[d4]
        keys = list(cn_labels)
        buf = io.StringIO()
        wr = csv.writer(buf)
        wr.writerow([cn_labels[k] for k in keys])
        for row in gbk_rows:
            wr.writerow([cell(row, k, "slash", True) or "" for k in keys])
        # a GBK export into which another tool appended a line in UTF-8 (D1's result): decided per line
        gbk_lines = buf.getvalue().split("\r\n")
        result_line = next(i for i, line in enumerate(gbk_lines) if "中标结果公告" in line and d1 in line)
        (folder / "宁夏公共资源交易_导出_gbk.csv").write_bytes(b"\r\n".join(
            line.encode("utf-8" if i == result_line else "gb18030") for i, line in enumerate(gbk_lines)))
        # UTF-8 with BOM, national names, AMOUNT_UNIT column (万元), ISO times: D2, D3
        buf = io.StringIO()
        wr = csv.writer(buf)
        wr.writerow(national)
        for row in by_deal[d2] + by_deal[d3]:
            in_yuan = row["PROJECT_CODE"] == d3
            values = []
            for k in national:
                if k == "AMOUNT_UNIT":
                    values.append("元" if in_yuan else "万元")
                elif isinstance(row.get(k), Decimal) and in_yuan:
                    values.append(f"{row[k] * 10000:.2f}")
                elif k == "CONTRACT_SIGN_TIME" and row.get(k) is not None:
                    values.append(str(text_time(row[k], "serial")))
                else:
                    values.append(cell(row, k, "iso", False) or "")
            wr.writerow(values)
        (folder / "ggzy_export_bom.csv").write_bytes(b"\xef\xbb\xbf" + buf.getvalue().encode("utf-8"))
        # JSON {"data": [...]}, Chinese dates and compact dates, amounts in 万元 via AMOUNT_UNIT: D5, D7
        api = []
        # keys: the contract's Chinese label where it gives one, else the national name; the unit in the
        # amount keys with half-width brackets
        json_labels = {"PROJECT_CODE": "项目编号", "BID_SECTION_CODE": "标段(包)编号", "BULLETIN_TYPE": "公告类型",
                       "TRADE_AREA": "交易领域", "NOTICE_NAME": "公告标题", "NOTICE_SEND_TIME": "发布时间",
                       "REGION_CODE": "行政区划", "TENDERER_NAME": "招标人/采购人", "TENDER_AGENCY_NAME": "代理机构",
                       "BUDGET_AMOUNT": "预算金额/最高限价(万元)", "DOC_GET_START_TIME": "文件获取开始时间",
                       "BID_DOC_REFER_END_TIME": "投标截止时间", "BID_OPEN_TIME": "开标时间", "BIDDER_COUNT": "投标人数",
                       "WIN_BIDDER_NAME": "中标人/成交供应商", "BID_AMOUNT": "中标金额(万元)", "URL": "URL"}
        for j, row in enumerate(by_deal[d5]):
            rec = {json_labels.get(k, k): cell(row, k, ("chinese", "compact")[j % 2], False) for k in row}
            rec = {k: (str(v) if isinstance(v, int) and not isinstance(v, bool) else v) for k, v in rec.items()}
            api.append(rec)
        (folder / "api").mkdir()
        (folder / "api" / "xiji_2020.json").write_text(json.dumps({"data": api}, ensure_ascii=False),
                                                       encoding="utf-8")
        # a plain JSON array, ISO 'T' times, numbers as JSON numbers, amounts in 元 (no unit anywhere): D7
        land = [{k: (float(v * 10000) if isinstance(v, Decimal)
                     else v.isoformat() if isinstance(v, dt.datetime) else v) for k, v in row.items()}
                for row in by_deal[d7]]
        (folder / "api" / "guyuan_land_2020.json").write_text(json.dumps(land, ensure_ascii=False, indent=1),
                                                              encoding="utf-8")
        # JSON Lines with Excel serial times: D6 and, again, D1's bulletins (overlapping export)
        # … one line of it cut short (a row reject naming line 3), and D1's result there states 1198.8 万元
        # where the GBK export states 1198.3: the GBK export reaches later (D4, September), so its copy is
        # kept and the difference is TRADE_CONFLICTING_COPIES naming both files
        lines = []
        for row in by_deal[d6] + by_deal[d1]:
            rec = {k: (float(v) if isinstance(v, Decimal) else cell(row, k, "serial", False))
                   for k, v in row.items()}
            if row["PROJECT_CODE"] == d1 and row["BULLETIN_TYPE"] == "中标结果公告":
                rec["BID_AMOUNT"] = 1198.8
            rec["AMOUNT_UNIT"] = "万元"
            lines.append(json.dumps(rec, ensure_ascii=False))
        broken = lines[1][:40]
        lines.insert(2, broken)
        (folder / "ggzy_stream_2015_2016.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
        self.out.row_rejects.add(("trading/ggzy_stream_2015_2016.jsonl", None, 3, None, broken))
        self.out.findings.add(("TRADE_CONFLICTING_COPIES", buyers["water"][1], 2016, f"{d1}/001"))
        self.out.trading_rows = len(bulletins) + len(by_deal[d1])
        self.out.trading_duplicates = len(by_deal[d1])
        self.trading_forms(folder, by_deal, buyers, agency, firms, d2, d3, gp)
        for p in folder.rglob("*"):
            if p.is_file():
                self.out.files[self.rel(p)] = "trading"

    def trading_forms(self, folder: Path, by_deal: dict, buyers: dict, agency: tuple, firms: list,
                      d2: str, d3: str, gp: str) -> None:
        """The national platform's search response and the national data standard's table files
        (RAW_FORMATS.md trading/; the standard's tables and fields as in reference_ggzy_v3_fields.csv)."""
        T = dt.datetime

        def ts(value: dt.datetime) -> str:
            return value.strftime("%Y%m%d%H%M%S")

        # --- the platform's search response: D8, a procurement of 固原市交通运输局 in 2020 -----------------
        d8 = "GYJT-2020-CG-21"
        buyer = buyers["guyuan_transport"]
        records = [
            {"id": "1", "title": "固原市交通运输局道路养护设备竞争性磋商公告", "publishTime": "2020-09-01 09:30:00",
             "informationType": "0201", "informationTypeText": "采购/资审公告", "businessType": "02",
             "businessTypeText": "政府采购", "tenderProjectCode": d8, "province": "640000", "provinceText": "宁夏",
             "url": "/information/html/b/640000/0201/202009/01/1.shtml", "tendererName": buyer[0],
             "tendererCode": buyer[1], "tenderAgencyName": agency[0], "tenderAgencyCode": agency[1],
             "budgetAmount": "86.500000（万元）"},
            {"id": "2", "title": "固原市交通运输局道路养护设备更正公告", "publishTime": "2020-09-04 09:30:00",
             "informationType": "0204", "informationTypeText": "更正事项", "businessType": "02",
             "businessTypeText": "政府采购", "tenderProjectCode": d8, "budgetAmount": "0元 人民币"},
            {"id": "3", "title": "固原市交通运输局道路养护设备成交公告", "publishTime": "2020-09-21 16:00:00",
             "informationType": "0202", "informationTypeText": "中标公告", "businessType": "02",
             "businessTypeText": "政府采购", "tenderProjectCode": d8, "tendererName": buyer[0], "tendererCode": buyer[1],
             "tenderAgencyName": agency[0], "tenderAgencyCode": agency[1], "winBidderName": firms[2][0],
             "winBidderCode": firms[2][1], "bidAmount": "812000.00 元"},
        ]
        (folder / "api" / "ggzy_search_2020.json").write_text(json.dumps(
            {"code": 200, "msg": "success", "data": {"records": records, "total": len(records)}},
            ensure_ascii=False, indent=2), encoding="utf-8")
        deal8 = f"{d8}/"
        self.out.deals[deal8] = (2020, 0, True)
        self.out.trading_amounts[(f"{deal8}|0201|", "BUDGET_AMOUNT")] = D(865000)
        self.out.trading_amounts[(f"{deal8}|0204|", "BUDGET_AMOUNT")] = D(0)
        self.out.trading_amounts[(f"{deal8}|0202|", "BID_AMOUNT")] = D(812000)
        self.out.trading_rows += len(records)

        # --- the national data standard: one table per file, all its fields, copies of D3 and D2 ---------
        fields: dict[str, list[str]] = {}
        reference = Path(__file__).resolve().parents[2].parent / "shared" / "reference_ggzy_v3_fields.csv"
        if not reference.is_file():   # a clone without the shared contract beside it: the seed is a verbatim copy
            reference = Path(__file__).resolve().parents[1] / "dbt" / "seeds" / "ingest" / "ref_ggzy_v3_fields.csv"
        with reference.open(encoding="utf-8") as handle:
            for r in csv.DictReader(handle):
                fields.setdefault(r["table_name"], []).append(r["field"])
        std = folder / "数据规范"
        std.mkdir()

        def table(name: str, recs: list[dict], gbk: bool = False) -> None:
            out = io.StringIO()
            w = csv.writer(out)
            w.writerow(fields[name])
            for rec in recs:
                assert set(rec) <= set(fields[name]), set(rec) - set(fields[name])
                w.writerow([rec.get(f, "") for f in fields[name]])
            data = out.getvalue()
            (std / f"{name.lower()}.csv").write_bytes(data.encode("gb18030") if gbk else data.encode("utf-8"))

        a3 = {r["BULLETIN_TYPE"]: r for r in by_deal[d3]}
        ann, res = a3["交易公告"], a3["中标结果公告"]
        # D3's announcement covers sections A and B: B is a deal of its own, with the same short period
        table("TENDER_ANN_QUA_INQUERY_ANN", [{
            "TENDER_PROJECT_CODE": d3, "NOTICE_BID_NUM": "2", "BID_SECTION_CODES": "A;B",
            "UNIFIED_DEAL_CODES": "A20640422GC0015001;A20640422GC0015002", "TENDER_SELF_CODE": d3,
            "NOTICE_NAME": ann["NOTICE_NAME"], "NOTICE_CONTENT": "详见招标文件", "NOTICE_SEND_TIME": ts(ann["NOTICE_SEND_TIME"]),
            "NOTICE_MEDIA": "全国公共资源交易平台（宁夏回族自治区·固原市）", "URL": ann["URL"], "NOTICE_NATURE": "1",
            "BULLETIN_TYPE": "1", "DOC_GET_START_TIME": ts(ann["DOC_GET_START_TIME"]),
            "DOC_GET_END_TIME": ts(ann["DOC_GET_END_TIME"]), "BID_DOC_REFER_END_TIME": ts(ann["BID_DOC_REFER_END_TIME"]),
            "BID_OPEN_TIME": ts(ann["BID_OPEN_TIME"]), "TENDERER_CODE": ann["TENDERER_CODE"],
            "TENDERER_NAME": ann["TENDERER_NAME"], "TENDERER_CONTACTOR": "何工", "TENDERER_PHONE_NUMBER": ann["CONTACT_PHONE"],
            "TENDER_AGENCY_CODE": agency[1], "TENDER_AGENCY_NAME": agency[0],
            "TENDER_AGENCY_PHONE_NUMBER": "0951-6028801",
        }])
        table("WIN_RESULT_ANNO", [{
            "TENDER_PROJECT_CODE": d3, "BID_SECTION_CODE": "A", "UNIFIED_DEAL_CODE": "A20640422GC0015001",
            "REGION_CODE": "640422", "TENDER_AGENCY_NAME": agency[0], "TENDER_AGENCY_CODE": agency[1],
            "NOTICE_NAME": res["NOTICE_NAME"], "NOTICE_SEND_TIME": ts(res["NOTICE_SEND_TIME"]), "URL": res["URL"],
            "NOTICE_NATURE": "1", "BULLETIN_TYPE": "1", "WIN_BIDDER_NAME": res["WIN_BIDDER_NAME"],
            "WIN_BIDDER_CODE": res["WIN_BIDDER_CODE"], "BID_AMOUNT": str(res["BID_AMOUNT"]), "PRICE_UNIT": "1",
        }], gbk=True)
        self.out.findings.add(("TRADE_SHORT_TENDER_PERIOD", buyers["xiji_water"][1], 2020, f"{d3}/B"))
        self.out.deals[f"{d3}/B"] = (2020, 0, True)
        # D2, government procurement's own names: announcement, correction, result (amount in 万元, code 1)
        a2 = {r["BULLETIN_TYPE"]: r for r in by_deal[d2]}
        table("PURCHASE_QUALI_INQUERY_ANN", [{
            "PURCHASE_PROJECT_CODE": d2, "PURCHASE_PROJECT_NAME": "养老服务设备", "BULLETIN_BID_NUM": "1",
            "PURCHASE_SECTION_CODE": "1", "UNIFIED_DEAL_CODE": "A16640000CG0007001",
            "BULLETIN_TITLE": a2["交易公告"]["NOTICE_NAME"], "BULLETIN_CONTENT": a2["交易公告"]["NOTICE_CONTENT"],
            "BULLETIN_START_TIME": ts(a2["交易公告"]["NOTICE_SEND_TIME"]), "BULLETIN_MEDIA": "中国政府采购网",
            "URL": a2["交易公告"]["URL"], "BID_CLOSING_TIME": ts(a2["交易公告"]["BID_DOC_REFER_END_TIME"]),
        }])
        table("CORRECTION_ITEM", [{
            "PURCHASE_PROJECT_CODE": d2, "PURCHASE_PROJECT_NAME": "养老服务设备", "PURCHASE_SECTION_CODE": "1",
            "UNIFIED_DEAL_CODE": "A16640000CG0007001", "TERMINATION_BULLETIN_TITLE": a2["更正公告"]["NOTICE_NAME"],
            "TERMINATION_BULLETIN_CONTENT": a2["更正公告"]["NOTICE_CONTENT"],
            "MODIFICATION_START_TIME": ts(a2["更正公告"]["NOTICE_SEND_TIME"]), "IS_POSTPONE": "0",
            "URL": a2["更正公告"]["URL"],
        }])
        table("BID_DEAL_ANNOUNCE", [{
            "PURCHASE_PROJECT_CODE": d2, "PURCHASE_PROJECT_NAME": "养老服务设备", "PURCHASE_SECTION_CODE": "1",
            "UNIFIED_DEAL_CODE": "A16640000CG0007001", "REGION_CODE": "640400", "TRA_PLACE_CODE": "640000",
            "PURCHASER_AGENCY_NAME": agency[0], "PURCHASER_AGENCY_CODE": agency[1],
            "WIN_BID_BULLETIN_TITLE": a2["中标结果公告"]["NOTICE_NAME"],
            "WIN_BID_BULLETIN_START_TIME": ts(a2["中标结果公告"]["NOTICE_SEND_TIME"]), "URL": a2["中标结果公告"]["URL"],
            "WINNINGBIDDER_NAME": a2["中标结果公告"]["WIN_BIDDER_NAME"], "WINNINGBIDDER_TYPE": "1",
            "WINNINGBIDDER_CODE": a2["中标结果公告"]["WIN_BIDDER_CODE"], "PRICE_FORM_CODE": "0",
            "WIN_BID_PRICE": str(a2["中标结果公告"]["BID_AMOUNT"]), "CURRENCY_CODE": "156", "PRICE_UNIT": "1",
        }])
        # 6 bulletins (the announcement is two); 5 copy a bulletin of the flat exports, which are the later exports
        self.out.trading_rows += 6
        self.out.trading_duplicates += 5

    def corrupt_workbook(self) -> None:
        path = self.root / "budget" / "2020" / "附件_损坏.xlsx"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"PK\x03\x04" + b"\x00garbled upload, not a zip archive\x00" * 20)
        rel = self.rel(path)
        self.out.files[rel] = "budget"
        self.out.rejected_files[rel] = "not a readable workbook"

    def portal_files(self) -> None:
        folder = self.root / "portal"
        folder.mkdir(parents=True)
        # the portal also lists: the corrupt workbook (unreadable), a file not in the raw root (missing),
        # and 固原市's 2016 final accounts again two months later (the earliest publication counts)
        column = "预决算公开/政府预决算"
        self.portal.append({"title": "固原市2020年预算调整公开附件", "published_at": dt.datetime(2020, 9, 3, 10),
                            "publisher_name": "固原市财政局", "publisher_code": "640400", "column": column,
                            "url": "http://www.nx.gov.cn/zwgk/900001.htm", "attachment": "附件_损坏.xlsx"})
        self.out.findings.add(("DISC_ATTACHMENT_UNREADABLE", "640400", 2020, "附件_损坏.xlsx"))
        self.portal.append({"title": "西吉县2016年预算补充说明", "published_at": dt.datetime(2016, 4, 1, 10),
                            "publisher_name": "西吉县财政局", "publisher_code": "640422", "column": column,
                            "url": "http://www.nx.gov.cn/zwgk/900002.htm", "attachment": "西吉县2016年预算补充说明.xlsx"})
        self.out.findings.add(("DISC_ATTACHMENT_MISSING", "640422", 2016, "西吉县2016年预算补充说明.xlsx"))
        again = next(p for p in self.portal if p["publisher_code"] == "640400" and "2016年决算" in p["title"])
        self.portal.append({**again, "published_at": again["published_at"] + dt.timedelta(days=60),
                            "url": "http://www.nx.gov.cn/zwgk/900003.htm"})
        # two logs: one per column, columns in another order, ISO timestamps / dates
        split = {"budget": [p for p in self.portal if p["column"].startswith("预决算")],
                 "debt": [p for p in self.portal if not p["column"].startswith("预决算")]}
        for name, rows in split.items():
            with (folder / f"publications_{name}.csv").open("w", encoding="utf-8", newline="") as h:
                wr = csv.writer(h)
                wr.writerow(["title", "published_at", "publisher_name", "publisher_code", "column", "url",
                             "attachment"])
                for p in rows:
                    when = p["published_at"]
                    text = (when.strftime("%Y-%m-%d %H:%M:%S") if name == "budget"
                            else f"{when.year}/{when.month}/{when.day}")
                    wr.writerow([p["title"], text, p["publisher_name"], p["publisher_code"], p["column"], p["url"],
                                 p["attachment"]])
            self.out.files[f"portal/publications_{name}.csv"] = "portal"
        self.out.portal_rows = len(self.portal)


def build_contract_raw(root: Path) -> ContractRaw:
    root.mkdir(parents=True, exist_ok=True)
    b = Builder(root)
    b.registry()
    for year in YEARS:
        for region, *_ in REGIONS:
            b.government(region, year, final=False)
            b.government(region, year, final=True)
            b.debt(region, year, final=False)
            b.debt(region, year, final=True)
        for name, code, _, _ in ENTITIES:
            if year >= FIRST_YEAR.get(code, 0):
                b.department(name, code, year, final=False, style_no=ENTITY_STYLE[code])
                b.department(name, code, year, final=True, style_no=ENTITY_STYLE[code])
    b.trading()
    b.corrupt_workbook()
    b.portal_files()
    return b.out


if __name__ == "__main__":  # python tests/contract_raw.py /tmp/contract_raw
    import sys
    import time

    t0 = time.perf_counter()
    out = build_contract_raw(Path(sys.argv[1]))
    print(f"{len(out.files)} files, {len(out.sheets)} sheets, {len(out.findings)} findings, "
          f"{len(out.statuses)} non on_time statuses in {time.perf_counter() - t0:.1f} s")
