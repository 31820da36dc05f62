"""Reference data the generator reads: the project's seeds (catalogue, classes, regions, calendar) and
its own layout spec (``tables.yaml``). Nothing here is hand-coded per table."""
from __future__ import annotations

import csv
import functools
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import yaml

SEEDS = Path(__file__).resolve().parents[2] / "dbt" / "seeds"
SPEC_PATH = Path(__file__).with_name("tables.yaml")


def _read_csv(name: str) -> list[dict[str, str]]:
    with (SEEDS / name).open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


@dataclass(frozen=True)
class CatalogueTable:
    table_key: str
    publisher_kind: str   # government | department
    document: str         # budget | final
    book: str
    sequence_no: int
    table_name_zh: str
    applies_to_levels: frozenset[str]
    valid_from_year: int
    valid_to_year: int | None

    def applies(self, level: str, year: int) -> bool:
        return (level in self.applies_to_levels and self.valid_from_year <= year
                and (self.valid_to_year is None or year <= self.valid_to_year))


@functools.cache
def catalogue() -> tuple[CatalogueTable, ...]:
    return tuple(
        CatalogueTable(
            r["table_key"], r["publisher_kind"], r["document"], r["book"], int(r["sequence_no"]),
            r["table_name_zh"], frozenset(r["applies_to_levels"].split("|")), int(r["valid_from_year"]),
            int(r["valid_to_year"]) if r["valid_to_year"] else None,
        )
        for r in _read_csv("ref_disclosure_catalogue.csv")
    )


@functools.cache
def regions() -> dict[str, dict[str, str]]:
    return {r["region_code"]: r for r in _read_csv("ref_regions.csv")}


def _year_keyed(rows, key_fields=("code",)):
    out: dict[tuple, list[dict]] = {}
    for r in rows:
        out.setdefault(tuple(r[k] for k in key_fields), []).append(r)
    return out


def _name_for(rows: list[dict], year: int) -> str | None:
    for r in rows:
        lo = int(r["valid_from_year"] or 0)
        hi = int(r["valid_to_year"]) if r["valid_to_year"] else 9999
        if lo <= year <= hi:
            return r["name"]
    return None


@functools.cache
def _function_rows():
    return _year_keyed(_read_csv("ref_function_classes.csv"))


@functools.cache
def _economic_rows():
    return _year_keyed(_read_csv("ref_economic_classes.csv"), ("scheme", "code"))


@functools.cache
def _revenue_rows():
    return _year_keyed(_read_csv("ref_revenue_classes.csv"))


def class_name(classification: str, code: str, year: int) -> str:
    """Name of a classification code in a fiscal year (names change, e.g. 2019)."""
    if classification == "function":
        rows = _function_rows().get((code,))
    elif classification == "revenue":
        rows = _revenue_rows().get((code,))
    else:  # economic_department | economic_government
        rows = _economic_rows().get((classification.split("_", 1)[1], code))
    name = _name_for(rows or [], year)
    if name is None:
        raise KeyError(f"{classification} code {code} has no name for {year} in the seeds")
    return name


def economic_scheme(year: int) -> str:
    """Government economic classification (501–599) applies to government tables from 2018."""
    return "economic_government" if year >= 2018 else "economic_department"


@functools.cache
def spec() -> dict:
    with SPEC_PATH.open(encoding="utf-8") as fh:
        return yaml.safe_load(fh)


@functools.cache
def non_working_days() -> np.ndarray:
    """Dates that are not working days (weekends, holidays), for numpy business-day arithmetic that also
    honours adjusted working weekends (调休)."""
    rows = _read_csv("ref_working_calendar.csv")
    return np.array([r["calendar_date"] for r in rows if r["is_working_day"] == "false"], dtype="datetime64[D]")


@functools.cache
def business_calendar() -> np.busdaycalendar:
    return np.busdaycalendar(weekmask="1111111", holidays=non_working_days())
