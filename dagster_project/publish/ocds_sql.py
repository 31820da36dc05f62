"""The OCDS mapping as DuckDB SQL: one release per bulletin, one record (with its compiled release) per deal.

The same mapping as ``ocds_reference.bulletin_release`` / ``ocds_reference._compile`` (the executable specification the
tests hold this SQL to), written so that no row passes through Python. Apart from ``ocds.py``, which
chooses the rows and writes the packages: this module only turns columns into JSON text.
"""
from __future__ import annotations

from dagster_project.publish.ocds_config import (
    CANDIDATE_LIST_SEPARATORS, CANDIDATE_SEPARATORS, CODE_LIST_SEPARATORS, CONSORTIUM_END, CONSORTIUM_END_AS, CONSORTIUM_MARK,
    FILLER_MAX_LENGTH, group_id_prefix, is_bidder, package_suffix, party_fillers, release_stem,
)


# ------------------------------------------------------------------------- building releases in SQL
#
# The same mapping as ``ocds_reference.bulletin_release`` / ``ocds_reference._compile``, written as DuckDB SQL so that no row
# passes through Python. Each release and each record is ONE DuckDB struct turned into JSON text by one
# ``to_json`` and ``json_strip_nulls``: an absent member is a NULL field, which the strip leaves out, and an
# object or array that would be empty is NULL itself (``_present``, ``_nonempty``), which is exactly
# ``_drop_empty``; empty strings count as absent (``_txt``). Struct fields keep their order, so the text is
# the one the member-by-member assembly of ``to_json`` pieces gave before (2.5× the CPU: ~70 small strings
# concatenated per release). The compiled release of a deal is an aggregate
# over its releases in (date, bulletin key) order: for every member the last value present wins
# (``arg_max(value, seq)`` skips NULLs), and arrays of objects with ids (parties, awards and their
# suppliers, contracts, documents) are grouped by id, in order of first appearance. A party's roles
# are the union of its roles in order of first appearance. (One difference from the dict merge: a
# party appearing twice in one release, e.g. a buyer acting as its own agency, is one party in the
# compiled release, as the OCDS merge rules say.)

def _q(s: str) -> str:
    return "'" + str(s).replace("'", "''") + "'"


# Text columns of ``flat_sql`` (and of the records' groups of its rows, which keep their values) that are NULL or not
# empty by construction (ids, names and codes NULLIF'd or prefixed, the keys of complete releases, the candidates'
# fields trimmed and NULLIF'd): as members they need no NULLIF (~30 a release: 3-5 % of building its JSON).
_NULL_OR_NONEMPTY = frozenset({"ocid", "rid", "deal_key", "b_id", "b_name", "b_code", "a_id", "a_name", "a_code",
                               "w_id", "w_name", "w_code", "p_id", "p_name", "notice_name", "url",
                               "x.id", "x.name", "x.code"})


def _txt(expr: str) -> str:
    """A text member: an empty string counts as absent (NULL)."""
    return expr if expr in _NULL_OR_NONEMPTY else f"NULLIF({expr}, '')"


def _nonempty_text(expr: str) -> str:
    """A text member never empty when its parts are not NULL (a key of a complete release and a literal suffix)."""
    return expr


def _present(condition: str, struct: str) -> str:
    """An object member that is there only when ``condition`` holds (else NULL: left out, never ``{}``)."""
    return f"(CASE WHEN {condition} THEN {struct} END)"


def _nonempty(list_expr: str) -> str:
    """An array member left out when it has no element (NULL, never ``[]``)."""
    return f"(CASE WHEN len({list_expr}) > 0 THEN {list_expr} END)"


def _json(struct: str) -> str:
    """JSON text of a struct, its NULL members left out at every depth."""
    return f"CAST(json_strip_nulls(to_json({struct})) AS VARCHAR)"


def _amount(expr: str, currency: str) -> str:
    return _present(f"{expr} IS NOT NULL", f"{{'amount': {expr}, 'currency': {_q(currency)}}}")


def _codes(code: str) -> str:
    """The codes a code cell lists, sorted, each once."""
    return (f"list_sort(list_distinct(list_filter(list_transform(string_split_regex(coalesce({code}, ''), "
            f"'[{CODE_LIST_SEPARATORS}]'), lambda c: trim(c)), lambda c: c <> '')))")


def _members(name: str, code: str, bidder: bool = True) -> str:
    """``ocds_config.consortium_codes`` in SQL: the member codes of a consortium party, else NULL."""
    codes = _codes(code)
    marked = f"coalesce(regexp_matches({name}, {_q(CONSORTIUM_MARK)}), false)" if bidder else "false"
    # cheap tests first: nearly every party has one code and no consortium word (1 M releases, four parties each)
    maybe = (f"coalesce(regexp_matches({code}, '[{CODE_LIST_SEPARATORS}]'), false) OR "
             f"coalesce(contains({name}, '联合体') OR contains({name}, '牵头') OR contains({name}, '成员'), false)")
    return f"(CASE WHEN {maybe} THEN CASE WHEN len({codes}) > 1 OR {marked} THEN {codes} END END)"


def _party_id(name: str, code: str, scheme: str, roles: tuple[str, ...] = ("tenderer",)) -> str:
    """A party's id as ``ocds_reference._party`` gives it: a consortium's from its members' codes sorted (prefix by role:
    ``ocds_config.group_id_prefix``)."""
    members = _members(name, code, is_bidder(roles))
    return (f"(CASE WHEN len({members}) > 0 THEN {_q(group_id_prefix(list(roles)))} || array_to_string(list_sort({members}), '+') "
            f"WHEN {code} IS NOT NULL AND {members} IS NULL THEN {_q(scheme + '-')} || {code} "
            f"WHEN {name} IS NOT NULL THEN 'name-' || {name} END)")


def _party(pid: str, name: str, code: str, roles: str, scheme: str) -> str:
    """A party as ``ocds_reference._party`` builds it (NULL when ``pid`` is: no party); ``name``/``code`` NULL or not empty.
    Whether it is a group is read from its id (``_party_id`` knew its roles: a buyer's consortium mark makes none)."""
    members = _codes(code)
    grouped = f"(starts_with({pid}, 'consortium-') OR starts_with({pid}, 'joint-'))"
    identifier = _present(f"{code} IS NOT NULL AND NOT {grouped}",
                          f"{{'scheme': {_q(scheme)}, 'id': {code}, 'legalName': {name}}}")
    others = _present(f"{grouped} AND len({members}) > 0",
                      f"list_transform({members}, lambda c: {{'scheme': {_q(scheme)}, 'id': c}})")
    return _present(f"{pid} IS NOT NULL", f"{{'id': {pid}, 'roles': {roles}, 'name': {name}, 'identifier': {identifier}, "
                                          f"'additionalIdentifiers': {others}}}")


def _ref(pid: str, name: str) -> str:
    """``{id, name}`` of an organization (NULL when ``pid`` is)."""
    return _present(f"{pid} IS NOT NULL", f"{{'id': {pid}, 'name': {name}}}")


def _document() -> str:
    """The notice of a release (columns ``rid``, ``tag``, ``notice_name``, ``url``)."""
    doc_id = _nonempty_text("rid || '-notice'")
    return (f"{{'id': {doc_id}, 'documentType': CASE WHEN tag = 'tender' THEN 'tenderNotice' END, "
            f"'title': {_txt('notice_name')}, 'url': {_txt('url')}, 'language': 'zh'}}")


def _period() -> str:
    start, end = _txt("period_start"), _txt("period_end")
    return _present(f"{start} IS NOT NULL OR {end} IS NOT NULL", f"{{'startDate': {start}, 'endDate': {end}}}")


def _ordered_list(value: str, *keys: str, where: str | None = None) -> str:
    """Aggregate: the list of ``value`` in the order of ``keys`` (unique within a group). ``list(… ORDER BY …)``
    buffers and sorts every group apart (half the cost of the records); this lists (keys, value) structs and sorts
    each list, the keys coming first in the struct, then drops them."""
    fields = ", ".join(f"'k{i}': {k}" for i, k in enumerate(keys))
    agg = f"list({{{fields}, 'v': {value}}})" + (f" FILTER (WHERE {where})" if where else "")
    return f"list_transform(list_sort({agg}), lambda x: x.v)"


def _map_case(expr: str, mapping: dict[str, str]) -> str:
    if not mapping:
        return "NULL"
    whens = " ".join(f"WHEN {_q(k)} THEN {_q(v)}" for k, v in mapping.items())
    return f"(CASE {expr} {whens} END)"


def _iso_sql(expr: str, duckdb_type: str | None, tz: str) -> str:
    if duckdb_type is None:
        return "NULL::VARCHAR"
    t = duckdb_type.upper()
    if t in {"TIMESTAMP", "DATE", "TIMESTAMP_S", "TIMESTAMP_MS", "TIMESTAMP_NS"} or t.startswith("TIMESTAMP("):
        return f"strftime(CAST({expr} AS TIMESTAMP), '%Y-%m-%dT%H:%M:%S') || {_q(tz)}"
    return f"CAST({expr} AS VARCHAR)"


def _no_filler(name: str) -> str:
    """``name``, NULL when it is a filler naming no party (``ocds_config.is_party_filler``: 无, /, null …)."""
    listed = ", ".join(_q(w) for w in party_fillers())
    return (f"(CASE WHEN length({name}) <= {FILLER_MAX_LENGTH} AND lower(regexp_replace({name}, '[\\s\\p{{Zs}}]', "
            f"'', 'g')) IN ({listed}) THEN NULL ELSE {name} END)")


def _party_sql(name: str, code: str, scheme: str, roles: tuple[str, ...]) -> tuple[str, str, str]:
    """(id, name, code) expressions of a party as ``_party`` builds it (id NULL = no party; a filler name is none)."""
    n, c = _no_filler(f"NULLIF({name}, '')"), f"NULLIF({code}, '')"
    return _party_id(n, c, scheme, roles), n, c


# A release needs an ocid (a deal key), an id and a date: a bulletin without one is left out of the
# packages (it stays in trading_bulletins; dbt reports it as QUAR_BULLETIN_NO_DATE).
FLAT_ORDER = "deal_key, sort_time, rid"


def source_order(types: dict[str, str]) -> str:
    """``_part`` then ``FLAT_ORDER`` in the columns of ``flat_sql``'s source (``sort_time`` is ``notice_send_time``,
    ``rid`` is ``bulletin_key``): the source rows sorted by it and then turned into flat rows (projections and a
    filter, which keep the order: DuckDB's "order preservation") are the flat rows in ``_part, FLAT_ORDER`` order.
    Sorting the narrow source rows, not the wide flat ones (ISO date texts, party ids, candidate lists): −25 % of the
    flat COPY's CPU at 10 M rows, where the sort spills past the memory cap (``duckdb_memory``)."""
    return ", ".join(["_part", "deal_key"] + (["notice_send_time"] if "notice_send_time" in types else [])
                     + ["bulletin_key"])
_RELEASE_COMPLETE = "coalesce(deal_key, '') <> '' AND coalesce(rid, '') <> '' AND date_s IS NOT NULL"


def flat_sql(source_sql: str, types: dict[str, str], cfg: dict) -> str:
    """One row per release with every value the JSON needs (``_part``: a column of ``source_sql`` when it has
    one, the fiscal-year part the release is written in). Package order within a part is ``FLAT_ORDER``: the
    caller numbers the rows (``seq``) by their place once sorted so (a window numbering them sorted the wide rows
    once more: ~40 % of this query's CPU)."""
    tz, scheme = cfg["timezone"], cfg["party_scheme"]
    col = lambda c: c if c in types else "NULL"  # noqa: E731  (a column the marts may lack)
    bt = cfg["bulletin_types"]
    tag_of = {k: v["tag"] for k, v in bt.items()}
    status_of = {k: v.get("award_status", "active") for k, v in bt.items()}
    default = cfg["default_bulletin_type"]
    tag = (f"coalesce({_map_case(col('bulletin_type'), tag_of)}, {_map_case(col('bulletin_type_code'), tag_of)}, "
           f"{_q(default['tag'])})")
    award_status = (f"coalesce(CASE WHEN {_map_case(col('bulletin_type'), tag_of)} IS NOT NULL THEN "
                    f"{_map_case(col('bulletin_type'), status_of)} WHEN {_map_case(col('bulletin_type_code'), tag_of)} "
                    f"IS NOT NULL THEN {_map_case(col('bulletin_type_code'), status_of)} ELSE "
                    f"{_q(default.get('award_status', 'active'))} END, 'active')")
    b_id, b_name, b_code = _party_sql(col("tenderer_name"), col("tenderer_code"), scheme, ("buyer",))
    a_id, a_name, a_code = _party_sql(col("tender_agency_name"), col("tender_agency_code"), scheme,
                                      ("procuringEntity",))
    w_id, w_name, w_code = _party_sql(col("win_bidder_name"), col("win_bidder_code"), scheme, ("supplier",))
    deal_budget, budget = col("deal_budget_amount_yuan"), col("budget_amount_yuan")
    bidders = f"coalesce({col('bidder_count')}, {col('deal_bidder_count')})"
    sep = f"'[{CANDIDATE_SEPARATORS}]'"
    trimmed = lambda e: f"NULLIF(trim({e}), '')"  # noqa: E731
    named = lambda e: _no_filler(trimmed(e))  # noqa: E731  (a candidate's name: a filler is none)
    # the candidates of a pending award, as ``candidates`` reads them: list of {id, name, code, rank}
    # a consortium is one candidate (ocds_config.candidate_items), its codes paired by ；/; only
    mark, hard = _q(CONSORTIUM_MARK), f"'[{CANDIDATE_LIST_SEPARATORS}]'"
    # a ranked row: one candidate, or its rank's several joined at ；/; (a tie, review R4b)
    ended = f"replace(coalesce(cand_name, ''), {_q(CONSORTIUM_END)}, {_q(CONSORTIUM_END_AS)})"
    items = (f"CASE WHEN cand_order IS NOT NULL THEN list_filter(string_split_regex(coalesce(cand_name, ''), {hard}), "
             f"lambda p: trim(p) <> '') "
             f"ELSE flatten(list_transform(string_split_regex({ended}, {hard}), lambda p: "
             f"CASE WHEN regexp_matches(p, {mark}) THEN [p] ELSE string_split_regex(p, '、') END)) END")
    # the mark looked for in each candidate (ocds_reference.candidates): 甲、乙联合体；丙 marks none as a whole
    marked = f"len(list_filter(string_split_regex({ended}, {hard}), lambda p: regexp_matches(p, {mark}))) > 0"
    code_sep = f"CASE WHEN {marked} THEN {hard} ELSE {sep} END"
    # the code cell's pieces; a separator ending it (A；B； beside 甲；乙) is no code of its own (ocds_reference.candidates)
    pieces = f"string_split_regex(cand_code, {code_sep})"
    cands = f"""CASE WHEN tag = 'award' AND award_status = 'pending' THEN list_filter(list_transform(
                CASE WHEN len({items}) < 2
                     THEN [{{'n': cand_name, 'c': cand_code, 'r': CAST(coalesce(cand_order, 1) AS INTEGER)}}]
                     ELSE list_transform({items}, lambda n, i: {{'n': n,
                          'c': CAST(CASE WHEN regexp_matches(coalesce(cand_code, ''), {code_sep})
                                          AND (len({pieces}) = len({items}) OR len({pieces}) = len({items}) + 1
                                               AND trim({pieces}[-1]) = '')
                                         THEN {pieces}[i] END AS VARCHAR),
                          'r': CAST(coalesce(cand_order, i) AS INTEGER)}}) END,
                lambda x: {{'id': {_party_id(named('x.n'), trimmed('x.c'), scheme)},
                           'name': {named('x.n')}, 'code': {trimmed('x.c')}, 'rank': x.r}}),
                lambda x: x.id IS NOT NULL AND x.id IS DISTINCT FROM w_id) END"""
    return f"""
        SELECT *, list_filter(cands, lambda x: x.rank = 1)[1].id AS p_id,
               list_filter(cands, lambda x: x.rank = 1)[1].name AS p_name
        FROM (
        SELECT *, {cands} AS cands FROM (
        SELECT *,
               CASE WHEN tag IN ('award', 'contract', 'implementation') THEN w_id0 END AS w_id
        FROM (SELECT * FROM (
            SELECT {col('_part')} AS _part, {_q(cfg['ocid_prefix'])} || deal_key AS ocid, deal_key, bulletin_key AS rid,
                   {col('notice_send_time')} AS sort_time,
                   {_iso_sql(col('notice_send_time'), types.get('notice_send_time'), tz)} AS date_s,
                   {tag} AS tag, {award_status} AS award_status,
                   NULLIF({col('notice_name')}, '') AS notice_name,
                   {b_id} AS b_id, {b_name} AS b_name, {b_code} AS b_code,
                   coalesce({_map_case(col('trade_area'), cfg.get('public_party_roles') or {})}, 'buyer') AS b_role,
                   {a_id} AS a_id, {a_name} AS a_name, {a_code} AS a_code,
                   {w_id} AS w_id0, {w_name} AS w_name, {w_code} AS w_code,
                   CAST(CASE WHEN {deal_budget} IS NOT NULL AND {deal_budget} <> 0 THEN {deal_budget}
                        ELSE {budget} END AS DOUBLE) AS tender_amount,
                   {_iso_sql(col('doc_get_start_at'), types.get('doc_get_start_at'), tz)} AS period_start,
                   {_iso_sql(col('bid_deadline_at'), types.get('bid_deadline_at'), tz)} AS period_end,
                   {_iso_sql(col('contract_signed_at'), types.get('contract_signed_at'), tz)} AS signed_s,
                   {bidders} AS n_tenderers,
                   {_map_case(col('trade_area'), cfg.get('trade_areas') or {})} AS category,
                   CAST({col('bid_amount_yuan')} AS DOUBLE) AS bid_amount,
                   NULLIF({col('url')}, '') AS url,
                   NULLIF(trim({col('win_candidate_name')}), '') AS cand_name,
                   NULLIF(trim({col('win_candidate_code')}), '') AS cand_code,
                   {col('win_candidate_order')} AS cand_order
            FROM ({source_sql}) s
        ) WHERE {_RELEASE_COMPLETE})))"""


def release_json_sql(cfg: dict) -> str:
    """The release of one flat row (columns of ``flat_sql``) as JSON text."""
    cur, scheme, t = cfg["currency"], cfg["party_scheme"], _txt
    won = "tag IN ('award', 'contract', 'implementation')"
    buyer = _party(t("b_id"), t("b_name"), t("b_code"), "[b_role]", scheme)   # a sale's seller: not the buyer
    agency = _party(t("a_id"), t("a_name"), t("a_code"), "['procuringEntity']", scheme)
    winner = _party(t("w_id"), t(f"CASE WHEN {won} THEN w_name END"), t(f"CASE WHEN {won} THEN w_code END"),
                    "['supplier', 'tenderer']", scheme)
    candidate = _party(t("x.id"), t("x.name"), t("x.code"), "['tenderer']", scheme)
    parties = (f"list_concat(list_filter([{buyer}, {agency}, {winner}], lambda p: p IS NOT NULL), "
               f"list_transform(coalesce(cands, []), lambda x: {candidate}))")
    tenderers = f"list_transform(cands, lambda x: {_ref(t('x.id'), t('x.name'))})"
    tender_title = t("CASE WHEN tag = 'tender' THEN notice_name END")
    tender = (f"{{'id': {t('deal_key')}, 'title': {tender_title}, "
              f"'value': {_amount('tender_amount', cur)}, 'tenderPeriod': {_period()}, 'numberOfTenderers': n_tenderers, "
              f"'procuringEntity': {_ref(t('a_id'), t('a_name'))}, 'mainProcurementCategory': {t('category')}, "
              f"'status': CASE WHEN tag = 'tenderCancellation' THEN 'cancelled' END, "
              f"'documents': {_present('url IS NOT NULL', '[' + _document() + ']')}, "
              f"'tenderers': {_nonempty(tenderers)}}}")
    award_id = _nonempty_text("deal_key || CASE WHEN award_status = 'pending' THEN '-candidates' ELSE '-award' END")
    suppliers = (f"(CASE WHEN w_id IS NOT NULL THEN [{_ref(t('w_id'), t('w_name'))}] "
                 f"WHEN p_id IS NOT NULL THEN [{_ref(t('p_id'), t('p_name'))}] END)")
    award = (f"{{'id': {award_id}, 'title': {t('notice_name')}, 'status': {t('award_status')}, 'date': {t('date_s')}, "
             f"'value': {_amount('bid_amount', cur)}, 'suppliers': {suppliers}}}")
    contract_id, award_ref = _nonempty_text("deal_key || '-contract'"), _nonempty_text("deal_key || '-award'")
    contract = (f"{{'id': {contract_id}, 'awardID': {award_ref}, 'title': {t('notice_name')}, 'status': 'active', "
                f"'dateSigned': {t('signed_s')}, 'value': {_amount('bid_amount', cur)}}}")
    is_award, is_contract = "tag = 'award'", "tag = 'contract'"
    buyer_id = "CASE WHEN b_role = 'buyer' THEN b_id END"   # the top-level buyer: no sale's seller (public_party_roles)
    return _json(
        f"{{'ocid': {t('ocid')}, 'id': {t('rid')}, 'date': {t('date_s')}, 'tag': [tag], "
        f"'initiationType': 'tender', 'language': 'zh', 'parties': {_nonempty(parties)}, "
        f"'buyer': {_ref(t(buyer_id), t('b_name'))}, 'tender': {tender}, "
        f"'awards': {_present(is_award, '[' + award + ']')}, "
        f"'contracts': {_present(is_contract, '[' + contract + ']')}}}")


# What of a record's text no release of its part holds, for the privacy scan (``ocds_packages.PackageChecks``): a
# record is built from its part's flat rows, as the part's releases are, and every string value it holds is one those
# releases hold under a key of the same role for the scan (identifier or free text, ``privacy_scan``) — ocid, party
# ids, names, codes and legal names, buyer, procuring entity, tenderers and suppliers, titles, document ids and urls,
# award and contract ids, dates, the configured tags, statuses and categories — and every number one they hold too
# (amounts, numbers of tenderers: the same values, so the same JSON text), but for the tag ``compiled`` (no digit)
# and two: the release links' ``url``s (the release package's URI, ``#``, the release id url-encoded: a ``%`` and two
# hex digits, ``%23`` for ``#``, can join the digits after it into a number no release id holds) and the compiled
# release's ``id`` (ocid + ``-compiled``). ``records_sql``'s ``own_text`` is those values as JSON under identifier
# keys, as in the record (an array's elements take the array's key): the record package's scan reads it (and the
# envelope line) instead of every line, its part's release packages' scan the rest (JSON text has no run character
# between values, so a line's runs are its values' runs; tests/test_publish_ocds_record_scan.py holds a fixture's
# records to this list).
RECORD_OWN_TEXT = ("releases[].url", "compiledRelease.id")


def _party_slots(rows: str) -> str:
    """Every party a release of ``rows`` names, one row per (release, slot, role): buyer, agency, winner (as supplier and
    tenderer), then the candidates. One SELECT per slot (an unnest of the four slots was decorrelated into a join on
    all)."""
    return f"""
            SELECT ocid, seq, 0 AS k, b_id AS pid, b_name AS pname, b_code AS pcode, b_role AS role
            FROM {rows} WHERE b_id IS NOT NULL
            UNION ALL
            SELECT ocid, seq, 1, a_id, a_name, a_code, 'procuringEntity' FROM {rows} WHERE a_id IS NOT NULL
            UNION ALL
            SELECT ocid, seq, 2, w_id, w_name, w_code, 'supplier' FROM {rows} WHERE w_id IS NOT NULL
            UNION ALL
            SELECT ocid, seq, 3, w_id, w_name, w_code, 'tenderer' FROM {rows} WHERE w_id IS NOT NULL
            UNION ALL  -- the candidates a release names, after its buyer, agency and winner
            SELECT ocid, seq, 3 + i AS k, c.id AS pid, c.name AS pname, c.code AS pcode, 'tenderer' AS role
            FROM (SELECT ocid, seq, unnest(cands) AS c, generate_subscripts(cands, 1) AS i
                  FROM {rows} WHERE len(cands) > 0)"""


def records_sql(cfg: dict, flat: str, offset: int = 0) -> str:
    """One row per deal (``s``: package position from ``offset``, ``item``: record JSON text, ``own_text``: the
    values of that record no release of its part holds, ``RECORD_OWN_TEXT``) of ``flat``.

    ``flat`` is a relation of ``flat_sql`` rows holding whole deals (a contiguous ``seq`` range).
    """
    cur, scheme, per, t = cfg["currency"], cfg["party_scheme"], int(cfg["releases_per_package"]), _txt
    # date_s is never NULL here (_RELEASE_COMPLETE): a link's date is always written
    url = _nonempty_text(f"{_q(cfg['base_uri'] + release_stem(cfg) + '-')} || printf('%04d', seq // {per} + 1) "
            f"|| {_q(package_suffix(cfg) + '#')} || url_encode(rid)")
    link = f"{{'url': {url}, 'date': date_s, 'tag': [tag]}}"
    party = _party(t("pid"), t("pname"), t("pcode"), "roles", scheme)
    award = (f"{{'id': {t('award_id')}, 'title': {t('title')}, 'status': {t('status')}, 'date': {t('date_s')}, "
             f"'value': {_amount('amount', cur)}, 'suppliers': suppliers}}")
    contract_id, award_ref = _nonempty_text("deal_key || '-contract'"), _nonempty_text("deal_key || '-award'")
    contract = (f"{{'id': {contract_id}, 'awardID': {award_ref}, 'title': {t('title')}, 'status': 'active', "
                f"'dateSigned': {t('signed_s')}, 'value': {_amount('amount', cur)}}}")
    last = lambda e: f"arg_max({e}, seq)"  # noqa: E731  (the last value present wins)
    tender = (f"{{'id': {t('deal_key')}, 'title': {t('title')}, 'value': {_amount('tender_amount', cur)}, "
              f"'tenderPeriod': {_period()}, 'numberOfTenderers': n_tenderers, "
              f"'procuringEntity': {_ref(t('a_id'), t('a_name'))}, 'mainProcurementCategory': {t('category')}, "
              f"'status': {t('tender_status')}, 'documents': documents, 'tenderers': tenderers}}")
    compiled_id = _nonempty_text("ocid || '-compiled'")
    compiled = (f"{{'ocid': {t('ocid')}, 'id': {compiled_id}, 'date': {t('date_s')}, "
                f"'tag': ['compiled'], 'initiationType': 'tender', 'language': 'zh', 'parties': parties, "
                f"'buyer': {_ref(t('buyer_id'), t('buyer_name'))}, 'tender': {tender}, 'awards': awards, "
                f"'contracts': contracts}}")
    record = _json(f"{{'ocid': {t('ocid')}, 'releases': links, 'compiledRelease': {compiled}}}")
    # The record's own values (RECORD_OWN_TEXT) under keys of their role, as JSON (never NULL: no strip; the same
    # writer, so the same escapes, as the item's): {"url": [its links' urls], "id": its compiled release's id}.
    # (Built as the record's own members, with the strip: +0.18 CPU-s per 29 000 records; so: +0.04-0.10.)
    own = f"CAST(to_json({{'url': list_transform(links, lambda l: l.url), 'id': {compiled_id}}}) AS VARCHAR)"
    # one name in one record is one party (ocds.named_party_ids): a party named without its code, where one identified
    # party of that name is in the record, takes that party's id — in every slot and reference, before grouping by id
    renamed = lambda e: f"coalesce(named.ids[{e}], {e})"  # noqa: E731
    cand = "{'id': " + renamed("x.id") + ", 'name': x.name, 'code': x.code, 'rank': x.rank}"
    return f"""
        WITH flat_named AS MATERIALIZED (  -- the chunk's rows read once
            SELECT * FROM {flat}
        ), named AS (  -- per record: name-<name> → the one identified party of that name (a name two share: none)
            SELECT ocid, map_from_entries(list({{'k': 'name-' || pname, 'v': pid}})) AS ids
            FROM (SELECT ocid, pname, min(pid) AS pid FROM ({_party_slots('flat_named')})
                  WHERE pname IS NOT NULL AND NOT starts_with(pid, 'name-')
                  GROUP BY ALL HAVING count(DISTINCT pid) = 1)
            GROUP BY ocid
        ), flat_rows AS MATERIALIZED (  -- the CTEs below read them eight times
            SELECT f.* REPLACE ({renamed('f.b_id')} AS b_id, {renamed('f.a_id')} AS a_id, {renamed('f.w_id')} AS w_id,
                                {renamed('f.p_id')} AS p_id, list_transform(f.cands, lambda x: {cand}) AS cands)
            FROM flat_named AS f LEFT JOIN named USING (ocid)
        ), party_slots AS ({_party_slots('flat_rows')}
        ), candidate_slots AS (
            SELECT * FROM party_slots WHERE k > 3
        ), tenderers AS (  -- tender.tenderers: every candidate named, in order of first appearance
            SELECT ocid, {_ordered_list(_ref(t('pid'), t('pname')), 'first')} AS tenderers
            FROM (SELECT ocid, pid, min(seq * 64 + k) AS first, arg_max(pname, seq * 64 + k) AS pname
                  FROM candidate_slots GROUP BY ALL)
            GROUP BY ocid
        ), party_roles AS (  -- roles of the latest release first, as _compile orders them
            SELECT ocid, pid, role, max(seq) AS last_seq, arg_max(k, seq) AS last_k FROM party_slots GROUP BY ALL
        ), party_groups AS (
            SELECT ocid, pid, min(seq * 64 + k) AS first, arg_max(pname, seq * 64 + k) AS pname,
                   arg_max(pcode, seq * 64 + k) AS pcode
            FROM party_slots GROUP BY ALL
        ), parties AS (
            SELECT g.ocid, {_ordered_list(party, 'g.first')} AS parties
            FROM party_groups g JOIN (
                SELECT ocid, pid, {_ordered_list('role', '-last_seq', 'last_k')} AS roles FROM party_roles GROUP BY ALL
            ) r USING (ocid, pid)
            GROUP BY g.ocid
        ), award_rows AS (
            SELECT ocid, seq, deal_key || CASE WHEN award_status = 'pending' THEN '-candidates' ELSE '-award' END
                   AS award_id, notice_name, award_status, date_s, bid_amount,
                   coalesce(w_id, p_id) AS w_id, CASE WHEN w_id IS NOT NULL THEN w_name ELSE p_name END AS w_name
            FROM flat_rows WHERE tag = 'award'
        ), award_suppliers AS (
            SELECT ocid, award_id, {_ordered_list(_ref(t('sid'), t('sname')), 'first')} AS suppliers
            FROM (SELECT ocid, award_id, w_id AS sid, arg_max(w_name, seq) AS sname, min(seq) AS first
                  FROM award_rows WHERE w_id IS NOT NULL GROUP BY ALL)
            GROUP BY ALL
        ), awards AS (
            SELECT ocid, {_ordered_list(award, 'first')} AS awards
            FROM (SELECT a.ocid, a.award_id, min(seq) AS first, {last('notice_name')} AS title,
                         {last('award_status')} AS status, {last('date_s')} AS date_s, {last('bid_amount')} AS amount,
                         any_value(s.suppliers) AS suppliers
                  FROM award_rows a LEFT JOIN award_suppliers s USING (ocid, award_id) GROUP BY ALL)
            GROUP BY ALL
        ), contracts AS (
            SELECT ocid, [{contract}] AS contracts
            FROM (SELECT ocid, any_value(deal_key) AS deal_key, {last('notice_name')} AS title,
                         {last('signed_s')} AS signed_s, {last('bid_amount')} AS amount
                  FROM flat_rows WHERE tag = 'contract' GROUP BY ALL)
        ), deals AS (
            SELECT ocid, min(seq) AS first, any_value(deal_key) AS deal_key, {last('date_s')} AS date_s,
                   {last("CASE WHEN b_role = 'buyer' THEN b_id END")} AS buyer_id,
                   {last("CASE WHEN b_role = 'buyer' THEN b_name END")} AS buyer_name,
                   {last('a_id')} AS a_id, {last('a_name')} AS a_name,
                   {last("CASE WHEN tag = 'tender' THEN notice_name END")} AS title,
                   {last('tender_amount')} AS tender_amount, {last('period_start')} AS period_start,
                   {last('period_end')} AS period_end, {last('n_tenderers')} AS n_tenderers,
                   {last('category')} AS category,
                   {last("CASE WHEN tag = 'tenderCancellation' THEN 'cancelled' END")} AS tender_status,
                   {_ordered_list(_document(), 'seq', where='url IS NOT NULL')} AS documents,
                   {_ordered_list(link, 'seq')} AS links
            FROM flat_rows GROUP BY ocid
        ), positions AS (  -- a deal's place in the package, numbered over the narrow (ocid, first) rows: a window
                           -- over the joined rows below carried (and sorted) every deal's lists along
            SELECT ocid, row_number() OVER (ORDER BY min(seq)) - 1 + {int(offset)} AS s FROM flat_rows GROUP BY ocid
        )
        SELECT s, {record} AS item, {own} AS own_text
        FROM deals JOIN positions USING (ocid) LEFT JOIN parties USING (ocid) LEFT JOIN awards USING (ocid)
        LEFT JOIN contracts USING (ocid) LEFT JOIN tenderers USING (ocid)"""
