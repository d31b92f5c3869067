"""Batch scoring on Apache Spark: `python -m spam_service.batch score|compare` (docs/batch.md).

Modules: `session` starts Spark and turns its errors into ours, `filesystem` wraps Hadoop's FileSystem (local,
hdfs://, webhdfs://), `inputs` reads Parquet/CSV/JSON lines and the request log, `scoring` classifies inside
`mapInPandas` with the service's own model loading, `output` writes to a temporary path and commits by rename,
`compare` sets a challenger against a champion. pyspark is imported inside functions: importing this package is
cheap and starts nothing.
"""
