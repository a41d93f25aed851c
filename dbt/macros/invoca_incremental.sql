{# The time the last run of an incremental model saw: its newest _invoca_merged_at (the epoch for an empty model). #}
{% macro invoca_merged_since(relation) %}
coalesce(max(_invoca_merged_at), cast('1970-01-01 00:00:00' as timestamp))
{% endmacro %}

{#
  A lineage first keyed by a provisional root (a correction that came before what it corrects)
  is re-rooted when that transaction arrives and turns out to correct another: its old key is
  then a transaction loaded since the last run whose root is not itself. Those keys go.
#}
{% macro invoca_delete_rerooted(relation) %}
{% if is_incremental() %}
delete from {{ relation }}
where root_transaction_id in (
    select transaction_id
    from {{ source('invoca', 'transactions') }}
    where root_transaction_id <> transaction_id
      and _invoca_loaded_at >= (select {{ invoca_merged_since(relation) }} from {{ relation }})
)
{% endif %}
{% endmacro %}
