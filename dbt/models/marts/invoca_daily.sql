-- Calls and money per day, corrections applied. By default the day is the one the Invoca UI
-- shows: the call's local date in the time zone of the token's platform (start_date_local).
-- `--vars '{invoca_daily_date: utc}'` groups by the UTC date instead. Rows loaded before
-- start_date_local existed have none: they fall back to the UTC date.
{% set by_utc = var('invoca_daily_date', 'local') == 'utc' %}
{% if by_utc %}
  {% set call_date = 'cast(start_time as date)' %}
{% else %}
  {% set call_date = 'coalesce(cast(start_date_local as date), cast(start_time as date))' %}
{% endif %}
select
    {{ call_date }} as call_date,
    count(*) as calls,
    sum(call_leg_count) as call_legs,
    sum(advertiser_payin_localized) as advertiser_payin,
    sum(affiliate_payout_localized) as affiliate_payout,
    sum(post_call_event_count) as post_call_events,
    sum(conversion_count) as conversions
from {{ ref('invoca_calls') }}
group by {{ call_date }}
