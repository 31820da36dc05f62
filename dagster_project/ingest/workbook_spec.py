"""Table specs for the workbook parser, compiled from data.

``specs/workbook_*.yaml`` say how each table *kind* is laid out; ``ref_disclosure_catalogue.csv``
says which canonical table names exist; ``ref_amount_units.csv`` says what a unit is worth in 元.
This module turns them into small frozen objects the parser uses; it holds no table knowledge itself.
"""
from __future__ import annotations

import csv
import functools
import re
import unicodedata
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

import yaml

from dagster_project.ingest.cut_labels import expand
from dagster_project.paths import DBT_SEEDS_DIR, INGEST_SPECS_DIR

CATALOGUE_CSV = DBT_SEEDS_DIR / "ref_disclosure_catalogue.csv"
UNITS_CSV = DBT_SEEDS_DIR / "ingest" / "ref_amount_units.csv"
# other wordings of a catalogue table name seen in titles (e.g. 部门收支总体情况表): alias → canonical name
TABLE_ALIASES_CSV = DBT_SEEDS_DIR / "ingest" / "ref_table_name_aliases.csv"

EXPLANATION_BOOK = "explanation"  # catalogue rows of this book are required explanations, not tables

_QUOTES = str.maketrans("", "", "“”\"'「」‘’『』")
_WS = re.compile(r"\s+")


def normalise(text: object) -> str:
    """Compare-form of a cell: full-width → half-width (NFKC), quotes and all whitespace removed."""
    if text is None:
        return ""
    if text.__class__ is str:  # kept by text: the recogniser asks for the same labels again and again
        found = _NORMALISED.get(text)
        if found is None:
            if len(_NORMALISED) >= _NORMALISED_MAX:
                _NORMALISED.clear()
            found = _NORMALISED[text] = _WS.sub("", unicodedata.normalize("NFKC", text).translate(_QUOTES))
        return found
    return _WS.sub("", unicodedata.normalize("NFKC", str(text)).translate(_QUOTES))


# Measured on the 1 M raw root's budget and debt files: ~14 calls per distinct text (510 699 calls, 36 616 texts for a
# third of them), 1.1 µs each — ~1.7 CPU-s of their parse; a dict hit is ~0.05 µs. Only str: 1 and 1.0 are one key.
_NORMALISED: dict[str, str] = {}
_NORMALISED_MAX = 1 << 17


@dataclass(frozen=True)
class Alias:
    key: str          # column_key, or a role: code | label | lei | kuan | xiang
    role: str         # measure | text | code | label | lei | kuan | xiang
    parts: tuple[str, ...]
    exact_only: bool = False


@dataclass(frozen=True)
class RowPattern:
    key: str
    regex: re.Pattern
    within: tuple[str, ...] = ()
    # only under one of these parts of the section: the last numbered item of the section ((一)一般债务) is its part,
    # so 其中：再融资 under (一)一般债务 and under (二)专项债务 are two items (row_keys.RowKeys)
    under: tuple[str, ...] = ()


@dataclass(frozen=True)
class GroupPrefix:
    parts: tuple[str, ...]
    prefix: str


@dataclass(frozen=True)
class TableSpec:
    """Everything the parser needs for one table, for one fiscal year."""
    kind: str
    table_name: str            # canonical name as printed in the catalogue
    table_keys: tuple[str, ...]
    phase: str
    codes: bool
    two_sided: bool
    aliases: tuple[Alias, ...]
    row_patterns: tuple[RowPattern, ...]
    # the same patterns under other year shifts (final tables worded like budget tables), tried per sheet
    alternative_row_patterns: tuple[tuple[RowPattern, ...], ...]
    repeat_keys: dict
    group_prefixes: tuple[GroupPrefix, ...]
    label_column: str | None   # a text column that doubles as the row label (bond use)
    # columns that name a part of a `*_total` item row (1-4's 一般债券 | 专项债券): column_key → item suffix
    kind_columns: dict = field(default_factory=dict)
    # two headers naming one key (执行数 | 预算数 of a table spanning two years): read as one column, each row
    # from the header whose cell it filled, instead of the second header being dropped
    coalesce_columns: bool = False
    # a header naming a region (兴庆区 | 贺兰县 … beside 本地区 | 其中：本级): its own amount column `region:<name>`
    region_column: re.Pattern | None = None
    # a header matching region_column that names a group of regions, not one (市县, 地区, 其他地区, 全自治区)
    region_group: re.Pattern | None = None
    # a header merged over region columns, their names on the row below (分地区, 其中：, 各县（市、区）): normalised
    region_bands: frozenset[str] = frozenset()
    # the template's item wordings, normalised ({year} for a year): a label cut in print read as the one it begins
    item_wordings: tuple[str, ...] = ()
    # 上年 / 本年 in an item label read as the years they name before the row patterns (item_years.py)
    year_words: bool = False
    # the year shift row_patterns were compiled with; the alternatives are the other shifts of (0, 1), in order
    pattern_shift: int = 0
    # the rows naming the year of the roll-forward the table shows (发行 / 还本 …) and the items it decides
    # (opening / closing balance): ingest/roll_forward_year.py
    roll_forward_rows: re.Pattern | None = None
    roll_forward_balances: frozenset[str] = frozenset()
    # the year the spec was compiled for (None: unknown): a header naming a year that is neither this (after the
    # table's year shift) nor the year before is no column of a year-free alias (header_band.foreign_year)
    fiscal_year: int | None = None
    # a total and the parts it is split into (debt_parts.py): a column → its part columns (1-4's 合计 → 一般债券 |
    # 专项债券), an item → its sets of part items (issued_total → [issued_general, issued_special], …); every part
    # cell blank beside a stated total is "not stated", not 0
    part_columns: dict = field(default_factory=dict)
    part_rows: dict = field(default_factory=dict)
    # a total row (合计) inside a section (二、还本额 / 一般 / 专项 / 合计) is the section's total item
    section_totals: bool = False
    # measures that are counts, not amounts (the 三公 detail's trips, people, vehicles, batches): a column or an item
    # row of one of these keys holds whole numbers, never scaled by the table's unit (ParsedSheet.counts)
    count_keys: frozenset[str] = frozenset()
    # what a count cell may hold besides a number, normalised (count_cells.py): words saying none (无: a count of 0)
    # and marks saying the table gives no count there (/ 不适用: no count, no reject)
    count_zero_words: frozenset[str] = frozenset()
    count_absent_marks: frozenset[str] = frozenset()
    # a bare count column beside one row per cost (团组数 | 人次数): column key → {the row's cost key → count key}
    row_counts: dict = field(default_factory=dict)
    # two item columns, each with its figures to its right (项目 | 预算数 | 决算数 | 项目 | 统计数): each pair read as its own
    # items, no side (a two-sided summary's are income | expenditure)
    items_side_by_side: bool = False


@dataclass(frozen=True)
class CatalogueTable:
    table_name: str
    normalised: str
    table_keys: tuple[str, ...]
    phase: str


@dataclass
class WorkbookVocabulary:
    tables: tuple[CatalogueTable, ...]         # longest normalised name first
    units: dict[str, Decimal]                  # unit label → 元 per unit
    unit_regex: re.Pattern                     # '单位：万元' anywhere in a text
    header_unit_regex: re.Pattern              # '(万元)' in a header cell
    publisher_regex: re.Pattern
    # a line naming a unit's superior (预算主管部门：…): the publisher only where no other publisher line names one
    superior_regex: re.Pattern
    # each publisher prefix of a line with its colon: 预算单位：…　预算主管部门：… on one line names two
    publisher_part_regex: re.Pattern
    total_labels: frozenset[str]
    total_regex: re.Pattern
    label_numbering: re.Pattern
    top_numbering: re.Pattern
    note_prefixes: tuple[str, ...]
    footer_prefixes: tuple[str, ...]
    skip_row_labels: frozenset[str]
    empty_note_regex: re.Pattern
    title_prefix: re.Pattern
    ignore_headers: tuple[str, ...]
    side_aliases: dict[str, str]
    placeholder_regex: re.Pattern                # a blank template's placeholder cell (…, XX（部门）)
    explanations: tuple[CatalogueTable, ...]    # required explanations (catalogue book 'explanation')
    raw: dict = field(repr=False)
    _specs: dict = field(default_factory=dict, repr=False)
    footnote_marks: tuple[str, ...] = ()         # *, ※: a footnote line without figures (recogniser)
    # a government book's budget table → its 决算 twin (same book and place in the catalogue): 政府一般债务限额和余额情况表
    # → 政府一般债务限额和余额决算表 (workbook.final_twins)
    final_twins: dict[str, str] = field(default_factory=dict)
    # a 地区名称 | 项目名称 table's project cell that is the place's subtotal, not a project (region_project_columns)
    project_subtotals: frozenset[str] = frozenset()

    def table_for_title(self, text: str) -> CatalogueTable | None:
        """The longest canonical table name contained in ``text`` (normalised)."""
        norm = normalise(text)
        if not norm:
            return None
        for table in self.tables:
            if table.normalised in norm:
                return table
        return None

    def is_total_label(self, label: str) -> bool:
        norm = self.label_numbering.sub("", normalise(label)).rstrip(":")
        return norm in self.total_labels or bool(self.total_regex.fullmatch(norm))

    def numbering_level(self, norm: str) -> str | None:
        """A label's numbering with its numeral made one ((二) → (一), 2、 → 1、): one level of a list (一、 and 1、 two)."""
        m = self.label_numbering.match(norm)
        return re.sub(r"\d+", "1", re.sub("[一二三四五六七八九十]+", "一", m.group(0))) if m else None

    def spec_for(self, table_name: str, fiscal_year: int | None) -> TableSpec:  # table_name: canonical
        key = (table_name, fiscal_year)
        if key not in self._specs:
            self._specs[key] = _compile_spec(self, table_name, fiscal_year)
        return self._specs[key]


def _spec_files() -> list[Path]:
    return sorted(INGEST_SPECS_DIR.glob("workbook_*.yaml"))


def _read_spec_data() -> dict:
    """Merge every specs/workbook_*.yaml (later files add kinds / overrides)."""
    merged: dict = {}
    for path in _spec_files():
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for key, value in data.items():
            if isinstance(value, dict) and isinstance(merged.get(key), dict):
                merged[key] = {**merged[key], **value}
            else:
                merged[key] = value
    return merged


def _read_catalogue() -> list[dict]:
    with CATALOGUE_CSV.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def _read_table_aliases() -> list[tuple[str, str]]:
    if not TABLE_ALIASES_CSV.is_file():
        return []
    with TABLE_ALIASES_CSV.open(encoding="utf-8", newline="") as handle:
        return [(row["alias"].strip(), row["table_name_zh"].strip()) for row in csv.DictReader(handle)]


def _read_units() -> dict[str, Decimal]:
    with UNITS_CSV.open(encoding="utf-8", newline="") as handle:
        return {row["unit_label"].strip(): Decimal(row["multiplier_yuan"]) for row in csv.DictReader(handle)}


@functools.lru_cache(maxsize=1)
def vocabulary() -> WorkbookVocabulary:
    data = _read_spec_data()
    by_name: dict[str, list[dict]] = {}
    explanation_rows: dict[str, list[dict]] = {}
    for row in _read_catalogue():
        # required explanations are disclosure items too, but narrative, never a table's title
        target = explanation_rows if row.get("book") == EXPLANATION_BOOK else by_name
        target.setdefault(row["table_name_zh"], []).append(row)
    canonical = [
        CatalogueTable(
            table_name=name,
            normalised=normalise(name),
            table_keys=tuple(r["table_key"] for r in rows),
            phase=rows[0]["document"],
        )
        for name, rows in by_name.items()
    ]
    by_canonical = {t.table_name: t for t in canonical}
    places: dict[tuple, dict[str, set[str]]] = {}
    for row in _read_catalogue():
        if row["publisher_kind"] == "government" and row.get("book") not in (EXPLANATION_BOOK, "debt"):
            place = places.setdefault((row["book"], row["sequence_no"]), {})
            place.setdefault(row["document"], set()).add(row["table_name_zh"])
    final_twins = {next(iter(p["budget"])): next(iter(p["final"])) for p in places.values()
                   if len(p.get("budget", ())) == 1 and len(p.get("final", ())) == 1}
    aliases = []
    for alias, name in _read_table_aliases():
        if name not in by_canonical:
            raise ValueError(f"{TABLE_ALIASES_CSV.name}: 「{alias}」 names unknown catalogue table 「{name}」")
        target = by_canonical[name]
        # an alias found in a title stands for its canonical table: the sheet records the canonical name
        aliases.append(CatalogueTable(target.table_name, normalise(alias), target.table_keys, target.phase))
    tables = sorted(canonical + aliases, key=lambda t: -len(t.normalised))
    units = _read_units()
    unit_alt = "|".join(re.escape(u) for u in sorted(units, key=len, reverse=True))
    unit_prefix_alt = "|".join(re.escape(normalise(p)) for p in data["unit_prefixes"])
    # Matched against NFKC text with spaces kept: '单位：万元', '金额单位: 亿元', '单位:人民币元'
    unit_regex = re.compile(rf"(?:{unit_prefix_alt})\s*[:]\s*(?:人民币)?\s*((?:{unit_alt}))(?![\w])", re.IGNORECASE)
    header_unit_regex = re.compile(
        unicodedata.normalize("NFKC", data["header_unit_pattern"]).replace("{units}", unit_alt)
    )
    # longest first: '编制部门：' is a publisher line, not '部门：' inside one
    publisher_alt = "|".join(re.escape(normalise(p)) for p in sorted(data["publisher_prefixes"], key=len, reverse=True))
    publisher_regex = re.compile(rf"(?:{publisher_alt})\s*[:]\s*\S.*")
    return WorkbookVocabulary(
        tables=tuple(tables),
        units=units,
        unit_regex=unit_regex,
        header_unit_regex=header_unit_regex,
        publisher_regex=publisher_regex,
        superior_regex=re.compile("|".join(re.escape(normalise(p)) for p in data.get("superior_publisher_prefixes") or ())
                                  or "(?!)"),
        publisher_part_regex=re.compile(rf"(?:{publisher_alt})\s*[:]\s*"),
        total_labels=frozenset(normalise(t) for t in data["total_labels"]),
        total_regex=re.compile(unicodedata.normalize("NFKC", data.get("total_pattern") or "(?!)")),
        label_numbering=re.compile(unicodedata.normalize("NFKC", data["label_numbering"])),
        top_numbering=re.compile(r"^[一二三四五六七八九十]+[、.]"),
        note_prefixes=tuple(normalise(p) for p in data["note_prefixes"]),
        footer_prefixes=tuple(normalise(p) for p in data.get("footer_prefixes", [])),
        skip_row_labels=frozenset(normalise(p) for p in data.get("skip_row_labels", [])),
        empty_note_regex=re.compile(
            "|".join(f"(?:{unicodedata.normalize('NFKC', p)})" for p in data["empty_note_patterns"])
        ),
        title_prefix=re.compile(unicodedata.normalize("NFKC", data["title_prefix_pattern"])),
        ignore_headers=tuple(normalise(p) for p in data["ignore_headers"]),
        side_aliases={side: normalise(text) for side, text in data["side_aliases"].items()},
        placeholder_regex=re.compile(
            "|".join(f"(?:{unicodedata.normalize('NFKC', p)})" for p in data.get("placeholder_patterns") or ["(?!)"])
        ),
        final_twins=final_twins,
        project_subtotals=frozenset(normalise(w) for w in (data.get("region_project_columns") or {}).get("subtotal") or ()),
        explanations=tuple(
            CatalogueTable(name, normalise(name), tuple(r["table_key"] for r in rows), rows[0]["document"])
            for name, rows in explanation_rows.items()
        ),
        raw=data,
        footnote_marks=tuple(normalise(p) for p in data.get("footnote_marks") or []),
    )


def _year_text(template: str, year: int | None, shift: int) -> str | None:
    """Replace {Y}, {Y-1}, {Y-2} by years; None when the template needs an unknown year."""
    def repl(match: re.Match) -> str:
        offset = int(match.group(1) or 0)
        return str(year + shift + offset)
    if "{Y" in template and year is None:
        return None
    return re.sub(r"\{Y([+-]\d+)?\}", repl, template)


def _year_regex(template: str, year: int | None, shift: int) -> str:
    if year is None:
        return re.sub(r"\{Y([+-]\d+)?\}", r"\\d{4}", template)
    return _year_text(template, year, shift) or template


def _match_of(pattern: dict, year: int | None) -> str:
    """A pattern's wording; with the table's year unknown, its ``match_without_year`` when it has one: {Y-1} read as
    any year made 六、2024年新增专项债务限额 of a lone yearless 1-3 the year before's new limit."""
    return pattern.get("match_without_year") or pattern["match"] if year is None else pattern["match"]


def _alias_parts(alias, year: int | None, shift: int) -> tuple[str, ...] | None:
    raw_parts = alias if isinstance(alias, list) else [alias]
    parts = []
    for part in raw_parts:
        text = _year_text(str(part), year, shift)
        if text is None:
            return None
        parts.append(normalise(text))
    return tuple(p for p in parts if p) or None


def kind_of_table(data: dict, table_keys: tuple[str, ...]) -> tuple[str, int]:
    """Kind and year shift of a catalogue table (first of its keys that a kind lists)."""
    overrides = data.get("table_overrides") or {}
    for key in table_keys:
        override = overrides.get(key) or {}
        kind = override.get("kind")
        if kind is None:
            kind = next((name for name, k in data["kinds"].items() if key in (k.get("tables") or [])), None)
        if kind is not None:
            return kind, int(override.get("year_shift", 0))
    return "classified", 0


def _compile_spec(vocab: WorkbookVocabulary, table_name: str, fiscal_year: int | None) -> TableSpec:
    data = vocab.raw
    table = next(t for t in vocab.tables if t.table_name == table_name)
    kind_name, shift = kind_of_table(data, table.table_keys)
    kind = dict(data["kinds"][kind_name])
    # per-table overrides: extra_columns / extra_row_patterns add to the kind; other keys replace
    override = next(((data.get("table_overrides") or {}).get(k) for k in table.table_keys
                     if (data.get("table_overrides") or {}).get(k)), None) or {}
    for key, value in override.items():
        if key == "extra_columns":
            kind["columns"] = list(value) + list(kind.get("columns") or [])
        elif key == "extra_row_patterns":
            kind["row_patterns"] = list(value) + list(kind.get("row_patterns") or [])
        elif key not in ("kind", "year_shift"):
            kind[key] = value
    phase = table.phase
    aliases: list[Alias] = []
    roles = {**data["roles"], **(kind.get("roles") or {})}
    for role in ("code", "label"):
        if role == "code" and not kind.get("codes", False):
            continue
        for alias in roles.get(role) or []:
            parts = _alias_parts(alias, fiscal_year, shift)
            if parts:
                aliases.append(Alias(key=role, role=role, parts=parts))
    if kind.get("codes", False):
        for role, text in data["split_code_headers"].items():
            aliases.append(Alias(key=role, role=role, parts=(normalise(text),), exact_only=True))
    for role, entries in (("measure", kind.get("columns") or []), ("text", kind.get("text_columns") or [])):
        for entry in entries:
            if entry.get("phase") not in (None, phase):
                continue
            for alias in entry["aliases"]:
                parts = _alias_parts(alias, fiscal_year, shift)
                if parts:
                    aliases.append(Alias(key=entry["key"], role=role, parts=parts))
    def compile_patterns(year_shift: int) -> tuple[RowPattern, ...]:
        return tuple(
            RowPattern(
                key=p["key"],
                regex=re.compile(unicodedata.normalize("NFKC", _year_regex(_match_of(p, fiscal_year), fiscal_year,
                                                                           year_shift))),
                within=tuple(p.get("within") or ()),
                under=tuple(p.get("under") or ()),
            )
            for p in kind.get("row_patterns") or []
        )

    patterns = compile_patterns(shift)
    uses_year = any("{Y" in p["match"] for p in kind.get("row_patterns") or [])
    alternatives = tuple(
        compile_patterns(other) for other in (0, 1) if other != shift and uses_year and fiscal_year is not None
    )
    prefixes = []
    for group in kind.get("group_prefixes") or []:
        if group.get("phase") not in (None, phase):
            continue
        for alias in group["aliases"]:
            parts = _alias_parts(alias, fiscal_year, shift)
            if parts:
                prefixes.append(GroupPrefix(parts=parts, prefix=group["prefix"]))
    return TableSpec(
        kind=kind_name,
        table_name=table.table_name,
        table_keys=table.table_keys,
        phase=phase,
        codes=bool(kind.get("codes", False)),
        two_sided=bool(kind.get("two_sided", False)),
        aliases=tuple(aliases),
        row_patterns=patterns,
        alternative_row_patterns=alternatives,
        repeat_keys=dict(kind.get("repeat_keys") or {}),
        group_prefixes=tuple(prefixes),
        label_column=kind.get("label_column"),
        kind_columns=dict(kind.get("kind_columns") or {}),
        coalesce_columns=bool(kind.get("coalesce_columns", False)),
        region_column=re.compile(unicodedata.normalize("NFKC", kind["region_columns"])) if kind.get("region_columns") else None,
        region_group=re.compile(unicodedata.normalize("NFKC", kind["region_groups"])) if kind.get("region_groups") else None,
        region_bands=frozenset(normalise(w).rstrip(":") for w in kind.get("region_bands") or ()),
        item_wordings=tuple(normalise(w) for w in expand(kind.get("item_wordings"))),
        year_words=bool(kind.get("year_words")),
        pattern_shift=shift,
        roll_forward_rows=re.compile(unicodedata.normalize("NFKC", roll["rows"])) if (roll := kind.get("roll_forward")) else None,
        roll_forward_balances=frozenset((roll or {}).get("balances") or ()),
        fiscal_year=fiscal_year,
        part_columns={total: tuple(parts) for total, parts in (kind.get("part_columns") or {}).items()},
        part_rows={total: tuple(tuple(s) for s in sets) for total, sets in (kind.get("part_rows") or {}).items()},
        section_totals=bool(kind.get("section_totals")),
        count_keys=frozenset(kind.get("count_keys") or ()),
        count_zero_words=frozenset(normalise(w) for w in kind.get("count_zero_words") or ()),
        count_absent_marks=frozenset(normalise(w) for w in kind.get("count_absent_marks") or ()),
        row_counts={key: dict(by_row) for key, by_row in (kind.get("row_counts") or {}).items()},
        items_side_by_side=bool(kind.get("items_side_by_side", False)),
    )
