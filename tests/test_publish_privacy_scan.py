"""The privacy scan reads values by role: IDs everywhere, mobiles in free text only."""
from __future__ import annotations

import csv
import datetime as dt
import gzip
import json
import re

import duckdb

from dagster_project import identifiers, personal_numbers
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
    assert identifiers.find_mobiles("ab 13912345678 cd") and identifiers.find_mobiles("预算 14700000000 元")  # shapes alike
    report = scan_tree(tmp_path, identifier_columns={"row_id"})
    # a key column holds a code, the amount column a number, and 14700000000.00 in free text is an amount
    assert report.hits == []
    _write(tmp_path, [("ff", 1.5, "预算 14700000000 元")])
    # without its decimals the run is mobile-shaped free text: flagged (masking hides it the same way)
    assert {h.path for h in scan_tree(tmp_path, identifier_columns={"row_id"}).hits} == {"t.csv#note", "t.parquet#note"}


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


def test_part_fingerprints_and_build_ids_in_the_manifest_are_not_phones(tmp_path):
    """A fingerprint is hex: digit runs in it are chance (this one stopped a release before its key was known)."""
    fingerprint = "b1d1ad77ddd4f18729763726ae5dc87e343f2021d4867319f031ad6d24493fea"
    assert identifiers.find_mobiles(fingerprint)
    (tmp_path / "manifest.json").write_text(json.dumps({"datasets": {"revisions": {"parts": {"2017": {
        "fingerprint": fingerprint, "built_in": "20261204T225828040Z"}}}}}))
    assert scan_tree(tmp_path, identifier_columns=set()).clean
    # the release's content digests and the publishing code's digest (this stopped the suite), and a digest under a
    # key the scan has never heard of: wholly hex, so an identifier
    for key in ("content_fingerprint", "content_digest", "publishing_code", "some_future_digest"):
        (tmp_path / "manifest.json").write_text(json.dumps({"datasets": {"x": {key: fingerprint}}}))
        assert scan_tree(tmp_path, identifier_columns=set()).clean, key
    (tmp_path / "manifest.json").write_text(json.dumps({"note": f"联系 {fingerprint}"}, ensure_ascii=False))
    assert not scan_tree(tmp_path, identifier_columns=set()).clean  # the same run in free text still counts


def _id_variants() -> tuple[list[str], list[str], list[str]]:
    """Valid IDs (one ending in X); the same with a wrong check character (a typo: an ID number in free text, not in a
    code or key); near misses, which are no ID number anywhere: unknown province, impossible date, zero region."""
    valid = [identifiers.make_id_number("640104", dt.date(1988, 8, 8), 31)]
    valid.append(next(i for i in (identifiers.make_id_number("640202", dt.date(1970, 1, 2), s) for s in range(1000))
                      if i.endswith("X")))
    wrong_check = [v[:17] + next(c for c in "0123456789X" if c != v[17]) for v in valid]
    first17s = ["991010198808080310", "640104198802300310", "640000198808080310"]
    near_misses = [f[:17] + identifiers.id_check_char(f[:17]) for f in first17s]
    return valid, wrong_check, near_misses


def test_sql_confirmation_agrees_with_the_python_id_check(tmp_path, monkeypatch):
    """Candidates found and confirmed in DuckDB (CSV, Parquet and big JSON) are exactly the Python finders' hits:
    in free text ID numbers whatever their check character, in identifier columns and keys a right one only."""
    from dagster_project.publish import privacy_scan

    monkeypatch.setattr(privacy_scan, "_SMALL_JSON_BYTES", 0)  # every JSON file through the DuckDB path
    valid, wrong_check, near_misses = _id_variants()
    variants = valid + wrong_check + near_misses
    rows = [(v, float(i), f"号码 {v}，另 {v.lower()}x1") for i, v in enumerate(variants)]
    _write(tmp_path, rows)
    for name, key in (("ids.json", "id"), ("titles.json", "title")):
        lines = ['{"uri": "https://example.org/p.json", "releases": [']
        lines += [json.dumps({"ocid": f"ocds-x-{i}", key: v}) + ("," if i < len(variants) - 1 else "")
                  for i, v in enumerate(variants)]
        (tmp_path / name).write_text("\n".join(lines + ["]}"]) + "\n", encoding="utf-8")
    checked = {identifiers.mask_id_number(v) for v in valid}
    typed = checked | {identifiers.mask_id_number(v) for v in wrong_check}
    assert len(checked) == 2 and len(typed) == 4
    assert [v for v in variants if identifiers.id_number_is_valid(v)] == valid
    assert [v for v in variants if identifiers.id_number_is_plausible(v)] == valid + wrong_check
    report = scan_tree(tmp_path, identifier_columns={"row_id"})
    found = lambda path: {h.masked.upper() for h in report.hits if h.path == path and h.kind == "id_number"}  # noqa: E731
    for path in ("t.csv#note", "t.parquet#note", "titles.json"):
        # the lower-case x variants are the same numbers (masks keep the case as written)
        assert found(path) == typed, path
        assert found(path) == {identifiers.mask_id_number(re.sub(r"[^0-9X]", "", h.span.upper()))
                               for v in variants for h in personal_numbers.find(v) if h.kind == "id_number"}
    for path in ("t.csv#row_id", "t.parquet#row_id", "ids.json"):
        assert found(path) == checked, path
        assert found(path) == {identifiers.mask_id_number(v) for v in variants
                               if personal_numbers.find(v, checked_ids_only=True)}
    # the same JSON files walked in Python (metadata-sized files)
    monkeypatch.setattr(privacy_scan, "_SMALL_JSON_BYTES", 8 * 1024 * 1024)
    report = scan_tree(tmp_path, identifier_columns={"row_id"})
    assert (found("titles.json"), found("ids.json")) == (typed, checked)


def test_gzipped_packages_are_read_not_skipped(tmp_path):
    """OCDS packages are published as .json.gz: the scan reads them like plain JSON, whatever their size."""
    lines = ['{"uri": "https://example.org/p.json.gz", "releases": [',
             json.dumps({"ocid": "ocds-x-1", "id": "1", "tender": {"title": f"联系 {MOBILE} {PERSON_ID}"}},
                        ensure_ascii=False), "]}"]
    (tmp_path / "release-package-0001.json.gz").write_bytes(gzip.compress(("\n".join(lines) + "\n").encode("utf-8")))
    report = scan_tree(tmp_path)
    assert report.files_scanned == 1
    assert {(h.kind, h.masked) for h in report.hits} == {
        ("mobile", identifiers.mask_mobile(MOBILE)), ("id_number", identifiers.mask_id_number(PERSON_ID))}


def test_big_json_is_scanned_line_by_line_by_role(tmp_path, monkeypatch):
    from dagster_project.publish import privacy_scan

    monkeypatch.setattr(privacy_scan, "_SMALL_JSON_BYTES", 0)
    items = [{"ocid": "ocds-x-13912345678", "id": "1", "tag": ["tender"], "title": "无"},
             {"ocid": "ocds-x-2", "id": PERSON_ID, "tender": {"title": f"联系 {MOBILE}"}},
             {"ocid": "ocds-x-3", "id": "3", "parties": [{"roles": ["buyer"], "name": "ok"}]}]
    lines = ['{"uri": "https://example.org/13912345678/p.json", "releases": [']  # an envelope line
    lines += [json.dumps(item, ensure_ascii=False) + ("," if i < len(items) - 1 else "") for i, item in enumerate(items)]
    (tmp_path / "release-package-0001.json").write_text("\n".join(lines + ["]}"]) + "\n", encoding="utf-8")
    assert json.loads((tmp_path / "release-package-0001.json").read_text(encoding="utf-8"))  # a valid package
    report = scan_tree(tmp_path)
    found = {(h.kind, h.masked) for h in report.hits}
    # the phone-shaped run in an ocid is an identifier, the one in a title is a mobile; IDs count anywhere
    assert found == {("mobile", identifiers.mask_mobile(MOBILE)), ("id_number", identifiers.mask_id_number(PERSON_ID))}


def test_a_run_in_an_identifier_is_still_a_hit_where_it_is_free_text(tmp_path, monkeypatch):
    """Runs are confirmed once per file: a phone-shaped code in an ``id`` on one line does not hide the
    same run written in a title on another line, nor in the same line."""
    from dagster_project.publish import privacy_scan

    monkeypatch.setattr(privacy_scan, "_SMALL_JSON_BYTES", 0)
    code = "CN-USCC-13912345678"
    items = [{"ocid": "ocds-x-1", "id": code, "title": "无"},
             {"ocid": "ocds-x-2", "id": "2", "title": f"见 {code}"},
             {"ocid": "ocds-x-3", "id": code, "parties": [{"id": code, "name": f"{code} 公司"}]}]
    for n, chosen in enumerate(([items[0]], [items[0], items[1]], [items[0], items[2]])):
        folder = tmp_path / str(n)
        folder.mkdir()
        lines = ['{"uri": "https://example.org/p.json", "releases": [']
        lines += [json.dumps(it, ensure_ascii=False, separators=(",", ":")) + ("," if i < len(chosen) - 1 else "")
                  for i, it in enumerate(chosen)]
        (folder / "release-package-0001.json").write_text("\n".join(lines + ["]}"]) + "\n", encoding="utf-8")
        found = {(h.kind, h.masked) for h in scan_tree(folder).hits}
        assert found == (set() if n == 0 else {("mobile", "139****5678")}), (n, found)


def test_the_runs_taken_are_exactly_the_runs_holding_a_candidate_that_starts_a_digit_group():
    """The JSON scan takes runs by one expression (``_group_start_runs_sql``); its specification is the runs of
    ``_run_pattern`` filtered by ``_group_start_candidate_pattern``. Both on text made to sit at the edges: digits
    joined to letters, +86/0086 prefixes, deal keys, credit codes, full-width digits, dates, JSON members."""
    from dagster_project import personal_numbers
    from dagster_project.publish import privacy_scan as ps

    texts = ["abc13912345678x", "+8613912345678", "008613912345678 and 8613912345678", "NXCG2017-0023112-001",
             "91640100MA76A1B23K", "身份证110101199003074514号", "１３９１２３４５６７８", "2019-03-01 09:30",
             "电话:139 1234 5678; 卡号 6222 0212 3456 7890 123", '{"id":"NXCG-2019-1","tel":"13912345678"}',
             "a1b2c3 0.5 1e10 -13912345678- 2139123456789", "x" * 40 + "13912345678", ""]
    con = duckdb.connect()
    spec = (f"list_filter(regexp_extract_all(t, {ps._sql_str(ps._run_pattern())}), "
            f"lambda r: regexp_matches(r, {ps._sql_str(ps._group_start_candidate_pattern())}))")
    found = 0
    for text in texts:
        taken, specified, passes = con.execute(
            f"SELECT {ps._group_start_runs_sql('t')}, {spec}, {personal_numbers.prefilter_sql('t')} FROM (SELECT ? AS t)",
            [text]).fetchone()
        assert taken == specified, text
        assert passes or not taken, text  # scan_json_lines takes runs without the prefilter: it implies it
        found += len(taken)
    assert found >= 8  # the edges hold candidates: the comparison is not between two empty lists


def test_the_table_checks_gathered_candidates_are_the_scans_hits_column_by_column(tmp_path):
    """release_validation.check_table_schemas gathers each text column's candidate cells in its own read of a CSV
    (two list tests a row: free text, identifiers); its hits must be the file scan's, each in its own column — a
    mobile in an identifier column is no hit there, an ID number is."""
    from dagster_project.publish.release_validation import check_table_schemas

    mobile, card = "13912345678", "6222021234567890128"
    id_number = next(v for v in _id_variants()[0] if len(v) == 18)
    rows = [("甲", f"联系 {mobile}", f"X{id_number}", "无"), ("乙", "无", mobile, f"卡号 {card}"),
            ("丙", None, "A-1", f"身份证 {id_number}，电话 {mobile}")]
    fields = [{"name": n, "type": "string"} for n in ("name", "note", "code", "remark")]
    with (tmp_path / "t.csv").open("w", encoding="utf-8-sig", newline="") as out:
        csv.writer(out, lineterminator="\n").writerows([[f["name"] for f in fields], *rows])
    con = duckdb.connect()
    try:
        con.execute(f"COPY (SELECT * FROM read_csv('{tmp_path / 't.csv'}', all_varchar = true)) "
                    f"TO '{tmp_path / 't.parquet'}' (FORMAT parquet)")
    finally:
        con.close()
    (tmp_path / "datapackage.json").write_text(json.dumps(
        {"resources": [{"name": "t", "path": "t.csv", "format": "csv", "schema": {"fields": fields}}]}))
    gathered: dict = {}
    assert check_table_schemas(tmp_path, privacy_hits=gathered, identifier_columns=frozenset({"code"})) == []
    scanned = {(h.path, h.kind, h.masked) for h in scan_tree(tmp_path, identifier_columns={"code"}).hits
               if h.path.startswith("t.csv#")}
    assert {(h.path, h.kind, h.masked) for h in gathered["t.csv"]} == scanned
    assert {p.split("#")[1] for p, _, _ in scanned} == {"note", "code", "remark"}
    assert ("mobile" not in {k for p, k, _ in scanned if p == "t.csv#code"}
            and "id_number" in {k for p, k, _ in scanned if p == "t.csv#code"})
