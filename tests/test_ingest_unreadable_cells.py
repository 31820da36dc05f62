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
