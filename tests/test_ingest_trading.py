"""Trading exports → raw.trading_bulletins through the real framework and a real DuckDB file.

Every file is built here (csv / json modules), in each variant RAW_FORMATS.md lists; expected
values are derived from what the test wrote, not copied from a sample.
"""
from __future__ import annotations

import csv
import datetime as dt
import io
import json
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from dagster_project.ingest import framework, text_encoding, textfiles
from dagster_project.ingest.trading import bind_headers, duplicate_report, load_trading_file, repeated_headers

EXCEL_EPOCH = dt.datetime(1899, 12, 30)


def excel_serial(moment: dt.datetime) -> str:
    return repr((moment - EXCEL_EPOCH).total_seconds() / 86400)


def write_csv(path: Path, header: list[str], rows: list[list[object]], encoding: str = "utf-8") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding=encoding, newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def load(raw: Path, warehouse: Path) -> framework.FamilyLoadReport:
    con = duckdb.connect(str(warehouse))
    try:
        return framework.load_family(con, raw, "trading", load_trading_file)
    finally:
        con.close()


def query(warehouse: Path, sql: str, params: list | None = None) -> list[tuple]:
    con = duckdb.connect(str(warehouse))
    try:
        return con.execute(sql, params or []).fetchall()
    finally:
        con.close()


def bulletins(warehouse: Path, rel: str) -> dict[int, dict]:
    con = duckdb.connect(str(warehouse))
    try:
        cur = con.execute(
            "SELECT * FROM raw.trading_bulletins WHERE source_file = ? ORDER BY source_row", [rel]
        )
        names = [d[0] for d in cur.description]
        return {row[names.index("source_row")]: dict(zip(names, row)) for row in cur.fetchall()}
    finally:
        con.close()


def load_file_row(warehouse: Path, rel: str) -> dict:
    con = duckdb.connect(str(warehouse))
    try:
        cur = con.execute("SELECT * FROM raw.load_files WHERE source_file = ? AND is_current", [rel])
        names = [d[0] for d in cur.description]
        return dict(zip(names, cur.fetchone()))
    finally:
        con.close()


MOMENT = dt.datetime(2018, 6, 4, 9, 0, 0)
# (text as printed, what it means)
TIME_VARIANTS = [
    (MOMENT.strftime("%Y-%m-%d %H:%M:%S"), MOMENT),
    (f"{MOMENT.year}/{MOMENT.month}/{MOMENT.day} {MOMENT.hour}:{MOMENT.minute:02d}", MOMENT),
    (f"{MOMENT.year}年{MOMENT.month}月{MOMENT.day}日", MOMENT.replace(hour=0)),
    (MOMENT.strftime("%Y%m%d"), MOMENT.replace(hour=0)),
    (excel_serial(MOMENT), MOMENT),
    (MOMENT.strftime("%Y-%m-%dT%H:%M:%S"), MOMENT),
    # an explicit offset is converted to Shanghai local time (UTC+8)
    ((MOMENT - dt.timedelta(hours=8)).strftime("%Y-%m-%dT%H:%M:%SZ"), MOMENT),
    ((MOMENT - dt.timedelta(hours=9)).strftime("%Y-%m-%dT%H:%M:%S-01:00"), MOMENT),
]


def test_national_names_time_formats_and_header_unit(gongkai_env):
    raw, wh = gongkai_env.raw_dir, gongkai_env.warehouse
    header = ["PROJECT_CODE", "BID_SECTION_CODE", "BULLETIN_TYPE", "NOTICE_SEND_TIME", "BID_OPEN_TIME",
              "中标金额(万元)", "BUDGET_AMOUNT", "BIDDER_COUNT", "TENDERER_CODE", "EXTRA_NOTE"]
    rows, expected = [], {}
    for index, (text, moment) in enumerate(TIME_VARIANTS):
        bid_wan = f"{1000 + index:,}.5"  # thousands separator in a 万元 amount
        budget = f"{2_000_000 + index}"
        rows.append([f"E{index:03d}", "001", "中标结果公告", text, text, bid_wan, budget, str(3 + index),
                     f"0064{index}", "ignored"])
        expected[index + 2] = (moment, Decimal(bid_wan.replace(",", "")) * 10000, Decimal(budget), 3 + index,
                               f"0064{index}")
    write_csv(raw / "trading" / "national.csv", header, rows)

    report = load(raw, wh)
    assert report.rejected == [] and report.rows_rejected == 0
    got = bulletins(wh, "trading/national.csv")
    assert sorted(got) == sorted(expected)
    for row_no, (moment, bid_yuan, budget_yuan, bidders, code) in expected.items():
        row = got[row_no]
        assert row["notice_send_time"] == moment, row_no
        assert row["bid_open_time"] == moment
        assert row["bid_amount_yuan"] == bid_yuan
        assert row["budget_amount_yuan"] == budget_yuan
        assert row["bidder_count"] == bidders
        assert row["tenderer_code"] == code  # codes keep their leading zeros
        assert row["bulletin_key"] == (
            f"{row['project_code']}/001|result|{moment.isoformat(timespec='seconds')}|"  # the closed type code
        )
    outcome = load_file_row(wh, "trading/national.csv")
    assert outcome["encoding"] == "utf-8" and outcome["file_format"] == "csv"
    assert "EXTRA_NOTE" in outcome["reason"]  # unknown columns are listed, not loaded
    assert outcome["rows_in"] == len(rows) == outcome["rows_loaded"]


def test_chinese_labels_gbk_and_amount_unit_column(gongkai_env):
    raw, wh = gongkai_env.raw_dir, gongkai_env.warehouse
    header = ["项目编号", "标段（包）编号", "公告类型", "交易领域", "公告标题", "发布时间", "招标人/采购人",
              "预算金额/最高限价", "中标金额", "金额单位", "中标人/成交供应商", "项目负责人证件号", "联系电话"]
    units = {"元": 1, "万元": 10000, "亿元": 100000000, "": 1}
    rows = []
    for index, unit in enumerate(units):
        rows.append([f"G{index}", "1", "中标结果公告", "政府采购", f"某项目{index}成交公告", "2019/3/1 10:30",
                     "宁夏某局", f"{10 + index}", f"{5 + index}.25", unit, "某公司", "640102198001010011",
                     "13912345678"])
    write_csv(raw / "trading" / "gbk.csv", header, rows, encoding="gb18030")

    report = load(raw, wh)
    assert report.rows_rejected == 0, report
    got = bulletins(wh, "trading/gbk.csv")
    for index, unit in enumerate(units):
        row = got[index + 2]
        assert row["budget_amount_yuan"] == Decimal(10 + index) * units[unit]
        assert row["bid_amount_yuan"] == Decimal(f"{5 + index}.25") * units[unit]
        assert row["notice_name"] == f"某项目{index}成交公告"
        assert row["trade_area"] == "政府采购" and row["tenderer_name"] == "宁夏某局"
        assert row["pm_code"] == "640102198001010011" and row["contact_phone"] == "13912345678"
        assert row["notice_send_time"] == dt.datetime(2019, 3, 1, 10, 30)
    assert load_file_row(wh, "trading/gbk.csv")["encoding"] == "gb18030"


def test_bom_csv_and_unknown_unit_loses_its_amounts(gongkai_env):
    # an unknown unit leaves the amounts it governs unread, the cell a finding — not the whole row (review R4b)
    raw, wh = gongkai_env.raw_dir, gongkai_env.warehouse
    write_csv(raw / "trading" / "bom.csv", ["UNIFIED_DEAL_CODE", "BULLETIN_TYPE", "BID_AMOUNT", "AMOUNT_UNIT"],
              [["U1", "交易公告", "7", "万元"], ["U2", "交易公告", "8", "斤"]], encoding="utf-8-sig")
    load(raw, wh)
    got = bulletins(wh, "trading/bom.csv")
    assert list(got) == [2, 3] and got[3]["bid_amount_yuan"] is None
    assert got[2]["bid_amount_yuan"] == Decimal(70000) and got[2]["bulletin_key"].startswith("U1|announcement|")
    assert query(wh, "SELECT count(*) FROM raw.load_rejects") == [(0,)]
    blanked = query(wh, "SELECT source_row, source_column, raw_value FROM raw.load_blanked_cells")
    assert blanked == [(3, "AMOUNT_UNIT", "斤")]
    assert load_file_row(wh, "trading/bom.csv")["encoding"] == "utf-8-sig"


def test_json_array_data_wrapper_and_json_lines(gongkai_env):
    raw, wh = gongkai_env.raw_dir, gongkai_env.warehouse
    records = [
        {"PROJECT_CODE": f"J{i}", "BID_SECTION_CODE": "2", "BULLETIN_TYPE": "交易公告",
         "NOTICE_SEND_TIME": f"2017-0{i + 1}-15 08:00:00", "BUDGET_AMOUNT": 12345.67 + i, "BIDDER_COUNT": i + 1,
         "NOTICE_CONTENT": {"nested": True} if i == 2 else "正文"}
        for i in range(3)
    ]
    (raw / "trading").mkdir(parents=True)
    (raw / "trading" / "array.json").write_text(json.dumps(records, ensure_ascii=False, indent=2), encoding="utf-8")
    (raw / "trading" / "wrapped.json").write_text(
        json.dumps({"total": 3, "data": records}, ensure_ascii=False, indent=1), encoding="utf-8")
    lines = "\n".join(json.dumps(r, ensure_ascii=False) for r in records) + "\n"
    (raw / "trading" / "lines.jsonl").write_text(lines, encoding="utf-8")
    (raw / "trading" / "lines_named.json").write_text(lines, encoding="gb18030")

    report = load(raw, wh)
    assert report.rejected == [] and report.rows_rejected == 0, report
    for rel in ("array.json", "wrapped.json", "lines.jsonl", "lines_named.json"):
        got = bulletins(wh, f"trading/{rel}")
        assert sorted(got) == [1, 2, 3], rel  # source_row = 1-based index of the object
        for i, record in enumerate(records):
            row = got[i + 1]
            assert row["project_code"] == record["PROJECT_CODE"]
            assert row["budget_amount_yuan"] == Decimal(str(record["BUDGET_AMOUNT"])).quantize(Decimal("0.01"))
            assert row["bidder_count"] == record["BIDDER_COUNT"]
            assert row["notice_send_time"] == dt.datetime.fromisoformat(record["NOTICE_SEND_TIME"])
    formats = dict(query(wh, "SELECT source_file, file_format FROM raw.load_files"))
    assert formats["trading/lines.jsonl"] == "jsonl" and formats["trading/lines_named.json"] == "jsonl"
    assert formats["trading/array.json"] == "json" and formats["trading/wrapped.json"] == "json"


def test_bad_values_rejected_with_file_row_column_and_accounting(gongkai_env):
    raw, wh = gongkai_env.raw_dir, gongkai_env.warehouse
    header = ["PROJECT_CODE", "BULLETIN_TYPE", "NOTICE_SEND_TIME", "中标金额(万元)", "BIDDER_COUNT"]
    rows = [
        ["B1", "交易公告", "2018-06-04 09:00:00", "1.5", "3"],
        ["B2", "交易公告", "2018-13-45", "2", "3"],          # bad date
        ["B3", "交易公告", "2018-06-05", "待定", "3"],          # bad amount
        ["B4", "交易公告", "2018-06-06", "", ""],             # blank amount: NULL, not zero
        # three bad cells, one rejected row ('三' alone is three since wave 13 — 若干, "several", is no count)
        ["B5", "交易公告", "明天", "1,2", "若干"],
        ["B6", "交易公告", "2018", "1", "1"],                 # a bare year is not a date
        ["B7", "交易公告", "2018-06-07", "9" * 18, "1"],      # too large for DECIMAL(20,2) once in 元
    ]
    write_csv(raw / "trading" / "bad.csv", header, rows)
    report = load(raw, wh)
    bad_rows = {3: {"NOTICE_SEND_TIME"}, 4: {"中标金额(万元)"}, 6: {"NOTICE_SEND_TIME", "中标金额(万元)", "BIDDER_COUNT"},
                7: {"NOTICE_SEND_TIME"}, 8: {"中标金额(万元)"}}
    assert report.rows_in == len(rows)
    assert report.rows_rejected == len(bad_rows)
    assert report.rows_loaded == len(rows) - len(bad_rows)
    rejects = query(wh, "SELECT source_file, source_row, source_column, raw_value, reason FROM raw.load_rejects")
    by_row: dict[int, set[str]] = {}
    for source_file, row, column, value, reason in rejects:
        assert source_file == "trading/bad.csv"
        by_row.setdefault(row, set()).add(column)
        assert value == rows[row - 2][header.index(column)]
        assert f"第{row}行" in reason and column in reason and value in reason
        assert "expected" in reason
    assert by_row == bad_rows
    got = bulletins(wh, "trading/bad.csv")
    assert sorted(got) == [2, 5]
    assert got[5]["bid_amount_yuan"] is None and got[5]["bidder_count"] is None
    status = load_file_row(wh, "trading/bad.csv")
    assert status["status"] == "loaded_with_rejects"
    assert status["rows_in"] == status["rows_loaded"] + status["rows_rejected"]


def test_undecodable_line_is_a_row_reject_header_undecodable_rejects_file_and_rerun_is_noop(gongkai_env):
    raw, wh = gongkai_env.raw_dir, gongkai_env.warehouse
    write_csv(raw / "trading" / "good.csv", ["PROJECT_CODE", "BULLETIN_TYPE"], [["P1", "交易公告"]])
    prefix = "PROJECT_CODE,BULLETIN_TYPE\nP2,".encode("utf-8")
    # line 2 is neither UTF-8 nor GBK; line 3 is fine: line 2's record is rejected, line 3 loads
    (raw / "trading" / "broken.csv").write_bytes(prefix + b"\xff\xfe\x80\x80\nP3,\xbd\xbb\xd2\xd7\xb9\xab\xb8\xe6\n")
    head = b"PROJECT_CODE,\xff\xfe\x80\x80\n"
    (raw / "trading" / "bad_header.csv").write_bytes(head + b"P4,x\n")
    write_csv(raw / "trading" / "nokeys.csv", ["名称", "金额"], [["x", "1"]])

    first = load(raw, wh)
    assert first.loaded == ["trading/broken.csv", "trading/good.csv"]
    assert sorted(first.rejected) == ["trading/bad_header.csv", "trading/nokeys.csv"]
    reasons = dict(query(wh, "SELECT source_file, reason FROM raw.load_rejects WHERE source_row IS NULL"))
    assert "trading/bad_header.csv" in reasons["trading/bad_header.csv"]
    assert "byte offset 0" in reasons["trading/bad_header.csv"]  # the header line starts at byte 0
    assert "PROJECT_CODE" in reasons["trading/nokeys.csv"]
    row_rejects = query(wh, "SELECT source_row, reason FROM raw.load_rejects WHERE source_file = 'trading/broken.csv'")
    assert [r for r, _ in row_rejects] == [2] and "neither UTF-8 nor" in row_rejects[0][1]
    broken = bulletins(wh, "trading/broken.csv")
    assert list(broken) == [3] and broken[3]["bulletin_type"] == "交易公告"  # the GBK line decoded as GBK
    assert len(bulletins(wh, "trading/good.csv")) == 1
    status = load_file_row(wh, "trading/broken.csv")
    assert (status["rows_in"], status["rows_loaded"], status["rows_rejected"]) == (2, 1, 1)
    assert "第 2 行" in status["reason"]

    def snapshot():
        return (query(wh, "SELECT * FROM raw.trading_bulletins ORDER BY source_file, source_row"),
                query(wh, "SELECT * FROM raw.load_rejects ORDER BY source_file, source_row"),
                query(wh, "SELECT count(*) FROM raw.load_files"))

    before = snapshot()
    second = load(raw, wh)
    assert second.loaded == [] and second.rejected == []
    assert sorted(second.unchanged) == sorted(first.loaded + first.rejected)
    assert snapshot() == before


def test_duplicated_export_kept_with_provenance_and_reported(gongkai_env):
    raw, wh = gongkai_env.raw_dir, gongkai_env.warehouse
    header = ["PROJECT_CODE", "BID_SECTION_CODE", "BULLETIN_TYPE", "NOTICE_SEND_TIME", "WIN_CANDIDATE_NAME",
              "WIN_CANDIDATE_ORDER"]
    export_a = [["D1", "1", "交易公告", "2018-05-01 09:00", "", ""],
                ["D1", "1", "中标候选人公示", "2018-05-25 09:00", "甲公司", "1"],
                ["D1", "1", "中标候选人公示", "2018-05-25 09:00", "乙公司", "2"]]
    # the second export overlaps the first: its last two rows repeat export_a's rows 3 and 4
    export_b = [["D2", "1", "交易公告", "2018/5/2 9:00", "", ""], export_a[1], export_a[2]]
    write_csv(raw / "trading" / "a.csv", header, export_a)
    write_csv(raw / "trading" / "b.csv", header, export_b, encoding="gb18030")
    load(raw, wh)
    assert query(wh, "SELECT count(*) FROM raw.trading_bulletins")[0][0] == len(export_a) + len(export_b)
    con = duckdb.connect(str(wh))
    try:
        report = duplicate_report(con)
    finally:
        con.close()
    assert report["duplicate_rows"] == 2 and report["duplicate_keys"] == 2
    pairs = {(e["source_file"], e["source_row"], e["duplicate_of"], e["duplicate_row"]) for e in report["examples"]}
    assert pairs == {("trading/b.csv", 3, "trading/a.csv", 3), ("trading/b.csv", 4, "trading/a.csv", 4)}
    # candidates of one notice are distinct bulletins (the order is part of the key)
    keys = [k for (k,) in query(wh, "SELECT bulletin_key FROM raw.trading_bulletins WHERE source_file='trading/a.csv'")]
    assert len(set(keys)) == len(keys)


def test_an_export_dropped_twice_is_reported_whole_and_listed_in_part(gongkai_env):
    # the same export saved twice under two names (导出.csv, 导出(1).csv): every row of one is a copy; the report
    # counts them all and lists the first `limit` — DuckDB counts, Python holds only the examples
    raw, wh = gongkai_env.raw_dir, gongkai_env.warehouse
    header = ["PROJECT_CODE", "BID_SECTION_CODE", "BULLETIN_TYPE", "NOTICE_SEND_TIME"]
    rows = [[f"W{i:04d}", "1", "交易公告", "2018-05-01 09:00"] for i in range(300)]
    write_csv(raw / "trading" / "导出.csv", header, rows)
    write_csv(raw / "trading" / "导出(1).csv", header, rows)
    load(raw, wh)
    con = duckdb.connect(str(wh))
    try:
        report = duplicate_report(con, limit=10)
    finally:
        con.close()
    assert (report["duplicate_rows"], report["duplicate_keys"]) == (300, 300)
    assert [(e["source_file"], e["source_row"], e["duplicate_of"], e["duplicate_row"]) for e in report["examples"]] \
        == [("trading/导出(1).csv", r, "trading/导出.csv", r) for r in range(2, 12)]


def test_duplicate_report_is_kept_until_a_trading_file_changes(gongkai_env):
    """The report is read back while the trading loads are the same, and made again when a file is (re)loaded."""
    from dagster_project.ingest.trading_copies import REPORT_TABLE

    raw, wh = gongkai_env.raw_dir, gongkai_env.warehouse
    header = ["PROJECT_CODE", "BID_SECTION_CODE", "BULLETIN_TYPE", "NOTICE_SEND_TIME"]
    rows = [["D1", "1", "交易公告", "2018-05-01 09:00"], ["D2", "1", "交易公告", "2018-05-02 09:00"]]
    write_csv(raw / "trading" / "a.csv", header, rows)
    write_csv(raw / "trading" / "b.csv", header, rows[:1])
    load(raw, wh)

    def report():
        con = duckdb.connect(str(wh))
        try:
            return duplicate_report(con)
        finally:
            con.close()

    first = report()
    assert (first["duplicate_rows"], first["duplicate_keys"]) == (1, 1)
    assert query(wh, f"SELECT count(*) FROM {REPORT_TABLE}")[0][0] == 1
    # a kept report is what is read back: shown by editing it (nothing else writes it)
    con = duckdb.connect(str(wh))
    try:
        con.execute(f"UPDATE {REPORT_TABLE} SET report = replace(report, '\"duplicate_rows\": 1', "
                    f"'\"duplicate_rows\": 7')")
    finally:
        con.close()
    assert report()["duplicate_rows"] == 7
    write_csv(raw / "trading" / "b.csv", header, rows)  # b.csv re-published: now both of its rows repeat a.csv's
    load(raw, wh)
    again = report()
    assert (again["duplicate_rows"], again["duplicate_keys"]) == (2, 2)
    con = duckdb.connect(str(wh), read_only=True)
    try:
        assert duplicate_report(con) == again  # a read-only connection makes the report without keeping it
    finally:
        con.close()


def test_header_binding_uses_alias_seed_variants():
    headers = ["项目编号", "标段(包)编号", " 公告类型 ", "预算金额（万元）", "BID_AMOUNT", "unknown"]
    bindings, ignored = bind_headers(headers)
    by_field = {b.field: b for b in bindings}
    assert set(by_field) == {"project_code", "bid_section_code", "bulletin_type", "budget_amount", "bid_amount"}
    assert by_field["budget_amount"].multiplier == textfiles.amount_units()["万元"]
    assert by_field["bid_amount"].multiplier is None
    assert ignored == ["unknown"]
    # a column exported twice, or a second label of a field already read: repeated, not unknown
    headers += ["PROJECT_CODE", "公告类型"]
    bindings, ignored = bind_headers(headers)
    assert ignored == ["unknown", "PROJECT_CODE", "公告类型"]
    assert repeated_headers(ignored, bindings) == ["PROJECT_CODE", "公告类型"]


@pytest.mark.parametrize("encoding", ["utf-8", "gb18030"])
def test_decoding_across_chunk_boundaries(tmp_path, monkeypatch, encoding):
    monkeypatch.setattr(text_encoding, "CHUNK_BYTES", 7)  # multibyte characters straddle every boundary
    text = "项目编号,公告类型\n" + "".join(f"宁夏{i},交易公告\n" for i in range(50))
    path = tmp_path / "f.csv"
    path.write_bytes(text.encode(encoding))
    assert textfiles.detect_encoding(path)[0] == encoding
    good = text.encode(encoding)
    path.write_bytes(good + b"\xff")
    found, utf8_bad, gb_bad = textfiles.detect_encoding(path)
    assert found == "" and gb_bad == len(good)
    # line by line (a GBK file with UTF-8 lines), lines cut by every chunk boundary
    mixed = b"".join(line.encode("utf-8" if i % 3 == 1 else "gb18030")
                     for i, line in enumerate(text.splitlines(keepends=True)))
    path.write_bytes(mixed + b"\xff\xfe\n")
    sink = io.StringIO()
    stats = text_encoding.transcode_by_line(path, sink)
    assert sink.getvalue() == text + "\ufffd\ufffd\n"
    assert stats.bad_lines == [len(text.splitlines()) + 1] and set(stats.by_encoding) == {"utf-8", "gb18030"}


@pytest.mark.parametrize("encoding", ["utf-16-le", "utf-16-be"])
@pytest.mark.parametrize("chunk", [7, 8, 9])
def test_utf16_across_chunk_boundaries(tmp_path, monkeypatch, encoding, chunk):
    # pairs of surrogates (😀, extension B) and code units cut by every boundary; a lone surrogate on line 3 and a
    # cut last code unit on line 5 are U+FFFD, their lines listed
    monkeypatch.setattr(text_encoding, "CHUNK_BYTES", chunk)
    lines = ["项目编号\t公告类型\n", "宁夏😀𠀀\t交易公告\n", "坏\udc00字\t交易公告\n", "𠀀😀\t😀\n"]
    body = "".join(lines).encode(encoding, errors="surrogatepass")
    path = tmp_path / "f.txt"
    path.write_bytes("\ufeff".encode(encoding) + body + "末".encode(encoding)[:1])
    sink = io.StringIO()
    stats = text_encoding.transcode_utf16(path, encoding, sink)
    assert sink.getvalue() == "".join(lines).replace("\udc00", "\ufffd") + "\ufffd"
    assert stats.bad_lines == [3, 5] and stats.bad_count == 2 and stats.header_bad_offset is None


def _parse(con, macro: str, text: str):
    return con.execute(f"SELECT {macro}(?)", [text]).fetchone()[0]


@pytest.mark.parametrize("text, expected", [
    ("2018-06-04 09:00", dt.datetime(2018, 6, 4, 9, 0)),
    ("2018-6-4 9:05:07", dt.datetime(2018, 6, 4, 9, 5, 7)),
    ("2018年6月4日 9:30", dt.datetime(2018, 6, 4, 9, 30)),
    ("2018年06月04日09时30分", dt.datetime(2018, 6, 4, 9, 30)),
    ("2018.6.4", dt.datetime(2018, 6, 4)),
    ("20180604093000", dt.datetime(2018, 6, 4, 9, 30)),
    ("2018-06-04T01:00:00+08:00", dt.datetime(2018, 6, 4, 1, 0)),
    ("2018-06-04T01:00:00.500Z", dt.datetime(2018, 6, 4, 9, 0, 0, 500000)),
    ("43255", dt.datetime(2018, 6, 4)),
    ("201806040930", dt.datetime(2018, 6, 4, 9, 30)),
    # Unix times (Jackson writes a java.util.Date as milliseconds), UTC shown in Beijing time
    ("1528075800000", dt.datetime(2018, 6, 4, 9, 30)), ("1528075800", dt.datetime(2018, 6, 4, 9, 30)),
    ("1528075800123", dt.datetime(2018, 6, 4, 9, 30, 0, 123000)),
    # before 2001-09-09 a Unix time has a digit less: 12-digit milliseconds (not yyyyMMddHHmm: no 19/20 first), 9-digit
    # seconds
    ("978307200000", dt.datetime(2001, 1, 1, 8, 0)), ("999999999", dt.datetime(2001, 9, 9, 9, 46, 39)),
    # full-width digits and separators, as typed on a Chinese input method
    ("２０１８年６月４日 ９：３０", dt.datetime(2018, 6, 4, 9, 30)), ("２０１８－０６－０４", dt.datetime(2018, 6, 4)),
    # not dates: a short digit run, a bare year, an impossible day, a serial outside 1954–2119, words
    ("2018064", None), ("2018", None), ("2018-02-30", None), ("99999", None), ("明天", None),
    # not Unix times: before 2000 or after 2099, a mobile number's 11 digits
    ("0946684799", None), ("4102444800000", None), ("13995041234", None),
])
def test_timestamp_layouts(text, expected):
    con = duckdb.connect()
    try:
        textfiles.register_parse_macros(con)
        assert _parse(con, "gk_ts", text) == expected
    finally:
        con.close()


@pytest.mark.parametrize("text, expected", [
    ("1,234,567.891", Decimal("1234567.891")), ("-12.5", Decimal("-12.5")), ("￥1,000", Decimal("1000")),
    ("1.5E3", Decimal("1500")), ("1 234", Decimal("1234")), ("，", None), ("１，２３４．５", Decimal("1234.5")),
    ("1,23", None), ("1_000", None), ("待定", None), ("#REF!", None), ("12元", None), ("9" * 40, None),
])
def test_amount_texts(text, expected):
    con = duckdb.connect()
    try:
        textfiles.register_parse_macros(con)
        got = _parse(con, "gk_amount", text)
        assert (got if got is None else Decimal(got).normalize()) == (expected if expected is None else expected.normalize())
    finally:
        con.close()


def test_malformed_files_rejected_whole_malformed_records_rejected_alone(gongkai_env):
    raw, wh = gongkai_env.raw_dir, gongkai_env.warehouse
    trading = raw / "trading"
    trading.mkdir(parents=True)
    (trading / "ragged.csv").write_text("PROJECT_CODE,BULLETIN_TYPE\nP1,交易公告\nP2,交易公告,extra\nP3\n"
                                        "P4,交易公告\n", encoding="utf-8")
    (trading / "empty.csv").write_bytes(b"")
    (trading / "notjson.json").write_text("PROJECT_CODE: P1\n", encoding="utf-8")
    (trading / "mixed.json").write_text(json.dumps([{"PROJECT_CODE": "M1", "BULLETIN_TYPE": "交易公告"}, [1, 2]]),
                                       encoding="utf-8")
    write_csv(trading / "header_only.csv", ["PROJECT_CODE", "BULLETIN_TYPE"], [])
    report = load(raw, wh)
    assert sorted(report.rejected) == ["trading/empty.csv", "trading/notjson.json"]
    reasons = dict(query(wh, "SELECT source_file, reason FROM raw.load_rejects WHERE source_row IS NULL"))
    assert "empty" in reasons["trading/empty.csv"]
    # a record with too many or too few fields is a row reject naming its row; the rows after it keep theirs
    ragged = query(wh, "SELECT source_row, raw_value, reason FROM raw.load_rejects WHERE source_file = 'trading/ragged.csv' "
                       "ORDER BY 1")
    assert [(r, v) for r, v, _ in ragged] == [(3, "P2,交易公告,extra"), (4, "P3")]
    assert "more fields" in ragged[0][2] and "第3行" in ragged[0][2] and "fewer fields" in ragged[1][2]
    assert {r: b["project_code"] for r, b in bulletins(wh, "trading/ragged.csv").items()} == {2: "P1", 5: "P4"}
    ragged_file = load_file_row(wh, "trading/ragged.csv")
    assert (ragged_file["rows_in"], ragged_file["rows_loaded"], ragged_file["rows_rejected"]) == (4, 2, 2)
    # a JSON element that is not an object is a row reject, its siblings load
    mixed = query(wh, "SELECT source_row, reason FROM raw.load_rejects WHERE source_file = 'trading/mixed.json'")
    assert [row for row, _ in mixed] == [2] and "not a JSON object" in mixed[0][1]
    assert list(bulletins(wh, "trading/mixed.json")) == [1]
    header_only = load_file_row(wh, "trading/header_only.csv")
    assert (header_only["status"], header_only["rows_in"]) == ("loaded", 0)


def test_rows_without_deal_id_are_rejected_not_pooled(gongkai_env):
    raw, wh = gongkai_env.raw_dir, gongkai_env.warehouse
    write_csv(raw / "trading" / "type_only.csv", ["BULLETIN_TYPE", "NOTICE_NAME"], [["交易公告", "甲"], ["交易公告", "乙"]])
    write_csv(raw / "trading" / "partial.csv", ["PROJECT_CODE", "UNIFIED_DEAL_CODE", "BULLETIN_TYPE"],
              [["P1", "", "交易公告"], ["", "U1", "交易公告"], ["", "", "交易公告"]])
    report = load(raw, wh)
    assert report.rejected == []  # the files are trading exports (BULLETIN_TYPE is a key column)
    rejected = query(wh, "SELECT source_file, source_row FROM raw.load_rejects ORDER BY 1, 2")
    assert rejected == [("trading/partial.csv", 4), ("trading/type_only.csv", 2), ("trading/type_only.csv", 3)]
    keys = [k for (k,) in query(wh, "SELECT bulletin_key FROM raw.trading_bulletins ORDER BY source_row")]
    assert [k.split("|")[0] for k in keys] == ["P1/", "U1"]


def test_memory_cap_restored_even_after_a_rejected_file(gongkai_env):
    raw, wh = gongkai_env.raw_dir, gongkai_env.warehouse
    (raw / "trading").mkdir(parents=True)
    # a JSON array cut short: DuckDB's reader fails inside the transaction, which aborts it
    (raw / "trading" / "a_broken.json").write_text('[{"PROJECT_CODE": "P1", "BULLETIN_TYPE": "交易', encoding="utf-8")
    write_csv(raw / "trading" / "b_good.csv", ["PROJECT_CODE", "BULLETIN_TYPE"], [["P2", "交易公告"]])
    con = duckdb.connect(str(wh))
    try:
        con.execute("SET memory_limit = '3GB'")
        before = con.execute("SELECT current_setting('memory_limit')").fetchone()[0]
        report = framework.load_family(con, raw, "trading", load_trading_file)
        (raw / "trading" / "c_more.csv").write_text("PROJECT_CODE,BULLETIN_TYPE\nP3,交易公告\n", encoding="utf-8")
        framework.load_family(con, raw, "trading", load_trading_file)  # a second save/restore round trip
        after = con.execute("SELECT current_setting('memory_limit')").fetchone()[0]
        con.execute("RESET memory_limit")
        default = con.execute("SELECT current_setting('memory_limit')").fetchone()[0]
        framework.load_family(con, raw, "trading", load_trading_file)
        (raw / "trading" / "d_more.csv").write_text("PROJECT_CODE,BULLETIN_TYPE\nP4,交易公告\n", encoding="utf-8")
        framework.load_family(con, raw, "trading", load_trading_file)
        after_default = con.execute("SELECT current_setting('memory_limit')").fetchone()[0]
    finally:
        con.close()
    assert report.rejected == ["trading/a_broken.json"] and report.loaded == ["trading/b_good.csv"]
    assert after == before
    assert after_default == default
