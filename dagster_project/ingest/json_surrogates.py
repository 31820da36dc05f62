"""Lone UTF-16 surrogate escapes in JSON: replaced by U+FFFD so one broken character does not lose a whole file.

Exporters written in Java or JavaScript count text in UTF-16 units; one that cuts a title to a length can cut an
emoji between its two halves and write ``"…\\ud83d"`` — an escape JSON allows syntactically but that encodes no
character. DuckDB's JSON reader refuses the whole document for it ("no low surrogate in string"): the national
platform's search response is one document, so one cut title lost every record in it (found with a hostile raw
root: the file was rejected as "not a trading export", with no header found). Such an escape is replaced by
``\\ufffd`` (the replacement character, as a decoder does with bytes it cannot read), the rest of the text is kept,
and the file's note says how many were replaced. Escapes that pair up (``\\ud83d\\ude00``) are left alone, and so is
``\\\\ud800`` — an escaped backslash followed by the letters ``ud800``, which is text, not an escape.
"""
from __future__ import annotations

import re
import uuid
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Iterator

from dagster_project.ingest.text_staging import JSON_LINES_SUFFIXES

# a run of backslashes, then u and a surrogate code unit (D800–DFFF); the run's length tells an escape (odd) from
# escaped backslashes followed by text (even)
_SURROGATE = re.compile(r"(\\+)u([dD][89a-fA-F][0-9a-fA-F]{2})")
_ANY_SURROGATE = re.compile(rb"\\u[dD][89a-fA-F]")
JSON_SUFFIXES = (".json", *JSON_LINES_SUFFIXES)


def repair_lone_surrogates(text: str) -> tuple[str, int]:
    """``text`` (JSON) with every lone surrogate escape replaced by ``\\ufffd``; and how many were. The escapes are
    taken in order: a high half (D800–DBFF) is paired only with a low half (DC00–DFFF) escaped right after it."""
    lone: list[re.Match] = []
    pending = None  # a high half waiting for its low half
    for m in _SURROGATE.finditer(text):
        if len(m.group(1)) % 2 == 0:  # escaped backslashes, then plain text: not an escape
            continue
        high = m.group(2)[1].lower() in "89ab"
        if pending is not None and not high and m.start() == pending.end() and len(m.group(1)) == 1:
            pending = None  # the low half of the high half before it: one character
            continue
        if pending is not None:
            lone.append(pending)
            pending = None
        if high:
            pending = m
        else:
            lone.append(m)
    if pending is not None:
        lone.append(pending)
    if not lone:
        return text, 0
    out, at = [], 0
    for m in lone:  # in text order
        out += [text[at:m.start()], m.group(1)[:-1], "\\ufffd"]
        at = m.end()
    out.append(text[at:])
    return "".join(out), len(lone)


@contextmanager
def repaired(src, tmp_dir: Path) -> Iterator:
    """``src`` (a ``TextSource`` of a JSON file) as DuckDB can read it: a copy with lone surrogate escapes replaced,
    or ``src`` itself when it has none (one scan of the bytes for ``\\ud8``–``\\udf``; a file without any is not
    decoded)."""
    data = src.read_path.read_bytes()
    if not _ANY_SURROGATE.search(data):
        yield src
        return
    text, count = repair_lone_surrogates(data.decode("utf-8", errors="surrogateescape"))
    if not count:
        yield src
        return
    tmp_dir.mkdir(parents=True, exist_ok=True)
    tmp = tmp_dir / f"surrogates-{uuid.uuid4().hex}{src.read_path.suffix.lower()}"
    try:
        tmp.write_bytes(text.encode("utf-8", errors="surrogateescape"))
        yield replace(src, read_path=tmp, surrogates_replaced=count)
    finally:
        tmp.unlink(missing_ok=True)


__all__ = ["JSON_SUFFIXES", "repair_lone_surrogates", "repaired"]
