"""Table 504 of the national data standard (招标文件/招标文件澄清与修改 TENDER_FILE_CLARI_MODI) and 招标投标法 §23: a
clarification or amendment of the tender documents at least 15 days before the bid deadline, else the deadline extended.

Wave 17 rejected a 504 file whole ("holds no bulletin"): a clarification postponing the opening (IS_POSTPONE 1,
POST_OPEN_TIME 延期后开标时间) left the judged period at the announced deadline, and a clarification 11 days before the
deadline was no finding. A change notice whose "postponed" closing is EARLIER than the announced deadline (552's
POST_BID_CLOSING_TIME, 504's new deadline) silently shortened the judged period; it is a TRADE_DATE_ORDER finding.

Files made as platforms make them: the announcements in a platform's flat export (UTF-8 with BOM, CRLF, Chinese
labels, ``2021/4/1 9:00`` times), the 504 table one file per table under the standard's names (BOM, CRLF, the content
cell with line breaks inside quotes, the standard's ``yyyyMMddHHmmss`` and people's ``2021年4月11日上午9时30分``), the
same table as the national search service's JSON answer, a 552 record of a GP tender in the standard's names."""
from __future__ import annotations

import csv
import datetime as dt
import json
from pathlib import Path

import pytest

from test_ingest_trading import load, query
from test_trading_candidates_per_row import _query

WORKS, GP = "工程建设项目招标投标", "政府采购"
START = dt.datetime(2021, 4, 1, 9, 0)
CLOSING = START + dt.timedelta(days=21)          # the announced deadline: a lawful 21-day period (§24)
BUYER, BUYER_CODE = "宁夏回族自治区某某建设管理中心", "12640000MB1234567X"
# project → (clarified, submitted, IS_POSTPONE, POST_OPEN_TIME, 504's BID_DOC_REFER_END_TIME): the 504 record
LATE = "NXJS2021-01"          # clarified 11 days before the deadline, nothing postponed: §23 fails
EXTENDED = "NXJS2021-02"      # clarified 11 days before, the opening postponed to 16 days after it: passes
TIMELY = "NXJS2021-03"        # clarified 18 days before: passes
EARLIER = "NXJS2021-04"       # "postponed" to 3 days BEFORE the announced deadline: dates out of order
SUBMITTED = "NXJS2021-05"     # no CLARIFY_TIME; submitted 7 days before the deadline: §23 fails on SUBMIT_TIME
JSON_EXTENDED = "NXJS2021-06"  # JSON: clarified 9 days before, a later BID_DOC_REFER_END_TIME (IS_POSTPONE 是): passes
CHANGED = "NXJS2021-07"       # a platform's 变更公告 12 days before an unchanged deadline: §23 fails
GP_EARLIER = "NXCG2021-08"    # a GP tender's 552 "postponing" the closing 2 days before the announced: out of order
RESTATED = "NXJS2021-09"      # a 变更公告 restating the deadline as a date (2021年4月22日, no hour): not brought forward
RESULT_EARLY = "NXJS2021-10"  # a result notice published 2 days before the announced opening: dates out of order
# 504 holds the tender documents themselves too (招标文件/…): a record stating no clarification is the documents'
# upload, never an amendment, whenever it was uploaded — one with the title of an answer (答疑) still is one
DOCUMENTS = "NXJS2021-13"     # the documents uploaded 12 days before the deadline (CSV): no §23 verdict
JSON_DOCUMENTS = "NXJS2021-14"  # the same in the search service's JSON, content 无 and isPostpone 否: no verdict
ANSWERED = "NXJS2021-15"      # 招标文件答疑 with no CLARIFY_TIME, content or postponement, 8 days before: §23 fails
DOCUMENTS_AT, ANSWERED_AT = START + dt.timedelta(days=9, hours=3), START + dt.timedelta(days=13, hours=4)
CLARIFICATIONS = {
    LATE: (START + dt.timedelta(days=10), START + dt.timedelta(days=10, hours=2), "0", None, CLOSING),
    EXTENDED: (START + dt.timedelta(days=10), START + dt.timedelta(days=10, hours=1), "1",
               START + dt.timedelta(days=26), CLOSING),
    TIMELY: (START + dt.timedelta(days=3, minutes=30), START + dt.timedelta(days=3, hours=1), "0", None, CLOSING),
    EARLIER: (START + dt.timedelta(days=5), START + dt.timedelta(days=5), "1", CLOSING - dt.timedelta(days=3), CLOSING),
    SUBMITTED: (None, START + dt.timedelta(days=14), "0", None, CLOSING),
}
JSON_CLARIFIED, JSON_CLOSING = START + dt.timedelta(days=12), START + dt.timedelta(days=30)
CHANGE_AT = START + dt.timedelta(days=9)
RESULT_EARLY_AT = CLOSING - dt.timedelta(days=2)
GP_CLOSING, GP_POSTPONED = START + dt.timedelta(days=22), START + dt.timedelta(days=20)
ANNOUNCEMENT_HEADER = ["项目编号", "标段(包)编号", "公告类型", "交易领域", "公告标题", "发布时间", "招标人", "招标人统一社会信用代码",
                       "文件获取开始时间", "文件获取截止时间", "投标截止时间", "开标时间"]
H504 = ["TENDER_PROJECT_CODE", "BID_SECTION_CODE", "UNIFIED_DEAL_CODES", "DOC_NO", "DOC_NAME", "BID_DOC_REFER_END_TIME",
        "BID_OPEN_TIME", "BID_OPEN_PLACE", "CLARIFY_TIME", "IS_POSTPONE", "POST_OPEN_TIME", "POST_OPEN_ADDRESS",
        "CLARIFY_CONTENT", "SUBMIT_TIME", "URL", "BID_QUALIFICATION"]
H552 = ["PURCHASE_PROJECT_CODE", "PURCHASE_PROJECT_NAME", "PURCHASE_SECTION_CODE", "UNIFIED_DEAL_CODE",
        "TERMINATION_BULLETIN_TITLE", "TERMINATION_BULLETIN_CONTENT", "MODIFICATION_START_TIME", "IS_POSTPONE",
        "POST_BID_CLOSING_TIME", "URL"]
WORKS_DEALS = [*CLARIFICATIONS, JSON_EXTENDED, CHANGED, DOCUMENTS, JSON_DOCUMENTS, ANSWERED]


def _slash(t: dt.datetime) -> str:
    return f"{t.year}/{t.month}/{t.day} {t.hour}:{t.minute:02d}"


def _standard(t: dt.datetime | None) -> str:
    return "" if t is None else f"{t:%Y%m%d%H%M%S}"


def _people(t: dt.datetime) -> str:
    """A time as an office types it: 2021年4月11日上午9时30分."""
    half = "上午" if t.hour < 12 else "下午"
    return f"{t.year}年{t.month}月{t.day}日{half}{t.hour if t.hour <= 12 else t.hour - 12}时{t.minute:02d}分"


def _announcement(writer, project: str, area: str, closing: dt.datetime, kind: str = "招标公告",
                  at: dt.datetime = START) -> None:
    writer.writerow([project, f"{project}-1", kind, area, f"某某工程施工（{project}）{kind}", _slash(at), BUYER, BUYER_CODE,
                     _slash(START), _slash(START + dt.timedelta(days=7)), _slash(closing), _slash(closing)])


def write_raw(raw: Path, folder: str = "trading") -> None:
    """The announcements, the 504 table (CSV and JSON) and a 552 record under ``raw/<folder>``."""
    root = raw / folder
    root.mkdir(parents=True, exist_ok=True)
    with (root / "平台导出_公告_bom_crlf.csv").open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\r\n")
        writer.writerow(ANNOUNCEMENT_HEADER)
        for project in WORKS_DEALS:
            _announcement(writer, project, WORKS, CLOSING)
        # a change notice restating the deadline unchanged, 12 days before it
        _announcement(writer, CHANGED, WORKS, CLOSING, kind="变更公告", at=CHANGE_AT)
        # an office restating the unchanged deadline by its day only, as people write it (midnight once read)
        _announcement(writer, RESTATED, WORKS, CLOSING)
        writer.writerow([RESTATED, f"{RESTATED}-1", "变更公告", WORKS, f"某某工程施工（{RESTATED}）变更公告", _slash(CHANGE_AT),
                         BUYER, BUYER_CODE, "", "", f"{CLOSING.year}年{CLOSING.month}月{CLOSING.day}日",
                         f"{CLOSING.year}年{CLOSING.month}月{CLOSING.day}日"])
        writer.writerow([GP_EARLIER, f"{GP_EARLIER}-1", "采购公告", GP, f"某某设备采购项目（{GP_EARLIER}）公开招标公告",
                         _slash(START), BUYER, BUYER_CODE, _slash(START), _slash(START + dt.timedelta(days=7)),
                         _slash(GP_CLOSING), _slash(GP_CLOSING)])
        _announcement(writer, RESULT_EARLY, WORKS, CLOSING)
        _announcement(writer, RESULT_EARLY, WORKS, CLOSING, kind="中标结果公告", at=RESULT_EARLY_AT)
    with (root / "TENDER_FILE_CLARI_MODI.csv").open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\r\n")
        writer.writerow(H504)
        for n, (project, (clarified, submitted, postponed, post_open, deadline)) in enumerate(CLARIFICATIONS.items()):
            # the standard's times, but one office typing its clarification time as people write it
            clarify = _people(clarified) if project == TIMELY else _standard(clarified)
            writer.writerow([project, f"{project}-1", "", f"DOC{n:023d}", "某某工程施工招标文件澄清与修改（第1号）",
                             _standard(deadline), _standard(deadline), "宁夏公共资源交易中心开标室", clarify, postponed,
                             _standard(post_open), "宁夏公共资源交易中心开标一室" if post_open else "",
                             "一、工程量清单第3项更正\r\n二、投标截止时间：" + (f"{post_open:%Y年%m月%d日}" if post_open else "不变"),
                             _standard(submitted), f"http://x/504/{n}", "详见招标文件"])
        # the documents as the table carries them: the bid terms (投标资格 broken inside quotes), no clarification
        writer.writerow([DOCUMENTS, f"{DOCUMENTS}-1", "", "D" * 26, "某某工程施工招标文件", _standard(CLOSING),
                         _standard(CLOSING), "宁夏公共资源交易中心开标室", "", "0", "", "", "", _standard(DOCUMENTS_AT),
                         "http://x/504/doc", "具备建筑工程施工总承包三级及以上资质，\r\n项目经理具备二级注册建造师执业资格"])
        writer.writerow([ANSWERED, f"{ANSWERED}-1", "", "A" * 26, "某某工程施工招标文件答疑纪要（第1号）", _standard(CLOSING),
                         _standard(CLOSING), "宁夏公共资源交易中心开标室", "", "", "", "", "", _standard(ANSWERED_AT),
                         "http://x/504/ans", "详见招标文件"])
    records = [{"tenderProjectCode": JSON_EXTENDED, "bidSectionCode": f"{JSON_EXTENDED}-1",
                "docName": "某某工程施工招标文件澄清（第2号）", "bidDocReferEndTime": _standard(JSON_CLOSING),
                "bidOpenTime": _standard(JSON_CLOSING), "clarifyTime": f"{JSON_CLARIFIED:%Y-%m-%d %H:%M:%S}",
                "isPostpone": "是", "postOpenTime": "", "clarifyContent": "投标截止时间顺延至\n" + f"{JSON_CLOSING:%Y年%m月%d日}",
                "submitTime": _standard(JSON_CLARIFIED), "url": "http://x/504/json"},
               {"tenderProjectCode": JSON_DOCUMENTS, "bidSectionCode": f"{JSON_DOCUMENTS}-1",
                "docName": "某某工程施工招标文件（正式稿）", "bidQualification": "具备建筑工程施工总承包\n三级及以上资质",
                "bidDocReferEndTime": _standard(CLOSING), "bidOpenTime": _standard(CLOSING), "clarifyTime": "",
                "isPostpone": "否", "postOpenTime": "", "clarifyContent": "无", "submitTime": _standard(DOCUMENTS_AT),
                "url": "http://x/504/json-doc"}]
    (root / "TENDER_FILE_CLARI_MODI_20210501.json").write_text(
        json.dumps({"code": 200, "msg": "success", "data": {"records": records, "total": len(records)}}, ensure_ascii=False),
        encoding="utf-8")
    with (root / "CORRECTION_ITEM_20210501.csv").open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\r\n")
        writer.writerow(H552)
        writer.writerow([GP_EARLIER, "某某设备采购项目", f"{GP_EARLIER}-1", "", "某某设备采购项目更正公告",
                         "延期开标\r\n变更后投标截止时间：" + f"{GP_POSTPONED:%Y年%m月%d日}",
                         _standard(START + dt.timedelta(days=4)), "1", _standard(GP_POSTPONED), "http://x/552/e"])


def test_the_clarification_table_loads_with_its_times_and_postponement(tmp_path):
    raw, wh = tmp_path / "raw", tmp_path / "w.duckdb"
    write_raw(raw)
    load(raw, wh)
    files = dict(query(wh, "SELECT source_file, status FROM raw.load_files WHERE source_file LIKE '%TENDER_FILE%'"))
    assert files == {"trading/TENDER_FILE_CLARI_MODI.csv": "loaded", "trading/TENDER_FILE_CLARI_MODI_20210501.json": "loaded"}
    rows = {r[0]: r[1:] for r in query(wh, """
        SELECT tender_project_code, bulletin_type, trade_area, notice_send_time, bid_doc_refer_end_time, bid_open_time
        FROM raw.trading_bulletins WHERE source_file LIKE '%TENDER_FILE%'""")}
    expected = {}
    for project, (clarified, submitted, _postponed, post_open, deadline) in CLARIFICATIONS.items():
        moved = post_open or deadline   # IS_POSTPONE 1: the postponed opening is the new deadline too (§34)
        expected[project] = (clarified or submitted, moved, moved)
    expected[JSON_EXTENDED] = (JSON_CLARIFIED, JSON_CLOSING, JSON_CLOSING)
    expected[ANSWERED] = (ANSWERED_AT, CLOSING, CLOSING)
    expected[DOCUMENTS] = expected[JSON_DOCUMENTS] = (DOCUMENTS_AT, CLOSING, CLOSING)
    # a clarification is a change of the tender (变更公告 'change'), published when it was clarified (SUBMIT_TIME when
    # the record states no CLARIFY_TIME), in the table's trade area
    assert {p: v[2:] for p, v in rows.items()} == expected
    assert {(v[0], v[1]) for p, v in rows.items() if p not in (DOCUMENTS, JSON_DOCUMENTS)} == {("澄清公告", WORKS)}
    # the documents themselves (no clarification time, content or postponement, no title of one) are a bulletin of
    # their own type, loaded — a publisher's real record, not a reject; every record in is loaded
    assert {p: v[:2] for p, v in rows.items() if p in (DOCUMENTS, JSON_DOCUMENTS)} == {
        DOCUMENTS: ("招标文件", WORKS), JSON_DOCUMENTS: ("招标文件", WORKS)}
    assert query(wh, "SELECT source_file, rows_in, rows_loaded, rows_rejected FROM raw.load_files "
                     "WHERE source_file LIKE '%TENDER_FILE%' ORDER BY 1") == [
        ("trading/TENDER_FILE_CLARI_MODI.csv", len(CLARIFICATIONS) + 2, len(CLARIFICATIONS) + 2, 0),
        ("trading/TENDER_FILE_CLARI_MODI_20210501.json", 2, 2, 0)]
    # and the file's note says how many records were read as the documents, so none goes unseen
    assert all("1 条记录未载明澄清或修改, 读作招标文件" in reason for (reason,) in query(
        wh, "SELECT reason FROM raw.load_files WHERE source_file LIKE '%TENDER_FILE%'"))
    # staged, the documents are a closed type of their own that no amendment rule reads ('change' is what they read)
    codes = dict(query(wh, "SELECT DISTINCT split_part(bulletin_key, '|', 2), bulletin_type FROM raw.trading_bulletins "
                           "WHERE source_file LIKE '%TENDER_FILE%'"))
    assert codes == {"change": "澄清公告", "documents": "招标文件"}


def _verdicts(db: Path, rule: str, deals: list[str]) -> dict[str, tuple]:
    return {deal.split("/")[0]: (None if observed is None else int(observed), *rest) for deal, observed, *rest in _query(
        db, "select deal_key, observed_value, deadline_date, applies, passes from intermediate.int_deal_timelines_evaluated "
            "where rule_id = ? and split_part(deal_key, '/', 1) in (select unnest(?))", [rule, deals])}


@pytest.mark.slow
def test_a_clarification_late_in_the_period_fails_unless_the_deadline_was_extended(trading_probe_warehouse):
    # the files sit in the shared trading probe root (raw/trading/clarifications/): no build of this module's own
    db = trading_probe_warehouse
    late = _verdicts(db, "TRADE_AMENDMENT_LATE", [*WORKS_DEALS, GP_EARLIER])

    def verdict(amended: dt.datetime, closing: dt.datetime, passes: bool) -> tuple:
        return ((closing.date() - amended.date()).days, closing.date(), True, passes)

    assert late[LATE] == verdict(CLARIFICATIONS[LATE][0], CLOSING, False)
    assert late[EXTENDED] == verdict(CLARIFICATIONS[EXTENDED][0], CLARIFICATIONS[EXTENDED][3], True)
    assert late[TIMELY] == verdict(CLARIFICATIONS[TIMELY][0], CLOSING, True)
    assert late[SUBMITTED] == verdict(CLARIFICATIONS[SUBMITTED][1], CLOSING, False)   # SUBMIT_TIME: no CLARIFY_TIME
    assert late[JSON_EXTENDED] == verdict(JSON_CLARIFIED, JSON_CLOSING, True)
    assert late[CHANGED] == verdict(CHANGE_AT, CLOSING, False)                       # a platform's 变更公告
    # the tender documents uploaded after their issue day amend nothing: no verdict (was a failure, 12 days);
    # a record titled 答疑 is an answer whatever it leaves blank
    assert late[DOCUMENTS] == late[JSON_DOCUMENTS] == (None, CLOSING.date(), False, None)
    assert late[ANSWERED] == verdict(ANSWERED_AT, CLOSING, False)
    # the period the rules judge runs to the postponed opening the clarification set
    period = _verdicts(db, "TRADE_SHORT_TENDER_PERIOD", [EXTENDED])
    assert period[EXTENDED][0] == (CLARIFICATIONS[EXTENDED][3].date() - START.date()).days
    # and the opening the candidates' publicity counts from is the postponed one; the announced stay as announced
    opened = _query(db, "select evaluated_after_open_at, bid_open_at, bid_deadline_at from intermediate.int_deals_assembled "
                        "where deal_key = ?", [f"{EXTENDED}/{EXTENDED}-1"])
    assert opened == [(CLARIFICATIONS[EXTENDED][3], CLOSING, CLOSING)]


@pytest.mark.slow
def test_a_closing_brought_forward_is_dates_out_of_order_not_a_shorter_period(trading_probe_warehouse):
    db = trading_probe_warehouse
    order = _verdicts(db, "TRADE_DATE_ORDER", [EARLIER, GP_EARLIER, TIMELY])
    assert {deal: (applies, passes) for deal, (_o, _d, applies, passes) in order.items()} == {
        EARLIER: (True, False), GP_EARLIER: (True, False), TIMELY: (True, True)}
    period = _verdicts(db, "TRADE_SHORT_TENDER_PERIOD", [EARLIER, GP_EARLIER])
    # the period still runs to the announced deadline (21 and 22 days), not to the earlier "postponed" one (18, 20)
    assert {deal: v[0] for deal, v in period.items()} == {
        EARLIER: (CLOSING.date() - START.date()).days, GP_EARLIER: (GP_CLOSING.date() - START.date()).days}


@pytest.mark.slow
def test_a_deadline_restated_by_its_day_only_is_not_brought_forward(trading_probe_warehouse):
    # the change notice's 2021年4月22日 reads as midnight, hours before the announced 09:00 of the same day: the same
    # deadline restated, not one brought forward (the dates stay in order; the period still runs to the announced one)
    db = trading_probe_warehouse
    order = _verdicts(db, "TRADE_DATE_ORDER", [RESTATED])
    assert {deal: (applies, passes) for deal, (_o, _d, applies, passes) in order.items()} == {RESTATED: (True, True)}
    assert _verdicts(db, "TRADE_SHORT_TENDER_PERIOD", [RESTATED])[RESTATED][0] == (CLOSING.date() - START.date()).days
    # it is an amendment all the same, 13 days before the deadline
    assert _verdicts(db, "TRADE_AMENDMENT_LATE", [RESTATED])[RESTATED] == (
        (CLOSING.date() - CHANGE_AT.date()).days, CLOSING.date(), True, False)


@pytest.mark.slow
def test_the_finding_names_the_deal_the_publisher_and_both_dates(trading_probe_warehouse):
    from dagster_project.quality.suites import load_suites

    rule = next(e for s in load_suites() for e in s.expectations if e.rule_id == "TRADE_AMENDMENT_LATE")
    rows = _query(trading_probe_warehouse, rule.sql_for_duckdb(rule.gx_query))
    found = {object_key.split("/")[0]: (publisher, observed) for _r, publisher, _y, object_key, observed, *_ in rows
             if object_key.split("/")[0] in WORKS_DEALS}
    assert {publisher for publisher, _ in found.values()} == {BUYER_CODE}
    clarified = CLARIFICATIONS[LATE][0]
    assert found[LATE][1].startswith(f"{(CLOSING.date() - clarified.date()).days}.00 calendar_days")   # as its neighbours print
    assert f"{clarified:%Y-%m-%d}" in found[LATE][1] and f"{CLOSING:%Y-%m-%d}" in found[LATE][1]
    assert set(found) == {LATE, SUBMITTED, CHANGED, ANSWERED}
    # a Trading Bureau reviewer opens the late amendment itself, not the deal's announcement: its file and row (the
    # record as the file numbers it: the header is row 1, a content broken inside quotes stays one record) and the
    # time it was published
    where = {object_key.split("/")[0]: (source_file, source_row, observed) for _r, _p, _y, object_key, observed, _e,
             source_file, _sheet, source_row, _d in rows if object_key.split("/")[0] in WORKS_DEALS}
    clarifications = "trading/clarifications/TENDER_FILE_CLARI_MODI.csv"
    assert where[LATE][:2] == (clarifications, 2 + list(CLARIFICATIONS).index(LATE))
    assert where[SUBMITTED][:2] == (clarifications, 2 + list(CLARIFICATIONS).index(SUBMITTED))
    assert where[ANSWERED][:2] == (clarifications, 2 + len(CLARIFICATIONS) + 1)
    assert where[CHANGED][:2] == ("trading/clarifications/平台导出_公告_bom_crlf.csv", 2 + len(WORKS_DEALS))
    assert f"{clarified:%Y-%m-%d %H:%M:%S}" in where[LATE][2]
    assert f"{ANSWERED_AT:%Y-%m-%d %H:%M:%S}" in where[ANSWERED][2]


def test_a_clarification_of_several_sections_is_one_change_of_each(tmp_path):
    # 504's BID_SECTION_CODE is 相关标段（包）编号 — the sections the clarification concerns, as 503's BID_SECTION_CODES
    # (no LengthMatch=23 of one section code): "A;B" is a change of deal A and of deal B, not of a deal "P/A;B" no
    # announcement is ever of. Under the national name (CSV, BOM, CRLF, content broken inside quotes) and under its
    # Chinese name (xlsx by openpyxl).
    raw, wh = tmp_path / "raw", tmp_path / "w.duckdb"
    root = raw / "trading"
    root.mkdir(parents=True)
    project, sections = "NXJS2021-11", ["NXJS2021-11-1", "NXJS2021-11-2"]
    with (root / "TENDER_FILE_CLARI_MODI.csv").open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\r\n")
        writer.writerow(H504)
        writer.writerow([project, ";".join(sections), "", "D" * 26, "某某工程施工招标文件澄清（第1号）", _standard(CLOSING),
                         _standard(CLOSING), "开标室", _standard(START + dt.timedelta(days=10)), "否", "", "",
                         "一、两个标段的工程量清单更正\r\n二、投标截止时间不变", _standard(START + dt.timedelta(days=10)), "http://x/504/s", "详见招标文件"])
    import openpyxl

    zh = {"TENDER_PROJECT_CODE": "招标项目编号", "BID_SECTION_CODE": "相关标段（包）编号", "DOC_NAME": "文件名称",
          "CLARIFY_TIME": "答疑澄清时间", "IS_POSTPONE": "是否延期", "POST_OPEN_TIME": "延期后开标时间",
          "CLARIFY_CONTENT": "对文件澄清与修改的主要内容", "SUBMIT_TIME": "递交时间"}
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(list(zh.values()))
    sheet.append(["NXJS2021-12", "NXJS2021-12-1；NXJS2021-12-2", "某某工程招标文件澄清（第2号）",
                  _standard(START + dt.timedelta(days=12)), "1", _standard(START + dt.timedelta(days=30)),
                  "投标截止时间顺延", _standard(START + dt.timedelta(days=12))])
    book.save(root / "招标文件澄清与修改.xlsx")
    load(raw, wh)
    for rel, code, parts in (("trading/TENDER_FILE_CLARI_MODI.csv", project, sections),
                             ("trading/招标文件澄清与修改.xlsx", "NXJS2021-12", ["NXJS2021-12-1", "NXJS2021-12-2"])):
        status, rows_in, loaded, rejected = query(wh, "SELECT status, rows_in, rows_loaded, rows_rejected FROM "
                                                      "raw.load_files WHERE source_file = ?", [rel])[0]
        assert (status, rows_in, loaded, rejected) == ("loaded", 1, 1, 0)
        keyed = query(wh, "SELECT split_part(bulletin_key, '|', 1), bid_section_code, bulletin_type FROM "
                          "raw.trading_bulletins WHERE source_file = ? ORDER BY source_part", [rel])
        assert keyed == [(f"{code}/{s}", s, "澄清公告") for s in parts]


# 504 titles whose project's own name holds a kind word (变更登记大厅, 修改性详细规划, 更正路): the documents themselves, not
# an amendment; and real clarification titles stating nothing else (no time, content or postponement): amendments
PROJECT_NAME_TITLES = {
    "NXJS2021-21": ("银川市变更登记大厅改造工程招标文件", "招标文件"),
    "NXJS2021-22": ("修改性详细规划编制项目招标文件", "招标文件"),
    "NXJS2021-23": ("更正路拓宽工程施工招标文件", "招标文件"),
    "NXJS2021-24": ("银川市变更登记大厅改造工程（一标段）招标文件（正式稿）", "招标文件"),
    "NXJS2021-25": ("关于银川市变更登记大厅改造工程招标文件的澄清公告", "澄清公告"),
    "NXJS2021-26": ("更正路拓宽工程答疑纪要", "澄清公告"),
    "NXJS2021-27": ("修改性详细规划编制项目补遗（一）", "澄清公告"),
    "NXJS2021-28": ("更正公告", "澄清公告"),
    "NXJS2021-29": ("更正路拓宽工程招标文件澄清与修改（第1号）", "澄清公告"),
    "NXJS2021-30": ("修改性详细规划编制项目招标文件变更通知", "澄清公告"),
}


def test_a_project_name_holding_a_kind_word_does_not_make_an_amendment(tmp_path):
    # the 504 table under the standard's names (UTF-8 BOM, CRLF) and a platform's flat export of it under its Chinese
    # labels (GB18030, as offices' exports are): the title decides only where the record states nothing else, and a
    # kind word decides only as the notice's own kind (at the end, before 公告/通知/纪要 …, numbered), never inside the
    # project's name
    raw, wh = tmp_path / "raw", tmp_path / "w.duckdb"
    root = raw / "trading"
    root.mkdir(parents=True)
    at = START + dt.timedelta(days=5)
    items = list(PROJECT_NAME_TITLES.items())
    with (root / "TENDER_FILE_CLARI_MODI.csv").open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\r\n")
        writer.writerow(H504)
        for n, (project, (title, _kind)) in enumerate(items[::2]):
            writer.writerow([project, f"{project}-1", "", f"T{n:025d}", title, _standard(CLOSING), _standard(CLOSING),
                             "开标室", "", "", "", "", "", _standard(at), f"http://x/504/t{n}", "详见招标文件"])
    with (root / "招标文件澄清与修改_导出.csv").open("w", encoding="gb18030", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\r\n")
        writer.writerow(["招标项目编号", "相关标段（包）编号", "文件名称", "答疑澄清时间", "是否延期", "对文件澄清与修改的主要内容",
                         "递交时间"])
        for project, (title, _kind) in items[1::2]:
            writer.writerow([project, f"{project}-1", title, "", "", "", _slash(at)])
    load(raw, wh)
    assert query(wh, "SELECT count(*) FROM raw.load_files WHERE status = 'loaded'") == [(2,)]
    kinds = dict(query(wh, "SELECT tender_project_code, bulletin_type FROM raw.trading_bulletins"))
    assert kinds == {project: kind for project, (_title, kind) in items}


@pytest.mark.slow
def test_the_dates_out_of_order_finding_names_both_dates_and_their_bulletins(trading_probe_warehouse):
    # A reviewer at the Trading Bureau acts on the finding itself: which deal, whose, and which two dates are out of
    # order — each with the bulletin that states it (file and row) —, the finding's own file and row being the later
    # bulletin's, the one whose date came too early (it printed a count and the deal's first bulletin before)
    from dagster_project.quality.suites import load_suites

    rule = next(e for s in load_suites() for e in s.expectations if e.rule_id == "TRADE_DATE_ORDER")
    rows = _query(trading_probe_warehouse, rule.sql_for_duckdb(rule.gx_query))
    found = {object_key.split("/")[0]: (publisher, observed, source_file, source_row)
             for _r, publisher, _y, object_key, observed, _e, source_file, _sheet, source_row, _d in rows}
    assert {EARLIER, GP_EARLIER, RESULT_EARLY} <= set(found) and TIMELY not in found and RESTATED not in found
    flat = "trading/clarifications/平台导出_公告_bom_crlf.csv"
    announcement_row = {project: 2 + n for n, project in enumerate(WORKS_DEALS)}
    announcement_row[GP_EARLIER] = 2 + len(WORKS_DEALS) + 3
    announcement_row[RESULT_EARLY] = 2 + len(WORKS_DEALS) + 4

    def at(t: dt.datetime) -> str:
        return f"{t:%Y-%m-%d %H:%M:%S}"

    # a 504 clarification stating a deadline before the announced one: the clarification's row, both deadlines
    publisher, observed, source_file, source_row = found[EARLIER]
    clarified_row = 2 + list(CLARIFICATIONS).index(EARLIER)
    assert (publisher, source_file, source_row) == (
        BUYER_CODE, "trading/clarifications/TENDER_FILE_CLARI_MODI.csv", clarified_row)
    assert observed.startswith("1")
    assert f"{at(CLARIFICATIONS[EARLIER][3])}（trading/clarifications/TENDER_FILE_CLARI_MODI.csv row {clarified_row}）" in observed
    assert f"{at(CLOSING)}（{flat} row {announcement_row[EARLIER]}）" in observed
    # a 552 correction "postponing" the closing to before the announced one
    publisher, observed, source_file, source_row = found[GP_EARLIER]
    assert (publisher, source_file, source_row) == (BUYER_CODE, "trading/clarifications/CORRECTION_ITEM_20210501.csv", 2)
    assert f"{at(GP_POSTPONED)}（trading/clarifications/CORRECTION_ITEM_20210501.csv row 2）" in observed
    assert f"{at(GP_CLOSING)}（{flat} row {announcement_row[GP_EARLIER]}）" in observed
    # a result notice published before the opening: the result's row, its publication and the announced opening
    publisher, observed, source_file, source_row = found[RESULT_EARLY]
    assert (publisher, source_file, source_row) == (BUYER_CODE, flat, announcement_row[RESULT_EARLY] + 1)
    assert f"{at(RESULT_EARLY_AT)}（{flat} row {announcement_row[RESULT_EARLY] + 1}）" in observed
    assert f"{at(CLOSING)}（{flat} row {announcement_row[RESULT_EARLY]}）" in observed
    assert observed.index(at(RESULT_EARLY_AT)) < observed.index(at(CLOSING))   # the later bulletin's date first
