"""Note lines under an export's data rows (``注：…``, ``数据来源：…``, ``制表：…``): the file's note, not records.

An office's export to Excel, or a CSV saved from it, often ends with a line of notes below the table. Read as a record
it named no deal and was a row reject ("no project code"); it is the file's note: the loader leaves it out of the
records (``rows_in`` counts records), and the file's note (``raw.load_files.reason``) gives how many, the row each
stands on (sheet and row in a workbook) and its text. Only a line that is clearly a note is one:
- exactly one non-empty cell (an Excel/Calc save pads it with empty fields: ``注：…,,,,``; a line of one field, which
  the CSV scan skips as a record of too few fields, likewise),
- that cell opens with a note's word and a colon (``words``, data of the family's spec; ``注1：`` too),
- after the last data row of its sheet (every row below it is a note too, or blank).
So a record with a missing code, or a note-like text among the data rows, is still a row reject.
"""
from __future__ import annotations

import re

import duckdb

from dagster_project.ingest.text_staging import sql_literal

# how much of each note the file's note repeats, and how many notes it lists
NOTE_TEXT_CHARS = 120
NOTES_LISTED = 5


def note_pattern(words: tuple[str, ...]) -> str:
    """A regular expression (Python and RE2 alike) for a cell opening with a note's word and a colon."""
    alternatives = "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True))
    return rf"^\s*(?:{alternatives})\s*[0-9０-９一二三四五六七八九十]*\s*[：:]"


def note_cell_sql(width: int, words: tuple[str, ...]) -> str:
    """SQL over the staged columns ``c0 … c{width-1}``: the one filled cell's text where the record is a note line,
    else NULL (the position test — after the last data row — is ``take_note_lines``')."""
    if width == 0 or not words:
        return "CAST(NULL AS VARCHAR)"
    cells = [f"c{i}" for i in range(width)]
    filled = " + ".join(f"CAST({c} IS NOT NULL AS INTEGER)" for c in cells)
    text = f"coalesce({', '.join(cells)})" if width > 1 else cells[0]
    return (f"(CASE WHEN ({filled}) = 1 THEN (CASE WHEN regexp_matches({text}, {sql_literal(note_pattern(words))}) "
            f"THEN {text} END) END)")


def take_note_lines(con: duckdb.DuckDBPyConnection, parsed: str, row_places: str | None,
                    skipped: list[tuple[int, str, str]], words: tuple[str, ...]) -> tuple[list[tuple[int, str, str]], list[tuple]]:
    """Remove from ``parsed`` the note lines (``_note_line`` not NULL) standing after the last other row of their
    sheet, and from ``skipped`` (the records the CSV scan skipped: row, line, reason) the lines of one field that are
    notes below every record; returns (still skipped, notes as (source_row, sheet, sheet_row, text) in row order)."""
    join = f"LEFT JOIN {row_places} AS p USING (source_row)" if row_places else ""
    sheet, sheet_row = ("p.sheet", "p.sheet_row") if row_places else ("CAST(NULL AS VARCHAR)", "x.source_row")
    found = con.execute(f"""
        WITH rows_placed AS (
            SELECT x.source_row, {sheet} AS sheet, {sheet_row} AS sheet_row, x._note_line FROM {parsed} AS x {join}
        ),
        last_data AS (
            SELECT sheet, max(source_row) AS last_row FROM rows_placed WHERE _note_line IS NULL GROUP BY sheet
        )
        SELECT r.source_row, r.sheet, r.sheet_row, r._note_line
        FROM rows_placed AS r LEFT JOIN last_data AS d ON d.sheet IS NOT DISTINCT FROM r.sheet
        WHERE r._note_line IS NOT NULL AND r.source_row > coalesce(d.last_row, -1)
        ORDER BY r.source_row
    """).fetchall()
    if found:
        con.execute(f"DELETE FROM {parsed} WHERE list_contains(?, source_row)", [[r[0] for r in found]])
    if not skipped:
        return skipped, found
    (last_row,) = con.execute(f"SELECT coalesce(max(source_row), 0) FROM {parsed}").fetchone()
    pattern = re.compile(note_pattern(words))
    lines: list[tuple] = []
    for row, line, _reason in reversed(skipped):   # from the end: a note stands below every record
        if row <= last_row:
            break
        cell = line.rstrip("\r\n").rstrip(",\t")
        if len(cell) >= 2 and cell.startswith('"') and cell.endswith('"'):
            cell = cell[1:-1].replace('""', '"')
        elif "," in cell or "\t" in cell or '"' in cell:
            break   # more than one field: not a note line
        if not pattern.match(cell):
            break
        lines.append((row, None, row, cell))
    taken = {n[0] for n in lines}
    return [s for s in skipped if s[0] not in taken], sorted(found + lines)


def note_lines_note(notes: list[tuple], row_word: str = "行") -> str:
    """The file's note for its note lines: how many, and each one's place and text (the first few)."""
    listed = []
    for _, sheet, sheet_row, text in notes[:NOTES_LISTED]:
        place = f"工作表「{sheet}」第{sheet_row}行" if sheet is not None else f"第{sheet_row}{row_word}"
        short = " ".join(text.split())
        listed.append(f"{place}「{short[:NOTE_TEXT_CHARS]}{'…' if len(short) > NOTE_TEXT_CHARS else ''}」")
    more = " …" if len(notes) > NOTES_LISTED else ""
    return (f"表格下方的 {len(notes)} 行注释, 不是记录 ({len(notes)} note lines under the data rows, not records): "
            f"{'; '.join(listed)}{more}")
