"""Raw files hashed only when their status does not vouch for the digest kept when their bytes were last read."""
import hashlib
import os

from dagster_project.ingest import raw_digests


def _sha(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_an_unchanged_file_is_not_read_again_and_any_write_is(tmp_path, monkeypatch):
    record = tmp_path / "tmp" / "raw_digests" / "budget.json"
    raw = tmp_path / "raw"
    raw.mkdir()
    a, b = raw / "a.xlsx", raw / "b.csv"
    a.write_bytes(b"first")
    b.write_bytes(b"second")
    monkeypatch.setattr(raw_digests, "RECENT_NS", 0)  # the files were just written: vouch for them at once

    first = raw_digests.RawDigests(record, _sha)
    assert [first.digest(a), first.digest(b)] == [_sha(a), _sha(b)] and first.files_read == 2
    first.save()

    again = raw_digests.RawDigests(record, _sha)
    assert [again.digest(a), again.digest(b)] == [_sha(a), _sha(b)] and again.files_read == 0

    # the same size and modification time put back after a write in place: the change time still moved
    st = a.stat()
    a.write_bytes(b"FIRST")
    os.utime(a, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert a.stat().st_size == st.st_size and a.stat().st_mtime_ns == st.st_mtime_ns
    changed = raw_digests.RawDigests(record, _sha)
    assert changed.digest(a) == _sha(a) != hashlib.sha256(b"first").hexdigest()
    assert changed.files_read == 1

    monkeypatch.setenv("GONGKAI_VERIFY_CARRIED", "full")
    assert raw_digests.RawDigests(record, _sha).before == {}


def test_a_file_written_just_now_is_read_again_next_time(tmp_path):
    record = tmp_path / "budget.json"
    path = tmp_path / "a.xlsx"
    path.write_bytes(b"bytes")
    first = raw_digests.RawDigests(record, _sha)
    first.digest(path)
    first.save()
    again = raw_digests.RawDigests(record, _sha)
    again.digest(path)
    assert again.files_read == 1  # changed within RECENT_NS of being hashed: not vouched for
