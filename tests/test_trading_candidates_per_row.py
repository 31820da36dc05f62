"""A 中标候选人公示 exported one candidate per row, without a rank column: the rows of one notice that differ only in the
candidate's fields are that notice's candidates — one bulletin with N candidates, not N copies contradicting each other.

RAW_FORMATS.md trading/ keys a bulletin on (deal, type, send time) — and the candidate's rank where the file has one.
A file without the rank lists the same key once per candidate. A reader of that file sees one publicity naming N
candidates; two copies of a notice whose other content differs (in one file or in two exports) still contradict each
other (TRADE_CONFLICTING_COPIES), and the finding says which of the two it is. The candidate lists of two exports of the
same publicity are compared as lists: a flat export naming all candidates in one cell (``A；B``) agrees with an export
listing them one per row.

Files are written by Python's csv module; the trading family is loaded by the real loader and the trading models are
built by dbt on a DuckDB file of the test's own. Expected values are derived from the rows the test wrote.
"""
from __future__ import annotations

import csv
import unicodedata
from pathlib import Path

import duckdb
import pytest

from dagster_project.ingest import framework
from dagster_project.ingest.assets import FAMILY_LOADERS, resolve_loader
from dbt_fixed_path import run_dbt

HEADER = ["PROJECT_CODE", "BID_SECTION_CODE", "BULLETIN_TYPE", "NOTICE_NAME", "NOTICE_SEND_TIME", "TENDERER_NAME",
          "TENDERER_CODE", "WIN_CANDIDATE_NAME", "WIN_CANDIDATE_CODE", "PUBLICITY_START_TIME", "PUBLICITY_END_TIME",
          "BID_AMOUNT"]
BUYER = ("银川市某某局", "11640100MB1234567X")
CANDIDATES = [("宁夏甲建设工程有限公司", "91640100MA76XXXX1A"), ("宁夏乙建筑有限公司", "91640100MA76XXXX2B"),
              ("宁夏丙工程集团有限公司", "91640100MA76XXXX3C")]

# a consortium as notices write one: its members joined by 、, marked as a consortium
CONSORTIUM_SUFFIXED = f"{CANDIDATES[0][0]}、{CANDIDATES[1][0]}联合体"
CONSORTIUM_LEAD_MEMBER = f"{CANDIDATES[0][0]}（牵头人）、{CANDIDATES[1][0]}（成员）"
CONSORTIUM_PREFIXED = f"联合体：{CANDIDATES[1][0]}、{CANDIDATES[2][0]}"
SPORTS_FIRM = "宁夏联合体育发展有限公司"
# hostile firm names (review R4): 联合体 goes on into the firm's name (联合 + 体检/体系/体育/体验), no consortium
HOSTILE_FIRMS = ["宁夏联合体检中心有限公司", "宁夏联合体系认证有限公司", "宁夏联合体验馆有限公司", SPORTS_FIRM]
# a consortium's members one per row, as V3 510 lists them with BIDDER_ROLE written into the name, then a firm
MEMBER_ROWS = [f"{CANDIDATES[0][0]}（牵头人）", f"{CANDIDATES[1][0]}（成员）", CANDIDATES[2][0]]
# review R4b: the member-per-row list re-sorted (甲（牵头人）, 丙, 乙（成员）: the member joins the lead, not 丙); a member
# no lead precedes; the marks written 联合体牵头人 / 联合体成员
RESORTED_ROWS = [MEMBER_ROWS[0], MEMBER_ROWS[2], MEMBER_ROWS[1]]
ORPHAN_MEMBER_ROWS = [CANDIDATES[2][0], f"{CANDIDATES[1][0]}（成员）"]
LONG_MARK_ROWS = [f"{CANDIDATES[0][0]}（联合体牵头人）", f"{CANDIDATES[1][0]}（联合体成员）", CANDIDATES[2][0]]
# what a reader of each publicity counts, written out by hand (P17: two unmarked firms tied at rank 1, then rank 2)
READERS_COUNT = {"P11/001": 4, "P12/001": 2, "P13/001": 2, "P14/001": 3, "P15/001": 2,
                 "P16/001": 2, "P17/001": 3, "P18/001": 2, "P19/001": 2, "P20/001": 2, "P21/001": 2}
# review R4b: 、 after 联合体 ends the consortium; a bracket after 联合体 then 有限公司 goes on with a firm's name
CONSORTIUM_THEN_FIRM = f"{CONSORTIUM_SUFFIXED}、{CANDIDATES[2][0]}"
GROUP_FIRM = "宁夏联合体（集团）有限公司"

pytestmark = pytest.mark.slow


def _row(project: str, title: str, sent: str, name: str, code: str, kind: str = "中标候选人公示", price: str = "") -> list[str]:
    return [project, "001", kind, title, sent, *BUYER, name, code, sent, "2024-05-13 09:00:00", price]


def _write(path: Path, rows: list[list[str]], header: list[str] = HEADER) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)


def _raw_root(raw: Path) -> dict[str, list[list[str]]]:
    """Four deals: P1 candidates one per row in one file; P2 the same notice twice in one file with different titles;
    P3 one publicity as a flat export (all names in one cell) and as a later export one per row; P4 one publicity in
    two exports with different titles. Returns the rows written, per file."""
    sent, later = "2024-05-10 09:00:00", "2024-06-01 09:00:00"
    # P1 in rank order, each candidate with its own price (review: the names were listed by code point — 丙 first —
    # and OCDS took the first as rank 1; the prices made the rows of one file conflicting copies)
    per_row = [_row("P1", "P1 中标候选人公示", sent, n, c, price=str(1_000_000 + 10_000 * i))
               for i, (n, c) in enumerate(CANDIDATES)]
    per_row += [_row("P2", "P2 中标候选人公示", sent, *CANDIDATES[0]), _row("P2", "P2 中标候选人公示（更正）", sent, *CANDIDATES[0])]
    # P5: the same key twice in one file, the second version naming another candidate (review R3: the kept notice
    # was given both candidates)
    per_row += [_row("P5", "P5 中标候选人公示", sent, *CANDIDATES[0]),
                _row("P5", "P5 中标候选人公示（更正）", sent, *CANDIDATES[1])]
    # P6: a consortium and a firm, one per row; the consortium written as its lead and member
    per_row += [_row("P6", "P6 中标候选人公示", sent, CONSORTIUM_LEAD_MEMBER, ""),
                _row("P6", "P6 中标候选人公示", sent, *CANDIDATES[2])]
    flat = [_row("P3", "P3 中标候选人公示", sent, "；".join(n for n, _ in CANDIDATES[:2]), ""),
            _row("P4", "P4 中标候选人公示", sent, *CANDIDATES[0]),
            # P7: a flat cell naming a consortium and, after ；, a firm; P8: a consortium alone, named before its members
            _row("P7", "P7 中标候选人公示", sent, f"{CONSORTIUM_SUFFIXED}；{CANDIDATES[2][0]}", ""),
            _row("P8", "P8 中标候选人公示", sent, CONSORTIUM_PREFIXED, ""),
            # P10 (hostile): 联合体育 in a firm's name is 联合 + 体育, no consortium: two candidates
            _row("P10", "P10 中标候选人公示", sent, f"{SPORTS_FIRM}、{CANDIDATES[2][0]}", "")]
    # P15 (review R4): the kept row leaves the publicity's end blank; the next row states it, a third row (a second
    # version) states another end — it contradicted only a blank, and its candidate came in
    ends = ["", "2024-05-13 09:00:00", "2024-05-20 09:00:00"]
    end_column = HEADER.index("PUBLICITY_END_TIME")
    per_row += [[*r[:end_column], end, *r[end_column + 1:]]
                for r, end in zip((_row("P15", "P15 中标候选人公示", sent, n, c) for n, c in CANDIDATES), ends)]
    # P12 (review R4): the first row states the notice and names no candidate, a row per candidate follows
    per_row += [_row("P12", "P12 中标候选人公示", sent, "", "")]
    per_row += [_row("P12", "P12 中标候选人公示", sent, n, c) for n, c in CANDIDATES[:2]]
    # P11 (hostile): four firms whose names hold 联合体 + another character; P13 the flat copy of a member-per-row list
    flat += [_row("P11", "P11 中标候选人公示", sent, "、".join(HOSTILE_FIRMS), ""),
             _row("P13", "P13 中标候选人公示", sent, "、".join(MEMBER_ROWS[:2]) + "；" + MEMBER_ROWS[2], ""),
             _row("P20", "P20 中标候选人公示", sent, CONSORTIUM_THEN_FIRM, ""),
             _row("P21", "P21 中标候选人公示", sent, f"{GROUP_FIRM}、{CANDIDATES[2][0]}", "")]
    per_row += [_row(p, f"{p} 中标候选人公示", sent, name, "")
                for p, names in (("P16", RESORTED_ROWS), ("P18", ORPHAN_MEMBER_ROWS), ("P19", LONG_MARK_ROWS))
                for name in names]
    # P22: a consortium's lead and member on rows of their own, each with its code, then a firm; P23 the same
    # candidates in one flat cell, the consortium written 甲、乙联合体 and its codes the other way round
    per_row += [_row("P22", "P22 中标候选人公示", sent, name, code)
                for name, (_n, code) in zip(MEMBER_ROWS, CANDIDATES)]
    flat += [_row("P23", "P23 中标候选人公示", sent, f"{CONSORTIUM_SUFFIXED}；{CANDIDATES[2][0]}",
                  f"{CANDIDATES[1][1]}、{CANDIDATES[0][1]}；{CANDIDATES[2][1]}")]
    # P24: one result in three exports; the kept copy (newer_export, the latest) leaves the publicity's end blank, the
    # two others state different ends — they contradict each other, not the kept row
    end_at = HEADER.index("PUBLICITY_END_TIME")
    p24 = {rel: [*r[:end_at], end, *r[end_at + 1:]] for rel, end in (
        ("newer", ""), ("per_row", "2024-05-13 09:00:00"), ("flat", "2024-05-20 09:00:00"))
        for r in [_row("P24", "P24 中标结果公告", sent, CANDIDATES[0][0], CANDIDATES[0][1], kind="中标结果公告")]}
    per_row.append(p24["per_row"])
    flat.append(p24["flat"])
    # P25/P26: a result of two joint buyers in two exports, their codes in one cell: P25 in the other order (the same
    # buyers), P26 naming another second buyer (a conflict)
    code_at = HEADER.index("TENDERER_CODE")
    joint = [BUYER[1], "11640100MB7654321X"]

    def _buyers(project: str, codes: list[str]) -> list[str]:
        r = _row(project, f"{project} 中标结果公告", sent, *CANDIDATES[0], kind="中标结果公告")
        return [*r[:code_at], "、".join(codes), *r[code_at + 1:]]
    flat += [_buyers("P25", joint), _buyers("P26", [joint[0], "11640100MB0000000X"])]
    newer = [_row("P3", "P3 中标候选人公示", sent, n, c) for n, c in CANDIDATES[:2]] + [p24["newer"]]
    newer += [_buyers("P25", joint[::-1]), _buyers("P26", joint)]
    newer += [_row("P13", "P13 中标候选人公示", sent, name, "") for name in MEMBER_ROWS]
    newer += [_row("P4", "P4 中标候选人公示 第二版", sent, *CANDIDATES[0]),
              _row("P9", "P9 招标公告", later, "", "", kind="招标公告")]   # makes this export the later one
    files = {"trading/candidates_per_row.csv": per_row, "trading/flat_export.csv": flat, "trading/newer_export.csv": newer}
    for rel, rows in files.items():
        _write(raw / rel, rows)
    # P14: a ranked export (WIN_CANDIDATE_ORDER) whose rank 1 is a consortium on two rows, then ranks 2 and 3
    ranked = [_row("P14", "P14 中标候选人公示", sent, name, "") + [rank]
              for name, rank in (*zip(MEMBER_ROWS[:2], ("1", "1")), (CANDIDATES[2][0], "2"), ("宁夏丁建设公司", "3"))]
    # P17 (review R4b): two firms nothing marks as a consortium tied at rank 1 — two candidates, as a reader sees them
    ranked += [_row("P17", "P17 中标候选人公示", sent, name, "") + [rank]
               for name, rank in ((CANDIDATES[0][0], "1"), (CANDIDATES[1][0], "1"), (CANDIDATES[2][0], "2"))]
    _write(raw / "trading/ranked_export.csv", ranked, HEADER + ["WIN_CANDIDATE_ORDER"])
    return {**files, "trading/ranked_export.csv": ranked}


def load_and_build(tmp: Path, *select: str) -> Path:
    """``tmp/raw`` loaded by the real loaders into ``tmp/w.duckdb`` and the ``select``ed models (and seeds) built on it
    by dbt: the warehouse file."""
    from dagster_project.paths import settings

    db = tmp / "w.duckdb"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("GONGKAI_RAW_DIR", str(tmp / "raw"))
        mp.setenv("GONGKAI_WAREHOUSE", str(db))
        mp.setenv("GONGKAI_OUT_DIR", str(tmp / "out"))
        env = settings().env_for_subprocess()
        con = duckdb.connect(str(db))
        try:
            for family, spec in FAMILY_LOADERS.items():
                framework.load_family(con, tmp / "raw", family, resolve_loader(spec), progress=lambda _: None)
        finally:
            con.close()
        # through this process's fixed warehouse path (dbt_fixed_path): the next build, on this or another root,
        # parses only what changed instead of the whole project again
        done = run_dbt(["build", "--select", *select, "--resource-type", "model", "--resource-type", "seed"],
                       env, tmp / "target", tmp / "logs")
    assert done.returncode == 0, done.stdout[-6000:]
    return db


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory) -> tuple[Path, dict[str, list[list[str]]]]:
    tmp = tmp_path_factory.mktemp("candidates_per_row")
    written = _raw_root(tmp / "raw")
    return load_and_build(tmp, "+int_bulletin_copies_compared", "fct_trading_bulletins"), written


def _query(db: Path, sql: str, params: list | None = None) -> list[tuple]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute(sql, params or []).fetchall()
    finally:
        con.close()


def _names(rows: list[list[str]], project: str) -> set[str]:
    column = HEADER.index("WIN_CANDIDATE_NAME")
    return {n for r in rows if r[0] == project for n in r[column].split("；") if n}


def test_candidates_one_per_row_are_one_notice_with_all_of_them(warehouse):
    db, written = warehouse
    rows = written["trading/candidates_per_row.csv"]
    counts = dict(_query(db, "select deal_key, candidate_count from intermediate.int_deals_assembled"))
    assert counts["P1/001"] == len(_names(rows, "P1"))
    (bulletins,) = _query(db, "select count(*) from intermediate.int_bulletins_deduplicated "
                              "where deal_key = 'P1/001' and bulletin_type_code = 'candidates'")
    assert bulletins == (1,)
    (shown,) = _query(db, "select win_candidate_name from marts.fct_trading_bulletins "
                          "where deal_key = 'P1/001' and bulletin_type_code = 'candidates'")
    column = HEADER.index("WIN_CANDIDATE_NAME")
    assert shown[0].split("；") == [r[column] for r in rows if r[0] == "P1"]   # in the file's order
    conflicting = _query(db, "select source_row, differing_fields from intermediate.int_bulletin_copies_compared "
                             "where deal_key = 'P1/001' and is_conflicting")
    assert conflicting == []


def test_flat_and_per_row_exports_of_one_publicity_agree(warehouse):
    db, written = warehouse
    counts = dict(_query(db, "select deal_key, candidate_count from intermediate.int_deals_assembled"))
    assert counts["P3/001"] == len(_names(written["trading/flat_export.csv"], "P3")) \
        == len(_names(written["trading/newer_export.csv"], "P3"))
    assert _query(db, "select source_file, differing_fields from intermediate.int_bulletin_copies_compared "
                      "where deal_key = 'P3/001' and is_conflicting") == []


def test_copies_whose_other_content_differs_still_conflict_and_say_where(warehouse):
    db, _ = warehouse
    got = _query(db, "select deal_key, source_file, differing_fields, is_same_file "
                     "from intermediate.int_bulletin_copies_compared where is_conflicting order by deal_key")
    # P15: the third row states another end than the second, which lent the kept row its blank end: a second version
    # (listed_notice leaves its candidate out for that reason), now reported as one
    assert got == [("P15/001", "trading/candidates_per_row.csv", "publicity_end_time", True),
                   ("P2/001", "trading/candidates_per_row.csv", "notice_name", True),
                   ("P24/001", "trading/flat_export.csv", "publicity_end_time", False),
                   ("P26/001", "trading/flat_export.csv", "tenderer_code", False),
                   ("P4/001", "trading/flat_export.csv", "notice_name", False),
                   ("P5/001", "trading/candidates_per_row.csv", "notice_name", True)]


def test_a_copy_conflicting_with_another_where_the_kept_row_is_blank_is_reported(warehouse):
    """P24: the kept copy states no publicity end; the next copy in the rule's order states one, a third another. The
    third contradicts what the notice states (the kept row's fields, a blank one from the first copy stating it) —
    it was compared with the kept row alone, and a blank contradicts nothing, so the two exports' disagreement went
    unreported. The copy that lent the field is no conflict."""
    db, _written = warehouse
    got = _query(db, "select source_file, is_conflicting, differing_fields from intermediate.int_bulletin_copies_compared "
                     "where deal_key = 'P24/001' order by source_file")
    assert got == [("trading/candidates_per_row.csv", False, None), ("trading/flat_export.csv", True, "publicity_end_time"),
                   ("trading/newer_export.csv", False, None)]


def test_a_code_cell_listing_the_same_parties_in_another_order_is_no_conflict(warehouse):
    """P25: two joint buyers' codes in one cell, the two exports listing them in another order — the same buyers (as a
    513's member rows and a flat export's one cell may order a consortium's codes): compared as a set of codes, not as
    text; P26 names another buyer and still conflicts."""
    db, _written = warehouse
    got = dict(_query(db, "select deal_key, bool_or(is_conflicting) from intermediate.int_bulletin_copies_compared "
                          "where deal_key in ('P25/001', 'P26/001') group by deal_key"))
    assert got == {"P25/001": False, "P26/001": True}


def test_a_second_version_in_one_file_lends_the_kept_notice_no_candidate(warehouse):
    """The kept notice (the file's first row for the key) lists only the rows that state it: the second version's
    candidate is the conflicting copy's, not the kept notice's."""
    db, written = warehouse
    rows = [r for r in written["trading/candidates_per_row.csv"] if r[0] == "P5"]
    title, column = HEADER.index("NOTICE_NAME"), HEADER.index("WIN_CANDIDATE_NAME")
    own = [r[column] for r in rows if r[title] == rows[0][title]]
    counts = dict(_query(db, "select deal_key, candidate_count from intermediate.int_deals_assembled"))
    assert counts["P5/001"] == len(own)
    (shown,) = _query(db, "select win_candidate_name from marts.fct_trading_bulletins where deal_key = 'P5/001'")
    assert shown[0].split("；") == own


def test_a_consortium_is_one_candidate(warehouse):
    """甲、乙联合体 / 甲（牵头人）、乙（成员） / 联合体：甲、乙 name one candidate whose members are listed, per row and in
    a flat cell beside other candidates (after ；) — it was counted as one candidate per member."""
    db, written = warehouse
    counts = dict(_query(db, "select deal_key, candidate_count from intermediate.int_deals_assembled"))
    column = HEADER.index("WIN_CANDIDATE_NAME")
    flat = {r[0]: r[column] for r in written["trading/flat_export.csv"]}
    assert counts["P6/001"] == len([r for r in written["trading/candidates_per_row.csv"] if r[0] == "P6"])
    assert counts["P7/001"] == len(flat["P7"].split("；"))
    assert counts["P8/001"] == 1
    assert counts["P10/001"] == len(flat["P10"].split("、"))
    (shown,) = _query(db, "select win_candidate_name from marts.fct_trading_bulletins where deal_key = 'P6/001'")
    # names as staging cleans them (full-width brackets half-width: NFKC)
    assert shown[0].split("；") == [unicodedata.normalize("NFKC", r[column])
                                   for r in written["trading/candidates_per_row.csv"] if r[0] == "P6"]


def test_candidates_as_a_reader_counts_them(warehouse):
    """Review R4: firm names holding 联合体 (体检/体系/体验/体育) are four candidates, not one consortium; a kept row naming
    no candidate lends its notice the rows after it (it counted 0); a consortium's members on rows of their own — marked
    （成员）, or sharing rank 1 in a ranked export — are their lead's one candidate (it counted 3 and 4)."""
    db, _written = warehouse
    counts = dict(_query(db, "select deal_key, candidate_count from intermediate.int_deals_assembled"))
    assert {key: counts.get(key) for key in READERS_COUNT} == READERS_COUNT
    shown = dict(_query(db, "select deal_key, win_candidate_name from marts.fct_trading_bulletins "
                            "where deal_key in ('P12/001', 'P13/001') and bulletin_type_code = 'candidates'"))
    assert shown["P12/001"] == "；".join(n for n, _ in CANDIDATES[:2])
    # the member joins its lead with 、 (names as staging cleans them: full-width brackets half-width)
    lead, member, firm = (unicodedata.normalize("NFKC", name) for name in MEMBER_ROWS)
    assert shown["P13/001"] == f"{lead}、{member}；{firm}"


def test_a_member_joins_the_nearest_lead_and_nothing_unmarked_is_joined(warehouse):
    """Review R4b: a member row joins the nearest lead-marked row before it (re-sorted 甲（牵头人）, 丙, 乙（成员） is
    甲+乙 and 丙 — it joined 丙), a member with no lead stays its own candidate, 联合体牵头人/联合体成员 mark as 牵头人/成员
    do, and two firms tied at one rank that nothing marks are two candidates (they were joined as one)."""
    db, _written = warehouse
    shown = dict(_query(db, "select deal_key, win_candidate_name from marts.fct_trading_bulletins "
                            "where bulletin_type_code = 'candidates' and deal_key in ('P16/001', 'P18/001', 'P19/001')"))
    lead, member, firm = (unicodedata.normalize("NFKC", name) for name in MEMBER_ROWS)
    assert shown["P16/001"] == f"{lead}、{member}；{firm}"
    assert shown["P18/001"] == "；".join(unicodedata.normalize("NFKC", n) for n in ORPHAN_MEMBER_ROWS)
    assert shown["P19/001"] == "；".join(["、".join(unicodedata.normalize("NFKC", n) for n in LONG_MARK_ROWS[:2]),
                                         LONG_MARK_ROWS[2]])
    tied = _query(db, "select win_candidate_name from marts.fct_trading_bulletins "
                      "where deal_key = 'P17/001' and win_candidate_order = 1")
    assert tied == [("；".join(n for n, _ in CANDIDATES[:2]),)]


def test_a_consortiums_member_rows_carry_their_codes_to_its_one_ocds_party(warehouse):
    """A consortium whose lead and member have rows of their own, each with its code, is the same OCDS tenderer —
    id and additionalIdentifiers from both members' codes — as the consortium written in one cell with both codes
    (the last stop's note: the member's code never reached fct_trading_bulletins, so the party had no code at all,
    ``name-…`` for an id). The firm beside it keeps its own identifier."""
    from dagster_project.publish.ocds_reference import candidates
    from dagster_project.publish.ocds_config import load_config

    db, _written = warehouse
    scheme = load_config()["party_scheme"]
    con = duckdb.connect(str(db), read_only=True)
    try:
        cursor = con.execute("select * from marts.fct_trading_bulletins where bulletin_type_code = 'candidates' "
                             "and deal_key in ('P22/001', 'P23/001') order by deal_key")
        names = [d[0] for d in cursor.description]
        rows = [dict(zip(names, values)) for values in cursor.fetchall()]
    finally:
        con.close()
    per_row, one_cell = ([party for _rank, party in candidates(row, scheme)] for row in rows)
    assert [p["id"] for p in per_row] == [p["id"] for p in one_cell]
    consortium, firm = per_row
    members = sorted(code for _name, code in CANDIDATES[:2])
    assert consortium["id"] == "consortium-" + "+".join(members) and "identifier" not in consortium
    assert [i["id"] for i in consortium["additionalIdentifiers"]] == members
    assert firm["identifier"]["id"] == CANDIDATES[2][1]
