"""A 1-1 with items as rows and regions as columns (RAW_FORMATS.md "Debt tables in the Ministry's layout") whose
whole-region column is headed ``合计`` / ``全市合计`` / ``银川市合计`` instead of 本地区.

The usual 1-1 layout (regions as rows) heads its columns 合计 | 一般债务 | 专项债务 under 限额 | 余额, so the spec maps a
bare 合计 to ``limit_total``. In a table whose rows are the items (一、2019年债务限额 / 其中：一般债务 / …), a column
cannot also be an item: a reader takes its 合计 column for the sum of all regions — the whole region, key ``amount``
as 本地区's. Before, it kept ``limit_total`` on every row and fct_debt_positions filed its figures as a lower region
without a code: DEBT_REGION_SUM never ran and DEBT_ITEM_MISSING went quiet. Any other item-kind column in such a table
(一般债务, 余额, a 合计 beside a 本地区 column, 小计 of some regions) says nothing a reader can place: a reject naming
the column, its figures not read.

A 1-2 / 1-3 (always items as rows, regions as columns) whose whole-region column is headed ``合计`` / ``总计`` /
``银川市合计`` — no alias of its spec, where a bare 合计 means nothing else — is read the same way
(``unmapped_whole_total``): before, the column was ignored with a note and the whole region's figures were lost. A
second such column beside a whole-region one is a reject naming it; one under a region band is region_band's (the
counties' subtotal is no one region's).

A 合计 / 总计 is the whole region unless something above it in the header narrows it: ``区县 / 合计`` beside
``市本级`` (or beside ``银川市 | 其中：本级``) is the counties' subtotal, not the city — read as the whole region it
made the subtotal ``amount`` and, worse, turned the own-name column that is the whole region into ``region:银川市``.
A cell narrows it when it is a region band of the spec (区县, 所辖县（区）, 其中 …) or names a region or a group of
regions (the spec's region patterns: 下辖县（市、区）, 兴庆区), 本地区 followed by such a part included; the words of the one
whole-region vocabulary (the seed, or the table's own name), a banner over the item column too, and measure, year,
unit or amount headings (执行数, 2020年末, 金额（万元）: what a bureau writes over every column) do not. A column headed by the table's own name is the whole region before any 合计 (a 合计 beside it is
then a second whole region: a reject naming it).
"""
from __future__ import annotations

import csv
import dataclasses
import functools
import re

from dagster_project.ingest.grid import Grid, cell_text
from dagster_project.ingest.header_band import Column, _looks_numeric, get_column_letter
from dagster_project.ingest.own_region import own_region_names
from dagster_project.ingest.parsed import _BLANK_AMOUNTS, RowReject, nfkc
from dagster_project.ingest.workbook_spec import TableSpec, normalise
from dagster_project.paths import DBT_SEEDS_DIR

_TOTAL_WORDS = ("合计", "总计")


@functools.lru_cache(maxsize=1)
def _whole_words() -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(exact, contains) words of the one whole-region vocabulary (``dbt/seeds/ref_debt_whole_region_labels.csv``,
    read by dbt too), not a list of our own."""
    with open(DBT_SEEDS_DIR / "ref_debt_whole_region_labels.csv", encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    return (tuple(r["word"] for r in rows if r["match_kind"] == "exact"),
            tuple(r["word"] for r in rows if r["match_kind"] == "contains"))


def whole_contains_words() -> tuple[str, ...]:
    """The vocabulary's words matched by containing (本地区: 一、本地区, 本地区合计)."""
    return _whole_words()[1]


@functools.lru_cache(maxsize=1)
def _whole_total() -> "re.Pattern[str]":
    """合计 / 总计, after a whole-region word or none."""
    words = sorted(_whole_words()[0] + _whole_words()[1], key=len, reverse=True)
    return re.compile(f"(?:{'|'.join(map(re.escape, words))})?(?:{'|'.join(_TOTAL_WORDS)})")


_REGION_KEYS = ("amount", "amount_own_level")


def reject_column(grid: Grid, sheet, h: int, letter: str, header: str, why: str) -> None:
    """The column's figures refused: one reject naming the column at its header row ``h`` (sheet, row, letter)."""
    sheet.rejects.append(RowReject(sheet.sheet, grid.source_row(h), letter, header,
                                   f"{grid.where(h)} {letter}列「{header}」: {why}", source_page=grid.page(h)))


def items_as_rows(vocab, spec: TableSpec, grid: Grid, columns: list, data_start: int) -> bool:
    """Some label of the table names an item (a top pattern: 债务限额, 债务余额) — regions never do."""
    tops = [p for p in spec.row_patterns if not p.within]
    labels = [c.index for c in columns if c.role == "label"]
    measures = [c.index for c in columns if c.role == "measure"]
    return bool(tops) and any(
        any(p.regex.search(normalise(cell_text(grid.value(r, c)))) for p in tops)
        for r in _rows_above_notes(vocab, grid, data_start) if not _footnote(vocab, grid, r, measures)
        for c in labels)


def _rows_above_notes(vocab, grid: Grid, data_start: int) -> range:
    """The table's rows, up to its notes: a note under a regions-as-rows 1-1 (注：…2024年债务限额待下达后另行公开) names an
    item but is none — read as one, the table became items-as-rows and five of its six columns were refused. Notes
    begin where the recogniser's do (a line opening with 注： / 说明： …)."""
    for r in range(data_start, len(grid.rows)):
        first = next(iter(grid.texts(r)), None)
        if first is not None and normalise(first[1]).startswith(vocab.note_prefixes):
            return range(data_start, r)
    return range(data_start, len(grid.rows))


def _footnote(vocab, grid: Grid, r: int, measures: list[int]) -> bool:
    """A footnote line as the recogniser tells one (*本表… / ※… / a sentence ending 。, no figure in it): no item, no
    region — one naming 限额 under a regions-as-rows 1-1 turned it items-as-rows as a 注： line did (wave 16 V7)."""
    first = next(iter(grid.texts(r)), None)
    if first is None:
        return False
    norm = normalise(first[1])
    return ((norm.startswith(vocab.footnote_marks) or norm.endswith("。"))
            and not any(cell_text(grid.value(r, c)).strip() for c in measures))


def whole_region_total(vocab, spec: TableSpec, grid: Grid, columns: list, header_rows: list[int], sheet) -> list:
    """``columns`` of a 1-1 with items as rows: a 合计 column the whole region's (``amount``); other item-kind columns
    rejects. Unchanged when the rows are regions."""
    if not spec.row_patterns or not items_as_rows(vocab, spec, grid, columns, header_rows[-1] + 1):
        return columns
    stray = [c for c in columns if c.role == "measure" and c.key not in _REGION_KEYS and not c.key.startswith("region:")]
    if not stray:
        return columns
    own = own_region_names(vocab, spec, sheet)[0]
    has_whole = any(c.key == "amount" for c in columns)
    banner = _banner(vocab, columns)
    out, refused = [], set()
    for col in stray:
        if _is_whole_total(vocab, spec, col.header, own, banner) and not has_whole:
            out.append(dataclasses.replace(col, key="amount"))
            has_whole = True
            continue
        refused.add(col.index)
        h = header_rows[-1]
        reject_column(grid, sheet, h, col.letter, col.header,
                      "本表按行列项目、按列列地区，该列不是某一地区，也不是唯一的本地区合计列，其数字未读入 (the rows of this "
                      "table are items and its columns regions: this column names no region and is not the one "
                      "whole-region total, so its figures were not read)")
    replaced = {c.index: c for c in out}
    return [replaced.get(c.index, c) for c in columns if c.index not in refused]


def _is_whole_total(vocab, spec: TableSpec, header: str, own: set[str], banner: frozenset = frozenset()) -> bool:
    """The header is a 合计 / 总计 of the whole region: its last cell one, no cell above it narrowing it (``_narrows``:
    a band, a part of the region) — a measure, year, unit or amount heading above it (执行数, 2020年末, 金额（万元）)
    does not."""
    *above, last = [vocab.label_numbering.sub("", normalise(part)) for part in header.split("/")]
    if not (_whole_total().fullmatch(last) or any(last in tuple(n + w for w in _TOTAL_WORDS) for n in own)):
        return False
    return not any(_narrows(vocab, spec, part, own, banner) for part in above)


_BRACKETS = re.compile(r"[()（）、,，\s]")


def _narrows(vocab, spec: TableSpec, part: str, own: set[str], banner: frozenset) -> bool:
    """A header cell making the 合计 under it a part's: a region band of the spec (区县, 所辖县（区）, 其中 …), a cell
    naming a region or a group of regions (兴庆区, 下辖县（市、区）: the spec's region patterns, brackets dropped), or
    one beginning with 其中. The whole region's own words (本地区, 全市, the table's own name) and a banner over the
    item column too do not — but 本地区 with a part after it (本地区所辖县区) does."""
    if part.startswith("其中"):
        return True  # 其中 (of which) is a part, whatever it stands over
    if part in banner or part in own or part in _whole_words()[0]:
        return False
    for word in _whole_words()[1]:  # 本地区…: the whole region only when nothing naming a part follows it
        part = part.replace(word, "")
    if not part:
        return False
    bare = _BRACKETS.sub("", part).removeprefix("其中").lstrip(":：")
    if part.startswith("其中") or part.rstrip(":") in spec.region_bands or bare in spec.region_bands:
        return True
    return bool(bare) and any(p is not None and p.fullmatch(bare) for p in (spec.region_column, spec.region_group))


def _banner(vocab, columns: list) -> frozenset:
    """Header cells standing over a label or code column too (a banner over the whole table, no column's scope), or
    over the own level's column (本级, 市本级): a band over 合计 | 市本级 | 兴庆区 … (分地区, 地区) spans every part of the
    region, so its 合计 is the whole region's, not the counties' subtotal."""
    def over(c) -> list[str]:
        parts = c.header.split("/")
        return parts if c.role != "measure" else parts[:-1] if c.key == "amount_own_level" else []
    return frozenset(vocab.label_numbering.sub("", normalise(part)) for c in columns for part in over(c))


def unmapped_whole_total(vocab, spec: TableSpec, grid: Grid, paths: dict, columns: list, header_rows: list[int],
                         sheet, bands: dict[int, str]) -> list:
    """``columns`` of an item table with regions as columns (1-2, 1-3) plus its 合计 / 总计 column — one no alias took,
    not under a region band, holding figures — as the whole region's (``amount``); beside a whole-region column it is a
    reject naming it (two whole regions: which one the table states is unknown)."""
    data_start = header_rows[-1] + 1
    taken = {c.index for c in columns}
    own = None
    out = list(columns)
    banner = _banner(vocab, columns)
    for c, (path, header) in sorted(paths.items()):
        if c in taken or not path or c in bands and bands[c] not in banner:
            continue
        if own is None:
            own = own_region_names(vocab, spec, sheet)[0]
            # a column headed by the own name alone is the whole region (region_band): it comes before any 合计
            own_named = any(i not in taken and p and vocab.label_numbering.sub("", p[-1]) in own
                            and not any(_narrows(vocab, spec, vocab.label_numbering.sub("", part), own, banner)
                                        for part in p[:-1])
                            for i, (p, _) in paths.items())
        if not _is_whole_total(vocab, spec, header, own, banner):
            continue
        filled = [v for r in range(data_start, len(grid.rows))
                  if nfkc(cell_text(v := grid.value(r, c))).strip() not in _BLANK_AMOUNTS]
        if not any(_looks_numeric(v) for v in filled):
            continue
        letter = get_column_letter(c + 1)
        if not own_named and not any(col.key == "amount" for col in out):
            out.append(Column(c, letter, header, "measure", "amount", (0, 0, 0, 0)))
            # a band over the own level too (分地区 over 合计 | 市本级 | …): the 合计 is read, no longer a column under a
            # band that region_columns refuses for naming no one region
            bands.pop(c, None)
            continue
        h = header_rows[-1]
        reject_column(grid, sheet, h, letter, header,
                      "本表已有本地区合计列，该列也是合计，不能确定读哪一列，其数字未读入 (the table already has a "
                      "whole-region column and this one is a total too: which one it states is unknown, so its figures "
                      "were not read)")
    return out
