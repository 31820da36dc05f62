"""A raw root as a hostile or careless user would hand it over: the bundled sample plus

- a workbook from a publisher the registry does not know (no portal row either), whose item names hold
  formula text and whose note holds personal numbers in the forms people write them;
- the same table twice in one workbook, once with the same figures, once (another workbook) with different ones;
- a trading export with a bulletin without a publication time, formula text in titles and names, personal
  numbers with spaces, hyphens, full-width digits, +86, a bank card, a bulletin type and a trade area outside
  the vocabulary, a buyer without a credit code, a buyer's name and a title holding control characters;
- the same export as a web system's HTML table named .xls and as Excel's UTF-16 "Unicode text", personal numbers
  in both;
- a portal title with formula text and a mobile;
- a link to a file outside the raw root (whose first line is a secret), a dangling link, and a named pipe.

``add_hostile_files(root, outside)`` adds them to a sample raw root (``python -m dagster_project.sample`` output,
or a copy of ``data/raw``) in a second or two and returns what a correct run must make of it.
"""
from __future__ import annotations

import csv
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from openpyxl import load_workbook

from dagster_project import identifiers



def id_number(first17: str) -> str:
    return first17 + identifiers.id_check_char(first17)


def luhn_complete(partial: str) -> str:
    return partial + identifiers.luhn_check_digit(partial)


def fullwidth(s: str) -> str:
    return "".join(chr(ord(c) + 0xFEE0) if c.isdigit() else c for c in s)


PERSON_ID = id_number("64020219880808031")
OTHER_ID = id_number("64010419750101002")
MOBILE = "13995041234"
OTHER_MOBILE = "15809517788"
CARD = luhn_complete("621700283000123456")
# every planted personal number, as digits (a published file may hold none of them in any written form)
PERSONAL_NUMBERS = (PERSON_ID, OTHER_ID, MOBILE, OTHER_MOBILE, CARD)

FORMULAS = ('=HYPERLINK("http://evil.example/x","点击查看")', "=cmd|' /C calc'!A0", "@SUM(1+1)*cmd|' /C calc'!A0",
            "+86 139 9504 1234 联系", "-2+3+cmd|' /C calc'!A0")
SECRET = "SECRET_FIRST_LINE_do_not_publish_4f1c"

UNKNOWN_PUBLISHER = "银川市未登记示范中心"
KNOWN_DEPT = "银川市教育局"
UNKNOWN_BUYER = "宁夏某某未登记采购中心"
# a buyer's name as pasted from a word processor: a vertical tab, a form feed and a stray control character
# (XML 1.0 forbids them: no XLSX cell can hold them)
CONTROL_BUYER = "宁夏\x0b某某\x0c未登记\x01学校"


@dataclass
class Hostile:
    root: Path
    outside: Path
    unknown_workbook: str
    identical_twice: str          # workbook holding one table twice, same figures
    conflicting_twice: str        # workbook holding one table twice, different figures
    twice_table: str              # the catalogue name of that table
    trading_file: str
    dateless_bulletin_key: str
    link_outside: str
    dangling_link: str
    fifo: str | None
    formulas: tuple[str, ...] = FORMULAS
    personal_numbers: tuple[str, ...] = PERSONAL_NUMBERS
    notes: list[str] = field(default_factory=list)


def _rewrite_workbook(src: Path, dst: Path, replace: dict[str, str], edits=None) -> None:
    wb = load_workbook(src)
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                if isinstance(cell.value, str):
                    value = cell.value
                    for old, new in replace.items():
                        value = value.replace(old, new)
                    cell.value = value
    if edits:
        edits(wb)
    dst.parent.mkdir(parents=True, exist_ok=True)
    wb.save(dst)


def _text(cell, value: str) -> None:
    """Text as a publisher's spreadsheet holds it (never a formula, even when it starts with '=')."""
    cell.value = value
    cell.data_type = "s"


def _find_sheet(wb, table_suffix: str):
    for ws in wb.worksheets:
        title = ws.cell(1, 1).value
        if isinstance(title, str) and title.endswith(table_suffix):
            return ws
    raise LookupError(table_suffix)


def copy_sample(sample: Path, root: Path) -> Path:
    shutil.copytree(sample, root, ignore=shutil.ignore_patterns("ground_truth.json"))
    return root


def add_hostile_files(root: Path, outside: Path) -> Hostile:
    budget = root / "budget" / "2018"

    # 1. a publisher the registry does not know; formula text in item names; personal numbers in a note
    unknown = budget / f"{UNKNOWN_PUBLISHER}2018年部门预算.xlsx"

    def hostile_cells(wb) -> None:
        ws = _find_sheet(wb, "部门支出总表")
        _text(ws.cell(7, 2), FORMULAS[0])
        _text(ws.cell(8, 2), FORMULAS[1])
        _text(ws.cell(9, 2), f"普通教育（咨询 {OTHER_MOBILE[:3]}-{OTHER_MOBILE[3:7]}-{OTHER_MOBILE[7:]}）")
        notes = _find_sheet(wb, "部门收入总表")
        _text(notes.cell(7, 1), f"注：联系人王工，手机 {MOBILE[:3]} {MOBILE[3:7]} {MOBILE[7:]}，"
                                f"身份证 {PERSON_ID[:6]}-{PERSON_ID[6:14]}-{PERSON_ID[14:]}。")

    _rewrite_workbook(budget / f"{KNOWN_DEPT}2018年部门预算.xlsx", unknown, {KNOWN_DEPT: UNKNOWN_PUBLISHER}, hostile_cells)

    # 2. the same table twice in one workbook: same figures (one workbook), different figures (another)
    identical = budget / f"{KNOWN_DEPT}2018年部门预算.xlsx"
    _rewrite_workbook(identical, identical, {},
                      lambda wb: wb.copy_worksheet(_find_sheet(wb, "部门支出总表")))
    conflicting = budget / "宁夏回族自治区教育厅2018年部门预算.xlsx"

    def twice_different(wb) -> None:
        copy = wb.copy_worksheet(_find_sheet(wb, "部门支出总表"))
        for row in copy.iter_rows(min_row=5):
            for cell in row[2:]:
                if isinstance(cell.value, str) and cell.value[:1].isdigit():
                    cell.value = "1,234.00"  # a second, different version of the figures
                    return

    _rewrite_workbook(conflicting, conflicting, {}, twice_different)

    # 3. a trading export written by a careless hand
    trading = root / "trading" / "hostile_export.csv"
    with (root / "trading" / "2017-2019_交易信息_导出.csv").open(encoding="utf-8-sig", newline="") as fh:
        header = next(csv.reader(fh))
    base = {h: "" for h in header}
    deal = {"PROJECT_CODE": "HX2018-0001", "TENDER_PROJECT_CODE": "HX2018-0001", "BID_SECTION_CODE": "HX2018-0001-001",
            "TRADE_AREA": "政府采购", "REGION_CODE": "640100", "TENDERER_NAME": KNOWN_DEPT,
            "TENDERER_CODE": "116401001948605505", "BUDGET_AMOUNT": "500000"}
    rows = [
        dict(base, **deal, BULLETIN_TYPE="交易公告", NOTICE_NAME="银川市教育局2018年设备采购公开招标公告",
             NOTICE_SEND_TIME="", DOC_GET_START_TIME="2018-05-02 09:00:00", DOC_GET_END_TIME="2018-05-10 17:00:00",
             BID_DOC_REFER_END_TIME="2018-05-25 09:30:00", BID_OPEN_TIME="2018-05-25 09:30:00",
             NOTICE_CONTENT=f"联系人：王工；联系电话：+86-{MOBILE[:3]}-{MOBILE[3:7]}-{MOBILE[7:]}"),
        dict(base, **deal, BULLETIN_TYPE="中标结果公告", NOTICE_NAME=FORMULAS[0], NOTICE_SEND_TIME="2018-06-01 10:00:00",
             WIN_BIDDER_NAME=FORMULAS[2], WIN_BIDDER_CODE="91640100MA76123451", BID_AMOUNT="480000", BIDDER_COUNT="4",
             PM_NAME=f"王工 {fullwidth(OTHER_MOBILE)}", PM_CODE=PERSON_ID, CONTACT_PHONE=fullwidth(MOBILE),
             NOTICE_CONTENT=(f"项目负责人身份证号：{PERSON_ID[:6]} {PERSON_ID[6:14]} {PERSON_ID[14:]}；"
                             f"收款账号 {' '.join(CARD[i:i + 4] for i in range(0, len(CARD), 4))}；"
                             f"另一联系人 0086 {OTHER_MOBILE}；证件 {fullwidth(OTHER_ID)}")),
        dict(base, PROJECT_CODE="HX2018-0002", BID_SECTION_CODE="HX2018-0002-001", BULLETIN_TYPE="竞价公告",
             TRADE_AREA="碳排放权交易", NOTICE_NAME=FORMULAS[3], NOTICE_SEND_TIME="2018-07-01 09:00:00",
             REGION_CODE="640100", TENDERER_NAME=UNKNOWN_BUYER, TENDERER_CODE="", BUDGET_AMOUNT="100000",
             NOTICE_CONTENT=FORMULAS[4]),
        dict(base, PROJECT_CODE="HX2018-0003", BID_SECTION_CODE="HX2018-0003-001", BULLETIN_TYPE="竞价公告",
             TRADE_AREA="碳排放权交易", NOTICE_NAME="\x0b" + FORMULAS[1], NOTICE_SEND_TIME="2018-07-02 09:00:00",
             REGION_CODE="640100", TENDERER_NAME=CONTROL_BUYER, TENDERER_CODE="", BUDGET_AMOUNT="100000"),
    ]
    with trading.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=header)
        writer.writeheader()
        writer.writerows(rows)

    # 3b. the platform's "export to Excel" as web systems write it (an HTML table named .xls), and Excel's "Unicode
    # text" (UTF-16, tab-separated): personal numbers in both, which no public file may carry
    from openpyxl import Workbook

    from dagster_project.sample.formats import save_html_xls

    more = dict(base, PROJECT_CODE="HX2018-0004", BID_SECTION_CODE="HX2018-0004-001", BULLETIN_TYPE="交易公告",
                TRADE_AREA="政府采购", NOTICE_NAME="银川市教育局2018年课桌椅采购公告", NOTICE_SEND_TIME="2018-08-01 09:00:00",
                REGION_CODE="640100", TENDERER_NAME=KNOWN_DEPT, TENDERER_CODE="116401001948605505",
                NOTICE_CONTENT=f"联系人 王工 {OTHER_MOBILE}；身份证号 {OTHER_ID}")
    web = Workbook()
    web.active.append(["公共资源交易信息导出"])
    web.active.append(header)
    web.active.append([more[h] for h in header])
    save_html_xls(web, root / "trading" / "hostile_web_export.xls")
    unicode_text = dict(more, PROJECT_CODE="HX2018-0005", BID_SECTION_CODE="HX2018-0005-001",
                        NOTICE_CONTENT=f"项目负责人 {PERSON_ID}，电话 {MOBILE}")
    lines = ["\t".join(header), "\t".join(unicode_text[h] for h in header)]
    (root / "trading" / "hostile_unicode_text.txt").write_bytes("\ufeff".encode("utf-16-le")
                                                                + "\r\n".join(lines).encode("utf-16-le"))

    # 4. a portal title with formula text and a mobile
    portal = root / "portal" / "publications_hostile.csv"
    with (root / "portal" / "publications_budget.csv").open(encoding="utf-8-sig", newline="") as fh:
        portal_header = next(csv.reader(fh))
    with portal.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=portal_header)
        writer.writeheader()
        writer.writerow({"publisher_code": "116401001948605505", "publisher_name": KNOWN_DEPT, "column": "预决算公开",
                         "title": f"{FORMULAS[0]} 咨询 {MOBILE[:3]}-{MOBILE[3:7]}-{MOBILE[7:]}",
                         "published_at": "2018-03-20 10:00:00", "url": "http://www.nx.gov.cn/zwgk/budget/2018/x.html",
                         "attachment": "不存在的附件.xlsx"})
        # a row without a publisher code, for the workbook of the publisher the registry does not know
        writer.writerow({"publisher_code": "", "publisher_name": UNKNOWN_PUBLISHER, "column": "预决算公开",
                         "title": f"{UNKNOWN_PUBLISHER}部门预算公开", "published_at": "2018-03-25 10:00:00",
                         "url": "http://www.nx.gov.cn/zwgk/budget/2018/y.html", "attachment": unknown.name})

    # 5. links and special files
    outside.mkdir(parents=True, exist_ok=True)
    secret = outside / "secret.csv"
    secret.write_text(f"{SECRET},PROJECT_CODE\nx,y\n", encoding="utf-8")
    link = root / "trading" / "outside_link.csv"
    os.symlink(secret, link)
    dangling = root / "portal" / "dangling.csv"
    os.symlink(outside / "no_such_file.csv", dangling)
    fifo = None
    if hasattr(os, "mkfifo"):
        fifo_path = root / "registry" / "named_pipe.csv"
        os.mkfifo(fifo_path)
        fifo = fifo_path.relative_to(root).as_posix()

    return Hostile(
        root=root, outside=outside,
        unknown_workbook=unknown.relative_to(root).as_posix(),
        identical_twice=identical.relative_to(root).as_posix(),
        conflicting_twice=conflicting.relative_to(root).as_posix(),
        twice_table="部门支出总表",
        trading_file=trading.relative_to(root).as_posix(),
        # bulletin_key carries the closed type code (CONTRACTS §2.2): 交易公告 → announcement
        dateless_bulletin_key="HX2018-0001/HX2018-0001-001|announcement||",
        link_outside=link.relative_to(root).as_posix(),
        dangling_link=dangling.relative_to(root).as_posix(),
        fifo=fifo,
    )
