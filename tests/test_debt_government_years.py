"""政府一般/专项债务限额和余额情况表 (budget and final): 上年 / 本年 in an item label are the years they name — the one
definition of ``ingest/item_years.py`` the 1-2 reads (上年 = the table's fiscal year − 1, 本年 = the fiscal year), so
the table worded and the same table written with digits read alike. Before, the spec's patterns took 上年/本年
literally: in a final table of 2019 (its frame shifted a year) 上年末余额 (2018年末) took the key 2019年末 takes, and
本年末余额 the key of the year after. Workbooks by openpyxl, expected readings the digit-written twin's."""
from __future__ import annotations

import pytest
from openpyxl import Workbook

from dagster_project.ingest.workbook import parse_workbook

TITLES = {"budget": "银川市{y}年政府一般债务限额和余额情况表", "final": "银川市{y}年政府一般债务限额和余额决算表"}
WORDED = ["上年末一般债务余额", "上年一般债务限额", "本年一般债务限额", "本年末一般债务余额"]


def keys(tmp_path, name, title, labels):
    wb = Workbook()
    ws = wb.active
    ws.append([title])
    ws.append(["编制单位：银川市财政局", "单位：万元"])
    ws.append(["项目", "预算数"])
    for i, label in enumerate(labels):
        ws.append([label, 1000 + i])
    wb.save(tmp_path / name)
    (sheet,) = parse_workbook(tmp_path / name).sheets
    assert sheet.status == "parsed" and not sheet.rejects, sheet.reason
    assert sheet.table_name.startswith("政府一般债务限额和余额")
    return [next((ln.row_key for ln in sheet.lines if ln.line_label == label), "missing") for label in labels]


@pytest.mark.parametrize("phase, worded", [
    ("budget", WORDED), ("final", WORDED),
    # a final table of 2019 listing only its own year's limit and year-end balance: the frame its digits choose reads
    # them as the year's (prior_limit / prior_balance); before, the words read as the next year's (limit / balance)
    ("final", ["本年一般债务限额", "本年末一般债务余额"]), ("final", ["本年末一般债务余额", "本年一般债务发行额"]),
])
def test_worded_years_read_as_the_digits_they_name(tmp_path, phase, worded):
    year = 2020 if phase == "budget" else 2019
    title = TITLES[phase].format(y=year)
    digits = [w.replace("上年", f"{year - 1}年").replace("本年", f"{year}年") for w in worded]
    by_digits = keys(tmp_path, "digits.xlsx", title, digits)
    assert keys(tmp_path, "words.xlsx", title, worded) == by_digits
    assert by_digits.count(None) < len(by_digits)  # the digits name items (the sample's own wording)
