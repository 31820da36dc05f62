"""The floor: the same essential work as the pipeline, hand-written, with no orchestration.

Read every raw family, standardise trading bulletins (aliases, units, times), deduplicate, assemble
deals, compute the trading timeline and count rule failures, join expected disclosure items to what
was published, and write Parquet. SQL does the work in DuckDB; Python only lists files, transcodes
GBK (DuckDB cannot read it offline) and reads workbook titles (DuckDB's excel extension cannot be
installed offline). No parser generality, no provenance, no rejects, no checks: this is the cost
of the stack itself, the number the pipeline is compared against.

The **equal-work floor** (``--publish``, the default; ``--no-publish`` = the old floor) then writes the
same published datasets as gongkai's release from those tables (``publish.sql``): per fiscal year, masked
trading bulletins, deals and disclosure status as Parquet and as CSV with a BOM, one gzipped OCDS release
package of the year's bulletins, and SHA256SUMS. Its stages are named ``publish_*``; the old floor's total
is the total without them (``benchmarks/report.py`` gives both ratios).

    python benchmarks/floor/floor.py --raw RAW --work DIR --report stages.json
"""
from __future__ import annotations

import argparse
import codecs
import csv
import gzip
import hashlib
import json
import shutil
import re
import time
from pathlib import Path

import duckdb

REPO = Path(__file__).resolve().parents[2]
SEEDS = REPO / "dbt" / "seeds"
SQL = Path(__file__).with_name("floor.sql")
PUBLISH_SQL = Path(__file__).with_name("publish.sql")
BOM = codecs.BOM_UTF8


def _statements(text: str) -> list[str]:
    return [s.strip() for s in text.split(";\n") if s.strip()]


def _run_staged(con, statements: list[str], stages: dict[str, float], stage: str, **values: str) -> str:
    """Run statements, timing each under the last ``-- stage: name`` marker seen."""
    for statement in statements:
        match = re.search(r"--\s*stage:\s*(\w+)", statement)
        stage = match.group(1) if match else stage  # a stage runs until the next marker
        begin = time.perf_counter()
        for key, value in values.items():
            statement = statement.replace("{" + key + "}", value)
        con.execute(statement)
        stages[stage] = stages.get(stage, 0.0) + time.perf_counter() - begin
    return stage


def publish(con, out: Path, stages: dict[str, float]) -> None:
    """The same published datasets as gongkai's release, per fiscal year (see the module doc)."""
    years = sorted({r[0] for r in con.execute(
        "SELECT fiscal_year FROM disclosure_status UNION SELECT year(coalesce(announced_at, doc_start, result_at)) "
        "FROM timelines").fetchall() if r[0] is not None})
    statements = _statements(PUBLISH_SQL.read_text(encoding="utf-8"))
    envelope = ('{"uri":"floor","version":"1.1","publishedDate":"2026-01-01T00:00:00Z",'
                '"publisher":{"name":"floor"},"releases":[\n')
    for year in years:
        folder = out / "release" / str(year)
        folder.mkdir(parents=True, exist_ok=True)
        _run_staged(con, statements, stages, "publish_mask", year=str(year), out=folder.as_posix())
        begin = time.perf_counter()
        for raw in folder.glob("*.csv.nobom"):  # the BOM Excel needs, prefixed while copying
            with open(raw.with_suffix(""), "wb") as target, open(raw, "rb") as source:
                target.write(BOM)
                shutil.copyfileobj(source, target, 16 << 20)
            raw.unlink()
        stages["publish_csv"] = stages.get("publish_csv", 0.0) + time.perf_counter() - begin
        begin = time.perf_counter()
        lines = folder / f"release-package-{year}.lines"
        with open(lines, "rb") as source, open(folder / f"release-package-{year}-0001.json.gz", "wb") as raw_out, \
                gzip.GzipFile(fileobj=raw_out, mode="wb", compresslevel=3, mtime=0) as target:
            target.write(envelope.encode("utf-8"))
            shutil.copyfileobj(source, target, 16 << 20)
            target.write(b"]}\n")
        lines.unlink()
        stages["publish_ocds"] = stages.get("publish_ocds", 0.0) + time.perf_counter() - begin
    begin = time.perf_counter()
    sums = []
    for path in sorted(p for p in (out / "release").rglob("*") if p.is_file()):
        digest = hashlib.sha256()
        with open(path, "rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
        sums.append(f"{digest.hexdigest()}  {path.relative_to(out / 'release').as_posix()}\n")
    (out / "release" / "SHA256SUMS").write_text("".join(sums), encoding="utf-8")
    stages["publish_checksums"] = time.perf_counter() - begin


def transcode_if_needed(path: Path, tmp: Path) -> Path:
    """UTF-8 (with or without BOM) is read in place; anything else is decoded as GB18030."""
    head = path.read_bytes()[:4]
    if head.startswith(codecs.BOM_UTF8):
        return path
    try:
        with path.open("r", encoding="utf-8") as handle:
            while handle.read(1 << 20):
                pass
        return path
    except UnicodeDecodeError:
        target = tmp / (path.stem + ".utf8.csv")
        # the floor does not decide per line (the pipeline does): lines in neither encoding become U+FFFD
        with path.open("r", encoding="gb18030", errors="replace") as src, target.open("w", encoding="utf-8") as dst:
            while block := src.read(1 << 20):
                dst.write(block)
        return target


def alias_map() -> dict[str, str]:
    with (SEEDS / "ingest" / "ref_trading_field_aliases.csv").open(encoding="utf-8") as handle:
        # rows naming a table of the national data standard apply to that table's files only
        return {row["alias"].strip(): row["canonical_field"] for row in csv.DictReader(handle)
                if not (row.get("source_table") or "").strip()}


def unit_of(header: str) -> tuple[str, int]:
    """`中标金额(万元)` → (`中标金额`, 10000)."""
    match = re.match(r"^(.*?)[（(](亿元|千万元|万元|千元|元)[)）]$", header)
    if not match:
        return header, 1
    return match.group(1), {"元": 1, "千元": 1000, "万元": 10000, "千万元": 10**7, "亿元": 10**8}[match.group(2)]


AMOUNT_FIELDS = ("budget_amount", "bid_amount")
TIME_FIELDS = ("notice_send_time", "doc_get_start_time", "doc_get_end_time", "bid_doc_refer_end_time",
               "bid_open_time", "publicity_start_time", "publicity_end_time", "contract_sign_time")
TEXT_FIELDS = ("project_code", "bid_section_code", "unified_deal_code", "bulletin_type", "trade_area",
               "notice_name", "tenderer_name", "tenderer_code", "win_bidder_name", "win_bidder_code",
               "bidder_count", "notice_content", "amount_unit")


def trading_select(con, path: Path, aliases: dict[str, str]) -> str:
    """One SELECT per file mapping its headers onto canonical names (all text)."""
    if path.suffix == ".csv":
        source = f"read_csv('{path}', all_varchar=true, header=true)"
    elif path.suffix in (".jsonl", ".ndjson"):
        # a malformed line is skipped (the pipeline rejects it naming its line)
        source = f"read_json_auto('{path}', format='newline_delimited', ignore_errors=true)"
    else:
        text = path.read_text(encoding="utf-8").lstrip()
        body = json.loads(text) if text.startswith("{") else None
        if body is not None and isinstance(body.get("data"), dict):   # the platform's {"data": {"records": [...]}}
            source = f"(SELECT unnest(data.records, recursive := true) FROM read_json_auto('{path}'))"
        elif body is not None:
            source = f"(SELECT unnest(data, recursive := true) FROM read_json_auto('{path}'))"
        else:
            source = f"read_json_auto('{path}', format='array')"
    columns = [r[0] for r in con.execute(f"DESCRIBE SELECT * FROM {source}").fetchall()]
    picked: dict[str, str] = {}
    for column in columns:
        base, multiplier = unit_of(column.strip().lstrip("\ufeff"))
        canonical = aliases.get(base) or aliases.get(column.strip().lstrip("\ufeff"))
        if not canonical or canonical in picked:
            continue
        expr = f'CAST("{column}" AS VARCHAR)'
        if canonical.replace("_yuan", "") in AMOUNT_FIELDS and multiplier != 1:
            expr = f"CAST(TRY_CAST(replace({expr}, ',', '') AS DECIMAL(20,4)) * {multiplier} AS VARCHAR)"
        picked[canonical.replace("_yuan", "")] = expr
    wanted = AMOUNT_FIELDS + TIME_FIELDS + TEXT_FIELDS
    select = ", ".join(f"{picked.get(field, 'NULL')} AS {field}" for field in wanted)
    return f"SELECT {select}, '{path.name}' AS source_file FROM {source}"


def workbook_titles(raw: Path) -> list[tuple[str, str, str]]:
    """(file name, sheet, title) — the first non-empty cell of each sheet."""
    from openpyxl import load_workbook

    out = []
    for family in ("budget", "debt"):
        for path in sorted((raw / family).rglob("*.xlsx")):
            try:
                book = load_workbook(path, read_only=True, data_only=True)
            except Exception:
                continue
            for sheet in book.worksheets:
                for row in sheet.iter_rows(min_row=1, max_row=3, values_only=True):
                    title = next((str(v) for v in row if v not in (None, "")), None)
                    if title:
                        out.append((path.name, sheet.title, title))
                        break
            book.close()
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--raw", type=Path, required=True)
    parser.add_argument("--work", type=Path, required=True)
    parser.add_argument("--report", type=Path, required=True)
    parser.add_argument("--publish", action=argparse.BooleanOptionalAction, default=True,
                        help="also write the published datasets (the equal-work floor; default on)")
    args = parser.parse_args(argv)
    args.work.mkdir(parents=True, exist_ok=True)
    tmp = args.work / "tmp"
    tmp.mkdir(exist_ok=True)
    stages: dict[str, float] = {}
    con = duckdb.connect(str(args.work / "floor.duckdb"))
    con.execute("SET preserve_insertion_order = false")

    start = time.perf_counter()
    aliases = alias_map()
    files = [p for p in sorted((args.raw / "trading").rglob("*")) if p.suffix in (".csv", ".json", ".jsonl", ".ndjson")]
    selects = [trading_select(con, transcode_if_needed(p, tmp) if p.suffix == ".csv" else p, aliases) for p in files]
    con.execute("CREATE OR REPLACE TABLE trading_text AS " + " UNION ALL ".join(selects))
    titles = workbook_titles(args.raw)
    con.execute("CREATE OR REPLACE TABLE sheet_titles (attachment VARCHAR, sheet VARCHAR, title VARCHAR)")
    # one statement for all titles: ``executemany`` runs one INSERT per row (≈ 0.6 ms each), work the floor need not do
    con.execute("INSERT INTO sheet_titles SELECT unnest(?), unnest(?), unnest(?)",
                [[t[i] for t in titles] for i in range(3)])
    for name, pattern in (("registry_entities", "registry/entities_*.csv"), ("registry_approvals", "registry/approvals.csv"),
                          ("registry_regions", "registry/regions.csv"), ("portal", "portal/*.csv")):
        con.execute(f"CREATE OR REPLACE TABLE {name} AS SELECT *, filename AS file FROM read_csv('{args.raw / pattern}', "
                    "all_varchar=true, header=true, union_by_name=true, filename=true)")
    for seed in ("ref_disclosure_catalogue", "ref_working_calendar", "ref_rule_catalogue"):
        con.execute(f"CREATE OR REPLACE TABLE {seed} AS SELECT * FROM read_csv('{SEEDS / (seed + '.csv')}', header=true)")
    stages["read"] = time.perf_counter() - start

    _run_staged(con, _statements(SQL.read_text(encoding="utf-8")), stages, "standardise", out=str(args.work))
    if args.publish:
        publish(con, args.work, stages)
    con.close()
    args.report.write_text(json.dumps(stages, indent=2))
    print(json.dumps(stages))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
