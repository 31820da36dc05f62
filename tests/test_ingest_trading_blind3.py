"""Trading exports written blind from RAW_FORMATS.md, third pass (wave 13): counts written with their unit, a money
header whose unit is a bare 万, dates written with the day and month before the year (an Excel in US or in a
day-first locale). Files are written here by Python's csv module and openpyxl, as a platform's export script or an
office re-saving it writes them; expectations come from what the test wrote."""
from __future__ import annotations

import csv
import datetime as dt
from decimal import Decimal

import openpyxl

from dagster_project.ingest.text_values import DAY_ORDER_REASON
from test_ingest_trading import bulletins, load, load_file_row, query

HEADER = ["项目编号", "标段(包)编号", "公告类型", "公告标题", "发布时间", "投标人数"]


def _write_csv(path, header, rows):
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        w = csv.writer(handle)
        w.writerow(header)
        w.writerows(rows)


def _rejects(wh, rel):
    return query(wh, "SELECT source_row, source_column, raw_value, reason FROM raw.load_rejects "
                     "WHERE source_file = ? ORDER BY source_row", [rel])


def test_a_count_written_with_its_unit_or_after_its_label_is_that_count(gongkai_env):
    # 投标人数 as people type it into a platform's form: 3家, 5 家, full-width ５家, the label repeated (投标人数：4 家).
    # A label naming another count (其中：2家 — of which two) or words around the number are no count: row rejects.
    raw, wh = gongkai_env.raw_dir, gongkai_env.warehouse
    counts = {"3家": 3, "5 家": 5, "５家": 5, "投标人数：4 家": 4, "投标人数: 6家": 6, "7个": 7, "8": 8}
    bad = ["其中：2家", "约5家", "3家以上"]
    rows = [[f"C{i}", "01", "中标结果公告", f"标题{i}", "2019-03-01 09:00", text]
            for i, text in enumerate([*counts, *bad])]
    _write_csv(raw / "trading" / "counts.csv", HEADER, rows)
    load(raw, wh)
    got = bulletins(wh, "trading/counts.csv")
    assert {got[r]["bidder_count"] for r in got} == set(counts.values())
    assert [got[i + 2]["bidder_count"] for i in range(len(counts))] == list(counts.values())
    assert [(r[0], r[2]) for r in _rejects(wh, "trading/counts.csv")] == [
        (len(counts) + 2 + i, text) for i, text in enumerate(bad)]


def test_a_money_header_or_unit_cell_with_a_bare_wan_is_ten_thousand_yuan(gongkai_env):
    # 金额（万） is how a form's header is shortened; 万 in the unit column or after the figure means 万元 too.
    raw, wh = gongkai_env.raw_dir, gongkai_env.warehouse
    header = ["项目编号", "公告类型", "发布时间", "中标金额（万）", "预算金额", "金额单位", "最高限价（亿）"]
    rows = [["W1", "中标结果公告", "2019-03-01", "12.5", "100", "万", "0.35"],
            ["W2", "中标结果公告", "2019-03-02", "3", "8.5万", "", ""]]
    _write_csv(raw / "trading" / "wan.csv", header, rows)
    load(raw, wh)
    got = bulletins(wh, "trading/wan.csv")
    assert _rejects(wh, "trading/wan.csv") == []
    assert got[2]["bid_amount_yuan"] == Decimal("12.5") * 10_000
    assert got[2]["budget_amount_yuan"] == 100 * 10_000
    assert got[3]["bid_amount_yuan"] == 3 * 10_000
    assert got[3]["budget_amount_yuan"] == Decimal("8.5") * 10_000


MOMENTS = [dt.datetime(2018, 6, 4, 9, 0), dt.datetime(2018, 6, 25, 14, 30), dt.datetime(2018, 7, 1, 0, 0)]


def _times_file(raw, name, fmt):
    rows = [[f"D{i}", "01", "交易公告", f"标题{i}", fmt(m), "3"] for i, m in enumerate(MOMENTS)]
    _write_csv(raw / "trading" / name, HEADER, rows)
    return f"trading/{name}"


def test_dates_written_month_first_by_an_excel_in_us_locale_are_read_as_the_file_says(gongkai_env):
    # Excel in US locale saves 6/4/2018 9:00 (m/d/yyyy h:mm) and 6/25/2018 2:30:00 PM: the 25 tells the order
    raw, wh = gongkai_env.raw_dir, gongkai_env.warehouse
    rel = _times_file(raw, "us.csv", lambda m: f"{m.month}/{m.day}/{m.year} {m.hour}:{m.minute:02d}")
    am_pm = _times_file(raw, "us_ampm.csv", lambda m: f"{m.month:02d}/{m.day:02d}/{m.year} {m.strftime('%I:%M:%S %p')}")
    load(raw, wh)
    for name in (rel, am_pm):
        got = bulletins(wh, name)
        assert [got[r]["notice_send_time"] for r in sorted(got)] == MOMENTS, name
        note = load_file_row(wh, name)["reason"]
        assert "月/日/年" in note and "6/25/2018" in note and "第3行" in note


def test_dates_written_day_first_are_read_day_first_when_one_date_says_so(gongkai_env):
    raw, wh = gongkai_env.raw_dir, gongkai_env.warehouse
    rel = _times_file(raw, "dmy.csv", lambda m: m.strftime("%d/%m/%Y %H:%M"))
    dotted = _times_file(raw, "dmy_dots.csv", lambda m: m.strftime("%d.%m.%Y"))
    load(raw, wh)
    got = bulletins(wh, rel)
    assert [got[r]["notice_send_time"] for r in sorted(got)] == MOMENTS
    got = bulletins(wh, dotted)
    assert [got[r]["notice_send_time"] for r in sorted(got)] == [dt.datetime(m.year, m.month, m.day) for m in MOMENTS]
    assert "日/月/年" in load_file_row(wh, rel)["reason"]


def test_a_date_whose_day_and_month_the_file_cannot_tell_apart_is_a_row_reject_not_a_guess(gongkai_env):
    # every day ≤ 12: 06/04/2018 is 6 April or June 4 and nothing in the file says which
    raw, wh = gongkai_env.raw_dir, gongkai_env.warehouse
    early = [m.replace(day=min(m.day, 12)) for m in MOMENTS]
    rows = [[f"U{i}", "01", "交易公告", f"标题{i}", m.strftime("%m/%d/%Y"), "3"] for i, m in enumerate(early)]
    rows.append(["U9", "01", "交易公告", "同日同月", "05/05/2018", "3"])  # day = month: one reading only
    _write_csv(raw / "trading" / "unclear.csv", HEADER, rows)
    load(raw, wh)
    got = bulletins(wh, "trading/unclear.csv")
    undecidable = [i for i, m in enumerate(early) if m.day != m.month]
    assert sorted(got) == [i + 2 for i in range(len(rows)) if i not in undecidable]
    assert got[len(rows) + 1]["notice_send_time"] == dt.datetime(2018, 5, 5)
    rejects = _rejects(wh, "trading/unclear.csv")
    assert [(r[0], r[1]) for r in rejects] == [(i + 2, "发布时间") for i in undecidable]
    assert all(DAY_ORDER_REASON in r[3] for r in rejects)


def test_a_file_writing_dates_both_ways_reads_only_the_dates_that_tell_their_order(gongkai_env):
    raw, wh = gongkai_env.raw_dir, gongkai_env.warehouse
    rows = [["M1", "01", "交易公告", "a", "25/06/2018", "3"], ["M2", "01", "交易公告", "b", "06/26/2018", "3"],
            ["M3", "01", "交易公告", "c", "06/04/2018", "3"]]
    _write_csv(raw / "trading" / "both.csv", HEADER, rows)
    load(raw, wh)
    got = bulletins(wh, "trading/both.csv")
    assert {r: got[r]["notice_send_time"] for r in got} == {2: dt.datetime(2018, 6, 25), 3: dt.datetime(2018, 6, 26)}
    assert [(r[0], r[2]) for r in _rejects(wh, "trading/both.csv")] == [(4, "06/04/2018")]
    assert "前后矛盾" in load_file_row(wh, "trading/both.csv")["reason"]


def test_a_workbook_saved_with_month_first_text_dates_reads_them_as_its_other_dates_say(gongkai_env):
    # an office pastes the US-locale CSV into a workbook: the times stay text, the counts keep their 家
    raw, wh = gongkai_env.raw_dir, gongkai_env.warehouse
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(HEADER)
    for i, m in enumerate(MOMENTS):
        sheet.append([f"X{i}", "01", "交易公告", f"标题{i}", f"{m.month}/{m.day}/{m.year} {m.hour}:{m.minute:02d}",
                      f"{i + 3}家"])
    (raw / "trading").mkdir(parents=True)
    book.save(raw / "trading" / "pasted.xlsx")
    load(raw, wh)
    got = bulletins(wh, "trading/pasted.xlsx")
    assert [got[r]["notice_send_time"] for r in sorted(got)] == MOMENTS
    assert [got[r]["bidder_count"] for r in sorted(got)] == [i + 3 for i in range(len(MOMENTS))]


def test_an_amount_whose_unit_is_in_a_column_of_its_own_reads_that_unit_not_another_amounts(gongkai_env):
    # 预算金额 | 预算金额单位 | 中标金额 | 中标金额单位 (and BUDGET_AMOUNT_UNIT): each amount's unit beside it. Read as one
    # unit for all, or as no unit at all, the budget of 120 万元 became 120 元. A blank own unit falls back to the
    # file's general 金额单位; a unit that is no unit (美元) leaves that amount unread, the row loaded and the unit cell
    # a finding naming the column (review R4: a bad per-amount unit rejected the whole announcement).
    raw, wh = gongkai_env.raw_dir, gongkai_env.warehouse
    header = ["项目编号", "公告类型", "发布时间", "预算金额", "预算金额单位", "中标金额", "中标金额单位", "金额单位"]
    rows = [["O1", "中标结果公告", "2019-03-01", "120", "万元", "98.5", "元", ""],
            ["O2", "中标结果公告", "2019-03-02", "120", "", "3", "万元", "亿元"],
            ["O3", "中标结果公告", "2019-03-03", "120", "美元", "3", "", ""]]
    _write_csv(raw / "trading" / "own_units.csv", header, rows)
    national = ["PROJECT_CODE", "BULLETIN_TYPE", "NOTICE_SEND_TIME", "BUDGET_AMOUNT", "BUDGET_AMOUNT_UNIT", "BID_AMOUNT"]
    _write_csv(raw / "trading" / "own_units_national.csv", national,
               [["N1", "中标结果公告", "2019-03-01", "0.5", "亿元", "4000"]])
    load(raw, wh)
    got = bulletins(wh, "trading/own_units.csv")
    assert (got[2]["budget_amount_yuan"], got[2]["bid_amount_yuan"]) == (120 * 10_000, Decimal("98.5"))
    assert (got[3]["budget_amount_yuan"], got[3]["bid_amount_yuan"]) == (120 * 10**8, 3 * 10_000)
    assert _rejects(wh, "trading/own_units.csv") == []
    assert (got[4]["budget_amount_yuan"], got[4]["bid_amount_yuan"]) == (None, 3)
    assert query(wh, "SELECT source_row, source_column, raw_value FROM raw.load_blanked_cells "
                     "WHERE source_file = 'trading/own_units.csv'") == [(4, "预算金额单位", "美元")]
    got = bulletins(wh, "trading/own_units_national.csv")
    assert (got[2]["budget_amount_yuan"], got[2]["bid_amount_yuan"]) == (Decimal("0.5") * 10**8, 4000)

    # the unit column written 中标金额（单位）: its label without the bracket names the amount itself (review: it was
    # bound as a second copy of the amount, and 120 万元 loaded as 120 元)
    _write_csv(raw / "trading" / "own_units_bracket.csv", ["项目编号", "公告类型", "公告标题", "发布时间", "中标金额",
                                                           "中标金额（单位）", "预算金额", "预算金额(单位)"],
               [["U1", "中标结果公告", "t1", "2019-03-01 09:00", "120", "万元", "1.5", "亿元"]])
    load(raw, wh)
    got = bulletins(wh, "trading/own_units_bracket.csv")
    assert (got[2]["bid_amount_yuan"], got[2]["budget_amount_yuan"]) == (120 * 10_000, Decimal("1.5") * 10**8)


def test_chinese_times_naming_the_half_of_the_day_read_as_the_clock_says(gongkai_env):
    # 开标时间 as notices print it: 上午9时30分, 下午2:30, 晚上8点, 14点30分, 9点半. 上午14时 contradicts itself and
    # 下午12时 is noon or midnight only by custom: row rejects, not a guess.
    raw, wh = gongkai_env.raw_dir, gongkai_env.warehouse
    day = dt.date(2018, 6, 4)
    prefix = f"{day.year}年{day.month}月{day.day}日"
    readable = {f"{prefix}上午9时30分": (9, 30), f"{prefix} 下午2:30": (14, 30), f"{prefix}晚上8点": (20, 0),
                f"{prefix}14点30分": (14, 30), f"{prefix} 上午9点半": (9, 30), f"{prefix}下午3时": (15, 0)}
    bad = [f"{prefix}上午14时", f"{prefix}下午12时"]
    rows = [[f"H{i}", "01", "交易公告", f"标题{i}", text, "3"] for i, text in enumerate([*readable, *bad])]
    _write_csv(raw / "trading" / "halves.csv", HEADER, rows)
    load(raw, wh)
    got = bulletins(wh, "trading/halves.csv")
    assert [got[i + 2]["notice_send_time"] for i in range(len(readable))] == [
        dt.datetime(day.year, day.month, day.day, h, m) for h, m in readable.values()]
    assert [(r[0], r[2]) for r in _rejects(wh, "trading/halves.csv")] == [
        (len(readable) + 2 + i, text) for i, text in enumerate(bad)]


def test_a_rank_written_as_an_ordinal_and_a_count_in_chinese_numerals_are_numbers(gongkai_env):
    raw, wh = gongkai_env.raw_dir, gongkai_env.warehouse
    header = ["项目编号", "标段(包)编号", "公告类型", "发布时间", "中标候选人", "排名", "投标人数"]
    written = [("第1名", "三家", 1, 3), ("第二名", "十二家", 2, 12), ("第三中标候选人", "二十三 家", 3, 23), ("4", "10", 4, 10)]
    rows = [[f"R{i}", "01", "中标候选人公示", "2019-03-01 09:00", f"公司{i}", rank, count]
            for i, (rank, count, _, _) in enumerate(written)]
    rows.append(["R9", "01", "中标候选人公示", "2019-03-01 09:00", "公司9", "第一组", "3"])  # a group, not a rank
    # numeral characters forming no number (a typing slip): the cell's reject, never a guess of 33
    rows.append(["R8", "01", "中标候选人公示", "2019-03-01 09:00", "公司8", "5", "三三家"])
    _write_csv(raw / "trading" / "ranks.csv", header, rows)
    load(raw, wh)
    got = bulletins(wh, "trading/ranks.csv")
    assert [(got[i + 2]["win_candidate_order"], got[i + 2]["bidder_count"]) for i in range(len(written))] == [
        (rank, count) for _, _, rank, count in written]
    assert [(r[0], r[1], r[2]) for r in _rejects(wh, "trading/ranks.csv")] == [
        (len(written) + 2, "排名", "第一组"), (len(written) + 3, "投标人数", "三三家")]


def test_a_ragged_csv_with_month_first_dates_reports_each_broken_record_once(gongkai_env):
    # the file is read a second time in the order its dates show: the CSV scan's own rejects (a record with too few
    # fields) must not be counted twice
    raw, wh = gongkai_env.raw_dir, gongkai_env.warehouse
    path = raw / "trading" / "ragged_us.csv"
    path.parent.mkdir(parents=True)
    lines = [",".join(HEADER)] + [f"G{i},01,交易公告,标题{i},{m.month}/{m.day}/{m.year} {m.hour}:{m.minute:02d},3"
                                  for i, m in enumerate(MOMENTS)]
    lines.insert(2, "G9,01,交易公告")  # cut short
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    report = load(raw, wh)
    got = bulletins(wh, "trading/ragged_us.csv")
    assert [got[r]["notice_send_time"] for r in sorted(got)] == MOMENTS
    assert sorted(got) == [2, 4, 5]
    assert [r[0] for r in _rejects(wh, "trading/ragged_us.csv")] == [3]
    assert report.rows_rejected == 1 and report.rows_in == len(MOMENTS) + 1


def test_an_amount_in_another_currency_is_a_row_reject_not_a_figure_in_yuan(gongkai_env):
    # the national standard's tables state each price's currency (BID_CURRENCY, CURRENCY_CODE 价格币种代码: ISO 4217);
    # an export may carry 币种. USD 100 read as 100 元 would be a wrong figure; CNY in any case (or 156, 人民币) reads.
    raw, wh = gongkai_env.raw_dir, gongkai_env.warehouse
    header = ["PROJECT_CODE", "BULLETIN_TYPE", "NOTICE_SEND_TIME", "BID_AMOUNT", "BID_CURRENCY"]
    # CNY written as people write it in a 币种 cell (人民币（元）, 人民币 (RMB), ￥) reads too (review: each was a reject)
    currencies = {"CNY": True, "cny": True, "156": True, "人民币": True, "": True, "USD": False, "HKD": False,
                  "人民币元": True, "人民币（元）": True, "人民币 (RMB)": True, "￥": True, "¥": True, "美元（USD）": False}
    rows = [[f"Y{i}", "中标结果公告", "2019-03-01 09:00", "100", c] for i, c in enumerate(currencies)]
    _write_csv(raw / "trading" / "currency.csv", header, rows)
    _write_csv(raw / "trading" / "currency_cn.csv", ["项目编号", "公告类型", "发布时间", "中标金额(万元)", "币种"],
               [["Z1", "中标结果公告", "2019-03-01 09:00", "1.5", "人民币"], ["Z2", "中标结果公告", "2019-03-01", "2", "美元"]])
    load(raw, wh)
    got = bulletins(wh, "trading/currency.csv")
    assert sorted(got) == [i + 2 for i, ok in enumerate(currencies.values()) if ok]
    assert {got[r]["bid_amount_yuan"] for r in got} == {100}
    assert [(r[0], r[1], r[2]) for r in _rejects(wh, "trading/currency.csv")] == [
        (i + 2, "BID_CURRENCY", c) for i, (c, ok) in enumerate(currencies.items()) if not ok]
    got = bulletins(wh, "trading/currency_cn.csv")
    assert sorted(got) == [2] and got[2]["bid_amount_yuan"] == Decimal("1.5") * 10_000
    assert [(r[0], r[1]) for r in _rejects(wh, "trading/currency_cn.csv")] == [(3, "币种")]
