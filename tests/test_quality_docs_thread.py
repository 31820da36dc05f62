"""GX Data Docs rendered in the runner's docs thread (``runner._build_docs`` after the datasource is released, beside
the runner's DuckDB work) are the pages the synchronous path renders, with a personal number masked in both; the
rendering does not run on the caller's thread. Real GX on a real DuckDB file (no mocks)."""
from __future__ import annotations

import re
import threading
from pathlib import Path

import duckdb

from dagster_project import personal_numbers
from dagster_project.quality import runner
from dagster_project.quality.runner import CheckOutcome, _run_gx
from dagster_project.quality.suites import RuleExpectation, Suite

ID_NUMBER = "11010519491231002X"  # a well-formed resident identity number (checksum valid)


def _warehouse(path: Path) -> Path:
    con = duckdb.connect(str(path))
    con.execute("create schema marts")
    con.execute(f"create table marts.t as select * from (values ('{ID_NUMBER}', 1), ('{ID_NUMBER}', 2), "
                "('b', 3), (null, 4)) v(k, n)")
    con.close()
    return path


def _suite(tmp_path: Path) -> Suite:
    exps = tuple(RuleExpectation("integrity", "integrity", "INTEG_KEY_UNIQUE", "failure", "x", "k", "marts.t", t,
                                 kwargs={"column": "k"})
                 for t in ("expect_column_values_to_be_unique", "expect_column_values_to_not_be_null"))
    return Suite("integrity", "integrity", "完整性", "integrity", tmp_path / "integrity.yml", exps)


def _pages(docs: Path) -> dict[str, str]:
    """Page text by path, run times and GX's random ids left out."""
    def norm(text: str) -> str:
        text = re.sub(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", "UUID", text)
        text = re.sub(r"\d{8}T\d{6}\.\d+Z", "TS", text)
        text = re.sub(r"\d{4}-\d\d-\d\d[T ][0-9:.]+(\+00:00|Z)?", "TIME", text)
        return re.sub(r"\d{9,10}\.\d+", "EPOCH", text)
    return {re.sub(r"\d{8}T\d{6}\.\d+Z", "TS", p.relative_to(docs).as_posix()): norm(p.read_text(encoding="utf-8"))
            for p in sorted(docs.rglob("*.html"))}


def test_docs_rendered_in_the_thread_equal_the_synchronous_pages(tmp_path, monkeypatch):
    warehouse, suite = _warehouse(tmp_path / "w.duckdb"), _suite(tmp_path)
    threads = []
    build = runner._build_docs
    monkeypatch.setattr(runner, "_build_docs", lambda *a: threads.append(threading.current_thread()) or build(*a))

    sync_docs = tmp_path / "sync"
    index = _run_gx(warehouse, [suite], sync_docs, {e.expectation_id: CheckOutcome(e) for e in suite.expectations})
    assert index == sync_docs / "index.html" and threads[-1] is threading.current_thread()

    later: list = []
    outcomes = {e.expectation_id: CheckOutcome(e) for e in suite.expectations}
    thread_docs = tmp_path / "thread"
    assert _run_gx(warehouse, [suite], thread_docs, outcomes, docs_later=later) is None
    duckdb.connect(str(warehouse)).close()  # GX let go of the file before the pages are rendered
    assert later[0].result() == thread_docs / "index.html"
    assert threads[-1] is not threading.current_thread()
    assert [o.gx_success for o in outcomes.values()] == [False, False]

    sync_pages, thread_pages = _pages(sync_docs), _pages(thread_docs)
    assert len(sync_pages) >= 3 and sync_pages == thread_pages
    assert not any(ID_NUMBER in text for text in thread_pages.values())
    masked = personal_numbers.mask(ID_NUMBER)
    assert masked != ID_NUMBER and any(masked in text for text in thread_pages.values())  # the duplicated sample
