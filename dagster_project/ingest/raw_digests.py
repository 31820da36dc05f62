"""The SHA-256 of each raw file, kept by file status so that an unchanged file is not read again on every run.

Which files need loading is decided by content (``framework``: a file whose digest equals its current row in
``raw.load_files`` is unchanged). Hashing every byte of the raw root on every run was most of an unchanged re-run's
ingest: 620 MB of trading exports at 1 M rows (≈ 1 s), ten times that at 10 M. The digest of a file is now kept,
per family, beside the warehouse (``<warehouse dir>/tmp/raw_digests/<family>.json``) with the file's identity and
status (``file_status``); a file with the same identity and status is taken to hold the same bytes — its change time
would have moved with any write — and any other file (new, replaced, written in place, touched, copied, restored)
is read and hashed as before. ``GONGKAI_VERIFY_CARRIED=full`` hashes every file. The kept digests only save reads:
an unreadable or stale record means reading.
"""
from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Callable

from dagster_project.file_status import identity, status, verify_everything

FOLDER = "raw_digests"
RECENT_NS = 2_000_000_000  # a file changed less than this before it is hashed is hashed again next run


class RawDigests:
    """One family's kept digests: ``digest(path)`` hashes only what its status does not vouch for; ``save`` keeps
    the digests of this run's files (files gone from the raw root drop out)."""

    def __init__(self, record: Path | None, hash_file: Callable[[Path], str]):
        self.record = record
        self.hash_file = hash_file
        self.before: dict[str, list] = {}
        self.now: dict[str, list] = {}
        self.files_read = 0
        if record is not None and not verify_everything():
            try:
                known = json.loads(record.read_text(encoding="utf-8"))
                self.before = known if isinstance(known, dict) else {}
            except (OSError, ValueError):
                pass

    def digest(self, path: Path) -> str:
        st = path.stat()
        key, now = identity(st), status(st)
        entry = self.before.get(key)
        if isinstance(entry, list) and len(entry) == 4 and entry[:3] == now:
            digest = entry[3]
        else:
            digest = self.hash_file(path)
            self.files_read += 1
            after = path.stat()
            # not vouched for next time: a file written while it was read, or written within the last seconds —
            # file times move in clock ticks of a few milliseconds, so a file replaced within the same tick by one of
            # the same size on a reused inode would show the same status (git's "racily clean" files)
            if (status(after) != now or identity(after) != key
                    or time.time_ns() - st.st_ctime_ns < RECENT_NS):
                return digest
        self.now[key] = [*now, digest]
        return digest

    def save(self) -> None:
        if self.record is None:
            return
        try:
            self.record.parent.mkdir(parents=True, exist_ok=True)
            tmp = self.record.with_name(f".{self.record.name}.tmp-{os.getpid()}")
            tmp.write_text(json.dumps(self.now, separators=(",", ":")), encoding="utf-8")
            os.replace(tmp, self.record)
        except OSError:  # only a saving lost: the next run reads the files
            pass


def record_path(family: str) -> Path | None:
    """Where the family's digests are kept for the configured warehouse (None when settings cannot be read)."""
    from dagster_project.paths import SettingError, settings

    try:
        return settings().tmp_dir / FOLDER / f"{family}.json"
    except (SettingError, ValueError):
        return None
