"""The debt tolerance reads the decimals a table prints from its cells' number formats, through the whole pipeline
(ingest → dbt → GX → quality.findings).

A 1-2 in 亿元 filled by formula stores every digit of its quotients (3.2046992) and prints two (3.20). Before, the
printed decimals were guessed from the stored text: six, more than the four a 亿元 table prints, so the sheet's step
fell back to one whole 亿元 — a roll-forward 3 000 万元 off (0.30 亿元, plain on the printed page) passed as rounding.
Now value_text is the printed 3.20 and the step 0.01 亿元: the gap is a DEBT_ROLL_FORWARD finding naming the column,
and the 本级 column, which rolls forward to the cent, is none.
"""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from cli_pipeline import query, run_cli
from dagster_project.paths import REPO_ROOT
from number_format_books import books

FIXTURES = Path(__file__).parent / "fixtures" / "number_formats"
SAMPLE = REPO_ROOT / "data" / "raw"
BUMP_WAN = 3000


REL = f"debt/{books.YEAR}/{books.ENTITY}{books.YEAR}年预算政府债务情况表.xlsx"


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory):
    root = tmp_path_factory.mktemp("number_formats")
    raw = root / "raw"
    for folder in ("registry", "portal"):
        shutil.copytree(SAMPLE / folder, raw / folder)
    (raw / REL).parent.mkdir(parents=True)
    books.general_debt_book(closing_bump_wan=BUMP_WAN).save(raw / REL)
    return run_cli(root, raw)


def test_a_roll_forward_gap_printed_in_hundredths_of_a_yi_is_a_finding(warehouse):
    got = query(warehouse, f"""
        select object_key, source_file, sheet, detail from quality.findings
        where run_id = (select run_id from quality.runs order by started_at desc limit 1)
          and rule_id = 'DEBT_ROLL_FORWARD' and source_file = '{REL}'""")
    assert len(got) == 1, got
    object_key, source_file, sheet, detail = got[0]
    assert (object_key, sheet) == ("debt_1_2", "1-2")
    assert "column B" in detail and f"difference {-BUMP_WAN * 10_000}.00 元" in detail, detail
    (value_text,), = query(warehouse, f"""
        select value_text from intermediate.int_lines_resolved
        where source_file = '{REL}' and row_key = 'opening_balance' and column_key = 'amount'""")
    assert value_text == f"{float(books.ITEMS[0][1]) / 10000:.2f}"
