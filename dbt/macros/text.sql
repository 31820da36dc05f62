{#- Full-width -> half-width for ASCII range (U+FF01..U+FF5E -> U+0021..U+007E), ideographic space
    -> space, and the usual Chinese punctuation the portal mixes in. Names are trimmed after. -#}
{% macro normalise_text(expr) -%}
{#- translate() costs ~6 µs a value (measured: 0.9 s per column per 156k rows); most values have no
    full-width character, and the regexp guard costs ~0.2 µs, so translate only those that do.
    The half-width side holds a quote and a backslash: written through sql_string for Spark. -#}
{%- set full_width -%}！＂＃＄％＆＇（）＊＋，－．／０１２３４５６７８９：；＜＝＞？＠ＡＢＣＤＥＦＧＨＩＪＫＬＭＮＯＰＱＲＳＴＵＶＷＸＹＺ［＼］＾＿｀ａｂｃｄｅｆｇｈｉｊｋｌｍｎｏｐｑｒｓｔｕｖｗｘｙｚ｛｜｝～{%- endset -%}
{%- set half_width -%}!"#$%&'()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\]^_`abcdefghijklmnopqrstuvwxyz{|}~{%- endset -%}
case when {{ regex_search(expr, "'[！-～　]'") }} then
translate(
    replace({{ expr }}, '　', ' '),
    '{{ full_width }}',
    {{ sql_string(half_width) }}
)
else {{ expr }} end
{%- endmacro %}

{#- A name as people compare it: half-width, inner runs of spaces collapsed, trimmed; blank -> NULL. -#}
{% macro clean_name(expr) -%}
nullif(trim({{ regex_replace_all(normalise_text(expr), sql_string('\\s+'), "' '") }}), '')
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
