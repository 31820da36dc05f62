"""Edits of a warehouse's stored quality results shared by the tests of carried quality runs."""
from __future__ import annotations

from pathlib import Path

import duckdb


def fail_one_integrity_check(warehouse: Path) -> str:
    """Mark the first integrity check of the latest quality run failed (as a broken pipeline invariant
    would have left it); returns that run's id."""
    con = duckdb.connect(str(warehouse))
    try:
        latest = con.execute("select run_id from quality.runs order by started_at desc limit 1").fetchone()[0]
        con.execute("""update quality.check_runs set status = 'failed', success = false, failed = 1
                       where run_id = ? and kind = 'integrity'
                         and rule_id = (select min(rule_id) from quality.check_runs where run_id = ? and kind = 'integrity')""",
                    [latest, latest])
        return latest
    finally:
        con.close()
