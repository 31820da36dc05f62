"""An ID number typed with a wrong check character, through the whole pipeline: a trading export written by Python's
csv module (as a platform's export script writes it) whose winner's name and notice text carry a person's ID number
with its last character mistyped, and whose project code is the same 18 digits (a code may be region + date +
sequence). What a reader of the open data sees: the name and the notice masked (the first 17 digits identify the
person), a PRIV_ID_NUMBER finding naming file and row, and the project code — a key — as the platform wrote it.
The run also carries other modules' debt books and test_blind_trading_w19's trading probe in its own folder (conftest.py
``debt_books_and_export_run``: one `cli run` of fixed costs for four modules): what is read here is this export's."""
from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

import pytest

from cli_pipeline import query
from dagster_project import identifiers
from dagster_project.publish import atomic
from test_publish_support import parquet_parts, part_files

RIGHT = identifiers.make_id_number("640104", dt.date(1988, 8, 8), 31)
TYPED = RIGHT[:17] + next(c for c in "0123456789X" if c != RIGHT[17])  # the last character mistyped
MASKED = identifiers.mask_id_number(TYPED)
DEAL = f"{TYPED}/{TYPED}-001"
HEADER = ["PROJECT_CODE", "TENDER_PROJECT_CODE", "BID_SECTION_CODE", "BULLETIN_TYPE", "TRADE_AREA", "NOTICE_NAME",
          "NOTICE_SEND_TIME", "REGION_CODE", "TENDERER_NAME", "TENDERER_CODE", "BUDGET_AMOUNT", "WIN_BIDDER_NAME",
          "BID_AMOUNT", "NOTICE_CONTENT"]
BUYER = ("640000", "宁夏回族自治区教育厅", "11640000432620297X")  # a department of the sample's registry
ROWS = [
    [TYPED, TYPED, f"{TYPED}-001", "交易公告", "政府采购", "办公楼维修项目招标公告", "2017-10-05 09:30:00", *BUYER,
     "230000", "", "", f"一、项目编号：{TYPED}\n二、预算金额：230000元"],
    [TYPED, TYPED, f"{TYPED}-001", "中标结果公告", "政府采购", "办公楼维修项目中标结果公告", "2017-11-05 09:30:00", *BUYER,
     "230000", f"张某某（身份证号{TYPED}）", "228000", f"成交人：张某某，身份证号：{TYPED}，成交金额：228000元。"],
]


OWN = "trading/platform_export.csv"
OTHER_TRADING = "trading/blind_trading_w19/"   # test_blind_trading_w19's probe, in the same run (its own findings)


def write_raw(raw: Path) -> None:
    """This module's export in a raw root that holds the sample's registry and portal."""
    (raw / "trading").mkdir(exist_ok=True)
    with (raw / OWN).open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(HEADER)
        writer.writerows(ROWS)


@pytest.fixture(scope="module")
def run(debt_books_and_export_run):
    # one run with other modules' debt books and trading probe (conftest.py): rows and findings read are this export's
    root = debt_books_and_export_run
    warehouse = root / "warehouse.duckdb"
    release = atomic.current_release_dir(root / "out" / "open-data")
    assert release is not None  # the release's privacy scan let it through: nothing personal left
    return warehouse, release


@pytest.mark.slow
def test_a_mistyped_id_number_in_names_and_notices_is_masked_and_found_and_the_code_stays(run):
    warehouse, release = run
    assert not identifiers.id_number_is_valid(TYPED) and TYPED[:17] == RIGHT[:17]
    with part_files(release, "trading_bulletins")[0].open(encoding="utf-8-sig", newline="") as fh:
        every = list(csv.DictReader(fh))
    for row in every:   # nobody's typed ID number left in any published bulletin
        assert TYPED not in row["win_bidder_name"] + row["notice_content"], row["source_file"]
    published = [r for r in every if r["source_file"] == OWN]
    parquet = query(warehouse, f"SELECT deal_key, win_bidder_name, notice_content FROM {parquet_parts(release, 'trading_bulletins')} "
                               f"WHERE source_file = '{OWN}' ORDER BY notice_send_time")
    assert [(r["deal_key"], r["win_bidder_name"], r["notice_content"]) for r in published] == [tuple(v or "" for v in r) for r in parquet]
    assert len(published) == 2
    for row in published:
        assert row["deal_key"] == DEAL  # a key: as the platform wrote it
        for column in ("win_bidder_name", "notice_content"):
            assert TYPED not in row[column], column
        assert MASKED in row["notice_content"]
    assert published[1]["win_bidder_name"].startswith("张某某") and MASKED in published[1]["win_bidder_name"]
    findings = query(warehouse, "SELECT object_key, observed, source_file, source_row FROM quality.findings "
                                "WHERE rule_id = 'PRIV_ID_NUMBER' AND coalesce(source_file, '') NOT LIKE ?",
                     [f"{OTHER_TRADING}%"])
    assert {f[2:] for f in findings} == {(OWN, 2), (OWN, 3)}
    assert {f[:2] for f in findings} == {(DEAL, MASKED)}
