"""Generic ingest machinery shared by every raw family.

A family loader only knows how to read one file into its raw tables. This module decides *which*
files need loading (by content hash), keeps history in ``raw.load_files``, supersedes the rows of
changed files and of files read again by changed readers (kept, flagged, never deleted; ``reread.py``), retires the
rows of vanished files, and enforces the row accounting invariant
``rows_in = rows_loaded + rows_rejected``.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import logging
import os
import re
import stat
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable

import duckdb

from dagster_project.row_inserts import insert_rows
from dagster_project.ingest.reread import READERS_STAGE, files_to_reread, record_readers  # noqa: F401 (READERS_STAGE)
from dagster_project.paths import REPO_ROOT

log = logging.getLogger(__name__)

SCHEMA_SQL = Path(__file__).with_name("schema.sql")

# family -> raw tables holding that family's rows (all carry source_file and is_retired)
FAMILY_TABLES: dict[str, tuple[str, ...]] = {
    "registry": ("raw.registry_regions", "raw.registry_entities", "raw.registry_approvals"),
    "budget": ("raw.budget_sheets", "raw.budget_lines", "raw.budget_sections", "raw.budget_statements",
               "raw.budget_counts"),
    "debt": ("raw.debt_sheets", "raw.debt_lines"),
    "trading": ("raw.trading_bulletins",),
    "portal": ("raw.portal_publications",),
}
FAMILIES = tuple(FAMILY_TABLES)
# Raw tables every family's load may write beside its own (all carry source_file and is_retired): the rejected rows
# and files, and the cells of loaded rows stored NULL (each a finding). Superseded and retired with their file.
FILE_RECORD_TABLES = ("raw.load_rejects", "raw.load_blanked_cells")

# What a family folder may hold; anything else is recorded as rejected (nothing is silently ignored).
FAMILY_SUFFIXES: dict[str, tuple[str, ...]] = {
    "registry": (".csv",),
    "budget": (".pdf", ".xlsx", ".xlsm", ".xls"),
    "debt": (".pdf", ".xlsx", ".xlsm", ".xls"),
    # .tsv/.txt: the tab-separated "text" and "Unicode text" exports of Excel and WPS (read as CSV, tab found)
    "trading": (".csv", ".tsv", ".txt", ".json", ".jsonl", ".ndjson", ".xlsx", ".xlsm", ".xls"),
    "portal": (".csv",),
}
# Files a batch loader (``loader.load_batch``) takes in one transaction: each DuckDB statement costs a few
# milliseconds whatever its size, so a thousand workbooks one by one paid tens of seconds in statements alone.
BATCH_FILES = 64


class FileRejected(Exception):
    """Raised by a loader when the whole file cannot be loaded; the message is shown to a clerk."""


class RawRootError(RuntimeError):
    """The raw root itself cannot be used (missing, not a folder, unreadable): nothing is touched."""


class RetireGuardTripped(RuntimeError):
    """Retiring would empty a family or cut its rows by more than the allowed share: not done."""


@dataclass(frozen=True)
class RetirePolicy:
    """When vanished files may be retired without being told to (``paths.Settings``).

    ``allow``: retire whatever vanished. Otherwise a family keeps its rows current when every file it
    had is gone, or when retiring would drop more than ``max_drop_share`` of its current rows: a
    mistyped or half-mounted raw root must not publish "nothing" as the truth.
    """
    allow: bool = False
    max_drop_share: float = 0.5


@dataclass(frozen=True)
class RawFile:
    path: Path
    rel: str  # posix path relative to the raw root, e.g. 'budget/2018/教育厅.xlsx'
    sha256: str
    bytes: int
    family: str


@dataclass
class FileOutcome:
    status: str  # loaded | loaded_with_rejects | rejected
    reason: str | None = None
    rows_in: int = 0
    rows_loaded: int = 0
    rows_rejected: int = 0
    file_format: str | None = None
    encoding: str | None = None
    detected_kind: str | None = None

    def check_accounting(self, rel: str) -> None:
        if self.rows_in != self.rows_loaded + self.rows_rejected:
            raise AssertionError(
                f"{rel}: row accounting broken: in={self.rows_in} "
                f"loaded={self.rows_loaded} rejected={self.rows_rejected}"
            )


Loader = Callable[[duckdb.DuckDBPyConnection, RawFile, str], FileOutcome]


@dataclass
class FamilyLoadReport:
    family: str
    load_id: str
    loaded: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    rejected: list[str] = field(default_factory=list)
    retired: list[str] = field(default_factory=list)
    rows_in: int = 0
    rows_loaded: int = 0
    rows_rejected: int = 0


def ensure_schema(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(SCHEMA_SQL.read_text(encoding="utf-8"))


def sha256_of(path: Path, chunk: int = 1 << 20) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while block := handle.read(chunk):
            digest.update(block)
    return digest.hexdigest()


def check_raw_root(raw_dir: Path) -> Path:
    """The resolved raw root, or ``RawRootError`` naming the path when it cannot be read.

    Called before anything is touched: a mistyped ``GONGKAI_RAW_DIR`` must fail loudly, not retire
    every file the warehouse holds.
    """
    shown = str(raw_dir)
    try:
        root = raw_dir.resolve(strict=True)
    except (FileNotFoundError, RuntimeError):
        raise RawRootError(f"原始数据目录不存在 raw root does not exist: {shown} (GONGKAI_RAW_DIR)") from None
    except OSError as exc:
        raise RawRootError(f"原始数据目录无法访问 raw root cannot be accessed: {shown} ({exc.strerror})") from None
    if not root.is_dir():
        raise RawRootError(f"原始数据目录不是文件夹 raw root is not a folder: {shown} (GONGKAI_RAW_DIR)")
    try:
        with os.scandir(root) as entries:
            next(entries, None)
    except OSError as exc:
        raise RawRootError(f"原始数据目录无法读取 raw root cannot be read: {shown} ({exc.strerror})") from None
    return root


@dataclass(frozen=True)
class Candidate:
    """A file found below a family folder. ``problem``: why it is rejected unread (None: read it)."""
    path: Path
    rel: str
    problem: str | None = None
    link_target: str | None = None


OUTSIDE_ROOT = ("链接指向原始数据目录之外, 未读取 (the link points outside the raw root; "
                "the file was not read)")
DANGLING_LINK = "链接指向的文件不存在, 未读取 (the link points to nothing; nothing was read)"
NOT_REGULAR = "不是普通文件 (设备、管道或套接字), 未读取 (not a regular file: device, pipe or socket; not read)"
FOLDER_LINK = ("链接指向文件夹, 未跟随 (a link to a folder is not followed; files are read where they "
               "really are, inside the raw root)")


def _is_hidden(name: str) -> bool:
    return name.startswith((".", "~$"))  # editor lock files, hidden files


def _inside(path: Path, root: Path) -> bool:
    return path == root or root in path.parents


def list_family_files(raw_dir: Path, family: str) -> list[Candidate]:
    """Every file below ``<raw_dir>/<family>/`` in a stable order, nothing read.

    Only the raw root is read: a link is followed when it resolves to a file inside the root;
    a link that leads outside it, a dangling link, a link to a folder and anything that is not a
    regular file are candidates with a ``problem`` (rejected unread, never silently skipped).
    """
    try:
        root = raw_dir.resolve(strict=True)
    except OSError:
        return []
    top = raw_dir / family
    if not os.path.lexists(top):
        return []
    if top.is_symlink():
        target = os.readlink(top)
        return [Candidate(top, family, OUTSIDE_ROOT if not _inside(top.resolve(), root) else FOLDER_LINK, target)]
    if not top.is_dir():
        return []
    found: list[Candidate] = []
    for folder, dirs, files in os.walk(top, followlinks=False):
        dirs[:] = sorted(d for d in dirs if not _is_hidden(d))
        base = Path(folder)
        for name in sorted(dirs):
            path = base / name
            if path.is_symlink():
                problem = OUTSIDE_ROOT if not _inside(path.resolve(), root) else FOLDER_LINK
                found.append(Candidate(path, path.relative_to(raw_dir).as_posix(), problem, os.readlink(path)))
        for name in sorted(files):
            if _is_hidden(name):
                continue
            path = base / name
            rel = path.relative_to(raw_dir).as_posix()
            if path.is_symlink():
                target = os.readlink(path)
                try:
                    real = path.resolve(strict=True)
                except (OSError, RuntimeError):
                    found.append(Candidate(path, rel, DANGLING_LINK, target))
                    continue
                if not _inside(real, root):
                    found.append(Candidate(path, rel, OUTSIDE_ROOT, target))
                    continue
                if not real.is_file():
                    found.append(Candidate(path, rel, FOLDER_LINK if real.is_dir() else NOT_REGULAR, target))
                    continue
            elif not stat.S_ISREG(path.lstat().st_mode):
                found.append(Candidate(path, rel, NOT_REGULAR))
                continue
            found.append(Candidate(path, rel))
    return sorted(found, key=lambda c: c.rel)


def discover(raw_dir: Path, family: str) -> list[RawFile]:
    """Every readable file below ``<raw_dir>/<family>/`` (hashed), sorted for a stable load order."""
    return [c_file for c_file, problem in discover_with_problems(raw_dir, family) if problem is None]


def discover_with_problems(raw_dir: Path, family: str) -> list[tuple[RawFile, str | None]]:
    """(file, problem) for every candidate: readable files hashed; rejected-unread ones identified by
    their link text (so an unchanged bad link is not rejected again on every run). A file's digest is read from its
    bytes unless its status vouches for the digest kept when they were last read (``raw_digests``)."""
    from dagster_project.ingest.raw_digests import RawDigests, record_path

    digests = RawDigests(record_path(family), sha256_of)
    out = []
    for c in list_family_files(raw_dir, family):
        if c.problem is None:
            out.append((RawFile(c.path, c.rel, digests.digest(c.path), c.path.stat().st_size, family), None))
        else:
            ident = hashlib.sha256(f"unread\t{c.problem}\t{c.link_target or ''}".encode("utf-8")).hexdigest()
            out.append((RawFile(c.path, c.rel, ident, 0, family), c.problem))
    digests.save()
    return out


def new_load_id() -> str:
    return dt.datetime.now().strftime("%Y%m%dT%H%M%S") + "-" + uuid.uuid4().hex[:8]


def _current_files(con: duckdb.DuckDBPyConnection, family: str) -> dict[str, str]:
    rows = con.execute(
        "SELECT source_file, source_sha256 FROM raw.load_files "
        "WHERE family = ? AND is_current AND status <> 'retired'",
        [family],
    ).fetchall()
    return dict(rows)


def _files_ever_loaded(con: duckdb.DuckDBPyConnection, family: str) -> set[str]:
    rows = con.execute(
        "SELECT DISTINCT source_file FROM raw.load_files WHERE family = ?", [family]
    ).fetchall()
    return {r[0] for r in rows}


def _supersede_file_rows(con: duckdb.DuckDBPyConnection, family: str, rel: str) -> None:
    _supersede_files_rows(con, family, [rel])


def _supersede_files_rows(con: duckdb.DuckDBPyConnection, family: str, rels: list[str]) -> None:
    """The file's content changed: its present rows become a superseded version, never deleted.

    They are flagged ``is_retired`` (so every reader of the present state leaves them out, as before)
    and keep their ``load_id``/``source_sha256``: a row whose ``(source_file, load_id)`` names a
    ``raw.load_files`` row that is no longer current is a superseded version (``fct_revisions`` compares
    consecutive versions of a file from them).
    """
    if not rels:
        return
    for table in [*FAMILY_TABLES[family], *FILE_RECORD_TABLES]:  # one UPDATE per table for all the files
        con.execute(f"UPDATE {table} SET is_retired = true WHERE NOT is_retired AND list_contains(?, source_file)",
                    [rels])


# An absolute path (POSIX or Windows) not preceded by a word character: raw-root paths become relative,
# any other (temp files, the warehouse) its last part, so no message leaks the machine's layout.
_ABSOLUTE_PATH = re.compile(r"(?<![\w.~])(?:/|[A-Za-z]:\\)(?:[^/\\\s\"'`，,;；:：()（）]+[/\\])+[^/\\\s\"'`，,;；:：()（）]*")
# Engines quote the offending line of a file they could not parse; the clerk gets the line number.
_QUOTED_LINE = re.compile(r"(Original Line|Line content|Problematic line)\s*:.*?(?=\n|$)", re.IGNORECASE)
MAX_REASON_CHARS = 600


def sanitise_reason(reason: str | None, raw_dir: Path | None = None) -> str | None:
    """A reason as stored and shown: no absolute path, no quoted line of a file, bounded length."""
    if reason is None:
        return None
    text = str(reason)
    if raw_dir is not None:
        for root in {str(raw_dir), str(raw_dir.resolve()) if raw_dir.exists() else str(raw_dir)}:
            text = text.replace(root.rstrip("/") + "/", "")

    def _short(m: re.Match) -> str:
        parts = re.split(r"[/\\]", m.group(0).rstrip("/\\"))
        return "…/" + parts[-1] if parts and parts[-1] else "…"

    text = _ABSOLUTE_PATH.sub(_short, text)
    text = _QUOTED_LINE.sub(lambda m: m.group(1) + ": (省略 omitted)", text)
    return text if len(text) <= MAX_REASON_CHARS else text[: MAX_REASON_CHARS - 1] + "…"


def _record(con, load_id: str, f: RawFile, outcome: FileOutcome) -> None:
    _record_many(con, load_id, [f], [outcome])


def _record_many(con, load_id: str, files: list[RawFile], outcomes: list[FileOutcome]) -> None:
    """``_record`` for a batch of files: one UPDATE and one INSERT."""
    if not files:
        return
    con.execute(
        "UPDATE raw.load_files SET is_current = false WHERE is_current AND list_contains(?, source_file)",
        [[f.rel for f in files]],
    )
    now = dt.datetime.now()
    values = ",".join(["(?,?,?,?,?,?,?,?,?,?,?,?,?,?,true,NULL)"] * len(files))
    params = []
    for f, outcome in zip(files, outcomes):
        params += [
            load_id, f.rel, f.sha256, f.bytes, f.family, outcome.file_format, outcome.encoding,
            outcome.detected_kind, outcome.status, outcome.reason, outcome.rows_in,
            outcome.rows_loaded, outcome.rows_rejected, now,
        ]
    con.execute(f"INSERT INTO raw.load_files VALUES {values}", params)


def _format_of(path: Path) -> str:
    return path.suffix.lower().lstrip(".") or "unknown"


def load_family(
    con: duckdb.DuckDBPyConnection,
    raw_dir: Path,
    family: str,
    loader: Loader,
    load_id: str | None = None,
    progress: Callable[[str], None] | None = None,
    retire_policy: RetirePolicy | None = None,
) -> FamilyLoadReport:
    """Bring the raw tables of one family in line with the files under ``raw_dir/family``.

    Raises ``RawRootError`` (nothing touched) when the raw root cannot be read, and
    ``RetireGuardTripped`` when retiring the vanished files is not allowed by ``retire_policy``
    (default: ``RetirePolicy()``): every file of the family gone is checked before anything is
    touched; a drop in rows beyond the share after the new files are loaded, before any retirement.
    """
    check_raw_root(raw_dir)
    policy = retire_policy or RetirePolicy()
    ensure_schema(con)
    load_id = load_id or new_load_id()
    report = FamilyLoadReport(family=family, load_id=load_id)
    files = discover_with_problems(raw_dir, family)
    current = _current_files(con, family)
    readers = _readers_version(loader)
    # the readers changed since this family was last loaded: its current files, loaded or refused, are read again
    # (same bytes: a new reading, not a new version — ingest/reread.py says what the history keeps)
    reread = files_to_reread(con, family, readers)
    present = {f.rel for f, _ in files}
    vanished = sorted(set(current) - present)
    if vanished and not policy.allow and len(vanished) == len(current):
        raise RetireGuardTripped(
            f"{family}/: 当前 {len(current)} 个文件全部不在原始数据目录中, 未退役 (every one of the "
            f"{len(current)} current files is gone from the raw root; nothing retired). 确属有意时设置 "
            f"GONGKAI_ALLOW_RETIRE=1 后重新运行 (if intended, re-run with GONGKAI_ALLOW_RETIRE=1)"
        )
    # Only files the warehouse has seen can have rows to supersede: skipping the UPDATEs for new
    # files keeps a first load linear (each UPDATE scans the family's tables).
    seen_before = _files_ever_loaded(con, family)
    rows_before = _current_rows(con, family)
    say = progress or log.info
    # a loader may carry connection_setup(con): called once per family load, outside any file's transaction, so what
    # it creates on the connection (the text parsers' temporary macros) is committed — a file's ROLLBACK would drop
    # it — and is not made again for every file
    if (setup := getattr(loader, "connection_setup", None)) is not None:
        setup(con)
    if reread:
        say(f"[{family}] 读取程序已更新, 重新读取 {len(reread)} 个文件 (the readers changed: {len(reread)} files read again)")
    prefetch = getattr(loader, "prefetch", None)  # a loader may parse the changed files ahead, in parallel
    if prefetch is not None:
        prefetch([f for f, problem in files if problem is None and (current.get(f.rel) != f.sha256 or f.rel in reread)
                  and f.path.suffix.lower() in FAMILY_SUFFIXES[family]])

    def account(f: RawFile, outcome: FileOutcome) -> None:
        (report.rejected if outcome.status == "rejected" else report.loaded).append(f.rel)
        report.rows_in += outcome.rows_in
        report.rows_loaded += outcome.rows_loaded
        report.rows_rejected += outcome.rows_rejected

    def load_one(f: RawFile, problem: str | None) -> None:
        con.execute("BEGIN TRANSACTION")
        try:
            if f.rel in seen_before:
                _supersede_file_rows(con, family, f.rel)
            if problem is not None:
                raise FileRejected(problem)
            if f.path.suffix.lower() not in FAMILY_SUFFIXES[family]:
                raise FileRejected(_unsupported_reason(family, f, loader))
            outcome = loader(con, f, load_id)
            outcome.check_accounting(f.rel)
            outcome.reason = sanitise_reason(outcome.reason, raw_dir)
            con.execute("COMMIT")
        except FileRejected as exc:
            con.execute("ROLLBACK")
            outcome = _reject_whole_file(con, load_id, f, sanitise_reason(str(exc), raw_dir))
        except Exception as exc:  # a loader bug must not stop the other files; it is recorded
            con.execute("ROLLBACK")
            log.exception("loader failed on %s", f.rel)
            outcome = _reject_whole_file(
                con, load_id, f,
                sanitise_reason(f"读取失败 (could not read the file): {type(exc).__name__}: {exc}", raw_dir),
            )
        _record(con, load_id, f, outcome)
        account(f, outcome)

    # A loader with ``load_batch`` loads up to BATCH_FILES readable files in one transaction (its rows, their
    # load_files rows, their superseded versions: all or nothing); it returns None for a file it refuses, which
    # is then loaded alone (and rejected with its own reason). If anything in the batch fails, it is rolled
    # back and its files are loaded one by one, so the file at fault is rejected alone, with its own reason.
    load_batch = getattr(loader, "load_batch", None)
    pending: list[RawFile] = []

    def flush() -> None:
        if not pending:
            return
        batch = list(pending)
        pending.clear()
        con.execute("BEGIN TRANSACTION")
        try:
            _supersede_files_rows(con, family, [f.rel for f in batch if f.rel in seen_before])
            outcomes = load_batch(con, batch, load_id)
            loaded = [(f, outcome) for f, outcome in zip(batch, outcomes, strict=True) if outcome is not None]
            for f, outcome in loaded:
                outcome.check_accounting(f.rel)
                outcome.reason = sanitise_reason(outcome.reason, raw_dir)
            _record_many(con, load_id, [f for f, _ in loaded], [outcome for _, outcome in loaded])
            con.execute("COMMIT")
        except Exception as exc:  # noqa: BLE001 - the one-by-one path below names the file and the reason
            con.execute("ROLLBACK")
            log.warning("[%s] a batch of %d files failed (%s: %s): loading them one by one", family, len(batch),
                        type(exc).__name__, exc)
            for f in batch:
                load_one(f, None)
            return
        for f, outcome in loaded:
            account(f, outcome)
        for f, outcome in zip(batch, outcomes):
            if outcome is None:  # the loader left it out (it refuses the file): rejected alone, with its reason
                load_one(f, None)

    for index, (f, problem) in enumerate(files, start=1):
        if current.get(f.rel) == f.sha256 and f.rel not in reread:
            report.unchanged.append(f.rel)
            continue
        say(f"[{family}] {index}/{len(files)} loading {f.rel} ({f.bytes:,} bytes)")
        if load_batch is not None and problem is None and f.path.suffix.lower() in FAMILY_SUFFIXES[family]:
            pending.append(f)
            if len(pending) >= BATCH_FILES:
                flush()
        else:
            load_one(f, problem)
    flush()

    if vanished and not policy.allow and rows_before:
        rows_after = _current_rows(con, family, excluding=vanished)
        drop = 1 - rows_after / rows_before
        if drop > policy.max_drop_share:
            raise RetireGuardTripped(
                f"{family}/: 退役 {len(vanished)} 个已不在的文件会使入库行数减少 {drop:.0%} "
                f"({rows_before} → {rows_after}), 超过允许的 {policy.max_drop_share:.0%}, 未退役 "
                f"(retiring {len(vanished)} vanished files would drop the family's rows by {drop:.0%}, more "
                f"than the allowed {policy.max_drop_share:.0%}; nothing retired). 确属有意时设置 "
                f"GONGKAI_ALLOW_RETIRE=1 后重新运行 (if intended, re-run with GONGKAI_ALLOW_RETIRE=1)"
            )
    for rel in vanished:
        retire_file(con, family, rel)
        report.retired.append(rel)
    # a loader may carry after_retire(con, files): what the retired files' rows meant to the others is worked out again
    # (trading: a notice naming no section keyed to the section only a retired file named)
    if vanished and (after_retire := getattr(loader, "after_retire", None)) is not None:
        con.execute("BEGIN TRANSACTION")
        try:
            after_retire(con, vanished)
            con.execute("COMMIT")
        except Exception:
            con.execute("ROLLBACK")
            raise
    record_readers(con, family, readers)
    return report


def _readers_version(loader: Loader) -> str:
    """The version of this family's readers: the code its loader's module imports within ``ingest/`` and the specs
    and seeds that code names (``readers_version.py``), so a trading-only fix does not re-read the budgets."""
    from dagster_project.ingest import readers_version

    return readers_version.version_of(readers_version.loader_module(loader))


def _unsupported_reason(family: str, f: RawFile, loader: Loader) -> str:
    # a loader may say exactly what a refused file is and what to send instead (the workbook loader: Word/WPS
    # files); asked of the loader, not imported here, so every family's readers do not include the workbook's
    refused = getattr(loader, "refused_suffix_reason", None)
    exact = refused(f.rel, f.path.suffix) if refused is not None else None
    if exact:
        return exact
    return (f"文件类型 {f.path.suffix or '(无扩展名)'} 不属于 {family}/ 目录可读取的格式 "
            f"{', '.join(FAMILY_SUFFIXES[family])} (unsupported file type for this folder)")


def _current_rows(con: duckdb.DuckDBPyConnection, family: str, excluding: list[str] = ()) -> int:
    """Rows the family's current (not retired) files hold, leaving out ``excluding``."""
    rows = con.execute(
        "SELECT source_file, rows_loaded FROM raw.load_files WHERE family = ? AND is_current AND status <> 'retired'",
        [family],
    ).fetchall()
    skip = set(excluding)
    return int(sum(n for rel, n in rows if rel not in skip))


def _reject_whole_file(con, load_id: str, f: RawFile, reason: str) -> FileOutcome:
    # the loader's partial work was rolled back; rows of an earlier version of the file are superseded
    # (kept for history: their figures read as vanished in fct_revisions)
    con.execute("BEGIN TRANSACTION")
    _supersede_file_rows(con, f.family, f.rel)
    con.execute("COMMIT")
    con.execute(
        "INSERT INTO raw.load_rejects VALUES (?,?,?,?,NULL,NULL,NULL,NULL,?,false)",
        [load_id, f.family, f.rel, f.sha256, reason],
    )
    return FileOutcome(status="rejected", reason=reason, file_format=_format_of(f.path))


def retire_file(con: duckdb.DuckDBPyConnection, family: str, rel: str) -> None:
    """A file vanished from the raw root: keep its rows for history, flagged, never deleted."""
    now = dt.datetime.now()
    con.execute("BEGIN TRANSACTION")
    for table in FAMILY_TABLES[family]:
        con.execute(f"UPDATE {table} SET is_retired = true WHERE source_file = ?", [rel])
    for table in FILE_RECORD_TABLES:
        con.execute(f"UPDATE {table} SET is_retired = true WHERE source_file = ?", [rel])
    con.execute(
        "UPDATE raw.load_files SET status = 'retired', retired_at = ? "
        "WHERE source_file = ? AND is_current",
        [now, rel],
    )
    con.execute("COMMIT")


def insert_rejects(
    con: duckdb.DuckDBPyConnection,
    f: RawFile,
    load_id: str,
    rejects: Iterable[tuple[str | None, int | None, str | None, str | None, str]],
) -> int:
    """Insert row rejects given as (sheet, source_row, source_column, raw_value, reason)."""
    rows = [
        (load_id, f.family, f.rel, f.sha256, sheet, row, column, value, reason, False)
        for sheet, row, column, value, reason in rejects
    ]
    if rows:
        insert_rows(con, "raw.load_rejects", rows)
    return len(rows)


__all__ = [
    "FAMILIES", "FAMILY_TABLES", "FILE_RECORD_TABLES", "Candidate", "FileOutcome", "FileRejected", "FamilyLoadReport", "RawFile",
    "RawRootError", "RetireGuardTripped", "RetirePolicy", "check_raw_root", "discover", "discover_with_problems",
    "ensure_schema", "insert_rejects", "list_family_files", "load_family", "new_load_id", "retire_file",
    "sanitise_reason", "sha256_of", "REPO_ROOT",
]
