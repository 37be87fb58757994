"""The script `spark-submit` runs for a PySpark application of the project (landing.py).

    spark-submit orchestration/spark/app_launcher.py MODULE:FUNCTION [ARGS...]

It imports `FUNCTION` of `MODULE` (a module of this project, importable by this environment's
Python on the driver and the executors alike) and calls it with the application's SparkSession
and ARGS. What the application refuses is its own output (the loader writes each load's refusal
with its outcomes, D85); an error it raises fails the application, whose log submit.py quotes.
"""

from __future__ import annotations

import importlib
import sys


def main(argv: list[str]) -> int:
    from pyspark.sql import SparkSession

    module_name, function_name = argv[0].split(":")
    function = getattr(importlib.import_module(module_name), function_name)
    spark = SparkSession.builder.getOrCreate()
    try:
        function(spark, argv[1:])
    finally:
        spark.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
