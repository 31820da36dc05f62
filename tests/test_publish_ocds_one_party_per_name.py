"""One name in one OCDS record is one party (wave 16 X5 probe): a later notice naming a party without its code — the
contract notice naming the consortium the result notice identified by its members' codes, a result naming the agency
the announcement identified, a candidate publicity naming the winner without its code — gave the record a second party
``name-…`` beside ``consortium-…`` / ``CN-USCC-…``. Two identified parties sharing a name stay two (which one an
uncoded mention is cannot be told), and the uncoded mention then stays its own party.

The deal is written into the fixture marts (test_publish_support) as the probe's exports carried it; the packages are
built by the real SQL mapping and held to the Python reference mapping (``ocds_reference._compile``)."""
from __future__ import annotations

import datetime as dt
import json
import re
from collections import Counter
from pathlib import Path

import duckdb

from dagster_project import identifiers as ids
from dagster_project.publish.ocds_reference import _compile
from dagster_project.ingest import trading_fillers
from dagster_project.paths import DBT_PROJECT_DIR
from dagster_project.publish.ocds_config import FILLER_MAX_LENGTH, open_package_text, package_files, party_fillers
from test_publish_support import BUYER_USCC, build_fixture_warehouse, ocds_written_and_mapped

DEAL = "NXW2019001/NXW2019001-01"
BUYER = "宁夏回族自治区财政厅"
AGENCY = ("宁夏某某招标代理有限公司", ids.make_uscc("91640100MA7609001"))
LEAD, MEMBER = ids.make_uscc("91640100MA7600001"), ids.make_uscc("91640100MA7600002")
CONSORTIUM = "宁夏甲建设有限公司、宁夏乙工程有限公司（联合体）"
RUNNER_UP = ("宁夏丙建设集团有限公司", ids.make_uscc("91640100MA7600003"))
# a name two identified parties share: an uncoded mention of it is neither
TWINS = ("宁夏同名建设有限公司", ids.make_uscc("91640100MA7600005"), ids.make_uscc("91640100MA7600006"))


def _bulletin(kind: str, day: int, *, buyer=(BUYER, BUYER_USCC), agency=(None, None), winner=(None, None),
              candidate=(None, None, None), amount=None) -> tuple:
    when = dt.datetime(2019, 3, day, 9)
    return (f"{DEAL}|{kind}|{when.isoformat()}|{candidate[2] or ''}", DEAL, None, kind, None, "工程建设项目招标投标",
            f"某某道路改造工程{kind}", when, "640100", *buyer, *agency, 12_500_000, amount, *winner, 5, None, None,
            None, None, f"http://ggzy.nx.gov.cn/{day}", "trading/平台导出.csv", day, ["trading/平台导出.csv"], *candidate)


def _warehouse(tmp_path: Path) -> Path:
    warehouse = build_fixture_warehouse(tmp_path / "gongkai.duckdb")
    rows = [
        _bulletin("交易公告", 1, agency=AGENCY),
        # candidates: the consortium with its codes, the runner-up without its code, a twin without a code
        _bulletin("中标候选人公示", 20, agency=(AGENCY[0], None), candidate=(CONSORTIUM, f"{LEAD}、{MEMBER}", 1)),
        _bulletin("中标候选人公示", 20, agency=(AGENCY[0], None), candidate=(RUNNER_UP[0], None, 2)),
        _bulletin("中标候选人公示", 20, agency=(AGENCY[0], None), candidate=(TWINS[0], None, 3)),
        # the result: the consortium by its codes, the agency by name only, the buyer by name only
        _bulletin("中标结果公告", 25, buyer=(BUYER, None), agency=(AGENCY[0], None),
                  winner=(CONSORTIUM, f"{LEAD}、{MEMBER}"), amount=11_980_000),
        # the contract names the consortium without codes; two notices name the twins with their two codes
        _bulletin("合同公告", 28, winner=(CONSORTIUM, None), amount=11_980_000),
        _bulletin("中标候选人公示", 21, candidate=(TWINS[0], TWINS[1], 1)),
        _bulletin("中标候选人公示", 22, candidate=(TWINS[0], TWINS[2], 1)),
        _bulletin("中标候选人公示", 23, candidate=(RUNNER_UP[0], RUNNER_UP[1], 1)),
    ]
    con = duckdb.connect(str(warehouse))
    try:
        con.executemany("INSERT INTO main_marts.fct_trading_bulletins VALUES (" + ",".join("?" * 29) + ")", rows)
    finally:
        con.close()
    return warehouse


def _records(folder: Path) -> dict[str, dict]:
    records = {}
    for path in package_files(folder):
        if path.name.startswith("record-package"):
            with open_package_text(path) as handle:
                records.update({r["ocid"]: r for r in json.load(handle)["records"]})
    return records


def test_one_name_in_one_record_is_one_party(tmp_path):
    folder, releases = ocds_written_and_mapped(_warehouse(tmp_path), tmp_path)
    mine = [r for r in releases if r["tender"]["id"] == DEAL]
    # the releases themselves are as the notices state them: uncoded mentions are name-… parties there
    assert {f"name-{AGENCY[0]}", f"name-{CONSORTIUM}", f"name-{RUNNER_UP[0]}"} <= {
        p["id"] for r in mine for p in r["parties"]}
    record = next(r for ocid, r in _records(folder).items() if ocid.endswith(DEAL))
    parties = record["compiledRelease"]["parties"]
    by_name = Counter(p["name"] for p in parties)
    assert by_name[TWINS[0]] == 3       # two identified twins and the mention that could be either
    assert {name: n for name, n in by_name.items() if name != TWINS[0]} == {
        BUYER: 1, AGENCY[0]: 1, CONSORTIUM: 1, RUNNER_UP[0]: 1}
    party = {p["name"]: p for p in parties if p["name"] != TWINS[0]}
    assert party[AGENCY[0]]["identifier"]["id"] == AGENCY[1]
    assert party[BUYER]["identifier"]["id"] == BUYER_USCC
    assert party[RUNNER_UP[0]]["identifier"]["id"] == RUNNER_UP[1]
    assert party[CONSORTIUM]["id"].startswith("consortium-")
    assert set(party[CONSORTIUM]["roles"]) == {"supplier", "tenderer"}
    assert set(party[AGENCY[0]]["roles"]) == {"procuringEntity"}
    # every reference in the record names a party of the record
    compiled = record["compiledRelease"]
    refs = [compiled["buyer"], compiled["tender"]["procuringEntity"], *compiled["tender"]["tenderers"],
            *(s for a in compiled.get("awards", []) for s in a.get("suppliers", []))]
    assert {r["id"] for r in refs} <= {p["id"] for p in parties}
    # the SQL mapping is the Python reference's
    assert compiled == _compile(record["ocid"], json.loads(json.dumps(mine)))


def test_a_filler_is_no_party(tmp_path):
    # 代理机构 无 on the result, a winner written 暂无 on the contract, a candidate written / (wave 16 X5 probe: 无 became
    # the agency, a party name-无)
    warehouse = build_fixture_warehouse(tmp_path / "gongkai.duckdb")
    fillers = {"无", " 暂 无", "／"}
    rows = [_bulletin("交易公告", 1, agency=AGENCY),
            _bulletin("中标候选人公示", 20, candidate=("／", None, 1)),
            _bulletin("中标结果公告", 25, agency=("无", None), winner=(RUNNER_UP[0], RUNNER_UP[1]), amount=11_980_000),
            _bulletin("合同公告", 28, winner=(" 暂 无", None), amount=11_980_000)]
    con = duckdb.connect(str(warehouse))
    try:
        con.executemany("INSERT INTO main_marts.fct_trading_bulletins VALUES (" + ",".join("?" * 29) + ")", rows)
    finally:
        con.close()
    folder, releases = ocds_written_and_mapped(warehouse, tmp_path)
    mine = [r for r in releases if r["tender"]["id"] == DEAL]
    assert len(mine) == len(rows)
    named = {p.get("name") for r in mine for p in r.get("parties", [])}
    assert not named & fillers and {BUYER, AGENCY[0], RUNNER_UP[0]} <= named
    record = next(r for ocid, r in _records(folder).items() if ocid.endswith(DEAL))
    compiled = record["compiledRelease"]
    assert not {p.get("name") for p in compiled["parties"]} & fillers
    assert not any(p["id"].startswith("name-") for p in compiled["parties"])
    assert compiled == _compile(record["ocid"], json.loads(json.dumps(mine)))


def test_the_fillers_are_one_list_in_dbt_and_in_ocds():
    # the deal's parties (dbt macro party_name) and the OCDS parties name no filler alike: dbt's macro is generated from
    # the spec's placeholders (the list OCDS reads), never kept by hand
    assert trading_fillers.DBT_MACRO_PATH.read_text(encoding="utf-8") == trading_fillers.dbt_macro_text(), (
        "run: python -m dagster_project.ingest.trading_fillers --write-dbt-macros")
    macros = "".join(p.read_text(encoding="utf-8") for p in (DBT_PROJECT_DIR / "macros").rglob("*.sql"))
    assert len(re.findall(r"macro party_filler_words\(", macros)) == len(re.findall(r"macro party_name\(", macros)) == 1


def test_the_generated_macro_lists_what_the_spec_says():
    # what dbt renders is the spec's list: each placeholder (a backslash, a full-width slash, 不适用) read back from the
    # macro's Jinja list literal (Python's literal syntax), with the length bound OCDS uses
    import ast

    from dagster_project.ingest.trading_fields import trading_spec

    text = trading_fillers.dbt_macro_text()
    (listed,) = re.findall(r"macro party_filler_words\(\) -%\}\n\{\{ return\((\[.*?\])\) \}\}", text, re.S)
    spec = trading_spec()["blank_placeholders"]
    assert ast.literal_eval(listed) == list(party_fillers())
    assert set(ast.literal_eval(listed)) == {re.sub(r"\s", "", w).lower() for w in [*spec["values"], *spec["words"]]}
    assert "\\" in ast.literal_eval(listed)
    assert f"length({{{{ expr }}}}) <= {FILLER_MAX_LENGTH}" in text
