"""Publication by fiscal year: which part of a dataset a row belongs to, when a part is unchanged, and
carrying unchanged parts from the previous release into the new one.

A dataset with a ``fiscal_year`` column is published as one part per fiscal year (``2018``), plus a
part ``unknown`` for rows without a year; a dataset without one is one part ``all``. A part's
**fingerprint** hashes what decides its bytes: the mart rows that feed it (count and an
order-independent sum of row hashes, computed in DuckDB over the published columns before masking),
the dataset's entry in ``datasets.yaml`` and the publishing code and settings (``code_fingerprint``).
A part whose fingerprint equals the previous release's is **carried**: its files are hard-linked
(copied across file systems) into the new release after their bytes are checked against the previous
release's ``SHA256SUMS``; they are not rewritten, re-validated or re-privacy-scanned, since the same
bytes were validated when built. A carried file that fails that checksum is not carried: its part is
rebuilt, and the manifest says why.

Checking a carried file against ``SHA256SUMS`` does not read it again when its bytes were read at the
previous publication and its file status says it has not changed since: ``record_digests`` keeps, beside
the releases (``DIGEST_CACHE``), each published file's digest with its inode, size, modification and change
time (``st_ctime`` changes with every write and every metadata change, and no program can set it back), so
a carried part costs a ``stat``, not a read of every byte of the history. A file whose status differs (a
write, a touch, a copy, a restore) is read and hashed as before; ``GONGKAI_VERIFY_CARRIED=full`` reads every
carried file whatever its status.
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from dagster_project.file_status import identity, status, verify_everything
from dagster_project.publish.masking import quote_ident

PART_COLUMN = "fiscal_year"
DIGEST_CACHE = ".published-digests.json"  # in <out>/open-data, beside LATEST (record_digests)
REKEYED = ".current-part-fingerprints.json"  # beside LATEST: the current release's parts keyed by newer code
ALL = "all"          # the one part of a dataset without fiscal_year
UNKNOWN = "unknown"  # rows of a yearly dataset whose year is not known


def part_key(year: int | None, yearly: bool) -> str:
    if not yearly:
        return ALL
    return UNKNOWN if year is None else str(int(year))


def part_filter(key: str, column: str = PART_COLUMN) -> str:
    """SQL condition selecting the rows of a part (of a relation with ``fiscal_year``, or the ``column`` holding it)."""
    col = quote_ident(column)
    if key == ALL:
        return "true"
    if key == UNKNOWN:
        return f"{col} IS NULL"
    return f"{col} = {int(key)}"


def part_stem(dataset: str, key: str) -> str:
    """Files of a part: ``data/<dataset>/<dataset>-<key>.{csv,parquet,xlsx}``; resource ``<dataset>_<key>``."""
    return f"data/{dataset}/{dataset}-{key}"


def resource_name(dataset: str, key: str) -> str:
    return f"{dataset}_{key}"


def code_fingerprint(*extra: str, schema_setting=None) -> str:
    """The publishing code and its settings: a change to either rebuilds every part. The code is ``publish/`` by its
    bytes and every module publishing imports outside it (``inputs.publishing_modules_digest``: the masking, the
    privacy scan's definition of a personal number …), so a masking fix is never carried past; and the data files it
    reads outside ``publish/`` (``inputs.publish_data_files``: the rule catalogue, the OCDS schema in use —
    ``schema_setting``, the run's ``ocds_schema_dir``, when given)."""
    from dagster_project import stage_state
    from dagster_project.paths import REPO_ROOT
    from dagster_project.publish.inputs import publish_data_digest, publishing_modules_digest

    code = stage_state.tree_digest([REPO_ROOT / "dagster_project" / "publish"], suffixes=(".py", ".yaml", ".yml"))
    return stage_state.fingerprint(code, publishing_modules_digest(), publish_data_digest(schema_setting), *extra)


def part_fingerprints(con: duckdb.DuckDBPyConnection, relation_sql: str, columns: list[str], yearly: bool,
                      salt: str) -> dict[str, str]:
    """Fingerprint of every part of a relation: rows, sum and xor of row hashes, per fiscal year."""
    row_hash = "hash(" + ", ".join(quote_ident(c) for c in columns) + ")"
    group = quote_ident(PART_COLUMN) if yearly else "NULL"
    rows = con.execute(
        f"SELECT {group} AS y, count(*), CAST(sum(CAST({row_hash} AS HUGEINT)) AS VARCHAR), "
        f"CAST(bit_xor({row_hash}) AS VARCHAR) FROM {relation_sql} AS src GROUP BY ALL"
    ).fetchall()
    out = {}
    for year, n, total, xor in rows:
        out[part_key(year, yearly)] = hashlib.sha256(f"{salt}\n{n}\n{total}\n{xor}".encode()).hexdigest()
    return out


# ------------------------------------------------------------------------- fingerprints kept by dbt generation

MEMO_STAGE = "publish_part_fingerprints:"  # raw.stage_state, per dataset: "<key> <json of part fingerprints>"


def memo_key(state, ds: dict, salt: str, marks=None) -> str | None:
    """What a dataset's part fingerprints are kept with: the dbt generations of the relations it reads
    (``transform/generations.py``: a relation whose generation did not move was not written by any build since) and
    the salt (code, spec, the dataset's entry). ``state``: ``generations.BuildState``, read once per release, so
    every dataset is decided on one answer. ``marks``: ``relation_fingerprint.StorageMarks`` of the warehouse — the
    relations' storage marks are in the key, so rows changed by hand behind the dbt asset's back (no generation moved)
    are hashed again. None — compute them — for a dataset read by SQL over other tables (the
    findings: not dbt's), without a generation for a relation, with a dbt build under way (the dbt stage forgets its
    fingerprint before it builds), or with ``GONGKAI_NO_CARRY=1``."""
    from dagster_project.paths import carrying_disabled
    from dagster_project.publish.inputs import DBT_STAGE

    if carrying_disabled() or "relation" not in ds or state.dbt_build(DBT_STAGE) is None:
        return None
    names = [ds["relation"]] + ([ds["fiscal_year_from"]["relation"]] if ds.get("fiscal_year_from") else [])
    moved = state.of(names)
    if moved is None:
        return None
    stored = "" if marks is None else marks.of_all(names)
    return hashlib.sha256(f"{moved}\n{stored}\n{salt}".encode("utf-8")).hexdigest()


def remembered_fingerprints(state, dataset: str, key: str | None) -> dict[str, str] | None:
    if key is None:
        return None
    kept, _, text = state.stages.get(MEMO_STAGE + dataset, "").partition(" ")
    try:
        return json.loads(text) if kept == key else None
    except ValueError:
        return None


def remember_fingerprints(warehouse: Path, memos: dict[str, tuple[str, dict[str, str]]]) -> None:
    """Keep computed part fingerprints with their ``memo_key`` (best effort: a warehouse open elsewhere computes them
    again next time)."""
    from dagster_project import stage_state

    if not memos:
        return
    try:
        con = duckdb.connect(str(warehouse))
    except duckdb.Error:
        return
    try:
        for dataset, (key, fingerprints) in memos.items():
            stage_state.record(con, MEMO_STAGE + dataset, f"{key} {json.dumps(fingerprints, sort_keys=True)}")
    finally:
        con.close()


def spec_digest(ds: dict) -> str:
    return hashlib.sha256(json.dumps(ds, sort_keys=True, ensure_ascii=False, default=str).encode()).hexdigest()


# ------------------------------------------------------------------------------------------ carrying

@dataclass
class PreviousRelease:
    """What the current release (``LATEST``) holds, read once: its manifest, resources and checksums."""
    release_id: str
    folder: Path
    manifest: dict
    resources: dict[str, dict]            # by path
    sha256: dict[str, str]                # by relative path (SHA256SUMS)
    checked: dict[str, str] = field(default_factory=dict)  # rel path -> digest verified in this build
    known: dict[str, list] = field(default_factory=dict)  # DIGEST_CACHE: inode -> [size, mtime, ctime, sha256]
    files_read: int = 0                   # carried files read and hashed in this build
    files_by_status: int = 0              # carried files whose unchanged status proved their recorded digest

    @classmethod
    def read(cls, root: Path, release_id: str | None) -> "PreviousRelease | None":
        if not release_id:
            return None
        folder = root / release_id
        try:
            manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
            package = json.loads((folder / "datapackage.json").read_text(encoding="utf-8"))
            sums = (folder / "SHA256SUMS").read_text(encoding="utf-8").splitlines()
        except (OSError, ValueError):
            return None
        sha = {}
        for line in sums:
            digest, _, rel = line.partition("  ")
            sha[rel] = digest
        return cls(release_id, folder, rekeyed(root, release_id, manifest),
                   {r["path"]: r for r in package.get("resources", [])}, sha, known=read_digests(root))

    def part(self, dataset: str, key: str) -> dict | None:
        return (((self.manifest.get("datasets") or {}).get(dataset) or {}).get("parts") or {}).get(key)

    def verify(self, rels: list[str]) -> str | None:
        """None when every file is present and matches the previous SHA256SUMS; else what is wrong."""
        from dagster_project.publish.release_validation import sha256_file

        for rel in rels:
            path = self.folder / rel
            if rel not in self.sha256:
                return f"{rel} 不在上一版校验和中 not listed in the previous SHA256SUMS"
            if not path.is_file():
                return f"{rel} 缺失 missing from release {self.release_id}"
            digest = self.digest_by_status(path)
            if digest is None:
                digest = sha256_file(path)
                self.files_read += 1
            else:
                self.files_by_status += 1
            if digest != self.sha256[rel]:
                return f"{rel} 校验和不符 checksum mismatch in release {self.release_id}"
            self.checked[rel] = digest
        return None


    def digest_by_status(self, path: Path) -> str | None:
        """The digest recorded for ``path`` when its bytes were last read, if its status is still the one
        recorded then (``record_digests``); None: read it."""
        return digest_by_status(path, self.known)


def remember_rekeyed(root: Path, release_id: str, code_fp: str, datasets: dict) -> None:
    """After a build skipped as identical (``build_release(skip_identical=True)``) by other publishing code than the
    one that wrote the current release: the parts it wrote — validated by this code, the same content as the current
    release's files — are this code's fingerprints of those files. Kept beside the releases (``REKEYED``) for the
    current release ``release_id``, so the next build by this code carries them instead of rebuilding every part at
    every run (the current release's manifest is never rewritten: its SHA256SUMS list it)."""
    doc = {"release_id": release_id, "publishing_code": code_fp,
           "parts": {name: {key: p.fingerprint for key, p in d.parts.items() if p.fingerprint}
                     for name, d in sorted(datasets.items())}}
    tmp = root / f"{REKEYED}.tmp-{os.getpid()}"
    tmp.write_text(json.dumps(doc, sort_keys=True, separators=(",", ":")), encoding="utf-8")
    os.replace(tmp, root / REKEYED)


def rekeyed(root: Path, release_id: str, manifest: dict) -> dict:
    """``manifest`` of the current release with the part fingerprints and publishing code a build skipped as
    identical recorded for it (``remember_rekeyed``); as it is when there is no such record for this release (a
    release published since, or none skipped)."""
    try:
        doc = json.loads((root / REKEYED).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return manifest
    if not isinstance(doc, dict) or doc.get("release_id") != release_id or not doc.get("publishing_code"):
        return manifest
    datasets = {}
    for name, entry in (manifest.get("datasets") or {}).items():
        fingerprints = (doc.get("parts") or {}).get(name) or {}
        published = entry.get("parts") or {}
        datasets[name] = {**entry, "parts": {key: {**part, "fingerprint": fingerprints[key]} if key in fingerprints
                                             else part for key, part in published.items()}}
    return {**manifest, "datasets": datasets, "publishing_code": doc["publishing_code"]}


def read_digests(root: Path) -> dict[str, list]:
    """``DIGEST_CACHE`` of ``root`` (empty when absent, unreadable or ``GONGKAI_VERIFY_CARRIED=full``)."""
    if verify_everything():
        return {}
    try:
        known = json.loads((root / DIGEST_CACHE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return known if isinstance(known, dict) else {}


def digest_by_status(path: Path, *caches: dict[str, list]) -> str | None:
    """The digest one of ``caches`` (``read_digests``) recorded for ``path`` when its bytes were last read, if its status
    is still the one recorded then; None: read it. Several caches: the same inode may be recorded by the OCDS build and
    by a release that linked it later (the link moved its change time), and only the later status still holds."""
    st = path.stat()
    for known in caches:
        entry = known.get(identity(st))
        if entry and entry[:3] == status(st):
            return entry[3]
    return None


def record_digests(root: Path, folder: Path, sha256: dict[str, str]) -> None:
    """After a release is published (and older ones pruned, which changes the change time of files they shared
    with it): the digest of every file of ``folder``, its ``SHA256SUMS`` lines (``sha256``: each file read and
    verified by this build, or a carried file checked), by inode with its status now."""
    entries = {}
    for rel, digest in sha256.items():
        try:
            st = (folder / rel).stat()
        except OSError:
            continue
        entries[identity(st)] = [*status(st), digest]
    tmp = root / f"{DIGEST_CACHE}.tmp-{os.getpid()}"
    tmp.write_text(json.dumps(entries, separators=(",", ":")), encoding="utf-8")
    os.replace(tmp, root / DIGEST_CACHE)


def link_or_copy(source: Path, target: Path) -> str:
    """Hard link (the same bytes, no rewrite); a copy when the two are on different file systems."""
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.link(source, target)
        return "hardlink"
    except OSError:
        shutil.copy2(source, target)
        return "copy"


# ----------------------------------------------------------------------------------------- retention

DEFAULT_KEEP_RELEASES = 5
KEEP_ENV = "GONGKAI_RELEASE_KEEP"


def keep_releases(spec_value: int | None = None) -> int:
    """How many releases to keep: ``GONGKAI_RELEASE_KEEP``, else ``release.keep_releases`` of datasets.yaml,
    else 5. At least 1 (the current release is never pruned)."""
    text = os.environ.get(KEEP_ENV, "").strip()
    value = int(text) if text else (spec_value if spec_value is not None else DEFAULT_KEEP_RELEASES)
    if value < 1:
        raise ValueError(f"{KEEP_ENV} / release.keep_releases must be at least 1, not {value}")
    return value


def ocds_builds_named(open_data_root: Path) -> set[str]:
    """The OCDS builds whose folders the kept open-data releases' packages name (their envelope ``uri``, a record's
    release links): a release links the packages of the OCDS build current when it was published, and a release
    skipped as identical keeps them while later OCDS builds come and go (a publishing-code change rebuilds every part
    with the same content), so the OCDS retention must keep them while such a release is kept — else the public
    download's links break. Read from each release's ``manifest.json`` (``ocds_parts.<year>.built_in``), or, for a
    release written before it recorded them, from each package's envelope ``uri``."""
    import gzip
    import re

    named: set[str] = set()
    if not open_data_root.is_dir():
        return named
    from dagster_project.publish import atomic

    for folder in open_data_root.iterdir():
        if not folder.is_dir() or folder.name.startswith((".", atomic.STAGING_PREFIX)):
            continue
        try:
            manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        built = {p.get("built_in") for p in (manifest.get("ocds_parts") or {}).values() if isinstance(p, dict)}
        named |= {b for b in built if b}
        if built or not manifest.get("ocds"):
            continue
        for name in manifest["ocds"]:  # an older manifest: the folder each package's uri names
            try:
                with (gzip.open if name.endswith(".gz") else open)(folder / "ocds" / name, "rb") as fh:
                    head = fh.read(4096).decode("utf-8", "replace")
            except OSError:
                continue
            found = re.search(r'"uri":\s*"[^"]*/([^/"]+)/[^/"]+"', head)
            if found:
                named.add(found.group(1))
    return named


def prune_releases(root: Path, keep: int, protect: set[str] = frozenset()) -> list[str]:
    """Delete all but the ``keep`` newest release folders under ``root`` (ids sort by time); never the one
    ``LATEST`` names, nor ``protect``. Hard links keep the bytes that newer releases share."""
    from dagster_project.publish import atomic

    current = atomic.read_pointer(root)
    releases = sorted(p.name for p in root.iterdir()
                      if p.is_dir() and not p.name.startswith((".", atomic.STAGING_PREFIX)))
    if current in releases:  # newest first, the current one always among the kept
        releases.remove(current)
        releases.append(current)
    kept = set(releases[-keep:]) | {current} | set(protect)
    removed = []
    for name in releases:
        if name not in kept:
            shutil.rmtree(root / name, ignore_errors=True)
            removed.append(name)
    return removed
