"""Targets the event router delivers to."""
