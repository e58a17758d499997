"""The Spark stages: session, listing, extraction, reduction, evaluation, writing."""
