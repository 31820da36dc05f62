"""A file's identity and status, by which a digest read from its bytes earlier can be trusted without reading again.

A file's change time (``st_ctime``) moves with every write and every metadata change, and no program can set it back
(``touch`` and ``os.utime`` set the modification time; the change time then moves to now). So a file with the same
device and inode, size, modification and change time as when its bytes were hashed holds those bytes. Used for the
files of earlier releases (``publish/parts.py``) and for the raw files of every run (``ingest/raw_digests.py``).
``GONGKAI_VERIFY_CARRIED=full`` turns both off: every such file is read again.
"""
from __future__ import annotations

import os

VERIFY_ENV = "GONGKAI_VERIFY_CARRIED"


def identity(st: os.stat_result) -> str:
    """The file's device and inode."""
    return f"{st.st_dev}:{st.st_ino}"


def status(st: os.stat_result) -> list[int]:
    """Size, modification and change time (nanoseconds)."""
    return [st.st_size, st.st_mtime_ns, st.st_ctime_ns]


def verify_everything() -> bool:
    """``GONGKAI_VERIFY_CARRIED=full``: no digest is taken from a file's status."""
    return os.environ.get(VERIFY_ENV, "").strip().lower() == "full"
