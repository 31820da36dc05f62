"""What a PDF line is to the segmenter: a table's title (a line naming a catalogue table), or the publisher/unit line
under one. Shared by the segmenter and the joining of pages printed to the right (``pdf_column_pages.py``)."""
from __future__ import annotations

from dagster_project.ingest.pdf_reader import PageItem
from dagster_project.ingest.pdf_unruled import CONTENTS_LINE as _CONTENTS_LINE
from dagster_project.ingest.workbook_spec import WorkbookVocabulary, normalise

MAX_TITLE_CHARS = 60


def is_title(vocab: WorkbookVocabulary, text: str) -> bool:
    norm = normalise(text)
    return (len(norm) <= MAX_TITLE_CHARS and not _CONTENTS_LINE.search(text)
            and vocab.table_for_title(text) is not None and not norm.startswith(vocab.note_prefixes))


def title_of(vocab: WorkbookVocabulary, item: PageItem) -> bool:
    """Whether a line, or a ruled row of one filled cell (some printers draw the title so), is a table's title."""
    filled = [c for c in item.cells if c]
    return (item.kind == "text" and is_title(vocab, item.text)) or (len(filled) == 1 and is_title(vocab, filled[0]))


def is_caption_line(vocab: WorkbookVocabulary, text: str) -> bool:
    """A table's publisher/unit line (``部门：宁夏回族自治区教育厅 单位：万元``), not its title."""
    return bool(vocab.unit_regex.search(text) or vocab.publisher_regex.search(normalise(text))) \
        and not is_title(vocab, text)
