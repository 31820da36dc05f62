"""An ID number typed with a wrong check character (``personal_numbers``): its first 17 digits identify the person
(the check character is computed from them), so in free text it is an ID number whatever its check character —
in the Python form, the SQL form and the masking of published columns alike; in code and key columns
(``masking.mask_identifier_sql``) only a right check character makes one, so a project code that is region + date
+ sequence stays as written. The numbers are built here from GB 11643, not taken from the module under test."""
from __future__ import annotations

import datetime as dt

import duckdb
import pytest

from dagster_project import identifiers
from dagster_project import personal_numbers as pn
from dagster_project.publish import masking

_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)


def _check(first17: str) -> str:
    return "10X98765432"[sum(int(d) * w for d, w in zip(first17, _WEIGHTS)) % 11]


def _wrong(first17: str) -> list[str]:
    """Every ID number with these 17 digits and a wrong check character."""
    return [first17 + c for c in "0123456789X" if c != _check(first17)]


FIRST17 = "64010419880808031"
# a birth date after today also when the suite runs past midnight (the module is imported the day before its test runs)
LATER = dt.date.today() + dt.timedelta(days=400)
TYPOS = _wrong(FIRST17) + _wrong("11010519491231002") + _wrong(f"640202{dt.date.today():%Y%m%d}001")
WRITTEN = [f"宁夏某某建筑队（负责人身份证号：{TYPOS[0]}）", f"{TYPOS[1][:6]} {TYPOS[1][6:14]} {TYPOS[1][14:]}",
           f"证件号码：{TYPOS[2].lower()}", "".join(chr(ord(c) + 0xFEE0) for c in TYPOS[3]), f"{TYPOS[4]}，已公示"]
# not ID numbers with any check character: a birth date after today, an impossible date, province 99, region 0000
NOT_IDS = [_wrong(f"640104{LATER:%Y%m%d}031")[0], _wrong("64010419880230031")[0], _wrong("99101019880808031")[0],
           _wrong("64000019880808031")[0], f"ab{TYPOS[0]}cd"]  # … nor one between letters (inside a code)


@pytest.fixture(scope="module")
def con():
    connection = duckdb.connect()
    yield connection
    connection.close()


def _sql(con, expr: str, texts: list[str]) -> list:
    con.execute("CREATE OR REPLACE TEMP TABLE typos (i INTEGER, t VARCHAR)")
    con.executemany("INSERT INTO typos VALUES (?, ?)", list(enumerate(texts)))
    return [r[0] for r in con.execute(f"SELECT {expr} FROM typos ORDER BY i").fetchall()]


def test_a_wrong_check_character_is_still_an_id_number_in_free_text(con):
    assert not any(identifiers.id_number_is_valid(t) for t in TYPOS) and len(TYPOS) == 30
    for text in TYPOS + WRITTEN:
        assert "id_number" in {h.kind for h in pn.find(text)}, text
        assert "********" in pn.normalise(pn.mask(text)).replace(" ", ""), text
        assert "id_number" not in {h.kind for h in pn.find(text, checked_ids_only=True)}, text
    texts = TYPOS + WRITTEN + NOT_IDS
    # the SQL form, the free-text masking of published columns and the dbt macro's SQL agree with the Python form
    assert _sql(con, pn.mask_sql("t"), texts) == [pn.mask(t) for t in texts]
    assert _sql(con, masking.mask_free_text_sql("t"), texts) == [pn.mask(t) for t in texts]
    assert ([sorted((h["kind"], h["span"], h["masked"]) for h in hs) for hs in _sql(con, pn.hits_sql("t"), texts)]
            == [sorted((h.kind, h.span, h.masked) for h in pn.find(t)) for t in texts])
    assert not any(h["kind"] == "id_number" for hs in _sql(con, pn.hits_sql("t", checked_ids_only=True), texts) for h in hs)


def test_what_is_no_birth_date_or_no_place_is_no_id_number_whatever_its_check(con):
    for text in NOT_IDS:
        assert pn.find(text) == [] and pn.mask(text) == text, text
    assert _sql(con, pn.mask_sql("t"), NOT_IDS) == NOT_IDS


def test_code_columns_keep_requiring_the_check_character(con):
    """A project code that is region + date + sequence (the same digits as a typed ID) stays a code; an ID number
    with a right check character is masked there as before."""
    valid = FIRST17 + _check(FIRST17)
    texts = TYPOS + [f"P{TYPOS[0]}", valid]
    masked = _sql(con, masking.mask_identifier_sql("t"), texts)
    assert masked[:-1] == texts[:-1]
    assert masked[-1] == valid[:6] + "********" + valid[-4:]
    assert _sql(con, pn.mask_sql("t", kinds=("id_number",), checked_ids_only=True), texts) == masked
    # the gate of code columns is unchanged: it lets the typed IDs through (the full test then keeps them)
    assert all(_sql(con, pn.candidate_filter_sql("t", ("id_number",)), TYPOS))


def test_the_checked_id_test_of_a_hit_is_the_python_check(con):
    spans = [h.span for t in TYPOS + WRITTEN + [FIRST17 + _check(FIRST17)] for h in pn.find(t)]
    assert _sql(con, pn.checked_id_sql("t"), spans) == [
        identifiers.id_number_is_valid("".join(c for c in pn.normalise(s) if c in "0123456789Xx")) for s in spans]
    assert sum(_sql(con, pn.checked_id_sql("t"), spans)) == 1
