with

source as (

    select * from {{ source('raw', 'videos') }}

),

renamed as (

    select

        ----------  ids
        video_id,
        account_id,

        ---------- booleans
        is_commerce,

        ---------- timestamps
        published_at,
        deleted_at,

        ---------- Beijing days (R1)
        {{ local_date('published_at') }} as published_day,

        ---------- lineage
        _source_file as source_file,
        _source_row as source_row

    from source

)

select * from renamed
