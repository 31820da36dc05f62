"""findings.xlsx after a run whose findings did not change: the previous workbook with the new run id, the same
cells a fresh write gives; after a run that changed some: the previous rows where they recur, the sheet byte for byte
the one a whole write gives."""
from __future__ import annotations

import zipfile

from openpyxl import load_workbook

from dagster_project.publish import safe_cells
from dagster_project.quality.findings_xlsx import SHEET, write_findings_xlsx

LABELS = ["运行 run_id", "规则 rule_id", "行 source_row"]
FIRST, SECOND = "20261205T080423-79f3d1", "20261205T090000-aaaaaa"


def _rows(run_id: str) -> list[list]:
    return [[run_id, f"=RULE_{i}", i] for i in range(300)]  # '=' text: neutralised, as findings text is


def _cells(path) -> list[list]:
    return [[c.value for c in row] for row in load_workbook(path).active.iter_rows()]


def test_same_findings_keep_the_workbook_with_the_new_run_id(tmp_path):
    reused, fresh = tmp_path / "a" / "findings.xlsx", tmp_path / "b" / "findings.xlsx"
    reused.parent.mkdir(), fresh.parent.mkdir()
    write_findings_xlsx(reused, "findings", LABELS, _rows(FIRST), FIRST)
    inode = reused.stat().st_ino
    write_findings_xlsx(reused, "findings", LABELS, _rows(SECOND), SECOND)
    write_findings_xlsx(fresh, "findings", LABELS, _rows(SECOND), SECOND)
    assert reused.stat().st_ino != inode  # replaced by the patched copy
    assert _cells(reused) == _cells(fresh) and _cells(reused)[1] == [SECOND, "'=RULE_0", 0]
    assert FIRST not in str(_cells(reused))


def test_changed_findings_give_the_sheet_a_whole_write_gives(tmp_path, monkeypatch):
    path, fresh = tmp_path / "findings.xlsx", tmp_path / "fresh.xlsx"
    write_findings_xlsx(path, "findings", LABELS, _rows(FIRST), FIRST)
    changed = _rows(SECOND)
    changed[7][2] = 700  # a changed finding, one fixed, one new, and a run id of another length
    del changed[20]
    changed.insert(100, [SECOND, "+NEW & <new>", None])
    whole_write, given = safe_cells.write_xlsx, []
    monkeypatch.setattr(safe_cells, "write_xlsx", lambda target, title, labels, rows: (
        given.append(len(rows)), whole_write(target, title, labels, rows))[1])
    write_findings_xlsx(path, "findings", LABELS, changed, SECOND)
    monkeypatch.setattr(safe_cells, "write_xlsx", whole_write)
    assert given == [2]  # only the changed and the new finding went through openpyxl: the other rows were reused
    safe_cells.write_xlsx(fresh, "findings", LABELS, changed)
    assert zipfile.ZipFile(path).read(SHEET) == zipfile.ZipFile(fresh).read(SHEET)
    assert _cells(path)[8] == [SECOND, "'=RULE_7", 700] and FIRST not in str(_cells(path))
    longer = [[SECOND + "-x", *row[1:]] for row in changed]
    write_findings_xlsx(path, "findings", LABELS, longer, SECOND + "-x")
    safe_cells.write_xlsx(fresh, "findings", LABELS, longer)
    assert zipfile.ZipFile(path).read(SHEET) == zipfile.ZipFile(fresh).read(SHEET)
    (tmp_path / ".findings_xlsx.json").write_text("{}", encoding="utf-8")  # no usable record: written whole
    write_findings_xlsx(path, "findings", LABELS, _rows(FIRST), FIRST)
    assert _cells(path)[8] == [FIRST, "'=RULE_7", 7]
