"""Header labels and amount units of the text families: the compare form of a printed header, the unit an
amount header carries (``中标金额(万元)``) and the SQL mapping a unit cell to 元. Split out of ``textfiles`` (which
re-exports these names) to keep that module small; the units are rows of ``dbt/seeds/ingest/ref_amount_units.csv``."""
from __future__ import annotations

import csv
import re
import unicodedata
from decimal import Decimal
from functools import lru_cache

from dagster_project import paths
from dagster_project.ingest.magnitudes import magnitude_stem
from dagster_project.ingest.text_staging import sql_literal

AMOUNT_UNITS_SEED = paths.DBT_SEEDS_DIR / "ingest" / "ref_amount_units.csv"
# The currency written before a unit (单位：人民币万元, 中标金额（人民币万元）) names no unit of its own: dropped, so every
# unit of the seed reads with it too
CURRENCY_PREFIX = "人民币"


def normalise_label(text: str) -> str:
    """Compare-form of a header or alias: NFKC (full-width → half-width), no spaces, lower case."""
    text = unicodedata.normalize("NFKC", text or "")
    text = re.sub(r"[\s\u200b\ufeff]+", "", text)
    return text.lower()


@lru_cache(maxsize=1)
def amount_units() -> dict[str, Decimal]:
    """Unit label (normalised) → 元 per unit, from ``dbt/seeds/ingest/ref_amount_units.csv``."""
    with AMOUNT_UNITS_SEED.open(encoding="utf-8") as handle:
        units = {
            normalise_label(row["unit_label"]): Decimal(row["multiplier_yuan"])
            for row in csv.DictReader(handle)
        }
    # a magnitude written without 元 (金额（万）, 单位：亿, a unit cell 万) is that many 元: in an amount's header or unit
    # cell 万 can mean nothing else; only the seed's units whose stem is a magnitude read so (人民币 alone is no unit)
    stems = {stem: mult for label, mult in units.items() if (stem := magnitude_stem(label, mult))}
    return {**stems, **units}


def normalise_unit(text: str) -> str:
    """'金额单位：万元' / '(万元)' / '单位:万元' → '万元' (normalised)."""
    norm = normalise_label(text)
    norm = re.sub(r"^(金额)?单位[:]?", "", norm)
    return norm.strip("()[]").removeprefix(CURRENCY_PREFIX)


def split_header_unit(header: str) -> tuple[str, str | None, Decimal | None]:
    """Split a printed header into (normalised base label, unit label, multiplier).

    ``中标金额(万元)`` / ``预算金额（万元）`` / ``BID_AMOUNT[万元]`` / ``中标金额(单位:万元)`` / ``中标金额(人民币万元)`` carry their unit.
    """
    norm = normalise_label(header)
    match = re.fullmatch(rf"(.+?)[(\[](?:金额)?(?:单位[:]?)?(?:{CURRENCY_PREFIX})?([^()\[\]]+)[)\]]", norm)
    if match:
        units = amount_units()
        unit = match.group(2)
        if unit in units:
            return match.group(1), unit, units[unit]
    return norm, None, None


def unit_case_sql(value_sql: str) -> str:
    """SQL CASE mapping a unit cell to its multiplier (NULL: unknown unit)."""
    norm = (
        f"lower(regexp_replace(regexp_replace(regexp_replace({value_sql}, '\\s', '', 'g'), "
        f"'[()（）\\[\\]]', '', 'g'), '^((金额)?单位[:：]?)?({CURRENCY_PREFIX})?', ''))"
    )
    whens = " ".join(
        f"WHEN {sql_literal(label)} THEN CAST({mult} AS DECIMAL(20, 4))"
        for label, mult in amount_units().items()
    )
    return f"(CASE {norm} {whens} END)"
