"""A government-procurement change notice postponing the bid closing (the national data standard's 552 更正事项:
``IS_POSTPONE`` 是否延期, ``POST_BID_CLOSING_TIME`` 延期后投标（提交响应文件）截止时间) moves the tender period the rules
judge (TRADE_SHORT_TENDER_PERIOD, FLAG_SHORT_PERIOD): the bids were due at the postponed closing (招标投标法 §23 —
an amendment late in the period extends it). Wave 17: both fields were unread, so a closing postponed to a lawful
period stayed a short-period failure. A record saying it is no postponement (IS_POSTPONE 0) moves nothing.

Files made as platforms make them: the announcement in a platform's GBK export with Chinese labels (Python ``csv``,
CRLF, ``2020/3/2 9:00`` times), the 552 table one file per table (the standard's names, ``yyyyMMddHHmmss``, a content
cell with line breaks inside quotes)."""
from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

import pytest

from test_ingest_trading import load, query
from test_trading_candidates_per_row import _query

GP = "政府采购"
START = dt.datetime(2020, 3, 2, 9, 0)
CLOSING = START + dt.timedelta(days=15)          # short: fewer than 20 days
POSTPONED = CLOSING + dt.timedelta(days=10)      # 25 days: lawful
DEALS = {"NXCG2020-07": "1", "NXCG2020-08": "0"}   # project → the 552 record's IS_POSTPONE
# a change notice reopening the documents' sale (文件获取时间 restated from its own day) and postponing the closing:
# the documents were issued at the announcement — the period runs from there (招标投标法 §24), the change is an
# amendment 16 days before the new closing (§23's 15 days kept), not a new tender
RESOLD, CHANGED = "NXCG2020-09", START + dt.timedelta(days=8)
RESOLD_CLOSING = START + dt.timedelta(days=24)
# a re-tender (重新招标, 实施条例 §44) whose announcement states no 文件获取开始时间: its period is its own — from its
# publication (documents are issued no earlier) to its own closing, 10 days — not the first tender's issue to it
RETENDERED, RETENDER_AT = "NXCG2020-10", START + dt.timedelta(days=30)
RETENDER_CLOSING = RETENDER_AT + dt.timedelta(days=10)
ANNOUNCEMENT_HEADER = ["项目编号", "标段(包)编号", "公告类型", "交易领域", "公告标题", "发布时间", "采购人", "文件获取开始时间",
                       "文件获取截止时间", "投标截止时间", "开标时间"]
H552 = ["PURCHASE_PROJECT_CODE", "PURCHASE_PROJECT_NAME", "PURCHASE_SECTION_CODE", "UNIFIED_DEAL_CODE",
        "TERMINATION_BULLETIN_TITLE", "TERMINATION_BULLETIN_CONTENT", "MODIFICATION_START_TIME", "IS_POSTPONE",
        "POST_BID_CLOSING_TIME", "URL"]


def _slash(t: dt.datetime) -> str:
    return f"{t.year}/{t.month}/{t.day} {t.hour}:{t.minute:02d}"


def write_raw(raw: Path, folder: str = "trading") -> None:
    """The announcement export and the 552 table under ``raw/<folder>`` (the shared trading probe root puts them in
    a folder of their own beside its exports: tests/conftest.trading_probe_warehouse)."""
    (raw / folder).mkdir(parents=True, exist_ok=True)
    with (raw / folder / "政府采购_公告_gbk.csv").open("w", encoding="gbk", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\r\n")
        writer.writerow(ANNOUNCEMENT_HEADER)
        for project in DEALS:
            writer.writerow([project, f"{project}-1", "采购公告", GP, f"某某设备采购项目（{project}）公开招标公告",
                             _slash(START), "宁夏回族自治区财政厅", _slash(START), _slash(START + dt.timedelta(days=7)),
                             _slash(CLOSING), _slash(CLOSING)])
        writer.writerow([RESOLD, f"{RESOLD}-1", "采购公告", GP, f"某某设备采购项目（{RESOLD}）公开招标公告", _slash(START),
                         "宁夏回族自治区财政厅", _slash(START), _slash(START + dt.timedelta(days=7)), _slash(CLOSING),
                         _slash(CLOSING)])
        writer.writerow([RESOLD, f"{RESOLD}-1", "变更公告", GP, f"某某设备采购项目（{RESOLD}）变更公告", _slash(CHANGED),
                         "宁夏回族自治区财政厅", _slash(CHANGED), _slash(CHANGED + dt.timedelta(days=5)),
                         _slash(RESOLD_CLOSING), _slash(RESOLD_CLOSING)])
        writer.writerow([RETENDERED, f"{RETENDERED}-1", "采购公告", GP, f"某某设备采购项目（{RETENDERED}）公开招标公告",
                         _slash(START), "宁夏回族自治区财政厅", _slash(START), _slash(START + dt.timedelta(days=7)),
                         _slash(START + dt.timedelta(days=20)), _slash(START + dt.timedelta(days=20))])
        writer.writerow([RETENDERED, f"{RETENDERED}-1", "采购公告", GP,
                         f"某某设备采购项目（{RETENDERED}）公开招标公告（重新招标）", _slash(RETENDER_AT),
                         "宁夏回族自治区财政厅", "", "", _slash(RETENDER_CLOSING), _slash(RETENDER_CLOSING)])
    with (raw / folder / "CORRECTION_ITEM.csv").open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\r\n")
        writer.writerow(H552)
        for n, (project, postponed) in enumerate(DEALS.items()):
            writer.writerow([project, "某某设备采购项目", f"{project}-1", f"640100{project.replace('-', '')}1".ljust(40, "0"),
                             "某某设备采购项目更正公告", f"延期开标\n原投标截止时间：{CLOSING:%Y年%m月%d日}\n变更后：{POSTPONED:%Y年%m月%d日}",
                             f"{START + dt.timedelta(days=5):%Y%m%d%H%M%S}", postponed,
                             f"{POSTPONED:%Y%m%d%H%M%S}", f"http://x/552/{n}"])


def test_the_change_notice_states_the_postponed_closing(tmp_path):
    raw, wh = tmp_path / "raw", tmp_path / "w.duckdb"
    write_raw(raw)
    load(raw, wh)
    closing = dict(query(wh, "SELECT project_code, bid_doc_refer_end_time FROM raw.trading_bulletins "
                             "WHERE source_file = 'trading/CORRECTION_ITEM.csv'"))
    # IS_POSTPONE 1: the change notice's deadline is the postponed one; 0: it states none
    assert closing == {"NXCG2020-07": POSTPONED, "NXCG2020-08": None}


@pytest.mark.slow
def test_a_postponed_closing_moves_the_tender_period_the_rules_judge(trading_probe_warehouse):
    # the files sit in the shared trading probe root (raw/trading/postponed_closing/), built once per test run up to
    # int_deal_timelines_evaluated: no dbt build of this module's own (≈ 15–20 CPU-s)
    db = trading_probe_warehouse
    verdicts = {deal.split("/")[0]: (observed, applies, passes) for deal, observed, applies, passes in _query(
        db, "select deal_key, observed_value, applies, passes from intermediate.int_deal_timelines_evaluated "
            "where rule_id = 'TRADE_SHORT_TENDER_PERIOD' and split_part(deal_key, '/', 1) in (select unnest(?))",
        [[*DEALS, RESOLD, RETENDERED]])}
    assert verdicts["NXCG2020-07"] == ((POSTPONED.date() - START.date()).days, True, True)
    assert verdicts["NXCG2020-08"] == ((CLOSING.date() - START.date()).days, True, False)
    # the documents' sale reopened by the change notice: still the announcement's issue to the postponed closing
    assert verdicts[RESOLD] == ((RESOLD_CLOSING.date() - START.date()).days, True, True)
    # the re-tender's own period, though its announcement states no document issue
    assert verdicts[RETENDERED] == ((RETENDER_CLOSING.date() - RETENDER_AT.date()).days, True, False)
    # the deal's announced deadline stays the announcement's
    announced = dict(_query(db, "select split_part(deal_key, '/', 1), cast(bid_deadline_at as date) "
                                "from intermediate.int_deals_assembled where split_part(deal_key, '/', 1) in (select unnest(?))",
                            [list(DEALS)]))
    assert announced == {project: CLOSING.date() for project in DEALS}
