"""A CSV whose records end in both CRLF and LF (a script's Python csv rows — CRLF by default — appended to a file an
editor saved with LF, or LF rows appended to Excel's CRLF export) is read whole, for every text family: every record
loads, and a quoted field keeps its CRLF or LF as data. Before, DuckDB's strict CSV scan failed the whole file
("无法按 CSV 读取"): every row lost. Files are written here by Python's csv module; expectations are read back from
the same rows with Python's csv, which reads mixed line ends as a person does."""
from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest

from dagster_project.ingest import line_ends
from dagster_project.ingest.tabular import load_portal_file, load_registry_file
from test_ingest_tabular import REGIONS, rows_of, run
from test_ingest_trading import bulletins, load, load_file_row

TRADING_HEADER = ["PROJECT_CODE", "BULLETIN_TYPE", "NOTICE_NAME", "NOTICE_SEND_TIME", "NOTICE_CONTENT"]


def write_in_two_parts(path: Path, header: list[str], first: list[list[str]], second: list[list[str]],
                       first_end: str, encoding: str = "utf-8") -> None:
    """``header`` + ``first`` written with ``first_end``, then ``second`` appended with the other line end
    (Python csv's default CRLF onto an LF file, or ``lineterminator='\\n'`` onto a CRLF file)."""
    other = "\r\n" if first_end == "\n" else "\n"
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding=encoding, newline="") as handle:
        csv.writer(handle, lineterminator=first_end).writerows([header, *first])
    with path.open("a", encoding=encoding, newline="") as handle:
        (csv.writer(handle) if other == "\r\n" else csv.writer(handle, lineterminator="\n")).writerows(second)


def python_reads(path: Path, encoding: str = "utf-8") -> list[list[str]]:
    with path.open(encoding=encoding, newline="") as handle:
        return list(csv.reader(handle))[1:]


def trading_rows(tag: str) -> tuple[list[list[str]], list[list[str]]]:
    first = [[f"{tag}1", "交易公告", "宁夏某局2019年\n办公楼维修改造工程", "2019-03-01 09:00:00", "第一段\r\n第二段"],
             [f"{tag}2", "交易公告", "短标题", "2019-03-02 09:00:00", "预算：100万元"]]
    second = [[f"{tag}3", "中标结果公告", "结果\r\n公示", "2019-03-20 10:00:00", "成交金额：\n80万元"],
              [f"{tag}4", "交易公告", '带"引号"的标题', "2019-03-21 10:00:00", "甲\n\n乙"]]
    return first, second


@pytest.mark.parametrize("first_end", ["\n", "\r\n"], ids=["crlf-onto-lf", "lf-onto-crlf"])
@pytest.mark.parametrize("encoding", ["utf-8", "gb18030"])
def test_trading_csv_with_both_line_ends_loads_every_record(gongkai_env, first_end, encoding):
    raw, wh = gongkai_env.raw_dir, gongkai_env.warehouse
    first, second = trading_rows("M")
    path = raw / "trading" / "export.csv"
    write_in_two_parts(path, TRADING_HEADER, first, second, first_end, encoding)
    data = path.read_bytes()
    assert b"\r\n" in data and data.replace(b"\r\n", b"").count(b"\n") > 0  # the file does end both ways
    expected = python_reads(path, encoding)
    assert len(expected) == len(first) + len(second)

    report = load(raw, wh)
    assert report.rejected == []
    got = bulletins(wh, "trading/export.csv")
    assert sorted(got) == list(range(2, 2 + len(expected)))  # one spreadsheet row per record
    for row, want in zip(sorted(got), expected):
        assert got[row]["notice_name"] == want[2] and got[row]["notice_content"] == want[4]
    status = load_file_row(wh, "trading/export.csv")
    assert (status["rows_in"], status["rows_loaded"], status["rows_rejected"]) == (4, 4, 0)
    assert line_ends.NOTE in (status["reason"] or "")


def test_portal_and_registry_csv_with_both_line_ends(gongkai_env):
    raw, wh = gongkai_env.raw_dir, gongkai_env.warehouse
    header = ["publisher_code", "publisher_name", "column", "title", "published_at", "url", "attachment"]
    first = [["640000", "宁夏回族自治区财政厅", "预决算公开", "2018年预算\n公开", "2018/2/10 10:00", "", ""]]
    second = [["640000", "宁夏回族自治区财政厅", "政府债务", "债务\r\n限额", "2018/3/1 10:00", "", ""],
              ["640000", "宁夏回族自治区财政厅", "预决算公开", "决算", "2018/8/1 10:00", "", ""]]
    write_in_two_parts(raw / "portal" / "publications_2018.csv", header, first, second, "\n")
    write_in_two_parts(raw / "registry" / "regions.csv", ["region_code", "region_name", "level", "parent_code"],
                       REGIONS[:2], REGIONS[2:], "\r\n")

    portal = run(raw, wh, "portal", load_portal_file)
    assert (portal.rows_in, portal.rows_loaded, portal.rows_rejected) == (3, 3, 0)
    got = rows_of(wh, "SELECT title FROM raw.portal_publications ORDER BY source_row")
    assert [g["title"] for g in got] == [r[3] for r in python_reads(raw / "portal" / "publications_2018.csv")]
    registry = run(raw, wh, "registry", load_registry_file)
    assert (registry.rows_in, registry.rows_loaded, registry.rows_rejected) == (len(REGIONS), len(REGIONS), 0)


def test_one_kind_of_record_end_is_read_as_written(gongkai_env):
    """Excel's CRLF export with Alt+Enter (LF) inside quoted cells ends every record one way: no copy, no note."""
    raw, wh = gongkai_env.raw_dir, gongkai_env.warehouse
    first, second = trading_rows("E")
    path = raw / "trading" / "excel.csv"
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerows([TRADING_HEADER, *first, *second])
    assert line_ends.count_line_ends(path).both_kinds  # the cheap count alone cannot tell ...
    assert line_ends.normalised_copy(path, Path(gongkai_env.raw_dir).parent / "tmp") is None  # ... quotes do
    load(raw, wh)
    status = load_file_row(wh, "trading/excel.csv")
    assert status["rows_loaded"] == 4 and line_ends.NOTE not in (status["reason"] or "")


def test_normalised_copy_across_chunk_boundaries(tmp_path, monkeypatch):
    """Quote state and a CRLF cut between two chunks carry over: every chunk size gives Python csv's records."""
    buf = io.StringIO(newline="")
    csv.writer(buf, lineterminator="\n").writerows([["a", "b"], ["1", 'x"\r\ny'], ["2", "p\nq"]])
    csv.writer(buf).writerows([["3", "r\r\ns"], ["4", "t"]])
    path = tmp_path / "m.csv"
    path.write_bytes(buf.getvalue().encode())
    want = list(csv.reader(io.StringIO(buf.getvalue(), newline="")))
    for size in range(1, len(path.read_bytes()) + 1):
        monkeypatch.setattr(line_ends, "CHUNK_BYTES", size)
        copy = line_ends.normalised_copy(path, tmp_path / "tmp")
        assert copy is not None
        data = copy.read_bytes()
        assert list(csv.reader(io.StringIO(data.decode(), newline=""))) == want
        assert data.count(b"\r\n") == 2  # the two quoted CRLFs kept as data, every record end LF
        copy.unlink()


def test_one_kind_of_record_end_at_every_chunk_size(tmp_path, monkeypatch):
    """LF-ended with quoted CRLFs, and CRLF-ended with quoted LFs (what Python csv and Excel write): no copy."""
    for end in ("\n", "\r\n"):
        buf = io.StringIO(newline="")
        csv.writer(buf, lineterminator=end).writerows([["a", "b"], ["1", 'x"\r\ny'], ["2", "p\nq"], ["3", "t"]])
        path = tmp_path / "one.csv"
        path.write_bytes(buf.getvalue().encode())
        assert line_ends.count_line_ends(path).both_kinds
        for size in range(1, len(path.read_bytes()) + 1):
            monkeypatch.setattr(line_ends, "CHUNK_BYTES", size)
            assert line_ends.normalised_copy(path, tmp_path / "tmp") is None, (end, size)
