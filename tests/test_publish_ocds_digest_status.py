"""OCDS package files proven by their file status, not read again (issue 16): the OCDS build keeps each package's
digest with its inode, size, modification and change time (``<out>/ocds/.published-digests.json``), so the release
that includes the packages and the next build that carries them take the digest from a ``stat`` while the status
holds — and read the file, and catch a change, when it does not."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from dagster_project.publish import atomic, parts, release_metadata, release_validation
from dagster_project.publish.ocds import build_ocds
from dagster_project.publish.ocds_config import package_files
from dagster_project.publish.release import build_release
from test_publish_support import build_fixture_warehouse


@pytest.fixture
def published(tmp_path, monkeypatch):
    """A fixture warehouse, its first OCDS build and release; the files every SHA-256 of a file read after that."""
    monkeypatch.setenv("GONGKAI_OUT_DIR", str(tmp_path / "out"))
    monkeypatch.setenv("GONGKAI_WAREHOUSE", str(tmp_path / "gongkai.duckdb"))
    monkeypatch.delenv("GONGKAI_VERIFY_CARRIED", raising=False)
    monkeypatch.delenv("GONGKAI_NO_CARRY", raising=False)
    warehouse, out = build_fixture_warehouse(tmp_path / "gongkai.duckdb"), tmp_path / "out"
    build_ocds(warehouse, out)
    build_release(warehouse, out, ocds_dir=atomic.current_release_dir(out / "ocds"))
    read: list[str] = []
    real = release_validation.sha256_file

    def counted(path: Path) -> str:
        read.append(Path(path).name)
        return real(path)

    # the one hash of a file's bytes, looked up by name where it is imported
    monkeypatch.setattr(release_validation, "sha256_file", counted)
    monkeypatch.setattr(release_metadata, "sha256_file", counted)
    return warehouse, out, read


def _packages(out: Path) -> list[str]:
    return sorted(p.name for p in package_files(atomic.current_release_dir(out / "ocds")))


def test_carried_and_included_packages_are_not_read_again(published):
    warehouse, out, read = published
    first_build = atomic.current_release_dir(out / "ocds")
    packages = _packages(out)
    assert packages

    result = build_ocds(warehouse, out)  # the same marts: every part carried
    assert {p["status"] for p in result.parts.values()} == {"carried"}
    assert not set(read) & set(packages), "a carried package was read again"
    assert result.path != first_build and _packages(out) == packages

    release = build_release(warehouse, out, ocds_dir=result.path)
    assert not set(read) & set(packages), "an included package was read again"
    assert f"and {len(packages)} OCDS files checked against SHA256SUMS" in release.validation["checksums_by_status"]
    # the checksums are the files' all the same
    assert release_validation.verify_sha256sums(release.path) == []
    listed = release_validation.listed_sha256(release.path)
    for name in packages:
        assert listed[f"ocds/{name}"] == release_validation.sha256_file(release.path / "ocds" / name)


def test_a_package_changed_in_place_is_read_and_rebuilt(published):
    """A write keeps the inode but moves the change time: the recorded digest no longer holds, the file is read, its
    checksum is wrong, and its part is built again (what a build without the record did)."""
    warehouse, out, read = published
    current = atomic.current_release_dir(out / "ocds")
    record = json.loads((current / "validation.json").read_text(encoding="utf-8"))
    victim = current / _packages(out)[0]
    inode = victim.stat().st_ino
    with open(victim, "r+b") as fh:  # in place: the release's hard link is the same file
        fh.seek(20)
        fh.write(b"\x00")
    assert victim.stat().st_ino == inode
    result = build_ocds(warehouse, out)
    assert victim.name in read
    rebuilt = [k for k, p in result.parts.items() if victim.name in (record["parts"][k].get("files") or [])]
    assert rebuilt and all(result.parts[k]["status"] == "new" for k in rebuilt)
    assert "校验和不符" in result.parts[rebuilt[0]]["rebuilt_because"]


def test_the_record_is_the_files_digests(published):
    """``<out>/ocds``'s record holds, for every package of the current build, the digest of its bytes now."""
    warehouse, out, _ = published
    result = build_ocds(warehouse, out)
    known = parts.read_digests(out / "ocds")
    for name in _packages(out):
        path = result.path / name
        assert parts.digest_by_status(path, known) == release_validation.sha256_file(path)
