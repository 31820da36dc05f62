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
"""
from __future__ import annotations

from dagster_project.ingest.grid import Grid, cell_text
from dagster_project.ingest.header_band import Column, _looks_numeric, get_column_letter
from dagster_project.ingest.parsed import _BLANK_AMOUNTS, RowReject, nfkc
from dagster_project.ingest.workbook_spec import TableSpec, normalise

UNKNOWN_COLUMNS = "未识别的列已忽略 (unrecognised columns ignored): "
_ALSO = "其中:"  # '其中：' before a band's words (其中：各县（市、区）) or as the whole band


def _is_band(vocab, spec: TableSpec, text: str) -> bool:
    n = vocab.label_numbering.sub("", normalise(text))
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


def region_columns(vocab, spec: TableSpec, grid: Grid, paths, columns: list, header_rows: list[int], sheet,
                   bands: dict[int, str]) -> list:
    """``columns`` with one amount column per region added, key 'region:<name>'; a figure column under a band that
    names no region is a reject. The note of unrecognised columns is rewritten to name only those still ignored."""
    data_start = header_rows[-1] + 1
    # under a band a column is one region's: a label or code word in its name is not this column's role
    columns = [col for col in columns if not (col.index in bands and col.role != "measure")]
    mapped = {col.index for col in columns}
    found, refused = [], set()
    for c, (path, header) in sorted(paths.items()):
        if c in mapped or not path or any(word in path[-1] for word in vocab.ignore_headers):
            continue
        name = vocab.label_numbering.sub("", path[-1]).removeprefix(_ALSO)
        is_region = bool(spec.region_column.fullmatch(name)) and not (
            spec.region_group and spec.region_group.fullmatch(name))
        filled = [v for r in range(data_start, len(grid.rows))
                  if nfkc(cell_text(v := grid.value(r, c))).strip() not in _BLANK_AMOUNTS]
        if not filled:
            continue
        numeric = sum(_looks_numeric(v) for v in filled)
        letter = get_column_letter(c + 1)
        if is_region and (c in bands or numeric * 5 >= len(filled) * 4):
            # (under a band the header says it is a region's: a text cell in it is that row's reject, not a
            # reason to leave the region out)
            found.append(Column(c, letter, header, "measure", f"region:{name}", (0, 0, 0, 0)))
        elif c in bands and numeric:
            refused.add(c)
            h = header_rows[-1]
            sheet.rejects.append(RowReject(
                sheet.sheet, grid.source_row(h), letter, header,
                f"{grid.where(h)} {letter}列「{header}」: 在「{bands[c]}」下，但不是某一地区的名称，"
                f"该列{numeric}个数字未读入 (a column under the region band '{bands[c]}' names no one region: "
                f"its {numeric} figures were not read; name the region in its header)",
                source_page=grid.page(h),
            ))
    columns = columns + found
    # the columns still ignored, named as _map_columns names them (rebuilt, not cut out of its text: a header
    # such as 各县（市、区） holds the list's own separator)
    taken = {col.index for col in columns} | refused
    ignored = [f"{get_column_letter(c + 1)}「{header}」" for c, (path, header) in sorted(paths.items())
               if c not in taken and path and not any(word in path[-1] for word in vocab.ignore_headers)]
    sheet.warnings[:] = [w for w in sheet.warnings if not w.startswith(UNKNOWN_COLUMNS)]
    if ignored:
        sheet.warnings.append(UNKNOWN_COLUMNS + "、".join(ignored))
    return columns
