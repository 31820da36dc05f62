"""Quality's carried results are keyed by the code quality runs, outside ``quality/`` too: its import closure
(``code_closure``), not a hand-kept list of files — the list missed ``relation_fingerprint.py``, which decides how a
relation's fingerprint is taken and so what an unchanged re-run carries."""
from __future__ import annotations

import shutil

from dagster_project import code_closure
from dagster_project.quality import carry, suite_carry


def test_a_change_to_a_module_quality_imports_moves_its_code_digests(tmp_path, monkeypatch):
    copy = tmp_path / "dagster_project"
    shutil.copytree(code_closure.PACKAGE_DIR, copy, ignore=shutil.ignore_patterns("__pycache__"))
    monkeypatch.setattr(code_closure, "PACKAGE_DIR", copy)
    before = carry.quality_code_digest(), suite_carry._suite_code_digest()
    for module in ("relation_fingerprint.py", "personal_numbers.py", "stage_state.py"):
        path = copy / module
        path.write_text(path.read_text(encoding="utf-8") + "\nCHANGED = True\n", encoding="utf-8")
        after = carry.quality_code_digest(), suite_carry._suite_code_digest()
        assert after[0] != before[0] and after[1] != before[1], module
        before = after
