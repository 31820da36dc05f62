"""The Spark SQL form of ``personal_numbers``: the same algorithm, step for step, for dbt models built on Spark
(README "Scaling out"). Rendered into ``dbt/macros/personal_numbers.sql`` as the ``spark__`` side of the
generated macros; ``tests/test_personal_numbers.py`` holds it to the Python form on the whole corpus in a
local Spark session (when Java is there).

What differs from the DuckDB form is only how the engine spells it:
- lambdas ``x -> …`` (``transform``, ``filter``, ``forall``, ``aggregate``), and a lambda's index argument
  is 0-based (DuckDB: 1-based) — the list positions below are values of ``sequence``, never lambda indexes;
- list subscripts: ``element_at(l, k)`` (1-based, negative from the end) instead of ``l[k]``;
- ``sequence(a, b)`` includes b (DuckDB ``range`` excludes it) and counts down when b < a (only ever called
  with a ≤ b here); ``slice(l, start, length)`` instead of ``list_slice(l, begin, end)``;
- regexes: Java's, with the same patterns (classes, groups, quantifiers; no look-around): ``rlike`` for a
  partial match, ``^(?:…)\\z`` for a whole one; ``regexp_extract_all`` needs group 0 written out;
- literals: a backslash is an escape in Spark's string literals, so every literal goes through ``_q``.
"""
from __future__ import annotations

from dagster_project import identifiers
from dagster_project import personal_numbers as pn


def _q(s: str) -> str:
    """A Spark string literal holding exactly ``s``."""
    return "'" + s.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _full(expr: str, pattern: str) -> str:
    return f"({expr} rlike {_q('^(?:' + pattern + ')' + chr(92) + 'z')})"


def _sum(list_expr: str) -> str:
    return f"aggregate({list_expr}, 0, (acc, x) -> acc + x)"


def _weighted_digits(d: str, weights: tuple[int, ...]) -> str:
    ws = ", ".join(str(w) for w in weights)
    return _sum(f"transform(array({ws}), (w, k) -> coalesce(try_cast(substr({d}, k + 1, 1) AS INT), 0) * w)")


def _id_valid_sql(d: str) -> str:
    provinces = ", ".join(_q(p) for p in sorted(identifiers._ID_PROVINCES))
    return (
        f"(length({d}) = 18 AND {_full(d, '[0-9]{17}[0-9X]')} AND substr({d}, 1, 2) IN ({provinces}) "
        f"AND substr({d}, 3, 4) <> '0000' "
        f"AND coalesce(try_to_date(substr({d}, 7, 8), 'yyyyMMdd') BETWEEN DATE '1900-01-01' AND DATE '2100-12-31', false) "
        f"AND substr({_q(identifiers._ID_CHECK)}, CAST({_weighted_digits(d, identifiers._ID_WEIGHTS)} % 11 AS INT) + 1, 1) "
        f"= substr({d}, 18, 1))"
    )


def _id_plausible_sql(d: str) -> str:
    """``identifiers.id_number_is_plausible`` (the check character not tested; ``d`` already has an ID's shape)."""
    provinces = ", ".join(_q(p) for p in sorted(identifiers._ID_PROVINCES))
    return (
        f"(substr({d}, 1, 2) IN ({provinces}) AND substr({d}, 3, 4) <> '0000' "
        f"AND coalesce(try_to_date(substr({d}, 7, 8), 'yyyyMMdd') BETWEEN DATE '1900-01-01' AND current_date(), false))"
    )


def _luhn_sql(d: str) -> str:
    digit = f"coalesce(try_cast(substr(reverse({d}), k, 1) AS INT), 0)"
    return (
        f"({_sum(f'transform(sequence(1, length({d})), k -> CASE WHEN k % 2 = 0 THEN ({digit} * 2) - CASE WHEN {digit} * 2 > 9 THEN 9 ELSE 0 END ELSE {digit} END)')} "
        f"% 10 = 0)"
    )


def _uscc_digits_valid_sql(d: str) -> str:
    return (
        f"(length({d}) = 18 AND substr({_q(identifiers.USCC_ALPHABET)}, "
        f"CAST((31 - {_weighted_digits(d, identifiers._USCC_WEIGHTS)} % 31) % 31 AS INT) + 1, 1) = substr({d}, 18, 1))"
    )


def _kind_sql(d: str, lens: str, embedded: str) -> str:
    one_by_one = f"(size({lens}) > 1 AND forall({lens}, n -> n = 1))"
    groupings = ", ".join("array(" + ", ".join(map(str, g)) + ")" for g in pn.MOBILE_GROUPINGS)
    mobile_grouping = f"(size({lens}) = 1 OR CAST({lens} AS ARRAY<INT>) IN ({groupings}) OR {one_by_one})"
    card_grouping = (f"(size({lens}) = 1 OR (size({lens}) > 1 AND forall(slice({lens}, 1, size({lens}) - 1), n -> n = 4) "
                     f"AND element_at({lens}, -1) BETWEEN 1 AND 4) "
                     f"OR (size({lens}) = 2 AND element_at({lens}, 1) = 6) OR {one_by_one})")
    return (
        f"coalesce(CASE WHEN length({d}) = 18 AND {_full(d, pn._ID_DATE_SHAPE)} "
        f"THEN CASE WHEN {_id_valid_sql(d)} THEN 'id_number' "
        # a wrong check character: a typed ID number in free text, not inside a code (pn.classify)
        f"WHEN NOT {embedded} AND {_id_plausible_sql(d)} THEN 'id_number' END END, "
        f"CASE WHEN {embedded} OR NOT {_full(d, '[0-9]+')} THEN NULL "
        f"WHEN {_full(d, '(?:0086|86)?1[3-9][0-9]{9}')} THEN CASE WHEN {mobile_grouping} THEN 'mobile' END "
        f"WHEN length({d}) BETWEEN 16 AND 19 THEN CASE WHEN {card_grouping} THEN CASE WHEN {_luhn_sql(d)} "
        f"AND NOT {_uscc_digits_valid_sql(d)} THEN 'bank_card' END END END)"
    )


def _mask_span_sql(span: str, kind: str, n: str) -> str:
    index = f"length(regexp_replace(substr({span}, 1, p), '[^0-9Xx]', ''))"
    head = f"(CASE WHEN {kind} = 'mobile' THEN {n} - 8 ELSE 6 END)"
    return (
        f"array_join(transform(sequence(1, length({span})), p -> "
        f"CASE WHEN NOT (substr({span}, p, 1) rlike '[0-9Xx]') THEN substr({span}, p, 1) "
        f"WHEN {index} <= {head} OR {index} > {n} - 4 THEN substr({span}, p, 1) ELSE '*' END), '')"
    )


def _chain_hits_sql(chain: str, embedded: str) -> str:
    """Hits of one chain as an array of STRUCT(kind, span, masked); t: tokens (groups at odd 1-based positions)."""
    group = "element_at(t, 2 * g - 1)"
    candidate = (
        "named_struct('span', array_join(slice(t, 2 * i - 1, 2 * (j - i) + 1), ''), "
        f"'digits', upper(array_join(transform(sequence(i, j), g -> {group}), '')), "
        f"'lens', transform(sequence(i, j), g -> length({group})))"
    )
    # a run ending in X also without it (the x of "13800138000x" is not part of the mobile)
    both = ("array(c, named_struct('span', trim(TRAILING 'Xx' FROM c.span), 'digits', trim(TRAILING 'X' FROM c.digits), "
            "'lens', concat(slice(c.lens, 1, size(c.lens) - 1), "
            "array(element_at(c.lens, -1) - length(c.digits) + length(trim(TRAILING 'X' FROM c.digits))))))")
    groups = "CAST((size(t) + 1) div 2 AS INT)"
    candidates = (
        f"array_distinct(flatten(transform(flatten(transform(sequence(1, {groups}), i -> "
        f"transform(sequence(i, least({groups}, i + {pn.MAX_DIGITS - 1})), j -> {candidate}))), c -> {both})))"
    )
    lengths = "(" + ", ".join(map(str, pn.NUMBER_LENGTHS)) + ")"
    classified = (
        f"transform(filter({candidates}, c -> length(c.digits) IN {lengths}), "
        f"c -> named_struct('kind', {_kind_sql('c.digits', 'c.lens', embedded)}, 'span', c.span, 'n', length(c.digits)))"
    )
    hits = (
        f"transform(filter({classified}, h -> h.kind IS NOT NULL), "
        f"h -> named_struct('kind', h.kind, 'span', h.span, 'masked', {_mask_span_sql('h.span', 'h.kind', 'h.n')}))"
    )
    return f"element_at(transform(array(regexp_extract_all({chain}, {_q(pn.TOKEN_PATTERN)}, 0)), t -> {hits}), 1)"


def prefilter_sql(text: str) -> str:
    return f"coalesce(({text} rlike {_q(pn._prefilter_pattern())}), false)"


def normalise_sql(text: str) -> str:
    src, dst = pn._translation()
    return f"(CASE WHEN {text} rlike {_q('[' + src + ']')} THEN translate({text}, {_q(src)}, {_q(dst)}) ELSE {text} END)"


def _hits_of_normalised_sql(n: str) -> str:
    whole = f"regexp_extract_all({n}, {_q('[A-Za-z]?' + pn.CHAIN_PATTERN + '[A-Za-z]?')}, 0)"
    rest = "(CASE WHEN w rlike '^[A-Za-z]' THEN substr(w, 2) ELSE w END)"
    parts = (f"named_struct('left', w rlike '^[A-Za-z]', "
             f"'ch', regexp_extract({rest}, {_q('^' + pn.CHAIN_PATTERN)}, 0), 'rest', {rest})")
    n_digits = "length(regexp_replace(m.ch, '[^0-9Xx]', ''))"
    keep = (f"{n_digits} >= {min(pn.NUMBER_LENGTHS)} AND ({n_digits} >= 16 OR m.ch rlike {_q(pn.MOBILE_START_PATTERN)}) "
            f"AND NOT (m.ch rlike {_q(pn.AMOUNT_TAIL_PATTERN)})")
    hits = _chain_hits_sql("m.ch", "(m.left AND length(m.rest) > length(m.ch))")
    candidates = f"filter({whole}, w -> length(regexp_replace(w, '[^0-9]', '')) >= {min(pn.NUMBER_LENGTHS)})"
    return (f"array_distinct(flatten(transform(filter(transform({candidates}, w -> {parts}), "
            f"m -> {keep}), m -> {hits})))")


def hits_sql(text: str) -> str:
    """ARRAY<STRUCT<kind, span, masked>> of the personal numbers in ``text`` (empty when none), as ``pn.hits_sql``."""
    empty = "CAST(array() AS ARRAY<STRUCT<kind: STRING, span: STRING, masked: STRING>>)"
    return (f"(CASE WHEN NOT {prefilter_sql(text)} THEN {empty} "
            f"ELSE element_at(transform(array({normalise_sql(text)}), n -> {_hits_of_normalised_sql('n')}), 1) END)")


__all__ = ["hits_sql", "normalise_sql", "prefilter_sql"]
