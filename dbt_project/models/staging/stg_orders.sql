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

        ---------- lineage
        _source_file as source_file,
        _source_row as source_row

    from source

)

select * from renamed
