"""OCDS retention never deletes the build a kept open-data release's packages name (``parts.ocds_builds_named``).

A release links the OCDS packages of the build current when it was published; their envelope ``uri`` and a record's
release ``url``s name that build's folder under ``<out>/ocds/``. When later OCDS builds carry the same content (a
publishing-code change rebuilds every part; before wave 14 a plain trading re-read made a new folder of hard links)
the release is skipped as identical and ``LATEST`` keeps naming the old build — which the OCDS retention (newest
``keep`` builds) used to delete after ``keep`` such builds: the public download's links then pointed at nothing.
"""
from __future__ import annotations

import gzip
import hashlib
import json
import re

import pytest

from dagster_project.publish import atomic
from dagster_project.publish.ocds import build_ocds
from dagster_project.publish.release import build_release
from test_publish_support import build_fixture_warehouse


@pytest.fixture
def state(tmp_path, monkeypatch):
    warehouse, out = tmp_path / "wh" / "gongkai.duckdb", tmp_path / "out"
    monkeypatch.setenv("GONGKAI_WAREHOUSE", str(warehouse))
    monkeypatch.setenv("GONGKAI_OUT_DIR", str(out))
    monkeypatch.setenv("GONGKAI_RAW_DIR", str(tmp_path / "raw"))
    monkeypatch.setenv("GONGKAI_RELEASE_KEEP", "2")
    warehouse.parent.mkdir()
    build_fixture_warehouse(warehouse)
    build_ocds(warehouse, out)
    return warehouse, out


def _release(warehouse, out):
    return build_release(warehouse, out, run_id="test-run", ocds_dir=atomic.current_release_dir(out / "ocds"),
                         skip_identical=True)


def _named_folders(release_dir) -> set[str]:
    """The OCDS build folders the release's packages link (envelope uri, record packages' package list)."""
    folders = set()
    for path in (release_dir / "ocds").iterdir():
        text = gzip.decompress(path.read_bytes()).decode("utf-8") if path.suffix == ".gz" else path.read_text("utf-8")
        folders |= set(re.findall(r'/ocds/([^/"]+)/(?:release|record)-package', text))
    return folders


def _rebuild_everything(warehouse, out, monkeypatch) -> None:
    monkeypatch.setenv("GONGKAI_NO_CARRY", "1")  # as after a publishing-code change: every part written anew
    try:
        build_ocds(warehouse, out)
    finally:
        monkeypatch.delenv("GONGKAI_NO_CARRY")


@pytest.mark.parametrize("manifest_kind", ["ocds_parts", "older_manifest"])
def test_retention_keeps_the_ocds_build_the_current_release_links(state, monkeypatch, manifest_kind):
    warehouse, out = state
    first = _release(warehouse, out)
    named = _named_folders(first.path)
    assert named and all((out / "ocds" / b).is_dir() for b in named)
    if manifest_kind == "older_manifest":  # a release written before the manifest listed its OCDS parts' builds
        path = first.path / "manifest.json"
        manifest = json.loads(path.read_text(encoding="utf-8"))
        del manifest["ocds_parts"]
        path.write_text(json.dumps(manifest, ensure_ascii=False), encoding="utf-8")
        sums = first.path / "SHA256SUMS"  # still a sound release (else it is replaced as damaged)
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        sums.write_text("".join(f"{digest}  manifest.json\n" if line.endswith("  manifest.json") else line + "\n"
                                for line in sums.read_text(encoding="utf-8").splitlines()), encoding="utf-8")
    for _ in range(3):  # more OCDS builds than kept (2), each of the same content: the release is skipped each time
        _rebuild_everything(warehouse, out, monkeypatch)
        assert _release(warehouse, out).unchanged
    assert atomic.read_pointer(out / "open-data") == first.release_id
    builds = sorted(p.name for p in (out / "ocds").iterdir() if p.is_dir())
    assert named <= set(builds), f"the current release links {sorted(named)}, the OCDS folder holds {builds}"
    assert len(builds) == 3  # the 2 newest and the one the release names: the rest are still pruned
