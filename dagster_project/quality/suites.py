"""Load the reviewed GX suites (`expectations/*.yaml`) and check them against the rule catalogue.

A suite file is data: one concern (disclosure, detail, ...), its kind (`compliance` findings about
publishers, or `integrity` checks of the pipeline itself), and a list of expectations. Every
expectation carries its rule id, legal basis, severity and publisher column. Set-based rules are
`unexpected_rows` expectations whose SQL returns the offending rows with the standard finding columns;
column-level checks use other GX expectation types (`type` + `kwargs`).

SQL in a suite may use `{batch}` (GX substitutes the batch table) and `$name` templates from the
suite's `templates:` block (filled here, so repeated rule shapes are written once; `$$` is a literal `$`,
e.g. a regex anchor). Thresholds are
never written in a suite: queries join `reference.ref_rule_catalogue`.
"""
from __future__ import annotations

import csv
import string
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from dagster_project.paths import DBT_SEEDS_DIR, EXPECTATIONS_DIR

SEVERITIES = ("failure", "warning", "red_flag", "info")
KINDS = ("compliance", "integrity")
FINDING_COLUMNS = (
    "rule_id", "publisher_code", "fiscal_year", "object_key", "observed", "expected",
    "source_file", "sheet", "source_row", "detail",
)
RULE_CATALOGUE = DBT_SEEDS_DIR / "ref_rule_catalogue.csv"


class SuiteError(ValueError):
    """A suite file that cannot be run as written."""


@dataclass(frozen=True)
class RuleExpectation:
    suite: str
    kind: str
    rule_id: str
    severity: str
    legal_basis: str
    publisher_column: str
    batch: str                      # schema.table GX validates (the mart / rule input read)
    type: str                       # unexpected_rows | any GX expectation class name in snake case
    query: str | None = None        # unexpected_rows: the offending rows, standard columns
    kwargs: dict[str, Any] = field(default_factory=dict)
    evaluated_query: str | None = None     # count of objects judged (denominator of the failure rate)
    insufficient_query: str | None = None  # count of objects NOT judged for lack of data
    requires: tuple[str, ...] = ()         # other tables the query reads (schema.table)
    description: str = ""
    slice: str | None = None               # publisher_year | year: the query is slice-local (quality/slices.py)

    @property
    def expectation_id(self) -> str:
        return f"{self.suite}:{self.rule_id}:{self.type}:{self.batch}:{self.kwargs.get('column') or self.kwargs.get('column_list') or ''}"

    def tables(self) -> tuple[str, ...]:
        return (self.batch, *self.requires)

    @property
    def gx_query(self) -> str | None:
        """The query handed to GX. GX replaces `{batch}` with an aliased subquery (`(...) AS subselect`)
        unless the query has a JOIN, so a suite's own alias (`from {batch} s`) would not parse; wrapping
        makes both forms a derived table that takes the suite's alias."""
        return None if self.query is None else self.query.replace("{batch}", "(select * from {batch})")

    def sql_for_duckdb(self, text: str | None) -> str | None:
        """The same query text GX runs, with `{batch}` bound to the batch table."""
        return None if text is None else text.replace("{batch}", self.batch)


@dataclass(frozen=True)
class Suite:
    name: str
    kind: str
    title_zh: str
    title_en: str
    path: Path
    expectations: tuple[RuleExpectation, ...]


def load_rule_catalogue(path: Path = RULE_CATALOGUE) -> dict[str, dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as fh:
        return {row["rule_id"]: row for row in csv.DictReader(fh)}


def _render(text: str | None, templates: dict[str, str], params: dict[str, Any]) -> str | None:
    """A value naming a template is that template; `$name` inside SQL is a param or a template fragment."""
    if text is None:
        return None
    if text.strip() in templates:
        text = templates[text.strip()]
    fragments = {name: string.Template(t).safe_substitute(params) for name, t in templates.items()}
    try:
        return string.Template(text).substitute({**fragments, **params})
    except (KeyError, ValueError) as exc:
        raise SuiteError(f"unfilled placeholder {exc} in: {text[:120]}") from exc


def load_suite(path: Path, catalogue: dict[str, dict[str, str]] | None = None) -> Suite:
    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    name, kind = doc["suite"], doc.get("kind", "compliance")
    if kind not in KINDS:
        raise SuiteError(f"{path.name}: kind must be one of {KINDS}, got {kind!r}")
    templates = {k: v for k, v in (doc.get("templates") or {}).items()}
    expectations = []
    for raw in doc.get("expectations") or []:
        rule_id = raw["rule_id"]
        if kind == "compliance":
            if catalogue is not None and rule_id not in catalogue:
                raise SuiteError(f"{path.name}: rule {rule_id} is not in ref_rule_catalogue.csv")
            if catalogue is not None and raw["severity"] != catalogue[rule_id]["severity"]:
                raise SuiteError(
                    f"{path.name}: {rule_id} severity {raw['severity']!r} differs from the catalogue's "
                    f"{catalogue[rule_id]['severity']!r}"
                )
        if raw["severity"] not in SEVERITIES:
            raise SuiteError(f"{path.name}: {rule_id} severity must be one of {SEVERITIES}")
        params = {"rule_id": rule_id, **(raw.get("params") or {})}
        etype = raw.get("type", "unexpected_rows")
        query = _render(raw.get("query"), templates, params)
        if etype == "unexpected_rows" and not query:
            raise SuiteError(f"{path.name}: {rule_id} is unexpected_rows but has no query")
        if raw.get("slice") is not None and (raw["slice"] not in ("publisher_year", "year") or etype != "unexpected_rows"):
            raise SuiteError(f"{path.name}: {rule_id} slice must be publisher_year or year, on an unexpected_rows rule")
        expectations.append(
            RuleExpectation(
                suite=name,
                kind=kind,
                rule_id=rule_id,
                severity=raw["severity"],
                legal_basis=raw["legal_basis"],
                publisher_column=raw.get("publisher_column", "publisher_code"),
                batch=raw["batch"],
                type=etype,
                query=query,
                kwargs=dict(raw.get("kwargs") or {}),
                evaluated_query=_render(raw.get("evaluated_query"), templates, params),
                insufficient_query=_render(raw.get("insufficient_query"), templates, params),
                requires=tuple(raw.get("requires") or ()),
                description=raw.get("description", ""),
                slice=raw.get("slice"),
            )
        )
    return Suite(
        name=name,
        kind=kind,
        title_zh=doc.get("title_zh", name),
        title_en=doc.get("title_en", name),
        path=path,
        expectations=tuple(expectations),
    )


def load_suites(directory: Path = EXPECTATIONS_DIR, catalogue_path: Path = RULE_CATALOGUE) -> list[Suite]:
    catalogue = load_rule_catalogue(catalogue_path)
    suites = [load_suite(p, catalogue) for p in sorted(directory.glob("*.yaml"))]
    if not suites:
        raise SuiteError(f"no suites found in {directory}")
    return suites
