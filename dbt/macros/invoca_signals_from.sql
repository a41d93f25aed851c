{# The signals of custom_data ([{name, data_type, source, value}, ...]) as rows; one way per warehouse. #}
{% macro invoca_signals_from(relation) %}
    {{ return(adapter.dispatch('invoca_signals_from')(relation)) }}
{% endmacro %}

{% macro default__invoca_signals_from(relation) %}
select
    t.complete_call_id,
    t.transaction_id,
    t.root_transaction_id,
    json_extract_string(s.item, '$.name') as signal_name,
    json_extract_string(s.item, '$.source') as signal_source,
    json_extract_string(s.item, '$.value') as signal_value
from {{ relation }} as t, unnest(cast(json_extract(t.custom_data, '$[*]') as json[])) as s(item)
where json_extract_string(s.item, '$.data_type') = 'Signal'
{% endmacro %}

{% macro bigquery__invoca_signals_from(relation) %}
select
    t.complete_call_id,
    t.transaction_id,
    t.root_transaction_id,
    json_value(item, '$.name') as signal_name,
    json_value(item, '$.source') as signal_source,
    -- As on the other engines: a scalar as its text (a string without JSON quotes), a JSON null
    -- as NULL, an object or an array as its JSON text.
    -- (json_value is a scalar's text, and NULL for a JSON null, an object or an array.)
    case
        when json_value(item, '$.value') is not null then json_value(item, '$.value')
        when to_json_string(json_query(item, '$.value')) = 'null' then null
        else to_json_string(json_query(item, '$.value'))
    end as signal_value
from {{ relation }} as t, unnest(json_query_array(t.custom_data)) as item
where json_value(item, '$.data_type') = 'Signal'
{% endmacro %}

{% macro snowflake__invoca_signals_from(relation) %}
select
    t.complete_call_id,
    t.transaction_id,
    t.root_transaction_id,
    f.value:name::string as signal_name,
    f.value:source::string as signal_source,
    f.value:value::string as signal_value
from {{ relation }} as t, lateral flatten(input => t.custom_data) as f
where f.value:data_type::string = 'Signal'
{% endmacro %}
