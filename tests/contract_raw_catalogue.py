"""What the contract root is made of, and the records of what a correct pipeline must make of it.

Part of ``contract_raw`` (the entry point): identifiers computed from the standards (USCC, ID numbers),
the fiscal years, regions, departments and their approval / finance-reply dates, the catalogue of
government / debt / department tables and their wording, function-code names, and the expected-outcome
records ``ExpectedSheet`` and ``ContractRaw`` that the builders fill in. Imports nothing from the other
``contract_raw_*`` modules.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path


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
