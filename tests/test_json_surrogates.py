"""JSON with lone UTF-16 surrogate escapes (an exporter that cut an emoji in half): the file loads, the broken
character becomes U+FFFD, the file's note says so — through the real trading loader into DuckDB."""
from __future__ import annotations

import json

import duckdb
import pytest

from dagster_project.ingest import framework
from dagster_project.ingest.json_surrogates import repair_lone_surrogates
from dagster_project.ingest.trading import load_trading_file


@pytest.mark.parametrize("text, expected, count", [
    (r'"a\ud83d"', r'"a\ufffd"', 1),                       # high half alone (cut at the end)
    (r'"\ud83d\ude00 ok"', r'"\ud83d\ude00 ok"', 0),         # a pair: one character, kept
    (r'"\ude00x"', r'"\ufffdx"', 1),                        # low half alone
    (r'"\\ud800"', r'"\\ud800"', 0),                        # escaped backslash, then text
    (r'"\\\ud800"', r'"\\\ufffd"', 1),                      # escaped backslash, then a lone escape
    (r'"\uD83D\uDE00\uD83D"', r'"\uD83D\uDE00\ufffd"', 1),  # upper-case hex; a pair then a cut one
    (r'"\ud83d\u0041"', r'"\ufffd\u0041"', 1),              # high half followed by no low half
    (r'"\\ud83d\ude00"', r'"\\ud83d\ufffd"', 1),           # text "\ud83d", then a lone low half (review)
    (r'"\ud83d\\\ude00"', r'"\ufffd\\\ufffd"', 2),       # high, an escaped backslash, a low: both lone
    (r'"\ude00\ud83d"', r'"\ufffd\ufffd"', 2),              # low before high: no pair
])
def test_repair_lone_surrogates(text, expected, count):
    repaired, replaced = repair_lone_surrogates(text)
    assert (repaired, replaced) == (expected, count)
    json.loads(repaired)  # valid for a strict reader too
    duckdb.connect().execute("SELECT json(?)", [repaired]).fetchone()


def test_platform_json_with_a_cut_emoji_loads_every_record(gongkai_env):
    raw, wh = gongkai_env.raw_dir, gongkai_env.warehouse
    (raw / "trading").mkdir(parents=True)
    records = [{"PROJECT_CODE": f"S{i}", "BID_SECTION_CODE": "1", "BULLETIN_TYPE": "交易公告",
                "NOTICE_SEND_TIME": "2018-03-01 09:00:00", "NOTICE_NAME": f"公告{i}"} for i in range(3)]
    # written as a Java exporter does: ASCII-escaped, the first title cut in the middle of 😀 (\ud83d\ude00)
    document = json.dumps({"total": 3, "data": records}).replace('"\\u516c\\u544a0"', '"\\u516c\\u544a0\\ud83d"')
    assert "\\ud83d\"" in document
    (raw / "trading" / "search.json").write_text(document, encoding="utf-8")
    lines = [json.dumps(dict(r, PROJECT_CODE=f"L{i}")) for i, r in enumerate(records)]
    lines[1] = lines[1].replace('"\\u516c\\u544a1"', '"\\ude00\\u516c\\u544a1"')
    (raw / "trading" / "stream.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")

    con = duckdb.connect(str(wh))
    try:
        report = framework.load_family(con, raw, "trading", load_trading_file)
        names = dict(con.execute("SELECT project_code, notice_name FROM raw.trading_bulletins").fetchall())
        notes = dict(con.execute("SELECT source_file, reason FROM raw.load_files").fetchall())
    finally:
        con.close()
    assert report.rejected == [] and report.rows_rejected == 0, report
    assert names == {"S0": "公告0\ufffd", "S1": "公告1", "S2": "公告2", "L0": "公告0", "L1": "\ufffd公告1", "L2": "公告2"}
    assert "1 lone UTF-16 surrogate escapes" in notes["trading/search.json"]
    assert "1 lone UTF-16 surrogate escapes" in notes["trading/stream.jsonl"]
