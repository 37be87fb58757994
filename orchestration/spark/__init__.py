"""The Spark engine (docs/spark.md): a local standalone cluster (cluster.py, processes.py), SQL
over its Thrift server (thrift.py), the dbt build over Thrift (build.py) and applications
submitted to its master (submit.py)."""
