"""Budget and debt files → published tables and explanations: the loader for ``budget/`` and ``debt/``.

A file goes through the seams DESIGN_READERS.md draws: a reader per source form (``readers.py``:
.xlsx/.xlsm, .xls; ``pdf_reader.py``: text PDFs) gives grids with provenance; for a PDF the segmenter
(``segmenter.py``) cuts its pages into one grid per table (tables run over pages) and the running text;
one recogniser (``recogniser.py`` with ``header_band.py``, driven by ``specs/workbook_tables.yaml``, the
disclosure catalogue and the alias/unit seeds) turns each grid into a table; ``narrative.py`` finds the
required explanations in the text. Parses are cached by SHA-256 and made in parallel
(``parse_cache.py``).

``parse_workbook(path)`` is pure (no database) so tests can call it; ``load_workbook_file`` is the
family loader the ingest framework calls.
"""
from __future__ import annotations

from collections import Counter
from functools import lru_cache
from pathlib import Path

import duckdb

from dagster_project.ingest.debt_year import NEXT_NOTE, budget_of_1_1, next_year_tables
from dagster_project.ingest.framework import FileOutcome, FileRejected, RawFile
from dagster_project.ingest.grid import TextBlock
from dagster_project.ingest.narrative import disclosure_of, read_narrative
from dagster_project.ingest.parsed import (
    WORKBOOK_FAMILIES,
    ParsedLine,
    ParsedSheet,
    ParsedWorkbook,
    RowReject,
    parse_amount,
)
from dagster_project.ingest.pdf_untitled import UntitledTable, image_page_sheets, untitled_sheet
from dagster_project.ingest.readers import read_grids, refused_suffix_reason, uncached_formulas
from dagster_project.ingest.recogniser import parse_grid, split_tables
from dagster_project.ingest.segmenter import segment
from dagster_project.ingest.workbook_spec import vocabulary

NARRATIVE_SHEET = "说明文字，不是表格 (narrative text, not a table)"


def parse_workbook(path: Path | str, display_name: str | None = None) -> ParsedWorkbook:
    """Parse every table (sheet, or PDF table over its pages) and the explanations of a budget/debt file.
    Raises FileRejected when the file is no readable form (scanned or encrypted PDF, Word/WPS, corrupt)."""
    path = Path(path)
    name = display_name or path.name
    vocab = vocabulary()
    form, grids, document = read_grids(path, name)
    blocks: list[TextBlock] = []
    if document is not None:
        grids, blocks = segment(document, vocab)
    # a sheet may hold several tables one under another: each is parsed as its own (its sheet's index kept); a hidden
    # sheet is none of them, not split
    indexed = [(index, part) for index, grid in enumerate(grids)
               for part in ([grid] if grid.hidden or isinstance(grid, UntitledTable) else split_tables(grid, vocab))]
    grids = [part for _, part in indexed]
    # (a PDF's ruled table holding figures under no title is refused by the segmenter's reason, never dropped)
    sheets = [_hidden_sheet(part, index) if part.hidden else untitled_sheet(part, index)
              if isinstance(part, UntitledTable) else parse_grid(part, index, vocab) for index, part in indexed]
    narrative_sheets = []
    if document is None:  # a workbook's text lives on sheets that hold no table (说明, 封面 …)
        for grid, sheet in zip(grids, sheets):
            if sheet.status == "unknown_table" and not grid.hidden:
                sheet_blocks = [TextBlock(text, None, grid.name, grid.source_row(r))
                                for r in range(len(grid.rows)) for _, text in grid.texts(r)]
                blocks += sheet_blocks
                narrative_sheets.append((sheet, len(blocks)))
    _year_of_the_file(sheets, indexed, vocab, blocks)  # (a cover's year for tables naming none: the text read first)
    final_twins(sheets, indexed, vocab)
    if document is not None:  # pages of images only: named, never dropped in silence
        sheets += image_page_sheets(document.image_pages, len(sheets))
    sections, statements = read_narrative(blocks, vocab, vocab.units)
    named = {s.sheet for s in sections if s.sheet}
    for sheet, _ in narrative_sheets:
        if sheet.sheet in named:
            sheet.reason = NARRATIVE_SHEET
    parsed = ParsedWorkbook(path=path, sheets=sheets, file_format=form, sections=sections, statements=statements,
                            page_count=document.page_count if document is not None else None)
    _describe(parsed, blocks)
    return parsed


def _year_of_the_file(sheets: list[ParsedSheet], indexed: list, vocab, blocks: list[TextBlock] = ()) -> None:
    """A table naming no year (a Ministry-template 1-2 titled 石嘴山市地方政府一般债务余额情况表, its years only in its
    items) is of the year the file's other tables name, when they name one (one file = one entity, year and kind:
    RAW_FORMATS.md): read again with it. Before, it had no year: its items were matched against any year's wording
    (五、2023年末余额 read as the opening balance, 2023年还本 as the 2024 budget's), and the file's tables of that
    year counted as not published."""
    # a budget's debt table titled with its figures' year: the budget it serves (debt_year.py) — read again as that
    # year's, so its columns naming that year are its own (a 1-1 only when one does: its reading is otherwise the same)
    later = next_year_tables(sheets)
    for i, year in later.items():
        sheets[i].fiscal_year = year  # before the 1-1's question: the file's other tables agree on this year
    cover = disclosure_of(list(blocks)) if blocks else (None, None)  # the year and kind the document's cover names
    redated = budget_of_1_1(sheets, cover)
    for i, year in {**{i: y for i, y in redated.items() if y in sheets[i].header_years}, **later}.items():
        index, part = indexed[i]
        note = sheets[i].warnings[-1] if i in redated else NEXT_NOTE.format(title=year - 1, budget=year)
        sheets[i] = parse_grid(part, index, vocab, fiscal_year=year)
        sheets[i].warnings.append(note)
        sheets[i].reason = "; ".join(sheets[i].warnings)
    years = {s.fiscal_year for s in sheets if s.status == "parsed" and s.fiscal_year is not None and not s.year_choices}
    said = "本文件其他表的年度 {} ", "the year the file's other tables name"
    if not years:
        # no table names a year (the Ministry's 决算 template: 收入支出决算总表 under 公开01表, 部门：… 金额单位：万元):
        # the year the document's cover names (…2024年度部门决算), where it names the tables' kind. Before, every
        # table had no year and the file's disclosure was of none: all of its tables counted as not published
        year, phase = cover
        if year is None or {s.phase for s in sheets if s.status == "parsed"} - {phase}:
            return
        years, said = {year}, ("本文件封面所写年度 {} ", "the year the document's cover names")
    if len(years) != 1:
        return
    (year,) = years
    for i, ((index, part), sheet) in enumerate(zip(indexed, sheets)):
        # also a table whose header names several years, the file's among them and not the one taken (a 2024 final's
        # 三公 table under 2024年决算数 | 2025年预算数 read as 2025's: the finals as last year's, the plan as the budget)
        if sheet.table_name is not None and (sheet.fiscal_year is None
                                             or year in sheet.year_choices and sheet.fiscal_year != year):
            sheets[i] = parse_grid(part, index, vocab, file_year=year)
            sheets[i].warnings.append(f"表内未写年度，按{said[0].format(year)}读取 (the table names no year: read as "
                                      f"of {year}, {said[1]})")


TWIN_NOTE = ("表名为预算表名，本文件其他表均为{year}年决算表：按其决算表「{twin}」读取 (titled as the budget's table in a "
             "file of {year} final accounts: read as its final twin)")


def final_twins(sheets: list[ParsedSheet], indexed: list, vocab) -> None:
    """One file = one entity, year and kind (RAW_FORMATS.md): in a file whose tables are 决算 of one year, a government
    table of that year titled with the budget's name (政府一般债务限额和余额情况表, as the 209号 templates name it in a
    county's 决算公开 too) is the final accounts' table. Before, it was read as the year's budget table: the budget's
    item counted as published on the final's date, the final's as missing."""
    parsed = [s for s in sheets if s.status == "parsed"]
    final_years = {s.fiscal_year for s in parsed if s.phase == "final"}
    budget = [i for i, s in enumerate(sheets) if s.status == "parsed" and s.phase == "budget"]
    if len(final_years) != 1 or not budget or len(parsed) - len(budget) <= len(budget):
        return
    (year,) = final_years
    for i in budget:
        twin = vocab.final_twins.get(sheets[i].table_name)
        if twin is None or sheets[i].fiscal_year != year:
            continue
        index, part = indexed[i]
        sheets[i] = parse_grid(part, index, vocab, fiscal_year=year, as_table=twin)
        sheets[i].warnings.append(TWIN_NOTE.format(year=year, twin=twin))
        sheets[i].reason = "; ".join(sheets[i].warnings)


HIDDEN_SHEET = ("隐藏的工作表：打开文件的人看不到，不作为公开的表格读取 "
                "(a hidden sheet: no one opening the file sees it, so it is not read as a published table)")


def _hidden_sheet(grid, index: int) -> ParsedSheet:
    """A sheet hidden in its workbook (a draft, an old version, a lookup list) is no published table: read as one,
    its figures could stand for the visible table's (int_sheet_duplicates keeps one copy of a table, the first
    without rejected rows). Reported with its reason, as any sheet that is no table."""
    return ParsedSheet(sheet=grid.name, sheet_index=index, status="unknown_table", reason=HIDDEN_SHEET,
                       title=next((text for r in range(min(len(grid.rows), 5)) for _, text in grid.texts(r)), None))


def _describe(parsed: ParsedWorkbook, blocks: list[TextBlock]) -> None:
    """The disclosure a file is (entity, year, phase): what most of its tables say, else its cover."""
    tables = [s for s in parsed.sheets if s.status == "parsed"]
    if tables:
        entity, year, phase = Counter((s.entity_name, s.fiscal_year, s.phase) for s in tables).most_common(1)[0][0]
        parsed.entity_name = entity or next((s.entity_name for s in tables if s.entity_name), None)
        parsed.fiscal_year, parsed.phase = year, phase
    else:
        parsed.fiscal_year, parsed.phase = disclosure_of(blocks)


# ---------------------------------------------------------------------------------------------------
# Loader
@lru_cache(maxsize=1)
def _schemas() -> dict:
    """The Arrow schemas of the rows a load inserts, made on first use: pyarrow (with numpy, ≈ 0.2–0.4 s) is imported
    only by a run that loads a workbook, not by every run that finds the budget and debt files unchanged."""
    import pyarrow as pa

    sheet = pa.schema([
        ("load_id", pa.string()), ("source_file", pa.string()), ("source_sha256", pa.string()),
        ("sheet", pa.string()), ("sheet_index", pa.int32()), ("title", pa.string()),
        ("table_name", pa.string()), ("entity_name", pa.string()), ("publisher_line", pa.string()),
        ("fiscal_year", pa.int32()), ("phase", pa.string()), ("unit_label", pa.string()),
        ("unit_multiplier", pa.decimal128(20, 4)), ("code_layout", pa.string()),
        ("header_row_count", pa.int32()), ("data_row_count", pa.int32()), ("note_text", pa.string()),
        ("is_empty", pa.bool_()), ("has_empty_note", pa.bool_()), ("status", pa.string()),
        ("reason", pa.string()), ("is_retired", pa.bool_()),
    ])
    line = pa.schema([
        ("load_id", pa.string()), ("source_file", pa.string()), ("source_sha256", pa.string()),
        ("sheet", pa.string()), ("source_row", pa.int32()), ("table_name", pa.string()),
        ("side", pa.string()), ("line_code", pa.string()), ("line_label", pa.string()),
        ("indent_level", pa.int32()), ("is_total", pa.bool_()), ("row_key", pa.string()),
        ("column_key", pa.string()), ("source_column", pa.string()), ("value_text", pa.string()),
        ("amount_yuan", pa.decimal128(20, 2)), ("is_retired", pa.bool_()), ("source_page", pa.int32()),
    ])
    reject = pa.schema([
        ("load_id", pa.string()), ("family", pa.string()), ("source_file", pa.string()),
        ("source_sha256", pa.string()), ("sheet", pa.string()), ("source_row", pa.int32()),
        ("source_column", pa.string()), ("raw_value", pa.string()), ("reason", pa.string()),
        ("is_retired", pa.bool_()),
    ])
    section = pa.schema([
        ("load_id", pa.string()), ("source_file", pa.string()), ("source_sha256", pa.string()),
        ("section_name", pa.string()), ("heading", pa.string()), ("sheet", pa.string()),
        ("source_page", pa.int32()), ("source_row", pa.int32()), ("body_chars", pa.int32()),
        ("entity_name", pa.string()), ("fiscal_year", pa.int32()), ("phase", pa.string()), ("is_retired", pa.bool_()),
    ])
    statement = pa.schema([
        ("load_id", pa.string()), ("source_file", pa.string()), ("source_sha256", pa.string()),
        ("statement_key", pa.string()), ("section_name", pa.string()), ("value_text", pa.string()),
        ("amount_yuan", pa.decimal128(20, 2)), ("tolerance_yuan", pa.decimal128(20, 2)), ("year_named", pa.int32()),
        ("sheet", pa.string()), ("source_page", pa.int32()), ("source_row", pa.int32()), ("excerpt", pa.string()),
        ("is_retired", pa.bool_()), ("count_value", pa.int32()),
    ])
    count = pa.schema([
        ("load_id", pa.string()), ("source_file", pa.string()), ("source_sha256", pa.string()),
        ("sheet", pa.string()), ("source_row", pa.int32()), ("source_page", pa.int32()), ("table_name", pa.string()),
        ("line_label", pa.string()), ("count_key", pa.string()), ("column_key", pa.string()),
        ("source_column", pa.string()), ("value_text", pa.string()), ("count_value", pa.int32()),
        ("is_retired", pa.bool_()),
    ])
    return {"sheet": sheet, "line": line, "reject": reject, "section": section, "statement": statement, "count": count}


def _insert(con: duckdb.DuckDBPyConnection, table: str, kind: str, rows: list[tuple]) -> None:
    """Insert ``rows`` into ``table`` through Arrow, typed by ``_schemas()[kind]``."""
    if not rows:
        return
    import pyarrow as pa

    schema = _schemas()[kind]
    columns = list(zip(*rows))
    arrow = pa.table([pa.array(col, type=f.type) for col, f in zip(columns, schema)], schema=schema)
    view = "_workbook_rows"
    con.register(view, arrow)
    try:
        con.execute(f"INSERT INTO {table} BY NAME SELECT * FROM {view}")
    finally:
        con.unregister(view)


def load_workbook_file(con: duckdb.DuckDBPyConnection, f: RawFile, load_id: str) -> FileOutcome:
    """Family loader for budget/ and debt/: raw.<family>_sheets, raw.<family>_lines, rejects, and for budget
    files the explanations found (raw.budget_sections) and the figures/years they state (raw.budget_statements)."""
    from dagster_project.ingest.parse_cache import parse_cached

    parse_cached(f)  # a refused file raises FileRejected here, with its reason
    outcome = load_workbook_batch(con, [f], load_id)[0]
    if outcome is None:  # parse_cached raised for it above; the cache cannot have changed in between
        raise FileRejected(f"{f.rel}: 无法读取 (could not be read)")
    return outcome


def load_workbook_batch(con: duckdb.DuckDBPyConnection, files: list[RawFile],
                        load_id: str) -> list[FileOutcome | None]:
    """``load_workbook_file`` for several files of one family at once: one INSERT per table for all of them
    (each INSERT costs DuckDB milliseconds whatever its size; a thousand workbooks paid seconds for it). The
    framework calls it inside one transaction and, if it raises, loads the same files one by one. A file refused
    whole (``FileRejected``) gets None and no rows: the framework loads it alone, which records the refusal."""
    from dagster_project.ingest.parse_cache import parse_cached

    families = {f.family for f in files}
    if len(families) != 1 or not families <= set(WORKBOOK_FAMILIES):
        raise ValueError(f"workbook loader called for families {sorted(families)!r}")
    family = families.pop()
    sheet_rows, line_rows, reject_rows, section_rows, statement_rows, count_rows = [], [], [], [], [], []
    outcomes = []
    for f in files:
        try:
            parsed = parse_cached(f)
        except FileRejected:
            outcomes.append(None)  # refused whole: the framework loads it alone, which records the refusal
            continue
        for s in parsed.sheets:
            sheet_rows.append((
                load_id, f.rel, f.sha256, s.sheet, s.sheet_index, s.title, s.table_name, s.entity_name,
                s.publisher_line, s.fiscal_year, s.phase, s.unit_label, s.unit_multiplier, s.code_layout,
                s.header_row_count, s.data_row_count, s.note_text, s.is_empty, s.has_empty_note, s.status,
                s.reason, False,
            ))
            for ln in s.lines:
                line_rows.append((
                    load_id, f.rel, f.sha256, s.sheet, ln.source_row, s.table_name, ln.side, ln.line_code,
                    ln.line_label, ln.indent_level, ln.is_total, ln.row_key, ln.column_key, ln.source_column,
                    ln.value_text, ln.amount_yuan, False, ln.source_page,
                ))
            count_rows += [(load_id, f.rel, f.sha256, s.sheet, c.source_row, c.source_page, s.table_name, c.line_label,
                            c.count_key, c.column_key, c.source_column, c.value_text, c.count_value, False)
                           for c in s.counts]
        reject_rows += [
            (load_id, f.family, f.rel, f.sha256, r.sheet, r.source_row, r.source_column, r.raw_value, r.reason, False)
            for r in parsed.rejects]
        if family == "budget":
            section_rows += [
                (load_id, f.rel, f.sha256, s.table_name, s.heading, s.sheet, s.source_page, s.source_row, s.body_chars,
                 parsed.entity_name, parsed.fiscal_year, parsed.phase, False) for s in parsed.sections]
            statement_rows += [
                (load_id, f.rel, f.sha256, s.statement_key, s.section, s.value_text, s.amount_yuan, s.tolerance_yuan,
                 s.year_named, s.sheet, s.source_page, s.source_row, s.excerpt, False, s.count_value)
                for s in parsed.statements]
        outcomes.append(_outcome(f, parsed))
    _insert(con, f"raw.{family}_sheets", "sheet", sheet_rows)
    _insert(con, f"raw.{family}_lines", "line", line_rows)
    _insert(con, "raw.load_rejects", "reject", reject_rows)
    if family == "budget":
        _insert(con, "raw.budget_sections", "section", section_rows)
        _insert(con, "raw.budget_statements", "statement", statement_rows)
        _insert(con, "raw.budget_counts", "count", count_rows)
    return outcomes


def _outcome(f: RawFile, parsed: ParsedWorkbook) -> FileOutcome:
    issues = [
        f"「{s.sheet}」{s.reason}" for s in parsed.sheets if s.status != "parsed" and s.reason
    ]
    if parsed.rows_rejected:
        issues.insert(0, f"{parsed.rows_rejected} 行被拒绝 (rows rejected)")
    return FileOutcome(
        status="loaded_with_rejects" if parsed.rows_rejected or parsed.rejects else "loaded",
        reason="; ".join(issues) or None,
        rows_in=parsed.rows_in,
        rows_loaded=parsed.rows_loaded,
        rows_rejected=parsed.rows_rejected,
        file_format=parsed.file_format if parsed.file_format in ("pdf", "xls", "html", "xml") else f.path.suffix.lower().lstrip("."),
        encoding=None,
        detected_kind="pdf" if parsed.file_format == "pdf" else "workbook",
    )


def prefetch(files: list[RawFile]) -> None:
    """Parse the files about to be loaded on both cores into the SHA-256 cache (framework hook)."""
    from dagster_project.ingest.parse_cache import prefetch as _prefetch

    _prefetch(files)


load_workbook_file.prefetch = prefetch  # type: ignore[attr-defined]
load_workbook_file.load_batch = load_workbook_batch  # type: ignore[attr-defined]
# what a Word/WPS file in budget/ or debt/ is and what to send instead (framework's refusal asks the loader)
load_workbook_file.refused_suffix_reason = refused_suffix_reason  # type: ignore[attr-defined]


__all__ = [
    "ParsedLine", "ParsedSheet", "ParsedWorkbook", "RowReject", "load_workbook_batch", "load_workbook_file",
    "parse_amount",
    "parse_workbook", "uncached_formulas",
]
