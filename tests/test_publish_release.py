"""The open-data release on fixture marts in a real DuckDB file: valid, private, atomic."""
from __future__ import annotations

import copy
import dataclasses
import gzip
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest

from dagster_project import identifiers
from dagster_project.paths import REPO_ROOT
from dagster_project.publish import atomic, parts
from dagster_project.publish.masking import MaskingPolicy
from dagster_project.publish.ocds import build_ocds
from dagster_project.publish.ocds_config import open_package_text, package_files
from dagster_project.publish.privacy_scan import scan_tree
from dagster_project.publish.release import BOM, STAGES, build_release, load_spec
from dagster_project.publish.release_validation import ReleaseValidationError, verify_sha256sums
from test_publish_support import PERSONAL_VALUES, PM_ID, build_fixture_warehouse, parquet_parts, part_files

VENV_BIN = Path(sys.executable).parent


def _set_env(mp: pytest.MonkeyPatch, base: Path) -> tuple[Path, Path]:
    warehouse, out = base / "wh" / "gongkai.duckdb", base / "out"
    mp.setenv("GONGKAI_WAREHOUSE", str(warehouse))
    mp.setenv("GONGKAI_OUT_DIR", str(out))
    mp.setenv("GONGKAI_RAW_DIR", str(base / "raw"))
    return warehouse, out


def _publish(warehouse: Path, out: Path, **kw):
    build_ocds(warehouse, out)
    return build_release(warehouse, out, run_id="test-run", ocds_dir=atomic.current_release_dir(out / "ocds"), **kw)


@pytest.fixture(scope="module")
def first_publication(tmp_path_factory):
    """The fixture marts and their first OCDS build and release, made once per module (the slow part) and
    copied for each test: every test starts from a published release and may change its copy freely."""
    base = tmp_path_factory.mktemp("first_publication")
    with pytest.MonkeyPatch.context() as mp:
        warehouse, out = _set_env(mp, base)
        warehouse.parent.mkdir()
        build_fixture_warehouse(warehouse)
        return base, _publish(warehouse, out)


@pytest.fixture
def env(first_publication, tmp_path, monkeypatch):
    """(warehouse, out, first release) — a private copy of the module's first publication. Nothing in the
    warehouse or the output folder names its own location, so the copy is that publication in a new place."""
    template, first = first_publication
    base = tmp_path / "published"
    shutil.copytree(template, base, symlinks=True)
    warehouse, out = _set_env(monkeypatch, base)
    return warehouse, out, dataclasses.replace(first, path=out / "open-data" / first.release_id)


def _all_text(folder: Path) -> dict[str, str]:
    """Every published file as text; Parquet through DuckDB (every cell cast to text)."""
    texts = {}
    con = duckdb.connect()
    try:
        for path in sorted(p for p in folder.rglob("*") if p.is_file()):
            rel = path.relative_to(folder).as_posix()
            if path.suffix == ".parquet":
                rows = con.execute(f"SELECT * FROM read_parquet('{path.as_posix()}')").fetchall()
                texts[rel] = "\n".join("\t".join("" if v is None else str(v) for v in r) for r in rows)
            elif path.name.endswith(".gz"):
                texts[rel] = gzip.decompress(path.read_bytes()).decode("utf-8")
            elif path.suffix == ".xlsx":  # every cell as Excel reads it
                from openpyxl import load_workbook

                ws = load_workbook(path, read_only=True).worksheets[0]
                texts[rel] = "\n".join("\t".join("" if v is None else str(v) for v in r)
                                       for r in ws.iter_rows(values_only=True))
            else:
                texts[rel] = path.read_bytes().decode("utf-8")
    finally:
        con.close()
    return texts


def _mart_text(warehouse: Path) -> str:
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        rows = con.execute("SELECT notice_name, notice_content, contact_phone, pm_code "
                           "FROM main_marts.fct_trading_bulletins").fetchall()
    finally:
        con.close()
    return "\n".join(" ".join(str(v) for v in r) for r in rows)


def test_release_is_valid_complete_and_private(env):
    warehouse, out, result = env
    root = out / "open-data"
    assert atomic.read_pointer(root) == result.release_id
    folder = root / result.release_id
    assert not [p for p in root.iterdir() if p.name.startswith(atomic.STAGING_PREFIX)]

    # Frictionless, through its own CLI, on the published package
    proc = subprocess.run([str(VENV_BIN / "frictionless"), "validate", "datapackage.json"], cwd=folder,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
    # SHA256SUMS in sha256sum format
    proc = subprocess.run(["sha256sum", "--check", "--quiet", "SHA256SUMS"], cwd=folder, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr

    # every dataset: CSV with BOM + Parquet, row counts = the marts'
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        mart_rows = {name: con.execute(f"SELECT count(*) FROM main_marts.{name}").fetchone()[0]
                     for name in ("fct_budget_lines", "fct_debt_positions", "fct_trading_bulletins", "fct_deals",
                                  "fct_disclosure_status")}
        latest_run = con.execute("SELECT run_id FROM quality.runs ORDER BY started_at DESC LIMIT 1").fetchone()[0]
        findings = con.execute("SELECT count(DISTINCT (rule_id, publisher_code, fiscal_year, object_key)) "
                               "FROM quality.findings WHERE run_id = ?", [latest_run]).fetchone()[0]
        source_hashes = {r[0] for r in con.execute("SELECT source_sha256 FROM raw.load_files").fetchall()}
    finally:
        con.close()
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    for spec in load_spec()["datasets"]:
        name = spec["name"]
        if spec.get("optional") and name not in manifest["datasets"]:
            continue  # revisions: the fixture has no fct_revisions
        csvs = part_files(folder, name)
        assert csvs and all(csv.read_bytes().startswith(BOM) for csv in csvs)
        assert [p.with_suffix(".parquet") for p in csvs] == part_files(folder, name, ".parquet")
        expected = findings if name == "quality_findings" else mart_rows[spec["relation"]]
        assert manifest["datasets"][name]["rows"] == expected
        assert sum(len(csv.read_text(encoding="utf-8-sig").splitlines()) - 1 for csv in csvs) == expected
    # one part per fiscal year: the fixture's budget lines are of 2017 and 2018, its bulletins of 2018 deals
    assert set(manifest["datasets"]["budget_lines"]["parts"]) == {"2017", "2018"}
    assert set(manifest["datasets"]["trading_bulletins"]["parts"]) == {"2018"}
    assert {s["sha256"] for s in manifest["source_files"]} == source_hashes
    assert manifest["run_id"] == "test-run"
    package = json.loads((folder / "datapackage.json").read_text(encoding="utf-8"))
    for res in package["resources"]:
        assert res["hash"].startswith("sha256:") and res["bytes"] == (folder / res["path"]).stat().st_size
    budget = next(r for r in package["resources"] if r["name"] == "budget_lines_2017")
    assert {fk["reference"]["resource"] for fk in budget["schema"]["foreignKeys"]} == {"fdp_phase", "fdp_direction"}
    assert package["licenses"][0]["name"].startswith("CC-BY")
    dcat = json.loads((folder / "dcat.jsonld").read_text(encoding="utf-8"))
    assert dcat["dct:issued"] and dcat["dct:modified"] and dcat["dct:license"]
    # Fiscal Data Package vocabulary only
    con = duckdb.connect()
    try:
        phases = {r[0] for r in con.execute(
            f"SELECT DISTINCT phase FROM {parquet_parts(folder, 'budget_lines')}").fetchall()}
    finally:
        con.close()
    assert phases <= {"proposed", "approved", "adjusted", "executed"}

    # privacy: the inputs carry personal data, no published file does
    source_text = _mart_text(warehouse)
    assert identifiers.find_id_numbers(source_text) and identifiers.find_mobiles(source_text)
    # files listing sha256 digests hold random hex, whose digit runs may look like mobiles: there the
    # role-aware scan of privacy_scan (and the absence of the planted values) is the check
    hash_files = {"SHA256SUMS", "datapackage.json", "dcat.jsonld", "manifest.json"}
    for rel, text in _all_text(folder).items():
        assert identifiers.find_id_numbers(text) == [], rel
        if rel not in hash_files:
            assert identifiers.find_mobiles(text) == [], rel
        for value in PERSONAL_VALUES:
            assert value not in text, (rel, value[:3])
    assert scan_tree(folder, MaskingPolicy.from_spec(load_spec()["masking"]).identifier_columns).clean
    bulletins = "".join(p.read_text(encoding="utf-8-sig") for p in part_files(folder, "trading_bulletins"))
    assert PM_ID[:6] + "********" + PM_ID[-4:] in bulletins


def test_release_carries_ocds_checks_over_only_for_identical_files(env):
    """The OCDS build validated and scanned its packages; the release re-checks neither when its copies
    have the recorded checksums, and both when one differs (here: a leak planted after the build)."""
    warehouse, out, first = env
    assert "identical (SHA-256) to OCDS build" in first.validation["ocds"]
    assert "scanned when built" in first.validation["privacy_scan"]

    ocds_dir = atomic.current_release_dir(out / "ocds")
    package = next(p for p in package_files(ocds_dir) if p.name.startswith("release-package"))
    with open_package_text(package) as fh:
        text = fh.read()
    planted_id = "11010519491231002X"  # a checksum-valid ID number (GB 11643 example)
    assert identifiers.find_id_numbers(planted_id)
    tampered = text.replace('"language":"zh"', f'"language":"zh","description":"{planted_id}"', 1)
    assert tampered != text
    package.unlink()  # the release folder holds hard links of the same inode: break the link first
    package.write_bytes(gzip.compress(tampered.encode("utf-8")) if package.name.endswith(".gz")
                        else tampered.encode("utf-8"))
    with pytest.raises(ReleaseValidationError, match="privacy"):
        build_release(warehouse, out, ocds_dir=ocds_dir)
    assert atomic.read_pointer(out / "open-data") == first.release_id


def test_a_release_that_would_leak_is_not_published(env, monkeypatch):
    from dagster_project.publish import masking

    warehouse, out, first = env
    spec = copy.deepcopy(load_spec())
    # a careless policy change (notice text treated as a code) plus a masking bug (codes left as they are):
    # the ID numbers in the notices reach the files, and the privacy gate must stop the release
    spec["masking"]["identifier_columns"] += ["notice_content", "notice_name", "contact_phone"]
    monkeypatch.setattr(masking, "mask_identifier_sql", lambda expr: expr)
    with pytest.raises(ReleaseValidationError, match="privacy"):
        build_release(warehouse, out, spec=spec)
    root = out / "open-data"
    assert atomic.read_pointer(root) == first.release_id
    assert sorted(p.name for p in root.iterdir() if p.name != parts.DIGEST_CACHE) == sorted(
        [first.release_id, "LATEST"])


@pytest.mark.parametrize("stage", STAGES)
def test_failure_at_any_stage_leaves_previous_release(env, stage):
    warehouse, out, first = env
    root = out / "open-data"
    before = sorted(p.name for p in root.iterdir())
    with pytest.raises(atomic.InjectedFailure):
        build_release(warehouse, out, fail_at=stage)
    assert atomic.read_pointer(root) == first.release_id
    assert sorted(p.name for p in root.iterdir()) == before
    assert verify_sha256sums(root / first.release_id) == []


@pytest.mark.parametrize("stage", ["after_data", "before_pointer"])
def test_sigkill_mid_publication_leaves_previous_release(env, tmp_path, stage):
    warehouse, out, first = env
    root = out / "open-data"
    pause_file = tmp_path / f"paused-{stage}"
    proc = subprocess.Popen(
        [sys.executable, "-m", "dagster_project.publish", "release", "--warehouse", str(warehouse), "--out", str(out),
         "--pause-at", stage, "--pause-file", str(pause_file)],
        cwd=REPO_ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 120
        while not pause_file.exists():
            assert proc.poll() is None, proc.stderr.read().decode()[-2000:]
            assert time.monotonic() < deadline, "publisher never reached the stage"
            time.sleep(0.1)
        # the new release is half-way: built in staging (or renamed, pointer not yet flipped)
        assert any(p.name != first.release_id and p.is_dir() for p in root.iterdir())
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        proc.stdout.close()
        proc.stderr.close()
    assert proc.returncode == -signal.SIGKILL
    assert atomic.read_pointer(root) == first.release_id
    assert verify_sha256sums(root / first.release_id) == []
    # the next run cleans up the killed run's staging folder and publishes normally
    second = build_release(warehouse, out)
    assert atomic.read_pointer(root) == second.release_id
    assert not [p for p in root.iterdir() if p.name.startswith(atomic.STAGING_PREFIX)]


def test_every_csv_row_is_checked_against_its_table_schema(env, tmp_path):
    """Beyond Frictionless' row cap DuckDB reads every row with the declared types and required fields."""
    from dagster_project.publish.release_validation import check_table_schemas

    warehouse, out, release = env
    assert check_table_schemas(release.path) == []
    package = json.loads((release.path / "datapackage.json").read_text(encoding="utf-8"))
    table = next(r for r in package["resources"] if r.get("format") == "csv" and r["path"].startswith("data/")
                 and any(f["type"] == "number" for f in r["schema"]["fields"]))
    names = [f["name"] for f in table["schema"]["fields"]]
    number_at = next(i for i, f in enumerate(table["schema"]["fields"]) if f["type"] == "number")
    broken = tmp_path / "broken"
    shutil.copytree(release.path, broken)
    con = duckdb.connect()
    try:  # the same CSV with one number cell that is not a number
        rows = con.execute(f"SELECT * FROM read_csv('{(broken / table['path']).as_posix()}', all_varchar = true)").fetchall()
    finally:
        con.close()
    last = list(rows[-1])
    last[number_at] = "not-a-number"
    text = (broken / table["path"]).read_bytes().decode("utf-8-sig").rstrip("\n").split("\n")
    assert len(text) == len(rows) + 1 and text[0].split(",") == names
    (broken / table["path"]).write_bytes(BOM + "\n".join(text[:-1] + [",".join(
        "" if v is None else f'"{v}"' for v in last)]).encode("utf-8") + b"\n")
    problems = check_table_schemas(broken)
    assert len(problems) == 1 and problems[0].startswith(table["name"] + ":")


# ------------------------------------------------------------------- checks moved from Frictionless to DuckDB
# Above FRICTIONLESS_FULL_ROWS Frictionless reads a sample of each CSV; every check it makes on rows runs in
# DuckDB over every row. Each is shown failing on a file that breaks it, below the sample.

def _broken_copy(release_path: Path, tmp_path: Path) -> tuple[Path, dict]:
    broken = tmp_path / "broken"
    shutil.copytree(release_path, broken)
    package = json.loads((broken / "datapackage.json").read_text(encoding="utf-8"))
    return broken, package


def _budget(package: dict) -> dict:
    return next(r for r in package["resources"] if r["name"] == "budget_lines_2017")


def _rewrite_csv(path: Path, edit) -> None:
    """The CSV's lines (no cell of the fixture holds a line break) through ``edit``, BOM and last newline kept."""
    lines = path.read_bytes().decode("utf-8-sig").rstrip("\n").split("\n")
    path.write_bytes(BOM + ("\n".join(edit(lines)) + "\n").encode("utf-8"))


def _cells(line: str) -> list[str]:
    import csv as _csv

    return next(_csv.reader([line]))


def _line(cells: list[str]) -> str:
    return ",".join(f'"{c}"' if c else "" for c in cells)


def test_moved_row_checks_fail_on_files_that_break_them(env, tmp_path):
    from dagster_project.publish.release_validation import check_keys, check_table_schemas

    _, _, release = env
    assert check_table_schemas(release.path) == [] and check_keys(release.path) == []
    cases = {
        # an empty line: DuckDB skips it, Frictionless calls it a blank row -> counted by line breaks
        "blank line": (lambda lines: lines[:2] + [""] + lines[2:], "line breaks"),
        # a row of empty cells
        "blank row": (lambda lines: lines + ["," * (len(_cells(lines[0])) - 1)], "blank rows"),
        # a cell too few / too many
        "missing cell": (lambda lines: lines[:-1] + [lines[-1].rsplit(",", 1)[0]], "does not read as"),
        "extra cell": (lambda lines: lines[:-1] + [lines[-1] + ",x"], "does not read as"),
        # an integer in a form DuckDB would convert but the Table Schema's integer is not
        "integer lexical form": (None, "fiscal_year that are not integers"),
        # the header: a field renamed
        "header": (lambda lines: [lines[0].replace("phase", "stage", 1)] + lines[1:], "header"),
    }
    for case, (edit, expected) in cases.items():
        broken, package = _broken_copy(release.path, tmp_path / case.replace(" ", "_"))
        budget = _budget(package)
        path = broken / budget["path"]
        if edit is None:
            at = [f["name"] for f in budget["schema"]["fields"]].index("fiscal_year")

            def edit(lines, at=at):
                cells = _cells(lines[-1])
                cells[at] = cells[at] + ".0"
                return lines[:-1] + [_line(cells)]
        _rewrite_csv(path, edit)
        problems = check_table_schemas(broken)
        assert len(problems) == 1 and problems[0].startswith("budget_lines_2017:") and expected in problems[0], \
            (case, problems)
    # the BOM the encoding promises
    broken, package = _broken_copy(release.path, tmp_path / "bom")
    path = broken / _budget(package)["path"]
    path.write_bytes(path.read_bytes()[len(BOM):])
    assert "BOM" in " ".join(check_table_schemas(broken))


def test_a_foreign_key_missing_from_its_code_list_fails(env, tmp_path):
    from dagster_project.publish.release_validation import check_keys

    _, _, release = env
    broken, _ = _broken_copy(release.path, tmp_path)
    _rewrite_csv(broken / "code_lists" / "fdp_phase.csv",
                 lambda lines: [ln for ln in lines if not ln.startswith("approved,")])
    problems = check_keys(broken)
    assert problems and all("foreign key ['phase']" in p and "fdp_phase" in p for p in problems)


def test_a_parquet_copy_must_hold_the_text_of_its_csv(env, tmp_path):
    """The privacy scan reads each CSV and not its Parquet copy again: that rests on the copy holding the CSV's
    text, row for row. A Parquet copy with an unmasked ID number (its CSV clean) stops the release."""
    from dagster_project.publish.release_validation import (
        check_table_schemas, sha256_file, validate_release, write_sha256sums,
    )

    _, _, release = env
    broken, package = _broken_copy(release.path, tmp_path)
    table = next(r for r in package["resources"] if r["name"].startswith("trading_bulletins_"))
    parquet = (broken / table["path"]).with_suffix(".parquet")
    con = duckdb.connect()
    try:
        con.execute(f"CREATE TABLE t AS SELECT * FROM read_parquet('{parquet.as_posix()}')")
        con.execute("UPDATE t SET notice_content = notice_content || ?", [PM_ID])
        parquet.unlink()
        con.execute(f"COPY t TO '{parquet.as_posix()}' (FORMAT parquet)")
    finally:
        con.close()
    problems = check_table_schemas(broken)
    assert len(problems) == 1 and "notice_content that differ from the Parquet copy" in problems[0]
    for res in package["resources"]:  # a consistent package: only the copy's values are wrong
        res["hash"], res["bytes"] = "sha256:" + sha256_file(broken / res["path"]), (broken / res["path"]).stat().st_size
    (broken / "datapackage.json").write_text(json.dumps(package, ensure_ascii=False), encoding="utf-8")
    write_sha256sums(broken)
    with pytest.raises(ReleaseValidationError, match="Parquet copy"):
        validate_release(broken, 100_000, None, MaskingPolicy.from_spec(load_spec()["masking"]).identifier_columns)


def test_large_releases_sample_frictionless_and_say_so(env, monkeypatch, tmp_path):
    from dagster_project.publish import release_validation

    _, _, release = env
    monkeypatch.setattr(release_validation, "FRICTIONLESS_FULL_ROWS", 2)
    summary = release_validation.validate_with_frictionless(release.path, 10)
    assert f"first {release_validation.FRICTIONLESS_SAMPLE_ROWS} of each CSV resource" in summary
    # the descriptor is still validated whole, and hash / bytes against SHA256SUMS
    broken, package = _broken_copy(release.path, tmp_path)
    package["resources"][0]["bytes"] += 1
    (broken / "datapackage.json").write_text(json.dumps(package, ensure_ascii=False), encoding="utf-8")
    assert release_validation.check_descriptor_digests(broken)
    package["resources"][0]["schema"]["fields"][0]["type"] = "no-such-type"
    (broken / "datapackage.json").write_text(json.dumps(package, ensure_ascii=False), encoding="utf-8")
    with pytest.raises(ReleaseValidationError, match="Frictionless"):
        release_validation.validate_with_frictionless(broken, 10)


def test_a_large_csv_is_privacy_scanned_by_the_read_of_its_table_check(env, tmp_path, monkeypatch):
    """Every CSV, however large, is privacy-scanned by the one read of its Table Schema check (the scan's own read
    parsed a 244 MB bulletin part a second time): an ID number planted in a bulletin part of more than 32 MB (the
    old size limit of that shared read) is found there, and no read of its own is made."""
    from dagster_project.publish import privacy_scan, release_validation
    from dagster_project.publish.release_datasets import copy_csv_with_bom
    from dagster_project.publish.safe_cells import neutralise_sql

    _, _, release = env
    broken, package = _broken_copy(release.path, tmp_path)
    table = next(r for r in package["resources"] if r["name"].startswith("trading_bulletins_"))
    csv_path = broken / table["path"]
    parquet = csv_path.with_suffix(".parquet")
    con = duckdb.connect()
    try:  # the part's rows repeated (keys are not checked here) with a long text, and one ID number planted
        con.execute(f"CREATE TABLE t AS SELECT * REPLACE (CASE WHEN r = 0 AND n = 1 THEN notice_content || ? "
                    f"ELSE notice_content || repeat('公告正文', 60) END AS notice_content) FROM "
                    f"(SELECT row_number() OVER () AS n, * FROM read_parquet('{parquet.as_posix()}')), range(4000) AS g(r)",
                    [PM_ID])
        con.execute("ALTER TABLE t DROP COLUMN n")
        con.execute("ALTER TABLE t DROP COLUMN r")
        parquet.unlink()
        con.execute(f"COPY t TO '{parquet.as_posix()}' (FORMAT parquet)")
        copy_csv_with_bom(con, f"SELECT * FROM read_parquet('{parquet.as_posix()}')", csv_path)
    finally:
        con.close()
    assert csv_path.stat().st_size > 32 << 20
    monkeypatch.setattr(privacy_scan, "scan_csv_file", lambda *a, **k: pytest.fail("a CSV read again to be scanned"))
    hits: dict = {}
    scratch = duckdb.connect()
    try:
        problems = release_validation._check_table(
            scratch, broken, table, table["schema"]["fields"], neutralise_sql, hits,
            MaskingPolicy.from_spec(load_spec()["masking"]).identifier_columns)
    finally:
        scratch.close()
    assert problems == []
    assert [h.kind for h in hits[table["path"]]] == ["id_number"]
