"""The JSON-lines privacy scan confirms runs only when there is something to confirm (issue 16, wave 15, P3).

A statement holding ``personal_numbers.hits_sql`` costs ~0.03-0.05 CPU-s to plan whatever its rows, twice per
package file: once to confirm the runs its cursor has not met (``scan_json_lines(known_runs=…)``), once to read the
free text of the lines whose weak runs are not all in identifier members. A package whose runs were all met in an
earlier file of the cursor, or whose weak runs all sit in identifier members (credit codes in ``id``), now plans
neither; what it finds is unchanged. The statements are recorded as they pass to a real DuckDB connection."""
from __future__ import annotations

import datetime as dt
import json

import duckdb

from dagster_project import identifiers, personal_numbers
from dagster_project.publish.privacy_scan import json_run_cache, scan_json_lines

PERSON_ID = identifiers.make_id_number("640104", dt.date(1988, 8, 8), 31)
MOBILE = "15809512345"
# a credit code whose first 17 digits pass Luhn: a weak (card-shaped) run, harmless in an identifier member
CODE = next(c for c in (f"9164030067718{i:04d}E" for i in range(10000))
            if personal_numbers.find(c) and all(h.kind == "bank_card" for h in personal_numbers.find(c)))
HEAD = '{"uri":"https://example.org/p.json","releases":['  # the envelope line
_HITS_MARK = max(personal_numbers.hits_sql("\x00").split("\x00"), key=len)  # text every hits_sql statement holds


class _Recording:
    """A real DuckDB connection whose statements are written down as they are executed."""

    def __init__(self, con: duckdb.DuckDBPyConnection):
        self.con, self.statements = con, []

    def execute(self, sql: str, *args):
        self.statements.append(sql)
        return self.con.execute(sql, *args)

    def confirmations(self) -> int:
        return sum(_HITS_MARK in s for s in self.statements)


def _package(con: duckdb.DuckDBPyConnection, table: str, items: list[dict]) -> str:
    """A release package's lines as the OCDS writer holds them (compact JSON, a comma after all but the last)."""
    lines = [json.dumps(it, ensure_ascii=False, separators=(",", ":")) + ("," if i < len(items) - 1 else "")
             for i, it in enumerate(items)]
    con.execute(f"CREATE OR REPLACE TABLE {table} (n BIGINT, line VARCHAR)")
    con.executemany(f"INSERT INTO {table} VALUES (?, ?)", [(i + 1, line) for i, line in enumerate(lines)])
    return f"SELECT 0 AS n, '{HEAD}' AS line UNION ALL SELECT n, line FROM {table}"


def _party(code: str, name: str) -> dict:
    return {"id": f"CN-USCC-{code}", "name": name, "identifier": {"scheme": "CN-USCC", "id": code}}


def _scan(rec: _Recording, lines: str, name: str, known: str) -> set[tuple[str, str]]:
    return {(h.kind, h.masked) for h in scan_json_lines(rec, lines, name, known_runs=known, every_line_json=True)}


def _fresh(lines_of: list[tuple[str, list[dict]]]) -> list[set[tuple[str, str]]]:
    """What each package finds scanned alone, on its own connection and run cache (nothing known before it)."""
    found = []
    for name, items in lines_of:
        con = duckdb.connect()
        try:
            found.append(_scan(_Recording(con), _package(con, "p", items), name, json_run_cache(con)))
        finally:
            con.close()
    return found


def test_a_package_whose_runs_are_known_and_in_identifiers_plans_no_confirmation():
    first = [{"ocid": "ocds-x-1", "id": "1", "parties": [_party(CODE, "甲公司")]},
             {"ocid": "ocds-x-2", "id": "2", "tender": {"title": "无"}}]
    second = [{"ocid": "ocds-x-3", "id": "3", "parties": [_party(CODE, "甲公司")], "buyer": {"id": f"CN-USCC-{CODE}"}}]
    con = duckdb.connect()
    try:
        rec, known = _Recording(con), json_run_cache(con)
        assert _scan(rec, _package(con, "a", first), "a", known) == set()
        assert rec.confirmations() == 1  # the first package's runs are new: confirmed once, in one statement
        rec.statements.clear()
        assert _scan(rec, _package(con, "b", second), "b", known) == set()
        # its runs were all met, and its weak run (the credit code) is only in identifier members
        assert rec.confirmations() == 0, [s[:80] for s in rec.statements if _HITS_MARK in s]
    finally:
        con.close()
    assert _fresh([("a", first), ("b", second)]) == [set(), set()]


def test_new_runs_and_weak_runs_in_free_text_are_still_confirmed_and_found():
    first = [{"ocid": "ocds-x-1", "id": "1", "parties": [_party(CODE, "甲公司")]}]
    later = [  # the known code again, now also in free text; a new mobile and an ID number in free text
        {"ocid": "ocds-x-2", "id": "2", "parties": [_party(CODE, "甲公司")], "tender": {"title": f"见 {CODE}"}},
        {"ocid": "ocds-x-3", "id": "3", "tender": {"title": f"联系 {MOBILE}", "description": f"证件 {PERSON_ID}"}}]
    only_known_in_free_text = [{"ocid": "ocds-x-4", "id": "4", "awards": [{"id": "4-award", "title": f"{CODE}中标"}]}]
    con = duckdb.connect()
    try:
        rec, known = _Recording(con), json_run_cache(con)
        found = [_scan(rec, _package(con, "a", first), "a", known)]
        rec.statements.clear()
        found.append(_scan(rec, _package(con, "b", later), "b", known))
        assert rec.confirmations() == 2  # new runs confirmed; weak lines left in free text read
        rec.statements.clear()
        found.append(_scan(rec, _package(con, "c", only_known_in_free_text), "c", known))
        assert rec.confirmations() == 1  # nothing new to confirm, but a weak run left in free text
    finally:
        con.close()
    card = personal_numbers.find(CODE)[0].masked
    assert found == [set(),
                     {("bank_card", card), ("mobile", identifiers.mask_mobile(MOBILE)),
                      ("id_number", identifiers.mask_id_number(PERSON_ID))},
                     {("bank_card", card)}]
    # the same as each package scanned with nothing known before it
    assert found == _fresh([("a", first), ("b", later), ("c", only_known_in_free_text)])
