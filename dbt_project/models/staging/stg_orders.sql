with

source as (

    select * from {{ source('raw', 'orders') }}

),

renamed as (

    select

        ----------  ids
        order_id,
        account_id,
        video_id,

        ---------- strings
        channel,
        status,

        ---------- numerics
        amount,
        refunded_amount,

        ---------- timestamps
        updated_at,
        created_at,
        settled_at,

        ---------- Beijing days (R1)
        {{ local_date('created_at') }} as created_day,
        {{ local_date('settled_at') }} as settled_day,

        ---------- lineage
        _source_file as source_file,
        _source_row as source_row

    from source

)

select * from renamed
