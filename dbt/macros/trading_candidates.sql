{#- A candidate publicity's candidates, read as a reader of the notice reads them (ONE definition for
    int_bulletins_deduplicated, int_bulletin_copies_compared and int_deals_assembled; the OCDS mapping's twin is
    publish/ocds_config.candidate_items).

    The fields two copies of one bulletin are compared on (TRADE_CONFLICTING_COPIES), and which of them are the
    candidate's own: a publicity exported one candidate per row states one notice once per candidate, the rows
    differing only in those. -#}
{% macro trading_copy_fields() -%}
{{ return({
    'compared': [
        'trade_area_code', 'notice_name', 'region_code', 'tenderer_name', 'tenderer_code', 'tender_agency_name',
        'tender_agency_code', 'budget_amount_yuan', 'doc_get_start_time', 'doc_get_end_time', 'bid_doc_refer_end_time',
        'bid_open_time', 'bidder_count', 'win_candidate_name', 'win_candidate_code', 'publicity_start_time',
        'publicity_end_time', 'win_bidder_name', 'win_bidder_code', 'bid_amount_yuan', 'contract_sign_time',
        'pm_name', 'pm_code', 'contact_phone', 'notice_content', 'url'],
    'free_text': ['notice_name', 'notice_content', 'win_candidate_name'],
    'code_lists': ['tenderer_code', 'tender_agency_code', 'win_bidder_code'],
    'party_names': ['tenderer_name', 'tender_agency_name', 'win_bidder_name'],
    'candidate_fields': ['win_candidate_name', 'win_candidate_code', 'pm_name', 'pm_code'],
    'candidate_own_figures': ['bid_amount_yuan'],
}) }}
{%- endmacro %}

{#- Does field `column` of row `a` contradict row `b`: both state it and the standardised values differ (free text
    with its whitespace runs collapsed). A row that leaves a field blank contradicts nothing. -#}
{% macro trading_field_differs(column, a, b) -%}
{%- set fields = trading_copy_fields() -%}
({{ a }}.{{ column }} is not null and {{ b }}.{{ column }} is not null and
 {% if column in fields['free_text'] %}{{ comparable_text(a ~ '.' ~ column) }} <> {{ comparable_text(b ~ '.' ~ column) }}
 {%- elif column in fields['code_lists'] %}{{ party_codes_differ(a, b, column, column | replace('_code', '_name')) }}
 {%- elif column in fields['party_names'] %}{{ party_names_differ(a ~ '.' ~ column, b ~ '.' ~ column) }}
 {%- else %}{{ a }}.{{ column }} <> {{ b }}.{{ column }}{% endif %})
{%- endmacro %}

{#- A party's code cell as the set of codes it lists, sorted: a consortium's (or joint buyers') codes in one cell are the
    same party in any order (91…2B、91…1A is 91…1A、91…2B — the order a 513's member rows give and a flat export's cell
    need not agree), split where OCDS splits them (publish/ocds_config.CODE_LIST_SEPARATORS). -#}
{% macro code_set(expr) -%}
{{ list_sorted(filter_list(regex_split(expr, code_list_separators()), 'c', "c <> ''")) }}
{%- endmacro %}

{#- Where a code cell lists several codes (publish/ocds_config.CODE_LIST_SEPARATORS, as a character class): the copies'
    comparison and the member-by-member GB 32100 check (int_identifier_checks) split where OCDS splits. -#}
{% macro code_list_separators() -%}'[；;、，,/／ 　]'{%- endmacro %}

{#- A party's name cell as its members, in the cell's order: split at ；/;/、, whitespace removed, the consortium word at
    either end dropped (甲、乙联合体 and 乙、甲联合体 are one consortium, the order a 513's member rows give and a flat
    export's cell need not agree — review V1 item 5), and the role marks too (甲（牵头人）、乙（成员） is 甲、乙联合体 — V6
    item 5: a 513 folded from role-marked rows was a false conflict with the one-cell form). -#}
{% macro party_pieces(expr) -%}
{{ filter_list(regex_split(regex_replace_all(regex_replace_all(regex_replace_all(expr,
                                             sql_string('[\\t\\n\\f\\r 　]+'), "''"),
                                             sql_string('[（(](联合体)?(牵头(人|方|单位)|成员(单位|方)?)[)）]'), "''"),
                                             sql_string('^联合体[：:]?|联合体$'), "''"), "'[；;、]'"), 'p', "p <> ''") }}
{%- endmacro %}

{#- Two party name cells name other parties: other members (in any order), or one says consortium and the other not. -#}
{% macro party_names_differ(a, b) -%}
({{ list_sorted(party_pieces(a)) }} <> {{ list_sorted(party_pieces(b)) }}
 or {{ regex_search(a, consortium_mark()) }} <> {{ regex_search(b, consortium_mark()) }})
{%- endmacro %}

{#- The code cell's slots in its order, an empty slot kept (A、、C is three: the middle member has no code) — pairs are
    compared slot by slot (review V6 item 4: A、、C vs C、、A lost the empty slot, the counts differed from the names' and
    the sets were equal). Spaces beside a separator are no slot of their own. -#}
{% macro code_slots(expr) -%}
{{ regex_split('trim(' ~ expr ~ ')', sql_string('[ 　]*[；;、，,/／][ 　]*|[ 　]+')) }}
{%- endmacro %}

{#- name_i || '=' || code_i for two lists of one length, sorted: which code goes with which name. -#}
{% macro paired_pieces(names, codes) -%}
{{ return(adapter.dispatch('paired_pieces', 'gongkai')(names, codes)) }}
{%- endmacro %}
{% macro default__paired_pieces(names, codes) -%}
list_sort(list_transform({{ names }}, lambda n, i: n || '=' || {{ codes }}[i]))
{%- endmacro %}
{% macro spark__paired_pieces(names, codes) -%}
array_sort(transform({{ names }}, (n, i) -> concat(n, '=', {{ codes }}[i])))
{%- endmacro %}

{#- Two copies' code cells of one party differ: where both name as many members as they have code slots (several) and name
    the same members, as name→code pairs — joint buyers 甲局；乙局 with their codes swapped are a conflict (review V1
    item 6: the codes compared as a set were the same); else as the set of codes (one name, several codes: whose is
    which cannot be told — P25's codes listed in another order are the same party). -#}
{% macro party_codes_differ(a, b, code_column, name_column) -%}
{%- set na, nb = party_pieces(a ~ '.' ~ name_column), party_pieces(b ~ '.' ~ name_column) -%}
{%- set ca, cb = code_slots(a ~ '.' ~ code_column), code_slots(b ~ '.' ~ code_column) -%}
(case when {{ list_length(ca) }} > 1 and {{ list_length(na) }} = {{ list_length(ca) }}
           and {{ list_length(cb) }} > 1 and {{ list_length(nb) }} = {{ list_length(cb) }}
           and {{ list_sorted(na) }} = {{ list_sorted(nb) }}
      then {{ paired_pieces(na, ca) }} <> {{ paired_pieces(nb, cb) }}
      else {{ code_set(a ~ '.' ~ code_column) }} <> {{ code_set(b ~ '.' ~ code_column) }} end)
{%- endmacro %}

{#- Row `a` is a candidate row of the notice `b` states: no field but the candidate's own contradicts it. Two rows
    of one file with one key whose other content differs are two versions of a notice (a conflict, reported), not
    one notice's candidates: the kept notice lists only the rows of its own. -#}
{% macro trading_same_notice(a, b) -%}
{%- set fields = trading_copy_fields() -%}
{%- set own = fields['candidate_fields'] + fields['candidate_own_figures'] -%}
not (false
{%- for column in fields['compared'] if column not in own %}
    or {{ trading_field_differs(column, a, b) }}
{%- endfor %})
{%- endmacro %}

{#- The consortium marks (联合体, 牵头人/牵头方, （成员）…): a piece of a candidate list holding one names a consortium —
    its members joined by 、 are one candidate (甲公司、乙公司联合体; 甲公司（牵头人）、乙公司（成员）; 联合体：甲、乙).
    联合体 marks one where it ends the name or a role/separator follows (联合体（牵头人）, 联合体：, 组成的联合体, 联合体成员),
    never where a firm's name goes on (联合体检中心, 联合体系认证, 联合体育, 联合体验馆). Spec data shared with the OCDS
    mapping (publish/ocds_config.CONSORTIUM_MARK: a test keeps them equal). -#}
{% macro consortium_mark() -%}
{{ sql_string('联合体($|[ 　：:)）—-]|[（(](牵头|成员)|[（(][^)）]*[)）]($|[^有集公股])|成员|牵头)|牵头(人|方|单位)|[（(]成员(单位|方)?[)）]') }}
{%- endmacro %}

{#- A consortium member's mark (乙（成员）, 乙（成员单位）, 乙（联合体成员）): a row so marked belongs to the candidate of the
    nearest lead-marked row before it (V3 510's BIDDER_ROLE written into the name, one row per member). -#}
{% macro consortium_member_mark() -%}
{{ sql_string('[（(](联合体)?成员(单位|方)?[)）]') }}
{%- endmacro %}

{#- A consortium lead's mark (甲（牵头人）, 甲（联合体牵头人）, 甲（牵头方）): the row members after it join (review R4b: a
    member joined whichever row preceded it, and one rank's unmarked rows were joined as a consortium). -#}
{% macro consortium_lead_mark() -%}
{{ sql_string('[（(](联合体)?牵头(人|方|单位)[)）]') }}
{%- endmacro %}

{#- The candidates a candidate-list cell names, in the cell's order: pieces between ；/; (and after 联合体、: 甲、乙联合体、丙
    is the consortium and 丙, ocds_config.CONSORTIUM_END) are candidates; a piece
    holding no consortium mark is split at 、 (甲公司、乙公司: two), one holding a mark is one consortium. -#}
{% macro candidate_items(expr) -%}
{{ return(adapter.dispatch('candidate_items', 'gongkai')(expr)) }}
{%- endmacro %}
{% macro default__candidate_items(expr) -%}
flatten(list_transform(string_split_regex(replace({{ expr }}, '联合体、', '联合体；'), '[;；]'), lambda piece:
    case when regexp_matches(piece, {{ consortium_mark() }}) then [piece] else string_split_regex(piece, '、') end))
{%- endmacro %}
{% macro spark__candidate_items(expr) -%}
flatten(transform(split(replace({{ expr }}, '联合体、', '联合体；'), '[;；]', -1), piece ->
    case when piece rlike {{ consortium_mark() }} then array(piece) else split(piece, '、', -1) end))
{%- endmacro %}

{#- The candidates a candidate-list cell names with the code written beside each: a list of {n: name, c: code, i: its
    position in the cell, from 1}. `items` is candidate_items of the name cell, `codes` the code cell split as OCDS
    splits it (ocds.candidates: at ；/; where a candidate holds the consortium mark, else at ；/;/、). A code is paired
    only where the cell's codes are as many as its candidates (one candidate: the whole cell; a separator ending the
    cell, A；B； beside 甲；乙, is no code of its own — review V6 item 5) — otherwise which code
    goes with which name cannot be told and none is paired (review V1: 甲；乙 beside A；B were one slot with no code,
    and a reader's pairing shifted 丙's code onto 甲). -#}
{% macro candidate_entries(items, codes) -%}
{{ return(adapter.dispatch('candidate_entries', 'gongkai')(items, codes)) }}
{%- endmacro %}
{% macro default__candidate_entries(items, codes) -%}
list_transform({{ items }}, lambda n, i: struct_pack(n := n, i := i,
    c := case when len({{ codes }}) = len({{ items }})
                   or len({{ codes }}) = len({{ items }}) + 1 and trim({{ codes }}[-1]) = ''
              then nullif(trim({{ codes }}[i]), '') end))
{%- endmacro %}
{% macro spark__candidate_entries(items, codes) -%}
transform({{ items }}, (n, i) -> named_struct('n', n, 'i', i + 1,
    'c', case when size({{ codes }}) = size({{ items }})
                   or size({{ codes }}) = size({{ items }}) + 1 and trim(element_at({{ codes }}, -1)) = ''
              then nullif(trim({{ codes }}[i]), '') end))
{%- endmacro %}

{#- The code cell of a candidate-list cell split as ocds.candidates splits it (see candidate_entries). -#}
{% macro candidate_code_pieces(items, code) -%}
case when {{ list_length(items) }} = 1 then {{ list_of([code]) }}
     else {{ regex_split('coalesce(' ~ code ~ ", '')",
                         'case when ' ~ list_length(filter_list(items, 'p', regex_search('p', consortium_mark()))) ~ " > 0 "
                         ~ "then '[;；]' else '[;；、]' end") }} end
{%- endmacro %}

