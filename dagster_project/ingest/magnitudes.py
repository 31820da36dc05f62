"""Which units of ``dbt/seeds/ingest/ref_amount_units.csv`` are a magnitude of 元 (万元 = 10^4 元), so that their stem
alone reads as them (金额（万）, 单位：亿, '0.00"万"' printed beside a figure): a row of the seed worth a power of ten
above one 元 — 人民币元 (1 元) is a currency's name, not a magnitude. A new magnitude is a new row of the seed.

One rule for the text readers' headers (``text_headers``) and the workbooks' number formats (``number_formats``),
kept in a module of its own so the workbook readers do not import the text files' staging code through
``text_headers``: a family's readers version is the import closure of its loader (``readers_version``), and a change to
the CSV staging must not make every budget and debt workbook be read again.
"""
from __future__ import annotations

from decimal import Decimal


def magnitude_stem(label: str, multiplier: Decimal) -> str | None:
    """万 for (万元, 10000); None for a unit that is no magnitude of 元 (元, 人民币元, yuan)."""
    if not label.endswith("元") or len(label) < 2 or multiplier <= 1:
        return None
    if multiplier != Decimal(10) ** multiplier.adjusted():
        return None  # no power of ten: no magnitude
    return label[:-1]
