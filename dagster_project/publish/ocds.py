"""OCDS 1.1.5 extract: one release per trading bulletin, one record (with a compiled release) per deal.

Rows come from the marts through ``masking.masked_select`` (the one de-identification point) and
never pass through Python: DuckDB builds each release and each record as JSON text (``to_json``
pieces assembled by the SQL generated below from ``ocds.yaml``) and ``COPY``s them, one item per
line, between a package envelope (uri, version, publishedDate, publisher, license; record packages
also list the release packages) written by Python. ``bulletin_release`` / ``_compile`` are the same
mapping in Python: the executable specification the tests hold the SQL to, on small data.

Validation is offline: the package schemas refer to the release schema by its canonical URL, which a
``referencing.Registry`` maps to the local file. Packages of at most ``full_validation_max_releases``
items are validated whole; larger ones get structural checks of EVERY item in DuckDB (JSON parses,
ocid/id present and unique in the package, required fields, tags from the codelist, ocid prefix)
and a full schema validation of a deterministic sample (the first ``sample_head`` items and about
one in ``sample_every`` chosen by key hash, each as a one-item package). Both are documented in docs/OPEN_DATA.md.
"""
from __future__ import annotations

import datetime as _dt
import gzip
import json
import re
import shutil
import tempfile
import time
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Callable

import duckdb
import yaml
from jsonschema import Draft4Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT4

from dagster_project.paths import REPO_ROOT
from dagster_project.publish import atomic
from dagster_project.publish.masking import MaskingPolicy, masked_select
from dagster_project.publish.privacy_scan import scan_tree
from dagster_project.publish.warehouse import describe, find_relation, open_read_only, open_scratch

CONFIG_PATH = Path(__file__).with_name("ocds.yaml")
SHARED_SCHEMA_DIR = REPO_ROOT.parent / "shared" / "ocds-1.1.5"
BUNDLED_SCHEMA_DIR = Path(__file__).with_name("ocds_schema")
RELEASE_SCHEMA_URL = "https://standard.open-contracting.org/schema/1__1__5/release-schema.json"
RELEASE_TAGS = frozenset([
    "planning", "planningUpdate", "tender", "tenderAmendment", "tenderUpdate", "tenderCancellation", "award",
    "awardUpdate", "awardCancellation", "contract", "contractUpdate", "contractAmendment", "implementation",
    "implementationUpdate", "contractTermination", "compiled",
])
FLAT_ROW_GROUP = 100_000
# DuckDB's budget while building (it spills sorts and aggregates to its temp directory beyond it).
MEMORY_LIMIT = "3GB"

BULLETIN_COLUMNS = [
    "bulletin_key", "deal_key", "bulletin_type_code", "bulletin_type", "trade_area", "notice_name",
    "notice_send_time", "tenderer_name", "tenderer_code", "tender_agency_name", "tender_agency_code",
    "budget_amount_yuan", "bid_amount_yuan", "win_bidder_name", "win_bidder_code", "bidder_count", "url",
    "win_candidate_name", "win_candidate_code", "win_candidate_order",
]
# One 中标候选人公示 may name its candidates one per row (WIN_CANDIDATE_ORDER) or in one cell (CONTRACTS.md §2.2)
CANDIDATE_SEPARATORS = "；;、"
DEAL_COLUMNS = [
    "deal_key", "project_code", "doc_get_start_at", "bid_deadline_at", "contract_signed_at",
    "budget_amount_yuan", "bidder_count",
]


def load_config(path: Path = CONFIG_PATH) -> dict:
    """``ocds.yaml`` with the ocid prefix of the settings (``GONGKAI_OCDS_OCID_PREFIX``)."""
    from dagster_project.paths import settings

    with open(path, encoding="utf-8") as fh:
        cfg = yaml.safe_load(fh)
    cfg["ocid_prefix"] = settings().ocds_ocid_prefix  # a setting, never data (paths.py)
    return cfg


def schema_dir(setting: str | Path | None = None) -> Path:
    """The OCDS schema folder: the setting, else ``<repo>/../shared/ocds-1.1.5``, else the bundled copy."""
    for candidate in (Path(setting) if setting else None, SHARED_SCHEMA_DIR, BUNDLED_SCHEMA_DIR):
        if candidate is not None and (candidate / "release-schema.json").exists():
            return candidate
    raise FileNotFoundError("OCDS 1.1.5 schema not found (setting, ../shared/ocds-1.1.5, bundled copy)")


@dataclass
class OcdsValidators:
    release_package: Draft4Validator
    record_package: Draft4Validator
    release: Draft4Validator


def validators(folder: Path | None = None) -> OcdsValidators:
    folder = schema_dir(folder)
    load = lambda name: json.loads((folder / name).read_text(encoding="utf-8"))  # noqa: E731
    release_schema = load("release-schema.json")
    registry = Registry().with_resource(RELEASE_SCHEMA_URL, Resource.from_contents(release_schema, default_specification=DRAFT4))
    return OcdsValidators(
        release_package=Draft4Validator(load("release-package-schema.json"), registry=registry),
        record_package=Draft4Validator(load("record-package-schema.json"), registry=registry),
        release=Draft4Validator(release_schema, registry=registry),
    )


# ---------------------------------------------------------------------------------- building releases

def _iso(value, tz: str) -> str | None:
    if value is None:
        return None
    if isinstance(value, _dt.datetime):
        return value.replace(microsecond=0).isoformat() + (tz if value.tzinfo is None else "")
    if isinstance(value, _dt.date):
        return f"{value.isoformat()}T00:00:00{tz}"
    return str(value)


def _amount(value, currency: str) -> dict | None:
    if value is None:
        return None
    return {"amount": float(value) if isinstance(value, Decimal) else value, "currency": currency}


def _party(name: str | None, code: str | None, roles: list[str], scheme: str) -> dict | None:
    if not name and not code:
        return None
    party: dict = {"id": f"{scheme}-{code}" if code else f"name-{name}", "roles": roles}
    if name:
        party["name"] = name
    if code:
        party["identifier"] = {"scheme": scheme, "id": code}
        if name:
            party["identifier"]["legalName"] = name
    return party


def _drop_empty(obj):
    if isinstance(obj, dict):
        cleaned = {k: _drop_empty(v) for k, v in obj.items()}
        return {k: v for k, v in cleaned.items() if v not in (None, {}, [], "")}
    if isinstance(obj, list):
        return [x for x in (_drop_empty(v) for v in obj) if x not in (None, {}, [], "")]
    return obj


def candidates(row: dict, scheme: str) -> list[tuple[int, dict]]:
    """(rank, party) of the candidates a 中标候选人公示 row names, in rank order.

    One candidate per row (``win_candidate_order`` given, or one name): its rank is the order (1 if
    absent). Several names in one cell, separated by ；/;/、: ranks by position; codes are paired by
    position only when the code cell is split the same way.
    """
    name = (row.get("win_candidate_name") or "").strip()
    code = (row.get("win_candidate_code") or "").strip()
    order = row.get("win_candidate_order")
    split = re.compile(f"[{CANDIDATE_SEPARATORS}]")
    if order is not None or not split.search(name):
        entries = [(name, code, order if order is not None else 1)]
    else:
        codes = split.split(code) if split.search(code) else []
        entries = [(n, codes[i] if i < len(codes) else "", i + 1) for i, n in enumerate(split.split(name))]
    out = []
    for n, c, rank in entries:
        party = _party(n.strip() or None, c.strip() or None, ["tenderer"], scheme)
        if party:
            out.append((rank, party))
    return out


def bulletin_release(row: dict, cfg: dict) -> dict:
    """One OCDS release for one (masked) bulletin row joined with its deal."""
    tz, cur, scheme = cfg["timezone"], cfg["currency"], cfg["party_scheme"]
    types = cfg["bulletin_types"]
    kind = types.get(row.get("bulletin_type") or "") or types.get(row.get("bulletin_type_code") or "") \
        or cfg["default_bulletin_type"]
    tag = kind["tag"]
    deal_key = row["deal_key"]
    buyer = _party(row.get("tenderer_name"), row.get("tenderer_code"), ["buyer"], scheme)
    agency = _party(row.get("tender_agency_name"), row.get("tender_agency_code"), ["procuringEntity"], scheme)
    winner = None
    if tag in {"award", "contract", "implementation"}:
        winner = _party(row.get("win_bidder_name"), row.get("win_bidder_code"), ["supplier", "tenderer"], scheme)
    named = []  # candidates of a pending award (中标候选人公示): tenderers; the first-ranked is the proposed supplier
    if tag == "award" and kind.get("award_status") == "pending":
        named = [(r, p) for r, p in candidates(row, scheme) if not winner or p["id"] != winner["id"]]
    proposed = next((p for r, p in named if r == 1), None)
    release: dict = {
        "ocid": cfg["ocid_prefix"] + deal_key,
        "id": row["bulletin_key"],
        "date": _iso(row.get("notice_send_time"), tz),
        "tag": [tag],
        "initiationType": "tender",
        "language": "zh",
        "parties": [p for p in (buyer, agency, winner) if p] + [p for _, p in named],
        "buyer": {"id": buyer["id"], "name": buyer.get("name")} if buyer else None,
        "tender": {
            "id": deal_key,
            "title": row.get("notice_name") if tag == "tender" else None,
            "value": _amount(row.get("deal_budget_amount_yuan") or row.get("budget_amount_yuan"), cur),
            "tenderPeriod": {"startDate": _iso(row.get("doc_get_start_at"), tz),
                             "endDate": _iso(row.get("bid_deadline_at"), tz)},
            "numberOfTenderers": row.get("bidder_count") if row.get("bidder_count") is not None
            else row.get("deal_bidder_count"),
            "procuringEntity": {"id": agency["id"], "name": agency.get("name")} if agency else None,
            "mainProcurementCategory": (cfg.get("trade_areas") or {}).get(row.get("trade_area") or ""),
            "status": "cancelled" if tag == "tenderCancellation" else None,
            "tenderers": [{"id": p["id"], "name": p.get("name")} for _, p in named] or None,
        },
    }
    if tag == "award":
        pending = kind.get("award_status") == "pending"
        release["awards"] = [{
            "id": f"{deal_key}-{'candidates' if pending else 'award'}",
            "title": row.get("notice_name"),
            "status": kind.get("award_status", "active"),
            "date": _iso(row.get("notice_send_time"), tz),
            "value": _amount(row.get("bid_amount_yuan"), cur),
            "suppliers": [{"id": winner["id"], "name": winner.get("name")}] if winner else
            [{"id": proposed["id"], "name": proposed.get("name")}] if proposed else None,
        }]
    if tag == "contract":
        release["contracts"] = [{
            "id": f"{deal_key}-contract",
            "awardID": f"{deal_key}-award",
            "title": row.get("notice_name"),
            "status": "active",
            "dateSigned": _iso(row.get("contract_signed_at"), tz),
            "value": _amount(row.get("bid_amount_yuan"), cur),
        }]
    if row.get("url"):
        release["tender"]["documents"] = [{"id": f"{row['bulletin_key']}-notice", "documentType": "tenderNotice"
                                            if tag == "tender" else None, "title": row.get("notice_name"),
                                            "url": row["url"], "language": "zh"}]
    return _drop_empty(release)


def merge_release(compiled: dict, release: dict) -> dict:
    """OCDS merge: later values win; arrays of objects with ``id`` merge by id; other arrays replace.

    Values are taken over without copying and may be changed by later merges: callers pass releases
    that are already written (copying cost half the OCDS build time at 400 k releases).
    """
    for key, value in release.items():
        if isinstance(value, dict) and isinstance(compiled.get(key), dict):
            merge_release(compiled[key], value)
        elif isinstance(value, list) and value and all(isinstance(v, dict) and "id" in v for v in value) \
                and isinstance(compiled.get(key), list):
            by_id = {item.get("id"): item for item in compiled[key]}
            for item in value:
                if item["id"] in by_id:
                    merge_release(by_id[item["id"]], item)
                else:
                    compiled[key].append(dict(item))
                    by_id[item["id"]] = compiled[key][-1]
        elif isinstance(value, dict):
            compiled[key] = dict(value)
        elif isinstance(value, list):
            compiled[key] = [dict(v) if isinstance(v, dict) else v for v in value]
        else:
            compiled[key] = value
    return compiled


def _compile(ocid: str, releases: list[dict]) -> dict:
    compiled: dict = {}
    for release in releases:
        merge_release(compiled, release)
    compiled["id"] = f"{ocid}-compiled"
    compiled["tag"] = ["compiled"]
    compiled["date"] = releases[-1]["date"]
    # A party that played several roles across releases keeps all of them: the roles of its latest
    # release first, in their order there (what the OCDS merge itself gives, so ocdskit compiles the same
    # record whenever the latest roles include the earlier ones), then roles only played before, most
    # recent first (a candidate that later wins: ["supplier", "tenderer"]).
    last: dict[tuple[str, str], tuple[int, int, int]] = {}
    for n, release in enumerate(releases):
        for pos, party in enumerate(release.get("parties", [])):
            for j, role in enumerate(party.get("roles", [])):
                last[(party["id"], role)] = (n, pos, j)
    roles: dict[str, list[str]] = {}
    for (pid, role), (n, pos, j) in sorted(last.items(), key=lambda kv: (-kv[1][0], kv[1][1], kv[1][2])):
        roles.setdefault(pid, []).append(role)
    compiled["parties"] = [dict(p, roles=roles.get(p["id"], p.get("roles", []))) for p in compiled.get("parties", [])]
    return compiled


# ------------------------------------------------------------------------- building releases in SQL
#
# The same mapping as ``bulletin_release`` / ``_compile`` above, written as DuckDB SQL so that no row
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


def _flat_sql(source_sql: str, types: dict[str, str], cfg: dict) -> str:
    """One row per release with every value the JSON needs, numbered ``seq`` in package order."""
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
        SELECT row_number() OVER (ORDER BY deal_key, sort_time, rid) - 1 AS seq, *,
               CASE WHEN tag IN ('award', 'contract', 'implementation') THEN w_id0 END AS w_id
        FROM (SELECT * FROM (
            SELECT {_q(cfg['ocid_prefix'])} || deal_key AS ocid, deal_key, bulletin_key AS rid,
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


def _release_json_sql(cfg: dict) -> str:
    """The release of one flat row (columns of ``_flat_sql``) as JSON text."""
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


def _records_sql(cfg: dict, flat: str, offset: int = 0) -> str:
    """One row per deal (``s``: package position from ``offset``, ``item``: record JSON text) of ``flat``.

    ``flat`` is a relation of ``_flat_sql`` rows holding whole deals (a contiguous ``seq`` range).
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


def package_suffix(cfg: dict) -> str:
    """``.json.gz`` (the default: OCDS bulk files are usually gzipped; JSON text compresses ~20×, so at
    10 M bulletins 27 GB become ~1.4 GB, written faster than the plain text) or ``.json``."""
    compression = str(cfg.get("package_compression", "gzip")).lower()
    if compression not in {"gzip", "none"}:
        raise ValueError(f"ocds.yaml package_compression must be gzip or none, not {compression!r}")
    return ".json.gz" if compression == "gzip" else ".json"


def open_package_text(path: Path):
    """A package file as text, gzipped or not."""
    if path.name.endswith(".gz"):
        return gzip.open(path, "rt", encoding="utf-8")
    return open(path, encoding="utf-8")


def _package_head(envelope: dict, name: str, list_key: str) -> str:
    env = dict(envelope, uri=envelope["uri"] + name)
    return json.dumps(env, ensure_ascii=False)[:-1] + f', "{list_key}": ['


# gzip level of the package files: measured on 180 MB of releases, level 3 compresses at ~370 MB/s to
# 1/15 (level 6: ~150 MB/s, 1/19). DuckDB's own gzip writer managed ~40 MB/s and made the build 55 %
# slower, so DuckDB writes plain text and a Python thread gzips it while DuckDB builds the next file.
GZIP_LEVEL = 3


def _gzip_file(plain: Path, target: Path) -> None:
    with open(plain, "rb") as src, open(target, "wb") as raw, \
            gzip.GzipFile(fileobj=raw, mode="wb", compresslevel=GZIP_LEVEL, mtime=0) as out:
        shutil.copyfileobj(src, out, 16 << 20)  # zlib releases the GIL on these blocks
    plain.unlink()


def _write_packages(con: duckdb.DuckDBPyConnection, folder: Path, stem: str, list_key: str, envelope: dict,
                    count: int, per_file: int, chunk_sql: Callable[[int, int], str], suffix: str = ".json",
                    ) -> list[str]:
    """Envelope line, one item per line (``,`` between), closing line: one DuckDB ``COPY`` per file, no
    item passing through Python; with ``suffix`` ``.json.gz`` each file is gzipped beside the next COPY.

    ``chunk_sql(lo, hi)``: a query of the items ``lo`` … ``hi`` (columns ``s``, their position, and ``item``).
    """
    from concurrent.futures import ThreadPoolExecutor

    files = []
    gzipped = suffix.endswith(".gz")
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="ocds-gzip") as pool:
        pending = []
        for i in range(max(0, -(-count // per_file))):
            name = f"{stem}-{i + 1:04d}{suffix}"
            lo, hi = i * per_file, min(count, (i + 1) * per_file) - 1
            head = _package_head(envelope, name, list_key).replace("'", "''")
            plain = folder / (name + ".part") if gzipped else folder / name
            con.execute(
                f"COPY (SELECT line FROM ("
                f"SELECT -1 AS s, '{head}' AS line UNION ALL "
                f"SELECT s, item || CASE WHEN s < {hi} THEN ',' ELSE '' END FROM ({chunk_sql(lo, hi)}) UNION ALL "
                f"SELECT {hi + 1}, ']}}') ORDER BY s) TO '{_sql_path(plain)}' "
                f"(FORMAT csv, HEADER false, QUOTE '', ESCAPE '', DELIMITER '\x01')"
            )
            if gzipped:
                pending.append(pool.submit(_gzip_file, plain, folder / name))
            files.append(name)
        for future in pending:
            future.result()  # re-raises a failed compression
    return files


def _sql_path(path: Path) -> str:
    return path.as_posix().replace("'", "''")


@dataclass
class OcdsResult:
    path: Path
    releases: int = 0
    records: int = 0
    files: list[str] = field(default_factory=list)
    bytes: int = 0
    validation: str = ""
    seconds: float = 0.0
    # bulletins left out of the packages, by reason (kept in the warehouse and in trading_bulletins)
    quarantined: dict[str, int] = field(default_factory=dict)
    parts: dict[str, dict] = field(default_factory=dict)  # fiscal-year parts: new or carried (build_ocds)


def ocds_source_sql(con: duckdb.DuckDBPyConnection, policy: MaskingPolicy, part: str | None = None,
                    masked: bool = True) -> str | None:
    """Bulletins joined with their deal, masked. ``part``: only one fiscal-year part's rows, chosen
    before masking (a year's build masks that year's bulletins only); ``masked=False``: the same rows as
    the marts hold them (what a part's fingerprint hashes: no masking pass over years that are carried)."""
    from dagster_project.publish import parts
    from dagster_project.publish.masking import quote_ident

    def select(relation: str, columns: list[tuple[str, str]]) -> str:
        if masked:
            return masked_select(relation, columns, policy)
        return "SELECT " + ", ".join(quote_ident(c) for c, _ in columns) + f" FROM {relation} AS src"

    bulletins = find_relation(con, "fct_trading_bulletins")
    deals = find_relation(con, "fct_deals")
    if bulletins is None:
        return None
    b_types = dict(describe(con, bulletins))
    quarantine = find_relation(con, "int_records_quarantined")
    source = bulletins
    if quarantine is not None:  # records dbt found cannot stand in a package (QUAR_*: no date …), by raw key
        source = (f"(SELECT * FROM {bulletins} WHERE bulletin_key NOT IN "
                  f"(SELECT object_key FROM {quarantine} WHERE left_out_of = 'ocds' AND object_key IS NOT NULL))")
    d_types = dict(describe(con, deals)) if deals is not None else {}
    if part is not None and "fiscal_year" in d_types:
        dated = f"(SELECT DISTINCT coalesce(deal_key, '') FROM {deals} WHERE fiscal_year IS NOT NULL)"
        chosen = (f"coalesce(deal_key, '') NOT IN {dated}" if part == parts.UNKNOWN else
                  f"deal_key IN (SELECT deal_key FROM {deals} WHERE {parts.part_filter(part)})")
        source = f"(SELECT * FROM {source} AS s WHERE {chosen})"
    b_sql = select(source, [(c, b_types[c]) for c in BULLETIN_COLUMNS if c in b_types])
    if deals is None:
        return f"SELECT * FROM ({b_sql}) b"
    d_sql = select(deals, [(c, d_types[c]) for c in DEAL_COLUMNS + ["fiscal_year"] if c in d_types])
    deal_cols = [f"d.{c}" for c in ("doc_get_start_at", "bid_deadline_at", "contract_signed_at") if c in d_types]
    deal_cols += [f"d.{c} AS deal_{c}" for c in ("budget_amount_yuan", "bidder_count") if c in d_types]
    if "fiscal_year" in d_types:  # a deal's year = fct_deals.fiscal_year (CONTRACTS §3): the part it is published in
        deal_cols.append("CAST(d.fiscal_year AS INTEGER) AS fiscal_year")
    return f"SELECT b.*{''.join(', ' + c for c in deal_cols)} FROM ({b_sql}) b LEFT JOIN ({d_sql}) d USING (deal_key)"


def _quarantine_counts(con: duckdb.DuckDBPyConnection, source_sql: str, n_releases: int) -> dict[str, int]:
    """Bulletins of the mart that are not releases: left out by dbt's quarantine, or incomplete here."""
    bulletins = find_relation(con, "fct_trading_bulletins")
    total = con.execute(f"SELECT count(*) FROM {bulletins}").fetchone()[0] if bulletins else n_releases
    offered = con.execute(f"SELECT count(*) FROM ({source_sql})").fetchone()[0]
    counts = {"quarantined_by_dbt": total - offered, "incomplete_release": offered - n_releases}
    return {k: int(v) for k, v in counts.items() if v}


def release_stem(cfg: dict) -> str:
    """``release-package`` or, for one fiscal-year part, ``release-package-<part>`` (``parts.py``)."""
    return "release-package" + (f"-{cfg['part']}" if cfg.get("part") else "")


def write_ocds(con: duckdb.DuckDBPyConnection, folder: Path, cfg: dict, policy: MaskingPolicy,
               part: str | None = None) -> OcdsResult:
    """Build releases and records of every bulletin in DuckDB and write them into ``folder`` (must exist).

    The flat release rows go once to a temporary Parquet file in package order (row groups of
    ``FLAT_ROW_GROUP`` rows, so a range of ``seq`` reads only its row groups); releases are then
    COPYed package by package, and records are aggregated one package of deals at a time, which
    bounds memory whatever the number of bulletins.
    """
    result = OcdsResult(path=folder)
    sql = ocds_source_sql(con, policy, part=part)
    if sql is None:
        return result
    if part is not None:  # one fiscal-year part: its deals' bulletins, in files named by the part
        from dagster_project.publish import parts

        sql = f"SELECT * FROM ({sql}) WHERE {parts.part_filter(part)}"
        cfg = dict(cfg, part=part)
    # package uris and record links: where these files will be published (build_ocds), else where written
    cfg = dict(cfg, base_uri=cfg.get("base_uri") or folder.resolve().as_uri() + "/")
    now = _dt.datetime.now(_dt.timezone.utc).replace(microsecond=0).isoformat().replace("+00:00", "Z")
    common = {"uri": cfg["base_uri"], "version": "1.1", "publishedDate": now, "publisher": cfg["publisher"],
              "license": cfg["license"]}
    types = dict(describe(con, f"({sql})"))
    release_json = _release_json_sql(cfg)
    suffix = package_suffix(cfg)
    with tempfile.TemporaryDirectory(prefix="gongkai-ocds-") as tmp:
        flat_path = Path(tmp) / "flat.parquet"
        con.execute(f"COPY ({_flat_sql(sql, types, cfg)} ORDER BY seq) TO '{_sql_path(flat_path)}' "
                    f"(FORMAT parquet, ROW_GROUP_SIZE {FLAT_ROW_GROUP})")
        flat = f"read_parquet('{_sql_path(flat_path)}')"
        n_releases = con.execute(f"SELECT count(*) FROM {flat}").fetchone()[0]
        result.quarantined = _quarantine_counts(con, sql, n_releases) if part is None else {}
        release_files = _write_packages(
            con, folder, release_stem(cfg), "releases", common, n_releases, int(cfg["releases_per_package"]),
            lambda lo, hi: f"SELECT seq AS s, {release_json} AS item FROM {flat} WHERE seq BETWEEN {lo} AND {hi}",
            suffix)
        # Every release package file name is known by now, so each record package can list them.
        rec_envelope = dict(common, packages=[cfg["base_uri"] + f for f in release_files])
        per_record_file = int(cfg["records_per_package"])
        # (first seq, last seq, deals) of each record package: deals are contiguous seq ranges
        bounds = con.execute(f"""
            SELECT min(first), max(last), count(*) FROM (
                SELECT row_number() OVER (ORDER BY min(seq)) - 1 AS n, min(seq) AS first, max(seq) AS last
                FROM {flat} GROUP BY ocid)
            GROUP BY n // {per_record_file} ORDER BY n // {per_record_file}""").fetchall()
        n_records = sum(b[2] for b in bounds)

        def records_chunk(lo: int, hi: int) -> str:
            first, last, _ = bounds[lo // per_record_file]
            return _records_sql(cfg, f"(SELECT * FROM {flat} WHERE seq BETWEEN {first} AND {last})", offset=lo)

        record_files = _write_packages(con, folder, "record-package" + release_stem(cfg)[15:], "records", rec_envelope, n_records,
                                       per_record_file, records_chunk, suffix)
    result.releases, result.records = n_releases, n_records
    result.files = release_files + record_files
    result.bytes = sum((folder / f).stat().st_size for f in result.files)
    return result


# ---------------------------------------------------------------------------------------- validation

def _errors(validator: Draft4Validator, instance, where: str, limit: int = 5) -> list[str]:
    out = []
    for err in validator.iter_errors(instance):
        out.append(f"{where}: {'/'.join(map(str, err.absolute_path))}: {err.message[:200]}")
        if len(out) >= limit:
            break
    return out


def _items_sql(path: Path) -> str:
    """The items of a package file written by ``_write_packages``: one per line after the envelope line.

    Read by DuckDB's parallel CSV reader, one column per line; it numbers no lines, so problems
    are reported by item key and the sample is chosen by content (see ``_load_items``).
    """
    return (
        f"SELECT rtrim(line, ',') AS item FROM read_csv('{_sql_path(path)}', "
        "columns = {'line': 'VARCHAR'}, header = false, skip = 1, delim = '\x01', quote = '', escape = '', "
        "auto_detect = false, max_line_size = 67108864) WHERE line NOT IN (']}', '')"
    )


def _load_items(con: duckdb.DuckDBPyConnection, path: Path, is_record: bool, cfg: dict) -> int:
    """Parse every item once into the temp table ``_ocds_items`` (fields the checks need, sampled items).

    The sample: the first ``sample_head`` items of the file (a ``LIMIT`` read of its head) and every
    item whose key hashes to 0 modulo ``sample_every`` (deterministic, spread over the file).
    """
    r = "$.compiledRelease" if is_record else "$"
    paths = [f"{r}.ocid", f"{r}.id", f"{r}.date", f"{r}.initiationType", f"{r}.tag", "$.ocid", "$.releases"]
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE _ocds_items AS
        SELECT ok, f[1] AS ocid, f[2] AS id, f[3] AS date, f[4] AS initiation_type,
               try_cast(try_cast(f[5] AS JSON) AS VARCHAR[]) AS tag, f[6] AS item_ocid,
               json_array_length(try_cast(f[7] AS JSON)) AS n_links,
               CASE WHEN ok AND hash(coalesce(f[1], '') || ' ' || coalesce(f[2], '')) % {int(cfg['sample_every'])} = 0
                    THEN item END AS sampled,
               CASE WHEN ok THEN coalesce(f[1], '?') || CASE WHEN {str(not is_record).lower()} THEN ' ' || coalesce(f[2], '?')
                    ELSE '' END ELSE left(item, 80) END AS item_key
        FROM (SELECT item, f IS NOT NULL AS ok, f  -- one parse per item: try() is NULL for what is not JSON
              FROM (SELECT item, try(json_extract_string(item, {paths})) AS f FROM ({_items_sql(path)})))""")
    return con.execute("SELECT count(*) FROM _ocds_items").fetchone()[0]


def _structural_problems(con: duckdb.DuckDBPyConnection, path: Path, is_record: bool, cfg: dict,
                         limit: int = 50) -> list[str]:
    """Cheap checks of EVERY item (loaded by ``_load_items``): JSON, required fields, tag codelist,
    ocid prefix, ids unique in the package."""
    key = "ocid" if is_record else "ocid || ' ' || id"
    tags = "[" + ", ".join(_q(t) for t in sorted(RELEASE_TAGS)) + "]"
    checks = [f"CASE WHEN coalesce({c}, '') = '' THEN 'missing {f}' END"
              for c, f in (("ocid", "ocid"), ("id", "id"), ("date", "date"), ("initiation_type", "initiationType"))]
    checks += [
        "CASE WHEN coalesce(len(tag), 0) = 0 THEN 'missing tag' END",
        f"CASE WHEN NOT list_has_all({tags}, tag) THEN 'tag ' || CAST(tag AS VARCHAR) || ' not in the codelist' END",
        f"CASE WHEN NOT starts_with(coalesce(ocid, ''), {_q(cfg['ocid_prefix'])}) "
        f"THEN 'ocid without prefix {cfg['ocid_prefix']}' END",
    ]
    if is_record:
        checks += ["CASE WHEN coalesce(n_links, 0) = 0 THEN 'record without releases' END",
                   "CASE WHEN item_ocid IS DISTINCT FROM ocid THEN 'compiled release ocid differs from the record ocid' END"]
    rows = con.execute(f"""
        SELECT item_key, problem FROM (
            SELECT item_key, 'not JSON' AS problem FROM _ocds_items WHERE NOT ok
            UNION ALL
            SELECT item_key, unnest(list_filter([{', '.join(checks)}], lambda x: x IS NOT NULL)) FROM _ocds_items WHERE ok
            UNION ALL
            SELECT any_value(item_key), 'duplicate ' || k FROM (SELECT item_key, {key} AS k FROM _ocds_items WHERE ok)
            GROUP BY k HAVING count(*) > 1
        ) ORDER BY ALL LIMIT {limit}""").fetchall()
    return [f"{path.name} item {k}: {p}" for k, p in rows]


def validate_package_file(path: Path, v: OcdsValidators, cfg: dict, con: duckdb.DuckDBPyConnection | None = None) -> list[str]:
    """Problems in one package file written by ``_write_packages`` (empty list = valid).

    Small packages are validated whole. Larger ones: structural checks of every item in DuckDB, and a
    deterministic sample (the first ``sample_head`` items and about one in ``sample_every``, chosen
    by key hash) validated against the package schema, each as a one-item package with the file's envelope.
    """
    is_record = path.name.startswith("record-package")
    package_validator = v.record_package if is_record else v.release_package
    list_key = "records" if is_record else "releases"
    own = con is None
    con = con or open_scratch()
    try:
        count = _load_items(con, path, is_record, cfg)
        if count <= cfg["full_validation_max_releases"]:
            with open_package_text(path) as fh:
                return _errors(package_validator, json.load(fh), path.name)
        problems = _structural_problems(con, path, is_record, cfg)
        head = con.execute(f"SELECT item FROM ({_items_sql(path)}) LIMIT {int(cfg['sample_head'])}").fetchall()
        sample = head + con.execute("SELECT sampled FROM _ocds_items WHERE sampled IS NOT NULL").fetchall()
    finally:
        con.execute("DROP TABLE IF EXISTS _ocds_items")
        if own:
            con.close()
    with open_package_text(path) as fh:
        envelope = json.loads(fh.readline() + "]}")
    for (item,) in sample:
        try:
            parsed = json.loads(item)
        except json.JSONDecodeError:
            continue  # reported by the structural checks
        where = f"{path.name} item {parsed.get('ocid')} {'' if is_record else parsed.get('id')}".rstrip()
        problems += _errors(package_validator, dict(envelope, **{list_key: [parsed]}), where)
        if len(problems) > 50:
            break
    return problems


def validate_ocds_folder(folder: Path, schema_setting: str | Path | None = None, cfg: dict | None = None,
                         skip: frozenset[str] = frozenset()) -> list[str]:
    """``skip``: file names carried by checksum from a build that validated them."""
    cfg = cfg or load_config()
    v = validators(schema_setting)
    problems: list[str] = []
    con = open_scratch()
    try:
        for path in package_files(folder):
            if path.name in skip:
                continue
            problems += validate_package_file(path, v, cfg, con)
    finally:
        con.close()
    return problems


# What build_ocds proved about the packages it wrote, by checksum: the release that includes them
# (hard links of the same files) checks the checksums instead of validating and scanning them again.
VALIDATION_RECORD = "validation.json"


def package_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.glob("*-package-*") if p.name.endswith((".json", ".json.gz")))


def write_validation_record(folder: Path, build_id: str, privacy_summary: str,
                            quarantined: dict[str, int] | None = None, known: dict[str, str] | None = None,
                            parts_record: dict | None = None) -> dict:
    """``known``: digests of carried files verified in this build; ``parts_record``: the fiscal-year parts."""
    from dagster_project.publish.release import sha256_file

    known = known or {}
    record = {
        "build_id": build_id,
        "schema": "OCDS 1.1.5 release/record package schemas (offline)",
        "validation": "valid: every item structurally in DuckDB, packages up to "
                      "full_validation_max_releases whole, larger ones by a deterministic sample (docs/OPEN_DATA.md)",
        "privacy_scan": f"clean ({privacy_summary})",
        "files": {p.name: {"sha256": known.get(p.name) or sha256_file(p), "bytes": p.stat().st_size}
                  for p in package_files(folder)},
        "quarantined": quarantined or {},
    }
    if parts_record is not None:
        record["parts"] = parts_record
    (folder / VALIDATION_RECORD).write_text(json.dumps(record, ensure_ascii=False, indent=2), encoding="utf-8")
    return record


def read_validation_record(folder: Path) -> dict | None:
    """The record build_ocds left in ``folder`` (None when absent or unreadable: then validate again)."""
    try:
        return json.loads((folder / VALIDATION_RECORD).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def build_ocds(
    warehouse: Path, out_dir: Path, *, schema_setting: str | Path | None = None, fail_at: str | None = None,
    fiscal_years: set[int] | None = None, keep: int | None = None,
) -> OcdsResult:
    """Build, validate and atomically publish the OCDS packages under ``<out_dir>/ocds/<build-id>/``.

    Packages are written per fiscal year of the deal (``release-package-<year>-0001…``, ``parts.py``). A
    part whose fingerprint (its bulletins and deals as published, the mapping, the settings and code) is
    that of the current build is hard-linked from it after a checksum check and neither validated nor
    scanned again; its package ``uri`` and record links keep naming the build that wrote it, which
    retention therefore keeps. ``fiscal_years``: as ``release.build_release``.
    """
    from dagster_project.publish import parts
    from dagster_project.publish.release import load_spec, new_release_id

    from dagster_project.paths import settings

    started = time.monotonic()
    cfg = load_config()
    spec = load_spec()
    policy = MaskingPolicy.from_spec(spec.get("masking") or {})
    root = out_dir / "ocds"
    atomic.remove_stale_staging(root)
    previous_dir = atomic.current_release_dir(root)
    previous = read_validation_record(previous_dir) if previous_dir else None
    previous_parts = (previous or {}).get("parts") or {}
    build_id = new_release_id()
    staging = atomic.new_staging_dir(root, build_id)
    # links name the folder the packages are promoted to, <out>/ocds/<build-id>/, under the base URI
    # (GONGKAI_OCDS_BASE_URI; by default the file: URI of <out>/ocds/, so they resolve to these files)
    cfg["base_uri"] = settings().ocds_base(out_dir.resolve()) + build_id + "/"
    salt = parts.code_fingerprint(cfg["ocid_prefix"], settings().ocds_base(out_dir.resolve()),
                                  parts.spec_digest(dict(cfg, base_uri=None)), parts.spec_digest(spec.get("masking")))
    result = OcdsResult(path=staging)
    carried: dict[str, str] = {}
    parts_record: dict[str, dict] = {}
    try:
        con = open_read_only(warehouse)
        try:
            con.execute(f"SET memory_limit = '{MEMORY_LIMIT}'")
            source = ocds_source_sql(con, policy)
            fingerprints: dict[str, str] = {}
            if source is not None:  # over the rows as the marts hold them: carried years are never masked
                plain = ocds_source_sql(con, policy, masked=False)
                columns = [c for c, _ in describe(con, f"({plain})")]
                yearly = parts.PART_COLUMN in columns
                fingerprints = parts.part_fingerprints(con, f"({plain})", columns, yearly, salt)
            requested = None if fiscal_years is None else {str(int(y)) for y in fiscal_years}
            keys = set(fingerprints)
            if requested is not None:
                keys |= {k for k in previous_parts if k not in requested and k not in (parts.ALL, parts.UNKNOWN)}
            for key in sorted(keys):
                before = previous_parts.get(key)
                in_scope = requested is None or key in requested or key in (parts.ALL, parts.UNKNOWN)
                reason = None
                if before and (not in_scope or before.get("fingerprint") == fingerprints.get(key)):
                    reason = _carry_part(previous_dir, previous, before, staging, carried)
                    if reason is None:
                        parts_record[key] = dict(before, status="carried")
                        result.releases += before.get("releases", 0)
                        result.records += before.get("records", 0)
                        continue
                if key not in fingerprints:
                    continue
                part = write_ocds(con, staging, cfg, policy, part=key)
                result.releases += part.releases
                result.records += part.records
                parts_record[key] = {"status": "new", "built_in": build_id, "fingerprint": fingerprints[key],
                                     "files": part.files, "releases": part.releases, "records": part.records,
                                     **({"rebuilt_because": reason} if reason else {})}
            if source is not None:
                result.quarantined = _quarantine_counts(con, source, result.releases)
        finally:
            con.close()
        result.files = sorted(p.name for p in package_files(staging))
        result.bytes = sum((staging / f).stat().st_size for f in result.files)
        problems = validate_ocds_folder(staging, schema_setting, cfg, skip=frozenset(carried))
        if problems:
            raise ValueError(f"OCDS 校验失败 OCDS packages invalid: {problems[:10]}")
        privacy = scan_tree(staging, policy.identifier_columns, skip=frozenset(carried))
        if not privacy.clean:
            raise ValueError(f"隐私扫描发现个人信息 OCDS privacy scan found personal data: "
                             f"{[str(h) for h in privacy.hits[:10]]}")
        write_validation_record(staging, build_id, privacy.summary(), result.quarantined, carried, parts_record)
        if fail_at == "after_validation":
            raise atomic.InjectedFailure("injected failure at after_validation")
        result.validation = "valid"
        result.parts = parts_record
        result.path = atomic.promote(staging, root, build_id)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    # a carried part's links name the build that wrote it: that build stays while a kept build uses it
    protect = {p.get("built_in") for p in parts_record.values() if p.get("built_in")}
    parts.prune_releases(root, keep or parts.keep_releases(spec["release"].get("keep_releases")), protect)
    result.seconds = round(time.monotonic() - started, 2)
    return result


def _carry_part(previous_dir: Path, previous: dict, before: dict, staging: Path, carried: dict[str, str]) -> str | None:
    """Hard-link one part's package files from the previous build after checking them against its
    validation record; None when carried, else why not (the part is then built again)."""
    from dagster_project.publish import parts
    from dagster_project.publish.release import sha256_file

    files = before.get("files") or []
    digests = {}
    for name in files:
        listed = ((previous.get("files") or {}).get(name) or {}).get("sha256")
        path = previous_dir / name
        if not listed or not path.is_file():
            return f"{name} 缺失 missing from OCDS build {previous.get('build_id')}"
        digests[name] = sha256_file(path)
        if digests[name] != listed:
            return f"{name} 校验和不符 checksum mismatch in OCDS build {previous.get('build_id')}"
    for name in files:
        parts.link_or_copy(previous_dir / name, staging / name)
    carried.update(digests)
    return None
