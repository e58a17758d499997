"""Performance benchmarks for fruit-pipeline (see README section `benchmarks`)."""
