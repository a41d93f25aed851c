-- Calls and money per day (UTC), corrections applied.
select
    cast(start_time as date) as call_date,
    count(*) as calls,
    sum(call_leg_count) as call_legs,
    sum(advertiser_payin_localized) as advertiser_payin,
    sum(affiliate_payout_localized) as affiliate_payout,
    sum(post_call_event_count) as post_call_events,
    sum(conversion_count) as conversions
from {{ ref('invoca_calls') }}
group by cast(start_time as date)
