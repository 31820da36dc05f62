"""Prices of the national data standard (V3) that were not read: a tender's control price (CONTROL_PRICE 控制价（最高限价）,
its unit CONTROL_PRICE_UNIT and currency in columns of their own) and a ranked candidate's own price (510 中标候选人
BID_PRICE 投标价格, unit PRICE_UINT — the standard's own spelling).

控制价 is the tender's ceiling price, what the contract's 最高限价 / 招标控制价 headers already read as budget_amount: a
platform's announcement export naming it by its national name lost the figure (and a unit 1 = 万元 beside it). A
candidate's price is that candidate's own figure on the publicity (int_bulletin_copies_compared.candidate_own_figures);
read only in table 510, where BID_PRICE is a ranked candidate's — 557 供应商名单's BID_PRICE (every supplier's quote) is
no outcome and stays unread. Files written by Python's csv module as a platform's export job writes them; expectations
from what was written and the standard's PRICE_UNIT code list (ref_trading_codes: 1 = 万元).
"""
from __future__ import annotations

from decimal import Decimal

from test_ingest_trading import bulletins, load, load_file_row, query, write_csv
from test_ingest_trading_forms import write_standard_table

TEN_THOUSAND = Decimal(10_000)


def test_a_control_price_with_its_own_unit_column_is_the_tenders_ceiling(gongkai_env):
    raw, wh = gongkai_env.raw_dir, gongkai_env.warehouse
    header = ["PROJECT_CODE", "BULLETIN_TYPE", "NOTICE_NAME", "NOTICE_SEND_TIME", "CONTROL_PRICE", "CONTROL_PRICE_UNIT",
              "CONTROL_PRICE_CURRENCY", "BID_AMOUNT", "PRICE_UNIT"]
    # a platform's own export (no table of the standard recognised): units as words, or the standard's code under its
    # field name (1 = 万元: it rejected the whole announcement, review R4)
    rows = [["K1", "招标公告", "某道路工程招标公告", "20200302090000", "812.5", "万元", "CNY", "", ""],
            ["K2", "招标公告", "某学校维修招标公告", "20200303090000", "960000", "元", "CNY", "", ""],
            ["K1", "中标结果公告", "某道路工程中标结果公告", "20200402090000", "", "", "CNY", "7800000", "元"]]
    write_csv(raw / "trading" / "control_price.csv", header, rows)
    chinese = ["项目编号", "公告类型", "公告标题", "发布时间", "控制价（最高限价）", "控制价单位"]
    write_csv(raw / "trading" / "control_price_cn.csv", chinese,
              [["K3", "招标公告", "某桥梁工程招标公告", "2020-03-04 09:00", "35.2", "万元"]])
    load(raw, wh)
    got = bulletins(wh, "trading/control_price.csv")
    assert query(wh, "SELECT count(*) FROM raw.load_rejects") == [(0,)]
    assert got[2]["budget_amount_yuan"] == Decimal("812.5") * TEN_THOUSAND
    assert got[3]["budget_amount_yuan"] == Decimal(960000)
    assert got[4]["bid_amount_yuan"] == Decimal(7800000) and got[4]["budget_amount_yuan"] is None
    (cn,) = bulletins(wh, "trading/control_price_cn.csv").values()
    assert cn["budget_amount_yuan"] == Decimal("35.2") * TEN_THOUSAND


def test_a_ranked_candidates_own_price_is_read_in_its_unit(gongkai_env):
    raw, wh = gongkai_env.raw_dir, gongkai_env.warehouse
    tp = "E6401000000000009001"
    prices = [("宁夏甲建设工程有限公司", "91640100MA76XXXX1A", "1", "1260.35"),
              ("宁夏乙建筑有限公司", "91640100MA76XXXX2B", "2", "1288.00")]
    records = [{"TENDER_PROJECT_CODE": tp, "BID_SECTION_CODE": f"{tp}001", "UNIFIED_DEAL_CODE": "U91",
                "WIN_CANDIDATE_NAME": name, "BIDDER_CODE_TYPE": "1", "WIN_CANDIDATE_CODE": code, "BIDDER_ROLE": "01",
                "WIN_CANDIDATE_ORDER": rank, "IS_FLOAT_RATE": "0", "EVALUATION_RESULT": "合格", "PRICE_FORM_CODE": "1",
                "BID_PRICE": price, "PRICE_CURRENCY": "CNY", "PRICE_UINT": "1", "QUALITY": "合格",
                "EVALUATION_STATUS": "通过", "WIN_CANDIDATE_QUALIFICATION": "满足"} for name, code, rank, price in prices]
    write_standard_table(raw / "trading" / "510_candidates.csv", "TENDER_CANDIDATE", records)
    load(raw, wh)
    assert load_file_row(wh, "trading/510_candidates.csv")["detected_kind"] == "bulletins:TENDER_CANDIDATE"
    got = bulletins(wh, "trading/510_candidates.csv")
    assert [(got[r]["win_candidate_name"], got[r]["bid_amount_yuan"]) for r in sorted(got)] == [
        (name, Decimal(price) * TEN_THOUSAND) for name, _, _, price in prices]


def test_the_standards_unit_code_is_read_and_a_bad_unit_loses_its_price_only(gongkai_env):
    """CONTROL_PRICE_UNIT 1 (the standard's code list: 1 = 万元) in a flat export is 万元 — it rejected the whole
    announcement. A value that is neither a code nor a unit word leaves that price unread (the unit cell stored NULL,
    a finding naming it), the announcement loaded."""
    raw, wh = gongkai_env.raw_dir, gongkai_env.warehouse
    header = ["PROJECT_CODE", "BULLETIN_TYPE", "NOTICE_NAME", "NOTICE_SEND_TIME", "CONTROL_PRICE", "CONTROL_PRICE_UNIT"]
    rows = [["C1", "招标公告", "某道路工程招标公告", "20200302090000", "812.5", "1"],
            ["C2", "招标公告", "某学校维修招标公告", "20200303090000", "960000", "0"],
            ["C3", "招标公告", "某桥梁工程招标公告", "20200304090000", "35.2", "千克"]]
    write_csv(raw / "trading" / "control_price_codes.csv", header, rows)
    load(raw, wh)
    got = bulletins(wh, "trading/control_price_codes.csv")
    assert query(wh, "SELECT count(*) FROM raw.load_rejects") == [(0,)]
    assert [got[r]["notice_name"] for r in sorted(got)] == [r[2] for r in rows]
    assert [got[r]["budget_amount_yuan"] for r in sorted(got)] == [
        Decimal("812.5") * TEN_THOUSAND, Decimal(960000), None]
    assert query(wh, "SELECT source_row, source_column, raw_value FROM raw.load_blanked_cells "
                     "WHERE source_file = 'trading/control_price_codes.csv'") == [(4, "CONTROL_PRICE_UNIT", "千克")]


def test_a_budget_beside_a_ceiling_is_the_budget(gongkai_env):
    """控制价 and 预算金额 in one file, the ceiling's column first: the budget is the 预算金额 column (it was whichever
    came first); the ceiling is read as the budget only where the row states none (DOMAIN: deal amount ≤ budget /
    ceiling), else it is not stored."""
    raw, wh = gongkai_env.raw_dir, gongkai_env.warehouse
    header = ["项目编号", "公告类型", "公告标题", "发布时间", "控制价（万元）", "预算金额（万元）"]
    rows = [["B1", "招标公告", "某道路工程招标公告", "2020-03-02 09:00", "900", "850"],
            ["B2", "招标公告", "某学校维修招标公告", "2020-03-03 09:00", "120", ""]]
    write_csv(raw / "trading" / "budget_and_ceiling.csv", header, rows)
    load(raw, wh)
    got = bulletins(wh, "trading/budget_and_ceiling.csv")
    assert query(wh, "SELECT count(*) FROM raw.load_rejects") == [(0,)]
    assert [got[r]["budget_amount_yuan"] for r in sorted(got)] == [
        Decimal(rows[0][5]) * TEN_THOUSAND, Decimal(rows[1][4]) * TEN_THOUSAND]


def test_a_ceilings_unit_column_is_not_the_budgets_unit(gongkai_env):
    """控制价, CONTROL_PRICE_UNIT and 预算金额 in one file (either column order): the unit column names the ceiling's
    column, not the budget the ceiling falls back into — bound as the budget's unit, 预算金额 1 000 000 元 became
    10 000 000 000 silently, and a 美元 ceiling blanked the budget (review R4b). The ceiling, beside a budget, is not
    stored; nor is its unit."""
    raw, wh = gongkai_env.raw_dir, gongkai_env.warehouse
    layouts = {"ceiling_first.csv": (["控制价", "CONTROL_PRICE_UNIT", "预算金额"], (0, 1, 2)),
               "budget_first.csv": (["BUDGET_AMOUNT", "CONTROL_PRICE", "CONTROL_PRICE_UNIT"], (1, 2, 0))}
    cells = [("1200000", "1", "1000000"), ("1200", "美元", "1000000"), ("120", "万元", "960000")]
    for name, (amounts, order) in layouts.items():
        rows = [[f"{name[0]}{n}", "招标公告", f"某工程{n}招标公告", "2020-03-02 09:00",
                 *(c[order.index(i)] for i in range(3))] for n, c in enumerate(cells)]
        write_csv(raw / "trading" / name, ["项目编号", "公告类型", "公告标题", "发布时间", *amounts], rows)
    load(raw, wh)
    assert query(wh, "SELECT count(*) FROM raw.load_rejects") == [(0,)]
    assert query(wh, "SELECT count(*) FROM raw.load_blanked_cells") == [(0,)]
    for name in layouts:
        got = bulletins(wh, f"trading/{name}")
        assert [got[r]["budget_amount_yuan"] for r in sorted(got)] == [Decimal(c[2]) for c in cells], name


def test_the_budgets_own_unit_column_under_either_name_reads_the_standards_codes(gongkai_env):
    """UNIT_BUDGET (V3's 预算金额单位) was an unread column: a budget in 万元 stored as 元; the code 1 under the Chinese
    name 预算金额单位 blanked the budget (review R4b). Both read the standard's PRICE_UNIT codes and unit words."""
    raw, wh = gongkai_env.raw_dir, gongkai_env.warehouse
    rows = [["U1", "招标公告", "某道路工程招标公告", "2020-03-02 09:00", "812.5", "1"],
            ["U2", "招标公告", "某学校维修招标公告", "2020-03-03 09:00", "960000", "0"],
            ["U3", "招标公告", "某桥梁工程招标公告", "2020-03-04 09:00", "35.2", "万元"]]
    for name, amount, unit in (("unit_budget.csv", "BUDGET_AMOUNT", "UNIT_BUDGET"), ("unit_budget_cn.csv", "预算金额", "预算金额单位")):
        write_csv(raw / "trading" / name, ["项目编号", "公告类型", "公告标题", "发布时间", amount, unit], rows)
    load(raw, wh)
    assert query(wh, "SELECT count(*) FROM raw.load_rejects") == [(0,)]
    assert query(wh, "SELECT count(*) FROM raw.load_blanked_cells") == [(0,)]
    for name in ("unit_budget.csv", "unit_budget_cn.csv"):
        got = bulletins(wh, f"trading/{name}")
        assert [got[r]["budget_amount_yuan"] for r in sorted(got)] == [
            Decimal("812.5") * TEN_THOUSAND, Decimal(960000), Decimal("35.2") * TEN_THOUSAND], name


def test_an_unreadable_general_unit_loses_only_the_amounts_it_governs(gongkai_env):
    """The unit of every amount without its own (PRICE_UNIT, AMOUNT_UNIT, 单位) holding no unit — the code 2, 美元, an
    office's name — rejected the whole announcement (review R4b): the amounts it governs are left unread and the cell
    is a finding; an amount whose own unit column states its unit is still read."""
    raw, wh = gongkai_env.raw_dir, gongkai_env.warehouse
    header = ["项目编号", "公告类型", "公告标题", "发布时间", "中标金额", "预算金额", "预算金额单位"]
    for name, unit in (("price_unit.csv", "PRICE_UNIT"), ("amount_unit.csv", "AMOUNT_UNIT"), ("office.csv", "单位")):
        value = {"price_unit.csv": "2", "amount_unit.csv": "美元", "office.csv": "银川市财政局"}[name]
        write_csv(raw / "trading" / name, [*header, unit], [
            ["G1", "中标结果公告", "某项目中标结果公告", "2020-05-12 10:00", "812.5", "900", "万元", value],
            ["G2", "中标结果公告", "另一项目中标结果公告", "2020-05-13 10:00", "40", "50", "", "万元"]])
    load(raw, wh)
    assert query(wh, "SELECT count(*) FROM raw.load_rejects") == [(0,)]
    for name, unit in (("price_unit.csv", "PRICE_UNIT"), ("amount_unit.csv", "AMOUNT_UNIT"), ("office.csv", "单位")):
        got = bulletins(wh, f"trading/{name}")
        assert [(got[r]["bid_amount_yuan"], got[r]["budget_amount_yuan"]) for r in sorted(got)] == [
            (None, Decimal(900) * TEN_THOUSAND), (Decimal(40) * TEN_THOUSAND, Decimal(50) * TEN_THOUSAND)], name
        assert query(wh, "SELECT source_row, source_column FROM raw.load_blanked_cells "
                         f"WHERE source_file = 'trading/{name}'") == [(2, unit)], name
