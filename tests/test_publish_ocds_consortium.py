"""A consortium named among a 中标候选人公示's candidates is ONE tenderer in OCDS, not one per member.

Notices write a consortium as its members joined by 、 and marked (甲公司、乙公司联合体; 甲公司（牵头人）、乙公司（成员）;
联合体：甲、乙); candidates are separated by ；. OCDS 1.1.5 core has no consortium member field (Organization has name,
identifier, roles, details: the memberOf extension describes the reverse relation and is advised against for this):
the consortium is one party (roles tenderer, its supplier when first ranked) named as the notice writes it, which
lists its members. Before, the cell was split at 、 and each member became a candidate with its own rank.

The fixture marts of test_publish_support with some candidate cells rewritten so; the SQL mapping is held to the
Python reference mapping on them, and the tenderers are counted from the cells written.
"""
from __future__ import annotations

import re

import duckdb
import pytest

from dagster_project.paths import DBT_PROJECT_DIR
from dagster_project.ingest.trading_unions import ROLE_MARK
from dagster_project.publish.ocds_config import CODE_LIST_SEPARATORS, CONSORTIUM_MARK, load_config, package_files
from test_publish_support import (
    build_fixture_warehouse, ocds_releases_checked, ocds_written_and_mapped, set_candidate_cell, written_releases,
)

# (cell, the tenderers a reader of the notice sees: written out by hand)
CELLS = (
    ("宁夏甲建设公司、宁夏乙建设公司联合体", ["宁夏甲建设公司、宁夏乙建设公司联合体"]),
    ("宁夏甲建设公司（牵头人）、宁夏乙建设公司（成员）；宁夏丙建设公司",
     ["宁夏甲建设公司（牵头人）、宁夏乙建设公司（成员）", "宁夏丙建设公司"]),
    ("联合体：宁夏乙建设公司、宁夏丙建设公司；宁夏丁建设公司、宁夏戊建设公司",
     ["联合体：宁夏乙建设公司、宁夏丙建设公司", "宁夏丁建设公司", "宁夏戊建设公司"]),
    # hostile (review R4): 联合体 going on into a firm's name (联合 + 体育/体检/体系/体验) marks no consortium
    ("宁夏联合体育发展有限公司、宁夏丁建设公司", ["宁夏联合体育发展有限公司", "宁夏丁建设公司"]),
    ("宁夏联合体检中心有限公司、宁夏联合体系认证有限公司、宁夏联合体验馆有限公司",
     ["宁夏联合体检中心有限公司", "宁夏联合体系认证有限公司", "宁夏联合体验馆有限公司"]),
    # review R4b: 、 after 联合体 ends the consortium; 联合体（集团）有限公司 is a firm's name
    ("宁夏甲建设公司、宁夏乙建设公司联合体、宁夏丙建设公司", ["宁夏甲建设公司、宁夏乙建设公司联合体", "宁夏丙建设公司"]),
    ("宁夏联合体（集团）有限公司、宁夏丁建设公司", ["宁夏联合体（集团）有限公司", "宁夏丁建设公司"]),
)


@pytest.fixture
def warehouse(tmp_path):
    path = build_fixture_warehouse(tmp_path / "gongkai.duckdb", n_extra_deals=len(CELLS))
    con = duckdb.connect(str(path))
    try:
        keys = [k for (k,) in con.execute(
            "SELECT bulletin_key FROM main_marts.fct_trading_bulletins WHERE bulletin_type = '中标候选人公示' "
            "ORDER BY bulletin_key").fetchall()]
        assert len(keys) >= len(CELLS)
        for key, (cell, _seen) in zip(keys, CELLS):
            con.execute("UPDATE main_marts.fct_trading_bulletins SET win_candidate_name = ?, win_candidate_code = NULL, "
                        "win_candidate_order = NULL "
                        "WHERE bulletin_key = ?", [cell, key])
    finally:
        con.close()
    return path, dict(zip(keys, CELLS))


def test_a_consortium_is_one_tenderer_and_sql_equals_the_reference(warehouse, tmp_path):
    path, cells = warehouse
    written = ocds_releases_checked(path, tmp_path)
    by_id = {r["id"]: r for r in written}
    for key, (_cell, seen) in cells.items():
        (release,) = [r for rid, r in by_id.items() if rid.endswith(key) or key in rid]
        tenderers = [t["name"] for t in release["tender"]["tenderers"]]
        assert tenderers == seen


def test_the_consortium_mark_is_one_in_dbt_and_in_ocds():
    macro = (DBT_PROJECT_DIR / "macros" / "trading_candidates.sql").read_text(encoding="utf-8")
    (in_dbt,) = re.findall(r"macro consortium_mark\(\) -%\}\s*\{\{ sql_string\('([^']*)'\) \}\}", macro)
    assert in_dbt == CONSORTIUM_MARK
    # the role marks a member's name carries (甲（牵头人）) and the separators of a code cell: the copies' comparison in
    # dbt reads them as the 513 fold (ingest/trading_unions.py) and OCDS do
    role_in_dbt = re.search(r"macro party_pieces\(expr\).*?sql_string\('(\[（\(\][^']*)'\)", macro, re.S).group(1)
    assert role_in_dbt == ROLE_MARK
    (separators_in_dbt,) = re.findall(r"macro code_list_separators\(\) -%\}'\[([^\]]*)\]'", macro)
    assert separators_in_dbt == CODE_LIST_SEPARATORS


LEAD, MEMBER = "91640100MA76XXXX1A", "91640100MA76XXXX2B"


def test_a_consortium_party_has_its_members_codes_and_one_id_across_the_deal(tmp_path):
    """A consortium named with its members' codes (91…1A、91…2B) is no organisation with that one code: the party has
    no identifier, its members' codes as additionalIdentifiers (OCDS 1.1.5 Organization), and one id — the candidate
    publicity (lead/member, codes in that order) and the result notice (甲、乙联合体, codes the other way round) of one
    deal name the same party (review R4: identifier {CN-USCC, "91…1A、91…2B"}, ids by the cell as written)."""
    path = build_fixture_warehouse(tmp_path / "gongkai.duckdb", n_extra_deals=1)
    deal = set_candidate_cell(path, "宁夏甲建设公司（牵头人）、宁夏乙建设公司（成员）；宁夏丙建设公司", f"{LEAD}、{MEMBER}；")
    con = duckdb.connect(str(path))
    try:
        con.execute("UPDATE main_marts.fct_trading_bulletins SET win_bidder_name = ?, win_bidder_code = ? "
                    "WHERE deal_key = ? AND win_bidder_name IS NOT NULL",
                    ["宁夏甲建设公司、宁夏乙建设公司联合体", f"{MEMBER}，{LEAD}", deal])
    finally:
        con.close()
    cfg = load_config()
    releases = ocds_releases_checked(path, tmp_path, deal)
    consortia = {(r["tag"][0], p["name"]): p for r in releases for p in r["parties"] if "联合体" in p["name"]
                 or "牵头人" in p["name"]}
    assert {tag for tag, _ in consortia} >= {"award"} and len(consortia) >= 2
    members = [{"scheme": cfg["party_scheme"], "id": code} for code in (LEAD, MEMBER)]
    for party in consortia.values():
        assert "identifier" not in party
        assert sorted(party["additionalIdentifiers"], key=lambda i: i["id"]) == members
    assert len({party["id"] for party in consortia.values()}) == 1


def test_codes_each_once_a_tie_two_tenderers_and_the_packages_valid(tmp_path):
    """Review R4b: a code cell listing one member twice (91…1A 91…1A/91…2B) gave additionalIdentifiers a duplicate
    (release schema uniqueItems); codes split at / and spaces as at 、 give the one id; two firms tied at one rank
    (candidate_names joins a rank's rows at ；) were one tenderer named 甲；乙. The SQL mapping equals the reference and
    every package validates against the OCDS 1.1.5 schemas."""
    from dagster_project.publish.ocds_validation import validate_package_file, validators

    path = build_fixture_warehouse(tmp_path / "gongkai.duckdb", n_extra_deals=2)
    tied = ["宁夏甲建设公司", "宁夏乙建设公司"]
    con = duckdb.connect(str(path))
    try:
        deals = [d for (d,) in con.execute("SELECT DISTINCT deal_key FROM main_marts.fct_trading_bulletins "
                                           "WHERE bulletin_type = '中标候选人公示' ORDER BY deal_key").fetchall()][:2]
        con.execute("UPDATE main_marts.fct_trading_bulletins SET win_candidate_name = ?, win_candidate_code = ?, "
                    "win_candidate_order = NULL WHERE deal_key = ? AND bulletin_type = '中标候选人公示'",
                    ["宁夏甲建设公司（牵头人）、宁夏乙建设公司（成员）；宁夏丙建设公司", f"{LEAD} {LEAD}/{MEMBER}；", deals[0]])
        con.execute("UPDATE main_marts.fct_trading_bulletins SET win_bidder_name = ?, win_bidder_code = ? "
                    "WHERE deal_key = ? AND win_bidder_name IS NOT NULL",
                    ["宁夏甲建设公司、宁夏乙建设公司联合体", f"{MEMBER}／{LEAD}、{MEMBER}、{MEMBER}", deals[0]])
        con.execute("UPDATE main_marts.fct_trading_bulletins SET win_candidate_name = ?, win_candidate_code = NULL, "
                    "win_candidate_order = 1 WHERE deal_key = ? AND bulletin_type = '中标候选人公示'",
                    ["；".join(tied), deals[1]])
    finally:
        con.close()
    cfg, v = load_config(), validators()
    folder, expected = ocds_written_and_mapped(path, tmp_path)
    for package in package_files(folder):
        assert validate_package_file(package, v, cfg) == [], package.name
    written = written_releases(folder)
    assert written == expected
    consortia = [p for r in written if r["ocid"].endswith(deals[0]) for p in r["parties"]
                 if "联合体" in p["name"] or "牵头人" in p["name"]]
    assert len(consortia) >= 2
    for party in consortia:
        assert party["id"] == f"consortium-{LEAD}+{MEMBER}"
        assert [i["id"] for i in party["additionalIdentifiers"]] == [LEAD, MEMBER]
    (publicity,) = [r for r in written if r["ocid"].endswith(deals[1]) and r["tag"] == ["award"]
                    and r["awards"][0]["status"] == "pending"]
    assert [t["name"] for t in publicity["tender"]["tenderers"]] == tied


def test_a_cell_whose_consortium_ends_before_the_semicolon_pairs_its_codes_by_candidate(tmp_path):
    """甲、乙联合体；丙 with codes 乙码、甲码；丙码: the cell as a whole holds no mark (联合体 is followed by ；), so its codes
    were split at 、 as well — the consortium given one member's code, 丙 given 甲's as its identifier. The mark is
    looked for in each candidate, as the candidates are split; SQL mapping equals the reference."""
    path = build_fixture_warehouse(tmp_path / "gongkai.duckdb", n_extra_deals=1)
    third = "91640100MA76XXXX3C"
    deal = set_candidate_cell(path, "宁夏甲建设公司、宁夏乙建设公司联合体；宁夏丙建设公司", f"{MEMBER}、{LEAD}；{third}")
    written = ocds_releases_checked(path, tmp_path, deal)
    (publicity,) = [r for r in written if r["tag"] == ["award"] and r["awards"][0]["status"] == "pending"]
    tenderers = {t["name"]: t["id"] for t in publicity["tender"]["tenderers"]}
    assert tenderers == {"宁夏甲建设公司、宁夏乙建设公司联合体": f"consortium-{LEAD}+{MEMBER}",
                         "宁夏丙建设公司": f"{load_config()['party_scheme']}-{third}"}


def test_several_codes_without_the_mark_are_a_consortium_only_on_the_bidders_side(tmp_path):
    """A cell listing several codes with no consortium mark: a winner so written bids jointly, which the law allows only
    as a consortium (招标投标法 §31) — consortium-…, as the marked form; a buyer so written is joint tendering (the
    standard's 501 ISUNION 是否联合招标), no consortium: its id says joint-… (it said consortium-…). Neither claims
    one organisation's identifier; SQL mapping equals the reference."""
    path = build_fixture_warehouse(tmp_path / "gongkai.duckdb", n_extra_deals=1)
    buyers = ("11640100MB0000011X", "11640100MB0000022X")
    con = duckdb.connect(str(path))
    try:
        (deal,) = con.execute("SELECT min(deal_key) FROM main_marts.fct_trading_bulletins "
                              "WHERE win_bidder_name IS NOT NULL").fetchone()
        con.execute("UPDATE main_marts.fct_trading_bulletins SET tenderer_name = ?, tenderer_code = ? WHERE deal_key = ?",
                    ["银川市某局、银川市某中心", "、".join(buyers), deal])
        con.execute("UPDATE main_marts.fct_trading_bulletins SET win_bidder_name = ?, win_bidder_code = ? "
                    "WHERE deal_key = ? AND win_bidder_name IS NOT NULL", ["宁夏甲建设公司、宁夏乙建设公司", f"{LEAD}、{MEMBER}", deal])
    finally:
        con.close()
    written = ocds_releases_checked(path, tmp_path, deal)
    ids = {p["id"] for r in written for p in r["parties"]}
    assert "joint-" + "+".join(buyers) in ids and f"consortium-{LEAD}+{MEMBER}" in ids
    assert not any(p["id"].startswith("consortium-11640100") for r in written for p in r["parties"])
