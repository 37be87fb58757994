-- R12: every reconciliation identity closes to the cent (rows returned = failures).
select * from {{ ref('reconciliation') }}
where difference <> 0 or difference is null
