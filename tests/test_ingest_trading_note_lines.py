"""A note line under an export's data rows (``注：…``, ``数据来源：…``, ``制表：…``) is the file's note, not a row reject
"no project code" (wave 17): one non-empty cell, after the last data row, opening with a note's word and a colon
(``specs/trading_bulletins.yaml`` ``note_lines``; ``ingest/text_notes.py``). A record with a missing code, or a note
among the data rows, is still a reject. Files made as offices make them: a CSV by Python ``csv`` (UTF-8 with BOM,
CRLF, a title with a line break inside quotes; the note padded with empty fields as Excel saves it, or a line of one
field), an .xlsx by openpyxl (a blank row, then the notes in column A; a second sheet with its own note)."""
from __future__ import annotations

import csv
from pathlib import Path

import openpyxl

from test_ingest_trading import bulletins, load, load_file_row, query

# column A is the export's 序号, where an office types its notes (a note in a code column would be that code)
HEADER = ["序号", "PROJECT_CODE", "BID_SECTION_CODE", "BULLETIN_TYPE", "NOTICE_NAME", "NOTICE_SEND_TIME", "BID_AMOUNT"]
DATA = [
    ["1", "NXG2020001", "NXG2020001-01", "交易公告", "某某道路工程\n施工招标公告", "2020-03-02 09:00:00", ""],
    ["2", "NXG2020001", "NXG2020001-01", "中标结果公告", "某某道路工程中标结果公告", "2020-04-01 09:00:00", "1,200,000.00"],
]
FOOTNOTE = "注：本表金额单位为元，数据截至2020年4月30日。"
SOURCE = "数据来源：宁夏公共资源交易平台"
MAKER = "制表：张三"


def _csv(path: Path, rows: list[list[str]], lines_after: list[str] = ()) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\r\n")
        writer.writerow(HEADER)
        writer.writerows(rows)
        for line in lines_after:   # a line of one field, as a script appends it
            handle.write(line + "\r\n")
    return path


def _reject_rows(warehouse: Path, rel: str) -> list[tuple]:
    return query(warehouse, "SELECT source_row, reason FROM raw.load_rejects WHERE source_file = ? ORDER BY 1", [rel])


def test_notes_under_a_csv_export_are_its_note_not_rejects(tmp_path):
    raw, wh = tmp_path / "raw", tmp_path / "w.duckdb"
    padded = [FOOTNOTE] + [""] * (len(HEADER) - 1)       # Excel's save: the note with the row's empty fields
    _csv(raw / "trading" / "导出.csv", [*DATA, padded], lines_after=[SOURCE, f'"{MAKER}"'])
    load(raw, wh)
    rel = "trading/导出.csv"
    row = load_file_row(wh, rel)
    assert not _reject_rows(wh, rel)
    assert (row["rows_in"], row["rows_loaded"], row["rows_rejected"]) == (len(DATA), len(DATA), 0)
    assert row["status"] == "loaded"
    # the note says how many, where (the row a spreadsheet shows: the title's line break is inside one record) and what
    first_note_row = 2 + len(DATA)
    assert "3 note lines" in row["reason"]
    for offset, text in enumerate([FOOTNOTE, SOURCE, MAKER]):
        assert f"第{first_note_row + offset}行「{text}」" in row["reason"]
    assert len(bulletins(wh, rel)) == len(DATA)


def test_notes_under_a_workbooks_sheets_are_their_note(tmp_path):
    raw, wh = tmp_path / "raw", tmp_path / "w.duckdb"
    book = openpyxl.Workbook()
    first = book.active
    first.title = "交易公告"
    first.append(HEADER)
    first.append(DATA[0])
    first.append([])                    # a blank row between the table and its notes
    first.append([FOOTNOTE])
    first.append([MAKER])
    second = book.create_sheet("结果公告")
    second.append(HEADER)
    second.append(DATA[1])
    second.append([SOURCE])
    (raw / "trading").mkdir(parents=True)
    book.save(raw / "trading" / "导出.xlsx")
    load(raw, wh)
    rel = "trading/导出.xlsx"
    row = load_file_row(wh, rel)
    assert not _reject_rows(wh, rel)
    assert (row["rows_in"], row["rows_loaded"], row["rows_rejected"]) == (2, 2, 0)
    assert "3 note lines" in row["reason"]
    assert f"工作表「交易公告」第4行「{FOOTNOTE}」" in row["reason"]
    assert f"工作表「交易公告」第5行「{MAKER}」" in row["reason"]
    assert f"工作表「结果公告」第3行「{SOURCE}」" in row["reason"]


def test_a_record_without_its_code_is_still_a_reject(tmp_path):
    raw, wh = tmp_path / "raw", tmp_path / "w.duckdb"
    no_code = ["", "", "", "", "某某工程变更公告", "", ""]                 # one cell, but no note: a record missing its code
    note_and_more = [FOOTNOTE, "", "", "", "", "2020-04-02 09:00:00", ""]   # a note's word, but two filled cells
    note_among_data = [FOOTNOTE] + [""] * (len(HEADER) - 1)             # a note's text with data rows below it
    _csv(raw / "trading" / "a.csv", [DATA[0], note_among_data, DATA[1], no_code, note_and_more])
    load(raw, wh)
    rel = "trading/a.csv"
    row = load_file_row(wh, rel)
    assert [r for r, _ in _reject_rows(wh, rel)] == [3, 5, 6]
    assert (row["rows_in"], row["rows_loaded"], row["rows_rejected"]) == (5, 2, 3)
    assert "note lines" not in (row["reason"] or "")


def _in_code_column(note: str, *cells: tuple[int, str]) -> list[str]:
    """A row whose PROJECT_CODE cell holds a note (an office typing it into the code column), other cells as given."""
    row = [""] * len(HEADER)
    row[HEADER.index("PROJECT_CODE")] = note
    for index, value in cells:
        row[index] = value
    return row


def test_a_note_typed_into_the_code_column_among_the_data_rows_is_a_reject_naming_it(tmp_path):
    # wave 17: the note's text was the deal's code — a bulletin of deal "注：本表…/" (a note with a line break inside
    # quotes, one with a time beside it); below the data rows it is still the file's note
    raw, wh = tmp_path / "raw", tmp_path / "w.duckdb"
    wrapped = "注：本表时间为北京时间，\n金额单位为元"
    with_time = _in_code_column("说明：以下为补录公告", (HEADER.index("NOTICE_SEND_TIME"), "2020-03-05 09:00:00"))
    _csv(raw / "trading" / "a.csv", [DATA[0], _in_code_column(wrapped), DATA[1], with_time, _in_code_column(FOOTNOTE)])
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "交易信息"
    for values in (HEADER, DATA[0], _in_code_column(SOURCE), DATA[1], [], _in_code_column(MAKER)):
        sheet.append(values)
    book.save(raw / "trading" / "b.xlsx")
    load(raw, wh)
    for rel, rejected, noted in (("trading/a.csv", [3, 5], "第6行"), ("trading/b.xlsx", [3], "工作表「交易信息」第6行")):
        row = load_file_row(wh, rel)
        rejects = query(wh, "SELECT source_row, source_column, raw_value, reason FROM raw.load_rejects WHERE source_file = ? "
                            "ORDER BY 1", [rel])
        assert [r[0] for r in rejects] == rejected
        assert {r[1] for r in rejects} == {"PROJECT_CODE"}
        assert all("附注" in r[3] and "PROJECT_CODE" in r[3] for r in rejects)
        assert (row["rows_in"], row["rows_loaded"], row["rows_rejected"]) == (2 + len(rejected), 2, len(rejected))
        assert noted in row["reason"] and "1 note line" in row["reason"]
        keys = {b["bulletin_key"].split("|")[0] for b in bulletins(wh, rel).values()}
        assert keys == {"NXG2020001/NXG2020001-01"}


def test_a_note_in_the_section_column_beside_the_records_code_is_a_blank_section_not_a_reject(tmp_path):
    # an office's remark in the section column of a real record (注：本项目不分标段, broken inside quotes) beside its
    # project code: the record names its deal and is a bulletin of it — the remark states no section (read blank, said
    # in the file's note) — not a reject "the row is no bulletin"; a note beside a unified code alone keys by that code.
    # A row whose every code cell is a note is still a reject; a code opening with 注 (注塑机…) is a code.
    raw, wh = tmp_path / "raw", tmp_path / "w.duckdb"
    header = [*HEADER, "UNIFIED_DEAL_CODE"]
    remark = ["3", "NXG2020002", "注：本项目\n不分标段", "交易公告", "某某泵站工程施工招标公告", "2020-03-03 09:00:00", "", ""]
    unified = ["4", "说明：项目编号待补", "", "中标结果公告", "某某泵站工程中标结果公告", "2020-04-03 09:00:00", "", "U6400002020"]
    injection = ["5", "注塑机采购2020-05", "", "交易公告", "注塑机采购公告", "2020-03-04 09:00:00", "", ""]
    all_notes = ["6", FOOTNOTE, "注：见附件", "交易公告", "", "", "", ""]
    path = raw / "trading" / "a.csv"
    path.parent.mkdir(parents=True)
    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\r\n")
        writer.writerow(header)
        writer.writerows([[*DATA[0], ""], remark, unified, injection, all_notes, [*DATA[1], ""]])
    load(raw, wh)
    rel = "trading/a.csv"
    row = load_file_row(wh, rel)
    rejects = query(wh, "SELECT source_row, source_column FROM raw.load_rejects WHERE source_file = ? ORDER BY 1", [rel])
    assert [r[0] for r in rejects] == [6, 6]                   # the row of notes only: both its code cells named
    assert (row["rows_in"], row["rows_loaded"], row["rows_rejected"]) == (6, 5, 1)
    keys = {b["bulletin_key"].split("|")[0]: b["bid_section_code"] for b in bulletins(wh, rel).values()}
    assert keys == {"NXG2020001/NXG2020001-01": "NXG2020001-01", "NXG2020002/": None, "U6400002020": None,
                    "注塑机采购2020-05/": None}
    assert "BID_SECTION_CODE" in row["reason"] and "PROJECT_CODE" in row["reason"] and "附注" in row["reason"]
