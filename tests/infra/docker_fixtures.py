"""Fixtures for docker (filled in by that work)."""
