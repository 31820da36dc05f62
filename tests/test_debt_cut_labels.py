"""Item labels a print cut at a narrow column (ingest/cut_labels.py). Calc prints a debt 1-2 whose item column is 16
characters wide with every label cut at the rule of its filled figure cell (fixture debt_calc_narrow, MAKE.md). Before,
no cut label matched an item pattern: every figure loaded without its item, the roll-forward and balance ≤ limit rules
could not judge the table and DEBT_ITEM_MISSING blamed the publisher. Now a cut label that begins exactly one item of
the Ministry's template is that item; one that begins several is left without an item, named in the sheet's note.
Expected items: the workbook's own reading of the same rows."""
from __future__ import annotations

import pytest
from openpyxl import load_workbook

from dagster_project.ingest.cut_labels import CUT_NOTE
from dagster_project.ingest.workbook import parse_workbook
from dagster_project.ingest.workbook_spec import vocabulary
from dagster_project.paths import REPO_ROOT

CALC = REPO_ROOT / "tests" / "fixtures" / "debt_calc"


def lines(path):
    (sheet,) = parse_workbook(path).sheets
    assert sheet.status == "parsed" and not sheet.rejects, sheet.reason
    return sheet, {(ln.source_row, ln.column_key): ln for ln in sheet.lines}


def test_a_cut_label_beginning_one_item_is_that_item_and_never_another():
    _, book = lines(CALC / "debt_calc_narrow.xlsx")
    sheet, printed = lines(CALC / "debt_calc_narrow.pdf")
    assert {k: ln.amount_yuan for k, ln in printed.items()} == {k: ln.amount_yuan for k, ln in book.items()}
    cut = {k: ln for k, ln in printed.items() if ln.line_label != book[k].line_label}
    assert cut and all(book[k].line_label.startswith(ln.line_label) for k, ln in cut.items())  # the print cut them
    for key, line in printed.items():
        assert line.row_key in (None, book[key].row_key), (line.line_label, line.row_key, book[key].row_key)
    read = {ln.row_key for ln in printed.values()} - {None}
    assert "opening_balance" in read   # 一、2018年末一般债: only the opening balance begins so in 2020's table
    # 五、2019年末一般债: the closing balance, or 2019年末一般债务限额 (the 2019 limit as some templates word it) — no item
    assert "closing_balance" not in read
    # every cut label is accounted in the note: read as its item, or named as several items' beginning
    note = next(w for w in sheet.reason.split("; ") if w.startswith(CUT_NOTE))
    for line in {ln.line_label: ln for ln in cut.values()}.values():
        told = f"「{line.line_label}」→{line.row_key}" if line.row_key else f"「{line.line_label}」→? ("
        assert told in note or line.line_label.startswith("其中"), (line.line_label, note)


@pytest.mark.parametrize("label, item", [
    # cut before 额: the template's only 上年末…余额 item — in 2020's budget table 2019年末, the closing balance (item_years)
    ("一、上年末地方政府债务余", "closing_balance"),
    ("五、2019年末一般债务余", "closing_balance"),
    ("三、2019年一般债务发", "issued"),
    ("二、2019年一般债务", None),                       # limit, issuance or repayment: not told
    ("六、20", None),                                  # too short to begin anything in particular
])
def test_a_cut_label_in_a_workbook_reads_as_its_one_item(tmp_path, label, item):
    wb = load_workbook(CALC / "debt_calc_narrow.xlsx")
    ws = wb.active
    row = next(r for r in range(1, ws.max_row + 1) if str(ws.cell(r, 1).value).startswith(label[:2]))
    ws.cell(row, 1, label)
    wb.save(tmp_path / "cut.xlsx")
    (sheet,) = parse_workbook(tmp_path / "cut.xlsx").sheets
    assert {ln.row_key for ln in sheet.lines if ln.source_row == row} == {item}


KINDS = ("一般", "专项", "")


def _kind_variants(wording: str) -> set[str]:
    """The wording with its debt kind (一般 / 专项 / none, before 债务 or 债券) swapped for each other kind."""
    import re
    m = re.search(r"(一般|专项)?(?=债[务券])", wording)
    return {wording[:m.start()] + k + wording[m.end():] for k in KINDS} if m else {wording}


def test_the_template_wordings_list_every_kind_the_row_patterns_accept():
    """The cut-label reading trusts the listed wordings to be all a cut label can begin (review R5: 年末…限额 was listed
    for 专项 only, so 二、2018年末一般债务 — cut from …限额 — read as a balance). Every wording's 一般 / 专项 / kind-less
    twin that the kind's row patterns read as an item (at some year) is listed too."""
    vocab = vocabulary()
    table = next(t for t in vocab.tables if "debt_1_2" in t.table_keys)
    for fiscal_year in (2019, 2020):
        spec = vocab.spec_for(table.table_name, fiscal_year)
        listed = set(spec.item_wordings)
        for wording in listed:
            for twin in _kind_variants(wording) - listed:
                for year in range(fiscal_year - 3, fiscal_year + 2):
                    label = twin.replace("{year}", str(year))
                    assert not any(p.regex.search(label) for p in spec.row_patterns), (wording, twin, year)


def test_a_cut_label_two_items_of_the_patterns_can_complete_is_no_item(tmp_path):
    """二、2019年末一般债务 cut from 二、2019年末一般债务限额 in 2020's table (review R5): 2019年末一般债务余额 (the closing
    balance) and 2019年末一般债务限额 (the 2019 limit) both begin so — no item, and the note says '→?'. Before, 年末…限额
    was a wording of 专项 only and the cut label read as the closing balance (a false DEBT_ROLL_FORWARD)."""
    wb = load_workbook(CALC / "debt_calc_narrow.xlsx")
    ws = wb.active
    row = next(r for r in range(1, ws.max_row + 1) if str(ws.cell(r, 1).value).startswith("二、"))
    ws.cell(row, 1, "二、2019年末一般债务")
    wb.save(tmp_path / "cut.xlsx")
    (sheet,) = parse_workbook(tmp_path / "cut.xlsx").sheets
    assert {ln.row_key for ln in sheet.lines if ln.source_row == row} == {None}
    assert "「二、2019年末一般债务」→? (" in sheet.reason
