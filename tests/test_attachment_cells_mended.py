"""Portal attachment cells and registry names as a reviewer wrote them (review of wave 13, RAW_FORMATS.md portal/,
registry/), end to end: raw → dbt → GX → quality.findings.

- A name two registry codes share (宁夏回族自治区交通运输厅 once more under another code that sorts first) names no
  one: the sheet whose title says it is not "another publisher's" file for either code, so the real 厅's own
  attachment publishes its budget (no DISC_ATTACHMENT_OTHER_PUBLISHER, no DISC_MISSING).
- A cell listing a file of an extension the budget families do not read (`说明.rar、x.xlsx`, `a.zip；x.xlsx`) is still
  a list: each file its own attachment, the archive reported absent, the workbook published.
- A download link whose query holds `,` followed by another link (`…/x.XLSX?id=1&n=2,http://…/说明.pdf`) is two
  attachments; a label before a name (`附件1：x.xlsx`, `附件：x.xlsx`) is no part of the name.

The files are written with Python's csv (GBK, CRLF: Excel's "CSV (逗号分隔)") and openpyxl; everything expected is
derived from the rows written here.
"""
from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb
import pytest

from test_contract_conformance import run_pipeline
from test_registry_portal_blind import department_budget, parse_typed, uscc, write_csv

pytestmark = pytest.mark.slow

YEAR = 2019
TRANSPORT = "宁夏回族自治区交通运输厅"
REAL = uscc("11640000200000002")           # the 厅 itself (province)
HOMONYM = uscc("11640000100000001")        # the same name under a code that sorts before the real one (Yinchuan)
assert HOMONYM < REAL
DEPTS = {  # code → name; each publishes its budget through one portal cell of the forms under test
    REAL: TRANSPORT,
    uscc("11640000300000003"): "宁夏回族自治区测试甲厅",
    uscc("11640000400000004"): "宁夏回族自治区测试乙厅",
    uscc("11640000500000005"): "宁夏回族自治区测试丙厅",
    uscc("11640000600000006"): "宁夏回族自治区测试丁厅",
    uscc("11640000700000007"): "宁夏回族自治区测试戊厅",
}
CODES = list(DEPTS)
WORKBOOK = {code: f"{name[7:]}{YEAR}年部门预算.xlsx" for code, name in DEPTS.items()}
PUBLISHED_AT = "2019/2/20"
# publisher → the 附件 cell as the clerk wrote it; the absent files each cell names (nothing else on disk)
CELLS = {
    REAL: WORKBOOK[REAL],
    CODES[1]: f"说明.rar、{WORKBOOK[CODES[1]]}",
    CODES[2]: f"a.zip；{WORKBOOK[CODES[2]]}",
    CODES[3]: f"http://www.nx.gov.cn/d/{WORKBOOK[CODES[3]].replace('.xlsx', '.XLSX')}?id=1&n=2,"
              "http://www.nx.gov.cn/d/说明.pdf",
    CODES[4]: f"附件1：{WORKBOOK[CODES[4]]}；附件2：图解.png",
    CODES[5]: f"附件：{WORKBOOK[CODES[5]]}",
}
ABSENT = {CODES[1]: ["说明.rar"], CODES[2]: ["a.zip"], CODES[3]: ["说明.pdf"], CODES[4]: ["图解.png"]}
HEADER = ["entity_code", "entity_name", "region_code", "entity_kind", "parent_entity_code",
          "has_government_fund", "has_state_capital", "budget_approved_on", "final_approved_on"]


def build_raw(root: Path) -> None:
    registry = root / "registry"
    write_csv(registry / "regions.csv", [["行政区划代码", "行政区划名称", "级次", "上级区划代码"],
                                         ["640000", "宁夏回族自治区", "省级", ""],
                                         ["640100", "银川市", "地级市", "640000"]], "gbk")
    write_csv(registry / "approvals.csv", [["区划代码", "年度", "批准事项", "批准日期"],
                                           ["640000", str(YEAR), "预算", f"{YEAR}/1/30"]], "gbk")
    rows = [[code, name, "640000", "部门", "", "否", "否", "", ""] for code, name in DEPTS.items()]
    rows.append([HOMONYM, TRANSPORT, "640100", "部门", "", "否", "否", "", ""])
    write_csv(registry / f"entities_{YEAR}.csv", [HEADER, *rows], "gbk")
    for code, name in DEPTS.items():
        department_budget(root / "budget" / str(YEAR) / WORKBOOK[code], name, YEAR)
    rows = [["publisher_code", "publisher_name", "column", "title", "published_at", "url", "attachment"]]
    for i, (code, cell) in enumerate(CELLS.items()):
        rows.append([code, DEPTS[code], "预决算公开", f"{DEPTS[code]}{YEAR}年部门预算", PUBLISHED_AT,
                     f"http://www.nx.gov.cn/zwgk/{i}.htm", cell])
    write_csv(root / "portal" / "publications_budget.csv", rows, "gbk")


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("attachment_cells")
    build_raw(tmp / "raw")
    with pytest.MonkeyPatch.context() as mp:
        warehouse = run_pipeline(tmp, tmp / "raw", mp.setenv)
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        yield con
    finally:
        con.close()


def findings(con, rule_id: str) -> list[tuple]:
    return con.execute("""
        select publisher_code, source_file, source_row, object_key from quality.findings
        where run_id = (select max(run_id) from quality.findings) and rule_id = ? order by source_row, object_key
    """, [rule_id]).fetchall()


def test_each_publishers_own_workbook_publishes_its_budget(run):
    got = {code: rest for code, *rest in run.execute("""
        select publisher_code, published_at, source_file from marts.fct_disclosure_status
        where fiscal_year = ? and table_key = 'dept_summary'""", [YEAR]).fetchall()}
    for code in DEPTS:
        published_at, source_file = got[code]
        assert source_file == f"budget/{YEAR}/{WORKBOOK[code]}", (code, CELLS[code], source_file)
        assert published_at is not None and published_at.date() == parse_typed(PUBLISHED_AT), CELLS[code]


def test_a_name_two_codes_share_makes_no_file_another_publishers(run):
    assert findings(run, "DISC_ATTACHMENT_OTHER_PUBLISHER") == []
    # the 厅 misses what every department here misses (one table of its budget written), nothing more
    missing = {code: sorted(key for who, _, _, key in findings(run, "DISC_MISSING") if who == code) for code in DEPTS}
    assert missing[REAL] == missing[CODES[5]], missing


def test_every_absent_file_of_a_list_is_said_and_no_present_one(run):
    expected = [(code, "portal/publications_budget.csv", i + 2, name)
                for i, code in enumerate(CELLS) for name in ABSENT.get(code, [])]
    assert findings(run, "DISC_ATTACHMENT_MISSING") == expected


def test_the_attachments_are_the_files_named_without_labels_or_queries(run):
    got = sorted(run.execute("select publisher_code, attachment_file_name from staging.stg_portal__attachments")
                 .fetchall())
    expected = sorted([(code, WORKBOOK[code].replace(".xlsx", ".XLSX") if code == CODES[3] else WORKBOOK[code])
                       for code in DEPTS] + [(code, name) for code, names in ABSENT.items() for name in names])
    assert got == expected
