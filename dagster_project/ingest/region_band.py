"""Region columns of a debt table in the Ministry's layout (items as rows, regions as columns).

A column headed by a region's name (兴庆区 | 贺兰县 … beside 本地区 | 其中：本级) is that region's own figure
column, key ``region:<name>``. Bureaus often put the counties under a band header merged over them — ``分地区``,
``其中：``, ``各县（市、区）`` — with the names on the row below. The band's words are spec data
(``region_bands`` of the table's kind); a band cell says the columns under it are regions', so:

* the band is no part of the column's header for the alias match: ``分地区`` would otherwise match the label
  word ``地区`` and every county column be taken for a second item column and lost without a word;
* a column under a band that holds figures is read as its region's, or — when its header names no one region
  (合计 of the counties, 其他, a name the spec does not take for a region) — refused with a reject naming the
  sheet, the column and its header: figures a reader sees are never dropped in silence.

A region's name over 执行数 | 预算数 (three header rows: 分地区 / 兴庆区 / 执行数 | 预算数; or two without a band) is that
region's column too: both halves take key ``region:<name>`` and are read as one, like 本地区's own pair (the item's
wording says which year and measure; ``figure_pairs.py``: a row filling both is read by its item's year, else a
reject naming both cells). A region's two columns that are no executed/budget pair and both hold a figure on one row
are refused, each column a reject — never one of them silently read.

A column headed by the table's own region (银川市 in 银川市's 1-2: ``银川市 | 兴庆区 | …``, alone or over 执行数 | 预算数)
is the whole region's column, key ``amount`` as 本地区's — what a reader of the table concludes, and what a 1-1 row
printed with the own name already is (``ref_debt_whole_region_labels``: ``own_region_name``). The own region is the
one the file itself names (``own_region.py``: names from the region seed; the publisher line's region before a title
naming its parent; a title and publisher naming unrelated regions: each such column a reject). A table that already
has a whole-region column (本地区 | 银川市) keeps the name as a region's column: which of the two is the whole region is
then not the name's to say.
"""
from __future__ import annotations

from dagster_project.ingest.grid import Grid, cell_text
from dagster_project.ingest.header_band import Column, _looks_numeric, best_alias, foreign_year, get_column_letter
from dagster_project.ingest.own_region import own_region_names
from dagster_project.ingest.parsed import _BLANK_AMOUNTS, nfkc
from dagster_project.ingest.region_totals import reject_column, whole_contains_words
from dagster_project.ingest.workbook_spec import TableSpec, normalise

UNKNOWN_COLUMNS = "未识别的列已忽略 (unrecognised columns ignored): "
_ALSO = "其中:"  # '其中：' before a band's words (其中：各县（市、区）) or as the whole band
WHOLE_REGION_KEY = "amount"


def _is_band(vocab, spec: TableSpec, text: str) -> bool:
    """A band of the spec, after 其中： or the whole region's word (本地区所辖县区 is the counties' band: the 本地区 alias
    matched it by containing, and its 合计 — the counties' subtotal — was read as the whole region)."""
    n = vocab.label_numbering.sub("", normalise(text))
    n = next((n.removeprefix(w) for w in whole_contains_words() if n.startswith(w) and n != w), n)
    return n.rstrip(":") in spec.region_bands or n.removeprefix(_ALSO) in spec.region_bands


def strip_bands(vocab, spec: TableSpec, paths: dict) -> tuple[dict, dict[int, str]]:
    """Header paths with a region band (and any cell above it) taken off, and {column: the band's words} for the
    columns that stood under one. Only a band with a cell under it counts: a band word alone is the column's own
    header (a plain 地区 column keeps its meaning)."""
    stripped, bands = {}, {}
    for c, (path, header) in paths.items():
        below = next((i for i in range(len(path) - 2, -1, -1) if _is_band(vocab, spec, path[i])), None)
        if below is None:
            stripped[c] = (path, header)
        else:
            stripped[c] = (path[below + 1:], header)
            bands[c] = path[below]
    return stripped, bands


def _region_of(vocab, spec: TableSpec, path: list[str], banner: set[str]) -> str | None:
    """The one region a header path names: its last cell that is a region's name (兴庆区 of 兴庆区/执行数, the
    county over its 执行数 | 预算数 pair), not a group's (本地区, 市县), nor a cell standing over the item column too
    (a banner 银川市 over the whole table names no one column's region)."""
    for cell in reversed(path):
        if cell in banner:
            continue
        name = vocab.label_numbering.sub("", cell).removeprefix(_ALSO)
        if spec.region_column.fullmatch(name) and not (spec.region_group and spec.region_group.fullmatch(name)):
            return name
    return None


def _all_alias(spec: TableSpec, path: list[str]) -> bool:
    """Every cell of the header path is a word of the alias it matched (nothing above 执行数 naming whose it is)."""
    best = best_alias(spec, path)
    return best is not None and all(any(part in cell for part in best[1].parts) for cell in path)


def region_columns(vocab, spec: TableSpec, grid: Grid, paths, columns: list, header_rows: list[int], sheet,
                   bands: dict[int, str]) -> list:
    """``columns`` with one amount column per region added, key 'region:<name>'; a figure column under a band that
    names no region is a reject. The note of unrecognised columns is rewritten to name only those still ignored."""
    data_start = header_rows[-1] + 1
    banner = {cell for col in columns if col.role != "measure" for cell in paths[col.index][0]}
    regions = {c: _region_of(vocab, spec, path, banner) for c, (path, _) in paths.items() if path}
    # a column is one region's when its header names one, over a measure word too (兴庆区/执行数 | 兴庆区/预算数 —
    # read as the bare 执行数 the county's figures were taken for the whole region's); under a band a measure's
    # header must be all the measure's words (本级, 本级/执行数): 其他/执行数 is no one region's, not the region's
    def keeps(col) -> bool:
        if col.role != "measure":
            return col.index not in bands  # under a band a label or code word is not this column's role
        return not regions.get(col.index) and (col.index not in bands or _all_alias(spec, paths[col.index][0]))

    columns = [col for col in columns if keeps(col)]
    mapped = {col.index for col in columns}
    own, conflicting = (own_region_names(vocab, spec, sheet) if not any(col.key == WHOLE_REGION_KEY for col in columns)
                        else (set(), False))
    found, refused = [], set()
    foreign = {c for c, (path, _) in paths.items() if path and foreign_year(spec, path) is not None}
    for c, (path, header) in sorted(paths.items()):
        if c in mapped or c in foreign or not path or any(word in path[-1] for word in vocab.ignore_headers):
            continue  # (a region's column of another year: not read, named in the note of other years' columns)
        name = regions.get(c)
        is_region = name is not None
        filled = [v for r in range(data_start, len(grid.rows))
                  if nfkc(cell_text(v := grid.value(r, c))).strip() not in _BLANK_AMOUNTS]
        if not filled:
            continue
        numeric = sum(_looks_numeric(v) for v in filled)
        letter = get_column_letter(c + 1)
        if is_region and conflicting and name in own:
            # the title and the publisher line name two unrelated regions: whose table it is, and so whether this
            # column is the whole region or one region's, cannot be told
            refused.add(c)
            h = header_rows[-1]
            reject_column(grid, sheet, h, letter, header,
                          f"标题「{sheet.entity_name}」与「{sheet.publisher_line}」所指地区不同，不能确定该列是本地区合计还是"
                          f"某一地区，该列{numeric}个数字未读入 (the title and the publisher line name different regions: "
                          f"whether this column is the whole region's or one region's cannot be told, so its {numeric} "
                          f"figures were not read)")
        elif is_region and (c in bands or numeric * 5 >= len(filled) * 4):
            # (under a band the header says it is a region's: a text cell in it is that row's reject, not a
            # reason to leave the region out)
            key = WHOLE_REGION_KEY if name in own else f"region:{name}"  # the table's own region: the whole region
            found.append(Column(c, letter, header, "measure", key, (0, 0, 0, 0)))
        elif c in bands and numeric:
            refused.add(c)
            h = header_rows[-1]
            reject_column(grid, sheet, h, letter, header,
                          f"在「{bands[c]}」下，但不是某一地区的名称，该列{numeric}个数字未读入 (a column under the region "
                          f"band '{bands[c]}' names no one region: its {numeric} figures were not read; name the region "
                          f"in its header)")
    columns = columns + found
    # the columns still ignored, named as _map_columns names them (rebuilt, not cut out of its text: a header
    # such as 各县（市、区） holds the list's own separator)
    taken = {col.index for col in columns} | refused | foreign
    header_row = grid.source_row(header_rows[-1])  # refused before (a second whole-region 合计): a reject, said once
    rejected = {r.source_column for r in sheet.rejects if r.source_row == header_row and r.sheet == sheet.sheet}
    taken |= {c for c in paths if get_column_letter(c + 1) in rejected}
    ignored = [f"{get_column_letter(c + 1)}「{header}」" for c, (path, header) in sorted(paths.items())
               if c not in taken and path and not any(word in path[-1] for word in vocab.ignore_headers)]
    sheet.warnings[:] = [w for w in sheet.warnings if not w.startswith(UNKNOWN_COLUMNS)]
    if ignored:
        sheet.warnings.append(UNKNOWN_COLUMNS + "、".join(ignored))
    return columns


def refuse_double_regions(grid: Grid, columns: list, header_rows: list[int], sheet) -> list:
    """A region's columns left as two after coalescing (no executed/budget pair, both hold a figure on some row):
    which one the table means is unknown (the contract's measure is the item's wording, one figure per item), so
    none is read — each is a reject naming the sheet, the column and its header, never one silently chosen."""
    by_key: dict[str, list] = {}
    for col in columns:
        if col.key.startswith("region:"):
            by_key.setdefault(col.key, []).append(col)
    refused = {col.index for group in by_key.values() if len(group) > 1 for col in group}
    h = header_rows[-1]
    for col in columns:
        if col.index in refused:
            others = "、".join(f"{o.letter}「{o.header}」" for o in by_key[col.key] if o is not col)
            reject_column(grid, sheet, h, col.letter, col.header,
                          f"与{others}同为「{col.key[7:]}」的数字，且同一行两列都有数字，无法确定读哪一列，均未读入 (a second "
                          f"figure column of the same region beside {others}, both filled on one row: which one the "
                          f"table states is unknown, so neither was read)")
    return [col for col in columns if col.index not in refused]
