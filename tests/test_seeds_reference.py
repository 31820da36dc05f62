"""Reference seeds: shape and internal consistency (the dbt tests in dbt/seeds/reference.yml check the same
in the warehouse); the working calendar is exactly what its builder produces from chinesecalendar."""
import csv
import datetime as dt
from collections import Counter
from pathlib import Path

from dagster_project.reference import build_calendar

SEEDS = Path(__file__).resolve().parents[1] / "dbt" / "seeds"


def rows(name):
    with (SEEDS / name).open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def test_regions_are_the_gbt2260_ningxia_list():
    regions = rows("ref_regions.csv")
    assert Counter(r["level"] for r in regions) == {"province": 1, "city": 5, "county": 22}
    codes = {r["region_code"] for r in regions}
    assert len(codes) == len(regions)
    for r in regions:
        assert r["region_code"].startswith("64") and len(r["region_code"]) == 6
        assert not r["region_code"].endswith("01"), "市辖区 codes are not entities"
        if r["level"] != "province":
            assert r["parent_code"] in codes
            assert r["region_code"][:4 if r["level"] == "county" else 2] == r["parent_code"][:4 if r["level"] == "county" else 2]
    for m in rows("ref_region_code_map.csv"):
        assert m["new_code"] in codes and m["old_code"] not in codes


def test_classification_parents_and_year_keys():
    for name, key in (("ref_function_classes.csv", ()), ("ref_revenue_classes.csv", ()),
                      ("ref_economic_classes.csv", ("scheme",))):
        data = rows(name)
        seen = Counter(tuple(r[k] for k in key) + (r["code"], r["valid_from_year"]) for r in data)
        assert max(seen.values()) == 1, name
        codes = {tuple(r[k] for k in key) + (r["code"],) for r in data}
        for r in data:
            level = {3: "1", 5: "2", 7: "3"}[len(r["code"])]
            assert r["level"] == level
            if level != "1":
                assert tuple(r[k] for k in key) + (r["parent_code"],) in codes and r["code"].startswith(r["parent_code"])
        # a renamed code has non-overlapping, gap-free name periods
        by_code = {}
        for r in data:
            by_code.setdefault(tuple(r[k] for k in key) + (r["code"],), []).append(r)
        for versions in by_code.values():
            versions.sort(key=lambda r: int(r["valid_from_year"]))
            for a, b in zip(versions, versions[1:]):
                assert int(a["valid_to_year"]) + 1 == int(b["valid_from_year"])


def test_2019_renames_present():
    f = {(r["code"], r["valid_from_year"]): r["name"] for r in rows("ref_function_classes.csv")}
    assert f[("207", "2015")] == "文化体育与传媒支出" and f[("207", "2019")] == "文化旅游体育与传媒支出"
    assert f[("210", "2015")] == "医疗卫生与计划生育支出" and f[("210", "2019")] == "卫生健康支出"
    assert f[("220", "2015")] == "国土海洋气象等支出" and f[("220", "2019")] == "自然资源海洋气象等支出"
    assert f[("224", "2019")] == "灾害防治及应急管理支出"


def test_calendar_is_complete_and_rebuilds_identically():
    cal = rows("ref_working_calendar.csv")
    dates = [dt.date.fromisoformat(r["calendar_date"]) for r in cal]
    announced = build_calendar.last_announced_year()
    assert dates[0] == dt.date(2015, 1, 1)
    assert dates[-1] == dt.date(announced + build_calendar.PROVISIONAL_YEARS, 12, 31)
    assert len(dates) == (dates[-1] - dates[0]).days + 1
    by = {r["calendar_date"]: r for r in cal}
    assert by["2019-10-01"]["day_type"] == "holiday" and by["2019-10-01"]["holiday_name"] == "国庆节"
    assert by["2019-09-29"]["day_type"] == "adjusted_workday" and by["2019-09-29"]["is_working_day"] == "true"
    assert by["2019-10-05"]["is_working_day"] == "false"
    for y in range(2015, announced + 1):
        year = [r for r in cal if r["calendar_date"].startswith(str(y))]
        kinds = Counter(r["day_type"] for r in year)
        assert kinds["holiday"] >= 20 and kinds["adjusted_workday"] >= 1, y
        assert {r["is_provisional"] for r in year} == {"false"}, y
    assert build_calendar.main(["--check"]) == 0


def test_calendar_past_the_last_notice_is_provisional_weekends_and_statutory_holidays():
    """2027 (no State Council notice in chinesecalendar 1.11.0): every day is there, marked provisional; off are the
    weekends and the days the law fixes — 元旦 01-01, 春节 除夕…初三 by the lunar calendar (2027-02-05…08), 清明 by
    the solar term, 劳动节 05-01/02, 端午/中秋 by the lunar calendar, 国庆 10-01…03 — plus one 补假 make-up day per
    holiday day on a weekend (办法 §6), on the working days right after that holiday, and nothing else (no 调休).
    The count per holiday is derived (中秋 on a 国庆 day — 2028 — is one day named 国庆节)."""
    announced = build_calendar.last_announced_year()
    cal = {r["calendar_date"]: r for r in rows("ref_working_calendar.csv")}
    year = announced + 1
    days = [r for d, r in cal.items() if d.startswith(str(year))]
    assert len(days) in (365, 366) and {r["is_provisional"] for r in days} == {"true"}
    assert not [r for r in days if r["day_type"] == "adjusted_workday"]
    holidays = {r["calendar_date"]: r["holiday_name"] for r in days if r["day_type"] == "holiday"}
    qingming = [d for d, name in build_calendar.chinese_calendar.get_solar_terms(
        dt.date(year, 4, 1), dt.date(year, 4, 10)) if name == "清明"]
    assert holidays[f"{year}-01-01"] == "元旦" and holidays[f"{year}-05-01"] == holidays[f"{year}-05-02"] == "劳动节"
    assert [holidays.get(f"{year}-10-0{d}") for d in (1, 2, 3)] == ["国庆节"] * 3
    assert holidays[qingming[0].isoformat()] == "清明节"
    statutory = build_calendar.statutory_holidays(year)
    law = Counter(statutory.values())
    assert law["元旦"] == 1 and law["清明节"] == 1 and law["端午节"] == 1 and law["春节"] == 4 and law["劳动节"] == 2
    lunar = build_calendar.holidays.China(years=year, observed=False, language="en_US")
    mid_autumn = [d for d in lunar if "Mid-Autumn Festival" in lunar.get_list(d)]
    assert law["国庆节"] == 3 and len(mid_autumn) == 1
    assert law["中秋节"] == (0 if statutory[mid_autumn[0]] == "国庆节" else 1)  # on 国庆: one day, named 国庆节
    # 补假: every weekend day of a holiday owes the next working day after it (none is a weekend or a statutory day)
    owed = Counter(n for d, n in statutory.items() if d.weekday() >= 5)
    make_up = {d: n for d, n in holidays.items() if dt.date.fromisoformat(d) not in statutory}
    assert Counter(make_up.values()) == owed
    for d, name in make_up.items():
        day = dt.date.fromisoformat(d)
        assert day.weekday() < 5 and day > max(s for s, n in statutory.items() if n == name), (d, name)
        gap = [day - dt.timedelta(days=k) for k in range(1, 8)]
        before = next(g for g in gap if g.weekday() < 5 and g not in statutory and g.isoformat() not in make_up)
        assert before < max(s for s, n in statutory.items() if n == name), (d, name)  # no working day skipped
    assert Counter(holidays.values()) == law + owed
    if year == 2027:
        assert [d for d, n in holidays.items() if n == "春节"] == [
            "2027-02-05", "2027-02-06", "2027-02-07", "2027-02-08", "2027-02-09", "2027-02-10"]
        assert sorted(make_up) == ["2027-02-09", "2027-02-10", "2027-05-03", "2027-05-04", "2027-10-04", "2027-10-05"]
    for d, r in cal.items():
        if r["is_provisional"] == "true" and r["day_type"] != "holiday":
            weekend = dt.date.fromisoformat(d).weekday() >= 5
            assert r["is_working_day"] == ("false" if weekend else "true") and r["day_type"] == ("weekend" if weekend else "workday")


def test_provisional_calendar_agrees_with_every_notice_on_the_statutory_days():
    """What the provisional builder takes as the law's days off is a day off in every year a notice fixed (2015 on,
    both versions of the law: 春节 3 days and 劳动节 1 before 2025, 4 and 2 after); and built for an announced year as
    if its notice were not out, it differs from the notice only by the notice's own days (调休, bridging, 补假) — so
    when chinesecalendar gains a year, regenerating replaces the provisional rows and their marks vanish. The 补假
    make-up days are placed as the notices placed them: each is a day off in its year's notice, 2015–2026, but one
    (2015's 中秋 on Sunday 09-27, made up by no day: the notice's own choice before the 国庆 week)."""
    announced = build_calendar.last_announced_year()
    final = {r["calendar_date"]: r for r in rows("ref_working_calendar.csv")}
    for year in range(2015, announced + 1):
        statutory = build_calendar.statutory_holidays(year)
        assert len(statutory) >= 10, year  # 11 days, 中秋 on 国庆 01 in 2020
        for day, name in statutory.items():
            r = final[day.isoformat()]
            assert r["is_working_day"] == "false" and r["day_type"] == "holiday", (day, name)
    made_up_by_notice = {}
    for year in range(2015, announced + 1):
        for day, name in build_calendar.make_up_days(build_calendar.statutory_holidays(year)).items():
            made_up_by_notice[(day.isoformat(), name)] = final[day.isoformat()]["is_working_day"] == "false"
    assert [k for k, off in made_up_by_notice.items() if not off] == [("2015-09-28", "中秋节")]
    first, last = dt.date(announced, 1, 1), dt.date(announced, 12, 31)
    as_if = build_calendar.calendar_rows(first, last, announced_to=announced - 1)
    assert {r["is_provisional"] for r in as_if} == {"true"}
    for r in as_if:
        f = final[r["calendar_date"]]
        if r["is_working_day"] != f["is_working_day"]:
            assert f["day_type"] in ("adjusted_workday", "holiday") and r["day_type"] in ("workday", "weekend"), r
    regenerated = build_calendar.calendar_rows(first, last)
    assert regenerated == [final[r["calendar_date"]] for r in regenerated]
    assert {r["is_provisional"] for r in regenerated} == {"false"}
