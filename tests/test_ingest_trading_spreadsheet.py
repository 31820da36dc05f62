"""Trading exports that passed through a spreadsheet before they reached us (wave 10, P3).

An office opens the platform's CSV in Excel or Calc and saves it again: long all-digit codes (credit codes, ID
numbers, numeric project codes) become scientific notation (``9.16403E+17``, Calc: ``9.16403007668853E+017``) and
their digits are gone. Such a value is no code: a deal code in that form rejects its row (it must never be a dedupe
key — two projects collapse onto one number), a party's code is stored NULL (no "invalid credit code" verdict on a
number the spreadsheet made) and the file's note names the column, how many and the first rows. Expectations come
from reading the same content as the platform wrote it, not from hard-coded values.
"""
from __future__ import annotations

import csv
import re
import shutil
from pathlib import Path

import pytest

from test_ingest_trading import bulletins, load, load_file_row, query, write_csv

FIXTURES = Path(__file__).parent / "fixtures" / "trading_spreadsheet"
SCIENTIFIC = re.compile(r"[0-9](\.[0-9]+)?E\+[0-9]{2,3}")
DEAL_CODES = ("PROJECT_CODE", "TENDER_PROJECT_CODE", "BID_SECTION_CODE", "UNIFIED_DEAL_CODE")
PARTY_CODES = ("TENDERER_CODE", "TENDER_AGENCY_CODE", "WIN_CANDIDATE_CODE", "WIN_BIDDER_CODE", "PM_CODE")
SAME_FIELDS = ("notice_name", "notice_send_time", "bulletin_type", "region_code", "tenderer_name",
               "budget_amount_yuan", "bid_amount_yuan", "bid_open_time", "url")


def _records(path: Path, encoding: str) -> dict[int, dict[str, str]]:
    """Records by their first line number, as the loader numbers them (header = row 1)."""
    with path.open(encoding=encoding, newline="") as handle:
        rows = list(csv.DictReader(handle))
    return {i: row for i, row in enumerate(rows, start=2)}


def test_calc_resaved_export_codes_in_scientific_notation(gongkai_env):
    raw, wh = gongkai_env.raw_dir, gongkai_env.warehouse
    (raw / "trading").mkdir(parents=True)
    shutil.copy(FIXTURES / "platform_export.csv", raw / "trading" / "platform_export.csv")
    shutil.copy(FIXTURES / "calc_resaved_gbk.csv", raw / "trading" / "calc_resaved_gbk.csv")
    source = _records(FIXTURES / "platform_export.csv", "utf-8")
    resaved = _records(FIXTURES / "calc_resaved_gbk.csv", "gbk")
    assert source.keys() == resaved.keys()
    # the fixture does carry the damage this test is about, in deal codes and in party codes
    damaged = {(row, name) for row, rec in resaved.items() for name, value in rec.items() if SCIENTIFIC.fullmatch(value)}
    assert {name for _, name in damaged} >= {"PROJECT_CODE", "BID_SECTION_CODE", "TENDERER_CODE", "PM_CODE"}

    load(raw, wh)
    original = bulletins(wh, "trading/platform_export.csv")
    assert sorted(original) == sorted(source)                 # the platform's own file loads whole
    got = bulletins(wh, "trading/calc_resaved_gbk.csv")

    deal_damaged = {row for row, name in damaged if name in DEAL_CODES}
    assert deal_damaged and sorted(got) == sorted(set(source) - deal_damaged)
    # two numeric projects collapse onto one number once in scientific notation: neither becomes a deal
    assert len({source[r]["PROJECT_CODE"] for r in deal_damaged}) == 2
    assert len({resaved[r]["PROJECT_CODE"] for r in deal_damaged}) == 1
    rejects = query(wh, "SELECT source_row, source_column, raw_value, reason FROM raw.load_rejects "
                        "WHERE source_file = 'trading/calc_resaved_gbk.csv' ORDER BY source_row, source_column")
    assert {r for r, *_ in rejects} == deal_damaged
    assert {(r, c, v) for r, c, v, _ in rejects} == {(r, n, resaved[r][n]) for r, n in damaged if n in DEAL_CODES}
    assert all(reason.startswith(f"第{r}行「{c}」") and "科学计数法" in reason and "scientific notation" in reason
               for r, c, _, reason in rejects)

    for row, bulletin in got.items():
        assert bulletin["bulletin_key"] == original[row]["bulletin_key"]
        assert {f: bulletin[f] for f in SAME_FIELDS} == {f: original[row][f] for f in SAME_FIELDS}
        # Calc writes a line break inside a quoted field as LF where the platform wrote CRLF
        assert bulletin["notice_content"] == original[row]["notice_content"].replace("\r\n", "\n")
        for name in PARTY_CODES:       # no number a spreadsheet made is stored as a code
            expected = None if (row, name) in damaged else original[row][name.lower()]
            assert bulletin[name.lower()] == expected, (row, name)
    status = load_file_row(wh, "trading/calc_resaved_gbk.csv")
    assert (status["rows_in"], status["rows_loaded"], status["rows_rejected"]) == (
        len(source), len(source) - len(deal_damaged), len(deal_damaged))
    for name in {n for r, n in damaged if n in PARTY_CODES and r not in deal_damaged}:
        count = sum(1 for r, n in damaged if n == name and r not in deal_damaged)
        first = min(r for r, n in damaged if n == name and r not in deal_damaged)
        assert f"{name} {count} (第{first}行起 from {first},「{resaved[first][name]}」)" in status["reason"]
    assert "scientific notation" in status["reason"] and "科学计数法" in status["reason"]
    # each party code stored NULL in a loaded row is kept, as found, for its finding (QUAR_CODE_DAMAGED); the row
    # counts once, as loaded (no reject)
    blanked = query(wh, "SELECT source_row, source_column, field_name, raw_value, sheet FROM raw.load_blanked_cells "
                        "WHERE source_file = 'trading/calc_resaved_gbk.csv' AND NOT is_retired")
    assert sorted(blanked) == sorted((r, n, n.lower(), resaved[r][n], None) for r, n in damaged
                                     if n in PARTY_CODES and r not in deal_damaged)
    assert not query(wh, "SELECT * FROM raw.load_blanked_cells WHERE source_file = 'trading/platform_export.csv'")


def test_formula_quoted_text_reads_as_the_text_excel_shows(gongkai_env):
    """``="0951…"``: how exporters keep a code as text for Excel; the value is the text between the quotes."""
    raw, wh = gongkai_env.raw_dir, gongkai_env.warehouse
    header = ["PROJECT_CODE", "BID_SECTION_CODE", "BULLETIN_TYPE", "NOTICE_SEND_TIME", "TENDERER_CODE",
              "REGION_CODE", "PM_CODE", "BID_AMOUNT"]
    rows = [["0640100201800012001", "001", "交易公告", "2018-06-04 09:00:00", "126401046511596569", "640104",
             "640104196607297312", "1000"],
            ["0640100201800012002", "002", "中标结果公告", "2018-06-20 09:00:00", "11640000432620297X", "640000",
             "", "980000"]]
    write_csv(raw / "trading" / "plain.csv", header, rows)
    # as the exporter writes it: the formula unquoted in the CSV, so Excel evaluates it to text
    text = "\r\n".join([",".join(header)] + [",".join(f'="{v}"' if v and i not in (2, 3, 7) else v
                                                       for i, v in enumerate(row)) for row in rows]) + "\r\n"
    (raw / "trading" / "formula.csv").write_text(text, encoding="utf-8")
    assert '="0640100201800012001"' in text

    load(raw, wh)
    plain, formula = bulletins(wh, "trading/plain.csv"), bulletins(wh, "trading/formula.csv")
    assert sorted(formula) == sorted(plain) == [2, 3]
    skip = {"load_id", "source_file", "source_sha256"}
    for row in plain:
        assert {k: v for k, v in formula[row].items() if k not in skip} == \
               {k: v for k, v in plain[row].items() if k not in skip}
    assert formula[2]["project_code"] == "0640100201800012001" and formula[2]["bid_section_code"] == "001"


def test_calc_resaved_export_with_label_row_and_blank_rows(gongkai_env):
    """The same export arranged by a person before Calc saved it: the platform's Chinese labels as a second header
    row, a blank row after each deal (Calc writes it as a row of commas). Neither is a record; every bulletin keeps
    the row a spreadsheet shows and reads as in the file without them."""
    raw, wh = gongkai_env.raw_dir, gongkai_env.warehouse
    (raw / "trading").mkdir(parents=True)
    for name in ("calc_resaved_gbk.csv", "calc_resaved_arranged_gbk.csv"):
        shutil.copy(FIXTURES / name, raw / "trading" / name)
    with (FIXTURES / "calc_resaved_arranged_gbk.csv").open(encoding="gbk", newline="") as handle:
        records = {i: rec for i, rec in enumerate(csv.reader(handle), start=1)}
    blank = {i for i, rec in records.items() if not any(rec)}
    assert records[2][0] == "项目编号" and len(blank) >= 3     # the fixture has what this test is about

    load(raw, wh)
    plain = {b["bulletin_key"]: b for b in bulletins(wh, "trading/calc_resaved_gbk.csv").values()}
    got = bulletins(wh, "trading/calc_resaved_arranged_gbk.csv")
    assert {b["bulletin_key"] for b in got.values()} == set(plain)
    skip = {"load_id", "source_file", "source_sha256", "source_row"}
    for row, bulletin in got.items():
        # the row a spreadsheet shows: the label row and the blank rows count, as in Calc or Excel
        assert (records[row][0], records[row][6]) == (bulletin["project_code"], bulletin["notice_name"])
        assert {k: v for k, v in bulletin.items() if k not in skip} == \
               {k: v for k, v in plain[bulletin["bulletin_key"]].items() if k not in skip}
    rejects = query(wh, "SELECT source_row, reason FROM raw.load_rejects "
                        "WHERE source_file = 'trading/calc_resaved_arranged_gbk.csv'")
    assert 2 not in {r for r, _ in rejects} and not blank & {r for r, _ in rejects}
    status = load_file_row(wh, "trading/calc_resaved_arranged_gbk.csv")
    plain_status = load_file_row(wh, "trading/calc_resaved_gbk.csv")
    assert (status["rows_in"], status["rows_loaded"], status["rows_rejected"]) == (
        plain_status["rows_in"], plain_status["rows_loaded"], plain_status["rows_rejected"])
    assert "第2行重复表头" in status["reason"] and "repeat the header" in status["reason"]


def test_unnamed_trailing_columns_are_noted_as_such(gongkai_env):
    """Excel's CSV save writes the empty columns of the sheet's used range: a header of empty names."""
    raw, wh = gongkai_env.raw_dir, gongkai_env.warehouse
    write_csv(raw / "trading" / "trailing.csv", ["PROJECT_CODE", "BULLETIN_TYPE", "NOTICE_SEND_TIME", "", ""],
              [["T1", "交易公告", "2018/6/4 9:00", "", ""]])
    load(raw, wh)
    reason = load_file_row(wh, "trading/trailing.csv")["reason"]
    assert "2 columns without a header" in reason and "unknown columns" not in reason


def _excel_general(value: str) -> str:
    """What Excel's CSV save writes for a cell it read as a number: the General format shows at most 11 digits, so a
    longer whole number is written in scientific notation with 6 significant digits (Calc keeps 15; see MAKE.md)."""
    if re.fullmatch(r"[0-9]{12,}", value):
        mantissa, exponent = f"{float(value):.5E}".split("E")
        return f"{mantissa.rstrip('0').rstrip('.')}E+{int(exponent):02d}"
    return value


def test_standard_table_times_in_scientific_notation_say_so(gongkai_env):
    """A national-standard table (yyyyMMddHHmmss times, 18-character codes) saved again by Excel: the times become
    2.01904E+13 — a row reject that says a spreadsheet rewrote the value, naming row, column and value."""
    from test_ingest_trading_forms import write_standard_table

    raw, wh = gongkai_env.raw_dir, gongkai_env.warehouse
    records = [{"TENDER_PROJECT_CODE": "E6401000000000001001", "BID_SECTION_CODE": "E6401000000000001001001",
                "UNIFIED_DEAL_CODE": "U1", "NOTICE_NAME": "中标结果公告", "NOTICE_SEND_TIME": "20190410100000",
                "WIN_BIDDER_NAME": "宁夏某建设工程有限公司", "WIN_BIDDER_CODE": "916404007445576613", "BID_AMOUNT": "812.5",
                "PRICE_UNIT": "1", "NOTICE_NATURE": "1", "BULLETIN_TYPE": "1"}]
    platform = write_standard_table(raw / "trading" / "platform.csv", "WIN_RESULT_ANNO", records)
    with platform.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.reader(handle))
    saved = raw / "trading" / "excel.csv"
    with saved.open("w", encoding="gbk", newline="") as handle:
        csv.writer(handle, lineterminator="\r\n").writerows([rows[0]] + [[_excel_general(v) for v in r] for r in rows[1:]])
    time_col = rows[0].index("NOTICE_SEND_TIME")
    assert rows[1][time_col] == "20190410100000"

    load(raw, wh)
    assert len(bulletins(wh, "trading/platform.csv")) == 1
    rejects = query(wh, "SELECT source_row, source_column, raw_value, reason FROM raw.load_rejects "
                        "WHERE source_file = 'trading/excel.csv'")
    assert [(r, c, v) for r, c, v, _ in rejects] == [(2, "NOTICE_SEND_TIME", _excel_general("20190410100000"))]
    assert "scientific notation" in rejects[0][3] and "科学计数法" in rejects[0][3]


def test_calc_saved_workbooks_hold_long_codes_as_numbers(gongkai_env):
    """The export saved by Calc as .xlsx and .xls: the long codes are numbers in the cells, and a double cannot hold
    an 18-digit code. They read as the CSV Calc saved reads — damaged codes, not made-up 18-digit ones (before:
    640100201800012001 and …002 both became 640100201800012032, one deal)."""
    raw, wh = gongkai_env.raw_dir, gongkai_env.warehouse
    (raw / "trading").mkdir(parents=True)
    names = ("calc_resaved_gbk.csv", "calc_saved.xlsx", "calc_saved.xls")
    for name in names:
        shutil.copy(FIXTURES / name, raw / "trading" / name)
    load(raw, wh)
    skip = {"load_id", "source_file", "source_sha256"}
    as_csv = {b["source_row"]: {k: v for k, v in b.items() if k not in skip}
              for b in bulletins(wh, "trading/calc_resaved_gbk.csv").values()}
    csv_rejects = set(query(wh, "SELECT source_row, source_column, raw_value FROM raw.load_rejects "
                                "WHERE source_file = 'trading/calc_resaved_gbk.csv'"))
    assert as_csv and csv_rejects
    csv_blanked = query(wh, "SELECT source_row, sheet, sheet_row, source_column, raw_value FROM raw.load_blanked_cells "
                            "WHERE source_file = 'trading/calc_resaved_gbk.csv'")
    for name in names[1:]:
        got = {b["source_row"]: {k: v for k, v in b.items() if k not in skip}
               for b in bulletins(wh, f"trading/{name}").values()}
        assert got == as_csv, name
        rejects = set(query(wh, "SELECT source_row, source_column, raw_value FROM raw.load_rejects "
                                "WHERE source_file = ?", [f"trading/{name}"]))
        # Calc writes the CSV's exponent with three digits (E+017), the workbook's text with two (E+17)
        assert rejects == {(r, c, re.sub(r"E\+0(\d\d)$", r"E+\1", v)) for r, c, v in csv_rejects}, name
        # the party codes stored NULL: the same cells, named by the sheet and the row a spreadsheet shows
        blanked = query(wh, "SELECT source_row, sheet, sheet_row, source_column, raw_value FROM raw.load_blanked_cells "
                            "WHERE source_file = ?", [f"trading/{name}"])
        assert {(r, c, re.sub(r"E\+0(\d\d)$", r"E+\1", v)) for r, _, _, c, v in csv_blanked} == \
            {(r, c, v) for r, _, _, c, v in blanked}, name
        assert csv_blanked and all(sheet and sheet_row == r for r, sheet, sheet_row, _, _ in blanked), name


def test_header_pasted_in_with_a_second_export_is_not_a_record(gongkai_env):
    """Two exports pasted into one sheet: the second one's header stands among the records. It is named in the
    note, not rejected cell by cell, and the records around it keep their rows."""
    raw, wh = gongkai_env.raw_dir, gongkai_env.warehouse
    header = ["PROJECT_CODE", "BID_SECTION_CODE", "BULLETIN_TYPE", "NOTICE_SEND_TIME", "BID_AMOUNT"]
    rows = [["P1", "P1-001", "交易公告", "2018-06-04 09:00:00", ""],
            header,
            ["P1", "P1-001", "中标结果公告", "2018-06-28 10:00:00", "980000"],
            ["项目编号", "标段(包)编号", "公告类型", "发布时间", "中标金额"]]
    write_csv(raw / "trading" / "pasted.csv", header, rows)
    load(raw, wh)
    assert sorted(bulletins(wh, "trading/pasted.csv")) == [2, 4]
    assert query(wh, "SELECT count(*) FROM raw.load_rejects")[0][0] == 0
    status = load_file_row(wh, "trading/pasted.csv")
    assert (status["rows_in"], status["rows_loaded"], status["rows_rejected"]) == (2, 2, 0)
    assert "第3、5行重复表头" in status["reason"] and "2 rows repeat the header" in status["reason"]


def test_an_export_rewritten_by_pandas_keeps_no_code_it_lost(gongkai_env):
    # A script that reads the platform's CSV with pandas and writes it back (a common "clean-up" before forwarding)
    # turns a code column with blanks into floats: 18-digit codes become 6.404021979101585e+17 (lower-case e, 16
    # significant digits — still not the code), shorter all-digit codes 640104.0. The first is no code (a party's
    # code stored NULL, a deal code rejects its row); the second is the code written as a number, read as its digits.
    pd = pytest.importorskip("pandas")
    raw, wh = gongkai_env.raw_dir, gongkai_env.warehouse
    (raw / "trading").mkdir(parents=True)
    shutil.copy(FIXTURES / "platform_export.csv", raw / "trading" / "platform_export.csv")
    frame = pd.read_csv(FIXTURES / "platform_export.csv")
    frame["REGION_CODE"] = frame["REGION_CODE"].astype(float)          # 640000.0: a float column of a short code
    frame.to_csv(raw / "trading" / "pandas_rewritten.csv", index=False)
    written = _records(raw / "trading" / "pandas_rewritten.csv", "utf-8")
    floats = {(r, k) for r, rec in written.items() for k, v in rec.items() if re.fullmatch(r"[0-9.]+e\+[0-9]+", v)}
    assert {k for _, k in floats} & set(PARTY_CODES)           # the writer did damage a party's code

    load(raw, wh)
    original = bulletins(wh, "trading/platform_export.csv")
    got = bulletins(wh, "trading/pandas_rewritten.csv")
    assert sorted(got) == sorted(original)
    for row, bulletin in got.items():
        assert bulletin["region_code"] == original[row]["region_code"]           # 640000.0 read as 640000
        for name in PARTY_CODES:
            expected = None if (row, name) in floats else original[row][name.lower()]
            assert bulletin[name.lower()] == expected, (row, name)
    assert "scientific notation" in load_file_row(wh, "trading/pandas_rewritten.csv")["reason"]
