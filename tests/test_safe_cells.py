"""Spreadsheet-safe cells (safe_cells): formula text neutralised in CSV and XLSX, numbers left numbers — the
Python and the DuckDB forms alike — and the settings that guard the raw root read strictly."""
from __future__ import annotations

import csv
import datetime as dt
import zipfile
from decimal import Decimal

import duckdb
import pyarrow as pa
import pytest
from openpyxl import load_workbook

from dagster_project.paths import SettingError, settings
from dagster_project.publish import safe_cells

DANGEROUS = ['=HYPERLINK("http://evil.example","x")', "=cmd|' /C calc'!A0", "+86 139 1234 5678", "-2+3+cmd|' /C calc'!A0",
             "@SUM(1+1)", "\t=1+1", "\r=1+1", "-", "+", "=", "-=1"]
NUMBERS = ["-12", "-1,234.50", "+3.5", "-0.5e3", "12", "-.5"]
PLAIN = ["项目名称", "a=b", "1+1", "", "'=already", "P18640100-0001"]


@pytest.mark.parametrize("text", DANGEROUS)
def test_formula_text_gets_a_leading_quote(text):
    assert safe_cells.neutralise(text) == "'" + text


@pytest.mark.parametrize("text", NUMBERS + PLAIN)
def test_numbers_and_plain_text_stay(text):
    assert safe_cells.neutralise(text) == text


def test_sql_form_agrees_with_python():
    con = duckdb.connect()
    try:
        texts = DANGEROUS + NUMBERS + PLAIN + [None]
        con.execute("CREATE TABLE t (i INTEGER, s VARCHAR)")
        con.executemany("INSERT INTO t VALUES (?, ?)", list(enumerate(texts)))
        got = [r[0] for r in con.execute(f"SELECT {safe_cells.neutralise_sql('s')} FROM t ORDER BY i").fetchall()]
    finally:
        con.close()
    assert got == [safe_cells.neutralise(t) for t in texts]


def test_csv_and_xlsx_writers(tmp_path):
    rows = [[DANGEROUS[0], -5, Decimal("-1.50"), dt.date(2018, 6, 4)], ["@SUM(1)", 3.2, None, "-12"]]
    safe_cells.write_csv(tmp_path / "t.csv", ["a", "b", "c", "d"], rows)
    with (tmp_path / "t.csv").open(encoding="utf-8-sig", newline="") as fh:
        written = list(csv.reader(fh))
    assert written[1][:3] == ["'" + DANGEROUS[0], "-5", "-1.50"] and written[2][0] == "'@SUM(1)" and written[2][3] == "-12"
    # the workbook writer for Python rows (the quality findings' export): the same text, numbers as numbers
    from dagster_project.quality.findings_xlsx import write_findings_xlsx

    con = duckdb.connect()
    try:
        table = con.sql("SELECT * FROM (VALUES (?, -5, -1.50, 'x'), ('@SUM(1)', 3, NULL, '-12')) AS t(a, b, c, d)",
                        params=[DANGEROUS[0]]).to_arrow_table()
        write_findings_xlsx(con, tmp_path / "t.xlsx", "s", table, "run")
    finally:
        con.close()
    assert "<f>" not in zipfile.ZipFile(tmp_path / "t.xlsx").read("xl/worksheets/sheet1.xml").decode()
    ws = load_workbook(tmp_path / "t.xlsx").active
    cells = [[(c.value, c.data_type) for c in row] for row in ws.iter_rows(min_row=2)]
    assert cells[0][0] == ("'" + DANGEROUS[0], "s") and cells[0][1] == (-5, "n") and cells[0][2] == (-1.5, "n")
    assert cells[1][0] == ("'@SUM(1)", "s") and cells[1][3] == ("-12", "s")


def test_raw_root_settings_are_read_strictly(monkeypatch):
    monkeypatch.setenv("GONGKAI_ALLOW_RETIRE", "yes")
    monkeypatch.setenv("GONGKAI_RETIRE_MAX_DROP", "25%")
    s = settings()
    assert s.allow_retire and s.retire_max_drop == 0.25
    assert s.env_for_subprocess()["GONGKAI_ALLOW_RETIRE"] == "1"
    monkeypatch.setenv("GONGKAI_ALLOW_RETIRE", "maybe")
    with pytest.raises(SettingError, match="GONGKAI_ALLOW_RETIRE"):
        settings()
    monkeypatch.setenv("GONGKAI_ALLOW_RETIRE", "0")
    monkeypatch.setenv("GONGKAI_RETIRE_MAX_DROP", "1.5")
    with pytest.raises(SettingError, match="GONGKAI_RETIRE_MAX_DROP"):
        settings()


# characters XML 1.0 forbids, as a publisher's text may carry them (a word processor's vertical tab or form feed)
CONTROL = ["\x0b=cmd|' /C calc'!A0", "宁夏\x0b某某\x0c学校", "\x01\x0b@SUM(1)", "\x0b-1,234.50", "\ufffe+1+cmd", "x\uffff", "\x0b",
           "tab\tstays", "line\nfeed"]


def test_workbook_text_drops_what_xml_forbids_then_neutralises(tmp_path):
    # the Python writer (findings.xlsx) and the SQL writer (the release's workbooks) give the same text
    from dagster_project.publish import excel

    con = duckdb.connect()
    try:
        expr = excel._sql_text(safe_cells.neutralise_sql("s", dropped_later=excel._FORBIDDEN))
        got = [con.execute(f"SELECT {expr} FROM (SELECT ?::VARCHAR AS s)", [t]).fetchone()[0] for t in CONTROL]
    finally:
        con.close()
    expected = [safe_cells.neutralise(safe_cells.xml_text(t)) for t in CONTROL]
    assert got == expected
    assert expected[:5] == ["'=cmd|' /C calc'!A0", "宁夏某某学校", "'@SUM(1)", "-1,234.50", "'+1+cmd"]
    # a reader refuses such characters outright: the writer must drop them, not spoil the file
    from dagster_project.quality.findings_xlsx import write_findings_xlsx

    con = duckdb.connect()
    try:
        write_findings_xlsx(con, tmp_path / "c.xlsx", "s", pa.table({"a": pa.array(CONTROL, type=pa.string())}), "run")
    finally:
        con.close()
    ws = load_workbook(tmp_path / "c.xlsx").active
    assert [r[0].value for r in ws.iter_rows(min_row=2)] == expected
