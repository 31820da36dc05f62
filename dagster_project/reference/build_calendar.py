"""Build ``dbt/seeds/ref_working_calendar.csv`` (工作日历 working-day calendar) from ``chinesecalendar``.

One row per date from 2015-01-01 to 2026-12-31: whether it is a working day and why, per the State
Council's yearly holiday notices (法定节假日 and 调休 adjusted working weekends) as packaged by
``chinesecalendar`` (which covers up to 2026).

Regenerate (deterministic; rerun when chinesecalendar gains a new year, and widen ``--to``):

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

SEED_PATH = Path(__file__).resolve().parents[2] / "dbt" / "seeds" / "ref_working_calendar.csv"
COLUMNS = ["calendar_date", "is_working_day", "day_type", "holiday_name"]

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


def calendar_rows(first: dt.date, last: dt.date) -> list[dict[str, str]]:
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
    parser.add_argument("--from", dest="first", default="2015-01-01")
    parser.add_argument("--to", dest="last", default="2026-12-31")
    parser.add_argument("--out", type=Path, default=SEED_PATH)
    parser.add_argument("--check", action="store_true", help="compare with the existing file instead of writing")
    args = parser.parse_args(argv)
    text = render(calendar_rows(dt.date.fromisoformat(args.first), dt.date.fromisoformat(args.last)))
    if args.check:
        current = args.out.read_text(encoding="utf-8") if args.out.exists() else ""
        if current != text:
            print(f"{args.out} is stale: rerun without --check", file=sys.stderr)
            return 1
        return 0
    args.out.write_text(text, encoding="utf-8")
    print(f"wrote {args.out} ({text.count(chr(10)) - 1} dates)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
