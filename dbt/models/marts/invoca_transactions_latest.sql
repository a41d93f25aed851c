{#
  An incremental model that respects corrections. dbt's merge does not deduplicate and would let
  a late-arriving older version (a backfill) overwrite a newer one, so each run recomputes the
  whole lineage of every root touched since the last run and keeps its highest _invoca_version.
#}
{{
    config(
        materialized='incremental',
        unique_key='root_transaction_id',
        incremental_strategy=('delete+insert' if target.type == 'duckdb' else 'merge'),
    )
}}

select
    root_transaction_id,
    transaction_id,
    transaction_type,
    complete_call_id,
    corrects_transaction_id,
    advertiser_payin_localized,
    start_time,
    _invoca_version,
    _invoca_loaded_at
from {{ source('invoca', 'transactions') }}
where 1 = 1
{% if is_incremental() %}
    and root_transaction_id in (
        select root_transaction_id from {{ source('invoca', 'transactions') }}
        where _invoca_loaded_at >= (select max(_invoca_loaded_at) from {{ this }})
    )
{% endif %}
qualify row_number() over (partition by root_transaction_id order by _invoca_version desc) = 1
