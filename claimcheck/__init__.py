"""The dl-claims engine: run configuration, seeds, statistics, evidence records and the report."""
