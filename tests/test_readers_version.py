"""The readers' version is each family's own, derived from the code its loader imports (ingest/readers_version.py).

The version is computed over a copy of ``dagster_project/ingest`` and of the dbt seeds/macros in a temporary tree
(the module's roots pointed at it); the edits are made there, the package in use is never touched. The families'
loaders are the production ones (``assets.FAMILY_LOADERS``), run on two of the sample's own files.
"""
from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import pytest

from dagster_project.ingest import framework, parse_cache, readers_version
from dagster_project.ingest.assets import FAMILY_LOADERS, resolve_loader
from dagster_project.paths import DBT_PROJECT_DIR, REPO_ROOT

INGEST = Path(readers_version.__file__).parent


def _module(family: str) -> str:
    return FAMILY_LOADERS[family].partition(":")[0]


@pytest.fixture
def tree(tmp_path, monkeypatch):
    """A copy of the readers' code and data; the version is derived from it."""
    root = tmp_path / "tree"
    ingest = root / "ingest"
    shutil.copytree(INGEST, ingest, ignore=shutil.ignore_patterns("__pycache__"))
    for part in ("seeds", "macros"):
        shutil.copytree(DBT_PROJECT_DIR / part, root / "dbt" / part)
    monkeypatch.setattr(readers_version, "HERE", ingest)
    monkeypatch.setattr(readers_version, "DATA_ROOTS", (ingest / "specs", root / "dbt"))
    monkeypatch.setattr(readers_version, "EVERY_FAMILY_ROOTS", (ingest / "specs", root / "dbt" / "seeds" / "ingest"))
    monkeypatch.setattr(readers_version, "REPO_ROOT", root)
    monkeypatch.setattr(readers_version, "_memo_path", lambda: tmp_path / "memo.json")
    readers_version.clear()
    yield root
    readers_version.clear()


def _versions() -> dict[str, str]:
    readers_version.clear()  # as a new process would: the files changed
    return {family: readers_version.version_of(_module(family)) for family in FAMILY_LOADERS}


def _moved(before: dict[str, str]) -> set[str]:
    return {family for family, version in _versions().items() if version != before[family]}


def _append(path: Path, text: str) -> None:
    with path.open("a", encoding="utf-8", newline="") as handle:
        handle.write(text)


def test_a_trading_only_spec_or_seed_edit_moves_only_trading(tree):
    before = _versions()
    _append(tree / "ingest" / "specs" / "trading_bulletins.yaml", "\nb10_probe: 1\n")
    assert _moved(before) == {"trading"}
    before = _versions()
    # a seed of dbt/seeds (not seeds/ingest) the trading readers name by a literal: the one version missed it
    _append(tree / "dbt" / "seeds" / "ref_bulletin_types.csv", "\n")
    assert _moved(before) == {"trading"}


def test_a_budget_only_spec_edit_moves_budget_and_debt_not_trading(tree):
    before = _versions()
    _append(tree / "ingest" / "specs" / "narrative_sections.yaml", "\nb10_probe: 1\n")
    assert _moved(before) == {"budget", "debt"}  # one loader (workbook.py) reads both


def test_a_shared_module_moves_every_family_that_imports_it(tree):
    modules = {family: set(readers_version.closure(_module(family))[0]) for family in FAMILY_LOADERS}
    for shared in ("grid", "text_staging", "framework"):
        before = _versions()
        _append(tree / "ingest" / f"{shared}.py", f"\n_B10_PROBE = {shared!r}\n")
        importers = {family for family, names in modules.items() if shared in names}
        assert importers and _moved(before) == importers
    assert {f for f, names in modules.items() if "grid" in names} == {"budget", "debt", "trading"}
    assert {f for f, names in modules.items() if "text_staging" in names} == {"registry", "portal", "trading"}


def test_comments_and_docstrings_move_no_version(tree):
    before = _versions()
    path = tree / "ingest" / "grid.py"
    source = path.read_text(encoding="utf-8")
    path.write_text(source.replace('"""', '"""B10 probe: ', 1) + "\n# a comment\n\n", encoding="utf-8")
    assert _moved(before) == set()


def test_unnamed_reader_data_counts_for_every_family(tree):
    before = _versions()
    (tree / "dbt" / "seeds" / "ingest" / "ref_b10_new.csv").write_text("a,b\n1,2\n", encoding="utf-8")
    assert _moved(before) == set(FAMILY_LOADERS)


def test_a_module_imported_by_a_computed_name_makes_the_closure_the_package(tree):
    _append(tree / "ingest" / "tabular.py", "\n\ndef _b10(name):\n    import importlib\n"
                                            "    return importlib.import_module(name)\n")
    readers_version.clear()
    modules, _ = readers_version.closure(_module("registry"))
    assert set(modules) == {p.stem for p in (tree / "ingest").glob("*.py")}


def test_the_parse_cache_keys_on_the_workbook_readers_only(tree, tmp_path):
    def entry() -> str:
        readers_version.clear()
        return parse_cache._entry(tmp_path, "0" * 64, ".xlsx").name

    first = entry()
    assert first.endswith(f"-{readers_version.version_of(_module('budget'))}.pickle")
    _append(tree / "ingest" / "specs" / "trading_bulletins.yaml", "\nb10_probe: 1\n")
    assert entry() == first  # a trading-only fix keeps the budget/debt parses
    _append(tree / "ingest" / "specs" / "workbook_tables.yaml", "\nb10_probe: 1\n")
    assert entry() != first  # a workbook spec edit never reuses a parse by the older readers


def test_a_family_is_read_again_only_when_its_own_readers_change(tree, tmp_path):
    raw = tmp_path / "raw"
    picks = {"portal": "publications_debt.csv", "trading": "2017-2019_交易信息_导出(1).csv"}
    for family, name in picks.items():
        (raw / family).mkdir(parents=True)
        shutil.copyfile(REPO_ROOT / "data" / "raw" / family / name, raw / family / name)
    con = duckdb.connect(str(tmp_path / "w.duckdb"))

    def load() -> dict[str, framework.FamilyLoadReport]:
        readers_version.clear()
        return {family: framework.load_family(con, raw, family, resolve_loader(FAMILY_LOADERS[family]),
                                              progress=lambda _: None) for family in picks}

    try:
        first = load()
        assert all(report.loaded for report in first.values())
        again = load()  # the unchanged re-run reads nothing
        assert all(not report.loaded and len(report.unchanged) == 1 for report in again.values())
        _append(tree / "ingest" / "specs" / "trading_bulletins.yaml", "\nb10_probe: 1\n")
        spec = load()
        assert spec["trading"].loaded == [f"trading/{picks['trading']}"]
        assert spec["portal"].loaded == [] and spec["portal"].unchanged == [f"portal/{picks['portal']}"]
        _append(tree / "ingest" / "text_staging.py", "\n_B10_PROBE = 1\n")  # read by both families' readers
        shared = load()
        assert all(len(report.loaded) == 1 for report in shared.values())
        accounts = con.execute("SELECT bool_and(rows_in = rows_loaded + rows_rejected), count(*) FILTER (is_current) "
                               "FROM raw.load_files").fetchone()
        assert accounts == (True, 2)
    finally:
        con.close()
