"""The SQL masking (masking.py) on a real DuckDB: personal data gone, everything else kept."""
from __future__ import annotations

import datetime as dt

import duckdb
import pytest

from dagster_project import identifiers
from dagster_project.publish.masking import (
    MaskingPolicy, mask_free_text_sql, masked_select, masked_select_by_candidate_values, masked_select_by_value,
    masked_select_probed, masked_select_probed_by_value,
)

ID_A = identifiers.make_id_number("640104", dt.date(1990, 1, 31), 7)
ID_B = identifiers.make_id_number("110105", dt.date(1949, 12, 31), 2)  # may end in X
CARD = "6222020200112233" + identifiers.luhn_check_digit("6222020200112233")[-1]
MOBILE_A, MOBILE_B = "13812345678", "19900001111"

TEXTS = [
    f"身份证{ID_A}",
    f"{ID_A}",
    f"{ID_B.lower()}，电话{MOBILE_A}",
    f"{MOBILE_A},{MOBILE_B};{MOBILE_A}",  # runs separated by one character
    f"{ID_A} {ID_B} {CARD}",
    f"开户账号{CARD}联系人{MOBILE_B}",
    f"tel:{MOBILE_A}x",
]
# Digits that are not personal data and must survive unchanged.
KEEP = [
    "预算金额 12345678.90 元，2018年6月4日，项目编号 NX2018-0001",
    "20180604 09:00",
    "编号 123456789012345678901234",  # longer than any ID or card: not a personal number
    "座机 0951-1234567",
]


def _mask(values: list[str]) -> list[str]:
    con = duckdb.connect()
    try:
        con.execute("CREATE TABLE t (i INTEGER, s VARCHAR)")
        con.executemany("INSERT INTO t VALUES (?, ?)", list(enumerate(values)))
        return [r[0] for r in con.execute(f"SELECT {mask_free_text_sql('s')} FROM t ORDER BY i").fetchall()]
    finally:
        con.close()


def test_inputs_do_contain_personal_data():
    found = sum(len(identifiers.find_id_numbers(t)) + len(identifiers.find_mobiles(t))
                + len(identifiers.find_bank_cards(t)) for t in TEXTS)
    assert found >= len(TEXTS)


@pytest.mark.parametrize("text", TEXTS)
def test_free_text_masking_removes_ids_mobiles_and_cards(text):
    (masked,) = _mask([text])
    assert identifiers.find_id_numbers(masked) == []
    assert identifiers.find_mobiles(masked) == []
    assert identifiers.find_bank_cards(masked) == []
    # masked, not deleted: the reader still sees that a number was there and its first/last digits
    for value in identifiers.find_id_numbers(text):
        assert value[:6] in masked and value[-4:].upper() in masked.upper()
    for value in identifiers.find_mobiles(text):
        assert value[:3] + "****" + value[-4:] in masked


def test_text_without_personal_data_is_unchanged():
    assert _mask(KEEP) == KEEP


def test_masked_select_applies_policy_per_column():
    con = duckdb.connect()
    try:
        con.execute("CREATE TABLE m (uscc VARCHAR, pm_code VARCHAR, note VARCHAR, amount DECIMAL(20,2), "
                    "files VARCHAR[], secret VARCHAR)")
        con.execute("INSERT INTO m VALUES (?, ?, ?, 12.5, ?, 'x')",
                    [identifiers.make_uscc("91640100MA1111111"), ID_A, f"call {MOBILE_A}", [f"a {MOBILE_B}.csv", "b"]])
        policy = MaskingPolicy(identifier_columns=frozenset({"uscc"}), personal_id_columns=frozenset({"pm_code"}),
                               dropped_columns=frozenset({"secret"}))
        cols = [(r[0], str(r[1])) for r in con.execute("DESCRIBE m").fetchall()]
        row = con.execute(masked_select("m", cols, policy)).fetchone()
        names = [d[0] for d in con.description]
    finally:
        con.close()
    assert names == ["uscc", "pm_code", "note", "amount", "files"]
    assert row[0] == identifiers.make_uscc("91640100MA1111111")
    assert row[1] == ID_A[:6] + "********" + ID_A[-4:]
    assert MOBILE_A not in row[2] and identifiers.find_mobiles(row[2]) == []
    assert float(row[3]) == 12.5
    assert MOBILE_B not in row[4] and row[4].endswith("; b")


def test_masking_by_distinct_value_gives_the_rows_masking_each_row_gives():
    """Repetitive code columns are masked once per value and joined back (``masked_select_by_value``): the
    rows must be exactly those of ``masked_select`` — an ID number used as a supplier code masked, credit codes,
    NULLs and a value-mapped column kept — and the join must really be taken for the repetitive columns."""
    policy = MaskingPolicy(identifier_columns=frozenset({"supplier_code"}))
    codes = [ID_A, identifiers.make_uscc("91640100MA76XXXX3"), None, "12640104724412959H"]
    con = duckdb.connect()
    con.execute("CREATE TABLE t (i INTEGER, supplier_code VARCHAR, kind VARCHAR, note VARCHAR)")
    con.executemany("INSERT INTO t VALUES (?, ?, ?, ?)",
                    [[i, codes[i % len(codes)], ["a", None][i % 2], TEXTS[i % len(TEXTS)] if i % 50 == 0 else f"第{i}行"]
                     for i in range(400)])
    columns = [(r[0], r[1]) for r in con.execute("DESCRIBE t").fetchall()]
    value_maps = {"kind": {"a": "甲 A"}}
    by_value = masked_select_by_value(con, "t", columns, policy, value_maps)
    assert "LEFT JOIN" in by_value and "m1" in by_value and "m3" not in by_value  # codes by value, free text per row
    per_row = masked_select("t", columns, policy, value_maps)
    rows = lambda sql: sorted(con.execute(sql).fetchall(), key=repr)  # noqa: E731
    assert rows(by_value) == rows(per_row)
    masked_ids = [r[0] for r in con.execute(f"SELECT supplier_code FROM ({by_value}) WHERE i % 4 = 0").fetchall()]
    assert masked_ids and all(m == ID_A[:6] + "********" + ID_A[-4:] for m in masked_ids)
    # both shortcuts (OCDS): the codes by value, the value-mapped column without candidates as it is
    both = masked_select_probed_by_value(con, "t", columns, policy, value_maps)
    assert rows(both) == rows(per_row) and 'ELSE "kind" END AS "kind"' in both
    # (the one ID number passing the codes' test is written in as a literal: no join left for them)
    assert "JOIN" not in both and f"WHEN '{ID_A}' THEN" in both
    # the candidate values masked once and written in as literals (dashboards over millions of rows): a quote in a
    # value, a value-mapped column without candidates as it is, no join
    con.execute(f"INSERT INTO t VALUES (401, 'O''Brien {ID_A}', 'a', 'O''Brien {MOBILE_A}')")
    literal = masked_select_by_candidate_values(con, "t", columns, policy, value_maps)
    assert rows(literal) == rows(masked_select("t", columns, policy, value_maps))
    assert "JOIN" not in literal and 'ELSE "kind" END AS "kind"' in literal


def test_masking_only_the_columns_that_need_it_gives_the_rows_masking_every_column_gives():
    """``masked_select_probed`` leaves the masking expression out for a column none of whose rows passes its
    candidate test: the rows must be exactly ``masked_select``'s, and the expression must really be left out
    there (and kept where a row needs it: an ID number in a code column, a mobile in free text)."""
    policy = MaskingPolicy(identifier_columns=frozenset({"supplier_code", "kind"}))
    con = duckdb.connect()
    con.execute("CREATE TABLE t (i INTEGER, supplier_code VARCHAR, kind VARCHAR, note VARCHAR, title VARCHAR)")
    con.executemany("INSERT INTO t VALUES (?, ?, ?, ?, ?)",
                    [[i, ID_A if i == 7 else identifiers.make_uscc("91640100MA76XXXX3"), ["a", None][i % 2],
                      f"call {MOBILE_A}" if i == 3 else f"第{i}行", None if i % 3 else "标题 2018-01-01"]
                     for i in range(40)])
    columns = [(r[0], r[1]) for r in con.execute("DESCRIBE t").fetchall()]
    value_maps = {"kind": {"a": "甲 A"}}
    probed = masked_select_probed(con, "t", columns, policy, value_maps)
    full = masked_select("t", columns, policy, value_maps)
    rows = lambda sql: sorted(con.execute(sql).fetchall(), key=repr)  # noqa: E731
    assert rows(probed) == rows(full)
    # no candidate in title or kind: published as they are; the code and the note keep their masking (below)
    assert len(probed) < len(full) * 3 / 4 and '"title" AS "title"' in probed and 'ELSE "kind" END AS "kind"' in probed
    masked = dict(con.execute(f"SELECT i, supplier_code FROM ({probed}) WHERE i = 7").fetchall())
    assert masked[7] == ID_A[:6] + "********" + ID_A[-4:]
    assert MOBILE_A not in con.execute(f"SELECT note FROM ({probed}) WHERE i = 3").fetchone()[0]


def test_masking_the_few_values_that_pass_a_columns_test_as_literals_gives_the_rows_masking_every_row_gives():
    """``masked_select_probed`` takes, in its one scan, the distinct values passing each text column's gating test: a
    column with at most ``PROBED_LITERALS_MAX`` of them (keys and codes: two rows of a million) gets them masked once
    as literals and no test per row, one with more keeps its masking expression. The rows must be exactly
    ``masked_select``'s: the passing values masked (a quote in one, a value map that makes a value a candidate),
    NULLs, and every other value as it is."""
    from dagster_project.publish import masking

    policy = MaskingPolicy(identifier_columns=frozenset({"supplier_code", "kind"}))
    con = duckdb.connect()
    con.execute("CREATE TABLE t (i INTEGER, supplier_code VARCHAR, kind VARCHAR, note VARCHAR, files VARCHAR[])")
    many = [f"call {MOBILE_A[:-2]}{n:02d}" for n in range(masking.PROBED_LITERALS_MAX + 1)]  # too many for literals
    uscc = identifiers.make_uscc("91640100MA76XXXX3")
    con.executemany("INSERT INTO t VALUES (?, ?, ?, ?, ?)",
                    [[i, {7: ID_A, 8: f"O'Brien {ID_B}", 9: None}.get(i % 50, uscc),
                      ["a", "x", None][i % 3], many[i % len(many)] if i % 4 == 0 else f"第{i}行",
                      [f"f{i}", MOBILE_B] if i == 5 else [f"f{i}"]]
                     for i in range(300)])
    columns = [(r[0], r[1]) for r in con.execute("DESCRIBE t").fetchall()]
    value_maps = {"kind": {"a": "甲 A", "x": f"身份证 {ID_B}"}}  # a value the map makes a candidate
    probed = masked_select_probed(con, "t", columns, policy, value_maps)
    rows = lambda sql: sorted(con.execute(sql).fetchall(), key=repr)  # noqa: E731
    assert rows(probed) == rows(masked_select("t", columns, policy, value_maps))
    # the codes and the mapped column by their passing values as literals; the note (17 values) and the list by
    # their masking expressions
    code_sql = probed[probed.index('"supplier_code"'):probed.index('AS "supplier_code"')]
    assert f"WHEN '{ID_A}' THEN '{ID_A[:6]}********{ID_A[-4:]}'" in code_sql and "regexp" not in code_sql
    kind_sql = probed[probed.index('AS "supplier_code"'):probed.index('AS "kind"')]
    assert "WHEN 'x' THEN" in kind_sql and "regexp" not in kind_sql
    note_sql = probed[probed.index('AS "kind"'):probed.index('AS "note"')]
    assert "regexp" in note_sql and "WHEN 'call" not in note_sql
    masked = dict(con.execute(f"SELECT i, supplier_code FROM ({probed}) WHERE i IN (7, 8, 9, 10)").fetchall())
    assert masked[7] == ID_A[:6] + "********" + ID_A[-4:] and ID_B not in masked[8] and masked[9] is None
    assert masked[10] == uscc


def test_a_column_whose_passing_values_all_stay_as_they_are_is_selected_as_published():
    """The candidate test is a superset: a key whose digits only look like an ID number (no valid check digit) passes
    it and is published as it is. When every passing value of a column stays as it is, the probed select takes the
    column as published (no ``CASE`` of literals a row) and its plan masks nothing row by row
    (``SelectPlan.masked_columns``: dashboards then read the relation without copying it); a real ID number among
    them keeps the literals, a free-text column with too many passing values keeps its masking expression. The rows
    are ``masked_select``'s in every case."""
    from dagster_project.publish import masking

    policy = MaskingPolicy(identifier_columns=frozenset({"deal_key", "buyer_code"}))
    lookalike = ["E6402001020190001001/", "640102199001011234"]  # pass the ID-number test, mask to themselves
    assert lookalike[1] != ID_A
    con = duckdb.connect()
    con.execute("CREATE TABLE t (i INTEGER, deal_key VARCHAR, buyer_code VARCHAR, note VARCHAR)")
    many = [f"call {MOBILE_A[:-2]}{n:02d}" for n in range(masking.PROBED_LITERALS_MAX + 1)]
    con.executemany("INSERT INTO t VALUES (?, ?, ?, ?)",
                    [[i, lookalike[i % 2] if i % 10 == 0 else f"K{i}", ID_A if i == 3 else lookalike[i % 2],
                      many[i % len(many)] if i % 4 == 0 else f"第{i}行"] for i in range(200)])
    columns = [(r[0], r[1]) for r in con.execute("DESCRIBE t").fetchall()]
    rows = lambda sql: sorted(con.execute(sql).fetchall(), key=repr)  # noqa: E731
    plan = masking.plan_probed_by_value(con, "t", columns, policy)
    assert rows(plan.sql) == rows(masked_select("t", columns, policy))
    assert '"deal_key" AS "deal_key"' in plan.sql and "CASE src.\"deal_key\"" not in plan.sql
    assert f"WHEN '{ID_A}' THEN" in plan.sql  # the real ID number among the buyer codes: literals kept
    assert plan.masked_columns == ("note",)
    assert masking.masked_select_probed(con, "t", columns, policy).count("CASE src.") == 1
    # the large relations' select (dashboards): the same column as published; the note's 17 values as literals too
    literal = masking.plan_by_candidate_values(con, "t", columns, policy)
    assert rows(literal.sql) == rows(masked_select("t", columns, policy))
    assert '"deal_key" AS "deal_key"' in literal.sql and literal.masked_columns == ()
    keys_only = [c for c in columns if c[0] in ("i", "deal_key")]
    assert masking.plan_probed_by_value(con, "t", keys_only, policy).masked_columns == ()


def test_a_phone_field_keeps_only_the_last_four_digits_of_a_landline_in_any_spacing_and_masks_a_mobile_as_text_does():
    # RAW_FORMATS trading/: TENDERER_PHONE_NUMBER is personal data; in free text a landline is an office's and stays
    values = ["0951-5012345", "（0951）50123456", "０９５１－５０１２３４５", f"{MOBILE_A} / 0951-5012345", "转 8021", None, "",
              "0951-501 2345", "0951 501 2345", "0951-501-2345", "(0951)5012 345", "09515012345"]
    con = duckdb.connect()
    try:
        con.execute("CREATE TABLE b (contact_phone VARCHAR, notice VARCHAR)")
        con.executemany("INSERT INTO b VALUES (?, ?)", [(v, v) for v in values])
        cols = [("contact_phone", "VARCHAR"), ("notice", "VARCHAR")]
        policy = MaskingPolicy(phone_columns=frozenset({"contact_phone"}))
        rows = {}
        for name, build in [("plain", lambda: masked_select("b", cols, policy)),
                            ("probed", lambda: masked_select_probed(con, "b", cols, policy)),
                            ("by_value", lambda: masked_select_by_value(con, "b", cols, policy)),
                            ("candidates", lambda: masked_select_by_candidate_values(con, "b", cols, policy))]:
            rows[name] = con.execute(build()).fetchall()
    finally:
        con.close()
    assert rows["plain"] == rows["probed"] == rows["by_value"] == rows["candidates"]
    phones = [r[0] for r in rows["plain"]]
    assert phones == ["0951-***2345", "（0951）****3456", "０９５１－***２３４５",
                      f"{MOBILE_A[:3]}****{MOBILE_A[-4:]} / 0951-***2345", "转 8021", None, "",
                      "0951-*** 2345", "0951 *** 2345", "0951-***-2345", "(0951)***2 345", "*******2345"]
    # the same values as free text: the landline is kept, the mobile masked
    assert [r[1] for r in rows["plain"]][0] == "0951-5012345"
