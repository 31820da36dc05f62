"""What each storage block a relation's segments live in holds, read from the database file (DuckDB's own checksum
proves the layout; a digest of the bytes is the witness: last paragraph).

``relation_fingerprint.StorageMarks`` tells a relation changed by hand from one left alone without reading its rows:
columns, row count, and where its column segments are stored (block, offset, statistics). DuckDB reuses freed blocks,
so two checkpointed changes can put a segment back in the block and at the offset it had, other values in it. What
the block *holds* is in the file too: DuckDB writes a checksum of every block's bytes in the block's first 8 bytes
(``src/common/checksum.cpp``: 5381 xor, over the 8-byte words after it, of each word times 0xbf58476d1ce4e5b9), and
checks it on every read. Reading those 8 bytes per block costs one small read (≈ 600 blocks for 1 M rows of 30
columns: ≈ 0.001 CPU-s), against ≈ 0.4 CPU-s to hash the rows in DuckDB; reading and digesting the whole blocks
costs about what copying them from the page cache costs (the digest, XXH3, runs at ≈ 30 GB/s here).

The layout is DuckDB's single-file format: three 4 KiB headers (the main one with ``DUCK`` at byte 8, two database
headers — iteration, meta block, free list, block count, block allocation size, …), then block ``i`` at
``12288 + i × block_alloc_size``. It is *proven*, not assumed: a database header is taken only when its own checksum
holds, and a file's first data block read is checked whole (its stored checksum recomputed from its bytes). Whatever
is not proven — another layout, an encrypted file (another block header), a block past the file's block count, a file
that cannot be read — gives ``None``, and the caller hashes the rows instead.

The xor is blind to where a word sits and to two equal words: two uncompressed 8-byte values exchanged (a hash column,
a segment no compression pays for), then a second checkpointed session putting the segment back in the block it had,
keeps the stored checksum. So the stored checksum only proves the layout; what a block holds is ``digests``: a
128-bit XXH3 of its bytes (one read of every block a table uses — still no row decoded). Not a cryptographic digest:
the mark tells a table changed by a hand session from one left alone; it is not a seal against someone forging
blocks to collide, who could as well change the marks kept beside them. BLAKE2b, used before, ran at ≈ 0.65 GB/s:
≈ 13 CPU-s for the 8.5 GB warehouse of 10 M trading rows, in each step that takes marks, every run.
"""
from __future__ import annotations

import struct
from pathlib import Path
from typing import Callable, TypeVar

import numpy as np
import xxhash

HEADER_SIZE = 4096  # Storage::FILE_HEADER_SIZE
BLOCKS_START = 3 * HEADER_SIZE  # the main header and the two database headers
CHECKSUM_SIZE = 8  # the block header of an unencrypted file: the checksum only
MAGIC = b"DUCK"
_MULTIPLIER = np.uint64(0xBF58476D1CE4E5B9)
_SEED = np.uint64(5381)
T = TypeVar("T")


def duckdb_checksum(data: bytes) -> int | None:
    """DuckDB's ``Checksum`` of ``data`` (a length of whole 8-byte words; None otherwise: not a block's)."""
    if len(data) % 8:
        return None
    words = np.frombuffer(data, dtype="<u8")
    with np.errstate(over="ignore"):
        return int(np.bitwise_xor.reduce(words * _MULTIPLIER, initial=np.uint64(0)) ^ _SEED)


class BlockChecksums:
    """The stored checksums of blocks of one DuckDB database file, read while a connection to it is open (no writer
    then: DuckDB's file lock), ``None`` for anything not proven (module docstring)."""

    def __init__(self, path: str | Path | None):
        self.path = Path(path) if path else None
        self.block_size = 0
        self.block_count = 0
        self._proven = False  # a data block checked whole
        self._read_headers()

    def _read_headers(self) -> None:
        if self.path is None:
            return
        try:
            with open(self.path, "rb") as f:
                head = f.read(BLOCKS_START)
        except OSError:
            return
        if len(head) < BLOCKS_START or head[8:12] != MAGIC:
            return
        best = None
        for offset in (HEADER_SIZE, 2 * HEADER_SIZE):
            block = head[offset:offset + HEADER_SIZE]
            (stored,) = struct.unpack_from("<Q", block, 0)
            if duckdb_checksum(block[CHECKSUM_SIZE:]) != stored:
                continue
            iteration, _meta, _free, count, size = struct.unpack_from("<QQQQQ", block, CHECKSUM_SIZE)
            if best is None or iteration > best[0]:
                best = (iteration, count, size)
        if best is None:
            return
        _, count, size = best
        if size < HEADER_SIZE or size & (size - 1) or size > 1 << 30:  # a power of two: DuckDB's block sizes
            return
        self.block_count, self.block_size = count, size

    def digests(self, block_ids) -> list[str] | None:
        """An XXH3-128 of each block's bytes (where each word sits counts), in the order given; None when the layout
        is not proven (``of``: the first block read checked whole against its stored checksum)."""
        ids = list(block_ids)
        if self.of(ids[:1]) is None:
            return None
        # digested as each block is read: a table's blocks are never all in memory at once (at 10 M trading rows the
        # largest table's are 2.5 GB, which the job process held on top of DuckDB's memory)
        return self._read(ids, self.block_size, xxhash.xxh3_128_hexdigest)

    def of(self, block_ids) -> list[int] | None:
        """The stored checksum of each block, in the order given; None when any is not proven."""
        if not self.block_size:
            return None
        ids = list(block_ids)
        if any(not 0 <= b < self.block_count for b in ids):
            return None
        if ids and not self._proven:  # the first block read is checked whole: the layout is what we think
            first = self._read(ids[:1], self.block_size)
            if first is None or duckdb_checksum(first[0][CHECKSUM_SIZE:]) != struct.unpack_from("<Q", first[0], 0)[0]:
                self.block_size = 0
                return None
            self._proven = True
        return self._read(ids, CHECKSUM_SIZE, lambda word: struct.unpack_from("<Q", word, 0)[0])

    def _read(self, block_ids: list[int], size: int, each: Callable[[bytearray], T] = bytes) -> list[T] | None:
        """``each`` of the first ``size`` bytes of each block (a block's stored checksum is its first word), applied
        as the block is read into one buffer; None when the file cannot be read or ends early."""
        buffer = bytearray(size)
        out = []
        try:
            with open(self.path, "rb", buffering=0) as f:
                for b in block_ids:
                    f.seek(BLOCKS_START + b * self.block_size)
                    if f.readinto(buffer) != size:
                        return None
                    out.append(each(buffer))
        except OSError:
            return None
        return out
