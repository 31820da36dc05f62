"""A consortium listed one row per member (the national standard's 513 中标结果公告: ``UNION_NAME`` 联合体名称 /
``UNION_CODE`` 联合体代码 beside each member's ``WIN_BIDDER_NAME`` / ``WIN_BIDDER_CODE``) is one bulletin whose winner is
the consortium — what a reader of the table sees — not one row per member contradicting the others.

Rows of one file with the same bulletin key and section part that name the same consortium (its name compared without
whitespace — full-width forms folded as NFKC folds them, brackets half-width —, else its code) and agree on every other
field (a blank contradicts nothing; text compared with whitespace runs as one space) are read as ONE bulletin: the
first row's, its winner the members joined by 、 in the file's order with the consortium mark (``甲、乙联合体``; rows
whose names carry a role mark — ``甲（牵头人）``, ``乙（成员）`` — are joined as written), its code the members' codes
joined by 、 position for position (a member without a readable code keeps an empty slot: 甲码、、丙码; a member row
without a name has no slot among the names, so then no code is paired and the file's note names the row — review V6
item 3); a member row repeated (a paged export) is that member once. Only a value that names a consortium folds rows:
a name with the consortium mark (not negated: 无联合体, 非联合体) or a firm's name (公司, 有限, 集团, 股份), or a code
valid under GB 32100 (check character; 000000000000000000 passes it but is a filler). Two firms each winning alone
beside 不涉及, #N/A, 单独投标, ``\\N`` … are no consortium (review V6 item 2: no list of placeholders closes that).
The folded row is the one-cell form the rest of gongkai already reads as one consortium: one candidate in the
counts, copies compared as one winner, and in OCDS one party whose id and ``additionalIdentifiers`` come from all the
members' codes (``publish/ocds_config.consortium_codes``) — the same whichever way the consortium is written.

Rows naming one consortium that differ in another field (a second version of the notice, or each member stating its
own share of the amount) are left as they are: the copies stay a TRADE_CONFLICTING_COPIES finding. Rows holding some
of the members a 联合体名称 lists (甲;乙联合体 — one row alone, or the rows of an export paged between the lead's and the
member's row) name the consortium as its name lists it, its codes the 联合体代码's when it lists one per member (else each
member's own in its slot): the other export's copy then names the same winner, not its own member (``_as_listed``).
A row naming a consortium whose name lists no members keeps its winner as written. ``BIDDER_ROLE`` (中标投标人角色) is a code whose list the contract does
not give: it is not read, the file order stands; ``UNION_CODE`` is used only to tell consortia apart (a consortium has
no credit code of its own: its id is built from its members').
"""
from __future__ import annotations

import re

import duckdb

from dagster_project import identifiers
from dagster_project.ingest.text_staging import sql_literal
from dagster_project.ingest.trading_fields import trading_spec

# the member's own fields: what each member row states for itself
MEMBER_FIELDS = (("win_bidder_name", "win_bidder_code"), ("win_candidate_name", "win_candidate_code"))
UNION_FIELDS = ("union_name", "union_code")
# a name already marked as a lead or member (甲（牵头人）, 乙（联合体成员）): joined as written, the marks say consortium
ROLE_MARK = "[（(](联合体)?(牵头(人|方|单位)|成员(单位|方)?)[)）]"


# whitespace as a reader passes over it: RE2's \s is ASCII only, a full-width space (U+3000) or a no-break space in one
# row's 联合体名称 kept the rows apart (review V1 item 7)
SPACE = "[\\s\\p{Zs}]"


def _placeholders() -> list[str]:
    """The cells naming no consortium (无, /, -, null …): the trading spec's blank placeholders, compared without
    whitespace and lower-cased. Equal placeholders made one consortium of two firms that each won alone (review V1)."""
    spec = trading_spec()["blank_placeholders"]
    return sorted({re.sub(r"\s", "", w).lower() for w in [*spec["values"], *spec.get("words", [])]})


def _comparable(expr: str) -> str:
    """A consortium's name or code as two rows are compared: no whitespace, full-width brackets half-width, NULL when
    it names nothing (a placeholder)."""
    bare = f"lower(translate(regexp_replace({expr}, '{SPACE}', '', 'g'), '（）', '()'))"
    listed = ", ".join(sql_literal(w) for w in _placeholders())
    return f"CASE WHEN {bare} IN ('', {listed}) THEN NULL ELSE {bare} END"


def _text(expr: str) -> str:
    """A field two member rows are compared on: whitespace runs (line breaks CRLF/LF, full-width spaces) as one space,
    ends trimmed — as copies are compared (dbt macro comparable_text)."""
    return f"trim(regexp_replace(CAST({expr} AS VARCHAR), '{SPACE}+', ' ', 'g'))"


# NFKC's width folding of the forms an office types (full-width ASCII, the ideographic space): ＮＡ／Ａ is N/A, a
# full-width code is the code (DuckDB has no NFKC)
_WIDE = "".join(chr(c) for c in range(0xFF01, 0xFF5F)) + "\u3000"
_NARROW = "".join(chr(c - 0xFEE0) for c in range(0xFF01, 0xFF5F)) + " "
# what wraps a cell's words (spaces, brackets, quotes): passed over when reading whether it starts with a negation
_WRAPPING = "[\\s\\p{Zs}()\\[\\]【】“”\"']"


def _words(key: str) -> str:
    """The trading spec's ``consortium_names`` words of ``key`` as one RE2 alternation."""
    return "|".join(re.escape(w) for w in trading_spec()["consortium_names"][key])


def firm_words() -> str:
    """A firm's name as the consortium mark reads one (its [^有集公股]: 联合体有限公司 is a firm): a union name naming
    a firm names a consortium's member."""
    return _words("firm")


def not_a_consortium() -> str:
    """The mark negated where the cell starts (无联合体, 非联合体, （不是联合体）, 不组成联合体): the winner is NO consortium
    — 无锡…联合体 is one (the negation must be followed by the word itself)."""
    return f"^({_words('negations')})联合体"


# GB 32100's alphabet and weights are identifiers' (the one Python definition; dbt's is macros/uscc.sql)
_USCC_ALPHABET = identifiers.USCC_ALPHABET
_USCC_WEIGHTS = identifiers._USCC_WEIGHTS


def _narrow(expr: str) -> str:
    return f"translate(CAST({expr} AS VARCHAR), {sql_literal(_WIDE)}, {sql_literal(_NARROW)})"


def _names_a_consortium(expr: str) -> str:
    """A 联合体名称 that names one: the consortium mark (publish/ocds_config.CONSORTIUM_MARK, the candidate lists' mark)
    or a firm's name. A list of placeholders cannot close this (不涉及, 非联合体, #N/A, 单独投标 … — review V6 item 2):
    only a value that names something folds rows."""
    from dagster_project.publish.ocds_config import CONSORTIUM_MARK

    text = _narrow(expr)
    bare = f"regexp_replace({text}, {sql_literal(_WRAPPING)}, '', 'g')"
    return (f"((regexp_matches({text}, {sql_literal(CONSORTIUM_MARK)}) "
            f"AND NOT regexp_matches({bare}, {sql_literal(not_a_consortium())})) "
            f"OR regexp_matches({text}, {sql_literal(firm_words())}))")


def _valid_code(expr: str) -> str:
    """A 联合体代码 that is an identifier: 18 characters of GB 32100's alphabet with the right check character
    (identifiers.uscc_validate, written in SQL), its registration authority (position 1) not 0 and its region (3–8) not
    000000 — 000000000000000000 passes the check character (Σ = 0) but is a filler, not a code."""
    code = f"upper(regexp_replace({_narrow(expr)}, '{SPACE}', '', 'g'))"
    terms = " + ".join(f"(instr('{_USCC_ALPHABET}', substr({code}, {i + 1}, 1)) - 1) * {w}"
                       for i, w in enumerate(_USCC_WEIGHTS))
    return (f"(regexp_full_match({code}, '[{_USCC_ALPHABET}]{{18}}') AND substr({code}, 1, 1) <> '0' "
            f"AND substr({code}, 3, 6) <> '000000' AND substr({code}, 18, 1) = "
            f"substr('{_USCC_ALPHABET}', CAST((31 - ({terms}) % 31) % 31 + 1 AS INTEGER), 1))")


def _union_sql(present: set[str]) -> str:
    """The consortium a row names, as rows are compared — NULL unless the name names one or the code is one."""
    name = (f"CASE WHEN {_names_a_consortium('p_union_name')} THEN {_comparable(_narrow('p_union_name'))} END"
            if "union_name" in present else "NULL")
    code = (f"CASE WHEN {_valid_code('p_union_code')} THEN {_comparable(_narrow('p_union_code'))} END"
            if "union_code" in present else "NULL")
    return f"coalesce({name}, {code})"


def _grouped(source: str, key_sql: str, part_sql: str, present: set[str]) -> tuple[str, list[str], list[str]]:
    """(SQL of the folded groups, the member fields present, the other fields present)."""
    own = [f for pair in MEMBER_FIELDS for f in pair if f in present]
    others = sorted(f for f in present if f not in own and f not in UNION_FIELDS)
    names = [name for name, _code in MEMBER_FIELDS if name in present]
    # a member listed again (a paged export repeating the member rows) is one member: its first row only
    first = "FILTER (WHERE _member_seen = 1)"
    aggregates = ["min(source_row) AS _fold_first", "count(*) AS _fold_rows"]
    for name in names:
        joined = f"string_agg(trim(p_{name}), '、' ORDER BY source_row) {first}"
        aggregates.append(f"CASE WHEN bool_or(regexp_matches(p_{name}, '{ROLE_MARK}')) THEN {joined} "
                          f"ELSE {joined} || '联合体' END AS _fold_{name}")
    for name, code in MEMBER_FIELDS:
        if code not in present:
            continue
        # a member without a readable code keeps its slot (甲码、、丙码): a reader pairs the codes with the names by
        # position, and 甲码、丙码 beside 甲、乙、丙 reads as 丙's code being 乙's (review V1 item 9); a member without a
        # name has no slot among the names (string_agg passes it over): then no code is paired — 甲、丙联合体 beside
        # A、B、C gave 丙 the nameless member's B (review V6 item 3); the file's note names the rows
        nameless = (f"bool_or(nullif(trim(p_{name}), '') IS NULL) {first}" if name in present else "false")
        aggregates.append(f"CASE WHEN count(p_{code}) > 0 AND NOT {nameless} THEN "
                          f"string_agg(coalesce(trim(p_{code}), ''), '、' ORDER BY source_row) {first} END AS _fold_{code}")
    nameless_rows = [f"nullif(trim(p_{name}), '') IS NULL" for name in names[:1]]
    aggregates.append(f"list(source_row ORDER BY source_row) FILTER (WHERE _member_seen = 1 AND {nameless_rows[0]}) "
                      f"AS _fold_nameless" if nameless_rows else "[]::INTEGER[] AS _fold_nameless")
    # the members and their codes one by one, in the file's order: a consortium its 联合体名称 lists (read_as_listed)
    for name, code in MEMBER_FIELDS:
        if name in present:
            aggregates.append(f"list(trim(p_{name}) ORDER BY source_row) {first} AS _fold_names_{name}")
            if code in present:
                aggregates.append(f"list(coalesce(trim(p_{code}), '') ORDER BY source_row) {first} AS _fold_codes_{code}")
    aggregates += [f"max(p_{f}) AS _fold_{f}" for f in others]
    agree = " AND ".join(f"count(DISTINCT {_text('p_' + f)}) <= 1" for f in others) or "true"
    member = ", ".join(_text(f"p_{f}") for f in own) or "NULL"
    groups = f"""(SELECT _fold_key, _fold_part, _fold_union, {', '.join(aggregates)}
                  FROM (SELECT *, row_number() OVER (PARTITION BY _fold_key, _fold_part, _fold_union, {member}
                                                     ORDER BY source_row) AS _member_seen
                        FROM {_keyed(source, key_sql, part_sql, present)} AS rows_keyed
                        WHERE _fold_union IS NOT NULL) AS rows_named
                  GROUP BY _fold_key, _fold_part, _fold_union
                  HAVING count(*) FILTER (WHERE _member_seen = 1) > 1 AND {agree})"""
    return groups, own, others


def fold_groups(con: duckdb.DuckDBPyConnection, source: str, key_sql: str, part_sql: str, present: set[str],
                table: str) -> bool:
    """The consortia of ``source`` listed one member per row, grouped once into the temp table ``table`` (the notes,
    the blanked cells' rows and the insert read it: the grouping is a pass over every named row); False, and no table,
    when the file has no consortium column."""
    if not present & set(UNION_FIELDS):
        return False
    groups, _own, _others = _grouped(source, key_sql, part_sql, present)
    con.execute(f"CREATE TEMP TABLE {table} AS SELECT * FROM {groups} AS g")
    return True


def _keyed(source: str, key_sql: str, part_sql: str, present: set[str], columns: str = "*") -> str:
    return (f"(SELECT {columns}, {key_sql} AS _fold_key, {part_sql} AS _fold_part, {_union_sql(present)} AS _fold_union "
            f"FROM {source})")


def fold_union_rows(source: str, key_sql: str, part_sql: str, present: set[str], groups: str) -> str:
    """``source`` (the loadable records) with the rows of each consortium listed one per member folded into its first
    row (see the module docstring); ``groups`` is ``fold_groups``' table."""
    own = [f for pair in MEMBER_FIELDS for f in pair if f in present]
    others = sorted(f for f in present if f not in own and f not in UNION_FIELDS)
    folded = {f: f"coalesce(g._fold_{f}, s.p_{f})" for f in own if not f.endswith("_code")}
    # a fold's codes are its own, none included (a nameless member: the lead row's own code beside the consortium is
    # not the consortium's)
    folded |= {f: f"CASE WHEN g._fold_first IS NOT NULL THEN g._fold_{f} ELSE s.p_{f} END" for f in own if f.endswith("_code")}
    listed_any = []
    if "union_name" in present:
        for name, code in MEMBER_FIELDS:
            if name not in present:
                continue
            applies, name_sql, code_sql = _as_listed(name, code if code in present else None)
            folded[name] = f"CASE WHEN {applies} THEN {name_sql} ELSE {folded[name]} END"
            if code in present:
                folded[code] = f"CASE WHEN {applies} THEN {code_sql} ELSE {folded[code]} END"
            listed_any.append(applies)
    replaced = [f"{sql} AS p_{f}" for f, sql in folded.items()]
    replaced += [f"CASE WHEN g._fold_first IS NOT NULL THEN g._fold_{f} ELSE s.p_{f} END AS p_{f}" for f in others]
    return f"""(SELECT s.* REPLACE ({', '.join(replaced)}), {' OR '.join(listed_any) or 'false'} AS _read_as_listed
               FROM {_keyed(source, key_sql, part_sql, present)} AS s
               LEFT JOIN {groups} AS g
                 ON g._fold_key = s._fold_key AND g._fold_part = s._fold_part AND g._fold_union = s._fold_union
               WHERE g._fold_first IS NULL OR s.source_row = g._fold_first)"""


# what separates the members a 联合体名称 lists (甲;乙联合体, 甲、乙联合体, 甲，乙): punctuation only — 和/与 occur inside firms'
# names; and the consortium mark ending it (…联合体, …（联合体）)
_LIST_SEPARATORS = "[;；、，,/／]"
_LIST_END = f"[（(]?联合体[)）]?{SPACE}*$"


def _member_key(expr: str) -> str:
    """A member's name as a listed one is compared with a row's: role marks (（牵头人）) and whitespace removed, widths
    folded, lower-cased."""
    return f"lower(regexp_replace(regexp_replace({_narrow(expr)}, '{ROLE_MARK}', '', 'g'), '{SPACE}', '', 'g'))"


def _listed(union_name: str) -> str:
    """The members a 联合体名称 lists, as written, in its order (甲;乙联合体 → [甲, 乙])."""
    bare = f"regexp_replace(trim({union_name}), {sql_literal(_LIST_END)}, '')"
    return (f"list_filter(list_transform(string_split_regex({bare}, {sql_literal(_LIST_SEPARATORS)}), "
            f"lambda x: trim(x)), lambda x: x <> '')")


def _as_listed(name: str, code: str | None) -> tuple[str, str, str]:
    """(whether, winner, code) of a row read as the consortium its 联合体名称 lists: the name names a consortium and
    lists two members or more, and the row's member — or the members its file's rows fold into it — are some of them,
    not all (a file holding every member's row reads them as its rows give them). A consortium exported one member per
    row across two overlapping exports (the lead's row at the end of one, the member's at the start of the next) read
    one member in each file: two copies of one bulletin naming different winners, the deal's winner the lead alone
    and a false TRADE_CONFLICTING_COPIES. Read as listed, each copy names the consortium, the same in both. Its code:
    the 联合体代码's codes when it lists one per member, else each member's own code in its slot (甲码、)."""
    listed = _listed("s.p_union_name")
    members = f"CASE WHEN g._fold_first IS NOT NULL THEN g._fold_names_{name} ELSE [trim(s.p_{name})] END"
    keys = f"list_transform({listed}, lambda x: {_member_key('x')})"
    member_keys = f"list_transform({members}, lambda m: {_member_key('m')})"
    applies = (f"coalesce(s._fold_union IS NOT NULL AND {_names_a_consortium('s.p_union_name')} "
               f"AND len({listed}) >= 2 AND len(list_filter({members}, lambda m: m IS NULL)) = 0 "
               f"AND len(list_distinct({member_keys})) < len(list_distinct({keys})) "
               f"AND list_has_all({keys}, {member_keys}), false)")
    joined = f"array_to_string({listed}, '、')"
    winner = f"CASE WHEN list_bool_or(list_transform({listed}, lambda x: regexp_matches(x, '{ROLE_MARK}'))) " \
             f"THEN {joined} ELSE {joined} || '联合体' END"
    if code is None:
        return applies, winner, "NULL"
    codes = (f"list_filter(string_split_regex(trim(coalesce(s.p_union_code, '')), '({_LIST_SEPARATORS}|{SPACE})+'), "
             f"lambda x: x <> '')")
    own = f"CASE WHEN g._fold_first IS NOT NULL THEN g._fold_codes_{code} ELSE [coalesce(trim(s.p_{code}), '')] END"
    slots = (f"list_transform({listed}, lambda x: coalesce(({own})[list_position({member_keys}, {_member_key('x')})], ''))")
    code_sql = (f"CASE WHEN len({codes}) = len({listed}) THEN array_to_string({codes}, '、') "
                f"ELSE nullif(array_to_string({slots}, '、'), repeat('、', len({listed}) - 1)) END")
    return applies, winner, code_sql


def listed_notes(con: duckdb.DuckDBPyConnection, source: str) -> list[str]:
    """The file's note on the rows read as the consortium their 联合体名称 lists (``fold_union_rows``' source)."""
    rows, first = con.execute(f"SELECT count(*), list(source_row ORDER BY source_row)[1:5] FROM {source} AS s "
                              f"WHERE _read_as_listed").fetchone()
    if not rows:
        return []
    return [f"联合体名称列出其成员, 本文件只载其中部分成员的行: {rows} 条公告的中标人读作该联合体 (the consortium's name lists "
            f"its members and this file holds the rows of some of them: {rows} bulletins name the consortium as its "
            f"name lists it), 行 (rows) {', '.join(str(r) for r in first)}"]


def union_notes(con: duckdb.DuckDBPyConnection, groups: str) -> list[str]:
    """The file's note on the consortia it lists one member per row (rows, bulletins, the first rows); ``groups`` is
    ``fold_groups``' table."""
    rows, bulletins, first, nameless = con.execute(
        f"SELECT coalesce(sum(_fold_rows), 0), count(*), list(_fold_first ORDER BY _fold_first)[1:5], "
        f"list_sort(flatten(list(_fold_nameless)))[1:5] FROM {groups}"
    ).fetchone()
    if not bulletins:
        return []
    notes = [f"联合体成员各占一行: {rows} 行读作 {bulletins} 条公告, 中标人为联合体 (a consortium listed one member per row: "
             f"{rows} rows read as {bulletins} bulletins naming the consortium), 首行 (first rows) "
             f"{', '.join(str(r) for r in first)}"]
    if nameless:
        notes.append(f"联合体成员行无名称, 该联合体的成员代码不配对 (a consortium member row names no member: the "
                     f"consortium's member codes are not paired with its names), 行 (rows) "
                     f"{', '.join(str(r) for r in nameless)}")
    return notes


def folded_rows_sql(source: str, key_sql: str, part_sql: str, present: set[str], groups: str) -> str:
    """(source_row, first_row) of each member row folded into another row: the cells blanked on a member's row belong
    to the bulletin its first row became (raw.load_blanked_cells.record_row); ``groups`` is ``fold_groups``' table."""
    return f"""(SELECT DISTINCT s.source_row, g._fold_first AS first_row
               FROM {_keyed(source, key_sql, part_sql, present, "source_row")} AS s
               JOIN {groups} AS g
                 ON g._fold_key = s._fold_key AND g._fold_part = s._fold_part AND g._fold_union = s._fold_union
               WHERE s.source_row <> g._fold_first)"""
