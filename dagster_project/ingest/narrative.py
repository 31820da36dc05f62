"""The running text of a disclosure: which required explanations it carries, and what it states.

Input: ``TextBlock``s (a PDF's lines outside its tables, or the cells of a workbook's 说明 sheets) in
reading order. Output: the sections found (a heading naming one of the catalogue's explanations, with
its page or sheet and row, and how much text stands under it) and the statements to read against the
tables (figures such as 收入预算总计 … 万元, years named in the 编制说明). Patterns are data:
``specs/narrative_sections.yaml``; the section names are the disclosure catalogue's.
"""
from __future__ import annotations

import functools
import re
import unicodedata
from decimal import Decimal, InvalidOperation

import yaml

from dagster_project.ingest.grid import TextBlock
from dagster_project.ingest.parsed import ParsedSection, ParsedStatement, whole_number
from dagster_project.ingest.workbook_spec import WorkbookVocabulary, normalise
from dagster_project.paths import INGEST_SPECS_DIR

SPEC_YAML = INGEST_SPECS_DIR / "narrative_sections.yaml"
_NUMBERING = re.compile(
    r"^(?:第[一二三四五六七八九十]+部分|[一二三四五六七八九十]+[、.]|[(][一二三四五六七八九十\d]+[)]|\d+[、.](?!\d))\s*"
)
# numbering that opens a new part of the text (a numbered item 1. 2. inside a section does not end it)
_SECTION_BREAK = re.compile(r"^(?:第[一二三四五六七八九十]+部分|[一二三四五六七八九十]+[、.]|[(][一二三四五六七八九十]+[)])")
_YEAR = re.compile(r"(?<!\d)((?:19|20)\d{2})\s*年")


@functools.lru_cache(maxsize=1)
def _spec() -> dict:
    data = yaml.safe_load(SPEC_YAML.read_text(encoding="utf-8"))
    nf = functools.partial(unicodedata.normalize, "NFKC")
    return {
        "max": int(data.get("heading_max_chars", 40)),
        "sections": {name: [re.compile(nf(p)) for p in patterns] for name, patterns in data["sections"].items()},
        "statements": [(key, re.compile(nf(p))) for key, patterns in data["statements"].items() for p in patterns],
        "year_sections": set(data.get("year_sections") or []),
        "statement_sections": dict(data.get("statement_sections") or {}),
        "own_figure_sections": set(data.get("own_figure_sections") or []),
        "count_section": data.get("count_section"),
        "cover_execution": re.compile(nf(data.get("cover_execution") or "(?!)")),
        "counts": [(key, [re.compile(nf(p).replace("{N}", data.get("count_number") or r"\d+")) for p in patterns])
                   for key, patterns in (data.get("counts") or {}).items()],
        "count_other_scope": re.compile(nf(data.get("count_other_scope") or "(?!)")),
        "count_preferred": {key: nf(word) for key, word in (data.get("count_preferred") or {}).items()},
    }


def _heading(text: str, max_chars: int) -> str | None:
    """The heading text without its numbering, or None when the line is running text."""
    norm = normalise(text)
    if not norm or len(norm) > max_chars:
        return None
    numbered = _NUMBERING.match(norm)
    if not numbered and (norm.endswith(("。", ";", "；", ",")) or len(norm) > 20):
        return None
    return norm[numbered.end():] if numbered else norm


def read_narrative(blocks: list[TextBlock], vocab: WorkbookVocabulary,
                   units: dict[str, Decimal]) -> tuple[list[ParsedSection], list[ParsedStatement]]:
    spec = _spec()
    known = {t.table_name for t in vocab.explanations}
    patterns = {name: pats for name, pats in spec["sections"].items() if name in known}
    sections: list[ParsedSection] = []
    found: dict[str, ParsedSection] = {}
    statements: list[ParsedStatement] = []
    active: list[ParsedSection] = []
    # the lines under one heading, read as one text: a sentence wraps at the line's end wherever the printer breaks
    # it — inside a figure and its unit (…总计1,234.56万 | 元，…) as well — and a reader reads on
    run: list[TextBlock] = []

    def read_run() -> None:
        nonlocal statements
        if run:
            statements += _statements(run, active, spec, units)
            run.clear()

    for block in blocks:
        heading = _heading(block.text, spec["max"])
        names = [name for name, pats in patterns.items() if heading and any(p.search(heading) for p in pats)]
        if heading is not None and (names or _SECTION_BREAK.match(normalise(block.text))):
            read_run()
            active = []
            for name in names:
                if name not in found:
                    found[name] = ParsedSection(name, block.text.strip(), block.sheet, block.page, block.row, 0)
                    sections.append(found[name])
                active.append(found[name])
            if names:
                continue
        for section in active:
            section.body_chars += len(normalise(block.text))
        if block.sheet is not None or (run and run[-1].sheet is not None):
            read_run()  # a workbook's cells are each their own text: only a PDF's lines wrap
        run.append(block)
    read_run()
    return sections, statements


def _statements(run: list[TextBlock], active: list[ParsedSection], spec: dict,
                units: dict[str, Decimal]) -> list[ParsedStatement]:
    """Figures and years stated in consecutive lines, read as one text; each cited at the line where it starts."""
    texts = [normalise(b.text) for b in run]
    norm = "".join(texts)
    starts, at = [], 0
    for text in texts:
        starts.append(at)
        at += len(text)

    def line_of(offset: int) -> TextBlock:
        return run[max(i for i, start in enumerate(starts) if start <= offset)]

    out = []
    if active and all(a.table_name in spec["own_figure_sections"] for a in active):
        return out  # 政府采购支出总额…: the section's own figure, not the document's total
    taken: list[tuple[int, int]] = []
    for key, pattern in spec["statements"]:
        for m in pattern.finditer(norm):
            span = m.span("amount")
            if any(a <= span[0] < b for a, b in taken):
                continue  # this figure is already another statement's (财政拨款收入 before 收入)
            taken.append(span)
            text = m.group("amount").replace(",", "")
            try:
                value = Decimal(text)
            except InvalidOperation:
                continue
            multiplier = units.get(m.group("unit"), Decimal(1))
            # under a heading naming two sections (“三公”经费和机关运行经费), a figure belongs to its own one
            preferred = spec["statement_sections"].get(key)
            section = preferred if any(a.table_name == preferred for a in active) else (
                active[0].table_name if active else None)
            decimals = len(text.split(".")[1]) if "." in text else 0
            block = line_of(m.start())
            out.append(ParsedStatement(
                statement_key=key, section=section, value_text=m.group(0), amount_yuan=value * multiplier,
                tolerance_yuan=(Decimal(5) * Decimal(10) ** -(decimals + 1)) * multiplier, year_named=None,
                sheet=block.sheet, source_page=block.page, source_row=block.row, excerpt=_excerpt(norm, m.start()),
            ))
    if spec["count_section"] in {a.table_name for a in active}:
        out += _counts(norm, line_of, spec)
    section = active[0].table_name if active else None
    if section in spec["year_sections"]:
        for m in _YEAR.finditer(norm):
            block = line_of(m.start())
            out.append(ParsedStatement(
                statement_key="year_named", section=section, value_text=m.group(0), amount_yuan=None,
                tolerance_yuan=None, year_named=int(m.group(1)), sheet=block.sheet, source_page=block.page,
                source_row=block.row, excerpt=_excerpt(norm, m.start()),
            ))
    return out


def _counts(norm: str, line_of, spec: dict) -> list[ParsedStatement]:
    """The counts the 三公 explanation states in one paragraph (团组2个、5人次 …): each key's first, a whole number."""
    out = []
    for key, patterns in spec["counts"]:
        found = sorted((m for p in patterns for m in _every_match(p, norm)), key=lambda f: f.start())
        found = [m for m in found if not spec["count_other_scope"].search(_clause(norm, m))]
        word = spec["count_preferred"].get(key)
        found = [m for m in found if word and word in _clause(norm, m)] or found
        # a count is read where its number is one (三三 is none: not read, never a guess); a pattern without a count
        # group states none: 0 (本年未购置公务用车)
        counted = [(m, whole_number(m.group("count")) if "count" in m.re.groupindex else 0) for m in found]
        counted = [(m, count) for m, count in counted if count is not None]
        if not counted:
            continue
        m, count = counted[0]
        block = line_of(m.start())
        out.append(ParsedStatement(
            statement_key=key, section=spec["count_section"], value_text=m.group(0), amount_yuan=None,
            tolerance_yuan=None, year_named=None, sheet=block.sheet, source_page=block.page, source_row=block.row,
            excerpt=_excerpt(norm, m.start()),
            count_value=count,
        ))
    return out


def _every_match(pattern: re.Pattern, text: str):
    """Each match of ``pattern`` at every start, overlapping: 团组3个,实际组织团组2个、5人 — the people after the second
    团组 even where the first 团组's match (another scope's) took them."""
    at = 0
    while (m := pattern.search(text, at)) is not None:
        yield m
        at = m.start() + 1


_CLAUSE_END = re.compile(r"[,;。:]")


def _clause(norm: str, m: re.Match) -> str:
    """The clause a match stands in, from the last , ; 。 : before it (normalised text) to the match's end."""
    start = max((e.end() for e in _CLAUSE_END.finditer(norm, 0, m.start())), default=0)
    return norm[start:m.end()]


def _excerpt(text: str, at: int, width: int = 40) -> str:
    lo = max(0, at - 10)
    return text[lo: lo + width]


def disclosure_of(blocks: list[TextBlock]) -> tuple[int | None, str | None]:
    """(fiscal year, phase) a narrative speaks of, from its first lines (a cover: …2025年部门预算). In a line naming
    several years, each year's own words decide (``cover_execution``): the first year of a budget or final itself,
    a year of an execution only where none is named — 关于2023年预算执行情况和2024年预算草案的报告 is 2024's budget.
    Before, the first year in the line was taken: the budget's report was a 2023 disclosure."""
    execution = _spec()["cover_execution"]
    for block in blocks[:12]:
        norm = normalise(block.text)
        years = list(_YEAR.finditer(norm))
        if not years or ("预算" not in norm and "决算" not in norm):
            continue
        ends = [m.start() for m in years[1:]] + [len(norm)]
        named = []
        for m, end in zip(years, ends):
            words = norm[m.start():end]
            if "决算" in words:
                named.append((0, int(m.group(1)), "final"))
            elif "预算" in words:
                named.append((1 if execution.search(words) else 0, int(m.group(1)), "budget"))
        if named:
            _, year, phase = min(named, key=lambda n: n[0])  # min keeps the first of equal rank
            return year, phase
        return int(years[0].group(1)), ("final" if "决算" in norm else "budget")
    return None, None


__all__ = ["disclosure_of", "read_narrative"]
