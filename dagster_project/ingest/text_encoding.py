"""Which encoding a text export is in — decided for the whole file when it can be, per line when it must.

* A file that is strict UTF-8 throughout (after an optional BOM) is read as it is: the fast path, and
  what almost every export is.
* Anything else is decided **line by line** and transcoded to a temporary UTF-8 file: a line that is
  pure ASCII is the same in both; a line that is valid UTF-8 is UTF-8; otherwise a line that is valid
  GB18030 (a superset of GBK) is GB18030. Decoding the whole of a GBK export that carries a few UTF-8
  lines as GB18030 would succeed and turn those lines into mojibake, which would then be published;
  deciding per line reads both kinds right. (A GBK line of Chinese text is practically never valid
  UTF-8: GBK lead bytes are UTF-8 lead bytes whose continuation bytes GBK rarely supplies.)
* A line that decodes in neither is kept with U+FFFD in place of the bad bytes and listed, so the
  loader rejects the record holding it (a row error naming its row) and the rest of the file loads. A
  file whose header line decodes in neither is rejected whole: nothing in it can be bound.

DuckDB cannot read GBK offline, which is why non-UTF-8 files are transcoded at all; the temporary file
lives under ``paths.settings().tmp_dir`` and is deleted when the load ends.
"""
from __future__ import annotations

import codecs
import io
import re
import uuid
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Iterator

from dagster_project import paths
from dagster_project.ingest.framework import FileRejected, RawFile
from dagster_project.ingest.line_ends import DELIMITED_SUFFIXES, LineEndCount, count_line_ends, normalised_copy
from dagster_project.ingest.line_ends import NOTE as LINE_ENDS_NOTE

CHUNK_BYTES = 4 << 20
UTF8_BOM = codecs.BOM_UTF8
REPLACEMENT = "\ufffd"
# Undecodable line numbers kept for the file's reason text; the count is always exact.
MAX_LISTED_LINES = 20


@dataclass
class TextSource:
    """A text file as DuckDB should read it: ``read_path`` is UTF-8 (the original or a temp copy)."""

    original: Path
    read_path: Path
    encoding: str  # utf-8 | utf-8-sig | gb18030 | gb18030+utf-8 | utf-8-sig+gb18030 | …
    lines_by_encoding: dict[str, int] = field(default_factory=dict)  # non-ASCII lines per encoding
    undecodable_lines: list[int] = field(default_factory=list)  # 1-based physical lines (first few)
    undecodable_count: int = 0
    surrogates_replaced: int = 0  # lone UTF-16 surrogate escapes in JSON replaced by U+FFFD (json_surrogates)
    line_ends_normalised: bool = False  # records ended in both CRLF and LF: read from a copy ending all in LF

    @property
    def is_mixed(self) -> bool:
        return len(self.lines_by_encoding) > 1

    def notes(self) -> list[str]:
        """What a clerk should know about how the file was decoded (for the file's reason text)."""
        out = []
        if self.is_mixed:
            parts = ", ".join(f"{n} 行 {enc}" for enc, n in sorted(self.lines_by_encoding.items()))
            out.append(f"文件混用编码, 已逐行识别 (mixed encodings decoded line by line): {parts}")
        if self.undecodable_count:
            listed = ", ".join(str(n) for n in self.undecodable_lines)
            more = " …" if self.undecodable_count > len(self.undecodable_lines) else ""
            what = (("含无法读取的 UTF-16 字符", "holding unreadable UTF-16") if self.encoding.startswith("utf-16")
                    else ("既不是 UTF-8 也不是 GBK", "neither UTF-8 nor GBK"))
            # the file's own lines as a text editor counts them; raw.load_rejects names the record's row (as a
            # spreadsheet shows it), which differs once a quoted field above spans several lines
            out.append(f"{self.undecodable_count} 行{what[0]}, 所在记录被拒绝 (lines {what[1]}, their records "
                       f"rejected): 文件第 {listed}{more} 行 (line {listed}{more} of the file as text)")
        if self.surrogates_replaced:
            out.append(
                f"{self.surrogates_replaced} 处不成对的 UTF-16 代理转义 (如被截断的表情符号) 已替换为 U+FFFD "
                f"({self.surrogates_replaced} lone UTF-16 surrogate escapes, e.g. a cut emoji, replaced by U+FFFD)"
            )
        if self.line_ends_normalised:
            out.append(LINE_ENDS_NOTE)
        return out


def _scan_decode(path: Path, encoding: str, sink: io.TextIOBase | None, skip: int = 0,
                 ends: LineEndCount | None = None) -> int | None:
    """Decode ``path`` strictly in chunks; write the text to ``sink`` if given; count line ends into ``ends``
    (the chunks are in hand already: a CSV's line-end check costs no second read).

    Returns None when the whole file decodes, else the byte offset of the first undecodable byte.
    A multibyte sequence cut by a chunk boundary is carried into the next chunk, so offsets are exact.
    """
    max_seq = 4  # longest UTF-8 / GB18030 sequence
    carry = b""
    base = skip  # file offset of carry[0]
    with path.open("rb") as handle:
        handle.seek(skip)
        while True:
            block = handle.read(CHUNK_BYTES)
            final = not block
            if ends is not None:
                ends.add(block)
            data = carry + block
            if not data:
                return None
            try:
                text = data.decode(encoding, errors="strict")
                carry = b""
                consumed = len(data)
            except UnicodeDecodeError as exc:
                if not final and exc.start >= len(data) - max_seq:
                    text = data[: exc.start].decode(encoding, errors="strict")
                    carry = data[exc.start:]
                    consumed = exc.start
                else:
                    return base + exc.start
            if sink is not None and text:
                sink.write(text)
            base += consumed
            if final:
                return None


def detect_encoding(path: Path) -> tuple[str, int | None, int | None]:
    """Whole-file view: (encoding, utf8_error_offset, gb_error_offset); '' when neither decodes whole."""
    with path.open("rb") as handle:
        head = handle.read(3)
    if head == UTF8_BOM:
        bad = _scan_decode(path, "utf-8", None, skip=3)
        return ("utf-8-sig", bad, None) if bad is None else ("", bad, None)
    utf8_bad = _scan_decode(path, "utf-8", None)
    if utf8_bad is None:
        return "utf-8", None, None
    gb_bad = _scan_decode(path, "gb18030", None)
    if gb_bad is None:
        return "gb18030", utf8_bad, None
    return "", utf8_bad, gb_bad


@dataclass
class _LineStats:
    by_encoding: dict[str, int] = field(default_factory=dict)
    bad_lines: list[int] = field(default_factory=list)
    bad_count: int = 0
    header_bad_offset: int | None = None  # byte offset of the header line when it decodes in neither


# What Chinese exports are written in: ASCII, the Latin-1 signs Chinese text uses (° ± × ÷ · ¥ §),
# general punctuation, CJK symbols, kana and ideographs (U+3000–U+9FFF), compatibility ideographs and
# forms, full-width forms, ideograph extensions B–G.
_UNUSUAL = re.compile("[^\x00-\x7f\u00a0\u00a5\u00a7\u00b0-\u00b3\u00b7\u00d7\u00f7\u2000-\u206f"
                      "\u2100-\u218f\u2460-\u24ff\u3000-\u9fff\uf900-\ufaff\ufe30-\ufe4f\uff00-\uffef"
                      "\U00020000-\U0003ffff]")
# Below this many non-ASCII bytes a line can be valid — and plausible — in both encodings by chance
# (two GBK characters are valid UTF-8 for one pair in 60); the file's other lines decide.
_SHORT_NON_ASCII = 9


def _decode_line(line: bytes, prefer: str = "gb18030") -> tuple[str, str | None]:
    """(text, encoding used) — encoding None when the line decodes in neither (U+FFFD substituted).

    A line valid in only one encoding is in that one. Valid in both (UTF-8 Chinese often is valid
    GB18030 — the mojibake this module exists to prevent; a GBK line is only rarely valid UTF-8): a
    reading with unusual characters (Latin letters, Cyrillic …) loses to one without; if both are
    plausible, UTF-8 wins, unless the line is so short that chance could make it valid UTF-8 — then
    ``prefer``, the encoding of the file's unambiguous lines so far, does."""
    try:
        utf8 = line.decode("utf-8")
    except UnicodeDecodeError:
        utf8 = None
    try:
        gb = line.decode("gb18030")
    except UnicodeDecodeError:
        gb = None
    if utf8 is None and gb is None:
        return line.decode("gb18030", errors="replace"), None
    if gb is None:
        return utf8, "utf-8"
    if utf8 is None:
        return gb, "gb18030"
    utf8_odd, gb_odd = bool(_UNUSUAL.search(utf8)), bool(_UNUSUAL.search(gb))
    if utf8_odd != gb_odd:
        return (gb, "gb18030") if utf8_odd else (utf8, "utf-8")
    if sum(b > 0x7F for b in line) < _SHORT_NON_ASCII and prefer == "gb18030":
        return gb, "gb18030"
    return utf8, "utf-8"


def _valid_in_one(line: bytes) -> bool:
    valid = 0
    for encoding in ("utf-8", "gb18030"):
        try:
            line.decode(encoding)
            valid += 1
        except UnicodeDecodeError:
            pass
    return valid == 1


def transcode_by_line(path: Path, sink: io.TextIOBase, skip: int = 0) -> _LineStats:
    """Write ``path`` to ``sink`` as UTF-8, deciding each physical line's encoding on its own."""
    stats = _LineStats()
    state = {"line": 0, "offset": skip, "content_seen": False}
    decisive = {"utf-8": 0, "gb18030": 0}  # lines valid in one encoding only

    def emit(raw: bytes, newline: bool) -> None:
        state["line"] += 1
        if raw.isascii():
            sink.write(raw.decode("ascii"))
        else:
            prefer = "utf-8" if decisive["utf-8"] > decisive["gb18030"] else "gb18030"
            text, used = _decode_line(raw, prefer)
            if used is not None and _valid_in_one(raw):
                decisive[used] += 1
            sink.write(text)
            if used is None:
                stats.bad_count += 1
                if len(stats.bad_lines) < MAX_LISTED_LINES:
                    stats.bad_lines.append(state["line"])
                if not state["content_seen"]:
                    stats.header_bad_offset = state["offset"]
            else:
                stats.by_encoding[used] = stats.by_encoding.get(used, 0) + 1
        if raw.strip():
            state["content_seen"] = True
        state["offset"] += len(raw) + 1
        if newline:
            sink.write("\n")

    pending = b""
    with path.open("rb") as handle:
        handle.seek(skip)
        while block := handle.read(CHUNK_BYTES):
            lines = (pending + block).split(b"\n")
            pending = lines.pop()  # the last piece has no newline yet
            for raw in lines:
                emit(raw, newline=True)
    if pending:
        emit(pending, newline=False)
    return stats


@contextmanager
def utf8_source(f: RawFile) -> Iterator[TextSource]:
    """Yield a UTF-8 view of ``f``; files that are not strict UTF-8 are transcoded line by line, and JSON holding
    lone surrogate escapes is read from a repaired copy (``json_surrogates``)."""
    from dagster_project.ingest import json_surrogates

    delimited = f.path.suffix.lower() in DELIMITED_SUFFIXES
    ends = LineEndCount() if delimited else None
    with _utf8_source(f, ends) as src:
        if f.path.suffix.lower() in json_surrogates.JSON_SUFFIXES:
            with json_surrogates.repaired(src, paths.settings().tmp_dir) as fixed:
                yield fixed
        elif delimited:
            with _one_line_end(src, ends if src.read_path == f.path else None) as one:
                yield one
        else:
            yield src


@contextmanager
def _one_line_end(src: TextSource, ends: LineEndCount | None) -> Iterator[TextSource]:
    """``src``, or a copy whose records all end in LF when they end in both CRLF and LF (``line_ends``). ``ends``:
    the original's line ends counted while checking its UTF-8; None for a transcoded copy (counted here)."""
    ends = ends if ends is not None else count_line_ends(src.read_path)
    copy = normalised_copy(src.read_path, paths.settings().tmp_dir) if ends.both_kinds else None
    if copy is None:
        yield src
        return
    try:
        yield replace(src, read_path=copy, line_ends_normalised=True)
    finally:
        copy.unlink(missing_ok=True)


# Excel's and WPS' "Unicode text" (Unicode 文本) is UTF-16 with a byte-order mark, tab-separated: it was read as
# neither UTF-8 nor GBK and refused. A BOM makes UTF-16 certain (no GBK or UTF-8 text starts FF FE / FE FF).
UTF16_BOMS = {codecs.BOM_UTF16_LE: "utf-16-le", codecs.BOM_UTF16_BE: "utf-16-be"}
_SURROGATE = re.compile("[\ud800-\udfff]")


def transcode_utf16(path: Path, encoding: str, sink: io.TextIOBase) -> _LineStats:
    """Write a UTF-16 file (after its BOM) to ``sink`` as UTF-8. A lone surrogate or a cut last code unit cannot
    be read: it becomes U+FFFD and its physical line is listed, so the record holding it is a row reject."""
    stats, line, tail = _LineStats(), 1, ""
    decoder = codecs.getincrementaldecoder(encoding)(errors="surrogatepass")

    def emit(text: str) -> None:
        nonlocal line
        if _SURROGATE.search(text):
            for number, piece in enumerate(text.split("\n"), start=line):
                if _SURROGATE.search(piece):
                    stats.bad_count += 1
                    if len(stats.bad_lines) < MAX_LISTED_LINES:
                        stats.bad_lines.append(number)
                    if number == 1:
                        stats.header_bad_offset = 2
            text = _SURROGATE.sub(REPLACEMENT, text)
        line += text.count("\n")
        sink.write(text)

    with path.open("rb") as handle:
        handle.seek(2)
        while block := handle.read(CHUNK_BYTES):
            text = tail + decoder.decode(block)
            # a high surrogate at a block's end may pair with the next block's first unit: hold it back
            tail, text = (text[-1], text[:-1]) if text and "\ud800" <= text[-1] <= "\udbff" else ("", text)
            emit(text)
    try:
        rest = decoder.decode(b"", final=True)
    except UnicodeDecodeError:  # an odd number of bytes: the last code unit is cut
        rest = "\ud800"
    emit(tail + rest)
    return stats


@contextmanager
def _utf8_source(f: RawFile, ends: LineEndCount | None = None) -> Iterator[TextSource]:
    if f.bytes == 0:
        raise FileRejected(f"{f.rel}: 空文件 (the file is empty)")
    with f.path.open("rb") as handle:
        head = handle.read(3)
    utf16 = UTF16_BOMS.get(head[:2])
    if utf16 is not None:
        with _transcoded_utf16(f, utf16) as src:
            yield src
        return
    has_bom = head == UTF8_BOM
    skip = 3 if has_bom else 0
    if _scan_decode(f.path, "utf-8", None, skip=skip, ends=ends) is None:
        yield TextSource(f.path, f.path, "utf-8-sig" if has_bom else "utf-8")
        return
    tmp_dir = paths.settings().tmp_dir
    tmp_dir.mkdir(parents=True, exist_ok=True)
    tmp = tmp_dir / f"transcoded-{uuid.uuid4().hex}{f.path.suffix.lower()}"
    try:
        with tmp.open("w", encoding="utf-8", newline="") as sink:
            stats = transcode_by_line(f.path, sink, skip=skip)
        if stats.header_bad_offset is not None:
            raise FileRejected(
                f"{f.rel}: 第1行(表头)既不是有效的 UTF-8 也不是 GBK/GB18030, 文件无法读取 (the first line, "
                f"the header, is neither UTF-8 nor GBK/GB18030 near byte offset {stats.header_bad_offset}); "
                f"请另存为 UTF-8 后重新提交 (save it as UTF-8 and submit it again)"
            )
        labels = (["utf-8-sig"] if has_bom else []) + sorted(
            enc for enc in stats.by_encoding if not (has_bom and enc == "utf-8"))
        encoding = "+".join(labels) or ("utf-8-sig" if has_bom else "gb18030")
        yield TextSource(f.path, tmp, encoding, dict(stats.by_encoding), stats.bad_lines, stats.bad_count)
    finally:
        tmp.unlink(missing_ok=True)


@contextmanager
def _transcoded_utf16(f: RawFile, encoding: str) -> Iterator[TextSource]:
    tmp_dir = paths.settings().tmp_dir
    tmp_dir.mkdir(parents=True, exist_ok=True)
    tmp = tmp_dir / f"transcoded-{uuid.uuid4().hex}{f.path.suffix.lower()}"
    try:
        with tmp.open("w", encoding="utf-8", newline="") as sink:
            stats = transcode_utf16(f.path, encoding, sink)
        if stats.header_bad_offset is not None:
            raise FileRejected(f"{f.rel}: 第1行(表头)含无法读取的 UTF-16 字符, 文件无法读取 (the first line, the header, "
                               f"holds unreadable UTF-16); 请另存为 UTF-8 后重新提交 (save it as UTF-8 and submit it again)")
        yield TextSource(f.path, tmp, encoding, {}, stats.bad_lines, stats.bad_count)
    finally:
        tmp.unlink(missing_ok=True)


__all__ = ["CHUNK_BYTES", "REPLACEMENT", "TextSource", "detect_encoding", "transcode_by_line", "transcode_utf16",
           "utf8_source"]
