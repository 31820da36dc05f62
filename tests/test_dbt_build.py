"""dbt end to end on a small raw scenario INSERTed into a temp warehouse (schema.sql shape).

The scenario is built here; every expectation is derived from the scenario's own inputs (an
independent Python reading of CONTRACTS.md §7), never copied from an output.
"""
from __future__ import annotations

import datetime as dt
import json
import re
import subprocess
import time
from pathlib import Path

import duckdb
import pytest

from dagster_project import identifiers
from dagster_project.ingest.framework import ensure_schema
from dagster_project.paths import DBT_PROJECT_DIR
from dbt_fixed_path import run_dbt as run_dbt_fixed

# one `dbt build` + `dbt docs generate --no-compile` for the module
pytestmark = pytest.mark.slow
AS_OF = dt.date(2019, 1, 1)
D = dt.date

PROVINCE, CITY = "640000", "640100"
REGIONS = [(PROVINCE, "宁夏回族自治区", "province", None), (CITY, "银川市", "city", PROVINCE)]
CONGRESS = {(PROVINCE, 2018, "budget"): D(2018, 1, 20), (PROVINCE, 2018, "final"): D(2019, 7, 20)}
DEPT_A = identifiers.make_uscc("11640000MB0000011")
UNIT_U = identifiers.make_uscc("12640000MB0000022")
BAD_CODE = DEPT_A[:-1] + ("0" if DEPT_A[-1] != "0" else "1")  # wrong check character
ENTITIES = [
    # code, name, kind, budget_approved_on, final_approved_on
    (DEPT_A, "宁夏回族自治区教育厅", "department", D(2018, 2, 1), None),
    (UNIT_U, "宁夏回族自治区教育厅直属学校", "unit", None, None),
    (BAD_CODE, "宁夏回族自治区测试局", "department", D(2018, 2, 3), None),
]

# Published workbooks: file -> (portal attachment text, published_at, [sheets]); a sheet is
# (table_name, entity_name, is_empty, has_empty_note, lines, rejects)
Line = tuple  # (source_row, side, code, label, is_total, row_key, column_key, amount)


def _summary_lines(income: int, expenditure: int) -> list[Line]:
    return [
        (5, "income", None, "一般公共预算拨款", False, None, "amount", income),
        (6, "income", None, "收入总计", True, None, "amount", income),
        (5, "expenditure", None, "教育支出", False, None, "amount", expenditure),
        (6, "expenditure", None, "支出总计", True, None, "amount", expenditure),
    ]


GPB_LINES: list[Line] = [
    # 205 = 300 but its child 20502 = 250: a hierarchy break; 20801 is a 5-digit leaf (not to 项)
    (5, None, "205", "教育支出", False, None, "total", 300),
    (6, None, "20502", "普通教育", False, None, "total", 250),
    (7, None, "2050201", "学前教育", False, None, "total", 250),
    (8, None, "208", "社会保障和就业支出", False, None, "total", 40),
    (9, None, "20801", "人力资源和社会保障管理事务", False, None, "total", 40),
    (10, None, None, "合计", True, None, "total", 340),
]
DEBT_1_1: list[Line] = [
    (5, None, None, "本地区", False, None, "limit_total", 100), (5, None, None, "本地区", False, None, "limit_general", 60),
    (5, None, None, "本地区", False, None, "limit_special", 40), (5, None, None, "本地区", False, None, "balance_total", 120),
    (5, None, None, "本地区", False, None, "balance_general", 70), (5, None, None, "本地区", False, None, "balance_special", 50),
]
WORKBOOKS = {
    "budget/2018/A.xlsx": ("A.xlsx", dt.datetime(2018, 2, 15, 10), [
        ("部门收支总表", "宁夏回族自治区教育厅", False, False, _summary_lines(1_000_000, 900_000), []),
        ("政府性基金预算支出表", "宁夏回族自治区教育厅", True, True, [], []),
        ("一般公共预算“三公”经费支出表", "宁夏回族自治区教育厅", True, False, [], []),
        ("一般公共预算支出表", "宁夏回族自治区教育厅", False, False, GPB_LINES, []),
    ]),
    "budget/2018/A_late.xlsx": ("budget/2018/A_late.xlsx", dt.datetime(2018, 2, 22, 9), [
        ("部门收入总表", "宁夏回族自治区教育厅", False, False,
         [(5, None, None, "合计", True, None, "total", 10)], []),
    ]),
    "budget/2018/P.xlsx": ("P.xlsx", dt.datetime(2018, 2, 5, 9), [
        ("一般公共预算支出表", "宁夏回族自治区本级", False, False,
         [(5, None, "205", "教育支出", False, None, "amount", 7), (6, None, None, "合计", True, None, "amount", 7)], []),
    ]),
    "debt/2018/P_debt.xlsx": ("P_debt.xlsx", dt.datetime(2018, 2, 5, 9), [
        ("地方政府债务限额及余额情况表", "宁夏回族自治区", False, False, DEBT_1_1, []),
    ]),
    "budget/2018/U.xlsx": ("U.xlsx", dt.datetime(2018, 3, 1, 9), [
        ("部门收支总表", "宁夏回族自治区教育厅直属学校", False, False, _summary_lines(500, 400),
         [(7, "E", "待定", "第7行 E列: 期望金额数字, 实际为「待定」")]),
    ]),
}

# Trading: (file, row, deal fields..., type, send time, extra)
D1 = ("P2018-001", "S1")
TEXT_PERSONAL = "联系人手机13912345678，身份证{id}，银行卡{card}，编号20180301000000000000001".format(
    id=identifiers.make_id_number("640104", D(1980, 5, 17), 123),
    card="622202" + "1234567890" + identifiers.luhn_check_digit("6222021234567890")[-1:]
    if len(identifiers.luhn_check_digit("6222021234567890")) == 1
    else "6222021234567890" + identifiers.luhn_check_digit("6222021234567890"),
)
WIN_CODE = identifiers.make_uscc("91640100MA7600012")
BUYER_CODE = identifiers.make_uscc("11640100MB0000033")
BAD_BUYER = BUYER_CODE[:-1] + ("0" if BUYER_CODE[-1] != "0" else "1")


def _ts(*parts) -> dt.datetime:
    return dt.datetime(*parts)


BULLETINS = [
    # file, row, project, section, unified, type, area, send time, fields
    ("trading/a.csv", 2, *D1, None, "交易公告", "工程建设项目招标投标", _ts(2018, 3, 1, 9),
     dict(doc_get_start_time=_ts(2018, 3, 1, 9), doc_get_end_time=_ts(2018, 3, 4, 17),
          bid_doc_refer_end_time=_ts(2018, 3, 15, 9), bid_open_time=_ts(2018, 3, 15, 9),
          budget_amount_yuan=1_000_000, tenderer_code=BUYER_CODE, tenderer_name="银川市某局", notice_name="某工程招标公告")),
    ("trading/a.csv", 3, *D1, None, "中标候选人公示", "工程建设项目招标投标", _ts(2018, 3, 16, 9),
     dict(win_candidate_name="甲公司;乙公司；丙公司、丁公司", publicity_start_time=_ts(2018, 3, 16, 9),
          publicity_end_time=_ts(2018, 3, 19, 9), tenderer_code=BUYER_CODE)),
    ("trading/a.csv", 4, *D1, None, "中标结果公告", "工程建设项目招标投标", _ts(2018, 3, 20, 9),
     dict(bidder_count=1, bid_amount_yuan=1_100_000, win_bidder_name="甲公司", win_bidder_code=WIN_CODE,
          tenderer_code=BUYER_CODE, notice_content=TEXT_PERSONAL)),
    # the same announcement again in an overlapping export
    ("trading/b.csv", 2, *D1, None, "交易公告", "工程建设项目招标投标", _ts(2018, 3, 1, 9),
     dict(doc_get_start_time=_ts(2018, 3, 1, 9), doc_get_end_time=_ts(2018, 3, 4, 17),
          bid_doc_refer_end_time=_ts(2018, 3, 15, 9), bid_open_time=_ts(2018, 3, 15, 9),
          budget_amount_yuan=1_000_000, tenderer_code=BUYER_CODE, tenderer_name="银川市某局", notice_name="某工程招标公告")),
    # a GP deal with a result and a contract but no announcement
    ("trading/b.csv", 3, None, None, "U-2019-02", "成交结果公告", "政府采购", _ts(2019, 1, 25, 9),
     dict(win_bidder_name="乙公司", bid_amount_yuan=50_000, tenderer_code=BAD_BUYER, contact_phone="0951-1234567")),
    ("trading/b.csv", 4, None, None, "U-2019-02", "合同公告", "政府采购", _ts(2019, 2, 11, 9),
     dict(contract_sign_time=_ts(2019, 2, 1, 0), tenderer_code=BAD_BUYER)),
]


def deal_id(project, section, unified) -> str:
    return f"{project}/{section or ''}" if project else unified


def bulletin_key(b) -> str:
    _, _, project, section, unified, btype, _, sent, fields = b
    return f"{deal_id(project, section, unified)}|{btype}|{sent.isoformat()}|{fields.get('win_candidate_order') or ''}"


def _insert(con, table: str, rows: list[dict]) -> None:
    for row in rows:
        row = {"load_id": "test", "source_sha256": "0" * 64, **row}
        cols = ", ".join(row)
        con.execute(f"INSERT INTO {table} ({cols}) VALUES ({', '.join('?' for _ in row)})", list(row.values()))


def load_scenario(con) -> None:
    ensure_schema(con)
    _insert(con, "raw.registry_regions", [
        dict(source_file="registry/regions.csv", source_row=i + 2, region_code=c, region_name=n, level=lv, parent_code=p)
        for i, (c, n, lv, p) in enumerate(REGIONS)])
    _insert(con, "raw.registry_approvals", [
        dict(source_file="registry/approvals.csv", source_row=i + 2, region_code=r, fiscal_year=y, document=doc, approved_on=d)
        for i, ((r, y, doc), d) in enumerate(CONGRESS.items())])
    _insert(con, "raw.registry_entities", [
        dict(source_file="registry/entities_2018.csv", source_row=i + 2, fiscal_year=2018, entity_code=c.lower() if i == 0 else c,
             entity_name=n, region_code=PROVINCE, entity_kind=k, budget_approved_on=b, final_approved_on=f)
        for i, (c, n, k, b, f) in enumerate(ENTITIES)])
    for path, (attachment, published_at, sheets) in WORKBOOKS.items():
        family = path.split("/")[0]
        for index, (table_name, entity, empty, note, lines, rejects) in enumerate(sheets):
            sheet = f"表{index + 1}"
            _insert(con, f"raw.{family}_sheets", [dict(
                source_file=path, sheet=sheet, sheet_index=index, title=f"{entity}2018年{table_name}",
                table_name=table_name, entity_name=entity, fiscal_year=2018, phase="budget", unit_label="元",
                unit_multiplier=1, code_layout="single", is_empty=empty, has_empty_note=note,
                note_text="注：本部门无政府性基金预算支出，故本表为空表" if note else None, status="parsed")])
            _insert(con, f"raw.{family}_lines", [dict(
                source_file=path, sheet=sheet, source_row=r, table_name=table_name, side=side, line_code=code,
                line_label=label, is_total=total, row_key=row_key, column_key=col, source_column="C",
                value_text=str(amount), amount_yuan=amount) for r, side, code, label, total, row_key, col, amount in lines])
            _insert(con, "raw.load_rejects", [dict(
                family=family, source_file=path, sheet=sheet, source_row=r, source_column=c, raw_value=v, reason=why)
                for r, c, v, why in rejects])
    _insert(con, "raw.portal_publications", [
        dict(source_file="portal/publications.csv", source_row=i + 2, publisher_code=None, publisher_name=None,
             portal_column="预决算公开", title=f"公开 {attachment}", published_at=published_at, attachment=attachment)
        for i, (attachment, published_at, _) in enumerate(WORKBOOKS.values())])
    _insert(con, "raw.trading_bulletins", [
        dict(source_file=f, source_row=r, bulletin_key=bulletin_key(b), project_code=p, bid_section_code=s,
             unified_deal_code=u, bulletin_type=t, trade_area=a, notice_send_time=sent, **fields)
        for b in BULLETINS for (f, r, p, s, u, t, a, sent, fields) in [b]])


def run_dbt(args: list[str], env: dict[str, str], target: Path, unit_tests: bool = True) -> subprocess.CompletedProcess:
    return run_dbt_fixed(args, env, target, unit_tests=unit_tests)


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("dbt_scenario")
    warehouse = tmp / "warehouse.duckdb"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("GONGKAI_RAW_DIR", str(tmp / "raw"))
        mp.setenv("GONGKAI_WAREHOUSE", str(warehouse))
        mp.setenv("GONGKAI_OUT_DIR", str(tmp / "out"))
        mp.setenv("GONGKAI_AS_OF", AS_OF.isoformat())
        from dagster_project.paths import settings

        env = settings().env_for_subprocess()
        con = duckdb.connect(str(warehouse))
        try:
            load_scenario(con)
        finally:
            con.close()
        started = time.perf_counter()
        result = run_dbt(["build"], env, tmp / "target", unit_tests=False)
        elapsed = time.perf_counter() - started
        assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]
        # what the build reported about itself, before `docs generate` writes its own run_results.json
        build_results = json.loads((tmp / "target" / "run_results.json").read_text(encoding="utf-8"))
        # docs while no connection is open (dbt cannot share the DuckDB file with any other process). Without
        # compiling every node again (≈ 12 of its ≈ 16 CPU-s): what is checked is the catalog of the built relations
        # against the parsed descriptions; the docs site with compiled SQL is test_people_outputs' (docs_site.py)
        docs = run_dbt(["docs", "generate", "--no-compile"], env, tmp / "target")
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        yield con, elapsed, docs, tmp / "target", build_results, result.stdout
    finally:
        con.close()


def rows(con, sql: str) -> list[tuple]:
    return con.execute(sql).fetchall()


# ---- disclosure status: an independent reading of CONTRACTS.md §7 --------------------------------

def _catalogue() -> list[dict]:
    import csv

    with open(DBT_PROJECT_DIR / "seeds" / "ref_disclosure_catalogue.csv", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def expected_statuses() -> dict[tuple, str]:
    catalogue = [c for c in _catalogue() if int(c["valid_from_year"]) <= 2018 <= int(c["valid_to_year"] or 9999)]
    deadlines: dict[tuple, dt.date | None] = {}
    for code, _, level, _ in REGIONS:
        for c in catalogue:
            if c["publisher_kind"] == "government" and level in c["applies_to_levels"].split("|"):
                approved = CONGRESS.get((code, 2018, c["document"]))
                deadlines[(code, c["table_key"])] = approved + dt.timedelta(days=20) if approved else None
    for code, _, kind, budget_reply, final_reply in ENTITIES:
        for c in catalogue:
            if c["publisher_kind"] == "department":
                reply = budget_reply if c["document"] == "budget" else final_reply
                congress = CONGRESS.get((PROVINCE, 2018, c["document"]))
                deadlines[(code, c["table_key"])] = (
                    reply + dt.timedelta(days=20) if reply
                    else congress + dt.timedelta(days=55 if kind == "unit" else 40))
    name_to_code = {n: c for c, n, *_ in REGIONS} | {n: c for c, n, *_ in ENTITIES}
    by_name = {}
    for c in catalogue:
        by_name.setdefault(c["table_name_zh"], []).append(c)
    published = {}
    for attachment, published_at, sheets in WORKBOOKS.values():
        for table_name, entity, empty, note, _, _ in sheets:
            code = name_to_code[entity.removesuffix("本级")]
            kind = "government" if code.isdigit() and len(code) == 6 else "department"
            (c,) = [c for c in by_name[table_name] if len(by_name[table_name]) == 1 or c["publisher_kind"] == kind]
            published[(code, c["table_key"])] = (published_at.date(), empty, note)
    statuses = {}
    for key, deadline in deadlines.items():
        if key not in published:
            statuses[key] = ("not_yet_due" if deadline and AS_OF <= deadline
                             else "missing" if deadline else "missing_deadline_unknown")
            continue
        on, empty, note = published[key]
        if deadline and on > deadline:
            statuses[key] = "late"
        elif empty:
            statuses[key] = "empty_with_note" if note else "empty_without_note"
        else:
            statuses[key] = "on_time"
    return statuses


def test_disclosure_status_follows_the_contract(built):
    con = built[0]
    actual = {(p, t): s for p, t, s in rows(con, "select publisher_code, table_key, status from marts.fct_disclosure_status")}
    expected = expected_statuses()
    assert actual == expected
    # the scenario exercises every status
    assert {"on_time", "late", "missing", "missing_deadline_unknown", "not_yet_due", "empty_with_note",
            "empty_without_note"} <= set(actual.values())


def test_late_by_one_day_reports_days_late(built):
    con = built[0]
    ((status, days_late, published_at, deadline),) = rows(con, f"""
        select status, days_late, published_at, deadline_date from marts.fct_disclosure_status
        where publisher_code = '{DEPT_A}' and table_key = 'dept_revenue'""")
    assert status == "late" and days_late == (published_at.date() - deadline).days == 1


def test_deadline_fallbacks_when_the_finance_reply_is_unknown(built):
    con = built[0]
    got = dict(rows(con, f"""select publisher_kind, min(deadline_date - anchor_date) from marts.fct_disclosure_expected
                             where document = 'budget' and publisher_code in ('{UNIT_U}') group by 1"""))
    assert got == {"unit": 55}
    ((basis,),) = rows(con, f"""select distinct deadline_basis from marts.fct_disclosure_expected
                               where publisher_code = '{UNIT_U}' and document = 'budget'""")
    assert "finance reply date unknown" in basis


# ---- trading ---------------------------------------------------------------------------------------

def test_bulletins_deduplicated_keep_the_latest_exports_copy_and_every_source(built):
    con = built[0]
    keys = {bulletin_key(b) for b in BULLETINS}
    got = rows(con, "select bulletin_key, source_file, source_row, source_files from marts.fct_trading_bulletins")
    assert {g[0] for g in got} == keys and len(got) == len(keys)
    # CONTRACTS §2.2: the copy of the latest export (its newest send time), then file order, then row
    export_time = {}
    for b in BULLETINS:
        export_time[b[0]] = max(export_time.get(b[0], b[7]), b[7])
    copies = {}
    for b in BULLETINS:
        copies.setdefault(bulletin_key(b), []).append((b[0], b[1]))

    def rank(copy):
        file, row = copy
        return (-export_time[file].timestamp(), file.rsplit(".", 1)[0], file, row)

    for key, source_file, source_row, source_files in got:
        assert (source_file, source_row) == min(copies[key], key=rank)
        assert source_files == sorted({f for f, _ in copies[key]})


def test_deal_timeline_rules(built):
    con = built[0]
    d1 = deal_id(*D1, None)
    evaluated = {(r, d): (applies, passes, observed) for r, d, applies, passes, observed in rows(con, """
        select rule_id, deal_key, applies, passes, observed_value from intermediate.int_deal_timelines_evaluated""")}
    ann = BULLETINS[0][8]
    period = (ann["bid_doc_refer_end_time"].date() - ann["doc_get_start_time"].date()).days
    assert evaluated[("TRADE_SHORT_TENDER_PERIOD", d1)] == (True, period >= 20, period)
    sale = (ann["doc_get_end_time"].date() - ann["doc_get_start_time"].date()).days
    assert evaluated[("TRADE_DOC_SALE_WORKS", d1)] == (True, sale >= 5, sale)
    assert evaluated[("TRADE_TOO_MANY_CANDIDATES", d1)][:2] == (True, False)  # four names, three separators
    assert evaluated[("TRADE_AMOUNT_OVER_BUDGET", d1)][:2] == (True, False)
    assert evaluated[("TRADE_RESULT_WITHOUT_ANNOUNCEMENT", d1)][:2] == (True, True)
    assert evaluated[("TRADE_RESULT_WITHOUT_ANNOUNCEMENT", "U-2019-02")][:2] == (True, False)
    # GP rules do not apply to works; works rules not to GP; missing inputs never pass or fail
    assert evaluated[("TRADE_DOC_SALE_GP", d1)][:2] == (False, None)
    assert evaluated[("TRADE_SHORT_TENDER_PERIOD", "U-2019-02")][:2] == (False, None)
    # contract signed Fri 2019-02-01; 2 and 3 Feb are adjusted working days, 4-10 Feb Spring Festival
    assert evaluated[("TRADE_GP_CONTRACT_NOTICE_LATE", "U-2019-02")][:2] == (True, False)
    assert evaluated[("FLAG_SINGLE_BIDDER", d1)][:2] == (True, False)
    deals = dict(rows(con, "select deal_key, has_announcement from marts.fct_deals"))
    assert deals == {d1: True, "U-2019-02": False}


def test_privacy_hits_match_the_python_finders(built):
    con = built[0]
    got = sorted(rows(con, "select kind, masked_match from intermediate.int_privacy_hits"))
    expected = sorted(
        [("id_number", identifiers.mask_id_number(s)) for s in identifiers.find_id_numbers(TEXT_PERSONAL)]
        + [("mobile", identifiers.mask_mobile(s)) for s in identifiers.find_mobiles(TEXT_PERSONAL)]
        + [("bank_card", identifiers.mask_bank_card(s)) for s in identifiers.find_bank_cards(TEXT_PERSONAL)])
    assert got == expected and {k for k, _ in got} == {"id_number", "mobile", "bank_card"}


def test_credit_codes_checked_like_the_python_reference(built):
    con = built[0]
    got = rows(con, "select code_value, is_valid from intermediate.int_identifier_checks")
    assert got, "no codes checked"
    for code, is_valid in got:
        assert is_valid == identifiers.uscc_is_valid(code), code
    assert (DEPT_A, True) in got  # lower-case input was upper-cased
    assert {c for c, v in got if not v} == {BAD_CODE, BAD_BUYER}


# ---- reconciliation / detail -------------------------------------------------------------------------

def test_reconciliation_rows_skip_sheets_with_rejects(built):
    con = built[0]
    recon = rows(con, """select rule_id, publisher_code, table_key, expected_yuan, actual_yuan, difference_yuan, is_consistent
                         from intermediate.int_reconciliation_checks""")
    balance = [r for r in recon if r[0] == "RECON_SUMMARY_BALANCE"]
    assert [(r[1], float(r[3]), float(r[4]), r[6]) for r in balance] == [(DEPT_A, 1_000_000, 900_000, False)]
    assert all(r[1] != UNIT_U for r in recon)
    assert rows(con, "select publisher_code, table_key from intermediate.int_sheets_not_evaluable") == [(UNIT_U, "dept_summary")]
    hierarchy = {(r[2], float(r[3]), float(r[4]), r[6]) for r in recon if r[0] == "RECON_HIERARCHY" and r[1] == DEPT_A}
    assert ("dept_gpb_expenditure", 300.0, 250.0, False) in hierarchy
    over = [r for r in recon if r[0] == "DEBT_BALANCE_OVER_LIMIT"]
    assert {r[6] for r in over} == {False}  # every balance of the scenario is above its limit
    parts = [r for r in recon if r[0] == "DEBT_PARTS"]
    assert parts and all(r[6] for r in parts)


def test_detail_to_xiang(built):
    con = built[0]
    failing = rows(con, """select code from intermediate.int_detail_checks
                           where rule_id = 'DETAIL_FUNCTION_XIANG' and not passes""")
    leaves = {code for _, _, code, _, _, _, _, _ in GPB_LINES if code}
    short_leaves = {c for c in leaves if len(c) < 7 and not any(o != c and o.startswith(c) for o in leaves)}
    assert {c for (c,) in failing} == short_leaves


def test_fdp_vocabulary_and_amounts(built):
    con = built[0]
    got = rows(con, "select distinct phase, fdp_phase, direction from marts.fct_budget_lines")
    assert ("budget", "approved", "revenue") in got and ("budget", "approved", "expenditure") in got
    types = dict(rows(con, """select column_name, data_type from information_schema.columns
                              where table_schema = 'marts' and table_name = 'fct_budget_lines'"""))
    assert types["amount_yuan"] == "DECIMAL(20,2)"


def test_docs_generate_documents_every_mart_column(built):
    _, _, docs, target, _, _ = built
    assert docs.returncode == 0, docs.stdout[-3000:]
    import json

    manifest = json.loads((target / "manifest.json").read_text(encoding="utf-8"))
    catalog = json.loads((target / "catalog.json").read_text(encoding="utf-8"))
    marts = [n for n in manifest["nodes"].values() if n["resource_type"] == "model" and n["schema"] == "marts"]
    assert marts
    for node in marts:
        built_columns = {c.lower() for c in catalog["nodes"][node["unique_id"]]["columns"]}
        documented = {name for name, col in node["columns"].items() if col.get("description")}
        assert built_columns == documented, node["name"]
        assert node["config"]["contract"]["enforced"], node["name"]


def test_build_time_is_reported(built):
    """dbt reports how long the build took — the whole invocation and every node — consistent with the wall time
    measured around it. How fast it must be is a speed goal and lives in benchmarks/, not here (a loaded 2-core
    machine took 142 s where an idle one takes ~25)."""
    _, elapsed, _, _, build_results, stdout = built
    print(f"dbt build on the scenario: {elapsed:.1f} s (dbt: {build_results['elapsed_time']:.1f} s)")
    assert build_results["args"]["which"] == "build"
    assert 0 < build_results["elapsed_time"] <= elapsed
    assert build_results["results"], "the build reported no nodes"
    for node in build_results["results"]:
        assert node["execution_time"] >= 0, node["unique_id"]
        assert node["execution_time"] <= build_results["elapsed_time"], node["unique_id"]
    # and in the log a person reads: "Finished running … in N seconds"
    assert re.search(r"Finished running .+ in \d+ hours \d+ minutes and [\d.]+ seconds", stdout), stdout[-2000:]
