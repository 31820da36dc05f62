"""The recogniser: one spec-driven parser that turns a ``Grid`` into a published table.

Layout knowledge is data (``specs/workbook_tables.yaml``, the disclosure catalogue, the alias and unit
seeds, read by ``workbook_spec.py``); ``header_band.py`` finds the title, publisher/unit line and header
band. This module reads the data band: codes (one column or 类|款|项), labels, amounts in the table's
unit, item rows → row_key, totals, footnotes and empty-table notes. A header band repeated inside the
table (continuation pages) and a blank template's placeholder rows are not data. Every row is
accounted: loaded or rejected, with file, sheet or page, row and column.
"""
from __future__ import annotations

import dataclasses
from collections import Counter
from decimal import ROUND_HALF_UP, Decimal

from dagster_project.ingest.count_cells import count_cell, count_item, counted_keys, unnamed_row_counts
from dagster_project.ingest.cut_labels import CUT_NOTE
from dagster_project.ingest.figure_pairs import choose, coalesce_columns
from dagster_project.ingest.grid import Grid, UncachedFormula, cell_text
from dagster_project.ingest.debt_year import BUDGET_1_1, adjusted_headers, closed_headers, figures_year, is_budget_1_1
from dagster_project.ingest.roll_forward_year import RollForward
from dagster_project.ingest.debt_parts import settle
from dagster_project.ingest.row_keys import RowKeys, kind_cells_once
from dagster_project.ingest.region_totals import unmapped_whole_total, whole_region_total
from dagster_project.ingest.number_formats import printed_figure, unit_literal, unit_of_literal
from dagster_project.ingest.header_band import (
    FOREIGN_YEAR_COLUMNS,
    _codes_under_a_shared_header,
    _column_paths,
    _entity_and_year,
    _find_header,
    _find_title,
    _looks_numeric,
    _map_columns,
    _Segment,
    _segments,
    _strip_unit_publisher,
    best_alias,
    region_project_label,
)
from dagster_project.ingest.parsed import (
    _BLANK_AMOUNTS,
    _LABEL_CODE,
    _LEADING_CODE,
    _YEAR,
    CENT,
    ParsedLine,
    ParsedSheet,
    RowReject,
    SheetError,
    _code_part,
    indent_of,
    nfkc,
    year_of,
    years_in,
    parse_amount,
)
from dagster_project.ingest.region_band import refuse_double_regions, region_columns, strip_bands
from dagster_project.ingest.workbook_spec import TableSpec, WorkbookVocabulary, normalise, vocabulary

# raw.<family>_lines.amount_yuan is DECIMAL(20, 2) (workbook._schemas): 10^18 元 and more cannot be loaded (Arrow
# refuses the family's whole batch) and is no public-finance figure (a province's debt is below 10^13 元) — a typo or
# a code typed into an amount cell: that cell's row reject
_MAX_YUAN = Decimal(10) ** 18


def _pre_header_info(vocab, grid: Grid, rows: range, sheet: ParsedSheet, header_rows=()) -> list[str]:
    """Publisher line and unit from the rows above the data; returns any empty-table notes there."""
    notes = []
    superior = False  # the publisher line taken names the unit's superior (预算主管部门：…厅): another line replaces it
    for r in rows:
        for _, text in grid.texts(r):
            if r in header_rows and not _strip_unit_publisher(vocab, text):
                continue
            n = nfkc(text)
            u = vocab.unit_regex.search(n)
            if u and sheet.unit_label is None:
                sheet.unit_label = u.group(1)
            p = vocab.publisher_regex.search(n)
            if p and (sheet.publisher_line is None or superior) and not (u and u.start() <= p.start() < u.end()):
                names_superior = bool(vocab.superior_regex.match(n, p.start()))
                if sheet.publisher_line is not None and names_superior:
                    continue  # a second superior line: the first stands
                end = u.start() if u and u.start() > p.start() else len(n)
                printed = text if len(text) == len(n) else n  # NFKC keeps CJK positions: slice as printed
                sheet.publisher_line = printed[p.start():end].strip() or None
                superior = names_superior
            if r not in header_rows and vocab.empty_note_regex.search(normalise(text)):
                notes.append(text.strip())
    return notes


def _label_fallback(value) -> str | None:
    text = cell_text(value)
    return text if text.strip() else None


def _parse_known_sheet(vocab, grid: Grid, sheet: ParsedSheet, title_row: int | None) -> None:
    spec = vocab.spec_for(sheet.table_name, sheet.fiscal_year)
    sheet.kind = spec.kind
    first = 0 if title_row is None else title_row + 1
    header_rows = _find_header(vocab, spec, grid, first)
    # the unit and publisher may sit anywhere above the data, even at the right of a header row
    top_notes = _pre_header_info(
        vocab, grid, range(0, header_rows[-1] + 1 if header_rows else first), sheet, header_rows
    )
    if not header_rows and any(vocab.empty_note_regex.search(normalise(n)) for n in top_notes):
        # a title and a note such as 本部门无政府性基金预算支出，故本表为空表, no table drawn: published empty
        sheet.note_text, sheet.is_empty, sheet.has_empty_note = "\n".join(top_notes), True, True
        sheet.code_layout = "none"
        return
    if not header_rows:
        raise SheetError(
            "未找到表头行 (no header row found): 期望如「科目编码」「项目」「预算数」等列名 "
            "(expected headers such as 科目编码 / 项目 / 预算数)"
        )
    sheet.header_row_count = len(header_rows)
    paths = _column_paths(vocab, grid, header_rows)
    if sheet.unit_label is None:
        for path, header in paths.values():
            m = vocab.header_unit_regex.search(nfkc(header))
            if m:
                sheet.unit_label = m.group(1)
                break
    if sheet.unit_label is None:
        sheet.unit_label = _unit_of_formats(grid, vocab, header_rows[-1] + 1)
    if sheet.unit_label is None:
        sheet.warnings.append("未注明金额单位，按元处理 (no unit stated; amounts taken as 元)")
    else:
        sheet.unit_multiplier = vocab.units.get(sheet.unit_label, vocab.units.get(sheet.unit_label.lower(), Decimal(1)))
    bands: dict[int, str] = {}
    if spec.region_column is not None:  # counties under a band header (分地区 …): the band is not their header
        paths, bands = strip_bands(vocab, spec, paths)
    columns = _map_columns(vocab, spec, paths, sheet)
    if spec.region_column is not None:
        if not spec.repeat_keys and not spec.kind_columns:  # a 1-2/1-3: its 合计 column, no alias's, the whole region's
            columns = unmapped_whole_total(vocab, spec, grid, paths, columns, header_rows, sheet, bands)
        columns = region_columns(vocab, spec, grid, paths, columns, header_rows, sheet, bands)
        if spec.repeat_keys:  # a 1-1 (its columns limit | balance): with items as rows, a 合计 column is the region's
            columns = whole_region_total(vocab, spec, grid, columns, header_rows, sheet)
    if spec.codes and not spec.two_sided:
        columns = _codes_under_a_shared_header(grid, columns, header_rows[-1] + 1)
    alternates: dict[int, list] = {}
    if spec.coalesce_columns:
        columns, alternates = coalesce_columns(grid, columns, header_rows[-1] + 1)
    if spec.region_column is not None:
        columns = refuse_double_regions(grid, columns, header_rows, sheet)
    sheet.column_map = {c.letter: c.key for c in columns + [a for alts in alternates.values() for a in alts]}
    segments = _segments(vocab, spec, columns, paths, sheet)
    if not any(seg.measures or seg.texts for seg in segments):
        raise SheetError("; ".join(["未识别任何金额列 (no amount column recognised in the header)"]
                                   + [w for w in sheet.warnings if w.startswith(FOREIGN_YEAR_COLUMNS[:12])]))
    if any(seg.split for seg in segments):
        sheet.code_layout = "split"
    elif any(seg.code for seg in segments) or spec.codes:
        sheet.code_layout = "single"
    else:
        sheet.code_layout = "none"

    mapped_cols = sorted(
        {c.index for seg in segments
         for c in ([seg.label, seg.code, seg.qualifier] + list(seg.split.values()) + seg.measures + seg.texts) if c}
        | {a.index for alts in alternates.values() for a in alts}
    )
    text_cols = {c.index for seg in segments for c in seg.texts}
    data_start = header_rows[-1] + 1
    data_merges = grid.merged_value_map(data_start, len(grid.rows) - 1, text_cols) if text_cols else {}
    notes: list[str] = list(top_notes)
    in_notes = False
    words_year = sheet.fiscal_year if spec.year_words else None
    row_keys = RowKeys(vocab, spec.row_patterns, spec.item_wordings, words_year)
    label_cols = [seg.label.index for seg in segments if seg.label]
    labelled = [(grid.where(r), cell_text(grid.value(r, c))) for r in range(data_start, len(grid.rows))
                for c in label_cols if cell_text(grid.value(r, c)).strip()]
    if spec.alternative_row_patterns:
        row_keys = RowKeys.best_for(vocab, spec, [label for _, label in labelled], words_year)
    if spec.roll_forward_rows is not None and words_year:  # the roll-forward's year decides its balances' items
        roll = RollForward(spec, labelled, words_year)
        if roll.patterns is not None:
            row_keys = RowKeys(vocab, roll.patterns, spec.item_wordings, words_year)
        row_keys.roll = roll
    split_state = {"lei": None, "kuan": None}
    multiplier = sheet.unit_multiplier
    # a header repeated inside the table (a PDF continuation page, a sheet printed with repeated titles)
    header_signatures = {_row_signature(grid, h) for h in header_rows} - {()}

    for r in range(data_start, len(grid.rows)):
        cells = grid.texts(r)
        if not cells:
            continue
        joined = " ".join(t for _, t in cells)
        first_norm = normalise(cells[0][1])
        if in_notes or first_norm.startswith(vocab.note_prefixes):
            in_notes = True
            notes.append(joined)
            continue
        if (first_norm.startswith(vocab.footnote_marks) or first_norm.endswith("。")) and not any(
                cell_text(grid.value(r, m.index)).strip() for seg in segments for m in seg.measures):
            notes.append(joined)  # a footnote line ('*本表…', '…为预计执行数。'): no item, rows below still count
            continue
        if vocab.footer_prefixes and first_norm.startswith(vocab.footer_prefixes):
            continue
        if first_norm in vocab.skip_row_labels:  # 栏次 | 1 | 2 …: column numbering, not data
            continue
        if not any(grid.value(r, c) is not None and cell_text(grid.value(r, c)).strip() for c in mapped_cols):
            continue
        if sheet.rows_in == 0 and _more_header(vocab, spec, grid, r, cells):
            continue  # a 4th header row (beyond MAX_HEADER_ROWS): header words, not amounts to reject
        if _row_signature(grid, r) in header_signatures:
            continue  # the header band again, e.g. at the top of a continuation page: not data
        if len(cells) <= 2 and not any(_looks_numeric(grid.value(r, c)) for c, _ in cells) and (
                (again := vocab.table_for_title("".join(t for _, t in cells))) and again.table_name == sheet.table_name):
            continue  # the table's title again above its repeated header: not an item
        if all(_strip_unit_publisher(vocab, t) for _, t in cells):
            continue  # its publisher / unit line again ('编制单位：… 单位：万元'): not an item
        if all(vocab.placeholder_regex.fullmatch(normalise(t)) for _, t in cells if not _looks_numeric(t)) \
                and all(not _looks_numeric(grid.value(r, c)) or cell_text(grid.value(r, c)).strip() in _BLANK_AMOUNTS
                        for c, _ in cells):
            continue  # a blank template's placeholder row (…, XX（部门）): not data
        measures_blank = all(
            nfkc(cell_text(grid.value(r, m.index))).strip() in _BLANK_AMOUNTS for seg in segments for m in seg.measures
        )
        if measures_blank and vocab.empty_note_regex.search(normalise(joined)) and not any(
            _looks_numeric(grid.value(r, c)) for c, _ in cells
        ):
            notes.append(joined)  # an empty-table note inside the table body; rows after it still count
            continue
        sheet.rows_in += 1
        row_keys.where = grid.where(r)
        row_lines: list[ParsedLine] = []
        row_rejects: list[RowReject] = []
        row_counts: list = []
        for seg in segments:
            _parse_segment_row(vocab, grid, sheet, spec, seg, r, multiplier, row_keys,
                               split_state, data_merges, row_lines, row_rejects, alternates, row_counts)
        if row_rejects:
            sheet.rows_rejected += 1
            sheet.rejects.extend(row_rejects)
        elif row_lines or row_counts:
            sheet.rows_loaded += 1
            sheet.lines.extend(row_lines)
            sheet.counts.extend(row_counts)
        else:  # nothing on either side of a two-sided row but ignored columns: still accounted
            sheet.rows_loaded += 1

    unnamed_row_counts(sheet, spec, [m for seg in segments for m in seg.measures])
    kind_cells_once(sheet, row_keys.kind_cells)
    settle(sheet, spec, row_keys.kind_cells)  # a section's 合计 beside its heading; a total's split left blank
    if row_keys.cut:  # what a print's cut labels were read as (→?: could be several items, read as none)
        sheet.warnings.append(CUT_NOTE + "、".join(row_keys.cut))
    if row_keys.roll is not None:
        row_keys.roll.close()
        sheet.warnings.extend(row_keys.roll.notes)
    sheet.note_text = "\n".join(notes) or None
    sheet.has_empty_note = bool(sheet.note_text and vocab.empty_note_regex.search(normalise(sheet.note_text)))
    sheet.is_empty = not any(
        line.amount_yuan not in (None, Decimal(0)) for line in sheet.lines if not line.is_total
    )
    if sheet.warnings:
        sheet.reason = "; ".join(sheet.warnings)
    sheet.header_years = tuple(sorted(years_in(h for _, h in paths.values())))
    # a budget 1-1's figures' year: which budget it serves is the file's question (debt_year.budget_of_1_1)
    sheet.adjusted = BUDGET_1_1 in sheet.table_keys and adjusted_headers([h for _, h in paths.values()])
    if is_budget_1_1(sheet):
        sheet.figures_year = figures_year(sheet, [h for _, h in paths.values()])
        sheet.closed_headers = closed_headers([h for _, h in paths.values()], sheet.fiscal_year)


def _row_signature(grid: Grid, r: int) -> tuple:
    return tuple((c, normalise(t)) for c, t in grid.texts(r))


def _more_header(vocab, spec: TableSpec, grid: Grid, r: int, cells) -> bool:
    return (
        len(cells) >= 2
        and not vocab.is_total_label(cells[0][1])
        and not any(_looks_numeric(grid.value(r, c)) for c, _ in cells)
        and all(best_alias(spec, [normalise(t)]) for _, t in cells)
    )


def _parse_segment_row(vocab, grid: Grid, sheet, spec, seg: _Segment, r, multiplier, row_keys,
                       split_state, data_merges, row_lines, row_rejects, alternates=None, row_counts=None) -> None:
    raw_label = _label_fallback(grid.value(r, seg.label.index)) if seg.label else None
    label_col = seg.label.index if seg.label else None
    if raw_label is None and spec.label_column:
        text_col = next((t for t in seg.texts if t.key == spec.label_column), None)
        if text_col is not None:
            raw_label = _label_fallback(data_merges.get((r, text_col.index), grid.value(r, text_col.index)))
            label_col = text_col.index
    code = None
    if seg.code is not None:
        value = grid.value(r, seg.code.index)
        part = _code_part(value)
        if part is not None:
            code = part
        elif value is not None and cell_text(value).strip():
            m = _LEADING_CODE.match(nfkc(cell_text(value)).strip())
            if m:
                code = m.group(1)
                if raw_label is None and m.group(2).strip():
                    raw_label = m.group(2)
            elif raw_label is None:
                raw_label = cell_text(value)
    elif seg.split:
        parts = {}
        for level in ("lei", "kuan", "xiang"):
            col = seg.split.get(level)
            value = grid.value(r, col.index) if col else None
            part = _code_part(value)
            if part is None and value is not None and cell_text(value).strip() and raw_label is None:
                raw_label = cell_text(value)  # e.g. 合计 merged across 类|款|项
            parts[level] = part
        code = _join_split(parts, split_state)
    if code is None and spec.codes and raw_label:
        m = _LABEL_CODE.match(nfkc(raw_label).strip())
        if m:
            code = m.group(1)
            raw_label = m.group(2) if m.group(2).strip() else None
    indent = 0
    if raw_label is not None:
        indent = indent_of(raw_label, grid.indent(r, label_col) if label_col is not None else None)
    label = raw_label.strip(" \u3000\t\xa0\r\n") if raw_label else None
    subtotal = False
    if seg.qualifier is not None:
        label, subtotal = region_project_label(vocab, grid, r, seg, label, split_state)
    is_total = bool(label) and (subtotal or vocab.is_total_label(label))
    counted_item = count_item(spec, row_keys, label, is_total)
    amounts = []
    for m in seg.measures:
        # a coalesced column: the cell this row filled (else the first column's; both filled: figure_pairs.choose)
        if alternates and m.index in alternates:
            m, refused = choose(grid, sheet, r, m, alternates[m.index], label)
            if refused:
                row_rejects.extend(refused)
                continue
        value = grid.value(r, m.index)
        counted_key, column_key = counted_keys(spec, m.key, row_keys, label, is_total, counted_item)
        if counted_key:  # a count (团组数 2; a bare 团组数 | 车辆数 column's: its row's cost's), never in the unit
            counted = count_cell(grid, spec, sheet, r, m, value, counted_key, column_key)
            if isinstance(counted, RowReject):
                row_rejects.append(counted)
            elif counted is not None and row_counts is not None:
                counted.line_label = label
                row_counts.append(counted)
            continue
        ok, amount = parse_amount(value)
        too_large = ok and abs(amount) >= _MAX_YUAN  # in any unit of the seed (each ≥ 1 元): before printing it
        ok = ok and not too_large
        # the figure a person reads: its number format's text (3.441395 shown '0.00' is 3.44), its scale ('#,##0,,'
        # prints thousands of thousands), a percentage is no amount
        number_format = grid.formats.get((r, m.index)) if grid.formats else None
        printed = printed_figure(value, number_format) if ok else None
        unit = unit_of_literal(printed.unit, vocab.units) if printed is not None else None
        if printed is not None and printed.unit and unit is None:
            printed = dataclasses.replace(printed, text=None)  # words beside the figure that are no unit: unknown
        if printed is not None and (printed.percent or printed.text is None):
            ok = False  # a ratio, or a figure whose format nobody here can print: never the stored value as read
        elif printed is not None:
            amount = amount.scaleb(-printed.shift)
            if printed.sign:
                amount = abs(amount) * printed.sign  # 减少 printed beside it: the figure a reader reads is negative
            if unit is not None and unit != sheet.unit_label:
                amount = amount * vocab.units[unit] / multiplier  # the unit printed beside the figure
        if ok and abs(amount * multiplier) >= _MAX_YUAN:
            ok, too_large = False, True
        if not ok:
            raw = printed.text if printed is not None and printed.text is not None else cell_text(value)
            found = (f"数额超出任何金额的范围「{raw}」(out of range: {raw} in this table's unit is 10^18 元 or more, "
                     f"no amount of a public budget or debt)" if too_large else
                     f"公式未保存计算结果「{raw}」，请在 Excel/WPS 中打开并保存后重新提交 (a formula saved "
                     f"without its computed value, '{raw}': open and save the file in Excel or WPS)"
                     if isinstance(value, UncachedFormula) else
                     f"数字格式无法解读「{number_format}」(number format not understood: {number_format}; what the "
                     f"cell prints for its "
                     f"stored {raw} is unknown)" if printed is not None and printed.text is None else
                     f"实际为百分比「{raw}」，不是金额 (expected an amount, found a percentage '{raw}': the cell's "
                     f"number format shows {cell_text(value)} as {raw})" if printed is not None else
                     f"实际为「{raw}」 (expected a number, found '{raw}')")
            row_rejects.append(RowReject(
                sheet.sheet, grid.source_row(r), m.letter, raw,
                f"{grid.where(r)} {m.letter}列「{m.header}」: 期望金额数字, {found}",
                source_page=grid.page(r),
            ))
            continue
        amounts.append((m, printed.text if printed is not None else value, amount))
    texts = []
    for t in seg.texts:
        value = data_merges.get((r, t.index), grid.value(r, t.index))
        texts.append((t, value))
    if not label and code is None and all(v is None or not cell_text(v).strip() for _, v, _ in amounts) \
            and all(v is None or not cell_text(v).strip() for _, v in texts) and not row_rejects:
        return  # this side of the row is empty
    if row_rejects:
        return
    # 其中 rows under a 合计 are the total's, not the kind's above it; a 合计 inside a 1-4 section is its total
    row_key = row_keys.total(spec.section_totals) if is_total else row_keys(label, indent)
    common = dict(
        source_row=grid.source_row(r), source_page=grid.page(r), side=seg.side, line_code=code, line_label=label, indent_level=indent,
        is_total=is_total, row_key=row_key,
    )
    for m, value, amount in amounts:
        key, item = m.key, row_key
        if m.key in spec.kind_columns and row_key and row_key.endswith("_total"):
            part, _, column = spec.kind_columns[m.key].partition("@")
            key, item = column or "amount", row_key[: -len("total")] + part
        row_lines.append(ParsedLine(
            **{**common, "row_key": item}, column_key=key, source_column=m.letter,
            value_text=cell_text(value) if value is not None else None,
            amount_yuan=(amount * multiplier).quantize(CENT, rounding=ROUND_HALF_UP),
        ))
        if key != m.key:
            row_keys.kind_cells.append((row_lines[-1], row_key, m.key))
    for t, value in texts:
        text = cell_text(value).strip()
        row_lines.append(ParsedLine(
            **common, column_key=t.key, source_column=t.letter,
            value_text=text or None, amount_yuan=None,
        ))


def _unit_of_formats(grid: Grid, vocab, data_start: int) -> str | None:
    """A table stating no unit whose figures print one ('#,##0.00"万元"'): the unit most of them print."""
    if not grid.formats:
        return None
    found = Counter(unit_of_literal(unit_literal(code), vocab.units)
                    for (r, _), code in grid.formats.items() if r >= data_start)
    return next((unit for unit, _ in found.most_common() if unit is not None), None)


def _join_split(parts: dict[str, str | None], state: dict) -> str | None:
    """类|款|项 cells → one code; blank parent parts are inherited from the last parent row."""
    lei, kuan, xiang = parts["lei"], parts["kuan"], parts["xiang"]
    if lei is None and kuan is None and xiang is None:
        return None
    code = None
    if lei is not None:
        state["lei"], state["kuan"] = lei, None
        code = lei
        if len(lei) > 3:  # a full code written into the 类 column
            state["lei"] = lei[:3]
            state["kuan"] = lei[:5] if len(lei) >= 5 else None
    if kuan is not None:
        kuan_code = kuan if len(kuan) > 2 else (state["lei"] or "") + kuan.zfill(2)
        state["kuan"] = kuan_code
        code = kuan_code
    if xiang is not None:
        code = xiang if len(xiang) > 2 else (state["kuan"] or state["lei"] or "") + xiang.zfill(2)
    return code


def _count_rows(grid: Grid, start: int) -> int:
    return sum(1 for r in range(max(start, 0), len(grid.rows)) if not grid.is_blank(r))


def parse_grid(grid: Grid, sheet_index: int, vocab: WorkbookVocabulary | None = None,
               file_year: int | None = None, fiscal_year: int | None = None, as_table: str | None = None) -> ParsedSheet:
    """Recognise and parse the one table a grid holds (a sheet, or a PDF table over its pages). ``file_year``: the
    year of the file the grid is in, for a table that names none (its title, the lines under it, its sheet name);
    ``fiscal_year``: the year it is read as whatever its title says (a budget's table titled with its figures' year,
    debt_year.py); ``as_table``: the catalogue table it is read as whatever its title names (a final's table titled
    as the budget's, workbook.final_twins)."""
    vocab = vocab or vocabulary()
    sheet = ParsedSheet(sheet=grid.name, sheet_index=sheet_index)
    if all(grid.is_blank(r) for r in range(len(grid.rows))):
        sheet.status, sheet.reason = "unknown_table", "空白工作表 (blank sheet)"
        return sheet
    title, title_row, table = _find_title(vocab, grid, grid.name)
    sheet.title = title
    if as_table is not None:
        table = next(t for t in vocab.tables if t.table_name == as_table)
    if table is None:
        sheet.status = "unknown_table"
        sheet.reason = (
            f"标题「{title or ''}」和工作表名「{grid.name}」都不含已知表名 "
            "(no known table name in the title or the sheet name)"
        )
        return sheet
    sheet.table_name, sheet.table_keys, sheet.phase = table.table_name, table.table_keys, table.phase
    sheet.entity_name, sheet.fiscal_year = _entity_and_year(vocab, title, table.table_name)
    if fiscal_year is not None:
        sheet.fiscal_year = fiscal_year
    if sheet.fiscal_year is None:  # the year on a line under the title, else in the sheet name, else the file's
        named, closed = _years_under_title(grid, title_row)
        sheet.year_choices = tuple(sorted(set(named))) if len(set(named)) > 1 else ()
        # the file's when named (a 2024 final's 三公 table under 2024年决算数 | 2025年预算数 is 2024's); else the latest
        # (2023年预算数 | 2024年预算数 under a title without a year is 2024's table), of a final's 决算 columns if any
        sheet.fiscal_year = file_year if file_year in named else max(
            (closed if sheet.phase == "final" else []) or named, default=file_year)
    try:
        _parse_known_sheet(vocab, grid, sheet, title_row)
        if sheet.entity_name is None and sheet.publisher_line:
            # the Ministry template's title has no entity ('2025年部门财务收支预算总表'): the publisher line names it
            named = _publisher_named(vocab, sheet.publisher_line)
            if named and not vocab.placeholder_regex.fullmatch(normalise(named)):
                sheet.entity_name = named
    except SheetError as exc:
        if _is_contents_page(vocab, grid):
            _reset(sheet, "unknown_table", "目录页，列出多张表但本身不是表 (a contents page listing tables)")
            return sheet
        _sheet_error(sheet, grid, title_row, str(exc))
    except Exception as exc:  # one bad sheet must not stop the others
        _sheet_error(sheet, grid, title_row, f"{type(exc).__name__}: {exc}")
    return sheet


def _publisher_named(vocab, line: str) -> str:
    """The publisher a publisher line names: its own unit's, not its superior's, where one line gives both
    (预算单位：…中心　预算主管部门：…委员会 — before, the last colon's name, the department's)."""
    text = nfkc(line)
    parts = list(vocab.publisher_part_regex.finditer(text))
    if not parts:
        return text.strip()
    named = [(bool(vocab.superior_regex.match(text, p.start())), text[p.end():end].strip())
             for p, end in zip(parts, [q.start() for q in parts[1:]] + [len(text)])]
    return next((name for superior, name in named if name and not superior), None) or next(
        (name for _, name in named if name), "")


def _years_under_title(grid: Grid, title_row: int | None) -> tuple[list[int], list[int]]:
    """The years the first line under a title naming any names (its header), else the sheet's name, and those of its
    决算 cells. Lines from the first holding a figure on are data: a 1-2 with no unit/publisher line took its year
    from 一、2022年末… (2022)."""
    for r in range(0, min(len(grid.rows), (title_row or 0) + 3)):
        cells = grid.texts(r)
        if r > (title_row or 0) and any(_looks_numeric(grid.value(r, c)) for c, _ in cells):
            break
        if years := [y for y in (year_of(_YEAR.search(text)) for _, text in cells) if y]:
            return years, [y for _, text in cells if "决算" in text and (y := year_of(_YEAR.search(text)))]
    return [y for y in (year_of(_YEAR.search(grid.name)),) if y], []


def split_tables(grid: Grid, vocab: WorkbookVocabulary | None = None) -> list[Grid]:
    """A sheet holding several tables one under another (一般债务 then 专项债务 on one sheet): one grid per table.

    A table starts at a row that reads as a known table's title and is followed by that table's header; the
    first table keeps the sheet's name, each later one is named after the sheet and the row it starts on. The
    rows of other tables are blanked, not dropped, so every row keeps the number a person counts on the sheet.
    PDF tables are cut by the segmenter already."""
    vocab = vocab or vocabulary()
    if grid.is_pdf:
        return [grid]
    starts = []
    for r in range(len(grid.rows)):
        cells = grid.texts(r)
        if not cells or len(cells) > 2:
            continue
        text = "".join(t for _, t in cells if not _strip_unit_publisher(vocab, t))
        table = vocab.table_for_title(text) if text and len(normalise(text)) <= 80 else None
        if table is None or normalise(text).startswith(vocab.note_prefixes):
            continue
        header = _find_header(vocab, vocab.spec_for(table.table_name, None), grid, r + 1)
        # a contents page lists names one under another: a header row names no table
        if header and header[0] <= r + 4 and (not starts or r > starts[-1][1]) and not any(
                vocab.table_for_title(t) for h in header for _, t in grid.texts(h)):
            if starts and starts[-1][2] == table.table_name:
                continue  # the same table's title and header again (a block pasted per printed page): one table
            starts.append((r, header[-1], table.table_name))
    if len(starts) < 2:
        return [grid]
    bounds = [0] + [r for r, _, _ in starts[1:]] + [len(grid.rows)]
    grids = []
    for i, (lo, hi) in enumerate(zip(bounds, bounds[1:])):
        rows = [() for _ in range(lo)] + list(grid.rows[lo:hi])
        grids.append(Grid(
            name=grid.name if i == 0 else f"{grid.name}（第{lo + 1}行起）",
            rows=rows,
            merges=[m for m in grid.merges if lo <= m[0] < hi],
            indents={k: v for k, v in grid.indents.items() if lo <= k[0] < hi},
            source_format=grid.source_format,
        ))
    return grids


def _reset(sheet: ParsedSheet, status: str, reason: str) -> None:
    sheet.status, sheet.reason = status, reason
    sheet.lines, sheet.rejects = [], []
    sheet.rows_in = sheet.rows_loaded = sheet.rows_rejected = 0


def _is_contents_page(vocab, grid: Grid) -> bool:
    names = {t.table_name for r in range(len(grid.rows)) for _, text in grid.texts(r)
             if (t := vocab.table_for_title(text))}
    return len(names) >= 3


def _sheet_error(sheet: ParsedSheet, grid: Grid, title_row: int | None, detail: str) -> None:
    """A sheet that names a known table but cannot be read: one reject, its rows counted as rejected."""
    _reset(sheet, "error", f"工作表「{sheet.sheet}」无法解析 (sheet could not be parsed): {detail}")
    sheet.rejects = [RowReject(sheet.sheet, None, None, None, sheet.reason)]
    counted = _count_rows(grid, (title_row + 1) if title_row is not None else 0)
    sheet.rows_in, sheet.rows_rejected = counted, counted



__all__ = ["parse_grid", "split_tables"]
