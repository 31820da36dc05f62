"""What publishing carries is keyed by every module it imports (``code_closure``), not by the ``publish/`` folder only:
a masking fix in ``personal_numbers.py`` (outside ``publish/``) rebuilds and re-scans the parts an older release wrote
with the old masking instead of linking their unmasked bytes again (review R3: ``13995112233`` stayed in
``trading_bulletins-2018.csv`` and the OCDS 2018 packages, every part carried)."""
from __future__ import annotations

import gzip
import importlib.util
import shutil
import sys
from pathlib import Path

import duckdb

from dagster_project import code_closure, personal_numbers
from dagster_project.publish import inputs, masking, privacy_scan
from dagster_project.publish.ocds import build_ocds
from dagster_project.publish.ocds_config import package_files
from dagster_project.publish.release import build_release
from test_publish_support import MOBILE, build_fixture_warehouse

KINDS = personal_numbers.KINDS
KINDS_LINE = "KINDS = (" + ", ".join(f'"{k}"' for k in KINDS) + ")"  # as the module writes it
WITHOUT_MOBILES = tuple(k for k in personal_numbers.KINDS if k != "mobile")


def _old_tree(tmp_path: Path) -> Path:
    """The package as it was when mobiles were not masked: a copy (modules only), personal_numbers.py saying so."""
    old = tmp_path / "old" / "dagster_project"
    shutil.copytree(code_closure.PACKAGE_DIR, old,
                    ignore=lambda d, names: [n for n in names if not n.endswith(".py") and not (Path(d) / n).is_dir()
                                             or n == "__pycache__"])
    module = old / "personal_numbers.py"
    text = module.read_text(encoding="utf-8")
    assert KINDS_LINE in text
    module.write_text(text.replace(KINDS_LINE, KINDS_LINE.replace(' "mobile",', "")), encoding="utf-8")
    return old


def _release_texts(folder: Path) -> dict[str, str]:
    return {p.name: p.read_text(encoding="utf-8-sig") for p in (folder / "data").rglob("*.csv")}


def _ocds_texts(folder: Path) -> dict[str, str]:
    return {p.name: gzip.decompress(p.read_bytes()).decode("utf-8") for p in package_files(folder)}


def test_a_masking_fix_outside_publish_rebuilds_the_parts_an_older_masking_wrote(tmp_path, monkeypatch):
    monkeypatch.delenv("GONGKAI_NO_CARRY", raising=False)
    monkeypatch.delenv("GONGKAI_RELEASE_KEEP", raising=False)
    monkeypatch.setenv("GONGKAI_OUT_DIR", str(tmp_path / "out"))
    warehouse = build_fixture_warehouse(tmp_path / "w.duckdb")
    con = duckdb.connect(str(warehouse))
    con.execute("UPDATE main_marts.fct_deals SET fiscal_year = 2018 WHERE fiscal_year IS NULL")
    con.close()
    out = tmp_path / "out"

    # published by the old code: the modules publishing imports as they were, and their behaviour
    old_tree = _old_tree(tmp_path)
    monkeypatch.setattr(code_closure, "PACKAGE_DIR", old_tree)
    spec = importlib.util.spec_from_file_location("old_personal_numbers", old_tree / "personal_numbers.py")
    old_module = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, spec.name, old_module)  # its dataclasses look their module up
    spec.loader.exec_module(old_module)
    assert old_module.KINDS == WITHOUT_MOBILES
    for user in (masking, privacy_scan):  # the publishing modules that ask it
        monkeypatch.setattr(user, "personal_numbers", old_module)
    old_code = inputs.publish_code_digest()
    first, first_ocds = build_release(warehouse, out, run_id="r1"), build_ocds(warehouse, out)
    leaked = [name for name, text in _release_texts(first.path).items() if MOBILE in text]
    assert "trading_bulletins-2018.csv" in leaked  # the old masking let the mobile through
    assert any(MOBILE in text for text in _ocds_texts(first_ocds.path).values())

    # the masking file restored: the code digest moves, every part is written, masked and scanned again
    monkeypatch.setattr(code_closure, "PACKAGE_DIR", Path(code_closure.__file__).resolve().parent)
    for user in (masking, privacy_scan):
        monkeypatch.setattr(user, "personal_numbers", personal_numbers)
    assert inputs.publish_code_digest() != old_code
    second, second_ocds = build_release(warehouse, out, run_id="r2"), build_ocds(warehouse, out)
    assert [name for name, text in _release_texts(second.path).items() if MOBILE in text] == []
    assert second.parts_with("carried") == []
    assert _ocds_texts(second_ocds.path) and not any(MOBILE in t for t in _ocds_texts(second_ocds.path).values())
    assert {v["status"] for v in second_ocds.parts.values()} == {"new"}


def test_the_closure_reaches_what_publishing_imports_outside_publish():
    """Derived, not listed: the masking's definition, the identifiers, the relation fingerprints."""
    entries = code_closure.package_modules(inputs.PUBLISH_PACKAGE, leave_out=(f"{inputs.PUBLISH_PACKAGE}.assets",))
    reached = set(code_closure.closure(entries))
    assert {"dagster_project.personal_numbers", "dagster_project.identifiers", "dagster_project.relation_fingerprint",
            "dagster_project.transform.generations"} <= reached
    # the Dagster wiring (which imports the dbt asset and, through it, ingest) is not publishing code
    assert "dagster_project.transform.assets" not in reached


def test_the_digest_moves_with_code_not_with_docstrings_and_the_memo_gives_what_analysis_gives(tmp_path, monkeypatch):
    entries = ("dagster_project.publish.masking",)
    tree = tmp_path / "tree" / "dagster_project"
    shutil.copytree(code_closure.PACKAGE_DIR, tree, ignore=shutil.ignore_patterns("__pycache__", "specs", "*.yaml"))
    monkeypatch.setattr(code_closure, "PACKAGE_DIR", tree)
    before = code_closure.digest(entries)
    module = tree / "identifiers.py"  # reached through personal_numbers
    text = module.read_text(encoding="utf-8")
    module.write_text(text.replace('"""', '"""A docstring edit. ', 1), encoding="utf-8")
    assert code_closure.digest(entries) == before
    module.write_text(text + "\n\nCHECKED_FORMS = 2\n", encoding="utf-8")
    after = code_closure.digest(entries)
    assert after != before
    # the same from the memo on disk and from a fresh analysis
    monkeypatch.setattr(code_closure, "_memo", None)
    assert code_closure.digest(entries) == after
    memo = code_closure._memo_file()
    if memo is not None and memo.exists():
        memo.unlink()
    monkeypatch.setattr(code_closure, "_memo", None)
    assert code_closure.digest(entries) == after
