"""Wave 19 review v14 of the x12 merge (90e4b37): a change of the tender project naming no section read on each
section's deal, and a bulletin naming only a unified deal code keyed to the deal carrying it, in the incremental
build; a 503 资格预审公告 (BULLETIN_TYPE 2) read as the tender's announcement. Probes are written as the platform
exports them (503 GB18030 CSV with CRLF, 504 the platform's JSON answer), from the x12 probe's generator
(tests/fixtures/trading_amendments_v3/make_fixture.py); expected values are read from it, not from the output."""
from __future__ import annotations

import csv
import datetime as dt
import json
import shutil
import sys
from pathlib import Path

import pytest

from test_trading_amendments_v3 import _marts
from test_trading_candidates_per_row import _query

sys.path.insert(0, str(Path(__file__).parent / "fixtures" / "trading_amendments_v3"))
import make_fixture as fx  # noqa: E402

REGISTRY = Path(__file__).parents[1] / "data" / "raw" / "registry"
DECEMBER = dt.datetime(2021, 12, 20, 9, 0)
CLOSING = DECEMBER + dt.timedelta(days=21)          # 2022-01-10: a lawful 21-day period


def _write_503(root: Path, rows: list[list[str]], name: str = "TENDER_ANN_QUA_INQUERY_ANN_202112.csv") -> None:
    root.mkdir(parents=True, exist_ok=True)
    with (root / name).open("w", encoding="gb18030", newline="") as handle:
        csv.writer(handle, lineterminator="\r\n").writerows([fx.H503, *rows])


def _write_504(root: Path, name: str, records: list[dict]) -> None:
    root.mkdir(parents=True, exist_ok=True)
    (root / name).write_text(json.dumps({"code": 200, "data": records}, ensure_ascii=False), encoding="utf-8")


def _clarification(project: str, codes: str, at: dt.datetime, postponed: dt.datetime | None, n: int) -> dict:
    return {"TENDER_PROJECT_CODE": project, "BID_SECTION_CODE": "", "UNIFIED_DEAL_CODES": codes,
            "DOC_NAME": f"某某工程施工招标文件澄清与修改（第{n}号）", "CLARIFY_TIME": fx.t(at),
            "IS_POSTPONE": "1" if postponed else "0", "POST_OPEN_TIME": fx.t(postponed),
            "CLARIFY_CONTENT": "工程量清单更正", "SUBMIT_TIME": fx.t(at), "URL": f"http://ggzy.example/504/v14/{n}"}


@pytest.mark.slow
def test_a_deal_code_change_keeps_the_project_change_of_another_year_on_each_section(tmp_path):
    """Announced in December for two sections; the project's clarification naming no section (its own deal project/,
    a partition of January: 2022) postpones the closing. A later export naming only section 1's deal code touches
    section 1's deal (2021) by its code, not by a project: the rebuilt 2021 partition must still read the project's
    change of 2022 on both sections, as a full build does."""
    from test_trading_candidates_per_row import load_and_build

    select = ("+int_deal_timelines_evaluated", "+fct_trading_bulletins")
    step = tmp_path / "step"
    shutil.copytree(REGISTRY, step / "raw" / "registry")
    trading = step / "raw" / "trading"
    _write_503(trading, [fx.row503(fx.SPLIT, 2, "1", "1", DECEMBER, CLOSING, CLOSING)])
    postponed = CLOSING + dt.timedelta(days=10)
    _write_504(trading, "TENDER_FILE_CLARI_MODI_202201.json",
               [_clarification(fx.SPLIT, "", dt.datetime(2022, 1, 2, 9, 0), postponed, 1)])
    load_and_build(step, *select)
    _write_504(trading, "TENDER_FILE_CLARI_MODI_202201b.json",
               [_clarification("", fx.deal_code(fx.SPLIT, 1), dt.datetime(2022, 1, 3, 9, 0), None, 2)])
    stepwise = _marts(load_and_build(step, *select))
    once = tmp_path / "once"
    shutil.copytree(step / "raw", once / "raw")
    together = _marts(load_and_build(once, *select))
    sections = {f"{fx.SPLIT}/{fx.section(fx.SPLIT, n)}" for n in (1, 2)}
    # the full build: both sections closed at the project's postponed deadline
    assert {d[0]: d[1] for d in together["deals"] if d[0] in sections} == {s: str(postponed) for s in sections}
    assert stepwise == together
    shutil.rmtree(tmp_path, ignore_errors=True)


PREQ_ONLY = "E6401000101000021108"    # announced by its 资格预审公告 only (the invitations to tender go to the qualified)
TENDER_SHORT = "E6401000101000021109"  # a 招标公告 stating the same short period: still a §24 failure


def _prequalification_raw(raw: Path) -> dict[str, str]:
    """503: a 资格预审公告 (BULLETIN_TYPE 2) whose BID_DOC_REFER_END_TIME (投标文件/资格预审申请文件递交截止时间) is the
    applications' deadline 8 days after the documents' issue (实施条例 §17: 5 days after their sale ends), a change
    notice of it (NATURE 2, IS_POSTPONE 1) moving the applications' deadline and opening, and a 招标公告 of another
    project stating 8 days to its bid deadline. The deals: {project: deal_key}."""
    applications = fx.START + dt.timedelta(days=8)
    moved = applications + dt.timedelta(days=2)
    _write_503(raw / "trading", [
        fx.row503(PREQ_ONLY, 1, "1", "2", fx.START - dt.timedelta(days=1), applications, applications),
        fx.row503(PREQ_ONLY, 1, "2", "2", fx.START + dt.timedelta(days=4), moved, moved, "1",
                  f"某某工程施工（{PREQ_ONLY}）资格预审变更公告", "资格预审申请文件递交截止时间延期"),
        fx.row503(TENDER_SHORT, 1, "1", "1", fx.START - dt.timedelta(days=1), applications, applications)],
        name="TENDER_ANN_QUA_INQUERY_ANN_202106.csv")
    return {p: f"{p}/{fx.section(p, 1)}" for p in (PREQ_ONLY, TENDER_SHORT)}


def test_a_prequalification_notice_states_no_bid_deadline_or_opening(tmp_path):
    # read at ingest: the applications' deadline and opening are not stored as the bid deadline / opening (as 514's
    # DOC_SUBMIT_END_TIME / POST_OPEN_TIME are not); the 招标公告's are
    from test_ingest_trading import load, query

    deals = _prequalification_raw(tmp_path / "raw")
    load(tmp_path / "raw", tmp_path / "w.duckdb")
    read = query(tmp_path / "w.duckdb", """
        select tender_project_code, bulletin_type, bid_doc_refer_end_time, bid_open_time, doc_get_start_time
        from raw.trading_bulletins order by tender_project_code, notice_send_time""")
    applications = fx.START + dt.timedelta(days=8)
    assert read == [
        (PREQ_ONLY, "资格预审公告", None, None, fx.START),
        (PREQ_ONLY, "变更公告", None, None, fx.START),
        (TENDER_SHORT, "招标公告", applications, applications, fx.START)]
    assert set(deals) == {PREQ_ONLY, TENDER_SHORT}


@pytest.mark.slow
def test_a_prequalification_notice_is_no_short_tender_period(tmp_path):
    from test_trading_candidates_per_row import load_and_build

    shutil.copytree(REGISTRY, tmp_path / "raw" / "registry")
    deals = _prequalification_raw(tmp_path / "raw")
    db = load_and_build(tmp_path, "+int_deal_timelines_evaluated")
    verdicts = {d: (applies, passes) for d, applies, passes in _query(db, """
        select deal_key, applies, passes from intermediate.int_deal_timelines_evaluated
        where rule_id = 'TRADE_SHORT_TENDER_PERIOD'""")}
    # the tender documents' period of a prequalified deal is not published (505 invitations): no verdict, not a
    # failure of 8 days; the 招标公告's 8 days still fail
    assert verdicts == {deals[PREQ_ONLY]: (False, None), deals[TENDER_SHORT]: (True, False)}
    assert _query(db, "select tender_closed_at, evaluated_after_open_at from intermediate.int_deals_assembled "
                      "where deal_key = ?", [deals[PREQ_ONLY]]) == [(None, None)]
    shutil.rmtree(tmp_path, ignore_errors=True)
