"""Fixtures for s3 (filled in by that work)."""
