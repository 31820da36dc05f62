{{ config(tags=['portable']) }}
-- 可移植宏 Every portable macro (macros/portable/) on fixed inputs, with the answer written here: returns
-- the checks whose result differs. Runs on DuckDB and, in tests/test_spark_parity.py, on Spark: the inputs
-- are the ones on which the engines' own functions disagree (final line breaks, backslashes, ties, groups).
{%- set checks = [
    ('regex_search', regex_search("'a1b'", "'[0-9]'"), "'true'"),
    ('regex_full_match', regex_full_match("'P19640100-0001'", "'P[0-9]{2}64[0-9]{4}-[0-9]{4}'"), "'true'"),
    ('regex_full_match before a final line break', regex_full_match("concat('abc', chr(10))", "'abc'"), "'false'"),
    ('regex_replace_all', regex_replace_all("'a  b \t c'", sql_string('\\s+'), "'_'"), "'a_b_c'"),
    ('regex_replace_anchored', regex_replace_anchored("'教育支出支出'", "'支出$'", "''"), "'教育支出'"),
    ('regex_extract whole match', regex_extract("'budget/2020/x.xlsx'", "'[^/]+$'"), "'x.xlsx'"),
    ('regex_extract group', regex_extract("'A-12'", "'([A-Z])-([0-9]+)'", 2), "'12'"),
    ('regex_extract no match', regex_extract("'abc'", "'[0-9]+'"), "''"),
    ('regex_split', list_join(regex_split("'a；b、c'", "'[；、]'"), "'|'"), "'a|b|c'"),
    ('sql_string backslash and quote', "length(" ~ sql_string("C:\\x'y") ~ ")", "'6'"),
    ('sql_string regex class with backslash', regex_search(sql_string('a\\b'), sql_string('[\\\\]')), "'true'"),
    ('list_of', list_join(list_of(["'a'", "'b'"]), "','"), "'a,b'"),
    ('struct_of', struct_of({'k': "'v'", 'n': '1'}) ~ ".k", "'v'"),
    ('filter_list', list_join(filter_list(list_of(["'a'", "''", "'b'"]), 'x', "x <> ''"), "'|'"), "'a|b'"),
    ('list_has', list_has(list_of(["'a'", "'b'"]), "'b'"), "'true'"),
    ('split_text keeps empty pieces', list_join(split_text("'a|b|'", "'|'"), "','"), "'a,b,'"),
    ('parse_date iso slash', parse_date("'2019/3/5'"), "'2019-03-05'"),
    ('parse_date with time', parse_date("'2019-03-05T10:00'"), "'2019-03-05'"),
    ('parse_date chinese', parse_date("'2019年3月5日'"), "'2019-03-05'"),
    ('parse_date impossible day', parse_date("'2019-02-30'"), 'null'),
    ('parse_date day first', parse_date("'05/03/2019'"), 'null'),
    ('iso_day_of_week sunday', iso_day_of_week("date '2024-01-07'"), "'7'"),
    ('iso_day_of_week monday', iso_day_of_week("date '2024-01-08'"), "'1'"),
    ('days_between across spring festival', days_between("timestamp '2020-01-23 09:00:00'", "timestamp '2020-02-03 17:00:00'"), "'11'"),
    ('clean_name', clean_name("'　ＡＢＣ（宁夏）　 有限公司 '"), "'ABC(宁夏) 有限公司'"),
    ('clean_name full-width parentheses and comma only', clean_name("'（宁夏）甲，乙'"), "'(宁夏)甲,乙'"),
    ('clean_name full-width beside parentheses', clean_name("'ＡＢ（１）：ｃ～'"), "'AB(1):c~'"),
    ('clean_name whitespace controls collapsed', clean_name("concat(' a', chr(9), chr(10), 'b', chr(13), ' ', chr(12), 'c ')"), "'a b c'"),
    ('clean_name single spaces kept, ends trimmed', clean_name("' a b '"), "'a b'"),
    ('clean_name blank', clean_name("concat('　', chr(9), ' ')"), 'null'),
    ('clean_name plain', clean_name("'宁夏公司'"), "'宁夏公司'"),
    ('title_key', title_key("'“一般公共预算” 支出表'"), "'一般公共预算支出表'"),
    ('clean_uscc full-width lower case', clean_uscc("'９１６４０１００ｍａ７６ｘ'"), "'91640100MA76X'"),
    ('list_length', list_length(list_of(['1', '2', '3'])), "'3'"),
    ('list_length of NULL', list_length('cast(null as ' ~ list_type('integer') ~ ')'), 'null'),
    ('list_sorted', list_join(list_sorted(list_of(["'b'", "'c'", "'a'"])), "','"), "'a,b,c'"),
    ('count_descents', count_descents(list_of(['3', '1', '2', '0'])), "'2'"),
    ('count_descents of one element', count_descents(list_of(['3'])), 'null'),
    ('paired_pieces', list_join(paired_pieces(list_of(["'b'", "'a'", "'c'"]), list_of(["'2'", "'1'", "'3'"])), "','"), "'a=1,b=2,c=3'"),
    ('candidate_items split at 、 unless a consortium',
     list_join(candidate_items(sql_string('甲公司、乙公司；丙公司（牵头人）、丁公司（成员）')), "'|'"),
     sql_string('甲公司|乙公司|丙公司（牵头人）、丁公司（成员）')),
    ('candidate_items after 联合体、', list_join(candidate_items(sql_string('甲、乙联合体、丙')), "'|'"), sql_string('甲、乙联合体|丙')),
    ('url_decode_text', url_decode_text("'%E6%94%B6%E5%85%A5+1.xlsx'"), sql_string('收入+1.xlsx')),
    ('url_decode_text kept where it does not decode', url_decode_text("'100%完成'"), sql_string('100%完成')),
    ('attachment_list', list_join(attachment_list(sql_string('a.xlsx；b.pdf')), "'|'"), sql_string('a.xlsx；|b.pdf')),
    ('safe_cast of a fixture list', list_join(safe_cast(['a', 'b'], list_type('string')), "','"), "'a,b'"),
    ('safe_cast of a fixture list of numbers', list_length(safe_cast([3, 1], list_type('integer'))), "'2'"),
] -%}
{%- set aggregate_checks = [
    ('ordered_string_agg tie broken by value', ordered_string_agg('v', "';'", ['n']), "'y;z;x'"),
    ('arg_min_stable tie broken by value', arg_min_stable('v', 'n'), "'y'"),
    ('sorted_distinct_list', list_join(sorted_distinct_list('v'), "','"), "'x,y,z'"),
    ('hash64 tells texts apart', "cast(count(distinct " ~ hash64('v') ~ ") as integer)", "'3'"),
] %}
with inlined_ as {{ cte_inlined() }} (
    select 1 as one
),
rows_ as (
    select 'x' as v, 2 as n union all select 'z', 1 union all select 'y', 1 union all select cast(null as string), 0
),
checks as (
    {%- for name, got, want in checks %}
    select '{{ name }}' as check_name, cast({{ got }} as string) as got, cast({{ want }} as string) as want
    union all
    {%- endfor %}
    {%- for name, got, want in aggregate_checks %}
    select '{{ name }}', cast({{ got }} as string), cast({{ want }} as string) from rows_ where v is not null
    union all
    {%- endfor %}
    -- the NULL value on the least key (n = 0) is left out; the tie on n = 1 goes to the least further key
    select 'arg_min_by', cast({{ arg_min_by('v', ['n', 'v']) }} as string), 'y' from rows_
    union all
    -- arg_max_by: the greatest first key; the tie on n = 1 goes to the greatest further key
    select 'arg_max_by', cast({{ arg_max_by('v', ['n', 'v']) }} as string), 'x' from rows_
    union all
    select 'arg_max_by tie broken by value', cast({{ arg_max_by('v', ['n', 'v']) }} as string), 'z' from rows_ where n < 2
    union all
    -- a candidate's entry: its name, its position from 1 and its code (a separator ending the code cell is no code)
    select 'candidate_entries', {{ ordered_string_agg("concat(e.n, '=', coalesce(e.c, '-'), '@', cast(e.i as string))", "';'", ['e.i']) }},
           'a=A@1;b=B@2'
    from (select {{ unnest_list(candidate_entries(list_of(["'a'", "'b'"]), list_of(["'A'", "'B'", "''"]))) }} as e) as t
    union all
    select 'candidate_entries unpaired', {{ ordered_string_agg("concat(e.n, '=', coalesce(e.c, '-'), '@', cast(e.i as string))", "';'", ['e.i']) }},
           'a=-@1;b=-@2'
    from (select {{ unnest_list(candidate_entries(list_of(["'a'", "'b'"]), list_of(["'A'"]))) }} as e) as t
    union all
    select 'cte_inlined', cast(sum(one) as string), '1' from inlined_
    union all
    select 'integer_range', cast(count(*) || ' ' || sum(y) as string), '3 6048' from {{ integer_range(2015, 2017, 'y') }} as t
    union all
    select 'unnest_list', cast(count(*) as string), '3' from (select {{ unnest_list(list_of(['1', '2', '3'])) }} as x) as t
)
select * from checks
where coalesce(got, '<NULL>') <> coalesce(want, '<NULL>')
