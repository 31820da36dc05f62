"""OCDS 1.1.5 extract: one release per trading bulletin, one record (with a compiled release) per deal.

Rows come from the marts through ``masking.masked_select`` (the one de-identification point) and
never pass through Python one by one: DuckDB builds each release and each record as JSON text (one
``to_json`` of a struct, by the SQL that ``ocds_sql.py`` generates from ``ocds.yaml``) into a table per package
file, checks that table (``PackageChecks``) and hands it over as Arrow, written one item per line between a
package envelope (uri, version, publishedDate, publisher, license; record packages also list the release
packages) written by Python; package files are built side by side, each by a worker on its own DuckDB
cursor (``ocds_packages.py``: the checks, the writing and the workers). ``ocds_reference.py`` is the same mapping in
Python: the executable specification the tests hold the SQL to, on small data.

Validation is offline (``ocds_validation.py``, documented in docs/OPEN_DATA.md); the settings and the
package file names are in ``ocds_config.py``.
"""
from __future__ import annotations

import datetime as _dt
import shutil
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import duckdb

from dagster_project.publish import atomic
from dagster_project.publish.masking import MaskingPolicy, masked_select_probed_by_value
from dagster_project.publish.ocds_config import load_config, package_files, package_suffix, release_stem
from dagster_project.publish.ocds_sql import flat_sql, records_sql, release_json_sql, source_order
from dagster_project.publish.ocds_packages import PackageChecks, PackageJob, package_jobs, sql_str, write_package_jobs
from dagster_project.publish.ocds_validation import read_validation_record, write_validation_record
from dagster_project.publish.privacy_scan import scan_tree
from dagster_project.publish.warehouse import describe, find_relation, open_read_only

FLAT_ROW_GROUP = 100_000

BULLETIN_COLUMNS = [
    "bulletin_key", "deal_key", "bulletin_type_code", "bulletin_type", "trade_area", "notice_name",
    "notice_send_time", "tenderer_name", "tenderer_code", "tender_agency_name", "tender_agency_code",
    "budget_amount_yuan", "bid_amount_yuan", "win_bidder_name", "win_bidder_code", "bidder_count", "url",
    "win_candidate_name", "win_candidate_code", "win_candidate_order",
]
DEAL_COLUMNS = [
    "deal_key", "project_code", "doc_get_start_at", "bid_deadline_at", "contract_signed_at",
    "budget_amount_yuan", "bidder_count",
]


def _sql_path(path: Path) -> str:
    return path.as_posix().replace("'", "''")


@dataclass
class OcdsResult:
    path: Path
    releases: int = 0
    records: int = 0
    files: list[str] = field(default_factory=list)
    bytes: int = 0
    validation: str = ""
    seconds: float = 0.0
    # bulletins left out of the packages, by reason (kept in the warehouse and in trading_bulletins)
    quarantined: dict[str, int] = field(default_factory=dict)
    parts: dict[str, dict] = field(default_factory=dict)  # fiscal-year parts: new or carried (build_ocds)
    # each file's content without the build's time and folder (ocds_packages.content_digest), by name
    contents: dict[str, str] = field(default_factory=dict)


def ocds_source_sql(con: duckdb.DuckDBPyConnection, policy: MaskingPolicy, part: str | None = None,
                    masked: bool = True, parts_in: set[str] | None = None) -> str | None:
    """Bulletins joined with their deal, masked. ``part``: only one fiscal-year part's rows, chosen
    before masking (a year's build masks that year's bulletins only); ``parts_in``: the rows of these
    parts, chosen the same way (one masking pass for every part a build writes); ``masked=False``: the
    same rows as the marts hold them (what a part's fingerprint hashes: no masking pass over years that
    are carried)."""
    from dagster_project.publish import parts
    from dagster_project.publish.masking import quote_ident

    def select(relation: str, columns: list[tuple[str, str]]) -> str:
        if masked:
            return masked_select_probed_by_value(con, relation, columns, policy)
        return "SELECT " + ", ".join(quote_ident(c) for c, _ in columns) + f" FROM {relation} AS src"

    bulletins = find_relation(con, "fct_trading_bulletins")
    deals = find_relation(con, "fct_deals")
    if bulletins is None:
        return None
    b_types = dict(describe(con, bulletins))
    quarantine = find_relation(con, "int_records_quarantined")
    source = bulletins
    if quarantine is not None:  # records dbt found cannot stand in a package (QUAR_*: no date …), by raw key
        source = (f"(SELECT * FROM {bulletins} WHERE bulletin_key NOT IN "
                  f"(SELECT object_key FROM {quarantine} WHERE left_out_of = 'ocds' AND object_key IS NOT NULL))")
    d_types = dict(describe(con, deals)) if deals is not None else {}
    chosen_parts = {part} if part is not None else set(parts_in) if parts_in is not None else None
    if chosen_parts is not None and "fiscal_year" in d_types:
        dated = f"(SELECT DISTINCT coalesce(deal_key, '') FROM {deals} WHERE fiscal_year IS NOT NULL)"
        years = sorted(k for k in chosen_parts if k not in (parts.UNKNOWN, parts.ALL))
        chosen = []
        if years:
            chosen.append(f"deal_key IN (SELECT deal_key FROM {deals} WHERE "
                          f"{' OR '.join(parts.part_filter(y) for y in years)})")
        if parts.UNKNOWN in chosen_parts:
            chosen.append(f"coalesce(deal_key, '') NOT IN {dated}")
        source = f"(SELECT * FROM {source} AS s WHERE {' OR '.join(chosen) or 'false'})"
    b_sql = select(source, [(c, b_types[c]) for c in BULLETIN_COLUMNS if c in b_types])
    if deals is None:
        return f"SELECT * FROM ({b_sql}) b"
    d_sql = select(deals, [(c, d_types[c]) for c in DEAL_COLUMNS + ["fiscal_year"] if c in d_types])
    deal_cols = [f"d.{c}" for c in ("doc_get_start_at", "bid_deadline_at", "contract_signed_at") if c in d_types]
    deal_cols += [f"d.{c} AS deal_{c}" for c in ("budget_amount_yuan", "bidder_count") if c in d_types]
    if "fiscal_year" in d_types:  # a deal's year = fct_deals.fiscal_year (CONTRACTS §3): the part it is published in
        deal_cols.append("CAST(d.fiscal_year AS INTEGER) AS fiscal_year")
    return f"SELECT b.*{''.join(', ' + c for c in deal_cols)} FROM ({b_sql}) b LEFT JOIN ({d_sql}) d USING (deal_key)"


def _quarantine_counts(con: duckdb.DuckDBPyConnection, source_sql: str, n_releases: int) -> dict[str, int]:
    """Bulletins of the mart that are not releases: left out by dbt's quarantine, or incomplete here."""
    bulletins = find_relation(con, "fct_trading_bulletins")
    total = con.execute(f"SELECT count(*) FROM {bulletins}").fetchone()[0] if bulletins else n_releases
    offered = con.execute(f"SELECT count(*) FROM ({source_sql})").fetchone()[0]
    counts = {"quarantined_by_dbt": total - offered, "incomplete_release": offered - n_releases}
    return {k: int(v) for k, v in counts.items() if v}


def write_ocds(con: duckdb.DuckDBPyConnection, folder: Path, cfg: dict, policy: MaskingPolicy,
               part: str | None = None) -> OcdsResult:
    """Build releases and records of every bulletin (or of one fiscal-year ``part``) into ``folder``."""
    return write_ocds_parts(con, folder, cfg, policy, [part])[part]


def write_ocds_parts(con: duckdb.DuckDBPyConnection, folder: Path, cfg: dict, policy: MaskingPolicy,
                     keys: list[str | None], checks: PackageChecks | None = None) -> dict[str | None, OcdsResult]:
    """Build releases and records of the fiscal-year parts ``keys`` (``[None]``: every bulletin, in files
    not named by a part) and write them into ``folder`` (must exist).

    The rows of all these parts are chosen, masked and turned into flat release rows by ONE query (the
    masking expressions make its text ~150 kB, whose planning cost seconds: once per build, not once per
    part), written to a temporary Parquet file in (part, package) order (row groups of ``FLAT_ROW_GROUP``
    rows; a row's ``seq`` is its place in its part, so a range of ``seq`` is a range of the file's row numbers and
    reads only its row groups); each package file is then built from its range (releases one package at a time,
    records aggregated one package of deals at a time, which bounds memory whatever the number of bulletins), the
    files side by side (``write_package_jobs``). ``checks``: check every file as it is written (``PackageChecks``).
    """
    from dagster_project.publish import parts

    results = {k: OcdsResult(path=folder) for k in keys}
    named = [k for k in keys if k is not None]
    if named and len(named) != len(keys):
        raise ValueError("write_ocds_parts: either fiscal-year parts or None, not both")
    sql = ocds_source_sql(con, policy, parts_in=set(named) if named else None)
    if sql is None:
        return results
    # the columns' types as the marts hold them: masking keeps every type (text stays text), and describing the
    # masked query would plan its masking expressions once more
    types = dict(describe(con, f"({ocds_source_sql(con, policy, parts_in=set(named) if named else None, masked=False)})"))
    if named:  # each part's deals' bulletins, in files named by the part
        if parts.PART_COLUMN in types:
            part_of = (f"CASE WHEN {parts.PART_COLUMN} IS NULL THEN {sql_str(parts.UNKNOWN)} "
                       f"ELSE CAST(CAST({parts.PART_COLUMN} AS INTEGER) AS VARCHAR) END")
        else:
            part_of = sql_str(parts.ALL)
        sql = (f"SELECT * FROM (SELECT *, {part_of} AS _part FROM ({sql})) "
               f"WHERE _part IN ({', '.join(sql_str(k) for k in named)})")
    else:
        sql = f"SELECT *, '' AS _part FROM ({sql})"
    types["_part"] = "VARCHAR"
    # package uris and record links: where these files will be published (build_ocds), else where written
    cfg = dict(cfg, base_uri=cfg.get("base_uri") or folder.resolve().as_uri() + "/")
    now = _dt.datetime.now(_dt.timezone.utc).replace(microsecond=0).isoformat().replace("+00:00", "Z")
    common = {"uri": cfg["base_uri"], "version": "1.1", "publishedDate": now, "publisher": cfg["publisher"],
              "license": cfg["license"]}
    release_json = release_json_sql(cfg)
    suffix = package_suffix(cfg)
    with tempfile.TemporaryDirectory(prefix="gongkai-ocds-") as tmp:
        flat_path = Path(tmp) / "flat.parquet"
        # in (_part, FLAT_ORDER) order: the source rows sorted, then made flat (ocds_sql.source_order)
        flat_rows = flat_sql(f"SELECT * FROM ({sql}) ORDER BY {source_order(types)}", types, cfg)
        con.execute(f"COPY ({flat_rows}) TO '{_sql_path(flat_path)}' (FORMAT parquet, ROW_GROUP_SIZE {FLAT_ROW_GROUP})")
        # a part's rows are contiguous in the file: (first row, rows) of each part
        spans = {}
        for k, first, n, last in con.execute(
                f"SELECT _part, min(file_row_number), count(*), max(file_row_number) "
                f"FROM read_parquet('{_sql_path(flat_path)}', file_row_number = true) GROUP BY _part").fetchall():
            if last - first + 1 != n:  # the pipeline's own invariant: the file is sorted by part first
                raise ValueError(f"OCDS part {k!r}: rows {first}…{last} of the flat file are not its {n} rows")
            spans[k] = (int(first), int(n))
        jobs: list[PackageJob] = []
        for key in keys:
            part_cfg = dict(cfg, part=key) if key is not None else cfg
            first, n = spans.get(key or "", (0, 0))

            def flat(lo: int | None = None, hi: int | None = None, first: int = first, key: str | None = key) -> str:
                """The flat rows of the part (``seq`` from 0, its place in package order), ``lo`` … ``hi`` of them
                when given: a filter on the file's row numbers, which reads only their row groups."""
                rows = (f" AND file_row_number BETWEEN {first + lo} AND {first + hi}" if lo is not None else "")
                return (f"(SELECT file_row_number - {first} AS seq, * EXCLUDE (file_row_number) "
                        f"FROM read_parquet('{_sql_path(flat_path)}', file_row_number = true) "
                        f"WHERE _part = {sql_str(key if key is not None else '')}{rows})")
            results[key], part_jobs = _part_jobs(con, folder, part_cfg, common, flat, n, release_json, suffix)
            jobs += part_jobs
        # every file of every part built side by side (write_package_jobs), then each part's size
        contents: dict[str, str] = {}
        write_package_jobs(con, folder, jobs, suffix, checks, contents=contents)
        for result in results.values():
            result.bytes = sum((folder / f).stat().st_size for f in result.files)
            result.contents = {f: contents[f] for f in result.files}
    if not named:
        results[None].quarantined = _quarantine_counts(
            con, ocds_source_sql(con, policy, masked=False), results[None].releases)
    return results


def _part_jobs(con: duckdb.DuckDBPyConnection, folder: Path, cfg: dict, common: dict, flat: Callable[..., str],
               n_releases: int, release_json: str, suffix: str) -> tuple[OcdsResult, list[PackageJob]]:
    """The release and record package files of one part, from its flat rows (``flat(lo, hi)``: rows ``lo`` … ``hi``
    by ``seq``, from 0; ``flat()``: all), to write."""
    result = OcdsResult(path=folder)
    release_jobs = package_jobs(
        release_stem(cfg), "releases", common, n_releases, int(cfg["releases_per_package"]),
        lambda lo, hi: f"SELECT seq AS s, {release_json} AS item FROM {flat(lo, hi)}", suffix)
    # Every release package file name is known from the count, so each record package can list them.
    rec_envelope = dict(common, packages=[cfg["base_uri"] + job.name for job in release_jobs])
    per_record_file = int(cfg["records_per_package"])
    # (first seq, last seq, deals, deals whose rows are not one unbroken seq range) of each record package: deals
    # are contiguous seq ranges when the flat file is in FLAT_ORDER — the pipeline's own invariant, checked here
    # because a deal split around another would otherwise give a record built from some of its releases
    bounds = con.execute(f"""
        SELECT min(first), max(last), count(*), count(*) FILTER (WHERE last - first + 1 <> rows) FROM (
            SELECT row_number() OVER (ORDER BY min(seq)) - 1 AS n, min(seq) AS first, max(seq) AS last,
                   count(*) AS rows
            FROM {flat()} GROUP BY ocid)
        GROUP BY n // {per_record_file} ORDER BY n // {per_record_file}""").fetchall()
    if any(b[3] for b in bounds):
        raise ValueError(f"OCDS part {cfg.get('part')!r}: {sum(b[3] for b in bounds)} deals' flat rows are not "
                         "contiguous (the flat file is not in package order)")
    n_records = sum(b[2] for b in bounds)

    def records_chunk(lo: int, hi: int) -> str:
        first, last = bounds[lo // per_record_file][:2]
        return records_sql(cfg, flat(first, last), offset=lo)

    # a record package's privacy scan reads only its records' own values: its part's release packages hold the rest
    record_jobs = package_jobs("record-package" + release_stem(cfg)[15:], "records", rec_envelope,
                               n_records, per_record_file, records_chunk, suffix,
                               scanned_with=tuple(job.name for job in release_jobs))
    result.releases, result.records = n_releases, n_records
    result.files = [job.name for job in release_jobs + record_jobs]
    return result, release_jobs + record_jobs


def build_ocds(
    warehouse: Path, out_dir: Path, *, schema_setting: str | Path | None = None, fail_at: str | None = None,
    fiscal_years: set[int] | None = None, keep: int | None = None,
) -> OcdsResult:
    """Build, validate and atomically publish the OCDS packages under ``<out_dir>/ocds/<build-id>/``.

    Packages are written per fiscal year of the deal (``release-package-<year>-0001…``, ``parts.py``). A
    part whose fingerprint (its bulletins and deals as published, the mapping, the settings and code) is
    that of the current build is hard-linked from it after a checksum check and neither validated nor
    scanned again; its package ``uri`` and record links keep naming the build that wrote it, which
    retention therefore keeps. ``fiscal_years``: as ``release.build_release``.
    """
    from dagster_project.publish import parts
    from dagster_project.publish.release import load_spec, new_release_id

    from dagster_project.paths import carrying_disabled, settings

    started = time.monotonic()
    cfg = load_config()
    spec = load_spec()
    policy = MaskingPolicy.from_spec(spec.get("masking") or {})
    root = out_dir / "ocds"
    atomic.remove_stale_staging(root)
    previous_dir = atomic.current_release_dir(root)
    previous = read_validation_record(previous_dir) if previous_dir else None
    # GONGKAI_NO_CARRY=1: every part written again (what a carried build is compared with)
    previous_parts = {} if carrying_disabled() else (previous or {}).get("parts") or {}
    # the digests of published package files by their status (parts.record_digests): this build's record, and the
    # release's, which linked the same inodes later (a carried file is then checked by a stat, not read again)
    known = (parts.read_digests(root), parts.read_digests(out_dir / "open-data"))
    build_id = new_release_id()
    staging = atomic.new_staging_dir(root, build_id)
    # links name the folder the packages are promoted to, <out>/ocds/<build-id>/, under the base URI
    # (GONGKAI_OCDS_BASE_URI; by default the file: URI of <out>/ocds/, so they resolve to these files)
    cfg["base_uri"] = settings().ocds_base(out_dir.resolve()) + build_id + "/"
    salt = parts.code_fingerprint(cfg["ocid_prefix"], settings().ocds_base(out_dir.resolve()),
                                  parts.spec_digest(dict(cfg, base_uri=None)), parts.spec_digest(spec.get("masking")),
                                  schema_setting=schema_setting)
    result = OcdsResult(path=staging)
    carried: dict[str, str] = {}
    parts_record: dict[str, dict] = {}
    contents: dict[str, str] = {}  # file -> content digest: written now, or as the build that wrote it recorded
    try:
        con = open_read_only(warehouse)  # DuckDB capped (duckdb_memory): its sorts and aggregates spill past it
        try:
            # over the rows as the marts hold them: carried years are never masked
            source = ocds_source_sql(con, policy, masked=False)
            fingerprints: dict[str, str] = {}
            if source is not None:
                columns = [c for c, _ in describe(con, f"({source})")]
                yearly = parts.PART_COLUMN in columns
                fingerprints = parts.part_fingerprints(con, f"({source})", columns, yearly, salt)
            requested = None if fiscal_years is None else {str(int(y)) for y in fiscal_years}
            keys = set(fingerprints)
            if requested is not None:
                keys |= {k for k in previous_parts if k not in requested and k not in (parts.ALL, parts.UNKNOWN)}
            to_build: dict[str, str | None] = {}  # part -> why it is built again (None: new or changed)
            for key in sorted(keys):
                before = previous_parts.get(key)
                in_scope = requested is None or key in requested or key in (parts.ALL, parts.UNKNOWN)
                reason = None
                if before and (not in_scope or before.get("fingerprint") == fingerprints.get(key)):
                    reason = _carry_part(previous_dir, previous, before, staging, carried, known)
                    if reason is None:
                        parts_record[key] = dict(before, status="carried")
                        contents.update((name, ((previous.get("files") or {}).get(name) or {}).get("content_sha256"))
                                        for name in before.get("files") or [])
                        result.releases += before.get("releases", 0)
                        result.records += before.get("records", 0)
                        continue
                if key in fingerprints:
                    to_build[key] = reason
            # every part built in this build from one masked read (write_ocds_parts), carried ones not read;
            # each file checked (validation and privacy scan) on the text it is written from, as it is written
            checks = PackageChecks(cfg, schema_setting)
            built = write_ocds_parts(con, staging, cfg, policy, sorted(to_build), checks) if to_build else {}
            for key, reason in sorted(to_build.items()):
                part = built[key]
                contents.update(part.contents)
                result.releases += part.releases
                result.records += part.records
                parts_record[key] = {"status": "new", "built_in": build_id, "fingerprint": fingerprints[key],
                                     "files": part.files, "releases": part.releases, "records": part.records,
                                     **({"rebuilt_because": reason} if reason else {})}
            if source is not None:  # a count: the rows as the marts hold them count the same as masked
                result.quarantined = _quarantine_counts(con, source, result.releases)
        finally:
            con.close()
        result.files = sorted(p.name for p in package_files(staging))
        result.bytes = sum((staging / f).stat().st_size for f in result.files)
        problems, privacy = checks.problems, checks.privacy
        privacy.files_carried_over = len(carried)
        privacy.bytes_scanned = sum((staging / f).stat().st_size for f in result.files if f not in carried)
        if problems:
            raise ValueError(f"OCDS 校验失败 OCDS packages invalid: {problems[:10]}")
        others = scan_tree(staging, policy.identifier_columns,  # any other file of the folder (none today)
                           skip=frozenset(carried) | {p.name for p in package_files(staging)})
        privacy.files_scanned += others.files_scanned
        privacy.bytes_scanned += others.bytes_scanned
        privacy.hits += others.hits
        if not privacy.clean:
            raise ValueError(f"隐私扫描发现个人信息 OCDS privacy scan found personal data: "
                             f"{[str(h) for h in privacy.hits[:10]]}")
        record = write_validation_record(staging, build_id, privacy.summary(), result.quarantined, carried,
                                         parts_record, {k: v for k, v in contents.items() if v})
        if fail_at == "after_validation":
            raise atomic.InjectedFailure("injected failure at after_validation")
        result.validation = "valid"
        result.parts = parts_record
        result.path = atomic.promote(staging, root, build_id)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    # a carried part's links name the build that wrote it: that build stays while a kept build uses it
    protect = {p.get("built_in") for p in parts_record.values() if p.get("built_in")}
    protect |= parts.ocds_builds_named(out_dir / "open-data")  # and every build a kept release's packages name
    parts.prune_releases(root, keep or parts.keep_releases(spec["release"].get("keep_releases")), protect)
    try:  # after pruning (it changes the status of files shared with pruned builds): every file's digest by its status,
        # read from its bytes by this build (a new file) or verified (a carried one), for the release that includes
        # these files and the next build that carries them (neither reads them again while their status holds)
        parts.record_digests(root, result.path, {name: f["sha256"] for name, f in record["files"].items()})
    except OSError:
        pass  # only a saving: they are read
    result.seconds = round(time.monotonic() - started, 2)
    return result


def _carry_part(previous_dir: Path, previous: dict, before: dict, staging: Path, carried: dict[str, str],
                known: tuple[dict[str, list], ...] = ()) -> str | None:
    """Hard-link one part's package files from the previous build after checking them against its
    validation record; None when carried, else why not (the part is then built again). ``known``: digests by file
    status (``parts.read_digests``): a file whose status is the one recorded when its bytes were read is not read."""
    from dagster_project.publish import parts
    from dagster_project.publish.release_validation import sha256_file

    files = before.get("files") or []
    digests = {}
    for name in files:
        listed = ((previous.get("files") or {}).get(name) or {}).get("sha256")
        path = previous_dir / name
        if not listed or not path.is_file():
            return f"{name} 缺失 missing from OCDS build {previous.get('build_id')}"
        digests[name] = parts.digest_by_status(path, *known) or sha256_file(path)
        if digests[name] != listed:
            return f"{name} 校验和不符 checksum mismatch in OCDS build {previous.get('build_id')}"
    for name in files:
        parts.link_or_copy(previous_dir / name, staging / name)
    carried.update(digests)
    return None
