"""De-identification: the ONE place every public extract passes through (SQL side).

Every dataset, the OCDS extract and the dashboards read their rows through ``masked_select``; nothing
published reads a mart directly. Rules (宁政办发〔2018〕61号 七(四); 政府信息公开条例 §15):

- personal ID fields (PM_CODE): first 6 + ``********`` + last 4;
- in every other text column that is not a checked code (USCC, region, catalogue keys): any run of
  15-19 digits (optionally ending in X) — ID numbers and bank card numbers — becomes first 6 +
  ``********`` + last 4, and any mobile number ``1[3-9]`` + 9 digits not touching other digits
  becomes first 3 + ``****`` + last 4.

The SQL masks by shape, not by checksum: an ID with a wrong check digit is still someone's ID, and
over-masking a long digit run costs nothing. DuckDB's RE2 has no look-around, so a boundary is
matched as a character and put back; two passes catch runs separated by a single character (the
first pass consumes the separator). The Python-side privacy scan (``privacy_scan.py``) then proves
on the written files that no checksum-valid ID and no mobile is left.
"""
from __future__ import annotations

from dataclasses import dataclass, field

# A digit run of 15-19 characters (ID numbers 15/18, bank cards 16-19), last one may be X.
_LONG_RUN = r"(^|[^0-9])([0-9]{6})[0-9]{5,9}([0-9]{3}[0-9Xx])([^0-9Xx]|$)"
_LONG_RUN_REPLACEMENT = r"\1\2********\3\4"
_MOBILE = r"(^|[^0-9])(1[3-9][0-9])[0-9]{4}([0-9]{4})([^0-9]|$)"
_MOBILE_REPLACEMENT = r"\1\2****\3\4"


@dataclass(frozen=True)
class MaskingPolicy:
    identifier_columns: frozenset[str] = field(default_factory=frozenset)
    personal_id_columns: frozenset[str] = field(default_factory=frozenset)
    dropped_columns: frozenset[str] = field(default_factory=frozenset)

    @classmethod
    def from_spec(cls, spec: dict) -> "MaskingPolicy":
        return cls(
            identifier_columns=frozenset(spec.get("identifier_columns") or ()),
            personal_id_columns=frozenset(spec.get("personal_id_columns") or ()),
            dropped_columns=frozenset(spec.get("dropped_columns") or ()),
        )


def quote_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def mask_free_text_sql(expr: str) -> str:
    """SQL expression masking ID/card runs and mobiles in a VARCHAR expression."""
    out = expr
    for _ in range(2):
        out = f"regexp_replace({out}, '{_LONG_RUN}', '{_LONG_RUN_REPLACEMENT}', 'g')"
    for _ in range(2):
        out = f"regexp_replace({out}, '{_MOBILE}', '{_MOBILE_REPLACEMENT}', 'g')"
    return out


def mask_personal_id_sql(expr: str) -> str:
    """SQL expression for a field that is an ID number by definition: keep first 6 + last 4."""
    return (
        f"CASE WHEN {expr} IS NULL OR trim({expr}) = '' THEN {expr} "
        f"WHEN length(trim({expr})) > 10 THEN left(trim({expr}), 6) || '********' || right(trim({expr}), 4) "
        f"ELSE '********' END"
    )


def column_sql(name: str, duckdb_type: str, policy: MaskingPolicy, value_map: dict[str, str] | None = None) -> str | None:
    """The published expression for one column (``None``: the column is dropped)."""
    if name in policy.dropped_columns:
        return None
    col = quote_ident(name)
    type_upper = duckdb_type.upper()
    if type_upper.endswith("[]") or type_upper.startswith(("LIST", "STRUCT", "MAP")):
        # Nested values become one text cell (CSV has no lists); then they are text like any other.
        expr = f"array_to_string(CAST({col} AS VARCHAR[]), '; ')" if type_upper.endswith("[]") else f"CAST({col} AS VARCHAR)"
        return f"{mask_free_text_sql(expr)} AS {col}"
    is_text = type_upper.startswith(("VARCHAR", "TEXT", "STRING", "CHAR"))
    if value_map:
        cases = " ".join(f"WHEN '{k}' THEN '{v}'" for k, v in value_map.items())
        col_expr = f"CASE {col} {cases} ELSE {col} END"
    else:
        col_expr = col
    if not is_text:
        return f"{col_expr} AS {col}"
    if name in policy.personal_id_columns:
        return f"{mask_personal_id_sql(col)} AS {col}"
    if name in policy.identifier_columns:
        return f"{col_expr} AS {col}"
    return f"{mask_free_text_sql(col_expr)} AS {col}"


def masked_select(
    relation_sql: str,
    columns: list[tuple[str, str]],
    policy: MaskingPolicy,
    value_maps: dict[str, dict[str, str]] | None = None,
) -> str:
    """``SELECT`` of the given (name, DuckDB type) columns of ``relation_sql`` with the masking applied.

    ``relation_sql`` is a table name or a parenthesised query; the result keeps column names and order.
    """
    value_maps = value_maps or {}
    parts = [column_sql(n, t, policy, value_maps.get(n)) for n, t in columns]
    parts = [p for p in parts if p is not None]
    return f"SELECT {', '.join(parts)} FROM {relation_sql} AS src"
