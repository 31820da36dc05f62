"""A 513's consortium rows as offices and paged exports write them, hostile (review V1 of wave 15, items 2, 7, 8, 9).

- Two firms each winning one section alone, the amount blank, 联合体名称 a placeholder (无, /, -, ——, null, '/ '):
  they were folded into one bulletin ``甲、丙联合体`` — a consortium that does not exist. A placeholder names no
  consortium (the trading spec's blank placeholders).
- One consortium's name written with a full-width space (U+3000) inside it on one row, its 公告内容 re-wrapped (CRLF
  vs LF, a doubled space), its brackets full-width on one row: the same consortium and notice, one bulletin.
- A paged export repeating the member rows: each member once (it read 甲、乙、甲、乙联合体, codes twice).
- A middle member's blank code: its slot kept (甲码、、丙码), not 甲码、丙码 beside 甲、乙、丙.

- Review V6 items 2 and 3: union values no placeholder list held (不涉及, 非联合体, #N/A, N／A, 000000000000000000 with
  the name blank …) folded two lone winners — a fold now needs a value naming a consortium; a member row with its name
  blank shifted the codes (甲、丙联合体 beside A、B、C) — no code is paired then, the file's note names the row.

Written by Python's csv module with every 513 field; ingest-level, no dbt build. Expected values derived from the rows.
"""
from __future__ import annotations

import pytest

from dagster_project.identifiers import make_uscc

from test_ingest_trading import bulletins, load, load_file_row
from test_trading_consortium_rows import LEAD, MEMBER, OTHER, UNION, _row, _write

PLACEHOLDERS = ["无", "/", "-", "——", "null", "/ ", "NULL", "　无　"]
# review V6 item 2: words no placeholder list held (a fold now needs a value that names a consortium), full-width forms,
# and a code that passes the check character but is a filler (name blank)
UNNAMED = [("不涉及", "不涉及"), ("（无）", "（无）"), ("#N/A", "#N/A"), ("否", "否"), ("\\N", "\\N"), ("nan", "nan"),
           ("无联合体", "无联合体"), ("非联合体", "非联合体"), ("单独投标", "单独投标"), ("---", "---"), ("N／A", "N／A"),
           ("", "000000000000000000")]


@pytest.mark.parametrize("placeholder", PLACEHOLDERS)
def test_a_placeholder_union_name_makes_no_consortium(gongkai_env, placeholder):
    raw, wh = gongkai_env.raw_dir, gongkai_env.warehouse
    # one section, two different winners each written with a placeholder union (and code), no amount
    _write(raw, [_row("001", "20200512100000", LEAD, (placeholder, placeholder), amount=""),
                 _row("001", "20200512100000", OTHER, (placeholder, placeholder), amount="")])
    load(raw, wh)
    got = bulletins(wh, "trading/513_WIN_RESULT_ANNO.csv")
    assert [(r["win_bidder_name"], r["win_bidder_code"]) for r in got.values()] == [LEAD, OTHER]


@pytest.mark.parametrize("union", UNNAMED)
def test_a_union_value_naming_no_consortium_makes_none(gongkai_env, union):
    raw, wh = gongkai_env.raw_dir, gongkai_env.warehouse
    _write(raw, [_row("001", "20200512100000", LEAD, union, amount=""),
                 _row("001", "20200512100000", OTHER, union, amount="")])
    load(raw, wh)
    got = bulletins(wh, "trading/513_WIN_RESULT_ANNO.csv")
    assert [(r["win_bidder_name"], r["win_bidder_code"]) for r in got.values()] == [LEAD, OTHER]


def test_a_valid_union_code_with_the_name_blank_still_folds(gongkai_env):
    """The code check admits a real identifier (full-width digits folded): the members are one consortium."""
    raw, wh = gongkai_env.raw_dir, gongkai_env.warehouse
    code = make_uscc("91640100MA0000001")
    wide = "".join(chr(ord(c) + 0xFEE0) for c in code)
    _write(raw, [_row("001", "20200512100000", LEAD, ("", code)),
                 _row("001", "20200512100000", MEMBER, ("", wide), amount="")])
    load(raw, wh)
    got = bulletins(wh, "trading/513_WIN_RESULT_ANNO.csv")
    assert [(r["win_bidder_name"], r["win_bidder_code"]) for r in got.values()] == [
        (f"{LEAD[0]}、{MEMBER[0]}联合体", f"{LEAD[1]}、{MEMBER[1]}")]


def test_a_member_row_without_a_name_pairs_no_codes(gongkai_env):
    """Lead A, a member row with its name blank and code B, member C: the names were 甲、丙联合体 beside A、B、C (丙 read
    as B). No code is paired then, and the file's note names the nameless row."""
    raw, wh = gongkai_env.raw_dir, gongkai_env.warehouse
    _write(raw, [_row("001", "20200512100000", LEAD, UNION), _row("001", "20200512100000", ("", MEMBER[1]), UNION),
                 _row("001", "20200512100000", OTHER, UNION)])
    load(raw, wh)
    (got,) = bulletins(wh, "trading/513_WIN_RESULT_ANNO.csv").values()
    assert (got["win_bidder_name"], got["win_bidder_code"]) == (f"{LEAD[0]}、{OTHER[0]}联合体", None)
    assert "联合体成员行无名称" in load_file_row(wh, "trading/513_WIN_RESULT_ANNO.csv")["reason"]


def test_one_consortium_written_with_a_full_width_space_rewrapped_content_and_full_width_brackets(gongkai_env):
    raw, wh = gongkai_env.raw_dir, gongkai_env.warehouse
    union = (f"{LEAD[0]}（牵头）、{MEMBER[0]}联合体", UNION[1])
    spaced = (union[0].replace("、", "　、").replace("（", "(").replace("）", ")"), UNION[1])
    content = "中标人：见下表。\r\n中标金额见下表。"
    _write(raw, [_row("001", "20200512100000", LEAD, union, NOTICE_CONTENT=content),
                 _row("001", "20200512100000", MEMBER, spaced, amount="",
                      NOTICE_CONTENT=content.replace("\r\n", "\n").replace("。", "。  ", 1))])
    load(raw, wh)
    got = bulletins(wh, "trading/513_WIN_RESULT_ANNO.csv")
    assert [r["win_bidder_name"] for r in got.values()] == [f"{LEAD[0]}、{MEMBER[0]}联合体"]


def test_member_rows_repeated_by_a_paged_export_are_each_member_once(gongkai_env):
    raw, wh = gongkai_env.raw_dir, gongkai_env.warehouse
    rows = [_row("001", "20200512100000", LEAD, UNION), _row("001", "20200512100000", MEMBER, UNION, amount="")]
    _write(raw, rows + rows)
    load(raw, wh)
    got = bulletins(wh, "trading/513_WIN_RESULT_ANNO.csv")
    assert [(r["win_bidder_name"], r["win_bidder_code"]) for r in got.values()] == [
        (f"{LEAD[0]}、{MEMBER[0]}联合体", f"{LEAD[1]}、{MEMBER[1]}")]


def test_a_middle_members_blank_code_keeps_its_slot(gongkai_env):
    raw, wh = gongkai_env.raw_dir, gongkai_env.warehouse
    _write(raw, [_row("001", "20200512100000", LEAD, UNION), _row("001", "20200512100000", (MEMBER[0], ""), UNION),
                 _row("001", "20200512100000", OTHER, UNION)])
    load(raw, wh)
    (got,) = bulletins(wh, "trading/513_WIN_RESULT_ANNO.csv").values()
    assert got["win_bidder_code"].split("、") == [LEAD[1], "", OTHER[1]]


def test_a_union_name_that_is_the_lead_firms_name_folds(gongkai_env):
    """An office writing the lead's firm name as 联合体名称 (no consortium mark, no code): a firm's name names the
    consortium (the trading spec's consortium_names.firm words), the members are one winner."""
    raw, wh = gongkai_env.raw_dir, gongkai_env.warehouse
    union = (LEAD[0], "")
    _write(raw, [_row("001", "20200512100000", LEAD, union), _row("001", "20200512100000", MEMBER, union, amount="")])
    load(raw, wh)
    got = bulletins(wh, "trading/513_WIN_RESULT_ANNO.csv")
    assert [(r["win_bidder_name"], r["win_bidder_code"]) for r in got.values()] == [
        (f"{LEAD[0]}、{MEMBER[0]}联合体", f"{LEAD[1]}、{MEMBER[1]}")]
