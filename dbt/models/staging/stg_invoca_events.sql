-- Post call events (Signal rows in pre-2020 API versions) and reported conversions, at their
-- latest corrected version.
select
    complete_call_id,
    root_transaction_id,
    transaction_id,
    transaction_type,
    case when transaction_type in ('Sale', 'Reported Conversion') then 'conversion' else 'post_call_event' end as event_kind,
    signal_name,
    revenue,
    advertiser_payin_localized,
    start_time,
    _invoca_version
from {{ source('invoca', 'transactions_current') }}
where transaction_type in ('Post Call Event', 'Signal', 'Sale', 'Reported Conversion')
