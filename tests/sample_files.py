"""Readers of a generated sample's files, shared by the sample generator's tests (test_sample_files.py,
test_sample_generator.py): the disclosure workbooks, .xls and PDFs read into worksheet-like Sheets, the trading
exports decoded as a reader would, the ground truth, the session fixture that generates a fresh sample with the
documented call (test_sample_generator compares it with the committed ``data/raw``) and the module fixture that reads
the committed root."""
from __future__ import annotations

import csv
import datetime as dt
import functools
import io
import json
import re
import zipfile
from decimal import Decimal
from pathlib import Path

import logging

import openpyxl
import pytest

from dagster_project.sample.__main__ import main as sample_main

REPO = Path(__file__).resolve().parents[1]
logging.getLogger("pdfminer").setLevel(logging.ERROR)   # a FontBBox warning per glyph run of Noto CJK PDFs
COMMITTED = REPO / "data" / "raw"
DOCUMENTED_ARGS = ["--seed", "20181", "--scale", "1", "--years", "2017-2019"]
CATALOGUE = list(csv.DictReader((REPO / "dbt/seeds/ref_disclosure_catalogue.csv").open(encoding="utf-8")))
TABLE_NAMES = sorted({r["table_name_zh"] for r in CATALOGUE if r["book"] != "explanation"}, key=len, reverse=True)
# other wordings of the catalogue's names (the Ministry template's): data the project keeps, read here as a reader would
ALIASES = {r["alias"]: r["table_name_zh"] for r in
           csv.DictReader((REPO / "dbt/seeds/ingest/ref_table_name_aliases.csv").open(encoding="utf-8"))}
# words a heading of each required explanation carries (this test's own reading of DOMAIN.md 2.2)
EXPLANATION_WORDS = {"部门主要职能": "职能", "机构设置": "机构设置", "名词解释": "名词解释", "预算编制说明": "预算编制说明",
                     "决算编制说明": "决算总体情况说明", "机关运行经费情况说明": "机关运行经费", "政府采购情况说明": "政府采购",
                     "国有资产占用情况说明": "国有资产占用", "绩效目标情况说明": "绩效目标", "“三公”经费情况说明": "三公",
                     "项目经费情况说明": "项目经费"}
RADICALS = str.maketrans({"\u2ed4": "门", "\u2ecb": "车", "\u2ec5": "见", "\u2ec9": "贝", "\u2ed3": "长", "\u2eda": "页",
                          "\u2ee2": "马", "\u2ec8": "讠", "\u2ed0": "钅", "\u2eb0": "纟", "\u2ee0": "饣", "\u2ea0": "民"})


# ---------------------------------------------------------------------------------------------- readers


def table_of(title: str | None) -> str | None:
    if not title:
        return None
    t = title.replace("“", "").replace("”", "").replace('"', "")
    names = [(n, n) for n in TABLE_NAMES] + list(ALIASES.items())
    for name, canonical in sorted(names, key=lambda x: -len(x[0])):
        if name.replace("“", "").replace("”", "") in t:
            return canonical
    return None


def pdf_text(page) -> str:
    """A PDF page's text as a reader sees it (radical code points folded)."""
    import unicodedata

    return unicodedata.normalize("NFKC", page.extract_text() or "").translate(RADICALS)


def pdf_sheets(path: Path) -> tuple[list, str]:
    """The tables of a printed disclosure, one worksheet-like Sheet per table (title line, publisher/unit line,
    then the ruled rows of every page it runs over; a header repeated on a continuation page is dropped), and
    the text of its pages."""
    import unicodedata

    import pdfplumber

    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    out, ws, header, text = [], None, [], []
    with pdfplumber.open(path) as pdf:
        for page in pdf.pages:
            lines = pdf_text(page).splitlines()
            text += lines
            tables = page.extract_tables()
            titles = [ln for ln in lines if table_of(ln) and len(ln) < 40]
            if not tables:
                continue
            fold = lambda c: None if c is None else unicodedata.normalize("NFKC", c).translate(RADICALS).replace("\n", "")  # noqa: E731
            rows = [[fold(c) for c in r] for r in tables[0]]
            if titles:
                ws = wb.create_sheet(f"p{page.page_number}")
                unit = next((ln for ln in lines if "单位" in ln), "")
                ws.append([titles[0]])
                ws.append([unit])
                first_data = next(i for i, r in enumerate(rows) if any(c and re.fullmatch(r"[\d,.\-]+", c) for c in r))
                header = rows[:first_data]
                out.append(ws)
            elif ws is not None:
                rows = [r for r in rows if r not in header]
            for r in rows:
                ws.append(r)
            for ln in lines:
                if ln.startswith(("注：", "注:")):   # NFKC made its colon half-width
                    ws.append(["注：" + ln[2:]])
    return [Sheet(w) for w in out], "\n".join(text)


def xls_sheets(path: Path) -> list:
    """An .xls read with xlrd into worksheet-like Sheets (values and merged ranges as written)."""
    import xlrd

    book = xlrd.open_workbook(str(path), formatting_info=True)
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for sh in book.sheets():
        ws = wb.create_sheet(sh.name)
        for r in range(sh.nrows):
            for c in range(sh.ncols):
                v = sh.cell_value(r, c)
                if v != "":
                    ws.cell(r + 1, c + 1, v)
        for r0, r1, c0, c1 in sh.merged_cells:
            ws.merge_cells(start_row=r0 + 1, end_row=r1, start_column=c0 + 1, end_column=c1)
    return [Sheet(w) for w in wb.worksheets]


def amount(v) -> Decimal | None:
    """Amount cell → Decimal (blank and '-' are 0); None if not an amount."""
    if v is None or v == "-" or v == "":
        return Decimal(0)
    if isinstance(v, (int, float)):
        return Decimal(str(v))
    s = str(v).replace(",", "")
    return Decimal(s) if re.fullmatch(r"-?\d+(\.\d+)?", s) else None


class Sheet:
    def __init__(self, ws):
        self.ws = ws
        self.rows = [list(r) for r in ws.iter_rows(values_only=True)]
        self.title = self.rows[0][0] if self.rows else None
        self.table = table_of(self.title)
        self.header = []
        self.data: list[list] = []
        self.notes = [r[0] for r in self.rows if isinstance(r[0], str) and r[0].startswith("注：")]
        start = None
        totals = ("合计", "总计", "收入总计", "本年收入合计", "本地区")
        for i, r in enumerate(self.rows[2:], 2):
            numeric = [c for c in r if isinstance(c, (int, float))
                       or (isinstance(c, str) and re.fullmatch(r"[\d,.\-]+", c.strip()))]
            words = [c for c in r if isinstance(c, str) and c not in numeric]
            # a data row has amounts/codes; an empty table's total row has only its label
            if numeric or (len(words) == 1 and words[0].strip() in totals):
                start = i
                break
        if start is not None:
            self.header = self.rows[2:start]
            self.data = [r for r in self.rows[start:] if not (isinstance(r[0], str) and r[0].startswith("注："))]
        self.leaves = [h for h in (self.header[-1] if self.header else [])]

    def col(self, label: str) -> int | None:
        for hr in reversed(self.header):
            for i, h in enumerate(hr):
                if h == label:
                    return i
        return None

    def coded_rows(self) -> tuple[list[tuple[str, list]], list | None]:
        """(code, row) for coded rows; and the total row."""
        split = self.col("类") is not None
        out, total = [], None
        for r in self.data:
            if split:
                code = "".join(str(c or "") for c in r[0:3])
            else:
                code = str(r[0] or "")
            if re.fullmatch(r"\d{3}|\d{5}|\d{7}", code):
                out.append((code, r))
            elif any(isinstance(c, str) and c.strip() in ("合计", "总计") for c in r):
                total = r
        return out, total

    def amount_cols(self) -> list[int]:
        first = 4 if self.col("类") is not None else 2
        return list(range(first, len(self.leaves)))

    def is_empty(self) -> bool:
        label_cols = 4 if self.col("类") is not None else 1
        for r in self.data:
            if any(isinstance(c, str) and c.strip() in ("合计", "总计", "本年收入合计", "收入总计", "支出总计") for c in r):
                continue
            if any((amount(c) or 0) != 0 for c in r[label_cols:] if not isinstance(c, str) or amount(c) is not None):
                return False
        return True


class RawRoot:
    def __init__(self, root: Path):
        self.root = root
        self.truth = json.loads((root / "ground_truth.json").read_text(encoding="utf-8"))
        self.portal = []
        for p in sorted((root / "portal").glob("publications*.csv")):
            self.portal += list(csv.DictReader(p.open(encoding="utf-8")))
        self.approvals = {(r["region_code"], int(r["fiscal_year"]), r["document"]): dt.date.fromisoformat(r["approved_on"])
                          for r in csv.DictReader((root / "registry/approvals.csv").open(encoding="utf-8"))}
        self.entities = {}
        for p in sorted((root / "registry").glob("entities_*.csv")):
            y = int(p.stem.split("_")[1])
            for r in csv.DictReader(p.open(encoding="utf-8")):
                self.entities[(r["entity_code"], y)] = r
        self.regions = list(csv.DictReader((root / "registry/regions.csv").open(encoding="utf-8")))
        self.bulletins = read_trading(root)

    @functools.cached_property
    def _disclosures(self) -> tuple[dict[str, list[Sheet] | None], dict[str, str]]:
        """The budget and debt files read into Sheets and running texts, on first use: the trading modules never
        ask, and reading every workbook and PDF of the sample is most of a module's setup."""
        books: dict[str, list[Sheet] | None] = {}
        texts: dict[str, str] = {}   # a disclosure's running text: its 说明 sheet, or its PDF pages
        for p in sorted(x for family in ("budget", "debt") for x in (self.root / family).rglob("*") if x.is_file()):
            rel = p.relative_to(self.root).as_posix()
            if p.suffix == ".pdf":
                if not p.exists():
                    continue
                books[rel], texts[rel] = pdf_sheets(p)
                continue
            if p.suffix == ".xls":
                books[rel] = xls_sheets(p)
            elif not zipfile.is_zipfile(p):
                books[rel] = None
                continue
            else:
                books[rel] = [Sheet(ws) for ws in openpyxl.load_workbook(p).worksheets]
            texts[rel] = "\n".join(str(r[0]) for sh in books[rel] if sh.table is None for r in sh.rows
                                    if r and r[0])
        return books, texts

    @property
    def books(self) -> dict[str, list[Sheet] | None]:
        return self._disclosures[0]

    @property
    def texts(self) -> dict[str, str]:
        return self._disclosures[1]

    def book_by_name(self, name: str) -> tuple[str, list[Sheet] | None]:
        return next((rel, s) for rel, s in self.books.items() if rel.endswith("/" + name))

    def sheets_of(self, publisher: str, year: int):
        """(portal row, rel, sheet) for readable sheets of the publisher's published workbooks of a year."""
        for p in self.portal:
            if p["publisher_code"] != publisher:
                continue
            rel, sheets = self.book_by_name(p["attachment"])
            for s in sheets or []:
                if s.title and f"{year}年" in s.title:
                    yield p, rel, s


def decode_export(raw: bytes) -> str:
    """An export's text: UTF-8 (BOM or not) when all of it is; else line by line, UTF-8 where a line is,
    GBK/GB18030 otherwise (a GBK export can carry lines another tool appended in UTF-8)."""
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    out = []
    for line in raw.split(b"\n"):
        try:
            out.append(line.decode("utf-8"))
        except UnicodeDecodeError:
            out.append(line.decode("gb18030"))
    return "\n".join(out)


def flat_exports(root: Path) -> list[Path]:
    """The multi-kind exports (national names or Chinese labels); not the national-standard tables
    (trading/national_standard/) nor the platform's search response, which are read by their own tests."""
    return [p for p in sorted((root / "trading").rglob("*"))
            if p.is_file() and "national_standard" not in p.parts and p.name != "ggzy_search_api.json"]


def read_trading(root: Path) -> list[dict]:
    from dagster_project.sample.trading import CHINESE

    back = {v: k for k, v in CHINESE.items()}
    back.update({"预算金额(万元)": "BUDGET_AMOUNT", "中标金额(万元)": "BID_AMOUNT"})
    rows = []
    for p in flat_exports(root):
        raw = p.read_bytes()
        if p.suffix == ".csv":
            recs = list(csv.DictReader(io.StringIO(decode_export(raw))))
        elif p.suffix == ".jsonl":
            recs = [json_or_none(line) for line in raw.decode("utf-8").splitlines() if line.strip()]
            recs = [r for r in recs if r is not None]   # the planted malformed line (its own test)
        else:
            obj = json.loads(raw.decode("utf-8"))
            recs = obj["data"] if isinstance(obj, dict) else obj
        for i, r in enumerate(recs):
            wan = {k for k in r if k.endswith("(万元)")} or ({"BUDGET_AMOUNT", "BID_AMOUNT"} if r.get("AMOUNT_UNIT") == "万元" else set())
            out = {"_file": p.relative_to(root).as_posix(), "_row": i + 2}
            for k, v in r.items():
                key = back.get(k, k)
                if key in ("BUDGET_AMOUNT", "BID_AMOUNT") and v not in (None, ""):
                    v = Decimal(str(v)) * (10000 if (k in wan or "BUDGET_AMOUNT" in wan and key in wan) else 1)
                    if k.endswith("(万元)") or r.get("AMOUNT_UNIT") == "万元":
                        v = Decimal(str(r[k])) * 10000
                out[key] = v
            out["_date"] = {f: parse_time(out.get(f)) for f in
                            ("NOTICE_SEND_TIME", "DOC_GET_START_TIME", "DOC_GET_END_TIME", "BID_DOC_REFER_END_TIME",
                             "BID_OPEN_TIME", "PUBLICITY_START_TIME", "PUBLICITY_END_TIME", "CONTRACT_SIGN_TIME")}
            rows.append(out)
    return rows


def json_or_none(line: str):
    try:
        return json.loads(line)
    except ValueError:
        return None


def parse_time(v) -> dt.date | None:
    if v in (None, ""):
        return None
    if isinstance(v, (int, float)):
        return dt.date(1899, 12, 30) + dt.timedelta(days=int(v))
    s = str(v)
    for fmt in ("%Y-%m-%d %H:%M:%S", "%Y/%m/%d %H:%M", "%Y年%m月%d日", "%Y%m%d"):
        try:
            return dt.datetime.strptime(s, fmt).date()
        except ValueError:
            pass
    raise AssertionError(f"unparseable time {s!r}")


def is_utf8(line: bytes) -> bool:
    try:
        line.decode("utf-8")
        return True
    except UnicodeDecodeError:
        return False


def read_raw_records(path: Path) -> list[dict]:
    raw = path.read_bytes()
    if path.suffix == ".csv":
        return list(csv.DictReader(io.StringIO(decode_export(raw))))
    if path.suffix == ".jsonl":
        return [r for r in (json_or_none(x) for x in raw.decode().splitlines() if x.strip()) if r is not None]
    obj = json.loads(raw)
    return obj["data"] if isinstance(obj, dict) else obj


# ---------------------------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="session")  # generated once, read only by every module that asks
def fresh_dir(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("fresh") / "raw"
    assert sample_main(DOCUMENTED_ARGS + ["--out", str(out)]) == 0
    return out


@pytest.fixture(scope="module")
def raw() -> RawRoot:
    """The committed ``data/raw``. Not a fresh generation as well: test_sample_generator proves the committed root is
    the documented call's output file by file (PDFs too where Chromium prints them), so every assertion on it holds
    for a fresh generation — reading both read and asserted every file twice (≈ 8 CPU-s a module)."""
    if not (COMMITTED / "ground_truth.json").exists():
        pytest.fail(f"{COMMITTED} has no ground truth: regenerate data/raw with the documented call")
    return RawRoot(COMMITTED)
