"""The OCDS mapping in Python: one trading bulletin's release (``bulletin_release``), the merge of a deal's releases
into its compiled release (``merge_release``, ``_compile``), a bulletin's candidates and a party's id.

The published packages are built by DuckDB SQL (``ocds_sql.py``, generated from ``ocds.yaml``) so that no row passes
through Python; this module is the executable specification that SQL is held to by the tests, on small data.
"""
from __future__ import annotations

import datetime as _dt
import re
from decimal import Decimal

from dagster_project.publish.ocds_config import (
    CANDIDATE_LIST_SEPARATORS, CANDIDATE_SEPARATORS, CONSORTIUM_MARK, candidate_items, consortium_codes, group_id_prefix,
    is_bidder, is_party_filler,
)
from dagster_project.publish.ocds_parties import named_party_ids, rename_parties

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
    name = None if is_party_filler(name) else name   # 代理机构 无: a filler is no party
    if not name and not code:
        return None
    members = consortium_codes(name, code, is_bidder(roles))
    if members:  # a consortium: no one organisation's identifier (ocds_config.consortium_codes)
        pid = group_id_prefix(roles) + "+".join(sorted(members))
    else:
        pid = f"{scheme}-{code}" if code and members is None else f"name-{name}"
    party: dict = {"id": pid, "roles": roles}
    if name:
        party["name"] = name
    if code and members is None:
        party["identifier"] = {"scheme": scheme, "id": code}
        if name:
            party["identifier"]["legalName"] = name
    if members:
        party["additionalIdentifiers"] = [{"scheme": scheme, "id": c} for c in members]
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
    position only when the code cell is split the same way. A consortium (``candidate_items``) is one candidate.
    """
    name = (row.get("win_candidate_name") or "").strip()
    code = (row.get("win_candidate_code") or "").strip()
    order = row.get("win_candidate_order")
    names = candidate_items(name)
    # a cell naming a consortium pairs its codes by ；/; only (its members' codes are not candidates' codes); the mark is
    # looked for in each candidate, as candidate_items does: 甲、乙联合体；丙 marks none as a whole (联合体 before ；), and
    # its codes 乙码、甲码；丙码 were split at 、 too — 丙 given 甲's code as its identifier
    marked = any(re.search(CONSORTIUM_MARK, item) for item in names)
    split = re.compile(f"[{CANDIDATE_LIST_SEPARATORS if marked else CANDIDATE_SEPARATORS}]")
    if order is not None:
        # a ranked row is one candidate, or a rank's several (candidate_names joins a rank's rows at ；: two firms tied
        # at one rank are two tenderers of that rank, review R4b)
        names = [n for n in re.split(f"[{CANDIDATE_LIST_SEPARATORS}]", name) if n.strip()]
    if len(names) < 2:
        entries = [(name, code, order if order is not None else 1)]
    else:
        codes = split.split(code) if split.search(code) else []
        # a separator ending the cell (A；B； beside 甲；乙) is no third code (review V6 item 5: it paired neither)
        codes = codes[:-1] if len(codes) == len(names) + 1 and not codes[-1].strip() else codes
        # paired only where the codes are as many as the names: else which code is whose cannot be told, and pairing by
        # position gives a firm another's credit code (review V1: 乙、甲；丙 beside ；C gave 甲 丙's code)
        codes = codes if len(codes) == len(names) else []
        entries = [(n, codes[i] if i < len(codes) else "", order if order is not None else i + 1)
                   for i, n in enumerate(names)]
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
    # the public party's role: a sale's seller is none of the buyer (ocds.yaml public_party_roles)
    role = (cfg.get("public_party_roles") or {}).get(row.get("trade_area") or "", "buyer")
    buyer = _party(row.get("tenderer_name"), row.get("tenderer_code"), [role], scheme)
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
        "buyer": {"id": buyer["id"], "name": buyer.get("name")} if buyer and role == "buyer" else None,
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
    # one name in one record is one party (named_party_ids): ids mapped before the merge, which groups by id
    if ids := named_party_ids(releases):
        for release in releases:
            rename_parties(release, ids)
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
