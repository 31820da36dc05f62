"""A second raw root, written independently of ``dagster_project.sample`` from the contract alone
(``../shared/RAW_FORMATS.md``, ``../shared/DOMAIN.md``, ``docs/CONTRACTS.md`` §3/§7).

It differs from the generator's sample wherever the contract allows: fiscal years 2015, 2016 and 2020,
regions 640000 / 640400 固原市 / 640422 西吉县, other departments and a unit, titles with the year before
the name, ``表一`` / ``Sheet1`` sheet names, units 元 / 万元 / 亿元 on the left or the right, one to three
merged header rows with alias wording, split 类|款|项 code columns with numeric cells, full-width indents,
amounts as text with thousands separators / ``-`` / blank, footnotes, debt tables in 亿元, a bond-use
table, trading exports in GBK / UTF-8-BOM / JSON ``{"data": …}`` / JSONL with Chinese labels in another
order and every time format, registry CSVs with columns in another order, portal publications.

``build_contract_raw(root)`` writes it (about a second) and returns what a correct pipeline must make of
it: every file's fate, every sheet's table / publisher / year / unit and amount total in 元, the planted
row rejects and duplicates, the non-on_time disclosure statuses and the distinct findings. Each planted
defect sits on its own publisher/year so one cannot hide another.

The code lives in sibling modules: ``contract_raw_catalogue`` (identifiers, regions, departments, table
catalogue, expected-outcome records), ``contract_raw_sheets`` (workbook writing), ``contract_raw_budget``
(department / government / debt workbooks) and ``contract_raw_trading`` (registry CSVs, trading exports).
This module assembles them: ``Builder`` (with the portal publication log) and ``build_contract_raw``.
"""
from __future__ import annotations

import csv
import datetime as dt
from decimal import Decimal
from pathlib import Path

from contract_raw_budget import BudgetWorkbooks
from contract_raw_catalogue import (D, ENTITIES, ENTITY_STYLE, FIRST_YEAR, REGIONS, YEARS, ContractRaw,
    ExpectedSheet, uscc)
from contract_raw_trading import RegistryAndTrading

# what importers take from here (spark_parity: uscc; the conformance / parity tests: build_contract_raw)
__all__ = ["Builder", "ContractRaw", "ExpectedSheet", "build_contract_raw", "uscc"]


class Builder(BudgetWorkbooks, RegistryAndTrading):
    def __init__(self, root: Path):
        self.out = ContractRaw(root=root)
        self.root = root
        self.portal: list[dict] = []

    # helpers
    def rel(self, path: Path) -> str:
        return path.relative_to(self.root).as_posix()

    def publish(self, rel: str, publisher_code: str, publisher_name: str, column: str, title: str,
                when: dt.datetime, by_path: bool) -> None:
        self.portal.append({
            "title": title, "published_at": when, "publisher_name": publisher_name,
            "publisher_code": publisher_code, "column": column,
            "url": f"http://www.nx.gov.cn/zwgk/{len(self.portal) + 1:06d}.htm",
            "attachment": rel if by_path else rel.rsplit("/", 1)[-1],
        })

    def amounts_for(self, seed: int, n: int, base: int) -> list[Decimal]:
        return [D(base + (seed * 37 + i * 101) % 900) for i in range(n)]


    def portal_files(self) -> None:
        folder = self.root / "portal"
        folder.mkdir(parents=True)
        # the portal also lists: the corrupt workbook (unreadable), a file not in the raw root (missing),
        # and 固原市's 2016 final accounts again two months later (the earliest publication counts)
        column = "预决算公开/政府预决算"
        self.portal.append({"title": "固原市2020年预算调整公开附件", "published_at": dt.datetime(2020, 9, 3, 10),
                            "publisher_name": "固原市财政局", "publisher_code": "640400", "column": column,
                            "url": "http://www.nx.gov.cn/zwgk/900001.htm", "attachment": "附件_损坏.xlsx"})
        self.out.findings.add(("DISC_ATTACHMENT_UNREADABLE", "640400", 2020, "附件_损坏.xlsx"))
        self.portal.append({"title": "西吉县2016年预算补充说明", "published_at": dt.datetime(2016, 4, 1, 10),
                            "publisher_name": "西吉县财政局", "publisher_code": "640422", "column": column,
                            "url": "http://www.nx.gov.cn/zwgk/900002.htm", "attachment": "西吉县2016年预算补充说明.xlsx"})
        self.out.findings.add(("DISC_ATTACHMENT_MISSING", "640422", 2016, "西吉县2016年预算补充说明.xlsx"))
        again = next(p for p in self.portal if p["publisher_code"] == "640400" and "2016年决算" in p["title"])
        self.portal.append({**again, "published_at": again["published_at"] + dt.timedelta(days=60),
                            "url": "http://www.nx.gov.cn/zwgk/900003.htm"})
        # two logs: one per column, columns in another order, ISO timestamps / dates
        split = {"budget": [p for p in self.portal if p["column"].startswith("预决算")],
                 "debt": [p for p in self.portal if not p["column"].startswith("预决算")]}
        for name, rows in split.items():
            with (folder / f"publications_{name}.csv").open("w", encoding="utf-8", newline="") as h:
                wr = csv.writer(h)
                wr.writerow(["title", "published_at", "publisher_name", "publisher_code", "column", "url",
                             "attachment"])
                for p in rows:
                    when = p["published_at"]
                    text = (when.strftime("%Y-%m-%d %H:%M:%S") if name == "budget"
                            else f"{when.year}/{when.month}/{when.day}")
                    wr.writerow([p["title"], text, p["publisher_name"], p["publisher_code"], p["column"], p["url"],
                                 p["attachment"]])
            self.out.files[f"portal/publications_{name}.csv"] = "portal"
        self.out.portal_rows = len(self.portal)


def build_contract_raw(root: Path) -> ContractRaw:
    root.mkdir(parents=True, exist_ok=True)
    b = Builder(root)
    b.registry()
    for year in YEARS:
        for region, *_ in REGIONS:
            b.government(region, year, final=False)
            b.government(region, year, final=True)
            b.debt(region, year, final=False)
            b.debt(region, year, final=True)
        for name, code, _, _ in ENTITIES:
            if year >= FIRST_YEAR.get(code, 0):
                b.department(name, code, year, final=False, style_no=ENTITY_STYLE[code])
                b.department(name, code, year, final=True, style_no=ENTITY_STYLE[code])
    b.trading()
    b.corrupt_workbook()
    b.portal_files()
    return b.out


if __name__ == "__main__":  # python tests/contract_raw.py /tmp/contract_raw
    import sys
    import time

    t0 = time.perf_counter()
    out = build_contract_raw(Path(sys.argv[1]))
    print(f"{len(out.files)} files, {len(out.sheets)} sheets, {len(out.findings)} findings, "
          f"{len(out.statuses)} non on_time statuses in {time.perf_counter() - t0:.1f} s")
