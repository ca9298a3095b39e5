"""Correct implementations built differently from the reference, for the self-tests."""
