"""A delimited text file whose records end in both CRLF and LF — read every record, not reject the file.

Python's ``csv`` writes CRLF by default, so a script appending rows to a file an editor saved with LF (or a script
writing LF onto Excel's CRLF export) leaves a file whose records end both ways. A person and Python's csv read it;
DuckDB's CSV scan takes one line end for the whole file and, in strict mode, fails the scan: the file was a
reject ("无法按 CSV 读取") and every row was lost.

The common case is one kind and costs only two ``bytes.count`` per chunk the UTF-8 check already holds in memory
(``LineEndCount``). Only a file holding both a CRLF and a lone LF is looked at with quotes in mind, and only when
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
    """Line ends counted over consecutive chunks of a file (quotes not considered)."""

    lf: int = 0  # every LF, alone or after CR
    crlf: int = 0
    _last: int = -1  # last byte of the previous chunk: a CRLF may straddle two chunks

    def add(self, chunk: bytes) -> None:
        if not chunk:
            return
        self.lf += chunk.count(b"\n")
        self.crlf += chunk.count(b"\r\n") + (self._last == 0x0D and chunk[0] == 0x0A)
        self._last = chunk[-1]

    @property
    def both_kinds(self) -> bool:
        """A CRLF and a lone LF both occur: record ends may be mixed (or an LF is inside a quoted field)."""
        return 0 < self.crlf < self.lf


def count_line_ends(path: Path) -> LineEndCount:
    count = LineEndCount()
    with path.open("rb") as handle:
        while block := handle.read(CHUNK_BYTES):
            count.add(block)
    return count


def _normalise_chunk(data: bytes, quoted: bool) -> tuple[bytes, bool, int, int]:
    """``data`` with CRLF outside quotes made LF; the quote state after it; record ends seen (CRLF, lone LF).
    A doubled quote ("") inside a quoted field toggles twice: the state is right without special-casing it."""
    parts = data.split(b'"')
    crlf = lone = 0
    for i, part in enumerate(parts):
        if i:
            quoted = not quoted
        if not quoted:
            n_crlf = part.count(b"\r\n")
            if n_crlf:
                crlf += n_crlf
                parts[i] = part.replace(b"\r\n", b"\n")
            lone += part.count(b"\n") - n_crlf
    return b'"'.join(parts), quoted, crlf, lone


def normalised_copy(path: Path, tmp_dir: Path) -> Path | None:
    """A copy of ``path`` whose record ends are all LF, when its record ends are of both kinds; else None."""
    tmp_dir.mkdir(parents=True, exist_ok=True)
    tmp = tmp_dir / f"line-ends-{uuid.uuid4().hex}{path.suffix.lower()}"
    quoted, crlf, lone, carry = False, 0, 0, b""
    try:
        with path.open("rb") as handle, tmp.open("wb") as sink:
            while block := handle.read(CHUNK_BYTES):
                data = carry + block
                # a CR at a chunk's end may start a CRLF: decide it with the next chunk
                carry, data = (b"\r", data[:-1]) if data.endswith(b"\r") else (b"", data)
                out, quoted, c, n = _normalise_chunk(data, quoted)
                crlf, lone = crlf + c, lone + n
                sink.write(out)
            sink.write(carry)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    if crlf and lone:
        return tmp
    tmp.unlink(missing_ok=True)  # every record ends one way; the other kind is inside quoted fields only
    return None


__all__ = ["DELIMITED_SUFFIXES", "LineEndCount", "NOTE", "count_line_ends", "normalised_copy"]
