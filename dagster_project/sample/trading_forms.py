"""The trading exports of the sample that are not flat multi-kind exports (issue 12).

* **The national data standard** (数据规范 V3): one file per table, every field of the table as a
  column, times ``yyyyMMddHHmmss``, amounts with a ``PRICE_UNIT`` code, plural ``BID_SECTION_CODES``.
  It holds copies of the bulletins of one works deal and one procurement deal that the flat exports
  also hold, with the same facts — so they deduplicate without a conflict — and the works
  announcement lists a second section, which is a deal of its own (announced, nothing else yet).
* **The national platform's search response**: ``{"code": 200, "data": {"records": [...], "total": N}}``
  with camelCase keys, information-type and business-type codes, amounts as text with units. It holds
  three deals of its own (works, procurement, land) that break no rule; the rules their missing fields
  would need are not evaluated (insufficient data), never passed or failed.

Which copy of a bulletin is canonical follows docs/CONTRACTS.md §2.2 (``canonical_copy``): the latest
export (its newest NOTICE_SEND_TIME), then file order.
"""
from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
from pathlib import Path

import polars as pl

from .. import identifiers
from ..paths import DBT_SEEDS_DIR

STANDARD_FIELDS = DBT_SEEDS_DIR / "ingest" / "ref_ggzy_v3_fields.csv"
FOLDER = "trading/national_standard"
API_REL = "trading/ggzy_search_api.json"


def file_order_key(rel: str) -> tuple[str, str]:
    return re.sub(r"\.[^./]+$", "", rel), rel


def canonical_copy(copies: list[tuple[str, int, dt.datetime]]) -> tuple[str, int]:
    """(file, row) of the canonical copy among (file, row, export time of that file)."""
    best = min(copies, key=lambda c: (-c[2].timestamp(), file_order_key(c[0]), c[1]))
    return best[0], best[1]


def _standard_fields() -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    with STANDARD_FIELDS.open(encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            out.setdefault(row["table_name"], []).append(row["field"])
    return out


def _ts(value) -> str:
    return value.strftime("%Y%m%d%H%M%S") if value is not None else ""


def _wan(yuan: int) -> str:
    text = f"{yuan / 10000:.4f}".rstrip("0").rstrip(".")
    return text


def _write_table(out: Path, table: str, number: str, records: list[dict], writer) -> str:
    fields = _standard_fields()[table]
    rel = f"{FOLDER}/{number}_{table}.csv"
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(fields)
    for rec in records:
        unknown = set(rec) - set(fields)
        assert not unknown, (table, unknown)
        w.writerow([rec.get(f, "") for f in fields])
    path = out / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(buf.getvalue(), encoding="utf-8")
    writer.variant("national_standard_tables", rel)
    return rel


def write_standard_tables(out: Path, writer, flat_rel: str, flat: pl.DataFrame, flat_export_time: dt.datetime,
                          works_deal: int, gp_deal: int) -> dict:
    """Copies of two deals' bulletins as national-standard tables. Returns {"rows": bulletins, "deals": new deals}."""
    rows = flat.with_row_index("_i").with_columns((pl.col("_i") + 2).alias("_row"))

    def bulletin(deal: int, kinds: tuple[str, ...]) -> dict:
        found = rows.filter((pl.col("deal_idx") == deal) & pl.col("BULLETIN_TYPE").is_in(list(kinds)))
        assert found.height == 1, (deal, kinds, found.height)
        return found.row(0, named=True)

    written: list[tuple[str, int, dict]] = []   # (rel, row, flat original)
    bulletins = 0

    def table(name: str, number: str, recs: list[tuple[dict, dict | None]]) -> None:
        nonlocal bulletins
        rel = _write_table(out, name, number, [r for r, _ in recs], writer)
        for i, (rec, original) in enumerate(recs):
            parts = len((rec.get("BID_SECTION_CODES") or "x").split(";"))
            bulletins += parts
            if original is not None:
                written.append((rel, i + 2, original))

    # works deal: announcement (listing a second section), candidates publicity, result, contract
    ann = bulletin(works_deal, ("交易公告",))
    cand = bulletin(works_deal, ("中标候选人公示",))
    res = bulletin(works_deal, ("中标结果公告",))
    con = bulletin(works_deal, ("合同公告",))
    pc, sec, udc = ann["PROJECT_CODE"], ann["BID_SECTION_CODE"], ann["UNIFIED_DEAL_CODE"]
    second = f"{pc}-002"
    table("TENDER_ANN_QUA_INQUERY_ANN", "503", [({
        "TENDER_PROJECT_CODE": pc, "NOTICE_BID_NUM": "2", "BID_SECTION_CODES": f"{sec};{second}",
        "UNIFIED_DEAL_CODES": f"{udc};{udc}2", "TENDER_SELF_CODE": pc, "NOTICE_NAME": ann["NOTICE_NAME"],
        "NOTICE_CONTENT": ann["NOTICE_CONTENT"], "NOTICE_SEND_TIME": _ts(ann["NOTICE_SEND_TIME"]),
        "NOTICE_MEDIA": "宁夏公共资源交易网", "URL": ann["URL"], "NOTICE_NATURE": "1", "BULLETIN_TYPE": "1",
        "DOC_GET_START_TIME": _ts(ann["DOC_GET_START_TIME"]), "DOC_GET_END_TIME": _ts(ann["DOC_GET_END_TIME"]),
        "TENDER_DOC_GET_METHOD": "网上下载", "BID_DOC_REFER_END_TIME": _ts(ann["BID_DOC_REFER_END_TIME"]),
        "BID_OPEN_TIME": _ts(ann["BID_OPEN_TIME"]), "BID_DOC_REFER_METHOD": "电子投标", "SYNDICATED_FLAG": "0",
        "TENDERER_CODE": ann["TENDERER_CODE"], "TENDERER_NAME": ann["TENDERER_NAME"],
        "TENDERER_CONTACTOR": "马工", "TENDERER_PHONE_NUMBER": ann["CONTACT_PHONE"],
        "TENDER_AGENCY_CODE": ann["TENDER_AGENCY_CODE"], "TENDER_AGENCY_NAME": ann["TENDER_AGENCY_NAME"],
        "TENDER_AGENCY_CONTACTOR": "杨工", "TENDER_AGENCY_PHONE_NUMBER": "0951-6012345",
    }, ann)])
    table("TENDER_CANDIDATE_ANNOUNCE", "511", [({
        "TENDER_PROJECT_CODE": pc, "BID_SECTION_CODES": sec, "UNIFIED_DEAL_CODE": udc,
        "PUBLICITY_NAME": cand["NOTICE_NAME"], "PUBLICITY_CONTENT": cand["NOTICE_CONTENT"],
        "PUBLICITY_REFER_TIME": _ts(cand["NOTICE_SEND_TIME"]), "NOTICE_MEDIA": "宁夏公共资源交易网", "URL": cand["URL"],
        "PUBLICITY_TYPE": "1", "PUBLICITY_START_TIME": _ts(cand["PUBLICITY_START_TIME"]),
        "PUBLICITY_END_TIME": _ts(cand["PUBLICITY_END_TIME"]), "OBJECTION_METHOD": "书面形式向招标人提出",
    }, cand)])
    table("WIN_RESULT_ANNO", "513", [({
        "TENDER_PROJECT_CODE": pc, "BID_SECTION_CODE": sec, "UNIFIED_DEAL_CODE": udc, "REGION_CODE": res["REGION_CODE"],
        "TRA_PLACE_CODE": res["REGION_CODE"], "TENDER_AGENCY_NAME": res["TENDER_AGENCY_NAME"],
        "TENDER_AGENCY_CODE": res["TENDER_AGENCY_CODE"], "NOTICE_NAME": res["NOTICE_NAME"],
        "NOTICE_CONTENT": res["NOTICE_CONTENT"], "NOTICE_SEND_TIME": _ts(res["NOTICE_SEND_TIME"]),
        "NOTICE_MEDIA": "宁夏公共资源交易网", "URL": res["URL"], "NOTICE_NATURE": "1", "BULLETIN_TYPE": "1",
        "WIN_BIDDER_NAME": res["WIN_BIDDER_NAME"], "WIN_BIDDER_CODE": res["WIN_BIDDER_CODE"], "PRICE_FORM_CODE": "0",
        "BID_AMOUNT": _wan(res["BID_AMOUNT"]), "BID_CURRENCY": "CNY", "PRICE_UNIT": "1",
    }, res)])
    table("CONTRACT_PERFORMANCE", "512", [({
        "TENDER_PROJECT_CODE": pc, "BID_SECTION_CODE": sec, "UNIFIED_DEAL_CODE": udc, "CONTRACT_NAME": con["NOTICE_NAME"],
        "TENDERER_NAME": con["TENDERER_NAME"], "TENDER_CODE": con["TENDERER_CODE"], "BIDDER_NAME": con["WIN_BIDDER_NAME"],
        "BIDDER_CODE": con["WIN_BIDDER_CODE"], "CONTRACT_PRICE": str(con["BID_AMOUNT"]), "PRICE_CURRENCY": "CNY",
        "PRICE_UNIT": "0", "PRICE_FORM_CODE": "0", "SUBMIT_TIME": _ts(con["NOTICE_SEND_TIME"]),
        "CONTRACT_SIGN_TIME": _ts(con["CONTRACT_SIGN_TIME"]),
    }, con)])
    # procurement deal (open tender): procurement announcement and result, government procurement's own names
    g_ann = bulletin(gp_deal, ("交易公告",))
    g_res = bulletin(gp_deal, ("中标结果公告",))
    table("PURCHASE_QUALI_INQUERY_ANN", "551", [({
        "PURCHASE_PROJECT_CODE": g_ann["PROJECT_CODE"], "PURCHASE_PROJECT_NAME": g_ann["NOTICE_NAME"],
        "BULLETIN_BID_NUM": "1", "PURCHASE_SECTION_CODE": g_ann["BID_SECTION_CODE"],
        "UNIFIED_DEAL_CODE": g_ann["UNIFIED_DEAL_CODE"], "BULLETIN_TITLE": g_ann["NOTICE_NAME"],
        "BULLETIN_CONTENT": g_ann["NOTICE_CONTENT"], "BULLETIN_START_TIME": _ts(g_ann["NOTICE_SEND_TIME"]),
        "BULLETIN_MEDIA": "中国政府采购网", "URL": g_ann["URL"], "BID_CLOSING_TIME": _ts(g_ann["BID_DOC_REFER_END_TIME"]),
    }, g_ann)])
    table("BID_DEAL_ANNOUNCE", "553", [({
        "PURCHASE_PROJECT_CODE": g_res["PROJECT_CODE"], "PURCHASE_PROJECT_NAME": g_ann["NOTICE_NAME"],
        "PURCHASE_SECTION_CODE": g_res["BID_SECTION_CODE"], "UNIFIED_DEAL_CODE": g_res["UNIFIED_DEAL_CODE"],
        "REGION_CODE": g_res["REGION_CODE"], "TRA_PLACE_CODE": g_res["REGION_CODE"],
        "PURCHASER_AGENCY_NAME": g_res["TENDER_AGENCY_NAME"], "PURCHASER_AGENCY_CODE": g_res["TENDER_AGENCY_CODE"],
        "WIN_BID_BULLETIN_TITLE": g_res["NOTICE_NAME"], "WIN_BID_BULLETIN_CONTENT": g_res["NOTICE_CONTENT"],
        "WIN_BID_BULLETIN_START_TIME": _ts(g_res["NOTICE_SEND_TIME"]), "URL": g_res["URL"],
        "WINNINGBIDDER_NAME": g_res["WIN_BIDDER_NAME"], "WINNINGBIDDER_TYPE": "1",
        "WINNINGBIDDER_CODE": g_res["WIN_BIDDER_CODE"], "PRICE_FORM_CODE": "0", "WIN_BID_PRICE": str(g_res["BID_AMOUNT"]),
        "CURRENCY_CODE": "CNY", "PRICE_UNIT": "0", "CREATOR": "宁夏公共资源交易平台",
    }, g_res)])

    # each copy's canonical copy: the flat export is the later one (it reaches the deals' contracts)
    for rel, row, original in written:
        copy_time = original["NOTICE_SEND_TIME"]
        keep = canonical_copy([(flat_rel, original["_row"], flat_export_time), (rel, row, copy_time)])
        if keep != (rel, row):
            writer.duplicate_rows.append({"source_file": rel, "source_row": row, "duplicate_of": keep[0],
                                          "duplicate_row": keep[1]})
    writer.variant("plural_section_codes", f"{FOLDER}/503_TENDER_ANN_QUA_INQUERY_ANN.csv")
    writer.variant("price_unit_codes", f"{FOLDER}/513_WIN_RESULT_ANNO.csv")
    return {"rows": bulletins, "deals": 1}


def write_search_api(out: Path, writer, year: int, suppliers: tuple[list[str], list[str]]) -> dict:
    """The national platform's search response for three deals of its own. Returns rows and deals."""
    buyer_gp = ("宁夏回族自治区政府采购中心", identifiers.make_uscc("12640000" + "MB1934025"))
    buyer_works = ("石嘴山市交通运输局", identifiers.make_uscc("11640200" + "MB1934033"))
    buyer_land = ("中卫市自然资源局", identifiers.make_uscc("11640500" + "MB1934041"))
    agency = ("宁夏恒信招标代理有限公司", identifiers.make_uscc("91640100" + "MA7654321"))
    winner = (suppliers[0][5], suppliers[1][5])
    base = "http://www.ggzy.gov.cn/information/html/b/640000"

    def rec(i, title, when, info, info_text, business, business_text, code, **extra):
        return {"id": f"64{year}{i:06d}", "title": title, "publishTime": when.strftime("%Y-%m-%d %H:%M:%S"),
                "informationType": info, "informationTypeText": info_text, "businessType": business,
                "businessTypeText": business_text, "tenderProjectCode": code, "province": "640000",
                "provinceText": "宁夏", "transactionSourcesPlatformText": "宁夏公共资源交易平台",
                "url": f"{base}/{info}/{year}{i:06d}.html", **extra}

    T = dt.datetime
    gp, works, land = f"NXZC{year}-API-0001", f"E64020010{year}0001001", f"NXTD{year}-API-0001"
    records = [
        rec(1, f"{buyer_gp[0]}{year}年办公设备竞争性磋商公告", T(year, 3, 4, 9), "0201", "采购/资审公告", "02",
            "政府采购", gp, tendererName=buyer_gp[0], tendererCode=buyer_gp[1], tenderAgencyName=agency[0],
            tenderAgencyCode=agency[1], budgetAmount="480.000000（万元）"),
        rec(2, f"{buyer_gp[0]}{year}年办公设备更正公告", T(year, 3, 8, 9), "0204", "更正事项", "02", "政府采购", gp,
            tendererName=buyer_gp[0], tendererCode=buyer_gp[1]),
        rec(3, f"{buyer_gp[0]}{year}年办公设备成交公告", T(year, 3, 29, 10), "0202", "中标公告", "02", "政府采购", gp,
            tendererName=buyer_gp[0], tendererCode=buyer_gp[1], tenderAgencyName=agency[0], tenderAgencyCode=agency[1],
            winBidderName=winner[0], winBidderCode=winner[1], bidAmount="1980000.00 元"),
        rec(4, f"{buyer_gp[0]}{year}年办公设备采购合同", T(year, 4, 10, 15), "0203", "采购合同", "02", "政府采购", gp,
            tendererName=buyer_gp[0], tendererCode=buyer_gp[1], winBidderName=winner[0], winBidderCode=winner[1],
            bidAmount="198.00万元"),
        rec(5, f"{buyer_works[0]}{year}年农村公路养护工程招标公告", T(year, 5, 6, 9), "0101", "招标/资审公告", "01",
            "工程建设", works, tendererName=buyer_works[0], tendererCode=buyer_works[1]),
        rec(6, f"{buyer_works[0]}{year}年农村公路养护工程中标候选人公示", T(year, 6, 3, 10), "0104", "交易结果公示",
            "01", "工程建设", works, tendererName=buyer_works[0], tendererCode=buyer_works[1], bidAmount="0元 人民币"),
        rec(7, f"中卫市{year}年国有建设用地使用权挂牌出让公示", T(year, 7, 1, 9), "0301", "出让公示", "03",
            "土地使用权", land, tendererName=buyer_land[0], tendererCode=buyer_land[1]),
        rec(8, f"中卫市{year}年国有建设用地使用权成交宗地", T(year, 8, 2, 9), "0302", "成交宗地", "03", "土地使用权",
            land, tendererName=buyer_land[0], tendererCode=buyer_land[1], winBidderName=winner[0],
            winBidderCode=winner[1], bidAmount="1610.5万元"),
    ]
    body = {"code": 200, "msg": "操作成功", "data": {"records": records, "total": len(records), "size": 20,
                                                     "current": 1, "pages": 1}}
    path = out / API_REL
    path.write_text(json.dumps(body, ensure_ascii=False), encoding="utf-8")
    writer.variant("platform_search_api", API_REL)
    writer.variant("amount_with_unit_text", API_REL)
    return {"rows": len(records), "deals": 3}


__all__ = ["API_REL", "FOLDER", "canonical_copy", "file_order_key", "write_search_api", "write_standard_tables"]
