"""A debt table's whole-region row printed as the publisher's own region name, and the column a balance-over-limit
finding is about, through the whole pipeline (ingest → dbt → GX → quality.findings).

One vocabulary (dbt/seeds/ref_debt_whole_region_labels.csv, read by int_debt_whole_region_rows) says which row of a
1-1 table stands for the whole region: 本地区, 全市 …, or the table's own region by name — found by the sheet's region
code, not by a list of names. Before, only the mart knew the own-name form; DEBT_REGION_SUM's selector
(`label:本地区|^全[省区市州盟县]$>total`) found no whole-region row and no total row in such a table and skipped it
without a word.

A raw root with the sample's registry and portal and 银川市's two 2018 debt books, re-saved with openpyxl as a bureau
might print them: in both 1-1 tables the 本地区 row reads 银川市 (the budget book's parts sum to it, the final book's
兴庆区 limit is 100 万元 higher in its total and general columns, so they do not); the budget book's 1-2 has a third
column for 贺兰县 whose year-end balance is above that year's limit, and its 1-3's 本级 repaid 5 万元 more than rolls
forward. Expected values come from the edits made here.

The same run carries the debt tolerance test (formerly test_number_formats_tolerance; one pipeline run serves both,
see "Debt tolerance" below): 贺兰县's 2019 1-2 in 亿元 printed '0.00' over formula quotients. A region and year of its
own, so each test reads only its own files' findings. The run also carries other modules' debt books, trading files
and 2023–2024 government books (conftest.py ``debt_books_and_export_run``: one `cli run` of fixed costs for five
modules; no debt rule reads trading).
"""
from __future__ import annotations

import shutil
from decimal import Decimal
from pathlib import Path

import pytest
import yaml
from openpyxl import load_workbook

from dagster_project.paths import DBT_PROJECT_DIR, REPO_ROOT
from cli_pipeline import query
from number_format_books import books

SAMPLE = REPO_ROOT / "data" / "raw"
BUDGET = "debt/2018/银川市2018年预算政府债务情况表.xlsx"
FINAL = "debt/2018/银川市2018年决算政府债务情况表.xlsx"
OWN_NAME = "银川市"
BUMP = 100        # 万元 added to 兴庆区's limit (total and general) in the final book
# 贺兰县's column of the budget book's 1-2, by the row's label start (万元): it rolls forward (90 + 40 − 10 = 120)
# and its year-end balance 120 is above its limit 100
COUNTY = "贺兰县"
REPAID_BUMP = 5   # 万元 more repaid by 本级 in the budget book's 1-3
COUNTY_COLUMN = {"一、": 90, "二、": 100, "三、": 40, "其中": 0, "20": 40, "四、": 10, "五、": 120, "七、": 130}


def vocabulary() -> list[dict]:
    import csv
    with (DBT_PROJECT_DIR / "seeds" / "ref_debt_whole_region_labels.csv").open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def test_the_spec_reads_every_whole_region_word_as_a_whole_region_column():
    """The ingest spec's whole-region column headers of the debt item tables (1-2/1-3 and 1-4: the `amount` aliases
    beside 本级) hold the vocabulary's words, so a 1-2 headed 全市 | 本级 reads as a 1-1 row 全市 does."""
    spec = yaml.safe_load((REPO_ROOT / "dagster_project" / "ingest" / "specs" / "workbook_tables.yaml")
                          .read_text(encoding="utf-8"))
    groups = [g for g in spec["kinds"].values() if {"debt_1_2", "debt_1_4"} & set(g.get("tables") or [])]
    assert len(groups) == 2, "no spec group for debt 1-2 or 1-4"
    words = {row["word"] for row in vocabulary() if row["match_kind"] in ("exact", "contains")}
    assert words
    for group in groups:
        aliases = {a for c in group["columns"] if c["key"] == "amount" for a in c["aliases"] if isinstance(a, str)}
        assert words <= aliases, (group["tables"], sorted(words - aliases))
    assert any(row["match_kind"] == "own_region_name" for row in vocabulary())


def republish(raw: Path) -> None:
    for name in (BUDGET, FINAL):
        book = load_workbook(raw / name)
        sheet = book.worksheets[0]                         # 1-1: regions as rows
        (whole,) = [c for c in sheet["A"] if c.value == "本地区"]
        whole.value = OWN_NAME
        if name == FINAL:
            (county,) = [c for c in sheet["A"] if c.value == "兴庆区"]
            for column in ("B", "C"):                      # 合计 and 一般债务 of the limit: 合计 = 一般 + 专项 still holds
                cell = sheet[f"{column}{county.row}"]
                cell.value = float(Decimal(str(cell.value)) + BUMP)
        if name == BUDGET:
            general = book.worksheets[1]                   # 1-2: items as rows, 本地区 | 其中：本级 | 贺兰县
            general["D3"] = COUNTY
            general.merge_cells("D3:D4")
            for row in range(5, general.max_row + 1):
                label = str(general[f"A{row}"].value or "").strip()
                for start, value in COUNTY_COLUMN.items():
                    if label.startswith(start):
                        general[f"D{row}"] = value
                        break
            special = book.worksheets[2]                   # 1-3: 本级's repayment higher, its roll-forward broken
            (repaid,) = [c for c in special["A"] if str(c.value or "").startswith("四、")]
            cell = special[f"C{repaid.row}"]
            cell.value = float(Decimal(str(cell.value)) + REPAID_BUMP)
        book.save(raw / name)


def write_raw(raw: Path) -> None:
    """This module's files in a raw root that holds the sample's registry and portal."""
    (raw / "debt" / "2018").mkdir(parents=True)
    for name in (BUDGET, FINAL):
        shutil.copy(SAMPLE / name, raw / name)
    republish(raw)
    write_tolerance_book(raw)


@pytest.fixture(scope="module")
def warehouse(debt_books_and_export_run):
    # one run with test_privacy_typed_ids' trading export (conftest.py): the findings read here are of this
    # module's files and rules only
    return debt_books_and_export_run / "warehouse.duckdb"


def findings(warehouse: Path, rule_id: str) -> list[tuple]:
    return query(warehouse, f"""
        select object_key, source_file, sheet, source_row, observed, expected, detail from quality.findings
        where run_id = (select run_id from quality.runs order by started_at desc limit 1) and rule_id = '{rule_id}'
        order by detail""")


def test_own_name_row_is_the_whole_region_in_the_mart(warehouse):
    got = query(warehouse, f"""select source_file, row_scope, row_region_code, count(*) from marts.fct_debt_positions
                               where row_label = '{OWN_NAME}' group by all order by all""")
    assert got == sorted([(BUDGET, "region_total", "640100", 6), (FINAL, "region_total", "640100", 6)])


def test_region_sum_judges_a_table_whose_whole_region_row_is_its_own_name(warehouse):
    sheet, row = query(warehouse, f"""select sheet, source_row from marts.fct_debt_positions
                                      where source_file = '{FINAL}' and row_label = '{OWN_NAME}' limit 1""")[0]
    got = findings(warehouse, "DEBT_REGION_SUM")
    assert [(f[0], f[1], f[2], f[3]) for f in got] == [("debtf_1_1", FINAL, sheet, row)] * 2
    assert ["[limit_general]" in got[0][6], "[limit_total]" in got[1][6]] == [True, True]
    for finding in got:                                     # the parts are 100 万元 above the whole region
        assert Decimal(finding[4]) - Decimal(finding[5]) == BUMP * 10_000
    # the budget book's table, whose parts sum to its own-name row, was judged (every column) and holds
    judged = query(warehouse, f"""select count(*), bool_and(is_consistent) from intermediate.int_reconciliation_checks
                                  where rule_id = 'DEBT_REGION_SUM' and source_file = '{BUDGET}'""")
    assert judged == [(6, True)]


def test_balance_over_limit_names_the_column(warehouse):
    got = [f for f in findings(warehouse, "DEBT_BALANCE_OVER_LIMIT") if f[1] == BUDGET and f[0] == "debt_1_2"]
    line = query(warehouse, f"""select source_column from intermediate.int_lines_resolved
                                where source_file = '{BUDGET}' and column_key = 'region:{COUNTY}' limit 1""")
    assert line, "the county's column was not read"
    (column,) = line[0]
    assert [(f[0], f[4], f[5], f[6]) for f in got] == [(
        "debt_1_2", f"余额 balance {COUNTY_COLUMN['五、'] * 10_000}.00", f"≤ 限额 limit {COUNTY_COLUMN['二、'] * 10_000}.00",
        f"debt_item_limit_covers_balance [prior_limit] · 列 column {column} {COUNTY} 地区列 region column")]


def test_roll_forward_names_the_column(warehouse):
    got = [f for f in findings(warehouse, "DEBT_ROLL_FORWARD") if f[1] in (BUDGET, FINAL)]
    (sheet, row, column), = query(warehouse, f"""
        select sheet, source_row, source_column from intermediate.int_lines_resolved
        where source_file = '{BUDGET}' and table_key = 'debt_1_3' and row_key = 'closing_balance'
          and column_key = 'amount_own_level'""")
    assert [(f[0], f[1], f[2], f[3]) for f in got] == [("debt_1_3", BUDGET, sheet, row)]
    assert got[0][6].startswith(f"debt_roll_forward [closing_balance] · 列 column {column} 本级 own level · "
                                f"差额 difference {-REPAID_BUMP * 10_000}.00 元"), got[0][6]


# Debt tolerance (formerly test_number_formats_tolerance.py). The debt tolerance reads the decimals a table prints from
# its cells' number formats, through the whole pipeline (ingest → dbt → GX → quality.findings).
#
# A 1-2 in 亿元 filled by formula stores every digit of its quotients (3.2046992) and prints two (3.20). Before, the
# printed decimals were guessed from the stored text: six, more than the four a 亿元 table prints, so the sheet's step
# fell back to one whole 亿元 — a roll-forward 3 000 万元 off (0.30 亿元, plain on the printed page) passed as rounding.
# Now value_text is the printed 3.20 and the step 0.01 亿元: the gap is a DEBT_ROLL_FORWARD finding naming the column,
# and the 本级 column, which rolls forward to the cent, is none.
BUMP_WAN = 3000
TOLERANCE_BOOK = f"debt/{books.YEAR}/{books.ENTITY}{books.YEAR}年预算政府债务情况表.xlsx"


def write_tolerance_book(raw: Path) -> None:
    assert TOLERANCE_BOOK not in (BUDGET, FINAL)
    (raw / TOLERANCE_BOOK).parent.mkdir(parents=True, exist_ok=True)
    books.general_debt_book(closing_bump_wan=BUMP_WAN).save(raw / TOLERANCE_BOOK)


def test_a_roll_forward_gap_printed_in_hundredths_of_a_yi_is_a_finding(warehouse):
    got = query(warehouse, f"""
        select object_key, source_file, sheet, detail from quality.findings
        where run_id = (select run_id from quality.runs order by started_at desc limit 1)
          and rule_id = 'DEBT_ROLL_FORWARD' and source_file = '{TOLERANCE_BOOK}'""")
    assert len(got) == 1, got
    object_key, source_file, sheet, detail = got[0]
    assert (object_key, sheet) == ("debt_1_2", "1-2")
    assert "column B" in detail and f"difference {-BUMP_WAN * 10_000}.00 元" in detail, detail
    (value_text,), = query(warehouse, f"""
        select value_text from intermediate.int_lines_resolved
        where source_file = '{TOLERANCE_BOOK}' and row_key = 'opening_balance' and column_key = 'amount'""")
    assert value_text == f"{float(books.ITEMS[0][1]) / 10000:.2f}"
