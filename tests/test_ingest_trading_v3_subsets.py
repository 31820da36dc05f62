"""Tables of the national data standard (数据规范 V3) as provinces export them: one table per file, its required
fields plus some rather than every field, headers as national names or as the standard's Chinese names. Written
blind from ``reference_ggzy_v3_fields.csv`` by pandas, openpyxl and Python's csv module, as a platform's export
job writes them; expectations come from what the test wrote and what the standard says the fields mean."""
from __future__ import annotations

import csv
import datetime as dt
from decimal import Decimal

import openpyxl
import pandas as pd

from dagster_project.ingest.trading_fields import bind_headers, standard_tables
from dagster_project.paths import DBT_SEEDS_DIR
from test_ingest_trading import bulletins, load, load_file_row, query, write_csv
from test_ingest_trading_forms import standard_fields


def required_fields(table: str) -> list[str]:
    """The fields the standard says are never blank (not_null), in the standard's order."""
    with (DBT_SEEDS_DIR / "ingest" / "ref_ggzy_v3_fields.csv").open(encoding="utf-8") as handle:
        return [r["field"] for r in csv.DictReader(handle) if r["table_name"] == table and r["not_null"] == "yes"]


def test_a_table_exported_with_a_third_of_its_fields_is_still_that_table(gongkai_env):
    # 503 招标公告与资格预审公告 has 41 fields; this province exports 14 of them. Its codes mean what the table
    # says (BULLETIN_TYPE 1 = 招标公告, NOTICE_NATURE 2 = change notice) and its trade area is the table's — read as
    # a flat export they passed through as '1' / '2' and the bulletins had no trade area.
    raw, wh = gongkai_env.raw_dir, gongkai_env.warehouse
    tp = "E6401000000000002001"
    frame = pd.DataFrame([
        {"TENDER_PROJECT_CODE": tp, "BID_SECTION_CODES": f"{tp}001", "UNIFIED_DEAL_CODES": "U31",
         "NOTICE_NAME": "某中学教学楼施工招标公告", "NOTICE_SEND_TIME": "20200302090000", "NOTICE_MEDIA": "宁夏公共资源交易网",
         "URL": "http://ggzy.example/a/1", "NOTICE_NATURE": "1", "BULLETIN_TYPE": "1",
         "BID_DOC_REFER_END_TIME": "20200325093000", "BID_OPEN_TIME": "20200325093000",
         "TENDERER_NAME": "某县教育局", "TENDERER_CODE": "11640000MB0000001X", "TENDER_AGENCY_NAME": "某招标代理公司"},
        {"TENDER_PROJECT_CODE": tp, "BID_SECTION_CODES": f"{tp}001", "UNIFIED_DEAL_CODES": "U31",
         "NOTICE_NAME": "某中学教学楼施工招标变更公告", "NOTICE_SEND_TIME": "20200310090000", "NOTICE_MEDIA": "宁夏公共资源交易网",
         "URL": "http://ggzy.example/a/2", "NOTICE_NATURE": "2", "BULLETIN_TYPE": "1",
         "BID_DOC_REFER_END_TIME": "20200330093000", "BID_OPEN_TIME": "20200330093000",
         "TENDERER_NAME": "某县教育局", "TENDERER_CODE": "11640000MB0000001X", "TENDER_AGENCY_NAME": "某招标代理公司"},
    ])
    (raw / "trading").mkdir(parents=True)
    frame.to_csv(raw / "trading" / "503_subset.csv", index=False, encoding="utf-8-sig")
    load(raw, wh)
    got = bulletins(wh, "trading/503_subset.csv")
    assert (got[2]["bulletin_type"], got[3]["bulletin_type"]) == ("招标公告", "变更公告")
    assert {b["trade_area"] for b in got.values()} == {"工程建设项目招标投标"}
    assert got[2]["bulletin_key"] == f"{tp}/{tp}001|announcement|2020-03-02T09:00:00|"
    assert load_file_row(wh, "trading/503_subset.csv")["detected_kind"] == "bulletins:TENDER_ANN_QUA_INQUERY_ANN"


def test_a_chinese_named_subset_in_a_workbook_reads_its_price_unit_code(gongkai_env):
    # 513 中标结果公告 written to .xlsx by openpyxl with the standard's Chinese names, 10 of its 28 fields:
    # 价格单位 1 is 万元 by the standard's code list, so 812.5 is 8 125 000 元 (the file was not recognised, 价格单位
    # went unread and 812.5 万元 loaded as 812.5 元)
    raw, wh = gongkai_env.raw_dir, gongkai_env.warehouse
    zh = dict(standard_fields("WIN_RESULT_ANNO"))
    record = {"TENDER_PROJECT_CODE": "E6402000000000003001", "BID_SECTION_CODE": "E6402000000000003001001",
              "UNIFIED_DEAL_CODE": "U41", "NOTICE_NAME": "某道路工程中标结果公告", "NOTICE_SEND_TIME": "20200512100000",
              "NOTICE_MEDIA": "宁夏公共资源交易网", "WIN_BIDDER_NAME": "宁夏某路桥有限公司", "BID_AMOUNT": 812.5,
              "PRICE_UNIT": "1", "EXAMINER_NAME": "李某"}
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append([zh[name] for name in record])
    sheet.append(list(record.values()))
    (raw / "trading").mkdir(parents=True)
    book.save(raw / "trading" / "513_subset_cn.xlsx")
    load(raw, wh)
    (res,) = bulletins(wh, "trading/513_subset_cn.xlsx").values()
    assert res["bid_amount_yuan"] == Decimal(8125000) and res["win_bidder_name"] == "宁夏某路桥有限公司"
    assert (res["bulletin_type"], res["trade_area"]) == ("中标结果公告", "工程建设项目招标投标")


def test_mining_tables_told_apart_by_their_required_fields_and_twins_said_to_be_ambiguous(gongkai_env):
    # 650 探矿权 and 651 采矿权 announcements: 651 requires URL, 650 does not — a file of 650's required fields
    # without URL is 650 (it was taken for 651). 652 and 653 (results) have one field set: which one a file of
    # national names holds cannot be told, and its note says so; both mean the same, so everything is read.
    raw, wh = gongkai_env.raw_dir, gongkai_env.warehouse
    folder = raw / "trading" / "mining"
    common = {"UNIFIED_DEAL_CODE": "U51", "REGION_CODE": "640200", "TRA_PLACE_CODE": "640200",
              "TRA_AGENCY_NAME": "石嘴山市公共资源交易中心", "TRA_AGENCY_CODE": "12640200MB0000002X", "IN_BUY_KIND": "2",
              "QT_PLAN_YEARS": "5", "QT_TOTAL_AREA": "12.5", "NA_GEOGRAPHY_POSITION": "某县某乡",
              "NA_AREA_COORDINATE": "106.1,39.0;106.2,39.1"}
    announcement = {**common, "NA_APP_NAME": "某煤矿探矿权挂牌出让公告", "PUBLISHING_TIME": "20200601090000",
                    "IN_MINE_COME": "1"}
    fields = required_fields("EXPLOR_BID_AUCTION_TRANS_ANN")
    assert "URL" not in fields
    write_csv(folder / "650_required.csv", fields, [[announcement.get(f, "") for f in fields]])
    result = {**common, "NA_APP_NAME": "某煤矿探矿权出让结果公示", "PUBLISHING_TIME": "20200701090000",
              "URL": "http://ggzy.example/m/2", "NA_PUBLIC_BIDDER": "宁夏某矿业有限公司", "BIDDER_TYPE": "1",
              "BIDDER_CODE": "91640200MA00000002", "BIDDER_ROLE": "1", "QT_PUBLIC_PRICE": "300",
              "NA_REG_ADDRESS": "银川市", "NA_TD_ADDRESS": "石嘴山市", "DT_BUY_DATE": "20200630",
              "IN_COST_STYLE": "1", "DT_COST_DATE": "20200731"}
    fields = required_fields("EXPLOR_BID_AUC_TRANS_RES_ANN")
    write_csv(folder / "652_required.csv", fields, [[result.get(f, "") for f in fields]])
    load(raw, wh)
    assert load_file_row(wh, "trading/mining/650_required.csv")["detected_kind"] == (
        "bulletins:EXPLOR_BID_AUCTION_TRANS_ANN")
    (ann,) = bulletins(wh, "trading/mining/650_required.csv").values()
    assert (ann["bulletin_type"], ann["trade_area"], ann["notice_name"]) == (
        "出让公告", "矿业权出让", "某煤矿探矿权挂牌出让公告")
    note = load_file_row(wh, "trading/mining/652_required.csv")["reason"]
    assert "MINING_BID_AUC_TRANS_RES_ANN" in note and "which table the file holds is not certain" in note
    (res,) = bulletins(wh, "trading/mining/652_required.csv").values()
    assert (res["bulletin_type"], res["trade_area"], res["win_bidder_name"]) == (
        "成交结果公告", "矿业权出让", "宁夏某矿业有限公司")
    assert res["notice_send_time"] == dt.datetime(2020, 7, 1, 9)


def test_a_subset_fitting_tables_that_read_differently_reads_only_what_they_agree_on(gongkai_env):
    # State property: in 700 挂牌披露 SELLER_NAME is the seller, in 701 交易结果 the transferee (the winner). A file
    # holding only columns all four state-property tables share cannot say which: the seller's name must not be
    # read as a buyer or a winner, the bulletin type is left open, and the note names the tables and the columns.
    raw, wh = gongkai_env.raw_dir, gongkai_env.warehouse
    header = ["PROJECT_NAME", "PROJECT_CODE", "UNIFIED_DEAL_CODE", "REGION_CODE", "TRA_PLACE_CODE", "TRA_AGENCY_NAME",
              "SELLER_NAME", "SELLER_CODE", "PROJECT_URL"]
    write_csv(raw / "trading" / "property.csv", header, [
        ["某公司30%股权转让", "NXCQ2020-0001", "U61", "640100", "640100", "宁夏产权交易所", "某国有投资公司",
         "91640100MA00000003", "http://cq.example/1"]])
    load(raw, wh)
    (row,) = bulletins(wh, "trading/property.csv").values()
    assert row["tenderer_name"] is None and row["win_bidder_name"] is None
    assert row["bulletin_type"] is None and row["trade_area"] == "国有产权交易"
    assert row["notice_name"] == "某公司30%股权转让" and row["project_code"] == "NXCQ2020-0001"
    note = load_file_row(wh, "trading/property.csv")["reason"]
    assert "LISTING_PUB_INFO" in note and "TRADE_RESULT_INFO" in note
    assert "not read): SELLER_NAME, SELLER_CODE" in note


def test_land_deal_title_is_the_announcement_title_not_the_project_name(gongkai_env):
    # 601 成交宗地信息 prints LAND_PROJECT_NAME (项目名称) before ANNOUNCEMENT_TITLE (成交公示标题): the bulletin's
    # title is the title; the project name stands in only where the title is blank
    raw, wh = gongkai_env.raw_dir, gongkai_env.warehouse
    fields = [name for name, _ in standard_fields("DEAL_LAND_INFO")]
    base = {"DEAL_ANNOUNCEMENT_GUID": "G1", "RELATE_CODE": "1", "REGION_CODE": "640100", "DEAL_PRICE": "1500",
            "PRICE_UNIT": "1", "LENDING_NAME": "宁夏某置业有限公司", "PUBLISHING_TIME": "20200815100000"}
    rows = [{**base, "UNIFIED_DEAL_CODE": "U71", "LAND_PROJECT_NAME": "银川市某地块",
             "ANNOUNCEMENT_TITLE": "银川市2020-08号宗地成交公示"},
            {**base, "UNIFIED_DEAL_CODE": "U72", "LAND_PROJECT_NAME": "银川市另一地块", "ANNOUNCEMENT_TITLE": ""}]
    path = raw / "trading" / "601.csv"
    path.parent.mkdir(parents=True)
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fields)
        writer.writeheader()
        writer.writerows(rows)
    load(raw, wh)
    got = bulletins(wh, "trading/601.csv")
    assert got[2]["notice_name"] == "银川市2020-08号宗地成交公示"
    assert got[3]["notice_name"] == "银川市另一地块"
    assert "read only where that one is blank): LAND_PROJECT_NAME" in load_file_row(wh, "trading/601.csv")["reason"]
    assert got[2]["bid_amount_yuan"] == Decimal(15000000) and got[2]["win_bidder_name"] == "宁夏某置业有限公司"


def test_every_bulletin_tables_title_field_is_its_own_field_and_reads_as_the_title():
    for table in standard_tables().values():
        if table.reads_as != "bulletins" or table.name == "TENDER_CANDIDATE":  # 510: ranked candidates, no title
            continue
        assert table.title_field in table.fields, table.name
        bindings, _ = bind_headers(sorted(table.fields), table)
        assert [b.header for b in bindings if b.field == "notice_name"] == [table.title_field], table.name


def test_a_flat_exports_price_unit_column_is_its_amount_unit(gongkai_env):
    # 价格单位 (the standard's Chinese name of PRICE_UNIT) in a flat export of Chinese labels: 万元 reads as 万元; a
    # code of the standard's list in a file that is no table of it cannot be read: the amount it governs is left unread
    # and the cell named (raw.load_blanked_cells) — not loaded as 元 (the column went unread), nor the whole
    # announcement rejected (review R4b)
    raw, wh = gongkai_env.raw_dir, gongkai_env.warehouse
    write_csv(raw / "trading" / "flat_cn.csv", ["项目编号", "公告类型", "公告标题", "发布时间", "中标金额", "价格单位"], [
        ["P1", "中标结果公告", "某项目中标结果公告", "2020-05-12 10:00", "812.5", "万元"],
        ["P2", "中标结果公告", "另一项目中标结果公告", "2020-05-13 10:00", "40", "1"]])
    load(raw, wh)
    got = bulletins(wh, "trading/flat_cn.csv")
    assert got[2]["bid_amount_yuan"] == Decimal(8125000) and got[3]["bid_amount_yuan"] is None
    assert got[3]["notice_name"] == "另一项目中标结果公告"
    assert query(wh, "SELECT count(*) FROM raw.load_rejects WHERE source_file = 'trading/flat_cn.csv'") == [(0,)]
    assert query(wh, "SELECT source_row, source_column, raw_value FROM raw.load_blanked_cells "
                     "WHERE source_file = 'trading/flat_cn.csv'") == [(3, "价格单位", "1")]


def test_headers_printing_both_names_of_a_field(gongkai_env):
    # Exports meant for people and machines at once print each field's Chinese and national names in one cell,
    # either way round and in either width of bracket. Nothing bound: the file was rejected as no trading export.
    raw, wh = gongkai_env.raw_dir, gongkai_env.warehouse
    zh = dict(standard_fields("BID_DEAL_ANNOUNCE"))
    record = {"PURCHASE_PROJECT_CODE": "NXCG-2020-8", "PURCHASE_SECTION_CODE": "2", "UNIFIED_DEAL_CODE": "U81",
              "WIN_BID_BULLETIN_TITLE": "某医院设备采购成交结果公告", "WIN_BID_BULLETIN_START_TIME": "20200612150000",
              "WINNINGBIDDER_NAME": "宁夏某医疗器械有限公司", "WINNINGBIDDER_TYPE": "1", "WIN_BID_PRICE": "35.6",
              "PRICE_UNIT": "1", "CREATOR": "张某"}
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append([f"{zh[name]}({name})" if i % 2 else f"{name}（{zh[name]}）" for i, name in enumerate(record)])
    sheet.append(list(record.values()))
    (raw / "trading").mkdir(parents=True)
    book.save(raw / "trading" / "553_both_names.xlsx")
    tp = "E6403000000000004001"
    write_csv(raw / "trading" / "503_both_names.csv", [
        "招标项目编号(TENDER_PROJECT_CODE)", "标段（包）编号(BID_SECTION_CODES)", "公告标题(NOTICE_NAME)",
        "公告发布时间(NOTICE_SEND_TIME)", "公告发布媒体(NOTICE_MEDIA)", "公告类型(BULLETIN_TYPE)", "公告性质(NOTICE_NATURE)",
        "统一交易标识码(UNIFIED_DEAL_CODES)", "招标人名称(TENDERER_NAME)"],
        [[tp, f"{tp}001", "某水厂改造工程招标公告", "20200701090000", "宁夏公共资源交易网", "1", "2", "U82", "某县水务局"]],
        encoding="gbk")
    load(raw, wh)
    (gp,) = bulletins(wh, "trading/553_both_names.xlsx").values()
    assert (gp["notice_name"], gp["win_bidder_name"], gp["bid_amount_yuan"], gp["trade_area"]) == (
        "某医院设备采购成交结果公告", "宁夏某医疗器械有限公司", Decimal(356000), "政府采购")
    assert gp["bulletin_key"] == "NXCG-2020-8/2|result|2020-06-12T15:00:00|"
    (ann,) = bulletins(wh, "trading/503_both_names.csv").values()
    assert (ann["bulletin_type"], ann["bid_section_code"], ann["unified_deal_code"], ann["tenderer_name"]) == (
        "变更公告", f"{tp}001", "U82", "某县水务局")
    assert load_file_row(wh, "trading/503_both_names.csv")["detected_kind"] == "bulletins:TENDER_ANN_QUA_INQUERY_ANN"


def test_a_bulletin_type_written_out_in_a_standard_table_is_kept(gongkai_env):
    # A province's 503 export whose BULLETIN_TYPE carries the type as text for some records (and the table's
    # one-character code for others): 中标结果公告 is a result as printed — it was blanked and read as the table's
    # own 交易公告; 1 is 招标公告 by the table's code list; 9, in no list, is the table's type.
    raw, wh = gongkai_env.raw_dir, gongkai_env.warehouse
    header = ["TENDER_PROJECT_CODE", "BID_SECTION_CODES", "NOTICE_NAME", "NOTICE_SEND_TIME", "NOTICE_MEDIA",
              "BULLETIN_TYPE", "URL"]
    write_csv(raw / "trading" / "503_types.csv", header, [
        ["E1", "E1001", "某工程招标公告", "20200301090000", "宁夏公共资源交易网", "1", "http://x/1"],
        ["E1", "E1001", "某工程中标结果公告", "20200401090000", "宁夏公共资源交易网", "中标结果公告", "http://x/2"],
        ["E1", "E1001", "某工程公告", "20200402090000", "宁夏公共资源交易网", "9", "http://x/3"]])
    load(raw, wh)
    got = bulletins(wh, "trading/503_types.csv")
    assert [got[r]["bulletin_type"] for r in (2, 3, 4)] == ["招标公告", "中标结果公告", "交易公告"]
    assert got[3]["bulletin_key"].split("|")[1] == "result"


def test_a_flat_export_naming_its_unit_column_price_unit_is_no_standard_table(gongkai_env):
    # review R2: PRICE_UNIT is a name flat exports use too (an alias for every file); with it a mixed-kind export was
    # taken for table 513 (中标结果公告), and its results were judged only on 513's fields (no buyer column)
    raw, wh = gongkai_env.raw_dir, gongkai_env.warehouse
    header = ["PROJECT_CODE", "BID_SECTION_CODE", "BULLETIN_TYPE", "TRADE_AREA", "NOTICE_NAME", "NOTICE_SEND_TIME",
              "URL", "WIN_BIDDER_NAME", "BID_AMOUNT", "PRICE_UNIT"]
    rows = [["F-1", "1", "交易公告", "政府采购", "某局采购公告", "2019-03-01 09:00:00", "http://x/1", "", "", "元"],
            ["F-1", "1", "中标结果公告", "政府采购", "某局采购结果", "2019-04-01 09:00:00", "http://x/2", "某公司", "100", "元"],
            ["F-2", "1", "中标结果公告", "工程建设", "某路工程结果", "2019-04-02 09:00:00", "http://x/3", "某建设公司", "200", "元"]]
    path = raw / "trading" / "mixed.csv"
    path.parent.mkdir(parents=True)
    with path.open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerows([header, *rows])
    load(raw, wh)
    row = load_file_row(wh, "trading/mixed.csv")
    assert row["detected_kind"] == "bulletins", row
    assert "513" not in (row["reason"] or "")
    got = bulletins(wh, "trading/mixed.csv")
    assert [got[i]["bid_amount_yuan"] for i in (3, 4)] == [Decimal(100), Decimal(200)]   # file rows 3 and 4


def test_a_clarifications_publication_is_its_clarify_time_whatever_the_column_order(gongkai_env):
    # 504 prints SUBMIT_TIME (递交时间: when the record was uploaded) and CLARIFY_TIME (答疑澄清时间: when the
    # clarification was made, the time §23 counts from). An export listing SUBMIT_TIME first dated the clarification by
    # its upload, 9 days late here; SUBMIT_TIME stays the publication of a record stating no clarification time
    raw, wh = gongkai_env.raw_dir, gongkai_env.warehouse
    headers = ["TENDER_PROJECT_CODE", "BID_SECTION_CODE", "DOC_NAME", "SUBMIT_TIME", "CLARIFY_TIME", "CLARIFY_CONTENT",
               "IS_POSTPONE"]
    write_csv(raw / "trading" / "504_submit_first.csv", headers, [
        ["E6401000001202104001", "E6401000001202104001001", "某项目招标文件澄清", "20210420090000", "20210411093000",
         "开标时间不变", "0"],
        ["E6401000001202104002", "E6401000001202104002001", "另一项目招标文件答疑", "20210405090000", "",
         "答疑纪要", "0"]])
    load(raw, wh)
    got = bulletins(wh, "trading/504_submit_first.csv")
    assert [str(row["notice_send_time"]) for row in got.values()] == ["2021-04-11 09:30:00", "2021-04-05 09:00:00"]
