"""A consortium in the national standard's 513 中标结果公告 (WIN_RESULT_ANNO), one row per member: the table's
UNION_NAME 联合体名称 / UNION_CODE 联合体代码 name the consortium beside each member's WIN_BIDDER_NAME / WIN_BIDDER_CODE
(``reference_ggzy_v3_fields.csv``). A reader of the table sees one result whose winner is the consortium; gongkai
read one bulletin per member row, the same key with a different winner each — a false TRADE_CONFLICTING_COPIES and
a consortium's OCDS party taken from one member. Written as a platform's export job writes the table (Python's csv
module, every field of 513 in the standard's order, times ``yyyyMMddHHmmss``). Ingest-level: no dbt build."""
from __future__ import annotations

import csv
from decimal import Decimal

import duckdb

from dagster_project.ingest.trading_fields import standard_tables
from dagster_project.paths import DBT_SEEDS_DIR
from dagster_project.publish.ocds_reference import _party
from dagster_project.publish.ocds_config import candidate_items
from test_ingest_trading import bulletins, load, load_file_row, write_csv

LEAD, MEMBER, OTHER = ("宁夏甲建设工程有限公司", "91640100MA00000011"), ("宁夏乙设计研究院", "12640000MB00000022"), \
    ("宁夏丙路桥有限公司", "91640200MA00000033")
TP = "E6401000000000009001"


def _fields() -> list[str]:
    with (DBT_SEEDS_DIR / "ingest" / "ref_ggzy_v3_fields.csv").open(encoding="utf-8") as handle:
        return [r["field"] for r in csv.DictReader(handle) if r["table_name"] == "WIN_RESULT_ANNO"]


def _row(section: str, sent: str, winner: tuple[str, str], union: tuple[str, str] | None, amount: str = "1234.5",
         **extra: str) -> dict[str, str]:
    row = {"TENDER_PROJECT_CODE": TP, "BID_SECTION_CODE": f"{TP}{section}", "UNIFIED_DEAL_CODE": f"U{section}",
           "REGION_CODE": "640100", "TRA_PLACE_CODE": "640100", "TENDER_AGENCY_NAME": "宁夏某招标代理有限公司",
           "TENDER_AGENCY_CODE": "91640100MA00000099", "NOTICE_NAME": f"某学校综合楼工程{section}标段中标结果公告",
           "NOTICE_CONTENT": "中标人：见下表，中标金额见下表。", "NOTICE_SEND_TIME": sent, "NOTICE_MEDIA": "宁夏公共资源交易网",
           "URL": f"http://ggzy.example/zbjg/{section}.html", "NOTICE_NATURE": "1", "BULLETIN_TYPE": "1",
           "WIN_BIDDER_NAME": winner[0], "BIDDER_CODE_TYPE": "1", "WIN_BIDDER_CODE": winner[1], "BIDDER_ROLE": "01",
           "UNION_CODE": union[1] if union else "", "UNION_NAME": union[0] if union else "", "PRICE_FORM_CODE": "0",
           "BID_AMOUNT": amount, "BID_CURRENCY": "CNY", "PRICE_UNIT": "1", "BULLETIN_DUTY": "张某", "EXAMINER_NAME": "李某"}
    row.update(extra)
    return row


UNION = ("宁夏甲建设工程有限公司、宁夏乙设计研究院联合体", "LHT2020000001")


def _write(raw, rows: list[dict[str, str]], name: str = "513_WIN_RESULT_ANNO.csv"):
    fields = _fields()
    return write_csv(raw / "trading" / name, fields, [[r.get(f, "") for f in fields] for r in rows])


def test_a_consortium_listed_one_member_per_row_is_one_result_naming_the_consortium(gongkai_env):
    raw, wh = gongkai_env.raw_dir, gongkai_env.warehouse
    assert {"UNION_NAME", "UNION_CODE"} <= standard_tables()["WIN_RESULT_ANNO"].fields
    _write(raw, [
        _row("001", "20200512100000", LEAD, UNION),
        # the member's row repeats the notice; the amount stated once, on the lead's row, contradicts nothing
        _row("001", "20200512100000", MEMBER, UNION, amount="", BIDDER_ROLE="02"),
        # another section won by one firm alone
        _row("002", "20200512100000", OTHER, None, amount="980"),
    ])
    load(raw, wh)
    got = bulletins(wh, "trading/513_WIN_RESULT_ANNO.csv")
    assert sorted(got) == [2, 4], "the member's row (3) is part of the consortium's bulletin, not one of its own"
    consortium, alone = got[2], got[4]
    assert candidate_items(consortium["win_bidder_name"]) == [consortium["win_bidder_name"]]  # one winner
    assert [n for n in (LEAD[0], MEMBER[0]) if n in consortium["win_bidder_name"]] == [LEAD[0], MEMBER[0]]
    assert consortium["bid_amount_yuan"] == Decimal("12345000")
    assert (alone["win_bidder_name"], alone["win_bidder_code"]) == OTHER
    # the OCDS party: the consortium's id from both members' codes, whichever way the consortium is written
    one_cell = _party(f"{LEAD[0]}、{MEMBER[0]}联合体", f"{LEAD[1]}、{MEMBER[1]}", ["supplier"], "CN-USCC")
    rows_party = _party(consortium["win_bidder_name"], consortium["win_bidder_code"], ["supplier"], "CN-USCC")
    assert rows_party["id"] == one_cell["id"] and rows_party["additionalIdentifiers"] == one_cell["additionalIdentifiers"]
    assert "identifier" not in rows_party
    note = load_file_row(wh, "trading/513_WIN_RESULT_ANNO.csv")["reason"]
    assert "2 行读作 1 条公告" in note


def test_rows_of_one_consortium_that_state_different_notices_stay_apart(gongkai_env):
    # the same consortium on two rows of one key whose amounts differ: two versions of the notice (or each member's
    # share) — not folded, so the conflict stays visible (the amounts differ); each row, and a consortium named on one
    # row alone, names the consortium its 联合体名称 lists (甲、乙联合体): the same winner whichever member's row a file holds
    raw, wh = gongkai_env.raw_dir, gongkai_env.warehouse
    _write(raw, [
        _row("001", "20200512100000", LEAD, UNION, amount="1234.5"),
        _row("001", "20200512100000", MEMBER, UNION, amount="1300"),
        _row("003", "20200512100000", LEAD, UNION),
    ])
    load(raw, wh)
    got = bulletins(wh, "trading/513_WIN_RESULT_ANNO.csv")
    assert sorted(got) == [2, 3, 4]
    assert [got[r]["win_bidder_name"] for r in (2, 3, 4)] == [UNION[0]] * 3
    assert [got[r]["bid_amount_yuan"] for r in (2, 3)] == [Decimal("12345000"), Decimal("13000000")]
    # 联合体代码 is one code, not one per member: each member's own code in its slot
    assert [got[r]["win_bidder_code"] for r in (2, 3, 4)] == [f"{LEAD[1]}、", f"、{MEMBER[1]}", f"{LEAD[1]}、"]


def test_members_written_with_their_roles_and_whitespace_in_the_union_name(gongkai_env):
    # an office's export: names carrying 牵头人/成员 marks, the union name with a stray space on one row; rows of two
    # consortia of two sections interleaved
    raw, wh = gongkai_env.raw_dir, gongkai_env.warehouse
    spaced = (UNION[0].replace("、", "、 "), UNION[1])
    _write(raw, [
        _row("001", "20200512100000", (f"{LEAD[0]}（牵头人）", LEAD[1]), UNION),
        _row("002", "20200512100000", (f"{OTHER[0]}（牵头人）", OTHER[1]), ("丙丁联合体", "")),
        _row("001", "20200512100000", (f"{MEMBER[0]}（成员）", MEMBER[1]), spaced),
        _row("002", "20200512100000", ("宁夏丁监理有限公司（成员）", ""), ("丙丁联合体", "")),
    ])
    load(raw, wh)
    got = bulletins(wh, "trading/513_WIN_RESULT_ANNO.csv")
    assert sorted(got) == [2, 3]
    assert got[2]["win_bidder_name"] == f"{LEAD[0]}（牵头人）、{MEMBER[0]}（成员）"
    assert got[2]["win_bidder_code"] == f"{LEAD[1]}、{MEMBER[1]}"
    assert got[3]["win_bidder_name"] == f"{OTHER[0]}（牵头人）、宁夏丁监理有限公司（成员）"
    assert got[3]["win_bidder_code"] == f"{OTHER[1]}、"   # the member's blank code keeps its slot (review V1 item 9)
    con = duckdb.connect(str(wh))
    try:
        assert con.execute("SELECT count(*) FROM raw.load_rejects").fetchone()[0] == 0
    finally:
        con.close()


def test_a_chinese_named_513_workbook_with_three_members_and_a_damaged_code(gongkai_env):
    # an office's copy: 513 saved as .xlsx (openpyxl) under the standard's Chinese names, a consortium of three, the
    # consortium's name written with a full-width space on one row, one member's code turned into 9.16402E+17 by a
    # spreadsheet (no code: blanked, its own finding) — still one bulletin, the two readable codes its members'
    import openpyxl

    raw, wh = gongkai_env.raw_dir, gongkai_env.warehouse
    zh = {r: z for r, z in zip(_fields(), _zh_names())}
    third = ("宁夏丁监理咨询有限公司", "9.16402E+17")
    rows = [_row("001", "20200512100000", LEAD, UNION), _row("001", "20200512100000", MEMBER, (UNION[0] + "　", UNION[1])),
            _row("001", "20200512100000", third, UNION)]
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append([zh[f] for f in _fields()])
    for row in rows:
        sheet.append([row.get(f, "") for f in _fields()])
    (raw / "trading").mkdir(parents=True)
    book.save(raw / "trading" / "513_中标结果公告.xlsx")
    load(raw, wh)
    (got,) = bulletins(wh, "trading/513_中标结果公告.xlsx").values()
    assert got["win_bidder_name"] == f"{LEAD[0]}、{MEMBER[0]}、{third[0]}联合体"
    assert got["win_bidder_code"] == f"{LEAD[1]}、{MEMBER[1]}、"   # the damaged code's slot kept, position for position
    con = duckdb.connect(str(wh))
    try:
        (blanked,) = con.execute("SELECT count(*) FROM raw.load_blanked_cells").fetchone()
    finally:
        con.close()
    assert blanked == 1


def _zh_names() -> list[str]:
    with (DBT_SEEDS_DIR / "ingest" / "ref_ggzy_v3_fields.csv").open(encoding="utf-8") as handle:
        return [r["field_name_zh"] for r in csv.DictReader(handle) if r["table_name"] == "WIN_RESULT_ANNO"]


def test_a_consortium_split_across_two_overlapping_exports_is_one_winner_in_both(gongkai_env):
    # an export job paging by time wrote the lead's row at the end of one file and the member's row at the start of the
    # next (the files overlap: both hold the other section). Each file alone holds ONE row of the consortium, whose
    # 联合体名称 lists its members and 联合体代码 their codes (as the X5 probe's WIN_RESULT_ANNO_lead/_members): each row
    # read its member as the winner, two copies of one bulletin naming different winners — the deal's winner the lead
    # alone and a false TRADE_CONFLICTING_COPIES. Now both copies name the consortium as its name lists it, equal.
    raw, wh = gongkai_env.raw_dir, gongkai_env.warehouse
    listed = (f"{LEAD[0]};{MEMBER[0]}联合体", f"{LEAD[1]};{MEMBER[1]}")
    _write(raw, [_row("002", "20200511100000", OTHER, None, amount="980"),
                 _row("001", "20200512100000", LEAD, listed)], name="WIN_RESULT_ANNO_20200512.csv")
    _write(raw, [_row("001", "20200512100000", MEMBER, listed, amount="", BIDDER_ROLE="02"),
                 _row("002", "20200511100000", OTHER, None, amount="980")], name="WIN_RESULT_ANNO_20200513.csv")
    load(raw, wh)
    first = bulletins(wh, "trading/WIN_RESULT_ANNO_20200512.csv")[3]
    second = bulletins(wh, "trading/WIN_RESULT_ANNO_20200513.csv")[2]
    consortium = (f"{LEAD[0]}、{MEMBER[0]}联合体", f"{LEAD[1]}、{MEMBER[1]}")
    assert (first["win_bidder_name"], first["win_bidder_code"]) == consortium
    assert (second["win_bidder_name"], second["win_bidder_code"]) == consortium
    assert first["bulletin_key"] == second["bulletin_key"]
    # the lone firm of the other section keeps its own name; each file's note says which rows read the consortium
    assert bulletins(wh, "trading/WIN_RESULT_ANNO_20200512.csv")[2]["win_bidder_name"] == OTHER[0]
    assert "联合体名称列出其成员" in load_file_row(wh, "trading/WIN_RESULT_ANNO_20200513.csv")["reason"]
