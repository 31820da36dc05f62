"""The Dagster assets' skip gate (``publish/assets.py::publish_fingerprint``, ``dashboards_fingerprint``,
``inputs.ocds_fingerprint``) decides, before any part is looked at, that a release, the pages or the OCDS packages are
"unchanged". It must move with everything the parts are keyed by (review V3, wave 15):

- a relation written by a dbt build outside Dagster (``generations.built_outside``): the recorded dbt fingerprint no
  longer says what the marts hold — the gate read stage ``dbt`` directly and said "release unchanged" over a mart a
  hand ``dbt run --full-refresh`` had multiplied by ten;
- the data files publishing reads (``inputs.publish_data_digest``: the rule catalogue, the OCDS schema) — the gate
  hashed ``publish/`` and ``dashboards/`` only, so a changed schema or catalogue skipped the release;
- the OCDS schema the run validates against (``ocds_schema_dir`` / ``--ocds-schema-dir``): in no fingerprint, so a
  schema adding a required field said "OCDS unchanged" over packages that fail it.
Small fixture warehouse (``test_publish_support``), no pipeline run.
"""
from __future__ import annotations

import json
import shutil

import duckdb
import pytest

from dagster_project.publish import assets, inputs, ocds_validation, release
from dagster_project.publish.release import load_spec
from test_publish_support import build_fixture_warehouse, record_dbt_build


@pytest.fixture
def warehouse(tmp_path, monkeypatch):
    path = tmp_path / "wh" / "gongkai.duckdb"
    for name, value in (("GONGKAI_WAREHOUSE", path), ("GONGKAI_OUT_DIR", tmp_path / "out"),
                        ("GONGKAI_RAW_DIR", tmp_path)):
        monkeypatch.setenv(name, str(value))
    monkeypatch.delenv("GONGKAI_NO_CARRY", raising=False)
    path.parent.mkdir()
    build_fixture_warehouse(path)
    record_dbt_build(path, {ds["relation"] for ds in load_spec()["datasets"] if "relation" in ds}, "g1")
    return path


def _gates() -> tuple:
    return assets.publish_fingerprint("publish_release"), _dashboards_gate()


def _dashboards_gate():
    # dashboards_fingerprint needs the latest quality run's inputs fingerprint: the fixture's run has none
    con = duckdb.connect(str(assets.settings().warehouse))
    try:
        con.execute("UPDATE quality.runs SET inputs_fingerprint = 'q1'")
    finally:
        con.close()
    return assets.dashboards_fingerprint()


def test_a_relation_built_outside_dagster_opens_the_gate(warehouse):
    release_gate, dashboards_gate = _gates()
    assert release_gate is not None and dashboards_gate is not None
    assert _gates() == (release_gate, dashboards_gate)  # the same state: the gate would skip
    con = duckdb.connect(str(warehouse))
    try:  # what the post-hook (dbt/macros/build_marks.sql) of a hand `dbt run -s fct_budget_lines` records
        con.execute("INSERT OR REPLACE INTO raw.stage_state VALUES ('dbt_built:fct_budget_lines', "
                    "'a-hand-invocation', localtimestamp)")
    finally:
        con.close()
    assert _gates() == (None, None)  # never "unchanged": the parts and pages decide by what the marts hold


def test_the_data_files_publishing_reads_move_the_gate(warehouse, tmp_path, monkeypatch):
    before = _gates()
    catalogue = tmp_path / "ref_rule_catalogue.csv"
    shutil.copyfile(release.RULE_CATALOGUE_CSV, catalogue)
    monkeypatch.setattr(release, "RULE_CATALOGUE_CSV", catalogue)
    assert _gates() == before  # the same bytes
    catalogue.write_text(catalogue.read_text(encoding="utf-8-sig") + "\n", encoding="utf-8")
    after = _gates()
    assert after[0] != before[0] and after[1] != before[1]


def test_the_ocds_schema_the_run_validates_against_is_in_the_fingerprints(warehouse, tmp_path):
    from dagster_project.publish import parts

    in_use = ocds_validation.schema_dir()
    setting = tmp_path / "schemas" / in_use.name
    shutil.copytree(in_use, setting)

    def keyed(schema_setting):
        return (assets.publish_fingerprint("publish_release", schema_setting=schema_setting),
                inputs.ocds_fingerprint(warehouse, "p", "u", schema_setting=schema_setting),
                parts.code_fingerprint(schema_setting=schema_setting))

    default = keyed(None)
    assert None not in default
    assert keyed(str(setting)) == default  # the same schema, configured: nothing moves
    schema = setting / "release-schema.json"
    doc = json.loads(schema.read_text(encoding="utf-8"))
    doc["required"] = [*doc.get("required", []), "language"]  # a stricter schema: packages may fail it now
    schema.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    moved = keyed(str(setting))
    assert all(m != d for m, d in zip(moved, default))
