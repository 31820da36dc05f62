"""One name in one OCDS record is one party (the Python reference mapping, ``ocds_reference._compile``; its SQL is in
``ocds_sql.records_sql``): a notice naming a party without its code names the identified party of that name."""
from __future__ import annotations


def named_party_ids(releases: list[dict]) -> dict[str, str]:
    """``name-<name>`` → the one identified party of that name in these releases (a deal's): a notice naming a party
    without its code (a contract notice naming the winner the result notice identified) names that party, not a
    second one. A name two identified parties share (two codes) stays its own party: which one it is cannot be told."""
    ids: dict[str, set[str]] = {}
    for release in releases:
        for party in release.get("parties", []):
            if party.get("name") and not party["id"].startswith("name-"):
                ids.setdefault(party["name"], set()).add(party["id"])
    return {f"name-{name}": next(iter(found)) for name, found in ids.items() if len(found) == 1}


def rename_parties(release: dict, ids: dict[str, str]) -> None:
    """Every party id and reference to one in ``release`` (parties, buyer, procuring entity, tenderers, suppliers)
    as ``ids`` maps it, in place."""
    from dagster_project.publish.ocds_reference import merge_release  # the reference merge (it imports this module)
    refs = [*release.get("parties", []), release.get("buyer") or {},
            (release.get("tender") or {}).get("procuringEntity") or {}, *(release.get("tender") or {}).get("tenderers", []),
            *(s for award in release.get("awards", []) for s in award.get("suppliers", []))]
    for ref in refs:
        if ref.get("id") in ids:
            ref["id"] = ids[ref["id"]]
    # a party the release now names twice (the winner also named as an uncoded candidate) is one, with both roles
    if "parties" in release:
        one: dict[str, dict] = {}
        for party in release["parties"]:
            if party["id"] in one:
                first = one[party["id"]]
                roles = first.get("roles", []) + [r for r in party.get("roles", []) if r not in first.get("roles", [])]
                merge_release(first, {k: v for k, v in party.items() if k != "roles"})
                first["roles"] = roles
            else:
                one[party["id"]] = party
        release["parties"] = list(one.values())
    tender = release.get("tender") or {}
    for holder, key in [(tender, "tenderers"), *((award, "suppliers") for award in release.get("awards", []))]:
        if key in holder:
            once: dict[str, dict] = {}
            for ref in holder[key]:
                once.setdefault(ref["id"], ref)
            holder[key] = list(once.values())
