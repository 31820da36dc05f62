"""What counts as a personal number, in any written form: the ONE definition gongkai uses.

Masking of every published extract, the release's privacy gate, the OCDS build, the quality report,
findings.csv/.xlsx, the dashboards and dbt's privacy findings (PRIV_*) all ask this module. It exists
in two executable forms that are the same algorithm step for step:

- Python (``find``, ``mask``): for text that passes through Python (reports, small JSON, HTML);
- SQL (``hits_sql``, ``mask_sql``, ``prefilter_sql``): DuckDB expressions for data that never leaves
  DuckDB (releases, OCDS, the privacy scan of written files); ``dbt/macros/personal_numbers.sql`` is
  generated from them (``python -m dagster_project.personal_numbers --write-dbt-macros``).
  ``tests/test_personal_numbers.py`` holds both forms to one corpus and the macro file to this module,
  so they cannot drift.

How a number is found (people write ``138 0013 8000``, ``+86-138-0013-8000``, ``１３８００１３８０００``,
``110101 19900307 123X``, ``6222 0212 3456 7890 123``):

1. Normalise, one character for one character (positions are kept): every decimal digit whose NFKC
   form is an ASCII digit (full-width ``０-９``, mathematical digits …) becomes that digit, ``Ｘ``/``ｘ`` X/x;
   every space (any Unicode space separator, tab, no-break and zero-width spaces) a space, every
   hyphen or dash a ``-``, a full-width dot a ``.``.
2. Chains: runs of digits joined by one to two spaces, a hyphen with at most a space either side,
   or a dot followed by at least three digits; an ID's check character X may end a chain. A chain
   is never part of a longer digit run, and one that ends in a decimal fraction of one or two digits
   (``13800138000.00``) is an amount.
3. Candidates: every run of consecutive groups of a chain (``0951-5012345 13800138000`` holds the
   candidate ``13800138000``), at most 19 digits. A candidate is
   - an **ID number** (GB 11643): 17 digits + check digit/X, a known province, a real birth date,
     the ISO 7064 MOD 11-2 check — in any grouping; in free text (the default: names, notices, findings,
     reports) also one whose check character is wrong (a typo), when it is not inside a code and its
     province is known, its region non-zero and its birth date real and not after today
     (``identifiers.id_number_is_plausible``): its first 17 digits identify the person. Codes and keys
     (``checked_ids_only``: ``masking.mask_identifier_sql``, the privacy scan's identifier cells) keep
     requiring the check, since a project code can be region + date + sequence;
   - a **mobile**: ``1[3-9]`` + 9 digits, optionally after ``86`` / ``0086`` (``+86``: the ``+`` is
     not a digit);
   - a **bank card**: 16–19 digits passing Luhn that are neither a valid ID nor a valid unified
     social credit code;
   and mobiles and cards are written solid, one digit by one, or grouped as people group them
   (mobiles 3-4-4, 3-8, 4-7, 7-4, 4-4-3; cards in fours, or 6 + the rest), and are not inside a code
   (an ASCII letter touching the digits on both sides: a hex hash, a run id): dates (``2018-06-04``),
   amounts with spaces (``14 700 000 000``) and codes do not combine into a number.
4. Masks keep the shape: ID and card first 6 + last 4, mobile (after its prefix) first 3 + last 4;
   hidden digits become ``*`` and every other character stays as written (``１３８００１３８０００`` is
   published as ``１３８****８０００``); the hits are replaced in the normalised text longest first, and
   the hidden positions carried back into the text (normalising keeps positions).

Look-alikes stay untouched: amounts (``189,767,551``, ``23131000.00``), dates and times, 18-character
credit codes (``91640100MA76XXXX3T``, ``916403007668852605``), project codes (``P18640100-0001``),
office phones with area codes (``0951-5012345``).
"""
from __future__ import annotations

import argparse
import re
import sys
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from dagster_project import identifiers

KINDS = ("id_number", "mobile", "bank_card")
MAX_DIGITS = 19  # the longest personal number (a bank card)

# --------------------------------------------------------------------------------- characters

_SPACES = (
    "\t\u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u202f\u205f\u3000"
    "\u200b\u200c\u200d\u2060\ufeff\u00ad"  # zero-width and soft hyphen: invisible, so they separate
)
_HYPHENS = "\u2010\u2011\u2012\u2013\u2014\u2015\u2043\u2212\ufe58\ufe63\uff0d"
_DOTS = "\uff0e"


@lru_cache(maxsize=1)
def _translation() -> tuple[str, str]:
    """(from, to) characters of the one-for-one normalisation (no ASCII character is mapped)."""
    src, dst = [], []
    for cp in range(0x80, 0x110000):
        ch = chr(cp)
        if unicodedata.category(ch) == "Nd":
            nfkc = unicodedata.normalize("NFKC", ch)
            if len(nfkc) == 1 and nfkc in "0123456789":
                src.append(ch)
                dst.append(nfkc)
    for ch, to in (("\uff38", "X"), ("\uff58", "x")):
        src.append(ch)
        dst.append(to)
    for chars, to in ((_SPACES, " "), (_HYPHENS, "-"), (_DOTS, ".")):
        for ch in chars:
            src.append(ch)
            dst.append(to)
    return "".join(src), "".join(dst)


@lru_cache(maxsize=1)
def _table() -> dict[int, str]:
    src, dst = _translation()
    return {ord(a): b for a, b in zip(src, dst)}


def normalise(text: str) -> str:
    """One character for one character: digits to ASCII, spaces to ' ', dashes to '-', dots to '.'."""
    return text.translate(_table())


# --------------------------------------------------------------------------------- patterns (RE2 and re)

# A chain of digit groups (see the module docstring); the same text is used by Python and DuckDB.
CHAIN_PATTERN = r"[0-9]+(?:(?: {1,2}| ?- ?)[0-9]+|\.[0-9]{3,})*(?:[Xx]|\.[0-9]{1,2})?"
# A chain with the ASCII letter that touches it on either side (when there is one): a chain with a letter on both
# sides is inside a code (a hex hash, a run id ``…T161626-62788d``), so it is no mobile or card (an ID number,
# checked by its birth date and check character, counts even there).
CHAIN_IN_CONTEXT_PATTERN = "([A-Za-z]?)(" + CHAIN_PATTERN + ")([A-Za-z]?)"
# How people group the digits of a mobile (besides solid and one by one) and of a card (fours, or 6 + the rest).
MOBILE_GROUPINGS = ((3, 4, 4), (3, 8), (4, 7), (7, 4), (4, 4, 3))
# A chain ending in a decimal fraction (``13800138000.00``) is an amount, whatever its digits.
AMOUNT_TAIL_PATTERN = r"\.[0-9]{1,2}$"
# A chain shorter than a card can only hold a mobile, which starts a group with 1[3-9] (86 / 0086 before):
# the other chains of that length (dates, office phones, codes) are not looked into.
MOBILE_START_PATTERN = r"(?:^|[ .-])(?:0086|86)?1[ .-]{0,2}[3-9]"
# The groups and the separators of a chain, in order (groups at odd 1-based positions).
TOKEN_PATTERN = r"[0-9]+[Xx]?|[ .-]+"
_CHAIN = re.compile(CHAIN_PATTERN)
_CHAIN_IN_CONTEXT = re.compile(CHAIN_IN_CONTEXT_PATTERN)
_TOKEN = re.compile(TOKEN_PATTERN)
_MOBILE_START = re.compile(MOBILE_START_PATTERN)
_AMOUNT_TAIL = re.compile(AMOUNT_TAIL_PATTERN)
_MOBILE = re.compile(r"(?:0086|86)?1[3-9][0-9]{9}")
_CARD = re.compile(r"[0-9]{16,19}")
_ID_SHAPE = re.compile(r"[0-9]{17}[0-9X]")


def _prefilter_pattern() -> str:
    """A cheap superset test on the raw text: eleven digits (any script) with separators between."""
    src, dst = _translation()
    digits = "0-9" + "".join(a for a, b in zip(src, dst) if b.isdigit())
    seps = " .\\-" + "".join(a for a, b in zip(src, dst) if not b.isdigit() and b not in "Xx")
    return f"[{digits}](?:[{seps}]{{0,3}}[{digits}]){{10}}"


_PREFILTER = re.compile(_prefilter_pattern())


def _script_digits(wanted: str) -> str:
    """A character class body of the ASCII digits ``wanted`` and every character normalising to one of them."""
    src, dst = _translation()
    return wanted + "".join(a for a, b in zip(src, dst) if b in wanted)


# The ASCII digits an ID number (GB 11643) can hold at each of its first 17 positions: a province 1x-8x,
# then the county, then a birth date 1900-01-01 … 2100-12-31 (century 19/20/21, month 0x/1x, day 0x-3x),
# then the sequence. A superset (``identifiers.id_number_is_valid`` decides); used by ``candidate_pattern``.
_ID_DIGITS = ("12345678", *["0123456789"] * 5, "12", "019", "0123456789", "0123456789", "01", "0123456789",
              "0123", *["0123456789"] * 4)


@lru_cache(maxsize=None)
def candidate_pattern(kinds: tuple[str, ...] = KINDS) -> str:
    """A tighter superset test than ``_prefilter_pattern``, for texts that pass it by the thousand without
    holding a number (keys such as ``2019-0000035``, OCDS lines full of them): a text with a hit of ``kinds``
    holds, in the raw text, a candidate of at least 16 digits (ID numbers: 17 + check, cards: 16-19) or,
    for mobiles, ``1`` then ``3``-``9`` then nine more digits (the mobile, its ``86`` / ``0086`` before it or
    not), separators of the prefilter (at most three) between digits. A chain's separators are at most
    three characters and normalising maps one character to one, so every hit matches it.

    For ID numbers alone (the gate of code and key columns) each of the 17 digits must be one an ID
    number can hold there (``_ID_DIGITS``: a province, a birth date from 1900 to 2100) and the check
    character must follow: a digit after a gap, or an X touching them (a chain ends in X only right after
    a digit). Unified social credit codes (``12640104724412959H``, ``126401061117436248``: positions 7-8
    are their region's county digits, 18 a letter for two in three), which fill publisher, buyer and
    supplier columns by the million, then skip the full test (measured at 1 M trading rows: masking one
    such column of 5.6 M rows took 73 s behind the 17-digit gate, 0.1 s behind this one). Free text's ID numbers
    with a wrong check character (``classify``) are 18 digits: the 16-digit alternative lets them through."""
    src, dst = _translation()
    digits = _script_digits("0123456789")
    seps = " .\\-" + "".join(a for a, b in zip(src, dst) if not b.isdigit() and b not in "Xx")
    gap = f"[{seps}]{{0,3}}"
    alternatives = []
    if "bank_card" in kinds:  # 16 digits in a card; 17 before an ID's check character include them
        alternatives.append(f"[{digits}](?:{gap}[{digits}]){{15}}")
    elif "id_number" in kinds:  # 17 digits, each where GB 11643 allows it, and the check character
        check_x = "Xx" + "".join(a for a, b in zip(src, dst) if b in "Xx")
        alternatives.append(gap.join(f"[{_script_digits(wanted)}]" for wanted in _ID_DIGITS)
                            + f"(?:{gap}[{digits}]|[{check_x}])")
    if "mobile" in kinds:
        alternatives.append(f"[{_script_digits('1')}]{gap}[{_script_digits('3456789')}](?:{gap}[{digits}]){{9}}")
    if not alternatives:
        raise ValueError(f"no kind of personal number in {kinds}")
    return "|".join(alternatives)


def candidate_filter_sql(text: str, kinds: tuple[str, ...] = KINDS) -> str:
    """True when ``text`` may hold a personal number of ``kinds`` (``candidate_pattern``; a superset of
    ``hits_sql`` / ``mask_sql`` finding one, far rarer than ``prefilter_sql`` on keys and dates)."""
    return f"coalesce(regexp_matches({text}, {_q(candidate_pattern(tuple(kinds)))}), false)"


# --------------------------------------------------------------------------------- Python form

@dataclass(frozen=True)
class Hit:
    kind: str  # id_number | mobile | bank_card
    span: str  # the number as written in the normalised text (separators included)
    masked: str  # the span with hidden digits as '*'

    @property
    def rule_id(self) -> str:
        return RULE_IDS[self.kind]


RULE_IDS = {"id_number": "PRIV_ID_NUMBER", "mobile": "PRIV_MOBILE", "bank_card": "PRIV_BANK_CARD"}


def _one_by_one(lengths: list[int]) -> bool:
    return len(lengths) > 1 and all(n == 1 for n in lengths)


def _mobile_grouping(lengths: list[int]) -> bool:
    return len(lengths) == 1 or tuple(lengths) in MOBILE_GROUPINGS or _one_by_one(lengths)


def _card_grouping(lengths: list[int]) -> bool:
    fours = len(lengths) > 1 and all(n == 4 for n in lengths[:-1]) and 1 <= lengths[-1] <= 4
    return len(lengths) == 1 or fours or (len(lengths) == 2 and lengths[0] == 6) or _one_by_one(lengths)


def classify(digits: str, group_lengths: list[int], embedded: bool = False,
             checked_ids_only: bool = False) -> str | None:
    """The kind of personal number ``digits`` (separators removed) is, written in groups of these lengths;
    ``embedded``: the chain has an ASCII letter on both sides (inside a code); ``checked_ids_only``: a code or
    key, where an ID number needs its check character (in free text a typed one with a wrong check counts)."""
    d = digits.upper()
    if len(d) == 18 and _ID_SHAPE.fullmatch(d):
        if identifiers.id_number_is_valid(d):
            return "id_number"
        # a wrong check character is a typo of an ID number in free text, not inside a code (a weaker signal:
        # like mobiles and cards, not between letters)
        if not checked_ids_only and not embedded and identifiers.id_number_is_plausible(d):
            return "id_number"
    if not d.isdigit() or embedded:
        return None
    if _MOBILE.fullmatch(d) and _mobile_grouping(group_lengths):
        return "mobile"
    if _CARD.fullmatch(d) and _card_grouping(group_lengths) and identifiers.luhn_is_valid(d) \
            and not (len(d) == 18 and identifiers.uscc_is_valid(d)):
        return "bank_card"
    return None


def _kept(kind: str, n_digits: int) -> tuple[int, int]:
    """(leading, trailing) digits a mask keeps."""
    if kind == "mobile":
        return n_digits - 11 + 3, 4
    return 6, 4


def mask_span(span: str, kind: str) -> str:
    n = sum(1 for ch in span if ch in "0123456789Xx")
    head, tail = _kept(kind, n)
    out, index = [], 0
    for ch in span:
        if ch in "0123456789Xx":
            index += 1
            out.append(ch if index <= head or index > n - tail else "*")
        else:
            out.append(ch)
    return "".join(out)


def _candidates(tokens: list[str]) -> list[tuple[str, str, list[int]]]:
    """(span, digits, group lengths) of every run of consecutive groups; a run ending in X also
    without it (``13800138000x``: the x is not part of the mobile)."""
    groups = tokens[0::2]
    out = []
    for i in range(len(groups)):
        for j in range(i, min(len(groups), i + MAX_DIGITS)):
            span = "".join(tokens[2 * i: 2 * j + 1])
            digits = "".join(groups[i: j + 1]).upper()
            lens = [len(g) for g in groups[i: j + 1]]
            out.append((span, digits, lens))
            if digits.endswith("X"):
                out.append((span[:-1], digits[:-1], lens[:-1] + [lens[-1] - 1]))
    return out


def _chain_hits(chain: str, embedded: bool = False, checked_ids_only: bool = False) -> list[Hit]:
    hits = []
    for span, digits, lens in _candidates(_TOKEN.findall(chain)):
        if len(digits) not in NUMBER_LENGTHS:
            continue
        kind = classify(digits, lens, embedded, checked_ids_only)
        if kind:
            hits.append(Hit(kind, span, mask_span(span, kind)))
    return hits


def find(text: str | None, checked_ids_only: bool = False) -> list[Hit]:
    """Every personal number in ``text`` (duplicates of one span once), in order of appearance; free text unless
    ``checked_ids_only`` (a code or key: an ID number needs its check character there)."""
    if not text or not _PREFILTER.search(text):
        return []
    seen: dict[tuple[str, str], Hit] = {}
    for left, chain, right in _CHAIN_IN_CONTEXT.findall(normalise(text)):
        n_digits = sum(ch in "0123456789Xx" for ch in chain)
        if n_digits < min(NUMBER_LENGTHS) or (n_digits < 16 and not _MOBILE_START.search(chain)) \
                or _AMOUNT_TAIL.search(chain):
            continue
        for hit in _chain_hits(chain, embedded=bool(left and right), checked_ids_only=checked_ids_only):
            seen.setdefault((hit.kind, hit.span), hit)
    return list(seen.values())


@lru_cache(maxsize=1 << 16)  # reports mask the same rule ids, publishers, years on thousands of rows
def mask(text: str | None) -> str | None:
    """``text`` with every personal number masked: its hidden digits become ``*``, every other character
    (kept digits as written, full-width or not; separators; the rest of the text) stays as it was."""
    hits = find(text)
    if not hits:
        return text
    normalised = normalise(text)
    out = normalised
    for hit in sorted(hits, key=lambda h: (-len(h.span), h.span, h.masked)):
        out = out.replace(hit.span, hit.masked)  # one character for one: positions stay
    return "".join("*" if m == "*" and n != "*" else t for t, n, m in zip(text, normalised, out))


def mask_value(value):
    """``mask`` for a cell of any type: only strings can hold personal numbers."""
    return mask(value) if isinstance(value, str) else value


# --------------------------------------------------------------------------------- SQL form (DuckDB)

def _q(s: str) -> str:
    return "'" + s.replace("'", "''") + "'"


def _id_valid_sql(d: str) -> str:
    provinces = ", ".join(_q(p) for p in sorted(identifiers._ID_PROVINCES))
    weights = ", ".join(str(w) for w in identifiers._ID_WEIGHTS)
    return (
        f"(length({d}) = 18 AND regexp_full_match({d}, '[0-9]{{17}}[0-9X]') AND substr({d}, 1, 2) IN ({provinces}) "
        f"AND substr({d}, 3, 4) <> '0000' "
        f"AND coalesce(try_strptime(substr({d}, 7, 8), '%Y%m%d') BETWEEN TIMESTAMP '1900-01-01' AND TIMESTAMP '2100-12-31', false) "
        f"AND substr({_q(identifiers._ID_CHECK)}, CAST(list_sum(list_transform([{weights}], "
        f"lambda w, k: coalesce(try_cast(substr({d}, k, 1) AS INTEGER), 0) * w)) % 11 AS INTEGER) + 1, 1) = substr({d}, 18, 1))"
    )


def _id_plausible_sql(d: str) -> str:
    """``identifiers.id_number_is_plausible`` (the check character not tested; ``d`` already has an ID's shape)."""
    provinces = ", ".join(_q(p) for p in sorted(identifiers._ID_PROVINCES))
    return (
        f"(substr({d}, 1, 2) IN ({provinces}) AND substr({d}, 3, 4) <> '0000' "
        f"AND coalesce(try_strptime(substr({d}, 7, 8), '%Y%m%d') BETWEEN TIMESTAMP '1900-01-01' AND current_date, false))"
    )


def checked_id_sql(span: str) -> str:
    """SQL true when the hit ``span`` (as written: separators, any case) is an ID number with a right check
    character: the hits of ``hits_sql`` that count in codes and keys (``checked_ids_only``)."""
    return f"(list_transform([upper(regexp_replace({span}, '[^0-9Xx]', '', 'g'))], lambda d: {_id_valid_sql('d')}))[1]"


def _luhn_sql(d: str) -> str:
    digit = f"coalesce(try_cast(substr(reverse({d}), k, 1) AS INTEGER), 0)"
    return (
        f"(list_sum(list_transform(range(1, length({d}) + 1), lambda k: "
        f"CASE WHEN k % 2 = 0 THEN ({digit} * 2) - CASE WHEN {digit} * 2 > 9 THEN 9 ELSE 0 END "
        f"ELSE {digit} END)) % 10 = 0)"
    )


def _uscc_digits_valid_sql(d: str) -> str:
    """An all-digit 18-character string that is a valid unified social credit code."""
    weights = ", ".join(str(w) for w in identifiers._USCC_WEIGHTS)
    return (
        f"(length({d}) = 18 AND substr({_q(identifiers.USCC_ALPHABET)}, CAST((31 - list_sum(list_transform([{weights}], "
        f"lambda w, k: coalesce(try_cast(substr({d}, k, 1) AS INTEGER), 0) * w)) % 31) % 31 AS INTEGER) + 1, 1) = substr({d}, 18, 1))"
    )


# An ID number's shape with a birth date that can be real (the full check follows): 6-digit region,
# year 19xx-21xx, month 01-12, day 01-31, 3-digit sequence, check digit or X.
_ID_DATE_SHAPE = r"[1-9][0-9]{5}(?:19|20|21)[0-9]{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12][0-9]|3[01])[0-9]{3}[0-9X]"


def _kind_sql(d: str, lens: str, embedded: str, checked_ids_only: bool = False) -> str:
    one_by_one = f"(len({lens}) > 1 AND list_bool_and(list_transform({lens}, lambda n: n = 1)))"
    groupings = ", ".join("[" + ", ".join(map(str, g)) + "]" for g in MOBILE_GROUPINGS)
    mobile_grouping = f"(len({lens}) = 1 OR CAST({lens} AS INTEGER[]) IN ({groupings}) OR {one_by_one})"
    card_grouping = (f"(len({lens}) = 1 OR (len({lens}) > 1 AND coalesce(list_bool_and(list_transform("
                     f"list_slice({lens}, 1, len({lens}) - 1), lambda n: n = 4)), true) AND {lens}[-1] BETWEEN 1 AND 4) "
                     f"OR (len({lens}) = 2 AND {lens}[1] = 6) OR {one_by_one})")
    # a wrong check character: a typed ID number in free text, not inside a code (``classify``)
    typo = "" if checked_ids_only else f"WHEN NOT {embedded} AND {_id_plausible_sql(d)} THEN 'id_number' "
    # Nested CASEs: a THEN branch is computed only for the candidates its cheap test let through (an AND
    # is not short-circuited; the check-digit arithmetic on every candidate cost 4x).
    return (
        f"coalesce(CASE WHEN length({d}) = 18 AND regexp_full_match({d}, {_q(_ID_DATE_SHAPE)}) "
        f"THEN CASE WHEN {_id_valid_sql(d)} THEN 'id_number' {typo}END END, "
        f"CASE WHEN {embedded} OR NOT regexp_full_match({d}, '[0-9]+') THEN NULL "
        f"WHEN regexp_full_match({d}, '(?:0086|86)?1[3-9][0-9]{{9}}') THEN CASE WHEN {mobile_grouping} THEN 'mobile' END "
        f"WHEN length({d}) BETWEEN 16 AND 19 THEN CASE WHEN {card_grouping} THEN CASE WHEN {_luhn_sql(d)} "
        f"AND NOT {_uscc_digits_valid_sql(d)} THEN 'bank_card' END END END)"
    )


def _mask_span_sql(span: str, kind: str, n: str) -> str:
    index = f"length(regexp_replace(substr({span}, 1, p), '[^0-9Xx]', '', 'g'))"
    head = f"(CASE WHEN {kind} = 'mobile' THEN {n} - 8 ELSE 6 END)"
    return (
        f"array_to_string(list_transform(range(1, length({span}) + 1), lambda p: "
        f"CASE WHEN NOT regexp_matches(substr({span}, p, 1), '[0-9Xx]') THEN substr({span}, p, 1) "
        f"WHEN {index} <= {head} OR {index} > {n} - 4 THEN substr({span}, p, 1) ELSE '*' END), '')"
    )


# Digit counts a personal number can have: mobile 11 (13, 15 with 86 / 0086), card 16-19, ID 18.
NUMBER_LENGTHS = (11, 13, 15, 16, 17, 18, 19)
_LENGTHS_SQL = "(" + ", ".join(map(str, NUMBER_LENGTHS)) + ")"


def _chain_hits_sql(chain: str, embedded: str, checked_ids_only: bool = False) -> str:
    """Hits of one chain as a list of STRUCT(kind, span, masked) (only hits)."""
    # t: tokens (groups at odd positions); c: candidate {span, digits, lens}
    candidate = (
        "{'span': array_to_string(list_slice(t, 2 * i - 1, 2 * j - 1), ''), "
        "'digits': upper(array_to_string(list_transform(range(i, j + 1), lambda g: t[2 * g - 1]), '')), "
        "'lens': list_transform(range(i, j + 1), lambda g: length(t[2 * g - 1]))}"
    )
    # a run ending in X also without it (the x of "13800138000x" is not part of the mobile)
    both = ("[c, {'span': rtrim(c.span, 'Xx'), 'digits': rtrim(c.digits, 'X'), "
            "'lens': list_concat(list_slice(c.lens, 1, len(c.lens) - 1), [c.lens[-1] - length(c.digits) + length(rtrim(c.digits, 'X'))])}]")
    candidates = (
        f"list_distinct(flatten(list_transform(flatten(list_transform(range(1, (len(t) + 1) // 2 + 1), lambda i: "
        f"list_transform(range(i, least((len(t) + 1) // 2, i + {MAX_DIGITS - 1}) + 1), lambda j: {candidate}))), "
        f"lambda c: {both})))"
    )
    classified = (
        f"list_transform(list_filter({candidates}, lambda c: length(c.digits) IN {_LENGTHS_SQL}), "
        f"lambda c: {{'kind': {_kind_sql('c.digits', 'c.lens', embedded, checked_ids_only)}, 'span': c.span, "
        f"'n': length(c.digits)}})"
    )
    hits = (
        f"list_transform(list_filter({classified}, lambda h: h.kind IS NOT NULL), "
        f"lambda h: {{'kind': h.kind, 'span': h.span, 'masked': {_mask_span_sql('h.span', 'h.kind', 'h.n')}}})"
    )
    return f"(list_transform([regexp_extract_all({chain}, {_q(TOKEN_PATTERN)})], lambda t: {hits}))[1]"


def prefilter_sql(text: str) -> str:
    """True when ``text`` may hold a personal number (cheap; a superset)."""
    return f"coalesce(regexp_matches({text}, {_q(_prefilter_pattern())}), false)"


def normalise_sql(text: str) -> str:
    """``normalise`` in SQL; translate() costs ~3 µs a value, so only texts holding a mapped character."""
    src, dst = _translation()
    return (f"(CASE WHEN regexp_matches({text}, {_q('[' + src + ']')}) "
            f"THEN translate({text}, {_q(src)}, {_q(dst)}) ELSE {text} END)")


def _hits_of_normalised_sql(n: str, checked_ids_only: bool = False) -> str:
    # Chains with their touching letters, matched without capture groups (RE2's fast path: a capturing
    # pattern cost 2x); only chains of at least eleven digits can hold a number (most are dates and
    # amounts), and only those are taken apart: the letter before, the chain (greedy, as the pattern),
    # whether a letter follows.
    whole = f"regexp_extract_all({n}, {_q('[A-Za-z]?' + CHAIN_PATTERN + '[A-Za-z]?')})"
    rest = "(CASE WHEN regexp_matches(w, '^[A-Za-z]') THEN substr(w, 2) ELSE w END)"
    parts = (f"{{'left': regexp_matches(w, '^[A-Za-z]'), "
             f"'ch': regexp_extract({rest}, {_q('^' + CHAIN_PATTERN)}), 'rest': {rest}}}")
    n_digits = "length(regexp_replace(m.ch, '[^0-9Xx]', '', 'g'))"
    keep = (f"{n_digits} >= {min(NUMBER_LENGTHS)} AND ({n_digits} >= 16 OR regexp_matches(m.ch, {_q(MOBILE_START_PATTERN)})) "
            f"AND NOT regexp_matches(m.ch, {_q(AMOUNT_TAIL_PATTERN)})")
    hits = _chain_hits_sql("m.ch", "(m.left AND length(m.rest) > length(m.ch))", checked_ids_only)
    candidates = f"list_filter({whole}, lambda w: length(regexp_replace(w, '[^0-9]', '', 'g')) >= {min(NUMBER_LENGTHS)})"
    return (f"list_distinct(flatten(list_transform(list_filter(list_transform({candidates}, lambda w: {parts}), "
            f"lambda m: {keep}), lambda m: {hits})))")


def hits_sql(text: str, checked_ids_only: bool = False) -> str:
    """``LIST(STRUCT(kind VARCHAR, span VARCHAR, masked VARCHAR))`` of the personal numbers in ``text``
    (empty list when none; one entry per distinct hit, as ``find``; free text unless ``checked_ids_only``)."""
    # the candidate test, not the prefilter: office phones and project codes (11 digits) pass the prefilter by
    # the million (at 1 M trading rows: 1.67 M bulletin texts against 1 667)
    return (f"(CASE WHEN NOT {candidate_filter_sql(text)} THEN []::STRUCT(kind VARCHAR, span VARCHAR, masked VARCHAR)[] "
            f"ELSE (list_transform([{normalise_sql(text)}], lambda n: {_hits_of_normalised_sql('n', checked_ids_only)}))[1] END)")


def mask_sql(text: str, kinds: tuple[str, ...] = KINDS, checked_ids_only: bool = False) -> str:
    """``text`` with personal numbers of ``kinds`` masked, as ``mask`` (NULL stays NULL); ``checked_ids_only``:
    a code or key column, where an ID number needs its check character (``find``)."""
    only = "" if set(kinds) == set(KINDS) else (
        f"list_filter(hs, lambda h: h.kind IN ({', '.join(_q(k) for k in kinds)}))")
    selected = only or "hs"
    replace = (f"list_reduce(list_sort(list_transform({selected}, lambda h: {{'k': -length(h.span), 's': h.span, "
               f"'m': h.masked}})), lambda acc, h: replace(acc, h.s, h.m), n)")
    body = (f"(list_transform([{_hits_of_normalised_sql('n', checked_ids_only)}], lambda hs: "
            f"CASE WHEN len({selected}) = 0 THEN NULL ELSE {replace} END))[1]")
    masked_normalised = f"(list_transform([{normalise_sql(text)}], lambda n: {{'n': n, 'm': {body}}}))[1]"
    # the hidden digits put back into the text as written: every other character stays as it was
    merge = (f"(list_transform([{{'t': string_split({text}, ''), 'n': string_split(v.n, ''), "
             f"'m': string_split(v.m, '')}}], lambda c: array_to_string(list_transform(range(1, len(c.t) + 1), "
             f"lambda i: CASE WHEN c.m[i] = '*' AND c.n[i] <> '*' THEN '*' ELSE c.t[i] END), '')))[1]")
    # most texts hold no character normalising changes: the masked normalised text is then the answer (the
    # character-by-character merge costs ~40 µs a text of 260 characters)
    merged = (f"(list_transform([{masked_normalised}], lambda v: CASE WHEN v.m IS NULL THEN NULL "
              f"WHEN v.n = {text} THEN v.m ELSE {merge} END))[1]")
    return f"(CASE WHEN NOT {candidate_filter_sql(text, tuple(kinds))} THEN {text} ELSE coalesce({merged}, {text}) END)"


# --------------------------------------------------------------------------------- dbt macros (generated)

DBT_MACRO_PATH = Path(__file__).resolve().parent.parent / "dbt" / "macros" / "personal_numbers.sql"
_PLACEHOLDER = "\x00TEXT\x00"


def _jinja(sql: str) -> str:
    """SQL with the placeholder as ``{{ text }}`` and everything else raw (regexes hold braces)."""
    parts = sql.split(_PLACEHOLDER)
    return "{{ text }}".join("{% raw %}" + p + "{% endraw %}" if p else "" for p in parts)


def dbt_macro_text() -> str:
    header = (
        "{#- GENERATED by `python -m dagster_project.personal_numbers --write-dbt-macros` from\n"
        "    dagster_project/personal_numbers.py: do not edit; tests/test_personal_numbers.py checks it is current.\n"
        "    One definition of a personal number in any written form (ID number, mobile, bank card; full-width\n"
        "    digits, spaces, hyphens, dots, +86): see that module's docstring. default__: DuckDB SQL (lambdas, list\n"
        "    functions); spark__: the same steps in Spark SQL (personal_numbers_spark.py; the masking itself runs\n"
        "    in DuckDB only, at publication). -#}\n"
    )
    from dagster_project import personal_numbers_spark as spark   # imports this module: not at the top

    macros = []
    for name, doc, sql, spark_sql in (
        ("personal_number_prefilter", "True when the text may hold a personal number (cheap superset test; on DuckDB "
         "the candidate test, which office phones and project codes do not pass).",
         candidate_filter_sql(_PLACEHOLDER), spark.prefilter_sql(_PLACEHOLDER)),
        ("personal_number_hits", "LIST(STRUCT(kind, span, masked)) of the personal numbers in the text.",
         hits_sql(_PLACEHOLDER), spark.hits_sql(_PLACEHOLDER)),
        ("mask_personal_numbers", "The text with every personal number masked (first 6 + last 4; mobiles 3 + 4).",
         mask_sql(_PLACEHOLDER), None),
    ):
        macros.append(
            f"{{#- {doc} -#}}\n"
            f"{{% macro {name}(text) -%}}\n"
            f"{{{{ return(adapter.dispatch('{name}')(text)) }}}}\n"
            f"{{%- endmacro %}}\n\n"
            f"{{% macro default__{name}(text) -%}}\n{_jinja(sql)}\n{{%- endmacro %}}\n"
            + (f"\n{{% macro spark__{name}(text) -%}}\n{_jinja(spark_sql)}\n{{%- endmacro %}}\n" if spark_sql else "")
        )
    return header + "\n" + "\n".join(macros)


def write_dbt_macros(path: Path = DBT_MACRO_PATH) -> Path:
    path.write_text(dbt_macro_text(), encoding="utf-8")
    return path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m dagster_project.personal_numbers", description=__doc__.split("\n")[0])
    parser.add_argument("--write-dbt-macros", action="store_true", help=f"(re)write {DBT_MACRO_PATH.name}")
    parser.add_argument("text", nargs="*", help="texts to mask (printed one per line)")
    args = parser.parse_args(argv)
    if args.write_dbt_macros:
        print(write_dbt_macros())
    for t in args.text:
        print(mask(t))
    return 0


if __name__ == "__main__":
    sys.exit(main())


__all__ = ["CHAIN_PATTERN", "Hit", "KINDS", "RULE_IDS", "checked_id_sql", "classify", "dbt_macro_text", "find", "hits_sql", "mask",
           "mask_sql", "mask_value", "normalise", "normalise_sql", "prefilter_sql", "write_dbt_macros"]
