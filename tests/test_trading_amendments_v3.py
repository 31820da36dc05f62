"""Amendments and postponements across the national data standard's tables (数据规范 V3; 招标投标法 §23,
TRADE_AMENDMENT_LATE), one table per file as a provincial platform exports them (tests/fixtures/trading_amendments_v3,
MAKE.md: 503 in GB18030 with CRLF, 504 as the platform's JSON answer, 514 as an Excel export).

Wave 19 x12 found: a 514 QUALI_INQUERY_CLARI file (资格预审文件澄清) rejected whole as "no bulletin"; a 504 clarification
naming its tender project but no section a deal of its own (``project/``), joining none of the project's sections;
a 504 record naming only its unified deal codes a deal of its own per code, never the deal whose bulletins carry the
code — both clarifications late in the period (§23) were no finding. Expected values are read from the fixture's
generator, not from the output."""
from __future__ import annotations

import datetime as dt
import shutil
import sys
from pathlib import Path

import pytest

from test_ingest_trading import load, query
from test_trading_candidates_per_row import _query

FIXTURE = Path(__file__).parent / "fixtures" / "trading_amendments_v3"
sys.path.insert(0, str(FIXTURE))
import make_fixture as fx  # noqa: E402  (the probe's generator: its dates and codes)

F503, F504, F514 = ("TENDER_ANN_QUA_INQUERY_ANN_202106.csv", "TENDER_FILE_CLARI_MODI_202106.json",
                    "QUALI_INQUERY_CLARI_202106.xlsx")


def copy_raw(raw: Path, folder: str = "trading", files: tuple[str, ...] = (F503, F504, F514)) -> None:
    """The probe's files under ``raw/<folder>`` (the shared trading probe root: conftest.trading_probe_warehouse)."""
    (raw / folder).mkdir(parents=True, exist_ok=True)
    for name in files:
        shutil.copyfile(FIXTURE / "trading" / name, raw / folder / name)


def _deal(project: str, n: int) -> str:
    return f"{project}/{fx.section(project, n)}"


def _raw_keys(warehouse: Path) -> set[tuple[str, str]]:
    return {(file.rsplit("/", 1)[-1], key) for file, key in query(
        warehouse, "select source_file, bulletin_key from raw.trading_bulletins where not is_retired")}


def test_the_prequalification_clarification_table_is_read_as_a_change_of_the_prequalification(tmp_path):
    raw, wh = tmp_path / "raw", tmp_path / "w.duckdb"
    copy_raw(raw, files=(F514,))
    load(raw, wh)
    assert query(wh, "select status, rows_in, rows_loaded, rows_rejected from raw.load_files") == [("loaded", 2, 2, 0)]
    rows = {r[0]: r[1:] for r in query(wh, """
        select notice_name, split_part(bulletin_key, '|', 1), bulletin_type, split_part(bulletin_key, '|', 2),
               trade_area, notice_send_time, bid_doc_refer_end_time, bid_open_time, notice_content
        from raw.trading_bulletins""")}
    deal = _deal(fx.PREQUALIFIED, 1)
    # the clarification: published when uploaded (SUBMIT_TIME 上传时间, not TENDER_SUBMIT_TIME 递交时间), its own closed
    # type; the applications' deadline and postponed opening (DOC_SUBMIT_END_TIME, POST_OPEN_TIME) are no bid deadline
    assert rows["某某工程施工资格预审文件澄清（第1号）"] == (
        deal, "资格预审文件澄清", "prequalification_change", "工程建设项目招标投标", fx.PREQ_UPLOADED, None, None,
        "资格预审申请文件递交截止时间延期")
    # the documents themselves (content 无 and /, IS_POSTPONE 0, no title of a clarification): no change
    assert rows["某某工程施工资格预审文件"][:6] == (
        deal, "资格预审文件", "prequalification_documents", "工程建设项目招标投标", fx.START - dt.timedelta(days=10), None)


def test_the_submission_time_is_read_where_the_upload_time_is_blank(tmp_path):
    # an export whose upload time is blank: the other time of the record (递交时间) is its publication
    from openpyxl import load_workbook

    raw, wh = tmp_path / "raw", tmp_path / "w.duckdb"
    copy_raw(raw, files=(F514,))
    book = load_workbook(raw / "trading" / F514)
    sheet = book.active
    sheet.cell(row=2, column=fx.H514.index("SUBMIT_TIME") + 1).value = None
    book.save(raw / "trading" / F514)
    load(raw, wh)
    assert fx.PREQ_SUBMITTED in {t for (t,) in query(wh, "select notice_send_time from raw.trading_bulletins")}


def test_the_prequalification_table_under_its_chinese_labels_reads_the_same(tmp_path):
    # an export headed with the standard's Chinese labels (上传时间 before 递交时间): the same bulletins
    import csv

    from openpyxl import load_workbook

    seed = Path(__file__).parents[1] / "dbt" / "seeds" / "ingest" / "ref_ggzy_v3_fields.csv"
    with seed.open(encoding="utf-8") as f:
        labels = {r["field"]: r["field_name_zh"] for r in csv.DictReader(f) if r["table_name"] == "QUALI_INQUERY_CLARI"}
    named, labelled = tmp_path / "named", tmp_path / "labelled"
    copy_raw(named / "raw", files=(F514,))
    book = load_workbook(FIXTURE / "trading" / F514)
    for cell in book.active[1]:
        cell.value = labels[cell.value]
    (labelled / "raw" / "trading").mkdir(parents=True)
    book.save(labelled / "raw" / "trading" / F514)
    read = []
    for root in (named, labelled):
        load(root / "raw", root / "w.duckdb")
        read.append(set(query(root / "w.duckdb", "select bulletin_key, notice_name, notice_send_time, notice_content, "
                                                 "bid_doc_refer_end_time, bid_open_time from raw.trading_bulletins")))
    assert read[0] == read[1] and len(read[0]) == 2


def test_a_clarification_naming_only_deal_codes_joins_their_deals_whatever_the_order_of_loads(tmp_path):
    once = tmp_path / "once"
    copy_raw(once / "raw", files=(F503, F504))
    load(once / "raw", once / "w.duckdb")
    expected = _raw_keys(once / "w.duckdb")
    clarified = {key.split("|")[0] for file, key in expected if file == F504}
    # the codes' deals (503 lists each section's code); the project's clarification naming no section stays the
    # project's (int_deals_assembled applies it to each section)
    assert clarified == {_deal(fx.BY_CODE, 1), _deal(fx.BY_CODES, 1), _deal(fx.BY_CODES, 2), f"{fx.SPLIT}/"}
    later = tmp_path / "clarification_first"
    for name in (F504, F503):
        copy_raw(later / "raw", files=(name,))
        load(later / "raw", later / "w.duckdb")
    assert _raw_keys(later / "w.duckdb") == expected


def test_a_file_gone_takes_the_deal_codes_it_named_with_it(tmp_path):
    # the announcements' export removed (retired): the clarifications are their deal codes' own again, as a warehouse
    # that only ever saw them has them
    from test_trading_sections_load_order import load_retiring

    both = tmp_path / "both"
    copy_raw(both / "raw", files=(F503, F504))
    load(both / "raw", both / "w.duckdb")
    (both / "raw" / "trading" / F503).unlink()
    assert load_retiring(both) == [f"trading/{F503}"]
    alone = tmp_path / "alone"
    copy_raw(alone / "raw", files=(F504,))
    load(alone / "raw", alone / "w.duckdb")
    assert _raw_keys(both / "w.duckdb") == _raw_keys(alone / "w.duckdb")
    assert fx.deal_code(fx.BY_CODE, 1) in {key.split("|")[0] for _, key in _raw_keys(alone / "w.duckdb")}


def _late(db: Path, deals: list[str]) -> dict[str, tuple]:
    return {deal: (None if observed is None else int(observed), *rest) for deal, observed, *rest in _query(
        db, """select e.deal_key, e.observed_value, e.deadline_date, e.applies, e.passes, d.last_amended_at,
                      d.amendment_source_file
               from intermediate.int_deal_timelines_evaluated as e
               join intermediate.int_deals_assembled as d using (deal_key)
               where e.rule_id = 'TRADE_AMENDMENT_LATE' and e.deal_key in (select unnest(?))""", [deals])}


def _judged_late(db: Path, days_before: dict[str, int]) -> None:
    """Each deal: the 504 clarification ``days_before`` the announced deadline fails §23 (nothing postponed)."""
    f504 = f"trading/amendments_v3/{F504}"
    assert _late(db, list(days_before)) == {
        deal: (days, fx.CLOSING.date(), True, False, fx.CLOSING - dt.timedelta(days=days), f504)
        for deal, days in days_before.items()}


@pytest.mark.slow
def test_a_clarification_of_the_tender_project_is_judged_on_each_section(trading_probe_warehouse):
    # 504 naming the project, no section: the project's documents, every section's — 11 days before the deadline
    _judged_late(trading_probe_warehouse, {_deal(fx.SPLIT, 1): 11, _deal(fx.SPLIT, 2): 11})
    # the bulletin is still its own deal's (its row names the project only): that deal has no deadline to judge
    assert _late(trading_probe_warehouse, [f"{fx.SPLIT}/"])[f"{fx.SPLIT}/"][2] is False


@pytest.mark.slow
def test_a_clarification_naming_deal_codes_is_judged_on_their_deals(trading_probe_warehouse):
    _judged_late(trading_probe_warehouse, {_deal(fx.BY_CODE, 1): 8, _deal(fx.BY_CODES, 1): 9, _deal(fx.BY_CODES, 2): 9})
    # no deal of its own for a deal code whose deal is known
    codes = [fx.deal_code(fx.BY_CODE, 1), fx.deal_code(fx.BY_CODES, 1), fx.deal_code(fx.BY_CODES, 2)]
    assert _query(trading_probe_warehouse, "select deal_key from intermediate.int_deals_assembled "
                  "where deal_key in (select unnest(?))", [codes]) == []


@pytest.mark.slow
def test_a_change_notice_postponing_the_opening_moves_the_deadline_the_rule_judges(trading_probe_warehouse):
    # 503 NOTICE_NATURE 2 with IS_POSTPONE 1: its BID_DOC_REFER_END_TIME / BID_OPEN_TIME are the new ones
    moved = fx.CLOSING + dt.timedelta(days=6)
    postponed, restated = _deal(fx.POSTPONED, 1), _deal(fx.NOT_POSTPONED, 1)
    f503 = f"trading/amendments_v3/{F503}"
    changed_at = {postponed: fx.START + dt.timedelta(days=11), restated: fx.START + dt.timedelta(days=9)}
    assert _late(trading_probe_warehouse, [postponed, restated]) == {
        postponed: ((moved.date() - changed_at[postponed].date()).days, moved.date(), True, True, changed_at[postponed],
                    f503),
        restated: ((fx.CLOSING.date() - changed_at[restated].date()).days, fx.CLOSING.date(), True, False,
                   changed_at[restated], f503)}
    assert _query(trading_probe_warehouse, "select tender_closed_at, evaluated_after_open_at from "
                  "intermediate.int_deals_assembled where deal_key = ?", [postponed]) == [(moved, moved)]


@pytest.mark.slow
def test_a_change_notice_postponing_only_the_opening_postpones_the_deadline(trading_probe_warehouse):
    # 503 NOTICE_NATURE 2, IS_POSTPONE 1 (是否延期开标), its BID_DOC_REFER_END_TIME blank: the opening is at the deadline
    # (招标投标法 §34), so the postponed opening is the deadline in force — §23 counts to it
    deal, changed_at = _deal(fx.OPENING_ONLY, 1), fx.START + dt.timedelta(days=11)
    assert _late(trading_probe_warehouse, [deal])[deal][:4] == (
        (fx.OPENING_MOVED.date() - changed_at.date()).days, fx.OPENING_MOVED.date(), True, True)
    assert _query(trading_probe_warehouse, "select tender_closed_at, evaluated_after_open_at, bid_deadline_at from "
                  "intermediate.int_deals_assembled where deal_key = ?", [deal]) == [
        (fx.OPENING_MOVED, fx.OPENING_MOVED, fx.CLOSING)]


def test_is_postpone_of_the_announcement_table_is_read(tmp_path):
    # a record of 503 without IS_POSTPONE 1 keeps its blank deadline blank; the column is the standard's, not unknown
    raw, wh = tmp_path / "raw", tmp_path / "w.duckdb"
    copy_raw(raw, files=(F503,))
    load(raw, wh)
    (reason,) = query(wh, "select reason from raw.load_files")[0]
    assert "IS_POSTPONE" not in reason
    assert query(wh, "select bid_doc_refer_end_time, bid_open_time from raw.trading_bulletins where "
                     "tender_project_code = ? and notice_send_time > ?", [fx.OPENING_ONLY, fx.START]) == [
        (fx.OPENING_MOVED, fx.OPENING_MOVED)]


@pytest.mark.slow
def test_a_prequalification_clarification_moves_no_bid_deadline_and_is_no_tender_amendment(trading_probe_warehouse):
    # the 514 clarification, 8 days before the bid deadline, postponing the applications' opening past it: a change
    # of the prequalification (实施条例 §21 is no rule of the contract), not of the tender documents (§23)
    deal = _deal(fx.PREQUALIFIED, 1)
    assert _query(trading_probe_warehouse, """
        select tender_closed_at, evaluated_after_open_at, last_amended_at from intermediate.int_deals_assembled
        where deal_key = ?""", [deal]) == [(fx.CLOSING, fx.CLOSING, None)]
    assert _late(trading_probe_warehouse, [deal])[deal][2:4] == (False, None)
    types = {t for (t,) in _query(trading_probe_warehouse, "select bulletin_type_code from "
                                  "intermediate.int_bulletins_deduplicated where deal_key = ?", [deal])}
    assert types == {"announcement", "prequalification_change", "prequalification_documents"}


def _year_apart(raw: Path, which: str) -> None:
    """A deal announced in December whose clarification (504, naming only the deal's code) came in January: the
    clarification alone sits in another partition than the deal (``which``: '503' or '504')."""
    import csv
    import json

    root = raw / "trading"
    root.mkdir(parents=True, exist_ok=True)
    start = dt.datetime(2021, 12, 20, 9, 0)
    if which == "503":
        with (root / "TENDER_ANN_QUA_INQUERY_ANN_202112.csv").open("w", encoding="gb18030", newline="") as handle:
            closing = start + dt.timedelta(days=21)
            row = fx.row503(fx.BY_CODE, 1, "1", "1", start, closing, closing)
            csv.writer(handle, lineterminator="\r\n").writerows([fx.H503, row])
    else:
        record = {"TENDER_PROJECT_CODE": "", "BID_SECTION_CODE": "", "UNIFIED_DEAL_CODES": fx.deal_code(fx.BY_CODE, 1),
                  "DOC_NAME": "某某工程施工招标文件澄清与修改（第1号）", "CLARIFY_TIME": "20220103090000", "IS_POSTPONE": "0",
                  "CLARIFY_CONTENT": "工程量清单更正", "SUBMIT_TIME": "20220103090000", "URL": "http://ggzy.example/504/9"}
        (root / "TENDER_FILE_CLARI_MODI_202201.json").write_text(
            json.dumps({"code": 200, "data": [record]}, ensure_ascii=False), encoding="utf-8")


def _marts(warehouse: Path) -> dict[str, set]:
    return {
        "deals": set(_query(warehouse, "select deal_key, cast(tender_closed_at as varchar), "
                                       "cast(last_amended_at as varchar), bulletin_count, partition_year "
                                       "from intermediate.int_deals_assembled")),
        "verdicts": set(_query(warehouse, "select deal_key, rule_id, applies, passes, observed_value "
                                          "from intermediate.int_deal_timelines_evaluated")),
        "bulletins": set(_query(warehouse, "select bulletin_key, deal_key from marts.fct_trading_bulletins")),
    }


@pytest.mark.slow
def test_the_marts_do_not_depend_on_which_came_first_the_deal_or_its_code(tmp_path):
    # the clarification first, built (a deal of its code, in 2022), then the announcement: the code's deal leaves its
    # partition as the clarification joins the deal in 2021 — as when both came at once
    from test_trading_candidates_per_row import load_and_build

    select = ("+int_deal_timelines_evaluated", "+fct_trading_bulletins")
    first = tmp_path / "clarification_first"
    shutil.copytree(Path(__file__).parents[1] / "data" / "raw" / "registry", first / "raw" / "registry")
    _year_apart(first / "raw", "504")
    load_and_build(first, *select)
    _year_apart(first / "raw", "503")
    stepwise = _marts(load_and_build(first, *select))
    once = tmp_path / "once"
    shutil.copytree(first / "raw", once / "raw")
    together = _marts(load_and_build(once, *select))
    assert stepwise == together
    assert {d[0] for d in together["deals"]} == {_deal(fx.BY_CODE, 1)}
    shutil.rmtree(tmp_path, ignore_errors=True)
