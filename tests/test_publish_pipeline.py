"""End to end, as a hostile or careless user would run it: the bundled-sample generator's raw root (the committed
``data/raw``, that generator's documented output) plus the hostile files of ``hostile_raw`` →
``python -m dagster_project.cli run`` (what ``make run`` calls) → a published, valid, privacy-clean release, with a
finding or a reject for each bad input and a summary on the terminal.
Then the same warehouse with an empty raw root and with a missing one: no retirement, LATEST untouched.

One pipeline run serves every assertion of this module (it is the slow part: about a minute).
"""
from __future__ import annotations

import csv
import gzip
import json
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pytest
from openpyxl import load_workbook

from dagster_project import identifiers, personal_numbers
from dagster_project.paths import DBT_PROJECT_DIR, REPO_ROOT
from dagster_project.publish import atomic, safe_cells
from dagster_project.publish.release_validation import verify_sha256sums
from dagster_project.publish.warehouse import find_relation
from dbt_fixed_path import fixed_warehouse
from test_publish_support import parquet_parts, part_files
from hostile_raw import CONTROL_BUYER, FORMULAS, KNOWN_DEPT, SECRET, UNKNOWN_BUYER, UNKNOWN_PUBLISHER, Hostile, add_hostile_files

SAMPLE_RAW = REPO_ROOT / "data" / "raw"


@dataclass
class Pipeline:
    tmp: Path
    hostile: Hostile
    warehouse: Path
    out: Path
    run: subprocess.CompletedProcess
    release: Path
    empty_root_run: subprocess.CompletedProcess
    missing_root_run: subprocess.CompletedProcess
    latest_after_guard_runs: str | None
    load_files_before: list
    load_files_after: list


def _cli(env: dict, *args: str, raw: Path | None = None) -> subprocess.CompletedProcess:
    run_env = dict(env, GONGKAI_RAW_DIR=str(raw)) if raw is not None else env
    return subprocess.run([sys.executable, "-m", *args], cwd=REPO_ROOT, env=run_env, capture_output=True, text=True,
                          timeout=900)


def _run(env: dict, raw: Path | None = None) -> subprocess.CompletedProcess:
    """``cli run`` with the warehouse at this test process's fixed path (one dbt parse state: dbt_fixed_path.py)."""
    with fixed_warehouse(Path(env["GONGKAI_WAREHOUSE"])) as warehouse:
        return _cli(dict(env, GONGKAI_WAREHOUSE=str(warehouse)), "dagster_project.cli", "run", raw=raw)


def _load_files(warehouse: Path) -> list:
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        return con.execute("SELECT source_file, source_sha256, status, is_current, retired_at FROM raw.load_files "
                           "ORDER BY ALL").fetchall()
    finally:
        con.close()


@pytest.fixture(scope="module")
def pipeline(tmp_path_factory) -> Pipeline:
    tmp = tmp_path_factory.mktemp("hostile_pipeline")
    env = dict(os.environ, GONGKAI_RAW_DIR=str(tmp / "raw"), GONGKAI_WAREHOUSE=str(tmp / "warehouse.duckdb"),
               GONGKAI_OUT_DIR=str(tmp / "out"), GONGKAI_AS_OF="2020-06-30", DAGSTER_HOME=str(tmp / "dagster_home"))
    env.pop("GONGKAI_ALLOW_RETIRE", None)
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    (tmp / "dagster_home").mkdir()
    # the generator's raw root: the committed sample is its documented call's output, byte for byte
    # (test_sample_generator.py::test_committed_sample_equals_documented_generation), so it is copied, not made again
    # (≈ 20 CPU-s of a generation with its Chromium prints)
    if not (SAMPLE_RAW / "ground_truth.json").is_file():
        pytest.skip("the bundled sample is not generated")
    shutil.copytree(SAMPLE_RAW, tmp / "raw")
    hostile = add_hostile_files(tmp / "raw", tmp / "outside")
    if not (DBT_PROJECT_DIR / "target" / "manifest.json").exists():
        assert _cli(env, "dagster_project.cli", "prepare").returncode == 0
    run = _run(env)
    assert run.returncode == 0, (run.stdout + run.stderr)[-6000:]
    release = atomic.current_release_dir(tmp / "out" / "open-data")
    assert release is not None
    before = _load_files(tmp / "warehouse.duckdb")
    (tmp / "empty").mkdir()
    empty = _run(env, raw=tmp / "empty")
    missing = _run(env, raw=tmp / "no-such-root")
    return Pipeline(tmp, hostile, tmp / "warehouse.duckdb", tmp / "out", run, release, empty, missing,
                    atomic.read_pointer(tmp / "out" / "open-data"), before, _load_files(tmp / "warehouse.duckdb"))


def _rows(p: Pipeline, sql: str, params=()) -> list:
    con = duckdb.connect(str(p.warehouse), read_only=True)
    try:
        return con.execute(sql, list(params)).fetchall()
    finally:
        con.close()


def _latest_findings(p: Pipeline, rule_like: str) -> list:
    return _rows(p, "SELECT rule_id, publisher_code, fiscal_year, object_key, observed, expected, source_file, sheet "
                    "FROM quality.findings WHERE run_id = (SELECT run_id FROM quality.runs ORDER BY started_at DESC "
                    "LIMIT 1) AND rule_id LIKE ? ORDER BY ALL", [rule_like])


def _published_csv(p: Pipeline, name: str) -> list[dict]:
    rows = []
    for path in part_files(p.release, name):  # one file per fiscal year
        with path.open(encoding="utf-8-sig", newline="") as fh:
            rows += list(csv.DictReader(fh))
    return rows


# ----------------------------------------------------------------------------------------- the run

@pytest.mark.slow
def test_the_run_publishes_a_valid_release_and_says_what_it_rejected(pipeline):
    p = pipeline
    assert verify_sha256sums(p.release) == []
    manifest = json.loads((p.release / "manifest.json").read_text(encoding="utf-8"))
    bulletins = _rows(p, f"SELECT count(*) FROM {_mart(p, 'fct_trading_bulletins')}")[0][0]
    assert manifest["datasets"]["trading_bulletins"]["rows"] == bulletins
    assert sorted(x.name for x in (p.release / "ocds").iterdir())
    assert (p.out / "dashboards" / "index.html").exists()
    summary = p.run.stdout[p.run.stdout.index("gongkai 运行摘要 run summary"):]
    for rel in (p.hostile.link_outside, p.hostile.dangling_link, "budget/2019/贺兰县2019年决算公开表.xlsx"):
        assert rel in summary  # each reject named, with its reason
    assert "链接指向原始数据目录之外" in summary
    assert re.search(r"trading\s+\d+\s+\d+\s+1 \(新 new 1\)", summary)  # per family: loaded, unchanged, rejected (new)
    assert f"release: {p.release.name}" in summary and "已发布 published" in summary
    assert "quality" in summary and "index.html" in summary
    assert re.search(r"警告 warning \d+ \(新 new \d+", summary)
    # a web system's export (HTML named .xls) and Excel's "Unicode text": read, their personal numbers with the rest
    forms = dict(_rows(p, "SELECT source_file, file_format || '/' || coalesce(encoding, '') || '/' || rows_loaded "
                          "FROM raw.load_files WHERE source_file IN ('trading/hostile_web_export.xls', "
                          "'trading/hostile_unicode_text.txt') AND is_current"))
    assert forms == {"trading/hostile_web_export.xls": "html//1", "trading/hostile_unicode_text.txt": "csv/utf-16-le/1"}


def _mart(p: Pipeline, name: str) -> str:
    con = duckdb.connect(str(p.warehouse), read_only=True)
    try:
        return find_relation(con, name)
    finally:
        con.close()


# ----------------------------------------------------------------------------------------- privacy

@pytest.fixture(scope="module")
def workbooks(pipeline) -> dict[Path, list[tuple]]:
    """Every workbook gongkai wrote under the output root (the release's and the findings'), opened once by openpyxl
    as a reader opens it, as (sheet, coordinate, data_type, value) of every cell: three tests read them all, and
    opening them was ≈ 7 CPU-s a pass (benchmarks/RESULTS.md, wave 18 s6)."""
    cells = {}
    for path in sorted(pipeline.out.rglob("*.xlsx")):
        cells[path] = [(ws.title, c.coordinate, c.data_type, c.value)
                       for ws in load_workbook(path) for row in ws.iter_rows() for c in row]
    return cells


def _workbook_text(cells: list[tuple]) -> str:
    """A workbook's values as text, a line per row (cells in reading order)."""
    rows: dict[tuple, list[str]] = {}
    for sheet, coordinate, _, value in cells:
        rows.setdefault((sheet, coordinate.lstrip("ABCDEFGHIJKLMNOPQRSTUVWXYZ")), []).append(str(value))
    return "\n".join("\t".join(values) for values in rows.values())


def _written_texts(out: Path, workbooks: dict[Path, list[tuple]]):
    """Every file gongkai wrote under the output root, as text (Parquet and XLSX values, gzip unpacked)."""
    for path in sorted(out.rglob("*")):
        if not path.is_file() or path.suffix == ".js":
            continue
        if path.suffix == ".parquet":
            con = duckdb.connect()
            try:
                yield path, "\n".join("\t".join(map(str, r)) for r in con.execute(
                    f"SELECT * FROM read_parquet('{path.as_posix()}')").fetchall())
            finally:
                con.close()
        elif path.name.endswith(".gz"):
            yield path, gzip.open(path, "rt", encoding="utf-8").read()
        elif path.suffix == ".xlsx":
            yield path, _workbook_text(workbooks[path])
        else:
            yield path, path.read_text(encoding="utf-8", errors="replace")


@pytest.mark.slow
def test_no_personal_number_is_published_in_any_written_form(pipeline, workbooks):
    p = pipeline
    raw_text = "\n".join(" ".join(str(v) for v in r) for r in _rows(
        p, "SELECT notice_name, notice_content, contact_phone, pm_code, pm_name FROM raw.trading_bulletins"))
    assert identifiers.find_id_numbers(raw_text)  # the raw root plants personal data …
    leaks = []
    scanned = 0
    for path, text in _written_texts(p.out, workbooks):
        scanned += 1
        # digits of every chain, whatever the separators and the digits' width
        chains = [re.sub(r"[^0-9X]", "", c.upper())
                  for c in re.findall(personal_numbers.CHAIN_PATTERN, personal_numbers.normalise(text))]
        leaks += [(path.relative_to(p.out).as_posix(), n) for n in p.hostile.personal_numbers
                  if any(n in chain for chain in chains)]
    assert scanned > 30 and leaks == []  # … and none of it is published: release, OCDS, report, findings, dashboards
    # what the publishers wrote is still in the warehouse, for checking
    assert any(n in re.sub(r"\D", "", personal_numbers.normalise(raw_text)) for n in p.hostile.personal_numbers)
    # and each written form became a finding
    priv = _latest_findings(p, "PRIV_%")
    assert {r[0] for r in priv} == {"PRIV_ID_NUMBER", "PRIV_MOBILE", "PRIV_BANK_CARD"}
    assert any(r[1].startswith("UNREG-") and r[3] == "dept_revenue" for r in priv)  # a note of a workbook
    assert any(r[3].startswith("portal/") for r in priv)  # a portal title


# ----------------------------------------------------------------------------------------- formulas

@pytest.mark.slow
def test_no_spreadsheet_cell_runs_as_a_formula(pipeline, workbooks):
    p = pipeline
    csvs = list(p.release.rglob("*.csv")) + [p.out / "quality" / "findings.csv"]
    neutralised = 0
    for path in csvs:
        with path.open(encoding="utf-8-sig", newline="") as fh:
            for row in csv.reader(fh):
                for cell in row:
                    if cell and cell[0] in "=+-@\t\r":
                        assert safe_cells.is_number_text(cell), (path.name, cell)
                    neutralised += cell.startswith("'") and any(f.split(" ")[0] in cell for f in FORMULAS)
    assert neutralised >= 4  # the planted formula text is there, as text
    xlsx = [p.out / "quality" / "findings.xlsx", *p.release.rglob("*.xlsx")]
    for path in xlsx:
        for _, coordinate, data_type, value in workbooks[path]:
            assert data_type != "f", (path.name, coordinate, value)
            if isinstance(value, str) and value[:1] in "=+-@\t\r":
                assert safe_cells.is_number_text(value), (path.name, value)
    # Parquet keeps the text as the publisher wrote it (masked, not neutralised)
    con = duckdb.connect()
    try:
        names = {r[0] for r in con.execute(
            f"SELECT notice_name FROM {parquet_parts(p.release, 'trading_bulletins')}"
        ).fetchall()}
    finally:
        con.close()
    assert FORMULAS[0] in names


@pytest.mark.slow
def test_control_characters_leave_workbooks_and_stop_nothing(pipeline, workbooks):
    # a buyer's name with a vertical tab, a form feed and U+0001 (XML 1.0 forbids them): the run published (the
    # fixture asserts it), every workbook opens, and the name is in them without those characters only
    p = pipeline

    def squeezed(text: str) -> str:  # the name without control characters and spaces (a form feed may become one)
        return re.sub(r"[\x00-\x20]", "", text)

    cleaned = squeezed(CONTROL_BUYER)
    seen_in = set()
    for path in [p.out / "quality" / "findings.xlsx", *p.release.rglob("*.xlsx")]:
        for _, _, _, value in workbooks[path]:
            if isinstance(value, str):
                assert not re.search("[\\x00-\\x08\\x0b\\x0c\\x0e-\\x1f]", value), (path.name, value)
                if cleaned in squeezed(value):
                    seen_in.add(path)
    assert p.out / "quality" / "findings.xlsx" in seen_in, "the buyer's name is in the findings workbook"
    assert any(p.release in path.parents for path in seen_in), "and in a dataset's workbook of the release"
    # the CSV keeps the text as the publisher wrote it (only a workbook cannot hold those characters)
    assert any(squeezed(v) == cleaned and "\x0b" in v for r in _published_csv(p, "trading_bulletins")
               for v in r.values() if v)


# ----------------------------------------------------------------------------------------- raw root

@pytest.mark.slow
def test_links_and_special_files_are_rejected_unread(pipeline):
    p = pipeline
    files = dict(_rows(p, "SELECT source_file, reason FROM raw.load_files WHERE is_current AND status = 'rejected'"))
    assert "原始数据目录之外" in files[p.hostile.link_outside]
    assert "不存在" in files[p.hostile.dangling_link]
    if p.hostile.fifo:
        assert "不是普通文件" in files[p.hostile.fifo]
    texts = _rows(p, "SELECT coalesce(reason, '') FROM raw.load_files UNION ALL "
                     "SELECT coalesce(reason, '') || coalesce(raw_value, '') FROM raw.load_rejects")
    assert not any(SECRET in t for (t,) in texts)
    assert not any(SECRET in " ".join(map(str, r)) for r in _rows(p, "SELECT * FROM raw.trading_bulletins"))
    # no reason carries an absolute path
    assert not any(str(p.tmp) in t or re.search(r"(^|[\s\"'])/[^/\s]+/", t) for (t,) in texts)


@pytest.mark.slow
def test_an_empty_or_missing_raw_root_publishes_nothing_and_retires_nothing(pipeline):
    p = pipeline
    empty = p.empty_root_run
    assert empty.returncode != 0
    assert "GONGKAI_ALLOW_RETIRE" in empty.stdout + empty.stderr  # says why, and what to do
    assert "未发布 not published" in empty.stderr
    missing = p.missing_root_run
    assert missing.returncode == 2 and "no-such-root" in missing.stderr and "raw root does not exist" in missing.stderr
    assert p.latest_after_guard_runs == p.release.name
    assert p.load_files_after == p.load_files_before  # nothing retired, nothing touched


# ----------------------------------------------------------------------------------------- quarantine

@pytest.mark.slow
def test_an_unknown_publisher_is_keyed_and_reported(pipeline):
    p = pipeline
    (finding,) = {r[:4] for r in _latest_findings(p, "REG_UNKNOWN_PUBLISHER")}
    key = finding[1]
    assert re.fullmatch(r"UNREG-[0-9A-F]{10}", key) and finding[3] == UNKNOWN_PUBLISHER
    lines = [r for r in _published_csv(p, "budget_lines") if r["publisher_code"] == key]
    assert lines and all(r["source_file"] == p.hostile.unknown_workbook for r in lines)
    published = {r["publisher_code"] for r in _published_csv(p, "quality_findings") if r["rule_id"] == "REG_UNKNOWN_PUBLISHER"}
    assert published == {key}
    # a deal whose buyer has no credit code is keyed by the buyer's name, never NULL
    buyers = {r[0] for r in _rows(p, "SELECT publisher_code FROM intermediate.int_deals_assembled WHERE tenderer_name = ?",
                                   [UNKNOWN_BUYER])}
    assert len(buyers) == 1 and next(iter(buyers)).startswith("UNREG-")
    assert _rows(p, "SELECT count(*) FROM quality.findings WHERE publisher_code IS NULL AND kind = 'compliance'") == [(0,)]


@pytest.mark.slow
def test_a_bulletin_without_a_date_is_left_out_of_ocds_only(pipeline):
    p = pipeline
    key = p.hostile.dateless_bulletin_key
    assert key in {r["bulletin_key"] for r in _published_csv(p, "trading_bulletins")}
    ids = set()
    for path in (p.release / "ocds").glob("release-package-*"):
        with gzip.open(path, "rt", encoding="utf-8") if path.name.endswith(".gz") else path.open(encoding="utf-8") as fh:
            ids |= {r["id"] for r in json.load(fh)["releases"]}
    assert ids and key not in ids
    assert "HX2018-0001/HX2018-0001-001|result|2018-06-01T10:00:00|" in ids  # the deal's dated bulletin is there
    (finding,) = _latest_findings(p, "QUAR_BULLETIN_NO_DATE")
    assert finding[3] == key and finding[6] == p.hostile.trading_file
    manifest = json.loads((p.release / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["quarantined"]["ocds"] == {"quarantined_by_dbt": 1}
    vocabulary = {r[4] for r in _latest_findings(p, "QUAR_VALUE_OUT_OF_VOCABULARY")}
    assert vocabulary == {"bulletin_type = 竞价公告", "trade_area = 碳排放权交易"}


@pytest.mark.slow
def test_the_same_table_twice_is_counted_once(pipeline):
    p = pipeline
    dup = _latest_findings(p, "DUP_TABLE_%")
    identical = [r for r in dup if r[0] == "DUP_TABLE_IDENTICAL"]
    conflict = [r for r in dup if r[0] == "DUP_TABLE_CONFLICT"]
    assert [r[6] for r in identical] == [p.hostile.identical_twice]
    assert [r[6] for r in conflict] == [p.hostile.conflicting_twice]
    assert conflict[0][4].startswith(p.hostile.conflicting_twice) and conflict[0][5].startswith(p.hostile.conflicting_twice)
    assert conflict[0][4] != conflict[0][5]  # both copies named
    for workbook in (p.hostile.identical_twice, p.hostile.conflicting_twice):
        sheets = _rows(p, "SELECT sheet, count(*) FROM raw.budget_lines WHERE source_file = ? AND table_name = ? "
                          "GROUP BY 1 ORDER BY 1", [workbook, p.hostile.twice_table])
        assert len(sheets) == 2 and sheets[0][1] == sheets[1][1]  # both copies loaded in raw …
        mart = _rows(p, f"SELECT count(DISTINCT sheet), count(*) FROM {_mart(p, 'fct_budget_lines')} "
                        "WHERE source_file = ? AND table_key = 'dept_expenditure'", [workbook])
        assert mart[0][0] == 1  # … one in the marts
        published = [r for r in _published_csv(p, "budget_lines")
                     if r["source_file"] == workbook and r["table_key"] == "dept_expenditure"]
        assert len(published) == mart[0][1] and len({r["sheet"] for r in published}) == 1
    assert KNOWN_DEPT in p.hostile.identical_twice
