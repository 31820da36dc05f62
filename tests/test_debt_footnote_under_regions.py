"""A footnote under a regions-as-rows 1-1 that names a limit (*2024年债务限额待下达后另行公开。) is no item: the table's rows
stay regions and its six columns are read (wave 16 V7, reviewing X4's fix for a 注： line). The recogniser reads a
line opening with a footnote mark (*, ※) or a sentence ending 。 without figures as a note; X4's check stopped only at
注： / 说明： … lines, so these notes still made the table items-as-rows: five of its six columns were refused.

The workbook is X4's city budget book (tests/fixtures/blind_debt_budget/make_fixtures.py) with the note under 1-1
rewritten, saved by openpyxl, and once more as BIFF8 .xls by LibreOffice Calc as publishers save it."""
from __future__ import annotations

import shutil
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest

from dagster_project.ingest.workbook import parse_workbook

FIXTURES = Path(__file__).parent / "fixtures" / "blind_debt_budget"
sys.path.insert(0, str(FIXTURES))
import make_fixtures as made  # noqa: E402  (the data the city book is written from)

FOOTNOTES = ["*本表反映2023年末数据，2024年债务限额待自治区下达后另行公开。",
             "※2024年债务限额待自治区下达后另行公开",
             "本表2024年债务限额待自治区下达后另行公开。"]


def _book_with_note(tmp_path: Path, note: str, merged: bool) -> Path:
    wb = made.city_debt_budget_book()
    ws = wb["表1-1"]
    row = next(c.row for r in ws.iter_rows() for c in r if c.value == made.NOTE_1_1)
    ws.cell(row, 1).value = note
    if merged:
        ws.merge_cells(start_row=row, start_column=1, end_row=row, end_column=7)
    path = tmp_path / "石嘴山市2024年政府债务情况表.xlsx"
    wb.save(path)
    return path


def _expected() -> dict:
    return {(label.strip(), column): Decimal(v) * 10_000
            for label, *figures in made.rows_1_1() for column, v in zip(made.COLUMNS_1_1, figures)}


@pytest.mark.parametrize("merged", [False, True])
@pytest.mark.parametrize("note", FOOTNOTES)
def test_a_footnote_naming_a_limit_leaves_the_regions_columns_read(tmp_path, note, merged):
    sheet = next(s for s in parse_workbook(_book_with_note(tmp_path, note, merged)).sheets if s.sheet == "表1-1")
    assert sheet.rejects == []
    assert {(ln.line_label.strip(), ln.column_key): ln.amount_yuan for ln in sheet.lines} == _expected()
    assert note in (sheet.note_text or "")


@pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice makes the BIFF8 file")
def test_a_footnote_under_a_calc_saved_xls(tmp_path):
    xlsx = _book_with_note(tmp_path, FOOTNOTES[0], merged=True)
    subprocess.run(["soffice", "--headless", f"-env:UserInstallation=file://{tmp_path}/lo", "--convert-to", "xls",
                    "--outdir", str(tmp_path / "xls"), str(xlsx)], check=True, capture_output=True, timeout=180)
    sheet = next(s for s in parse_workbook(tmp_path / "xls" / (xlsx.stem + ".xls")).sheets if s.sheet == "表1-1")
    assert sheet.rejects == []
    assert {(ln.line_label.strip(), ln.column_key): ln.amount_yuan for ln in sheet.lines} == _expected()
