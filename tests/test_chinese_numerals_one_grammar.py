"""Chinese numerals are read by one grammar in both places that read them: ``parsed.whole_number`` (三公 count cells
and narratives) and the trading loader's SQL for ranks and counts (``text_values.chinese_numeral_sql``, below 100).
Every string of one to three numeral characters is put to both: where the SQL writes digits they are
``whole_number``'s; where it leaves the text, ``whole_number`` finds no number below 100. (The SQL once read 两十 as
20 bidders where ``whole_number`` reads no number.)"""
from __future__ import annotations

from itertools import product

import duckdb

from dagster_project.ingest.parsed import whole_number
from dagster_project.ingest.text_values import chinese_numeral_sql

ALPHABET = "〇零一二两三四五六七八九十"


def test_the_sql_reads_a_numeral_below_100_exactly_as_whole_number_does():
    texts = ["".join(p) for n in (1, 2, 3) for p in product(ALPHABET, repeat=n)]
    con = duckdb.connect()
    read = dict(con.execute(f"SELECT v, {chinese_numeral_sql('v')} FROM unnest(?) AS t(v)", [texts]).fetchall())
    disagree = {}
    for text in texts:
        number = whole_number(text)
        expected = str(number) if number is not None and number < 100 else text
        if read[text] != expected:
            disagree[text] = (read[text], number)
    assert not disagree, disagree
    # the grammar has numbers in it: the comparison is not of two readers that read nothing
    assert read["二十三"] == "23" and read["两"] == "2" and read["十两"] == "12" and read["两十"] == "两十"
