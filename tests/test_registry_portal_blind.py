"""The registry and the portal log as a finance bureau's tools write them, read blind (RAW_FORMATS.md registry/,
portal/; DOMAIN.md §1 deadlines, §4 identifiers), end to end: raw → dbt → GX → quality.findings.

The files are written here from the contract with Python's ``csv`` the way Excel saves a sheet — "CSV (逗号分隔)" on a
Chinese Windows (GBK, no BOM, CRLF, Chinese labels as headers) and "CSV UTF-8" (BOM) — and the attachments with
openpyxl: fiscal years outside the sample's (2015, 2016 and the current year), dates as a bureau types them, a code in
lower case and one in full-width digits (a Chinese IME), a region typed in full-width digits, a unit whose department
is only in another year's file, a region whose parent is nowhere, duplicated rows, attachments named by a path on the
clerk's disk, by a download URL and percent-encoded, a publication whose attachment is missing, one without a date, a
publisher the registry does not know, a code Excel rewrote in scientific notation and an impossible date (the entity
kept, its reply date unknown: a QUAR_VALUE_UNREADABLE warning).

Everything expected is derived from the rows written here (DOMAIN.md's arithmetic on their dates), never from an
output.

The same raw root carries the attachment cells of the review of wave 13 (formerly test_attachment_cells_mended; one
pipeline run serves both, see "Attachment cells" below): a fiscal year (2019), publishers and a portal log of their
own, so each test reads its own rows.
"""
from __future__ import annotations

import csv
import datetime as dt
import io
import unicodedata
import urllib.parse
from pathlib import Path

import duckdb
import pytest
from openpyxl import Workbook

from test_contract_conformance import run_pipeline

pytestmark = pytest.mark.slow

ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
FULL_WIDTH = str.maketrans("0123456789ABCDEFGHJKLMNPQRTUWXY", "０１２３４５６７８９ＡＢＣＤＥＦＧＨＪＫＬＭＮＰＱＲＴＵＷＸＹ")
CURRENT_YEAR = dt.date.today().year


def uscc(body: str) -> str:
    """GB 32100-2015 code from its first 17 characters (DOMAIN.md §4)."""
    total = sum(ALPHABET.index(c) * w for c, w in zip(body, WEIGHTS))
    return body + ALPHABET[(31 - total % 31) % 31]


def parse_typed(text: str) -> dt.date:
    """The date a person reads in what the bureau typed (the forms written below)."""
    for fmt in ("%Y/%m/%d", "%Y年%m月%d日", "%Y.%m.%d", "%Y-%m-%d", "%Y%m%d", "%Y/%m/%d %H:%M", "%Y-%m-%d %H:%M:%S"):
        try:
            return dt.datetime.strptime(text, fmt).date()
        except ValueError:
            pass
    raise ValueError(text)


def write_csv(path: Path, rows: list[list[str]], encoding: str, newline: str = "\r\n") -> None:
    buf = io.StringIO()
    csv.writer(buf, lineterminator=newline).writerows(rows)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(buf.getvalue().encode(encoding))


def department_budget(path: Path, name: str, year: int) -> None:
    """A department's 部门收支总表 as the contract lays it out (merged title, publisher and unit line, two headers)."""
    book = Workbook()
    sheet = book.active
    sheet.title = "表1"
    sheet.append([f"{name}{year}年部门收支总表"])
    sheet.merge_cells("A1:D1")
    sheet.append([f"部门：{name}", "", "", "单位：万元"])
    sheet.append(["收入", "", "支出", ""])
    sheet.append(["项目", "预算数", "项目", "预算数"])
    sheet.append(["一、一般公共预算拨款收入", 100, "一般公共服务支出", 100])
    sheet.append(["本年收入合计", 100, "本年支出合计", 100])
    sheet.append(["收入总计", 100, "支出总计", 100])
    path.parent.mkdir(parents=True, exist_ok=True)
    book.save(path)


ONE = uscc("11640000012345678")        # a department in every year's file
TWO = uscc("11640000023456789")        # a department only in 2015's file
THREE = uscc("11640000034567891")      # a department of the current year, 批复 date blank
CENTRE = uscc("12640000567891234")     # TWO's unit, also in 2016's file (its parent is not)
CITY = uscc("11640100A00000013")       # written in lower case
COUNTY = uscc("11640122000000012")     # written in full-width characters
ZONE = uscc("11640000045678912")       # 2016 row with an impossible date
ONE_NAME, TWO_NAME, THREE_NAME = "宁夏回族自治区测试一厅", "宁夏回族自治区测试二厅", "宁夏回族自治区测试三厅"
UNKNOWN_NAME = "宁夏回族自治区未登记局"

ENTITY_HEADER = ["entity_code", "entity_name", "region_code", "entity_kind", "parent_entity_code",
                 "has_government_fund", "has_state_capital", "budget_approved_on", "final_approved_on"]
ENTITY_LABELS = ["统一社会信用代码", "单位名称", "行政区划代码", "单位类型", "上级单位代码", "是否有政府性基金预算",
                 "是否有国有资本经营预算", "预算批复日期", "决算批复日期"]
ENTITIES = {
    2015: (ENTITY_HEADER, "utf-8-sig", [
        [ONE, ONE_NAME, "640000", "department", "", "否", "否", "2015/2/10", "2016/7/28"],
        [TWO, TWO_NAME, "640000", "部门", "", "是", "否", "2015年2月12日", ""],
        [CENTRE, "宁夏回族自治区测试二厅直属中心", "640000", "所属单位", TWO, "否", "否", "", ""],
        [CITY.lower(), "银川市测试局", "640100", "department", "", "false", "false", "2015.3.2", "2016.8.1"],
        [ONE, ONE_NAME, "640000", "department", "", "否", "否", "2015/2/10", "2016/7/28"],   # the row twice
        [ONE, ONE_NAME, "640000", "department", "", "否", "否", "2015/2/11", "2016/7/28"],   # again, another date
    ]),
    2016: (ENTITY_LABELS, "gbk", [
        [ONE, ONE_NAME, "640000", "一级预算单位", "", "否", "否", "2016-02-05", "2017-07-20"],
        [CENTRE, "宁夏回族自治区测试二厅直属中心", "640000", "二级预算单位", TWO, "否", "否", "20160301", ""],
        [COUNTY.translate(FULL_WIDTH), "贺兰县测试局", "６４０１２２", "部门", "", "否", "否", "2016年3月1日", ""],
        ["1.16401E+17", "银川市测试局", "640100", "部门", "", "否", "否", "2016/3/4", ""],
        [ZONE, "宁东测试局", "640900", "部门", "", "否", "否", "2016/2/30", ""],
    ]),
    # the current year's list says 单位性质 (行政单位 / 事业单位: not department vs unit) and no kind: derived from the parent
    CURRENT_YEAR: (["单位性质" if h == "entity_kind" else h for h in ENTITY_HEADER], "utf-8-sig", [
        [ONE, ONE_NAME, "640000", "行政单位", "", "false", "false", f"{CURRENT_YEAR}/2/6", ""],
        [THREE, THREE_NAME, "640000", "参公管理事业单位", "", "false", "false", "", ""],
    ]),
}
REGIONS = [   # levels as a bureau types them (行政级别)
    ["行政区划代码", "行政区划名称", "级次", "上级区划代码"],
    ["640000", "宁夏回族自治区", "省级", ""],
    ["640100", "银川市", "地级市", "640000"],
    ["６４０１２２", "贺兰县", "县（市、区）", "６４０１００"],
    ["640100", "银川市", "地级市", "640000"],
    ["640900", "宁东能源化工基地", "基地", "640999"],
    ["640104", "兴庆区", "市辖区", "640100"],
    ["640181", "灵武市", "县级市", "640100"],
    ["640100", "银川", "市", "640000"],               # the city again, under its short name
]
LEVELS = {"640000": "province", "640100": "city", "640122": "county", "640900": "zone", "640104": "county",
          "640181": "county"}
APPROVALS = [
    ["区划代码", "年度", "批准事项", "批准日期"],
    ["640000", "2015", "预算", "2015/1/30"],
    ["640000", "2015", "决算草案", "2016年7月21日"],          # as the congress's resolution names it
    ["640000", "2016", "预算草案", "2016-01-29"],
    ["640000", "2016", "预算调整方案", "2016-08-26"],
    ["６４０１２２", "2016", "预算", "2016/1/12"],
    ["640000", str(CURRENT_YEAR), "预算", f"{CURRENT_YEAR}/1/30"],
    ["640000", str(CURRENT_YEAR), "预算", f"{CURRENT_YEAR}/1/30"],
    ["640000", str(CURRENT_YEAR), "决算", ""],
    ["640000", "2016", "预算", "2016/2/1"],          # the same approval, another date
]
WORKBOOKS = {  # file under budget/ → (publisher name, year)
    "2015/测试一厅2015年部门预算.xlsx": (ONE_NAME, 2015),
    "2016/测试一厅2016年部门预算.xlsx": (ONE_NAME, 2016),
    f"{CURRENT_YEAR}/测试一厅{CURRENT_YEAR}年部门预算.xlsx": (ONE_NAME, CURRENT_YEAR),
    "2016/未登记局2016年部门预算.xlsx": (UNKNOWN_NAME, 2016),
    # saved by a Windows tool with the extension in capitals: the portal's `.xlsx` names it all the same
    "2016/贺兰县测试局2016年部门预算.XLSX": ("贺兰县测试局", 2016),
    "2015/银川市测试局2015年部门预算.xlsx": ("银川市测试局", 2015),
}
# publication rows (file row = index + 2): publisher, name, title year, published_at, attachment as the portal writes it
PUBLICATIONS = [
    (ONE, ONE_NAME, 2015, "2015/2/28 10:00", "C:\\Users\\admin\\Desktop\\公开\\测试一厅2015年部门预算.xlsx"),
    (ONE, ONE_NAME, 2016, "2016年2月29日", urllib.parse.quote("测试一厅2016年部门预算.xlsx")),
    (ONE, ONE_NAME, CURRENT_YEAR, f"{CURRENT_YEAR}-02-25 09:30:00",
     f"http://www.nx.gov.cn/zwgk/{CURRENT_YEAR}/测试一厅{CURRENT_YEAR}年部门预算.xlsx?id=7#top"),
    ("", UNKNOWN_NAME, 2016, "2016/3/1", "budget/2016/未登记局2016年部门预算.xlsx"),
    (TWO, TWO_NAME, 2015, "2015/3/5", "测试二厅2015年部门预算.xlsx"),              # not in the raw root
    (THREE, THREE_NAME, CURRENT_YEAR, "", ""),                                     # no date
    # another department's download link whose file name is 测试一厅's (review R): earlier than 测试一厅's own
    # publication, it must not become the date 测试一厅's 2016 budget was published
    (TWO, TWO_NAME, 2016, "2016/1/5", f"http://www.nx.gov.cn/zwgk/{TWO}/测试一厅2016年部门预算.xlsx"),
]
OTHER_PUBLISHERS_LINK = len(PUBLICATIONS) + 1      # that row: its attachment is 测试一厅's file
# A second portal log ("CSV UTF-8"): cells listing several attachments as portals do — `；`, `、`, one per line (a
# quoted line break) — extensions in any case, a name holding a `、` of its own, and a time no calendar has.
LISTS = [
    (COUNTY, "贺兰县测试局", 2016, "2016/3/10", "贺兰县测试局2016年部门预算.xlsx；贺兰县测试局2016年部门预算说明.Pdf"),
    (CITY, "银川市测试局", 2015, "2015/3/20", "http://www.yinchuan.gov.cn/a/银川市测试局2015年部门预算.XLSX?id=3\n"
                                              "http://www.yinchuan.gov.cn/a/收入、支出预算表.xlsx"),
    (CENTRE, "宁夏回族自治区测试二厅直属中心", 2016, "2016/4/1", "直属中心2016年部门预算.xls、直属中心2016年部门预算.pdf"),
    (COUNTY, "贺兰县测试局", 2016, "2016/2/31 10:00", ""),
]
LISTED_MISSING = ["贺兰县测试局2016年部门预算说明.Pdf", "收入、支出预算表.xlsx", "直属中心2016年部门预算.xls",
                  "直属中心2016年部门预算.pdf"]


def build_raw(root: Path, extra_approvals: list[list[str]] = ()) -> None:
    registry = root / "registry"
    write_csv(registry / "regions.csv", REGIONS, "gbk")
    write_csv(registry / "approvals.csv", [*APPROVALS, *extra_approvals], "gbk")
    for year, (header, encoding, rows) in ENTITIES.items():
        # 2016's sheet as a bureau keeps it: a title line above the header, a blank line and a note below the rows
        above, below = ([[f"{year}年度预算单位名录"] + [""] * 8], [[""] * 9, ["制表：财政厅预算处"] + [""] * 8]) \
            if year == 2016 else ([], [])
        write_csv(registry / f"entities_{year}.csv", [*above, header, *rows, *below], encoding,
                  newline="\n" if year == CURRENT_YEAR else "\r\n")
    for name, (publisher, year) in WORKBOOKS.items():
        department_budget(root / "budget" / name, publisher, year)
    rows = [["publisher_code", "publisher_name", "column", "title", "published_at", "url", "attachment"]]
    for i, (code, name, year, at, attachment) in enumerate(PUBLICATIONS):
        rows.append([code, name, "预决算公开", f"{name}{year}年部门预算", at, f"http://www.nx.gov.cn/zwgk/{i}.htm", attachment])
    write_csv(root / "portal" / "publications_budget.csv", rows, "gbk")
    rows = [["publisher_code", "publisher_name", "column", "title", "published_at", "url", "attachment"]]
    for i, (code, name, year, at, attachment) in enumerate(LISTS):
        rows.append([code, name, "预决算公开", f"{name}{year}年部门预算", at, f"http://www.nx.gov.cn/zwgk/l{i}.htm", attachment])
    write_csv(root / "portal" / "publications_lists.csv", rows, "utf-8-sig")


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("registry_blind")
    build_raw(tmp / "raw", extra_approvals=CELLS_APPROVALS)
    build_attachment_cells(tmp / "raw")
    with pytest.MonkeyPatch.context() as mp:
        warehouse = run_pipeline(tmp, tmp / "raw", mp.setenv)
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        yield con
    finally:
        con.close()


def findings(con, rule_id: str) -> list[tuple]:
    return con.execute("""
        select publisher_code, fiscal_year, source_file, source_row, observed, detail from quality.findings
        where run_id = (select max(run_id) from quality.findings) and rule_id = ? order by source_file, source_row
    """, [rule_id]).fetchall()


def test_only_the_unusable_rows_are_rejected_naming_row_and_column(run):
    rejects = run.execute("select source_file, source_row, source_column, raw_value from raw.load_rejects "
                          "order by 1, 2").fetchall()
    # 2016's rows stand one line lower (its title line); the note under its table is no entity
    assert rejects == [("registry/entities_2016.csv", 6, "统一社会信用代码", "1.16401E+17"),
                       ("registry/entities_2016.csv", 9, "单位名称", None)]
    statuses = dict(run.execute("select source_file, status from raw.load_files").fetchall())
    assert set(statuses.values()) <= {"loaded", "loaded_with_rejects"}, statuses


def test_codes_typed_in_lower_case_or_full_width_are_the_codes(run):
    entities = set(run.execute("select entity_code, region_code from marts.dim_entity").fetchall())
    assert (CITY, "640100") in entities
    assert (COUNTY, "640122") in entities, "a full-width region code is the same region"
    regions = run.execute("select region_code, parent_code from marts.dim_region where region_name = '贺兰县'").fetchall()
    assert regions == [("640122", "640100")], "贺兰县 has one code, typed full-width or not"
    assert not run.execute("select count(*) from marts.dim_region where region_code <> "
                           "translate(region_code, '０１２３４５６７８９', '0123456789')").fetchone()[0]


def test_every_region_loads_with_the_level_its_word_names(run):
    got = dict(run.execute("select distinct region_code, level from staging.stg_registry__regions").fetchall())
    assert got == LEVELS


def expected_deadlines() -> dict[tuple[str, int, str], dt.date | None]:
    """DOMAIN.md §1 on the rows written above: the 批复 + 20 days; without it the congress approval + 40 days
    (department) or + 55 (unit); neither: unknown. An entity listed twice: its first row; an approval given twice:
    the earlier date."""
    congress: dict[tuple[str, int, str], dt.date] = {}
    for region, year, document, text in APPROVALS[1:]:
        if text:
            if "调整" in document:
                continue
            key = (unicodedata.normalize("NFKC", region), int(year), "final" if "决算" in document else "budget")
            congress[key] = min(congress.get(key, parse_typed(text)), parse_typed(text))
    out = {}
    for year, (_, _, rows) in ENTITIES.items():
        for code, _, region, kind, _, _, _, budget_on, final_on in rows:
            code = unicodedata.normalize("NFKC", code).upper()
            if len(code) != 18:
                continue                     # the rejected row: its own code in scientific notation
            unit = kind in ("所属单位", "二级预算单位", "unit")    # 行政单位 etc. are departments here: no parent
            for document, reply in (("budget", budget_on), ("final", final_on)):
                try:
                    reply = reply and parse_typed(reply)
                except ValueError:
                    reply = None             # an impossible date: stored blank, the reply date unknown
                anchor = congress.get((unicodedata.normalize("NFKC", region), year, document))
                if (code, year, document) in out:
                    continue                 # an entity's first row is the one used
                out[(code, year, document)] = (reply + dt.timedelta(days=20) if reply else
                                               anchor + dt.timedelta(days=55 if unit else 40) if anchor else None)
    return out


def test_deadlines_for_years_beyond_the_sample_follow_the_registry(run):
    got = {(c, y, d): v for c, y, d, v in run.execute(
        "select distinct publisher_code, fiscal_year, document, deadline_date from marts.fct_disclosure_expected "
        "where publisher_kind <> 'government'").fetchall() if c not in CELLS_CODES}   # the attachment cells' own
    assert got == expected_deadlines()
    county = run.execute("select distinct deadline_date from marts.fct_disclosure_expected "
                         "where publisher_code = '640122' and fiscal_year = 2016 and document = 'budget'").fetchall()
    assert county == [(dt.date(2016, 1, 12) + dt.timedelta(days=20),)], "the county's approval, typed full-width"


def test_an_impossible_date_is_a_finding_not_a_lost_entity(run):
    """The entity whose 预算批复日期 no calendar has stays expected (its deadline as if the date were blank, above)
    and the cell is one warning naming file, row, column and the value as typed."""
    assert (ZONE, 2016, "budget") in expected_deadlines()
    got = findings(run, "QUAR_VALUE_UNREADABLE")
    (row, (code, _, year, at, _)), = ((i + 2, p) for i, p in enumerate(LISTS) if p[3].startswith("2016/2/31"))
    assert [(code, year, file, row, observed) for code, year, file, row, observed, _ in got] == [
        (code, year, "portal/publications_lists.csv", row, f"published_at = {at}"),
        (ZONE, 2016, "registry/entities_2016.csv", 7, "预算批复日期 = 2016/2/30")]


def test_attachments_named_by_path_url_or_percent_encoding_publish_their_file(run):
    statuses = {(row[0], row[1]): row[2:] for row in run.execute("""
        select publisher_code, fiscal_year, status, published_at, source_file from marts.fct_disclosure_status
        where table_key = 'dept_summary'""").fetchall()}
    for code, _, year, at, attachment in PUBLICATIONS[:3]:   # (测试二厅's link of the same name publishes none of them)
        status, published_at, source_file = statuses[(code, year)]
        deadline = expected_deadlines()[(code, year, "budget")]
        assert published_at.date() == parse_typed(at), attachment
        assert source_file == next(f"budget/{n}" for n, (who, y) in WORKBOOKS.items() if who == ONE_NAME and y == year)
        assert status == ("on_time" if parse_typed(at) <= deadline else "late"), (attachment, status)
    missing = findings(run, "DISC_ATTACHMENT_MISSING")
    assert [(code, row) for code, _, file, row, _, _ in missing if file.endswith("_budget.csv")] == [(TWO, 6)], \
        "only the file that is not there"


def test_a_cell_listing_several_attachments_publishes_each_file_and_names_each_missing_one(run):
    """`；`, `、` and a line break between attachments; `.XLSX` on disk or in a link is the `.xlsx` a portal names; a
    name holding a `、` of its own stays one name. Each file of a list publishes; each absent one is its own finding."""
    statuses = {(row[0], row[1]): row[2:] for row in run.execute("""
        select publisher_code, fiscal_year, status, published_at, source_file from marts.fct_disclosure_status
        where table_key = 'dept_summary'""").fetchall()}
    for code, name, year, at, _ in LISTS[:2]:
        status, published_at, source_file = statuses[(code, year)]
        assert published_at is not None and published_at.date() == parse_typed(at), (code, year)
        assert source_file == next(f"budget/{n}" for n, (who, y) in WORKBOOKS.items() if who == name and y == year)
        deadline = expected_deadlines()[(code, year, "budget")]
        assert status == ("on_time" if parse_typed(at) <= deadline else "late")
    got = run.execute("""
        select publisher_code, source_row, object_key from quality.findings
        where run_id = (select max(run_id) from quality.findings) and rule_id = 'DISC_ATTACHMENT_MISSING'
          and source_file = 'portal/publications_lists.csv' order by source_row, object_key""").fetchall()
    expected = sorted(((code, i + 2, name) for i, (code, _, _, _, cell) in enumerate(LISTS)
                       for name in LISTED_MISSING if name in cell), key=lambda f: (f[1], f[2]))
    assert got == expected


def test_an_attachment_that_is_another_publishers_file_is_said(run):
    """测试二厅's link names a file only 测试一厅's title claims: it publishes nothing for 测试二厅 (above), and is not
    "missing" either (the file is there) — a finding naming the portal row, the attachment and whose file it is."""
    got = run.execute("""
        select publisher_code, fiscal_year, source_file, source_row, object_key, observed, detail from quality.findings
        where run_id = (select max(run_id) from quality.findings) and rule_id = 'DISC_ATTACHMENT_OTHER_PUBLISHER'
        """).fetchall()
    code, _, year, _, link = PUBLICATIONS[OTHER_PUBLISHERS_LINK - 2]
    assert [row[:5] for row in got] == [(code, year, "portal/publications_budget.csv", OTHER_PUBLISHERS_LINK,
                                         link.rsplit("/", 1)[1])]
    owner = WORKBOOKS["2016/测试一厅2016年部门预算.xlsx"][0]
    assert owner in got[0][5] and ONE in got[0][5], got[0][5]
    assert "budget/2016/测试一厅2016年部门预算.xlsx" in got[0][6]
    assert not [f for f in findings(run, "DISC_ATTACHMENT_MISSING") if f[3] == OTHER_PUBLISHERS_LINK]


def test_unresolved_references_are_said_with_file_row_and_column(run):
    got = findings(run, "REG_REFERENCE_UNRESOLVED")
    assert [(code, year, file, row, observed) for code, year, file, row, observed, _ in got] == [
        (CENTRE, 2016, "registry/entities_2016.csv", 4, f"parent_entity_code = {TWO}"),
        ("640900", None, "registry/regions.csv", 6, "parent_code = 640999"),
    ]
    assert "2015" in got[0][5], "the year whose file has the parent is named"


def test_a_publication_without_a_date_is_said(run):
    """A blank time is said blank; a time written but unreadable (2016/2/31) is said unreadable, as written."""
    got = findings(run, "DISC_PUBLICATION_NO_DATE")
    (row, (code, _, year, at, _)), = ((i + 2, p) for i, p in enumerate(LISTS) if p[3].startswith("2016/2/31"))
    assert [(code, year, file, row, observed) for code, year, file, row, observed, _ in got] == [
        (THREE, CURRENT_YEAR, "portal/publications_budget.csv", next(i + 2 for i, p in enumerate(PUBLICATIONS) if not p[3]),
         "published_at 为空 blank"),
        (code, year, "portal/publications_lists.csv", row, f"发布时间无法读取 unreadable: published_at = {at}")]


def test_an_unregistered_publisher_is_kept_and_said(run):
    got = findings(run, "REG_UNKNOWN_PUBLISHER")
    assert [(year, file) for _, year, file, _, _, _ in got] == [(2016, "budget/2016/未登记局2016年部门预算.xlsx")]
    assert got[0][4] == UNKNOWN_NAME


def test_rows_saying_one_thing_twice_differently_are_named_and_the_run_goes_on(run):
    got = findings(run, "REG_DUPLICATE_CONFLICT")
    assert [(code, year, file, row) for code, year, file, row, _, _ in got] == [
        ("640000", 2016, "registry/approvals.csv", 10),
        (ONE, 2015, "registry/entities_2015.csv", 7),
        ("640100", None, "registry/regions.csv", 9),
    ]
    assert [observed.split(":")[0] for *_, observed, _ in got] == ["approved_on", "budget_approved_on", "region_name"]
    assert "regions.csv 第3行" in got[2][5], "the row used is named"
    keys = run.execute("select count(*), count(distinct (publisher_code, fiscal_year, table_key)) "
                       "from marts.fct_disclosure_expected").fetchone()
    assert keys[0] == keys[1], "a region listed twice is one publisher"


def test_the_final_accounts_of_the_year_still_running_are_not_yet_due(run):
    def statuses(code, year):
        return {s for (s,) in run.execute("select distinct status from marts.fct_disclosure_status where publisher_code = ? "
                                          "and fiscal_year = ? and document = 'final'", [code, year]).fetchall()}
    assert statuses(ONE, CURRENT_YEAR) == statuses(THREE, CURRENT_YEAR) == {"not_yet_due"}
    assert statuses(CENTRE, 2016) == {"missing_deadline_unknown"}, "a past year's unknown deadline stays said"
    assert not run.execute("select count(*) from quality.findings where run_id = (select max(run_id) from quality.findings) "
                           "and rule_id = 'DISC_MISSING_DEADLINE_UNKNOWN' and fiscal_year = ? "
                           "and document in ('final', 'final_debt')", [CURRENT_YEAR]).fetchone()[0]


# --- Attachment cells (formerly test_attachment_cells_mended.py) ------------------------------------------------------
# Portal attachment cells and registry names as a reviewer wrote them (review of wave 13, RAW_FORMATS.md portal/,
# registry/), end to end, in the same raw root (fiscal year 2019, publishers and a portal log of their own):
#
# - A name two registry codes share (宁夏回族自治区交通运输厅 once more under another code that sorts first) names no
#   one: the sheet whose title says it is not "another publisher's" file for either code, so the real 厅's own
#   attachment publishes its budget (no DISC_ATTACHMENT_OTHER_PUBLISHER, no DISC_MISSING).
# - A cell listing a file of an extension the budget families do not read (`说明.rar、x.xlsx`, `a.zip；x.xlsx`) is
#   still a list: each file its own attachment, the archive reported absent, the workbook published.
# - A download link whose query holds `,` followed by another link (`…/x.XLSX?id=1&n=2,http://…/说明.pdf`) is two
#   attachments; a label before a name (`附件1：x.xlsx`, `附件：x.xlsx`) is no part of the name.
#
# The files are written with Python's csv (GBK, CRLF: Excel's "CSV (逗号分隔)") and openpyxl; everything expected is
# derived from the rows written here.
CELLS_YEAR = 2019
TRANSPORT = "宁夏回族自治区交通运输厅"
REAL = uscc("11640000200000002")           # the 厅 itself (province)
HOMONYM = uscc("11640000100000001")        # the same name under a code that sorts before the real one (Yinchuan)
assert HOMONYM < REAL
DEPTS = {  # code → name; each publishes its budget through one portal cell of the forms under test
    REAL: TRANSPORT,
    uscc("11640000300000003"): "宁夏回族自治区测试甲厅",
    uscc("11640000400000004"): "宁夏回族自治区测试乙厅",
    uscc("11640000500000005"): "宁夏回族自治区测试丙厅",
    uscc("11640000600000006"): "宁夏回族自治区测试丁厅",
    uscc("11640000700000007"): "宁夏回族自治区测试戊厅",
}
CODES = list(DEPTS)
CELLS_CODES = {*DEPTS, HOMONYM}
WORKBOOK = {code: f"{name[7:]}{CELLS_YEAR}年部门预算.xlsx" for code, name in DEPTS.items()}
PUBLISHED_AT = "2019/2/20"
CELLS_LOG = "portal/publications_attachment_cells.csv"
CELLS_APPROVALS = [["640000", str(CELLS_YEAR), "预算", f"{CELLS_YEAR}/1/30"]]
# publisher → the 附件 cell as the clerk wrote it; the absent files each cell names (nothing else on disk)
CELLS = {
    REAL: WORKBOOK[REAL],
    CODES[1]: f"说明.rar、{WORKBOOK[CODES[1]]}",
    CODES[2]: f"a.zip；{WORKBOOK[CODES[2]]}",
    CODES[3]: f"http://www.nx.gov.cn/d/{WORKBOOK[CODES[3]].replace('.xlsx', '.XLSX')}?id=1&n=2,"
              "http://www.nx.gov.cn/d/说明.pdf",
    CODES[4]: f"附件1：{WORKBOOK[CODES[4]]}；附件2：图解.png",
    CODES[5]: f"附件：{WORKBOOK[CODES[5]]}",
}
ABSENT = {CODES[1]: ["说明.rar"], CODES[2]: ["a.zip"], CODES[3]: ["说明.pdf"], CODES[4]: ["图解.png"]}
assert not {CELLS_YEAR} & {*ENTITIES, *(year for _, year in WORKBOOKS.values())}, "the attachment cells' year is their own"


def build_attachment_cells(root: Path) -> None:
    """Registry rows (their approval goes in with build_raw's), workbooks and a portal log of the cells' own."""
    rows = [[code, name, "640000", "部门", "", "否", "否", "", ""] for code, name in DEPTS.items()]
    rows.append([HOMONYM, TRANSPORT, "640100", "部门", "", "否", "否", "", ""])
    write_csv(root / "registry" / f"entities_{CELLS_YEAR}.csv", [ENTITY_HEADER, *rows], "gbk")
    for code, name in DEPTS.items():
        department_budget(root / "budget" / str(CELLS_YEAR) / WORKBOOK[code], name, CELLS_YEAR)
    rows = [["publisher_code", "publisher_name", "column", "title", "published_at", "url", "attachment"]]
    for i, (code, cell) in enumerate(CELLS.items()):
        rows.append([code, DEPTS[code], "预决算公开", f"{DEPTS[code]}{CELLS_YEAR}年部门预算", PUBLISHED_AT,
                     f"http://www.nx.gov.cn/zwgk/c{i}.htm", cell])
    write_csv(root / CELLS_LOG, rows, "gbk")


def cells_findings(con, rule_id: str, source_file: str | None = None) -> list[tuple]:
    return con.execute("""
        select publisher_code, source_file, source_row, object_key from quality.findings
        where run_id = (select max(run_id) from quality.findings) and rule_id = ?
          and (? is null or source_file = ?) order by source_row, object_key
    """, [rule_id, source_file, source_file]).fetchall()


def test_each_publishers_own_workbook_publishes_its_budget(run):
    got = {code: rest for code, *rest in run.execute("""
        select publisher_code, published_at, source_file from marts.fct_disclosure_status
        where fiscal_year = ? and table_key = 'dept_summary'""", [CELLS_YEAR]).fetchall()}
    for code in DEPTS:
        published_at, source_file = got[code]
        assert source_file == f"budget/{CELLS_YEAR}/{WORKBOOK[code]}", (code, CELLS[code], source_file)
        assert published_at is not None and published_at.date() == parse_typed(PUBLISHED_AT), CELLS[code]


def test_a_name_two_codes_share_makes_no_file_another_publishers(run):
    assert cells_findings(run, "DISC_ATTACHMENT_OTHER_PUBLISHER", CELLS_LOG) == []
    # the 厅 misses what every department here misses (one table of its budget written), nothing more
    missing = {code: sorted(key for who, _, _, key in cells_findings(run, "DISC_MISSING") if who == code)
               for code in DEPTS}
    assert missing[REAL] == missing[CODES[5]], missing


def test_every_absent_file_of_a_list_is_said_and_no_present_one(run):
    expected = [(code, CELLS_LOG, i + 2, name) for i, code in enumerate(CELLS) for name in ABSENT.get(code, [])]
    assert cells_findings(run, "DISC_ATTACHMENT_MISSING", CELLS_LOG) == expected


def test_the_attachments_are_the_files_named_without_labels_or_queries(run):
    got = sorted(run.execute("select publisher_code, attachment_file_name from staging.stg_portal__attachments "
                             "where source_file = ?", [CELLS_LOG]).fetchall())
    expected = sorted([(code, WORKBOOK[code].replace(".xlsx", ".XLSX") if code == CODES[3] else WORKBOOK[code])
                       for code in DEPTS] + [(code, name) for code, names in ABSENT.items() for name in names])
    assert got == expected
