"""Own-level publisher names against the registry, and a bare 车辆数 column of a 三公 决算表 (the probes:
tests/fixtures/own_level_vehicles_w20/MAKE.md). Each test failed on main (d3e8059):

- a file naming 预算单位：X机关本级 where the registry lists X机关 (宁夏回族自治区政协机关) was keyed X — no registry
  entity, REG_UNKNOWN_PUBLISHER — and a file naming a unit the registry lists under its own name ending in 本级
  (宁夏回族自治区财政厅本级, its own code) was keyed as its department. The name as written is matched first, the
  name without its own-level suffix only when the registry knows no publisher of the name as written (the shortest
  suffix off first); with X registered too, X机关本级's table was dropped as a copy of X's of that title and year;
- a bare 车辆数（辆） column beside one row per cost was ignored (reported): on the 公务用车运行费 row it is the vehicles
  held, on the 公务用车购置费 row the vehicles bought — and its blank there is 0, as a blank count is in the 公务用车
  购置数 column (RAW_FORMATS.md: blank is 0). Beside a table whose vehicles are one row (购置及运行费) it says neither:
  still ignored and reported.
"""
from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest

from dagster_project.ingest.workbook import parse_workbook
from dagster_project.sample.formats import chromium, print_pdf

FIXTURES = Path(__file__).parent / "fixtures" / "own_level_vehicles_w20"
sys.path.insert(0, str(FIXTURES))
import make_probes_y5 as probes  # noqa: E402

BARE_VEHICLES = "未识别的列已忽略 (unrecognised columns ignored): D「车辆数（辆）」"


def _form(name: str, form: str, table: dict, tmp_path: Path) -> Path:
    """The .xlsx probe, or the table printed by headless Chromium as a department's PDF prints it."""
    if form == "xlsx":
        return FIXTURES / f"{name}.xlsx"
    if chromium() is None:
        pytest.skip("headless Chromium is not installed (make browser)")
    from blind_disclosure import disclosure_html

    path = tmp_path / f"{name}.pdf"
    print_pdf(disclosure_html([table], [("一、部门主要职能", "负责全区相关工作。")], probes.CULTURE, "2024年度部门决算"),
              path)
    return path


def _sangong(path: Path):
    return next(s for s in parse_workbook(path).sheets if s.status == "parsed" and "sangong" in s.table_keys[-1])


@pytest.mark.parametrize("form", ["xlsx", "pdf"])
def test_a_bare_vehicle_count_is_bought_or_held_by_its_rows_cost(tmp_path, form):
    """车辆数（辆）: 12 on the 运行费 row are the vehicles held; the 购置费 row's blank is 0 bought."""
    sheet = _sangong(_form("sangong_bare_vehicles_final_2024", form, probes.bare_vehicles(), tmp_path))
    assert {c.count_key: c.count_value for c in sheet.counts} == probes.VEHICLES_TABLE
    assert sorted((c.count_key, c.column_key, c.line_label) for c in sheet.counts) == [
        ("vehicles_bought", "vehicles_bought", "（1）公务用车购置费"),
        ("vehicles_held", "vehicles_held", "（2）公务用车运行费")]
    assert not sheet.warnings and sheet.rejects == []


@pytest.mark.parametrize("form", ["xlsx", "pdf"])
def test_a_bare_vehicle_count_beside_one_vehicle_row_stays_unread_and_reported(tmp_path, form):
    """购置及运行费 as one row: its 8 vehicles are bought or held, the table does not say — no count, a warning."""
    sheet = _sangong(_form("sangong_bare_vehicles_combined_final_2024", form, probes.bare_vehicles_combined(),
                           tmp_path))
    assert sheet.counts == [] and sheet.rejects == []
    assert any(w.startswith(BARE_VEHICLES[:30]) and "车辆数" in w for w in sheet.warnings)


@pytest.fixture(scope="module")
def resolved(tmp_path_factory):
    """The registry CSVs and the two unit files loaded by their families' loaders, built by dbt to
    intermediate.int_sheets_resolved: each file's publisher."""
    import duckdb

    from dagster_project.ingest import framework
    from dagster_project.ingest.assets import FAMILY_LOADERS, resolve_loader
    from dbt_fixed_path import run_dbt, scenario_env

    tmp = tmp_path_factory.mktemp("own_level_vehicles_w20")
    shutil.copytree(FIXTURES / "registry", tmp / "raw" / "registry")
    (tmp / "raw" / "budget").mkdir(parents=True)
    for path in FIXTURES.glob("unit_*.xlsx"):
        shutil.copy(path, tmp / "raw" / "budget" / path.name)
    warehouse = tmp / "warehouse.duckdb"
    with duckdb.connect(str(warehouse)) as con:
        framework.ensure_schema(con)
        for family in ("registry", "budget"):
            framework.load_family(con, tmp / "raw", family, resolve_loader(FAMILY_LOADERS[family]),
                                  progress=lambda _: None)
    result = run_dbt(["build", "--select", "+int_sheets_resolved", "--resource-type", "seed", "--resource-type",
                      "model"], scenario_env(tmp, warehouse), tmp / "target", tmp / "logs")
    assert result.returncode == 0, result.stdout[-6000:]
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.execute("select source_file, publisher_name, publisher_code, is_registered_publisher "
                           "from intermediate.int_sheets_resolved order by source_file").fetchall()


def test_a_registered_name_is_matched_as_written_before_its_own_level_suffix_is_dropped(resolved):
    """X机关本级 with X机关 registered is X机关's own level, not X's (nor a copy of X's table of that title and year:
    int_sheet_duplicates keys a publisher alike); X本级 registered under its own code is that unit."""
    assert resolved == [
        ("budget/unit_cppcc_budget_2025.xlsx", probes.CPPCC_BODY, probes.CPPCC_BODY_CODE, True),
        ("budget/unit_organ_named_budget_2025.xlsx", f"{probes.CPPCC}本级", probes.CPPCC_CODE, True),
        ("budget/unit_registered_own_level_budget_2025.xlsx", probes.FINANCE_OWN, probes.FINANCE_OWN_CODE, True),
    ]
