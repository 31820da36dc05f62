"""The region a debt table's file calls its own: what a column headed by that name is (the whole region, key
``amount``), as 本地区 is.

Names come from the region seed (``dbt/seeds/ref_regions.csv``, the registry's regions with their parents), not from a
guess at where a name ends: ``固原市原州区财政局`` is 固原市 then 原州区 — a shortest-match rule read ``原州`` (州 is a
level word too) and never found 原州区. Only a name the seed does not know falls back to the level-word rule.

Whose table it is: the publisher line's region (编制单位：银川市贺兰县财政局 → 贺兰县) — the bureau publishing it — and
the title's entity only when the publisher line names none or names the same region. A title naming the publisher's
parent (银川市2020年… published by 贺兰县财政局: the city's template) does not make the city the table's own. A title
naming another region (neither the publisher's nor a parent of it) leaves the own region undecided: both names are
returned and ``conflicting`` says so, so a column headed by either is refused with a reject, never silently dropped.
"""
from __future__ import annotations

import csv
import functools
import re

from dagster_project.ingest.workbook_spec import TableSpec, normalise
from dagster_project.paths import DBT_SEEDS_DIR

# a name the seed does not know: the shortest name ending in a level word
_LEADING_REGION = re.compile(r"[\u4e00-\u9fff]{1,12}?(?:自治区|省|市|县|区|旗|州|盟)")


@functools.lru_cache(maxsize=1)
def seed_regions() -> dict[str, set[str]]:
    """{region name: its parents' names, all the way up} from the region seed (every code a name ever had)."""
    with open(DBT_SEEDS_DIR / "ref_regions.csv", encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    by_code = {r["region_code"]: r for r in rows}
    parents: dict[str, set[str]] = {}
    for r in rows:
        up, code = set(), r["parent_code"]
        while code and code in by_code and by_code[code]["region_name"] not in up:
            up.add(by_code[code]["region_name"])
            code = by_code[code]["parent_code"]
        parents.setdefault(normalise(r["region_name"]), set()).update(normalise(n) for n in up)
    return parents


def leading_regions(text: str, spec: TableSpec) -> list[str]:
    """The region names ``text`` (normalised) starts with, in order: 固原市原州区财政局 → [固原市, 原州区]."""
    names = sorted(seed_regions(), key=len, reverse=True)
    found, rest = [], text
    while rest:
        name = next((n for n in names if rest.startswith(n)), None)
        if name is None:
            m = _LEADING_REGION.match(rest)
            if not (m and spec.region_column.fullmatch(m.group(0))
                    and not (spec.region_group and spec.region_group.fullmatch(m.group(0)))):
                break
            name = m.group(0)
        found.append(name)
        rest = rest[len(name):]
    return found


def own_region_names(vocab, spec: TableSpec, sheet) -> tuple[set[str], bool]:
    """(the names the file gives its own region, whether the title and publisher line name two unrelated regions).
    Each side's region is the last name its text starts with, also written as the chain (银川市兴庆区)."""
    sides = []
    for text in (sheet.publisher_line, sheet.entity_name):
        rest = normalise(text or "")
        if rest and vocab.publisher_regex.match(rest):
            rest = rest.split(":", 1)[1]  # 编制单位：银川市财政局 → 银川市财政局
        chain = leading_regions(rest, spec) if rest else []
        sides.append((chain[-1], {chain[-1], "".join(chain)}) if chain else None)
    publisher, title = sides
    if publisher is None or title is None:
        side = publisher or title
        return (side[1] if side else set()), False
    if title[0] == publisher[0] or title[0] in seed_regions().get(publisher[0], set()):
        return publisher[1], False  # the same region, or the publisher's parent: the publisher's
    return publisher[1] | title[1], True
