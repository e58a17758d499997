"""Fixtures for prometheus (filled in by that work)."""
