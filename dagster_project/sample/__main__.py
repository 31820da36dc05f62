"""CLI: ``python -m dagster_project.sample --seed N --scale S --years 2017-2019 --out DIR [--force]``.

Exit code 2 with a message on nonsense arguments (argparse's convention)."""
from __future__ import annotations

import argparse
import os
import shutil
import sys
import time
from pathlib import Path

FIRST_YEAR, LAST_YEAR = 2015, 2026


def parse_years(text: str) -> list[int]:
    try:
        if "-" in text:
            lo, hi = (int(x) for x in text.split("-", 1))
        else:
            lo = hi = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"年度格式应为 YYYY 或 YYYY-YYYY years must look like 2017-2019, got {text!r}")
    if lo > hi:
        raise argparse.ArgumentTypeError(f"年度区间颠倒 years reversed: {lo} > {hi}")
    if lo < FIRST_YEAR or hi > LAST_YEAR:
        raise argparse.ArgumentTypeError(f"年度须在{FIRST_YEAR}–{LAST_YEAR}之间 years must lie within {FIRST_YEAR}-{LAST_YEAR}, got {text}")
    return list(range(lo, hi + 1))


def parse_scale(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"规模应为正数 scale must be a positive number, got {text!r}")
    if not value > 0 or value != value or value == float("inf"):
        raise argparse.ArgumentTypeError(f"规模应为正数 scale must be > 0, got {text}")
    return value


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m dagster_project.sample",
                                     description="生成样例原始数据 Generate a deterministic gongkai raw root with ground truth.")
    parser.add_argument("--seed", type=int, required=True)
    parser.add_argument("--scale", type=parse_scale, default=1.0, help="1 ≈ 800 trading rows; trading grows linearly")
    parser.add_argument("--years", type=parse_years, default=parse_years("2017-2019"))
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--force", action="store_true", help="replace a non-empty output directory")
    args = parser.parse_args(argv)
    out: Path = args.out
    if out.exists() and not out.is_dir():
        parser.error(f"输出路径不是目录 --out is not a directory: {out}")
    if out.exists() and any(out.iterdir()):
        if not args.force:
            parser.error(f"输出目录非空 --out is not empty: {out} (use --force to replace it)")
    probe_dir = out if out.exists() else next((p for p in out.parents if p.exists()), Path("."))
    if not os.access(probe_dir, os.W_OK | os.X_OK):
        parser.error(f"输出目录不可写 --out is not writable: {out}")
    if out.exists() and args.force:
        for child in out.iterdir():
            shutil.rmtree(child) if child.is_dir() and not child.is_symlink() else child.unlink()
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        parser.error(f"无法创建输出目录 cannot create --out {out}: {exc}")
    from .generate import generate  # heavy imports only after the arguments are valid

    started = time.perf_counter()
    truth = generate(out, args.seed, args.scale, args.years)
    c = truth["counts"]
    print(f"wrote {out}: {c['workbooks']} workbooks, {c['sheets']} sheets, {c['trading_rows']} trading rows, "
          f"{c['deals']} deals, {len(truth['findings'])} planted findings in {time.perf_counter() - started:.1f}s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
