"""Files read again by changed readers are a new reading, not a publisher's re-publication (ingest/reread.py).

The sample's warehouse (``sample_built``, read by the present readers) is copied with its raw root. Its debt family is
then read by "older readers" (their own version stamp) that misread two final-accounts (决算) files' amounts tenfold —
the kind of reading a reader fix corrects — and again by "fixed readers" (another stamp: the present readers) while
the second of them is genuinely re-published with one figure changed (re-saved by openpyxl), and so is a budget (预算)
file the older readers read right; a third file is re-published with one figure changed in a later load by the same
fixed readers; a fourth in a load where the readers' stamp changed again (a deploy) but no re-read figure moved.
dbt rebuilds the debt marts and the revision models, GX judges.
Expected: every unchanged file read again each time, its earlier readings kept superseded with the same sha256; the
marts hold the fixed reading (the parse cache, keyed by the readers' version, did not hand back the older readers'
parse); fct_revisions lists the re-published files' figures only. The 决算 file re-published in the load where the
readers moved the other 决算 file's figures is compared with its old bytes as the older readers read them (gone, they
cannot be read again): every figure differs tenfold, each revision says ``readers_changed`` — and each is still a
REV_SILENT_CORRECTION, saying 读取程序同时更新，须人工核对 (the publisher's +1 hides among them: a person must look).
The 预算 file re-published in that load (no re-read 预算 figure moved) and the file re-published at the deploy (a stale
stamp, nothing moved: review R6's reproduction) are not marked: their one changed figure is a plain finding.
Expected values are derived from the sample's own reading and from the cell changed here.
"""
from __future__ import annotations

import shutil
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest
from openpyxl import load_workbook

from dagster_project.ingest import framework, parse_cache, readers_version, workbook
from dagster_project.ingest.assets import FAMILY_LOADERS, resolve_loader
from dagster_project.paths import REPO_ROOT
from dbt_fixed_path import run_dbt

pytestmark = pytest.mark.slow
MISREAD = 10  # the older readers' factor on one file's amounts


def _rows(warehouse: Path, sql: str, params=()) -> list[tuple]:
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        return con.execute(sql, list(params)).fetchall()
    finally:
        con.close()


def _positions(warehouse: Path) -> dict:
    return {(r[0], r[1], r[2], r[3]): r[4] for r in _rows(
        warehouse, "select source_file, sheet, source_row, measure, amount_yuan from marts.fct_debt_positions")}


def _build(env: dict, root: Path) -> None:
    """dbt builds the debt marts and the revision models (incrementally: the copied warehouse's tables are kept)."""
    result = run_dbt(["build", "--select", "+fct_revisions", "+fct_debt_positions", "--exclude", "resource_type:seed"],
                     env, root / "target", root / "logs", unit_tests=False)
    assert result.returncode == 0, result.stdout[-6000:]


@pytest.fixture(scope="module")
def reread(sample_built, tmp_path_factory):
    warehouse0, _, env0 = sample_built
    root = tmp_path_factory.mktemp("reread")
    # named as the sample's: dbt's partial parse carries over from the session's other dbt calls (dbt_fixed_path.py)
    raw, warehouse, out = root / "raw", root / "w" / "warehouse.duckdb", root / "out"
    warehouse.parent.mkdir()
    shutil.copytree(REPO_ROOT / "data" / "raw", raw)
    shutil.copyfile(warehouse0, warehouse)
    files = sorted(p.relative_to(raw).as_posix() for p in (raw / "debt").rglob("*.xlsx"))
    finals, budgets = [f for f in files if "决算" in f], [f for f in files if "预算" in f]
    # misread and republished: the same table kinds (决算); alongside: another kind (预算) re-published with them
    misread, republished, deployed = finals[0], finals[-1], finals[1]
    alongside, later = budgets[-1], budgets[0]
    loader = resolve_loader(FAMILY_LOADERS["debt"])
    real_parse = workbook.parse_workbook

    def older_parse(path, rel):
        parsed = real_parse(path, rel)
        if rel in (misread, republished):
            for sheet in parsed.sheets:
                for line in sheet.lines:
                    if line.amount_yuan is not None:
                        line.amount_yuan *= MISREAD
        return parsed

    env = {**env0, "GONGKAI_WAREHOUSE": str(warehouse), "GONGKAI_RAW_DIR": str(raw), "GONGKAI_OUT_DIR": str(out)}
    con = duckdb.connect(str(warehouse))
    try:
        first_loads = dict(con.execute("select source_file, load_id from raw.load_files where family = 'debt' "
                                       "and is_current").fetchall())
        with pytest.MonkeyPatch.context() as mp:
            mp.setenv("GONGKAI_PARSE_CACHE", str(root / "parse_cache"))
            mp.setattr(parse_cache, "MAX_WORKERS", 1)  # parse in this process, where the readers are patched
            mp.setattr(workbook, "parse_workbook", older_parse)
            mp.setattr(readers_version, "version_of", lambda module: "older")  # framework and cache
            older = framework.load_family(con, raw, "debt", loader, progress=lambda _: None)
            older_loads = dict(con.execute("select source_file, load_id from raw.load_files where family = 'debt' "
                                           "and is_current").fetchall())
            con.close()
            _build(env, root)  # the older readers' reading reaches the marts
            older_positions = _positions(warehouse)
            con = duckdb.connect(str(warehouse))
            # the publisher re-publishes one file: a figure of a non-total line moved by one unit of its sheet
            changed = _republish(con, raw, republished, MISREAD)
            changed_alongside = _republish(con, raw, alongside, 1)
            mp.setattr(workbook, "parse_workbook", real_parse)
            mp.setattr(readers_version, "version_of", lambda module: "fixed")
            fixed = framework.load_family(con, raw, "debt", loader, progress=lambda _: None)
            # and another, later, read by the same fixed readers
            changed_later = _republish(con, raw, later, 1)
            after = framework.load_family(con, raw, "debt", loader, progress=lambda _: None)
            # a deploy: the readers' stamp changes, every file is read again to the same figures, one is re-published
            changed_deployed = _republish(con, raw, deployed, 1)
            mp.setattr(readers_version, "version_of", lambda module: "deployed")
            deploy = framework.load_family(con, raw, "debt", loader, progress=lambda _: None)
            cached = sorted(p.name.split("-")[-1] for p in (root / "parse_cache").glob("*.pickle"))
    finally:
        con.close()
    _build(env, root)
    from dagster_project.quality.runner import run_quality

    run = run_quality(warehouse, out)
    return dict(warehouse=warehouse, warehouse0=warehouse0, files=files, misread=misread, republished=republished,
                later=later, older=older, fixed=fixed, after=after, first_loads=first_loads, older_loads=older_loads,
                run=run, cached=cached, changed=changed, changed_later=changed_later, older_positions=older_positions,
                alongside=alongside, changed_alongside=changed_alongside, deployed=deployed, deploy=deploy,
                changed_deployed=changed_deployed)


def _republish(con, raw: Path, rel: str, misread: int) -> tuple:
    """A figure of a non-total line moved by one unit of its sheet, the workbook re-saved by openpyxl: (sheet, row,
    old amount, new amount) as the present readers read them (``misread``: the factor of the current reading)."""
    sheet, row, column, amount, unit = con.execute(
        """select l.sheet, l.source_row, l.source_column, l.amount_yuan, s.unit_multiplier
           from raw.debt_lines l join raw.debt_sheets s using (load_id, source_file, sheet)
           where l.source_file = ? and not l.is_retired and not l.is_total and l.amount_yuan > 0
           order by l.sheet, l.source_row, l.source_column limit 1""", [rel]).fetchone()
    book = load_workbook(raw / rel)
    cell = book[sheet][f"{column}{row}"]
    cell.value = float(Decimal(str(cell.value).replace(",", "")) + 1)
    book.save(raw / rel)
    return sheet, row, amount / misread, amount / misread + unit


def test_every_file_is_read_again_when_the_readers_change(reread):
    r = reread
    assert sorted(r["older"].loaded) == r["files"] and r["older"].unchanged == []
    assert sorted(r["fixed"].loaded) == r["files"] and r["fixed"].unchanged == []
    assert r["after"].loaded == [r["later"]]  # the same readers: only the re-published file
    assert sorted(r["deploy"].loaded) == r["files"] and r["deploy"].unchanged == []
    # one parse per file and readers' version: the fixed readers did not reuse the older readers' parses
    n = len(r["files"])
    assert r["cached"] == sorted(["older.pickle"] * n + ["fixed.pickle"] * (n + 1) + ["deployed.pickle"] * n)


def test_the_earlier_readings_are_kept_superseded_with_the_same_bytes(reread):
    r = reread
    history = _rows(r["warehouse"], """
        select source_file, count(*), count(distinct source_sha256), count(*) filter (where is_current),
               bool_and(rows_in = rows_loaded + rows_rejected)
        from raw.load_files where family = 'debt' group by 1 order by 1""")
    assert [h[0] for h in history] == r["files"]
    for rel, loads, shas, current, accounted in history:
        assert (loads, current, accounted) == (5 if rel == r["later"] else 4, 1, True)
        assert shas == (2 if rel in (r["republished"], r["later"], r["alongside"], r["deployed"]) else 1)
    # the older readers' reading of the misread file: kept, superseded, tenfold the fixed reading
    older = dict(_rows(r["warehouse"], """
        select sheet || '!' || source_column || cast(source_row as varchar), amount_yuan from raw.debt_lines
        where source_file = ? and load_id = ? and is_retired and amount_yuan is not null""",
        [r["misread"], r["older_loads"][r["misread"]]]))
    fixed = dict(_rows(r["warehouse"], """
        select sheet || '!' || source_column || cast(source_row as varchar), amount_yuan from raw.debt_lines
        where source_file = ? and not is_retired and amount_yuan is not null""", [r["misread"]]))
    assert older and older.keys() == fixed.keys()
    assert all(older[k] == fixed[k] * MISREAD for k in fixed)


def test_the_marts_hold_each_new_reading(reread):
    r = reread
    before, older, after = _positions(r["warehouse0"]), r["older_positions"], _positions(r["warehouse"])
    # the older readers' reading of the same bytes reached the marts (rebuilt though the bytes did not change) …
    misread = {k for k in before if k[0] in (r["misread"], r["republished"])}
    assert {k for k in older if before.get(k) != older[k]} == {k for k in misread if before[k]} != set()
    assert all(older[k] == before[k] * MISREAD for k in misread)
    # … and so did the fixed readers'
    moved = {k for k in after if before.get(k) != after[k]}
    # the misread files read as the sample's readers; the re-published ones moved by their one figure
    assert {k[0] for k in moved} == {r["republished"], r["later"], r["alongside"], r["deployed"]}
    for rel, (sheet, row, old, new) in ((r["republished"], r["changed"]), (r["later"], r["changed_later"]),
                                        (r["alongside"], r["changed_alongside"]),
                                        (r["deployed"], r["changed_deployed"])):
        assert {after[k] for k in moved if k[0] == rel} == {new} and {before[k] for k in moved if k[0] == rel} == {old}
    assert before.keys() == after.keys()


def test_only_the_republished_files_figures_are_revisions(reread):
    r = reread
    current = dict(_rows(r["warehouse"], "select source_file, load_id from raw.load_files where family = 'debt' "
                                         "and is_current"))
    rows = _rows(r["warehouse"], """
        select new_source_file, change_kind, old_amount_yuan, new_amount_yuan, new_amount_now_yuan, old_load_id,
               new_load_id, old_source_sha256 <> new_source_sha256, readers_changed, new_sheet, new_source_row
        from marts.fct_revisions where family = 'debt' order by new_source_file, new_sheet, new_source_row, measure""")
    assert {row[0] for row in rows} == {r["republished"], r["later"], r["alongside"], r["deployed"]}
    # re-published later by the same readers, at a deploy that moved no re-read figure, or in the load where the readers
    # moved figures of other tables only (决算, not this 预算 file's): the changed figure and nothing else, not marked
    # (the new version's first reading is compared: the deploy read the first two again, to the same figures)
    for rel, (sheet, row, old, new), old_load, new_load in (
            (r["later"], r["changed_later"], r["fixed"].load_id, r["after"].load_id),
            (r["deployed"], r["changed_deployed"], r["fixed"].load_id, r["deploy"].load_id),
            (r["alongside"], r["changed_alongside"], r["older"].load_id, r["fixed"].load_id)):
        assert [x for x in rows if x[0] == rel] == [
            (rel, "changed", old, new, new, old_load, new_load, True, False, sheet, row)]
    assert current[r["deployed"]] == r["deploy"].load_id
    # re-published in the load where the readers changed: compared with the old bytes as the older readers read them
    # (tenfold) — every figure differs, each marked readers_changed and read now as the fixed readers read it
    sheet, row, old, new = r["changed"]
    older = dict(_rows(r["warehouse"], """
        select sheet || '!' || cast(source_row as varchar) || '!' || source_column, amount_yuan from raw.debt_lines
        where source_file = ? and load_id = ? and amount_yuan is not null and amount_yuan <> 0""",
        [r["republished"], r["older_loads"][r["republished"]]]))
    flagged = [x for x in rows if x[0] == r["republished"]]
    assert len(flagged) == len(older) and flagged
    for _, kind, was, now_first, now, old_load, new_load, bytes_moved, readers_changed, *_ in flagged:
        assert (kind, old_load, new_load, bytes_moved, readers_changed) == (
            "changed", r["older_loads"][r["republished"]], r["fixed"].load_id, True, True)
        assert now == now_first and (was == now * MISREAD or (was, now) == (old * MISREAD, new))
    # the misread file has one version: its latest reading, dated by the first load of its bytes
    versions = _rows(r["warehouse"], """
        select distinct version_number, load_id, loaded_at = (select min(loaded_at) from raw.load_files
                                                             where source_file = v.source_file)
        from intermediate.int_figure_versions v where source_file = ?""", [r["misread"]])
    assert versions == [(1, current[r["misread"]], True)]


def test_the_silent_correction_rule_names_every_republication(reread):
    """The file re-published when the readers moved its table kind's figures: every revision a finding saying the
    readers changed too and a person must look (review R6: the publisher's +1 hides there); the others plain."""
    r = reread
    revisions = dict(_rows(r["warehouse"], """select new_source_file, count(*) from marts.fct_revisions
        where family = 'debt' group by 1"""))
    findings = _rows(r["warehouse"], """select source_file, count(*), count(*) filter (where detail like '%须人工核对%')
        from quality.findings where run_id = ? and rule_id = 'REV_SILENT_CORRECTION' group by 1 order by 1""",
                     [r["run"].run_id])
    review = revisions[r["republished"]]
    assert review > 1
    assert findings == sorted([(r["later"], 1, 0), (r["alongside"], 1, 0), (r["deployed"], 1, 0),
                               (r["republished"], review, review)])
