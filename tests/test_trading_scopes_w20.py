"""Wave 20: how the rules' scopes place a deal (tests/fixtures/trading_scope_w20/MAKE.md).

1. A deal the scopes cannot place. TRADE_AMOUNT_OVER_BUDGET and TRADE_CONTRACT_SIGN_LATE (like every rule
with an applies_to in ref_rule_catalogue) reach works, housing and procurement only; a deal whose export leaves the
trade area blank, or writes a word ref_trade_areas does not know, was judged by none of them and nothing said so.
Now the scope mechanism gives such a deal one TRADE_AREA_UNPLACED row (a warning finding) naming its first bulletin's
file and row and the area-scoped rules that had the inputs to judge it. Every deal of make_probe.DEALS has a result
above its budget and a contract signed 55 days after the result.
2. A deal's procurement method (a rule's method scope: TRADE_SHORT_TENDER_PERIOD reaches 政府采购:公开招标) was any
`公开招标` inside the announcement's title, the project's name included. It is now the export's method field where it
has one, else the title's own kind word. Every deal of make_probe.METHOD_DEALS has an 8-day tender period.
3. A procurement whose method is unknown was silently outside every method-scoped rule; now TRADE_METHOD_UNPLACED names
it (make_probe.UNKNOWN_METHOD_DEALS: a blank 采购方式, the standard's one-character code `1`; and controls).
4. (wave 21) Failing field and title, the method a label of the notice's text states (a GP result notice's
`采购方式：公开招标`: make_probe.TEXT_METHOD_DEALS); FLAG_SHORT_PERIOD on a deal of unknown method says the method is unknown.
Expectations come from the probe's records."""
from __future__ import annotations

import importlib.util
import shutil
from pathlib import Path

import pytest

from test_trading_candidates_per_row import _query, load_and_build

REPO_ROOT = Path(__file__).resolve().parents[1]
FIXTURES = Path(__file__).parent / "fixtures" / "trading_scope_w20"
_spec = importlib.util.spec_from_file_location("trading_scope_w20_probe", FIXTURES / "make_probe.py")
probe = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(probe)

KNOWN_AREAS = {"工程建设项目招标投标", "保障性安居工程", "政府采购", "国有土地使用权出让", "矿业权出让", "国有产权交易"}


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory) -> Path:
    tmp = tmp_path_factory.mktemp("trading_scope_w20")
    shutil.copytree(REPO_ROOT / "data" / "raw" / "registry", tmp / "raw" / "registry")
    shutil.copytree(FIXTURES / "trading", tmp / "raw" / "trading")
    return load_and_build(tmp, "+int_deal_timelines_evaluated")


def _verdicts(db: Path, project: str) -> dict[str, tuple]:
    return {rule: (applies, passes, detail, file, row) for rule, applies, passes, detail, file, row in _query(
        db, "select rule_id, applies, passes, observed_detail, source_file, source_row "
            "from intermediate.int_deal_timelines_evaluated where split_part(deal_key, '/', 1) = ?", [project])}


@pytest.mark.slow
def test_a_deal_of_no_known_area_is_named_with_the_rules_that_could_not_judge_it(warehouse):
    rows = probe.source_rows()
    for project, (file, area) in probe.DEALS.items():
        got = _verdicts(warehouse, project)
        if area in KNOWN_AREAS:
            # placed: judged by both rules (and failing both), no unplaced row
            assert got["TRADE_AMOUNT_OVER_BUDGET"][:2] == (True, False), project
            assert got["TRADE_CONTRACT_SIGN_LATE"][:2] == (True, False), project
            assert "TRADE_AREA_UNPLACED" not in got, project
            continue
        # not placed: neither judges it (an area-scoped rule is not guessed onto a deal that may be a sale) …
        assert got["TRADE_AMOUNT_OVER_BUDGET"][0] is False, project
        assert got["TRADE_CONTRACT_SIGN_LATE"][0] is False, project
        # … and the deal is named, with its announcement's file and row and the rules it escaped
        applies, passes, detail, source_file, source_row = got["TRADE_AREA_UNPLACED"]
        assert (applies, passes) == (True, False), project
        assert {"TRADE_AMOUNT_OVER_BUDGET", "TRADE_CONTRACT_SIGN_LATE"} <= set(detail.split(", ")), detail
        assert (source_file, source_row) == (file, rows[project]["交易公告"]), project


@pytest.mark.slow
def test_the_method_is_the_method_field_else_the_title_s_own_kind_word(warehouse):
    period = (probe.METHOD_CLOSING.date() - probe.METHOD_START.date()).days
    for project, (_file, title, _field, run_by) in probe.METHOD_DEALS.items():
        got = _verdicts(warehouse, project)
        short, flag = got["TRADE_SHORT_TENDER_PERIOD"], got["FLAG_SHORT_PERIOD"]
        if run_by == "公开招标":
            # in the 20-day rule's scope: a failure (and so no red flag, which reads deals outside it)
            assert short[:2] == (True, False), (project, title)
            assert flag[0] is False, (project, title)
        else:
            # outside it: not judged by the law's 20 days, flagged short (fewer than 10 days) instead
            assert short[0] is False, (project, title)
            assert flag[:2] == (True, False), (project, title)
        assert period < 20
    methods = dict(_query(warehouse, "select split_part(deal_key, '/', 1), procurement_method "
                                     "from intermediate.int_deals_assembled where split_part(deal_key, '/', 1) in "
                                     "(select unnest(?))", [list(probe.METHOD_DEALS)]))
    assert methods == {project: run_by for project, (*_r, run_by) in probe.METHOD_DEALS.items()}


def _method_scoped_rules() -> set[str]:
    """The deal rules whose scope names a method for some trade area (ref_rule_catalogue applies_to area:method)."""
    import csv
    with open(REPO_ROOT / "dbt" / "seeds" / "ref_rule_catalogue.csv", encoding="utf-8") as f:
        return {r["rule_id"] for r in csv.DictReader(f) if r["object_key_kind"] == "deal_key" and ":" in r["applies_to"]}


@pytest.mark.slow
def test_a_procurement_of_no_known_method_is_named_with_the_method_rules_that_could_not_judge_it(warehouse):
    """3. A procurement whose method no field and no title states (a blank 采购方式, the standard's unread code `1`) was
    silently outside every method-scoped rule (TRADE_SHORT_TENDER_PERIOD reaches 政府采购:公开招标 only). Now such a deal
    is named by TRADE_METHOD_UNPLACED — its announcement's file and row, the method-scoped rules that would fail on it —
    and a deal no method scope could reach (a land sale; works, reached whatever the method), or one passing them
    whatever its method (a 25-day period), is not."""
    rows, method_scoped = probe.unknown_method_rows(), _method_scoped_rules()
    assert "TRADE_SHORT_TENDER_PERIOD" in method_scoped
    for project, (file, area, method, days, unplaced) in probe.UNKNOWN_METHOD_DEALS.items():
        got = _verdicts(warehouse, project)
        assert "TRADE_AREA_UNPLACED" not in got, project
        if not unplaced:
            # placed, never reachable by a method scope, or passing the method-scoped rules whatever its method
            assert got.get("TRADE_METHOD_UNPLACED", (False,))[:2] in ((False,), (True, True)), (project, area, method)
            if days >= 20 and area == "政府采购" and not method:
                assert got["TRADE_METHOD_UNPLACED"][:2] == (True, True), project   # judged: nothing hidden
            continue
        assert days < 20, project
        # not guessed into the 公开招标 scope …
        assert got["TRADE_SHORT_TENDER_PERIOD"][0] is False, project
        # … but named, with the announcement's file and row and the method-scoped rules that had its inputs
        applies, passes, detail, source_file, source_row = got["TRADE_METHOD_UNPLACED"]
        assert (applies, passes) == (True, False), project
        assert "TRADE_SHORT_TENDER_PERIOD" in detail.split(", ") and set(detail.split(", ")) <= method_scoped, detail
        assert (source_file, source_row) == (file, rows[project]), project


def test_a_result_notice_s_labelled_method_is_the_method_where_no_field_or_title_names_one(tmp_path):
    """4 (wave 21). GP result notices (中标/成交结果公告) state the method only in their text: `三、采购方式：公开招标`.
    Where no field and no title names one, the method is the word a label (采购方式 / 招标方式 and a colon) of the
    notice's text introduces — never a method word in passing (原公开招标失败…), nor a label followed by none (详见采购文件),
    nor the method a change gave up (原采购方式：公开招标 … 变更后采购方式：竞争性谈判 is 竞争性谈判; before, the first).
    Parser level: the platform CSV (UTF-8 BOM, CRLF, line breaks inside the quoted 公告内容) loaded by the real loader."""
    import duckdb

    from dagster_project.ingest import framework
    from dagster_project.ingest.assets import FAMILY_LOADERS, resolve_loader

    shutil.copytree(FIXTURES / "trading", tmp_path / "raw" / "trading")
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    try:
        framework.load_family(con, tmp_path / "raw", "trading", resolve_loader(FAMILY_LOADERS["trading"]),
                              progress=lambda _: None)
        got = con.execute("select project_code, bulletin_type, procurement_method from raw.trading_bulletins "
                          "where project_code like 'NXTEXT%'").fetchall()
    finally:
        con.close()
    expected = {(project, result_type, method) for project, (result_type, _text, method) in probe.TEXT_METHOD_DEALS.items()}
    expected |= {(project, "采购公告", None) for project in probe.TEXT_METHOD_DEALS}   # its text states no method
    assert set(got) == expected


@pytest.mark.slow
def test_the_method_a_result_notice_s_text_states_places_the_deal(warehouse):
    """4 (wave 21), through the rules: a deal whose result notice's text says 采购方式：公开招标 is in the 20-day rule's
    scope (8 days: a failure) and named by no TRADE_METHOD_UNPLACED; a labelled non-open method is outside it (flagged
    short); a text naming none leaves the method unknown (TRADE_METHOD_UNPLACED) — and FLAG_SHORT_PERIOD still reports
    the 8 days, which are short whatever the method (below the flag's 10 days and the law's 20)."""
    for project, (_type, _text, method) in probe.TEXT_METHOD_DEALS.items():
        got = _verdicts(warehouse, project)
        short, flag = got["TRADE_SHORT_TENDER_PERIOD"], got["FLAG_SHORT_PERIOD"]
        if method == "公开招标":
            assert short[:2] == (True, False) and flag[0] is False, project
        else:
            assert short[0] is False and flag[:2] == (True, False), project
        unplaced = got.get("TRADE_METHOD_UNPLACED", (False,))
        assert (unplaced[:2] == (True, False)) is (method is None), (project, unplaced)
        # the flag's finding says the method is unknown where it is, never that the 20-day rule does not apply
        assert ("TRADE_METHOD_UNPLACED" in (flag[2] or "")) is (method is None), (project, flag)
    methods = dict(_query(warehouse, "select split_part(deal_key, '/', 1), procurement_method "
                                     "from intermediate.int_deals_assembled where split_part(deal_key, '/', 1) like 'NXTEXT%'"))
    assert methods == {project: method for project, (*_r, method) in probe.TEXT_METHOD_DEALS.items()}
