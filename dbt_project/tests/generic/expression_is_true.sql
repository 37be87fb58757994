{#- Rows for which `expression` is not true fail the test (a package-free dbt_utils twin). -#}
{% test expression_is_true(model, expression) %}
    select * from {{ model }} where not coalesce(({{ expression }}), false)
{% endtest %}
