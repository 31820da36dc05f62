"""The open-data release: every dataset as CSV (UTF-8 with BOM) + Parquet, described and checksummed.

``build_release`` decides what the release holds — for every dataset, each fiscal-year part written anew
(``release_datasets.py``) or carried from the previous release (``parts.py``), the code lists, the Excel copies
and the OCDS packages — describes it (``release_metadata.py``: datapackage.json, manifest.json, dcat.jsonld,
SHA256SUMS), validates it (``release_validation.py``) in a staging folder beside ``<out>/open-data``, and only
then renames it into place and flips ``LATEST`` (``atomic.py``).

Release folder::

    data/<dataset>/<dataset>-<part>.{csv,parquet,xlsx}   the parts of each dataset in datasets.yaml
    code_lists/<name>.{csv,xlsx}                          vocabularies the foreign keys point at
    ocds/…                                                the OCDS release and record packages (if built)
    datapackage.json  manifest.json  dcat.jsonld  SHA256SUMS
"""
from __future__ import annotations

import datetime as _dt
import json
import os
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb
import yaml

from dagster_project.paths import DBT_SEEDS_DIR, carrying_disabled
from dagster_project.publish import atomic, parts, release_metadata
from dagster_project.publish.masking import MaskingPolicy
from dagster_project.publish.ocds_config import package_files
from dagster_project.publish.ocds_validation import read_validation_record, validate_ocds_folder
from dagster_project.publish.release_datasets import (
    BOM, DatasetOutput, PartOutput, sql_path, with_fiscal_year, write_code_lists, write_dataset_parts,
    write_excel_copies,
)
from dagster_project.publish.release_validation import (
    ReleaseValidationError, listed_sha256, validate_release, write_sha256sums,
)
from dagster_project.publish.warehouse import describe, find_relation, open_read_only
from dagster_project.relation_fingerprint import StorageMarks

if TYPE_CHECKING:  # the dbt stage's modules import dagster-dbt: only when a build state is read
    from dagster_project.transform.generations import BuildState

SPEC_PATH = Path(__file__).with_name("datasets.yaml")
RULE_CATALOGUE_CSV = DBT_SEEDS_DIR / "ref_rule_catalogue.csv"
# Stages at which a failure can be injected (tests and drills).
STAGES = ("after_data", "after_metadata", "after_validation", "before_pointer")

__all__ = ["BOM", "RULE_CATALOGUE_CSV", "STAGES", "ReleaseResult", "build_release", "load_spec", "new_release_id"]


@dataclass
class ReleaseResult:
    release_id: str
    path: Path
    datasets: dict[str, DatasetOutput] = field(default_factory=dict)
    skipped: list[str] = field(default_factory=list)
    validation: dict[str, str] = field(default_factory=dict)
    total_bytes: int = 0
    seconds: float = 0.0
    pruned: list[str] = field(default_factory=list)
    # the content was the current release's (release_metadata.content_digest): nothing published, LATEST stays and
    # release_id/path are the current release's
    unchanged: bool = False

    def parts_with(self, status: str) -> list[str]:
        return [f"{n}/{k}" for n, d in self.datasets.items() for k, p in d.parts.items() if p.status == status]


# libyaml's safe loader when PyYAML was built with it: the same document, ~10x faster than the pure-Python one
# (datasets.yaml took ~0.4 s of a small release to parse)
_SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def load_spec(path: Path = SPEC_PATH) -> dict:
    with open(path, encoding="utf-8") as fh:
        return yaml.load(fh, Loader=_SAFE_LOADER)  # noqa: S506 (a safe loader)


def new_release_id(now: _dt.datetime | None = None) -> str:
    now = now or _dt.datetime.now(_dt.timezone.utc)
    return now.strftime("%Y%m%dT%H%M%S") + f"{now.microsecond // 1000:03d}Z"



def _pause_or_fail(stage: str, fail_at: str | None, pause_file: Path | None, pause_at: str | None) -> None:
    if pause_at == stage and pause_file is not None:
        pause_file.write_text(stage, encoding="utf-8")  # tells a watching test where we are
        time.sleep(3600)
    if fail_at == stage:
        raise atomic.InjectedFailure(f"injected failure at {stage}")


def build_release(
    warehouse: Path,
    out_dir: Path,
    *,
    run_id: str | None = None,
    release_id: str | None = None,
    ocds_dir: Path | None = None,
    spec: dict | None = None,
    fail_at: str | None = None,
    pause_at: str | None = None,
    pause_file: Path | None = None,
    ocds_schema_dir: str | Path | None = None,
    fiscal_years: set[int] | None = None,
    keep: int | None = None,
    skip_identical: bool = False,
) -> ReleaseResult:
    """Build, validate and atomically publish a release under ``<out_dir>/open-data``.

    Datasets are published by fiscal year (``parts.py``). ``fiscal_years``: None = every year, each part
    rebuilt only when its fingerprint changed (else carried from the previous release); a set = those
    years' parts decided the same way, every other year's part carried from the previous release as it is
    (``unknown`` and ``all`` parts are decided by fingerprint in both cases). ``keep``: releases kept after
    publication (default ``parts.keep_releases``); older ones are pruned.
    ``skip_identical``: when the content is the current release's (``release_metadata.content_digest``: the same
    files, descriptions and sources — a re-read of unchanged files by changed readers that changed no figure), publish
    nothing: the staging folder is dropped before validation and ``result.unchanged`` is set. When other publishing code
    wrote the current release (``manifest.json`` ``publishing_code``), the staging folder is validated first and the
    parts' fingerprints by this code are kept for the current release (``parts.remember_rekeyed``): the next build by
    this code carries them.
    ``ocds_dir``: a folder of validated OCDS packages to include (hard-linked when possible).
    ``fail_at`` / ``pause_at``: one of ``STAGES``, to prove a failure or kill there changes nothing.
    ``ocds_schema_dir``: the OCDS schema folder setting (see ``ocds_validation.schema_dir``).
    """
    started = time.monotonic()
    spec = spec or load_spec()
    root = out_dir / "open-data"
    root.mkdir(parents=True, exist_ok=True)
    atomic.remove_stale_staging(root)
    release_id = release_id or new_release_id()
    staging = atomic.new_staging_dir(root, release_id)
    result = ReleaseResult(release_id=release_id, path=root / release_id)
    try:
        policy = MaskingPolicy.from_spec(spec.get("masking") or {})
        titles = spec.get("field_titles") or {}
        value_maps = spec.get("value_maps") or {}
        resources: list[dict] = []
        new_resources: list[dict] = []  # written in this release: validated, scanned, given workbooks
        written: list[dict] = []
        carried: dict[str, str] = {}  # files of carried parts -> verified digest
        xlsx_skipped: dict[str, str] = {}
        previous = parts.PreviousRelease.read(root, atomic.read_pointer(root))
        code_fp = parts.code_fingerprint(schema_setting=ocds_schema_dir)  # the schema it validates OCDS against
        spec_fp = parts.spec_digest(spec)  # the spec as given (a caller may pass one that is not the file)
        from dagster_project.transform import generations

        con = open_read_only(warehouse)
        build_state = generations.BuildState.read(con)  # the dbt build state, once for every dataset
        marks = StorageMarks(con)  # what DuckDB stores for each relation: a change by hand moves it
        content_parts: dict[str, dict[str, str]] = {}  # datasets whose bookkeeping columns are no content (below)
        memos: dict[str, tuple[str, dict[str, str]]] = {}  # part fingerprints to keep by dbt generation
        try:
            for ds in spec["datasets"]:
                relation_sql = _dataset_relation(con, ds, warehouse)
                if relation_sql is None:
                    result.skipped.append(ds["name"])
                    continue
                relation_sql = with_fiscal_year(con, ds, relation_sql)
                out = DatasetOutput(ds["name"])
                result.datasets[ds["name"]] = out
                for res, is_new in _publish_parts(con, ds, relation_sql, staging, policy, value_maps, titles, out,
                                                  previous, fiscal_years, code_fp, carried, xlsx_skipped,
                                                  release_id, spec_fp, memos, build_state, marks):
                    resources.append(res)
                    if is_new:
                        new_resources.append(res)
                if ds.get("content_ignores"):
                    content_parts[ds["name"]] = _content_of_parts(con, ds, relation_sql, out, carried)
                written.append(ds)
            code_lists = write_code_lists(con, spec, staging, written)
            resources += code_lists
            carried_lists = _carry_code_lists(code_lists, staging, previous, code_fp, carried)
            xlsx_resources, new_skipped = write_excel_copies(
                con, staging, new_resources + [r for r in code_lists if r["path"] not in carried],
                int(spec["release"].get("xlsx_max_rows", 200_000)))
            xlsx_skipped.update(new_skipped)
            # in the order of their CSVs, carried or written (the same descriptor as a build that wrote them all)
            xlsx_of = {r["path"]: r for r in xlsx_resources + carried_lists}
            resources += [xlsx_of[r["path"][:-4] + ".xlsx"] for r in new_resources + code_lists
                          if r.get("format") == "csv" and r["path"][:-4] + ".xlsx" in xlsx_of]
            for d in result.datasets.values():  # the workbooks just written belong to their parts
                for part in d.parts.values():
                    xlsx = part.files["csv"][:-4] + ".xlsx"
                    if part.status == "new" and part.files["csv"] not in xlsx_skipped:
                        part.files["xlsx"] = xlsx
            sources = release_metadata.source_files(con)
        finally:
            con.close()
        parts.remember_fingerprints(warehouse, memos)  # about the warehouse, true whether or not this is published
        _pause_or_fail("after_data", fail_at, pause_file, pause_at)

        ocds_digests: dict[str, str] = {}  # OCDS files whose unchanged status proves their recorded digest
        resources += _include_ocds(ocds_dir, staging, previous, ocds_digests)
        ocds_record = read_validation_record(ocds_dir) if ocds_dir is not None and (staging / "ocds").exists() \
            else None
        hashes = release_metadata.add_hash_and_bytes(staging, resources, {**ocds_digests, **carried})
        now = _dt.datetime.now(_dt.timezone.utc).replace(microsecond=0).isoformat().replace("+00:00", "Z")
        years = [y for d in result.datasets.values() for y in (d.year_from, d.year_to) if y is not None]
        coverage = (min(years), max(years)) if years else (None, None)
        issued = (previous.manifest.get("issued") if previous else None) or now
        package = release_metadata.datapackage(spec, release_id, now, resources, coverage)
        (staging / "datapackage.json").write_text(json.dumps(package, ensure_ascii=False, indent=2), encoding="utf-8")
        manifest = release_metadata.manifest(
            release_id=release_id, run_id=run_id, issued=issued, now=now, coverage=coverage,
            fiscal_years=fiscal_years, previous_release=previous.release_id if previous else None,
            parts_new=result.parts_with("new"), parts_carried=result.parts_with("carried"),
            datasets=result.datasets, skipped=result.skipped, xlsx_skipped=xlsx_skipped,
            ocds_quarantine=(ocds_record or {}).get("quarantined"),
            ocds_files=sorted(p.name for p in (staging / "ocds").iterdir()) if (staging / "ocds").exists() else [],
            ocds_record=ocds_record, sources=sources)
        manifest["publishing_code"] = code_fp  # what wrote the files (a later release carries code lists by it)
        manifest["content_digest"] = release_metadata.content_digest(package, manifest, release_id, now, content_parts,
                                                                     _ocds_contents(ocds_record, resources))
        damaged = None
        identical = skip_identical and previous is not None \
            and previous.manifest.get("content_digest") == manifest["content_digest"]
        if identical:
            # the same content — but the current release is kept only if its own files still pass its SHA256SUMS
            damaged = _damaged_file(previous, staging, hashes)
            identical = damaged is None
        # by the same code, kept as it is — unless a part was rebuilt to find the same content (a part the record
        # kept for other code: a partial-year build carries the years it leaves alone with their old fingerprints)
        if identical and previous.manifest.get("publishing_code") == code_fp and not new_resources:
            return _kept_current(result, previous, staging, started)
        (staging / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False, indent=2, default=str),
                                               encoding="utf-8")
        (staging / "dcat.jsonld").write_text(
            json.dumps(release_metadata.dcat(spec, release_id, issued, now, resources, coverage),
                       ensure_ascii=False, indent=2),
            encoding="utf-8")
        write_sha256sums(staging, hashes)
        _pause_or_fail("after_metadata", fail_at, pause_file, pause_at)

        total_rows = max((p.rows for d in result.datasets.values() for p in d.parts.values() if p.status == "new"),
                         default=0)
        result.validation = validate_release(staging, total_rows,
                                             lambda folder: validate_ocds_folder(folder, ocds_schema_dir),
                                             policy.identifier_columns,
                                             read_validation_record(ocds_dir) if ocds_dir else None,
                                             carried, ocds_digests)
        if (previous is not None and previous.files_by_status) or ocds_digests:
            by_status, read_again = (previous.files_by_status, previous.files_read) if previous is not None else (0, 0)
            result.validation["checksums_by_status"] = (
                f"{by_status} carried and {len(ocds_digests)} OCDS files checked against SHA256SUMS by the "
                "digest read when a release published them (or the OCDS build wrote or verified them), their file "
                f"status (inode, size, modification and change time) unchanged since; {read_again} carried files read "
                "again")
        if identical:
            # the same content by other publishing code, which wrote and now validated every part: the current
            # release stays, its parts keyed by this code's fingerprints from now on (else every later build by this
            # code would rebuild every part to find the same content again)
            parts.remember_rekeyed(root, previous.release_id, code_fp, result.datasets)
            return _kept_current(result, previous, staging, started)
        if damaged:
            result.validation["replaces_damaged_release"] = (
                f"内容未变但当前版本文件损坏，重新发布 same content, republished: the current release fails its "
                f"SHA256SUMS ({damaged})")
        _pause_or_fail("after_validation", fail_at, pause_file, pause_at)
        result.total_bytes = sum(p.stat().st_size for p in staging.rglob("*") if p.is_file())

        atomic.promote(staging, root, release_id, before_pointer=lambda: _pause_or_fail(
            "before_pointer", fail_at, pause_file, pause_at))
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    result.pruned = parts.prune_releases(root, keep or parts.keep_releases(spec["release"].get("keep_releases")))
    try:  # after pruning, which changes the status of files shared with pruned releases
        parts.record_digests(root, result.path, listed_sha256(result.path))
    except OSError:
        pass  # only a saving: the next release reads the files it carries
    result.seconds = round(time.monotonic() - started, 2)
    return result


def _kept_current(result: ReleaseResult, previous: "parts.PreviousRelease", staging: Path,
                  started: float) -> ReleaseResult:
    """Nothing published: the staging folder dropped, the result naming the current release (``unchanged``)."""
    shutil.rmtree(staging, ignore_errors=True)
    result.release_id, result.path, result.unchanged = previous.release_id, previous.folder, True
    result.seconds = round(time.monotonic() - started, 2)
    return result


def _publish_parts(con, ds: dict, relation_sql: str, staging: Path, policy: MaskingPolicy, value_maps: dict,
                   titles: dict, out: DatasetOutput, previous: "parts.PreviousRelease | None",
                   fiscal_years: set[int] | None, code_fp: str, carried: dict[str, str],
                   xlsx_skipped: dict[str, str], release_id: str, spec_fp: str = "",
                   memos: dict | None = None, build_state: "BuildState | None" = None,
                   marks: "StorageMarks | None" = None):
    """Write or carry every part of one dataset; yields (resource, written in this release). ``memos``: filled with
    the part fingerprints computed here that may be kept (``parts.remember_fingerprints``); ``build_state``: the
    dbt build state the release read (``generations.BuildState``; None: read here); ``marks``: the relations' storage
    marks (``relation_fingerprint.StorageMarks``; None: taken here)."""
    available = dict(describe(con, relation_sql))  # once: DuckDB plans the relation (its joins) at every describe
    yearly = parts.PART_COLUMN in available
    columns = [c for c in ds["columns"] if c in available]
    # a part's identity leaves out the dataset's bookkeeping columns (datasets.yaml ``content_ignores``: the findings'
    # ``run_id``): a year whose findings a new quality run judged the same is carried as published, naming the run
    # that first published them — as a release skipped as identical does — instead of rewritten at every run
    identity = [c for c in columns if c not in (ds.get("content_ignores") or ())]
    salt = f"{code_fp}\n{spec_fp}\n{parts.spec_digest(ds)}"
    # kept by the dbt generations of the relations read: unchanged relations are not hashed again (issue 16)
    if build_state is None:
        from dagster_project.transform import generations

        build_state = generations.BuildState.read(con)
    key = parts.memo_key(build_state, ds, salt, marks or StorageMarks(con))
    fingerprints = parts.remembered_fingerprints(build_state, ds["name"], key)
    if fingerprints is None:
        fingerprints = parts.part_fingerprints(con, relation_sql, identity, yearly, salt=salt)
        if key is not None and memos is not None:
            memos[ds["name"]] = (key, fingerprints)
    if not fingerprints:  # an empty dataset is still published: one part, its header only
        fingerprints = {parts.ALL: parts.spec_digest({"empty": ds["name"], "salt": code_fp})}
    requested = None if fiscal_years is None else {str(int(y)) for y in fiscal_years}
    keys = set(fingerprints)
    if previous is not None and requested is not None:  # years left alone keep their part, even if gone
        keys |= {k for k in ((previous.manifest.get("datasets") or {}).get(ds["name"]) or {}).get("parts", {})
                 if k not in requested and k not in (parts.ALL, parts.UNKNOWN)}
    # key -> (carried part, its resources) or (None, why a part that could have been carried is rebuilt)
    decided: dict[str, tuple[PartOutput | None, list[dict] | str | None]] = {}
    for key in sorted(keys):
        fingerprint = fingerprints.get(key, "")
        before = previous.part(ds["name"], key) if previous and not carrying_disabled() else None
        reason = None
        in_scope = requested is None or key in requested or key in (parts.ALL, parts.UNKNOWN)
        if before and (not in_scope or before.get("fingerprint") == fingerprint):
            files = list(before["files"].values())
            reason = previous.verify(files)
            if reason is None:
                for rel in files:
                    parts.link_or_copy(previous.folder / rel, staging / rel)
                    carried[rel] = previous.checked[rel]
                cov = before.get("coverage_years") or {}
                part = PartOutput(
                    key, before["rows"], dict(before["files"]), cov.get("from"), cov.get("to"),
                    before.get("fingerprint", ""), "carried", before.get("built_in") or previous.release_id,
                    before.get("quarantined", 0), content_fingerprint=before.get("content_fingerprint", ""),
                    csv_bytes=(staging / before["files"]["csv"]).stat().st_size,
                    parquet_bytes=(staging / before["files"]["parquet"]).stat().st_size)
                skipped = (previous.manifest.get("xlsx_not_written") or {}).get(before["files"]["csv"])
                if skipped:
                    xlsx_skipped[before["files"]["csv"]] = skipped
                decided[key] = (part, [dict(previous.resources[rel]) for rel in files if rel in previous.resources])
                continue
        if key not in fingerprints:
            continue  # a year outside the request whose carried copy failed its checksum: nothing to rebuild from
        decided[key] = (None, reason)
    # the parts to write, masked together (one plan of the masking expressions for all of them)
    to_build = [k for k, (part, _) in decided.items() if part is None]
    built = write_dataset_parts(con, ds, relation_sql, staging, policy, value_maps, titles, to_build) \
        if to_build else {}
    for key, (part, detail) in decided.items():  # in key order, carried and new alike
        if part is not None:
            out.parts[key] = part
            for res in detail:
                yield res, False
            continue
        reason = detail
        part, csv_res, pq_res = built[key]
        part.fingerprint, part.built_in, part.reason = fingerprints[key], release_id, reason
        out.parts[key] = part
        yield csv_res, True
        yield pq_res, True


def _content_of_parts(con, ds: dict, relation_sql: str, out: DatasetOutput, carried: dict[str, str]) -> dict[str, str]:
    """The content of the parts this release holds, without the dataset's ``content_ignores`` columns (datasets.yaml:
    the findings' ``run_id`` names the quality run that judged them — a re-judgement finding the same findings is the
    same content). A part written now is fingerprinted from the warehouse; a carried part keeps the fingerprint the
    release that wrote it recorded (``content_fingerprint`` in manifest.json), since its files are that release's and
    not what the warehouse holds now (a partial-year release carries other years as they were published). A carried
    part without one (written before it was recorded) is described by its CSV's SHA-256: never equal to a fingerprint,
    so at worst one release too many, never a stale part kept."""
    available = dict(describe(con, relation_sql))
    columns = [c for c in ds["columns"] if c in available and c not in ds["content_ignores"]]
    new = [k for k, p in out.parts.items() if p.status == "new"]
    now = parts.part_fingerprints(con, relation_sql, columns, parts.PART_COLUMN in available, salt="content") \
        if new else {}
    for key in new:
        out.parts[key].content_fingerprint = now.get(key, "empty")
    for part in out.parts.values():
        if part.status != "new" and not part.content_fingerprint:
            part.content_fingerprint = "sha256:" + carried.get(part.files["csv"], "")
    return {k: p.content_fingerprint for k, p in sorted(out.parts.items())}


def _ocds_contents(ocds_record: dict | None, resources: list[dict]) -> dict[str, str]:
    """The OCDS packages' content digests their build recorded (``ocds_packages.content_digest``: the text without the
    envelope's ``publishedDate`` and build folder), by release path — computed by the writer from the text it wrote,
    so the release reads no package. A file without one (a build before they were recorded) is compared by its hash."""
    files = (ocds_record or {}).get("files") or {}
    out = {}
    for res in resources:
        if res["path"].startswith("ocds/"):
            entry = files.get(res["path"][5:]) or {}
            # the recorded content is the listed file's only while the file is the one the build listed
            if entry.get("content_sha256") and entry.get("sha256") and res.get("hash") == "sha256:" + entry["sha256"]:
                out[res["path"]] = entry["content_sha256"]
    return out


def _damaged_file(previous: "parts.PreviousRelease", staging: Path, hashes: dict[str, str]) -> str | None:
    """What of the current release fails its SHA256SUMS (None: every listed file verified). Carried files were checked
    when carried; an OCDS package linked from the same inode was hashed for this staging; the rest (parts written
    anew, code lists, metadata) are checked now — by their recorded status, else read."""
    for rel, digest in previous.sha256.items():
        if rel in previous.checked:
            continue
        try:
            if rel in hashes and (staging / rel).samefile(previous.folder / rel):
                if hashes[rel] != digest:
                    return f"{rel} 校验和不符 checksum mismatch in release {previous.release_id}"
                continue
        except OSError:
            pass
        reason = previous.verify([rel])
        if reason is not None:
            return reason
    return None


def _carry_code_lists(code_lists: list[dict], staging: Path, previous: "parts.PreviousRelease | None", code_fp: str,
                      carried: dict[str, str]) -> list[dict]:
    """Code lists written byte for byte as the previous release's, by the same publishing code: their workbook is
    linked from it, and the CSV and workbook are carried (``carried``: not validated, scanned or written again —
    their checks are a function of these bytes, their descriptor and the code, all unchanged). Returns the
    workbooks' resources. A code list is rewritten at every build (any dataset may add a value to it): only
    what follows from its bytes is carried."""
    from dagster_project.publish.release_validation import sha256_file

    if previous is None or carrying_disabled() or previous.manifest.get("publishing_code") != code_fp:
        return []
    out = []
    for res in code_lists:
        csv_rel = res["path"]
        xlsx_rel = csv_rel[:-4] + ".xlsx"
        before = previous.resources.get(csv_rel)
        if (before is None or xlsx_rel not in previous.resources or xlsx_rel not in previous.sha256
                or {k: v for k, v in before.items() if k not in ("hash", "bytes")} != res):
            continue
        digest = sha256_file(staging / csv_rel)
        if digest != previous.sha256.get(csv_rel) or previous.verify([xlsx_rel]) is not None:
            continue
        parts.link_or_copy(previous.folder / xlsx_rel, staging / xlsx_rel)
        carried[csv_rel] = digest
        carried[xlsx_rel] = previous.checked[xlsx_rel]
        out.append(dict(previous.resources[xlsx_rel]))
    return out


def _dataset_relation(con: duckdb.DuckDBPyConnection, ds: dict, warehouse: Path) -> str | None:
    """The relation a dataset is published from (None: an optional dataset, or the findings, not there yet)."""
    if "sql" in ds:
        findings_rel = find_relation(con, "findings", schema="quality")
        if findings_rel is None:
            return None
        runs_rel = find_relation(con, "runs", schema="quality")
        # the latest run by its start time when the run log exists (run ids are not ordered)
        latest_run_sql = (f"SELECT run_id FROM {runs_rel} ORDER BY started_at DESC LIMIT 1" if runs_rel
                          else f"SELECT max(run_id) FROM {findings_rel}")
        return "(" + ds["sql"].format(
            quality_findings=findings_rel, rule_catalogue_csv=sql_path(RULE_CATALOGUE_CSV),
            latest_run_sql=latest_run_sql,
        ) + ")"
    relation_sql = find_relation(con, ds["relation"])
    if relation_sql is None and not ds.get("optional"):
        raise ReleaseValidationError(f"找不到数据表 mart {ds['relation']} not found in {warehouse}")
    return relation_sql


def _include_ocds(ocds_dir: Path | None, staging: Path, previous: "parts.PreviousRelease | None" = None,
                  digests: dict[str, str] | None = None) -> list[dict]:
    """The validated OCDS packages, hard-linked (copied across file systems) into ``ocds/``; their resources.
    ``digests``: filled with the digest of each package the previous release published whose file status is
    unchanged since (``parts.PreviousRelease.digest_by_status``, checked before linking changes it), or since the OCDS
    build recorded it (``<out>/ocds/.published-digests.json``: a file it wrote read from its bytes, one it carried
    verified) — so a package is not read again for SHA256SUMS and its check."""
    if ocds_dir is None or not ocds_dir.exists():
        return []
    built = parts.read_digests(ocds_dir.parent)
    target = staging / "ocds"
    target.mkdir()
    resources = []
    for path in package_files(ocds_dir):
        if path.is_file():
            digest = parts.digest_by_status(path, *([previous.known] if previous is not None else []), built)
            if digest is not None and digests is not None:
                digests[f"ocds/{path.name}"] = digest
            try:
                os.link(path, target / path.name)
            except OSError:
                shutil.copy2(path, target / path.name)
            gzipped = path.name.endswith(".gz")
            resources.append({
                "name": "ocds_" + path.name.split(".")[0].replace("-", "_"), "path": f"ocds/{path.name}",
                "type": "file", "scheme": "file", "format": "json",
                "mediatype": "application/gzip" if gzipped else "application/json",
                **({"compression": "gz"} if gzipped else {}),
                "title": "OCDS 1.1.5 开放合同数据 Open Contracting Data Standard package",
            })
    return resources
