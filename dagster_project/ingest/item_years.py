"""The year a debt item's label names — one definition for the row patterns (which item) and for an executed/budget
pair (which figure): the contract says "the year inside an item label says which year it is", in words as in digits.

* ``2019年…`` / ``二〇一九年…``: that year;
* ``上年`` / ``上年末``: the table's fiscal year − 1 (its end: the end of last year); ``本年`` / ``本年末`` / ``当年`` /
  ``本年度``: the fiscal year. For a budget table of 2020, 上年末 is 2019年末 (the closing balance of the Ministry's
  two-year layout, as its digits say); for a final table of 2019, 2018年末 (the opening balance).
* bare ``年初`` / ``年末`` name no year: the row patterns read them as the roll-forward's ends (as before).

The label's own head decides: a year named inside brackets (``本年一般债务限额（比上年增加500）``) is a remark about
another year, not the item's.
"""
from __future__ import annotations

import re

from dagster_project.ingest.parsed import _YEAR, nfkc
from dagster_project.ingest.parsed import year_of

_BRACKETED = re.compile(r"\([^()]*\)|\[[^\[\]]*\]|【[^【】]*】")
# word → offset from the fiscal year; longest first so 本年度 is not read as 本年 + 度 (same year anyway)
_WORDS = (("上年度", -1), ("上年", -1), ("本年度", 0), ("本年", 0), ("当年", 0))
_WORD = re.compile("|".join(w for w, _ in _WORDS))
_OFFSET = dict(_WORDS)


def head(label: str) -> str:
    """The label without its bracketed remarks (NFKC: full-width brackets are half-width)."""
    text = nfkc(label or "")
    while (stripped := _BRACKETED.sub("", text)) != text:
        text = stripped
    return text


def label_year(label: str | None, fiscal_year: int | None) -> int | None:
    """The year the label's head names first, digits or words; None when it names none (or words need an unknown
    fiscal year)."""
    text = head(label or "")
    digits, word = _YEAR.search(text), _WORD.search(text) if fiscal_year else None
    if digits and (word is None or digits.start() < word.start()):
        return year_of(digits)
    return fiscal_year + _OFFSET[word.group(0)] if word else None


def with_digit_years(norm: str, fiscal_year: int | None) -> str:
    """A normalised label with the year words of its head written as digits (上年末 → 2019年末 in 2020's table), so the
    row patterns read it as the same label naming its year; bracketed remarks are left as they are."""
    if not fiscal_year or not _WORD.search(norm):
        return norm
    out, last = [], 0
    for m in _BRACKETED.finditer(norm):
        out.append(_WORD.sub(lambda w: f"{fiscal_year + _OFFSET[w.group(0)]}年", norm[last:m.start()]))
        out.append(m.group(0))
        last = m.end()
    out.append(_WORD.sub(lambda w: f"{fiscal_year + _OFFSET[w.group(0)]}年", norm[last:]))
    return "".join(out)
