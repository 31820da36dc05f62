"""A notice naming its project but no section belongs to the project's only section whichever file came first, in one
load or in separate loads (ingest/trading.assign_sole_sections). Wave 17: a re-tender's 交易公告 (重新招标) exported
without its section, loaded in a run BEFORE the export naming the section, stayed a phantom deal ``<project>/`` — a
deal of its own with an announcement and nothing else, while the section's deal lacked its re-tender — and, once
re-keyed, the incremental build kept the phantom in its year's partition. The marts must not depend on load order.

Exports made as platforms make them: the platform's CSV (Python ``csv``, UTF-8 with BOM, CRLF, a title with a line
break inside quotes) and an office's Excel export of the re-tender (openpyxl); the re-tender published in the next
year, so the phantom sat in another partition than its deal."""
from __future__ import annotations

import csv
import shutil
from pathlib import Path

import duckdb
import openpyxl
import pytest

from test_ingest_trading import load
from test_trading_candidates_per_row import _query, load_and_build

PROJECT, SECTION, SECOND_SECTION = "NXW2019777", "NXW2019777-01", "NXW2019777-02"
WORKS = "工程建设项目招标投标"
HEADER = ["PROJECT_CODE", "BID_SECTION_CODE", "BULLETIN_TYPE", "TRADE_AREA", "NOTICE_NAME", "NOTICE_SEND_TIME",
          "TENDERER_NAME", "TENDERER_CODE", "DOC_GET_START_TIME", "BID_DOC_REFER_END_TIME", "BID_OPEN_TIME",
          "BIDDER_COUNT", "WIN_BIDDER_NAME", "BID_AMOUNT"]
BUYER = ("宁夏回族自治区财政厅", "11640000527644128Q")


def _row(section: str, kind: str, name: str, sent: str, **kw: str) -> list[str]:
    values = {"PROJECT_CODE": PROJECT, "BID_SECTION_CODE": section, "BULLETIN_TYPE": kind, "TRADE_AREA": WORKS,
              "NOTICE_NAME": name, "NOTICE_SEND_TIME": sent, "TENDERER_NAME": BUYER[0], "TENDERER_CODE": BUYER[1], **kw}
    return [values.get(h, "") for h in HEADER]


def _export(path: Path) -> Path:
    """The platform's export: the first tender (December), its termination, and the re-tender's candidates and result
    (next year) — every row naming the section."""
    rows = [
        _row(SECTION, "交易公告", "某某水厂扩建工程\n施工招标公告", "2019-12-02 09:00:00", DOC_GET_START_TIME="2019-12-02 09:00:00",
             BID_DOC_REFER_END_TIME="2019-12-23 09:00:00", BID_OPEN_TIME="2019-12-23 09:00:00"),
        _row(SECTION, "终止公告", "某某水厂扩建工程招标终止公告（投标人不足3家）", "2019-12-23 15:00:00", BIDDER_COUNT="2"),
        _row(SECTION, "中标候选人公示", "某某水厂扩建工程中标候选人公示", "2020-02-12 10:00:00"),
        _row(SECTION, "中标结果公告", "某某水厂扩建工程中标结果公告", "2020-02-20 09:00:00", BIDDER_COUNT="4",
             WIN_BIDDER_NAME="宁夏某某建设有限公司", BID_AMOUNT="8,800,000.00"),
    ]
    return _write_export(path, rows)


def _re_tender(path: Path) -> Path:
    """An office's Excel export of the re-tender's announcement (重新招标): its section cell left empty."""
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "交易公告"
    sheet.append(HEADER)
    sheet.append(_row("", "交易公告", "某某水厂扩建工程（重新招标）施工招标公告", "2020-01-06 09:00:00",
                      DOC_GET_START_TIME="2020-01-06 09:00:00", BID_DOC_REFER_END_TIME="2020-02-10 09:00:00",
                      BID_OPEN_TIME="2020-02-10 09:00:00"))
    path.parent.mkdir(parents=True, exist_ok=True)
    book.save(path)
    return path


def _second_section(path: Path) -> Path:
    rows = [_row(SECOND_SECTION, "交易公告", "某某水厂扩建工程二标段施工招标公告", "2020-03-02 09:00:00")]
    return _write_export(path, rows)


def _write_export(path: Path, rows: list[list[str]]) -> Path:
    """The platform's CSV export as it saves one: UTF-8 with BOM, CRLF records (quoted line breaks inside fields)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\r\n")
        writer.writerow(HEADER)
        writer.writerows(rows)
    return path


MAKERS = {"trading/平台导出.csv": _export, "trading/重新招标.xlsx": _re_tender, "trading/二标段.csv": _second_section}


def _raw_keys(warehouse: Path) -> set[tuple[str, str]]:
    return {(file, key) for file, key in _query(warehouse, "select source_file, bulletin_key from raw.trading_bulletins "
                                                           "where not is_retired")}


def test_raw_keys_do_not_depend_on_the_order_of_loads(tmp_path):
    # one file per load: the keys are those of all files loaded at once. The orders are every section count the
    # section-less re-tender can meet at its load — none (then keyed to the first section, then back to the project
    # when the second comes), one (the same), two — the two sectioned files being alike (two orders of the same
    # counts prove nothing more; both sections' files and the two-file orders: test_the_marts_do_not_depend_…)
    export, re_tender, second = list(MAKERS)
    once = tmp_path / "once"
    for name in MAKERS:
        MAKERS[name](once / "raw" / name)
    load(once / "raw", once / "w.duckdb")
    expected = _raw_keys(once / "w.duckdb")
    deals = {key.split("|")[0] for _, key in expected}
    # with a second section it cannot be told which the re-tender's is: the project's
    assert deals == {f"{PROJECT}/{SECTION}", f"{PROJECT}/{SECOND_SECTION}", f"{PROJECT}/"}
    for n, order in enumerate([(re_tender, export, second), (export, re_tender, second), (export, second, re_tender)]):
        root = tmp_path / f"order{n}"
        for name in order:
            MAKERS[name](root / "raw" / name)
            load(root / "raw", root / "w.duckdb")
        assert _raw_keys(root / "w.duckdb") == expected, order


def load_retiring(root: Path) -> list[str]:
    """``root/raw``'s trading files loaded into ``root/w.duckdb``, the files gone from it retired: which were."""
    from dagster_project.ingest import framework
    from dagster_project.ingest.trading import load_trading_file

    con = duckdb.connect(str(root / "w.duckdb"))
    try:
        return framework.load_family(con, root / "raw", "trading", load_trading_file,
                                     retire_policy=framework.RetirePolicy(allow=True)).retired
    finally:
        con.close()


def test_a_file_gone_takes_its_section_with_it(tmp_path):
    # the export naming the section removed from the raw root (retired): the re-tender is the project's own again, as
    # a warehouse that only ever saw the re-tender has it
    names = list(MAKERS)[:2]
    root = tmp_path / "both"
    for name in names:
        MAKERS[name](root / "raw" / name)
    load(root / "raw", root / "w.duckdb")
    (root / "raw" / names[0]).unlink()
    assert load_retiring(root) == [names[0]]
    alone = tmp_path / "alone"
    MAKERS[names[1]](alone / "raw" / names[1])
    load(alone / "raw", alone / "w.duckdb")
    assert _raw_keys(root / "w.duckdb") == _raw_keys(alone / "w.duckdb")
    assert {key.split("|")[0] for _, key in _raw_keys(root / "w.duckdb")} == {f"{PROJECT}/"}


def _marts(warehouse: Path) -> dict[str, set]:
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        return {
            "deals": set(con.execute(
                "select deal_key, announcement_name, cast(announced_at as varchar), cast(bid_deadline_at as varchar), "
                "cast(tender_opened_at as varchar), cast(tender_closed_at as varchar), cast(evaluated_after_open_at as varchar), "
                "bulletin_count, "
                "fiscal_year, partition_year from intermediate.int_deals_assembled").fetchall()),
            "verdicts": set(con.execute(
                "select deal_key, rule_id, applies, passes, observed_value from "
                "intermediate.int_deal_timelines_evaluated").fetchall()),
            "bulletins": set(con.execute(
                "select bulletin_key, deal_key, source_file, source_row from marts.fct_trading_bulletins").fetchall()),
            "fct_deals": set(con.execute("select deal_key, fiscal_year from marts.fct_deals").fetchall()),
        }
    finally:
        con.close()


@pytest.mark.slow
def test_the_marts_do_not_depend_on_the_order_of_loads(tmp_path):
    # the re-tender first, the marts built (incrementally) after each load: its phantom deal built, then re-keyed.
    # The other order keys it at its load (never a phantom): the two loads, then one build, are that order's marts —
    # three builds, not four (each costs ≈ 15 CPU-s)
    select = ("+int_deal_timelines_evaluated", "+fct_deals", "+fct_trading_bulletins")
    export, re_tender = list(MAKERS)[:2]
    late = tmp_path / "re_tender_first"
    for name in (re_tender, export):
        MAKERS[name](late / "raw" / name)
        db = load_and_build(late, *select)
    first = _marts(db)
    early = tmp_path / "export_first"
    MAKERS[export](early / "raw" / export)
    load(early / "raw", early / "w.duckdb")
    MAKERS[re_tender](early / "raw" / re_tender)
    second = _marts(load_and_build(early, *select))
    assert first == second
    deals = {d[0] for d in first["deals"]}
    assert deals == {f"{PROJECT}/{SECTION}"}                 # no phantom deal of the project
    failing = {(d, r) for d, r, _a, passes, _o in first["verdicts"] if passes is False}
    assert not {r for _, r in failing} & {"TRADE_RESULT_WITHOUT_ANNOUNCEMENT", "TRADE_RESULT_FIELDS"}
    shutil.rmtree(tmp_path, ignore_errors=True)
