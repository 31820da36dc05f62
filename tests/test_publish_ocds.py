"""OCDS 1.1.5 packages from fixture marts: schema-valid offline, one release per bulletin, one record per deal."""
from __future__ import annotations

import hashlib
import re
import gzip
import json
import urllib.parse
from pathlib import Path

import duckdb
import pytest

from dagster_project.publish import atomic
from dagster_project.publish.masking import MaskingPolicy
from dagster_project.publish.ocds import build_ocds, write_ocds
from dagster_project.publish.ocds_reference import _compile
from dagster_project.publish.ocds_config import load_config, open_package_text, package_files, package_suffix
from dagster_project.publish.ocds_packages import content_digest
from dagster_project.publish.ocds_validation import (
    BUNDLED_SCHEMA_DIR, SHARED_SCHEMA_DIR, validate_ocds_folder, validators,
)
from dagster_project.publish.release import load_spec
from test_publish_support import build_fixture_warehouse, ocds_written_and_mapped


@pytest.fixture
def warehouse(tmp_path) -> Path:
    return build_fixture_warehouse(tmp_path / "gongkai.duckdb", n_extra_deals=4)


def _counts(warehouse: Path) -> tuple[int, int, dict[str, str]]:
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        bulletins = con.execute("SELECT count(*) FROM main_marts.fct_trading_bulletins").fetchone()[0]
        deals = con.execute("SELECT count(DISTINCT deal_key) FROM main_marts.fct_trading_bulletins").fetchone()[0]
        types = dict(con.execute("SELECT bulletin_key, bulletin_type FROM main_marts.fct_trading_bulletins").fetchall())
    finally:
        con.close()
    return bulletins, deals, types


def _load_all(folder: Path, stem: str, key: str) -> list[dict]:
    items = []
    for path in package_files(folder):
        if path.name.startswith(stem):
            with open_package_text(path) as fh:
                items += json.load(fh)[key]
    return items


def test_packages_validate_and_cover_every_bulletin_and_deal(warehouse, tmp_path):
    result = build_ocds(warehouse, tmp_path / "out")
    folder = atomic.current_release_dir(tmp_path / "out" / "ocds")
    assert folder == result.path
    bulletins, deals, types = _counts(warehouse)
    cfg = load_config()
    v = validators()
    packages = package_files(folder)
    assert packages and all(p.name.endswith(".json.gz") for p in packages)  # gzip by default (ocds.yaml)
    for path in packages:
        with open_package_text(path) as fh:
            package = json.load(fh)
        validator = v.record_package if path.name.startswith("record") else v.release_package
        assert list(validator.iter_errors(package)) == [], path.name
    # the build leaves its evidence beside the packages: every package, by its checksum
    record = json.loads((folder / "validation.json").read_text(encoding="utf-8"))
    assert sorted(record["files"]) == [p.name for p in packages]
    assert all(record["files"][p.name]["sha256"] == hashlib.sha256(p.read_bytes()).hexdigest() for p in packages)
    # and by its content, hashed by the writer from the text it wrote (what a release compares packages by): the file's
    # text, read back, gives it
    for path in packages:
        with open_package_text(path) as fh:
            text = fh.read().encode("utf-8")
        head = text[:text.index(b"\n")].decode("utf-8")
        base = json.loads(head + "]}")["uri"].rsplit("/", 1)[0] + "/"
        assert record["files"][path.name]["content_sha256"] == content_digest(head, text, len(head.encode()) + 1, base)
    assert record["privacy_scan"].startswith("clean")
    assert sorted(p.name for p in folder.iterdir()) == sorted([p.name for p in packages] + ["validation.json"])
    releases = _load_all(folder, "release-package", "releases")
    records = _load_all(folder, "record-package", "records")
    assert len(releases) == bulletins == result.releases
    assert len(records) == deals == result.records
    assert all(r["ocid"].startswith(cfg["ocid_prefix"]) for r in releases)
    for release in releases:  # tags come from the bulletin type through ocds.yaml
        assert release["tag"] == [cfg["bulletin_types"][types[release["id"]]]["tag"]]
    # each record links every release of its deal, in date order, and compiles them
    by_ocid: dict[str, list[dict]] = {}
    for release in releases:
        by_ocid.setdefault(release["ocid"], []).append(release)
    for record in records:
        links = record["releases"]
        assert len(links) == len(by_ocid[record["ocid"]])
        assert [l["date"] for l in links] == sorted(l["date"] for l in links)
        compiled = record["compiledRelease"]
        assert compiled["tag"] == ["compiled"]
        tags = {t for r in by_ocid[record["ocid"]] for t in r["tag"]}
        assert ("awards" in compiled) == ("award" in tags)
        assert ("contracts" in compiled) == ("contract" in tags)
        for party in compiled["parties"]:
            if "identifier" in party:
                assert party["identifier"]["scheme"] == "CN-USCC"


def test_schema_is_resolved_offline_from_a_bundled_copy():
    # the shipped copy is the same schema as the shared one (when the shared folder exists)
    if SHARED_SCHEMA_DIR.exists():
        for name in ("release-schema.json", "release-package-schema.json", "record-package-schema.json"):
            assert (BUNDLED_SCHEMA_DIR / name).read_bytes() == (SHARED_SCHEMA_DIR / name).read_bytes()
    v = validators(BUNDLED_SCHEMA_DIR)
    bad = {"uri": "x", "publisher": {"name": "p"}, "publishedDate": "2020-01-01T00:00:00Z", "version": "1.1",
           "releases": [{"ocid": "o", "id": "1", "date": "2020-01-01T00:00:00Z", "tag": ["nonsense"],
                         "initiationType": "tender"}]}
    errors = list(v.release_package.iter_errors(bad))  # the $ref to the release schema URL was followed
    assert errors and any("nonsense" in e.message for e in errors)


@pytest.mark.parametrize("compression", ["gzip", "none"])
def test_large_package_path_streams_and_still_catches_errors(warehouse, tmp_path, compression):
    """Packages above the full-validation size are checked line by line plus a schema-validated sample."""
    cfg = dict(load_config(), releases_per_package=7, records_per_package=3, full_validation_max_releases=2,
               sample_head=2, sample_every=3, package_compression=compression)
    policy = MaskingPolicy.from_spec(load_spec()["masking"])
    folder = tmp_path / "ocds"
    folder.mkdir()
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        result = write_ocds(con, folder, cfg, policy)
    finally:
        con.close()
    bulletins, deals, _ = _counts(warehouse)
    assert len([f for f in result.files if f.startswith("release")]) == -(-bulletins // 7)
    assert len([f for f in result.files if f.startswith("record")]) == -(-deals // 3)
    assert validate_ocds_folder(folder, cfg=cfg) == []
    # break one release in the middle of a big file: the line-by-line check must see it
    path = folder / ("release-package-0001" + package_suffix(cfg))
    with open_package_text(path) as fh:
        lines = fh.read().split("\n")
    lines[3] = lines[3].replace('"tag":["', '"tag":["bogus-')
    broken = "\n".join(lines).encode("utf-8")
    path.write_bytes(gzip.compress(broken) if compression == "gzip" else broken)
    problems = validate_ocds_folder(folder, cfg=cfg)
    assert problems and any("tag" in p for p in problems)


def test_sql_mapping_equals_the_python_reference_mapping(warehouse, tmp_path):
    """The DuckDB-built releases and compiled records are what ``bulletin_release`` / ``_compile`` define."""
    folder, expected = ocds_written_and_mapped(warehouse, tmp_path)
    assert _load_all(folder, "release-package", "releases") == expected
    by_ocid: dict[str, list[dict]] = {}
    for release in expected:
        by_ocid.setdefault(release["ocid"], []).append(release)
    records = _load_all(folder, "record-package", "records")
    assert [r["ocid"] for r in records] == list(by_ocid)
    for record in records:
        releases = json.loads(json.dumps(by_ocid[record["ocid"]]))  # _compile takes over values: give it copies
        assert record["compiledRelease"] == _compile(record["ocid"], releases)
        assert [urllib.parse.unquote(link["url"].rsplit("#", 1)[1]) for link in record["releases"]] == [r["id"] for r in releases]
        # each link names a package file that exists
        assert {link["url"].rsplit("#", 1)[0].rsplit("/", 1)[1] for link in record["releases"]} <= {
            p.name for p in package_files(folder)}



def test_empty_texts_are_absent_members_as_the_reference_mapping_leaves_them(warehouse, tmp_path):
    """Names, codes, titles, urls and candidates given as empty strings (or blanks) are left out of the releases and
    records, as ``bulletin_release`` / ``_compile`` leave them: ``ocds_sql`` writes the columns ``flat_sql`` already
    made NULL or non-empty (``_NULL_OR_NONEMPTY``) with no NULLIF of their own, so this holds only while it does."""
    con = duckdb.connect(str(warehouse))
    try:
        con.execute("""UPDATE main_marts.fct_trading_bulletins SET
            notice_name = CASE WHEN hash(bulletin_key) % 3 = 0 THEN '' ELSE notice_name END,
            url = CASE WHEN hash(bulletin_key) % 3 = 1 THEN '' ELSE url END,
            tenderer_name = CASE WHEN hash(bulletin_key) % 2 = 0 THEN '' ELSE tenderer_name END,
            tenderer_code = '', tender_agency_code = CASE WHEN hash(bulletin_key) % 2 = 1 THEN '' ELSE tender_agency_code END,
            win_bidder_code = '', win_candidate_code = CASE WHEN win_candidate_name IS NOT NULL THEN ' ' END""")
        blanked = con.execute("SELECT count(*) FROM main_marts.fct_trading_bulletins WHERE notice_name = ''").fetchone()[0]
    finally:
        con.close()
    assert blanked > 0
    folder, expected = ocds_written_and_mapped(warehouse, tmp_path)
    releases = _load_all(folder, "release-package", "releases")
    assert releases == expected
    records = _load_all(folder, "record-package", "records")
    by_ocid: dict[str, list[dict]] = {}
    for release in expected:
        by_ocid.setdefault(release["ocid"], []).append(release)
    for record in records:
        assert record["compiledRelease"] == _compile(record["ocid"], json.loads(json.dumps(by_ocid[record["ocid"]])))
    text = json.dumps(releases + records, ensure_ascii=False)
    assert ': ""' not in text and '"name-"' not in text

def _file_of(uri: str) -> Path:
    parsed = urllib.parse.urlsplit(uri)
    assert parsed.scheme == "file", uri  # absolute (lib-cove-ocds reports a relative `uri` as invalid)
    return Path(urllib.parse.unquote(parsed.path))


def test_default_links_resolve_to_the_published_files(warehouse, tmp_path, monkeypatch):
    """No base URI set: package uris, the record packages' `packages` and every linked release url are
    absolute URIs of files that exist in the published folder, and the fragment names a release in it."""
    monkeypatch.delenv("GONGKAI_OCDS_BASE_URI", raising=False)
    result = build_ocds(warehouse, tmp_path / "out")
    ids_in: dict[Path, set[str]] = {}
    for path in package_files(result.path):
        with open_package_text(path) as fh:
            package = json.load(fh)
        assert _file_of(package["uri"]) == path.resolve()
        if "releases" in package:
            ids_in[path.resolve()] = {r["id"] for r in package["releases"]}
    for path in package_files(result.path):
        with open_package_text(path) as fh:
            package = json.load(fh)
        for linked in package.get("packages", []):
            assert _file_of(linked) in ids_in
        for record in package.get("records", []):
            for link in record["releases"]:
                target, fragment = link["url"].split("#", 1)
                assert urllib.parse.unquote(fragment) in ids_in[_file_of(target)]


def test_ocid_prefix_and_base_uri_are_settings(warehouse, tmp_path, monkeypatch):
    monkeypatch.setenv("GONGKAI_OCDS_OCID_PREFIX", "ocds-a1b2c3-")
    monkeypatch.setenv("GONGKAI_OCDS_BASE_URI", "https://data.example.gov.cn/gongkai/ocds")
    result = build_ocds(warehouse, tmp_path / "out")
    base = f"https://data.example.gov.cn/gongkai/ocds/{result.path.name}/"
    releases = _load_all(result.path, "release-package", "releases")
    records = _load_all(result.path, "record-package", "records")
    assert releases and all(r["ocid"].startswith("ocds-a1b2c3-") for r in releases)
    for path in package_files(result.path):
        with open_package_text(path) as fh:
            assert json.load(fh)["uri"] == base + path.name
    assert all(link["url"].startswith(base + "release-package-") for r in records for link in r["releases"])
    assert validate_ocds_folder(result.path) == []  # the structural check knows the configured prefix


def test_candidates_are_named(warehouse, tmp_path):
    """中标候选人公示: every candidate a party with role tenderer and in tender.tenderers (rank order); the
    pending award's supplier is the first-ranked candidate. Candidate notices of the fixture: three in
    one cell, one row naming the first-ranked, one row naming the second (no award supplier)."""
    from test_publish_support import CANDIDATES

    result = build_ocds(warehouse, tmp_path / "out")
    releases = [r for r in _load_all(result.path, "release-package", "releases") if "中标候选人公示" in r["id"]]
    assert releases
    seen_forms = set()
    for release in releases:
        tenderers = release["tender"]["tenderers"]
        names = [t["name"] for t in tenderers]
        forms = [c for c in CANDIDATES if re.split("[；;、]", c[0]) == names]
        assert len(forms) == 1, names  # the names, in the order the notice ranks them
        form = forms[0]
        seen_forms.add(form)
        party_roles = {p["id"]: p["roles"] for p in release["parties"]}
        assert all(party_roles[t["id"]] == ["tenderer"] for t in tenderers)
        award = release["awards"][0]
        assert award["status"] == "pending"
        first_ranked = form[2] in (None, 1)
        assert ("suppliers" in award) == first_ranked
        if first_ranked:
            assert award["suppliers"] == [tenderers[0]]
    assert len(seen_forms) == len(CANDIDATES)
    # coded candidates are identified by their credit code; the record keeps them all
    records = _load_all(result.path, "record-package", "records")
    compiled = {r["ocid"]: r["compiledRelease"] for r in records}
    for release in releases:
        ids = {t["id"] for t in release["tender"]["tenderers"]}
        assert ids <= {t["id"] for t in compiled[release["ocid"]]["tender"]["tenderers"]}
        assert any(i.startswith("CN-USCC-") for i in ids) or release["tender"]["tenderers"][0]["name"] == "宁夏丁建设公司"


def test_one_read_back_still_fails_a_planted_id_number_and_a_broken_release(warehouse, tmp_path, monkeypatch):
    """The checks a build makes on the table each file is written from (``PackageChecks``), and
    ``check_ocds_folder`` on the files as they are on disk: unmasked rows (a mobile in a title) and releases whose
    tag is outside the codelist fail the build's checks; a package with an ID number planted in a title (a JSON
    string the scan must read as free text) and one with a broken release are each caught in their file."""
    import datetime as dt

    from dagster_project import identifiers
    from dagster_project.publish import ocds, ocds_packages
    from dagster_project.publish.ocds_validation import check_ocds_folder
    from test_publish_support import MOBILE

    cfg = dict(load_config(), releases_per_package=7, records_per_package=3, full_validation_max_releases=2,
               sample_head=1, sample_every=1000)
    folder, unmasked, broken = tmp_path / "ocds", tmp_path / "unmasked", tmp_path / "broken"
    for f in (folder, unmasked, broken):
        f.mkdir()
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        checks = ocds_packages.PackageChecks(cfg)
        ocds.write_ocds_parts(con, folder, cfg, MaskingPolicy.from_spec(load_spec()["masking"]), [None], checks)
        assert checks.problems == [] and checks.privacy.clean
        assert checks.privacy.files_scanned == len(package_files(folder))
        with monkeypatch.context() as m:  # a masking that masks nothing
            m.setattr(ocds, "masked_select_probed_by_value", lambda _con, relation, columns, *_: "SELECT " + ", ".join(
                f'"{c}"' for c, _ in columns) + f" FROM {relation} AS src")
            checks = ocds_packages.PackageChecks(cfg)
            ocds.write_ocds_parts(con, unmasked, cfg, MaskingPolicy(), [None], checks)
        assert checks.problems == [] and ("mobile", MOBILE[:3] + "****" + MOBILE[-4:]) in {
            (h.kind, h.masked) for h in checks.privacy.hits}
        wrong_tags = ocds.release_json_sql(cfg).replace("'tag': [tag]", "'tag': ['bogus-' || tag]")
        monkeypatch.setattr(ocds, "release_json_sql", lambda _: wrong_tags)
        checks = ocds_packages.PackageChecks(cfg)
        ocds.write_ocds_parts(con, broken, cfg, MaskingPolicy.from_spec(load_spec()["masking"]), [None], checks)
        assert any("not in the codelist" in p for p in checks.problems) and checks.privacy.clean
    finally:
        con.close()
    problems, privacy = check_ocds_folder(folder, cfg=cfg)
    assert problems == [] and privacy.clean and privacy.files_scanned == len(package_files(folder))

    def rewrite(path: Path, line_no: int, change) -> None:
        with open_package_text(path) as fh:
            lines = fh.read().split("\n")
        lines[line_no] = change(lines[line_no])
        path.write_bytes(gzip.compress("\n".join(lines).encode("utf-8")))

    person = identifiers.make_id_number("640104", dt.date(1988, 8, 8), 31)
    releases = folder / "release-package-0002.json.gz"
    records = folder / "record-package-0002.json.gz"
    rewrite(releases, 5, lambda line: line.replace('"tag":["', '"tag":["bogus-'))  # past the sampled head
    rewrite(records, 2, lambda line: line.replace('"title":"', f'"title":"联系人 {person} ', 1))
    problems, privacy = check_ocds_folder(folder, cfg=cfg)
    assert any(p.startswith(releases.name) and "not in the codelist" in p for p in problems), problems
    assert [(h.path, h.kind, h.masked) for h in privacy.hits] == [
        (records.name, "id_number", identifiers.mask_id_number(person))]


def test_package_lines_come_out_in_item_order_whatever_the_order_stored():
    """``_lines_in_order``: items stored in package order are read as stored (no sort), items stored in any other
    order (a record package's, out of joins) are put in ``n`` order — the lines of ``ORDER BY n`` either way."""
    from dagster_project.publish.ocds_packages import _lines_in_order

    con = duckdb.connect()
    try:
        for order in ("n", "hash(n)", "-n"):
            con.execute("CREATE OR REPLACE TEMP TABLE items AS SELECT n, '{\"id\":' || n || '}' AS item "
                        f"FROM range(1, 3001) t(n) ORDER BY {order}")
            stored = [r[0] for r in con.execute("SELECT n FROM items").fetchall()]
            assert (stored == sorted(stored)) == (order == "n")
            expected = [r[0] for r in con.execute("SELECT item || ',\n' FROM items ORDER BY n").fetchall()]
            assert _lines_in_order(con, "items").to_pylist() == expected
        con.execute("CREATE OR REPLACE TEMP TABLE items AS SELECT 1 AS n, 'x' AS item LIMIT 0")
        assert _lines_in_order(con, "items").to_pylist() == []
    finally:
        con.close()
