-- What Invoca's corrections did to the money of calls, per call date (the date the Invoca UI
-- shows, as in invoca_daily): the corrections of Call transactions received for that date, the
-- revenue of its calls as first delivered (each Call leg's original), the revenue now
-- (corrections applied, as in `calls`), and the difference, the money the corrections moved.
-- Calls and legs are counted as `calls` counts them: Call transactions with a complete_call_id.
-- A call dates by its latest leg in `calls` and each original leg by its own start: a transfer
-- across midnight moves its money between the two days.
with first_delivered as (
    select
        coalesce(cast(start_date_local as date), cast(start_time as date)) as call_date,
        sum(advertiser_payin_localized) as revenue_first_delivered
    from {{ source('invoca', 'transactions') }}
    where transaction_type = 'Call'
      and complete_call_id is not null and complete_call_id <> ''
      and (corrects_transaction_id is null or corrects_transaction_id = '')
    group by 1
),

corrections as (
    select
        coalesce(cast(start_date_local as date), cast(start_time as date)) as call_date,
        count(*) as corrections_received
    from {{ source('invoca', 'transactions') }}
    where transaction_type = 'Call'
      and complete_call_id is not null and complete_call_id <> ''
      and corrects_transaction_id is not null and corrects_transaction_id <> ''
    group by 1
),

corrected as (
    select
        coalesce(cast(start_date_local as date), cast(start_time as date)) as call_date,
        sum(advertiser_payin_localized) as revenue_now
    from {{ source('invoca', 'calls') }}
    group by 1
),

dates as (
    select distinct call_date from (
        select call_date from first_delivered
        union all
        select call_date from corrections
        union all
        select call_date from corrected
    ) as all_dates
)

select
    dates.call_date,
    coalesce(corrections.corrections_received, 0) as corrections_received,
    coalesce(first_delivered.revenue_first_delivered, 0) as revenue_first_delivered,
    coalesce(corrected.revenue_now, 0) as revenue_now,
    coalesce(corrected.revenue_now, 0) - coalesce(first_delivered.revenue_first_delivered, 0) as revenue_moved_by_corrections
from dates
left join first_delivered on first_delivered.call_date = dates.call_date
left join corrections on corrections.call_date = dates.call_date
left join corrected on corrected.call_date = dates.call_date
