"""Item labels a print cut at a narrow column: which item a cut label is, when only one can be.

Calc and Excel print text too long for its cell up to the rule of the next filled cell and hide the rest
(``pdf_reader._overflow``): a debt 1-2 whose item column is narrow prints ``一、2018年末一般债`` for
``一、2018年末一般债务余额实际数``. The row patterns (``specs/workbook_tables.yaml``) need the item's word (余额, 限额,
发行额 …), so such a row was loaded without an item: the roll-forward and balance ≤ limit rules could not judge the
table, and DEBT_ITEM_MISSING said the publisher left out an item the table prints.

A reader of the print knows the Ministry's template: a cut label that begins exactly one of its items is that item
(``一、2018年末一般债`` can only be the opening balance); one that begins several (``二、2019年一般债务``: its limit,
issuance or repayment) cannot be told, and is left without an item with a note naming its row — never a guess by the
order of the numbering, which bureaus change. The template's wordings are spec data (``item_wordings`` of the kind,
``{year}`` for any year, ``{a|b}`` for alternatives); the item is what the kind's own row patterns read on the label
completed by the wording's rest, so the label's own year still decides (2018年末 opening, 2019年末 closing).
"""
from __future__ import annotations

import itertools
import re

_ALTERNATIVES = re.compile(r"\{([^{}]*\|[^{}]*)\}")
_YEAR_DIGITS = re.compile(r"\d{4}")
YEAR = "{year}"
MIN_CUT = 4  # characters of a cut label past its numbering (a bare '一、20' begins everything)

CUT_NOTE = "项目名称在打印中被截断 (item label cut in the print): "


def expand(wordings) -> tuple[str, ...]:
    """'{year}年末{|地方政府}{一般|专项}债务余额' → every wording it stands for (normalised by the caller)."""
    out = []
    for wording in wordings or ():
        parts = _ALTERNATIVES.split(wording.replace(YEAR, "\0"))  # ({year} inside an alternative: not one itself)
        # split: text, alternatives, text, …
        choices = [p.split("|") if i % 2 else [p] for i, p in enumerate(parts)]
        out.extend("".join(combo).replace("\0", YEAR) for combo in itertools.product(*choices))
    return tuple(dict.fromkeys(out))


def completions(bare: str, wordings: tuple[str, ...]) -> list[str]:
    """The rests of the wordings ``bare`` (numbering taken off, normalised) is a true beginning of."""
    if len(bare) < MIN_CUT:
        return []
    key = _YEAR_DIGITS.sub(YEAR, bare)
    rests = []
    for wording in wordings:
        if len(wording) > len(key) and wording.startswith(key):
            rest = wording[len(key):]
            if YEAR not in rest:
                rests.append(rest)
    return rests
