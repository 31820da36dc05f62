{#- Full-width -> half-width for ASCII range (U+FF01..U+FF5E -> U+0021..U+007E), ideographic space
    -> space, and the usual Chinese punctuation the portal mixes in. Names are trimmed after. -#}
{% macro normalise_text(expr) -%}
{#- Most values hold no full-width character: a regexp guard (~0.1 µs) sends only those that do to the mapping.
    translate() costs by the length of its table, per value (DuckDB 2.0: ~6 µs with these 94 pairs, ~0.9 µs with
    two, measured 2026-12-05), and real names and titles mostly hold only full-width parentheses and commas: those
    are replaced first (replace: ~0.05 µs), and translate() runs only on what still holds a full-width character
    after them — the same text, since every pair maps one character to one ASCII character outside the table.
    The half-width side holds a quote and a backslash: written through sql_string for Spark. -#}
{%- set full_width -%}！＂＃＄％＆＇（）＊＋，－．／０１２３４５６７８９：；＜＝＞？＠ＡＢＣＤＥＦＧＨＩＪＫＬＭＮＯＰＱＲＳＴＵＶＷＸＹＺ［＼］＾＿｀ａｂｃｄｅｆｇｈｉｊｋｌｍｎｏｐｑｒｓｔｕｖｗｘｙｚ｛｜｝～{%- endset -%}
{%- set half_width -%}!"#$%&'()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\]^_`abcdefghijklmnopqrstuvwxyz{|}~{%- endset -%}
{%- if target.type == 'spark' -%}
{#- Spark keeps the one-translate form: the guarded form repeats the expression (and clean_name repeats this
    macro), and a view's SQL text must fit the Hive metastore's column (stg_trading__bulletins did not) -#}
case when {{ regex_search(expr, "'[！-～　]'") }} then
translate(replace({{ expr }}, '　', ' '), '{{ full_width }}', {{ sql_string(half_width) }})
else {{ expr }} end
{%- else -%}
{%- set common -%}replace(replace(replace(replace({{ expr }}, '　', ' '), '（', '('), '）', ')'), '，', ','){%- endset -%}
case when {{ regex_search(expr, "'[！-～　]'") }} then
    case when {{ regex_search(common, "'[！-～]'") }} then translate({{ common }}, '{{ full_width }}', {{ sql_string(half_width) }})
    else {{ common }} end
else {{ expr }} end
{%- endif -%}
{%- endmacro %}

{#- A name as people compare it: half-width, inner runs of spaces collapsed, trimmed; blank -> NULL.
    The collapse (a regexp replace, ~0.2 µs a value) runs only on a value that holds a run to collapse: two spaces,
    an ideographic space (a space once normalised) or a whitespace control character (\s is [ \t\n\f\r] in RE2,
    also \x0B in Java). Without one, normalising leaves no such run either (it maps one character to one non-space
    character) and the replace would return its input. -#}
{% macro clean_name(expr) -%}
{%- if target.type == 'spark' -%}
nullif(trim({{ regex_replace_all(normalise_text(expr), sql_string('\\s+'), "' '") }}), '')
{%- else -%}
nullif(trim(case when {{ has_whitespace_run(expr) }}
    then {{ regex_replace_all(normalise_text(expr), sql_string('\\s+'), "' '") }}
    else {{ normalise_text(expr) }} end), '')
{%- endif -%}
{%- endmacro %}

{#- True when the text may hold a run of whitespace \s+ would collapse (see clean_name); instr is cheap and portable. -#}
{% macro has_whitespace_run(expr) -%}
(instr({{ expr }}, '  ') > 0 or instr({{ expr }}, '　') > 0
 {%- for code in [9, 10, 11, 12, 13] %} or instr({{ expr }}, chr({{ code }})) > 0{% endfor %})
{%- endmacro %}

{#- Title comparison key: also drop quotes and all spaces (as the ingest table matcher does). -#}
{% macro title_key(expr) -%}
{{ regex_replace_all(normalise_text(expr), sql_string('[\\s"“”「」『』\']'), "''") }}
{%- endmacro %}

{#- Classification code level: 3/5/7 digits -> 1 (类) / 2 (款) / 3 (项); other shapes -> NULL. -#}
{% macro code_level(code) -%}
case length({{ code }}) when 3 then 1 when 5 then 2 when 7 then 3 end
{%- endmacro %}

{#- Amount to 元 as DECIMAL(20,2), rounded half away from zero, never via float. -#}
{% macro to_yuan(amount, multiplier) -%}
cast(round(cast({{ amount }} as decimal(38, 6)) * cast({{ multiplier }} as decimal(38, 6)), 2) as decimal(20, 2))
{%- endmacro %}

{#- The evaluation date (GONGKAI_AS_OF, blank -> today). Read via env_var, never --vars. -#}
{% macro as_of_date() -%}
{%- set v = env_var('GONGKAI_AS_OF', '') | trim -%}
{%- if v -%}date '{{ v }}'{%- else -%}current_date{%- endif -%}
{%- endmacro %}

{# A workbook cell left empty by the publisher (NULL or only spaces): distinct from a written 0 or '-'.
   Used where a rule must tell "not split / not filled in" from "filled in with zero". #}
{% macro cell_is_blank(value_text) -%}
    (nullif(trim(coalesce({{ value_text }}, '')), '') is null)
{%- endmacro %}

{#- The key of a publisher the registry does not know: stable, derived from the name the file gives
    (normalised by the caller), never NULL — so its findings and lines stay keyed and joinable, and a
    registry finding (REG_UNKNOWN_PUBLISHER) says which name to register. -#}
{% macro unregistered_publisher_key(name) -%}
('UNREG-' || upper(left(md5(coalesce({{ name }}, '')), 10)))
{%- endmacro %}
