"""fruit-pipeline: Fruits-360 image bank -> ORB, colour and reduced features in Parquet, on Spark."""

__version__ = "0.1.0"
