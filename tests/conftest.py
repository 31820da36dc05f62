"""Shared pytest fixtures: every test gets its own raw root, warehouse and output root."""
from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import pytest

from dagster_project.paths import REPO_ROOT

SAMPLE_RAW = REPO_ROOT / "data" / "raw"

# dbt's unit tests test the dbt code, not the data: `sample_built` (a direct `dbt build`) and the Spark parity module
# run them; the suite's many other whole-pipeline runs leave them out (≈ 8 s of each whole build; paths.py).
# Set here, at import, so pytest-xdist workers and the pipelines they start as subprocesses inherit it.
os.environ.setdefault("GONGKAI_DBT_UNIT_TESTS", "0")

# A pytest-xdist worker's `__main__` has neither a spec nor a file. pyspark (installed with the [spark] extra)
# takes that for a doctest run and calls sys.exit(0) when Great Expectations imports `pyspark.sql.connect`, which
# broke every module that runs GX on a worker. A main module that names a file is what a normal run has.
_MAIN = sys.modules.get("__main__")
if _MAIN is not None and getattr(_MAIN, "__spec__", None) is None and not hasattr(_MAIN, "__file__"):
    _MAIN.__file__ = "<pytest-xdist worker>"


# `make test` runs the suite on pytest-xdist workers with `--dist loadscope --no-loadscope-reorder`: a module is
# the unit of distribution, so its module-scoped fixtures (a warehouse built once) are built once per run, and the
# modules go out in the order below, the longest first, so the two workers end close together (order measured
# with --durations). Not `--dist loadgroup` with a group per module: with pytest 9 and xdist 3.8 it put one
# module's tests on both workers, which built every module fixture twice.
LONGEST_FIRST = ["test_spark_parity", "test_publish_pipeline", "test_benchmarks_smoke",
                 # ≈ 109 CPU-s of its own two runs (no shared build) before test_people_outputs (≈ 70 beside the
                 # sample build it shares): wave 18, s7
                 "test_debt_required_items", "test_people_outputs", "test_dbt_republished_workbook", "test_debt_blind",
                 "test_contract_conformance", "test_dbt_subset_runs", "test_trading_sections_load_order",
                 # wave 19's: three whole trading builds each (≈ 21 s), the 三公 counts' dbt builds (≈ 20 s) — sent out in
                 # the middle, not left to the alphabet's end where one worker ran them while the other had finished
                 "test_trading_amendments_v3", "test_trading_review_v14", "test_sangong_counts",
                 "test_dbt_outside_superseded", "test_sangong_counts_review",
                 # waves 20-21's modules that build a warehouse with dbt (one build each, ≈ 12-16 CPU-s): the middle
                 "test_trading_scopes_w20", "test_trading_listings_w20", "test_budget_marks_w20",
                 "test_trading_project_change_w21", "test_own_level_vehicles_w20",
                 "test_codes_damaged_finding", "test_dbt_build", "test_identities", "test_publish_release",
                 "test_publish_assets", "test_dbt_hand_build", "test_dbt_sample",
                 # reads the sample's quality runs test_people_outputs' setup makes (sample_quality_runs)
                 "test_quality_sample",
                 # these five read the run test_debt_blind's setup builds (debt_books_and_export_run): sent out late,
                 # when it is built, they cost seconds and no worker waits on its lock
                 "test_privacy_typed_ids", "test_debt_whole_region", "test_blind_trading_w19",
                 "test_blind_gov_w19", "test_review_trading_w19_v17"]


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config, items):
    def module(item) -> str:
        return item.module.__name__.rsplit(".", 1)[-1] if item.module else item.nodeid

    def weight(item) -> int:
        name = module(item)
        return LONGEST_FIRST.index(name) if name in LONGEST_FIRST else len(LONGEST_FIRST)

    items.sort(key=weight)  # stable: the order inside a module is kept


@pytest.fixture(scope="session", autouse=True)
def shared_parse_cache(tmp_path_factory):
    """One parse cache for the session: parses are keyed by file content and parser version, so tests that load
    the same sample files into their own warehouses parse each file once (PDFs cost tenths of a second a page)."""
    import os

    if "GONGKAI_PARSE_CACHE" not in os.environ:
        # under pytest-xdist every worker has its own base temp below one shared root: share the cache there
        # (entries are written to a per-process temporary name and renamed, so concurrent writers are safe)
        base = tmp_path_factory.getbasetemp()
        shared = base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base
        cache = shared / "parse_cache"
        cache.mkdir(exist_ok=True)
        os.environ["GONGKAI_PARSE_CACHE"] = str(cache)
    # this process's own (never shared: a link re-pointed by another worker mid-run would be wrong) folder for the
    # fixed warehouse path of tests' direct dbt calls (dbt_fixed_path.py)
    os.environ.setdefault("GONGKAI_TEST_DBT_HOME", str(tmp_path_factory.getbasetemp() / "dbt_fixed_path"))
    yield


@pytest.fixture
def gongkai_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """Point GONGKAI_* at fresh temp dirs; returns the settings object."""
    from dagster_project.paths import settings

    raw = tmp_path / "raw"
    raw.mkdir()
    monkeypatch.setenv("GONGKAI_RAW_DIR", str(raw))
    monkeypatch.setenv("GONGKAI_WAREHOUSE", str(tmp_path / "warehouse.duckdb"))
    monkeypatch.setenv("GONGKAI_OUT_DIR", str(tmp_path / "out"))
    return settings()


@pytest.fixture(scope="session")
def sample_built(tmp_path_factory):
    """The bundled sample loaded through the real loaders and `dbt build` once per test run.

    Returns (warehouse path, output dir, environment). Tests may read the marts and may append to
    quality tables; none may change raw or dbt tables (build their own warehouse for that).

    Built once per run, not once per pytest-xdist worker: the first worker to need it builds it under a file lock
    in the run's shared temp root (as the parse cache is shared), the others wait and take the result. Each worker
    then works on a copy of its own (DuckDB lets one process write a file, or many read it, never both: one
    worker's appends to the quality tables would lock the others out), as each had its own build before.
    """
    shared = _built_once(tmp_path_factory, "sample_built_shared", _build_sample)
    tmp = tmp_path_factory.mktemp("sample_built")
    warehouse, out = tmp / "warehouse.duckdb", tmp / "out"
    for suffix in ("", ".wal"):   # a write-ahead log left unmerged is part of the database
        if (shared / f"warehouse.duckdb{suffix}").is_file():
            shutil.copyfile(shared / f"warehouse.duckdb{suffix}", tmp / f"warehouse.duckdb{suffix}")
    return warehouse, out, _sample_env(warehouse, out)


def _built_once(tmp_path_factory, name: str, build) -> Path:
    """The folder ``name`` in the run's shared temp root, ``build(folder)`` run on it once per test run: the first
    pytest-xdist worker to ask builds under a file lock, the others wait and take the result."""
    import fcntl

    base = tmp_path_factory.getbasetemp()
    shared = (base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base) / name
    shared.mkdir(exist_ok=True)
    done = shared / "built.json"
    with (shared / "lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes (also when the build fails)
        if not done.is_file():
            build(shared)
            done.write_text("{}", encoding="utf-8")
    return shared


@pytest.fixture(scope="session")
def debt_books_and_export_run(tmp_path_factory) -> Path:
    """One whole-pipeline run (`cli run`) for six modules' raw files beside the sample's registry and portal:
    test_debt_whole_region's re-published 银川市 books, test_debt_blind's 平罗县 books in 亿元 (its regions added to
    the registry), test_privacy_typed_ids' trading export, test_blind_trading_w19's trading probe and
    test_review_trading_w19_v17's parcels and provinces (each in its own folder), and test_blind_gov_w19's county "four books" of 2023–2024 (the regions it needs the root lacks, its approvals,
    entities and portal log added). Each module writes its own files (its ``write_raw``) and reads only its own
    files' (or regions' years') findings, marts rows and published parts; a run is ≈ 50–70 CPU-s of fixed costs
    (dbt's models and tests, GX, Dagster) whatever the few rows, so one run serves the six.
    Built once per test run (``_built_once``); read-only afterwards. Returns the root (``raw``, ``out``, warehouse)."""
    def build(root: Path) -> None:
        from cli_pipeline import run_cli
        from test_debt_blind import write_raw as county_books
        from test_blind_gov_w19 import write_raw as county_gov_books
        from test_blind_trading_w19 import write_raw as trading_probe
        from test_debt_whole_region import write_raw as city_books
        from test_privacy_typed_ids import write_raw as trading_export
        from test_review_trading_w19_v17 import write_raw as parcels_and_provinces

        for folder in ("registry", "portal"):
            shutil.copytree(SAMPLE_RAW / folder, root / "raw" / folder)
        # the gov books after test_debt_blind's: its regions rows are added only where the root lacks them
        for write_raw in (city_books, county_books, trading_export, trading_probe, parcels_and_provinces, county_gov_books):
            write_raw(root / "raw")
        run_cli(root)

    return _built_once(tmp_path_factory, "debt_books_and_export", build)


@pytest.fixture(scope="session")
def trading_probe_warehouse(tmp_path_factory) -> Path:
    """The X5 blind probe's trading exports (tests/fixtures/trading_platform_exports) beside the bundled registry,
    loaded by the real loaders and built up to ``int_deal_timelines_evaluated`` once per test run (``_built_once``):
    test_trading_openings_moved, test_trading_probe_parties, test_trading_probe_sections,
    test_trading_postponed_closing, test_trading_clarifications and test_trading_amendments_v3 read it, read-only — each
    built the same root itself before (≈ 15–20 CPU-s a build)."""
    def build(root: Path) -> None:
        from test_trading_openings_moved import probe_built
        from test_trading_clarifications import write_raw as clarifications
        from test_trading_postponed_closing import write_raw as postponed_closings
        from test_trading_amendments_v3 import copy_raw as amendments_v3

        # test_trading_postponed_closing's, test_trading_clarifications' and test_trading_amendments_v3's exports too,
        # each in a folder of its own (their own deals): no build of their own
        postponed_closings(root / "raw", "trading/postponed_closing")
        clarifications(root / "raw", "trading/clarifications")
        amendments_v3(root / "raw", "trading/amendments_v3")
        probe_built(root, "+int_deal_timelines_evaluated")

    return _built_once(tmp_path_factory, "trading_probe", build) / "w.duckdb"


@pytest.fixture(scope="session")
def sample_quality_runs(tmp_path_factory) -> dict:
    """Two quality runs on a copy of the sample's warehouse (``sample_built``'s build), the second on unchanged
    data, with the dashboards drawn after the first and the docs site (dbt docs, index) built: what
    test_people_outputs and test_quality_sample read (and test_codes_damaged_finding: the first run's findings are
    the sample's own, its "before"). Each module made its own first run on its own copy before (≈ 5–9 CPU-s a
    quality run on the sample; the docs site's `dbt docs generate` ≈ 26); they only read them.
    Made once per test run (``_built_once``); read-only afterwards (the warehouse opened ``read_only``, pages read).
    Returns the warehouse, ``out`` (the first run's report, the dashboards, the docs), ``out_second`` (the second
    run's report) and the ``first`` and ``second`` runs and the ``dashboards`` as the product returned them."""
    import pickle

    def build(root: Path) -> None:
        import datetime as dt
        import time

        from dagster_project import docs_site
        from dagster_project.paths import settings
        from dagster_project.publish.dashboards import write_dashboards
        from dagster_project.quality.runner import run_quality
        from dbt_fixed_path import fixed_warehouse

        sample = _built_once(tmp_path_factory, "sample_built_shared", _build_sample)
        for suffix in ("", ".wal"):
            if (sample / f"warehouse.duckdb{suffix}").is_file():
                shutil.copyfile(sample / f"warehouse.duckdb{suffix}", root / f"warehouse.duckdb{suffix}")
        warehouse, out = root / "warehouse.duckdb", root / "out"
        with pytest.MonkeyPatch.context() as mp:   # the sample's run, evaluated today, whichever test asks first
            mp.setenv("GONGKAI_RAW_DIR", str(SAMPLE_RAW))
            mp.setenv("GONGKAI_WAREHOUSE", str(warehouse))
            mp.setenv("GONGKAI_OUT_DIR", str(out))
            mp.setenv("GONGKAI_AS_OF", dt.date.today().isoformat())
            started = time.perf_counter()
            first = run_quality(warehouse, out)
            first_seconds = time.perf_counter() - started
            dashboards = write_dashboards(warehouse, out)   # drawn from the first run, the latest when people look
            second = run_quality(warehouse, root / "out_second")
            print(f"quality on the sample: first run {first_seconds:.1f} s (GX {first.gx_seconds:.1f} s), "
                  f"second run {second.total_seconds:.1f} s (GX {second.gx_seconds:.1f} s)")
            # the docs site at this process's fixed warehouse path (dbt_fixed_path): dbt starts from the parse state
            # of the process's last dbt call there (the sample's build, when this worker made it), not from nothing
            with fixed_warehouse(warehouse) as at_fixed_path:
                mp.setenv("GONGKAI_WAREHOUSE", str(at_fixed_path))
                docs_site.build_dbt_docs(settings())
            mp.setenv("GONGKAI_WAREHOUSE", str(warehouse))
            docs_site.write_index(settings())
        # the other worker takes the runs from here: they are the product's own objects, pickled
        (root / "runs.pickle").write_bytes(pickle.dumps(dict(first=first, second=second, dashboards=dashboards)))

    root = _built_once(tmp_path_factory, "sample_quality", build)
    return dict(warehouse=root / "warehouse.duckdb", out=root / "out", out_second=root / "out_second",
                **pickle.loads((root / "runs.pickle").read_bytes()))


def _sample_env(warehouse: Path, out: Path) -> dict:
    """The environment of a run on the sample into ``warehouse`` and ``out``, evaluated today (every sample year is
    long due)."""
    from dagster_project.paths import settings

    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("GONGKAI_RAW_DIR", str(SAMPLE_RAW))
        mp.setenv("GONGKAI_WAREHOUSE", str(warehouse))
        mp.setenv("GONGKAI_OUT_DIR", str(out))
        mp.delenv("GONGKAI_AS_OF", raising=False)
        return settings().env_for_subprocess()


def _build_sample(tmp: Path) -> None:
    """Load the sample into ``tmp/warehouse.duckdb`` through the real loaders, then a whole `dbt build`."""
    import json
    import time

    import duckdb

    from dagster_project.ingest import framework
    from dagster_project.ingest.assets import FAMILY_LOADERS, resolve_loader
    from dbt_fixed_path import run_dbt

    if not (SAMPLE_RAW / "ground_truth.json").is_file():
        pytest.skip("the bundled sample is not generated")
    warehouse, out = tmp / "warehouse.duckdb", tmp / "out"
    env = _sample_env(warehouse, out)
    con = duckdb.connect(str(warehouse))
    try:
        for family, spec in FAMILY_LOADERS.items():
            framework.load_family(con, SAMPLE_RAW, family, resolve_loader(spec), progress=lambda _: None)
    finally:
        con.close()
    started = time.perf_counter()
    result = run_dbt(["build"], env, tmp / "target", tmp / "logs")
    assert result.returncode == 0, result.stdout[-6000:]
    print(f"dbt build on the sample: {time.perf_counter() - started:.1f} s")
    json.loads((SAMPLE_RAW / "ground_truth.json").read_text(encoding="utf-8"))  # readable before tests rely on it
