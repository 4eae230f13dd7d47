"""Validate stage: the intent JSON Schema, checked by a fast subset validator."""
