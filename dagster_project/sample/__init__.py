"""Deterministic sample / benchmark generator: ``python -m dagster_project.sample --help``."""
