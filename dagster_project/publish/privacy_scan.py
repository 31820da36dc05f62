"""Privacy scan of written files: the proof that masking worked, run before anything is published.

What counts as personal is ``personal_numbers`` (the one definition masking uses too): ID numbers,
mobiles and bank cards in any written form (spaces, hyphens, dots, full-width digits, +86). Where,
by the role of a value (amounts such as 14 700 000 000.00 元 and hex row ids would otherwise look
personal to a plain text scan):

- ID numbers with a right check character (checksum, province and birth date: a strong signal): in every
  text value of every file — free text, codes, keys, file names, JSON strings;
- mobiles, bank cards and ID numbers typed with a wrong check character (shape, Luhn, province and a past
  birth date: weaker signals): in free-text values only — not in numeric columns/JSON numbers, and not in
  identifier columns (``masking.identifier_columns``: hashes, keys, codes, which masking treats the same way)
  or identifier JSON keys (ocid, id, url, hash …).

Values never reach Python in bulk: DuckDB finds candidate cells (``personal_numbers.prefilter_sql``)
and confirms them with ``personal_numbers.hits_sql``; only the masked hits come back. CSV files are
read with every column as text, the column's Table Schema type taken from ``datapackage.json`` when
present; Parquet by its VARCHAR columns; each file in one pass. JSON files above ``_SMALL_JSON_BYTES``
(the OCDS packages, one item per line) are read line by line by DuckDB and their string values taken
with ``json_tree``, the role coming from the key; smaller JSON files (metadata) are walked in Python.
Other text files (HTML, Markdown, SHA256SUMS) are scanned as text in Python, ID numbers everywhere and
mobiles and cards outside SHA256SUMS.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from dagster_project import personal_numbers
from dagster_project.publish.warehouse import open_scratch

_CHUNK_CHARS = 4 * 1024 * 1024
_OVERLAP_CHARS = 64  # longer than any ID/mobile/card, so a match cut by a chunk edge is seen whole
_TEXT_SUFFIXES = {".html", ".htm", ".md", ".txt", ".js"}
_HITS_LIMIT = 1000  # per file: one is enough to stop a release; the report stays readable
# JSON keys whose string values are identifiers, hashes, links or dates, not free text.
IDENTIFIER_JSON_KEYS = frozenset({
    "ocid", "id", "awardID", "url", "uri", "packages", "hash", "sha256", "source_sha256", "spdx:checksumValue",
    "path", "release_id", "run_id", "version", "git_commit", "@id", "dct:identifier", "dcat:downloadURL",
    "source_file", "date", "dateSigned", "startDate", "endDate", "publishedDate", "created", "issued",
    "modified", "dct:issued", "dct:modified", "loaded_at", "legalName_code", "scheme",
    # the release manifest's fiscal-year parts: a part's fingerprint is a SHA-256 hex digest (a run of 11
    # digits in one, e.g. ...f18729763726ae..., read as a mobile in free text and stopped a release) and
    # ``built_in`` names the build (a timestamp id) the part was written in
    "fingerprint", "built_in", "build_id",
    # the same for the release's content digests and the publishing code's digest (manifest.json)
    "content_fingerprint", "content_digest", "content_sha256", "publishing_code",
})
# A JSON string that is wholly a hex digest (SHA-256, SHA-1, MD5) is an identifier whatever its key: a new digest key
# in a metadata file stopped a release by chance once a run of eleven digits in its value looked like a mobile.
_HEX_DIGEST = re.compile(r"(?=[0-9a-f]*[a-f])[0-9a-f]{32,128}")
# JSON files up to this size are walked in Python (metadata files); larger ones (OCDS packages) are
# scanned by DuckDB line by line.
_SMALL_JSON_BYTES = 8 * 1024 * 1024


@dataclass
class PrivacyHit:
    path: str
    kind: str  # id_number | mobile | bank_card
    masked: str  # never the value itself: reports are public too

    def __str__(self) -> str:
        return f"{self.path}: {self.kind} {self.masked}"


@dataclass
class PrivacyReport:
    files_scanned: int = 0
    bytes_scanned: int = 0
    files_carried_over: int = 0  # scanned when they were built, proven identical by checksum
    files_same_as_csv: int = 0  # Parquet copies whose text values equal their scanned CSV's (release_validation)
    files_scanned_by_table_check: int = 0  # CSV files scanned by the read of release_validation.check_table_schemas
    hits: list[PrivacyHit] = field(default_factory=list)

    @property
    def clean(self) -> bool:
        return not self.hits

    def summary(self) -> str:
        kinds: dict[str, int] = {}
        for h in self.hits:
            kinds[h.kind] = kinds.get(h.kind, 0) + 1
        carried = f", {self.files_carried_over} files scanned when built" if self.files_carried_over else ""
        twins = (f", {self.files_same_as_csv} Parquet copies holding the text of their scanned CSV"
                 if self.files_same_as_csv else "")
        shared = (f" ({self.files_scanned_by_table_check} CSV files in the read of the Table Schema check)"
                  if self.files_scanned_by_table_check else "")
        return f"{self.files_scanned} files, {self.bytes_scanned} bytes{shared}{carried}{twins}, hits {kinds or 0}"


def hits_in_text(text: str, where: str, free_text: bool = True) -> list[PrivacyHit]:
    return [PrivacyHit(where, h.kind, h.masked) for h in personal_numbers.find(text, checked_ids_only=not free_text)
            if free_text or h.kind == "id_number"]


def _dedupe(hits: list[PrivacyHit]) -> list[PrivacyHit]:
    seen: dict[tuple[str, str, str], PrivacyHit] = {}
    for h in hits:
        seen.setdefault((h.path, h.kind, h.masked), h)
    return list(seen.values())


def scan_text_file(path: Path, rel: str, free_text: bool = True) -> list[PrivacyHit]:
    hits: list[PrivacyHit] = []
    carry = ""
    with open(path, encoding="utf-8", errors="replace", newline="") as fh:
        while True:
            chunk = fh.read(_CHUNK_CHARS)
            if not chunk:
                break
            text = carry + chunk
            hits += hits_in_text(text, rel, free_text)
            carry = text[-_OVERLAP_CHARS:]
    return _dedupe(hits)


def _hits_sql(cells_sql: str) -> str:
    """Hits (loc, kind, masked) among cells (loc, txt, free): ID numbers with a right check character in every
    cell, mobiles, cards and ID numbers with a wrong one in free-text cells, as ``personal_numbers`` defines them
    (``hits_sql`` finds free text's; ``checked_id_sql`` keeps those of a code or key). Distinct texts are confirmed once (the
    same code recurs on many rows), and only those that may hold a hit of the kinds that count there
    (``personal_numbers.candidate_filter_sql``: keys and dates pass the prefilter by the million)."""
    return f"""
        WITH cells AS (SELECT DISTINCT loc, txt, free FROM ({cells_sql}) WHERE {personal_numbers.prefilter_sql('txt')}
                       AND CASE WHEN free THEN {personal_numbers.candidate_filter_sql('txt')}
                                ELSE {personal_numbers.candidate_filter_sql('txt', ('id_number',))} END),
        hits AS (SELECT loc, free, unnest({personal_numbers.hits_sql('txt')}) AS h FROM cells)
        SELECT DISTINCT loc, h.kind, h.masked FROM hits
        WHERE free OR (h.kind = 'id_number' AND {personal_numbers.checked_id_sql('h.span')})
        ORDER BY ALL LIMIT {_HITS_LIMIT}"""


def _run_hits(con: duckdb.DuckDBPyConnection, cells_sql: str) -> list[PrivacyHit]:
    return [PrivacyHit(loc, kind, masked) for loc, kind, masked in con.execute(_hits_sql(cells_sql)).fetchall()]


def _sql_str(s: str) -> str:
    return "'" + s.replace("'", "''") + "'"


def _text_cast(name: str) -> str:
    return f"CAST({chr(34) + name.replace(chr(34), chr(34) * 2) + chr(34)} AS VARCHAR)"


def row_may_hold_sql(text: list[tuple[str, bool]], ref=_text_cast) -> str | None:
    """SQL true when a row may hold a personal number in one of its ``text`` columns ((name, free text)): the
    free-text cells joined (by a character that is no digit, separator or letter) and tested at once with the
    candidate test of every kind, the identifier cells with the ID-number test (a cell that may hold a hit
    makes its row's joined text match too). ``ref``: the SQL of a column by name. None: no text column."""
    joined = lambda names: "concat_ws(chr(1), " + ", ".join(ref(n) for n in names) + ")"  # noqa: E731
    free_names = [name for name, free in text if free]
    id_names = [name for name, free in text if not free]
    tests = (([personal_numbers.candidate_filter_sql(joined(free_names))] if free_names else [])
             + ([personal_numbers.candidate_filter_sql(joined(id_names), ("id_number",))] if id_names else []))
    return " OR ".join(tests) or None


def text_roles(fields: list[tuple[str, str | None]], identifier_columns: frozenset[str]) -> list[tuple[str, bool]]:
    """(name, free text) of the columns of a CSV the scan reads, from their Table Schema types (None: text):
    numbers and booleans are not read; identifier columns are read for ID numbers only (``scan_csv_file``)."""
    return [(name, name not in identifier_columns) for name, t in fields if t not in {"number", "integer", "boolean"}]


def candidate_cells_aggregate(text: list[tuple[str, bool]], ref, row_flag: str) -> str:
    """Aggregate: the values of the ``text`` columns ((name, free text); ``ref``: a column's SQL by name) that may
    hold a personal number of the kinds that count there, in the rows ``row_flag`` (``row_may_hold_sql``) lets
    through — what ``_scan_table`` confirms, gathered by a query that reads the file for other checks too
    (``release_validation.check_table_schemas``) — as a list of {'i': the column's place in ``text``, 'v': the
    value}; ``candidate_cells_by_column`` sorts them back to their columns and ``hits_of_candidate_cells``
    confirms them. One list test per kind of column, not one per column: DuckDB compiles each ``regexp_matches``
    of a query every time the query runs (62 of them, one table's, took 0.13 s on 76 rows), so the cost of the
    check was the number of text columns, not of rows."""
    tests = []
    for free in (True, False):
        cells = [f"{{'i': {i}, 'v': {ref(name)}}}" for i, (name, is_free) in enumerate(text) if is_free == free]
        if cells:
            kinds = personal_numbers.KINDS if free else ("id_number",)
            tests.append(f"list_filter([{', '.join(cells)}], lambda x: {personal_numbers.prefilter_sql('x.v')} "
                         f"AND {personal_numbers.candidate_filter_sql('x.v', kinds)})")
    if not tests:
        return "NULL"
    # the cell tests run on the (few) rows the row test lets through
    return f"flatten(list(list_concat({', '.join(tests)})) FILTER (WHERE {row_flag}))"


def candidate_cells_by_column(text: list[tuple[str, bool]], gathered: list[dict] | None
                              ) -> list[tuple[str, bool, list[str] | None]]:
    """(name, free text, its candidate values or None) of each ``text`` column, from ``candidate_cells_aggregate``'s
    list."""
    values: dict[int, list[str]] = {}
    for cell in gathered or []:
        values.setdefault(cell["i"], []).append(cell["v"])
    return [(name, free, values.get(i)) for i, (name, free) in enumerate(text)]


def hits_of_candidate_cells(con: duckdb.DuckDBPyConnection, rel: str,
                            cells: list[tuple[str, bool, list[str] | None]]) -> list[PrivacyHit]:
    """The hits among the values ``candidate_cells_aggregate`` gathered: (column, free text, values) of file ``rel``."""
    found = [(f"{rel}#{name}", free, values) for name, free, values in cells if values]
    if not found:
        return []
    cells_sql = " UNION ALL ".join(
        f"SELECT ${3 * i + 1}::VARCHAR AS loc, unnest(${3 * i + 2}::VARCHAR[]) AS txt, ${3 * i + 3}::BOOLEAN AS free"
        for i in range(len(found)))
    params = [v for loc, free, values in found for v in (loc, values, free)]
    return [PrivacyHit(loc, kind, masked)
            for loc, kind, masked in con.execute(_hits_sql(cells_sql), params).fetchall()]


def _scan_table(con: duckdb.DuckDBPyConnection, source_sql: str, columns: list[tuple[str, str]], rel: str,
                identifier_columns: frozenset[str]) -> list[PrivacyHit]:
    """``columns``: (name, role) with role ``free_text`` | ``identifier`` | ``number``; one pass over the file.

    Rows none of whose text columns may hold a personal number are dropped before their cells are unnested:
    the free-text cells of a row joined (by a character that is no digit, separator or letter) and tested at
    once with the candidate test of every kind, the identifier cells with the ID-number test — one test per
    row where there was one per cell (a cell that may hold a hit makes its row's joined text match too).
    """
    text = [(name, role == "free_text" and name not in identifier_columns) for name, role in columns if role != "number"]
    if not text:
        return []
    cells = ", ".join(f"{{'loc': {_sql_str(rel + '#' + name)}, 'txt': {_text_cast(name)}, 'free': {str(free).lower()}}}"
                      for name, free in text)
    any_run = row_may_hold_sql(text)
    cells_sql = (f"SELECT c.loc, c.txt, c.free FROM (SELECT unnest([{cells}]) AS c FROM {source_sql} "
                 f"WHERE {any_run})")
    # The cells that may hold a hit first, by the cheap tests alone; the confirming expression (regular expressions
    # and lambdas DuckDB plans in ~0.1 s of CPU, more than a small file's whole scan) only when there are any.
    con.execute(f"""CREATE OR REPLACE TEMP TABLE _candidate_cells AS
        SELECT DISTINCT loc, txt, free FROM ({cells_sql}) WHERE {personal_numbers.prefilter_sql('txt')}
        AND CASE WHEN free THEN {personal_numbers.candidate_filter_sql('txt')}
                 ELSE {personal_numbers.candidate_filter_sql('txt', ('id_number',))} END""")
    try:
        if not con.execute("SELECT count(*) FROM _candidate_cells").fetchone()[0]:
            return []
        return _run_hits(con, "SELECT loc, txt, free FROM _candidate_cells")
    finally:
        con.execute("DROP TABLE IF EXISTS _candidate_cells")


def scan_parquet_file(path: Path, rel: str, identifier_columns: frozenset[str] = frozenset()) -> list[PrivacyHit]:
    con = open_scratch()
    try:
        source = f"read_parquet({_sql_str(path.as_posix())})"
        cols = con.execute(f"DESCRIBE SELECT * FROM {source}").fetchall()
        roles = [(c[0], "free_text" if str(c[1]).upper().startswith("VARCHAR") else "number") for c in cols]
        return _scan_table(con, source, roles, rel, identifier_columns)
    finally:
        con.close()


def scan_csv_file(path: Path, rel: str, field_types: dict[str, str] | None,
                  identifier_columns: frozenset[str] = frozenset()) -> list[PrivacyHit]:
    """``field_types``: Table Schema types by column (from datapackage.json); unknown columns are text."""
    con = open_scratch()
    try:
        source = f"read_csv({_sql_str(path.as_posix())}, header = true, all_varchar = true, encoding = 'utf-8')"
        cols = [c[0].lstrip("\ufeff") for c in con.execute(f"DESCRIBE SELECT * FROM {source}").fetchall()]
        types = field_types or {}
        roles = [(c, "number" if types.get(c) in {"number", "integer", "boolean"} else "free_text") for c in cols]
        return _scan_table(con, source, roles, rel, identifier_columns)
    finally:
        con.close()


def _walk_json(value, where: str, key: str | None, hits: list[PrivacyHit]) -> None:
    if isinstance(value, dict):
        for k, v in value.items():
            _walk_json(v, where, k, hits)
    elif isinstance(value, list):
        for v in value:
            _walk_json(v, where, key, hits)
    elif isinstance(value, str):
        hits += hits_in_text(value, where,
                             free_text=key not in IDENTIFIER_JSON_KEYS and not _HEX_DIGEST.fullmatch(value))


def _run_pattern() -> str:
    """Maximal runs of the characters a chain and its context letters are made of (digits of any script,
    separators, X, ASCII letters) that hold a candidate (``personal_numbers.candidate_pattern``, a superset
    of a hit). Chains are found left to right and never cross another character, so the hits of a line are
    the union of the hits of its runs, and a run repeated on many lines (a code, a key) is confirmed once.
    (The greedy runs on either side make each match a whole run: leftmost start, longest end.)"""
    src, _ = personal_numbers._translation()
    run = "[0-9A-Za-z .\\-" + src + "]*"
    return f"{run}(?:{personal_numbers.candidate_pattern()}){run}"


def _group_start_candidate_pattern() -> str:
    """``personal_numbers.candidate_pattern`` where the candidate starts a digit group: the text's start or a
    character that is no digit of any script before it, then (mobiles written solid with their prefix) ``86`` /
    ``0086`` or nothing. Exact as a superset of a hit: a hit is a run of consecutive groups of a chain
    (``personal_numbers._candidates``), and a chain's groups are maximal digit runs of the normalised text
    (normalising maps one character to one, digits of any script to digits), so a hit's first digit follows
    no digit; a mobile's ``1`` follows no digit or its prefix in the same group (a prefix written apart, or
    one digit by one, is no mobile grouping with it: the hit then starts at the ``1``). Deal keys such as
    ``NXCG2017-0023112-001`` pass the plain candidate test (``1`` ``7`` and nine digits, gaps allowed) but not
    this one, nor do dates and most amounts: an OCDS line holds a candidate here only when it holds a long
    digit group (a credit code, a card, an ID number) or a group starting ``1[3-9]``."""
    digits = personal_numbers._script_digits("0123456789")
    d = lambda wanted: f"[{personal_numbers._script_digits(wanted)}]"  # noqa: E731
    prefix = f"(?:{d('0')}{d('0')}{d('8')}{d('6')}|{d('8')}{d('6')})?"
    return f"(?:^|[^{digits}]){prefix}(?:{personal_numbers.candidate_pattern()})"


def _group_start_runs_sql(text: str) -> str:
    """SQL: the runs (``_run_pattern``) of ``text`` that hold a candidate starting a digit group
    (``_group_start_candidate_pattern``), in order: the same list as those runs filtered by that pattern, taken
    by one regular expression (``_group_start_run_matches_sql``, each match's first character dropped). (One
    expression instead of every run taken and then tested: the runs of OCDS lines are mostly deal keys, URLs and
    dates, which hold no such candidate.)"""
    return f"list_transform({_group_start_run_matches_sql(text)}, lambda m: substr(m, 2))"


def _group_start_run_matches_sql(text: str) -> str:
    """SQL: a list, in order, of the runs of ``_group_start_runs_sql`` each after ONE character to drop. The
    expression matches ``chr(1) || text``. Each match starts at a run's start: the one character before the run,
    which is no run character (a run follows it) — ``chr(1)``, no run character either, for a run at the text's
    start (the pattern's ``^`` cannot match there: the next character is ``chr(1)``, and a candidate starts with a
    digit) — then the run up to a candidate after a character that is no digit (or the candidate at the run's
    start), then the rest of the run. (Where a run at the text's start was matched without a character before it,
    a test of every match's first character cost a lambda per match: ~20 % of taking the runs of OCDS lines.)"""
    src, _ = personal_numbers._translation()
    digits = personal_numbers._script_digits("0123456789")
    run_chars = "0-9A-Za-z .\\-" + src
    non_digits = "A-Za-z .\\-" + "".join(c for c in src if c not in digits)
    d = lambda wanted: f"[{personal_numbers._script_digits(wanted)}]"  # noqa: E731
    prefix = f"(?:{d('0')}{d('0')}{d('8')}{d('6')}|{d('8')}{d('6')})?"
    pattern = (f"(?:^|[^{run_chars}])(?:[{run_chars}]*[{non_digits}])?{prefix}"
               f"(?:{personal_numbers.candidate_pattern()})[{run_chars}]*")
    return f"regexp_extract_all(chr(1) || {text}, {_sql_str(pattern)})"


def _identifier_members_pattern() -> str:
    """``"<identifier key>":"<string>"`` in compact JSON text. A raw ``"`` in JSON text is always a string's
    delimiter, so the key matched is a key, and the string runs to its closing quote. (No capture group: the
    member is replaced whole, which RE2 finds faster; the key goes too, and it holds no run with a candidate.)"""
    keys = "|".join(re.escape(k) for k in sorted(IDENTIFIER_JSON_KEYS))
    return f'"(?:{keys})": ?"(?:[^"\\\\]|\\\\.)*"'


def json_lines_sql(path: Path) -> str:
    """Every line of a JSON file (gzipped or not) as column ``line``, by DuckDB's CSV reader."""
    return (f"read_csv({_sql_str(path.as_posix())}, columns = {{'line': 'VARCHAR'}}, header = false, "
            "delim = '\x01', quote = '', escape = '', auto_detect = false, max_line_size = 67108864)")


def load_json_lines(con: duckdb.DuckDBPyConnection, path: Path, table: str) -> None:
    """Read a file once into the temp table ``table`` (``line``; ``rowid`` = line number - 1, file order
    kept), for every check that reads it (``scan_json_lines_table``, ``ocds_validation``): a gzipped file is
    decompressed once, by one thread, and the checks then run over the table in parallel."""
    con.execute(f"CREATE OR REPLACE TEMP TABLE {table} AS SELECT line FROM {json_lines_sql(path)}")


def _scan_json_lines(path: Path, rel: str) -> list[PrivacyHit]:
    """A JSON file read line by line by DuckDB (package files hold one item per line)."""
    con = open_scratch()
    try:
        load_json_lines(con, path, "json_lines")
        return scan_json_lines_table(con, "json_lines", rel)
    finally:
        con.close()


def scan_json_lines_table(con: duckdb.DuckDBPyConnection, table: str, rel: str) -> list[PrivacyHit]:
    """The lines of a JSON file in temp table ``table`` (``load_json_lines``), scanned as published
    (``scan_json_lines``)."""
    return scan_json_lines(con, f"SELECT rowid AS n, line FROM {table}", rel)


def scan_json_lines(con: duckdb.DuckDBPyConnection, lines: str, rel: str, known_runs: str | None = None,
                    every_line_json: bool = False) -> list[PrivacyHit]:
    """The lines of a JSON file, the query ``lines`` (``n``: a line's number, ``line``: its text, a package item's
    trailing comma there or not), scanned as they are written.

    ``known_runs``: a temp table (``run``, ``hs``) of runs confirmed earlier by this connection (``json_run_cache``),
    which the runs confirmed here are added to: a run is confirmed once per build, not once per file (an OCDS part's
    record packages repeat its release packages' keys and codes). ``every_line_json``: the caller parsed every line
    (the envelope, line 0, once its list is closed; the others after their trailing comma), so the lines holding a
    weak run are JSON and are not tested again.

    The runs (``_run_pattern``) of every line that may hold a personal number are taken out once, with
    the line they come from, and each distinct run is confirmed once. ID numbers with a right check character
    count anywhere. Mobiles, cards and ID numbers with a wrong check character count in free text only: a line holding a run with one that is JSON (after its trailing
    comma), or a package's envelope line (JSON once its list is closed), is parsed with ``json_tree``, its
    string values being free text unless their key — for array elements, the array's key — is an
    identifier key; any other such line (a fragment of a pretty-printed file) is free text whole. The
    steps are separate statements so that DuckDB parses only the (few) lines with such a hit, not every
    line. (Confirming every line whole cost ~0.3 ms a line: OCDS lines all pass the prefilter on their
    deal keys and credit codes.)
    """
    keys = ", ".join(_sql_str(k) for k in sorted(IDENTIFIER_JSON_KEYS))
    loc = _sql_str(rel)
    # Only the runs that may hold a hit (``_group_start_candidate_pattern``, exact as a superset: a run without
    # one has no hit) are taken and confirmed: deal keys, dates and amounts are no longer confirmed one by one.
    # No prefilter of the lines first: every OCDS line passes it (deal keys, credit codes), and it is implied by the
    # runs' own pattern (a candidate is at least eleven digits of the prefilter's digits with at most three of its
    # separators between: a line failing the prefilter holds no run), so it cost a regular expression per line for
    # nothing.
    runs = _group_start_run_matches_sql("line")  # each run after one character to drop
    # ID numbers with a right check character count anywhere; the other hits (a wrong check included) are weak
    checked = personal_numbers.checked_id_sql("h.span")
    try:
        con.execute(f"""
            CREATE OR REPLACE TEMP TABLE json_line_runs AS
            SELECT n, substr(m, 2) AS run FROM (SELECT n, unnest({runs}) AS m FROM ({lines}))""")
        if known_runs is None:
            con.execute(f"""
                CREATE OR REPLACE TEMP TABLE json_hits AS
                SELECT run, {personal_numbers.hits_sql('run')} AS hs FROM (SELECT DISTINCT run FROM json_line_runs)""")
        else:
            # The runs this cursor has not confirmed yet, confirmed only when there are some: a statement holding
            # ``hits_sql`` costs ~0.03-0.05 CPU-s to plan (its regular expressions of every script's digits are
            # compiled per statement) whatever its rows, and a package whose runs were all met in an earlier file
            # of its cursor (a record package's own values, a later file of a part) has none.
            con.execute(f"""
                CREATE OR REPLACE TEMP TABLE json_new_runs AS
                SELECT run FROM (SELECT DISTINCT run FROM json_line_runs) WHERE run NOT IN (SELECT run FROM {known_runs})""")
            if con.execute("SELECT count(*) FROM json_new_runs").fetchone()[0]:
                con.execute(f"""
                    INSERT INTO {known_runs}
                    SELECT run, {personal_numbers.hits_sql('run')} AS hs FROM json_new_runs""")
            con.execute(f"""
                CREATE OR REPLACE TEMP TABLE json_hits AS
                SELECT run, hs FROM {known_runs} WHERE run IN (SELECT run FROM json_line_runs)""")
        hits = [PrivacyHit(rel, kind, masked) for kind, masked in con.execute(
            "SELECT DISTINCT h.kind, h.masked FROM (SELECT unnest(hs) AS h FROM json_hits) "
            f"WHERE h.kind = 'id_number' AND {checked} ORDER BY ALL LIMIT {_HITS_LIMIT}").fetchall()]
        con.execute(f"""
            CREATE OR REPLACE TEMP TABLE weak_runs AS
            SELECT run FROM json_hits WHERE len(list_filter(hs, lambda h: h.kind <> 'id_number' OR NOT {checked})) > 0""")
        if con.execute("SELECT count(*) FROM weak_runs").fetchone()[0]:
            doc = ("CASE WHEN n = 0 THEN line || ']}' ELSE line END" if every_line_json else
                   "CASE WHEN json_valid(line) THEN line WHEN json_valid(line || ']}') THEN line || ']}' END")
            # A JSON line whose weak runs all sit in string values of identifier keys (a credit code whose first
            # 17 digits pass Luhn, in "id": one OCDS line in five) has no such hit in free text: the line with
            # those members emptied holds none of the weak runs. Only the other lines are kept, to be parsed by
            # json_tree (tested as they are selected: the lines left out are never copied).
            stripped = f"regexp_replace(line, {_sql_str(_identifier_members_pattern())}, '\"\"', 'g')"
            con.execute(f"""
                CREATE OR REPLACE TEMP TABLE json_weak_lines AS
                SELECT line, doc FROM (
                    SELECT line, {doc} AS doc
                    FROM (SELECT n, rtrim(line, ',') AS line FROM ({lines})
                          WHERE n IN (SELECT n FROM json_line_runs WHERE run IN (SELECT run FROM weak_runs))))
                WHERE doc IS NULL OR list_has_any({_group_start_runs_sql(stripped)},
                                                  (SELECT list(run) FROM weak_runs))""")
            # most packages' weak runs all sit in identifier members (credit codes in "id"): no line is left, and
            # the confirmation below would only be planned (~0.04 CPU-s, ``hits_sql`` again) to read no row
            if con.execute("SELECT count(*) FROM json_weak_lines").fetchone()[0]:
                hits += _run_hits(con, f"""
                    SELECT {loc} AS loc, line AS txt, true AS free FROM json_weak_lines WHERE doc IS NULL
                    UNION ALL
                    SELECT {loc}, json_extract_string(t.value, '$'),
                           CASE WHEN t.fullkey LIKE '%]'
                                THEN trim(regexp_extract(t.path, '([^.\\[]+|"[^"]*")(\\[[0-9]+\\])*$', 1), '"')
                                ELSE t.key END NOT IN ({keys})
                    FROM (SELECT doc FROM json_weak_lines WHERE doc IS NOT NULL) AS d, json_tree(d.doc) AS t
                    WHERE t.type = 'VARCHAR'""")
        return _dedupe(hits)
    finally:
        for name in ("json_line_runs", "json_new_runs", "json_hits", "weak_runs", "json_weak_lines"):
            con.execute(f"DROP TABLE IF EXISTS {name}")


def json_run_cache(con: duckdb.DuckDBPyConnection, table: str = "_json_run_hits") -> str:
    """A temp table for ``scan_json_lines(known_runs=…)``: the runs one connection confirmed, with their hits."""
    con.execute(f"CREATE OR REPLACE TEMP TABLE {table} (run VARCHAR, "
                "hs STRUCT(kind VARCHAR, span VARCHAR, masked VARCHAR)[])")
    return table


def scan_json_file(path: Path, rel: str, con: duckdb.DuckDBPyConnection | None = None,
                   lines: str | None = None) -> list[PrivacyHit]:
    """``lines``: a temp table of ``con`` already holding the file's lines (``load_json_lines``), read
    instead of the file when the file is scanned line by line."""
    hits: list[PrivacyHit] = []
    if path.stat().st_size <= _SMALL_JSON_BYTES and not path.name.endswith(".gz"):
        _walk_json(json.loads(path.read_text(encoding="utf-8")), rel, None, hits)
        return _dedupe(hits)
    if con is not None and lines is not None:
        return scan_json_lines_table(con, lines, rel)
    return _scan_json_lines(path, rel)


def _datapackage_types(root: Path) -> dict[str, dict[str, str]]:
    dp = root / "datapackage.json"
    if not dp.exists():
        return {}
    package = json.loads(dp.read_text(encoding="utf-8"))
    return {
        r["path"]: {f["name"]: f.get("type", "string") for f in r.get("schema", {}).get("fields", [])}
        for r in package.get("resources", []) if isinstance(r.get("path"), str)
    }


def scan_tree(root: Path, identifier_columns: frozenset[str] | set[str] = frozenset(),
              skip: frozenset[str] = frozenset(), same_values_as_csv: frozenset[str] = frozenset(),
              scanned: dict[str, list[PrivacyHit]] | None = None) -> PrivacyReport:
    """Scan every file below ``root``; binaries other than Parquet are counted but not read.

    ``skip``: relative paths already scanned elsewhere, byte for byte (the caller proves it by checksum).
    ``same_values_as_csv``: Parquet files whose every text value the caller proved equal, row for row, to the
    CSV beside them (``release_validation.check_table_schemas``), which is scanned: their cells are not scanned
    twice. (The CSV's text may carry the spreadsheet guard's leading ``'``, which is no digit, separator or
    letter: a number is found in the guarded text exactly when it is in the value.)
    ``scanned``: CSV files the caller scanned this same way in its own read of every row (``check_table_schemas``
    gathers their candidate cells, ``hits_of_candidate_cells`` confirms them), with their hits: counted as
    scanned, not read again.
    """
    scanned = scanned or {}
    identifier_columns = frozenset(identifier_columns)
    types = _datapackage_types(root)
    report = PrivacyReport()
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        rel = path.relative_to(root).as_posix()
        if rel in skip:
            report.files_carried_over += 1
            continue
        if rel in same_values_as_csv and (root / (rel[:-len(".parquet")] + ".csv")).is_file():
            report.files_same_as_csv += 1
            continue
        report.files_scanned += 1
        report.bytes_scanned += path.stat().st_size
        suffix = path.suffix.lower()
        if rel in scanned:
            report.hits += scanned[rel]
            report.files_scanned_by_table_check += 1
        elif suffix == ".parquet":
            report.hits += scan_parquet_file(path, rel, identifier_columns)
        elif suffix == ".csv":
            report.hits += scan_csv_file(path, rel, types.get(rel), identifier_columns)
        elif suffix in {".json", ".jsonld"} or path.name.endswith((".json.gz", ".jsonl.gz")):
            report.hits += scan_json_file(path, rel)
        elif path.name == "SHA256SUMS":
            report.hits += scan_text_file(path, rel, free_text=False)
        elif suffix in _TEXT_SUFFIXES or suffix == ".jsonl":
            report.hits += scan_text_file(path, rel)
    return report
