"""The sample generator's files, asserted from the files (not from generator internals), of the
committed ``data/raw`` (the documented call's output, file by file: test_sample_generator): every layout variant and planted defect
is present, duplicated exports, rejected cells, disclosure statuses and findings, narrative, reconciliation
and trading findings are where the ground truth says, and the clean parts are really clean."""
from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
import zipfile
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest

from sample_files import (CATALOGUE, EXPLANATION_WORDS, REPO, RawRoot, Sheet, amount, decode_export,  # noqa: F401
                          is_utf8, json_or_none, raw, read_raw_records)

REQUIRED_VARIANTS = [
    "merged_title", "sheet_name_table_n", "sheet_name_numbered", "sheet_name_sheet1", "sheet_name_table_name",
    "publisher_line_department", "publisher_line_compiler", "header_rows_1", "header_rows_2", "header_rows_3",
    "code_single_column", "code_split_column", "indent_spaces", "indent_fullwidth", "amount_number", "amount_text",
    "zero_as_blank", "zero_as_dash", "total_合计", "total_总计", "total_本年收入合计", "total_收入总计", "total_支出总计",
    "footnotes", "two_sided_summary", "multi_kind_workbook", "unknown_sheet", "corrupt_workbook",
    "trading_national_names", "trading_chinese_labels", "amount_header_unit_wan", "amount_unit_column",
    "time_iso", "time_slash", "time_chinese_date", "time_compact", "time_excel_serial",
    "utf8_csv", "utf8_bom_csv", "gbk_csv", "json_array", "json_data_object", "jsonl", "duplicated_export",
    "portal_publications", "empty_table_note",
    "quoted_line_breaks", "gbk_with_utf8_lines", "jsonl_malformed_line", "national_standard_tables",
    "plural_section_codes", "price_unit_codes", "platform_search_api", "amount_with_unit_text",
]
REQUIRED_UNITS = ["单位：万元", "单位:元", "金额单位：万元", "千元", "亿元"]


# ---------------------------------------------------------------------------------------------- layout variants


def test_every_required_variant_is_recorded(raw):
    missing = [v for v in REQUIRED_VARIANTS if not raw.truth["variants"].get(v)]
    assert not missing, f"variants without files: {missing}"


def _all_cells(sheets):
    for s in sheets:
        for r in s.rows:
            yield from r


def test_workbook_variants_are_in_the_files(raw):
    v = raw.truth["variants"]

    def sheets(key):
        out = []
        for rel in v[key]:
            assert rel in raw.books, rel
            out += raw.books[rel] or []
        return out

    assert any(any(str(m).startswith("A1:") for m in s.ws.merged_cells.ranges) for s in sheets("merged_title"))
    assert any(re.fullmatch(r"表\d+", s.ws.title) for s in sheets("sheet_name_table_n"))
    assert any(re.fullmatch(r"\d+-.+表", s.ws.title) for s in sheets("sheet_name_numbered"))
    assert any(re.fullmatch(r"Sheet\d+", s.ws.title) for s in sheets("sheet_name_sheet1"))
    assert any(s.ws.title == s.table for s in sheets("sheet_name_table_name"))
    assert any(str(s.rows[1][0]).startswith("部门：") for s in sheets("publisher_line_department"))
    assert any(str(s.rows[1][0]).startswith("编制单位：") for s in sheets("publisher_line_compiler"))
    all_sheets = [s for b in raw.books.values() for s in (b or [])]
    unit_cells = {str(c) for s in all_sheets for c in s.rows[1] if c and "单位" in str(c)}
    for unit in REQUIRED_UNITS:
        assert any(unit in c for c in unit_cells), unit
    assert any(":" in c for c in unit_cells) and any("：" in c for c in unit_cells)
    assert any(s.col("类") is not None and s.col("款") is not None and s.col("项") is not None
               for s in sheets("code_split_column"))
    assert any(s.col("科目编码") is not None and any(re.fullmatch(r"\d{7}", str(r[0])) for r in s.data)
               for s in sheets("code_single_column"))
    assert any(isinstance(c, str) and c.startswith("　") for c in _all_cells(sheets("indent_fullwidth")))
    assert any(isinstance(c, str) and re.match(r"  \S", c) for c in _all_cells(sheets("indent_spaces")))
    assert any(isinstance(c, str) and re.fullmatch(r"\d{1,3}(,\d{3})+\.\d\d", c) for c in _all_cells(sheets("amount_text")))
    assert any(isinstance(c, float) for c in _all_cells(sheets("amount_number")))
    assert "-" in set(_all_cells(sheets("zero_as_dash")))
    for label in ("合计", "总计", "本年收入合计", "收入总计", "支出总计"):
        assert label in {c.strip() for c in _all_cells(sheets(f"total_{label}")) if isinstance(c, str)}, label
    assert any(s.notes for s in sheets("footnotes"))
    assert any(any("收入总计" in r and "支出总计" in r for r in s.data) for s in sheets("two_sided_summary"))
    # header depth: a 3-row header shows as a vertical merge over rows 3..5
    assert any(any(re.fullmatch(r"[A-Z]+3:[A-Z]+5", str(m)) for m in s.ws.merged_cells.ranges) for s in sheets("header_rows_3"))
    assert any(s.rows[2][0] in ("科目编码", "类", "项目", "单位名称", "地区") and s.table for s in sheets("header_rows_1"))
    for rel in v["multi_kind_workbook"]:
        names = {s.table for s in raw.books[rel]}
        assert any(n.startswith("地方政府") for n in names) and any(n.startswith("一般公共预算") for n in names)
    assert any(s.table is None for s in sheets("unknown_sheet"))
    assert all(raw.books[rel] is None and not zipfile.is_zipfile(raw.root / rel) for rel in v["corrupt_workbook"])


def test_trading_variants_are_in_the_files(raw):
    v = raw.truth["variants"]
    root = raw.root

    def data(rel):
        return (root / rel).read_bytes()

    for rel in v["gbk_csv"]:
        with pytest.raises(UnicodeDecodeError):
            data(rel).decode("utf-8")
        assert "公告" in decode_export(data(rel))
    for rel in v["gbk_with_utf8_lines"]:   # some lines with Chinese are UTF-8, most are not
        lines = [ln for ln in data(rel).split(b"\n") if not ln.isascii()]
        utf8 = [ln for ln in lines if is_utf8(ln)]
        assert 0 < len(utf8) < len(lines) / 4
    for rel in v["quoted_line_breaks"]:
        assert any("\n" in value for r in read_raw_records(root / rel) for value in r.values() if isinstance(value, str))
    malformed = {(r["source_file"], r["source_row"]) for r in raw.truth["ingest"]["rejected_rows"]}
    for rel in v["jsonl_malformed_line"]:
        lines = data(rel).decode().split("\n")
        bad = [i + 1 for i, line in enumerate(lines) if line.strip() and json_or_none(line) is None]
        assert bad and {(rel, n) for n in bad} <= malformed
    for rel in v["platform_search_api"]:
        body = json.loads(data(rel))
        assert body["code"] == 200 and len(body["data"]["records"]) == body["data"]["total"] > 0
        assert all({"title", "publishTime", "informationType", "businessType", "tenderProjectCode"} <= set(r)
                   for r in body["data"]["records"])
    for rel in v["amount_with_unit_text"]:
        amounts = [r[k] for r in json.loads(data(rel))["data"]["records"] for k in r if k.endswith("Amount")]
        assert any("元" in a for a in amounts) and any("人民币" in a for a in amounts)
    standard = {}
    for r in csv.DictReader((REPO / "dbt/seeds/ingest/ref_ggzy_v3_fields.csv").open(encoding="utf-8")):
        standard.setdefault(r["table_name"], []).append(r["field"])
    for rel in v["national_standard_tables"]:   # every field of one table of the standard, nothing else
        header = next(csv.reader(io.StringIO(data(rel).decode("utf-8"))))
        assert header in standard.values(), rel
    for rel in v["plural_section_codes"]:
        assert any(";" in (r.get("BID_SECTION_CODES") or "") for r in read_raw_records(root / rel))
    for rel in v["price_unit_codes"]:
        assert any(r.get("PRICE_UNIT") == "1" for r in read_raw_records(root / rel))
    assert all(data(rel).startswith(b"\xef\xbb\xbf") for rel in v["utf8_bom_csv"])
    assert all(not data(rel).startswith(b"\xef\xbb\xbf") and data(rel).decode("utf-8") for rel in v["utf8_csv"])
    assert all(isinstance(json.loads(data(rel)), list) for rel in v["json_array"])
    assert all(isinstance(json.loads(data(rel)).get("data"), list) for rel in v["json_data_object"])
    for rel in v["jsonl"]:   # every line an object, but the planted malformed ones
        for n, line in enumerate(data(rel).decode().split("\n"), start=1):
            if line.strip() and (rel, n) not in malformed:
                assert isinstance(json.loads(line), dict), (rel, n)
    headers = {rel: set(next(iter(read_raw_records(root / rel)))) for rel in
               v["trading_chinese_labels"] + v["trading_national_names"] + v["amount_header_unit_wan"] + v["amount_unit_column"]}
    assert all("项目编号" in headers[rel] for rel in v["trading_chinese_labels"])
    assert all("PROJECT_CODE" in headers[rel] for rel in v["trading_national_names"])
    assert all("中标金额(万元)" in headers[rel] for rel in v["amount_header_unit_wan"])
    assert all("AMOUNT_UNIT" in headers[rel] for rel in v["amount_unit_column"])
    patterns = {"time_iso": r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d", "time_slash": r"\d{4}/\d{1,2}/\d{1,2} \d{1,2}:\d\d",
                "time_chinese_date": r"\d{4}年\d{1,2}月\d{1,2}日", "time_compact": r"\d{8}", "time_excel_serial": None}
    for key, pat in patterns.items():
        for rel in v[key]:
            times = [r.get("NOTICE_SEND_TIME", r.get("发布时间")) for r in read_raw_records(root / rel)]
            if pat is None:
                assert all(isinstance(t, (int, float)) and 36000 < t < 50000 for t in times), rel
            else:
                assert all(re.fullmatch(pat, str(t)) for t in times), (rel, times[:3])
    assert any("；" in str(r.get("WIN_CANDIDATE_NAME", r.get("中标候选人")) or "")
               for rel in v["candidates_in_one_row"] for r in read_raw_records(root / rel))


# national-standard field → the flat export's field it copies, per table (times yyyyMMddHHmmss, amounts
# with their PRICE_UNIT code); the standard's copies must state what the flat export states
STANDARD_COPIES = {
    "TENDER_ANN_QUA_INQUERY_ANN": {"NOTICE_NAME": "NOTICE_NAME", "NOTICE_CONTENT": "NOTICE_CONTENT",
                                   "NOTICE_SEND_TIME": "NOTICE_SEND_TIME", "DOC_GET_START_TIME": "DOC_GET_START_TIME",
                                   "DOC_GET_END_TIME": "DOC_GET_END_TIME", "BID_OPEN_TIME": "BID_OPEN_TIME",
                                   "BID_DOC_REFER_END_TIME": "BID_DOC_REFER_END_TIME", "TENDERER_CODE": "TENDERER_CODE",
                                   "TENDERER_PHONE_NUMBER": "CONTACT_PHONE", "URL": "URL"},
    "TENDER_CANDIDATE_ANNOUNCE": {"PUBLICITY_NAME": "NOTICE_NAME", "PUBLICITY_START_TIME": "NOTICE_SEND_TIME",
                                  "PUBLICITY_END_TIME": "PUBLICITY_END_TIME", "PUBLICITY_CONTENT": "NOTICE_CONTENT"},
    "WIN_RESULT_ANNO": {"NOTICE_NAME": "NOTICE_NAME", "NOTICE_SEND_TIME": "NOTICE_SEND_TIME",
                        "WIN_BIDDER_CODE": "WIN_BIDDER_CODE", "BID_AMOUNT": "BID_AMOUNT", "REGION_CODE": "REGION_CODE"},
    "CONTRACT_PERFORMANCE": {"CONTRACT_NAME": "NOTICE_NAME", "SUBMIT_TIME": "NOTICE_SEND_TIME",
                             "CONTRACT_SIGN_TIME": "CONTRACT_SIGN_TIME", "CONTRACT_PRICE": "BID_AMOUNT",
                             "BIDDER_CODE": "WIN_BIDDER_CODE"},
    "PURCHASE_QUALI_INQUERY_ANN": {"BULLETIN_TITLE": "NOTICE_NAME", "BULLETIN_START_TIME": "NOTICE_SEND_TIME",
                                   "BID_CLOSING_TIME": "BID_DOC_REFER_END_TIME", "BULLETIN_CONTENT": "NOTICE_CONTENT"},
    "BID_DEAL_ANNOUNCE": {"WIN_BID_BULLETIN_TITLE": "NOTICE_NAME", "WIN_BID_BULLETIN_START_TIME": "NOTICE_SEND_TIME",
                          "WINNINGBIDDER_CODE": "WIN_BIDDER_CODE", "WIN_BID_PRICE": "BID_AMOUNT"},
}


def standard_value(field: str, record: dict):
    value = record[field]
    if field.endswith("_TIME"):
        return dt.datetime.strptime(value, "%Y%m%d%H%M%S")
    if field in ("BID_AMOUNT", "CONTRACT_PRICE", "WIN_BID_PRICE"):
        return Decimal(value) * (10000 if record.get("PRICE_UNIT") == "1" else 1)
    return value


def flat_value(field: str, record: dict):
    value = record[field]
    if field.endswith("_TIME"):
        return dt.datetime.strptime(value, "%Y-%m-%d %H:%M:%S")
    if field == "BID_AMOUNT":
        return Decimal(value)
    return value


def test_duplicated_exports_repeat_records(raw):
    """Every planted copy states what the copy it repeats states — but the planted conflicting field."""
    dups = raw.truth["ingest"]["duplicate_rows"]
    conflicts = {(c["source_file"], c["source_row"]): set(c["fields"]) for c in raw.truth["ingest"]["conflicting_copies"]}
    assert len(dups) >= 15 and conflicts
    records = {}

    def record(rel, row):
        if rel not in records:
            records[rel] = read_raw_records(raw.root / rel)
        return records[rel][row - 2]

    standard_copies = 0
    for d in dups:
        copy, original = record(d["source_file"], d["source_row"]), record(d["duplicate_of"], d["duplicate_row"])
        if "national_standard" in d["source_file"]:
            table = next(t for t in STANDARD_COPIES if d["source_file"].endswith(f"_{t}.csv"))
            for field, flat in STANDARD_COPIES[table].items():
                assert standard_value(field, copy) == flat_value(flat, original), (d, field)
            standard_copies += 1
            continue
        differing = {k for k in copy if copy[k] != original[k]}
        assert differing == conflicts.get((d["source_file"], d["source_row"]), set()), d
    assert standard_copies == 6
    assert {(c["source_file"], c["source_row"]) for c in raw.truth["ingest"]["conflicting_copies"]} <= \
        {(d["source_file"], d["source_row"]) for d in dups}


def test_rejected_cells_are_where_ground_truth_says(raw):
    rows = raw.truth["ingest"]["rejected_rows"]
    assert {r["raw_value"] for r in rows} >= {"待定", "#REF!"}
    for r in rows:
        if r["source_file"].startswith("trading/"):   # a JSON line cut short
            line = (raw.root / r["source_file"]).read_text(encoding="utf-8").split("\n")[r["source_row"] - 1]
            assert line == r["raw_value"] and json_or_none(line) is None
            continue
        ws = openpyxl.load_workbook(raw.root / r["source_file"])[r["sheet"]]
        assert ws[f"{r['source_column']}{r['source_row']}"].value == r["raw_value"]
    for f in raw.truth["ingest"]["rejected_files"]:
        assert not zipfile.is_zipfile(raw.root / f["source_file"])
        assert any(p["attachment"] == Path(f["source_file"]).name for p in raw.portal)


# ---------------------------------------------------------------------------------------------- disclosure


def expected_items(raw: RawRoot):
    """catalogue × registry, as CONTRACTS §7 defines it, with deadlines from the registry files."""
    years = sorted({y for _, y in raw.entities})
    for y in years:
        for r in raw.regions:
            for c in CATALOGUE:
                if c["publisher_kind"] == "government" and r["level"] in c["applies_to_levels"].split("|") \
                        and int(c["valid_from_year"]) <= y:
                    approved = raw.approvals.get((r["region_code"], y, c["document"]))
                    yield r["region_code"], y, c, approved + dt.timedelta(days=20) if approved else None
        for (code, ey), e in raw.entities.items():
            if ey != y:
                continue
            for c in CATALOGUE:
                if c["publisher_kind"] == "department" and e["entity_kind"] in c["applies_to_levels"].split("|") \
                        and int(c["valid_from_year"]) <= y:
                    reply = e["budget_approved_on" if c["document"] == "budget" else "final_approved_on"]
                    appr = raw.approvals.get((e["region_code"], y, c["document"]))
                    deadline = (dt.date.fromisoformat(reply) + dt.timedelta(days=20) if reply else
                                appr + dt.timedelta(days=40 if e["entity_kind"] == "department" else 55) if appr
                                else None)
                    yield code, y, c, deadline


def observed_statuses(raw: RawRoot) -> dict[tuple, str]:
    out = {}
    for pub, y, c, deadline in expected_items(raw):
        if c["book"] == "explanation":   # a required explanation: its heading in the disclosure's text
            texts = [(p, raw.texts.get(raw.book_by_name(p["attachment"])[0], "")) for p in raw.portal
                     if p["publisher_code"] == pub and f"{y}年" in p["title"]
                     and (c["document"] == "final") == ("决算" in p["title"])]
            present = [p for p, text in texts if EXPLANATION_WORDS[c["table_name_zh"]] in text.replace("“", "").replace("”", "")]
            if not present:
                status = "missing"
            elif dt.date.fromisoformat(present[0]["published_at"][:10]) > deadline:
                status = "late"
            else:
                status = "on_time"
            out[(pub, y, c["table_key"])] = status
            continue
        found = [(p, s) for p, _rel, s in raw.sheets_of(pub, y) if s.table == c["table_name_zh"]
                 and (c["document"] == "final") == ("决算" in p["title"])]
        if not found:
            status = "missing" if deadline else "missing_deadline_unknown"
        else:
            p, s = found[0]
            if deadline and dt.date.fromisoformat(p["published_at"][:10]) > deadline:
                status = "late"
            elif s.is_empty():
                status = "empty_with_note" if s.notes else "empty_without_note"
            else:
                status = "on_time"
        out[(pub, y, c["table_key"])] = status
    return out


def test_disclosure_statuses_match_the_files(raw):
    observed = observed_statuses(raw)
    truth = {(s["publisher_code"], s["fiscal_year"], s["table_key"]): s["status"] for s in raw.truth["disclosure_status"]}
    not_on_time = {k: v for k, v in observed.items() if v != "on_time"}
    assert not_on_time == truth
    statuses = set(truth.values())
    assert statuses == {"missing", "late", "empty_with_note", "empty_without_note", "missing_deadline_unknown"}
    # planted shapes: a department missing 2 tables of one year, a region missing 1 outside the corrupt workbook
    missing = [k for k, v in truth.items() if v == "missing"]
    by_pub = {}
    for pub, y, _ in missing:
        by_pub[(pub, y)] = by_pub.get((pub, y), 0) + 1
    assert 2 in by_pub.values() and 1 in by_pub.values()
    late = [k for k, v in truth.items() if v == "late"]
    assert len({(p, y) for p, y, _ in late}) == 1 and len(late) >= 9


def document_of(c: dict) -> str:
    """CONTRACTS §3: the document a table is published in (debt tables apart)."""
    return c["document"] + ("_debt" if c["book"] == "debt" else "")


def test_disclosure_findings_follow_statuses(raw):
    """One finding per status, except a document none of whose tables was published: one finding for it."""
    f = {(x["rule_id"], x["publisher_code"], x["fiscal_year"], x["object_key"]) for x in raw.truth["findings"]}
    rule = {"missing": "DISC_MISSING", "late": "DISC_LATE", "empty_without_note": "DISC_EMPTY_NO_NOTE",
            "missing_deadline_unknown": "DISC_MISSING_DEADLINE_UNKNOWN"}
    expected_per_document: dict[tuple, int] = {}
    for pub, y, c, _ in expected_items(raw):
        key = (pub, y, document_of(c))
        expected_per_document[key] = expected_per_document.get(key, 0) + 1
    by_key = {c["table_key"]: c for c in CATALOGUE}
    per_document: dict[tuple, list[str]] = {}
    for s in raw.truth["disclosure_status"]:
        if s["status"] in ("missing", "missing_deadline_unknown"):
            doc = document_of(by_key[s["table_key"]])
            per_document.setdefault((s["status"], s["publisher_code"], s["fiscal_year"], doc), []).append(s["table_key"])
    derived = {(rule[s["status"]], s["publisher_code"], s["fiscal_year"], s["table_key"])
               for s in raw.truth["disclosure_status"] if s["status"] in rule}
    wholes = 0
    for (status, pub, y, doc), keys in per_document.items():
        if len(keys) == expected_per_document[(pub, y, doc)]:
            derived -= {(rule[status], pub, y, k) for k in keys}
            derived.add((rule[status], pub, y, doc))
            wholes += 1
    assert wholes >= 1  # the unreadable workbook: nothing of that document published
    assert derived == {x for x in f if x[0] in rule.values()}
    unreadable = [x for x in f if x[0] == "DISC_ATTACHMENT_UNREADABLE"]
    assert len(unreadable) == 1
    _, pub, _, attachment = unreadable[0]
    assert raw.book_by_name(attachment)[1] is None
    assert any(p["attachment"] == attachment and p["publisher_code"] == pub for p in raw.portal)


def test_narrative_agrees_with_tables_except_where_planted(raw):
    """Every department disclosure states its income total (万元, two decimals) in its 编制说明: equal to its
    收支总表's 收入总计 within rounding, and names only its own year and the year before — except the planted
    ones (NARR_* in the ground truth). PDF and .xls publishers included."""
    planted = {(x["rule_id"], x["publisher_code"], x["fiscal_year"]) for x in raw.truth["findings"]
               if x["rule_id"] in ("NARR_TOTAL_MISMATCH", "NARR_YEAR_MISMATCH")}
    found, checked = set(), 0
    for p in raw.portal:
        rel, sheets = raw.book_by_name(p["attachment"])
        text = raw.texts.get(rel, "").replace(",", "")
        summary = next((s for s in sheets or [] if s.table in ("部门收支总表", "收入支出决算总表")), None)
        if summary is None or "收入" not in text:
            continue
        year = int(re.search(r"(\d{4})年", summary.title).group(1))
        unit = next(m.group(1) for c in summary.rows[1] if c
                    for m in [re.search(r"单位[:：]\s*(千元|万元|亿元|元)", str(c))] if m)
        mult = {"千元": 1000, "万元": 10000, "亿元": 10 ** 8, "元": 1}[unit]
        row = next(r for r in summary.data if "收入总计" in [str(x).strip() for x in r])
        table_total = amount(row[[str(x).strip() for x in row].index("收入总计") + 1])
        stated = Decimal(re.search(r"收入(?:预算|决算)总计([\d.]+)万元", text).group(1))
        if abs(stated * 10000 - table_total * mult) > 50:
            found.add(("NARR_TOTAL_MISMATCH", p["publisher_code"], year))
        notes = text[text.find("编制说明") if "编制说明" in text else text.find("决算总体情况说明"):][:200]
        if any(int(y) not in (year, year - 1) for y in re.findall(r"(\d{4})年", notes.split("二、")[0])):
            found.add(("NARR_YEAR_MISMATCH", p["publisher_code"], year))
        checked += 1
    assert found == planted
    assert checked >= 40 and {r for r, _, _ in planted} == {"NARR_TOTAL_MISMATCH", "NARR_YEAR_MISMATCH"}


def test_finals_explaining_sangong_without_its_counts_are_the_planted_ones(raw):
    """A final's 三公 explanation gives the counts (DOMAIN.md 2.2): the sample's finals explain the amounts only, so
    every final whose text has its 三公 explanation and no count (团组, 保有量, 接待…批次) is NARR_COUNT_MISSING."""
    planted = {(x["publisher_code"], x["fiscal_year"]) for x in raw.truth["findings"]
               if x["rule_id"] == "NARR_COUNT_MISSING"}
    found = set()
    for p in raw.portal:
        rel, sheets = raw.book_by_name(p["attachment"])
        summary = next((s for s in sheets or [] if s.table == "收入支出决算总表"), None)
        text = raw.texts.get(rel, "")
        if summary is None or "三公" not in text:
            continue
        if not re.search(r"团组|保有量|接待\d+批", text):
            found.add((p["publisher_code"], int(re.search(r"(\d{4})年", summary.title).group(1))))
    assert found == planted and len(found) >= 10


# ---------------------------------------------------------------------------------------------- reconciliation


def catalogue_row(table_name: str, publisher_code: str) -> dict:
    """Names shared by government and department tables resolve by the publisher's kind (region codes have 6 digits)."""
    kind = "government" if len(publisher_code) == 6 else "department"
    return next(c for c in CATALOGUE if c["table_name_zh"] == table_name and c["publisher_kind"] == kind)


def off(total, parts) -> bool:
    """Beyond rounding: half a unit of the table per figure compared (DOMAIN.md 2.2); figures in the table's unit."""
    return abs(total - sum(parts)) > Decimal("0.5") * (len(parts) + 1)


def sheet_problems(s: Sheet, publisher_code: str) -> set[str]:
    """Rules a clean sheet must pass, evaluated from its cells (CONTRACTS §7)."""
    problems = set()
    if s.table is None or not s.data:
        return problems
    if any(any(c in ("待定", "#REF!") for c in r) for r in s.data):
        return {"not_evaluable"}
    if "收支总表" in s.table or "决算总表" in s.table:
        row = next(r for r in s.data if "收入总计" in r)
        nums = [amount(c) for c in row if not isinstance(c, str) or amount(c) is not None]
        left, right = nums[0], nums[1]
        if left != right:
            problems.add("RECON_SUMMARY_BALANCE")
        return problems
    coded, total = s.coded_rows()
    cols = s.amount_cols()
    if coded:
        values = {code: [amount(r[c]) for c in cols] for code, r in coded}
        for code, vals in values.items():
            kids = [k for k in values if len(k) == len(code) + 2 and k.startswith(code)]
            if kids and any(off(vals[i], [values[k][i] for k in kids]) for i in range(len(cols))):
                problems.add("RECON_HIERARCHY")
        if total is not None:
            lei = [k for k in values if len(k) == 3]
            if any(off(amount(total[c]), [values[k][i] for k in lei]) for i, c in enumerate(cols)):
                problems.add("RECON_HIERARCHY")
        req = catalogue_row(s.table, publisher_code)["required_detail"]
        if req == "function_xiang" and any(len(k) < 7 and not any(x != k and x.startswith(k) for x in values) for k in values):
            problems.add("DETAIL_FUNCTION_XIANG")
        if req == "economic_kuan" and any(len(k) < 5 and not any(x != k and x.startswith(k) for x in values) for k in values):
            problems.add("DETAIL_ECONOMIC_KUAN")
    ti, bi, pi = s.col("合计"), s.col("基本支出"), s.col("项目支出")
    if None not in (ti, bi, pi):
        if any(off(amount(r[ti]), [amount(r[bi]), amount(r[pi])]) for r in s.data if amount(r[ti]) is not None):
            problems.add("RECON_ROW_PARTS")
    if "三公" in s.table:
        col = lambda *names: next((s.col(n) for n in names if s.col(n) is not None), None)  # noqa: E731
        if col("公务用车购置费", "购置费") is None:   # the template's two-level header says 购置费 | 运行费
            problems.add("DETAIL_SANGONG_SPLIT")
        else:
            t, o, v, vp, vr, rc = (col("合计"), col("因公出国（境）费", "因公出国(境)费"), col("小计"),
                                   col("公务用车购置费", "购置费"), col("公务用车运行费", "运行费"), col("公务接待费"))
            for r in s.data:
                if amount(r[t]) != amount(r[o]) + amount(r[v]) + amount(r[rc]) or amount(r[v]) != amount(r[vp]) + amount(r[vr]):
                    problems.add("RECON_ROW_PARTS")
    if s.table.startswith("地方政府债务限额及余额"):
        rows = [r for r in s.data if isinstance(r[0], str) and r[0].strip()]
        vals = {r[0].strip(): [amount(c) for c in r[1:7]] for r in rows}
        for name, (lt, lg, ls, bt, bg, bs) in vals.items():
            if lt != lg + ls or bt != bg + bs:
                problems.add("DEBT_PARTS")
            if bt > lt or bg > lg or bs > ls:
                problems.add("DEBT_BALANCE_OVER_LIMIT")
        region = vals.pop("本地区")
        if any(sum(v[i] for v in vals.values()) != region[i] for i in range(6)):
            problems.add("DEBT_REGION_SUM")
    if s.table.startswith(("地方政府一般债务余额", "地方政府专项债务余额")):
        # items as rows (their year and wording say which measure), one column per region scope
        for c in range(1, max(len(r) for r in s.data)):
            items = {str(r[0]).strip(): amount(r[c]) for r in s.data if r[0] and c < len(r)}
            if not any(items.values()):
                continue
            get = lambda pat: next(v for k, v in items.items() if re.search(pat, k))  # noqa: E731
            closings = [v for k, v in items.items() if re.search(r"\d{4}年末.+债务余额", k)]
            opening, closing = closings[0], closings[1]
            if off(closing, [opening, get(r"^(?:[一二三四五六七]、)?\d{4}年.+债务(?:举借|发行)额"), -get(r"\d{4}年.+债务还本")]):
                problems.add("DEBT_ROLL_FORWARD")
            if closing > get(r"\d{4}年.+债务限额"):
                problems.add("DEBT_BALANCE_OVER_LIMIT")
    return problems


def test_reconciliation_holds_except_where_planted(raw):
    planted = {(x["rule_id"], x["publisher_code"], x["fiscal_year"], x["object_key"]) for x in raw.truth["findings"]}
    found = set()
    not_evaluable = 0
    for p in raw.portal:
        rel, sheets = raw.book_by_name(p["attachment"])
        for s in sheets or []:
            if s.table is None:
                continue
            year = int(re.search(r"(\d{4})年", s.title).group(1))
            probs = sheet_problems(s, p["publisher_code"])
            if "not_evaluable" in probs:
                not_evaluable += 1
                continue
            for rule in probs:
                found.add((rule, p["publisher_code"], year, catalogue_row(s.table, p["publisher_code"])["table_key"]))
    assert not_evaluable == len([r for r in raw.truth["ingest"]["rejected_rows"]
                                 if r["source_file"].startswith(("budget/", "debt/"))])
    recon_rules = ("RECON_", "DETAIL_", "DEBT_")
    expected = {x for x in planted if x[0].startswith(recon_rules) and x[0] != "RECON_CROSS_TABLE"}
    assert found == expected
    assert {x[0] for x in expected} >= {"RECON_SUMMARY_BALANCE", "RECON_HIERARCHY", "DETAIL_FUNCTION_XIANG",
                                        "DETAIL_SANGONG_SPLIT", "DEBT_BALANCE_OVER_LIMIT", "DEBT_ROLL_FORWARD"}


def test_cross_table_basic_expenditure_agrees(raw):
    """The basic column of the expenditure table = the basic table's total, except where a gap is planted."""
    planted = {(x["publisher_code"], x["fiscal_year"]) for x in raw.truth["findings"]
               if x["rule_id"] == "RECON_CROSS_TABLE" and x["object_key"] in ("dept_gpb_basic", "deptf_gpb_basic")}
    publisher_of = {p["attachment"]: p["publisher_code"] for p in raw.portal}
    checked = gaps = 0
    for rel, sheets in raw.books.items():
        by = {s.table: s for s in sheets or []}
        year = int(re.search(r"(\d{4})年", rel).group(1))
        if (publisher_of.get(Path(rel).name), year) in planted:
            gaps += 1
            continue
        for exp, basic in (("一般公共预算支出表", "一般公共预算基本支出表"),
                           ("一般公共预算财政拨款支出决算表", "一般公共预算财政拨款基本支出决算表")):
            if exp in by and basic in by and "部门" in rel:
                _, te = by[exp].coded_rows()
                _, tb = by[basic].coded_rows()
                if te is None or tb is None:
                    continue
                assert amount(te[by[exp].col("基本支出")]) == amount(tb[by[basic].col("合计")]), rel
                checked += 1
    assert checked >= 10 and planted and gaps >= len(planted)
