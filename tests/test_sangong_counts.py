"""The counts a department's final accounts give in their 三公 detail (DOMAIN.md 2.2: trips abroad and people, vehicles
bought and held, domestic receptions: batches, people), read from the 三公 决算表 and from the narrative as data, on
files made as departments publish them (tests/fixtures/blind_sangong_counts/MAKE.md): Chromium prints of HTML and
LibreOffice .xls saves of the same workbook.

Before, a count column of the 三公 table was an amount in the table's unit (团组 2 → 20,000.00 元), a count row of its
lower block was the cost it names (因公出国（境）团组数 2 → a second 因公出国 amount of 20,000 元), and the narrative's
counts were not read at all.
"""
from __future__ import annotations

import sys
from decimal import Decimal
from pathlib import Path

import pytest

from dagster_project.ingest.workbook import parse_workbook
from dagster_project.sample.formats import chromium

FIXTURES = Path(__file__).parent / "fixtures" / "blind_sangong_counts"
sys.path.insert(0, str(FIXTURES))
import make_probes as probes  # noqa: E402

needs_chromium = pytest.mark.skipif(chromium() is None, reason="headless Chromium is not installed (make browser)")
COUNT_KEYS = ("trips_abroad", "persons_abroad", "vehicles_bought", "vehicles_held", "receptions", "reception_persons")
WAN = Decimal(10_000)


@pytest.fixture(scope="module")
def printed(tmp_path_factory):
    """Each probe printed by Chromium (the PDFs are made here, not committed: ~150 KB each)."""
    if chromium() is None:
        pytest.skip("headless Chromium is not installed (make browser)")
    tmp = tmp_path_factory.mktemp("printed")
    return {name: parse_workbook(probes.print_pdf(name, tmp / f"{name}.pdf", tmp)) for name in probes.documents()}


def _forms(printed) -> dict:
    saved = {name: parse_workbook(FIXTURES / f"{name}_wps.xls") for name in probes.documents()}
    return {"pdf": printed, "xls": saved}


def _sangong(parsed):
    return next(s for s in parsed.sheets if s.status == "parsed" and "sangong" in s.table_keys[-1])


def _table_counts(sheet) -> dict:
    """count key → count, of the year's own figures (a row layout's 决算数 column, a column layout's one row)."""
    return {c.count_key: c.count_value for c in sheet.counts if c.column_key in (c.count_key, "amount")}


def _stated_counts(parsed) -> dict:
    return {s.statement_key: s.count_value for s in parsed.statements if s.count_value is not None}


@pytest.mark.parametrize("form", ["pdf", "xls"])
def test_count_columns_beside_the_amounts_are_counts_not_amounts(printed, form):
    parsed = _forms(printed)[form]["health_final_2024"]
    sheet = _sangong(parsed)
    assert sheet.unit_label == "万元"
    amounts = {ln.column_key: ln.amount_yuan for ln in sheet.lines}
    assert {k: amounts[k] for k in set(amounts) & set(COUNT_KEYS)} == {}  # no count is an amount in 元
    assert amounts["total"] == Decimal("35.50") * WAN and amounts["budget_total"] == 40 * WAN and amounts["reception"] == Decimal("4.40") * WAN
    assert amounts["vehicle_purchase"] == Decimal("11.50") * WAN  # 公务用车购置数 is not the 购置费 column
    assert _table_counts(sheet) == probes.TABLE_COUNTS["health_final_2024"]
    assert sheet.rejects == [] and not sheet.warnings


@pytest.mark.parametrize("form", ["pdf", "xls"])
def test_a_lower_block_of_count_rows_is_counts_and_leaves_the_costs_alone(printed, form):
    """因公出国（境）团组数（个） is no 因公出国 cost, 公务用车购置数（辆） no 购置费, 国内公务接待批次（个） no 公务接待费; ０ full-width,
    `-` and blank are 0."""
    parsed = _forms(printed)[form]["sports_final_2024"]
    sheet = _sangong(parsed)
    costs = sorted(((ln.row_key, ln.column_key, ln.amount_yuan) for ln in sheet.lines if not ln.is_total), key=str)
    assert costs == sorted([("overseas", "budget", 5 * WAN), ("overseas", "amount", Decimal("4.8") * WAN),
                            ("vehicle", "budget", 8 * WAN), ("vehicle", "amount", Decimal("6.5") * WAN),
                            ("vehicle_purchase", "budget", 0), ("vehicle_purchase", "amount", 0),
                            ("vehicle_running", "budget", 8 * WAN), ("vehicle_running", "amount", Decimal("6.5") * WAN),
                            ("reception", "budget", 2 * WAN), ("reception", "amount", 1 * WAN)], key=str)
    assert sheet.rejects == [] and sheet.rows_in == sheet.rows_loaded == 12
    assert _table_counts(sheet) == probes.TABLE_COUNTS["sports_final_2024"]


@pytest.mark.parametrize("form", ["pdf", "xls"])
def test_the_narrative_states_its_counts(printed, form):
    forms = _forms(printed)[form]
    assert _stated_counts(forms["health_final_2024"]) == probes.TABLE_COUNTS["health_final_2024"]
    # the sports narrative: trips and people, none bought (本年未购置公务用车), 9 held; no receptions counts
    assert _stated_counts(forms["sports_final_2024"]) == dict(trips_abroad=1, persons_abroad=3, vehicles_bought=0,
                                                             vehicles_held=9)
    assert {s.section for s in forms["health_final_2024"].statements if s.count_value is not None} == {
        "“三公”经费情况说明"}
    assert _stated_counts(forms["health_budget_2025"]) == {}
