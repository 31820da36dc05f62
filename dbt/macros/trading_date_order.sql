{#- TRADE_DATE_ORDER (国办发〔2017〕97号): a deal's dates in the order announcement ≤ bid deadline ≤ bid opening ≤
    candidates ≤ result ≤ contract. The chain's stages, each with the int_deals_assembled columns of its date and of the
    bulletin stating it (<source>_file / <source>_row), so the finding names the two dates out of order and where a
    reviewer reads each — not a count. int_deal_timelines_evaluated's known_dates lists the same dates in this order.
    published: the date is the bulletin's own publication (else a time it states: a deadline, an opening, a signing). -#}
{% macro trading_date_chain() -%}
{{ return([
    {'at': 'announced_at', 'source': 'announced_source', 'label': '交易公告发布 announcement published', 'published': true},
    {'at': 'bid_deadline_at', 'source': 'bid_deadline_source', 'label': '投标截止 bid deadline'},
    {'at': 'bid_open_at', 'source': 'bid_open_source', 'label': '开标 bid opening'},
    {'at': 'candidates_published_at', 'source': 'candidates_source', 'label': '中标候选人公示发布 candidates published',
     'published': true},
    {'at': 'result_published_at', 'source': 'result_source', 'label': '中标结果公告发布 result published', 'published': true},
    {'at': 'contract_signed_at', 'source': 'contract_source', 'label': '合同签订 contract signed'},
]) }}
{%- endmacro %}

{#- The descents of the chain in its order, each {condition, later, earlier}: a stage's date (by day) before the
    nearest earlier stage whose date is known (what count_descents counts over the known dates), `earlier` the known
    candidates nearest first; and, after the bid deadline's, a later notice's deadline before the announced one
    (int_deals_assembled.closing_brought_forward_at, its period running to the announced: tender_closed_at). -#}
{% macro trading_date_descents() -%}
{%- set chain = trading_date_chain() %}
{%- set descents = [] %}
{%- for j in range(1, chain | length) %}
    {%- set before = chain[:j] | reverse | list %}
    {%- do descents.append({
        'condition': 'cast(' ~ chain[j].at ~ ' as date) < cast(coalesce(' ~ (before | map(attribute='at') | join(', '))
                     ~ ') as date)',
        'later': chain[j], 'earlier': before}) %}
    {%- if chain[j].at == 'bid_deadline_at' %}
    {%- do descents.append({
        'condition': 'closing_brought_forward_at is not null',
        'later': {'at': 'closing_brought_forward_at', 'source': 'closing_brought_forward_source',
                  'label': '后发公告所载投标截止 bid deadline a later notice states'},
        'earlier': [{'at': 'tender_closed_at', 'source': 'announced_closing_source',
                     'label': '公告所载投标截止 announced bid deadline'}]}) %}
    {%- endif %}
{%- endfor %}
{{ return(descents) }}
{%- endmacro %}

{#- A stage's date as the finding prints it: its label, the time, and the file and row of the bulletin stating it. -#}
{% macro trading_dated_bulletin(stage) -%}
'{{ stage.label }} ' || cast({{ stage.at }} as string) || '（' || coalesce({{ stage.source }}_file, '')
    || ' row ' || coalesce(cast({{ stage.source }}_row as string), '') || '）'
{%- endmacro %}
