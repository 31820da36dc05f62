"""Fixture marts for the publish tests: a real DuckDB file with the contract's columns (CONTRACTS.md §4).

The rows are few but carry what publishing must handle: an ID number and a mobile inside notice
text, a PM_CODE, a phone field, a deal with announcement → candidates → result → contract, budget
lines with phases and directions, debt limits and balances, statuses of every kind and findings.
The personal values are generated checksum-valid so the privacy scan would see them if unmasked.
"""
from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb

from dagster_project import identifiers
from dagster_project.paths import REPO_ROOT
from dagster_project.quality.store import ensure_quality_schema

SCHEMA_SQL = REPO_ROOT / "dagster_project" / "ingest" / "schema.sql"

PERSON_ID = identifiers.make_id_number("640104", dt.date(1985, 3, 7), 123)
PM_ID = identifiers.make_id_number("640202", dt.date(1979, 11, 30), 45)
MOBILE = "13995112233"
SECOND_MOBILE = "18609514567"
BUYER_USCC = identifiers.make_uscc("11640000MB1234567")
AGENCY_USCC = identifiers.make_uscc("91640100MA7654321")
WINNER_USCC = identifiers.make_uscc("91640100MA1111111")
# A notice text carrying personal data in every shape publishing must mask.
NOTICE_WITH_PERSONAL_DATA = (
    f"项目负责人张三，身份证号{PERSON_ID}，联系电话{MOBILE}；备用{SECOND_MOBILE},{MOBILE}。"
)
PERSONAL_VALUES = (PERSON_ID, PM_ID, MOBILE, SECOND_MOBILE)
SECOND_USCC = identifiers.make_uscc("91640100MA2222222")
# (WIN_CANDIDATE_NAME, _CODE, _ORDER) of the 中标候选人公示 of each deal, in turn: three in one cell (codes
# split the same way), one row naming the first-ranked, one without a code
CANDIDATES = (
    ("宁夏某建设公司；宁夏乙建设公司、宁夏丙建设公司", f"{WINNER_USCC}；{SECOND_USCC}；", None),
    ("宁夏乙建设公司", SECOND_USCC, 1),
    ("宁夏丁建设公司", None, 2),
)


def _ts(s: str) -> dt.datetime:
    return dt.datetime.fromisoformat(s)


def build_fixture_warehouse(path: Path, *, n_extra_deals: int = 0, with_findings: bool = True) -> Path:
    """Create the marts (schema ``main_marts``), ``raw.load_files`` and ``quality.findings`` in ``path``."""
    con = duckdb.connect(str(path))
    try:
        con.execute(SCHEMA_SQL.read_text(encoding="utf-8"))
        con.execute(
            "INSERT INTO raw.load_files VALUES ('L1', 'trading/export_2018.csv', ?, 1234, 'trading', 'csv', "
            "'utf-8', 'bulletins', 'loaded', NULL, 6, 6, 0, TIMESTAMP '2026-11-27 01:00:00', true, NULL)",
            ["ab" * 32],
        )
        con.execute("CREATE SCHEMA main_marts")
        con.execute("""
            CREATE TABLE main_marts.dim_region (region_code VARCHAR, region_name VARCHAR, level VARCHAR,
              parent_code VARCHAR, is_current_code BOOLEAN)""")
        con.execute("""INSERT INTO main_marts.dim_region VALUES
            ('640000','宁夏回族自治区','province',NULL,true), ('640100','银川市','city','640000',true),
            ('640200','石嘴山市','city','640000',true)""")
        con.execute("""
            CREATE TABLE main_marts.fct_budget_lines (budget_line_id VARCHAR, publisher_code VARCHAR,
              publisher_kind VARCHAR, region_code VARCHAR, fiscal_year INTEGER, phase VARCHAR, direction VARCHAR,
              table_key VARCHAR, side VARCHAR, code VARCHAR, code_level INTEGER, item_name VARCHAR,
              is_total BOOLEAN, row_key VARCHAR, measure VARCHAR, amount_yuan DECIMAL(20,2),
              source_file VARCHAR, sheet VARCHAR, source_row INTEGER)""")
        budget_rows = []
        n = 0
        for year in (2017, 2018):
            for phase in ("budget", "final"):
                for code, level, name, amount in [
                    ("205", 1, "教育支出", 1500000), ("20502", 2, "普通教育", 1000000),
                    ("2050201", 3, "学前教育", 400000), ("2050202", 3, "小学教育", 600000),
                    ("20501", 2, "教育管理事务", 500000), ("208", 1, "社会保障和就业支出", 800000),
                    ("20805", 2, "行政事业单位养老支出", 800000),
                ]:
                    n += 1
                    budget_rows.append((
                        f"bl{n}", "640000", "government", "640000", year, phase, "expenditure",
                        "gov_gpb_own_expenditure", None, code, level, name, False, None, "amount",
                        amount * (1 + year - 2017), f"budget/gov_{year}_{phase}.xlsx", "表3", 5 + n,
                    ))
                n += 1
                budget_rows.append((f"bl{n}", "640000", "government", "640000", year, phase, "revenue",
                                    "gov_gpb_revenue", None, "101", 1, "税收收入", False, None, "amount", 9000000,
                                    f"budget/gov_{year}_{phase}.xlsx", "表1", 6))
        con.executemany("INSERT INTO main_marts.fct_budget_lines VALUES (" + ",".join("?" * 19) + ")", budget_rows)

        con.execute("""
            CREATE TABLE main_marts.fct_debt_positions (debt_position_id VARCHAR, publisher_code VARCHAR,
              fiscal_year INTEGER, phase VARCHAR, table_key VARCHAR, row_label VARCHAR, row_region_code VARCHAR,
              row_scope VARCHAR, row_key VARCHAR, measure VARCHAR, amount_yuan DECIMAL(20,2),
              source_file VARCHAR, sheet VARCHAR, source_row INTEGER)""")
        debt_rows = []
        n = 0
        for year in (2017, 2018):
            for label, rc, scope in [("本级", "640000", "own_level"), ("银川市", "640100", "lower_region"),
                                     ("石嘴山市", "640200", "lower_region")]:
                for measure, amount in [("limit_general", 500), ("limit_special", 300),
                                        ("balance_general", 450 if rc != "640200" else 520),
                                        ("balance_special", 250)]:
                    n += 1
                    debt_rows.append((f"dp{n}", "640000", year, "budget", "debt_1_1", label, rc, scope, None,
                                      measure, amount * 1_000_000, f"debt/debt_{year}.xlsx", "1-1", 4 + n))
        con.executemany("INSERT INTO main_marts.fct_debt_positions VALUES (" + ",".join("?" * 14) + ")", debt_rows)

        con.execute("""
            CREATE TABLE main_marts.fct_trading_bulletins (bulletin_key VARCHAR, deal_key VARCHAR,
              bulletin_type_code VARCHAR, bulletin_type VARCHAR, trade_area_code VARCHAR, trade_area VARCHAR,
              notice_name VARCHAR, notice_send_time TIMESTAMP, region_code VARCHAR, tenderer_name VARCHAR,
              tenderer_code VARCHAR, tender_agency_name VARCHAR, tender_agency_code VARCHAR,
              budget_amount_yuan DECIMAL(20,2), bid_amount_yuan DECIMAL(20,2), win_bidder_name VARCHAR,
              win_bidder_code VARCHAR, bidder_count INTEGER, pm_name VARCHAR, pm_code VARCHAR,
              contact_phone VARCHAR, notice_content VARCHAR, url VARCHAR, source_file VARCHAR,
              source_row INTEGER, source_files VARCHAR[], win_candidate_name VARCHAR, win_candidate_code VARCHAR,
              win_candidate_order INTEGER)""")
        con.execute("""
            CREATE TABLE main_marts.fct_deals (deal_key VARCHAR, project_code VARCHAR, bid_section_code VARCHAR,
              unified_deal_code VARCHAR, trade_area_code VARCHAR, trade_area VARCHAR, region_code VARCHAR,
              tenderer_name VARCHAR, tenderer_code VARCHAR, tender_agency_name VARCHAR, tender_agency_code VARCHAR,
              fiscal_year INTEGER, announced_at TIMESTAMP, doc_get_start_at TIMESTAMP, doc_get_end_at TIMESTAMP,
              bid_deadline_at TIMESTAMP, bid_open_at TIMESTAMP, candidates_published_at TIMESTAMP,
              publicity_start_at TIMESTAMP, publicity_end_at TIMESTAMP, result_published_at TIMESTAMP,
              contract_signed_at TIMESTAMP, contract_published_at TIMESTAMP, budget_amount_yuan DECIMAL(20,2),
              bid_amount_yuan DECIMAL(20,2), bidder_count INTEGER, candidate_count INTEGER,
              win_bidder_name VARCHAR, win_bidder_code VARCHAR, has_announcement BOOLEAN, has_result BOOLEAN)""")
        deals = [("NXGC2018-001/01", "工程建设项目招标投标", "640100", 5, "2018-06-04", 25),
                 ("NXZC2018-002/01", "政府采购", "640200", 1, "2018-07-02", 8)]
        for i in range(n_extra_deals):
            deals.append((f"NXZC2018-{100 + i:03d}/01", "政府采购", "640100", 2 + i % 4, "2018-08-01", 12 + i % 15))
        bulletin_rows, deal_rows = [], []
        for n_deal, (deal_key, area, region, bidders, start, period) in enumerate(deals):
            t0 = _ts(start + " 09:00:00")
            deadline = t0 + dt.timedelta(days=period)
            steps = [("交易公告", t0, None), ("中标候选人公示", deadline + dt.timedelta(days=2), None),
                     ("中标结果公告", deadline + dt.timedelta(days=7), 1_234_500),
                     ("合同公告", deadline + dt.timedelta(days=20), 1_234_500)]
            for btype, when, bid in steps:
                content = NOTICE_WITH_PERSONAL_DATA if btype == "中标候选人公示" else f"{area}{btype}，详见附件。"
                bulletin_rows.append((
                    f"{deal_key}|{btype}|{when.isoformat()}|", deal_key, None, btype, None, area,
                    f"{deal_key}项目{btype}（联系人手机{MOBILE}）", when, region, "宁夏某局", BUYER_USCC,
                    "宁夏某招标代理公司", AGENCY_USCC, 1_500_000, bid, "宁夏某建设公司" if bid else None,
                    WINNER_USCC if bid else None, bidders, "李四", PM_ID, f"0951-1234567/{MOBILE}", content,
                    f"http://ggzy.nx.gov.cn/{deal_key}", "trading/export_2018.csv", 2, ["trading/export_2018.csv"],
                    *(CANDIDATES[n_deal % len(CANDIDATES)] if btype == "中标候选人公示" else (None, None, None)),
                ))
            deal_rows.append((
                deal_key, deal_key.split("/")[0], "01", None, None, area, region, "宁夏某局", BUYER_USCC,
                "宁夏某招标代理公司", AGENCY_USCC, 2018, t0, t0, t0 + dt.timedelta(days=5), deadline, deadline,
                deadline + dt.timedelta(days=2), deadline + dt.timedelta(days=2), deadline + dt.timedelta(days=5),
                deadline + dt.timedelta(days=7), deadline + dt.timedelta(days=18), deadline + dt.timedelta(days=20),
                1_500_000, 1_234_500, bidders, 3, "宁夏某建设公司", WINNER_USCC, True, True,
            ))
        con.executemany("INSERT INTO main_marts.fct_trading_bulletins VALUES (" + ",".join("?" * 29) + ")", bulletin_rows)
        con.executemany("INSERT INTO main_marts.fct_deals VALUES (" + ",".join("?" * 31) + ")", deal_rows)
        # dbt's per-deal rule rows (the rows GX judges), for the rules the procurement dashboard shows
        con.execute("CREATE SCHEMA main_intermediate")
        con.execute("""
            CREATE TABLE main_intermediate.int_deal_timelines_evaluated (rule_id VARCHAR, deal_key VARCHAR,
              publisher_code VARCHAR, publisher_name VARCHAR, fiscal_year INTEGER, observed_value DECIMAL(20,2),
              threshold DECIMAL(20,4), in_scope BOOLEAN, has_inputs BOOLEAN, applies BOOLEAN, passes BOOLEAN)""")
        timeline_rows = []
        for deal_key, area, _, bidders, _, period in deals:
            in_scope = area == "工程建设项目招标投标"
            timeline_rows += [
                ("TRADE_SHORT_TENDER_PERIOD", deal_key, in_scope, period, 20, period >= 20),
                ("FLAG_SHORT_PERIOD", deal_key, not in_scope, period, 10, period >= 10),
                ("FLAG_SINGLE_BIDDER", deal_key, True, bidders, 1, bidders != 1),
            ]
        con.executemany(
            "INSERT INTO main_intermediate.int_deal_timelines_evaluated VALUES (?, ?, ?, '宁夏某局', 2018, ?, ?, ?, "
            "true, ?, CASE WHEN ? THEN ? END)",
            [(rule, deal, BUYER_USCC, observed, threshold, scope, scope, scope, passes)
             for rule, deal, scope, observed, threshold, passes in timeline_rows])

        con.execute("""
            CREATE TABLE main_marts.fct_disclosure_status (publisher_code VARCHAR, publisher_name VARCHAR,
              publisher_kind VARCHAR, region_code VARCHAR, fiscal_year INTEGER, document VARCHAR, table_key VARCHAR,
              table_name_zh VARCHAR, deadline_date DATE, deadline_basis VARCHAR, status VARCHAR,
              published_at TIMESTAMP, days_late INTEGER, source_file VARCHAR, sheet VARCHAR,
              publication_title VARCHAR, publication_url VARCHAR)""")
        statuses = ["on_time", "late", "missing", "not_yet_due", "empty_with_note", "empty_without_note"]
        status_rows = []
        publishers = [("640000", "宁夏回族自治区", "government", "640000"),
                      ("640100", "银川市", "government", "640100"),
                      (BUYER_USCC, "宁夏某局", "department", "640000")]
        tables = ["gov_gpb_revenue", "gov_gpb_expenditure", "dept_summary", "dept_gfb_expenditure"]
        k = 0
        for year in (2017, 2018):
            for code, name, kind, region in publishers:
                for table in tables:
                    status = statuses[k % len(statuses)]
                    k += 1
                    deadline = dt.date(year, 2, 20)
                    published = None if status in ("missing", "not_yet_due") else dt.datetime(
                        year, 2, 10 if status != "late" else 28, 10, 0)
                    late = (published.date() - deadline).days if status == "late" else None
                    status_rows.append((code, name, kind, region, year, "budget", table, f"表{table}", deadline,
                                        "congress_plus_20", status, published, late, None, None, None, None))
        con.executemany("INSERT INTO main_marts.fct_disclosure_status VALUES (" + ",".join("?" * 17) + ")", status_rows)

        if with_findings:  # the quality tables as the quality concern creates them
            ensure_quality_schema(con)
            con.executemany(
                "INSERT INTO quality.runs (run_id, started_at, success) VALUES (?, ?, true)",
                # run ids are not ordered: the later run has the smaller id
                [("run-b", dt.datetime(2026, 11, 1, 8, 0)), ("run-a", dt.datetime(2026, 11, 2, 8, 0))],
            )
            cols = ("run_id, kind, suite, rule_id, severity, publisher_code, publisher_name, fiscal_year, "
                    "object_key, observed, source_file, source_row, detail, finding_key")
            findings = [
                ("run-b", "DISC_LATE", "640000", "宁夏回族自治区", 2017, "gov_gpb_revenue", None, None, None, "old run"),
                ("run-a", "DISC_LATE", "640000", "宁夏回族自治区", 2018, "gov_gpb_revenue", "8", None, None, None),
                ("run-a", "PRIV_MOBILE", BUYER_USCC, "宁夏某局", 2018, "NXGC2018-001/01", MOBILE,
                 "trading/export_2018.csv", 2, f"notice_content 含 {MOBILE}"),
                ("run-a", "PRIV_MOBILE", BUYER_USCC, "宁夏某局", 2018, "NXGC2018-001/01", MOBILE,
                 "trading/export_2018.csv", 3, None),
            ]
            findings += [  # what the timeline rows above break, as the quality run would write it
                ("run-a", rule, BUYER_USCC, "宁夏某局", 2018, deal, str(observed), "trading/export_2018.csv", 2, None)
                for rule, deal, scope, observed, _, passes in timeline_rows if scope and not passes]
            con.executemany(
                f"INSERT INTO quality.findings ({cols}) VALUES ({', '.join('?' * 14)})",
                [(run, "compliance", "fixture", rule, "failure", code, name, year, obj, observed, src, row, detail,
                  f"{rule}|{code}|{year}|{obj}")
                 for run, rule, code, name, year, obj, observed, src, row, detail in findings],
            )
    finally:
        con.close()
    return path


def part_files(folder: Path, name: str, suffix: str = ".csv") -> list[Path]:
    """The files of every fiscal-year part of a published dataset (``data/<name>/<name>-<part><suffix>``)."""
    return sorted((folder / "data" / name).glob(f"{name}-*{suffix}"))


def parquet_parts(folder: Path, name: str) -> str:
    """A DuckDB ``read_parquet`` of every part of a published dataset."""
    return "read_parquet([" + ", ".join(f"'{p.as_posix()}'" for p in part_files(folder, name, ".parquet")) + "])"


def run_sql(warehouse: Path, *statements: str) -> None:
    """Statements on the fixture warehouse, one connection (a change made behind the dbt asset's back)."""
    con = duckdb.connect(str(warehouse))
    try:
        for statement in statements:
            con.execute(statement)
    finally:
        con.close()


def record_dbt_build(warehouse: Path, names, token: str) -> None:
    """What Dagster's dbt asset leaves after a build: the generations of what it may write moved, its fingerprint
    recorded (``transform/generations.py``)."""
    from dagster_project import stage_state
    from dagster_project.transform import generations

    con = duckdb.connect(str(warehouse))
    try:
        generations.move(con, names, token)
        generations.adopt(con, None)  # the relations the fixture's own dbt build wrote: as if the asset had run it
        stage_state.record(con, "dbt", f"build {token}")
    finally:
        con.close()


def publish_state(tmp_path: Path, monkeypatch) -> tuple[Path, Path, set]:
    """The fixture warehouse as a dbt build by the asset left it (generation ``g1`` for every relation a release
    reads), with the environment pointing at it and carries allowed: (warehouse, out folder, those relations)."""
    from dagster_project.publish.release import load_spec

    warehouse, out = tmp_path / "wh" / "gongkai.duckdb", tmp_path / "out"
    for name, value in (("GONGKAI_WAREHOUSE", warehouse), ("GONGKAI_OUT_DIR", out), ("GONGKAI_RAW_DIR", tmp_path)):
        monkeypatch.setenv(name, str(value))
    monkeypatch.delenv("GONGKAI_NO_CARRY", raising=False)
    warehouse.parent.mkdir()
    build_fixture_warehouse(warehouse)
    relations = {ds["relation"] for ds in load_spec()["datasets"] if "relation" in ds}
    record_dbt_build(warehouse, relations, "g1")
    return warehouse, out, relations


def release_skipping_identical(warehouse: Path, out: Path):
    """``build_release`` as the release asset calls it (``skip_identical``), without OCDS packages."""
    from dagster_project.publish.release import build_release

    return build_release(warehouse, out, run_id="r", ocds_dir=None, skip_identical=True)


def kept_fingerprint(warehouse: Path, name: str) -> tuple:
    """``inputs.KeptFingerprints``' fingerprint of relation ``name`` in a read-only connection, then remembered as
    publishing does: (the value, the relations it had to hash rather than take as kept)."""
    from dagster_project.publish.inputs import KeptFingerprints

    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        kept = KeptFingerprints(con)
        value = kept.of(name)
    finally:
        con.close()
    kept.remember(warehouse)
    return value, set(kept.computed)


def ocds_written_and_mapped(warehouse: Path, tmp_path: Path) -> tuple:
    """The OCDS packages written from the warehouse, and the releases ``bulletin_release`` maps its source rows to."""
    from dagster_project.publish.masking import MaskingPolicy
    from dagster_project.publish.ocds import ocds_source_sql, write_ocds
    from dagster_project.publish.ocds_reference import bulletin_release
    from dagster_project.publish.ocds_config import load_config
    from dagster_project.publish.release import load_spec
    cfg = load_config()
    policy = MaskingPolicy.from_spec(load_spec()["masking"])
    folder = tmp_path / "ocds"
    folder.mkdir()
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        write_ocds(con, folder, cfg, policy)
        cursor = con.execute(f"SELECT * FROM ({ocds_source_sql(con, policy)}) "
                             "ORDER BY deal_key, notice_send_time, bulletin_key")
        names = [d[0] for d in cursor.description]
        rows = [dict(zip(names, values)) for values in cursor.fetchall()]
    finally:
        con.close()
    return folder, [bulletin_release(row, cfg) for row in rows]


def written_releases(folder: Path, deal: str | None = None) -> list[dict]:
    """The releases of the OCDS release packages written to ``folder`` (of one deal when given), in package order."""
    import json

    from dagster_project.publish.ocds_config import open_package_text, package_files
    releases = []
    for package in package_files(folder):
        if package.name.startswith("release-package"):
            with open_package_text(package) as fh:
                releases += [r for r in json.load(fh)["releases"] if deal is None or r["ocid"].endswith(deal)]
    return releases


def ocds_releases_checked(warehouse: Path, tmp_path: Path, deal: str | None = None) -> list[dict]:
    """The releases written to OCDS (of one deal when given), checked to be there and to equal those the Python
    reference ``bulletin_release`` maps the same source rows to — the SQL mapping and its reference agree."""
    folder, expected = ocds_written_and_mapped(warehouse, tmp_path)
    written = written_releases(folder, deal)
    assert written and written == [r for r in expected if deal is None or r["ocid"].endswith(deal)]
    return written


def set_candidate_cell(warehouse: Path, name: str, code: str | None) -> str:
    """The first deal with a 中标候选人公示, its candidate cells set to ``name`` / ``code`` (no rank): the deal key."""
    con = duckdb.connect(str(warehouse))
    try:
        (deal,) = con.execute("SELECT min(deal_key) FROM main_marts.fct_trading_bulletins "
                              "WHERE bulletin_type = '中标候选人公示'").fetchone()
        con.execute("UPDATE main_marts.fct_trading_bulletins SET win_candidate_name = ?, win_candidate_code = ?, "
                    "win_candidate_order = NULL WHERE deal_key = ? AND bulletin_type = '中标候选人公示'",
                    [name, code, deal])
    finally:
        con.close()
    return deal


def claimed_identifiers(release: dict) -> dict[str, str | None]:
    """Each tenderer's name → the identifier its party claims (None: no identifier)."""
    parties = {p["id"]: p for p in release["parties"]}
    return {parties[t["id"]]["name"]: (parties[t["id"]].get("identifier") or {}).get("id")
            for t in release["tender"]["tenderers"]}
