"""The sample generator's trading exports and registry, asserted from the files (not from generator internals),
of the committed ``data/raw`` (the documented generation's output: test_sample_generator): trading findings are where the ground truth says, every
other deal's timeline is legal, no supplier dominates a buyer unplanted, and the registry's identifiers and reply
dates are what the ground truth plants (the layout, disclosure and reconciliation checks: test_sample_files)."""
from __future__ import annotations

import csv
import datetime as dt
import io
import json

from dagster_project import identifiers
from sample_files import raw  # noqa: F401  (the fixture)


def deals(raw):
    out = {}
    for r in raw.bulletins:
        key = f"{r['PROJECT_CODE']}/{r['BID_SECTION_CODE']}"
        out.setdefault(key, []).append(r)
    return out


def test_trading_findings_match_the_files(raw):
    truth = {(x["rule_id"], x["publisher_code"], x["fiscal_year"], x["object_key"]) for x in raw.truth["findings"]
             if x["rule_id"].startswith(("TRADE_", "IDENT_", "PRIV_", "FLAG_"))}
    found = set()
    for key, rows in deals(raw).items():
        buyer = rows[0]["TENDERER_CODE"]
        year = min(r["_date"]["NOTICE_SEND_TIME"] for r in rows).year
        types = {r["BULLETIN_TYPE"] for r in rows}
        ann = next((r for r in rows if r["BULLETIN_TYPE"] == "交易公告"), None)
        area = rows[0]["TRADE_AREA"]
        if "交易公告" not in types:
            found.add(("TRADE_RESULT_WITHOUT_ANNOUNCEMENT", buyer, year, key))
        if ann:
            start, deadline = ann["_date"]["DOC_GET_START_TIME"], ann["_date"]["BID_DOC_REFER_END_TIME"]
            in_scope = area == "工程建设项目招标投标" or (area == "政府采购" and "公开招标" in ann["NOTICE_NAME"])
            if in_scope and (deadline - start).days < 20:
                found.add(("TRADE_SHORT_TENDER_PERIOD", buyer, year, key))
            if not in_scope and (deadline - start).days < 10:
                found.add(("FLAG_SHORT_PERIOD", buyer, year, key))
            budget = ann.get("BUDGET_AMOUNT")
            for r in rows:
                if budget not in (None, "") and r.get("BID_AMOUNT") not in (None, "") and r["BID_AMOUNT"] > budget:
                    found.add(("TRADE_AMOUNT_OVER_BUDGET", buyer, year, key))
        for r in rows:
            for field in ("TENDERER_CODE", "TENDER_AGENCY_CODE", "WIN_BIDDER_CODE", "WIN_CANDIDATE_CODE"):
                if r.get(field) and not identifiers.uscc_is_valid(r[field]):
                    found.add(("IDENT_USCC_INVALID", buyer, year, r[field]))
            text = " ".join(str(r.get(f) or "") for f in ("NOTICE_NAME", "NOTICE_CONTENT", "CONTACT_PHONE"))
            if identifiers.find_id_numbers(text):
                found.add(("PRIV_ID_NUMBER", buyer, year, key))
            if identifiers.find_mobiles(text):
                found.add(("PRIV_MOBILE", buyer, year, key))
            if identifiers.find_bank_cards(text):
                found.add(("PRIV_BANK_CARD", buyer, year, key))
            if str(r.get("BIDDER_COUNT") or "") == "1":
                found.add(("FLAG_SINGLE_BIDDER", buyer, year, key))
            if str(r.get("BIDDER_COUNT") or "9") in ("1", "2") and (area == "工程建设项目招标投标"):
                found.add(("TRADE_FEW_BIDDERS", buyer, year, key))
        assert identifiers.id_number_is_valid(next((r["PM_CODE"] for r in rows if r.get("PM_CODE")), "11010519491231002X"))
        # one bulletin in two exports that state different amounts
        copies = {}
        for r in rows:
            copies.setdefault((r["BULLETIN_TYPE"], r["_date"]["NOTICE_SEND_TIME"], r.get("NOTICE_SEND_TIME"),
                               str(r.get("WIN_CANDIDATE_ORDER") or "")), set()).add(r.get("BID_AMOUNT"))
        if any(len(amounts) > 1 for amounts in copies.values()):
            found.add(("TRADE_CONFLICTING_COPIES", buyer, year, key))
    assert found == truth
    assert {x[0] for x in truth} == {"TRADE_RESULT_WITHOUT_ANNOUNCEMENT", "TRADE_SHORT_TENDER_PERIOD",
                                     "IDENT_USCC_INVALID", "PRIV_ID_NUMBER", "PRIV_MOBILE", "FLAG_SINGLE_BIDDER",
                                     "TRADE_CONFLICTING_COPIES"}


def test_trading_timelines_are_legal(raw):
    """Clean deals respect every dated threshold (planted short tender aside)."""
    from dagster_project.sample import refdata

    non_working = set(refdata.non_working_days().astype(str).tolist())

    def working_days(a: dt.date, b: dt.date) -> int:
        return sum(1 for i in range(1, (b - a).days + 1) if (a + dt.timedelta(days=i)).isoformat() not in non_working)

    count = 0
    for key, rows in deals(raw).items():
        d = {}
        for r in rows:
            d.setdefault(r["BULLETIN_TYPE"], r)
        ann = d.get("交易公告")
        result = d.get("中标结果公告") or d.get("成交结果公告")
        area = rows[0]["TRADE_AREA"]
        if ann:
            t = ann["_date"]
            assert t["NOTICE_SEND_TIME"] <= t["BID_DOC_REFER_END_TIME"] <= t["BID_OPEN_TIME"]
            if area == "工程建设项目招标投标":
                assert (t["DOC_GET_END_TIME"] - t["DOC_GET_START_TIME"]).days >= 5
            if area == "政府采购":
                assert working_days(t["DOC_GET_START_TIME"], t["DOC_GET_END_TIME"]) >= 5, key
            if result:
                assert t["BID_OPEN_TIME"] <= result["_date"]["NOTICE_SEND_TIME"]
        cand = d.get("中标候选人公示")
        if cand:
            c = cand["_date"]
            assert (c["PUBLICITY_END_TIME"] - c["PUBLICITY_START_TIME"]).days >= 3
            assert (c["NOTICE_SEND_TIME"] - c["BID_OPEN_TIME"]).days <= 3
            assert c["NOTICE_SEND_TIME"] <= result["_date"]["NOTICE_SEND_TIME"]
        contract = d.get("合同公告")
        if contract:
            sign = contract["_date"]["CONTRACT_SIGN_TIME"]
            assert 0 <= (sign - result["_date"]["NOTICE_SEND_TIME"]).days <= 30
            if area == "政府采购":
                assert working_days(sign, contract["_date"]["NOTICE_SEND_TIME"]) <= 2, key
        count += 1
    # deals only the other forms hold: a second section of a national-standard announcement, and the
    # platform search response's own deals (tenderProjectCode with no section)
    extra = set()
    for p in (raw.root / "trading" / "national_standard").glob("*.csv"):
        for r in csv.DictReader(io.StringIO(p.read_text(encoding="utf-8"))):
            project = r.get("TENDER_PROJECT_CODE") or r.get("PURCHASE_PROJECT_CODE")
            sections = (r.get("BID_SECTION_CODES") or r.get("BID_SECTION_CODE") or r.get("PURCHASE_SECTION_CODE")).split(";")
            extra |= {f"{project}/{s}" for s in sections} - set(deals(raw))
    api = json.loads((raw.root / "trading" / "ggzy_search_api.json").read_text(encoding="utf-8"))
    extra |= {f"{r['tenderProjectCode']}/" for r in api["data"]["records"]}
    assert count + len(extra) == raw.truth["counts"]["deals"]


def test_no_supplier_dominates_a_buyer(raw):
    wins = {}
    for key, rows in deals(raw).items():
        r = next((x for x in rows if x["BULLETIN_TYPE"] in ("中标结果公告", "成交结果公告")), None)
        if r:
            wins.setdefault(r["TENDERER_CODE"], []).append(r["WIN_BIDDER_CODE"])
    assert any(len(v) >= 4 for v in wins.values())
    for buyer, codes in wins.items():
        if len(codes) >= 4:
            assert max(codes.count(c) for c in set(codes)) <= len(codes) / 2, buyer


def test_registry_identifiers_and_reply_dates(raw):
    blanks = 0
    for (code, y), e in raw.entities.items():
        assert identifiers.uscc_validate(code) == (True, None)
        assert code[:2] in ("11", "12") and code[2:4] == "64"
        appr = raw.approvals[(e["region_code"], y, "budget")]
        if not e["budget_approved_on"]:
            blanks += 1
            continue
        reply = dt.date.fromisoformat(e["budget_approved_on"])
        if e["entity_kind"] == "department":
            assert appr <= reply <= appr + dt.timedelta(days=20)
        else:
            parent = raw.entities[(e["parent_entity_code"], y)]["budget_approved_on"]
            base = dt.date.fromisoformat(parent) if parent else appr + dt.timedelta(days=20)
            assert base <= reply <= base + dt.timedelta(days=15)
    assert blanks == 1
    assert {r["level"] for r in raw.regions} == {"province", "city", "county"}
