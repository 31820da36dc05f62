"""findings.xlsx: the export cells in order under their labels, text as neutralised text and numbers as numbers
(written by the release's SQL sheet writer); a carried run's copy holds the new run id and the cells a fresh write
gives, and is refused when the run id is not found once per data row."""
from __future__ import annotations

import zipfile

import duckdb
import pyarrow as pa
from openpyxl import load_workbook

from dagster_project.publish import safe_cells
from dagster_project.quality.findings_xlsx import RECORD, SHEET, carry_run_id, commit_carried, write_findings_xlsx

LABELS = ["运行 run_id", "规则 rule_id", "行 source_row", "说明 detail"]
TYPES = [pa.string(), pa.string(), pa.int32(), pa.string()]  # as DuckDB gives the findings' columns
FIRST, SECOND = "20261205T080423-79f3d1", "20261205T090000-aaaaaa"
HOSTILE = ["=HYPERLINK(\"http://evil.example\",\"x\")", "+NEW & <new>", "宁夏\x0b某某\x0c学校", "\x0b@SUM(1)", "-1,234.50",
           "line\nfeed", ""]


def _rows(run_id: str, n: int = 300) -> list[list]:
    return [[run_id, f"=RULE_{i}", i, HOSTILE[i % len(HOSTILE)] if i % 3 else None] for i in range(n)]


def _cells(path) -> list[list]:
    return [[c.value for c in row] for row in load_workbook(path).active.iter_rows()]


def _write(path, rows, run_id):
    con = duckdb.connect()
    try:
        columns = list(zip(*rows)) if rows else [[] for _ in LABELS]
        table = pa.Table.from_arrays([pa.array(list(c), type=t) for c, t in zip(columns, TYPES)], names=LABELS)
        return write_findings_xlsx(con, path, "findings 问题清单", table, run_id)
    finally:
        con.close()


def _expected(rows: list[list]) -> list[list]:
    """What a person reads in the workbook: text neutralised as in the CSV, less what XML forbids; numbers as
    numbers; no cell where there is no value (an empty text is an empty text cell)."""
    def cell(v):
        if not isinstance(v, str):
            return v
        return safe_cells.neutralise(safe_cells.xml_text(v))
    return [LABELS] + [[cell(v) for v in row] for row in rows]


def test_the_workbook_holds_the_export_cells_in_order(tmp_path):
    rows = _rows(FIRST)
    path = _write(tmp_path / "findings.xlsx", rows, FIRST)
    assert _cells(path) == _expected(rows)
    sheet = zipfile.ZipFile(path).read(SHEET).decode("utf-8")
    assert "<f>" not in sheet and "<c r=\"C2\"><v>0</v></c>" in sheet  # no formula; the row number a number
    assert _cells(path)[2][1] == "'=RULE_1" and _cells(path)[3][3] == "宁夏某某学校"


def test_no_findings_is_the_header_alone(tmp_path):
    path = _write(tmp_path / "findings.xlsx", [], FIRST)
    assert _cells(path) == [LABELS]
    copy = carry_run_id(path, tmp_path / "copy.xlsx", FIRST, SECOND, 0)
    assert copy is not None and _cells(tmp_path / "copy.xlsx") == [LABELS]


def test_a_carried_runs_copy_holds_the_new_run_id_and_the_same_cells(tmp_path):
    carried, fresh = tmp_path / "a" / "findings.xlsx", tmp_path / "b" / "findings.xlsx"
    carried.parent.mkdir(), fresh.parent.mkdir()
    _write(carried, _rows(FIRST), FIRST)
    target = carried.with_name("findings.xlsx.carry.tmp")
    record = carry_run_id(carried, target, FIRST, SECOND, 300)
    assert record is not None and record["run_id"] == SECOND
    commit_carried(carried, target, record)
    _write(fresh, _rows(SECOND), SECOND)
    assert _cells(carried) == _cells(fresh) == _expected(_rows(SECOND))
    assert FIRST not in str(_cells(carried))
    # the copy's record lets the next carried run start from it
    assert carry_run_id(carried, tmp_path / "again.xlsx", SECOND, FIRST, 300) is not None


def test_a_workbook_not_as_recorded_is_not_carried(tmp_path):
    path = tmp_path / "findings.xlsx"
    rows = _rows(FIRST)
    rows[5][3] = FIRST  # the run id in a second cell of one row: not once per data row
    _write(path, rows, FIRST)
    assert carry_run_id(path, tmp_path / "copy.xlsx", FIRST, SECOND, 300) is None
    _write(path, _rows(FIRST), FIRST)
    assert carry_run_id(path, tmp_path / "copy.xlsx", FIRST, SECOND, 299) is None  # another row count
    assert carry_run_id(path, tmp_path / "copy.xlsx", SECOND, FIRST, 300) is None  # another run's workbook
    path.write_bytes(path.read_bytes() + b"\0")  # changed since it was written
    assert carry_run_id(path, tmp_path / "copy.xlsx", FIRST, SECOND, 300) is None
    (tmp_path / RECORD).unlink()
    assert carry_run_id(path, tmp_path / "copy.xlsx", FIRST, SECOND, 300) is None
    assert not (tmp_path / "copy.xlsx").exists()
