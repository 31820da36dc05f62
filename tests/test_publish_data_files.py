"""The data files publishing reads outside ``publish/`` and ``dashboards/`` key what it carries
(``inputs.publish_data_files``): a changed OCDS schema in ``../shared/ocds-1.1.5`` (the one validation uses when it is
there: on ``main`` it is) or a changed rule catalogue rebuilds every part — and validates and scans it again —
instead of carrying what the old file gave; the same bytes carry. And publishing opens no other such file.
"""
from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import pytest

from dagster_project.paths import REPO_ROOT
from dagster_project.publish import inputs, ocds_validation
from dagster_project.publish.release import build_release
from test_publish_support import publish_state


@pytest.fixture
def state(tmp_path, monkeypatch):
    warehouse, out, _ = publish_state(tmp_path, monkeypatch)
    shared = tmp_path / "shared" / "ocds-1.1.5"  # the schema as ../shared holds it
    shutil.copytree(ocds_validation.BUNDLED_SCHEMA_DIR, shared)
    monkeypatch.setattr(ocds_validation, "SHARED_SCHEMA_DIR", shared)
    return warehouse, out, shared


def _release(warehouse, out):
    return build_release(warehouse, out, run_id="r", ocds_dir=None, skip_identical=True)


def test_a_changed_schema_outside_publish_rebuilds_the_parts(state):
    warehouse, out, shared = state
    _release(warehouse, out)
    same = _release(warehouse, out)  # the same files: every part carried
    assert same.parts_with("carried") and not same.parts_with("new")
    schema = shared / "release-schema.json"
    schema.write_text(schema.read_text(encoding="utf-8").replace('"title": "', '"title": "（修订）', 1),
                      encoding="utf-8")
    changed = _release(warehouse, out)  # every part written, checked and scanned again (the same bytes: no new release)
    assert changed.parts_with("new") and not changed.parts_with("carried")


def test_a_changed_rule_catalogue_moves_the_code_digest(tmp_path, monkeypatch):
    from dagster_project.publish import parts, release

    before = (inputs.publish_code_digest(), parts.code_fingerprint())
    catalogue = tmp_path / "ref_rule_catalogue.csv"
    shutil.copyfile(release.RULE_CATALOGUE_CSV, catalogue)
    monkeypatch.setattr(release, "RULE_CATALOGUE_CSV", catalogue)
    assert (inputs.publish_code_digest(), parts.code_fingerprint()) == before  # same bytes, another place
    catalogue.write_text(catalogue.read_text(encoding="utf-8-sig") + "\n", encoding="utf-8")
    after = (inputs.publish_code_digest(), parts.code_fingerprint())
    assert after[0] != before[0] and after[1] != before[1]


# Run in a process of its own, so the audit hook is installed before anything is imported: a data file read at import
# (a module-level spec or seed load) is seen too, and the hook does not outlive the test.
OPENED_BY_PUBLISHING = r"""
import json, os, sys
from pathlib import Path
opened = []
sys.addaudithook(lambda event, args: opened.append(os.fsdecode(args[0]))
                 if event == "open" and args and isinstance(args[0], (str, bytes, os.PathLike)) else None)
warehouse, out, shared, report = map(Path, sys.argv[1:5])
from dagster_project.publish import ocds_validation
ocds_validation.SHARED_SCHEMA_DIR = shared
from dagster_project.publish.dashboards import write_dashboards
from dagster_project.publish.ocds import build_ocds
from dagster_project.publish.release import build_release
ocds = build_ocds(warehouse, out)
build_release(warehouse, out, run_id="r", ocds_dir=ocds.path, skip_identical=True)
write_dashboards(warehouse, out / "dashboards")
report.write_text(json.dumps(opened), encoding="utf-8")
"""
# what publish_code_digest hashes of publish/ and dashboards/ by their bytes: any other file there must be listed
CODE_SUFFIXES = (".py", ".yaml", ".yml", ".json")


def test_publishing_opens_no_other_data_file(state, tmp_path):
    """Every file a release with its OCDS packages and the dashboards open (Python's ``open`` audit event, from
    before the first import) within the repository or ``../shared`` is code (Python, or a file of ``publish/`` or
    ``dashboards/`` of a kind ``publish_code_digest`` hashes), output, or one of ``publish_data_files``. (DuckDB's
    own reads are SQL over relations, not seen here; the one CSV it reads, the rule catalogue, is listed.)"""
    import json
    import subprocess

    warehouse, out, shared = state
    report = tmp_path / "opened.json"
    done = subprocess.run([sys.executable, "-c", OPENED_BY_PUBLISHING, str(warehouse), str(out), str(shared),
                           str(report)], capture_output=True, text=True, cwd=REPO_ROOT,
                          env={**os.environ, "PYTHONPATH": str(REPO_ROOT)})
    assert done.returncode == 0, done.stderr[-4000:]
    opened = json.loads(report.read_text(encoding="utf-8"))
    allowed = [p.resolve() for p in inputs.publish_data_files()]
    code_folders = (REPO_ROOT / "dagster_project" / "publish", REPO_ROOT / "dashboards")
    left_out = (out.resolve(), warehouse.parent.resolve(), Path(sys.prefix).resolve())  # the venv: installed packages
    roots = (REPO_ROOT.resolve(), shared.parent.resolve(), REPO_ROOT.parent.resolve() / "shared")
    seen = set()
    for name in opened:
        path = (REPO_ROOT / name).resolve()
        if path.suffix in (".py", ".pyc") or not path.is_file() or not any(path.is_relative_to(r) for r in roots):
            continue
        if any(part.endswith((".egg-info", ".dist-info")) for part in path.parts):
            continue  # installed packages' metadata (importlib.metadata at import: entry points, versions)
        if any(path.is_relative_to(r) for r in left_out) or any(path.is_relative_to(a) for a in allowed):
            continue
        if path.suffix in CODE_SUFFIXES and any(path.is_relative_to(r.resolve()) for r in code_folders):
            continue
        seen.add(str(path))
    assert any(Path(n).resolve().is_relative_to(shared.resolve()) for n in opened)  # it records: the schema read
    assert seen == set()
