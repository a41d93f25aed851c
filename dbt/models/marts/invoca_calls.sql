-- One row per call with its latest corrected values, and its post call events and conversions.
with events as (
    select
        complete_call_id,
        sum(case when event_kind = 'post_call_event' then 1 else 0 end) as post_call_event_count,
        sum(case when event_kind = 'conversion' then 1 else 0 end) as conversion_count,
        sum(revenue) as event_revenue
    from {{ ref('stg_invoca_events') }}
    group by complete_call_id
)

select
    calls.complete_call_id,
    calls.start_time,
    calls.start_date_local,
    calls.call_leg_count,
    calls.advertiser_name,
    calls.advertiser_campaign_name,
    calls.affiliate_name,
    calls.media_type,
    calls.duration,
    calls.advertiser_payin_localized,
    calls.affiliate_payout_localized,
    calls.transaction_id as latest_transaction_id,
    calls._invoca_version,
    coalesce(events.post_call_event_count, 0) as post_call_event_count,
    coalesce(events.conversion_count, 0) as conversion_count,
    events.event_revenue
from {{ source('invoca', 'calls') }} as calls
left join events on events.complete_call_id = calls.complete_call_id
