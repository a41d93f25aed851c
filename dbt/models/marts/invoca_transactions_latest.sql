{#
  The latest version of each lineage (an original and its corrections), built incrementally for
  models downstream. The loader has already picked each lineage's latest version into
  transactions_current, so each run takes only the lineages it merged since the last run (by
  _invoca_merged_at) and never reads the history; dbt's merge (or delete+insert) replaces them by
  root. Before that, the pre-hook deletes the rows of provisional roots that a late original
  re-rooted into another lineage, as the loader does in transactions_current.
#}
{{
    config(
        materialized='incremental',
        unique_key='root_transaction_id',
        incremental_strategy=('delete+insert' if target.type == 'duckdb' else 'merge'),
        pre_hook="{{ invoca_delete_rerooted(this) }}",
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
    _invoca_merged_at
from {{ source('invoca', 'transactions_current') }}
{% if is_incremental() %}
where _invoca_merged_at >= (select {{ invoca_merged_since(this) }} from {{ this }})
{% endif %}
