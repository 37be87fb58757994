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
        {{ local_date('enrolled_at') }} as enrolled_day,

        ---------- lineage
        _source_file as source_file,
        _source_row as source_row

    from source

)

select * from renamed
