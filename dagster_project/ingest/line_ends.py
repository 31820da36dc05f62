"""A delimited text file whose records end in both CRLF and LF — read every record, not reject the file.

Python's ``csv`` writes CRLF by default, so a script appending rows to a file an editor saved with LF (or a script
writing LF onto Excel's CRLF export) leaves a file whose records end both ways. A person and Python's csv read it;
DuckDB's CSV scan takes one line end for the whole file and, in strict mode, fails the scan: the file was a
reject ("无法按 CSV 读取") and every row was lost.

An LF-only file costs one memchr per chunk the UTF-8 check already holds in memory (``LineEndCount``). Only a file
holding a CR is looked at with quotes in mind (the line ends of the kind the first record does not end in, each
tested for the quotes before it; a chunk of as many CRs as LFs holds no lone LF), and only when
record ends (outside quotes) are of both kinds is a copy written with every record end as LF; a line break inside
a quoted field is data and is kept as written (CRLF or LF). Lines are not added or removed, so physical line
numbers (undecodable-line notes) and record rows stay the file's own.
"""
from __future__ import annotations

import uuid
from dataclasses import dataclass
from pathlib import Path

CHUNK_BYTES = 4 << 20
# the suffixes read by DuckDB's CSV scan (textfiles.DELIMITED_SUFFIXES is this)
DELIMITED_SUFFIXES = (".csv", ".tsv", ".txt")
NOTE = "文件的记录混用 CRLF 与 LF 换行, 已统一后读取 (records end in both CRLF and LF: read with one line end)"


@dataclass
class LineEndCount:
    """Whether a file holds a CR at all, over consecutive chunks. ``bytes.find`` of one byte is memchr (a file of
    no CR costs next to nothing); a one-byte ``count`` is not (≈ 0.1 CPU-s per 300 MiB)."""

    cr: bool = False

    def add(self, chunk: bytes) -> None:
        if not self.cr:
            self.cr = chunk.find(b"\r") >= 0

    @property
    def both_kinds(self) -> bool:
        """A file with no CR ends every line in LF: one kind. A CR may be a CRLF beside LF record ends (or inside a
        quoted field, or every line CRLF): ``record_ends_mixed`` decides. (Lone CRs, old Mac line ends, are not a
        case of this module.)"""
        return self.cr


def count_line_ends(path: Path) -> LineEndCount:
    count = LineEndCount()
    with path.open("rb") as handle:
        while block := handle.read(CHUNK_BYTES):
            count.add(block)
    return count


def _chunks(path: Path):
    """The file's chunks; a CR ending a chunk is held for the next one, so no CRLF is cut in two."""
    carry = b""
    with path.open("rb") as handle:
        while block := handle.read(CHUNK_BYTES):
            data = carry + block
            carry, data = (b"\r", data[:-1]) if data.endswith(b"\r") else (b"", data)
            yield data
    if carry:
        yield carry


def _first_record_end(path: Path) -> bytes | None:
    """The line end (CRLF or LF) of the first record, a quoted field's line breaks skipped; None: no record end."""
    quoted = False
    for data in _chunks(path):
        start = 0
        while (pos := data.find(b"\n", start)) >= 0:
            quoted ^= data.count(b'"', start, pos) & 1
            if not quoted:
                return b"\r\n" if pos and data[pos - 1] == 0x0D else b"\n"
            start = pos + 1
        quoted ^= data.count(b'"', start) & 1
    return None


def record_ends_mixed(path: Path) -> bool:
    """Whether a record ends (outside quotes) in the other kind than the first record: each candidate line end of
    the other kind is tested for quotes before it; the first unquoted one decides. A chunk whose CRs and LFs are as
    many (CRLF only) holds no lone LF to test."""
    first = _first_record_end(path)
    if first is None:
        return False
    quoted = False
    for data in _chunks(path):
        start = 0
        if first == b"\n":  # candidates: CRLFs (one-byte find is memchr; a two-byte find is three times slower)
            def find(i):
                while (pos := data.find(b"\r", i)) >= 0 and data[pos + 1:pos + 2] != b"\n":
                    i = pos + 1
                return pos
        elif data.count(b"\n") == data.count(b"\r"):
            find = lambda i: -1  # noqa: E731
        else:  # candidates: LFs without a CR before them
            def find(i):
                while (pos := data.find(b"\n", i)) > 0 and data[pos - 1] == 0x0D:
                    i = pos + 1
                return pos
        while (pos := find(start)) >= 0:
            quoted ^= data.count(b'"', start, pos) & 1
            if not quoted:
                return True
            start = pos + 1
        quoted ^= data.count(b'"', start) & 1
    return False


def _normalise_chunk(data: bytes, quoted: bool) -> tuple[bytes, bool]:
    """``data`` with CRLF outside quotes made LF; the quote state after it. A doubled quote ("") inside a quoted
    field toggles twice: the state is right without special-casing it."""
    parts = data.split(b'"')
    for i, part in enumerate(parts):
        if i:
            quoted = not quoted
        if not quoted and b"\r\n" in part:
            parts[i] = part.replace(b"\r\n", b"\n")
    return b'"'.join(parts), quoted


def normalised_copy(path: Path, tmp_dir: Path) -> Path | None:
    """A copy of ``path`` whose record ends are all LF, when its record ends are of both kinds; else None."""
    if not record_ends_mixed(path):
        return None
    tmp_dir.mkdir(parents=True, exist_ok=True)
    tmp = tmp_dir / f"line-ends-{uuid.uuid4().hex}{path.suffix.lower()}"
    quoted = False
    try:
        with tmp.open("wb") as sink:
            for data in _chunks(path):  # (a CR ending a chunk is decided with the next: no CRLF cut in two)
                out, quoted = _normalise_chunk(data, quoted)
                sink.write(out)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return tmp


__all__ = ["DELIMITED_SUFFIXES", "LineEndCount", "NOTE", "count_line_ends", "normalised_copy", "record_ends_mixed"]
