"""A candidate's credit code stays with the name it was written beside (review V1 of wave 15, item 1 and 9).

A 中标候选人公示 exported one candidate per row, without a rank column, may still hold several candidates in one row's
cell (``甲；乙`` beside ``A；B``). int_bulletins_deduplicated gave that row's candidates one position between them, so
they were one unit (``乙、甲``, ordered by name) with one empty code slot, and the mart said ``乙、甲；丙`` beside ``；C``:
OCDS then split the names at 、 and paired codes one name at a time — 甲 got 丙's credit code. Now each candidate of a
cell keeps its place in the file's order and the code written beside it; where a cell's codes cannot be paired with
its names (fewer codes than names) none is paired — no identifier is better than another firm's. A consortium's
member row without a code keeps its slot (``A、、C``): the codes after it stay beside their members. A cell listing a
consortium's member codes is checked against GB 32100 code by code (IDENT_USCC_INVALID), not as one code.

Files are written by Python's csv module; the trading family is loaded by the real loader and the trading models are
built by dbt on a DuckDB file of the test's own. Expected values are derived from the rows the test wrote.
"""
from __future__ import annotations

import csv
import unicodedata
from pathlib import Path

import duckdb
import pytest

from dagster_project.identifiers import make_uscc
from test_trading_candidates_per_row import load_and_build
from test_trading_consortium_rows import LEAD, MEMBER, UNION
from test_trading_consortium_rows import _row as _513_row
from test_trading_consortium_rows import _write as _write_513

HEADER = ["PROJECT_CODE", "BID_SECTION_CODE", "BULLETIN_TYPE", "NOTICE_NAME", "NOTICE_SEND_TIME", "TENDERER_NAME",
          "TENDERER_CODE", "WIN_CANDIDATE_NAME", "WIN_CANDIDATE_CODE", "PUBLICITY_START_TIME", "PUBLICITY_END_TIME",
          "WIN_BIDDER_NAME", "WIN_BIDDER_CODE"]
BUYER = ("银川市某某局", "11640100MB1234567X")
FIRMS = [("宁夏甲建设工程有限公司", "91640100MA76XXXX1A"), ("宁夏乙建筑有限公司", "91640100MA76XXXX2B"),
         ("宁夏丙工程集团有限公司", "91640100MA76XXXX3C")]
SENT = "2024-05-10 09:00:00"

pytestmark = pytest.mark.slow


def _row(project: str, name: str, code: str) -> list[str]:
    return [project, "001", "中标候选人公示", f"{project} 中标候选人公示", SENT, *BUYER, name, code, SENT,
            "2024-05-13 09:00:00", "", ""]


# credit codes valid under GB 32100 (check character computed), and one whose check character is wrong
VALID = [make_uscc(f"91640100MA76000{i}0") for i in (1, 2)]
WRONG = VALID[1][:-1] + next(c for c in "0123456789" if c != VALID[1][-1])


def _result(project: str, codes: list[str]) -> list[str]:
    """A 中标结果公告 won by a consortium written in one cell, its members' codes in one cell (item 3)."""
    return [project, "001", "中标结果公告", f"{project} 中标结果公告", SENT, *BUYER, "", "", "", "",
            f"{FIRMS[0][0]}、{FIRMS[1][0]}联合体", "、".join(codes)]


# (project, rows of (name cell, code cell)) — C1: two candidates in row 1 with their codes, a third on row 2;
# C2: two candidates in row 1 beside one code (whose it is cannot be told), a third on row 2;
# C3: a consortium's lead and members on rows of their own, the middle member's code blank
ROWS = {
    "C1": [("；".join(n for n, _ in FIRMS[:2]), "；".join(c for _, c in FIRMS[:2])), FIRMS[2]],
    "C2": [("；".join(n for n, _ in FIRMS[:2]), FIRMS[0][1]), FIRMS[2]],
    "C3": [(f"{FIRMS[0][0]}（牵头人）", FIRMS[0][1]), (f"{FIRMS[1][0]}（成员）", ""), (f"{FIRMS[2][0]}（成员）", FIRMS[2][1])],
    # review V6 item 1: two candidates in row 1 beside three codes (、 or ；), a third on row 2 with no code — no
    # candidate gets a code paired, and the kept row's own cell must not come back split against all three names
    "C4": [("、".join(n for n, _ in FIRMS[:2]), "、".join(c for _, c in FIRMS)), (FIRMS[2][0], "")],
    "C5": [("；".join(n for n, _ in FIRMS[:2]), "；".join(c for _, c in FIRMS)), (FIRMS[2][0], "")],
    # review V6 item 5: one candidate on two rows beside two codes — whose is which cannot be told
    "C6": [FIRMS[0], FIRMS[1], (FIRMS[0][0], FIRMS[2][1])],
    # and a code cell ending in its separator (甲；乙 beside A；B；): it paired neither
    "C7": [("；".join(n for n, _ in FIRMS[:2]), "；".join(c for _, c in FIRMS[:2]) + "；"), FIRMS[2]],
}


BUYERS = [("银川市甲局", make_uscc("11640100MB0000010")), ("银川市乙局", make_uscc("11640100MB0000020"))]


def _notice(project: str, buyers: list[tuple[str, str]], winners: list[tuple[str, str]]) -> list[str]:
    return [project, "001", "中标结果公告", f"{project} 中标结果公告", SENT, "；".join(n for n, _ in buyers),
            "；".join(c for _, c in buyers), "", "", "", "", "、".join(n for n, _ in winners) + "联合体",
            "、".join(c for _, c in winners)]


def _copies() -> tuple[list[list[str]], list[list[str]]]:
    members = [(FIRMS[0][0], VALID[0]), (FIRMS[1][0], VALID[1])]
    swapped = [(BUYERS[0][0], BUYERS[1][1]), (BUYERS[1][0], BUYERS[0][1])]
    # X3 (review V6 item 4): 甲、乙、丙联合体 beside A、、C in one export and C、、A in the other — the empty slot was
    # dropped, the counts differed from the names' and the sets were equal: a real conflict hidden
    trio = [(FIRMS[0][0], VALID[0]), (FIRMS[1][0], ""), (FIRMS[2][0], VALID[1])]
    crossed = [(trio[0][0], VALID[1]), trio[1], (trio[2][0], VALID[0])]
    # X4 (review V6 item 5): 甲（牵头人）、乙（成员） (a 513 folded from role-marked rows) vs 甲、乙联合体 — one winner
    marked = _notice("X4", BUYERS[:1], members)
    marked[11] = f"{FIRMS[0][0]}（牵头人）、{FIRMS[1][0]}（成员）"
    return ([_notice("X1", BUYERS[:1], members), _notice("X2", BUYERS, members[:1]), _notice("X3", BUYERS[:1], trio),
             marked],
            [_notice("X1", BUYERS[:1], members[::-1]), _notice("X2", swapped, members[:1]),
             _notice("X3", BUYERS[:1], crossed), _notice("X4", BUYERS[:1], members)])


def _version(title: str, end: str) -> list[str]:
    return ["Y1", "001", "中标结果公告", title, SENT, *BUYER, "", "", SENT, end, FIRMS[0][0], VALID[0]]


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory) -> Path:
    tmp = tmp_path_factory.mktemp("candidate_codes")
    path = tmp / "raw" / "trading" / "candidates.csv"
    path.parent.mkdir(parents=True)
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADER)
        writer.writerows(_row(project, name, code) for project, rows in ROWS.items() for name, code in rows)
        writer.writerows([_result("R1", VALID), _result("R2", [VALID[0], WRONG])])
    # items 5 and 6: one result in two exports — X1 its consortium's members (and codes) in another order, X2 its joint
    # buyers' codes swapped (a real conflict: which buyer holds which code)
    first, second = _copies()
    # item 10: Y1 kept in the newest export (export_c) with its publicity end blank, a corrected version below it
    # stating 05-20; an older export's copy of the kept version states 05-13
    first.append(_version("Y1 中标结果公告", "2024-05-13 09:00:00"))
    newest = [_version("Y1 中标结果公告", ""), _version("Y1 中标结果公告（更正）", "2024-05-20 09:00:00"),
              ["Y9", "001", "招标公告", "Y9 招标公告", "2024-06-01 09:00:00", *BUYER, "", "", "", "", "", ""]]
    writer_rows = {"trading/export_a.csv": first, "trading/export_b.csv": second, "trading/export_c.csv": newest}
    for rel, rows in writer_rows.items():
        with (tmp / "raw" / rel).open("w", encoding="utf-8", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(HEADER)
            writer.writerows(rows)
    # a 513 consortium one member per row, the member's code damaged by a spreadsheet (item 4)
    _write_513(tmp / "raw", [_513_row("001", "20200512100000", LEAD, UNION),
                             _513_row("001", "20200512100000", (MEMBER[0], "9.16402E+17"), UNION, amount="")],
               name="513_consortium.csv")
    return load_and_build(tmp, "+fct_trading_bulletins", "+int_identifier_checks", "+int_blanked_cells",
                          "+int_bulletin_copies_compared")


def _bulletins(db: Path) -> dict[str, dict]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        cursor = con.execute("select * from marts.fct_trading_bulletins where bulletin_type_code = 'candidates'")
        names = [d[0] for d in cursor.description]
        rows = [dict(zip(names, values)) for values in cursor.fetchall()]
    finally:
        con.close()
    return {row["deal_key"].split("/")[0]: row for row in rows}


def _identifiers(row: dict) -> dict[str, str | None]:
    from dagster_project.publish.ocds_reference import candidates
    from dagster_project.publish.ocds_config import load_config

    parties = [party for _rank, party in candidates(row, load_config()["party_scheme"])]
    return {p["name"]: (p.get("identifier") or {}).get("id") for p in parties}


def test_each_candidate_keeps_the_code_written_beside_it(warehouse):
    row = _bulletins(warehouse)["C1"]
    assert row["win_candidate_name"].split("；") == [n for n, _ in FIRMS]       # the file's order, one candidate each
    assert row["win_candidate_code"].split("；") == [c for _, c in FIRMS]
    assert _identifiers(row) == dict(FIRMS)


def test_codes_that_cannot_be_paired_with_their_names_are_paired_with_none(warehouse):
    """甲；乙 beside one code: whose it is cannot be told — neither gets it, and 丙 keeps its own (not shifted)."""
    row = _bulletins(warehouse)["C2"]
    assert row["win_candidate_name"].split("；") == [n for n, _ in FIRMS]
    assert _identifiers(row) == {FIRMS[0][0]: None, FIRMS[1][0]: None, FIRMS[2][0]: FIRMS[2][1]}


@pytest.mark.parametrize("project", ["C4", "C5"])
def test_no_code_is_given_where_none_was_paired(warehouse, project):
    """甲、乙 (or 甲；乙) beside A、B、C, 丙 with no code on the next row: the mart said 甲；乙；丙 beside A、B、C (the kept
    row's raw cell, candidate_codes being NULL) and OCDS gave 丙 code C. None is paired."""
    row = _bulletins(warehouse)[project]
    assert row["win_candidate_name"].split("；") == [n for n, _ in FIRMS]
    assert row["win_candidate_code"] is None
    assert _identifiers(row) == {n: None for n, _ in FIRMS}


def test_a_separator_ending_the_code_cell_is_no_code_of_its_own(warehouse):
    row = _bulletins(warehouse)["C7"]
    assert row["win_candidate_code"].split("；") == [c for _, c in FIRMS]
    assert _identifiers(row) == dict(FIRMS)
    # one row's cell read by OCDS itself (no listing): the reference pairs both
    cell = {"win_candidate_name": ROWS["C7"][0][0], "win_candidate_code": ROWS["C7"][0][1], "win_candidate_order": None}
    assert _identifiers(cell) == dict(FIRMS[:2])


def test_one_candidate_beside_two_codes_gets_neither(warehouse):
    """甲 on rows 1 and 3 beside A and C: min() kept A silently. Neither is paired; 乙 keeps its own."""
    row = _bulletins(warehouse)["C6"]
    assert row["win_candidate_name"].split("；") == [n for n, _ in FIRMS[:2]]
    assert _identifiers(row) == {FIRMS[0][0]: None, FIRMS[1][0]: FIRMS[1][1]}


def test_a_member_without_a_code_keeps_its_slot(warehouse):
    """甲（牵头人）, 乙（成员） with no code, 丙（成员）: the consortium's codes are A、、C — A、C beside 甲、乙、丙 reads as C
    being 乙's."""
    row = _bulletins(warehouse)["C3"]
    names = [unicodedata.normalize("NFKC", n) for n, _ in ROWS["C3"]]
    assert row["win_candidate_name"] == "、".join(names)
    assert row["win_candidate_code"] == "、".join(c for _, c in ROWS["C3"])


def test_ocds_pairs_no_code_where_codes_and_names_differ_in_number(tmp_path):
    """The cell the mart gave before (乙、甲；丙 beside ；C): the Python reference and its SQL twin paired C with 甲. Now
    neither pairs a code (three names, two code pieces); SQL equals the reference."""
    from test_publish_support import build_fixture_warehouse, claimed_identifiers, ocds_releases_checked, set_candidate_cell

    path = build_fixture_warehouse(tmp_path / "gongkai.duckdb", n_extra_deals=1)
    deal = set_candidate_cell(path, f"{FIRMS[1][0]}、{FIRMS[0][0]}；{FIRMS[2][0]}", f"；{FIRMS[2][1]}")
    written = ocds_releases_checked(path, tmp_path, deal)
    (publicity,) = [r for r in written if r["tag"] == ["award"] and r["awards"][0]["status"] == "pending"]
    assert claimed_identifiers(publicity) == {n: None for n, _ in FIRMS}


def test_ocds_sql_reads_a_separator_ending_the_code_cell_as_the_reference_does(tmp_path):
    """甲；乙 beside A；B； on one row: the SQL twin paired neither (three pieces, two names); it equals the reference."""
    from test_publish_support import build_fixture_warehouse, claimed_identifiers, ocds_releases_checked, set_candidate_cell

    path = build_fixture_warehouse(tmp_path / "gongkai.duckdb", n_extra_deals=1)
    deal = set_candidate_cell(path, *ROWS["C7"][0])
    written = ocds_releases_checked(path, tmp_path, deal)
    (publicity,) = [r for r in written if r["tag"] == ["award"] and r["awards"][0]["status"] == "pending"]
    assert claimed_identifiers(publicity) == dict(FIRMS[:2])


def test_a_consortiums_codes_are_checked_member_by_member(warehouse):
    """Two members' valid codes in one cell were IDENT_USCC_INVALID "length 37" (the cell checked as one code); now
    each member's code is checked: none invalid for R1, and R2's wrong member code is the one reported."""
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        got = con.execute("select deal_key, code_value, is_valid from intermediate.int_identifier_checks "
                          "where column_name = 'win_bidder_code' and deal_key in ('R1/001', 'R2/001') "
                          "order by deal_key, code_value").fetchall()
    finally:
        con.close()
    assert got == sorted([("R1/001", c, True) for c in VALID] + [("R2/001", VALID[0], True), ("R2/001", WRONG, False)])


def test_a_folded_member_rows_damaged_code_keeps_its_deal_and_year(warehouse):
    """A 513 member row folded into its consortium's first row: its damaged code (9.16402E+17) was a QUAR_CODE_DAMAGED
    with publisher, year and record NULL — int_blanked_cells looked the bulletin up by the member's row, which is no
    bulletin any more. The cell keeps its own row; its record is the consortium's bulletin."""
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        bulletin = con.execute("select deal_key, year(notice_send_time) from intermediate.int_bulletins_deduplicated "
                               "where source_file = 'trading/513_consortium.csv'").fetchall()
        cells = con.execute("select source_row, record_key, fiscal_year from intermediate.int_blanked_cells "
                            "where source_file = 'trading/513_consortium.csv'").fetchall()
    finally:
        con.close()
    ((deal, year),) = bulletin
    assert cells == [(3, deal, year)]   # the member's own row (header 1, lead 2)


def test_copies_compare_a_party_as_its_members_and_which_code_is_whose(warehouse):
    """X1: one consortium written 甲、乙联合体 (codes A、B) and 乙、甲联合体 (B、A) in two exports — the same winner, it was
    a TRADE_CONFLICTING_COPIES on win_bidder_name. X2: joint buyers 甲局；乙局 whose codes the second export swaps —
    which buyer holds which code differs, a conflict on tenderer_code (the codes compared as a set hid it)."""
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        got = dict(con.execute("select deal_key, string_agg(differing_fields, ',') from "
                               "intermediate.int_bulletin_copies_compared where deal_key in ('X1/001', 'X2/001', "
                               "'X3/001', 'X4/001') and not is_canonical group by deal_key").fetchall())
    finally:
        con.close()
    assert got == {"X1/001": None, "X2/001": "tenderer_code", "X3/001": "win_bidder_code", "X4/001": None}


def test_a_blank_of_the_kept_notice_is_filled_only_from_its_own_version(warehouse):
    """Y1: the kept copy leaves the publicity end blank; the corrected version (another title) below it states 05-20;
    an older export's copy of the kept version states 05-13. The corrected version lent the kept notice its end, and
    the copy of the kept version was a false conflict on publicity_end_time. Now only copies of the kept version lend;
    the corrected version conflicts (its title, and its end against the one lent), and says which copy lent it."""
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        got = con.execute("select source_file, source_row, differing_fields, lent_fields "
                          "from intermediate.int_bulletin_copies_compared "
                          "where deal_key = 'Y1/001' and is_conflicting order by source_file, source_row").fetchall()
    finally:
        con.close()
    assert got == [("trading/export_c.csv", 3, "notice_name, publicity_end_time",
                    f"publicity_end_time ← trading/export_a.csv #{len(_copies()[0]) + 2}")]   # after the header, X*


def test_a_buyer_named_a_medical_consortium_with_one_code_is_one_party_with_its_identifier(tmp_path):
    """A buyer 银川市第一人民医院医疗联合体 (a 医联体 is one buyer) with one credit code got joint-<code> and no identifier:
    the consortium mark in a name makes a group of a bidder only. SQL equals the reference."""
    from test_publish_support import build_fixture_warehouse, ocds_releases_checked
    from dagster_project.publish.ocds_config import load_config

    buyer = ("银川市第一人民医院医疗联合体", make_uscc("12640100MB0000030"))
    path = build_fixture_warehouse(tmp_path / "gongkai.duckdb", n_extra_deals=1)
    con = duckdb.connect(str(path))
    try:
        (deal,) = con.execute("SELECT min(deal_key) FROM main_marts.fct_trading_bulletins").fetchone()
        con.execute("UPDATE main_marts.fct_trading_bulletins SET tenderer_name = ?, tenderer_code = ? WHERE deal_key = ?",
                    [*buyer, deal])
    finally:
        con.close()
    written = ocds_releases_checked(path, tmp_path, deal)
    scheme = load_config()["party_scheme"]
    for release in written:
        (party,) = [p for p in release["parties"] if "buyer" in p["roles"]]
        assert party["id"] == f"{scheme}-{buyer[1]}" and party["identifier"]["id"] == buyer[1]
