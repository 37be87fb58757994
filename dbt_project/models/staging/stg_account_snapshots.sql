with

source as (

    select * from {{ source('raw', 'account_snapshots') }}

),

renamed as (

    select

        ----------  ids
        account_id,

        ---------- strings
        account_type,

        ---------- numerics
        follower_count,

        ---------- booleans
        short_video_commerce_enabled,
        is_shop_self_operated,

        ---------- dates
        snapshot_date,

        ---------- lineage
        _source_file as source_file,
        _source_row as source_row

    from source

)

select * from renamed
