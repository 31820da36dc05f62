"""Wave 19's blind round on a county government's "four books" (tests/fixtures/blind_gov_w19/MAKE.md, make_gov_probes.py):
written from the contract alone (DOMAIN.md 2.1 and 3, RAW_FORMATS.md), run end to end, the warehouse compared with
what the generator wrote.

Defects found and fixed:
- the final accounts' debt tables titled as publishers title them (`政府一般债务限额和余额情况决算表`) were no known
  table: in a workbook a sheet of no table, in a PDF silently gone, and the item reported missing though published;
- a 社会保险基金 table with one column per fund under `预算数` / `决算数` took the first fund's figures as the table's
  (`amount`), the others dropped as duplicates, so the release published one fund's figure as the whole line's;
- the books' own total rows (`一般公共预算收入合计`, `本级支出合计`, `政府性基金预算支出合计`) were data rows;
- 227 预备费 and 23303 地方政府一般债务发行费用支出, which have no 款 / 项 below them in the classification, failed
  the detail rule "function to 项";
- a table under a title naming no catalogue table (…对下转移支付分地区分项目表) vanished from a PDF without a word;
- a 决算 file's debt tables titled as the budget's (政府一般债务限额和余额情况表) were read as that year's budget tables;
- nothing checked a 社会保险基金 line's 合计 against its funds (now identity ssf_total_funds, RECON_ROW_PARTS), nor a
  政府一般/专项债务限额和余额情况表's balance against its limit and its roll-forward (gov_debt_limit_covers_balance,
  gov_debt_roll_forward).
Left by that round, closed after it: 21301 named 农业 for all years (农业农村 from 2019: a false CLASS_NAME_MISMATCH
on every 2019+ table, test_quality_rules); 上级补助收入合计 and the revenue tables' other section totals read as items;
a 地区名称 | 项目名称 transfer table's project column dropped, a town's projects all bearing its name; and (wave 20) the
对下转移支付分地区分项目表 no catalogue table: DOMAIN.md 1's special transfers by region and project, now recognised
and read (gov_gpb_special_transfer and its 决算 twin; tests/test_gov_special_transfers_w20.py), not required on its
own (§2.1's list of the books' tables does not name it: the independent contract root publishes to that list); a revenue table by name only
had no "section = Σ items" check (now identity label_sections, by indent).
"""
from __future__ import annotations

import datetime as dt
import re
import shutil
import sys
import unicodedata
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from dagster_project.ingest.pdf_reader import PageItem, PdfDocument
from dagster_project.ingest.recogniser import parse_grid
from dagster_project.ingest.segmenter import segment
from dagster_project.ingest.workbook import parse_workbook
from dagster_project.ingest.workbook_spec import vocabulary

FIXTURES = Path(__file__).parent / "fixtures" / "blind_gov_w19"
sys.path.insert(0, str(FIXTURES))
import make_gov_probes as probes  # noqa: E402

WAN = Decimal(10_000)
FSP = "\u3000"
# the value keys the generator writes → the column keys of CONTRACTS.md §2.1 (classified amounts, 三公, debt items)
COLUMN = {"budget": {"prior": "prior_year", "amount": "amount"},
          "final": {"budget": "budget", "adjusted": "adjusted_budget", "amount": "amount"}}
BASIC = {"total": "total", "personnel": "personnel", "public": "public"}
# DOMAIN.md 2.1: what a county must publish of the four books (国有资本经营 转移支付 only where transfers go down)
REQUIRED = ["gpb_revenue", "gpb_expenditure", "gpb_own_expenditure", "gpb_own_basic", "gpb_transfer", "general_debt",
            "gfb_revenue", "gfb_expenditure", "gfb_own_expenditure", "gfb_transfer", "special_debt",
            "scb_revenue", "scb_expenditure", "scb_own_expenditure", "ssf_revenue", "ssf_expenditure", "sangong"]
# read and loaded (tests/test_gov_special_transfers_w20.py), never required on its own: §2.1's list does not name it
NOT_REQUIRED = ["gpb_special_transfer"]
BOOK_TOTAL = re.compile(r"^(?:一般公共预算|政府性基金预算|本级|上级补助)(?:收入|支出)?合计$")
# section totals the government revenue tables print: a sum of the items under it, never an item itself
SECTION_TOTALS = ["上级补助收入合计", "中央补助收入合计", "转移性收入合计", "转移支付收入合计", "债务收入合计",
                  "一、上级补助收入合计", "上级补助收入总计"]
NOT_TOTALS = ["上级补助收入", "一、转移性收入", "债务收入", "地方政府一般债务收入", "返还性收入", "上解上级支出"]


def written(name: str) -> list[dict]:
    region, year, phase, _, _, only = {**probes.FILES, **probes.PRINTED_AT_TEST_TIME}[name]
    return [t for t in probes.tables(region, year, phase, Path(name).name in probes.BUDGET_WORDED_DEBT)
            if not only or (t["key"] or "").endswith(only)]


def row_id(r: dict) -> str:
    """The line's code, else its label; a town × project line is '<town> · <project>' (both item columns read)."""
    return r["code"] or r["label"].strip(FSP) + (f" · {r['project']}" if r.get("project") else "")


def expected_lines(t: dict, phase: str) -> dict[tuple[str, str], Decimal]:
    """(row, column_key) → 元, for the columns whose meaning the contract names."""
    out = {}
    for r in t["rows"]:
        if t["key"].endswith("ssf_revenue") or t["key"].endswith("ssf_expenditure"):
            keys = {"total": "amount"}                      # the table's figure is the 合计 under 预算数 / 决算数
        elif t["key"].endswith("sangong"):
            keys = {"amount": "amount", "before": "prior_year" if phase == "budget" else "budget"}
        elif t["key"].endswith("own_basic"):
            keys = BASIC
        elif t["columns"] == ["amount"]:
            keys = {"amount": "amount"}
        else:
            keys = COLUMN[phase]
        for mine, theirs in keys.items():
            out[(row_id(r), theirs)] = r["values"][mine] * WAN
    return out


def parsed_lines(sheet) -> dict[tuple[str, str], Decimal]:
    return {(ln.line_code or (ln.line_label or "").strip(FSP), ln.column_key): ln.amount_yuan for ln in sheet.lines}


@pytest.fixture(scope="module")
def parsed():
    return {name: parse_workbook(FIXTURES / name) for name in probes.FILES}


def _sheet_of(workbook, key: str):
    found = [s for s in workbook.sheets if key in s.table_keys]
    assert found, (key, [(s.sheet, s.status, s.reason) for s in workbook.sheets])
    return found[0]


# ------------------------------------------------------------------------------------------ reading each file
@pytest.mark.parametrize("name", list(probes.FILES))
def test_every_table_is_recognised_under_its_title(parsed, name):
    book = parsed[name]
    for t in written(name):
        if t["key"] is None:     # no catalogue table: reported with its title, never dropped
            assert any(s.title == t["title"] and s.status == "unknown_table" for s in book.sheets), t["title"]
            continue
        sheet = _sheet_of(book, t["key"])
        assert (sheet.status, sheet.title, sheet.unit_label) == ("parsed", t["title"], "万元")
        assert sheet.entity_name == probes.REGIONS[probes.FILES[name][0]]
        assert sheet.fiscal_year == probes.FILES[name][1]
        assert (sheet.is_empty, sheet.has_empty_note) == ((True, True) if not t["rows"] else (False, False))


@pytest.mark.parametrize("name", list(probes.FILES))
def test_every_figure_is_read_as_written(parsed, name):
    phase = probes.FILES[name][2]
    for t in written(name):
        if t["key"] is None or not t["rows"]:
            continue
        got = parsed_lines(_sheet_of(parsed[name], t["key"]))
        want = expected_lines(t, phase)
        assert {k: got.get(k) for k in want} == want, t["title"]


def test_a_social_insurance_table_with_a_column_per_fund_keeps_each_fund(parsed):
    name = "budget/平罗县2024年预算公开表.xls"
    for t in (t for t in written(name) if (t["key"] or "").endswith(("ssf_revenue", "ssf_expenditure"))):
        sheet = _sheet_of(parsed[name], t["key"])
        assert "重复的列" not in (sheet.reason or ""), sheet.reason     # no fund column dropped as a duplicate
        fund_columns = sorted(set(sheet.column_map.values()) - {"label", "amount"})
        assert len(fund_columns) == len(probes.SSF_FUNDS), sheet.column_map
        for r in t["rows"]:
            figures = {ln.column_key: ln.amount_yuan for ln in sheet.lines if ln.line_label.strip(FSP) == r["label"]}
            assert figures["amount"] == r["values"]["total"] * WAN
            assert sorted(figures[c] for c in fund_columns) == sorted(
                r["values"][f"fund{j}"] * WAN for j in range(len(probes.SSF_FUNDS)))


@pytest.mark.parametrize("name", list(probes.FILES))
def test_a_books_own_total_row_is_a_total(parsed, name):
    for t in written(name):
        if t["key"] is None:
            continue
        for r in t["rows"]:
            if BOOK_TOTAL.match(r["label"]):
                sheet = _sheet_of(parsed[name], t["key"])
                flags = {ln.is_total for ln in sheet.lines if (ln.line_label or "").strip(FSP) == r["label"]}
                assert flags == {True}, (t["title"], r["label"])


def test_a_revenue_section_total_is_a_total_row_and_its_heading_is_not():
    """上级补助收入合计 (the 税收返还和转移支付表's whole), 转移性收入合计, 债务收入合计: sums, not items of the table."""
    vocab = vocabulary()
    assert [lb for lb in SECTION_TOTALS if not vocab.is_total_label(lb)] == []
    assert [lb for lb in NOT_TOTALS if vocab.is_total_label(lb)] == []


def test_a_transfer_table_by_region_and_project_keeps_both(tmp_path):
    """A 税收返还和转移支付表 printed 地区名称 | 项目名称 | 预算数 (a town's name merged down over its projects): the
    project column was dropped with a warning, so a town's projects all bore the town's name."""
    import openpyxl
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "表5"
    ws.append(["贺兰县2024年一般公共预算税收返还和转移支付表"])
    ws.append([None, None, "单位：万元"])
    ws.append(["地区名称", "项目名称", "预算数"])
    rows = [("合计", None, 353), ("习岗镇", "乡镇运转保障补助", 124.8), (None, "农村综合改革转移支付", 40.2),
            ("金贵镇", "乡镇运转保障补助", 118.2), (None, "农村综合改革转移支付", 69.8)]
    for row in rows:
        ws.append(list(row))
    ws.merge_cells("A5:A6")
    ws.merge_cells("A7:A8")
    path = tmp_path / "贺兰县2024年预算公开表.xlsx"
    wb.save(path)
    sheet = parse_workbook(path).sheets[0]
    assert (sheet.status, sheet.table_keys) == ("parsed", ("gov_gpb_transfer",)), (sheet.status, sheet.reason)
    assert not any("项目列" in w for w in sheet.warnings), sheet.warnings
    got = [(ln.line_label, ln.is_total, ln.amount_yuan) for ln in sheet.lines]
    assert got == [("合计", True, Decimal("3530000")),
                   ("习岗镇 · 乡镇运转保障补助", False, Decimal("1248000")),
                   ("习岗镇 · 农村综合改革转移支付", False, Decimal("402000")),
                   ("金贵镇 · 乡镇运转保障补助", False, Decimal("1182000")),
                   ("金贵镇 · 农村综合改革转移支付", False, Decimal("698000"))]


def _page(page: int, *rows) -> list[PageItem]:
    return [PageItem(page, i, kind, list(cells), float(i * 20), table_id=0 if kind == "table" else None,
                     is_table_start=kind == "table" and rows[i - 2][0] != "table")
            for i, (kind, cells) in enumerate(rows, start=1)]


@pytest.mark.parametrize("unit_line", [True, False])
def test_a_pdf_table_under_a_title_naming_no_catalogue_table_is_reported_not_dropped(unit_line):
    """RAW_FORMATS.md: a table that matches no known table is reported. In a PDF one under a title of its own that
    names no catalogue table (…乡镇财力补助分配表; wave 19's …对下转移支付分地区分项目表 is one since wave 20) was taken for a
    narrative box and dropped in silence (its unit line a running head, as on the pages before) — or, with the unit
    line read, refused as having no title at all."""
    title = "贺兰县2024年乡镇财力补助分配表"
    known = "贺兰县2024年一般公共预算税收返还和转移支付表"
    unit = [("text", ["单位：万元"])] if unit_line else []
    items = (_page(1, ("text", [known]), ("text", ["单位：万元"]), ("table", ["项目", "预算数"]),
                   ("table", ["均衡性转移支付收入", "21,000.00"]))
             + _page(2, ("text", [title]), *unit, ("table", ["地区名称", "项目名称", "预算数"]),
                     ("table", ["习岗镇", "乡镇运转保障补助", "124.80"]), ("table", ["金贵镇", "乡镇运转保障补助", "118.20"])))
    vocab = vocabulary()
    grids, _ = segment(PdfDocument("x.pdf", 2, items, 2), vocab)
    sheets = [parse_grid(g, i, vocab) for i, g in enumerate(grids)]
    assert [(s.title, s.status) for s in sheets] == [(known, "parsed"), (title, "unknown_table")]
    assert "不含已知表名" in sheets[1].reason


# ------------------------------------------------------------------------------------------ the whole run
OWN_FILES = tuple(probes.FILES)
# the (region, year)s these books are of: a finding or check of one of them is this module's, whichever file it names
OWN_YEARS = sorted({(region, year) for region, year, *_rest in probes.FILES.values()})


def write_raw(raw: Path) -> None:
    """This module's books in a raw root that holds the sample's registry and portal (and other modules' files): its
    registry rows the root lacks (贺兰县; 平罗县 and 石嘴山市 when test_debt_blind has not added them, as the same rows),
    its approvals and entities of 2023 and 2024 (the sample's are of 2017–2019), its portal log beside the sample's."""
    registry = raw / "registry"
    have = {line.split(",", 1)[0] for line in (registry / "regions.csv").read_text(encoding="utf-8").splitlines()}
    with (registry / "regions.csv").open("a", encoding="utf-8") as fh:
        fh.writelines(",".join(r) + "\n" for r in probes.REGION_ROWS if r[0] not in have)
    with (registry / "approvals.csv").open("a", encoding="utf-8") as fh:
        fh.writelines(f"{r},{y},{d},{on}\n" for r, y, d, on in probes.APPROVALS)
    for year in (2023, 2024):
        shutil.copy(FIXTURES / "registry" / f"entities_{year}.csv", registry / f"entities_{year}.csv")
    shutil.copy(FIXTURES / "portal" / "publications.csv", raw / "portal" / "publications_blind_gov_w19.csv")
    for name in OWN_FILES:
        (raw / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(FIXTURES / name, raw / name)


@pytest.fixture(scope="module")
def warehouse(debt_books_and_export_run):
    # one `cli run` with other modules' files (conftest.py), GONGKAI_AS_OF unset (today: every item of 2023 and 2024
    # is long due); what is read here is of this module's files or its regions' 2023 and 2024
    con = duckdb.connect(str(debt_books_and_export_run / "warehouse.duckdb"), read_only=True)
    yield con
    con.close()


def _own(files: str = "source_file") -> str:
    """A SQL condition: a row of this module's files or of its regions' years."""
    names = ", ".join(f"'{n}'" for n in OWN_FILES)
    years = ", ".join(f"('{r}', {y})" for r, y in OWN_YEARS)
    return f"({files} in ({names}) or (publisher_code, fiscal_year) in ({years}))"


def expected_status() -> dict[tuple[str, int, str], str]:
    """Per (region, year, table_key): on time / late against the congress approval + 20 days, published empty with
    a note, or missing — for the (region, year, document) the probes publish."""
    approved = {(r, y, d): dt.date.fromisoformat(on) for r, y, d, on in probes.APPROVALS}
    out = {}
    for name, (region, year, phase, _, published_at, _) in probes.FILES.items():
        prefix = "govf_" if phase == "final" else "gov_"
        deadline = approved[(region, year, phase)] + dt.timedelta(days=20)
        timely = "on_time" if dt.date.fromisoformat(published_at[:10]) <= deadline else "late"
        for key in REQUIRED:
            out[(region, year, prefix + key)] = "missing"
        for t in written(name):
            if t["key"] is not None and t["key"].split("_", 1)[1] not in NOT_REQUIRED:
                out[(region, year, t["key"])] = "empty_with_note" if not t["rows"] and timely == "on_time" else timely
    return out


def test_the_disclosure_status_of_every_required_table(warehouse):
    want = expected_status()
    got = dict(((r, y, k), s) for r, y, k, s in warehouse.execute(
        "select publisher_code, fiscal_year, table_key, status from marts.fct_disclosure_status").fetchall()
        if (r, y, k) in want)
    assert got == want


def test_a_final_files_table_titled_as_the_budgets_is_not_the_budgets(warehouse):
    """One file = one entity, year and kind (RAW_FORMATS.md): 平罗县's 决算 set titles its debt tables as the budget's
    (政府一般债务限额和余额情况表); they are the final accounts' tables, and the year's budget has published none."""
    budget_items = warehouse.execute("""
        select table_key, status from marts.fct_disclosure_status
        where publisher_code = '640221' and fiscal_year = 2023 and document = 'budget'
          and table_key in ('gov_general_debt', 'gov_special_debt')""").fetchall()
    assert sorted(budget_items) == [("gov_general_debt", "missing_deadline_unknown"),
                                    ("gov_special_debt", "missing_deadline_unknown")]


def test_each_debt_table_and_fund_table_is_checked_not_skipped(warehouse):
    """DOMAIN.md 2.3: balance ≤ limit and the roll-forward on every 政府一般/专项债务限额和余额情况表 (budget and 决算);
    合计 = Σ funds on every 社会保险基金 line: evaluated on each such table the probes publish, not silently skipped."""
    got = set(warehouse.execute("""
        select identity_id, object_key, fiscal_year, publisher_code from intermediate.int_reconciliation_checks
        where identity_id in ('gov_debt_roll_forward', 'gov_debt_limit_covers_balance', 'ssf_total_funds')
          and (publisher_code, fiscal_year) in ({years})""".format(
        years=", ".join(f"('{r}', {y})" for r, y in OWN_YEARS))).fetchall())
    want = set()
    for name, (region, year, *_rest) in probes.FILES.items():
        for t in written(name):
            key = t["key"] or ""
            ids = (("gov_debt_roll_forward", "gov_debt_limit_covers_balance") if key.endswith("_debt")
                   else ("ssf_total_funds",) if key.endswith(("ssf_revenue", "ssf_expenditure")) else ())
            want |= {(i, key, year, region) for i in ids}
    assert got == want


def test_the_warehouse_holds_every_figure_as_written(warehouse):
    for name in probes.FILES:
        phase = probes.FILES[name][2]
        for t in written(name):
            if t["key"] is None or not t["rows"]:
                continue
            rows = warehouse.execute("""
                select coalesce(code, trim(item_name, '　')), measure, amount_yuan from marts.fct_budget_lines
                where source_file = ? and table_key = ?""", [name, t["key"]]).fetchall()
            # the mart writes names' brackets half-width (国有资源(资产)有偿使用收入): typography, not another name
            got = {(unicodedata.normalize("NFKC", i), m): a for i, m, a in rows}
            want = {(unicodedata.normalize("NFKC", i), m): a for (i, m), a in expected_lines(t, phase).items()}
            assert {k: got.get(k) for k in want} == want, t["title"]


def test_a_code_with_nothing_below_it_is_as_detailed_as_the_classification_goes(warehouse):
    """227 预备费 has no 款 and 23303 no 项 below it (DOMAIN.md 3): a 本级支出表 listing them is detailed to 项."""
    rows = warehouse.execute("""
        select rule_id, fiscal_year, sheet, source_row, observed, detail from quality.findings
        where run_id = (select max(run_id) from quality.findings)
          and rule_id in ('DETAIL_FUNCTION_XIANG', 'DETAIL_ECONOMIC_KUAN') and """ + _own()).fetchall()
    assert rows == []


def test_a_revenue_table_by_name_has_each_section_checked_against_its_items(warehouse):
    """A 收入表 printed by name only (一、税收收入 over its taxes indented with full-width spaces; the 税收返还和转移支付表's
    一、返还性收入 …): no code, so no Σ 项 = 款 — and before, no check at all that a section is the sum of its items.
    Each section is now checked against the lines indented under it (identity label_sections), column by column."""
    want = set()
    for name, (region, year, phase, *_rest) in probes.FILES.items():
        for t in written(name):
            if not (t["key"] or "").endswith(("gpb_revenue", "gpb_transfer")):
                continue
            sections = [r["label"] for r in t["rows"] if re.match("^[一二三四五六七八九十]+、", r["label"]) and not r["total"]]
            want |= {(region, year, t["key"], f"label_sections {label} [{COLUMN[phase][k]}]", True)
                     for label in sections for k in t["columns"] if k in COLUMN[phase]}
    got = set(warehouse.execute("""
        select publisher_code, fiscal_year, table_key, check_item, is_consistent
        from intermediate.int_reconciliation_checks where identity_id = 'label_sections' and """ + _own()).fetchall())
    assert got == want


def test_the_one_slip_planted_is_the_one_reconciliation_finding(warehouse):
    """Every table adds up (Σ 项 = 款, Σ 款 = 类, 合计 = Σ 类, 合计 = 人员经费 + 公用经费, the 三公 parts) but for the
    slip planted (make_gov_probes.SSF_SLIP): a 社会保险基金 line whose 合计 is not the sum of its funds — and so the
    table's 支出合计, which adds the lines as printed, is not the sum of its funds' totals either."""
    rows = warehouse.execute("""
        select rule_id, publisher_code, fiscal_year, object_key, source_file, sheet, source_row from quality.findings
        where run_id = (select max(run_id) from quality.findings)
          and (rule_id like 'RECON%' or rule_id like 'DEBT%') and """ + _own()).fetchall()
    want = []
    for (region, year, phase, key, label), _ in probes.SSF_SLIP.items():
        name = next(n for n, f in probes.FILES.items() if f[:3] == (region, year, phase))
        tables = written(name)
        index, t = next((i, t) for i, t in enumerate(tables, 1) if t["key"] == f"gov_{key}")
        # the line, and the table's total row that adds it up
        for i, r in enumerate(t["rows"]):
            if r["label"] == label or r["total"]:
                want.append(("RECON_ROW_PARTS", region, year, t["key"], name, f"表{index}", 3 + len(t["header"]) + i))
    assert sorted(rows) == sorted(want)


# ------------------------------------------------------------------------------------------ the whole set as a PDF
@pytest.fixture(scope="module")
def printed(tmp_path_factory):
    if shutil.which("chromium") is None:
        pytest.skip("chromium is not installed")
    root = tmp_path_factory.mktemp("blind_gov_w19_pdf")
    ((name, (region, year, phase, _, _, only)),) = probes.PRINTED_AT_TEST_TIME.items()
    probes.print_pdf(probes.document_html(region, year, phase, only), root / "budget.pdf")
    return name, parse_workbook(root / "budget.pdf")


def test_the_whole_budget_printed_is_read_table_by_table(printed):
    name, book = printed
    for t in written(name):
        if t["key"] is None:     # a table of no catalogue name under its title: reported, never dropped in silence
            assert any(s.title == t["title"] and s.status == "unknown_table" for s in book.sheets), \
                [(s.sheet, s.title) for s in book.sheets]
            continue
        sheet = _sheet_of(book, t["key"])
        assert (sheet.title, sheet.unit_label, sheet.fiscal_year) == (t["title"], "万元", 2024)
        if t["rows"]:
            got, want = parsed_lines(sheet), expected_lines(t, "budget")
            assert {k: got.get(k) for k in want} == want, t["title"]
