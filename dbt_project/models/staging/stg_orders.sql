with

source as (

    {{ select_with_row_id(source('raw', 'orders')) }}

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
        _source_row as source_row,
        -- the raw table's number for the row: R2 reads an order's state back by it
        _row_id as row_id

    from source

)

select * from renamed
