"""The privacy scan reads values by role: IDs everywhere, mobiles in free text only."""
from __future__ import annotations

import datetime as dt
import json

import duckdb

from dagster_project import identifiers
from dagster_project.publish.privacy_scan import scan_tree

PERSON_ID = identifiers.make_id_number("640104", dt.date(1988, 8, 8), 31)
MOBILE = "15809512345"


def _write(folder, rows, datapackage=True):
    """A CSV + Parquet table with an amount that looks like a phone and a hex id with 11 digits."""
    con = duckdb.connect()
    try:
        con.execute("CREATE TABLE t (row_id VARCHAR, amount_yuan DECIMAL(20,2), note VARCHAR)")
        con.executemany("INSERT INTO t VALUES (?, ?, ?)", rows)
        con.execute(f"COPY t TO '{folder / 't.csv'}' (HEADER)")
        con.execute(f"COPY t TO '{folder / 't.parquet'}' (FORMAT parquet)")
    finally:
        con.close()
    if datapackage:
        fields = [{"name": "row_id", "type": "string"}, {"name": "amount_yuan", "type": "number"},
                  {"name": "note", "type": "string"}]
        (folder / "datapackage.json").write_text(json.dumps(
            {"resources": [{"name": "t", "path": "t.csv", "schema": {"fields": fields}}]}))


BENIGN = [("ab13912345678cd", 14700000000.00, "预算 14700000000.00 元"), ("ff", 1.5, "无")]


def test_numbers_and_identifier_columns_are_not_phones(tmp_path):
    _write(tmp_path, BENIGN)
    assert identifiers.find_mobiles(BENIGN[0][0]) and identifiers.find_mobiles(BENIGN[0][2])  # naive scan would flag
    report = scan_tree(tmp_path, identifier_columns={"row_id"})
    # the free-text note still holds 14700000000 as text: a phone-shaped run in free text is flagged
    assert {h.path for h in report.hits} == {"t.csv#note", "t.parquet#note"}


def test_personal_data_is_found_in_every_format(tmp_path):
    rows = [("x", 1.0, f"联系 {MOBILE}"), (PERSON_ID, 2.0, "ok")]
    _write(tmp_path, rows)
    (tmp_path / "pkg.json").write_text(json.dumps({"releases": [{"id": "1", "title": f"tel {MOBILE}"}]},
                                                  ensure_ascii=False))
    (tmp_path / "page.html").write_text(f"<p>{PERSON_ID}</p>")
    report = scan_tree(tmp_path, identifier_columns={"row_id"})
    found = {(h.path, h.kind) for h in report.hits}
    assert ("t.csv#note", "mobile") in found and ("t.parquet#note", "mobile") in found
    assert ("t.csv#row_id", "id_number") in found and ("t.parquet#row_id", "id_number") in found  # IDs even in keys
    assert ("pkg.json", "mobile") in found and ("page.html", "id_number") in found
    assert all(PERSON_ID not in h.masked and MOBILE not in h.masked for h in report.hits)  # reports are masked


def test_clean_tree_is_clean(tmp_path):
    _write(tmp_path, [("ab13912345678cd", 14700000000.00, "无个人信息")])
    report = scan_tree(tmp_path, identifier_columns={"row_id"})
    assert report.clean and report.files_scanned == 3
