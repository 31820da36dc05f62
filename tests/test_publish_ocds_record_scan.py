"""The privacy scan of record packages (``ocds_packages.PackageChecks``): a record package's scan reads its envelope and
its records' own values (``ocds_sql.RECORD_OWN_TEXT``), its part's release packages' scan the rest."""
from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import duckdb
import pytest

from dagster_project import identifiers
from dagster_project.publish import ocds, ocds_packages
from dagster_project.publish.masking import MaskingPolicy
from dagster_project.publish.ocds_config import load_config, open_package_text, package_files
from dagster_project.publish.ocds_sql import RECORD_OWN_TEXT
from dagster_project.publish.privacy_scan import IDENTIFIER_JSON_KEYS
from dagster_project.publish.release import load_spec
from test_publish_support import build_fixture_warehouse


@pytest.fixture
def warehouse(tmp_path) -> Path:
    return build_fixture_warehouse(tmp_path / "gongkai.duckdb", n_extra_deals=6)


def _items(path: Path) -> list[dict]:
    with open_package_text(path) as fh:
        package = json.load(fh)
    return package["records" if path.name.startswith("record") else "releases"]


def _values(obj, path: str = "", key: str | None = None):
    """(path, role, value) of every string and number leaf; the role as the scan reads it: a string's key (an array
    element's: the array's) an identifier key or not."""
    if isinstance(obj, dict):
        for k, v in obj.items():
            yield from _values(v, f"{path}.{k}" if path else k, k)
    elif isinstance(obj, list):
        for v in obj:
            yield from _values(v, path + "[]", key)
    elif isinstance(obj, str):
        yield path, "identifier" if key in IDENTIFIER_JSON_KEYS else "free", obj
    elif isinstance(obj, (int, float)) and not isinstance(obj, bool):
        yield path, "number", json.dumps(obj)


def _write(con, folder: Path, cfg: dict, keys) -> ocds_packages.PackageChecks:
    checks = ocds_packages.PackageChecks(cfg)
    ocds.write_ocds_parts(con, folder, cfg, MaskingPolicy.from_spec(load_spec()["masking"]), keys, checks)
    return checks



def _written_2018(warehouse, tmp_path) -> tuple:
    """The 2018 part's packages written (7 releases, 3 records a file) with the build's checks: cfg, folder, checks."""
    cfg = dict(load_config(), releases_per_package=7, records_per_package=3)
    folder = tmp_path / "ocds"
    folder.mkdir()
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        checks = _write(con, folder, cfg, ["2018"])
    finally:
        con.close()
    return cfg, folder, checks

def test_a_record_holds_no_value_its_part_releases_do_not_hold_but_its_own(warehouse, tmp_path):
    """What lets a record package's scan read only its records' own values: every other string value of a record
    is one a release of its part holds under a key of the same role, every number one they hold; and the own
    values are there (``RECORD_OWN_TEXT``: the links' urls, the compiled release's id)."""
    cfg, folder, checks = _written_2018(warehouse, tmp_path)
    assert checks.problems == [] and checks.privacy.clean
    files = package_files(folder)
    releases = {(role, value) for f in files if f.name.startswith("release")
                for item in _items(f) for _, role, value in _values(item)}
    own_paths = set(RECORD_OWN_TEXT)
    records = [item for f in files if f.name.startswith("record") for item in _items(f)]
    assert records and any(r["compiledRelease"].get("tender", {}).get("tenderers") for r in records)
    seen_own = set()
    for record in records:
        for path, role, value in _values(record):
            if path in own_paths:
                seen_own.add(path)
            elif (path, value) != ("compiledRelease.tag[]", "compiled"):  # the one constant of its own: no digit
                assert (role, value) in releases, (path, role, value)
    assert seen_own == own_paths


def test_a_number_only_a_record_line_holds_is_still_found(warehouse, tmp_path):
    """A release id whose ``#`` the record's link url-encodes as ``%23``: the digits after it become an ID number
    (province 23) that no release line holds — the release's ``id`` holds 16 digits after the ``#``. The record
    package's scan reads its own values, so the build still finds it, in the record package."""
    person = identifiers.make_id_number("230105", dt.date(1988, 8, 8), 31)
    con = duckdb.connect(str(warehouse))
    try:
        key = con.execute("SELECT min(bulletin_key) FROM main_marts.fct_trading_bulletins "
                          "WHERE deal_key = 'NXZC2018-103/01'").fetchone()[0]
        planted = key + "#" + person[2:]
        con.execute("UPDATE main_marts.fct_trading_bulletins SET bulletin_key = ? WHERE bulletin_key = ?",
                    [planted, key])
    finally:
        con.close()
    cfg, folder, checks = _written_2018(warehouse, tmp_path)
    in_release = [f.name for f in package_files(folder) if f.name.startswith("release")
                  for item in _items(f) if item["id"] == planted]
    in_record = [f.name for f in package_files(folder) if f.name.startswith("record") for item in _items(f)
                 if any(link["url"].endswith("%23" + person[2:]) for link in item["releases"])]
    assert len(in_release) == 1 and len(in_record) == 1  # the release id as planted (not masked), its record's link
    assert checks.problems == []
    assert [(h.path, h.kind, h.masked) for h in checks.privacy.hits] == [
        (in_record[0], "id_number", identifiers.mask_id_number(person))]
    with pytest.raises(ValueError, match="privacy scan found personal data"):
        ocds.build_ocds(warehouse, tmp_path / "out")


def test_a_record_package_without_its_releases_scanned_fails_the_checks(warehouse, tmp_path, monkeypatch):
    """A record package's scan relies on its part's release packages being scanned whole by the same checks: record
    packages checked while their releases were written unchecked are a problem each, not a clean scan."""
    cfg = dict(load_config(), releases_per_package=7, records_per_package=3)
    folder = tmp_path / "ocds"
    folder.mkdir()
    written = []

    def releases_unchecked(con, folder, jobs, suffix, checks, **kwargs):
        ocds_packages.write_package_jobs(con, folder, [j for j in jobs if not j.scanned_with], suffix, None, **kwargs)
        written.extend(j for j in jobs if j.scanned_with)
        return ocds_packages.write_package_jobs(con, folder, written, suffix, checks, **kwargs)
    monkeypatch.setattr(ocds, "write_package_jobs", releases_unchecked)
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        checks = _write(con, folder, cfg, ["2018"])
    finally:
        con.close()
    assert written and all(j.scanned_with for j in written)
    assert len(checks.problems) == len(written)
    assert all("privacy scan incomplete" in p for p in checks.problems)
