"""Debt 1-2: 上年末 / 年初 / 年末 are the ends of the roll-forward the table shows, and the table says which year that is:
the year its issuance (发行/举借) and repayment (还本/偿还) rows name, in digits or words (ingest/roll_forward_year.py).

The Ministry's 1-2 of budget year 2020 rolls 2019 forward (上年末 = 2019年末 = the closing balance); a 1-2 worded on
its own year (上年末余额 / 本年限额 / 本年发行 / 本年还本 / 年末余额) rolls 2020 forward (上年末 = the opening). Before, the
pattern set naming the most items chose, and where both sets named as many (a table also listing 上年限额) the budget
frame won: 上年末 and 年末 both read as the closing balance — a false DEBT_ROLL_FORWARD. Workbooks by openpyxl."""
from __future__ import annotations

import pytest
from openpyxl import Workbook

from dagster_project.ingest.workbook import parse_workbook

BUDGET, FINAL = "地方政府一般债务余额情况表", "地方政府一般债务余额决算情况表"


def read(tmp_path, name, title, labels):
    """One 1-2 (本地区 | 其中：本级), figures 1000 + 300 − 100 = 1200 on the balance rows; {label: row_key}, sheet."""
    wb = Workbook()
    ws = wb.active
    ws.append([title])
    ws.append(["编制单位：银川市财政局", None, "单位：万元"])
    ws.append(["项目", "本地区", "其中：本级"])
    for i, label in enumerate(labels):
        ws.append([label, 1000 + i, 500 + i])
    wb.save(tmp_path / name)
    (sheet,) = parse_workbook(tmp_path / name).sheets
    assert sheet.status == "parsed" and not sheet.rejects
    keys = {}
    for line in sheet.lines:
        keys.setdefault(line.line_label, set()).add(line.row_key)
    assert all(len(k) == 1 for k in keys.values())  # 本地区 and 本级 alike
    return {label: k.pop() for label, k in keys.items()}, sheet


def test_a_budget_table_on_its_own_year_reads_its_opening_and_closing(tmp_path):
    """2020's budget 1-2 rolling 2020 forward, listing 上年限额 too: 上年末 is the opening, 年末 the closing, 本年限额 the
    limit its closing stands under — in words as in digits (before: two closing rows, 本年限额 next year's limit)."""
    words = ["一、上年末一般债务余额", "二、上年一般债务限额", "三、本年一般债务限额", "四、本年一般债务发行额",
             "五、本年一般债务还本额", "六、年末一般债务余额"]
    digits = ["一、2019年末一般债务余额", "二、2019年一般债务限额", "三、2020年一般债务限额", "四、2020年一般债务发行额",
              "五、2020年一般债务还本额", "六、2020年末一般债务余额"]
    got_words, sheet = read(tmp_path, "words.xlsx", f"银川市2020年{BUDGET}", words)
    got_digits, _ = read(tmp_path, "digits.xlsx", f"银川市2020年{BUDGET}", digits)
    assert list(got_words.values()) == list(got_digits.values())
    assert got_words[words[0]] == "opening_balance" and got_words[words[-1]] == "closing_balance"
    assert got_words[words[2]] == "prior_limit"
    assert not sheet.reason


@pytest.mark.parametrize("title", [f"银川市2020年{BUDGET}", f"银川市2019年{FINAL}"])
def test_the_ministry_frame_in_digits_and_words_reads_as_before(tmp_path, title):
    """The Ministry's frame (budget 2020: 2019's roll-forward; final 2019: 2019's), years in digits or 上年/本年: one
    reading, 上年末 the end the issuance rows' year says (closing in the budget table, opening in the final one)."""
    year = int(title[3:7])
    r = 2019
    digits = [f"一、{r - 1}年末一般债务余额", f"二、{r}年一般债务限额", f"三、{r}年一般债务发行额", f"四、{r}年一般债务还本额",
              f"五、{r}年末一般债务余额"]
    word = {year - 1: "上年", year: "本年"}
    words = [f"一、{'上年末' if r - 1 == year - 1 else '年初'}一般债务余额", f"二、{word[r]}一般债务限额",
             f"三、{word[r]}一般债务发行额", f"四、{word[r]}一般债务还本额",
             f"五、{'上年末' if r == year - 1 else '年末'}一般债务余额"]
    got_digits, _ = read(tmp_path, "digits.xlsx", title, digits)
    got_words, sheet = read(tmp_path, "words.xlsx", title, words)
    assert list(got_digits.values()) == list(got_words.values()) == [
        "opening_balance", "prior_limit", "issued", "repaid", "closing_balance"]
    assert not sheet.reason


@pytest.mark.parametrize("title", [f"银川市2020年{BUDGET}", f"银川市2019年{FINAL}"])
def test_two_roll_forward_years_leave_the_balances_without_an_item(tmp_path, title):
    """发行 of 2019 and 还本 of 2020 in one table: which end 上年末 / 年末 are cannot be told — no item, and the note
    names the rows and the balances (before: read as opening and closing, a roll-forward judged on a guess)."""
    labels = ["一、上年末一般债务余额", "二、2019年一般债务发行额", "三、2020年一般债务还本额", "四、年末一般债务余额"]
    got, sheet = read(tmp_path, "two.xlsx", title, labels)
    assert got == {labels[0]: None, labels[1]: "issued", labels[2]: "repaid", labels[3]: None}
    assert "2019年: 工作表「Sheet」第5行「二、2019年一般债务发行额」" in sheet.reason
    assert "2020年: 工作表「Sheet」第6行「三、2020年一般债务还本额」" in sheet.reason
    assert "第4行「一、上年末一般债务余额」" in sheet.reason and "第7行「四、年末一般债务余额」" in sheet.reason


def test_no_issuance_year_keeps_the_reading_and_says_so(tmp_path):
    """发行额 / 还本额 naming no year: 上年末 / 年末 read as before (opening / closing), the note says the table did not tell."""
    labels = ["一、上年末一般债务余额", "二、一般债务发行额", "三、一般债务还本额", "四、年末一般债务余额"]
    got, sheet = read(tmp_path, "none.xlsx", f"银川市2020年{BUDGET}", labels)
    assert list(got.values()) == ["opening_balance", "issued", "repaid", "closing_balance"]
    assert "发行/还本行未注明年度" in sheet.reason and "第4行「一、上年末一般债务余额」" in sheet.reason


SERVICE_BUDGET, SERVICE_FINAL = "地方政府债券发行及还本付息情况表", "地方政府债券发行及还本付息决算情况表"


@pytest.mark.parametrize("title, offsets", [
    (f"银川市2020年{SERVICE_BUDGET}", (-1, -1, -1, 0, 0)),   # last year's executed items, then the budget year's
    (f"银川市2019年{SERVICE_FINAL}", (0, 0, 0)),             # a final table: its own year's
])
def test_debt_service_items_in_words_read_as_in_digits(tmp_path, title, offsets):
    """1-4 on the same definition of 上年 / 本年: 本年还本额 / 本年付息额 in 2020's budget table are 2020's (the budget
    year's repayment and interest), as 2020年… say (before: read as last year's executed principal and interest); in
    a final table 本年 is its own year's executed figure, as before."""
    year = int(title[3:7])
    items = ["一、{}地方政府债券发行额", "二、{}地方政府债务还本额", "三、{}地方政府债务付息额",
             "四、{}地方政府债务还本额", "五、{}地方政府债务付息额"]
    words = [i.format("上年" if o else "本年") for i, o in zip(items, offsets)]
    digits = [i.format(f"{year + o}年") for i, o in zip(items, offsets)]
    got_digits, _ = read(tmp_path, "digits.xlsx", title, digits)
    got_words, _ = read(tmp_path, "words.xlsx", title, words)
    assert list(got_words.values()) == list(got_digits.values())
    assert len(set(got_digits.values()) - {None}) == len(offsets)


def test_a_roll_forward_year_the_table_is_not_framed_on_keeps_the_reading_and_says_so(tmp_path):
    """2020's table whose issuance and repayment rows name 2017: the patterns frame 2019's or 2020's roll-forward only —
    read as before (the pattern set naming the most items), and the note names the rows and the year."""
    labels = ["一、2016年末一般债务余额", "二、2017年一般债务发行额", "三、2017年一般债务还本额", "四、2017年末一般债务余额"]
    got, sheet = read(tmp_path, "old.xlsx", f"银川市2020年{BUDGET}", labels)
    assert list(got.values()) == [None, "issued", "repaid", None]
    assert "2017" in sheet.reason and "第5行「二、2017年一般债务发行额」" in sheet.reason


@pytest.mark.parametrize("planned", [["七、2020年一般债务发行额", "    其中：再融资债券", "八、2020年一般债务还本额"],
                                     ["七、本年一般债务发行额（预算数）"]])
def test_the_ministry_frame_listing_the_budget_years_issuance_rolls_the_year_its_balances_name(tmp_path, planned):
    """The Ministry's 1-2 of 2020 (2018年末 + 2019年发行 − 2019年还本 = 2019年末, then 2020's limit) that also lists 2020's
    planned issuance / repayment: its balance rows name both ends of 2019 — the roll-forward a reader sees. The
    balances are read as before the extra rows were added, 2019's issuance and repayment too; 2020's rows (and their
    其中 rows) are no item of the roll-forward, noted by name. Before: two roll-forward years, the balances read as no
    item, 2020's planned figures read as 2019's issuance / repayment beside them."""
    ministry = ["一、2018年末一般债务余额实际数", "二、2019年一般债务限额", "三、2019年一般债务发行额", "四、2019年一般债务还本额",
                "五、2019年末一般债务余额预计执行数", "六、2020年一般债务限额"]
    expected, _ = read(tmp_path, "ministry.xlsx", f"银川市2020年{BUDGET}", ministry)
    got, sheet = read(tmp_path, "planned.xlsx", f"银川市2020年{BUDGET}", ministry + planned)
    assert {label: got[label] for label in ministry} == expected
    assert expected[ministry[0]] == "opening_balance" and expected[ministry[4]] == "closing_balance"
    assert all(got[label.strip()] is None for label in planned)
    (note,) = [w for w in sheet.warnings if "结转" in w]
    assert all(label.strip() in note for label in planned) and not any(label in note for label in ministry)


@pytest.mark.parametrize("title", [f"银川市2020年{BUDGET}", f"银川市2019年{FINAL}"])
def test_the_limit_of_the_year_before_the_roll_forward_is_an_item(tmp_path, title):
    """A table on its own year lists 上年限额 beside 本年限额: the limit its opening balance stood under (the year before
    the roll-forward), item opening_limit — in words as in digits; the Ministry's frame names it {Y-2}年. Before, the row
    was read as no item (its figure in no item a rule or a reader of the marts could find)."""
    year = int(title[3:7])
    words = ["一、上年末一般债务余额", "二、上年一般债务限额", "三、本年一般债务限额", "四、本年一般债务发行额",
             "五、本年一般债务还本额", "六、年末一般债务余额"]
    digits = [w.replace("上年", f"{year - 1}年").replace("本年", f"{year}年").replace("六、年末", f"六、{year}年末")
              for w in words]
    got_words, _ = read(tmp_path, "words.xlsx", title, words)
    got_digits, _ = read(tmp_path, "digits.xlsx", title, digits)
    assert got_words[words[1]] == got_digits[digits[1]] == "opening_limit"
    assert got_words[words[2]] == "prior_limit" and got_words[words[0]] == "opening_balance"
    ministry = ["一、2018年末一般债务余额实际数", "二、2018年一般债务限额", "三、2019年一般债务限额", "四、2019年一般债务发行额",
                "五、2019年一般债务还本额", "六、2019年末一般债务余额预计执行数"]
    if year == 2020:
        got, _ = read(tmp_path, "ministry.xlsx", title, ministry)
        assert [got[label] for label in ministry] == ["opening_balance", "opening_limit", "prior_limit", "issued",
                                                      "repaid", "closing_balance"]
