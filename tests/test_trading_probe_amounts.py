"""A negative budget or deal amount in a trading export (wave 16 X5 probe: it loaded as a figure, no finding): no
price is paid to a buyer, so the row is rejected, the reject naming the file, the row and the column, with the value as
written — as an unreadable amount is. Counts in = loaded + rejected still holds.

The exports are the blind probe's (tests/fixtures/trading_platform_exports, MAKE.md: a platform's UTF-8 export and a
GBK export with its amounts in 万元), loaded by the real loader into a DuckDB file of the test's own; which rows carry a
negative amount is read from the files, not written out here."""
from __future__ import annotations

import csv
import shutil
from pathlib import Path

from test_ingest_trading import load, load_file_row, query

FIXTURE = Path(__file__).parent / "fixtures" / "trading_platform_exports" / "trading"
# file → (encoding, amount columns)
EXPORTS = {"平台导出_工程_bom_crlf.csv": ("utf-8-sig", ["BUDGET_AMOUNT", "BID_AMOUNT"]),
           "政府采购_导出_gbk.csv": ("gbk", ["预算金额(万元)", "成交金额(万元)"])}


def _negative_cells(name: str) -> list[tuple[int, str, str]]:
    """(spreadsheet row, column, value) of every amount cell written with a minus sign (row 1 is the header)."""
    encoding, columns = EXPORTS[name]
    with (FIXTURE / name).open(encoding=encoding, newline="") as handle:
        records = list(csv.DictReader(handle))
    return [(i, c, r[c]) for i, r in enumerate(records, start=2) for c in columns if r[c].strip().startswith("-")]


def test_a_negative_amount_is_a_reject_naming_file_row_and_column(gongkai_env):
    raw, wh = gongkai_env.raw_dir, gongkai_env.warehouse
    (raw / "trading").mkdir()
    for name in EXPORTS:
        shutil.copy(FIXTURE / name, raw / "trading" / name)
    load(raw, wh)
    for name in EXPORTS:
        negative = _negative_cells(name)
        assert negative, f"{name} holds no negative amount: the fixture is not the case this test is about"
        rel = f"trading/{name}"
        rejects = query(wh, "SELECT source_row, source_column, raw_value, reason FROM raw.load_rejects "
                            "WHERE source_file = ? ORDER BY source_row", [rel])
        assert [(row, column, value) for row, column, value, _ in rejects] == negative
        assert all(f"「{column}」" in reason for _, column, _, reason in rejects)
        # the rejected rows are no bulletins; every other row is
        loaded = {r for (r,) in query(wh, "SELECT DISTINCT source_row FROM raw.trading_bulletins "
                                          "WHERE source_file = ?", [rel])}
        assert not loaded & {row for row, _, _ in negative}
        status = load_file_row(wh, rel)
        assert status["rows_rejected"] == len(negative)
        assert status["rows_in"] == status["rows_loaded"] + status["rows_rejected"]
    # no amount stored is below zero
    assert query(wh, "SELECT count(*) FROM raw.trading_bulletins "
                     "WHERE bid_amount_yuan < 0 OR budget_amount_yuan < 0") == [(0,)]
