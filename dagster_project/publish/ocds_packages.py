"""OCDS package files: the envelope, the items built by DuckDB into a table per file, the checks made on that
table (``PackageChecks``: structure, sampled schema validation, privacy scan of the text), and the file written
from it — gzipped or not — one item per line. Files are built side by side, each by a worker on its own DuckDB
cursor (``write_package_jobs``). What goes into the items is ``ocds.py``'s and ``ocds_sql.py``'s business.
"""
from __future__ import annotations

import json
import os
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import duckdb

from dagster_project.duckdb_memory import retried_at_ceiling
from dagster_project.publish.ocds_validation import check_package_items, validators
from dagster_project.publish.privacy_scan import PrivacyReport, json_run_cache, scan_json_lines


def _package_head(envelope: dict, name: str, list_key: str) -> str:
    env = dict(envelope, uri=envelope["uri"] + name)
    return json.dumps(env, ensure_ascii=False)[:-1] + f', "{list_key}": ['


# gzip of the package files by ISA-L's deflate (python-isal, the same gzip format) at its level 2: 0.10 CPU-s for
# 177 MB of releases, 1/13.2 of the text, where zlib level 3 took 0.48 CPU-s for 1/14.6.
GZIP_LEVEL = 2


class PackageChecks:
    """The checks ``build_ocds`` makes on every package file it writes, on the very text the file is written
    from (the temp table of its items, ``write_package_jobs``): the structural checks of every item, the privacy
    scan (both in DuckDB) and the schema validation (Python), by the worker that builds the file.

    ``check`` may run in several workers at once, each on its own DuckDB cursor: it returns what it found and the
    caller adds it (``add``) in file order, so the problems and hits are listed the same whatever the timing."""

    def __init__(self, cfg: dict, schema_setting: str | Path | None = None):
        self.cfg = cfg
        self.validators = validators(schema_setting)
        self.problems: list[str] = []
        self.privacy = PrivacyReport()
        # the runs the scan confirmed in this build, per cursor (privacy_scan.json_run_cache: a temp table of it)
        self._known_runs: dict[int, str] = {}
        self._lock = threading.Lock()
        self._scanned_whole: set[str] = set()  # files whose every line was scanned
        self._scanned_with: dict[str, tuple[str, ...]] = {}  # record package -> its part's release packages

    def check(self, con: duckdb.DuckDBPyConnection, name: str, head: str, items: str,
              scanned_with: tuple[str, ...] = ()) -> "FileChecks":
        """Check package ``name`` (envelope line ``head``, items in table ``items``: ``n`` from 1, ``item``): the
        structural checks and the privacy scan now; ``FileChecks.schema_check`` is its schema validation, to run.

        ``scanned_with``: a record package's, the release packages of its part, which these checks must scan whole in
        this build (``settle``): then only the envelope line and the records' own values (``items``' column
        ``own_text``, ``ocds_sql.RECORD_OWN_TEXT``) are scanned here, every other value of a record being one those
        releases hold under a key of the same role. A hit among them is reported against the release package."""
        parsed: list[bool] = []
        problems, schema_check = check_package_items(
            con, name, head, f"SELECT n, item FROM {items}", self.validators, self.cfg, parsed=parsed)
        with self._lock:
            known = self._known_runs.get(id(con))
        if known is None:
            known = json_run_cache(con)
            with self._lock:
                self._known_runs[id(con)] = known
        envelope_json = _is_json(head + "]}")
        # the own values are JSON by construction, but not parsed by the checks: tested where the scan needs it
        text, every_line_json = ("own_text", False) if scanned_with else ("item", all(parsed) and envelope_json)
        hits = scan_json_lines(
            con, f"SELECT 0 AS n, {sql_str(head)} AS line UNION ALL SELECT n, {text} FROM {items}", name,
            known_runs=known, every_line_json=every_line_json)
        return FileChecks(problems, hits, schema_check, name, scanned_with)

    def add(self, found: "FileChecks") -> None:
        """What ``check`` found in one file (its schema validation run), added to the build's problems and scan."""
        self.problems += found.problems
        self.privacy.files_scanned += 1
        self.privacy.hits += found.hits
        if found.scanned_with:
            self._scanned_with[found.name] = found.scanned_with
        else:
            self._scanned_whole.add(found.name)

    def settle(self) -> None:
        """Every file added: a record package whose part's release packages were not all scanned whole by these
        checks is a problem (its scan read only its own values), so the build fails rather than publish it."""
        for name, releases in sorted(self._scanned_with.items()):
            missing = [r for r in releases if r not in self._scanned_whole]
            if missing or not releases:
                self.problems.append(f"{name}: privacy scan incomplete: its part's release packages {missing} "
                                     "were not scanned in this build")

    def forget(self, con: duckdb.DuckDBPyConnection) -> None:
        """``con`` (a worker's cursor) is closed: its run cache went with it."""
        with self._lock:
            self._known_runs.pop(id(con), None)


@dataclass
class FileChecks:
    problems: list[str]
    hits: list
    schema_check: Callable[[], list[str]]
    name: str = ""
    scanned_with: tuple[str, ...] = ()


def _is_json(text: str) -> bool:
    try:
        json.loads(text)
    except ValueError:
        return False
    return True


def _string_values(chunk) -> memoryview:
    """The text of a chunk of an Arrow string column, its values one after another (no copy)."""
    import numpy as np
    import pyarrow as pa

    if pa.types.is_string_view(chunk.type):
        chunk = chunk.cast(pa.string())
    width = 8 if pa.types.is_large_string(chunk.type) else 4
    offsets = np.frombuffer(chunk.buffers()[1], dtype=np.int64 if width == 8 else np.int32, count=len(chunk) + 1,
                            offset=chunk.offset * width)
    return memoryview(chunk.buffers()[2])[int(offsets[0]):int(offsets[-1])]


# what stands for the build folder in a package's content (content_digest)
BUILD_MARK = "<build>"


def content_digest(head: str, text: bytes, start: int, base_uri: str) -> str:
    """A package file's content: its text without what names the build that wrote it — the envelope's
    ``publishedDate`` (the build's time) and the build folder in the links (``base_uri`` = the OCDS base + the build
    id: the envelope's ``uri`` and ``packages``, a record's release ``url``s), replaced by ``BUILD_MARK``. Two builds of
    the same releases and records have one content (a re-read by changed readers that moved no figure); any other
    change to the text is another (release_metadata.content_digest compares a release's packages by it). ``head``: the
    envelope line; ``text[start:]``: the rest of the file's text."""
    import hashlib

    envelope = json.loads(head + "]}")
    envelope.pop("publishedDate", None)
    said = json.dumps(envelope, ensure_ascii=False, sort_keys=True)
    base = base_uri.encode("utf-8")
    neutral = (base_uri.rstrip("/").rsplit("/", 1)[0] + "/" + BUILD_MARK + "/") if base_uri else ""
    digest = hashlib.sha256((said.replace(base_uri, neutral) if base_uri else said).encode("utf-8") + b"\n")
    if base and text.find(base, start) >= 0:  # a record package's release links: the text with the build replaced
        mark = neutral.encode("utf-8")
        if b"\n" in base or text[start - 1:start] != b"\n":  # no line end to tell the envelope from the items
            digest.update(text[start:].replace(base, mark))
        else:
            # replaced whole, then hashed from where the items start (one copy of the text, not a slice and then its
            # replacement: ~0.1 CPU-s and one text's memory per 130 MiB record package). The same bytes: a link
            # cannot span the envelope's line end, so the envelope's links are the only ones before it
            replaced = text.replace(base, mark)
            digest.update(memoryview(replaced)[start + text.count(base, 0, start) * (len(mark) - len(base)):])
    else:  # a release package: its text as it is, not copied
        digest.update(memoryview(text)[start:])
    return digest.hexdigest()


def _write_package_file(path: Path, head: str, lines, gzipped: bool, base_uri: str = "") -> str:
    """Envelope line, the items (``lines``: an Arrow column of item texts each followed by ``,`` and a newline), the
    closing line: one write of the whole text, so a gzipped file's bytes do not depend on how Arrow chunked it.
    Returns the file's ``content_digest``, from the text it writes (no second read of the file)."""
    views = [_string_values(chunk) for chunk in lines.chunks if len(chunk)]
    if views:
        views[-1] = views[-1][:-2]  # the last item: no comma
    head_bytes = head.encode("utf-8") + b"\n"
    text = b"".join([head_bytes, *views, b"\n]}\n"])
    content = content_digest(head, text, len(head_bytes), base_uri)
    if gzipped:
        from isal import igzip

        with open(path, "wb") as raw, \
                igzip.GzipFile(fileobj=raw, mode="wb", compresslevel=GZIP_LEVEL, mtime=0) as out:
            out.write(text)  # ISA-L releases the GIL
    else:
        path.write_bytes(text)
    return content


# Package files built at once, each by a worker on its own DuckDB cursor: a file's statements (its items, checks
# and privacy scan) each run on one thread (a file's items are less than one DuckDB row group), and so does its
# gzip and schema validation (Python), so files are built side by side on the machine's cores.
PACKAGE_WORKERS = max(1, min(2, os.cpu_count() or 1))


@dataclass
class PackageJob:
    """One package file to write: its name, envelope line, the query of its items (``s`` from ``lo``, ``item``);
    ``scanned_with``: a record package's, its part's release packages (the query then has ``own_text`` too,
    ``PackageChecks.check``)."""
    name: str
    head: str
    lo: int
    count: int
    sql: str
    scanned_with: tuple[str, ...] = ()
    base_uri: str = ""  # where the build's files are published (content_digest leaves its build folder out)


def package_jobs(stem: str, list_key: str, envelope: dict, count: int, per_file: int,
                 chunk_sql: Callable[[int, int], str], suffix: str = ".json",
                 scanned_with: tuple[str, ...] = ()) -> list[PackageJob]:
    """The files of ``count`` items, ``per_file`` a file: ``{stem}-0001{suffix}`` …; ``chunk_sql(lo, hi)``: a query
    of the items ``lo`` … ``hi`` (columns ``s``, their position, and ``item``; ``own_text`` with ``scanned_with``)."""
    jobs = []
    for i in range(max(0, -(-count // per_file))):
        name = f"{stem}-{i + 1:04d}{suffix}"
        lo, hi = i * per_file, min(count, (i + 1) * per_file) - 1
        jobs.append(PackageJob(name, _package_head(envelope, name, list_key), lo, hi - lo + 1, chunk_sql(lo, hi),
                               scanned_with, envelope["uri"]))
    return jobs


def _lines_in_order(con: duckdb.DuckDBPyConnection, items: str):
    """The lines of table ``items`` (``n`` from 1, ``item``), each item followed by ``,`` and a newline, in ``n`` order
    (an Arrow column). Read as the table holds them first, with their ``n``: a release package's items are built from
    one range of the flat file in package order and are stored so, and sorting them again copied every item's text
    (~0.1 CPU-s per 100 000 releases). Only when the ``n`` read are not already in order (a record package's items
    come out of joins in any order) are the lines put in ``n`` order, by a stable sort of the ``n`` read (ties, which
    the pipeline never makes, keep the order read): the same lines either way."""
    import numpy as np

    table = con.sql(f"SELECT n, item || ',\n' AS line FROM {items}").to_arrow_table()
    n = table.column(0).to_numpy()
    lines = table.column(1)
    if len(n) > 1 and not bool(np.all(n[1:] >= n[:-1])):
        lines = lines.take(np.argsort(n, kind="stable"))
    return lines


def _write_package_within_memory(con: duckdb.DuckDBPyConnection, folder: Path, job: PackageJob, gzipped: bool,
                                 checks: PackageChecks | None) -> tuple[FileChecks | None, str]:
    """``_write_package``, once more at DuckDB's fixed ceiling when the process's cap (``duckdb_memory``) left it too
    little memory: a package's temp table and checks do not all spill. Each statement of a package is its own
    transaction, its temp table is replaced and the file rewritten whole, so the second attempt starts clean."""
    return retried_at_ceiling(con, lambda: _write_package(con, folder, job, gzipped, checks))


def _write_package(con: duckdb.DuckDBPyConnection, folder: Path, job: PackageJob, gzipped: bool,
                   checks: PackageChecks | None) -> tuple[FileChecks | None, str]:
    """Build one file's items once into a temp table, which ``checks`` (when given) check and which is then written
    as it is (fetched as Arrow, no item passing through Python one by one); then its schema validation."""
    try:
        columns = "item, own_text" if job.scanned_with and checks is not None else "item"
        con.execute(f"CREATE OR REPLACE TEMP TABLE _ocds_package AS "
                    f"SELECT s - {job.lo} + 1 AS n, {columns} FROM ({job.sql})")
        found = checks.check(con, job.name, job.head, "_ocds_package", job.scanned_with) if checks is not None else None
        lines = _lines_in_order(con, "_ocds_package")
    finally:
        con.execute("DROP TABLE IF EXISTS _ocds_package")
    if len(lines) != job.count:  # the pipeline's own invariant: every item of the range, once
        raise ValueError(f"{job.name}: {len(lines)} items written, {job.count} expected")
    content = _write_package_file(folder / job.name, job.head, lines, gzipped, job.base_uri)
    del lines
    if found is not None:
        found.problems = found.problems + found.schema_check()
    return found, content


def write_package_jobs(con: duckdb.DuckDBPyConnection, folder: Path, jobs: list[PackageJob], suffix: str = ".json",
                       checks: PackageChecks | None = None, workers: int | None = None,
                       contents: dict[str, str] | None = None) -> list[str]:
    """Envelope line, one item per line (``,`` between), closing line; with ``suffix`` ``.json.gz`` gzipped.

    Every file of ``jobs`` is built, checked and written by one of ``workers`` threads (``PACKAGE_WORKERS``), each
    on its own cursor of ``con``; what the checks found is added to ``checks`` in the order of ``jobs``. A worker
    holds one file at a time: memory is bounded by the number of workers, whatever the number of files.
    ``contents``: filled with each file's ``content_digest`` (by name)."""
    from concurrent.futures import ThreadPoolExecutor

    gzipped = suffix.endswith(".gz")
    workers = max(1, min(workers or PACKAGE_WORKERS, len(jobs)))
    if workers == 1:
        found = [_write_package_within_memory(con, folder, job, gzipped, checks) for job in jobs]
    else:
        local = threading.local()
        cursors: list[duckdb.DuckDBPyConnection] = []
        lock = threading.Lock()

        def run(job: PackageJob) -> tuple[FileChecks | None, str]:
            cur = getattr(local, "cursor", None)
            if cur is None:
                cur = local.cursor = con.cursor()
                cur.execute("SET enable_progress_bar = false")
                with lock:
                    cursors.append(cur)
            return _write_package_within_memory(cur, folder, job, gzipped, checks)

        pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="ocds-package")
        try:
            futures = [pool.submit(run, job) for job in jobs]
            found = [f.result() for f in futures]
        finally:
            pool.shutdown(wait=True, cancel_futures=True)
            for cur in cursors:
                if checks is not None:
                    checks.forget(cur)
                cur.close()
    if contents is not None:
        contents.update((job.name, content) for job, (_, content) in zip(jobs, found))
    if checks is not None:
        for one, _ in found:
            checks.add(one)
        checks.settle()
    return [job.name for job in jobs]


def sql_str(s: str) -> str:
    return "'" + s.replace("'", "''") + "'"
