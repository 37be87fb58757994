-- R12: every reconciliation identity closes to the cent (rows returned = failures).
{{ config(meta={'description': "R12: every reconciliation identity closes to the cent."}) }}
select * from {{ ref('reconciliation') }}
where difference <> 0 or difference is null
