{#- R10: an account's first enrollment counts; later ones are ignored. Equal first instants are
    ordered by enrolled_via so the choice is deterministic (docs/decisions.md, D5). -#}
with

enrollments as (

    select * from {{ ref('stg_enrollments') }}

),

ranked as (

    select
        account_id,
        enrolled_at,
        enrolled_day,
        enrolled_via,
        row_number() over (
            partition by account_id order by enrolled_at, enrolled_via
        ) as enrollment_rank,
        count(*) over (partition by account_id) as enrollment_count
    from enrollments

)

select
    account_id,
    enrolled_at,
    enrolled_day,
    enrolled_via,
    enrollment_count
from ranked
where enrollment_rank = 1
