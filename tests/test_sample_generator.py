"""The sample generator's determinism (the same seed writes the same files, another seed other files), the
committed ``data/raw`` equals a fresh generation with the documented call, and bad arguments or an unusable
output directory exit 2 without writing."""
from __future__ import annotations

import json
import subprocess
import sys
import zipfile
from pathlib import Path

import openpyxl
import pytest

from dagster_project.sample.__main__ import main as sample_main
from dagster_project.sample.formats import chromium
from sample_files import COMMITTED, DOCUMENTED_ARGS, REPO, fresh_dir, xls_sheets  # noqa: F401

# ---------------------------------------------------------------------------------------------- determinism, CLI


def cell_values(path: Path):
    if not zipfile.is_zipfile(path):
        return path.read_bytes()
    wb = openpyxl.load_workbook(path)
    return [(ws.title, [list(r) for r in ws.iter_rows(values_only=True)], sorted(map(str, ws.merged_cells.ranges)))
            for ws in wb.worksheets]


def pdf_pages_text(path: Path) -> list[str]:
    import pdfplumber

    with pdfplumber.open(path) as pdf:
        return [page.extract_text() or "" for page in pdf.pages]


def assert_same_tree(a: Path, b: Path) -> list[str]:
    """Same files with the same content: xlsx/xls by their cells, PDFs by their text page by page (a PDF
    printer's version may change bytes, not what a reader reads), the rest byte for byte. Without Chromium
    the generator prints no PDF: those are listed and left out (returned)."""
    fa = sorted(p.relative_to(a).as_posix() for p in a.rglob("*") if p.is_file())
    fb = sorted(p.relative_to(b).as_posix() for p in b.rglob("*") if p.is_file())
    skipped = []
    if chromium() is None:
        skipped = sorted({r for r in fa + fb if r.endswith(".pdf")})
        fa, fb = [r for r in fa if r not in skipped], [r for r in fb if r not in skipped]
    assert fa == fb
    for rel in fa:
        if rel.endswith(".xlsx"):
            assert cell_values(a / rel) == cell_values(b / rel), rel
        elif (a / rel).read_bytes() == (b / rel).read_bytes():
            continue   # the same bytes: the same content (the generator fixes the PDF printer's timestamps)
        elif rel.endswith(".xls"):
            assert [(s.ws.title, s.rows) for s in xls_sheets(a / rel)] == \
                [(s.ws.title, s.rows) for s in xls_sheets(b / rel)], rel
        elif rel.endswith(".pdf"):
            assert pdf_pages_text(a / rel) == pdf_pages_text(b / rel), rel
        else:
            assert (a / rel).read_bytes() == (b / rel).read_bytes(), rel
    return skipped


def test_same_seed_same_files_different_seed_different(fresh_dir, tmp_path):
    again = tmp_path / "again"
    assert sample_main(DOCUMENTED_ARGS + ["--out", str(again)]) == 0
    assert_same_tree(fresh_dir, again)
    # xlsx bytes are identical too (fixed document properties and zip timestamps)
    for p in fresh_dir.rglob("*.xlsx"):
        assert p.read_bytes() == (again / p.relative_to(fresh_dir)).read_bytes()
    other = tmp_path / "other"
    assert sample_main(["--seed", "7", "--scale", "1", "--years", "2017-2019", "--out", str(other)]) == 0
    assert (other / "registry/entities_2018.csv").read_bytes() != (fresh_dir / "registry/entities_2018.csv").read_bytes()
    assert json.loads((other / "ground_truth.json").read_text())["findings"] != \
        json.loads((fresh_dir / "ground_truth.json").read_text())["findings"]


def test_committed_sample_equals_documented_generation(fresh_dir):
    skipped = assert_same_tree(fresh_dir, COMMITTED)
    if skipped:
        pytest.skip(f"chromium is not installed: the sample's {len(skipped)} PDFs could not be printed and were not "
                    "compared (every other file was); install Debian's chromium and fonts-noto-cjk (make browser)")


def _run(args, cwd):
    return subprocess.run([sys.executable, "-m", "dagster_project.sample", *args], cwd=cwd, capture_output=True,
                          text=True, timeout=120)


@pytest.mark.parametrize("args,needle", [
    (["--scale", "0"], "scale"),
    (["--scale", "-3"], "scale"),
    (["--scale", "abc"], "scale"),
    (["--years", "2014-2016"], "2015"),
    (["--years", "2019-2017"], "reversed"),
    (["--years", "2027"], "2026"),
])
def test_bad_arguments_exit_2(tmp_path, args, needle):
    res = _run(["--seed", "1", "--out", str(tmp_path / "o"), *args], REPO)
    assert res.returncode == 2, res.stderr
    assert needle in res.stderr
    assert not (tmp_path / "o").exists()


def test_non_empty_and_unwritable_out(tmp_path):
    busy = tmp_path / "busy"
    busy.mkdir()
    (busy / "keep.txt").write_text("x")
    res = _run(["--seed", "1", "--out", str(busy)], REPO)
    assert res.returncode == 2 and "--force" in res.stderr and (busy / "keep.txt").exists()
    blocker = tmp_path / "file.txt"
    blocker.write_text("x")
    res = _run(["--seed", "1", "--out", str(blocker / "sub")], REPO)
    assert res.returncode == 2 and "--out" in res.stderr
