{#- 统一社会信用代码 GB 32100-2015, checked in SQL that runs on DuckDB and Spark. ONE definition used by every model that
    carries a credit code: registry entities, tenderers, agencies, winners, candidates, suppliers.
    Check character = ALPHABET[(31 - Σ value·weight mod 31) mod 31] over the first 17 characters.
    Alphabet excludes I O S V Z; first characters A/N/Y are legal (some libraries wrongly reject them). -#}

{% macro uscc_alphabet() -%}'0123456789ABCDEFGHJKLMNPQRTUWXY'{%- endmacro %}

{#- Upper-cased, trimmed, full-width letters/digits folded; blank -> NULL. -#}
{% macro clean_uscc(expr) -%}
nullif(upper(trim({{ normalise_text(expr) }})), '')
{%- endmacro %}

{#- Σ value·weight written out term by term (no list lambdas: their index base differs between engines). -#}
{%- macro uscc_expected_check_char(code) -%}
{%- set weights = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28] -%}
substr({{ uscc_alphabet() }},
       cast(((31 - (({% for w in weights %}(instr({{ uscc_alphabet() }}, substr({{ code }}, {{ loop.index }}, 1)) - 1) * {{ w }}{% if not loop.last %} + {% endif %}{% endfor %}) % 31)) % 31) + 1 as integer),
       1)
{%- endmacro %}

{#- Why a non-blank code is invalid: NULL when valid or blank (blank is not evaluated). -#}
{% macro uscc_invalid_reason(code) -%}
case
    when {{ code }} is null then null
    when length({{ code }}) <> 18 then 'length ' || length({{ code }}) || ' (expected 18)'
    when not {{ regex_full_match(code, "'[0-9ABCDEFGHJKLMNPQRTUWXY]{18}'") }} then 'character outside the GB 32100 alphabet'
    when substr({{ code }}, 18, 1) <> {{ uscc_expected_check_char(code) }}
        then 'check character ' || substr({{ code }}, 18, 1) || ' (expected ' || {{ uscc_expected_check_char(code) }} || ')'
    else null
end
{%- endmacro %}

{#- Emits `<prefix>_uscc_invalid_reason` and `<prefix>_uscc_is_valid` for an already-cleaned code
    column. is_valid is NULL for a blank code (nothing to check). is_valid reads the reason through
    DuckDB's lateral column alias, so the check character is computed once per code. -#}
{% macro uscc_columns(code, prefix) -%}
    {{ uscc_invalid_reason(code) }} as {{ prefix }}_uscc_invalid_reason,
    case when {{ code }} is null then null else {{ prefix }}_uscc_invalid_reason is null end as {{ prefix }}_uscc_is_valid
{%- endmacro %}
