"""Which canonical field each column of a trading export is — all of it data, read from seeds.

One loader reads every form of export; what differs between forms is rows in these tables:

* ``dbt/seeds/ingest/ref_trading_field_aliases.csv`` (canonical_field, alias, source_table): header
  aliases. A blank ``source_table`` applies to every file; a named one only to files holding that table
  of the national data standard (数据规范 V3), where the same field name can mean something else
  (``SELLER_NAME`` is the seller in 挂牌披露 but the winner in 交易结果). camelCase keys of the national
  platform's search service (``tenderProjectCode``) match the national names without rows of their own.
* ``dbt/seeds/ingest/ref_ggzy_v3_fields.csv`` + ``ref_ggzy_v3_tables.csv``: the standard's tables and
  their fields. A file is recognised as holding one table by the fields that tell tables apart (national names or
  their Chinese names; a subset of the table's fields is enough: ``recognise_standard_table``); the table says
  which field is the title and what its records are (bulletins of which type, in which trade area)
  or that it holds none (project registrations, documents). Chinese field names of a recognised table
  are aliases of whatever its national name is an alias of.
* ``dbt/seeds/ingest/ref_trading_codes.csv``: code lists of the standard (``PRICE_UNIT`` 0 = 元,
  ``NOTICE_NATURE`` 2 = change notice, one-character ``BULLETIN_TYPE`` per table).
* ``dbt/seeds/ref_bulletin_types.csv``: every bulletin type label and code (the platform's 0201 …) →
  its closed code, which ``bulletin_key`` carries.
"""
from __future__ import annotations

import csv
import re
import unicodedata
from dataclasses import dataclass, replace
from functools import lru_cache

import yaml

from dagster_project import paths
from dagster_project.ingest import textfiles as tf

SPEC_PATH = paths.INGEST_SPECS_DIR / "trading_bulletins.yaml"
SEEDS = paths.DBT_SEEDS_DIR
ALIAS_SEED = SEEDS / "ingest" / "ref_trading_field_aliases.csv"
STANDARD_FIELDS_SEED = SEEDS / "ingest" / "ref_ggzy_v3_fields.csv"
STANDARD_TABLES_SEED = SEEDS / "ingest" / "ref_ggzy_v3_tables.csv"
CODES_SEED = SEEDS / "ingest" / "ref_trading_codes.csv"
BULLETIN_TYPES_SEED = SEEDS / "ref_bulletin_types.csv"
TRADE_AREAS_SEED = SEEDS / "ref_trade_areas.csv"
ANY_STANDARD_TABLE = "*"
# A file holds a table of the standard when at least this many of its columns are that table's fields, at least
# one of them a name the flat export does not use (NOTICE_MEDIA, TRA_PLACE_CODE, 公告发布媒体 …: PROJECT_CODE or
# 公告标题 alone say nothing), and at most MAX_FOREIGN_SHARE of its known columns name a field the table lacks (a
# flat multi-kind export names fields of five tables at once).
MIN_STANDARD_FIELDS = 3
MAX_FOREIGN_SHARE = 0.2

def _rows(path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


@lru_cache(maxsize=1)
def trading_spec() -> dict:
    return yaml.safe_load(SPEC_PATH.read_text(encoding="utf-8"))


def _ascii_key(norm: str) -> str:
    """camelCase and UPPER_SNAKE of one name compare equal: ``tenderprojectcode``."""
    return norm.replace("_", "") if norm.isascii() else norm


@lru_cache(maxsize=1)
def field_aliases() -> dict[tuple[str, str], list[str]]:
    """(source_table or '', normalised alias) → canonical fields, in seed order."""
    out: dict[tuple[str, str], list[str]] = {}
    for row in _rows(ALIAS_SEED):
        key = ((row.get("source_table") or "").strip(), tf.normalise_label(row["alias"]))
        out.setdefault(key, [])
        if row["canonical_field"] not in out[key]:
            out[key].append(row["canonical_field"])
    return out


@lru_cache(maxsize=1)
def _ascii_aliases() -> dict[tuple[str, str], list[str]]:
    out: dict[tuple[str, str], list[str]] = {}
    for (table, norm), fields in field_aliases().items():
        out.setdefault((table, _ascii_key(norm)), [])
        out[(table, _ascii_key(norm))] += [f for f in fields if f not in out[(table, _ascii_key(norm))]]
    return out


@dataclass(frozen=True)
class StandardTable:
    name: str
    number: str
    name_zh: str
    reads_as: str  # bulletins | not_read
    bulletin_type: str
    trade_area: str
    note: str
    fields: frozenset[str]  # national names, upper case
    fields_zh: dict[str, str]  # national name → Chinese name
    required: frozenset[str] = frozenset()  # fields the standard says are never blank (not_null)
    title_field: str = ""  # the field the standard makes the bulletin's title: notice_name reads it first
    # other tables the file's columns fit as well (recognition is ambiguous): columns meaning different things in
    # them are not read, and a bulletin type or trade area they disagree on is left blank
    also: tuple["StandardTable", ...] = ()


@lru_cache(maxsize=1)
def standard_tables() -> dict[str, StandardTable]:
    fields: dict[str, dict[str, str]] = {}
    required: dict[str, set[str]] = {}
    for row in _rows(STANDARD_FIELDS_SEED):
        fields.setdefault(row["table_name"], {})[row["field"].upper()] = row["field_name_zh"]
        if row["not_null"].strip().lower() == "yes":
            required.setdefault(row["table_name"], set()).add(row["field"].upper())
    out = {}
    for row in _rows(STANDARD_TABLES_SEED):
        table_fields = fields.get(row["table_name"], {})
        out[row["table_name"]] = StandardTable(
            row["table_name"], row["table_no"], row["table_name_zh"], row["reads_as"], row["bulletin_type"],
            row["trade_area"], row["note"], frozenset(table_fields), table_fields,
            frozenset(required.get(row["table_name"], ())), (row.get("title_field") or "").strip().upper())
    return out


def _key(label: str) -> str:
    return _ascii_key(tf.normalise_label(label))


@lru_cache(maxsize=1)
def _general_labels() -> frozenset[str]:
    """Names a flat export uses too (the canonical fields' own names, every label aliased for every file — Chinese or
    national, PRICE_UNIT as much as 价格单位): a column so named tells no table of the standard apart (a flat
    multi-kind export naming its unit column PRICE_UNIT was taken for table 513, and its results judged on 513's
    fields only)."""
    general = {_key(norm) for (scope, norm) in field_aliases() if not scope}
    return frozenset({_key(name) for name in trading_spec()["fields"]} | general)


@lru_cache(maxsize=None)
def _names_in(table_name: str) -> dict[str, str]:
    """Compare key of a national name or of the table's Chinese name → the national name."""
    table = standard_tables()[table_name]
    out = {_key(zh): name for name, zh in sorted(table.fields_zh.items()) if zh}
    out.update({_key(name): name for name in table.fields})
    return out


@lru_cache(maxsize=1)
def _any_standard_name() -> frozenset[str]:
    return frozenset(k for name in standard_tables() for k in _names_in(name))


def _header_keys(header: str) -> tuple[str, ...]:
    base, _unit, _multiplier = tf.split_header_unit(header)
    return tuple(dict.fromkeys((_key(header), _ascii_key(base), *(_key(p) for p in _header_parts(header)))))


@dataclass(frozen=True)
class _Fit:
    table: StandardTable
    named: dict[int, str]  # column → national name of the table
    foreign: int  # known columns naming no field of the table
    missing_required: int
    telling: bool  # a named column carries a name the flat export does not use

    def rank(self) -> tuple[int, bool, int]:
        # complete or not, not how many are missing: a file lacking required fields of every table it could be
        # tells none of them apart by counting what it lacks
        return (-len(self.named), self.missing_required > 0, self.foreign)


def _fits(headers: list[str]) -> list[_Fit]:
    keys = {i: _header_keys(h) for i, h in enumerate(headers) if h and h.strip()}
    known = {i for i, ks in keys.items() if set(ks) & _any_standard_name() or _fields_of_header(headers[i], None)}
    out = []
    for table in standard_tables().values():
        names = _names_in(table.name)
        named = {i: names[k] for i, ks in keys.items() for k in ks[::-1] if k in names}
        telling = any(not set(keys[i]) & _general_labels() for i in named)
        out.append(_Fit(table, named, len(known - set(named)), len(table.required - set(named.values())), telling))
    return out


def recognise_standard_table(headers: list[str], names: tuple[str, ...] = ()) -> StandardTable | None:
    """The national-standard table the headers are, if they are one — decided by the fields that tell tables apart.

    Provinces export a table's required fields plus some, not all of them, so no share of the table's fields is
    asked for: the table must name the most of the file's columns, then find all its required fields there (a
    table missing some loses to one missing none), then hold the fewest of the file's other known columns. Tables
    equal on all three are all candidates (a 651 mining-right announcement's fields are all 650's too; 652 and 653
    have one field set): the tightest (fewest of its fields absent) is returned, the others in ``also``, and what
    they disagree on is not read (``bind_headers``) or left blank (bulletin type, trade area). Among tables the headers
    fit equally, the one the file's ``names`` (its sheets', its own) name — national or Chinese table name, and no other
    of them — is the file's: an export job names a sheet or file after its table (MINING_BID_AUC_TRANS_RES_ANN), so a
    653 is not read as 652. The headers decide first; a name alone never makes a file a table."""
    eligible = [f for f in _fits(headers) if len(f.named) >= MIN_STANDARD_FIELDS and f.telling
                and f.foreign <= MAX_FOREIGN_SHARE * (len(f.named) + f.foreign)]
    if not eligible:
        return None
    top = min(f.rank() for f in eligible)
    group = [f for f in eligible if f.rank() == top]
    primary = min(group, key=lambda f: (len(f.table.fields) - len(f.named), int(f.table.number)))
    others = tuple(f.table for f in group if f is not primary)
    named = [t for t in (primary.table, *others) if _names_table(names, t)]
    # a name holding another's (STOCK_LISTING_PUB_INFO holds LISTING_PUB_INFO) is the longer one's
    named = [t for t in named if not any(t.name != o.name and t.name in o.name for o in named)]
    if len(named) == 1:
        return named[0]
    if not others:
        return primary.table

    def agreed(attr: str) -> str:
        values = {getattr(t, attr) for t in (primary.table, *others)}
        return values.pop() if len(values) == 1 else ""

    reads = "bulletins" if any(t.reads_as == "bulletins" for t in (primary.table, *others)) else "not_read"
    return replace(primary.table, reads_as=reads, bulletin_type=agreed("bulletin_type"),
                   trade_area=agreed("trade_area"), also=others)


def _names_table(names: tuple[str, ...], table: StandardTable) -> bool:
    """Whether one of ``names`` (a sheet's, a file's stem) holds the table's national or Chinese name."""
    return any(table.name.lower() in n.lower() or table.name_zh in n for n in names if n)


def ambiguous_headers(headers: list[str], table: StandardTable | None) -> list[str]:
    """Headers meaning different fields in the tables a file fits equally well (``StandardTable.also``)."""
    if table is None or not table.also:
        return []
    return [h for h in headers if h and h.strip()
            and len({tuple(_fields_of_header(h, t)) for t in (table, *table.also)}) > 1]


@lru_cache(maxsize=1)
def code_lists() -> dict[tuple[str, str], dict[str, str]]:
    """(source_table or '*', canonical field) → {code: value}."""
    out: dict[tuple[str, str], dict[str, str]] = {}
    for row in _rows(CODES_SEED):
        out.setdefault((row["source_table"], row["canonical_field"]), {})[row["code"]] = row["code_value"]
    return out


def codes_for(table: StandardTable | None, field: str) -> dict[str, str] | None:
    if table is None:
        return None
    merged = dict(code_lists().get((ANY_STANDARD_TABLE, field), {}))
    merged.update(code_lists().get((table.name, field), {}))
    if any(codes_for(replace(other, also=()), field) != (merged or None) for other in table.also):
        return None  # the tables the file fits give the codes different meanings: read as printed
    return merged or None


@lru_cache(maxsize=1)
def bulletin_type_codes() -> dict[str, str]:
    """Bulletin type label or platform code (as published, and half-width) → closed code, as the seed's rows for every
    area say (a row naming one area: ``bulletin_type_codes_in_area``)."""
    out = {}
    for row in _rows(BULLETIN_TYPES_SEED):
        if (row.get("trade_area_code") or "").strip():
            continue
        alias = row["alias"].strip()
        out[alias] = row["bulletin_type_code"]
        out.setdefault(unicodedata.normalize("NFKC", alias), row["bulletin_type_code"])
    return out


@lru_cache(maxsize=1)
def bulletin_type_codes_in_area() -> dict[tuple[str, str], str]:
    """(label or platform code, trade area code) → closed code where the label means another type in that area (0104
    交易结果公示: a land, mining-right or state-property deal's result, works' candidates) — as dbt staging reads it, so
    the key's type part is the type the bulletin is staged as (its copies labelled 成交公示 / 9002 share its key)."""
    out = {}
    for row in _rows(BULLETIN_TYPES_SEED):
        if area := (row.get("trade_area_code") or "").strip():
            alias = row["alias"].strip()
            out[(alias, area)] = row["bulletin_type_code"]
            out.setdefault((unicodedata.normalize("NFKC", alias), area), row["bulletin_type_code"])
    return out


@lru_cache(maxsize=1)
def trade_area_codes() -> dict[str, str]:
    """Trade area as published (label, platform code; and half-width) → closed code (``ref_trade_areas``)."""
    out = {}
    for row in _rows(TRADE_AREAS_SEED):
        alias = row["alias"].strip()
        out[alias] = row["trade_area_code"]
        out.setdefault(unicodedata.normalize("NFKC", alias), row["trade_area_code"])
    return out


def _header_parts(header: str) -> list[str]:
    """A header printing both names of a field, ``公告标题(NOTICE_NAME)`` / ``NOTICE_NAME（公告标题）`` (exports
    meant for people and machines at once): its two names, the national (ASCII) one first. A unit after them
    (``中标金额(BID_AMOUNT)(万元)``) is ``split_header_unit``'s; a unit alone (``中标金额(万元)``) is no second name."""
    norm, _unit, _multiplier = tf.split_header_unit(header)  # normalised: full-width brackets are ASCII here
    # the national name outside or inside the brackets; a Chinese name may hold brackets itself (标段(包)编号)
    for pattern in (r"([a-z][a-z0-9_]*)[(\[【](.+)[)\]】]", r"(.+)[(\[【]([a-z][a-z0-9_]*)[)\]】]",
                    r"(.+)[(\[【]([^()\[\]【】]+)[)\]】]"):
        if match := re.fullmatch(pattern, norm):
            return sorted(match.groups(), key=lambda part: not part.isascii())
    return []


def _fields_of_header(header: str, table: StandardTable | None) -> list[str]:
    found = _fields_of_single_header(header, table)
    for part in [] if found else _header_parts(header):
        if found := _fields_of_single_header(part, table):
            break  # the national name decides where it names a field (统一交易标识码 is singular in 513)
    return found


def _fields_of_single_header(header: str, table: StandardTable | None) -> list[str]:
    base, _unit, _multiplier = tf.split_header_unit(header)
    norm = tf.normalise_label(header)
    aliases, ascii_aliases = field_aliases(), _ascii_aliases()
    found: list[str] = []
    scopes = ([table.name] if table else []) + [""]
    for scope in scopes:
        for key in (norm, base):
            found += [f for f in aliases.get((scope, key), []) if f not in found]
        for key in (_ascii_key(norm), _ascii_key(base)):
            found += [f for f in ascii_aliases.get((scope, key), []) if f not in found]
    if table is not None and not norm.isascii():
        # a Chinese field name of the recognised table means what its national name means there
        national = [name for name, zh in table.fields_zh.items() if tf.normalise_label(zh) == norm]
        via_national = [f for name in national for f in _fields_of_header(name, table)]
        found = [f for f in via_national if f not in found] + found if via_national else found
    return found


def bind_headers(headers: list[str], table: StandardTable | None = None) -> tuple[list[tf.Binding], list[str]]:
    """Map printed headers to canonical fields; return (bindings, ignored headers).

    A field is bound to the first header that names it. One header may name several fields (in the
    standard's candidate publicity, PUBLICITY_START_TIME is both the publicity's start and the time
    the bulletin was published); only the first of them reports a bad value. A header is ignored when
    it names no field not already bound; a later header naming a bound field (with the same unit) is read where
    the earlier columns are blank (``Binding.fallbacks``): records of one JSON file need not carry the same keys.
    """
    spec = trading_spec()
    spec_fields = spec["fields"]
    placeholders = spec.get("blank_placeholders") or {}
    bindings: list[tf.Binding] = []
    ignored: list[int] = []
    bound: set[str] = set()
    unclear = set(ambiguous_headers(headers, table)) | set(_unstored_ceiling(headers, table))
    for index in _binding_order(headers, table):
        header = headers[index]
        _base, _unit, multiplier = tf.split_header_unit(header)
        first = True
        for name in ([] if header in unclear else _header_fields(header, table)):
            if name in bound:
                for i, b in enumerate(bindings):
                    if b.field == name and b.multiplier == multiplier and b.column != index:
                        bindings[i] = replace(b, fallbacks=(*b.fallbacks, (index, header)))
                continue
            if name not in spec_fields:
                continue
            kind = spec_fields[name]["kind"]
            if multiplier is not None and kind != "amount":
                continue
            bound.add(name)
            codes = codes_for(table, name) or (codes_for(table, "amount_unit") if kind == "unit" else None)
            if codes is None and kind == "unit" and (_NATIONAL_NAME.search(header) or name != "amount_unit"):
                # a unit column under the standard's field name (CONTROL_PRICE_UNIT, PRICE_UNIT) holds the standard's
                # code (1 = 万元) in any export, recognised table or not (review R4: 1 rejected the announcement); so
                # does one amount's own unit column under its Chinese name (预算金额单位 is the standard's UNIT_BUDGET,
                # review R4b: its 1 blanked the budget) — not a bare 单位, which may hold an office's name
                codes = dict(code_lists().get((ANY_STANDARD_TABLE, "amount_unit"), {})) or None
            if codes and name == "bulletin_type":
                # a type written out (中标结果公告, 0202) says what the record is even in a table whose codes are
                # one character: kept as published, not blanked to the table's own type
                codes = {**{label: label for label in bulletin_type_codes()}, **codes}
            bindings.append(tf.Binding(
                name, kind, index, header, multiplier=multiplier, codes=codes,
                # a code list that says what a field's codes mean leaves nothing else to read
                unlisted_codes_null=bool(codes) and name in ("notice_nature", "bulletin_type"),
                reports_errors=first, bad_rejects_row=not tf.blank_when_bad(spec_fields[name]),
                placeholders=tuple(placeholders.get("values") or ()) if kind in (placeholders.get("kinds") or ()) else (),
                labels=tuple(sorted(_printed_labels_of(name, header, table))) if kind == "integer" else (),
                units=tuple(spec_fields[name].get("units") or ()),
                prefixes=tuple(spec_fields[name].get("prefixes") or ()),
                values={str(k).lower(): v for k, v in spec_fields[name]["values"].items()} if kind == "enum" else None))
            first = False
        if first:
            ignored.append(index)
    bindings.sort(key=lambda b: b.column)
    return bindings, [headers[i] for i in sorted(ignored)]


# A field name of the national standard (CONTROL_PRICE_UNIT, PRICE_UINT, UNIT_BUDGET), alone or beside a Chinese label
_NATIONAL_NAME = re.compile(r"(?<![A-Za-z0-9_])[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+(?![A-Za-z0-9_])")


# How a header says it is the unit of the amount column it names: 预算金额单位, BUDGET_AMOUNT_UNIT, 中标金额（单位）
_UNIT_SUFFIX = re.compile(r"(.+?)(?:[(\[]?单位[)\]]?|_?unit)")


def _header_fields(header: str, table: StandardTable | None) -> list[str]:
    """The fields a header names. A header naming an amount and then 单位 (``中标金额（单位）``) is that amount's unit
    column even where the label without its bracket names the amount itself: read as the amount, its 万元 were 元."""
    fields = _fields_of_header(header, table)
    if "bid_section_codes" in fields:
        # a column naming the sections a record concerns (504's BID_SECTION_CODE is 相关标段（包）编号, as 503's
        # BID_SECTION_CODES) lists them: read as one section, "A;B" was a deal "P/A;B" no announcement is of
        fields = [f for f in fields if f != "bid_section_code"]
    own = _own_unit_of(header, table)
    spec_fields = trading_spec()["fields"]
    if own and all(spec_fields.get(f, {}).get("kind") == "amount" for f in fields):
        return own
    return fields


def _own_unit_of(header: str, table: StandardTable | None) -> list[str]:
    """``[<amount field>_unit]`` for a header naming an amount field and then 单位 / _UNIT, where the spec has that
    helper field: the unit of that one amount (a per-amount unit column, as the national standard's CONTROL_PRICE_UNIT
    or an export's 预算金额单位), never read as the unit of the file's other amounts."""
    match = _UNIT_SUFFIX.fullmatch(tf.normalise_label(header))
    if not match:
        return []
    spec_fields = trading_spec()["fields"]
    return [f"{name}_unit" for name in _fields_of_header(match.group(1), table)
            if spec_fields.get(name, {}).get("kind") == "amount" and f"{name}_unit" in spec_fields][:1]


def _read_last(header: str) -> bool:
    """Whether a header is a field's second choice (spec ``read_last``: a ceiling price beside a budget)."""
    label = tf.normalise_label(tf.split_header_unit(header)[0])
    return any(re.search(spec["read_last"], label) for spec in trading_spec()["fields"].values() if spec.get("read_last"))


def _unstored_ceiling(headers: list[str], table: StandardTable | None) -> list[str]:
    """A second-choice amount (the ceiling, 控制价) whose unit is a column of its own (CONTROL_PRICE_UNIT), and that unit
    column, where a first-choice column (预算金额) states the field: the unit follows the amount column it names, not the
    field that amount would fall back into — bound as the budget's unit it scaled 预算金额 1 000 000 元 by 万元 (review
    R4b). Neither is stored: the ceiling cannot be the budget's fallback in another unit (a fallback keeps its field's
    unit, as a header unit must agree), and its unit governs nothing stored."""
    unit_columns = [h for h in headers if _read_last(h) and _own_unit_of(h, table)]
    if not unit_columns:
        return []
    fields = {f.removesuffix("_unit") for h in unit_columns for f in _own_unit_of(h, table)}
    if not any(not _read_last(h) and fields & set(_header_fields(h, table)) for h in headers):
        return []  # the ceiling is the field's only column: its unit is the field's unit
    ceilings = [h for h in headers if _read_last(h) and not _own_unit_of(h, table) and fields & set(_header_fields(h, table))]
    return unit_columns + ceilings


def _binding_order(headers: list[str], table: StandardTable | None) -> list[int]:
    """Columns in file order, the table's title field first: the title names the bulletin even where another
    column also reads as its name (601 成交宗地信息 prints LAND_PROJECT_NAME before ANNOUNCEMENT_TITLE; the project
    name is read only where the title is blank)."""
    order = list(range(len(headers)))
    # a field's second-choice headers last (budget_amount: a ceiling price beside a budget is the budget's fallback)
    later = [i for i in order if _read_last(headers[i])]
    order = [i for i in order if i not in later] + later
    if table is None or not table.title_field:
        return order
    names = _names_in(table.name)
    titles = [i for i in order if any(names.get(k) == table.title_field for k in _header_keys(headers[i]))]
    return titles[:1] + [i for i in order if i not in titles[:1]]


# A cell's compare form in SQL, as ``normalise_label`` gives it for header labels (spaces out, full-width
# punctuation as ASCII, lower case) and with '_' dropped, so PROJECT_CODE, projectCode and 项目编号 compare as aliases
_FULLWIDTH_PUNCT, _ASCII_PUNCT = "（）［］：，＿", "()[]:,_"


def _label_sql(column: str) -> str:
    return (f"replace(lower(translate(replace(replace({column}, ' ', ''), '\u3000', ''), "
            f"{tf.sql_literal(_FULLWIDTH_PUNCT)}, {tf.sql_literal(_ASCII_PUNCT)})), '_', '')")


def _labels_of(field: str, header: str, table: StandardTable | None) -> set[str]:
    """Every label naming ``field`` in this file (its aliases, the recognised table's Chinese names, the column's
    own header), in the compare form of ``_label_sql``."""
    scopes = {"", table.name} if table else {""}
    labels = {norm for (scope, norm), fields in field_aliases().items() if scope in scopes and field in fields}
    if table is not None:
        labels |= {tf.normalise_label(zh) for name, zh in table.fields_zh.items()
                   if field in _fields_of_header(name, table)}
    labels.add(tf.normalise_label(header))
    return {label.replace("_", "") for label in labels}


def _printed_labels_of(field: str, header: str, table: StandardTable | None) -> set[str]:
    """The labels naming ``field`` as the seeds print them (and upper/lower case): a cheap exact test comes first."""
    scopes = {"", table.name} if table else {""}
    printed = {row["alias"] for row in _rows(ALIAS_SEED)
               if row["canonical_field"] == field and (row.get("source_table") or "").strip() in scopes}
    if table is not None:
        printed |= {zh for name, zh in table.fields_zh.items() if field in _fields_of_header(name, table)}
    printed.add(header.strip())
    return printed | {p.upper() for p in printed if p.isascii()} | {p.lower() for p in printed if p.isascii()}


def header_repeat_sql(bindings: list[tf.Binding], table: StandardTable | None = None) -> str | None:
    """SQL over the staged columns: true for a record that is a header again, not a bulletin — a second header row
    of Chinese labels under the field names (as exports meant for people carry), or the header repeated where two
    exports were pasted together. Such a record names, in at least two bound columns and in at least half of its
    filled bound columns, the field its column holds. Only records whose first bound columns name their field are
    looked at closely (a data row's codes and times never do): a large file pays a cheap exact test per row."""
    bound = [b for b in bindings if b.reports_errors]
    if len(bound) < 2:
        return None
    tests = []
    for b in bound:
        labels = ", ".join(tf.sql_literal(x) for x in sorted(_labels_of(b.field, b.header, table)))
        tests.append((f"c{b.column}", f"coalesce({_label_sql(f'c{b.column}')} IN ({labels}), false)"))
    # exact text first (normalising every cell of a large file costs ≈ 0.4 µs a cell; an IN test a tenth of that)
    printed = [(b.column, ", ".join(tf.sql_literal(x) for x in sorted(_printed_labels_of(b.field, b.header, table))))
               for b in bound[:3]]
    cheap = " OR ".join(f"coalesce(c{column} IN ({labels}), false)" for column, labels in printed)
    named = " + ".join(f"CAST({test} AS INTEGER)" for _, test in tests)
    filled = " + ".join(f"CAST({column} IS NOT NULL AS INTEGER)" for column, _ in tests)
    return f"(CASE WHEN {cheap} THEN ({named}) >= 2 AND 2 * ({named}) >= ({filled}) ELSE false END)"


def repeated_headers(ignored: list[str], bindings: list[tf.Binding], table: StandardTable | None = None) -> list[str]:
    """Of the headers ``bind_headers`` ignored, those naming a field another column already gives (a column
    exported twice, or two labels of one field): the file's note says they repeat, not that they are unknown."""
    bound = {b.field for b in bindings}
    return [h for h in ignored if (names := _fields_of_header(h, table)) and set(names) <= bound]


__all__ = ["StandardTable", "ambiguous_headers", "bind_headers", "bulletin_type_codes", "codes_for", "field_aliases", "header_repeat_sql",
           "recognise_standard_table", "repeated_headers", "standard_tables", "trading_spec"]
