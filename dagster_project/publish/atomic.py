"""Atomic publication of a folder: build beside the target, validate, rename, flip the pointer.

Layout under a publication root (e.g. ``<out>/open-data``)::

    <root>/<release-id>/      one folder per published release, never modified after the rename
    <root>/LATEST             one line: the id of the current release (the pointer)
    <root>/.staging-<id>-<pid>/   a release being built (same file system, so the rename is atomic)

Why a ``LATEST`` file rather than a ``latest`` symlink: it works on every file system and OS (zip
archives, Windows shares, object-store mirrors) and is replaced atomically with ``os.replace``.
Readers resolve ``<root>/$(cat LATEST)/``. A failure or a kill at any point before ``os.replace`` of
``LATEST`` leaves the previous release and the pointer untouched; a staging folder left by a killed
run is removed by the next run.
"""
from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Callable

POINTER_NAME = "LATEST"
STAGING_PREFIX = ".staging-"


class InjectedFailure(RuntimeError):
    """Raised on purpose (tests, drills) to prove a failure mid-publication changes nothing."""


def _fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:  # e.g. Windows cannot open directories; the rename is still atomic there
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def read_pointer(root: Path) -> str | None:
    pointer = root / POINTER_NAME
    if not pointer.exists():
        return None
    text = pointer.read_text(encoding="utf-8").strip()
    return text or None


def current_release_dir(root: Path) -> Path | None:
    release_id = read_pointer(root)
    return root / release_id if release_id else None


def write_pointer(root: Path, release_id: str) -> None:
    tmp = root / f".{POINTER_NAME}.tmp-{os.getpid()}"
    with open(tmp, "w", encoding="utf-8") as fh:
        fh.write(release_id + "\n")
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, root / POINTER_NAME)
    _fsync_dir(root)


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def remove_stale_staging(root: Path) -> list[str]:
    """Delete staging folders whose building process is gone (killed or crashed runs)."""
    removed = []
    if not root.exists():
        return removed
    for path in root.iterdir():
        if not (path.is_dir() and path.name.startswith(STAGING_PREFIX)):
            continue
        try:
            pid = int(path.name.rsplit("-", 1)[1])
        except (IndexError, ValueError):
            pid = -1
        if pid == os.getpid() or (pid > 0 and _pid_alive(pid)):
            continue
        shutil.rmtree(path, ignore_errors=True)
        removed.append(path.name)
    return removed


def new_staging_dir(root: Path, release_id: str) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    staging = root / f"{STAGING_PREFIX}{release_id}-{os.getpid()}"
    if staging.exists():
        shutil.rmtree(staging)
    staging.mkdir()
    return staging


def promote(staging: Path, root: Path, release_id: str, before_pointer: Callable[[], None] | None = None) -> Path:
    """Rename the validated staging folder to ``<root>/<release_id>`` and flip ``LATEST`` to it.

    If anything fails between the rename and the pointer flip, the renamed folder is removed again so
    the folder list and ``LATEST`` agree; after a kill there, the orphan folder is harmless (nothing
    points at it) and is not served as ``LATEST``.
    """
    final = root / release_id
    if final.exists():
        raise FileExistsError(f"发布版本已存在 release {release_id} already exists at {final}")
    for path in staging.rglob("*"):  # data on disk before the rename makes it visible
        if path.is_file():
            with open(path, "rb") as fh:
                os.fsync(fh.fileno())
    os.rename(staging, final)
    _fsync_dir(root)
    try:
        if before_pointer is not None:
            before_pointer()
        write_pointer(root, release_id)
    except BaseException:
        if read_pointer(root) != release_id:
            shutil.rmtree(final, ignore_errors=True)
        raise
    return final
