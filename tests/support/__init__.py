"""The test suite's support package: hand-built landings (`landing_builder`), the rulebook's
worked cases (`rulebook_cases`), the harnesses that run the pipeline (`pipeline`: the CLI, the
Dagster job in-process; `dbt_build`: the loader and dbt without Dagster) and the Dagster UI
driver (`dagster_ui`). Tests import it as `support.<module>` (pytest puts `tests/` on the path)."""
