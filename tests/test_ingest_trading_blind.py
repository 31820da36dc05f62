"""Trading exports written blind from RAW_FORMATS.md (wave 12): what gongkai misread when the files were made from
the contract rather than from the sample's shapes. Files are written here by Python's csv and json modules, as a
platform's export script writes them; expectations come from what the test wrote."""
from __future__ import annotations

import csv
import json
from decimal import Decimal

from test_ingest_trading import bulletins, load, load_file_row, query


def test_search_records_carrying_only_the_text_keys_keep_their_type_and_area(gongkai_env):
    # The national search service's records do not all carry the same keys: one gives informationType and
    # businessType (codes), the next only their *Text twins. Each key names the same field; a record lacking the
    # first must be read from the second, not left without a bulletin type or trade area.
    raw, wh = gongkai_env.raw_dir, gongkai_env.warehouse
    records = [
        {"title": "某局设备采购公告", "publishTime": "2019-05-06 10:00:00", "informationType": "0201",
         "businessType": "02", "tenderProjectCode": "BLIND-S-1"},
        {"title": "某路工程中标公告", "publishTime": "2019-06-10 10:00:00", "informationTypeText": "中标公告",
         "businessTypeText": "工程建设", "tenderProjectCode": "BLIND-S-2", "bidAmount": "1980000.00 元"},
        {"title": "某地块成交公示", "publishTime": "2019-06-11", "informationTypeText": "成交公示",
         "businessTypeText": "国有土地使用权出让", "tenderProjectCode": "BLIND-S-3", "bidAmount": "待定"},
    ]
    (raw / "trading").mkdir(parents=True)
    (raw / "trading" / "search.json").write_text(json.dumps(
        {"code": 200, "data": {"records": records, "total": len(records)}}, ensure_ascii=False), encoding="utf-8")
    load(raw, wh)
    got = bulletins(wh, "trading/search.json")
    assert got[1]["bulletin_type"] == "0201" and got[1]["trade_area"] == "02"
    assert got[2]["bulletin_type"] == "中标公告" and got[2]["trade_area"] == "工程建设"
    assert got[2]["bulletin_key"].split("|")[1] == "result" and got[2]["bid_amount_yuan"] == Decimal(1980000)
    assert 3 not in got   # 待定 is no amount: a row reject
    note = load_file_row(wh, "trading/search.json")["reason"]
    assert "informationTypeText" in note and "read only where that one is blank" in note


def test_a_bad_value_read_from_a_later_column_names_that_column(gongkai_env):
    raw, wh = gongkai_env.raw_dir, gongkai_env.warehouse
    header = ["项目编号", "公告类型", "发布时间", "NOTICE_SEND_TIME"]
    path = raw / "trading" / "two_time_columns.csv"
    path.parent.mkdir(parents=True)
    with path.open("w", encoding="utf-8", newline="") as handle:
        w = csv.writer(handle)
        w.writerow(header)
        w.writerow(["T1", "交易公告", "2019-03-01 09:00", ""])
        w.writerow(["T2", "交易公告", "", "20190302090000"])
        w.writerow(["T3", "交易公告", "", "下周一"])
    load(raw, wh)
    got = bulletins(wh, "trading/two_time_columns.csv")
    assert str(got[2]["notice_send_time"]) == "2019-03-01 09:00:00"
    assert str(got[3]["notice_send_time"]) == "2019-03-02 09:00:00"
    rejects = query(wh, "SELECT source_row, source_column, raw_value FROM raw.load_rejects "
                        "WHERE source_file = 'trading/two_time_columns.csv'")
    assert rejects == [(4, "NOTICE_SEND_TIME", "下周一")]


def test_a_dash_in_an_amount_count_or_time_states_nothing(gongkai_env):
    # Platforms print a dash where a notice has no amount, bidder count or contract time (中标候选人公示 before the
    # award; a 交易公告 with no ceiling price): the bulletin is there, the value is not — blank, not a bad amount,
    # and not 0. Any other text (待定) stays a row reject.
    raw, wh = gongkai_env.raw_dir, gongkai_env.warehouse
    header = ["项目编号", "标段(包)编号", "公告类型", "公告标题", "发布时间", "预算金额(万元)", "中标金额", "投标人数",
              "合同签订时间"]
    rows = [
        ["D1", "01", "交易公告", "有限价", "2019-03-01 09:00", "120.5", "-", "-", "-"],
        ["D1", "01", "中标候选人公示", "全角横线", "2019-03-20 09:00", "－", "—", "5", "——"],
        ["D2", "01", "中标结果公告", "待定金额", "2019-03-21 09:00", "", "待定", "", ""],
        ["D3", "01", "中标结果公告", "有金额", "2019-03-22 09:00", "-", "1,000", "3", "2019-03-30"],
    ]
    path = raw / "trading" / "dashes.csv"
    path.parent.mkdir(parents=True)
    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        w = csv.writer(handle)
        w.writerow(header)
        w.writerows(rows)
    load(raw, wh)
    got = bulletins(wh, "trading/dashes.csv")
    assert sorted(got) == [2, 3, 5]
    assert got[2]["budget_amount_yuan"] == Decimal(1205000) and got[2]["bid_amount_yuan"] is None
    assert got[2]["bidder_count"] is None and got[2]["contract_sign_time"] is None
    assert got[3]["budget_amount_yuan"] is None and got[3]["bid_amount_yuan"] is None and got[3]["bidder_count"] == 5
    assert got[5]["bid_amount_yuan"] == Decimal(1000) and got[5]["budget_amount_yuan"] is None
    rejects = query(wh, "SELECT source_row, source_column, raw_value FROM raw.load_rejects "
                        "WHERE source_file = 'trading/dashes.csv'")
    assert rejects == [(4, "中标金额", "待定")]


def test_a_unit_written_with_its_currency_reads_as_the_unit(gongkai_env):
    # 单位：人民币万元 is how a Chinese table states its unit; the currency word names no unit of its own, in a header,
    # in the AMOUNT_UNIT column or in the cell alike
    raw, wh = gongkai_env.raw_dir, gongkai_env.warehouse
    header = ["项目编号", "公告类型", "发布时间", "预算金额", "中标金额（人民币万元）", "AMOUNT_UNIT"]
    rows = [["U1", "交易公告", "2019-03-01", "480", "", "人民币万元"],
            ["U1", "中标结果公告", "2019-03-20", "", "452.5", ""],
            ["U2", "交易公告", "2019-03-02", "12", "", "金额单位：人民币亿元"]]
    path = raw / "trading" / "currency.csv"
    path.parent.mkdir(parents=True)
    with path.open("w", encoding="gb18030", newline="") as handle:
        w = csv.writer(handle)
        w.writerow(header)
        w.writerows(rows)
    load(raw, wh)
    got = bulletins(wh, "trading/currency.csv")
    assert got[2]["budget_amount_yuan"] == Decimal(4800000)
    assert got[3]["bid_amount_yuan"] == Decimal(4525000)
    assert got[4]["budget_amount_yuan"] == Decimal(1200000000)
    assert query(wh, "SELECT count(*) FROM raw.load_rejects") == [(0,)]


def test_a_standard_table_written_by_pandas_with_blanks_reads_its_float_columns(gongkai_env):
    # A platform script exporting a table of the standard with pandas: a column with a blank cell is float64, so
    # to_csv / to_json write yyyyMMddHHmmss as 20190715100000.0 and the PRICE_UNIT code as 1.0. A reader sees the
    # time and the code; so must the loader (REGION_CODE 640100.0 was already read as a code).
    import numpy as np
    import pandas as pd

    from test_ingest_trading_forms import standard_fields

    raw, wh = gongkai_env.raw_dir, gongkai_env.warehouse
    names = [name for name, _ in standard_fields("WIN_RESULT_ANNO")]
    records = [
        dict(TENDER_PROJECT_CODE="E6401000001000001001", BID_SECTION_CODE="E6401000001000001001001", REGION_CODE=640100,
             NOTICE_NAME="某工程中标结果公告", NOTICE_SEND_TIME=20190715100000, NOTICE_NATURE=1, BULLETIN_TYPE=1,
             WIN_BIDDER_NAME="宁夏某建设公司", BID_AMOUNT=1520.5, PRICE_UNIT=1),
        dict(TENDER_PROJECT_CODE="E6401000001000001002", BID_SECTION_CODE="E6401000001000001002001", REGION_CODE=np.nan,
             NOTICE_NAME="另一工程中标结果公告", NOTICE_SEND_TIME=np.nan, NOTICE_NATURE=1, BULLETIN_TYPE=1,
             WIN_BIDDER_NAME="宁夏某路桥公司", BID_AMOUNT=np.nan, PRICE_UNIT=np.nan),
    ]
    frame = pd.DataFrame(records, columns=names)
    (raw / "trading").mkdir(parents=True)
    frame.to_csv(raw / "trading" / "win_result.csv", index=False, encoding="utf-8-sig")
    frame.to_json(raw / "trading" / "win_result.jsonl", orient="records", lines=True, force_ascii=False)
    assert "20190715100000.0" in (raw / "trading" / "win_result.csv").read_text(encoding="utf-8-sig")  # as pandas writes it
    load(raw, wh)
    assert query(wh, "SELECT count(*) FROM raw.load_rejects") == [(0,)]
    for rel, first in (("trading/win_result.csv", 2), ("trading/win_result.jsonl", 1)):
        got = bulletins(wh, rel)
        assert str(got[first]["notice_send_time"]) == "2019-07-15 10:00:00"
        assert got[first]["bid_amount_yuan"] == Decimal("15205000")   # PRICE_UNIT 1 = 万元
        assert got[first]["region_code"] == "640100" and got[first]["bulletin_type"] == "中标结果公告"
        assert got[first + 1]["notice_send_time"] is None and got[first + 1]["bid_amount_yuan"] is None


def test_a_search_answer_that_found_nothing_is_an_empty_export_not_a_wrong_file(gongkai_env):
    # The search service answers a query with no hits with an empty record list; a day with no bulletins exports [].
    # Like a CSV holding only its header, that is an export of no bulletins. An error answer is no export at all.
    raw, wh = gongkai_env.raw_dir, gongkai_env.warehouse
    (raw / "trading").mkdir(parents=True)
    (raw / "trading" / "none_found.json").write_text(json.dumps(
        {"code": 200, "msg": "success", "data": {"records": [], "total": 0, "size": 10, "current": 1}}), encoding="utf-8")
    (raw / "trading" / "empty_day.json").write_text(json.dumps([]), encoding="utf-8")
    (raw / "trading" / "error_answer.json").write_text(json.dumps(
        {"code": 500, "msg": "系统繁忙, 请稍后再试"}, ensure_ascii=False), encoding="utf-8")
    # a failed query keeps the answer's shape, records and all: its empty list says nothing about the bulletins
    (raw / "trading" / "failed_query.json").write_text(json.dumps(
        {"code": 500, "msg": "查询失败", "data": {"records": [], "total": 0}}, ensure_ascii=False), encoding="utf-8")
    (raw / "trading" / "unsuccessful.json").write_text(json.dumps(
        {"success": False, "data": []}, ensure_ascii=False), encoding="utf-8")
    report = load(raw, wh)
    assert sorted(report.rejected) == ["trading/error_answer.json", "trading/failed_query.json",
                                       "trading/unsuccessful.json"]
    for rel in ("trading/none_found.json", "trading/empty_day.json"):
        row = load_file_row(wh, rel)
        assert (row["status"], row["rows_in"], row["rows_loaded"]) == ("loaded", 0, 0)
        assert "no records" in row["reason"]


def test_rejected_trading_rows_reach_the_quality_report_with_personal_numbers_masked(gongkai_env, tmp_path):
    # A rejected record is the publisher's text as found: a malformed JSON line holding its notice (an ID number, a
    # mobile), a mobile typed into an amount column, a formula in a time column. The report and rejects.csv mask
    # personal numbers and neutralise formulas as the findings files do (CONTRACTS.md §5).
    import duckdb

    from dagster_project.quality import report_sections

    raw, wh = gongkai_env.raw_dir, gongkai_env.warehouse
    id_number, mobile, other_mobile = "640104198001011235", "13600001111", "13600002222"
    (raw / "trading").mkdir(parents=True)
    with (raw / "trading" / "stream.jsonl").open("w", encoding="utf-8") as handle:
        handle.write(json.dumps({"PROJECT_CODE": "R1", "BULLETIN_TYPE": "交易公告", "NOTICE_SEND_TIME": "2019-05-01"}) + "\n")
        handle.write(f'{{"PROJECT_CODE": "R2", "NOTICE_CONTENT": "联系人身份证 {id_number} 电话 {mobile}", \n')
    with (raw / "trading" / "export.csv").open("w", encoding="utf-8", newline="") as handle:
        w = csv.writer(handle)
        w.writerow(["项目编号", "公告类型", "发布时间", "中标金额"])
        w.writerow(["R3", "中标结果公告", "2019-05-02", f"见附件，联系{other_mobile}"])
        w.writerow(["R4", "中标结果公告", '=HYPERLINK("http://x","2019-05-03")', "100"])
    load(raw, wh)
    con = duckdb.connect(str(wh), read_only=True)
    try:
        files, rows = report_sections.read_rejects(con)
    finally:
        con.close()
    assert len(rows) == 3   # the records are rejected, their text kept in raw.load_rejects for the Bureau
    page = report_sections.rejects_section(files, rows)
    exported = report_sections.write_rejects_csv(rows, tmp_path / "rejects.csv").read_text(encoding="utf-8-sig")
    for text in (page, exported):
        for number in (id_number, mobile, other_mobile):
            assert number not in text
        assert "640104********1235" in text and "136****2222" in text
    assert ',"=HYPERLINK' not in exported and "'=HYPERLINK" in exported


def test_a_header_cell_broken_over_two_lines_keeps_every_record(gongkai_env):
    # A header cell typed with Alt+Enter (中标金额 / (万元) on two lines) is written as a quoted LF inside a CRLF file —
    # by Excel, and by Python's csv module as here. DuckDB took the file's line end from that first LF and read no
    # record at all, saying nothing: the file loaded 0 of its rows.
    raw, wh = gongkai_env.raw_dir, gongkai_env.warehouse
    header = ["项目编号", "公告类型", "发布\n时间", "中标金额\n(万元)"]
    rows = [["M1", "中标结果公告", "2019-03-01 09:00", "12.5"],
            ["M2", "中标结果公告", "2019-03-02 09:00", "待定"],
            ["M3", "交易公告", "2019-03-03 09:00", ""]]
    for name, encoding in (("alt_enter.csv", "utf-8-sig"), ("alt_enter_gbk.csv", "gbk")):
        path = raw / "trading" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("w", encoding=encoding, newline="") as handle:
            w = csv.writer(handle)
            w.writerow(header)
            w.writerows(rows)
        assert b'"\xe5\x8f\x91\xe5\xb8\x83\n' in path.read_bytes() or encoding == "gbk"   # LF inside, CRLF after
    load(raw, wh)
    for name in ("alt_enter.csv", "alt_enter_gbk.csv"):
        row = load_file_row(wh, f"trading/{name}")
        assert (row["rows_in"], row["rows_loaded"], row["rows_rejected"]) == (3, 2, 1)
        got = bulletins(wh, f"trading/{name}")
        assert sorted(got) == [2, 4]
        assert got[2]["bid_amount_yuan"] == Decimal(125000) and str(got[2]["notice_send_time"]) == "2019-03-01 09:00:00"
        assert query(wh, "SELECT source_row, source_column FROM raw.load_rejects WHERE source_file = ?",
                     [f"trading/{name}"]) == [(3, "中标金额\n(万元)")]


def test_a_dash_in_the_first_column_naming_a_field_gives_way_to_a_later_one(gongkai_env):
    # review R: the dash was made blank after the columns were merged, so '-' in BID_AMOUNT hid 中标金额's 1000
    raw, wh = gongkai_env.raw_dir, gongkai_env.warehouse
    records = [{"PROJECT_CODE": "DASH-1", "BULLETIN_TYPE": "中标结果公告", "NOTICE_SEND_TIME": "-",
                "公告发布时间": "2019-03-23 09:00:00", "BID_AMOUNT": "-", "中标金额": "1000"}]
    (raw / "trading").mkdir(parents=True)
    (raw / "trading" / "dash_first.json").write_text(json.dumps(records, ensure_ascii=False), encoding="utf-8")
    load(raw, wh)
    got = bulletins(wh, "trading/dash_first.json")
    assert str(got[1]["notice_send_time"]) == "2019-03-23 09:00:00"
    assert got[1]["bid_amount_yuan"] == Decimal(1000)
