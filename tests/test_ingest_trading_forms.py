"""Trading exports as real platforms write them (issue 12), through the real framework and DuckDB:
quoted line breaks, malformed JSON Lines, GBK exports carrying UTF-8 lines, the national platform's
search response and the national data standard's one-table-per-file exports. Every file is written
here from RAW_FORMATS.md and the standard's field list; expectations come from what the test wrote."""
from __future__ import annotations

import csv
import datetime as dt
import io
import json
from decimal import Decimal
from pathlib import Path

import duckdb

from dagster_project.ingest import framework
from dagster_project.ingest.trading import load_trading_file
from dagster_project.ingest.trading_copies import duplicate_report
from dagster_project.paths import DBT_SEEDS_DIR
from test_ingest_trading import bulletins, load, load_file_row, query, write_csv


def standard_fields(table: str) -> list[tuple[str, str]]:
    """(national name, Chinese name) of a table of the national data standard, in the standard's order."""
    with (DBT_SEEDS_DIR / "ingest" / "ref_ggzy_v3_fields.csv").open(encoding="utf-8") as handle:
        return [(r["field"], r["field_name_zh"]) for r in csv.DictReader(handle) if r["table_name"] == table]


def write_standard_table(path: Path, table: str, records: list[dict], chinese: bool = False,
                         encoding: str = "utf-8") -> Path:
    """A CSV holding one table of the standard with every one of its fields, as a provincial platform exports it."""
    fields = standard_fields(table)
    header = [zh if chinese else name for name, zh in fields]
    rows = [[rec.get(name, "") for name, _ in fields] for rec in records]
    return write_csv(path, header, rows, encoding=encoding)


def all_reasons(warehouse: Path) -> list[str]:
    return [r for (r,) in query(warehouse, "SELECT reason FROM raw.load_rejects UNION ALL "
                                           "SELECT coalesce(reason, '') FROM raw.load_files")]


def test_quoted_line_breaks_load_and_rows_keep_their_numbers(gongkai_env):
    raw, wh = gongkai_env.raw_dir, gongkai_env.warehouse
    header = ["PROJECT_CODE", "BULLETIN_TYPE", "NOTICE_NAME", "NOTICE_SEND_TIME", "NOTICE_CONTENT", "BID_AMOUNT"]
    rows = [
        ["Q1", "交易公告", "宁夏某局2019年\n办公楼维修改造工程\r\n招标公告", "2019-03-01 09:00:00",
         "项目名称：办公楼维修\n预算：100万元\n\n联系人：王工，电话 0951-5012345", "1000000"],
        ["Q2", "交易公告", '带"引号"的标题', "2019-03-02 09:00:00", "第一段\r\n第二段", ""],
        ["Q3", "交易公告", "短行"],                             # too few fields: a row reject, row 4
        ["Q4", "中标结果公告", "结果", "2019-03-20 10:00:00", "成交金额：\n80万元", "80万元"],
    ]
    path = raw / "trading" / "export.csv"
    path.parent.mkdir(parents=True)
    with path.open("w", encoding="utf-8", newline="") as handle:
        w = csv.writer(handle)
        w.writerow(header)
        for row in rows:
            w.writerow(row)
    assert path.read_text(encoding="utf-8").count("\n") > len(rows) + 3   # records do span lines

    report = load(raw, wh)
    assert report.rejected == []
    got = bulletins(wh, "trading/export.csv")
    assert sorted(got) == [2, 3, 5]                      # spreadsheet rows: one per record
    assert got[2]["notice_name"] == rows[0][2] and got[2]["notice_content"] == rows[0][4]
    assert got[3]["notice_name"] == '带"引号"的标题' and got[3]["notice_content"] == "第一段\r\n第二段"
    assert got[5]["bid_amount_yuan"] == Decimal(800000)  # a unit written in the cell
    rejects = query(wh, "SELECT source_row, reason FROM raw.load_rejects")
    assert [r for r, _ in rejects] == [4] and "fewer fields" in rejects[0][1]
    status = load_file_row(wh, "trading/export.csv")
    assert (status["rows_in"], status["rows_loaded"], status["rows_rejected"]) == (4, 3, 1)


def test_malformed_json_line_is_one_row_reject_naming_its_line(gongkai_env):
    raw, wh = gongkai_env.raw_dir, gongkai_env.warehouse
    good = [{"PROJECT_CODE": f"L{i}", "BULLETIN_TYPE": "交易公告", "NOTICE_SEND_TIME": f"2019-04-0{i + 1} 09:00:00",
             "NOTICE_CONTENT": "第一行\n第二行"} for i in range(4)]
    lines = [json.dumps(good[0], ensure_ascii=False),
             json.dumps(good[1], ensure_ascii=False)[:-12],         # line 2: cut off mid-record
             json.dumps(good[2], ensure_ascii=False),
             "",                                                     # line 4: blank, not a record
             "[1, 2]",                                               # line 5: JSON, but not an object
             json.dumps(good[3], ensure_ascii=False)]
    (raw / "trading").mkdir(parents=True)
    (raw / "trading" / "stream.jsonl").write_text("\r\n".join(lines) + "\r\n", encoding="utf-8")
    report = load(raw, wh)
    assert report.rejected == []
    got = bulletins(wh, "trading/stream.jsonl")
    assert {r: b["project_code"] for r, b in got.items()} == {1: "L0", 3: "L2", 6: "L3"}
    assert got[1]["notice_content"] == "第一行\n第二行"
    rejects = dict(query(wh, "SELECT source_row, reason FROM raw.load_rejects WHERE source_file = 'trading/stream.jsonl'"))
    assert set(rejects) == {2, 5}
    assert rejects[2].startswith("第2行") and "not valid JSON" in rejects[2]
    assert "not a JSON object" in rejects[5]
    status = load_file_row(wh, "trading/stream.jsonl")
    assert (status["rows_in"], status["rows_loaded"], status["rows_rejected"], status["file_format"]) == (5, 3, 2, "jsonl")
    for reason in all_reasons(wh):
        assert str(raw) not in reason and "/tmp" not in reason, reason


def test_no_message_carries_an_absolute_path(gongkai_env):
    raw, wh = gongkai_env.raw_dir, gongkai_env.warehouse
    (raw / "trading" / "sub").mkdir(parents=True)
    # a JSON array cut short, once in UTF-8 and once in GBK (read through a transcoded temporary copy)
    (raw / "trading" / "sub" / "cut.json").write_text('[{"PROJECT_CODE": "P1", "BULLETIN_TYPE": "交易', encoding="utf-8")
    (raw / "trading" / "sub" / "cut_gbk.json").write_bytes('[{"PROJECT_CODE": "P1", "BULLETIN_TYPE": "交易'.encode("gb18030"))
    report = load(raw, wh)
    assert sorted(report.rejected) == ["trading/sub/cut.json", "trading/sub/cut_gbk.json"]
    reasons = dict(query(wh, "SELECT source_file, reason FROM raw.load_rejects"))
    for rel, reason in reasons.items():
        assert rel in reason and "JSON" in reason
    tmp_dir = str(gongkai_env.tmp_dir)
    for reason in all_reasons(wh):
        assert str(raw) not in reason and tmp_dir not in reason and "/tmp/" not in reason, reason


def test_gbk_export_with_utf8_lines_is_decoded_per_line(gongkai_env):
    raw, wh = gongkai_env.raw_dir, gongkai_env.warehouse
    header = ["项目编号", "公告类型", "招标人/采购人", "公告标题"]
    rows = [[f"M{i}", "交易公告", f"宁夏回族自治区第{i}中学", f"{'银川' if i % 2 else '吴忠'}市某项目招标公告"] for i in range(6)]
    buf = io.BytesIO()
    buf.write((",".join(header) + "\r\n").encode("gb18030"))
    for i, row in enumerate(rows):
        # rows 2 and 5 were appended by another tool that wrote UTF-8
        buf.write((",".join(row) + "\r\n").encode("utf-8" if i in (2, 5) else "gb18030"))
    (raw / "trading").mkdir(parents=True)
    (raw / "trading" / "mixed_gbk.csv").write_bytes(buf.getvalue())
    load(raw, wh)
    got = bulletins(wh, "trading/mixed_gbk.csv")
    assert [(b["tenderer_name"], b["notice_name"]) for _, b in sorted(got.items())] == [(r[2], r[3]) for r in rows]
    status = load_file_row(wh, "trading/mixed_gbk.csv")
    assert status["encoding"] == "gb18030+utf-8" and status["rows_rejected"] == 0
    assert "2 行 utf-8" in status["reason"]


def test_unicode_text_exports_utf16_tab_separated_load(gongkai_env):
    # Excel's and WPS' "Unicode text" (Unicode 文本): UTF-16 with a BOM, tab-separated, CRLF — saved as .txt or
    # named .csv. It was refused as "neither UTF-8 nor GBK" (and .txt as an unsupported type).
    raw, wh = gongkai_env.raw_dir, gongkai_env.warehouse
    header = ["项目编号", "公告类型", "招标人/采购人", "公告标题", "中标金额(万元)"]
    rows = [["U1", "中标结果公告", "宁夏回族自治区第一中学", "教学设备\n采购结果, 含\t制表符", "12.5"],
            ["U2", "交易公告", "银川市教育局😀", "𠀀扩展B区字的标题", ""],
            ["U3", "交易公告", "吴忠市某局", "标题\udc00坏", ""],   # a lone surrogate: a row reject naming its line
            ["U4", "交易公告", "中卫市某局", "最后一条", ""]]

    def unicode_text(encoding: str) -> bytes:
        out = io.StringIO()
        csv.writer(out, delimiter="\t", lineterminator="\r\n").writerows([header, *rows])
        bom = "\ufeff".encode(encoding)
        return bom + out.getvalue().encode(encoding, errors="surrogatepass")

    (raw / "trading").mkdir(parents=True)
    (raw / "trading" / "导出_unicode.txt").write_bytes(unicode_text("utf-16-le"))
    (raw / "trading" / "导出_unicode_be.csv").write_bytes(unicode_text("utf-16-be"))
    report = load(raw, wh)
    assert report.rejected == []
    for rel, encoding in (("trading/导出_unicode.txt", "utf-16-le"), ("trading/导出_unicode_be.csv", "utf-16-be")):
        got = bulletins(wh, rel)
        assert sorted(got) == [2, 3, 5]
        assert [(got[r]["tenderer_name"], got[r]["notice_name"]) for r in (2, 3, 5)] == \
            [(rows[0][2], rows[0][3]), (rows[1][2], rows[1][3]), (rows[3][2], rows[3][3])]
        assert got[2]["bid_amount_yuan"] == Decimal(125000)
        status = load_file_row(wh, rel)
        assert (status["encoding"], status["rows_in"], status["rows_loaded"], status["rows_rejected"]) == \
            (encoding, 4, 3, 1)
        assert "tab-separated" in status["reason"]
        [(row, reason)] = query(wh, "SELECT source_row, reason FROM raw.load_rejects WHERE source_file = ?", [rel])
        assert row == 4 and "unreadable UTF-16" in reason and "unreadable UTF-16" in status["reason"]


def test_an_export_with_title_lines_above_its_header_loads(gongkai_env):
    # exports that open with their title and date, a blank line, then the header (as workbooks do; it was refused
    # as "not a trading export" naming the title as its header) and end with a count line
    raw, wh = gongkai_env.raw_dir, gongkai_env.warehouse
    path = raw / "trading" / "导出_带标题.csv"
    path.parent.mkdir(parents=True)
    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        w = csv.writer(handle)
        w.writerow(["宁夏公共资源交易信息导出", "", ""])
        w.writerow(["导出时间：2019-12-31 18:00"])
        w.writerow([])
        w.writerow(["项目编号", "公告类型", "公告标题", "发布时间"])
        w.writerow(["T1", "交易公告", "标题\n跨两行", "2019-03-01 09:00:00"])
        w.writerow(["T2", "交易公告"])  # too few fields: a row reject naming row 6
        w.writerow(["T3", "中标结果公告", "结果", "2019-03-20 10:00:00"])
        w.writerow(["合计：3 条"])
    load(raw, wh)
    rel = "trading/导出_带标题.csv"
    got = bulletins(wh, rel)
    assert sorted(got) == [5, 7] and got[5]["notice_name"] == "标题\n跨两行" and got[7]["project_code"] == "T3"
    rejects = query(wh, "SELECT source_row, raw_value FROM raw.load_rejects WHERE source_file = ? ORDER BY 1", [rel])
    assert [r for r, _ in rejects] == [6, 8]  # rows as a spreadsheet shows them (a record is one row)
    status = load_file_row(wh, rel)
    assert (status["status"], status["rows_in"], status["rows_loaded"], status["rows_rejected"]) == \
        ("loaded_with_rejects", 4, 2, 2)
    assert "表头在第4行" in status["reason"]


def test_title_lines_of_a_tab_export_and_a_title_cell_broken_over_lines(gongkai_env):
    # a tab-separated export whose title line holds no tab (the delimiter is the header line's, not line 1's); a
    # title cell with a line break inside quotes above the header: refused saying why (it loaded no row, silently)
    raw, wh = gongkai_env.raw_dir, gongkai_env.warehouse
    (raw / "trading").mkdir(parents=True)
    header, row = ["项目编号", "公告类型", "公告标题"], ["TT1", "交易公告", "标题, 含逗号"]
    (raw / "trading" / "导出_制表符.txt").write_text(
        "宁夏公共资源交易信息导出, 2019年\r\n" + "\t".join(header) + "\r\n" + "\t".join(row) + "\r\n", encoding="utf-8")
    (raw / "trading" / "导出_标题换行.csv").write_text(
        '"宁夏公共资源交易\r\n信息导出"\r\n' + ",".join(header) + "\r\nTT2,交易公告,标题\r\n", encoding="utf-8")
    load(raw, wh)
    assert [b["notice_name"] for b in bulletins(wh, "trading/导出_制表符.txt").values()] == ["标题, 含逗号"]
    broken = load_file_row(wh, "trading/导出_标题换行.csv")
    assert broken["status"] == "rejected" and "line break inside quotes" in broken["reason"]


def test_platform_search_response(gongkai_env):
    raw, wh = gongkai_env.raw_dir, gongkai_env.warehouse
    records = [
        {"id": "a1", "title": "宁夏某局信息化采购项目公开招标公告", "publishTime": "2019-05-06 10:00:00",
         "informationType": "0201", "informationTypeText": "采购/资审公告", "businessType": "02",
         "businessTypeText": "政府采购", "tenderProjectCode": "NXCG-API-01", "province": "640000",
         "provinceText": "宁夏", "url": "/information/deal/html/a/640000/0201/1.html",
         "budgetAmount": "480.000000（万元）"},
        {"id": "a2", "title": "宁夏某局信息化采购项目中标公告", "publishTime": "2019-06-10 10:00:00",
         "informationType": "0202", "informationTypeText": "中标公告", "businessType": "02",
         "businessTypeText": "政府采购", "tenderProjectCode": "NXCG-API-01", "bidAmount": "1980000.00 元",
         "winBidderName": "宁夏某科技有限公司"},
        {"id": "a3", "title": "某地块出让结果", "publishTime": "2019-06-11 10:00:00", "informationType": "0302",
         "businessType": "03", "tenderProjectCode": "NXTD-API-02", "bidAmount": "0元 人民币"},
    ]
    (raw / "trading").mkdir(parents=True)
    (raw / "trading" / "search.json").write_text(json.dumps(
        {"code": 200, "msg": "success", "data": {"records": records, "total": 3, "size": 10, "current": 1}},
        ensure_ascii=False), encoding="utf-8")
    report = load(raw, wh)
    assert report.rejected == [] and report.rows_rejected == 0
    got = bulletins(wh, "trading/search.json")
    assert sorted(got) == [1, 2, 3]
    assert got[1]["bulletin_key"] == "NXCG-API-01/|announcement|2019-05-06T10:00:00|"
    assert got[1]["budget_amount_yuan"] == Decimal(4800000) and got[1]["trade_area"] == "02"
    assert got[1]["notice_name"] == records[0]["title"] and got[1]["tender_project_code"] == "NXCG-API-01"
    assert got[2]["bulletin_key"].split("|")[1] == "result" and got[2]["bid_amount_yuan"] == Decimal(1980000)
    assert got[2]["win_bidder_name"] == "宁夏某科技有限公司"
    assert got[3]["bid_amount_yuan"] == Decimal(0) and got[3]["bulletin_key"].split("|")[1] == "result"
    assert load_file_row(wh, "trading/search.json")["file_format"] == "json"


def test_national_standard_tables_map_to_bulletins(gongkai_env):
    raw, wh = gongkai_env.raw_dir, gongkai_env.warehouse
    tp = "E6401000000000001001"          # 招标项目编号 (20)
    s1, s2 = tp + "001", tp + "002"      # 标段(包)编号 (23)
    folder = raw / "trading" / "v3"
    write_standard_table(folder / "announcements.csv", "TENDER_ANN_QUA_INQUERY_ANN", [
        {"TENDER_PROJECT_CODE": tp, "NOTICE_BID_NUM": "2", "BID_SECTION_CODES": f"{s1};{s2}",
         "UNIFIED_DEAL_CODES": "U1;U2", "NOTICE_NAME": "某工程\n施工招标公告", "NOTICE_CONTENT": "第一章\n第二章",
         "NOTICE_SEND_TIME": "20190301090000", "NOTICE_NATURE": "1", "BULLETIN_TYPE": "1",
         "DOC_GET_START_TIME": "20190302090000", "DOC_GET_END_TIME": "20190309170000",
         "BID_DOC_REFER_END_TIME": "20190325093000", "BID_OPEN_TIME": "20190325093000",
         "TENDERER_NAME": "宁夏某局", "TENDERER_CODE": "11640000MB0000000X", "TENDERER_CONTACTOR": "王工",
         "TENDERER_PHONE_NUMBER": "0951-5012345", "TENDER_AGENCY_PHONE_NUMBER": "0951-6012345"},
        {"TENDER_PROJECT_CODE": tp, "BID_SECTION_CODES": s1, "UNIFIED_DEAL_CODES": "U1", "NOTICE_NAME": "变更公告",
         "NOTICE_SEND_TIME": "20190305090000", "NOTICE_NATURE": "2", "BULLETIN_TYPE": "1"},
    ])
    write_standard_table(folder / "results.csv", "WIN_RESULT_ANNO", [
        {"TENDER_PROJECT_CODE": tp, "BID_SECTION_CODE": s1, "UNIFIED_DEAL_CODE": "U1", "NOTICE_NAME": "中标结果公告",
         "NOTICE_SEND_TIME": "20190410100000", "WIN_BIDDER_NAME": "宁夏某建设工程有限公司", "BID_AMOUNT": "812.5",
         "PRICE_UNIT": "1", "NOTICE_NATURE": "1", "BULLETIN_TYPE": "1"},
    ], encoding="gb18030")
    write_standard_table(folder / "candidates_cn.csv", "TENDER_CANDIDATE_ANNOUNCE", [
        {"TENDER_PROJECT_CODE": tp, "BID_SECTION_CODES": s2, "UNIFIED_DEAL_CODE": "U2", "PUBLICITY_NAME": "候选人公示",
         "PUBLICITY_START_TIME": "20190401100000", "PUBLICITY_END_TIME": "20190404170000"},
    ], chinese=True)
    write_standard_table(folder / "gp_result.csv", "BID_DEAL_ANNOUNCE", [
        {"PURCHASE_PROJECT_CODE": "NXCG-2019-7", "PURCHASE_SECTION_CODE": "1", "UNIFIED_DEAL_CODE": "U9",
         "WIN_BID_BULLETIN_TITLE": "某采购项目成交结果公告", "WIN_BID_BULLETIN_START_TIME": "20190512150000",
         "WINNINGBIDDER_NAME": "宁夏某商贸有限公司", "WINNINGBIDDER_CODE": "91640000MA00000001", "WIN_BID_PRICE": "35000",
         "PRICE_UNIT": "0", "PURCHASER_AGENCY_NAME": "宁夏某招标代理有限公司"},
    ])
    write_standard_table(folder / "sections.csv", "SECTION", [{"TENDER_PROJECT_CODE": tp, "BID_SECTION_CODE": s1}])

    report = load(raw, wh)
    assert report.rejected == ["trading/v3/sections.csv"]
    reason = query(wh, "SELECT reason FROM raw.load_rejects WHERE source_file = 'trading/v3/sections.csv'")[0][0]
    assert "SECTION" in reason and "holds no bulletin" in reason

    ann = query(wh, "SELECT source_row, source_part, bulletin_key, bid_section_code, unified_deal_code, bulletin_type, "
                    "trade_area, notice_send_time, doc_get_start_time, contact_person, contact_phone, agency_contact_phone "
                    "FROM raw.trading_bulletins WHERE source_file = 'trading/v3/announcements.csv' ORDER BY 1, 2")
    assert [(r[0], r[1], r[3], r[4], r[5]) for r in ann] == [
        (2, 1, s1, "U1", "招标公告"), (2, 2, s2, "U2", "招标公告"), (3, 1, s1, "U1", "变更公告")]
    assert ann[0][2] == f"{tp}/{s1}|announcement|2019-03-01T09:00:00|"
    assert ann[2][2] == f"{tp}/{s1}|change|2019-03-05T09:00:00|"
    assert ann[0][6] == "工程建设项目招标投标" and ann[0][7] == dt.datetime(2019, 3, 1, 9)
    assert ann[0][8] == dt.datetime(2019, 3, 2, 9)
    assert ann[0][9:] == ("王工", "0951-5012345", "0951-6012345")
    ann_file = load_file_row(wh, "trading/v3/announcements.csv")
    assert (ann_file["rows_in"], ann_file["rows_loaded"], ann_file["detected_kind"]) == (
        2, 2, "bulletins:TENDER_ANN_QUA_INQUERY_ANN")
    assert "2 records held 3 bulletins" in ann_file["reason"]

    (res,) = bulletins(wh, "trading/v3/results.csv").values()
    assert res["bid_amount_yuan"] == Decimal("8125000") and res["bulletin_type"] == "中标结果公告"
    assert res["bulletin_key"] == f"{tp}/{s1}|result|2019-04-10T10:00:00|"
    (cand,) = bulletins(wh, "trading/v3/candidates_cn.csv").values()   # Chinese field names
    assert cand["bulletin_key"] == f"{tp}/{s2}|candidates|2019-04-01T10:00:00|"
    assert cand["publicity_end_time"] == dt.datetime(2019, 4, 4, 17)
    (gp,) = bulletins(wh, "trading/v3/gp_result.csv").values()
    assert gp["bulletin_key"] == "NXCG-2019-7/1|result|2019-05-12T15:00:00|"
    assert (gp["win_bidder_name"], gp["bid_amount_yuan"], gp["tender_agency_name"], gp["trade_area"]) == (
        "宁夏某商贸有限公司", Decimal(35000), "宁夏某招标代理有限公司", "政府采购")
    assert gp["notice_name"] == "某采购项目成交结果公告"


def test_latest_export_is_canonical_and_the_report_says_so(gongkai_env):
    raw, wh = gongkai_env.raw_dir, gongkai_env.warehouse
    header = ["PROJECT_CODE", "BULLETIN_TYPE", "NOTICE_SEND_TIME", "BID_AMOUNT"]
    result = ["C1", "中标结果公告", "2019-06-01 10:00:00", "1000"]
    # z_early.csv reaches June only; a_late.csv reaches December: a_late is the later export, though first by name
    write_csv(raw / "trading" / "z_early.csv", header, [["C0", "交易公告", "2019-05-01 09:00:00", ""], result])
    write_csv(raw / "trading" / "a_late.csv", header,
              [["C2", "交易公告", "2019-12-01 09:00:00", ""], ["C1", "中标公告", "2019-06-01 10:00:00", "1200"]])
    load(raw, wh)
    con = duckdb.connect(str(wh))
    try:
        report = duplicate_report(con)
    finally:
        con.close()
    # 中标结果公告 and 中标公告 of one deal at one time are one bulletin (the key carries the closed type code)
    assert report["duplicate_keys"] == 1
    assert [(e["source_file"], e["source_row"], e["duplicate_of"], e["duplicate_row"]) for e in report["examples"]] == [
        ("trading/z_early.csv", 3, "trading/a_late.csv", 3)]


def test_rows_of_an_older_warehouse_are_reloaded_with_new_keys(gongkai_env):
    raw, wh = gongkai_env.raw_dir, gongkai_env.warehouse
    write_csv(raw / "trading" / "t.csv", ["PROJECT_CODE", "BULLETIN_TYPE"], [["O1", "交易公告"]])
    load(raw, wh)
    con = duckdb.connect(str(wh))
    try:   # what a warehouse built before issue 12 holds: no source_part, keys with the type as published
        for column in ("source_part", "contact_person", "agency_contact_person", "agency_contact_phone"):
            con.execute(f"ALTER TABLE raw.trading_bulletins DROP COLUMN {column}")
        con.execute("UPDATE raw.trading_bulletins SET bulletin_key = 'O1/|交易公告||'")
        report = framework.load_family(con, raw, "trading", load_trading_file)
    finally:
        con.close()
    assert report.loaded == ["trading/t.csv"]
    assert query(wh, "SELECT bulletin_key, source_part FROM raw.trading_bulletins WHERE NOT is_retired") == [
        ("O1/|announcement||", 1)]
    # the old-form row is kept as the superseded version; it does not mark the file for reloading again
    assert query(wh, "SELECT bulletin_key, source_part FROM raw.trading_bulletins WHERE is_retired") == [
        ("O1/|交易公告||", None)]
    again = load(raw, wh)
    assert again.unchanged == ["trading/t.csv"]
