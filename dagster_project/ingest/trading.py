"""Trading platform exports (CSV / JSON / JSON Lines, flat or one national-standard table per file)
→ ``raw.trading_bulletins``.

Which column is which field, which table of the national data standard a file holds and what its
codes mean are rows in seeds (``trading_fields``); what each field is (text, time, amount, integer)
comes from ``specs/trading_bulletins.yaml``. DuckDB reads the file and every parse, unit conversion,
reject and insert is set-based SQL, so a file of millions of rows never passes through Python (see
``textfiles`` for encodings and parsing rules; times are naive Asia/Shanghai local time).

Counting: ``rows_in`` / ``rows_loaded`` / ``rows_rejected`` count the file's **records** (rows of a
CSV, objects of a JSON file, lines of JSON Lines). A record of the national standard listing several
sections (``BID_SECTION_CODES`` = ``A;B``) is one record loaded and becomes one bulletin per section in
``raw.trading_bulletins``, told apart by ``source_part`` (1, 2, …; 1 for every other record).

``bulletin_key`` (CONTRACTS.md §2.2) = ``deal id | bulletin type code | NOTICE_SEND_TIME (ISO) |
WIN_CANDIDATE_ORDER``: deal id = ``PROJECT_CODE`` (else ``TENDER_PROJECT_CODE``) + ``/`` + section when a
project code is present, else ``UNIFIED_DEAL_CODE`` (+ ``/`` + lot when the record names one: a 601 parcel); the
type is the closed code of ``ref_bulletin_types`` — the bulletin's trade area's own where the seed gives one (0104
a sale's result), as dbt stages it — (so 中标公告 and 中标结果公告 of one deal at one time are one bulletin), the
label as published when the seed does not know it. Copies of one bulletin from several exports are all kept
here, each with its provenance; dbt chooses the canonical copy (``trading_copies``).
"""
from __future__ import annotations

import json
import re

from contextlib import nullcontext

import duckdb

from dagster_project.ingest import textfiles as tf
from dagster_project.ingest.framework import FileOutcome, FileRejected, RawFile
from dagster_project.ingest.text_notes import note_pattern
from dagster_project.ingest.trading_fillers import party_fillers
from dagster_project.ingest.trading_copies import duplicate_report  # noqa: F401  (Dagster metadata hook)
from dagster_project.ingest.trading_unions import fold_groups, fold_union_rows, folded_rows_sql, listed_notes, union_notes
from dagster_project.ingest.trading_fields import (
    StandardTable, ambiguous_headers, bind_headers, bulletin_type_codes, bulletin_type_codes_in_area, field_aliases,
    header_repeat_sql, recognise_standard_table, repeated_headers, trade_area_codes, trading_spec,
)
from dagster_project.ingest.trading_workbook import WORKBOOK_SUFFIXES, stage_workbook

SECTION_SEPARATORS = "[;；,，、]"


def _split_codes_sql(expr: str) -> str:
    """'A;B；C' → ['A', 'B', 'C'] (blank parts dropped; NULL → [])."""
    return (f"list_filter(list_transform(string_split_regex(coalesce({expr}, ''), '{SECTION_SEPARATORS}'), "
            f"lambda s: trim(s)), lambda s: s <> '')")


def _type_code_sql(label: str, area: str) -> str:
    """The closed type of ``label`` in the bulletin's trade area ``area`` (as published), as dbt staging reads it: the
    area's own row first (0104 交易结果公示 is a land deal's result), else the label's one meaning."""
    whens = " ".join(f"WHEN {tf.sql_literal(k)} THEN {tf.sql_literal(v)}" for k, v in bulletin_type_codes().items())
    plain = f"(CASE {label} {whens} ELSE {label} END)"
    in_area = bulletin_type_codes_in_area()
    if not in_area:
        return plain
    area_code = ("(CASE trim(" + area + ") " + " ".join(
        f"WHEN {tf.sql_literal(k)} THEN {tf.sql_literal(v)}" for k, v in trade_area_codes().items()) + " END)")
    # label and area as one text, so the area's CASE runs once a row
    area_whens = " ".join(f"WHEN {tf.sql_literal(f'{k}|{a}')} THEN {tf.sql_literal(v)}" for (k, a), v in in_area.items())
    return f"(CASE {label} || '|' || coalesce({area_code}, '') {area_whens} ELSE {plain} END)"


def bulletin_key_sql(project: str, section: str, unified: str, type_label: str, sent: str, order: str,
                     area: str = "NULL") -> str:
    # a record naming no project: its deal code, and its lot where it names one (a 601 成交宗地's parcel, LAND_CODE: the
    # parcels of one transfer share the announcement's UNIFIED_DEAL_CODE and time, each its own winner and price)
    deal = (f"CASE WHEN {project} IS NOT NULL THEN {project} || '/' || coalesce({section}, '') "
            f"WHEN {section} IS NOT NULL AND {unified} IS NOT NULL THEN {unified} || '/' || {section} "
            f"ELSE coalesce({unified}, '') END")
    return (
        f"concat_ws('|', {deal}, coalesce({_type_code_sql(type_label, area)}, ''), "
        f"coalesce(strftime({sent}, '%Y-%m-%dT%H:%M:%S'), ''), coalesce(CAST({order} AS VARCHAR), ''))"
    )


# the columns a deal is named by: a note's text in one of them is no code
_CODE_FIELDS = ("project_code", "tender_project_code", "unified_deal_code", "bid_section_codes", "unified_deal_codes",
                "bid_section_code")


def _is_note(expr: str) -> str:
    """SQL: whether a cell is a note's text (注：…, 说明：…), NULL for an empty cell (a code is no note: 注塑机…)."""
    return f"regexp_matches({expr}, {tf.sql_literal(note_pattern(tuple(trading_spec()['note_lines'])))})"


def _blank_code_notes(con: duckdb.DuckDBPyConnection, parsed: tf.ParsedFile, bindings: list[tf.Binding]) -> list[str]:
    """A remark in a code column of a loadable record (beside the code naming its deal: ``_checks``) states no code:
    read blank, so the section of 注：本项目不分标段 is none, not a deal "P/注：…". Returns the file's notes."""
    notes = []
    for b in bindings:
        if b.field in _CODE_FIELDS:
            found = con.execute(f"""SELECT count(*), min(source_row) FROM {parsed.table}
                                    WHERE _errors IS NULL AND {_is_note(f'p_{b.field}')}""").fetchone()
            if found[0]:
                con.execute(f"UPDATE {parsed.table} SET p_{b.field} = NULL WHERE _errors IS NULL AND "
                            f"{_is_note(f'p_{b.field}')}")
                notes.append(f"「{b.header}」{found[0]} 处附注文字读作空, 首见于第{found[1]}行 (notes in a code column beside "
                             f"the record's code read as blank: {found[0]}, the first in row {found[1]})")
    return notes


def _checks(bindings: list[tf.Binding], max_parts: int) -> list[tf.RowCheck]:
    present = {b.field for b in bindings}

    def col(name: str) -> str:
        return f"p_{name}" if name in present else "NULL"

    # a bulletin without a deal id cannot be tied to a deal (every TRADE rule is per deal), so it is a
    # row reject rather than a row that would pool with all other id-less rows
    ids = ("project_code", "tender_project_code", "unified_deal_code", "bid_section_codes", "unified_deal_codes")
    # r_: the cell as found (parse_staged keeps it for every field not of kind text); a code a spreadsheet damaged
    # was filled, and its own reject says what is wrong with it
    kinds = trading_spec()["fields"]
    missing = " AND ".join(("NULL" if n not in present else f"r_{n}" if kinds[n]["kind"] != "text" else f"p_{n}")
                           + " IS NULL" for n in ids)
    checks = [tf.RowCheck(
        bad_sql=missing, column=None, value_sql="NULL",
        reason="缺少项目编号和统一交易标识码, 无法归属到交易 (neither PROJECT_CODE, TENDER_PROJECT_CODE nor "
               "UNIFIED_DEAL_CODE is filled: the bulletin cannot be tied to a deal)",
    )]
    # a note typed into a code column among the data rows (注：本表…, 说明：…: an office's note above or between the
    # records; below them it is the file's note, text_notes) names no deal: a row reject naming its column, never a
    # bulletin of deal "注：本表…/". Beside a code naming the deal (注：本项目不分标段 in the section column of a real
    # record) it is a remark: the record is a bulletin, the remark no code (_blank_code_notes)
    for b in bindings:
        if b.field in (*ids, "bid_section_code") and b.reports_errors:
            names_deal = " OR ".join(f"coalesce(NOT {_is_note(f'p_{other}')}, false)" for other in ids
                                     if other in present and other != b.field) or "false"
            checks.append(tf.RowCheck(
                bad_sql=f"coalesce({_is_note(f'p_{b.field}')}, false) AND NOT ({names_deal})", column=b.header,
                value_sql=f"p_{b.field}",
                reason=f"「{b.header}」: 是附注文字, 不是编号, 该行不是公告 (a note typed into the code column among the "
                       f"data rows: no code, the row is no bulletin)",
            ))
    if "bid_section_codes" in present or "unified_deal_codes" in present:
        parts = (f"greatest(len({_split_codes_sql(col('bid_section_codes'))}), "
                 f"len({_split_codes_sql(col('unified_deal_codes'))}))")
        checks.append(tf.RowCheck(
            bad_sql=f"{parts} > {max_parts}", column=None, value_sql="NULL",
            reason=f"一条记录列出的标段超过 {max_parts} 个 (the record lists more than {max_parts} sections)",
        ))
    # an amount below its field's minimum (a negative budget or deal amount: no price is paid to the buyer) is no
    # figure of the deal: a row reject naming the column and the value as written, as an unreadable amount is
    for b in bindings:
        minimum = kinds[b.field].get("minimum")
        if minimum is not None and b.reports_errors:
            checks.append(tf.RowCheck(
                bad_sql=f"p_{b.field} < {minimum}", column=b.header, value_sql=f"r_{b.field}",
                reason=f"「{b.header}」: 金额小于 {minimum}, 不是成交或预算金额 (an amount below {minimum} is no "
                       f"budget or deal amount)",
            ))
    return checks


# what may stand between a title's kind word and what follows it: whitespace, a number (补遗（一）, 澄清1, （第2号）)
_GAP = "[\\s\\p{Zs}]*"
_NUMBER = f"(?:[（(]?{_GAP}第?{_GAP}[0-9０-９一二三四五六七八九十百零〇]+{_GAP}[号次]?{_GAP}[）)]?)?"


def title_kind_pattern(titles: dict, capture: bool = False) -> str:
    """The RE2 pattern of a title naming the record's kind (the spec's ``record_kinds.<table>.titles``): one of its
    ``words`` as the notice's own kind word — numbered or not, then before one of its ``nouns`` (的/之 between:
    澄清的公告), closing a bracket or before a colon (【更正】, 澄清：), or at the title's end (a bracketed remark and a
    full stop after it: 澄清（标段一）). A word inside the project's own name is followed by more of the name
    (变更登记大厅, 修改性详细规划, 更正路): it names no kind. ``joiners``: words allowed between the kind word and its
    noun (询价采购公告). ``capture``: the kind word is the pattern's group 1 (which word the title names)."""
    words = "|".join(re.escape(w) for w in titles["words"])
    nouns = "|".join(re.escape(n) for n in sorted(titles["nouns"], key=len, reverse=True))
    joiners = "|".join(re.escape(j) for j in titles.get("joiners") or ())
    joined = f"(?:{joiners})?{_GAP}" if joiners else ""
    end = f"{_GAP}(?:[（(【\\[][^（）()【】\\[\\]]*[）)】\\]])?[\\s\\p{{Zs}}。.．]*$"
    return (f"({'' if capture else '?:'}{words}){_GAP}{_NUMBER}{_GAP}"
            f"(?:[的之]?{_GAP}{joined}(?:{nouns})|[】\\]）):：]|{end})")


def procurement_method_sql(present: set[str]) -> str:
    """SQL over the parsed columns: the deal's procurement method as the spec's ``procurement_methods`` reads it — a
    method word the method field states, else the title's own kind word, else the word a label of the notice's text
    introduces (采购方式：…) — or NULL."""
    methods = trading_spec()["procurement_methods"]
    word = "(" + "|".join(re.escape(w) for w in methods["words"]) + ")"
    stated = (f"NULLIF(regexp_extract(p_procurement_method, {tf.sql_literal(word)}, 1), '')" if "procurement_method" in present
              else "NULL")
    titled = (f"NULLIF(regexp_extract(p_notice_name, {tf.sql_literal(title_kind_pattern(methods, capture=True))}, 1), '')"
              if "notice_name" in present else "NULL")
    labels = "|".join(re.escape(label) for label in methods.get("labels") or ())
    # every labelled method of the text, each with the word opening its label where that is a `former` one (the method
    # given up); the first whose label is not former: leftmost matching starts a former label's match at its prefix
    former = "|".join(re.escape(w) for w in sorted(methods.get("former") or (), key=len, reverse=True))
    stated_at = tf.sql_literal(f"({former})?(?:{labels}){_GAP}[：:]{_GAP}{word}")
    current = (f"list_filter(regexp_extract_all(p_notice_content, {stated_at}), "
               f"lambda m: NOT regexp_matches(m, {tf.sql_literal(f'^(?:{former})')}))" if former
               else f"regexp_extract_all(p_notice_content, {stated_at})")
    labelled = (f"NULLIF(regexp_extract({current}[1], {stated_at}, 2), '')"
                if labels and "notice_content" in present else "NULL")
    return f"coalesce({stated}, {titled}, {labelled})"


def record_kind_sql(table: StandardTable | None, present: set[str]) -> str | None:
    """SQL over the parsed columns: whether a record of a table holding two kinds of record is the table's own kind
    (504: a clarification or amendment) rather than the other (the tender documents themselves) — the spec's
    ``record_kinds`` (why the fields decide before the title: there). None for every other table."""
    kinds = (trading_spec().get("record_kinds") or {}).get(table.name) if table is not None else None
    if kinds is None:
        return None
    kinds_of = trading_spec()["fields"]
    fillers = ", ".join(tf.sql_literal(w) for w in party_fillers())
    states = []
    for name in kinds["states"]:
        if name not in present:
            continue
        if kinds_of[name]["kind"] == "boolean":
            states.append(f"coalesce(p_{name}, false)")
        elif kinds_of[name]["kind"] == "text":  # a placeholder (无, /, -) states nothing
            states.append(f"coalesce(lower(regexp_replace(p_{name}, '\\s', '', 'g')) NOT IN ('', {fillers}), false)")
        else:
            states.append(f"p_{name} IS NOT NULL")
    if "notice_name" in present:
        states.append(f"coalesce(regexp_matches(p_notice_name, {tf.sql_literal(title_kind_pattern(kinds['titles']))}), false)")
    return "(" + (" OR ".join(states) or "false") + ")"


def _insert_bulletins(con: duckdb.DuckDBPyConnection, parsed: tf.ParsedFile, f: RawFile, load_id: str,
                      bindings: list[tf.Binding], table: StandardTable | None) -> tuple[int, list[str]]:
    """Insert the loadable records, one bulletin per listed section, a consortium listed one member per row as one
    (``trading_unions``); returns (bulletins inserted, notes)."""
    spec = trading_spec()
    present = {b.field for b in bindings}

    def col(name: str) -> str:
        return f"p_{name}" if name in present else "NULL"

    plural = "bid_section_codes" in present or "unified_deal_codes" in present
    if plural:
        sections, unified = _split_codes_sql(col("bid_section_codes")), _split_codes_sql(col("unified_deal_codes"))
        source = f"""(SELECT *, unnest(generate_series(1, greatest(len(_sections), len(_unified), 1))) AS _part
                      FROM (SELECT *, {sections} AS _sections, {unified} AS _unified
                            FROM {parsed.table} WHERE _errors IS NULL))"""
        section = f"coalesce({col('bid_section_code')}, _sections[_part])"
        unified_code = (f"coalesce({col('unified_deal_code')}, CASE WHEN len(_unified) = greatest(len(_sections), "
                        f"len(_unified), 1) THEN _unified[_part] WHEN len(_unified) = 1 THEN _unified[1] END)")
        part = "_part"
    else:
        source = f"(SELECT * FROM {parsed.table} WHERE _errors IS NULL)"
        section, unified_code, part = col("bid_section_code"), col("unified_deal_code"), "1"
    default_type = tf.sql_literal(table.bulletin_type) if table and table.bulletin_type else "NULL"
    if (kinds := record_kind_sql(table, present)) is not None:
        default_type = f"(CASE WHEN {kinds} THEN {default_type} ELSE {tf.sql_literal(spec['record_kinds'][table.name]['otherwise'])} END)"
    default_area = tf.sql_literal(table.trade_area) if table and table.trade_area else "NULL"
    type_label = f"coalesce({col('notice_nature')}, {col('bulletin_type')}, {default_type})"
    area = f"coalesce({col('trade_area')}, {default_area})"
    values = {
        "source_part": part,
        "bulletin_key": bulletin_key_sql(
            f"coalesce({col('project_code')}, {col('tender_project_code')})", section, unified_code, type_label,
            col("notice_send_time"), col("win_candidate_order"), area),
        "bid_section_code": section,
        "unified_deal_code": unified_code,
        "bulletin_type": type_label,
        "trade_area": area,
        "procurement_method": procurement_method_sql(present),
    }
    for b in bindings:
        target = spec["fields"][b.field].get("column", b.field)
        if target is not None and target not in values:  # helper fields (amount_unit …) are not stored
            values[target] = f"p_{b.field}"
    for helper, stored in (("postponed_bid_deadline", "bid_doc_refer_end_time"), ("postponed_bid_open", "bid_open_time")):
        if helper in present:
            # a change notice's postponed closing (552's POST_BID_CLOSING_TIME; 504's POST_OPEN_TIME, the opening and
            # so the deadline) is its bid deadline / opening, unless the record says there is no postponement
            # (IS_POSTPONE 0 / 否: the time is then none it sets)
            postponed = (f"CASE WHEN {col('is_postponed')} IS DISTINCT FROM false THEN p_{helper} END"
                         if "is_postponed" in present else f"p_{helper}")
            values[stored] = f"coalesce({postponed}, {col(stored)})"
    if "postponed_opening" in present and "is_postponed" in present:
        # 503: a record postponing the opening (IS_POSTPONE 1) that states no deadline: the opening is the deadline
        values["bid_doc_refer_end_time"] = (f"coalesce({values.get('bid_doc_refer_end_time', 'NULL')}, "
                                            f"CASE WHEN p_is_postponed THEN p_postponed_opening END)")
    if "bulletin_type" in present and (prequalification := spec.get("prequalification_types")):
        # a prequalification notice's deadline and opening are the applications' (spec prequalification_types)
        listed = ", ".join(tf.sql_literal(label) for label in prequalification)
        for stored in ("bid_doc_refer_end_time", "bid_open_time"):
            if stored in values:
                values[stored] = f"CASE WHEN p_bulletin_type IN ({listed}) THEN NULL ELSE {values[stored]} END"
    key, folds = values["bulletin_key"], f"{parsed.table}_union_folds"
    try:
        grouped = fold_groups(con, source, key, part, present, folds)
        notes = union_notes(con, folds) if grouped else []
        if notes:  # some rows fold: otherwise the insert stays the plain one (513 at 1 M rows names no consortium)
            # a folded member row's blanked cells (a damaged code) point at the row its bulletin is (its deal's
            # publisher and year are found there): the member row itself is no bulletin
            con.execute(f"""UPDATE raw.load_blanked_cells AS c SET record_row = m.first_row
                            FROM {folded_rows_sql(source, key, part, present, folds)} AS m
                            WHERE c.load_id = ? AND c.source_file = ? AND c.source_row = m.source_row
                              AND NOT c.is_retired""", [load_id, f.rel])
        if grouped:
            folded = fold_union_rows(source, key, part, present, folds)
            # rows read as the consortium their 联合体名称 lists (a file holding some of its members' rows)
            listed = listed_notes(con, folded)
            if notes or listed:
                source, notes = folded, notes + listed
        columns = ["load_id", "source_file", "source_sha256", "source_row", *values]
        exprs = [tf.sql_literal(load_id), tf.sql_literal(f.rel), tf.sql_literal(f.sha256), "source_row",
                 *values.values()]
        return con.execute(
            f"INSERT INTO raw.trading_bulletins ({', '.join(columns)}) SELECT {', '.join(exprs)} FROM {source}"
        ).fetchone()[0], notes
    finally:
        tf.drop_temp(con, folds)


def _rekey(con: duckdb.DuckDBPyConnection, keyed_sql: str, matches_sql: str, params: list) -> int:
    """Give the current bulletins ``matches_sql`` picks (alias ``b``, beside ``keyed``: the rows of ``keyed_sql``, one
    ``deal`` each) that deal as their key's first part; one ``UPDATE … FROM (query)``. Returns how many changed."""
    return con.execute(f"""
        UPDATE raw.trading_bulletins AS b
        SET bulletin_key = keyed.deal || substr(b.bulletin_key, length(split_part(b.bulletin_key, '|', 1)) + 1)
        FROM ({keyed_sql}) AS keyed
        WHERE NOT b.is_retired AND {matches_sql} AND split_part(b.bulletin_key, '|', 1) <> keyed.deal""",
                       params).fetchone()[0]


def assign_sole_sections(con: duckdb.DuckDBPyConnection, files: list[str]) -> int:
    """A bulletin naming its project but no section (the national search service's records carry ``tenderProjectCode``
    only; a re-tender's 交易公告 exported without its section) whose project has exactly one section among the current
    bulletins is that section's: its key's deal becomes ``project/section``, so the platform export's notice and the
    search service's are one deal (wave 16 X5: ``NXCG2019-01/`` beside ``NXCG2019-01/NXCG2019-01-1`` was a result
    without announcement). With several sections which one it concerns cannot be told: it is the project's own deal
    (``project/``), and so it is with none.

    Every current section-less bulletin of a project ``files`` name (any version of them: a file re-exported without
    the project, or retired, names it still) is keyed again from all current bulletins, of whichever load — run after
    each file is loaded and after files are retired (``load_trading_file.after_retire``): so the keys do not depend on
    the order the files came and went — a section-less notice an earlier load keyed ``project/`` joins the section a
    later file names, one keyed to a section goes back to ``project/`` when a later file names a second section or the
    file naming its section goes. The incremental trading build rebuilds every deal of such a project
    (``macros/trading_load_partitions.sql``). One ``UPDATE … FROM (query)``. Returns how many bulletins were keyed
    again."""
    project = "coalesce(project_code, tender_project_code)"
    return _rekey(con, f"""
            SELECT pending.project,
                   pending.project || '/' || CASE WHEN count(DISTINCT sectioned.bid_section_code) = 1
                                                  THEN min(sectioned.bid_section_code) ELSE '' END AS deal
            FROM (
                SELECT DISTINCT {project} AS project FROM raw.trading_bulletins
                WHERE NOT is_retired AND bid_section_code IS NULL AND {project} IS NOT NULL
                  AND {project} IN (SELECT {project} FROM raw.trading_bulletins WHERE list_contains(?, source_file))
            ) AS pending
            LEFT JOIN raw.trading_bulletins AS sectioned
                ON coalesce(sectioned.project_code, sectioned.tender_project_code) = pending.project
               AND NOT sectioned.is_retired AND sectioned.bid_section_code IS NOT NULL
            GROUP BY pending.project""",
                  "b.bid_section_code IS NULL AND coalesce(b.project_code, b.tender_project_code) = keyed.project",
                  [files])


def assign_deal_codes(con: duckdb.DuckDBPyConnection, files: list[str]) -> int:
    """A bulletin naming no project, only its unified deal code (a 504 clarification listing ``UNIFIED_DEAL_CODES``
    alone), is keyed to the deal whose current bulletins naming a project carry that code — the platform's key of the
    deal (统一交易标识码) names it as well as the project and section do —, where they name one deal; else (no such
    bulletin, or several deals carrying one code: which is meant cannot be told) the code is its own deal, as loaded:
    ``code/lot`` for a record naming its lot (a 601 parcel's LAND_CODE), and a record naming none (the 600 出让公告) is
    the lot's where the code's current bulletins name exactly one lot (one parcel sold: one deal), else the code's own
    deal (several parcels: the announcement is each parcel's in ``int_deals_assembled``).

    Like ``assign_sole_sections`` (run after it: the deal a code names may just have been keyed again) over every code
    a row of ``files`` carries, any version of them, and every code carried by a bulletin of a project they name: the
    keys do not depend on the order the files came and went. The incremental build touches every deal carrying a
    changed row's code and the code's own (``macros/trading_load_partitions.sql``). Returns how many bulletins were
    keyed again."""
    project = "coalesce(project_code, tender_project_code)"
    return _rekey(con, f"""
            SELECT pending.code, pending.lot,
                   CASE WHEN count(DISTINCT split_part(named.bulletin_key, '|', 1)) = 1
                        THEN min(split_part(named.bulletin_key, '|', 1))
                        WHEN pending.lot IS NOT NULL THEN pending.code || '/' || pending.lot
                        WHEN count(DISTINCT lots.bid_section_code) = 1 THEN pending.code || '/' || min(lots.bid_section_code)
                        ELSE pending.code END AS deal
            FROM (
                SELECT DISTINCT unified_deal_code AS code, bid_section_code AS lot FROM raw.trading_bulletins
                WHERE NOT is_retired AND {project} IS NULL AND unified_deal_code IS NOT NULL
                  AND unified_deal_code IN (
                      SELECT unified_deal_code FROM raw.trading_bulletins
                      WHERE list_contains(?, source_file)
                         OR {project} IN (SELECT {project} FROM raw.trading_bulletins
                                          WHERE list_contains(?, source_file)))
            ) AS pending
            LEFT JOIN raw.trading_bulletins AS named
                ON named.unified_deal_code = pending.code AND NOT named.is_retired
               AND coalesce(named.project_code, named.tender_project_code) IS NOT NULL
            LEFT JOIN raw.trading_bulletins AS lots
                ON lots.unified_deal_code = pending.code AND NOT lots.is_retired AND lots.bid_section_code IS NOT NULL
               AND coalesce(lots.project_code, lots.tender_project_code) IS NULL
            GROUP BY pending.code, pending.lot""",
                  "b.project_code IS NULL AND b.tender_project_code IS NULL AND b.unified_deal_code = keyed.code "
                  "AND b.bid_section_code IS NOT DISTINCT FROM keyed.lot",
                  [files, files])


def rekey_deals(con: duckdb.DuckDBPyConnection, files: list[str]) -> tuple[int, int]:
    """The keys of bulletins whose deal other files decide, after ``files`` were loaded or retired: (keyed to a section
    or back to the project, keyed to the deal their unified deal code names or back to the code)."""
    return assign_sole_sections(con, files), assign_deal_codes(con, files)


def load_trading_file(con: duckdb.DuckDBPyConnection, f: RawFile, load_id: str) -> FileOutcome:
    """One trading export → ``raw.trading_bulletins`` + row rejects (see the module docstring)."""
    with tf.bounded_memory(con):
        return _load_trading_file(con, f, load_id)


# the parsing macros made once per family load, outside the files' transactions (framework.load_family)
load_trading_file.connection_setup = tf.parse_macros_setup  # type: ignore[attr-defined]
# files gone from the raw root take their sections and deal codes with them: the notices naming none are keyed again
load_trading_file.after_retire = rekey_deals  # type: ignore[attr-defined]


def _names_a_trading_table(headers: list[str]) -> bool:
    """A header row of a trading export: it names a key field, or it is a table of the national data standard."""
    if recognise_standard_table(headers) is not None:
        return True
    bindings, _ignored = bind_headers(headers)
    return bool({b.field for b in bindings} & set(trading_spec()["key_fields"]))


def ambiguity_notes(headers: list[str], table: StandardTable) -> list[str]:
    """What the file's note says when its columns fit several tables of the standard equally well."""
    if not table.also:
        return []
    others = ", ".join(f"{t.number} {t.name} {t.name_zh}" for t in table.also)
    notes = [f"列同样符合 {others}, 不能确定是哪一张表; 只按各表含义相同的列读取 (the columns fit {others} as "
             f"well: which table the file holds is not certain; only columns meaning the same in each are read)"]
    if unclear := ambiguous_headers(headers, table):
        notes.append(f"含义因表而异的列未读 (columns meaning different things in these tables, not read): "
                     f"{', '.join(unclear)}")
    return notes


# an empty answer is small: a larger file is not read whole to look at its wrapper
ANSWER_PEEK_BYTES = 1 << 20


def _answer_reports_failure(path) -> bool:
    """The JSON wrapper says the query failed (``code`` / ``status`` not a success code, or ``success`` false)."""
    if path.stat().st_size > ANSWER_PEEK_BYTES:
        return False
    raw = path.read_bytes()
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            answer = json.loads(raw.decode(encoding))
            break
        except (UnicodeDecodeError, ValueError, RecursionError):
            continue
    else:
        return False
    if not isinstance(answer, dict):
        return False
    if answer.get("success") is False:
        return True
    rules = trading_spec()["json_answer"]
    code = next((answer[k] for k in rules["status_keys"] if k in answer), None)
    return code is not None and str(code).strip().lower() not in {str(c).lower() for c in rules["success_codes"]}


def _holds_no_records(con: duckdb.DuckDBPyConnection, staged: tf.StagedFile, path) -> bool:
    """A JSON export whose record list is empty and whose wrapper does not report a failed query (not one object
    without a record list, nor {"code": 500, "data": {"records": []}}: error answers)."""
    if staged.file_format not in ("json", "jsonl") or staged.headers:
        return False
    if con.execute(f"SELECT count(*) FROM {staged.relation} AS s").fetchone()[0] != 0:
        return False
    return not _answer_reports_failure(path)


def _load_trading_file(con: duckdb.DuckDBPyConnection, f: RawFile, load_id: str) -> FileOutcome:
    spec = trading_spec()
    notes = []
    workbook = f.path.suffix.lower() in WORKBOOK_SUFFIXES
    with nullcontext() if workbook else tf.utf8_source(f) as src:
        if workbook:  # the platform's export to Excel: read as grids, staged as a text export is
            tf.register_parse_macros(con)
            staged = stage_workbook(con, f, _names_a_trading_table)
        else:
            staged = tf.stage_text_file(con, f, src, tuple(spec["json_record_keys"]), _names_a_trading_table)
        table = recognise_standard_table(staged.headers, (*staged.sheet_names, f.path.stem))
        if table is not None and table.reads_as != "bulletins":
            tf.drop_temp(con, *staged.temp_tables, *filter(None, [staged.row_places]))
            raise FileRejected(
                f"{f.rel}: 识别为国家数据规范表 {table.name} {table.name_zh}, 该表不含公告, 未读取 (recognised as "
                f"the national data standard's table {table.number} {table.name}, which holds no bulletin: "
                f"{table.note}; gongkai reads the standard's bulletin tables)"
            )
        bindings, ignored = bind_headers(staged.headers, table)
        present = {b.field for b in bindings}
        if table is None and not present & set(spec["key_fields"]):
            empty = _holds_no_records(con, staged, f.path)
            tf.drop_temp(con, *staged.temp_tables, *filter(None, [staged.row_places]))
            if empty:
                # the platform's answer to a query that found nothing ({"data": {"records": [], "total": 0}}, [])
                # is an export of no bulletins, as a CSV holding only its header is: loaded empty, not a wrong file
                return FileOutcome(status="loaded", reason="; ".join(staged.notes + [
                    "文件没有记录 (the file holds no records)"]), file_format=staged.file_format,
                    encoding=staged.encoding, detected_kind="bulletins")
            raise FileRejected(
                f"{f.rel}: 不是公共资源交易数据: 没有项目编号/统一交易标识码/公告类型列 (not a trading "
                f"export: none of the key columns PROJECT_CODE, UNIFIED_DEAL_CODE, BULLETIN_TYPE); "
                f"表头为 (headers found): {', '.join(staged.headers) or '(无 none)'}"
            )
        if table is not None:
            notes.append(f"国家数据规范表 {table.number} {table.name} {table.name_zh} (national data standard "
                         f"table), 公告类型 {table.bulletin_type or '未定 (not determined)'}")
            notes += ambiguity_notes(staged.headers, table)
        parsed = tf.parse_staged(con, f, load_id, staged, bindings,
                                 _checks(bindings, int(spec["max_sections_per_record"])),
                                 header_repeat=header_repeat_sql(bindings, table),
                                 # a note line is a spreadsheet's or a delimited export's; a JSON record is a record
                                 note_words=() if staged.file_format in ("json", "jsonl") else tuple(spec["note_lines"]))
    try:
        rows_loaded = parsed.rows_in - parsed.rows_rejected
        notes += _blank_code_notes(con, parsed, bindings)
        if (kinds := record_kind_sql(table, {b.field for b in bindings})) is not None:
            other = spec["record_kinds"][table.name]["otherwise"]
            if found := con.execute(f"SELECT count(*) FROM {parsed.table} WHERE _errors IS NULL AND NOT {kinds}").fetchone()[0]:
                notes.append(f"{found} 条记录未载明澄清或修改, 读作{other} ({found} records state no clarification or amendment: "
                             f"read as {other}, not a change)")
        bulletins, fold_notes = _insert_bulletins(con, parsed, f, load_id, bindings, table)
    finally:
        tf.drop_temp(con, parsed.table)
    notes += fold_notes
    assigned, coded = rekey_deals(con, [f.rel])
    if assigned:
        notes.append(f"{assigned} 条没有标段编号的公告按其项目现有的标段重新归属 ({assigned} bulletins naming no section keyed "
                     f"again: to their project's only section, or to the project where it has several)")
    if coded:
        notes.append(f"{coded} 条只有统一交易标识码的公告按载有该标识码的交易重新归属 ({coded} bulletins naming only a unified "
                     f"deal code keyed again: to the deal whose bulletins carry it, or to the code's own)")
    if bulletins != rows_loaded and not fold_notes:
        notes.append(f"{rows_loaded} 条记录含 {bulletins} 条公告 (one per listed section) "
                     f"({rows_loaded} records held {bulletins} bulletins)")
    notes += parsed.notes
    if parsed.rows_rejected:
        notes.append(f"{parsed.rows_rejected} 行被拒绝, 见 raw.load_rejects ({parsed.rows_rejected} rows rejected)")
    repeated = repeated_headers(ignored, bindings, table)
    fallback = {header for b in bindings for _, header in b.fallbacks}
    if read_where_blank := [h for h in repeated if h in fallback]:
        notes.append(f"重复的列, 仅在另一列为空时读取 (columns repeating a field another column gives, read only where "
                     f"that one is blank): {', '.join(read_where_blank)}")
    if only_first := [h for h in repeated if h not in fallback]:
        notes.append(f"重复的列, 只读了第一列 (columns repeating a field an earlier column gives, only the first read): "
                     f"{', '.join(only_first)}")
    unclear = set(ambiguous_headers(staged.headers, table))
    if unknown := [h for h in ignored if h not in repeated and h not in unclear and h.strip()]:
        notes.append(f"未识别的列已忽略 (unknown columns ignored): {', '.join(unknown)}")
    if unnamed := sum(1 for h in ignored if not h.strip()):
        # a spreadsheet's save writes the empty columns of its used range (trailing commas): nothing to name
        notes.append(f"{unnamed} 列没有表头, 未读 ({unnamed} columns without a header, not read)")
    kind = f"bulletins:{table.name}" if table else "bulletins"
    return tf.text_file_outcome(staged, parsed, rows_loaded, notes, kind)


__all__ = ["bind_headers", "bulletin_key_sql", "duplicate_report", "field_aliases", "load_trading_file", "repeated_headers",
           "trading_spec"]
