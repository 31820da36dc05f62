"""Builders of reference seeds that are derived from packages rather than typed in (see build_calendar)."""
