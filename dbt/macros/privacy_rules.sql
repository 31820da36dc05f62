{#- The privacy rule a personal-number hit breaks (ref_rule_catalogue PRIV_*): one mapping for every model that
    turns hits of personal_number_hits() into findings (int_privacy_hits, int_bulletin_privacy_hits). -#}
{% macro privacy_rule_id(kind) -%}
    case {{ kind }} when 'id_number' then 'PRIV_ID_NUMBER' when 'mobile' then 'PRIV_MOBILE' when 'bank_card' then 'PRIV_BANK_CARD' end
{%- endmacro %}
