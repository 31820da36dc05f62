"""DuckDB's stored block checksums as the storage mark's witness of what a table's blocks hold
(``storage_blocks.BlockChecksums``, ``relation_fingerprint.StorageMarks``), on database files DuckDB writes.

The checksums are taken only where the file's layout is proven (a database header's own checksum, the first data block
read checked whole); anything else — a damaged or foreign file, an in-memory database, a table holding what is not
in its blocks yet (a write-ahead log a hand session left) — has its rows hashed into the mark instead, so no mark can
come back over other rows.
"""
from __future__ import annotations

import shutil

import duckdb
import pytest

from dagster_project.relation_fingerprint import StorageMarks
from dagster_project.storage_blocks import BLOCKS_START, BlockChecksums, duckdb_checksum


@pytest.fixture
def database(tmp_path):
    path = tmp_path / "w.duckdb"
    con = duckdb.connect(str(path))
    con.execute("CREATE SCHEMA marts")
    con.execute("CREATE TABLE marts.t AS SELECT range AS k, (range * 7919 % 100003)::DECIMAL(20, 2) AS amount_yuan, "
                "'宁夏第' || range || '标段' AS name FROM range(300000)")
    con.execute("CREATE VIEW marts.v AS SELECT k, amount_yuan FROM marts.t")
    con.close()
    return path


def _marks(path, name="t") -> tuple[str, list[str]]:
    con = duckdb.connect(str(path), read_only=True)
    try:
        marks = StorageMarks(con)
        return marks.of(name), marks.hashed
    finally:
        con.close()


def _blocks(path) -> list[int]:
    con = duckdb.connect(str(path), read_only=True)
    try:
        return sorted({r[0] for r in con.execute(
            "SELECT block_id FROM pragma_storage_info('marts.t') WHERE block_id >= 0").fetchall()})
    finally:
        con.close()


def test_the_checksums_duckdb_stored_are_what_its_blocks_hold(database):
    blocks = _blocks(database)
    sums = BlockChecksums(database).of(blocks)
    assert sums is not None and len(sums) == len(blocks) > 1
    reader = BlockChecksums(database)
    data = database.read_bytes()
    for block, stored in zip(blocks, sums):  # each recomputed from the block's bytes
        start = BLOCKS_START + block * reader.block_size
        assert duckdb_checksum(data[start + 8:start + reader.block_size]) == stored
    mark, hashed = _marks(database)
    assert hashed == []  # proven: no row read


def test_a_file_whose_layout_is_not_proven_has_its_rows_hashed(database, tmp_path):
    blocks = _blocks(database)
    damaged = tmp_path / "damaged.duckdb"
    shutil.copy(database, damaged)
    reader = BlockChecksums(database)
    with open(damaged, "r+b") as f:  # a byte of the first block changed: its stored checksum no longer holds
        f.seek(BLOCKS_START + blocks[0] * reader.block_size + 100)
        byte = f.read(1)
        f.seek(-1, 1)
        f.write(bytes([byte[0] ^ 0xFF]))
    assert BlockChecksums(damaged).of(blocks) is None
    headerless = tmp_path / "headerless.duckdb"
    headerless.write_bytes(b"\0" * BLOCKS_START + database.read_bytes()[BLOCKS_START:])
    assert BlockChecksums(headerless).of(blocks) is None
    assert BlockChecksums(None).of(blocks) is None
    assert BlockChecksums(database).of([10 ** 9]) is None  # past the file's block count


def test_an_in_memory_database_has_its_rows_hashed():
    con = duckdb.connect()
    try:
        con.execute("CREATE TABLE t AS SELECT range AS k FROM range(10)")
        marks = StorageMarks(con)
        before = marks.of("t")
        assert marks.hashed == ["main.t"]
        con.execute("UPDATE t SET k = k + 1 WHERE k = 3")
        assert StorageMarks(con).of("t") != before
    finally:
        con.close()


def test_a_write_ahead_log_left_by_a_hand_session_is_hashed_then_seen(database):
    """A session that did not checkpoint (closed without it, or killed) leaves its changes in the write-ahead log: a
    read replays them into memory, not into blocks — the table's rows are hashed, and two such states differ."""
    before, _ = _marks(database)
    states = []
    for delta in (1, 2):
        con = duckdb.connect(str(database))
        con.execute("PRAGMA disable_checkpoint_on_shutdown")
        con.execute("SET checkpoint_threshold = '1GB'")
        con.execute(f"UPDATE marts.t SET amount_yuan = amount_yuan + {delta} WHERE k = 5")
        con.close()
        assert database.with_name(database.name + ".wal").exists()
        mark, hashed = _marks(database)
        assert hashed == ["marts.t"]
        states.append(mark)
    assert len({before, *states}) == 3


def test_a_view_is_marked_by_the_table_it_reads_in_one_query(database):
    con = duckdb.connect(str(database), read_only=True)
    try:
        marks = StorageMarks(con)
        together = marks.of_all(["v", "t"])
        view = marks.of("v")
    finally:
        con.close()
    con = duckdb.connect(str(database))
    con.execute("UPDATE marts.t SET amount_yuan = amount_yuan + 1 WHERE k = 5")
    con.close()
    con = duckdb.connect(str(database), read_only=True)
    try:
        moved = StorageMarks(con)
        assert moved.of("v") != view and moved.of_all(["t", "v"]) != together
    finally:
        con.close()


def _swap(a: int, b: int) -> str:
    return (f"UPDATE marts.h SET h = CASE k WHEN {a} THEN (SELECT h FROM marts.h WHERE k = {b}) "
            f"WHEN {b} THEN (SELECT h FROM marts.h WHERE k = {a}) END WHERE k IN ({a}, {b})")


def test_values_exchanged_in_a_reused_block_move_the_mark(tmp_path):
    """DuckDB's stored checksum xors its 8-byte words each times one constant: blind to where a word sits. A column
    stored uncompressed (hashes: no compression pays) with two of its values exchanged, in a second checkpointed
    session that puts the segment back in the block it had (DuckDB reuses the block freed a session before), keeps
    the block's stored checksum, its offset and its statistics — the rows changed, so the mark must move."""
    path = tmp_path / "h.duckdb"
    con = duckdb.connect(str(path))
    con.execute("CREATE SCHEMA marts")
    con.execute("CREATE TABLE marts.h AS SELECT range AS k, hash(range) AS h FROM range(2000)")
    con.close()
    states = []
    for pair in ((1, 2), (5, 6), (7, 8)):  # three sessions: the first and the third write the same block
        con = duckdb.connect(str(path))
        con.execute(_swap(*pair))
        con.close()
        states.append(_marks(path, "h")[0])
        con = duckdb.connect(str(path), read_only=True)
        states[-1] = (states[-1], con.execute(
            "SELECT block_id, block_offset FROM pragma_storage_info('marts.h') WHERE column_id = 1 "
            "AND segment_type = 'UBIGINT'").fetchall())
        con.close()
    assert states[0][1] == states[2][1]  # the same block and offset: only what the block holds tells them apart
    assert states[0][0] != states[2][0]



def test_an_encrypted_file_has_its_rows_hashed_and_says_so(tmp_path, caplog):
    """The fallback is not silent: a run on a database file whose blocks cannot be proven (an encrypted file: another
    block header) hashes the rows, still sees a change, and its log says which file and why — an in-memory database
    (nothing on disk to prove) says nothing."""
    path = tmp_path / "sealed.duckdb"
    con = duckdb.connect()
    try:
        con.execute("SET force_mbedtls_unsafe = true")  # the Python wheel's crypto module writes only when told
        con.execute(f"ATTACH '{path}' AS sealed (ENCRYPTION_KEY 'ningxia-640000')")
        con.execute("USE sealed")
        con.execute("CREATE TABLE t AS SELECT range AS k, range * 7 AS amount FROM range(5000)")
        con.execute("CHECKPOINT")
        with caplog.at_level("WARNING", logger="dagster_project.relation_fingerprint"):
            marks = StorageMarks(con)
            before = marks.of_all(["t"])
            assert marks.hashed == ["main.t"]
            con.execute("UPDATE t SET amount = amount + 1 WHERE k = 5")
            con.execute("CHECKPOINT")
            assert StorageMarks(con).of_all(["t"]) != before
            StorageMarks(duckdb.connect()).of_all([])  # in memory: nothing said
    finally:
        con.close()
    said = [r.getMessage() for r in caplog.records]
    assert said == [f"storage marks: the blocks of {path} are not proven (an encrypted file): its tables' rows are "
                    "hashed instead"] * 2


def _read_only_marks(path, after=None) -> StorageMarks:
    con = duckdb.connect(str(path), read_only=True)
    try:
        marks = StorageMarks(con, after=after)
        marks.of_all(["t", "v"])
        return marks
    finally:
        con.close()


@pytest.mark.parametrize("session", [
    None,
    "update marts.t set amount_yuan = amount_yuan + 1 where k = 7",  # checkpointed when the session closes
    "pragma disable_checkpoint_on_shutdown; update marts.t set amount_yuan = amount_yuan + 1 where k = 7",  # in the log
    "create table marts.other as select 1 as x",  # another table: the catalogue moved, the marks of t did not
])
def test_marks_are_handed_to_the_next_read_only_connection_only_when_nothing_was_committed_between(database, session):
    """``StorageMarks(con, after=...)`` reuses what an earlier read-only connection read when the database file and its
    write-ahead log are as they were (``database_file_state``): once anything is committed — checkpointed or still in
    the log — every table is read again, and the marks are a fresh reading's."""
    first = _read_only_marks(database)
    if session:
        con = duckdb.connect(str(database))
        con.execute(session)
        con.close()
    handed = _read_only_marks(database, after=first)
    fresh = _read_only_marks(database)
    assert handed.reused is (session is None)
    assert (handed.of("t"), handed.of("v")) == (fresh.of("t"), fresh.of("v"))
    if session and "marts.t" in session:
        assert handed.of("t") != first.of("t")


def test_marks_of_a_connection_that_can_write_are_never_handed_on(database):
    """What a connection that can write has read may hold its own changes not committed: no file state, no reuse."""
    con = duckdb.connect(str(database))
    try:
        writer = StorageMarks(con)
        writer.of("t")
        assert writer.file_state is None
    finally:
        con.close()
    assert not _read_only_marks(database, after=writer).reused


def test_blocks_are_digested_one_at_a_time_not_held_together(database):
    """A table's blocks are read and digested one by one: the largest tables of a 10 M warehouse (≈ 2 GB of blocks)
    were all held in the process at once, beside DuckDB's own memory, in every quality and publication step."""
    import tracemalloc

    import xxhash

    blocks = _blocks(database)
    reader = BlockChecksums(database)
    assert len(blocks) >= 8  # enough blocks that holding them all would show
    data = database.read_bytes()
    tracemalloc.start()
    try:
        digests = reader.digests(blocks)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    expected = [xxhash.xxh3_128_hexdigest(data[BLOCKS_START + b * reader.block_size:
                                               BLOCKS_START + (b + 1) * reader.block_size]) for b in blocks]
    assert digests == expected
    assert peak < 4 * reader.block_size, (peak, len(blocks) * reader.block_size)  # a block read, its copy, slack
