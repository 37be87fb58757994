with

source as (

    select * from {{ source('raw', 'enrollments') }}

),

renamed as (

    select

        ----------  ids
        account_id,

        ---------- strings
        enrolled_via,

        ---------- timestamps
        enrolled_at,

        ---------- Beijing days (R1)
        {{ local_date('enrolled_at') }} as enrolled_day

    from source

)

select * from renamed
