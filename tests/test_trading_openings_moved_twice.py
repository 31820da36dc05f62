"""The opening a 中标候选人公示 counts its 3 days from (招标投标法实施条例 §54) is the one the last change notice states,
not the latest date any notice names (wave 16 V7, reviewing X5's fix): a change notice may bring the opening forward,
and a second one may take back a postponement — with the latest date, both publicities five and six days after the
real opening passed as on time (the second one had been late under the announced opening before X5's fix).

The export is the X5 probe's platform format (tests/fixtures/trading_platform_exports, its export's columns), written
here with Python's csv as platforms write it (UTF-8 with BOM, CRLF), loaded beside the bundled registry by the real
loaders and built by dbt; expected days are computed from the rows written."""
from __future__ import annotations

import csv
import datetime as dt
import shutil
from pathlib import Path

import pytest

from dagster_project.paths import REPO_ROOT
from test_trading_candidates_per_row import _query, load_and_build

PLATFORM_EXPORT = REPO_ROOT / "tests" / "fixtures" / "trading_platform_exports" / "trading" / "平台导出_工程_bom_crlf.csv"
BUYER = ("宁夏回族自治区财政厅", "11640000527644128Q")   # in the bundled registry

pytestmark = pytest.mark.slow


def _notice(project: str, section: str, kind: str, sent: str, **fields: str) -> dict[str, str]:
    return {"PROJECT_CODE": project, "BID_SECTION_CODE": section, "BULLETIN_TYPE": kind,
            "TRADE_AREA": "工程建设项目招标投标", "NOTICE_NAME": f"某某道路工程施工{kind}", "NOTICE_SEND_TIME": sent,
            "REGION_CODE": "640100", "TENDERER_NAME": BUYER[0], "TENDERER_CODE": BUYER[1], **fields}


def _announcement(project: str, section: str, sent: str, opening: str) -> dict[str, str]:
    return _notice(project, section, "交易公告", sent, BUDGET_AMOUNT="5000000", DOC_GET_START_TIME=sent,
                   DOC_GET_END_TIME="2019-08-07 17:00:00", BID_DOC_REFER_END_TIME=opening, BID_OPEN_TIME=opening)


def _change(project: str, section: str, sent: str, opening: str) -> dict[str, str]:
    return _notice(project, section, "变更公告", sent, BID_DOC_REFER_END_TIME=opening, BID_OPEN_TIME=opening,
                   NOTICE_CONTENT=f"开标时间变更为{opening}。")


def _publicity(project: str, section: str, sent: str) -> dict[str, str]:
    return _notice(project, section, "中标候选人公示", sent, WIN_CANDIDATE_NAME="宁夏丁路桥有限公司",
                   PUBLICITY_START_TIME=sent, PUBLICITY_END_TIME="2019-10-30 09:00:00")


# per deal: its notices in publication order, and the opening the bids were evaluated after
NOTICES = {
    ("NXW2019901", "NXW2019901-01"): [  # brought forward a week; publicity 5 days after the real opening: late
        _announcement("NXW2019901", "NXW2019901-01", "2019-08-01 09:00:00", "2019-08-22 09:00:00"),
        _change("NXW2019901", "NXW2019901-01", "2019-08-05 09:00:00", "2019-08-15 09:00:00"),
        _publicity("NXW2019901", "NXW2019901-01", "2019-08-20 09:00:00")],
    ("NXW2019902", "NXW2019902-01"): [  # postponed, then the postponement taken back in part; 6 days after: late
        _announcement("NXW2019902", "NXW2019902-01", "2019-08-01 09:00:00", "2019-08-22 09:00:00"),
        _change("NXW2019902", "NXW2019902-01", "2019-08-12 09:00:00", "2019-09-05 09:00:00"),
        _change("NXW2019902", "NXW2019902-01", "2019-08-20 09:00:00", "2019-08-29 09:00:00"),
        _publicity("NXW2019902", "NXW2019902-01", "2019-09-04 09:00:00")],
    ("NXW2019903", "NXW2019903-02"): [  # one section of two re-tendered: its own opening, 2 days after: on time
        _announcement("NXW2019903", "NXW2019903-02", "2019-08-01 09:00:00", "2019-08-22 09:00:00"),
        _notice("NXW2019903", "NXW2019903-02", "终止公告", "2019-08-23 09:00:00", BIDDER_COUNT="2"),
        _announcement("NXW2019903", "NXW2019903-02", "2019-08-28 09:00:00", "2019-09-20 09:00:00"),
        _publicity("NXW2019903", "NXW2019903-02", "2019-09-22 09:00:00")],
    ("NXW2019903", "NXW2019903-01"): [  # the other section, not re-tendered: 8 days after its opening: late
        _announcement("NXW2019903", "NXW2019903-01", "2019-08-01 09:00:00", "2019-08-22 09:00:00"),
        _publicity("NXW2019903", "NXW2019903-01", "2019-08-30 09:00:00")],
}


def _day(text: str) -> dt.date:
    return dt.date.fromisoformat(text[:10])


def _real_opening(notices: list[dict[str, str]]) -> dt.date:
    """The opening the last-published announcement or change notice states (the rows are in publication order)."""
    return _day([n for n in notices if n["BULLETIN_TYPE"] in ("交易公告", "变更公告")][-1]["BID_OPEN_TIME"])


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory) -> Path:
    tmp = tmp_path_factory.mktemp("openings_moved_twice")
    shutil.copytree(REPO_ROOT / "data" / "raw" / "registry", tmp / "raw" / "registry")
    with PLATFORM_EXPORT.open(encoding="utf-8-sig", newline="") as handle:
        columns = next(csv.reader(handle))
    (tmp / "raw" / "trading").mkdir(parents=True)
    with (tmp / "raw" / "trading" / "平台导出_开标变更.csv").open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.DictWriter(handle, columns, restval="", lineterminator="\r\n")
        writer.writeheader()
        writer.writerows(n for notices in NOTICES.values() for n in notices)
    return load_and_build(tmp, "+int_deal_timelines_evaluated")


@pytest.mark.parametrize("project, section", list(NOTICES))
def test_the_publicity_counts_from_the_opening_the_last_notice_states(warehouse, project, section):
    notices = NOTICES[(project, section)]
    opening = _real_opening(notices)
    publicity = _day(next(n for n in notices if n["BULLETIN_TYPE"] == "中标候选人公示")["NOTICE_SEND_TIME"])
    got = _query(warehouse, "select cast(d.evaluated_after_open_at as date), e.observed_value, e.applies, e.passes "
                            "from intermediate.int_deals_assembled d join intermediate.int_deal_timelines_evaluated e "
                            "on e.deal_key = d.deal_key and e.rule_id = 'TRADE_CANDIDATE_PUBLISHED_LATE' "
                            f"where d.deal_key = '{project}/{section}'")
    days = (publicity - opening).days
    assert got == [(opening, days, True, days <= 3)]
