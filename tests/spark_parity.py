"""Parity of the dbt models between DuckDB and Spark: one raw root, two builds, equal rows.

``write_hard_cases(raw)`` adds, to a raw root written by ``contract_raw.build_contract_raw``, the text that
behaves differently on the two engines unless the SQL is written for both: full-width letters, digits and
brackets, ideographic spaces, backslashes and apostrophes in names, notices with line breaks inside quoted
fields, full-width lower-case credit codes, invalid codes, 万元 amounts with thousands separators, dates around
the Spring Festival and National Day holidays (adjusted working weekends), and a bulletin exported twice.
Files are written as real exports are (a GB18030 CSV, a JSON Lines export), then read by the loaders.

``republish_revised_budget(con, raw, load)`` then re-publishes one department budget workbook twice, re-saved by
openpyxl (a real xlsx writer) and loaded again, so the revision models (int_figure_versions, fct_revisions) have
three versions of one file to compare: figures changed, vanished and added back, a figure unchanged in the second
version but changed in the third (its first_seen_at is the first version's), and a correction note in the third.

``compare_relation`` reads one relation from each engine into DuckDB and compares its rows as multisets
(EXCEPT ALL both ways) after normalising only what is representation, not value: decimals to one scale,
integers of any width alike. NULL and '' stay different: a difference there is a real one.
"""
from __future__ import annotations

import csv
import io
import json
import re
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import duckdb

from contract_raw import uscc

FULL_WIDTH = {c: chr(ord(c) + 0xFEE0) for c in "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz()"}


def full_width(text: str) -> str:
    return "".join(FULL_WIDTH.get(c, c) for c in text)


NATIONAL = ["PROJECT_CODE", "BID_SECTION_CODE", "BULLETIN_TYPE", "TRADE_AREA", "NOTICE_NAME", "NOTICE_SEND_TIME",
            "REGION_CODE", "TENDERER_NAME", "TENDERER_CODE", "TENDER_AGENCY_NAME", "TENDER_AGENCY_CODE",
            "BUDGET_AMOUNT", "AMOUNT_UNIT", "DOC_GET_START_TIME", "DOC_GET_END_TIME", "BID_DOC_REFER_END_TIME",
            "BID_OPEN_TIME", "BIDDER_COUNT", "WIN_CANDIDATE_NAME", "WIN_CANDIDATE_CODE", "WIN_CANDIDATE_ORDER",
            "PUBLICITY_START_TIME", "PUBLICITY_END_TIME", "WIN_BIDDER_NAME", "WIN_BIDDER_CODE", "BID_AMOUNT",
            "CONTRACT_SIGN_TIME", "CONTACT_PHONE", "NOTICE_CONTENT", "URL"]


def _hard_bulletins() -> tuple[list[dict], list[dict]]:
    """Two overlapping exports: (first file, second file); the second repeats H1's announcement."""
    buyer = uscc("11", "640400", 5_000_101)
    agency = uscc("91", "640100", 5_000_201)
    winner = uscc("91", "640400", 5_000_301)
    bad_agency = agency[:-1] + ("0" if agency[-1] != "0" else "1")      # wrong check character
    works, gp = "工程建设项目招标投标", "政府采购"
    h1 = dict(PROJECT_CODE="E6404002020HC01", BID_SECTION_CODE="001", TRADE_AREA=works, REGION_CODE="640400",
              TENDERER_NAME="固原市教育局\u3000", TENDERER_CODE=full_width(buyer.lower()),
              TENDER_AGENCY_NAME="C:\\代理\\宁夏（恒信）招标  有限公司", TENDER_AGENCY_CODE=bad_agency)
    announcement = dict(h1, BULLETIN_TYPE="招标公告",
                        NOTICE_NAME=full_width("固原市(GY)第2中学") + "“教学楼”改造工程\\施工  招标公告",
                        NOTICE_SEND_TIME="2020-01-23 09:00:00", BUDGET_AMOUNT="1,234.5678", AMOUNT_UNIT="万元",
                        DOC_GET_START_TIME="2020-01-23 09:00:00", DOC_GET_END_TIME="2020-02-03 17:00:00",
                        BID_DOC_REFER_END_TIME="2020-02-14 09:30:00", BID_OPEN_TIME="2020-02-14 09:30:00",
                        NOTICE_CONTENT="投标人须知：1. 文件路径 D:\\招标\\2020\\HC01.pdf；2. It's 公开招标，正则 \\d+ 不是占位符。",
                        URL="http://ggzyjy.nx.gov.cn/hc/1.htm")
    result = dict(h1, BULLETIN_TYPE="中标结果公告", NOTICE_NAME="固原市第２中学教学楼改造工程中标结果公告",
                  NOTICE_SEND_TIME="2020-02-28 10:00:00", BIDDER_COUNT="5",
                  WIN_BIDDER_NAME=full_width("XYZ") + "建设（宁夏）有限公司", WIN_BIDDER_CODE=winner,
                  BID_AMOUNT="1,200.00", AMOUNT_UNIT="万元", CONTRACT_SIGN_TIME="2020-03-20 00:00:00",
                  URL="http://ggzyjy.nx.gov.cn/hc/2.htm")
    h2 = dict(PROJECT_CODE="G6404002020HC02", BID_SECTION_CODE="1", TRADE_AREA=gp, REGION_CODE="640400",
              TENDERER_NAME="固原市卫生健康委员会", TENDERER_CODE=buyer, TENDER_AGENCY_NAME="宁夏恒信招标代理有限公司",
              TENDER_AGENCY_CODE=agency)
    gp_announcement = dict(h2, BULLETIN_TYPE="采购公告", NOTICE_NAME="固原市医疗设备公开招标采购公告",
                           NOTICE_SEND_TIME="2020-09-25 16:00:00", BUDGET_AMOUNT="88.5", AMOUNT_UNIT="万元",
                           DOC_GET_START_TIME="2020-09-26 09:00:00", DOC_GET_END_TIME="2020-10-10 17:00:00",
                           BID_DOC_REFER_END_TIME="2020-10-20 09:00:00", BID_OPEN_TIME="2020-10-20 09:00:00",
                           URL="http://ggzyjy.nx.gov.cn/hc/3.htm")
    candidates = dict(h2, BULLETIN_TYPE="中标候选人公示", NOTICE_NAME="固原市医疗设备采购中标候选人公示",
                      NOTICE_SEND_TIME="2020-10-21 08:00:00", WIN_CANDIDATE_NAME="Ａ公司；Ｂ公司、C\\公司",
                      WIN_CANDIDATE_CODE="91640400MA7\\X", WIN_CANDIDATE_ORDER="1",
                      PUBLICITY_START_TIME="2020-10-21 08:00:00", PUBLICITY_END_TIME="2020-10-23 18:00:00",
                      CONTACT_PHONE="0954-2011234", URL="http://ggzyjy.nx.gov.cn/hc/4.htm",
                      NOTICE_CONTENT="公示期：2020年10月21日至10月23日\n（国庆节后第一个工作周）\r\n异议请致 C:\\信访\\")
    contract = dict(h2, BULLETIN_TYPE="合同公告", NOTICE_NAME="固原市医疗设备采购合同公告",
                    NOTICE_SEND_TIME="2020-10-12 09:00:00", CONTRACT_SIGN_TIME="2020-09-30 00:00:00",
                    WIN_BIDDER_NAME="Ａ公司", WIN_BIDDER_CODE=full_width(winner), BID_AMOUNT="86.00",
                    AMOUNT_UNIT="万元", URL="http://ggzyjy.nx.gov.cn/hc/5.htm")
    return [announcement, result, gp_announcement], [announcement, candidates, contract]


def _privacy_corpus_bulletin() -> dict:
    """One more deal whose notice holds the whole corpus of tests/test_personal_numbers.py (every written form of
    a personal number and every look-alike), one text a line: int_privacy_hits must find the same hits on Spark
    (dbt's spark__ macros, personal_numbers_spark.py) as on DuckDB, whose form that test holds to Python."""
    from test_personal_numbers import LOOK_ALIKES, WRITTEN_FORMS

    texts = [t for t, _ in WRITTEN_FORMS] + LOOK_ALIKES
    return dict(PROJECT_CODE="E6404002020HC03", BID_SECTION_CODE="001", TRADE_AREA="工程建设项目招标投标",
                REGION_CODE="640400", BULLETIN_TYPE="招标公告", NOTICE_NAME="隐私语料 privacy corpus",
                NOTICE_SEND_TIME="2020-06-01 09:00:00", NOTICE_CONTENT="\n；\n".join(texts),
                URL="http://ggzyjy.nx.gov.cn/hc/6.htm")


def _candidate_lists() -> tuple[list[dict], list[dict]]:
    """A candidate publicity listed one row per candidate in the later export — its first row naming none, a
    consortium's lead and member on rows of their own — and flat in the earlier one; and a flat cell of firms whose
    names hold 联合体 (review R4): candidate_items, the member join and the copies' unit comparison on both engines."""
    h4 = dict(PROJECT_CODE="E6404002020HC04", BID_SECTION_CODE="001", TRADE_AREA="工程建设项目招标投标", REGION_CODE="640400",
              TENDERER_NAME="固原市交通运输局", BULLETIN_TYPE="中标候选人公示", NOTICE_NAME="固原市某道路工程中标候选人公示",
              NOTICE_SEND_TIME="2020-07-01 09:00:00", URL="http://ggzyjy.nx.gov.cn/hc/7.htm")
    members = ["宁夏甲建设有限公司（牵头人）", "宁夏乙建设有限公司（成员）", "宁夏丙建设有限公司"]
    per_row = [dict(h4, WIN_CANDIDATE_NAME=name) for name in ["", *members]]
    flat = dict(h4, WIN_CANDIDATE_NAME="、".join(members[:2]) + "；" + members[2])
    hostile = dict(h4, PROJECT_CODE="E6404002020HC05", URL="http://ggzyjy.nx.gov.cn/hc/8.htm",
                   WIN_CANDIDATE_NAME="宁夏联合体检中心有限公司、宁夏联合体系认证有限公司、宁夏甲建设有限公司、宁夏乙建设有限公司联合体")
    return [flat, hostile], per_row


def write_hard_cases(raw: Path) -> None:
    """Add the hard-case files to a raw root (trading exports and a portal log with Windows paths)."""
    first, second = _hard_bulletins()
    flat, per_row = _candidate_lists()
    first, second = [*first, *flat], [*second, _privacy_corpus_bulletin(), *per_row]
    folder = raw / "trading" / "hard_cases"
    folder.mkdir(parents=True, exist_ok=True)
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(NATIONAL)
    for row in first:
        writer.writerow([row.get(k, "") for k in NATIONAL])
    (folder / "export_2020_a.csv").write_bytes(buf.getvalue().encode("gb18030"))
    # the later export as JSON Lines: line breaks inside a notice, the announcement exported again
    with (folder / "export_2020_b.jsonl").open("w", encoding="utf-8") as h:
        for row in second:
            h.write(json.dumps(row, ensure_ascii=False) + "\n")
    portal = raw / "portal" / "publications_windows.csv"
    portal.parent.mkdir(parents=True, exist_ok=True)
    with portal.open("w", encoding="utf-8", newline="") as h:
        writer = csv.writer(h)
        writer.writerow(["title", "published_at", "publisher_name", "publisher_code", "column", "url", "attachment"])
        writer.writerow(["固原市2020年预算调整公开附件（补）", "2020-09-10 10:00:00", "固原市财政局\u3000", "640400",
                         "预决算公开/政府预决算", "http://www.nx.gov.cn/zwgk/900009.htm", "budget\\2020\\附件_损坏.xlsx"])


REVISED_TABLE = "部门支出总表"      # department expenditure by function: total = basic + project on every line
REVISION_SHIFT = Decimal("10")      # in the sheet's unit
CORRECTION_NOTE = "注：本表部分数据已更正（更正说明见附件）。"


def _revised_sheet(con, source_file: str) -> tuple[str, Decimal, dict[str, str], list[tuple]]:
    """(sheet, unit multiplier, column_key → column letter, present lines as (row, code, is_total, basic, project))."""
    sheet, unit = con.execute(
        "select sheet, unit_multiplier from raw.budget_sheets where source_file = ? and table_name = ? "
        "and not is_retired", [source_file, REVISED_TABLE]).fetchone()
    columns = dict(con.execute(
        "select column_key, any_value(source_column) from raw.budget_lines where source_file = ? and sheet = ? "
        "and not is_retired group by 1", [source_file, sheet]).fetchall())
    lines = con.execute(
        """select source_row, line_code, is_total,
                  max(amount_yuan) filter (where column_key = 'basic'),
                  max(amount_yuan) filter (where column_key = 'project')
           from raw.budget_lines where source_file = ? and sheet = ? and not is_retired
           group by all order by source_row""", [source_file, sheet]).fetchall()
    return sheet, unit, columns, lines


def _shift(ws, columns: dict[str, str], rows: list[int]) -> None:
    """Move REVISION_SHIFT from project to basic on each row: every row total and the grand total stay as they were."""
    for row in rows:
        for key, sign in (("basic", 1), ("project", -1)):
            cell = ws[f"{columns[key]}{row}"]
            cell.value = float(Decimal(str(cell.value).replace(",", "")) + sign * REVISION_SHIFT)


def _move_rows_below(ws, row: int, by: int) -> None:
    """Delete (by = -1) or insert (by = 1) one row at ``row``; openpyxl leaves merged ranges where they were."""
    below = [m for m in ws.merged_cells.ranges if m.min_row > row]
    for m in below:
        ws.merged_cells.remove(m)
    if by < 0:
        ws.delete_rows(row)
    else:
        ws.insert_rows(row)
    for m in below:
        m.shift(row_shift=by)
        ws.merged_cells.add(m)


def republish_revised_budget(con, raw: Path, load: Callable[[], None]) -> str:
    """Re-publish the first 2020 department budget workbook twice (``load`` reads the raw root again after each
    re-save) and return its path under the raw root. Version 2, silent: a leaf line's basic/project split changed
    (with its 款, 类 and total lines: totals hold) and another leaf line deleted (its figures vanish). Version 3:
    the deleted line back (its figures added), a third leaf line's split changed (a figure equal in versions 1
    and 2: first seen in version 1), and a correction note under the table. Lines are chosen from what the
    loader read (7-digit codes with basic and project both above the shift), never from fixed cells."""
    from openpyxl import load_workbook

    path = sorted((raw / "budget" / "2020" / "departments").glob("*部门预算公开表.xlsx"))[0]
    source_file = path.relative_to(raw).as_posix()
    sheet, unit, columns, lines = _revised_sheet(con, source_file)
    floor = REVISION_SHIFT * unit
    leaves = [r for r in lines if r[1] and len(r[1]) == 7 and r[3] > floor and r[4] > floor]
    assert len(leaves) >= 3, f"{source_file}: too few leaf lines to revise in {REVISED_TABLE}"
    total_row = next(r[0] for r in lines if r[2] and r[1] is None)
    changed, deleted, later = leaves[0], leaves[-1], leaves[1]
    assert changed[0] < later[0] < deleted[0], "the deleted line is the last chosen: rows above it keep their number"

    wb = load_workbook(path)
    ws = wb[sheet]
    _shift(ws, columns, [r[0] for r in lines if r[1] in (changed[1][:3], changed[1][:5], changed[1])] + [total_row])
    kept = [c.value for c in ws[deleted[0]]]
    _move_rows_below(ws, deleted[0], -1)
    wb.save(path)
    load()

    wb = load_workbook(path)
    ws = wb[sheet]
    _move_rows_below(ws, deleted[0], 1)
    for column, value in enumerate(kept, start=1):
        ws.cell(row=deleted[0], column=column, value=value)
    _shift(ws, columns, [later[0]])
    ws.cell(row=ws.max_row + 2, column=1, value=CORRECTION_NOTE)
    wb.save(path)
    load()
    return source_file


# The JVM of a test's dbt-spark session lives minutes on test-sized data. Measured per thread of the parity module's
# JVM (load 7): HotSpot's C2 compiler 84 CPU-s and C1 18 of ~220 s in all, G1's collector threads 23 s — code compiled
# for speed that then runs for seconds. C1 alone (TieredStopAtLevel=1) and the serial collector spend neither; the rows
# are the same (the modules compare them). C1 alone also sizes the code cache at 48 MB (240 MB with C2, `java
# -XX:+PrintFlagsFinal`): Spark's generated classes filled it, the sweeper then spent 23 CPU-s, and one Spark
# incremental run lost its SparkContext (cause unseen: the test keeps dbt's stdout only) — hence 240 MB, with which
# both modules passed. Only for tests: a Spark run over 1 M rows wants C2 (profiles.yml is unchanged). JAVA_TOOL_OPTIONS reaches
# every JVM spark-submit starts (its launcher and the driver), whatever the profile sets.
# Expressions are evaluated as interpreted (codegen.factoryMode NO_CODEGEN, read by SparkConf from the driver's system
# properties; the profile does not set it): on test-sized rows compiling generated Java (Janino, then JIT) for every
# projection and filter costs more than it saves. Interpreted evaluation is the path Spark falls back to whenever
# codegen fails, so the rows are the same (and the modules compare them). Parity module, one A/B pair under load 9–12:
# 285.5 → 267.1 CPU-s, JVMs counted (benchmarks/RESULTS.md, wave 15 S1): direction only. Measured too and not set:
# spark.sql.constraintPropagation.enabled=false (planning of the large models) gave nothing, 166.3 / 169.1 CPU-s on a slice.
# Bytecode verification of the classes loaded from the classpath (Spark's and its libraries' jars, as pip installed
# them with pyspark; BytecodeVerificationRemote, a diagnostic flag) is off: a check that the jars' bytecode is
# well-formed, repeated at every JVM start over the ~10 000 classes a session loads, which changes nothing a valid
# class does. A pyspark session with a few queries, alternated ×3 (load 15–18): 14.9 against 16.5–18.1 CPU-s
# (benchmarks/RESULTS.md, s9 wave 19).
# A temporary view keeps its analysed plan (spark.sql.legacy.storeAnalyzedPlanForView), not its SQL text to analyse
# again where it is read: dbt-spark's incremental materialisation creates `<model>__dbt_tmp` as a temporary view
# and reads it once, in the `insert overwrite` right after, so each incremental model's whole SQL was analysed twice
# (int_bulletins_deduplicated: 11.5 s creating the view, then 46.5 s inserting, at load 9). Nothing changes between
# the two statements (its partitions are dropped before the view is created), so the plan is the one re-analysis gave.
# The fresh build makes no temporary view. The incremental call's CPU-s: −13 %, −10 % (two pairs; benchmarks/RESULTS.md, s11 wave 20).
TEST_JVM_OPTIONS = ("-XX:TieredStopAtLevel=1 -XX:ReservedCodeCacheSize=240m -XX:+UseSerialGC"
                    " -XX:+UnlockDiagnosticVMOptions -XX:-BytecodeVerificationRemote"
                    " -Dspark.sql.codegen.factoryMode=NO_CODEGEN -Dspark.sql.legacy.storeAnalyzedPlanForView=true")


def with_test_jvm(env: dict[str, str]) -> dict[str, str]:
    """``env`` for a dbt call that starts a Spark session in a test: the JVM options above added."""
    current = env.get("JAVA_TOOL_OPTIONS", "")
    return dict(env, JAVA_TOOL_OPTIONS=f"{current} {TEST_JVM_OPTIONS}".strip())


def missing_spark() -> "str | None":
    """Why Spark cannot run here, or None."""
    if shutil.which("java") is None:
        return "Java is not on PATH: Spark parity skipped (Debian: apt-get install openjdk-17-jre-headless)"
    try:
        import dbt.adapters.spark  # noqa: F401
        import pyspark  # noqa: F401
    except ImportError as exc:
        return (f"Spark parity skipped: {exc.name} is not installed (pip install -e '.[spark]'; "
                "`make test` installs it when Java is on PATH)")
    return None


# --- comparison ----------------------------------------------------------------------------------------

@dataclass
class RelationDiff:
    relation: str
    rows_duckdb: int
    rows_spark: int
    only_duckdb: list
    only_spark: list
    columns: str = ""

    def __str__(self) -> str:
        if self.columns:
            return f"{self.relation}: {self.columns}"
        return (f"{self.relation}: {self.rows_duckdb} rows on DuckDB, {self.rows_spark} on Spark; only on DuckDB "
                f"{self.only_duckdb[:3]}, only on Spark {self.only_spark[:3]}")


def _type_class(duckdb_type: str) -> str:
    t = duckdb_type.upper()
    if t.startswith("DECIMAL") or t in ("DOUBLE", "FLOAT", "REAL"):
        return "number"
    if t in ("TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "UTINYINT", "USMALLINT", "UINTEGER", "UBIGINT"):
        return "integer"
    if t.startswith("TIMESTAMP"):
        return "timestamp"
    if t.endswith("[]"):
        return "list"
    return t


def _normalised(column: str, type_class: str) -> str:
    quoted = '"' + column.replace('"', '""') + '"'
    if type_class == "number":
        return f"cast({quoted} as decimal(38, 10)) as {quoted}"
    if type_class == "integer":
        return f"cast({quoted} as hugeint) as {quoted}"
    if type_class == "timestamp":
        return f"cast({quoted} as timestamp) as {quoted}"
    if type_class == "list":
        return f"cast({quoted} as varchar[]) as {quoted}"
    return quoted


def compare_relation(con: duckdb.DuckDBPyConnection, relation: str, duckdb_sql: str, spark_sql: str) -> "RelationDiff | None":
    """Rows of ``duckdb_sql`` and ``spark_sql`` (both readable by ``con``) as multisets; None when equal."""
    d_cols = con.execute(f"describe {duckdb_sql}").fetchall()
    s_cols = con.execute(f"describe {spark_sql}").fetchall()
    d_shape = [(c[0], _type_class(c[1])) for c in d_cols]
    s_shape = [(c[0], _type_class(c[1])) for c in s_cols]
    # by name: Spark moves a table's partition columns last (the incremental models, partition_year)
    if sorted(d_shape) != sorted(s_shape):
        return RelationDiff(relation, 0, 0, [], [], columns=f"columns differ: DuckDB {d_shape} / Spark {s_shape}")
    select = ", ".join(_normalised(name, kind) for name, kind in d_shape)
    d = f"select {select} from ({duckdb_sql})"
    s = f"select {select} from ({spark_sql})"
    only_d = con.execute(f"{d} except all {s}").fetchall()
    only_s = con.execute(f"{s} except all {d}").fetchall()
    if not only_d and not only_s:
        return None
    n_d = con.execute(f"select count(*) from ({duckdb_sql})").fetchone()[0]
    n_s = con.execute(f"select count(*) from ({spark_sql})").fetchone()[0]
    return RelationDiff(relation, n_d, n_s, only_d, only_s)


def dbt_test_outcomes(run_results: Path) -> dict[str, tuple[str, "int | None"]]:
    """{test node name: (status, failures)} of a dbt run_results.json (data and unit tests)."""
    results = json.loads(run_results.read_text(encoding="utf-8"))["results"]
    return {r["unique_id"]: (r["status"], r.get("failures")) for r in results
            if r["unique_id"].split(".")[0] in ("test", "unit_test")}


# --- which dbt tests the Spark build runs -----------------------------------------------------------------
# Every model is built on Spark and its rows compared with DuckDB's: that proves the model's SQL, its dispatch
# macros included, on the parity root's rows. A dbt test adds to that on Spark only where it reaches a Spark-only
# path those rows may not: the portable singular tests (tests/portable/) run every portable macro's spark__ form on
# fixed inputs whose answer they hold; a unit test adds fixed inputs for the dispatch macros no singular test
# reaches; a generic data test on equal rows ends as on DuckDB unless its own SQL dispatches. So the Spark build runs
# (computed from the manifest, never a list of names): the singular tests; each unit test whose model's SQL reaches
# a macro with a spark__ form that no singular test reaches; each data test that reaches such a macro; and one test
# of each generic test SQL the project defines (its own tests, its override of dbt's `unique`), so each renders and
# runs on Spark. A unit test renders its model's SQL, never the model's hooks: macros called from a hook are not
# counted for it. A new dispatch macro brings its models' unit tests to Spark until assert_portable_macros checks
# it (as it checks spark__safe_cast's rendering of a fixture's list). Measured (benchmarks/RESULTS.md, wave 17 S4):
# the 25 unit tests were 47 % of the Spark build (Catalyst analysing each model's whole SQL twice per test, for dbt's
# type probe and the test), repeating on Spark the model logic DuckDB's builds prove.

_VARIANTS = ("spark__", "default__", "duckdb__")
PORTABLE_TAG = "portable"


def _base_name(macro_id: str) -> str:
    name = macro_id.rsplit(".", 1)[-1]
    return next((name[len(p):] for p in _VARIANTS if name.startswith(p)), name)


def _dispatched(manifest: dict, roots: "list[str]") -> set[str]:
    """The project's dispatch macros (those with a spark__ form) ``roots`` reach, by base name."""
    macros = manifest["macros"]
    with_spark = {_base_name(k) for k in macros if k.startswith("macro.") and k.rsplit(".", 1)[-1].startswith("spark__")}
    seen: set[str] = set()
    todo = list(roots)
    while todo:
        key = todo.pop()
        if key not in seen:
            seen.add(key)
            todo.extend(macros[key]["depends_on"]["macros"] if key in macros else [])
    return {_base_name(k) for k in seen} & with_spark


def _body_macros(node: dict) -> list[str]:
    """The macros a model's SQL calls: its hooks' macros left out (a unit test runs none of them)."""
    hooks = " ".join(h.get("sql", "") for key in ("pre-hook", "post-hook") for h in node["config"].get(key, []))
    return [m for m in node["depends_on"]["macros"] if not re.search(rf"\b{re.escape(m.rsplit('.', 1)[-1])}\s*\(", hooks)]


def spark_tests(manifest: dict, models: set[str]) -> set[str]:
    """The ids of the data and unit tests on ``models`` (and the singular portable tests) the Spark build runs."""
    nodes, units = manifest["nodes"], manifest["unit_tests"]
    singular = {k for k, n in nodes.items() if n["resource_type"] == "test" and not n.get("test_metadata")
                and PORTABLE_TAG in n["tags"]}
    tests = {k: n for k, n in nodes.items() if n["resource_type"] == "test" and (k in singular or (
             any(d in models for d in n["depends_on"]["nodes"])
             and all(d in models or d.startswith("seed.") for d in n["depends_on"]["nodes"])))}
    proved = set().union(*(_dispatched(manifest, nodes[k]["depends_on"]["macros"]) for k in singular))
    chosen = set(singular)
    by_name = {nodes[k]["name"]: k for k in models}
    for key, unit in units.items():
        model = by_name.get(unit["model"])
        if model and _dispatched(manifest, _body_macros(nodes[model])) - proved:
            chosen.add(key)
    first_of_sql: dict[str, str] = {}
    for key in sorted(set(tests) - singular):
        reached = _project_test_sql(manifest, tests[key])
        if _dispatched(manifest, tests[key]["depends_on"]["macros"]) - proved:
            chosen.add(key)
        for sql in reached:
            first_of_sql.setdefault(sql, key)
    return chosen | set(first_of_sql.values())


def _project_test_sql(manifest: dict, test: dict) -> set[str]:
    """The generic test macros of this project (``test_*``, or dbt's ``default__test_*`` overridden here) a test runs."""
    project = manifest["metadata"].get("project_name") or "gongkai"
    macros = manifest["macros"]
    found, todo, seen = set(), list(test["depends_on"]["macros"]), set()
    while todo:
        key = todo.pop()
        if key in seen or key not in macros:
            continue
        seen.add(key)
        name = key.rsplit(".", 1)[-1]
        if key.startswith(f"macro.{project}.") and (name.startswith("test_") or name.startswith("default__test_")):
            found.add(key)
        todo.extend(macros[key]["depends_on"]["macros"])
    return found
