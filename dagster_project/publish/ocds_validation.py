"""Validating the OCDS packages offline, and the record of what a build validated.

The package schemas refer to the release schema by its canonical URL, which a
``referencing.Registry`` maps to the local file. Packages of at most ``full_validation_max_releases``
items are validated whole; larger ones get structural checks of EVERY item in DuckDB (JSON parses,
ocid/id present and unique in the package, required fields, tags from the codelist, ocid prefix)
and a full schema validation of a deterministic sample (the first ``sample_head`` items and about
one in ``sample_every`` chosen by key hash, each as a one-item package). Both are documented in docs/OPEN_DATA.md.

Apart from ``ocds.py``, which builds and writes the packages: this module reads only the files
written (``build_ocds`` and ``release.build_release`` both call it), and its validation record lets a
release carry packages by checksum instead of validating them again.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import duckdb
from jsonschema import Draft4Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT4

from dagster_project.paths import REPO_ROOT
from dagster_project.publish.ocds_config import load_config, open_package_text, package_files
from dagster_project.publish.privacy_scan import PrivacyReport, load_json_lines, scan_json_file
from dagster_project.publish.release_validation import sha256_file
from dagster_project.publish.warehouse import open_scratch

SHARED_SCHEMA_DIR = REPO_ROOT.parent / "shared" / "ocds-1.1.5"
BUNDLED_SCHEMA_DIR = Path(__file__).with_name("ocds_schema")
RELEASE_SCHEMA_URL = "https://standard.open-contracting.org/schema/1__1__5/release-schema.json"
RELEASE_TAGS = frozenset([
    "planning", "planningUpdate", "tender", "tenderAmendment", "tenderUpdate", "tenderCancellation", "award",
    "awardUpdate", "awardCancellation", "contract", "contractUpdate", "contractAmendment", "implementation",
    "implementationUpdate", "contractTermination", "compiled",
])


def schema_dir(setting: str | Path | None = None) -> Path:
    """The OCDS schema folder: the setting, else ``<repo>/../shared/ocds-1.1.5``, else the bundled copy."""
    for candidate in (Path(setting) if setting else None, SHARED_SCHEMA_DIR, BUNDLED_SCHEMA_DIR):
        if candidate is not None and (candidate / "release-schema.json").exists():
            return candidate
    raise FileNotFoundError("OCDS 1.1.5 schema not found (setting, ../shared/ocds-1.1.5, bundled copy)")


@dataclass
class OcdsValidators:
    release_package: Draft4Validator
    record_package: Draft4Validator
    release: Draft4Validator


def validators(folder: Path | None = None) -> OcdsValidators:
    folder = schema_dir(folder)
    load = lambda name: json.loads((folder / name).read_text(encoding="utf-8"))  # noqa: E731
    release_schema = load("release-schema.json")
    registry = Registry().with_resource(RELEASE_SCHEMA_URL, Resource.from_contents(release_schema, default_specification=DRAFT4))
    return OcdsValidators(
        release_package=Draft4Validator(load("release-package-schema.json"), registry=registry),
        record_package=Draft4Validator(load("record-package-schema.json"), registry=registry),
        release=Draft4Validator(release_schema, registry=registry),
    )


# ---------------------------------------------------------------------------------------- validation

def _q(s: str) -> str:
    return "'" + str(s).replace("'", "''") + "'"


def _sql_path(path: Path) -> str:
    return path.as_posix().replace("'", "''")


def _errors(validator: Draft4Validator, instance, where: str, limit: int = 5) -> list[str]:
    out = []
    for err in validator.iter_errors(instance):
        out.append(f"{where}: {'/'.join(map(str, err.absolute_path))}: {err.message[:200]}")
        if len(out) >= limit:
            break
    return out


def _items_sql(lines: str) -> str:
    """The items of a package file written by ``write_package_jobs`` (its lines in temp table ``lines``,
    ``privacy_scan.load_json_lines``): one per line after the envelope line (``rowid`` 0)."""
    return f"SELECT rowid AS n, rtrim(line, ',') AS item FROM {lines} WHERE rowid > 0 AND line NOT IN (']}}', '')"


def _load_items(con: duckdb.DuckDBPyConnection, items: str, is_record: bool, cfg: dict) -> int:
    """Parse every item once into the temp table ``_ocds_items`` (fields the checks need, sampled items).

    ``items``: a query of the package's items (``n``: the item's line in the file, the first item 1; ``item``:
    its JSON text). The sample: the first ``sample_head`` items of the file and every item whose key hashes to 0
    modulo ``sample_every`` (deterministic, spread over the file).
    """
    r = "$.compiledRelease" if is_record else "$"
    paths = [f"{r}.ocid", f"{r}.id", f"{r}.date", f"{r}.initiationType", f"{r}.tag", "$.ocid", "$.releases"]
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE _ocds_items AS
        SELECT ok, f[1] AS ocid, f[2] AS id, f[3] AS date, f[4] AS initiation_type,
               try_cast(try_cast(f[5] AS JSON) AS VARCHAR[]) AS tag, f[6] AS item_ocid,
               json_array_length(try_cast(f[7] AS JSON)) AS n_links,
               CASE WHEN n <= {int(cfg['sample_head'])} OR ok AND
                         hash(coalesce(f[1], '') || ' ' || coalesce(f[2], '')) % {int(cfg['sample_every'])} = 0
                    THEN item END AS sampled, n,
               CASE WHEN ok THEN coalesce(f[1], '?') || CASE WHEN {str(not is_record).lower()} THEN ' ' || coalesce(f[2], '?')
                    ELSE '' END ELSE left(item, 80) END AS item_key
        FROM (SELECT n, item, f IS NOT NULL AS ok, f  -- one parse per item: try() is NULL for what is not JSON
              FROM (SELECT n, item, try(json_extract_string(item, {paths})) AS f FROM ({items})))""")
    return con.execute("SELECT count(*) FROM _ocds_items").fetchone()[0]


def _structural_problems(con: duckdb.DuckDBPyConnection, path: Path, is_record: bool, cfg: dict,
                         limit: int = 50) -> list[str]:
    """Cheap checks of EVERY item (loaded by ``_load_items``): JSON, required fields, tag codelist,
    ocid prefix, ids unique in the package."""
    key = "ocid" if is_record else "ocid || ' ' || id"
    tags = "[" + ", ".join(_q(t) for t in sorted(RELEASE_TAGS)) + "]"
    checks = [f"CASE WHEN coalesce({c}, '') = '' THEN 'missing {f}' END"
              for c, f in (("ocid", "ocid"), ("id", "id"), ("date", "date"), ("initiation_type", "initiationType"))]
    checks += [
        "CASE WHEN coalesce(len(tag), 0) = 0 THEN 'missing tag' END",
        f"CASE WHEN NOT list_has_all({tags}, tag) THEN 'tag ' || CAST(tag AS VARCHAR) || ' not in the codelist' END",
        f"CASE WHEN NOT starts_with(coalesce(ocid, ''), {_q(cfg['ocid_prefix'])}) "
        f"THEN 'ocid without prefix {cfg['ocid_prefix']}' END",
    ]
    if is_record:
        checks += ["CASE WHEN coalesce(n_links, 0) = 0 THEN 'record without releases' END",
                   "CASE WHEN item_ocid IS DISTINCT FROM ocid THEN 'compiled release ocid differs from the record ocid' END"]
    rows = con.execute(f"""
        SELECT item_key, problem FROM (
            SELECT item_key, 'not JSON' AS problem FROM _ocds_items WHERE NOT ok
            UNION ALL
            SELECT item_key, unnest(list_filter([{', '.join(checks)}], lambda x: x IS NOT NULL)) FROM _ocds_items WHERE ok
            UNION ALL
            SELECT any_value(item_key), 'duplicate ' || k FROM (SELECT item_key, {key} AS k FROM _ocds_items WHERE ok)
            GROUP BY k HAVING count(*) > 1
        ) ORDER BY ALL LIMIT {limit}""").fetchall()
    return [f"{path.name} item {k}: {p}" for k, p in rows]


def check_package_items(con: duckdb.DuckDBPyConnection, name: str, head: str, items: str, v: OcdsValidators,
                        cfg: dict, whole_text: Callable[[], str] | None = None,
                        parsed: list[bool] | None = None) -> tuple[list[str], Callable[[], list[str]]]:
    """The checks of one package file ``name``: its envelope line ``head`` and its items, the query ``items``
    (``_load_items``). Returns the problems DuckDB found now, and the schema validation left to do in Python
    (a function: the worker that builds the file runs it once the file is written, ``ocds_packages.write_package_jobs``).

    Small packages (at most ``full_validation_max_releases`` items) are validated whole. Larger ones: structural
    checks of every item in DuckDB, and a deterministic sample (the first ``sample_head`` items and about one in
    ``sample_every``, chosen by key hash) validated against the package schema, each as a one-item package with the
    file's envelope. ``whole_text``: the package's text (default: the envelope line, the items and the closing line,
    as ``write_package_jobs`` writes them). ``parsed``: given a list, whether every item parsed as JSON is appended.
    """
    is_record = name.startswith("record-package")
    package_validator = v.record_package if is_record else v.release_package
    list_key = "records" if is_record else "releases"
    try:
        count = _load_items(con, items, is_record, cfg)
        if parsed is not None:
            parsed.append(bool(con.execute("SELECT coalesce(bool_and(ok), true) FROM _ocds_items").fetchone()[0]))
        if count <= cfg["full_validation_max_releases"]:
            if whole_text is None:
                texts = [t for (t,) in con.execute(f"SELECT item FROM ({items}) ORDER BY n").fetchall()]
                whole = head + "\n" + ",\n".join(texts) + "\n]}\n"
            else:
                whole = whole_text()

            def validate_whole() -> list[str]:
                try:
                    package = json.loads(whole)
                except json.JSONDecodeError as err:
                    return [f"{name}: not JSON: {err}"]
                return _errors(package_validator, package, name)
            return [], validate_whole
        problems = _structural_problems(con, Path(name), is_record, cfg)
        sample = [t for (t,) in con.execute("SELECT sampled FROM _ocds_items WHERE sampled IS NOT NULL ORDER BY n").fetchall()]
    finally:
        con.execute("DROP TABLE IF EXISTS _ocds_items")

    def validate_sample() -> list[str]:
        out: list[str] = []
        envelope = json.loads(head + "]}")
        for item in sample:
            try:
                parsed = json.loads(item)
            except json.JSONDecodeError:
                continue  # reported by the structural checks
            where = f"{name} item {parsed.get('ocid')} {'' if is_record else parsed.get('id')}".rstrip()
            out += _errors(package_validator, dict(envelope, **{list_key: [parsed]}), where)
            if len(out) > 50:
                break
        return out
    return problems, validate_sample


def validate_package_file(path: Path, v: OcdsValidators, cfg: dict, con: duckdb.DuckDBPyConnection | None = None,
                          lines: str | None = None) -> list[str]:
    """Problems in one package file written by ``write_package_jobs`` (empty list = valid): the checks of
    ``check_package_items`` on the file as it is on disk.
    ``lines``: a temp table of ``con`` already holding the file's lines (``privacy_scan.load_json_lines``);
    otherwise the file is read here.
    """
    own, loaded = con is None, lines is None
    con = con or open_scratch()
    try:
        if loaded:
            lines = "_ocds_lines"
            load_json_lines(con, path, lines)
        head = con.execute(f"SELECT line FROM {lines} WHERE rowid = 0").fetchone()

        def file_text() -> str:
            with open_package_text(path) as fh:
                return fh.read()
        problems, schema_check = check_package_items(con, path.name, head[0] if head else "", _items_sql(lines), v, cfg,
                                                     file_text)
    finally:
        if loaded:
            con.execute(f"DROP TABLE IF EXISTS {lines}")
        if own:
            con.close()
    return problems + schema_check()


def validate_ocds_folder(folder: Path, schema_setting: str | Path | None = None, cfg: dict | None = None,
                         skip: frozenset[str] = frozenset()) -> list[str]:
    """``skip``: file names carried by checksum from a build that validated them."""
    return check_ocds_folder(folder, schema_setting, cfg, skip, privacy=False)[0]


def check_ocds_folder(folder: Path, schema_setting: str | Path | None = None, cfg: dict | None = None,
                      skip: frozenset[str] = frozenset(), privacy: bool = True) -> tuple[list[str], PrivacyReport]:
    """Validation problems and the privacy scan of every package file in ``folder`` but ``skip`` (names
    carried by checksum from a build that checked them): each file is read back once, as published, into
    one DuckDB table that both the validation and the privacy scan read (``privacy_scan.scan_json_file``,
    the scan ``privacy_scan.scan_tree`` runs on a JSON file)."""
    cfg = cfg or load_config()
    v = validators(schema_setting)
    problems: list[str] = []
    report = PrivacyReport()
    con = open_scratch()
    try:
        for path in package_files(folder):
            if path.name in skip:
                report.files_carried_over += 1
                continue
            load_json_lines(con, path, "_ocds_lines")
            problems += validate_package_file(path, v, cfg, con, lines="_ocds_lines")
            if privacy:
                report.files_scanned += 1
                report.bytes_scanned += path.stat().st_size
                report.hits += scan_json_file(path, path.name, con, "_ocds_lines")
            con.execute("DROP TABLE _ocds_lines")
    finally:
        con.close()
    return problems, report


# What build_ocds proved about the packages it wrote, by checksum: the release that includes them
# (hard links of the same files) checks the checksums instead of validating and scanning them again.
VALIDATION_RECORD = "validation.json"


def write_validation_record(folder: Path, build_id: str, privacy_summary: str,
                            quarantined: dict[str, int] | None = None, known: dict[str, str] | None = None,
                            parts_record: dict | None = None, contents: dict[str, str] | None = None) -> dict:
    """``known``: digests of carried files verified in this build; ``parts_record``: the fiscal-year parts;
    ``contents``: each file's content without the build's time and folder (``ocds_packages.content_digest``: what a
    release compares the packages by), recorded as ``content_sha256``."""
    known = known or {}
    contents = contents or {}
    record = {
        "build_id": build_id,
        "schema": "OCDS 1.1.5 release/record package schemas (offline)",
        "validation": "valid: every item structurally in DuckDB, packages up to "
                      "full_validation_max_releases whole, larger ones by a deterministic sample (docs/OPEN_DATA.md); "
                      "each package file checked on the table of its lines it is written from, byte for byte",
        "privacy_scan": f"clean ({privacy_summary}; every line of every release package file, and of every record "
                        "package file its envelope and the values no release of its part holds (ocds_sql.RECORD_OWN_TEXT), "
                        "from the same table as the validation)",
        "files": {p.name: {"sha256": known.get(p.name) or sha256_file(p), "bytes": p.stat().st_size,
                           **({"content_sha256": contents[p.name]} if p.name in contents else {})}
                  for p in package_files(folder)},
        "quarantined": quarantined or {},
    }
    if parts_record is not None:
        record["parts"] = parts_record
    (folder / VALIDATION_RECORD).write_text(json.dumps(record, ensure_ascii=False, indent=2), encoding="utf-8")
    return record


def read_validation_record(folder: Path) -> dict | None:
    """The record build_ocds left in ``folder`` (None when absent or unreadable: then validate again)."""
    try:
        return json.loads((folder / VALIDATION_RECORD).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
