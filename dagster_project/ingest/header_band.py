"""Where a table's title, publisher/unit line and header band are, and what each column means.

Works on a ``Grid`` of any source form. Header texts are matched against the spec's aliases
(``workbook_spec.py``); the most specific alias wins. Nothing here knows a file format.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal

from dagster_project.ingest.grid import Grid, cell_text
from dagster_project.ingest.parsed import (
    _CODE_LIKE,
    _NUMBER,
    _YEAR,
    HEADER_SEARCH_ROWS,
    MAX_HEADER_ROWS,
    ParsedSheet,
    _code_part,
    nfkc,
    year_of,
)
from dagster_project.ingest.workbook_spec import Alias, TableSpec, WorkbookVocabulary, normalise


_YEAR_PAIR = re.compile(r"(\d{4}\s*年)\s*(?:和|及|与|、)\s*(\d{4}\s*年)")
# a range of years in a header (2023—2024年预算数, 2023-2024年, 2023至2024年, 2023年～2024年): several years' figures summed
# or spanned, no one year's — not the table's own column whichever years it spans. Dashes as encodings give them: GB2312
# decodes its A1AA to U+2015 ― (GBK's to U+2014 —), a Japanese-locale font's wave dash is U+301C 〜 (NFKC keeps both);
# the end year may be written in two digits (2023-24年), then only a later year (not 2024-10年期)
_YEAR_RANGE = re.compile(r"(\d{4})\s*(?:年度|年)?\s*(?:[—–―‐‑‒-]|~|〜|至|到)+\s*(\d{4}|\d{2}(?!\d))\s*年")


# ---------------------------------------------------------------------------------------------------
# Header matching
def score_alias(alias: Alias, path: list[str]) -> tuple[int, int, int, int] | None:
    """How specifically ``alias`` names the column with header ``path`` (None: it does not)."""
    max_depth = -1
    exact = 0
    for part in alias.parts:
        found = None
        for depth in range(len(path) - 1, -1, -1):
            cell = path[depth]
            if cell == part:
                found = (depth, 1)
                break
            if not alias.exact_only and part in cell and found is None:
                found = (depth, 0)
        if found is None:
            return None
        max_depth = max(max_depth, found[0])
        exact += found[1]
    return (len(alias.parts), max_depth, exact, sum(len(p) for p in alias.parts))


_ALIAS_CACHE: dict[tuple[int, tuple[str, ...]], tuple[tuple, Alias] | None] = {}


def best_alias(spec: TableSpec, path: list[str]) -> tuple[tuple, Alias] | None:
    """The most specific alias of ``spec`` for a header path (cached: headers repeat across files)."""
    key = (id(spec), tuple(path))
    if key not in _ALIAS_CACHE:
        if len(_ALIAS_CACHE) > 200_000:
            _ALIAS_CACHE.clear()
        _ALIAS_CACHE[key] = _best_alias(spec, path)
    return _ALIAS_CACHE[key]


def foreign_year(spec: TableSpec, path: list[str]) -> int | None:
    """A year the header path names that is neither the table's nor the year before (after the table's year shift),
    e.g. 2025年预算数 in a 2024 final account (the next year's budget shown beside it), 2023年决算数 in a 2025 budget.

    Such a column holds another year's figures: a year-free alias (预算数, 决算数, 合计 …) found in its header says which
    measure, not which year, and must not make it the table's own column (before, 2025年预算数 was a 2024 final's
    `budget`: 预算数 is in it). A range of years (2023—2024年预算数) is no one year's column: its first year."""
    if (span := year_range(path)) is not None:
        return int(span.group(1))
    if spec.fiscal_year is None:
        return None
    own = {spec.fiscal_year, spec.fiscal_year - 1, spec.fiscal_year + spec.pattern_shift,
           spec.fiscal_year + spec.pattern_shift - 1}
    for cell in path:
        for match in _YEAR.finditer(cell):
            year = year_of(match)
            if year is not None and year not in own:
                return year
    return None


def year_range(path: list[str]) -> re.Match | None:
    """The range of years a header path names (2023—2024年), if any."""
    return next((m for cell in path for m in _YEAR_RANGE.finditer(nfkc(cell))
                 if len(m.group(2)) == 4 or int(m.group(2)) > int(m.group(1)) % 100), None)


def _names_a_year(alias: Alias) -> bool:
    return any(_YEAR.search(part) for part in alias.parts)


def is_header_word(spec: TableSpec, path: list[str]) -> bool:
    """Whether a header text names a column of the table's kind, in any year: a column of another year (2023年决算数
    in a 2025 budget) is no column read, but still a header cell — its row is the header, not data."""
    return best_alias(spec, path) is not None or (
        foreign_year(spec, path) is not None and _best_alias(spec, path, any_year=True) is not None)


def _best_alias(spec: TableSpec, path: list[str], any_year: bool = False) -> tuple[tuple, Alias] | None:
    best = None
    foreign = not any_year and foreign_year(spec, path) is not None
    if foreign and year_range(path) is not None:
        return None  # 2024年预算数 inside 2023—2024年预算数 is the range's end, not the column's year
    for alias in spec.aliases:
        if foreign and not _names_a_year(alias):
            continue
        s = score_alias(alias, path)
        if s is not None and (best is None or s > best[0]):
            best = (s, alias)
    return best


@dataclass
class Column:
    index: int  # 0-based
    letter: str
    header: str  # header path as printed, joined with '/'
    role: str    # measure | text | code | label | lei | kuan | xiang
    key: str
    score: tuple



def _strip_unit_publisher(vocab: WorkbookVocabulary, text: str) -> bool:
    """A cell that *is* a unit or publisher line ('单位：万元', '部门：…'), not one that mentions a unit
    at its end (a title such as '…部门收支总表（单位：万元）' is still a title)."""
    n = nfkc(text).strip()
    unit = vocab.unit_regex.search(n)
    return bool((unit and unit.start() <= 2) or vocab.publisher_regex.match(n))


def _find_title(vocab: WorkbookVocabulary, grid: Grid, sheet_name: str):
    """(title text, title row index or None, catalogue table or None)."""
    nonblank = [r for r in range(len(grid.rows)) if not grid.is_blank(r)]
    candidates = []
    for r in nonblank[:6]:
        cells = grid.texts(r)
        if len(cells) >= 3:  # a header row: the title is above it
            break
        text = "".join(t for _, t in cells if not _strip_unit_publisher(vocab, t))
        if text and not vocab.title_prefix.fullmatch(nfkc(text.strip())):  # '附表1-1' alone is no title
            candidates.append((r, text))
    candidates = candidates[:2]  # the title is at the top; a list of table names further down is a contents page
    for i, (r, text) in enumerate(candidates):
        table = vocab.table_for_title(text)
        if table:
            if i > 0 and _YEAR.match(vocab.title_prefix.sub("", nfkc(text.strip()))):
                # entity on the row above, '2019年部门收入总表' below: the title spans both rows
                return (candidates[i - 1][1].strip() + text.strip()), r, table
            return text.strip(), r, table
        if i > 0:
            joined = candidates[i - 1][1] + text
            table = vocab.table_for_title(joined)
            if table:
                return joined.strip(), r, table
    title = candidates[0][1].strip() if candidates else None
    title_row = candidates[0][0] if candidates else None
    table = vocab.table_for_title(vocab.title_prefix.sub("", nfkc(sheet_name)))
    if table is None and title_row is not None and len(grid.texts(title_row)) > 1:
        title, title_row = None, None
    return title, title_row, table


def _entity_and_year(vocab: WorkbookVocabulary, title: str | None, table_name: str | None):
    if not title:
        return None, None
    m = _YEAR.search(title)
    year = year_of(m)
    pair = _YEAR_PAIR.search(title)
    if pair:  # '2019年和2020年…情况表' (debt tables of the Ministry's layout): the later year is the fiscal year
        year = year_of(_YEAR.search(pair.group(2)))
    if m:
        before = title[: m.start()]
    elif table_name and table_name in title:
        before = title[: title.index(table_name)]
    else:
        return None, year
    prefix = vocab.title_prefix.match(nfkc(before))
    entity = before[prefix.end():] if prefix else before
    entity = entity.strip(" \u3000\t:：-—")
    if not entity and m and table_name and table_name in title[m.end():]:
        # the year first: '2017年银川市地方政府一般债务余额情况表' names 银川市 between the year and the table
        between = title[m.end(): title.index(table_name, m.end())].lstrip("度").strip(" \u3000\t:：-—")
        if between and not _YEAR.search(between) and not any(ch.isdigit() for ch in between):
            entity = between
    # the Ministry template's own prefix before a table name the catalogue holds without it ('2024年度单位收入支出决算总表',
    # '2019年部门一般公共预算支出表') names no one: the publisher line does ('编制单位：…'); taken for the entity, every
    # such table was filed under a publisher called 单位 or 部门
    if entity and normalise(entity) in {normalise(p) for p in vocab.raw.get("title_template_prefixes") or []}:
        entity = ""
    return entity or None, year


def _header_candidate(vocab, spec: TableSpec, grid: Grid, r: int) -> bool:
    roles = measures = 0
    for _, text in grid.texts(r):
        if _strip_unit_publisher(vocab, text):
            continue
        best = best_alias(spec, [normalise(text)])
        if best is None:
            # a debt item table's figure column headed by a region's name (项目 | 银川市 | 兴庆区), or another year's
            # column (2023年决算数 in a 2025 budget, not read): a figure column's header all the same
            measures += _names_a_region(spec, normalise(text)) or is_header_word(spec, [normalise(text)])
            continue
        if best[1].role in ("label", "code", "lei", "kuan", "xiang"):
            roles += 1
        else:
            measures += 1
    return (roles >= 1 and roles + measures >= 2) or measures >= 2


def _names_a_region(spec: TableSpec, text: str) -> bool:
    name = text.removeprefix("其中:")
    return bool(spec.region_column and spec.region_column.fullmatch(name)
                and not (spec.region_group and spec.region_group.fullmatch(name)))


def _looks_numeric(value) -> bool:
    if isinstance(value, (int, float, Decimal)) and not isinstance(value, bool):
        return True
    text = nfkc(cell_text(value)).strip().replace(",", "")
    return bool(_NUMBER.fullmatch(text) or _CODE_LIKE.match(text))


def _find_header(vocab, spec: TableSpec, grid: Grid, start: int) -> list[int]:
    header_start = None
    for r in range(start, min(len(grid.rows), start + HEADER_SEARCH_ROWS)):
        if _header_candidate(vocab, spec, grid, r):
            header_start = r
            break
    if header_start is None:
        return []
    rows = [header_start]
    # a side / group row above the detected one (e.g. 收入 | 支出 over 项目 | 预算数)
    above = header_start - 1
    if above >= start and not grid.is_blank(above):
        cells = grid.texts(above)
        spans = any(
            r0 == above and (c1 > c0 or r1 > r0) for r0, c0, r1, c1 in grid.merges
        )
        if (
            spans
            and all(not _looks_numeric(grid.value(above, c)) for c, _ in cells)
            and not any(_strip_unit_publisher(vocab, t) for _, t in cells)
        ):
            rows.insert(0, above)
    r = header_start + 1
    while len(rows) < MAX_HEADER_ROWS and r < len(grid.rows):
        if grid.is_blank(r):
            # blank only because a merged header cell above reaches down into it (科目编码 over two rows,
            # then 类 | 款 | 项): still header
            if any(r0 <= rows[-1] and r1 >= r and r0 >= rows[0] for r0, c0, r1, c1 in grid.merges):
                rows.append(r)
                r += 1
                continue
            break
        cells = grid.texts(r)
        if any(_looks_numeric(grid.value(r, c)) for c, _ in cells):
            break
        prev = rows[-1]
        covered = any(r0 <= prev < r1 and r0 <= r <= r1 for r0, c0, r1, c1 in grid.merges)
        under_span = any(
            r0 <= prev <= r1 and r1 < r and c1 > c0 and any(c0 <= c <= c1 for c, _ in cells)
            for r0, c0, r1, c1 in grid.merges
        )
        all_aliases = len(cells) >= 2 and all(is_header_word(spec, [normalise(t)]) for _, t in cells)
        # a 合计 row in the label column is data; 合计 under a group header (限额 | 余额 not merged over 合计 | 一般 …) is not
        first_is_total = bool(cells) and cells[0][0] <= min((c for c, _ in grid.texts(rows[0])), default=0) \
            and vocab.is_total_label(cells[0][1])
        if covered or under_span or (all_aliases and not first_is_total):
            rows.append(r)
            r += 1
            continue
        break
    return rows


def _column_paths(vocab, grid: Grid, header_rows: list[int]) -> dict[int, tuple[list[str], str]]:
    merged = grid.merged_value_map(header_rows[0], header_rows[-1])
    paths: dict[int, tuple[list[str], str]] = {}
    for c in range(grid.width):
        norm_path: list[str] = []
        raw_path: list[str] = []
        for r in header_rows:
            value = merged.get((r, c), grid.value(r, c))
            text = cell_text(value).strip()
            if not text or _strip_unit_publisher(vocab, text):
                continue
            n = normalise(text)
            if norm_path and norm_path[-1] == n:
                continue
            norm_path.append(n)
            raw_path.append(re.sub(r"\s+", "", text))
        if norm_path:
            paths[c] = (norm_path, "/".join(raw_path))
    return paths


FOREIGN_YEAR_COLUMNS = ("列名所示年度既非本表年度（{year}年）也非上年，未读取 (columns headed with a year other than the "
                        "table's or the year before: another year's figures, not read): ")


def _map_columns(vocab, spec: TableSpec, paths, sheet: ParsedSheet) -> list[Column]:
    columns: list[Column] = []
    unknown = []
    foreign: list[str] = []
    seen: set[str] = set()
    for c, (path, header) in sorted(paths.items()):
        if any(word in path[-1] for word in vocab.ignore_headers):
            continue
        best = best_alias(spec, path)
        if best is None:
            if (year := foreign_year(spec, path)) is not None:
                span = year_range(path)
                years = f"{span.group(1)}—{span.group(2)}年" if span else f"{year}年"
                foreign.append(f"{get_column_letter(c + 1)}「{header}」({years})")
            else:
                unknown.append(f"{get_column_letter(c + 1)}「{header}」")
            continue
        score, alias = best
        key = alias.key
        if alias.role == "measure":
            match_depth = score[1]
            for group in spec.group_prefixes:
                if all(any(p in cell for cell in path[:match_depth]) for p in group.parts):
                    key = group.prefix + key
                    break
        if key in seen and key in spec.repeat_keys:  # 合计|一般|专项 printed twice: the second group
            key = spec.repeat_keys[key]
        seen.add(key)
        columns.append(Column(c, get_column_letter(c + 1), header, alias.role, key, score))
    if unknown:
        sheet.warnings.append("未识别的列已忽略 (unrecognised columns ignored): " + "、".join(unknown))
    if foreign:
        sheet.warnings.append(FOREIGN_YEAR_COLUMNS.format(year=spec.fiscal_year) + "、".join(foreign))
    return columns


def _dedupe(columns: list[Column], sheet: ParsedSheet) -> list[Column]:
    """One column per key (within one side): the most specific header wins."""
    best: dict[str, Column] = {}
    for col in columns:
        have = best.get(col.key)
        if have is None or col.score > have.score:
            best[col.key] = col
    dropped = [c for c in columns if best[c.key] is not c]
    if dropped:
        sheet.warnings.append(
            "重复的列已忽略 (duplicate columns ignored): "
            + "、".join(f"{c.letter}「{c.header}」→{c.key}" for c in dropped)
        )
    return sorted(best.values(), key=lambda c: c.index)


@dataclass
class _Segment:
    side: str | None
    label: Column | None
    code: Column | None
    split: dict[str, Column]
    measures: list[Column]
    texts: list[Column]
    # 地区名称 | 项目名称: the second item column qualifies the first (one line per place and project)
    qualifier: Column | None = None


EXTRA_ITEM_COLUMNS = ("只读取第一个项目列，其后的项目列已忽略 (only the first item column is read; further item columns "
                      "ignored): ")


def _segments(vocab, spec: TableSpec, columns: list[Column], paths, sheet: ParsedSheet) -> list[_Segment]:
    labels = [c for c in columns if c.role == "label"]
    if (spec.two_sided or spec.items_side_by_side) and len(labels) >= 2:
        bounds = [c.index for c in labels] + [10**6]
        groups = []
        for i, label in enumerate(labels):
            lo = bounds[i] if i else -1
            hi = bounds[i + 1]
            groups.append((label, [c for c in columns if lo <= c.index < hi and c is not label]))
        segments = []
        sides_by_order = ["income", "expenditure"]
        for i, (label, members) in enumerate(groups):
            path = paths[label.index][0] + [p for m in members for p in paths[m.index][0][:1]]
            hits = {s for s, word in vocab.side_aliases.items() if any(word in cell for cell in path[:1] + paths[label.index][0])}
            side = hits.pop() if len(hits) == 1 else (sides_by_order[i] if i < 2 else None)
            side = side if spec.two_sided else None  # items side by side (三公 costs | counts): one table, no sides
            segments.append(_segment_of(side, label, members, sheet))
        return segments
    label = labels[0] if labels else None
    qualifier = _project_column(vocab, labels)
    if qualifier is not None:
        segment = _segment_of(None, label, [c for c in columns if c not in labels], sheet)
        segment.qualifier = qualifier
        return [segment]
    if len(labels) > 1:  # one item column is read: a second one (a table beside the first) is named, not lost unsaid
        sheet.warnings.append(EXTRA_ITEM_COLUMNS + "、".join(f"{c.letter}「{c.header}」" for c in labels[1:]))
    return [_segment_of(None, label, [c for c in columns if c is not label], sheet)]


def _project_column(vocab, labels: list[Column]) -> Column | None:
    """The 项目名称 column right after a 地区名称 one (vocabulary ``region_project_columns``), else None."""
    words = vocab.raw.get("region_project_columns") or {}
    if len(labels) != 2:
        return None
    heads = [normalise(c.header.split("/")[-1]) for c in labels]
    region, project = ({normalise(w) for w in words.get(k) or ()} for k in ("region", "project"))
    return labels[1] if heads[0] in region and heads[1] in project else None


def region_project_label(vocab, grid: Grid, r: int, seg: _Segment, label: str | None,
                         state: dict) -> tuple[str | None, bool]:
    """'<place> · <project>' and whether the row is a total: a place merged down over its projects, or left blank
    under its first, carries on; a row with a place and no project (合计, a town's own line) keeps the place alone.
    A 小计 (合计 …) in the project column is the place's subtotal, no project (``region_project_columns.subtotal``):
    before, a line '习岗镇 · 小计' among the projects, the town's money counted twice in any sum of its lines."""
    project = cell_text(grid.value(r, seg.qualifier.index)).strip(" \u3000\t\xa0\r\n")
    if label:
        state["region"] = label
    elif project:
        label = state.get("region")
    if not project:
        return label, False
    is_subtotal = normalise(project) in vocab.project_subtotals or vocab.is_total_label(project)
    return (f"{label} · {project}" if label else project), is_subtotal


def _codes_under_a_shared_header(grid: Grid, columns: list[Column], data_start: int) -> list[Column]:
    """'科目' merged over the code and the name column: the column holding codes is the code column."""
    labels = [c for c in columns if c.role == "label"]
    if len(labels) < 2 or any(c.role in ("code", "lei", "kuan", "xiang") for c in columns):
        return columns
    for col in labels:
        values = [grid.value(r, col.index) for r in range(data_start, min(len(grid.rows), data_start + 40))]
        filled = [v for v in values if cell_text(v).strip()]
        codes = [v for v in filled if _code_part(v) is not None]
        if filled and len(codes) * 2 >= len(filled):
            col.role = col.key = "code"
            break
    return columns


def _segment_of(side, label, members: list[Column], sheet) -> _Segment:
    members = _dedupe([m for m in members if m.role in ("measure", "text")], sheet) + [
        m for m in members if m.role not in ("measure", "text")
    ]
    code = next((m for m in members if m.role == "code"), None)
    split = {}
    for m in members:
        if m.role in ("lei", "kuan", "xiang") and m.role not in split:
            split[m.role] = m
    return _Segment(
        side=side,
        label=label,
        code=code,
        split=split,
        measures=[m for m in members if m.role == "measure"],
        texts=[m for m in members if m.role == "text"],
    )


def get_column_letter(index: int) -> str:
    """openpyxl's column letter (1 → A), openpyxl imported on first use: a run whose workbooks are all unchanged
    imports this module (the budget loader) but never openpyxl (≈ 0.2 s)."""
    from openpyxl.utils import get_column_letter as letter

    return letter(index)
