"""PDF reader throughput: gongkai's reader (pages → segmented tables → recognised lines + narrative) next to
the bare library's own text extraction of the same pages (pdfplumber ``page.extract_text()``: the floor).

The PDFs are made as publishers make them: disclosure HTML (tables of 类|款|项 rows in 元 with thousands
separators, headers repeated on every page, page numbers and a running head, narrative sections) printed by
headless Chromium. Measured, on the same files:
  floor        pdfplumber open + extract_text of every page, one process;
  serial       gongkai's parse_workbook of every file, one process;
  parallel     the ingest's prefetch: the same parses in 2 child processes into an empty SHA-256 cache;
  cached       the loader's parse_cached of every file once the cache holds them (an unchanged file).

    .venv/bin/python benchmarks/pdf_reader.py --pages 1000 --out benchmarks/results/pdf-reader.json
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

ROWS_PER_TABLE = 80       # about three A4 landscape pages a table
TABLES_PER_FILE = 12


def disclosure_html(file_no: int) -> str:
    css = ("@page { size: A4 landscape; margin: 15mm; @top-center { content: '基准单位2025年部门预算'; } "
           "@bottom-center { content: counter(page); } } body { font-family: 'Noto Sans CJK SC'; font-size: 11pt; } "
           "table { border-collapse: collapse; width: 100%; } td, th { border: 1px solid #000; padding: 3pt; } "
           "thead { display: table-header-group; } .t { page-break-before: always; } h3 { text-align: center; }")
    parts = ["<h1>基准单位2025年部门预算</h1><div class='t'><h2>第一部分 部门概况</h2><h3>一、主要职能</h3>"
             "<p>负责相关工作。</p><h3>二、机构设置</h3><p>内设处室若干。</p></div>"]
    for t in range(TABLES_PER_FILE):
        rows = "".join(
            f"<tr><td>2{t % 30:02d}</td><td>{(r // 10) + 1:02d}</td><td>{r % 10 + 1:02d}</td><td>项目{file_no}-{t}-{r}</td>"
            f"<td>{(r + 1) * 1234567 + t:,}.00</td><td>{(r + 1) * 1000000:,}.00</td><td>{(r + 1) * 234567 + t:,}.00</td></tr>"
            for r in range(ROWS_PER_TABLE))
        parts.append(
            f"<section class='t'><h3>2025年部门支出预算总表</h3><div style='display:flex;justify-content:space-between'>"
            f"<span>编制部门：基准单位{file_no}</span><span>单位：元</span></div><table><thead><tr>"
            "<th colspan='3'>功能分类科目编码</th><th rowspan='2'>科目名称</th><th rowspan='2'>合计</th>"
            "<th rowspan='2'>基本支出</th><th rowspan='2'>项目支出</th></tr><tr><th>类</th><th>款</th><th>项</th></tr>"
            f"</thead><tbody>{rows}</tbody></table></section>")
    return f"<!doctype html><html><head><meta charset='utf-8'><style>{css}</style></head><body>{''.join(parts)}</body></html>"


def make_pdfs(folder: Path, pages: int) -> list[Path]:
    import pdfplumber

    from dagster_project.sample.formats import print_pdf

    folder.mkdir(parents=True, exist_ok=True)
    files, total, n = [], 0, 0
    while total < pages:
        path = folder / f"disclosure-{n:03d}.pdf"
        if not path.exists():
            print_pdf(disclosure_html(n), path)
        with pdfplumber.open(path) as pdf:
            total += len(pdf.pages)
        files.append(path)
        n += 1
    return files


def load() -> str:
    return subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pages", type=int, default=1000)
    parser.add_argument("--work", type=Path, default=REPO / "benchmarks" / "work" / "pdf")
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args(argv)
    import logging

    import pdfplumber

    logging.getLogger("pdfminer").setLevel(logging.ERROR)
    from dagster_project.ingest import framework, parse_cache
    from dagster_project.ingest.workbook import parse_workbook

    files = make_pdfs(args.work / "pdfs", args.pages)
    results: dict = {"load_before": load(), "machine": {"cores": os.cpu_count(), "python": platform.python_version(),
                                                        "pdfplumber": pdfplumber.__version__}}
    started = time.perf_counter()
    pages = 0
    for path in files:
        with pdfplumber.open(path) as pdf:
            for page in pdf.pages:
                page.extract_text()
                pages += 1
    floor = time.perf_counter() - started
    started = time.perf_counter()
    lines = 0
    for path in files:
        lines += len(parse_workbook(path).lines)
    serial = time.perf_counter() - started
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["GONGKAI_WAREHOUSE"] = str(Path(tmp) / "w.duckdb")   # the cache lives beside the warehouse
        raw = [framework.RawFile(p, f"budget/{p.name}", framework.sha256_of(p), p.stat().st_size, "budget")
               for p in files]
        started = time.perf_counter()
        parse_cache.prefetch(raw, workers=2)
        parallel = time.perf_counter() - started
        started = time.perf_counter()
        cached_lines = sum(len(parse_cache.parse_cached(f).lines) for f in raw)
        cached = time.perf_counter() - started
    assert cached_lines == lines
    results.update({
        "files": len(files), "pages": pages, "lines": lines,
        "floor_extract_text": {"seconds": round(floor, 1), "pages_per_second": round(pages / floor, 1)},
        "gongkai_serial": {"seconds": round(serial, 1), "pages_per_second": round(pages / serial, 1)},
        "gongkai_parallel_2": {"seconds": round(parallel, 1), "pages_per_second": round(pages / parallel, 1)},
        "gongkai_cached": {"seconds": round(cached, 2), "pages_per_second": round(pages / cached, 1)},
        "load_after": load(),
    })
    text = json.dumps(results, ensure_ascii=False, indent=1)
    print(text)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(text + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
