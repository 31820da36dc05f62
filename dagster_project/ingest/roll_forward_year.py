"""Which year's roll-forward a debt 1-2 / 1-3 shows — the year its balance words are relative to.

The Ministry's 1-2 of budget year Y rolls Y−1 forward (``2018年末余额 + 2019年发行 − 2019年还本 = 2019年末余额``):
there ``上年末`` (Y−1年末) is the closing balance. A table worded on its own year
(``上年末余额 / 本年限额 / 本年发行 / 本年还本 / 年末余额``) rolls Y forward: its ``上年末`` is the opening balance. Which one
a table is, the table says: the year its issuance and repayment rows name (digits or words, ``item_years.label_year``).
The row patterns are written for the Ministry's frame of a budget table (year shift 0: roll-forward Y−1; shift 1, a
final table's frame: roll-forward Y), so the roll-forward year R picks the pattern set of shift R − Y + 1.

* one year R named: the pattern set of R (``上年末`` / ``{R-1}年末`` the opening, ``年末`` / ``{R}年末`` the closing);
* none named (``发行额`` without a year): today's reading (the pattern set naming the most items), and where a balance
  label names no year in digits the sheet's note says its reading is not told by the table;
* two different years named: the one both of whose ends the balance rows name (``{R-1}年末`` / ``上年末`` and
  ``{R}年末`` / ``本年末``) is the roll-forward, when only one year has both — the Ministry's 1-2 of 2020 that also lists
  2020's planned issuance (``七、2020年一般债务发行额``) shows 2018年末 + 2019年发行 − 2019年还本 = 2019年末, as its balance
  labels say; the other year's issuance / repayment rows (and their 其中 rows) are then no item of the roll-forward,
  noted by name (before, both years' rows were read as ``issued`` / ``repaid`` and the balances got no item);
* two years and the balances naming neither more: the balances get no item (which end a balance is cannot be told) and
  the note names the rows — never a guess;
* a year R the patterns do not frame (R < Y − 1 or R > Y): as none named, noted.
"""
from __future__ import annotations

import re

from dagster_project.ingest.item_years import head, label_year

_DIGITS = re.compile(r"\d{4}")
_BALANCE = "余额"


def balance_ends(labelled: list[tuple[str, str]], fiscal_year: int) -> set[int]:
    """The year-ends the balance rows name (``2018年末…余额`` → 2018; ``上年末…余额`` in 2020's table → 2019)."""
    return {year for _, label in labelled
            if _BALANCE in head(label) and (year := label_year(label, fiscal_year)) is not None}


def _told_by_balances(years: dict[int, list[str]], ends: set[int]) -> int | None:
    """The one roll-forward year both of whose ends (its opening and its closing) the balance rows name; None when no
    year or several have both (one end named — 上年末 beside a bare 年末 — tells no roll-forward: 年末 may be either)."""
    told = [year for year in years if {year - 1, year} <= ends]
    return told[0] if len(told) == 1 else None


def roll_forward_years(labelled: list[tuple[str, str]], rows: re.Pattern, fiscal_year: int) -> dict[int, list[str]]:
    """{year: the rows naming it} over the issuance / repayment rows (``where``, label) that name a year."""
    years: dict[int, list[str]] = {}
    for where, label in labelled:
        if rows.search(head(label)) and (year := label_year(label, fiscal_year)) is not None:
            years.setdefault(year, []).append(f"{where}「{label.strip()}」")
    return years


def pattern_set(spec, shift: int):
    """The spec's row patterns compiled with year shift ``shift`` (None when not compiled)."""
    if shift == spec.pattern_shift:
        return spec.row_patterns
    others = [s for s in (0, 1) if s != spec.pattern_shift]
    if shift in others and len(spec.alternative_row_patterns) == len(others):
        return spec.alternative_row_patterns[others.index(shift)]
    return None


class RollForward:
    """The roll-forward year of one sheet and what follows from it for the row keys."""

    def __init__(self, spec, labelled: list[tuple[str, str]], fiscal_year: int):
        self.spec = spec
        self.years = roll_forward_years(labelled, spec.roll_forward_rows, fiscal_year)
        self.fiscal_year = fiscal_year
        self.notes: list[str] = []
        self.undecided: list[str] = []  # balances of a table naming two roll-forward years
        self.worded: list[str] = []  # balances in words where no issuance / repayment row names a year
        self.patterns = None  # the pattern set R decides (None: today's choice)
        self.conflict = len(self.years) > 1
        self.outside: dict[int, list[str]] = {}  # rows of a year the balances do not roll forward: no item
        self.outside_rows: list[str] = []
        self._in_outside = False
        if self.conflict and (told := _told_by_balances(self.years, balance_ends(labelled, fiscal_year))) is not None:
            self.outside = {y: rows for y, rows in self.years.items() if y != told}
            self.years = {told: self.years[told]}
            self.conflict = False
        if len(self.years) == 1:
            (year,) = self.years
            self.patterns = pattern_set(spec, year - fiscal_year + 1)
            if self.patterns is None:
                self.notes.append(
                    f"发行/还本行所列年度{year}不在本表年度{fiscal_year}的结转范围内，余额按通常读法 (the issuance/repayment "
                    f"rows name {year}, a roll-forward the {fiscal_year} table's items are not framed on: balances read "
                    f"as usual): " + "、".join(self.years[year]))
        elif self.conflict:
            named = "；".join(f"{y}年: " + "、".join(rows) for y, rows in sorted(self.years.items()))
            self.notes.append(f"发行/还本行列出不同年度，年初/年末余额不认定项目 (the issuance/repayment rows name "
                              f"different years: the balances are read as no item): {named}")

    def keeps(self, key: str, named: str, norm: str, within: bool = False) -> bool:
        """Whether a row read as ``key`` keeps that item (``within``: a 其中 row of the item above it); a balance resting
        on the roll-forward's year is noted, an issuance / repayment of another year than the roll-forward's is not
        kept, nor are its 其中 rows."""
        if self.outside:
            if not within:
                self._in_outside = bool(self.spec.roll_forward_rows.search(head(norm))) and \
                    label_year(norm, self.fiscal_year) in self.outside
            if self._in_outside:
                self.outside_rows.append(named)
                return False
        if key not in self.spec.roll_forward_balances:
            return True
        if self.conflict:
            self.undecided.append(named)
            return False
        if not self.years and not _DIGITS.search(head(norm)):
            self.worded.append(named)  # 上年末 / 年末 read without the table telling its roll-forward's year
        return True

    def close(self) -> None:
        """The sheet's notes, once its rows are read."""
        if self.outside_rows:
            (year,) = self.years
            self.notes.append(
                f"余额行所示为{year}年的结转，其他年度的发行/还本行不认定项目 (the balance rows roll {year} forward: the "
                f"issuance/repayment rows of another year are read as no item): " + "、".join(dict.fromkeys(self.outside_rows)))
        if self.undecided:
            self.notes.append("未认定项目的余额行 (balance rows read as no item): " + "、".join(dict.fromkeys(self.undecided)))
        if self.worded:
            self.notes.append("发行/还本行未注明年度，上年末/年末余额按通常读法 (no issuance/repayment row names its year: "
                              "the balances are read as usual, not told by the table): "
                              + "、".join(dict.fromkeys(self.worded)))
