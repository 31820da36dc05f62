"""Build ``dbt/seeds/ref_working_calendar.csv`` (工作日历 working-day calendar).

One row per date from 2015-01-01: whether it is a working day and why, and whether that is final.

- Announced years (``is_provisional = false``): the State Council's yearly holiday notices (法定节假日 and 调休
  adjusted working weekends) as packaged by ``chinesecalendar`` — every year it knows (today up to 2026).
- Provisional years (``is_provisional = true``, the ``PROVISIONAL_YEARS`` years after the last announced one): a
  deadline past the last notice is still computed (a GP contract signed on 30 December has its "+2 working days"
  in January), on what the law alone fixes: weekends, and the statutory holidays of 《全国年节及纪念日放假办法》
  (元旦, 春节 with 除夕, 清明节, 劳动节, 国庆节 by date; 春节/端午节/中秋节 by the lunar calendar and 清明 by
  the solar term, computed by ``holidays`` from astronomical tables, not guessed), and the make-up days off the law
  requires when a holiday falls on a weekend (补假, 办法 §6: "应当在工作日补假") — one per holiday day on a Saturday or
  Sunday, on the first working days after that holiday (``make_up_days``), as every notice 2015–2026 placed them
  (every such day but one, 2015's 中秋 on a Sunday before the 国庆 week). Left out because only the notice fixes
  them: 调休 adjusted working weekends, bridging days off, and the extra day when two holidays fall on one day (中秋
  on 国庆, 2020: not the law's). So a provisional working-day count can differ from the final one around the
  holidays: every status and finding computed on a provisional day says so
  (``int_calendar_days_indexed.is_provisional``).

When ``chinesecalendar`` gains a year (the notice is out: ``pip install -U chinesecalendar``), regenerating turns
that year's rows final and extends the provisional span; ``--check`` fails until then (the seed is stale), so the
change cannot be missed. Deterministic:

    .venv/bin/python -m dagster_project.reference.build_calendar            # writes the seed
    .venv/bin/python -m dagster_project.reference.build_calendar --check    # exit 1 if the seed is stale
"""
from __future__ import annotations

import argparse
import csv
import datetime as dt
import io
import sys
from pathlib import Path

import chinese_calendar
import holidays

SEED_PATH = Path(__file__).resolve().parents[2] / "dbt" / "seeds" / "ref_working_calendar.csv"
COLUMNS = ["calendar_date", "is_working_day", "day_type", "holiday_name", "is_provisional"]
FIRST_DATE = dt.date(2015, 1, 1)
# years after the last announced one built provisionally: the next year's budgets, this year's final accounts
# (approved mid-next-year, + 55 days) and trading deadlines all fall within two years of the last notice
PROVISIONAL_YEARS = 2

# chinesecalendar's English holiday names → the Chinese names of the State Council notice.
HOLIDAY_NAMES_ZH = {
    "New Year's Day": "元旦",
    "Spring Festival": "春节",
    "Tomb-sweeping Day": "清明节",
    "Labour Day": "劳动节",
    "Dragon Boat Festival": "端午节",
    "National Day": "国庆节",
    "Mid-autumn Festival": "中秋节",
    "Anti-Fascist 70th Day": "中国人民抗日战争暨世界反法西斯战争胜利70周年纪念日",
}


# The statutory holidays (by ``holidays``' English names) → the names of the State Council notice. Anything else the
# package lists (its "Day off (substituted …)" days, one-off commemorations) is a notice's, not the law's: left out.
STATUTORY_NAMES_ZH = {
    "New Year's Day": "元旦",
    "Chinese New Year's Eve": "春节",
    "Chinese New Year (Spring Festival)": "春节",
    "Tomb-Sweeping Day": "清明节",
    "Labor Day": "劳动节",
    "National Day": "国庆节",
    "Dragon Boat Festival": "端午节",
    "Mid-Autumn Festival": "中秋节",
}


def last_announced_year() -> int:
    """The last year whose State Council notice ``chinesecalendar`` holds."""
    return max(d.year for d in chinese_calendar.holidays)


def statutory_holidays(year: int) -> dict[dt.date, str]:
    """The days off the law fixes for ``year`` (no 调休, no 补假: only the notice sets those), Chinese names."""
    days = holidays.China(years=year, observed=False, language="en_US")
    out = {}
    for day in sorted(days):
        # two holidays on one day (中秋 on 国庆's first day, 2020 and 2028): the package joins their names; the
        # notice names the day after the longer holiday — the first statutory name in STATUTORY_NAMES_ZH's order
        names = [STATUTORY_NAMES_ZH[n] for n in STATUTORY_NAMES_ZH if n in days.get_list(day)]
        if names:
            out[day] = names[0]
    return out


def make_up_days(statutory: dict[dt.date, str]) -> dict[dt.date, str]:
    """补假 (办法 §6): for every statutory day off on a Saturday or Sunday, a day off on the next working day after that
    holiday's days (a weekday that is neither a statutory day nor already a make-up day), named for the holiday."""
    blocks: dict[tuple[int, str], list[dt.date]] = {}
    for day, name in statutory.items():  # one holiday = its name within one year (元旦 of two years are two)
        blocks.setdefault((day.year, name), []).append(day)
    out: dict[dt.date, str] = {}
    for (_, name), days in sorted(blocks.items(), key=lambda kv: min(kv[1])):
        owed = sum(1 for d in days if d.weekday() >= 5)
        day = max(days)
        while owed:
            day += dt.timedelta(days=1)
            if day.weekday() < 5 and day not in statutory and day not in out:
                out[day] = name
                owed -= 1
    return out


def provisional_rows(first: dt.date, last: dt.date) -> list[dict[str, str]]:
    rows = []
    statutory: dict[dt.date, str] = {}
    for year in range(first.year, last.year + 1):
        statutory.update(statutory_holidays(year))
    statutory.update({d: n for d, n in make_up_days(statutory).items() if d not in statutory})
    day = first
    while day <= last:
        if day in statutory:
            is_working, day_type, label = False, "holiday", statutory[day]
        elif day.weekday() >= 5:
            is_working, day_type, label = False, "weekend", ""
        else:
            is_working, day_type, label = True, "workday", ""
        rows.append({"calendar_date": day.isoformat(), "is_working_day": "true" if is_working else "false",
                     "day_type": day_type, "holiday_name": label, "is_provisional": "true"})
        day += dt.timedelta(days=1)
    return rows


def calendar_rows(first: dt.date, last: dt.date, announced_to: int | None = None) -> list[dict[str, str]]:
    """Announced days up to the end of ``announced_to`` (default: chinesecalendar's last year), provisional after."""
    announced_to = last_announced_year() if announced_to is None else announced_to
    announced_last = min(last, dt.date(announced_to, 12, 31))
    rows = announced_rows(first, announced_last) if first <= announced_last else []
    provisional_first = max(first, dt.date(announced_to + 1, 1, 1))
    if provisional_first <= last:
        rows += provisional_rows(provisional_first, last)
    return rows


def announced_rows(first: dt.date, last: dt.date) -> list[dict[str, str]]:
    rows = []
    day = first
    while day <= last:
        is_holiday, name = chinese_calendar.get_holiday_detail(day)
        weekend = day.weekday() >= 5
        if is_holiday and name:
            day_type, label = "holiday", HOLIDAY_NAMES_ZH.get(name, name)
        elif is_holiday:
            day_type, label = "weekend", ""
        elif weekend:
            # a Saturday/Sunday that is a working day is a 调休 adjusted working day; name the holiday it serves
            day_type, label = "adjusted_workday", HOLIDAY_NAMES_ZH.get(name, name or "")
        else:
            day_type, label = "workday", ""
        rows.append({
            "calendar_date": day.isoformat(),
            "is_working_day": "false" if is_holiday else "true",
            "day_type": day_type,
            "holiday_name": label,
            "is_provisional": "false",
        })
        day += dt.timedelta(days=1)
    return rows


def render(rows: list[dict[str, str]]) -> str:
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return buf.getvalue()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--from", dest="first", default=FIRST_DATE.isoformat())
    parser.add_argument("--to", dest="last", default=None,
                        help=f"last date (default: the end of the {PROVISIONAL_YEARS}nd year after the last announced one)")
    parser.add_argument("--out", type=Path, default=SEED_PATH)
    parser.add_argument("--check", action="store_true", help="compare with the existing file instead of writing")
    args = parser.parse_args(argv)
    last = dt.date.fromisoformat(args.last) if args.last else dt.date(last_announced_year() + PROVISIONAL_YEARS, 12, 31)
    text = render(calendar_rows(dt.date.fromisoformat(args.first), last))
    if args.check:
        current = args.out.read_text(encoding="utf-8") if args.out.exists() else ""
        if current != text:
            print(f"{args.out} is stale (chinesecalendar {chinese_calendar.__version__} knows notices up to "
                  f"{last_announced_year()}): rerun without --check", file=sys.stderr)
            return 1
        return 0
    args.out.write_text(text, encoding="utf-8")
    print(f"wrote {args.out} ({text.count(chr(10)) - 1} dates)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
