"""Parse each budget/debt file once: a cache keyed by the file's SHA-256, filled on both cores.

PDF parsing is the slow part of a real deployment (tenths of a second per page, 20–40 pages a
department, hundreds of departments). ``prefetch`` parses the files about to be loaded in a pool of
processes (the machine's cores, at most 2 by default) and stores each result under
``<tmp>/parse_cache/<sha256>-<suffix>-<parser version>.pickle`` (``GONGKAI_PARSE_CACHE`` moves it); the loader then reads from the cache, so an
unchanged file is never parsed again, also across runs and across warehouses on one machine. The parser
version is that of the readers making the parse (``readers_version.py``: the code ``workbook.py`` imports and the
specs and seeds it names): a change to either makes old entries unused; a trading-only change does not.
A whole-file refusal is cached too (with the file's name put back in on reading).
"""
from __future__ import annotations

import json
import logging
import os
import pickle
import subprocess
import sys
from pathlib import Path

from dagster_project.ingest import readers_version
from dagster_project.ingest.framework import FileRejected, RawFile
from dagster_project.ingest.parsed import ParsedWorkbook
from dagster_project.paths import settings

log = logging.getLogger(__name__)
MAX_WORKERS = 2
_NAME = "\x00file\x00"


# the module whose ``parse_workbook`` makes every parse this cache holds (the budget and debt families' loader)
PARSER_MODULE = "dagster_project.ingest.workbook"


def parser_version() -> str:
    """The version of the readers that make these parses: the import closure of ``workbook.py`` and the specs and
    seeds it names (``readers_version.py``) — the same version the budget and debt families are re-read by."""
    return readers_version.version_of(PARSER_MODULE)


def cache_dir() -> Path:
    return settings().parse_cache_dir


def _entry(directory: Path, sha256: str, suffix: str) -> Path:
    """Keyed by content and by the name's suffix: the same bytes can read differently under another suffix (an HTML
    table is a workbook named .xls, an error page named .pdf)."""
    kind = "".join(ch for ch in suffix.lower() if ch.isalnum())[:8]
    return directory / f"{sha256}-{kind}-{parser_version()}.pickle"


def _store(path: Path, payload) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(f".{os.getpid()}.tmp")
    with tmp.open("wb") as handle:
        pickle.dump(payload, handle, protocol=pickle.HIGHEST_PROTOCOL)
    os.replace(tmp, path)


def _parse(path: Path, rel: str):
    from dagster_project.ingest.workbook import parse_workbook

    try:
        return ("parsed", parse_workbook(path, rel))
    except FileRejected as exc:
        return ("rejected", str(exc).replace(rel, _NAME))


def _parse_into(directory: str, path: str, rel: str, sha256: str) -> None:
    """Worker: parse one file and store the result (runs in a child process)."""
    entry = _entry(Path(directory), sha256, Path(path).suffix)
    if not entry.exists():
        _store(entry, _parse(Path(path), rel))


def parse_cached(f: RawFile) -> ParsedWorkbook:
    """The parse of a file: from the cache when this content was parsed before, else parsed now."""
    entry = _entry(cache_dir(), f.sha256, f.path.suffix)
    payload = None
    if entry.exists():
        try:
            with entry.open("rb") as handle:
                payload = pickle.load(handle)  # our own cache beside the warehouse, keyed by content
        except Exception:  # noqa: BLE001 - a broken entry is parsed again
            payload = None
    if payload is None:
        payload = _parse(f.path, f.rel)
        try:
            _store(entry, payload)
        except OSError as exc:  # a read-only scratch dir costs speed, never correctness
            log.warning("parse cache not written: %s", exc)
    status, value = payload
    if status == "rejected":
        raise FileRejected(value.replace(_NAME, f.rel))
    value.path = f.path
    return value


def prefetch(files: list[RawFile], workers: int | None = None) -> int:
    """Parse files not yet cached, in parallel; returns how many were parsed. Small batches stay in-process."""
    directory = cache_dir()
    todo = [f for f in files if not _entry(directory, f.sha256, f.path.suffix).exists()]
    workers = workers or min(MAX_WORKERS, os.cpu_count() or 1)
    if not _worth_processes(todo, workers):
        return 0  # the loader parses them as it goes: starting processes would cost more than it saves
    # Plain child processes (python -m this module), not multiprocessing: they never inherit the caller's
    # DuckDB connection (fork) nor re-run its __main__ (spawn). Files are dealt out largest first.
    todo.sort(key=lambda f: -f.bytes)
    shares = [todo[i::workers] for i in range(workers)]
    children = []
    for share in shares:
        payload = json.dumps({"cache": str(directory), "files": [[str(f.path), f.rel, f.sha256] for f in share]})
        child = subprocess.Popen([sys.executable, "-m", "dagster_project.ingest.parse_cache"], stdin=subprocess.PIPE,
                                 stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        child.stdin.write(payload.encode("utf-8"))
        child.stdin.close()
        children.append(child)
    for child in children:
        err = child.stderr.read().decode("utf-8", "replace")
        if child.wait() != 0:  # the loader parses what is missing and records any error itself
            log.warning("parallel parse worker failed: %s", err[-2000:])
    return len(todo)


def _worth_processes(todo: list[RawFile], workers: int) -> bool:
    """Two child processes cost about a second of start-up: worth it for PDFs (tenths of a second a page) or
    for many workbooks, not for a couple of small ones."""
    heavy = sum(1 for f in todo if f.path.suffix.lower() == ".pdf") + len(todo) // 8
    return workers >= 2 and len(todo) >= 2 and heavy >= 2


def _worker() -> int:
    job = json.loads(sys.stdin.read())
    for path, rel, sha256 in job["files"]:
        _parse_into(job["cache"], path, rel, sha256)
    return 0


__all__ = ["cache_dir", "parse_cached", "parser_version", "prefetch"]


if __name__ == "__main__":
    sys.exit(_worker())
