"""Trading exports whose dates an office's Excel in an English locale rewrote: month names and two-digit years.

Excel in an English locale shows and saves a date as ``06-Dec-2026`` (d-mmm-yyyy), ``Dec 6, 2026`` / ``December 6,
2026`` (US long date, with ``9:05 AM``), ``Sunday, December 6, 2026``; its default short forms write the year with two
digits (``6-Dec-26``, ``26/12/06``). A month's name and a four-digit year say the date: read as the contract's times.
A two-digit year is a guess (century, and for ``26/12/06`` which number is the year): a row reject saying so — before
this, ``26/12/06`` was read as the year 26 and ``06/12/26`` as the year 6, silently. Files are written by Python's csv
module as an export script in the C locale writes ``strftime('%d-%b-%Y')``; expectations come from what was written.
"""
from __future__ import annotations

import csv
import datetime as dt

from dagster_project.ingest.text_values import TWO_DIGIT_YEAR_REASON
from test_ingest_trading import bulletins, load, load_file_row, query

HEADER = ["项目编号", "标段(包)编号", "公告类型", "公告标题", "发布时间", "开标时间"]
MOMENTS = [dt.datetime(2026, 12, 6, 9, 5), dt.datetime(2026, 5, 13, 14, 30), dt.datetime(2027, 1, 2, 0, 0)]
# (how the sender's program wrote the send time, how it wrote the opening time)
ENGLISH_FORMS = [
    (lambda m: m.strftime("%d-%b-%Y %H:%M"), lambda m: m.strftime("%b %d, %Y")),
    (lambda m: f"{m.strftime('%B')} {m.day}, {m.year} {m.strftime('%I:%M %p').lstrip('0')}",
     lambda m: m.strftime("%A, %B %d, %Y")),
    (lambda m: f"{m.day} {m.strftime('%b').upper()} {m.year} {m.strftime('%H:%M')}", lambda m: m.strftime("%d-%b-%Y")),
]


def _write(path, rows):
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADER)
        writer.writerows(rows)


def _rejects(wh, rel):
    return query(wh, "SELECT source_row, source_column, raw_value, reason FROM raw.load_rejects "
                     "WHERE source_file = ? ORDER BY source_row, source_column", [rel])


def test_dates_naming_their_month_in_english_are_read(gongkai_env):
    raw, wh = gongkai_env.raw_dir, gongkai_env.warehouse
    rows = [[f"E{i}", "01", "招标公告", f"标题{i}", sent(m), opened(m + dt.timedelta(days=20))]
            for i, (m, (sent, opened)) in enumerate(zip(MOMENTS, ENGLISH_FORMS))]
    _write(raw / "trading" / "english.csv", rows)
    load(raw, wh)
    got = bulletins(wh, "trading/english.csv")
    assert _rejects(wh, "trading/english.csv") == []
    assert [got[r]["notice_send_time"] for r in sorted(got)] == MOMENTS
    assert [got[r]["bid_open_time"] for r in sorted(got)] == [
        dt.datetime.combine((m + dt.timedelta(days=20)).date(), dt.time()) for m in MOMENTS]
    assert "英文月份名" in load_file_row(wh, "trading/english.csv")["reason"]


def test_a_two_digit_year_is_a_row_reject_saying_so_never_a_guess(gongkai_env):
    raw, wh = gongkai_env.raw_dir, gongkai_env.warehouse
    m = MOMENTS[0]
    two_digit = [m.strftime("%y/%m/%d"), m.strftime("%d/%m/%y"), m.strftime("%d-%b-%y"), m.strftime("%y-%m-%d %H:%M"),
                 f"{m.strftime('%y')}年{m.month}月{m.day}日",
                 # with the ISO T and a zone (review R4: the ISO branch read them as the year 26)
                 m.strftime("%y-%m-%dT%H:%M"), m.strftime("%y-%m-%dT%H:%M:%S+08:00")]
    rows = [[f"Y{i}", "01", "招标公告", f"标题{i}", text, ""] for i, text in enumerate(two_digit)]
    rows.append(["Y9", "01", "招标公告", "四位年份", m.strftime("%Y-%m-%d %H:%M"), ""])
    _write(raw / "trading" / "short_years.csv", rows)
    load(raw, wh)
    got = bulletins(wh, "trading/short_years.csv")
    assert {r: got[r]["notice_send_time"] for r in got} == {len(two_digit) + 2: m}
    rejects = _rejects(wh, "trading/short_years.csv")
    assert [(r[0], r[1], r[2]) for r in rejects] == [(i + 2, "发布时间", text) for i, text in enumerate(two_digit)]
    assert all(TWO_DIGIT_YEAR_REASON in r[3] for r in rejects)


def test_every_month_is_read_by_its_full_and_short_name(gongkai_env):
    """All twelve months, as %B and %b write them (and Sept, as some write September): September was rejected once —
    a replace of Sept by Sep made it Sepember."""
    raw, wh = gongkai_env.raw_dir, gongkai_env.warehouse
    moments = [dt.datetime(2026, month, 6, 9, 5) for month in range(1, 13)]
    rows = [[f"M{m.month}", "01", "招标公告", f"标题{m.month}", f"{m.strftime('%B')} {m.day}, {m.year} {m.strftime('%H:%M')}",
             m.strftime("%d-%b-%Y")] for m in moments]
    rows.append(["M13", "01", "招标公告", "Sept", f"Sept {moments[8].day}, {moments[8].year}", "6 Sept 2026"])
    _write(raw / "trading" / "months.csv", rows)
    load(raw, wh)
    got = bulletins(wh, "trading/months.csv")
    assert _rejects(wh, "trading/months.csv") == []
    assert [got[r]["notice_send_time"] for r in sorted(got)] == [*moments, moments[8].replace(hour=0, minute=0)]
    assert [got[r]["bid_open_time"] for r in sorted(got)] == [
        m.replace(hour=0, minute=0) for m in (*moments, moments[8])]
