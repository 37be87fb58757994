"""The script `spark-submit` runs for a PySpark application of the project (landing.py).

    spark-submit orchestration/spark/app_launcher.py MODULE:FUNCTION [ARGS...]

It imports `FUNCTION` of `MODULE` (a module of this project, importable by this environment's
Python on the driver and the executors alike) and calls it with the application's SparkSession
and ARGS. A file the application refuses (the loader's LandingError) is printed on one line
after `rewards-landing-error: ` and ends the application with exit status 2, so the caller can
say that line and nothing else.
"""

from __future__ import annotations

import importlib
import sys

ERROR_PREFIX = "rewards-landing-error: "


def main(argv: list[str]) -> int:
    from pyspark.sql import SparkSession

    from orchestration.defs.landing.files import LandingError

    module_name, function_name = argv[0].split(":")
    function = getattr(importlib.import_module(module_name), function_name)
    spark = SparkSession.builder.getOrCreate()
    try:
        function(spark, argv[1:])
    except LandingError as exc:
        print(ERROR_PREFIX + str(exc), file=sys.stderr, flush=True)
        return 2
    finally:
        spark.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
