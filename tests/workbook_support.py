"""Shared helpers of the workbook parser's tests (test_workbook_layouts.py, test_workbook_published.py): build a
workbook with openpyxl, save it under a test's own raw root, load a family through the ingest framework into a
real DuckDB file and read back its lines and sheets; the expected amount of a written cell in yuan."""
from __future__ import annotations

import csv
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest
from openpyxl import Workbook

from dagster_project.ingest import framework
from dagster_project.ingest.workbook import load_workbook_file
from dagster_project.paths import REPO_ROOT
from dagster_project.ingest.workbook_spec import UNITS_CSV

YEAR = 2018
SAMPLE_RAW = REPO_ROOT / "data" / "raw"


def units() -> dict[str, Decimal]:
    with UNITS_CSV.open(encoding="utf-8") as handle:
        return {r["unit_label"]: Decimal(r["multiplier_yuan"]) for r in csv.DictReader(handle)}


def yuan(value, unit: str) -> Decimal:
    """What the parser must produce for a cell written by the test (text separators removed)."""
    if value is None or str(value).strip() in ("", "-", "—"):
        return Decimal("0.00")
    text = str(value).replace(",", "").replace("，", ",").replace(",", "")
    text = text.translate(str.maketrans("０１２３４５６７８９．", "0123456789."))
    return (Decimal(text) * units()[unit]).quantize(Decimal("0.01"))


def add_sheet(wb: Workbook, name: str, rows: list[list], merges: tuple[str, ...] = (), first: bool = False):
    ws = wb.active if first else wb.create_sheet(name)
    ws.title = name
    for row in rows:
        ws.append(row)
    for rng in merges:
        ws.merge_cells(rng)
    return ws


def save(wb: Workbook, raw: Path, rel: str) -> Path:
    path = raw / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    wb.save(path)
    return path


@pytest.fixture
def env(tmp_path, monkeypatch):
    raw = tmp_path / "raw"
    (raw / "budget").mkdir(parents=True)
    (raw / "debt").mkdir(parents=True)
    monkeypatch.setenv("GONGKAI_RAW_DIR", str(raw))
    monkeypatch.setenv("GONGKAI_WAREHOUSE", str(tmp_path / "wh.duckdb"))
    monkeypatch.setenv("GONGKAI_OUT_DIR", str(tmp_path / "out"))
    return raw, tmp_path / "wh.duckdb"


def load(db: Path, raw: Path, family: str):
    con = duckdb.connect(str(db))
    try:
        return framework.load_family(con, raw, family, load_workbook_file)
    finally:
        con.close()


def query(db: Path, sql: str, params=()):
    con = duckdb.connect(str(db))
    try:
        return con.execute(sql, list(params)).fetchall()
    finally:
        con.close()


def lines(db: Path, family: str, sheet: str) -> list[dict]:
    con = duckdb.connect(str(db))
    try:
        cur = con.execute(
            f"SELECT * FROM raw.{family}_lines WHERE sheet = ? ORDER BY source_row, source_column", [sheet]
        )
        names = [d[0] for d in cur.description]
        return [dict(zip(names, r)) for r in cur.fetchall()]
    finally:
        con.close()


def sheet_row(db: Path, family: str, sheet: str) -> dict:
    con = duckdb.connect(str(db))
    try:
        cur = con.execute(f"SELECT * FROM raw.{family}_sheets WHERE sheet = ?", [sheet])
        names = [d[0] for d in cur.description]
        rows = cur.fetchall()
        assert len(rows) == 1, rows
        return dict(zip(names, rows[0]))
    finally:
        con.close()


ENTITY = "宁夏回族自治区教育厅"

ROLL_FORWARD_ITEMS = [
    ("一、{a}年末地方政府一般债务余额实际数", "opening_balance"),
    ("二、{b}年地方政府一般债务限额", "prior_limit"),
    ("三、{b}年地方政府一般债务发行额", "issued"),
    ("    其中：中央转贷地方的国际金融组织和外国政府贷款", "issued_foreign_onlent"),
    ("          {b}年地方政府一般债券发行额", "issued_bonds"),
    ("    其中：再融资债券", "issued_refinancing"),
    ("四、{b}年地方政府一般债务还本额", "repaid"),
    ("五、{b}年末地方政府一般债务余额预计执行数", "closing_balance"),
    ("六、{c}年地方财政赤字", "deficit"),
    ("七、{c}年地方政府一般债务限额", "limit"),
]


def item_sheet(wb, name, title, items, year_labels, first=False):
    rows = [[title], ["项目", "预算数"]]
    for i, (label, _) in enumerate(items):
        rows.append([label.format(**year_labels), i + 1.25])
    add_sheet(wb, name, rows, first=first)
