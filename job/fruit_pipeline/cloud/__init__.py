"""Cloud helpers (no Spark)."""
