"""An unreadable cell blanks its value, not its row (registry and portal; ``bad: blank`` in registry_tables.yaml).

A finance bureau's registry typed by hand holds an impossible date (``2016/2/30``) or a word no vocabulary knows in a
column that only describes the record; the portal's log a publication time no calendar has. Rejecting the row dropped
the entity from what is expected of it (its missing disclosures were never reported) and the publication from what
was published. Such a value is now stored NULL, the row loads, and the cell is kept in ``raw.load_blanked_cells``
(kind and value as found) for a QUAR_VALUE_UNREADABLE finding; what says which record a row is (an entity's own code,
its year) still rejects it. The files are written as a bureau's tools write them: Python's csv in GBK with CRLF (Excel's
``CSV (逗号分隔)``), Chinese headers.
"""
from __future__ import annotations

import csv
from pathlib import Path

import duckdb
import pytest
from test_ingest_tabular import rows_of, run

from dagster_project.ingest.tabular import load_portal_file, load_registry_file

ENTITY_HEADER = ["统一社会信用代码", "单位名称", "行政区划代码", "单位类型", "上级单位代码", "是否有政府性基金预算",
                 "预算批复日期", "决算批复日期"]
ENTITIES = [
    ["11640000MB0000001A", "自治区某某厅", "640000", "部门", "", "是", "2016/2/30", "2017/7/20"],   # impossible date
    ["12640000MB0000002B", "自治区某某中心", "640000", "单位", "11640000MB0000001A", "待定", "2016-03-01", ""],  # a flag
    ["11640000MB0000003C", "自治区某某局", "640000", "一级", "", "否", "2016年3月2日", "2017-13-01"],  # month 13
    ["", "自治区无代码单位", "640000", "部门", "", "否", "2016-03-01", ""],                            # no code: rejected
]
PUBLICATION_HEADER = ["发布单位代码", "发布单位", "栏目", "标题", "发布时间", "链接", "附件"]
PUBLICATIONS = [
    ["11640000MB0000001A", "自治区某某厅", "部门预算", "自治区某某厅2016年部门预算公开", "2016/2/31 10:00",
     "http://example.gov.cn/a.html", "a.xlsx"],
    ["11640000MB0000003C", "自治区某某局", "部门预算", "自治区某某局2016年部门预算公开", "2016-03-20 09:30",
     "http://example.gov.cn/b.html", "b.xlsx"],
]


def _write(path: Path, header: list[str], rows: list[list[str]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="gbk", newline="") as handle:
        csv.writer(handle, lineterminator="\r\n").writerows([header, *rows])


def _loaded(tmp_path: Path) -> Path:
    raw, wh = tmp_path / "raw", tmp_path / "w.duckdb"
    _write(raw / "registry" / "entities_2016.csv", ENTITY_HEADER, ENTITIES)
    _write(raw / "portal" / "publications.csv", PUBLICATION_HEADER, PUBLICATIONS)
    run(raw, wh, "registry", load_registry_file)
    run(raw, wh, "portal", load_portal_file)
    return wh


def test_an_impossible_date_or_unknown_word_blanks_the_cell_and_keeps_the_row(tmp_path):
    wh = _loaded(tmp_path)
    entities = {e["entity_code"]: e for e in rows_of(
        wh, "SELECT entity_code, entity_kind, has_government_fund, budget_approved_on, final_approved_on "
            "FROM raw.registry_entities")}
    # every entity that names itself is loaded; only the row without its own code is rejected
    assert set(entities) == {"11640000MB0000001A", "12640000MB0000002B", "11640000MB0000003C"}
    assert entities["11640000MB0000001A"]["budget_approved_on"] is None
    assert str(entities["11640000MB0000001A"]["final_approved_on"]) == "2017-07-20"
    assert entities["12640000MB0000002B"]["has_government_fund"] is None
    assert str(entities["11640000MB0000003C"]["budget_approved_on"]) == "2016-03-02"
    assert entities["11640000MB0000003C"]["final_approved_on"] is None
    rejects = rows_of(wh, "SELECT source_row, source_column FROM raw.load_rejects WHERE family = 'registry'")
    assert rejects == [{"source_row": 5, "source_column": "统一社会信用代码"}]
    files = {f["source_file"]: f for f in rows_of(
        wh, "SELECT source_file, rows_in, rows_loaded, rows_rejected, reason FROM raw.load_files WHERE is_current")}
    registry = files["registry/entities_2016.csv"]
    assert (registry["rows_in"], registry["rows_loaded"], registry["rows_rejected"]) == (4, 3, 1)
    assert "QUAR_VALUE_UNREADABLE" in registry["reason"] and "2016/2/30" in registry["reason"]
    assert "科学计数法" not in registry["reason"]   # not worded as a damaged code

    # the publication with an impossible time is kept, undated
    publications = {p["title"]: p["published_at"] for p in rows_of(
        wh, "SELECT title, published_at FROM raw.portal_publications")}
    assert publications["自治区某某厅2016年部门预算公开"] is None
    assert str(publications["自治区某某局2016年部门预算公开"]) == "2016-03-20 09:30:00"
    portal = files["portal/publications.csv"]
    assert (portal["rows_in"], portal["rows_loaded"], portal["rows_rejected"]) == (2, 2, 0)

    # each cell is kept with file, row, column, field, kind and the value as found
    cells = rows_of(wh, "SELECT source_file, source_row, source_column, field_name, field_kind, raw_value "
                        "FROM raw.load_blanked_cells WHERE NOT is_retired ORDER BY source_file, source_row, field_name")
    assert [tuple(c.values()) for c in cells] == [
        ("portal/publications.csv", 2, "发布时间", "published_at", "timestamp", "2016/2/31 10:00"),
        ("registry/entities_2016.csv", 2, "预算批复日期", "budget_approved_on", "date", "2016/2/30"),
        ("registry/entities_2016.csv", 3, "是否有政府性基金预算", "has_government_fund", "boolean", "待定"),
        ("registry/entities_2016.csv", 4, "决算批复日期", "final_approved_on", "date", "2017-13-01"),
    ]


REGIONS = [["行政区划代码", "行政区划名称", "级次", "上级区划代码"], ["640000", "宁夏回族自治区", "省级", ""]]
APPROVALS = [["行政区划代码", "年度", "文件类型", "批准日期"], ["640000", "2016", "预算", "2016-01-20"],
             ["640000", "2016", "决算", "2017-02-30"]]


@pytest.mark.slow
def test_the_entity_stays_expected_and_the_cell_is_a_finding(tmp_path):
    """End to end (loaders → dbt build → GX): the department whose reply date is impossible is still expected to
    publish — its deadline falls back to the congress approval and says the reply date is unknown, its unpublished
    budget is DISC_MISSING — and each unreadable cell is one QUAR_VALUE_UNREADABLE warning naming file, row, column
    and the value as found, with the publisher and year its row names. Rejecting the row (before) lost all of it."""
    from test_codes_damaged_finding import _findings
    from test_dbt_build import run_dbt

    from dagster_project.ingest import framework
    from dagster_project.paths import settings

    raw, warehouse = tmp_path / "raw", tmp_path / "warehouse.duckdb"
    _write(raw / "registry" / "regions.csv", REGIONS[0], REGIONS[1:])
    _write(raw / "registry" / "approvals.csv", APPROVALS[0], APPROVALS[1:])
    _write(raw / "registry" / "entities_2016.csv", ENTITY_HEADER, ENTITIES)
    _write(raw / "portal" / "publications.csv", PUBLICATION_HEADER, PUBLICATIONS)
    env = {"GONGKAI_RAW_DIR": str(raw), "GONGKAI_WAREHOUSE": str(warehouse), "GONGKAI_OUT_DIR": str(tmp_path / "out"),
           "GONGKAI_AS_OF": "2019-01-01"}
    with pytest.MonkeyPatch.context() as mp:
        for name, value in env.items():
            mp.setenv(name, value)
        con = duckdb.connect(str(warehouse))
        try:
            for family, loader in (("registry", load_registry_file), ("portal", load_portal_file)):
                framework.load_family(con, raw, family, loader)
        finally:
            con.close()
        result = run_dbt(["build"], settings().env_for_subprocess(), tmp_path / "target", unit_tests=False)
        assert result.returncode == 0, result.stdout[-6000:]
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        bases = {b for (b,) in con.execute(
            "select distinct deadline_basis from marts.fct_disclosure_expected "
            "where publisher_code = '11640000MB0000001A' and fiscal_year = 2016 and document = 'budget'").fetchall()}
    finally:
        con.close()
    assert bases == {"congress_approval+40d (finance reply date unknown)"}

    findings = [dict(zip(["rule_id", "severity", "publisher_code", "fiscal_year", "object_key", "observed"], f[:6]))
                for f in _findings(warehouse, env)]
    unreadable = {f["object_key"]: (f["severity"], f["publisher_code"], f["fiscal_year"], f["observed"])
                  for f in findings if f["rule_id"] == "QUAR_VALUE_UNREADABLE"}
    # every cell kept, from the files themselves: (file, row) of each value that is not what its column holds
    assert unreadable == {
        "registry/entities_2016.csv#2#预算批复日期": ("warning", "11640000MB0000001A", 2016, "预算批复日期 = 2016/2/30"),
        "registry/entities_2016.csv#3#是否有政府性基金预算": ("warning", "12640000MB0000002B", 2016, "是否有政府性基金预算 = 待定"),
        "registry/entities_2016.csv#4#决算批复日期": ("warning", "11640000MB0000003C", 2016, "决算批复日期 = 2017-13-01"),
        "registry/approvals.csv#3#批准日期": ("warning", "640000", 2016, "批准日期 = 2017-02-30"),
        "portal/publications.csv#2#发布时间": ("warning", "11640000MB0000001A", 2016, "发布时间 = 2016/2/31 10:00"),
    }
    assert not [f for f in findings if f["rule_id"] == "QUAR_CODE_DAMAGED"]   # not worded as a damaged code
    missing = {(f["publisher_code"], f["fiscal_year"]) for f in findings if f["rule_id"] == "DISC_MISSING"}
    assert ("11640000MB0000001A", 2016) in missing


def test_a_year_typed_with_its_word_is_that_year(tmp_path):
    """年度 as a bureau types it — 2016年, 2017年度, full-width ２０１７ — is the year (value_pattern in the spec); a
    word that is no year (明年) still rejects its approval row, since the year says which approval it is."""
    raw, wh = tmp_path / "raw", tmp_path / "w.duckdb"
    rows = [["640000", "2016年", "预算", "2016-01-20"], ["640000", "２０１７年度", "预算", "2017-01-18"],
            ["640100", " 2017 ", "决算", "2018-07-30"], ["640100", "明年", "预算", "2018-01-20"]]
    _write(raw / "registry" / "approvals.csv", APPROVALS[0], rows)
    _write(raw / "registry" / "entities.csv", ["年度", *ENTITY_HEADER[:2]],
           [["2016年度", "11640000MB0000001A", "自治区某某厅"]])
    run(raw, wh, "registry", load_registry_file)
    got = rows_of(wh, "SELECT source_row, region_code, fiscal_year FROM raw.registry_approvals ORDER BY source_row")
    assert [(g["source_row"], g["region_code"], g["fiscal_year"]) for g in got] == [
        (2, "640000", 2016), (3, "640000", 2017), (4, "640100", 2017)]
    assert rows_of(wh, "SELECT fiscal_year FROM raw.registry_entities") == [{"fiscal_year": 2016}]
    rejects = rows_of(wh, "SELECT source_file, source_row, source_column, raw_value FROM raw.load_rejects")
    assert rejects == [{"source_file": "registry/approvals.csv", "source_row": 5, "source_column": "年度",
                        "raw_value": "明年"}]
