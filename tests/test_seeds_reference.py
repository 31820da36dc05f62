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
    assert dates[0] == dt.date(2015, 1, 1) and dates[-1] == dt.date(2026, 12, 31)
    assert len(dates) == (dates[-1] - dates[0]).days + 1
    by = {r["calendar_date"]: r for r in cal}
    assert by["2019-10-01"]["day_type"] == "holiday" and by["2019-10-01"]["holiday_name"] == "国庆节"
    assert by["2019-09-29"]["day_type"] == "adjusted_workday" and by["2019-09-29"]["is_working_day"] == "true"
    assert by["2019-10-05"]["is_working_day"] == "false"
    for y in range(2015, 2027):
        kinds = Counter(r["day_type"] for r in cal if r["calendar_date"].startswith(str(y)))
        assert kinds["holiday"] >= 20 and kinds["adjusted_workday"] >= 1, y
    assert build_calendar.main(["--check"]) == 0
