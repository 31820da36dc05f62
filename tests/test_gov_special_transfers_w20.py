"""Special transfers down by region and project (DOMAIN.md 1) as county bureaus publish them
(tests/fixtures/gov_transfers_w20/MAKE.md): 地区名称 | 项目名称 | 预算数, the town merged down over its projects and a
小计 closing each town.

Defects: a table titled `…一般公共预算专项转移支付分地区分项目情况表` / `…对下转移支付分地区分项目决算表` (and the 政府性基金
twins) named no catalogue table — reported as an unknown table, not loaded, and its absence no finding; a 小计 in the
project column was a line '<town> · 小计' among the projects (the town's money twice in any sum of its lines).
"""
from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest

from dagster_project.ingest.workbook import parse_workbook

FIXTURES = Path(__file__).parent / "fixtures" / "gov_transfers_w20"
sys.path.insert(0, str(FIXTURES))
import make_transfer_probes as probes  # noqa: E402


def _lines(book, table: dict) -> list[tuple]:
    found = [s for s in book.sheets if table["key"] in s.table_keys]
    assert found, (table["title"], [(s.sheet, s.title, s.status, s.reason) for s in book.sheets])
    sheet = found[0]
    assert (sheet.status, sheet.title, sheet.unit_label) == ("parsed", table["title"], "万元"), sheet.reason
    assert not any("项目列" in w for w in sheet.warnings), sheet.warnings
    return [(ln.line_label, ln.is_total, ln.amount_yuan) for ln in sheet.lines if ln.column_key == "amount"]


@pytest.mark.parametrize("name", list(probes.FILES))
def test_a_transfer_table_by_region_and_project_is_a_catalogue_table_read_line_by_line(name):
    phase = probes.FILES[name][0]
    book = parse_workbook(FIXTURES / name)
    for table in probes.tables(phase):
        assert _lines(book, table) == probes.expected(table), table["title"]


def test_a_subtotal_in_the_project_column_is_the_towns_total_not_a_project():
    book = parse_workbook(FIXTURES / "贺兰县2024年专项转移支付预算表.xlsx")
    table = probes.tables("budget")[0]
    got = {label: total for label, total, _ in _lines(book, table)}
    assert {label: got[label] for label in got if label.endswith("小计")} == {f"{t} · 小计": True for t in probes.TOWNS}


@pytest.fixture(scope="module")
def printed(tmp_path_factory):
    if shutil.which("chromium") is None:
        pytest.skip("chromium is not installed")
    from dagster_project.sample.formats import print_pdf
    target = tmp_path_factory.mktemp("gov_transfers_w20") / "贺兰县2024年专项转移支付预算表.pdf"
    print_pdf(probes.document_html("budget"), target)
    return parse_workbook(target)


def test_the_tables_printed_to_pdf_are_read_line_by_line(printed):
    for table in probes.tables("budget"):
        assert _lines(printed, table) == probes.expected(table), table["title"]
