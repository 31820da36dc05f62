"""The OCDS mapping as DuckDB SQL: one release per bulletin, one record (with its compiled release) per deal.

The same mapping as ``ocds.bulletin_release`` / ``ocds._compile`` (the executable specification the
tests hold this SQL to), written so that no row passes through Python. Apart from ``ocds.py``, which
chooses the rows and writes the packages: this module only turns columns into JSON text.
"""
from __future__ import annotations

from dagster_project.publish.ocds_config import CANDIDATE_SEPARATORS, package_suffix, release_stem


# ------------------------------------------------------------------------- building releases in SQL
#
# The same mapping as ``ocds.bulletin_release`` / ``ocds._compile``, written as DuckDB SQL so that no row
# passes through Python. JSON text is assembled from ``to_json`` pieces: ``_obj`` / ``_arr`` drop
# absent members (``concat_ws`` skips NULLs, ``'"k":' || NULL`` is NULL) and turn an empty object or
# array into NULL, which is exactly ``_drop_empty``. The compiled release of a deal is an aggregate
# over its releases in (date, bulletin key) order: for every member the last value present wins
# (``arg_max(value, seq)`` skips NULLs), and arrays of objects with ids (parties, awards and their
# suppliers, contracts, documents) are grouped by id, in order of first appearance. A party's roles
# are the union of its roles in order of first appearance. (One difference from the dict merge: a
# party appearing twice in one release, e.g. a buyer acting as its own agency, is one party in the
# compiled release, as the OCDS merge rules say.)

def _q(s: str) -> str:
    return "'" + str(s).replace("'", "''") + "'"


def _js(expr: str) -> str:
    """JSON text of a scalar SQL expression; NULL stays NULL; empty strings count as absent."""
    return f"to_json(NULLIF({expr}, ''))"


def _obj(*members: tuple[str, str]) -> str:
    """JSON object text from (key, JSON text or NULL) members, absent members left out, {} -> NULL."""
    parts = ", ".join(f"'\"{k}\":' || ({v})" for k, v in members)
    return f"NULLIF('{{' || concat_ws(',', {parts}) || '}}', '{{}}')"


def _arr(*items: str) -> str:
    return f"NULLIF('[' || concat_ws(',', {', '.join(items)}) || ']', '[]')"


def _each(list_expr: str, item: str) -> str:
    """The JSON texts of ``item`` (an expression of ``x``) for each element ``x`` of a list, joined by
    commas (an array's inside); NULL when the list is empty or NULL."""
    return f"NULLIF(array_to_string(list_transform({list_expr}, lambda x: {item}), ','), '')"


def _agg_arr(item: str, order: str) -> str:
    """JSON array text aggregated over a group (NULL items skipped; no item -> NULL)."""
    return f"'[' || string_agg({item}, ',' ORDER BY {order}) || ']'"


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


def _party_sql(name: str, code: str, scheme: str) -> tuple[str, str, str]:
    """(id, name, code) expressions of a party as ``_party`` builds it (id NULL = no party)."""
    n, c = f"NULLIF({name}, '')", f"NULLIF({code}, '')"
    pid = f"(CASE WHEN {c} IS NOT NULL THEN {_q(scheme + '-')} || {c} WHEN {n} IS NOT NULL THEN 'name-' || {n} END)"
    return pid, n, c


def _party_json(pid: str, name: str, code: str, roles_json: str, scheme: str) -> str:
    identifier = _obj(("scheme", _js(f"(CASE WHEN {code} IS NOT NULL THEN {_q(scheme)} END)")),
                      ("id", _js(code)), ("legalName", _js(f"(CASE WHEN {code} IS NOT NULL THEN {name} END)")))
    return f"(CASE WHEN {pid} IS NOT NULL THEN {_obj(('id', _js(pid)), ('roles', roles_json), ('name', _js(name)), ('identifier', identifier))} END)"


# A release needs an ocid (a deal key), an id and a date: a bulletin without one is left out of the
# packages (it stays in trading_bulletins; dbt reports it as QUAR_BULLETIN_NO_DATE).
_RELEASE_COMPLETE = "coalesce(deal_key, '') <> '' AND coalesce(rid, '') <> '' AND date_s IS NOT NULL"


def flat_sql(source_sql: str, types: dict[str, str], cfg: dict) -> str:
    """One row per release with every value the JSON needs, numbered ``seq`` in package order (within
    its ``_part``, a column of ``source_sql`` when it has one: the fiscal-year part the release is written in)."""
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
    b_id, b_name, b_code = _party_sql(col("tenderer_name"), col("tenderer_code"), scheme)
    a_id, a_name, a_code = _party_sql(col("tender_agency_name"), col("tender_agency_code"), scheme)
    w_id, w_name, w_code = _party_sql(col("win_bidder_name"), col("win_bidder_code"), scheme)
    deal_budget, budget = col("deal_budget_amount_yuan"), col("budget_amount_yuan")
    bidders = f"coalesce({col('bidder_count')}, {col('deal_bidder_count')})"
    sep = f"'[{CANDIDATE_SEPARATORS}]'"
    trimmed = lambda e: f"NULLIF(trim({e}), '')"  # noqa: E731
    # the candidates of a pending award, as ``candidates`` reads them: list of {id, name, code, rank}
    cands = f"""CASE WHEN tag = 'award' AND award_status = 'pending' THEN list_filter(list_transform(
                CASE WHEN cand_order IS NOT NULL OR NOT regexp_matches(coalesce(cand_name, ''), {sep})
                     THEN [{{'n': cand_name, 'c': cand_code, 'r': CAST(coalesce(cand_order, 1) AS INTEGER)}}]
                     ELSE list_transform(string_split_regex(cand_name, {sep}), lambda n, i: {{'n': n,
                          'c': CAST(CASE WHEN regexp_matches(coalesce(cand_code, ''), {sep})
                                         THEN string_split_regex(cand_code, {sep})[i] END AS VARCHAR),
                          'r': CAST(i AS INTEGER)}}) END,
                lambda x: {{'id': CASE WHEN {trimmed('x.c')} IS NOT NULL THEN {_q(scheme + '-')} || trim(x.c)
                                      WHEN {trimmed('x.n')} IS NOT NULL THEN 'name-' || trim(x.n) END,
                           'name': {trimmed('x.n')}, 'code': {trimmed('x.c')}, 'rank': x.r}}),
                lambda x: x.id IS NOT NULL AND x.id IS DISTINCT FROM w_id) END"""
    return f"""
        SELECT *, list_filter(cands, lambda x: x.rank = 1)[1].id AS p_id,
               list_filter(cands, lambda x: x.rank = 1)[1].name AS p_name
        FROM (
        SELECT *, {cands} AS cands FROM (
        SELECT row_number() OVER (PARTITION BY _part ORDER BY deal_key, sort_time, rid) - 1 AS seq, *,
               CASE WHEN tag IN ('award', 'contract', 'implementation') THEN w_id0 END AS w_id
        FROM (SELECT * FROM (
            SELECT {col('_part')} AS _part, {_q(cfg['ocid_prefix'])} || deal_key AS ocid, deal_key, bulletin_key AS rid,
                   {col('notice_send_time')} AS sort_time,
                   {_iso_sql(col('notice_send_time'), types.get('notice_send_time'), tz)} AS date_s,
                   {tag} AS tag, {award_status} AS award_status,
                   NULLIF({col('notice_name')}, '') AS notice_name,
                   {b_id} AS b_id, {b_name} AS b_name, {b_code} AS b_code,
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
    cur, scheme = _js(_q(cfg["currency"])), cfg["party_scheme"]
    amount = lambda e: _obj(("amount", f"to_json({e})"), ("currency", f"(CASE WHEN {e} IS NOT NULL THEN {cur} END)"))  # noqa: E731
    w = "(CASE WHEN tag IN ('award', 'contract', 'implementation') THEN {} END)"
    parties = _arr(_party_json("b_id", "b_name", "b_code", "'[\"buyer\"]'", scheme),
                   _party_json("a_id", "a_name", "a_code", "'[\"procuringEntity\"]'", scheme),
                   _party_json("w_id", w.format("w_name"), w.format("w_code"), "'[\"supplier\",\"tenderer\"]'", scheme),
                   _each("cands", _party_json("x.id", "x.name", "x.code", "'[\"tenderer\"]'", scheme)))
    document = _obj(("id", _js("rid || '-notice'")),
                    ("documentType", _js("CASE WHEN tag = 'tender' THEN 'tenderNotice' END")),
                    ("title", _js("notice_name")), ("url", _js("url")), ("language", "'\"zh\"'"))
    tender = _obj(
        ("id", _js("deal_key")),
        ("title", _js("CASE WHEN tag = 'tender' THEN notice_name END")),
        ("value", amount("tender_amount")),
        ("tenderPeriod", _obj(("startDate", _js("period_start")), ("endDate", _js("period_end")))),
        ("numberOfTenderers", "to_json(n_tenderers)"),
        ("procuringEntity", f"(CASE WHEN a_id IS NOT NULL THEN {_obj(('id', _js('a_id')), ('name', _js('a_name')))} END)"),
        ("mainProcurementCategory", _js("category")),
        ("status", _js("CASE WHEN tag = 'tenderCancellation' THEN 'cancelled' END")),
        ("documents", f"(CASE WHEN url IS NOT NULL THEN {_arr(document)} END)"),
        ("tenderers", _arr(_each("cands", _obj(("id", _js("x.id")), ("name", _js("x.name")))))),
    )
    award = _obj(
        ("id", _js("deal_key || CASE WHEN award_status = 'pending' THEN '-candidates' ELSE '-award' END")),
        ("title", _js("notice_name")), ("status", _js("award_status")), ("date", _js("date_s")),
        ("value", amount("bid_amount")),
        ("suppliers", f"(CASE WHEN w_id IS NOT NULL THEN {_arr(_obj(('id', _js('w_id')), ('name', _js('w_name'))))} "
                      f"WHEN p_id IS NOT NULL THEN {_arr(_obj(('id', _js('p_id')), ('name', _js('p_name'))))} END)"),
    )
    contract = _obj(
        ("id", _js("deal_key || '-contract'")), ("awardID", _js("deal_key || '-award'")),
        ("title", _js("notice_name")), ("status", "'\"active\"'"), ("dateSigned", _js("signed_s")),
        ("value", amount("bid_amount")),
    )
    return _obj(
        ("ocid", _js("ocid")), ("id", _js("rid")), ("date", _js("date_s")), ("tag", "to_json([tag])"),
        ("initiationType", "'\"tender\"'"), ("language", "'\"zh\"'"), ("parties", parties),
        ("buyer", f"(CASE WHEN b_id IS NOT NULL THEN {_obj(('id', _js('b_id')), ('name', _js('b_name')))} END)"),
        ("tender", tender),
        ("awards", f"(CASE WHEN tag = 'award' THEN {_arr(award)} END)"),
        ("contracts", f"(CASE WHEN tag = 'contract' THEN {_arr(contract)} END)"),
    )


def records_sql(cfg: dict, flat: str, offset: int = 0) -> str:
    """One row per deal (``s``: package position from ``offset``, ``item``: record JSON text) of ``flat``.

    ``flat`` is a relation of ``flat_sql`` rows holding whole deals (a contiguous ``seq`` range).
    """
    cur, scheme, per = _js(_q(cfg["currency"])), cfg["party_scheme"], int(cfg["releases_per_package"])
    amount = lambda e: _obj(("amount", f"to_json({e})"), ("currency", f"(CASE WHEN {e} IS NOT NULL THEN {cur} END)"))  # noqa: E731
    link = _obj(
        ("url", _js(f"{_q(cfg['base_uri'] + release_stem(cfg) + '-')} || printf('%04d', seq // {per} + 1) "
                    f"|| {_q(package_suffix(cfg) + '#')} || url_encode(rid)")),
        ("date", "coalesce(to_json(date_s), 'null')"), ("tag", "to_json([tag])"),
    )
    party = _obj(("id", _js("pid")), ("roles", "roles"), ("name", _js("pname")),
                 ("identifier", _obj(("scheme", _js(f"CASE WHEN pcode IS NOT NULL THEN {_q(scheme)} END")),
                                     ("id", _js("pcode")), ("legalName", _js("CASE WHEN pcode IS NOT NULL THEN pname END")))))
    supplier = _obj(("id", _js("sid")), ("name", _js("sname")))
    tenderer = _obj(("id", _js("pid")), ("name", _js("pname")))
    award = _obj(("id", _js("award_id")), ("title", _js("title")), ("status", _js("status")), ("date", _js("date_s")),
                 ("value", amount("amount")), ("suppliers", "suppliers"))
    contract = _obj(("id", _js("deal_key || '-contract'")), ("awardID", _js("deal_key || '-award'")),
                    ("title", _js("title")), ("status", "'\"active\"'"), ("dateSigned", _js("signed_s")),
                    ("value", amount("amount")))
    document = _obj(("id", _js("rid || '-notice'")),
                    ("documentType", _js("CASE WHEN tag = 'tender' THEN 'tenderNotice' END")),
                    ("title", _js("notice_name")), ("url", _js("url")), ("language", "'\"zh\"'"))
    last = lambda e: f"arg_max({e}, seq)"  # noqa: E731  (the last value present wins)
    tender = _obj(
        ("id", _js("deal_key")), ("title", _js("title")), ("value", amount("tender_amount")),
        ("tenderPeriod", _obj(("startDate", _js("period_start")), ("endDate", _js("period_end")))),
        ("numberOfTenderers", "to_json(n_tenderers)"),
        ("procuringEntity", f"(CASE WHEN a_id IS NOT NULL THEN {_obj(('id', _js('a_id')), ('name', _js('a_name')))} END)"),
        ("mainProcurementCategory", _js("category")), ("status", _js("tender_status")), ("documents", "documents"),
        ("tenderers", "tenderers"),
    )
    compiled = _obj(
        ("ocid", _js("ocid")), ("id", _js("ocid || '-compiled'")), ("date", _js("date_s")),
        ("tag", "'[\"compiled\"]'"), ("initiationType", "'\"tender\"'"), ("language", "'\"zh\"'"),
        ("parties", "parties"),
        ("buyer", f"(CASE WHEN b_id IS NOT NULL THEN {_obj(('id', _js('b_id')), ('name', _js('b_name')))} END)"),
        ("tender", tender), ("awards", "awards"), ("contracts", "contracts"),
    )
    record = _obj(("ocid", _js("ocid")), ("releases", "links"), ("compiledRelease", compiled))
    return f"""
        WITH party_slots AS (
            SELECT ocid, seq, p.*
            FROM {flat}, unnest([
                {{'k': 0, 'pid': b_id, 'pname': b_name, 'pcode': b_code, 'role': 'buyer'}},
                {{'k': 1, 'pid': a_id, 'pname': a_name, 'pcode': a_code, 'role': 'procuringEntity'}},
                {{'k': 2, 'pid': w_id, 'pname': w_name, 'pcode': w_code, 'role': 'supplier'}},
                {{'k': 3, 'pid': w_id, 'pname': w_name, 'pcode': w_code, 'role': 'tenderer'}}]) AS u(p)
            WHERE p.pid IS NOT NULL
            UNION ALL  -- the candidates a release names, after its buyer, agency and winner
            SELECT ocid, seq, 3 + i AS k, c.id AS pid, c.name AS pname, c.code AS pcode, 'tenderer' AS role
            FROM (SELECT ocid, seq, unnest(cands) AS c, generate_subscripts(cands, 1) AS i
                  FROM {flat} WHERE len(cands) > 0)
        ), candidate_slots AS (
            SELECT * FROM party_slots WHERE k > 3
        ), tenderers AS (  -- tender.tenderers: every candidate named, in order of first appearance
            SELECT ocid, {_agg_arr(tenderer, 'first')} AS tenderers
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
            SELECT g.ocid, {_agg_arr(party, 'g.first')} AS parties
            FROM party_groups g JOIN (
                SELECT ocid, pid, {_agg_arr('to_json(role)', 'last_seq DESC, last_k')} AS roles FROM party_roles GROUP BY ALL
            ) r USING (ocid, pid)
            GROUP BY g.ocid
        ), award_rows AS (
            SELECT ocid, seq, deal_key || CASE WHEN award_status = 'pending' THEN '-candidates' ELSE '-award' END
                   AS award_id, notice_name, award_status, date_s, bid_amount,
                   coalesce(w_id, p_id) AS w_id, CASE WHEN w_id IS NOT NULL THEN w_name ELSE p_name END AS w_name
            FROM {flat} WHERE tag = 'award'
        ), award_suppliers AS (
            SELECT ocid, award_id, {_agg_arr(supplier, 'first')} AS suppliers
            FROM (SELECT ocid, award_id, w_id AS sid, arg_max(w_name, seq) AS sname, min(seq) AS first
                  FROM award_rows WHERE w_id IS NOT NULL GROUP BY ALL)
            GROUP BY ALL
        ), awards AS (
            SELECT ocid, {_agg_arr(award, 'first')} AS awards
            FROM (SELECT a.ocid, a.award_id, min(seq) AS first, {last('notice_name')} AS title,
                         {last('award_status')} AS status, {last('date_s')} AS date_s, {last('bid_amount')} AS amount,
                         any_value(s.suppliers) AS suppliers
                  FROM award_rows a LEFT JOIN award_suppliers s USING (ocid, award_id) GROUP BY ALL)
            GROUP BY ALL
        ), contracts AS (
            SELECT ocid, {_arr(contract)} AS contracts
            FROM (SELECT ocid, any_value(deal_key) AS deal_key, {last('notice_name')} AS title,
                         {last('signed_s')} AS signed_s, {last('bid_amount')} AS amount
                  FROM {flat} WHERE tag = 'contract' GROUP BY ALL)
        ), deals AS (
            SELECT ocid, min(seq) AS first, any_value(deal_key) AS deal_key, {last('date_s')} AS date_s,
                   {last('b_id')} AS b_id, {last('b_name')} AS b_name, {last('a_id')} AS a_id, {last('a_name')} AS a_name,
                   {last("CASE WHEN tag = 'tender' THEN notice_name END")} AS title,
                   {last('tender_amount')} AS tender_amount, {last('period_start')} AS period_start,
                   {last('period_end')} AS period_end, {last('n_tenderers')} AS n_tenderers,
                   {last('category')} AS category,
                   {last("CASE WHEN tag = 'tenderCancellation' THEN 'cancelled' END")} AS tender_status,
                   {_agg_arr(f"CASE WHEN url IS NOT NULL THEN {document} END", 'seq')} AS documents,
                   {_agg_arr(link, 'seq')} AS links
            FROM {flat} GROUP BY ocid
        )
        SELECT row_number() OVER (ORDER BY first) - 1 + {int(offset)} AS s, {record} AS item
        FROM deals LEFT JOIN parties USING (ocid) LEFT JOIN awards USING (ocid) LEFT JOIN contracts USING (ocid)
        LEFT JOIN tenderers USING (ocid)"""
